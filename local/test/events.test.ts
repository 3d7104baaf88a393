// client-go's event correlation (tools/record/events_cache.go) on a hand-moved clock.
import { describe, expect, it } from "vitest";
import {
  createEventCorrelator,
  createTokenBucket,
  getEventKey,
  getSpamKey,
  podReference,
  type CorrelatorOptions,
  type EventType,
  type RecordedEvent,
} from "../src/events.ts";

function setup(limits: Omit<CorrelatorOptions, "clock"> = {}) {
  const clock = { t: 0, now: () => clock.t, monotonic: () => clock.t };
  const correlator = createEventCorrelator({ ...limits, clock });
  /** Records an event at `at` ms, about `pod` (and its `container`, if given). */
  const record = (at: number, message: string, more: { pod?: string; container?: string; init?: boolean; type?: EventType; reason?: string } = {}) => {
    clock.t = at;
    const container = more.container === undefined ? undefined : { name: more.container, init: more.init ?? false };
    return correlator.correlate({
      source: { component: "kubelet", host: "node-1" },
      involvedObject: podReference({ name: more.pod ?? "crashy-app", uid: "uid-1" }, container),
      type: more.type ?? "Warning",
      reason: more.reason ?? "Unhealthy",
      message,
    });
  };
  return { clock, record };
}

const failed = "Liveness probe failed: HTTP probe failed with statuscode: 500";

describe("eventLogger.eventObserve: the same event again", () => {
  it("is counted, keeping its first timestamp", () => {
    const { record } = setup();
    const results = [record(60_000, failed), record(61_000, failed), record(62_500, failed)];
    expect(results.map((r) => [r.event.count, r.event.firstTimestamp, r.event.lastTimestamp, r.skip])).toEqual([
      [1, 60_000, 60_000, false],
      [2, 60_000, 61_000, false],
      [3, 60_000, 62_500, false],
    ]);
    expect(results.every((r) => r.event.message === failed && !r.combined)).toBe(true);
  });

  it("is another event when the type, reason or container differs", () => {
    const { record } = setup();
    record(0, failed);
    expect(record(1_000, failed, { type: "Normal" }).event.count).toBe(1);
    expect(record(2_000, failed, { reason: "ProbeWarning" }).event.count).toBe(1);
    expect(record(3_000, failed, { container: "crashy-app" }).event.count).toBe(1);
    expect(record(4_000, failed, { container: "probe-sidecar", init: true }).event.count).toBe(1);
    expect(record(5_000, failed, { container: "crashy-app" }).event.count).toBe(2);
    expect(record(6_000, failed).event.count).toBe(2);
  });
});

describe("the keys", () => {
  const event = (fieldPath: string): RecordedEvent => ({
    source: { component: "kubelet", host: "node-1" },
    involvedObject: { ...podReference({ name: "p" }), fieldPath },
    type: "Warning",
    reason: "Unhealthy",
    message: "m",
  });

  it("getEventKey includes the fieldPath, getSpamKey does not", () => {
    expect(getEventKey(event("spec.containers{a}"))).not.toBe(getEventKey(event("spec.containers{b}")));
    expect(getSpamKey(event("spec.containers{a}"))).toBe(getSpamKey(event("spec.initContainers{b}")));
  });

  it("a container event is about the Pod, with the container's place in the spec as fieldPath", () => {
    expect(podReference({ name: "p" }, { name: "crashy-app" })).toEqual({
      kind: "Pod",
      namespace: "default",
      name: "p",
      uid: "",
      apiVersion: "v1",
      fieldPath: "spec.containers{crashy-app}",
    });
    expect(podReference({ name: "p" }, { name: "probe-sidecar", init: true }).fieldPath).toBe("spec.initContainers{probe-sidecar}");
  });
});

describe("EventAggregator.EventAggregate: similar events", () => {
  it("after 10 distinct messages of one type and reason about the pod, combines them and counts them together", () => {
    const { record } = setup();
    const first9 = Array.from({ length: 9 }, (_, i) => record(i * 1_000, `timeout ${i + 1}`));
    expect(first9.every((r) => !r.combined && r.event.count === 1 && r.event.message.startsWith("timeout"))).toBe(true);

    const tenth = record(9_000, "timeout 10");
    expect(tenth.combined).toBe(true);
    expect(tenth.event).toMatchObject({ message: "(combined from similar events): timeout 10", count: 1, firstTimestamp: 9_000, lastTimestamp: 9_000 });

    const eleventh = record(12_000, "timeout 11");
    expect(eleventh.combined).toBe(true);
    expect(eleventh.key).toBe(tenth.key);
    expect(eleventh.event).toMatchObject({ message: "(combined from similar events): timeout 11", count: 2, firstTimestamp: 9_000, lastTimestamp: 12_000 });
  });

  it("keeps other reasons, types and pods out of the group", () => {
    const { record } = setup();
    for (let i = 1; i <= 9; i++) record(i, `timeout ${i}`);
    expect(record(10, "x", { reason: "BackOff" }).combined).toBe(false);
    expect(record(11, "x", { type: "Normal" }).combined).toBe(false);
    expect(record(12, "x", { pod: "other" }).combined).toBe(false);
    expect(record(13, "timeout 10").combined).toBe(true);
  });

  it("starts afresh once more than 10 minutes pass since the last similar event", () => {
    const { record } = setup();
    for (let i = 1; i <= 9; i++) record(i * 1_000, `timeout ${i}`);
    const late = record(9_000 + 600_001, "timeout 10");
    expect(late.combined).toBe(false);
    expect(late.event.message).toBe("timeout 10");
  });

  it("rolls its window: exactly 10 minutes after the last similar event still combines", () => {
    const { record } = setup();
    // Each event 5 minutes after the one before: all within 10 minutes of their predecessor.
    for (let i = 1; i <= 9; i++) record(i * 300_000, `timeout ${i}`);
    expect(record(9 * 300_000 + 600_000, "timeout 10").combined).toBe(true);
  });
});

describe("EventSourceObjectSpamFilter.Filter: per source and object", () => {
  it("passes a burst of 25 events about a pod, skips the 26th, and passes one more 300 s later carrying the skipped ones' count", () => {
    const { record } = setup();
    const burst = Array.from({ length: 25 }, () => record(0, failed));
    expect(burst.map((r) => r.skip)).toEqual(Array(25).fill(false));
    expect(burst.at(-1)!.event.count).toBe(25);

    const dropped = record(1_000, failed);
    expect(dropped.skip).toBe(true);
    // eventObserve ran before the filter: the skipped event was counted.
    expect(dropped.event.count).toBe(26);
    // The bucket emptied at 0 s and refills at 1/300 a second: a whole token at 300 s, not before.
    expect(record(299_999, failed).skip).toBe(true);

    const next = record(300_000, failed);
    expect(next.skip).toBe(false);
    expect(next.event).toMatchObject({ count: 28, firstTimestamp: 0, lastTimestamp: 300_000 });
    // Only one: the next must wait another 5 minutes.
    expect(record(300_001, failed).skip).toBe(true);
    expect(record(599_999, failed).skip).toBe(true);
    const after = record(600_000, failed);
    expect(after.skip).toBe(false);
    expect(after.event.count).toBe(31);
  });

  it("counts every event about the pod, whatever its container, reason or message, in one bucket", () => {
    const { record } = setup();
    for (let i = 0; i < 25; i++) record(i, `message ${i % 3}`, { container: i % 2 ? "crashy-app" : "probe-sidecar", init: i % 2 === 0, reason: i % 4 ? "Unhealthy" : "Killing" });
    expect(record(100, "Started container crashy-app", { type: "Normal", reason: "Started", container: "crashy-app" }).skip).toBe(true);
  });

  it("keeps a separate bucket for each pod", () => {
    const { record } = setup();
    for (let i = 0; i < 25; i++) record(i, failed, { pod: "a" });
    expect(record(30, failed, { pod: "a" }).skip).toBe(true);
    expect(record(31, failed, { pod: "b" }).skip).toBe(false);
    expect(record(32, failed, { pod: "a" }).skip).toBe(true);
  });

  it("forgets the least recently used bucket beyond its cache size, which starts full again", () => {
    const { record } = setup({ lruCacheSize: 2 });
    for (let i = 0; i < 25; i++) record(i, failed, { pod: "a" });
    expect(record(30, failed, { pod: "a" }).skip).toBe(true);
    record(31, failed, { pod: "b" });
    record(32, failed, { pod: "c" });
    expect(record(33, failed, { pod: "a" }).skip).toBe(false);
  });
});

describe("the token bucket (flowcontrol + x/time/rate)", () => {
  it("starts full, refills at qps, and holds no more than the burst", () => {
    const clock = { t: 1_000_000, now: () => clock.t, monotonic: () => clock.t };
    const bucket = createTokenBucket(1 / 300, 25, clock);
    const takeAll = () => {
      let n = 0;
      while (n < 100 && bucket.tryAccept()) n++;
      return n;
    };
    expect(takeAll()).toBe(25);
    clock.t += 3 * 300_000;
    expect(takeAll()).toBe(3);
    // A day of quiet fills it to the burst, no further.
    clock.t += 86_400_000;
    expect(takeAll()).toBe(25);
  });

  it("refills from the last token taken, not from refused tries", () => {
    const clock = { t: 0, now: () => clock.t, monotonic: () => clock.t };
    const bucket = createTokenBucket(1, 1, clock);
    expect(bucket.tryAccept()).toBe(true);
    clock.t = 600;
    expect(bucket.tryAccept()).toBe(false);
    clock.t = 1_000;
    expect(bucket.tryAccept()).toBe(true);
  });
});

describe("the wall clock: windows and refills on the monotonic clock, timestamps on the wall clock", () => {
  /** The same correlator on two clocks the test moves apart: `step` moves the wall clock alone. */
  function twoClocks() {
    const clock = { wall: Date.UTC(2026, 0, 1), mono: 0, now: () => clock.wall, monotonic: () => clock.mono };
    const correlator = createEventCorrelator({ clock });
    const record = (message: string) =>
      correlator.correlate({
        source: { component: "kubelet", host: "node-1" },
        involvedObject: podReference({ name: "crashy-app", uid: "uid-1" }),
        type: "Warning",
        reason: "Unhealthy",
        message,
      });
    const advance = (ms: number) => {
      clock.wall += ms;
      clock.mono += ms;
    };
    return { clock, record, advance, step: (ms: number) => void (clock.wall += ms) };
  }

  it("the spam filter refills after 300 s of monotonic time though the wall clock went back an hour", () => {
    const { clock, record, advance, step } = twoClocks();
    const start = clock.wall;
    for (let i = 0; i < 25; i++) expect(record(failed).skip).toBe(false);
    expect(record(failed).skip).toBe(true);
    step(-3_600_000);
    advance(299_999);
    expect(record(failed).skip).toBe(true);
    advance(1);
    const next = record(failed);
    expect(next.skip).toBe(false);
    // Shown as the wall clock reads: the first event's time, and now, an hour back.
    expect(next.event).toMatchObject({ count: 28, firstTimestamp: start, lastTimestamp: start - 3_600_000 + 300_000 });
  });

  it("similar events within 10 minutes of monotonic time are combined though the wall clock jumped 20 minutes", () => {
    const { record, advance, step } = twoClocks();
    for (let i = 1; i <= 9; i++) {
      advance(1_000);
      record(`timeout ${i}`);
    }
    step(20 * 60_000);
    advance(1_000);
    expect(record("timeout 10").combined).toBe(true);
  });
});
