// The local pod's kubelet rules with fake containers, scripted probes and fake time: the
// CrashLoopBackOff timing, the kill grace, readiness, startup, the pod's stop order. Each case names
// the kubelet source it holds us to.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { ProbeOutcome, ProbeSpec } from "../../probe/src/types.ts";
import type { Container, ContainerSpec, ContainerState, Exit } from "../src/container.ts";
import type { PodRow } from "../src/format.ts";
import { createLocalPod, type LocalPodOptions, type PodContainerSpec } from "../src/pod.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const FAIL: ProbeOutcome = { result: "failure", output: "HTTP probe failed with statuscode: 500", statusCode: 500 };
const OK: ProbeOutcome = { result: "success", output: "", statusCode: 200 };

/** A container that exits `termMs` after SIGTERM (never, if it ignores it), and records its stops. */
function fakeContainers(termMs: Record<string, number> = {}) {
  const stops: { name: string; graceMs: number; at: number }[] = [];
  const all = new Map<string, Container & { exitNow(code: number): void }>();
  const factory = (spec: ContainerSpec, now: () => number, onExit: (exit: Exit) => void) => {
    let state: ContainerState = { state: "Waiting" };
    let instances = 0;
    let exited: ((exit: Exit) => void) | undefined;
    const finish = (code: number) => {
      if (state.state !== "Running") return;
      const exit: Exit = { code, signal: null, at: now() };
      state = { state: "Terminated", id: state.id, startedAt: state.startedAt, finishedAt: exit.at, exitCode: code, reason: code === 0 ? "Completed" : "Error" };
      exited?.(exit);
      onExit(exit);
    };
    const container = {
      name: spec.name,
      state: () => state,
      logs: () => [],
      start() {
        state = { state: "Running", id: `${spec.name}-${++instances}`, startedAt: now() };
      },
      async stop(graceMs: number) {
        stops.push({ name: spec.name, graceMs, at: now() });
        if (state.state !== "Running") return { code: null, signal: null, at: now(), killed: false };
        const done = new Promise<Exit>((resolve) => (exited = resolve));
        const term = termMs[spec.name] ?? 50;
        const killed = !Number.isFinite(term) || term > graceMs;
        setTimeout(() => finish(killed ? 137 : 0), killed ? graceMs : term);
        return { ...(await done), killed };
      },
      killNow() {},
      exitNow: (code: number) => finish(code),
    };
    all.set(spec.name, container);
    return container;
  };
  return { factory, stops, get: (name: string) => all.get(name)! };
}

const probe = (overrides: Partial<ProbeSpec> = {}): ProbeSpec => ({
  action: { kind: "httpGet", scheme: "HTTP", host: "127.0.0.1", port: 8080, path: "/health", httpHeaders: [] },
  initialDelaySeconds: 0,
  periodSeconds: 1,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
  ...overrides,
});

const container = (name: string, probes: PodContainerSpec["probes"], sidecar = false): PodContainerSpec => ({
  name,
  image: `${name}:1.0.0`,
  sidecar,
  argv: ["none"],
  env: {},
  cwd: "/",
  probes,
});

/** `at` is the (fake) wall clock's, `monotonicAt` performance.now()'s: vi.setSystemTime steps only the first. */
type Line = { at: number; monotonicAt: number; reason: string; message: string };

/** Stops the pod while fake time runs, as its containers take (fake) time to exit. */
async function stopPod(local: { stop(): Promise<void> }): Promise<void> {
  const stopped = local.stop();
  await vi.advanceTimersByTimeAsync(60_000);
  await stopped;
}

/** A pod whose probes answer `answer(path, instance)`; every line printed is kept with its time. */
function pod(
  containers: PodContainerSpec[],
  answer: (path: string) => ProbeOutcome,
  options: { random?: () => number; termMs?: Record<string, number>; grace?: number } & Pick<LocalPodOptions, "onReadyChange" | "onRow"> = {},
) {
  const fakes = fakeContainers(options.termMs);
  const lines: string[] = [];
  const events: Line[] = [];
  const local = createLocalPod({
    name: "crashy-app-local",
    uid: "5f0c8b0e-0000-4000-8000-000000000001",
    containers,
    terminationGracePeriodSeconds: options.grace ?? 30,
    createProber: (spec) => async () => answer(spec.action.kind === "httpGet" ? spec.action.path : "tcp"),
    write: (line) => {
      lines.push(line);
      const m = line.match(/\b(Normal|Warning)\s+(\w+)\s+Pod\/\S+\s+(.*)$/);
      if (m) events.push({ at: Date.now(), monotonicAt: performance.now(), reason: m[2]!, message: m[3]! });
    },
    colour: false,
    random: options.random ?? (() => 0),
    createContainer: fakes.factory,
    onReadyChange: options.onReadyChange,
    onRow: options.onRow,
  });
  const times = (reason: string, text = "") => events.filter((e) => e.reason === reason && e.message.includes(text)).map((e) => e.at);
  return { local, lines, events, times, fakes };
}

describe("CrashLoopBackOff (kuberuntime_manager.go doBackOff, pod_workers.go completeWork)", () => {
  test("an app that never answers 200 restarts at once, at once, then at least 10 s after the third kill and 20 s after the fourth, with BackOff events while it waits", async () => {
    for (const random of [() => 0, () => 0.999]) {
      const { local, times, events } = pod([container("crashy-app", { Liveness: probe({ terminationGracePeriodSeconds: 1 }) })], () => FAIL, { random });
      local.start();
      await vi.advanceTimersByTimeAsync(80_000);
      const kills = times("Killing", "failed liveness probe");
      const started = times("Started", "crashy-app");
      expect(kills.length).toBeGreaterThanOrEqual(4);
      // Each kill's end (the stop takes 50 ms here) to the next start.
      const waits = kills.slice(0, 4).map((k) => started.find((s) => s > k)! - k);
      expect(waits[0]).toBeLessThan(200);
      expect(waits[1]).toBeLessThan(200);
      expect(waits[2]).toBeGreaterThanOrEqual(10_000);
      expect(waits[3]).toBeGreaterThanOrEqual(20_000);
      // The retries come 10-15 s apart, each with its own BackOff event.
      const backoffs = times("BackOff");
      expect(backoffs.length).toBeGreaterThanOrEqual(3);
      const gaps = backoffs.slice(1).map((b, i) => b - backoffs[i]!).filter((g) => g < 16_000);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(10_000);
      expect(events.find((e) => e.reason === "BackOff")?.message).toBe(
        "Back-off restarting failed container crashy-app in pod crashy-app-local_default(5f0c8b0e-0000-4000-8000-000000000001)",
      );
      await stopPod(local);
      vi.setSystemTime(0);
    }
  });

  test("each start is Pulled, Created, Started, in the kubelet's words", async () => {
    const { local, events } = pod([container("crashy-app", {})], () => OK);
    local.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(events.map((e) => `${e.reason}: ${e.message}`)).toEqual([
      'Pulled: Container image "crashy-app:1.0.0" already present on machine',
      "Created: Created container: crashy-app",
      "Started: Started container crashy-app",
    ]);
    await stopPod(local);
  });
});

describe("the wall clock (lib/clock.ts: waits on the monotonic clock)", () => {
  test("stepped back 60 s, then forward 60 s, during CrashLoopBackOff: the same kills, BackOffs and starts at the same monotonic instants", async () => {
    const run = async (step: boolean) => {
      const { local, events } = pod([container("crashy-app", { Liveness: probe({ terminationGracePeriodSeconds: 1 }) })], () => FAIL);
      const t0 = performance.now();
      local.start();
      // The first step falls in the 20 s back-off, the second in the 40 s one.
      await vi.advanceTimersByTimeAsync(30_000);
      if (step) vi.setSystemTime(Date.now() - 60_000);
      await vi.advanceTimersByTimeAsync(40_000);
      if (step) vi.setSystemTime(Date.now() + 120_000);
      await vi.advanceTimersByTimeAsync(70_000);
      await stopPod(local);
      return events.map((e) => ({ reason: e.reason, message: e.message, at: e.monotonicAt - t0 }));
    };
    const steady = await run(false);
    const stepped = await run(true);
    expect(steady.filter((e) => e.reason === "BackOff").length).toBeGreaterThanOrEqual(3);
    expect(steady.filter((e) => e.reason === "Started").length).toBeGreaterThanOrEqual(5);
    expect(stepped).toEqual(steady);
  });

  test("the pod's grace period is measured on the monotonic clock: a wall clock stepped forward while the app stops does not cut the sidecar's short", async () => {
    const { local, fakes } = pod([container("sidecar", {}, true), container("crashy-app", {})], () => OK, { termMs: { "crashy-app": 10_000 }, grace: 30 });
    local.start();
    await vi.advanceTimersByTimeAsync(100);
    const stopped = local.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    vi.setSystemTime(Date.now() + 60_000);
    await vi.advanceTimersByTimeAsync(60_000);
    await stopped;
    // The app took 10 s of the pod's 30: the sidecar has the 20 s left, not the 2 s minimum.
    expect(fakes.stops.map((s) => [s.name, s.graceMs])).toEqual([
      ["crashy-app", 30_000],
      ["sidecar", 20_000],
    ]);
  });
});

describe("killing (kuberuntime_container.go killContainer)", () => {
  test("a liveness kill gives the probe's grace period, raised to the 2 s minimum", async () => {
    const { local, fakes } = pod([container("crashy-app", { Liveness: probe({ terminationGracePeriodSeconds: 1 }) })], () => FAIL, { termMs: { "crashy-app": Infinity } });
    local.start();
    await vi.advanceTimersByTimeAsync(4_000);
    expect(fakes.stops[0]).toMatchObject({ name: "crashy-app", graceMs: 2_000 });
    await stopPod(local);
  });

  test("without a probe-level grace period, the pod's is used", async () => {
    const { local, fakes } = pod([container("crashy-app", { Liveness: probe() })], () => FAIL, { grace: 7 });
    local.start();
    await vi.advanceTimersByTimeAsync(4_000);
    expect(fakes.stops[0]).toMatchObject({ name: "crashy-app", graceMs: 7_000 });
    await stopPod(local);
  });

  test("the pod's stop spends one grace budget: the app first, then the sidecar with what is left (at least 2 s)", async () => {
    const { local, fakes, events } = pod(
      [container("probe-sidecar", {}, true), container("crashy-app", {})],
      () => OK,
      { grace: 5, termMs: { "crashy-app": 4_000, "probe-sidecar": Infinity } },
    );
    local.start();
    await vi.advanceTimersByTimeAsync(1_000);
    const began = Date.now();
    const stopped = local.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    await stopped;
    expect(fakes.stops.map((s) => [s.name, s.graceMs, s.at - began])).toEqual([
      ["crashy-app", 5_000, 0],
      ["probe-sidecar", 2_000, 4_000],
    ]);
    expect(events.filter((e) => e.reason === "Killing").map((e) => e.message)).toEqual(["Stopping container crashy-app", "Stopping container probe-sidecar"]);
  });
});

describe("the pod's containers and probes (prober_manager.go, worker.go)", () => {
  test("the native sidecar starts first, and its own liveness probe restarts it", async () => {
    const { local, events } = pod(
      [container("probe-sidecar", { Liveness: probe({ action: { kind: "httpGet", scheme: "HTTP", host: "127.0.0.1", port: 9102, path: "/healthz", httpHeaders: [] }, periodSeconds: 10 }) }, true), container("crashy-app", { Liveness: probe() })],
      (path) => (path === "/healthz" ? FAIL : OK),
    );
    local.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(events.filter((e) => e.reason === "Started").map((e) => e.message)).toEqual(["Started container probe-sidecar", "Started container crashy-app"]);
    await vi.advanceTimersByTimeAsync(25_000);
    expect(events.map((e) => e.message)).toContain("Container probe-sidecar failed liveness probe, will be restarted");
    expect(events.filter((e) => e.message === "Started container probe-sidecar")).toHaveLength(2);
    expect(events.some((e) => e.message.includes("crashy-app failed"))).toBe(false);
    await stopPod(local);
  });

  const at = (path: string) => probe({ action: { kind: "httpGet", scheme: "HTTP", host: "127.0.0.1", port: 8080, path, httpHeaders: [] } });
  const lastRow = (lines: string[]) => lines.filter((l) => l.startsWith("    crashy-app-local ")).at(-1) ?? "";

  test("readiness failures take the container out of READY and never restart it", async () => {
    let ready = true;
    const { local, lines, events } = pod([container("crashy-app", { Liveness: at("/health"), Readiness: at("/ready") })], (path) => (path === "/ready" && !ready ? FAIL : OK));
    local.start();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(lastRow(lines)).toMatch(/crashy-app-local\s+1\/1\s+Running\s+0\s/);
    ready = false;
    await vi.advanceTimersByTimeAsync(4_000);
    expect(lastRow(lines)).toMatch(/crashy-app-local\s+0\/1\s+Running\s+0\s/);
    expect(events.filter((e) => e.reason === "Unhealthy").map((e) => e.message)).toContain("Readiness probe failed: HTTP probe failed with statuscode: 500");
    ready = true;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(lastRow(lines)).toMatch(/crashy-app-local\s+1\/1\s+Running\s+0\s/);
    expect(events.some((e) => e.reason === "Killing")).toBe(false);
    await stopPod(local);
  });

  test("a startup probe holds liveness and readiness back until it succeeds; they take over after", async () => {
    const asked: { path: string; at: number }[] = [];
    const { local, lines } = pod([container("crashy-app", { Startup: at("/startup"), Liveness: at("/health"), Readiness: at("/ready") })], (path) => {
      asked.push({ path, at: Date.now() });
      return path === "/startup" && Date.now() < 5_000 ? FAIL : OK;
    }, { random: () => 0 });
    local.start();
    await vi.advanceTimersByTimeAsync(4_500);
    expect(new Set(asked.map((a) => a.path))).toEqual(new Set(["/startup"]));
    expect(lastRow(lines)).toMatch(/0\/1\s+Running/);
    await vi.advanceTimersByTimeAsync(3_000);
    const firstLiveness = asked.find((a) => a.path === "/health")!.at;
    expect(firstLiveness).toBeGreaterThanOrEqual(5_000);
    expect(asked.filter((a) => a.path === "/startup" && a.at > 5_000)).toEqual([]);
    expect(lastRow(lines)).toMatch(/1\/1\s+Running/);
    await stopPod(local);
  });

  test("a startup probe that reaches its failure threshold restarts the container, as liveness does", async () => {
    const { local, events } = pod([container("crashy-app", { Startup: at("/startup"), Liveness: at("/health") })], (path) => (path === "/startup" ? FAIL : OK));
    local.start();
    await vi.advanceTimersByTimeAsync(3_500);
    expect(events.map((e) => e.message)).toContain("Container crashy-app failed startup probe, will be restarted");
    expect(events.filter((e) => e.message === "Started container crashy-app")).toHaveLength(2);
    expect(events.filter((e) => e.message.startsWith("Liveness"))).toEqual([]);
    await stopPod(local);
  });
});

describe("the pod's Ready condition, which the Service follows (status/generate.go GeneratePodReadyCondition)", () => {
  const at = (path: string, port = 8080) => probe({ action: { kind: "httpGet", scheme: "HTTP", host: "127.0.0.1", port, path, httpHeaders: [] } });

  test("true when every container is ready, the native sidecar included; reported on each change only; false once the pod is deleted", async () => {
    const failing = new Set<string>();
    const changes: { at: number; ready: boolean }[] = [];
    const { local } = pod([container("probe-sidecar", { Readiness: at("/side", 9102) }, true), container("crashy-app", { Readiness: at("/ready") })], (path) => (failing.has(path) ? FAIL : OK), {
      onReadyChange: (ready) => changes.push({ at: Date.now(), ready }),
    });
    local.start();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(changes.map((c) => c.ready)).toEqual([true]);
    expect(local.ready()).toBe(true);
    failing.add("/ready");
    await vi.advanceTimersByTimeAsync(4_000);
    expect(changes.map((c) => c.ready)).toEqual([true, false]);
    expect(local.ready()).toBe(false);
    failing.delete("/ready");
    await vi.advanceTimersByTimeAsync(2_000);
    failing.add("/side");
    await vi.advanceTimersByTimeAsync(4_000);
    expect(changes.map((c) => c.ready)).toEqual([true, false, true, false]);
    failing.delete("/side");
    await vi.advanceTimersByTimeAsync(2_000);
    expect(local.ready()).toBe(true);
    const stopped = local.stop();
    // Deleted: out of the Service at once, before any container has stopped.
    expect(changes.at(-1)).toEqual({ at: Date.now(), ready: false });
    await vi.advanceTimersByTimeAsync(60_000);
    await stopped;
    expect(changes.map((c) => c.ready)).toEqual([true, false, true, false, true, false]);
  });

  test("without a readiness probe, ready once running; a liveness kill takes the pod out until the new container runs", async () => {
    let healthy = true;
    const changes: boolean[] = [];
    const { local, events } = pod([container("crashy-app", { Liveness: probe({ terminationGracePeriodSeconds: 1 }) })], () => (healthy ? OK : FAIL), {
      onReadyChange: (ready) => changes.push(ready),
      termMs: { "crashy-app": 500 },
    });
    local.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(changes).toEqual([true]);
    healthy = false;
    await vi.advanceTimersByTimeAsync(3_200);
    // The kill is under way: the container still runs, so the pod is still Ready.
    const killed = events.findIndex((e) => e.reason === "Killing");
    expect(killed).toBeGreaterThanOrEqual(0);
    expect(changes).toEqual([true]);
    healthy = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(events.filter((e) => e.message === "Started container crashy-app")).toHaveLength(2);
    expect(changes).toEqual([true, false, true]);
    await stopPod(local);
  });

  test("with onRow, the rows go to the runner and the pod prints none itself", async () => {
    const rows: PodRow[] = [];
    const { local, lines } = pod([container("probe-sidecar", {}, true), container("crashy-app", {})], () => OK, { onRow: (row) => rows.push(row) });
    local.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(rows.map((r) => `${r.ready}/${r.total} ${r.status}`)).toEqual(["0/2 Init:0/1", "1/2 PodInitializing", "2/2 Running"]);
    expect(lines.filter((l) => l.includes("READY"))).toEqual([]);
    await stopPod(local);
  });
});
