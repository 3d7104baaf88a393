// The real app and the real sidecar as processes, in real time: the app crashes, the sidecar's
// verdict turns after three failures, a new app on the same port is seen as a restart.
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import { eventually, freePort, start, type Started } from "../../test/processes.ts";
import { promtoolCheckMetrics } from "../../test/promtool.ts";
import { findSample, parseExposition } from "../src/exposition.ts";
import type { SidecarStatus } from "../src/sidecar.ts";
import type { StatusProbe } from "../src/status.ts";
import { APP_ENTRY, assertBuilt, SIDECAR_ENTRY } from "../../test/built.ts";

const running: Started[] = [];
beforeAll(() => assertBuilt());
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop("SIGKILL")));
});

async function startApp(port: number, env: Record<string, string>): Promise<Started> {
  const app = await start(APP_ENTRY, { PORT: String(port), HOST: "127.0.0.1", ...env }, /crashy: listening on/);
  running.push(app);
  return app;
}

async function startSidecar(appPort: number, env: Record<string, string> = {}) {
  const port = await freePort();
  const sidecar = await start(
    SIDECAR_ENTRY,
    {
      PORT: String(port),
      HOST: "127.0.0.1",
      METRICS_URL: `http://127.0.0.1:${appPort}/metrics`,
      ...(Object.keys(env).some((k) => k.endsWith("_PROBE_URL")) ? {} : { LIVENESS_PROBE_URL: `http://127.0.0.1:${appPort}/health`, LIVENESS_PROBE_PERIOD_SECONDS: "1" }),
      ...env,
    },
    /crashy-sidecar: listening on/,
  );
  running.push(sidecar);
  const base = `http://127.0.0.1:${port}`;
  const status = async () => (await (await fetch(`${base}/api/status`)).json()) as SidecarStatus;
  const metrics = async () => parseExposition(await (await fetch(`${base}/metrics`)).text());
  return { sidecar, base, status, metrics };
}

const probe = (s: SidecarStatus, type: StatusProbe["type"]) => s.probes.find((p) => p.type === type)!;

const appStartTime = async (appPort: number) =>
  findSample(parseExposition(await (await fetch(`http://127.0.0.1:${appPort}/metrics`)).text()), "crashy_start_time_seconds");

describe("the sidecar beside the real app", () => {
  test("unhealthy after three failures; a new app on the same port is a restart, and healthy again", async () => {
    const appPort = await freePort();
    const first = await startApp(appPort, { CRASH_AFTER: "1" });
    const { sidecar, base, status, metrics } = await startSidecar(appPort);

    const unhealthy = await eventually(async () => {
      const s = await status();
      return probe(s, "Liveness").verdict.healthy ? undefined : s;
    }, 8_000, "the unhealthy verdict");
    // The verdict turned on the third failure in a row, not before.
    const failures = probe(unhealthy, "Liveness").history.filter((p) => p.result === "failure");
    expect(failures.length).toBeGreaterThanOrEqual(3);
    const reasons = unhealthy.events.map((e) => e.reason);
    expect(reasons.slice(0, 4)).toEqual(["Unhealthy", "Unhealthy", "Unhealthy", "Killing"]);
    expect(unhealthy.events[0]?.message).toBe("Liveness probe failed: HTTP probe failed with statuscode: 500");
    expect(unhealthy.events[3]?.message).toBe("Container crashy-app failed liveness probe, will be restarted");
    expect(findSample(await metrics(), "crashy_probe_healthy", { probe_type: "Liveness" })).toBe(0);
    expect(sidecar.output()).toContain(
      "crashy-sidecar: Normal Killing container/crashy-app: Container crashy-app failed liveness probe, will be restarted",
    );

    // The kubelet would now kill the container and start a new one: play that by hand.
    await first.stop("SIGTERM");
    await startApp(appPort, { CRASH_AFTER: "60" });
    const newStart = await appStartTime(appPort);
    const healed = await eventually(async () => {
      const s = await status();
      return s.counters.restarts === 1 && probe(s, "Liveness").verdict.healthy ? s : undefined;
    }, 5_000, "the restart and the healthy verdict");
    expect(healed.restarts[0]?.startTimeSeconds).toBe(newStart);
    expect(healed.events.map((e) => e.message)).toContain("Started container crashy-app");
    const samples = await metrics();
    expect(findSample(samples, "crashy_target_restarts_total")).toBe(1);
    expect(findSample(samples, "crashy_target_last_restart_timestamp_seconds")).toBe(newStart);
    expect(findSample(samples, "crashy_probe_healthy", { probe_type: "Liveness" })).toBe(1);
    expect(findSample(samples, "crashy_target_scrape_up")).toBe(1);
    // The real process's exposition, its own process metrics included.
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain("process_resident_memory_bytes");
    expect(promtoolCheckMetrics(text)).toEqual({ ok: true, output: "" });
  });

  test("a quick restart after CRASH_MODE=exit is counted, thanks to the millisecond start time", async () => {
    const appPort = await freePort();
    // Crashed through the control API once the sidecar has scraped the first start time: a crash on
    // a timer could come before the first scrape on a busy machine.
    const first = await startApp(appPort, { CRASH_AFTER: "60", CRASH_MODE: "exit", CONTROL: "true" });
    const before = await appStartTime(appPort);
    const { status } = await startSidecar(appPort, { SCRAPE_INTERVAL_SECONDS: "0.2" });
    await eventually(async () => ((await status()).scrape.up ? true : undefined), 10_000, "the first scrape");

    expect((await fetch(`http://127.0.0.1:${appPort}/control/crash`, { method: "POST" })).status).toBe(200);
    expect(await first.exited).toBe(1);
    await startApp(appPort, { CRASH_AFTER: "60" });
    const after = await appStartTime(appPort);
    // Well under a second apart: a whole-second start time could not always tell them apart.
    expect(after! - before!).toBeLessThan(1.5);
    const s = await eventually(async () => {
      const s = await status();
      return s.counters.restarts === 1 ? s : undefined;
    }, 3_000, "the restart");
    expect(s.restarts[0]).toMatchObject({ previousStartTimeSeconds: before, startTimeSeconds: after });
  });

  test("all three probes of the real app: started, Ready; the crash restarts it and takes it out of the Service; Ready again after the restart", async () => {
    const appPort = await freePort();
    const first = await startApp(appPort, { CRASH_AFTER: "4" });
    const url = (path: string) => `http://127.0.0.1:${appPort}${path}`;
    const { status, metrics } = await startSidecar(appPort, {
      STARTUP_PROBE_URL: url("/health"),
      STARTUP_PROBE_PERIOD_SECONDS: "0.25",
      LIVENESS_PROBE_URL: url("/health"),
      LIVENESS_PROBE_PERIOD_SECONDS: "0.25",
      READINESS_PROBE_URL: url("/"),
      READINESS_PROBE_PERIOD_SECONDS: "0.25",
      READINESS_PROBE_FAILURE_THRESHOLD: "1",
    });
    const ready = await eventually(async () => { const s = await status(); return s.pod.ready.status === "True" ? s : undefined; }, 10_000, "Ready");
    expect(ready.probes.map((p) => p.type)).toEqual(["Startup", "Liveness", "Readiness"]);
    expect(probe(ready, "Startup").verdict.state).toBe("started");
    expect(ready.container).toMatchObject({ running: true, started: true, ready: true });

    // The crash: readiness (threshold 1) takes it out of the Service first, then liveness restarts it.
    const killed = await eventually(async () => { const s = await status(); return s.container.running ? undefined : s; }, 8_000, "the kill");
    expect(killed.pod.ready).toEqual({ type: "Ready", status: "False", reason: "ContainersNotReady", message: "containers with unready status: [crashy-app]" });
    expect(killed.events.map((e) => e.message)).toContain("Readiness probe failed: HTTP probe failed with statuscode: 500");
    expect(killed.events.filter((e) => e.reason === "Killing").map((e) => e.message)).toEqual(["Container crashy-app failed liveness probe, will be restarted"]);
    const samples = await metrics();
    expect(findSample(samples, "crashy_pod_ready")).toBe(0);
    expect(findSample(samples, "crashy_probe_healthy", { probe_type: "Liveness" })).toBe(0);

    // The kubelet would start a new container: the startup probe runs again, then the others.
    await first.stop("SIGTERM");
    await startApp(appPort, { CRASH_AFTER: "60" });
    const back = await eventually(async () => { const s = await status(); return s.counters.restarts === 1 && s.pod.ready.status === "True" ? s : undefined; }, 6_000, "Ready after the restart");
    expect(back.container).toEqual({ instance: "instance-1", running: true, started: true, ready: true });
    expect(probe(back, "Startup").counters.successful).toBe(2);
    expect(findSample(await metrics(), "crashy_pod_ready")).toBe(1);
  });
});
