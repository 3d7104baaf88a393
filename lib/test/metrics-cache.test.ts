// Process metrics are collected at most once a second, and their text formatted once per collection.
import { Gauge, Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PROCESS_METRICS_MAX_AGE_MS, registerCachedMetrics, renderMetrics } from "../metrics-cache.ts";

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A source whose one gauge counts how often it was collected. */
function countingSource() {
  const source = new Registry();
  let collections = 0;
  new Gauge({
    name: "test_collections",
    help: "How often this gauge was collected.",
    registers: [source],
    collect() {
      this.set(++collections);
    },
  });
  return { source, collections: () => collections };
}

// Only the clocks are faked: prom-client's collectors and the app use real timers and promises.
beforeEach(() => vi.useFakeTimers({ toFake: ["Date", "performance"] }));
afterEach(() => vi.useRealTimers());

describe("registerCachedMetrics", () => {
  it("collects at most once per second, and again once a second has passed", async () => {
    const { source, collections } = countingSource();
    const target = new Registry();
    registerCachedMetrics(target, source);

    expect(sample(await target.metrics(), "test_collections")).toBe(1);
    vi.advanceTimersByTime(PROCESS_METRICS_MAX_AGE_MS - 1);
    expect(sample(await target.metrics(), "test_collections")).toBe(1);
    expect(sample(await renderMetrics(target), "test_collections")).toBe(1);
    expect(collections()).toBe(1);

    vi.advanceTimersByTime(1);
    expect(sample(await renderMetrics(target), "test_collections")).toBe(2);
    expect(sample(await target.metrics(), "test_collections")).toBe(2);
    expect(collections()).toBe(2);
  });

  it("lets scrapes that arrive together share one collection", async () => {
    const { source, collections } = countingSource();
    const target = new Registry();
    registerCachedMetrics(target, source);
    const texts = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? renderMetrics(target) : target.metrics())));
    expect(texts.map((t) => sample(t, "test_collections"))).toEqual(Array(10).fill(1));
    expect(collections()).toBe(1);
  });

  it("takes its maximum age and clock from the caller", async () => {
    const { source } = countingSource();
    const target = new Registry();
    let now = 0;
    registerCachedMetrics(target, source, { maxAgeMs: 50, now: () => now });
    await target.metrics();
    now = 49;
    expect(sample(await target.metrics(), "test_collections")).toBe(1);
    now = 50;
    expect(sample(await target.metrics(), "test_collections")).toBe(2);
  });
});

describe("renderMetrics", () => {
  it("gives the same text as the registry itself", async () => {
    const { source } = countingSource();
    const target = new Registry();
    new Gauge({ name: "test_before", help: "Registered before.", registers: [target] }).set(3);
    registerCachedMetrics(target, source);
    new Gauge({ name: "test_after", help: "Registered after.", registers: [target] }).set(4);
    expect(await renderMetrics(target)).toBe(await target.metrics());
  });
});
