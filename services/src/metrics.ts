// The app's Prometheus metrics, on a Registry of its own. Runtime-neutral: process metrics differ
// per runtime, so each entry file adds its own through `registerProcessMetrics`.
import { Counter, Gauge, Registry } from "prom-client";
import { standIn } from "../../lib/metrics-cache.ts";
import { VERSION } from "../../lib/version.ts";
import type { Config } from "./config.ts";
import { CONTROL_ACTIONS, type AppState, type ControlAction } from "./state.ts";

/** The `route` label of requests that match no route: one value, so random paths cannot add series. */
export const UNMATCHED_ROUTE = "unmatched";

// Methods outside this set share one label value, for the same reason.
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"]);
export const methodLabel = (method: string): string => (KNOWN_METHODS.has(method) ? method : "OTHER");

export type MetricsOptions = {
  config: Config;
  runtime: string;
  state: AppState;
};

export type AppMetrics = ReturnType<typeof createMetrics>;

// Upper bounds of http_request_duration_seconds, in seconds.
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

type RequestLabels = { method: string; route: string; status: string };
/** One series of the request metrics: counts per bucket (not cumulative), sum and count. */
type RequestSeries = { labels: RequestLabels; buckets: number[]; sum: number; count: number };

export function createMetrics({ config, runtime, state }: MetricsOptions) {
  const registry = new Registry();

  // Request metrics are tallied in plain numbers and handed to the registry as prom-client metric
  // values when scraped: prom-client's inc() and observe() validate and hash a label object on
  // every call, about 1 us of CPU per request on Node, a tenth of what a bare node:http answer costs.
  const series = new Map<string, RequestSeries>();
  let inFlight = 0;
  registry.registerMetric(
    standIn({ name: "http_requests_total", help: "HTTP requests answered, by method, matched route pattern and status code.", type: "counter", aggregator: "sum" }, async () => ({
      values: [...series.values()].map((s) => ({ labels: s.labels, value: s.count })),
    })),
  );
  registry.registerMetric(
    standIn({ name: "http_request_duration_seconds", help: "Time to answer an HTTP request, by method, matched route pattern and status code.", type: "histogram", aggregator: "sum" }, async () => ({
      values: [...series.values()].flatMap(histogramValues("http_request_duration_seconds")),
    })),
  );
  new Gauge({
    name: "http_requests_in_flight",
    help: "HTTP requests being answered now, including those held by CRASH_MODE=hang.",
    registers: [registry],
    collect() {
      this.set(inFlight);
    },
  });
  new Gauge({
    name: "crashy_crashed",
    help: "1 once the app has crashed (CRASH_AFTER seconds after start, or POST /control/crash), else 0.",
    registers: [registry],
    collect() {
      this.set(state.isCrashed() ? 1 : 0);
    },
  });
  new Gauge({
    name: "crashy_started",
    help: "1 once STARTUP_SECONDS have passed since the start, else 0.",
    registers: [registry],
    collect() {
      this.set(state.isStarted() ? 1 : 0);
    },
  });
  new Gauge({
    name: "crashy_ready",
    help: "1 while /ready answers 200: started, not crashed and not switched unready; else 0.",
    registers: [registry],
    collect() {
      this.set(state.readiness() === "ready" ? 1 : 0);
    },
  });
  new Gauge({
    name: "crashy_health_failures_pending",
    help: "/health answers still to fail with 500, from POST /control/fail?count=N.",
    registers: [registry],
    collect() {
      this.set(state.failNext);
    },
  });
  new Gauge({
    name: "crashy_startup_seconds",
    help: "Seconds after start during which the app answers 503 starting (STARTUP_SECONDS).",
    registers: [registry],
  }).set(config.startupSeconds);
  const controlActions = new Counter({
    name: "crashy_control_actions_total",
    help: "Switches flipped through the control API (CONTROL=true), by action: crash, unready, ready, fail.",
    labelNames: ["action"],
    registers: [registry],
  });
  // Every action's series from the start when the API is on, so rate() and increase() see the first one.
  if (config.control) for (const action of CONTROL_ACTIONS) controlActions.inc({ action }, 0);
  new Gauge({
    name: "crashy_crash_after_seconds",
    help: "Seconds after start at which the app crashes (CRASH_AFTER).",
    registers: [registry],
  }).set(config.crashAfterSeconds);
  new Gauge({
    name: "crashy_info",
    help: "Always 1; labels name the runtime, the app version and the crash mode.",
    labelNames: ["runtime", "version", "crash_mode"],
    registers: [registry],
  }).set({ runtime, version: VERSION, crash_mode: config.crashMode }, 1);
  // process_start_time_seconds is rounded to whole seconds by prom-client; restarts closer
  // together than that are only visible in this one.
  new Gauge({
    name: "crashy_start_time_seconds",
    help: "Start time of the app since the Unix epoch in seconds, to the millisecond.",
    registers: [registry],
  }).set(state.startedAt / 1000);

  return {
    registry,
    inFlight: {
      inc: () => void inFlight++,
      dec: () => void inFlight--,
    },
    controlAction: (action: ControlAction) => controlActions.inc({ action }),
    observe(method: string, route: string, status: number, seconds: number) {
      const label = methodLabel(method);
      const key = `${label} ${route} ${status}`;
      let s = series.get(key);
      if (!s) {
        s = { labels: { method: label, route, status: String(status) }, buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
        series.set(key, s);
      }
      s.count++;
      s.sum += seconds;
      // Past the last bound a request only counts in +Inf, which is the count.
      const bucket = DURATION_BUCKETS.findIndex((bound) => seconds <= bound);
      if (bucket >= 0) s.buckets[bucket]!++;
    },
  };
}

// One label object per bound, made once: the values below are built on every scrape.
const LE_LABELS = [...DURATION_BUCKETS.map((le) => ({ le })), { le: "+Inf" }];
const NO_LABELS = {};

/**
 * A histogram series as prom-client's Histogram hands it to a registry: _bucket (cumulative), _sum,
 * _count, with the series' labels as shared labels, whose text the registry formats once per object.
 */
function histogramValues(name: string) {
  const bucket = `${name}_bucket`;
  return (s: RequestSeries) => {
    let cumulative = 0;
    const values: { metricName: string; labels: object; sharedLabels: RequestLabels; value: number }[] = DURATION_BUCKETS.map((_, i) => ({
      metricName: bucket,
      labels: LE_LABELS[i]!,
      sharedLabels: s.labels,
      value: (cumulative += s.buckets[i]!),
    }));
    values.push(
      { metricName: bucket, labels: LE_LABELS[DURATION_BUCKETS.length]!, sharedLabels: s.labels, value: s.count },
      { metricName: `${name}_sum`, labels: NO_LABELS, sharedLabels: s.labels, value: s.sum },
      { metricName: `${name}_count`, labels: NO_LABELS, sharedLabels: s.labels, value: s.count },
    );
    return values;
  };
}
