// The app's /metrics: process metrics are collected at most once a second, yet still change over
// time; request metrics stay fresh on every scrape.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PROCESS_METRICS_MAX_AGE_MS } from "../../lib/metrics-cache.ts";
import { registerNodeProcessMetrics } from "../../lib/process-metrics-node.ts";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

// Only the clocks are faked (the cache's age is on performance.now()): prom-client's collectors and
// the app use real timers and promises.
beforeEach(() => vi.useFakeTimers({ toFake: ["Date", "performance"] }));
afterEach(() => vi.useRealTimers());

describe("the app's /metrics with Node's process metrics", () => {
  function nodeApp() {
    const crashy = createApp({
      config: loadConfig({ CRASH_AFTER: "60" }),
      clock: { now: () => Date.now(), monotonic: () => performance.now() },
      hostname: "h",
      runtime: "node",
    });
    registerNodeProcessMetrics(crashy.metrics.registry);
    return async () => (await crashy.app.request("/metrics")).text();
  }

  it("counts every request at once, and refreshes process metrics once a second", async () => {
    const scrape = nodeApp();
    const first = await scrape();
    const cpu = sample(first, "process_cpu_seconds_total");
    expect(cpu).toBeGreaterThanOrEqual(0);

    // Real CPU time passes, but within the second the process metrics are served as collected.
    const burnUntil = process.hrtime.bigint() + 30_000_000n;
    while (process.hrtime.bigint() < burnUntil);
    const second = await scrape();
    expect(sample(second, "process_cpu_seconds_total")).toBe(cpu);
    expect(sample(second, 'http_requests_total{method="GET",route="/metrics",status="200"}')).toBe(1);

    vi.advanceTimersByTime(PROCESS_METRICS_MAX_AGE_MS);
    const third = await scrape();
    expect(sample(third, "process_cpu_seconds_total")).toBeGreaterThan(cpu!);
    expect(sample(third, 'http_requests_total{method="GET",route="/metrics",status="200"}')).toBe(2);
    expect(third).toContain("# TYPE process_resident_memory_bytes gauge");
    expect(third).toContain("# TYPE nodejs_heap_size_total_bytes gauge");
    expect(third).not.toContain("nodejs_active_handles_total");
  });
});
