// The endpoints, on the Hono app with a real sidecar probing a real local server.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, expectTypeOf, test, vi } from "vitest";
import type { ProbeRecord } from "../../probe/src/worker.ts";
import { promtoolCheckMetrics } from "../../test/promtool.ts";
import { buildPage } from "../page/build.ts";
import { loadConfig } from "../src/config.ts";
import { parseExposition, findSample } from "../src/exposition.ts";
import type { PageFiles } from "../src/page.ts";
import type { Restart } from "../src/scraper.ts";
import { createServer as createSidecarServer } from "../src/server.ts";
import { createSidecar, type SidecarEvent } from "../src/sidecar.ts";
import type { SidecarStatus } from "../src/status.ts";

let target: Server;
let status = 200;
let startTime = 1764198693.123;
// The bytes the bundle embeds (sidecar/page, built): unbundled, the server has no page of its own.
let page: PageFiles;

beforeAll(async () => {
  page = await buildPage();
  target = createServer((req, res) => {
    if (req.url === "/metrics") return void res.end(`crashy_start_time_seconds ${startTime}\n`);
    res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
});
afterAll(() => {
  target.closeAllConnections();
  target.close();
});

function sidecarFor(env: Record<string, string> = {}) {
  const port = (target.address() as AddressInfo).port;
  const config = loadConfig({
    PROBE_URL: `http://127.0.0.1:${port}/health`,
    METRICS_URL: `http://127.0.0.1:${port}/metrics`,
    PROBE_PERIOD_SECONDS: "0.05",
    ...env,
  });
  const sidecar = createSidecar({ config });
  return { sidecar, app: createSidecarServer(sidecar, page) };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("sidecar endpoints", () => {
  test("/metrics has every series before the first probe, and passes promtool", async () => {
    const { app } = sidecarFor();
    const text = await (await app.request("/metrics")).text();
    const samples = parseExposition(text);
    for (const name of [
      "probe_success",
      "probe_duration_seconds",
      "probe_http_status_code",
      "crashy_probe_consecutive_failures",
      "crashy_probe_consecutive_successes",
      "crashy_probe_healthy",
      "crashy_target_restarts_total",
      "crashy_target_last_restart_timestamp_seconds",
      "crashy_target_scrape_up",
      "prober_probe_duration_seconds_count",
    ]) {
      expect(findSample(samples, name), name).toBeDefined();
    }
    for (const result of ["successful", "failed", "unknown"]) {
      expect(findSample(samples, "prober_probe_total", { probe_type: "Liveness", result })).toBe(0);
    }
    expect(promtoolCheckMetrics(text)).toEqual({ ok: true, output: "" });
  });

  test("probes are counted, the verdict follows the thresholds, and a liveness failure holds until the restart is seen", async () => {
    const { sidecar, app } = sidecarFor();
    status = 500;
    sidecar.start();
    await settle(400);
    const body = await (await app.request("/api/status")).json() as SidecarStatus;
    expect(body.verdict).toMatchObject({ state: "restart-pending", healthy: false, onHold: true, text: "restart pending: the kubelet restarts the container" });
    expect(body.probes.length).toBeGreaterThanOrEqual(3);
    expect(body.probes[0]).toMatchObject({ result: "failure", statusCode: 500, output: "HTTP probe failed with statuscode: 500" });
    expect(body.events.map((e) => e.reason)).toContain("Killing");
    expect(body.scrape).toMatchObject({ enabled: true, up: true, startTimeSeconds: 1764198693.123 });
    const text = await (await app.request("/metrics")).text();
    const samples = parseExposition(text);
    expect(findSample(samples, "crashy_probe_healthy")).toBe(0);
    expect(findSample(samples, "probe_http_status_code")).toBe(500);
    expect(findSample(samples, "prober_probe_total", { result: "failed" })).toBe(body.counters.failed);
    expect(findSample(samples, "crashy_target_scrape_up")).toBe(1);
    expect(promtoolCheckMetrics(text).ok).toBe(true);

    // The kubelet probes nothing more until a new container runs (worker.go onHold): an answer of
    // 200 from the old instance changes nothing, and no more failures are counted.
    status = 200;
    await settle(200);
    const held = await (await app.request("/api/status")).json() as SidecarStatus;
    expect(held.verdict.state).toBe("restart-pending");
    expect(held.counters.probes).toBe(body.counters.probes);
    expect(held.events.filter((e) => e.reason === "Killing")).toHaveLength(1);

    // A new start time in the app's metrics is the new container: Success again, probing again.
    startTime += 5;
    await settle(300);
    const healed = await (await app.request("/api/status")).json() as SidecarStatus;
    expect(healed.verdict).toMatchObject({ state: "healthy", healthy: true, onHold: false });
    expect(healed.counters.probes).toBeGreaterThan(body.counters.probes);
    expect(healed.events.map((e) => e.reason)).toContain("Started");
    await sidecar.stop();
  });

  test("a readiness probe starts not ready, turns ready, drops out of the Service on failures, and never asks for a restart", async () => {
    const { sidecar, app } = sidecarFor({ PROBE_TYPE: "Readiness", PROBE_SUCCESS_THRESHOLD: "2" });
    const verdict = async () => ((await (await app.request("/api/status")).json()) as SidecarStatus).verdict;
    const healthy = async () => findSample(parseExposition(await (await app.request("/metrics")).text()), "crashy_probe_healthy", { probe_type: "Readiness" });
    status = 200;
    expect((await verdict()).state).toBe("not-ready");
    expect(await healthy()).toBe(0);
    sidecar.start();
    await settle(250);
    expect(await verdict()).toMatchObject({ state: "ready", text: "ready: the Service sends it traffic" });
    expect(await healthy()).toBe(1);
    status = 500;
    await settle(400);
    const body = await (await app.request("/api/status")).json() as SidecarStatus;
    expect(body.verdict).toMatchObject({ state: "not-ready", onHold: false });
    expect(body.events.some((e) => e.reason === "Killing")).toBe(false);
    expect(body.events.find((e) => e.reason === "Unhealthy")?.message).toBe("Readiness probe failed: HTTP probe failed with statuscode: 500");
    const probes = body.counters.probes;
    await settle(200);
    expect(((await (await app.request("/api/status")).json()) as SidecarStatus).counters.probes).toBeGreaterThan(probes);
    status = 200;
    await sidecar.stop();
  });

  test("a startup probe starts as starting, and once started it stops probing", async () => {
    const { sidecar, app } = sidecarFor({ PROBE_TYPE: "Startup" });
    status = 200;
    const read = async () => (await (await app.request("/api/status")).json()) as SidecarStatus;
    expect((await read()).verdict.state).toBe("starting");
    sidecar.start();
    await settle(200);
    const started = await read();
    expect(started.verdict.state).toBe("started");
    await settle(300);
    expect((await read()).counters.probes).toBe(started.counters.probes);
    await sidecar.stop();
  });

  test("the history is bounded", async () => {
    const { sidecar, app } = sidecarFor({ PROBE_PERIOD_SECONDS: "0.001", METRICS_URL: "" });
    status = 200;
    sidecar.start();
    await settle(1_500);
    await sidecar.stop();
    const body = await (await app.request("/api/status")).json() as SidecarStatus;
    expect(body.counters.probes).toBeGreaterThan(300);
    expect(body.probes).toHaveLength(300);
  });

  test("/healthz answers 200 while the loops run, 503 otherwise", async () => {
    const { sidecar, app } = sidecarFor();
    expect((await app.request("/healthz")).status).toBe(503);
    sidecar.start();
    await settle(100);
    const res = await app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok: probing\n");
    await sidecar.stop();
    expect((await app.request("/healthz")).status).toBe(503);
  });

  test("/healthz stays 200 through a long initial delay, and says when the loop is stuck", async () => {
    vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z"), toFake: ["Date", "setTimeout", "clearTimeout"] });
    try {
      const port = (target.address() as AddressInfo).port;
      const config = loadConfig({
        PROBE_URL: `http://127.0.0.1:${port}/health`,
        METRICS_URL: "",
        PROBE_PERIOD_SECONDS: "1",
        PROBE_INITIAL_DELAY_SECONDS: "60",
      });
      let release: () => void = () => {};
      const sidecar = createSidecar({
        config,
        // A probe that never settles until released: the loop is stuck in it.
        prober: () => new Promise((resolve) => (release = () => resolve({ result: "success", output: "", statusCode: 200, durationSeconds: 0 }))),
      });
      const app = createSidecarServer(sidecar, page);
      sidecar.start();
      await vi.advanceTimersByTimeAsync(30_000);
      expect((await app.request("/healthz")).status).toBe(200);
      await vi.advanceTimersByTimeAsync(31_000); // the first probe starts at 60 s and hangs
      // Allowed: two periods and three timeouts (a probe and its retries), plus a second.
      await vi.advanceTimersByTimeAsync(7_000);
      const stuck = await app.request("/healthz");
      expect(stuck.status).toBe(503);
      expect(await stuck.text()).toMatch(/^not ok: the probe loop has not run for \d+\.\d s\n$/);
      release();
      await sidecar.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  test("the page and its script use relative URLs only and load nothing from elsewhere", async () => {
    const { app } = sidecarFor();
    const index = await app.request("/");
    expect(index.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
    const html = await index.text();
    const script = await (await app.request("/page.js")).text();
    expect(html).toContain('<script src="page.js"></script>');
    expect(script).toContain('fetch("api/status"');
    // Only the SVG namespace URI, which is a name, not a request.
    expect(`${html}${script}`.match(/https?:\/\/[^"'\s]+/g)).toEqual(["http://www.w3.org/2000/svg"]);
    expect((await app.request("/nope")).status).toBe(404);
  });

  test("the page and its script are the built files, with the page's headers", async () => {
    const { app } = sidecarFor();
    const csp = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:";
    const index = await app.request("/");
    expect(index.status).toBe(200);
    expect(await index.text()).toBe(page.html);
    expect(Object.fromEntries(index.headers)).toEqual({
      "content-type": "text/html; charset=UTF-8",
      "content-security-policy": csp,
      "cache-control": "no-store",
    });
    const script = await app.request("/page.js");
    expect(script.status).toBe(200);
    expect(await script.text()).toBe(page.script);
    expect(Object.fromEntries(script.headers)).toEqual({
      "content-type": "text/javascript; charset=utf-8",
      "content-security-policy": csp,
      "cache-control": "no-store",
    });
  });

  test("unbundled, a server without the page is refused at creation, not at the first request", () => {
    const { sidecar } = sidecarFor();
    expect(() => createSidecarServer(sidecar)).toThrow(/page is built into its bundle/);
  });
});

// Checked by tsc (npm run typecheck), not at run time: the lists in SidecarStatus are the very
// records the sidecar keeps, so a field added to one of them must be added to status.ts as well.
// (`branded` compares SidecarEvent's Omit<...> & {...} by its properties, not by its form.)
expectTypeOf<SidecarStatus["probes"][number]>().toEqualTypeOf<ProbeRecord>();
expectTypeOf<SidecarStatus["events"][number]>().branded.toEqualTypeOf<SidecarEvent>();
expectTypeOf<SidecarStatus["restarts"][number]>().toEqualTypeOf<Restart>();
