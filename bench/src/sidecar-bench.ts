// The sidecar's figures: CPU per probe against Debian's blackbox_exporter probing the same target,
// probe period jitter, detection latency (crash → "unhealthy" verdict), RSS.
import { existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuSeconds, rssBytes } from "./proc.ts";
import type { Row } from "./report.ts";
import { firstOk, freePort, getStatus, launch, ROOT, scriptProgram, sleep, type Proc } from "./spawn.ts";
import { median, percentile } from "./stats.ts";

export const BLACKBOX = process.env.BLACKBOX_EXPORTER ?? "/usr/bin/prometheus-blackbox-exporter";
// The bundles users and the images run.
const SIDECAR = "dist/bundle/sidecar.mjs";
const APP = "dist/bundle/app.mjs";

export type SidecarBenchOptions = {
  rounds: number;
  /** Probes per round, for the CPU figure. */
  probes: number;
  /** Probe period for the CPU and jitter figures. */
  periodMs: number;
  log: (line: string) => void;
};

// Detection: the kubelet's default threshold, a short period so rounds stay short.
const DETECT_PERIOD_S = 0.5;
const DETECT_THRESHOLD = 3;
const DETECT_CRASH_AFTER_S = 1.5;
/** The scrape interval while the CPU and RSS figures are taken. */
const SCRAPE_INTERVAL_S = 0.5;

type ProbeRecord = { at: number; result: string };
/** What the bench reads of /api/status (sidecar/src/status.ts): the one liveness probe it runs, and the events. */
type Status = {
  verdict: { healthy: boolean };
  counters: { probes: number };
  history: ProbeRecord[];
  events: { at: number; reason: string }[];
};

async function status(url: string): Promise<Status> {
  const answer = await getStatus(`${url}/api/status`, 2_000);
  if (answer?.status !== 200) throw new Error(`${url}/api/status answered ${answer?.status ?? "nothing"}`);
  const body = JSON.parse(answer.body) as { probes: (Omit<Status, "events"> & { type: string })[]; events: Status["events"] };
  const liveness = body.probes.find((p) => p.type === "Liveness");
  if (!liveness) throw new Error(`${url}/api/status has no liveness probe`);
  return { ...liveness, events: body.events };
}

async function startSidecar(env: Record<string, string>): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const proc = launch(scriptProgram("sidecar"), { HOST: "127.0.0.1", PORT: String(port), METRICS_URL: "", ...env });
  const url = `http://127.0.0.1:${port}`;
  await firstOk(`${url}/healthz`, proc, 15_000, 20);
  return { proc, url };
}

async function startTarget(env: Record<string, string> = {}, script = "dist/bench/src/bare-server.js"): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const proc = launch(["node", script], { HOST: "127.0.0.1", HOSTNAME: "crashy-bench", PORT: String(port), ...env });
  const url = `http://127.0.0.1:${port}`;
  await firstOk(`${url}/health`, proc, 15_000, 20);
  return { proc, url };
}

async function startBlackbox(): Promise<{ proc: Proc; url: string }> {
  const config = join(tmpdir(), `crashy-bench-blackbox-${process.pid}.yml`);
  writeFileSync(config, "modules:\n  http_2xx:\n    prober: http\n    timeout: 1s\n    http:\n      preferred_ip_protocol: ip4\n");
  const port = await freePort();
  const proc = launch([BLACKBOX, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"], {});
  const url = `http://127.0.0.1:${port}`;
  await firstOk(`${url}/-/healthy`, proc, 15_000, 20);
  return { proc, url };
}

export async function benchSidecar(opts: SidecarBenchOptions): Promise<{ rows: Row[]; raw: object }> {
  const { log } = opts;
  if (!existsSync(join(ROOT, SIDECAR))) {
    log(`sidecar: ${SIDECAR} not built, sidecar figures skipped`);
    return { rows: [gapRow("sidecar", "CPU per probe", `${SIDECAR} is not built`)], raw: {} };
  }
  const procs: Proc[] = [];
  try {
    const target = await startTarget();
    procs.push(target.proc);
    const blackbox = await startBlackbox();
    procs.push(blackbox.proc);
    const probeUrl = `${target.url}/health`;
    // Scraping on, as in the pod: the real app's /metrics, every half second (the CPU figure includes it).
    const app = await startTarget({ CRASH_AFTER: "1000000" }, APP);
    procs.push(app.proc);
    const scrape = { METRICS_URL: `${app.url}/metrics`, SCRAPE_INTERVAL_SECONDS: String(SCRAPE_INTERVAL_S) };

    const sidecarCpu: number[] = [];
    const blackboxCpu: number[] = [];
    const jitter: number[] = [];
    const sidecarRss: number[] = [];
    const blackboxRss: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const segments = [
        async () => {
          // A fresh sidecar each round, so it probes only while it is measured.
          const sidecar = await startSidecar({ LIVENESS_PROBE_URL: probeUrl, LIVENESS_PROBE_PERIOD_SECONDS: String(opts.periodMs / 1000), ...scrape });
          try {
            const before = { cpu: cpuSeconds(sidecar.proc.pid), probes: (await status(sidecar.url)).counters.probes };
            const deadline = performance.now() + opts.probes * opts.periodMs * 3 + 5_000;
            let now = before;
            while (now.probes - before.probes < opts.probes && performance.now() < deadline) {
              await sleep(Math.max(50, (opts.probes - (now.probes - before.probes)) * opts.periodMs));
              // CPU first: the /api/status call that follows is not part of the probing.
              const cpu = cpuSeconds(sidecar.proc.pid);
              const s = await status(sidecar.url);
              now = { cpu, probes: s.counters.probes };
              if (now.probes - before.probes >= opts.probes || performance.now() >= deadline) {
                jitter.push(...periodJitter(s.history, opts.periodMs));
              }
            }
            const probes = now.probes - before.probes;
            sidecarCpu.push(((now.cpu - before.cpu) / Math.max(1, probes)) * 1e6);
            sidecarRss.push(rssBytes(sidecar.proc.pid));
            log(`sidecar: round ${r + 1}/${opts.rounds}: ${probes} probes, ${sidecarCpu.at(-1)!.toFixed(0)} µs CPU per probe`);
          } finally {
            await sidecar.proc.stop();
          }
        },
        async () => {
          // The same target, the same period, the same count, one /probe call at a time.
          const before = cpuSeconds(blackbox.proc.pid);
          const deadline = performance.now() + opts.probes * opts.periodMs * 3 + 5_000;
          let done = 0;
          let next = performance.now();
          while (done < opts.probes && performance.now() < deadline) {
            const answer = await getStatus(`${blackbox.url}/probe?module=http_2xx&target=${encodeURIComponent(probeUrl)}`, 2_000);
            if (answer?.status !== 200 || !/^probe_success 1$/m.test(answer.body)) throw new Error(`blackbox_exporter probe failed: ${answer?.body ?? "no answer"}`);
            done++;
            next += opts.periodMs;
            await sleep(Math.max(0, next - performance.now()));
          }
          blackboxCpu.push(((cpuSeconds(blackbox.proc.pid) - before) / Math.max(1, done)) * 1e6);
          blackboxRss.push(rssBytes(blackbox.proc.pid));
          log(`blackbox_exporter: round ${r + 1}/${opts.rounds}: ${done} probes, ${blackboxCpu.at(-1)!.toFixed(0)} µs CPU per probe`);
        },
      ];
      for (const segment of r % 2 ? segments.reverse() : segments) await segment();
    }

    const detection: number[] = [];
    for (let r = 0; r < opts.rounds; r++) detection.push(await detectOnce(log, r, opts.rounds));

    return {
      rows: sidecarRows({ sidecarCpu, blackboxCpu, jitter, sidecarRss, blackboxRss, detection }, opts),
      raw: { sidecarCpu, blackboxCpu, jitterSamples: jitter.length, sidecarRss, blackboxRss, detection },
    };
  } finally {
    for (const proc of procs) await proc.stop();
  }
}

/** |interval between consecutive probe starts − period|, in ms. */
export function periodJitter(probes: ProbeRecord[], periodMs: number): number[] {
  const starts = probes.map((p) => p.at).sort((a, b) => a - b);
  return starts.slice(1).map((at, i) => Math.abs(at - starts[i]! - periodMs));
}

/** One crash of a real Node app under a real sidecar: ms from the crash instant to the verdict. */
async function detectOnce(log: (line: string) => void, round: number, rounds: number): Promise<number> {
  const app = await startTarget({ CRASH_AFTER: String(DETECT_CRASH_AFTER_S), CRASH_MODE: "error" }, APP);
  try {
    const sidecar = await startSidecar({
      LIVENESS_PROBE_URL: `${app.url}/health`,
      LIVENESS_PROBE_PERIOD_SECONDS: String(DETECT_PERIOD_S),
      LIVENESS_PROBE_FAILURE_THRESHOLD: String(DETECT_THRESHOLD),
    });
    try {
      const metrics = (await getStatus(`${app.url}/metrics`))?.body ?? "";
      const startedAt = Number(/^crashy_start_time_seconds (\S+)$/m.exec(metrics)?.[1]) * 1000;
      const crashAt = startedAt + DETECT_CRASH_AFTER_S * 1000;
      const deadline = Date.now() + (DETECT_CRASH_AFTER_S + DETECT_THRESHOLD * DETECT_PERIOD_S) * 1000 + 10_000;
      while (Date.now() < deadline) {
        const s = await status(sidecar.url);
        // The sidecar's own record of the moment the verdict turned: its Killing event.
        const killing = s.events.find((e) => e.reason === "Killing" && e.at >= crashAt);
        if (!s.verdict.healthy && killing) {
          const ms = killing.at - crashAt;
          log(`detection: round ${round + 1}/${rounds}: unhealthy ${ms.toFixed(0)} ms after the crash`);
          return ms;
        }
        await sleep(50);
      }
      throw new Error("the sidecar gave no unhealthy verdict in time");
    } finally {
      await sidecar.proc.stop();
    }
  } finally {
    await app.proc.stop();
  }
}

type Figures = {
  sidecarCpu: number[];
  blackboxCpu: number[];
  jitter: number[];
  sidecarRss: number[];
  blackboxRss: number[];
  detection: number[];
};

function sidecarRows(f: Figures, opts: SidecarBenchOptions): Row[] {
  const ratio = median(f.sidecarCpu.map((v, i) => v / f.blackboxCpu[i]!));
  const limitMs = DETECT_THRESHOLD * DETECT_PERIOD_S * 1000 + 100;
  const rss = median(f.sidecarRss) / 2 ** 20;
  const p99 = percentile(f.jitter, 99);
  return [
    {
      id: "cpu per probe sidecar",
      what: `CPU per probe, period ${opts.periodMs} ms`,
      on: "sidecar",
      value: median(f.sidecarCpu),
      unit: "us",
      baseline: { on: "blackbox_exporter", value: median(f.blackboxCpu) },
      ratio,
      detail: `${opts.probes} probes per round, scraping every ${SCRAPE_INTERVAL_S} s`,
      target: "≤ 1.0x blackbox",
      verdict: ratio <= 1 ? "PASS" : "MISS",
      rounds: f.sidecarCpu,
    },
    {
      id: "cpu per probe blackbox",
      what: `CPU per probe, period ${opts.periodMs} ms`,
      on: "blackbox_exporter",
      value: median(f.blackboxCpu),
      unit: "us",
      detail: "one /probe call at a time",
      verdict: "",
      rounds: f.blackboxCpu,
    },
    {
      id: "jitter p50 sidecar",
      what: `probe period jitter p50, period ${opts.periodMs} ms`,
      on: "sidecar",
      value: percentile(f.jitter, 50),
      unit: "ms",
      detail: `${f.jitter.length} intervals`,
      verdict: "",
    },
    {
      id: "jitter p99 sidecar",
      what: `probe period jitter p99, period ${opts.periodMs} ms`,
      on: "sidecar",
      value: p99,
      unit: "ms",
      detail: `${f.jitter.length} intervals`,
      target: "< 20 ms",
      verdict: p99 < 20 ? "PASS" : "MISS",
    },
    {
      id: "detection sidecar",
      what: `detection, crash → unhealthy (period ${DETECT_PERIOD_S} s, threshold ${DETECT_THRESHOLD})`,
      on: "sidecar",
      value: median(f.detection),
      unit: "ms",
      baseline: { on: "threshold × period", value: DETECT_THRESHOLD * DETECT_PERIOD_S * 1000 },
      ratio: median(f.detection) / (DETECT_THRESHOLD * DETECT_PERIOD_S * 1000),
      detail: `max ${Math.max(...f.detection).toFixed(0)} ms`,
      target: `≤ ${limitMs} ms every round`,
      verdict: Math.max(...f.detection) <= limitMs ? "PASS" : "MISS",
      rounds: f.detection,
    },
    {
      id: "rss sidecar",
      what: `RSS after ${opts.probes} probes`,
      on: "sidecar",
      value: rss,
      unit: "MiB",
      baseline: { on: "blackbox_exporter", value: median(f.blackboxRss) / 2 ** 20 },
      ratio: median(f.sidecarRss) / median(f.blackboxRss),
      detail: `scraping every ${SCRAPE_INTERVAL_S} s`,
      target: "< 60 MiB",
      verdict: rss < 60 ? "PASS" : "MISS",
      rounds: f.sidecarRss.map((b) => b / 2 ** 20),
    },
  ];
}

function gapRow(on: string, what: string, note: string): Row {
  return { id: `${what} ${on}`.toLowerCase(), what, on, value: null, unit: "ms", verdict: "GAP", note };
}
