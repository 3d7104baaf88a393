// The probe worker (worker.go) with fake timers and a scripted probe: its beat, the thresholds, the
// initial result of each probe type, the hold after a liveness or startup failure, the start-up gate.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { MAX_PROBE_RETRIES } from "../src/prober.ts";
import { createResultsManager, type Update } from "../src/results.ts";
import type { ProbeOutcome, ProbeResult, ProbeType } from "../src/types.ts";
import { createProbeWorker, type ContainerStatus, type ProbeEvent, type ProbeRecord, type WorkerOptions } from "../src/worker.ts";

const FAIL: ProbeOutcome = { result: "failure", output: "HTTP probe failed with statuscode: 500", statusCode: 500 };
const OK: ProbeOutcome = { result: "success", output: "", statusCode: 200 };
const ERRORED: ProbeOutcome = { result: "unknown", output: "context deadline exceeded (Client.Timeout or context cancellation while reading body)" };
const outcomes: Record<string, ProbeOutcome> = { F: FAIL, S: OK, U: ERRORED };

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

type Options = Partial<Omit<WorkerOptions, "spec">> & { spec?: Partial<WorkerOptions["spec"]> };

/**
 * A worker of `type` whose probe answers from `script` ("FFS..."; one letter per attempt), then
 * succeeds; probes take `probeMs`. The container is running and started unless `container` says otherwise.
 */
function scripted(script: string, type: ProbeType = "Liveness", options: Options = {}, probeMs = 5) {
  const queue = [...script];
  const records: ProbeRecord[] = [];
  const events: ProbeEvent[] = [];
  const updates: Update[] = [];
  const starts: number[] = [];
  let active = 0;
  let maxActive = 0;
  const container: ContainerStatus = { id: "c1", running: true, startedAt: performance.now(), started: true };
  const results = createResultsManager((u) => updates.push(u));
  const { spec, ...rest } = options;
  const worker = createProbeWorker({
    type,
    spec: { periodSeconds: 1, initialDelaySeconds: 0, failureThreshold: 3, successThreshold: 1, ...spec },
    status: () => ({ ...container }),
    results,
    probe: (signal) => {
      starts.push(performance.now());
      active++;
      maxActive = Math.max(maxActive, active);
      const outcome = outcomes[queue.shift() ?? "S"]!;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          active--;
          resolve(outcome);
        }, probeMs);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          active--;
          resolve({ result: "unknown", output: "cancelled" });
        });
      });
    },
    onProbe: (record) => records.push(record),
    onEvent: (event) => events.push(event),
    ...rest,
  });
  const seen = () => letters(records.map((r) => r.result));
  const verdict = () => worker.state().result;
  /** A new instance of the container, started now. */
  const restart = (id: string) => Object.assign(container, { id, running: true, startedAt: performance.now() });
  return { worker, container, records, events, updates, starts, seen, verdict, restart, maxActive: () => maxActive };
}

const letters = (results: ProbeResult[]) => results.map((r) => ({ success: "S", failure: "F", unknown: "U" })[r]).join("");

describe("the probe worker's beat", () => {
  test("probes at once, then once per period", async () => {
    const t0 = performance.now();
    const { worker, starts } = scripted("");
    worker.start();
    await vi.advanceTimersByTimeAsync(3_500);
    expect(starts.map((s) => s - t0)).toEqual([0, 1000, 2000, 3000]);
    await worker.stop();
  });

  test("never runs two probes at once: a slow probe is followed at once, then the beat resumes", async () => {
    const t0 = performance.now();
    const { worker, starts, maxActive } = scripted("", "Liveness", {}, 2_500);
    worker.start();
    await vi.advanceTimersByTimeAsync(7_600);
    expect(maxActive()).toBe(1);
    // Go's ticker keeps one tick while a probe runs: each slow probe is followed at once by the next.
    const offsets = starts.map((s) => s - t0);
    expect(offsets).toHaveLength(4);
    [0, 2500, 5000, 7500].forEach((expected, i) => expect(Math.abs(offsets[i]! - expected)).toBeLessThanOrEqual(5));
    await worker.stop();
  });

  test("a worker started within a period of the kubelet first sleeps a random part of the period (worker.go run)", async () => {
    const t0 = performance.now();
    const { worker, starts } = scripted("", "Liveness", { kubeletStartedAt: t0, random: () => 0.25, spec: { periodSeconds: 2 } });
    worker.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(starts.map((s) => s - t0)).toEqual([500, 2500, 4500]);
    await worker.stop();
  });

  test("a worker started long after the kubelet does not sleep", async () => {
    const t0 = performance.now();
    const { worker, starts } = scripted("", "Liveness", { kubeletStartedAt: t0 - 60_000, random: () => 0.9 });
    worker.start();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(starts.map((s) => s - t0)).toEqual([0, 1000]);
    await worker.stop();
  });

  test("no probe before the initial delay, counted in whole seconds from the instance's start", async () => {
    const t0 = performance.now();
    const { worker, starts } = scripted("", "Liveness", { spec: { initialDelaySeconds: 3 } });
    worker.start();
    await vi.advanceTimersByTimeAsync(4_500);
    expect(starts.map((s) => s - t0)).toEqual([3000, 4000]);
    await worker.stop();
  });

  // vi.setSystemTime steps Date alone: performance.now(), which the worker's beat is kept on, runs
  // on as a monotonic clock does, and pending timers keep their delays, as the runtime's do.
  test("a wall clock stepped back or forward 60 s moves no probe; the records' times follow the wall clock", async () => {
    const t0 = performance.now();
    const { worker, starts, records } = scripted("", "Liveness", { spec: { initialDelaySeconds: 2 } });
    worker.start();
    await vi.advanceTimersByTimeAsync(2_500);
    vi.setSystemTime(Date.now() - 60_000);
    const steppedBack = Date.now();
    await vi.advanceTimersByTimeAsync(2_000);
    vi.setSystemTime(Date.now() + 120_000);
    const steppedForward = Date.now();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(starts.map((s) => s - t0)).toEqual([2000, 3000, 4000, 5000, 6000]);
    expect(records.map((r) => r.at - records[0]!.at)).toEqual([0, 1000 - 60_000, 2000 - 60_000, 3000 + 60_000, 4000 + 60_000]);
    expect(records[1]!.at).toBe(steppedBack + 500);
    expect(records[3]!.at).toBe(steppedForward + 500);
    expect(worker.state().probes).toBe(5);
    await worker.stop();
  });

  test("the initial delay is counted on the monotonic clock: a wall clock stepped forward does not end it early", async () => {
    const t0 = performance.now();
    const { worker, starts } = scripted("", "Liveness", { spec: { initialDelaySeconds: 30 } });
    worker.start();
    await vi.advanceTimersByTimeAsync(1_000);
    vi.setSystemTime(Date.now() + 60_000);
    await vi.advanceTimersByTimeAsync(30_500);
    expect(starts.map((s) => s - t0)).toEqual([30_000, 31_000]);
    await worker.stop();
  });

  test("stop() cancels the probe in flight and nothing is reported after it", async () => {
    const { worker, starts, records } = scripted("", "Liveness", {}, 10_000);
    worker.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(starts).toHaveLength(1);
    await worker.stop();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(starts).toHaveLength(1);
    expect(records).toHaveLength(0);
    expect(worker.state().running).toBe(false);
  });
});

describe("liveness", () => {
  test("starts as Success; three failures in a row set Failure, with the prober's events and no Killing", async () => {
    const { worker, events, updates, verdict } = scripted("FFF");
    worker.start();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(verdict()).toBe("success");
    expect(worker.state()).toMatchObject({ consecutiveFailures: 2, probesUntilFailure: 1 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(verdict()).toBe("failure");
    expect(updates).toEqual([
      { containerId: "c1", result: "success" },
      { containerId: "c1", result: "failure" },
    ]);
    // The worker only reports: killing is kuberuntime's (the local runner's) part.
    expect(events.map((e) => `${e.type} ${e.reason} ${e.message}`)).toEqual(Array(3).fill("Warning Unhealthy Liveness probe failed: HTTP probe failed with statuscode: 500"));
    await worker.stop();
  });

  test("failures must be consecutive to count", async () => {
    const { worker, seen, verdict } = scripted("FFSFFSFF");
    worker.start();
    await vi.advanceTimersByTimeAsync(8_500);
    expect(seen().slice(0, 8)).toBe("FFSFFSFF");
    expect(verdict()).toBe("success");
    await worker.stop();
  });

  test("after the failure it holds, probing nothing, until a new instance; that one starts as Success and needs the full threshold again", async () => {
    const { worker, starts, verdict, restart } = scripted("FFFFFF");
    worker.start();
    await vi.advanceTimersByTimeAsync(5_500);
    expect(starts).toHaveLength(3);
    expect(worker.state()).toMatchObject({ onHold: true, result: "failure", probesUntilFailure: 3 });
    restart("c2");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(worker.state()).toMatchObject({ containerId: "c2", onHold: false });
    expect(starts).toHaveLength(4);
    expect(verdict()).toBe("success");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(verdict()).toBe("success");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(verdict()).toBe("failure");
    await worker.stop();
  });

  test("a container that is not running is not probed, and its result is Failure", async () => {
    const { worker, starts, container, verdict } = scripted("");
    worker.start();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(starts).toHaveLength(2);
    container.running = false;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(starts).toHaveLength(2);
    expect(verdict()).toBe("failure");
    await worker.stop();
  });

  test("no probes before the container exists", async () => {
    const { worker, starts } = scripted("", "Liveness", { status: () => undefined });
    worker.start();
    await vi.advanceTimersByTimeAsync(3_500);
    expect(starts).toHaveLength(0);
    expect(worker.state().containerId).toBeUndefined();
    await worker.stop();
  });

  test(`an errored probe is tried ${MAX_PROBE_RETRIES} times, then thrown away: not counted, no threshold moved`, async () => {
    const { worker, events, records, starts, verdict } = scripted("FFUUUF");
    worker.start();
    await vi.advanceTimersByTimeAsync(2_500);
    // F, F, then three attempts that error: one probe, thrown away.
    expect(starts).toHaveLength(5);
    expect(records.map((r) => r.result)).toEqual(["failure", "failure", "unknown"]);
    expect(worker.state()).toMatchObject({ probes: 2, consecutiveFailures: 2 });
    expect(verdict()).toBe("success");
    expect(events.at(-1)?.message).toBe(`Liveness probe errored and resulted in failure state: ${ERRORED.output}`);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(verdict()).toBe("failure");
    await worker.stop();
  });

  test("an error that clears on a retry is the retry's result, with no errored event", async () => {
    const { worker, events, records, starts } = scripted("US");
    worker.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(starts).toHaveLength(2);
    expect(records.map((r) => r.result)).toEqual(["success"]);
    expect(events).toEqual([]);
    await worker.stop();
  });

  test("a redirect the kubelet stopped at is a success with a ProbeWarning event", async () => {
    const warned: ProbeOutcome = { result: "success", warning: true, output: "Probe terminated redirects, Response body: moved", statusCode: 302 };
    const { worker, events, verdict } = scripted("", "Liveness", { probe: async () => warned });
    worker.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(events).toMatchObject([{ type: "Warning", reason: "ProbeWarning", message: "Liveness probe warning: Probe terminated redirects, Response body: moved" }]);
    expect(verdict()).toBe("success");
    expect(worker.state()).toMatchObject({ consecutiveSuccesses: 1 });
    await worker.stop();
  });
});

describe("readiness", () => {
  test("starts as Failure, turns Success after successThreshold successes, Failure after failureThreshold failures, and never holds", async () => {
    const { worker, verdict, events, starts } = scripted("SFFFFS", "Readiness", { spec: { successThreshold: 2 } });
    worker.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(verdict()).toBe("failure");
    await vi.advanceTimersByTimeAsync(1_000); // S F
    expect(verdict()).toBe("failure");
    await vi.advanceTimersByTimeAsync(1_000); // F
    await vi.advanceTimersByTimeAsync(1_000); // F
    expect(verdict()).toBe("failure");
    expect(worker.state().onHold).toBe(false);
    await vi.advanceTimersByTimeAsync(3_000); // F S S
    expect(verdict()).toBe("success");
    expect(starts).toHaveLength(7);
    expect(events[0]?.message).toBe("Readiness probe failed: HTTP probe failed with statuscode: 500");
    await worker.stop();
  });

  test("waits for the container to have started (its startup probe) before probing", async () => {
    const { worker, starts, container } = scripted("", "Readiness");
    container.started = false;
    worker.start();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(starts).toHaveLength(0);
    container.started = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(starts).toHaveLength(1);
    await worker.stop();
  });
});

describe("startup", () => {
  test("starts as Unknown, probes only until the container has started, then stops", async () => {
    const { worker, verdict, starts, container } = scripted("FS", "Startup");
    container.started = false;
    worker.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(verdict()).toBe("unknown");
    await vi.advanceTimersByTimeAsync(1_000); // F then S
    expect(verdict()).toBe("success");
    container.started = true; // what the kubelet's status manager derives from that Success
    await vi.advanceTimersByTimeAsync(3_000);
    expect(starts).toHaveLength(2);
    await worker.stop();
  });

  test("a failure at the threshold sets Failure and holds, as liveness does", async () => {
    const { worker, verdict, starts, container } = scripted("FFFF", "Startup");
    container.started = false;
    worker.start();
    await vi.advanceTimersByTimeAsync(5_500);
    expect(verdict()).toBe("failure");
    expect(starts).toHaveLength(3);
    expect(worker.state().onHold).toBe(true);
    await worker.stop();
  });

  test("liveness is not probed while the startup probe has not succeeded", async () => {
    const { worker, starts, container } = scripted("", "Liveness");
    container.started = false;
    worker.start();
    await vi.advanceTimersByTimeAsync(5_500);
    expect(starts).toHaveLength(0);
    expect(worker.state().result).toBe("success");
    await worker.stop();
  });
});
