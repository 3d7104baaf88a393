// Process metrics are collected at most once a second, and their text formatted once per collection.
import { Gauge, Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { METRICS_MAX_AGE_MS, PROCESS_METRICS_MAX_AGE_MS, registerCachedMetrics, renderMetrics, sharedRender } from "../metrics-cache.ts";

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

describe("sharedRender", () => {
  /** A render whose calls are counted and finished by hand. */
  function manualRender() {
    let calls = 0;
    const pending: ((text: string) => void)[] = [];
    const render = () => {
      calls++;
      return new Promise<string>((resolve) => pending.push(resolve));
    };
    return { render, calls: () => calls, finish: (text: string) => pending.shift()!(text) };
  }

  it("gives scrapes that come while a rendering runs, or within maxAgeMs of its start, that rendering", async () => {
    let now = 0;
    const { render, calls, finish } = manualRender();
    const shared = sharedRender(render, { maxAgeMs: 1000, now: () => now });
    const burst = Array.from({ length: 256 }, () => shared());
    finish("a");
    expect(await Promise.all(burst)).toEqual(Array(256).fill("a"));
    now = 999;
    expect(await shared()).toBe("a");
    expect(calls()).toBe(1);

    // A second after the rendering began, counters may have moved: a new one.
    now = 1000;
    const next = shared();
    finish("b");
    expect(await next).toBe("b");
    expect(calls()).toBe(2);
  });

  it("with maxAgeMs 0, shares only a rendering in progress", async () => {
    const { render, calls, finish } = manualRender();
    const shared = sharedRender(render, { maxAgeMs: 0, now: () => 0 });
    const two = [shared(), shared()];
    finish("a");
    expect(await Promise.all(two)).toEqual(["a", "a"]);
    const third = shared();
    finish("b");
    expect(await third).toBe("b");
    expect(calls()).toBe(2);
  });

  it("keeps no failed rendering: the next scrape renders again", async () => {
    let fail = true;
    const shared = sharedRender(async () => (fail ? Promise.reject(new Error("boom")) : "ok"), { maxAgeMs: 1000, now: () => 0 });
    await expect(shared()).rejects.toThrow("boom");
    fail = false;
    expect(await shared()).toBe("ok");
  });

  it("serves a registry's counters as of its rendering, and newer ones once the age has passed", async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: "test_value", help: "A value set by hand.", registers: [registry] });
    let now = 0;
    const shared = sharedRender(() => renderMetrics(registry), { maxAgeMs: METRICS_MAX_AGE_MS, now: () => now });
    gauge.set(1);
    expect(sample(await shared(), "test_value")).toBe(1);
    gauge.set(2);
    now = METRICS_MAX_AGE_MS - 1;
    expect(sample(await shared(), "test_value")).toBe(1);
    now = METRICS_MAX_AGE_MS;
    expect(sample(await shared(), "test_value")).toBe(2);
  });
});
