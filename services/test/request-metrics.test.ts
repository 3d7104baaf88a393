// The request metrics, tallied in plain numbers, come out as prom-client's Counter and Histogram
// would write them: cumulative buckets, +Inf equal to the count, the sum, one series per label set.
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { promtoolCheckMetrics } from "../../test/promtool.ts";
import { loadConfig } from "../src/config.ts";
import { renderMetrics } from "../../lib/metrics-cache.ts";
import { createMetrics } from "../src/metrics.ts";
import { createState } from "../src/state.ts";

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

function metrics() {
  const config = loadConfig({});
  return createMetrics({ config, runtime: "test", state: createState(config, { now: () => Date.UTC(2026, 0, 1), monotonic: () => 0 }) });
}

/** The lines of the request metrics only. */
const requestLines = (text: string) => text.split("\n").filter((l) => /^http_request(s_total|_duration_seconds)/.test(l));

describe("request metrics", () => {
  it("match what prom-client's own Counter and Histogram write for the same requests", async () => {
    const m = metrics();
    const reference = new Registry();
    const labelNames = ["method", "route", "status"];
    const counter = new Counter({ name: "http_requests_total", help: "h", labelNames, registers: [reference] });
    const histogram = new Histogram({ name: "http_request_duration_seconds", help: "h", labelNames, buckets: BUCKETS, registers: [reference] });

    const requests: [string, string, number, number][] = [
      ["GET", "/health", 200, 0.0002],
      ["GET", "/health", 200, 0.0005], // on a bound: counts in that bucket
      ["GET", "/health", 200, 0.003],
      ["GET", "/", 500, 0.3],
      ["GET", "/health", 200, 7], // past the last bound: +Inf only
      ["X-CUSTOM", "unmatched", 404, 0.01],
    ];
    for (const [method, route, status, seconds] of requests) {
      m.observe(method, route, status, seconds);
      const labels = { method: method.startsWith("X-") ? "OTHER" : method, route, status: String(status) };
      counter.inc(labels);
      histogram.observe(labels, seconds);
    }

    // Compared label by label, whatever their order.
    const byValue = (lines: string[]) =>
      lines
        .map((l) => {
          const [series, value] = [l.slice(0, l.lastIndexOf(" ")), l.slice(l.lastIndexOf(" ") + 1)];
          const name = series.split("{")[0];
          const labels = (series.match(/\{(.*)\}/)?.[1] ?? "").split(",").sort().join(",");
          return `${name}{${labels}} ${value}`;
        })
        .sort();
    const ours = requestLines(await renderMetrics(m.registry));
    expect(byValue(ours)).toEqual(byValue(requestLines(await reference.metrics())));
    expect(ours).toContain('http_request_duration_seconds_bucket{le="0.0005",method="GET",route="/health",status="200"} 2');
    expect(ours).toContain('http_request_duration_seconds_bucket{le="2.5",method="GET",route="/health",status="200"} 3');
    expect(ours).toContain('http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/health",status="200"} 4');
    expect(ours).toContain('http_request_duration_seconds_sum{method="GET",route="/health",status="200"} 7.0037');
  });

  it("count requests in flight, and pass promtool", async () => {
    const m = metrics();
    m.inFlight.inc();
    m.inFlight.inc();
    m.inFlight.dec();
    m.observe("GET", "/", 200, 0.001);
    const text = await renderMetrics(m.registry);
    expect(text).toMatch(/^http_requests_in_flight 1$/m);
    expect(text).toContain("# TYPE http_requests_total counter");
    expect(text).toContain("# TYPE http_request_duration_seconds histogram");
    expect(promtoolCheckMetrics(text)).toEqual({ ok: true, output: "" });
  });
});
