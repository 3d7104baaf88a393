// The probe worker's schedule and thresholds, with fake timers and a scripted probe.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { ProbeResult } from "../src/http.ts";
import { createProbeWorker, type ProbeEvent, type ProbeOutcome, type ProbeRecord, type WorkerOptions } from "../src/worker.ts";

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

/** A worker whose probes answer from `script` ("FFS..."), then succeed; probes take `probeMs`. */
function scripted(script: string, options: Partial<WorkerOptions> = {}, probeMs = 5) {
  const queue = [...script];
  const records: ProbeRecord[] = [];
  const events: ProbeEvent[] = [];
  const starts: number[] = [];
  let active = 0;
  let maxActive = 0;
  const worker = createProbeWorker({
    periodSeconds: 1,
    initialDelaySeconds: 0,
    failureThreshold: 3,
    successThreshold: 1,
    containerName: "crashy-app",
    probe: (signal) => {
      starts.push(Date.now());
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
    onResult: (record) => records.push(record),
    onEvent: (event) => events.push(event),
    ...options,
  });
  const results = () => records.map((r) => r.result);
  return { worker, records, events, starts, results, maxActive: () => maxActive };
}

const letters = (results: ProbeResult[]) => results.map((r) => ({ success: "S", failure: "F", unknown: "U" })[r]).join("");

describe("the probe worker", () => {
  test("probes at once, then once per period", async () => {
    const t0 = Date.now();
    const { worker, starts } = scripted("");
    worker.start();
    await vi.advanceTimersByTimeAsync(3_500);
    expect(starts.map((s) => s - t0)).toEqual([0, 1000, 2000, 3000]);
    await worker.stop();
  });

  test("never runs two probes at once: a slow probe is followed at once, then the beat resumes", async () => {
    const t0 = Date.now();
    const { worker, starts, maxActive } = scripted("", {}, 2_500);
    worker.start();
    await vi.advanceTimersByTimeAsync(7_600);
    expect(maxActive()).toBe(1);
    // Go's ticker keeps one tick while a probe runs: each slow probe is followed at once by the next.
    const offsets = starts.map((s) => s - t0);
    expect(offsets).toHaveLength(4);
    [0, 2500, 5000, 7500].forEach((expected, i) => expect(Math.abs(offsets[i]! - expected)).toBeLessThanOrEqual(5));
    await worker.stop();
  });

  test("three failures in a row make the verdict unhealthy, with the kubelet's events", async () => {
    const { worker, events } = scripted("FFF");
    worker.start();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(worker.state()).toMatchObject({ healthy: true, consecutiveFailures: 2, probesUntilRestart: 1 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(worker.state()).toMatchObject({ healthy: false, consecutiveFailures: 3 });
    expect(events.map((e) => `${e.type} ${e.reason} ${e.message}`)).toEqual([
      "Warning Unhealthy Liveness probe failed: HTTP probe failed with statuscode: 500",
      "Warning Unhealthy Liveness probe failed: HTTP probe failed with statuscode: 500",
      "Warning Unhealthy Liveness probe failed: HTTP probe failed with statuscode: 500",
      "Normal Killing Container crashy-app failed liveness probe, will be restarted",
    ]);
    await worker.stop();
  });

  test("failures must be consecutive to count", async () => {
    const { worker, events, results } = scripted("FFSFFSFF");
    worker.start();
    await vi.advanceTimersByTimeAsync(8_500);
    expect(letters(results()).slice(0, 8)).toBe("FFSFFSFF");
    expect(events.some((e) => e.reason === "Killing")).toBe(false);
    expect(worker.state().healthy).toBe(true);
    await worker.stop();
  });

  test("the success threshold restores the healthy verdict", async () => {
    const { worker } = scripted("FFFSS", { successThreshold: 2 });
    worker.start();
    await vi.advanceTimersByTimeAsync(3_500); // F F F S
    expect(worker.state().healthy).toBe(false);
    expect(worker.state().consecutiveSuccesses).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000); // S
    expect(worker.state().healthy).toBe(true);
    await worker.stop();
  });

  test("it keeps probing after the verdict, and needs the full threshold again for the next", async () => {
    const { worker, events } = scripted("FFFFFF");
    worker.start();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(events.filter((e) => e.reason === "Killing")).toHaveLength(1);
    expect(worker.state().probesUntilRestart).toBe(3);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(events.filter((e) => e.reason === "Killing")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(events.filter((e) => e.reason === "Killing")).toHaveLength(2);
    expect(worker.state().consecutiveFailures).toBe(6);
    await worker.stop();
  });

  test("an errored probe is thrown away: it neither breaks nor extends a run", async () => {
    const { worker, events } = scripted("FFUF");
    worker.start();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(worker.state().healthy).toBe(true);
    expect(events.at(-1)?.message).toBe(`Liveness probe errored and resulted in failure state: ${ERRORED.output}`);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(worker.state().healthy).toBe(false);
    await worker.stop();
  });

  test("a redirect the kubelet stopped at is a success with a ProbeWarning event", async () => {
    const warned: ProbeOutcome = { result: "success", warning: true, output: "Probe terminated redirects, Response body: moved", statusCode: 302 };
    const worker = createProbeWorker({
      periodSeconds: 1,
      initialDelaySeconds: 0,
      failureThreshold: 3,
      successThreshold: 1,
      containerName: "crashy-app",
      probe: async () => warned,
      onEvent: (e) => events.push(e),
    });
    const events: ProbeEvent[] = [];
    worker.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(events).toMatchObject([
      { type: "Warning", reason: "ProbeWarning", message: "Liveness probe warning: Probe terminated redirects, Response body: moved" },
    ]);
    expect(worker.state()).toMatchObject({ healthy: true, consecutiveSuccesses: 1 });
    await worker.stop();
  });

  test("no probe before the initial delay", async () => {
    const t0 = Date.now();
    const { worker, starts } = scripted("", { initialDelaySeconds: 3 });
    worker.start();
    await vi.advanceTimersByTimeAsync(4_500);
    expect(starts.map((s) => s - t0)).toEqual([3000, 4000]);
    await worker.stop();
  });

  test("as the kubelet, it can hold after a liveness failure until a new container starts", async () => {
    const { worker, starts } = scripted("FFF", { holdAfterFailure: true });
    worker.start();
    await vi.advanceTimersByTimeAsync(5_500);
    expect(starts).toHaveLength(3);
    expect(worker.state()).toMatchObject({ healthy: false, onHold: true });
    worker.containerStarted();
    expect(worker.state()).toMatchObject({ healthy: true, onHold: false });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(starts).toHaveLength(4);
    await worker.stop();
  });

  test("no probes while the container is stopped, until a new one starts", async () => {
    const { worker, starts } = scripted("");
    worker.start();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(starts).toHaveLength(2);
    worker.containerStopped();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(starts).toHaveLength(2);
    worker.containerStarted();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(starts).toHaveLength(3);
    await worker.stop();
  });

  test("stop() cancels the probe in flight and nothing runs after it", async () => {
    const { worker, starts, records } = scripted("", {}, 10_000);
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
