// The real sidecar process against real local targets that misbehave: refuse, hang, answer slowly,
// send 10 MiB, send garbage exposition text, flap, restart every second. The sidecar stays
// responsive, counts exactly what the target did, keeps a bounded history and flat memory.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, scriptProgram, sleep, start, type Started } from "../../test/processes.ts";
import { findSample, parseExposition, type Sample } from "../src/exposition.ts";
import { PROBE_HISTORY, type SidecarStatus } from "../src/sidecar.ts";
import type { StatusProbe } from "../src/status.ts";
import { assertBuilt } from "../../test/built.ts";

const running: Started[] = [];
const targets: Target[] = [];
beforeAll(() => assertBuilt());
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop("SIGKILL")));
  await Promise.all(targets.splice(0).map((t) => t.close()));
});

// ---- targets ----

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

type Target = {
  url: string;
  port: number;
  /** The status of each /health answer begun, in order (0: held without an answer). */
  health: number[];
  /** /metrics requests received. */
  scrapes: number;
  /** Connections open now. */
  open: () => number;
  close: () => Promise<void>;
};

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/** A target on 127.0.0.1 that answers /health with `health` and /metrics with `metrics`. */
async function startTarget(health: (n: number, res: ServerResponse) => number, metrics?: Handler): Promise<Target> {
  const sockets = new Set<Socket>();
  const t: Target = { url: "", port: 0, health: [], scrapes: 0, open: () => sockets.size, close: async () => {} };
  const server = createServer((req, res) => {
    // A client that stops reading a large answer is no error of the target's.
    res.on("error", () => {});
    if (req.url === "/metrics" && metrics) {
      t.scrapes++;
      metrics(req, res);
    } else {
      t.health.push(health(t.health.length, res));
    }
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  t.port = await listen(server, 0);
  t.url = `http://127.0.0.1:${t.port}`;
  t.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  targets.push(t);
  return t;
}

const answer = (res: ServerResponse, status: number, body: string | Buffer = "") => {
  res.writeHead(status, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) });
  res.end(body);
  return status;
};

const START_TIME = (seconds: number) =>
  `# HELP crashy_start_time_seconds Start time.\n# TYPE crashy_start_time_seconds gauge\ncrashy_start_time_seconds ${seconds}\n`;

// ---- the sidecar ----

// As `npm run sidecar` and the image run it, V8 flags included: under --lite-mode the scan of a big
// body is interpreted, and it must still keep the sidecar responsive.
const SIDECAR_ARGV = scriptProgram("sidecar");

async function startSidecar(env: Record<string, string>) {
  const port = await freePort();
  const sidecar = await start(SIDECAR_ARGV, { PORT: String(port), HOST: "127.0.0.1", ...env }, /crashy-sidecar: listening on/);
  running.push(sidecar);
  const base = `http://127.0.0.1:${port}`;
  return {
    sidecar,
    base,
    status: async () => (await (await fetch(`${base}/api/status`)).json()) as SidecarStatus,
    metrics: async () => parseExposition(await (await fetch(`${base}/metrics`)).text()),
  };
}

type Sidecar = Awaited<ReturnType<typeof startSidecar>>;

/** The one probe these sidecars run. */
const liveness = (status: SidecarStatus): StatusProbe => status.probes.find((p) => p.type === "Liveness")!;

const probeTotal = (samples: Sample[], result: string) => findSample(samples, "prober_probe_total", { result }) ?? 0;

/**
 * /healthz and /metrics each answer 200 within `ms` (a generous bound, far below what a blocked
 * event loop or a probe held by the target would take); returns the slowest in ms.
 */
async function assertResponsive(base: string, ms: number): Promise<number> {
  let slowest = 0;
  for (const path of ["/healthz", "/metrics", "/api/status"]) {
    const began = performance.now();
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(ms) });
    await res.arrayBuffer();
    expect(res.status, path).toBe(200);
    slowest = Math.max(slowest, performance.now() - began);
  }
  return slowest;
}

const probesAtLeast = (s: Sidecar, n: number, ms: number) =>
  eventually(async () => {
    const status = await s.status();
    return liveness(status).counters.probes >= n ? status : undefined;
  }, ms, `${n} probes`);

/** The sidecar's counts by result match the first answers the target gave, as many as it had begun by then (one more may be in flight). */
async function expectCountsMatch(s: Sidecar, target: Target) {
  const begunBefore = target.health.length;
  const samples = await s.metrics();
  const begunAfter = target.health.length;
  const ok = probeTotal(samples, "successful");
  const failed = probeTotal(samples, "failed");
  expect(probeTotal(samples, "unknown")).toBe(0);
  expect(ok + failed).toBeGreaterThanOrEqual(begunBefore - 1);
  expect(ok + failed).toBeLessThanOrEqual(begunAfter);
  const seen = target.health.slice(0, ok + failed);
  expect(ok).toBe(seen.filter((code) => code >= 200 && code < 400).length);
  expect(failed).toBe(seen.filter((code) => code < 200 || code >= 400).length);
  return { ok, failed };
}

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line?.match(/(\d+)/)?.[1]);
}

// ---- the tests ----

describe("the sidecar against hostile targets", () => {
  it("counts refused connections up to the threshold, then holds at restart pending instead of counting more, and stays up", async () => {
    const port = await freePort();
    const s = await startSidecar({
      LIVENESS_PROBE_URL: `http://127.0.0.1:${port}/health`,
      METRICS_URL: `http://127.0.0.1:${port}/metrics`,
      LIVENESS_PROBE_PERIOD_SECONDS: "0.05",
    });
    const status = await probesAtLeast(s, 3, 10_000);
    expect(liveness(status).history.every((p) => p.result === "failure" && p.output.endsWith("connect: connection refused"))).toBe(true);
    // worker.go onHold: no probes of a container the kubelet is restarting; the sidecar cannot see
    // it restart while its metrics are down, so it holds, announcing one kill, not a kill per period.
    await new Promise((r) => setTimeout(r, 1_000));
    const held = await s.status();
    expect(liveness(held).verdict).toMatchObject({ state: "restart-pending", onHold: true, waiting: "restart" });
    expect(held.container).toMatchObject({ running: false, restartPendingFor: "Liveness" });
    expect(liveness(held).counters.probes).toBe(3);
    expect(held.events.filter((e) => e.reason === "Killing")).toHaveLength(1);
    const samples = await s.metrics();
    expect(probeTotal(samples, "failed")).toBe(3);
    expect(probeTotal(samples, "successful")).toBe(0);
    expect(findSample(samples, "crashy_target_scrape_up")).toBe(0);
    expect(findSample(samples, "crashy_target_restarts_total")).toBe(0);
    await assertResponsive(s.base, 1_500);
  });

  it("stays responsive while the target holds each probe until its timeout, and fails each held probe once", async () => {
    // Accepts and reads the request, never answers.
    const target = await startTarget(() => 0, (_req, res) => answer(res, 200, START_TIME(1_700_000_000)));
    const s = await startSidecar({
      LIVENESS_PROBE_URL: `${target.url}/health`,
      METRICS_URL: `${target.url}/metrics`,
      LIVENESS_PROBE_PERIOD_SECONDS: "0.1",
      LIVENESS_PROBE_TIMEOUT_SECONDS: "2",
    });
    await eventually(async () => (target.health.length >= 1 ? true : undefined), 5_000, "the first held probe");
    // A probe is held for 2 s now; the sidecar's own endpoints answer meanwhile.
    for (let i = 0; i < 3; i++) {
      await assertResponsive(s.base, 1_000);
      await sleep(200);
    }
    const status = await probesAtLeast(s, 2, 10_000);
    expect(liveness(status).history.every((p) => p.result === "failure" && p.output.includes("Client.Timeout exceeded while awaiting headers"))).toBe(true);
    const { failed } = await expectCountsMatch(s, target);
    expect(failed).toBeGreaterThanOrEqual(2);
    // Each timed-out probe closed its connection: they do not pile up on the target.
    expect(target.open()).toBeLessThanOrEqual(2);
    // The scrapes went on beside the held probes.
    expect(findSample(await s.metrics(), "crashy_target_scrape_up")).toBe(1);
  });

  it("counts slow answers within the timeout as successes", async () => {
    const target = await startTarget((_n, res) => {
      setTimeout(() => answer(res, 200, "ok\n"), 300);
      return 200;
    });
    const s = await startSidecar({ LIVENESS_PROBE_URL: `${target.url}/health`, METRICS_URL: "", LIVENESS_PROBE_PERIOD_SECONDS: "0.05", LIVENESS_PROBE_TIMEOUT_SECONDS: "3" });
    const status = await probesAtLeast(s, 5, 10_000);
    expect(liveness(status).history.every((p) => p.result === "success" && p.durationSeconds >= 0.29)).toBe(true);
    const { ok } = await expectCountsMatch(s, target);
    expect(ok).toBeGreaterThanOrEqual(5);
    // The probe loop waits for each slow answer rather than piling probes up.
    expect(target.open()).toBeLessThanOrEqual(1);
    await assertResponsive(s.base, 1_500);
  });

  it("reads only 10 KiB of a 10 MiB probe answer and refuses a 10 MiB scrape, without growing", async () => {
    const huge = Buffer.alloc(10 * 1024 * 1024, "a");
    // Valid exposition text, ten times over the scrape limit: a comment line repeated.
    const hugeMetrics = Buffer.from(START_TIME(1_700_000_000) + "# filler\n".repeat((10 * 1024 * 1024) / 9));
    const target = await startTarget(
      (_n, res) => answer(res, 200, huge),
      (_req, res) => answer(res, 200, hugeMetrics),
    );
    const s = await startSidecar({
      LIVENESS_PROBE_URL: `${target.url}/health`,
      METRICS_URL: `${target.url}/metrics`,
      LIVENESS_PROBE_PERIOD_SECONDS: "0.05",
      // The scrape's timeout too: room to read the 4 MiB up to the cap on a busy machine.
      SCRAPE_INTERVAL_SECONDS: "0.5",
    });
    const status = await probesAtLeast(s, 30, 15_000);
    await eventually(async () => (target.scrapes >= 4 ? true : undefined), 10_000, "four scrapes");
    expect(liveness(status).history.every((p) => p.result === "success" && p.statusCode === 200)).toBe(true);
    await expectCountsMatch(s, target);
    const after = await s.status();
    expect(after.scrape.up).toBe(false);
    expect(after.scrape.error).toContain("body larger than 4194304 bytes");
    expect(after.counters.scrapesOk).toBe(0);
    await assertResponsive(s.base, 1_500);
    // Nowhere near holding 10 MiB per probe or scrape.
    const rss = rssKiB(s.sidecar.child.pid!);
    console.log(`10 MiB target: ${liveness(after).counters.probes} probes, ${after.counters.scrapesFailed} refused scrapes, sidecar RSS ${(rss / 1024).toFixed(1)} MiB`);
    expect(rss).toBeLessThan(200 * 1024);
  });

  it("keeps a hostile redirect body escaped and capped: /api/status stays small, with no control character in it", async () => {
    // A final 3xx is a success the kubelet reports with the body in its warning: here 10 KiB of control bytes.
    const body = Buffer.alloc(10 * 1024, "\u001b[2J\u0000\u0007");
    const target = await startTarget((_n, res) => answer(res, 302, body), (_req, res) => answer(res, 200, START_TIME(1_700_000_000)));
    const s = await startSidecar({ LIVENESS_PROBE_URL: `${target.url}/health`, LIVENESS_PROBE_PERIOD_SECONDS: "0.02", METRICS_URL: `${target.url}/metrics` });
    const status = await probesAtLeast(s, 400, 20_000);
    const text = await (await fetch(`${s.base}/api/status`)).text();
    // Without the cap: 300 records and 100 events of 10 KiB, escaped as JSON: over 20 MB.
    expect(text.length).toBeLessThan(2 * 1024 * 1024);
    expect(text).not.toMatch(/\\u001b|\\u0000|\\u0007/);
    const warned = status.events.find((e) => e.reason === "ProbeWarning")!;
    expect(warned.message).toMatch(/^Liveness probe warning: Probe terminated redirects, Response body: \\x1b\[2J\\x00\\x07/);
    expect(warned.message).toMatch(/\.\.\. \(\d+ more characters\)$/);
    expect(liveness(status).verdict.healthy).toBe(true);
  }, 40_000);

  it("scrapes a 4 MiB /metrics of a million samples line by line: its heap stays small and it answers within 100 ms meanwhile", { timeout: 60_000 }, async () => {
    // About a million short samples, the start time last: all of it is read and checked, nothing kept.
    const line = "m 1\n";
    const filler = line.repeat(Math.floor((4 * 1024 * 1024 - 200) / line.length));
    const body = Buffer.from(`${filler}${START_TIME(1_700_000_000)}`);
    expect(body.length).toBeLessThanOrEqual(4 * 1024 * 1024);
    const target = await startTarget((_n, res) => answer(res, 200, "ok"), (_req, res) => answer(res, 200, body));
    const s = await startSidecar({ LIVENESS_PROBE_URL: `${target.url}/health`, LIVENESS_PROBE_PERIOD_SECONDS: "0.5", METRICS_URL: `${target.url}/metrics`, SCRAPE_INTERVAL_SECONDS: "1" });
    await eventually(async () => ((await s.status()).scrape.up ? true : undefined), 20_000, "a scrape of the big body");
    // While it scrapes again and again, its own endpoints answer quickly.
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      const began = performance.now();
      const res = await fetch(`${s.base}/healthz`, { signal: AbortSignal.timeout(2_000) });
      expect(res.status).toBe(200);
      await res.text();
      times.push(performance.now() - began);
      await sleep(50);
    }
    times.sort((a, b) => a - b);
    const [median, slowest] = [times[30]!, times.at(-1)!];
    const heapMiB = Number((await (await fetch(`${s.base}/metrics`)).text()).match(/^nodejs_heap_size_used_bytes (\S+)$/m)?.[1]) / 1024 / 1024;
    console.log(`4 MiB, ${Math.round(filler.length / line.length)} samples: ${target.scrapes} scrapes, /healthz median ${median.toFixed(0)} ms, slowest ${slowest.toFixed(0)} ms, heap ${heapMiB.toFixed(1)} MiB`);
    expect(target.scrapes).toBeGreaterThanOrEqual(3);
    // Loose bounds for a shared 2-core machine; a scrape that held the event loop took 700 ms.
    expect(median).toBeLessThan(100);
    expect(slowest).toBeLessThan(500);
    expect(heapMiB).toBeLessThan(60);
    expect((await s.status()).scrape).toMatchObject({ up: true, startTimeSeconds: 1_700_000_000 });
  });

  it("takes garbage and half-valid exposition text as failed scrapes, never as restarts", async () => {
    let n = 0;
    // Each body carries a new start time before its flaw: a lenient parser would see restarts. The
    // flaws are in the start-time series' lines: the scraper reads only those, and steps over other
    // series' lines unparsed (exposition.test.ts).
    const bodies = [
      (t: number) => Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x0a, 0x7b]),
      (t: number) => `${START_TIME(t)}crashy_start_time_seconds{job="x" ${t}\n`,
      (t: number) => `${START_TIME(t)}# TYPE crashy_start_time_seconds bogus\n`,
      (t: number) => `${START_TIME(t)}process_start_time_seconds 1 2 3\n`,
      (t: number) => `${START_TIME(t)}crashy_start_time_seconds one\n`,
      (t: number) => `<html><body>crashy_start_time_seconds ${t}</body></html>\n`,
      (t: number) => START_TIME(t).replace(/ \d+\n$/, "\n"),
    ];
    const target = await startTarget(
      (_n, res) => answer(res, 200, "ok\n"),
      (_req, res) => answer(res, 200, bodies[n++ % bodies.length]!(1_700_000_000 + n)),
    );
    const s = await startSidecar({
      LIVENESS_PROBE_URL: `${target.url}/health`,
      METRICS_URL: `${target.url}/metrics`,
      LIVENESS_PROBE_PERIOD_SECONDS: "0.1",
      SCRAPE_INTERVAL_SECONDS: "0.02",
    });
    await eventually(async () => ((await s.status()).counters.scrapesFailed >= 3 * bodies.length ? true : undefined), 15_000, "three rounds of bad bodies");
    const status = await s.status();
    expect(status.counters.scrapesOk).toBe(0);
    expect(status.counters.restarts).toBe(0);
    expect(status.restarts).toEqual([]);
    const samples = await s.metrics();
    expect(findSample(samples, "crashy_target_restarts_total")).toBe(0);
    expect(findSample(samples, "crashy_target_scrape_up")).toBe(0);
    // Probing is not disturbed by what the scrapes met.
    expect(liveness(status).history.every((p) => p.result === "success")).toBe(true);
    await expectCountsMatch(s, target);
    await assertResponsive(s.base, 1_500);
  });

  it("counts a target flapping between 200 and 500 exactly, and never reaches the failure threshold", async () => {
    const target = await startTarget((n, res) => answer(res, n % 2 === 0 ? 200 : 500, "x\n"));
    const s = await startSidecar({ LIVENESS_PROBE_URL: `${target.url}/health`, METRICS_URL: "", LIVENESS_PROBE_PERIOD_SECONDS: "0.02", LIVENESS_PROBE_FAILURE_THRESHOLD: "2" });
    await probesAtLeast(s, 100, 15_000);
    const { ok, failed } = await expectCountsMatch(s, target);
    expect(ok).toBeGreaterThanOrEqual(50);
    expect(failed).toBeGreaterThanOrEqual(49);
    const status = await s.status();
    // Failures never came two in a row: no Killing, the verdict stayed healthy.
    expect(status.events.some((e) => e.reason === "Killing")).toBe(false);
    expect(liveness(status).verdict.healthy).toBe(true);
    expect(liveness(status).history.every((p, i, all) => i === 0 || p.result !== all[i - 1]!.result)).toBe(true);
    await assertResponsive(s.base, 1_500);
  });

  it("counts a target restarting every second as exactly the restarts it saw", { timeout: 30_000 }, async () => {
    const port = await freePort();
    // Each generation is a new server on the same port with its own start time.
    const generations: { startTime: number; scraped: number }[] = [];
    let server: Server | undefined;
    const generation = async () => {
      const gen = { startTime: Date.now() / 1000, scraped: 0 };
      generations.push(gen);
      server = createServer((req, res) => {
        if (req.url === "/metrics") {
          gen.scraped++;
          answer(res, 200, START_TIME(gen.startTime));
        } else answer(res, 200, "ok\n");
      });
      await listen(server, port);
    };
    const stopServer = () => new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
    });
    targets.push({ url: "", port, health: [], scrapes: 0, open: () => 0, close: stopServer });

    await generation();
    const s = await startSidecar({
      LIVENESS_PROBE_URL: `http://127.0.0.1:${port}/health`,
      METRICS_URL: `http://127.0.0.1:${port}/metrics`,
      LIVENESS_PROBE_PERIOD_SECONDS: "0.1",
      SCRAPE_INTERVAL_SECONDS: "0.05",
    });
    await eventually(async () => ((await s.status()).scrape.up ? true : undefined), 10_000, "the first scrape");
    // Bounded: five restarts, one a second.
    for (let i = 0; i < 5; i++) {
      await sleep(1_000);
      await stopServer();
      await generation();
    }
    // Let the last generation be seen, then nothing changes any more.
    await eventually(async () => (generations.at(-1)!.scraped >= 3 ? true : undefined), 10_000, "the last generation scraped");
    await sleep(200);
    const seen = generations.filter((g) => g.scraped > 0).length;
    const status = await s.status();
    const samples = await s.metrics();
    // Every generation lived a second and was scraped every 50 ms: each was seen, each after the first is one restart.
    expect(seen).toBe(6);
    expect(status.counters.restarts).toBe(seen - 1);
    expect(findSample(samples, "crashy_target_restarts_total")).toBe(seen - 1);
    expect(status.restarts.map((r) => r.startTimeSeconds)).toEqual(generations.slice(1).map((g) => g.startTime));
    expect(findSample(samples, "crashy_target_last_restart_timestamp_seconds")).toBeCloseTo(generations.at(-1)!.startTime, 3);
    expect(status.events.filter((e) => e.reason === "Started")).toHaveLength(5);
    await assertResponsive(s.base, 1_500);
  });

  it("keeps /api/status bounded and its memory flat over thousands of fast probes", { timeout: 60_000 }, async () => {
    // Flapping, with answers larger than the 10 KiB the prober reads: a kept body or record would show.
    const body = Buffer.alloc(64 * 1024, "b");
    const target = await startTarget(
      (n, res) => answer(res, n % 3 === 2 ? 500 : 200, body),
      (_req, res) => answer(res, 200, START_TIME(1_700_000_000)),
    );
    const s = await startSidecar({
      LIVENESS_PROBE_URL: `${target.url}/health`,
      METRICS_URL: `${target.url}/metrics`,
      LIVENESS_PROBE_PERIOD_SECONDS: "0.005",
      SCRAPE_INTERVAL_SECONDS: "0.05",
      LIVENESS_PROBE_FAILURE_THRESHOLD: "2",
    });
    const pid = s.sidecar.child.pid!;
    // Warm-up: the ring full, the code compiled, the heap at its working size. The bundled sidecar
    // starts small and its heap grows over about its first 1500 probes here, then stays flat.
    const WARM = 6 * PROBE_HISTORY;
    const warm = await probesAtLeast(s, WARM, 30_000);
    // Sampled through the run, each end the median of five samples. The JS heap (the sidecar's own
    // nodejs_heap_size_used_bytes) is where a kept body or record would pile up; RSS also jumps with
    // the socket buffers of answers in flight when a busy machine starves the sidecar (one run went
    // from 108 to 130 MiB and back), so it gets only a loose bound against native leaks.
    const samples: number[] = [];
    const heapSamples: number[] = [];
    const heapKiB = async () =>
      Number((await (await fetch(`${s.base}/metrics`)).text()).match(/^nodejs_heap_size_used_bytes (\S+)$/m)?.[1]) / 1024;
    // Bounded in count and in time: stop at 2500 more probes or after 15 s.
    const began = Date.now();
    let status = warm;
    while ((liveness(status).counters.probes < WARM + 2_500 || samples.length < 10) && Date.now() - began < 15_000) {
      samples.push(rssKiB(pid));
      heapSamples.push(await heapKiB());
      await sleep(200);
      status = await s.status();
      expect(liveness(status).history.length).toBeLessThanOrEqual(PROBE_HISTORY);
      expect(status.events.length).toBeLessThanOrEqual(100);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const rssWarm = median(samples.slice(0, 5));
    const rssEnd = median(samples.slice(-5));
    const heapWarm = median(heapSamples.slice(0, 5));
    const heapEnd = median(heapSamples.slice(-5));
    const run = liveness(status).counters.probes - liveness(warm).counters.probes;
    console.log(
      `fast run: ${liveness(status).counters.probes} probes in all, ${run} after warm-up in ${((Date.now() - began) / 1000).toFixed(1)} s; ` +
        `RSS ${(rssWarm / 1024).toFixed(1)} MiB after warm-up, ${(rssEnd / 1024).toFixed(1)} MiB at the end (medians of 5; ` +
        `all samples ${(Math.min(...samples) / 1024).toFixed(1)}-${(Math.max(...samples) / 1024).toFixed(1)} MiB); ` +
        `JS heap ${(heapWarm / 1024).toFixed(1)} -> ${(heapEnd / 1024).toFixed(1)} MiB`,
    );
    // Enough probes to matter (a generous floor for a busy machine), a history no longer than its ring.
    expect(run).toBeGreaterThanOrEqual(1_000);
    expect(liveness(status).counters.probes).toBeGreaterThan(PROBE_HISTORY);
    expect(liveness(status).history).toHaveLength(PROBE_HISTORY);
    // Flat: keeping even the 10 KiB read of each probe would add 25 MiB over 2500 probes.
    expect(heapEnd - heapWarm).toBeLessThan(20 * 1024);
    expect(rssEnd - rssWarm).toBeLessThan(64 * 1024);
    await expectCountsMatch(s, target);
    await assertResponsive(s.base, 1_500);
  });
});
