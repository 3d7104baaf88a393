// The endpoints, on the server's route table with a real sidecar probing a real local server: one probe of each
// type alone, then two and three probes together with the kubelet's rules between them.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, test, vi } from "vitest";
import type { ProbeType } from "../../probe/src/types.ts";
import type { ProbeRecord } from "../../probe/src/worker.ts";
import { eventually } from "../../test/processes.ts";
import { promtoolCheckMetrics } from "../../test/promtool.ts";
import { buildPage } from "../page/build.ts";
import { loadConfig } from "../src/config.ts";
import { parseExposition, findSample } from "../src/exposition.ts";
import type { PageFiles } from "../src/page.ts";
import type { Restart } from "../src/scraper.ts";
import { createServer as createSidecarServer, type SidecarServer } from "../src/server.ts";
import { createSidecar, type Sidecar, type SidecarEvent } from "../src/sidecar.ts";
import type { SidecarStatus, StatusProbe } from "../src/status.ts";

// The app as the probes see it: each path answers its status; /metrics its start time.
const app = { startup: 200, health: 200, ready: 200, startTime: 1764198693.123, requests: { startup: 0, health: 0, ready: 0 } };
let target: Server;
// The bytes the bundle embeds (sidecar/page, built): unbundled, the server has no page of its own.
let page: PageFiles;
const sidecars: Sidecar[] = [];

beforeAll(async () => {
  page = await buildPage();
  target = createServer((req, res) => {
    if (req.url === "/metrics") return void res.end(`crashy_start_time_seconds ${app.startTime}\n`);
    const path = req.url?.slice(1) as keyof typeof app.requests;
    if (!(path in app.requests)) return void res.writeHead(404).end();
    app.requests[path]++;
    res.writeHead(app[path]).end();
  });
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
});
beforeEach(async () => {
  await Promise.all(sidecars.splice(0).map((s) => s.stop()));
  Object.assign(app, { startup: 200, health: 200, ready: 200, requests: { startup: 0, health: 0, ready: 0 } });
});
afterAll(async () => {
  await Promise.all(sidecars.splice(0).map((s) => s.stop()));
  target.closeAllConnections();
  target.close();
});

/** One answer, read as the tests read a response: status, headers, text and JSON. */
async function request(server: SidecarServer, path: string, method = "GET") {
  const { status, headers, body } = await server.answer(method, path);
  return { status, headers: new Map(Object.entries(headers)), body, text: async () => body, json: async () => JSON.parse(body) as unknown };
}
const bytes = (text: string) => String(new TextEncoder().encode(text).byteLength);

const base = () => `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
const PERIOD = { LIVENESS_PROBE_PERIOD_SECONDS: "0.05", READINESS_PROBE_PERIOD_SECONDS: "0.05", STARTUP_PROBE_PERIOD_SECONDS: "0.05" };
const ALL = { STARTUP_PROBE_URL: `{base}/startup`, LIVENESS_PROBE_URL: `{base}/health`, READINESS_PROBE_URL: `{base}/ready` };

/** A sidecar on the target, with the probes named in `env` ({base} is the target's URL), fast periods. */
function sidecarFor(env: Record<string, string> = { LIVENESS_PROBE_URL: "{base}/health" }) {
  const given = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace("{base}", base())]));
  const types = Object.keys(given).filter((k) => k.endsWith("_PROBE_URL")).map((k) => k.split("_")[0]);
  const periods = Object.fromEntries(Object.entries(PERIOD).filter(([k]) => types.includes(k.split("_")[0]!)));
  const config = loadConfig({ METRICS_URL: `${base()}/metrics`, ...periods, ...given });
  const sidecar = createSidecar({ config });
  sidecars.push(sidecar);
  const server = createSidecarServer(sidecar, page);
  const status = async () => (await (await request(server, "/api/status")).json()) as SidecarStatus;
  const metrics = async () => parseExposition(await (await request(server, "/metrics")).text());
  return { sidecar, server, status, metrics };
}

const probe = (s: SidecarStatus, type: ProbeType): StatusProbe => {
  const found = s.probes.find((p) => p.type === type);
  if (!found) throw new Error(`no ${type} probe in the status`);
  return found;
};
const until = <T>(fn: () => Promise<T | undefined>, what: string) => eventually(fn, 5_000, what, 20);
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("sidecar endpoints", () => {
  test("/metrics has every series of the probes configured before the first probe, none of the others, and passes promtool", async () => {
    const { metrics, server } = sidecarFor({ LIVENESS_PROBE_URL: "{base}/health", READINESS_PROBE_URL: "{base}/ready" });
    const samples = await metrics();
    for (const type of ["Liveness", "Readiness"]) {
      const typed = { probe_type: type };
      for (const name of ["probe_success", "probe_duration_seconds", "probe_http_status_code", "crashy_probe_consecutive_failures", "crashy_probe_consecutive_successes", "prober_probe_duration_seconds_count"]) {
        expect(findSample(samples, name, typed), `${name} ${type}`).toBe(0);
      }
      for (const result of ["successful", "failed", "unknown"]) expect(findSample(samples, "prober_probe_total", { ...typed, result })).toBe(0);
    }
    // worker.go newWorker: liveness starts as Success, readiness as Failure.
    expect(findSample(samples, "crashy_probe_healthy", { probe_type: "Liveness" })).toBe(1);
    expect(findSample(samples, "crashy_probe_healthy", { probe_type: "Readiness" })).toBe(0);
    expect(samples.filter((s) => s.labels.probe_type === "Startup")).toEqual([]);
    for (const name of ["crashy_target_restarts_total", "crashy_target_last_restart_timestamp_seconds", "crashy_target_scrape_up", "crashy_pod_ready"]) {
      expect(findSample(samples, name), name).toBe(0);
    }
    // No startup probe: started as soon as it runs.
    expect(findSample(samples, "crashy_container_started")).toBe(1);
    expect(promtoolCheckMetrics(await (await request(server, "/metrics")).text())).toEqual({ ok: true, output: "" });
  });

  test("a liveness probe alone: counted, the verdict follows the thresholds, a failure holds until the restart is seen", async () => {
    const { sidecar, status, metrics, server } = sidecarFor();
    app.health = 500;
    sidecar.start();
    const body = await until(async () => { const s = await status(); return s.container.running ? undefined : s; }, "the restart pending");
    const liveness = probe(body, "Liveness");
    expect(liveness.verdict).toMatchObject({ state: "restart-pending", healthy: false, onHold: true, waiting: "restart", text: "restart pending: the kubelet restarts the container" });
    expect(liveness.history).toHaveLength(3);
    expect(liveness.history[0]).toMatchObject({ result: "failure", statusCode: 500, output: "HTTP probe failed with statuscode: 500" });
    expect(body.container).toMatchObject({ running: false, restartPendingFor: "Liveness", started: false, ready: false });
    expect(body.pod.ready).toEqual({ type: "Ready", status: "False", reason: "ContainersNotReady", message: "containers with unready status: [crashy-app]" });
    expect(body.events.filter((e) => e.reason === "Killing")).toEqual([
      { at: expect.any(Number), type: "Normal", reason: "Killing", message: "Container crashy-app failed liveness probe, will be restarted", probeType: "Liveness" },
    ]);
    await until(async () => ((await status()).scrape.up ? true : undefined), "a scrape");
    const samples = await metrics();
    expect(findSample(samples, "crashy_probe_healthy", { probe_type: "Liveness" })).toBe(0);
    expect(findSample(samples, "probe_http_status_code", { probe_type: "Liveness" })).toBe(500);
    expect(findSample(samples, "prober_probe_total", { probe_type: "Liveness", result: "failed" })).toBe(3);
    expect(findSample(samples, "crashy_pod_ready")).toBe(0);
    expect(findSample(samples, "crashy_target_scrape_up")).toBe(1);
    expect(promtoolCheckMetrics(await (await request(server, "/metrics")).text()).ok).toBe(true);

    // The kubelet probes nothing more until a new container runs (worker.go onHold): an answer of
    // 200 from the old instance changes nothing, and no more failures are counted.
    app.health = 200;
    await settle(200);
    const held = await status();
    expect(probe(held, "Liveness").verdict.state).toBe("restart-pending");
    expect(probe(held, "Liveness").counters.probes).toBe(3);
    expect(held.events.filter((e) => e.reason === "Killing")).toHaveLength(1);

    // A new start time in the app's metrics is the new container: Success again, probing again.
    app.startTime += 5;
    const healed = await until(async () => { const s = await status(); return probe(s, "Liveness").counters.probes > 3 ? s : undefined; }, "probing again");
    expect(probe(healed, "Liveness").verdict).toMatchObject({ state: "healthy", healthy: true, onHold: false });
    expect(probe(healed, "Liveness").verdict.waiting).toBeUndefined();
    expect(healed.container).toEqual({ instance: "instance-1", running: true, started: true, ready: true });
    expect(healed.pod.ready).toEqual({ type: "Ready", status: "True" });
    expect(healed.events.map((e) => e.reason)).toContain("Started");
  });

  test("a readiness probe alone starts not ready, turns ready, drops out of the Service on failures, and never asks for a restart", async () => {
    const { sidecar, status, metrics } = sidecarFor({ READINESS_PROBE_URL: "{base}/ready", READINESS_PROBE_SUCCESS_THRESHOLD: "2" });
    const healthy = async () => findSample(await metrics(), "crashy_probe_healthy", { probe_type: "Readiness" });
    expect(probe(await status(), "Readiness").verdict.state).toBe("not-ready");
    expect((await status()).pod.ready.status).toBe("False");
    expect(await healthy()).toBe(0);
    sidecar.start();
    const ready = await until(async () => { const s = await status(); return s.pod.ready.status === "True" ? s : undefined; }, "Ready");
    expect(probe(ready, "Readiness").verdict).toMatchObject({ state: "ready", text: "ready: the Service sends it traffic" });
    // successThreshold 2: two successes in a row before Ready.
    expect(probe(ready, "Readiness").counters.successful).toBeGreaterThanOrEqual(2);
    expect(await healthy()).toBe(1);
    app.ready = 500;
    const body = await until(async () => { const s = await status(); return s.pod.ready.status === "False" ? s : undefined; }, "not Ready");
    expect(probe(body, "Readiness").verdict).toMatchObject({ state: "not-ready", onHold: false });
    expect(body.container).toMatchObject({ running: true, started: true, ready: false });
    expect(body.events.some((e) => e.reason === "Killing")).toBe(false);
    expect(body.events.find((e) => e.reason === "Unhealthy")?.message).toBe("Readiness probe failed: HTTP probe failed with statuscode: 500");
    const probes = probe(body, "Readiness").counters.probes;
    await until(async () => (probe(await status(), "Readiness").counters.probes > probes + 2 ? true : undefined), "probing on");
    expect((await status()).events.some((e) => e.reason === "Killing")).toBe(false);
  });

  test("a startup probe alone starts as starting, and once started it stops probing", async () => {
    const { sidecar, status } = sidecarFor({ STARTUP_PROBE_URL: "{base}/startup" });
    expect(probe(await status(), "Startup").verdict.state).toBe("starting");
    expect((await status()).container.started).toBe(false);
    sidecar.start();
    const started = await until(async () => { const s = await status(); return s.container.started ? s : undefined; }, "started");
    expect(probe(started, "Startup").verdict).toMatchObject({ state: "started", waiting: "done" });
    expect(started.pod.ready.status).toBe("True");
    await settle(300);
    expect(probe(await status(), "Startup").counters.probes).toBe(probe(started, "Startup").counters.probes);
  });

  test("three probes: the startup probe gates the other two; once it succeeds they run and it stops", async () => {
    const { sidecar, status, metrics } = sidecarFor({ ...ALL, STARTUP_PROBE_FAILURE_THRESHOLD: "100" });
    app.startup = 503;
    sidecar.start();
    const starting = await until(async () => { const s = await status(); return probe(s, "Startup").counters.failed >= 5 ? s : undefined; }, "five startup failures");
    // prober_manager.go isContainerStarted: no Success from the startup probe, not started; the
    // other workers skip every probe (worker.go "Disable other probes until container has started").
    expect(starting.container).toMatchObject({ running: true, started: false, ready: false });
    expect(starting.pod.ready).toMatchObject({ status: "False", reason: "ContainersNotReady" });
    expect(probe(starting, "Startup").verdict).toMatchObject({ state: "starting", text: "starting: liveness and readiness probes wait" });
    for (const type of ["Liveness", "Readiness"] as const) {
      expect(probe(starting, type).counters.probes).toBe(0);
      expect(probe(starting, type).verdict.waiting).toBe("startup");
    }
    expect(app.requests.health + app.requests.ready).toBe(0);
    expect(findSample(await metrics(), "crashy_container_started")).toBe(0);

    app.startup = 200;
    const ready = await until(async () => { const s = await status(); return s.pod.ready.status === "True" ? s : undefined; }, "Ready");
    expect(ready.container).toMatchObject({ running: true, started: true, ready: true });
    expect(probe(ready, "Startup").verdict).toMatchObject({ state: "started", waiting: "done" });
    expect(probe(ready, "Liveness").verdict.waiting).toBeUndefined();
    expect(probe(ready, "Readiness").verdict.state).toBe("ready");
    const startupProbes = app.requests.startup;
    await until(async () => (app.requests.health > 3 && app.requests.ready > 3 ? true : undefined), "liveness and readiness probing");
    // "Stop probing for startup once container has started."
    expect(app.requests.startup).toBe(startupProbes);
    const samples = await metrics();
    expect(findSample(samples, "crashy_container_started")).toBe(1);
    expect(findSample(samples, "crashy_pod_ready")).toBe(1);
    expect(findSample(samples, "crashy_probe_healthy", { probe_type: "Startup" })).toBe(1);
    expect((await status()).events.some((e) => e.reason === "Killing")).toBe(false);
  });

  test("two probes: readiness flips the pod out of the Service and back, with no restart, while liveness keeps probing", async () => {
    const { sidecar, status, metrics } = sidecarFor({ LIVENESS_PROBE_URL: "{base}/health", READINESS_PROBE_URL: "{base}/ready" });
    sidecar.start();
    await until(async () => ((await status()).pod.ready.status === "True" ? true : undefined), "Ready");
    app.ready = 503;
    const out = await until(async () => { const s = await status(); return s.pod.ready.status === "False" ? s : undefined; }, "not Ready");
    expect(out.container).toMatchObject({ instance: "instance-0", running: true, started: true, ready: false });
    expect(out.container.restartPendingFor).toBeUndefined();
    expect(probe(out, "Readiness").verdict).toMatchObject({ state: "not-ready", text: "not ready: the Service sends it no traffic" });
    expect(probe(out, "Liveness").verdict).toMatchObject({ state: "healthy", healthy: true });
    expect(findSample(await metrics(), "crashy_pod_ready")).toBe(0);
    // Liveness goes on, and readiness too: a readiness failure holds nothing.
    const [health, ready] = [app.requests.health, app.requests.ready];
    await until(async () => (app.requests.health > health + 3 && app.requests.ready > ready + 3 ? true : undefined), "both probing on");
    app.ready = 200;
    const back = await until(async () => { const s = await status(); return s.pod.ready.status === "True" ? s : undefined; }, "Ready again");
    expect(back.container.instance).toBe("instance-0");
    expect(back.counters.restarts).toBe(0);
    // The kubelet's words for readiness: failed, never "will be restarted".
    const messages = back.events.map((e) => e.message);
    expect(messages).toContain("Readiness probe failed: HTTP probe failed with statuscode: 503");
    expect(messages.some((m) => m.includes("will be restarted"))).toBe(false);
    expect(back.events.filter((e) => e.reason === "Unhealthy").every((e) => e.probeType === "Readiness")).toBe(true);
  });

  test("two probes: a liveness failure holds readiness too, takes the pod out of the Service, and both resume on the new instance", async () => {
    const { sidecar, status, metrics } = sidecarFor({ LIVENESS_PROBE_URL: "{base}/health", READINESS_PROBE_URL: "{base}/ready" });
    sidecar.start();
    await until(async () => ((await status()).pod.ready.status === "True" ? true : undefined), "Ready");
    app.health = 500;
    const pending = await until(async () => { const s = await status(); return s.container.running ? undefined : s; }, "the kill");
    expect(pending.container).toMatchObject({ running: false, restartPendingFor: "Liveness", ready: false });
    // Once the readiness worker has seen the container stopped, it sets Failure (worker.go
    // "Non-running container probed") and probes no more.
    const held = await until(async () => { const s = await status(); return probe(s, "Readiness").verdict.state === "not-ready" ? s : undefined; }, "readiness Failure");
    expect(probe(held, "Readiness").verdict.waiting).toBe("restart");
    expect(held.pod.ready.status).toBe("False");
    const [health, ready] = [app.requests.health, app.requests.ready];
    await settle(300);
    expect([app.requests.health, app.requests.ready]).toEqual([health, ready]);
    expect(findSample(await metrics(), "crashy_probe_healthy", { probe_type: "Readiness" })).toBe(0);

    app.health = 200;
    app.startTime += 7;
    const back = await until(async () => { const s = await status(); return s.pod.ready.status === "True" ? s : undefined; }, "Ready on the new instance");
    expect(back.container).toEqual({ instance: "instance-1", running: true, started: true, ready: true });
    expect(back.counters.restarts).toBe(1);
    expect(back.events.filter((e) => e.reason === "Killing").map((e) => e.message)).toEqual(["Container crashy-app failed liveness probe, will be restarted"]);
  });

  test("three probes: a startup failure is a restart too, in the kubelet's words", async () => {
    const { sidecar, status } = sidecarFor({ ...ALL, STARTUP_PROBE_FAILURE_THRESHOLD: "2" });
    app.startup = 500;
    sidecar.start();
    const pending = await until(async () => { const s = await status(); return s.container.running ? undefined : s; }, "the kill");
    expect(pending.container).toMatchObject({ running: false, restartPendingFor: "Startup", started: false });
    expect(probe(pending, "Startup").verdict).toMatchObject({ state: "restart-pending", onHold: true });
    expect(pending.events.filter((e) => e.reason !== "Started").map((e) => e.message)).toEqual([
      "Startup probe failed: HTTP probe failed with statuscode: 500",
      "Startup probe failed: HTTP probe failed with statuscode: 500",
      "Container crashy-app failed startup probe, will be restarted",
    ]);
    expect(app.requests.health + app.requests.ready).toBe(0);
  });

  test("each probe's history is bounded", async () => {
    const { sidecar, status } = sidecarFor({ LIVENESS_PROBE_URL: "{base}/health", LIVENESS_PROBE_PERIOD_SECONDS: "0.001", METRICS_URL: "" });
    sidecar.start();
    await until(async () => (probe(await status(), "Liveness").counters.probes > 300 ? true : undefined), "300 probes");
    await sidecar.stop();
    const liveness = probe(await status(), "Liveness");
    expect(liveness.counters.probes).toBeGreaterThan(300);
    expect(liveness.history).toHaveLength(300);
  });

  test("/healthz answers 200 while every loop runs, 503 otherwise", async () => {
    const { sidecar, server } = sidecarFor(ALL);
    expect((await request(server, "/healthz")).status).toBe(503);
    sidecar.start();
    await settle(100);
    const res = await request(server, "/healthz");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok: probing\n");
    await sidecar.stop();
    expect(await (await request(server, "/healthz")).text()).toBe("not ok: the startup probe loop is not running\n");
  });

  test("/healthz stays 200 through a long initial delay, and names the probe loop that is stuck", async () => {
    vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z"), toFake: ["Date", "setTimeout", "clearTimeout", "performance"] });
    try {
      const config = loadConfig({
        LIVENESS_PROBE_URL: `${base()}/health`,
        LIVENESS_PROBE_PERIOD_SECONDS: "1",
        READINESS_PROBE_URL: `${base()}/ready`,
        READINESS_PROBE_PERIOD_SECONDS: "1",
        READINESS_PROBE_INITIAL_DELAY_SECONDS: "60",
        METRICS_URL: "",
      });
      let release: () => void = () => {};
      const quick = async () => ({ result: "success" as const, output: "", statusCode: 200, durationSeconds: 0 });
      const sidecar = createSidecar({
        config,
        probers: {
          Liveness: quick,
          // A probe that never settles until released: the loop is stuck in it.
          Readiness: () => new Promise((resolve) => (release = () => resolve({ result: "success", output: "", statusCode: 200, durationSeconds: 0 }))),
        },
      });
      const server = createSidecarServer(sidecar, page);
      sidecar.start();
      await vi.advanceTimersByTimeAsync(30_000);
      expect((await request(server, "/healthz")).status).toBe(200);
      expect(probe(sidecar.status(), "Readiness").verdict.waiting).toBe("initial-delay");
      await vi.advanceTimersByTimeAsync(31_000); // the first readiness probe starts at 60 s and hangs
      // Allowed: two periods and three timeouts (a probe and its retries), plus a second.
      await vi.advanceTimersByTimeAsync(7_000);
      const stuck = await request(server, "/healthz");
      expect(stuck.status).toBe(503);
      expect(await stuck.text()).toMatch(/^not ok: the readiness probe loop has not run for \d+\.\d s\n$/);
      release();
      await sidecar.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  // vi.setSystemTime steps Date alone: performance.now() runs on, as a monotonic clock does, and
  // pending timers keep their delays, as the runtime's do (issue 14: stepped back 60 s, the
  // sidecar stopped probing for good).
  test("a wall clock stepped back, then forward, 60 s: the probes keep their period and initial delay, /healthz stays 200, shown times follow the wall clock", async () => {
    vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z"), toFake: ["Date", "setTimeout", "clearTimeout", "performance"] });
    try {
      const config = loadConfig({
        LIVENESS_PROBE_URL: `${base()}/health`,
        LIVENESS_PROBE_PERIOD_SECONDS: "1",
        LIVENESS_PROBE_INITIAL_DELAY_SECONDS: "5",
        METRICS_URL: "",
      });
      const quick = async () => ({ result: "success" as const, output: "", statusCode: 200, durationSeconds: 0 });
      const sidecar = createSidecar({ config, probers: { Liveness: quick } });
      const server = createSidecarServer(sidecar, page);
      const healthz = async () => (await request(server, "/healthz")).status;
      const history = () => probe(sidecar.status(), "Liveness").history;
      sidecar.start();
      await vi.advanceTimersByTimeAsync(2_000);
      vi.setSystemTime(Date.now() - 60_000);
      await vi.advanceTimersByTimeAsync(2_500);
      expect(probe(sidecar.status(), "Liveness").verdict.waiting).toBe("initial-delay");
      expect(history()).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(history()).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(history()).toHaveLength(31);
      expect(await healthz()).toBe(200);
      vi.setSystemTime(Date.now() + 120_000);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(history()).toHaveLength(61);
      expect(await healthz()).toBe(200);
      // Shown times are the wall clock's: the last probe half a second ago, the gap across the step 61 s.
      const status = sidecar.status();
      const times = probe(status, "Liveness").history.map((r) => r.at);
      expect(status.now).toBe(Date.now());
      expect(status.now - times.at(-1)!).toBe(500);
      expect(times[31]! - times[30]!).toBe(121_000);
      await sidecar.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  test("the page and its script use relative URLs only and load nothing from elsewhere", async () => {
    const { server } = sidecarFor();
    const index = await request(server, "/");
    expect(index.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
    const html = await index.text();
    const script = await (await request(server, "/page.js")).text();
    expect(html).toContain('<script src="page.js"></script>');
    expect(script).toContain('fetch("api/status"');
    // Only the SVG namespace URI, which is a name, not a request.
    expect(`${html}${script}`.match(/https?:\/\/[^"'\s]+/g)).toEqual(["http://www.w3.org/2000/svg"]);
    // Text goes in as text: no HTML parsing of what the sidecar sends.
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect((await request(server, "/nope")).status).toBe(404);
  });

  test("the page and its script are the built files, with the page's headers", async () => {
    const { server } = sidecarFor();
    const csp = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:";
    const index = await request(server, "/");
    expect(index.status).toBe(200);
    expect(await index.text()).toBe(page.html);
    expect(Object.fromEntries(index.headers)).toEqual({
      "content-type": "text/html; charset=UTF-8",
      "content-security-policy": csp,
      "cache-control": "no-store",
      "content-length": bytes(page.html),
    });
    const script = await request(server, "/page.js");
    expect(script.status).toBe(200);
    expect(await script.text()).toBe(page.script);
    expect(Object.fromEntries(script.headers)).toEqual({
      "content-type": "text/javascript; charset=utf-8",
      "content-security-policy": csp,
      "cache-control": "no-store",
      "content-length": bytes(page.script),
    });
  });

  test("each endpoint's headers, content-length in bytes; a query string is ignored; anything else is 404", async () => {
    const { server } = sidecarFor();
    const status = await request(server, "/api/status");
    expect(Object.fromEntries(status.headers)).toEqual({ "content-type": "application/json", "cache-control": "no-store", "content-length": bytes(status.body) });
    expect(await status.json()).toMatchObject({ probes: [{ type: "Liveness" }] });
    const metrics = await request(server, "/metrics");
    expect(Object.fromEntries(metrics.headers)).toEqual({ "content-type": "text/plain; version=0.0.4; charset=utf-8", "content-length": bytes(metrics.body) });
    const healthz = await request(server, "/healthz");
    expect(Object.fromEntries(healthz.headers)).toEqual({ "content-type": "text/plain; charset=utf-8", "content-length": bytes(healthz.body) });
    // A multi-byte character counts as its bytes: "…" is three.
    expect(bytes("…")).toBe("3");

    expect((await request(server, "/api/status?x=1&y")).status).toBe(200);
    expect(await (await request(server, "/page.js?v=2")).text()).toBe(page.script);
    expect((await request(server, "/healthz?")).status).toBe(503);

    for (const [method, path] of [["GET", "/nope"], ["GET", "/metrics/"], ["GET", "/index.html"], ["POST", "/healthz"], ["PUT", "/"], ["DELETE", "/api/status"], ["GET", "/nope?/metrics"]]) {
      const answer = await request(server, path!, method);
      expect({ method, path, status: answer.status, body: answer.body }).toEqual({ method, path, status: 404, body: "404 Not Found\n" });
      expect(Object.fromEntries(answer.headers)).toEqual({ "content-type": "text/plain; charset=utf-8", "content-length": "14" });
    }
  });

  test("HEAD answers as GET does, with the same headers and content-length, and no body", async () => {
    const { server } = sidecarFor();
    for (const path of ["/", "/page.js", "/api/status", "/healthz", "/metrics", "/nope"]) {
      const [get, head] = [await request(server, path), await request(server, path, "HEAD")];
      expect(get.body.length, path).toBeGreaterThan(0);
      expect(head.body, path).toBe("");
      expect(head.status, path).toBe(get.status);
      // /api/status and /metrics may change between the two: their length is the body's own.
      if (path === "/api/status" || path === "/metrics") expect([...head.headers.keys()]).toEqual([...get.headers.keys()]);
      else expect(Object.fromEntries(head.headers)).toEqual(Object.fromEntries(get.headers));
    }
    expect((await request(server, "/", "HEAD")).headers.get("content-length")).toBe(bytes(page.html));
  });

  test("unbundled, a server without the page is refused at creation, not at the first request", () => {
    const { sidecar } = sidecarFor();
    expect(() => createSidecarServer(sidecar)).toThrow(/page is built into its bundle/);
  });
});

// Checked by tsc (npm run typecheck), not at run time: the lists in SidecarStatus are the very
// records the sidecar keeps, so a field added to one of them must be added to status.ts as well.
// (`branded` compares SidecarEvent's Omit<...> & {...} by its properties, not by its form.)
expectTypeOf<StatusProbe["history"][number]>().toEqualTypeOf<ProbeRecord>();
expectTypeOf<SidecarStatus["events"][number]>().branded.toEqualTypeOf<SidecarEvent>();
expectTypeOf<SidecarStatus["restarts"][number]>().toEqualTypeOf<Restart>();
