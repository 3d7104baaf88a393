// The app's Prometheus metrics, on a Registry of its own. Runtime-neutral: process metrics differ
// per runtime, so each entry file adds its own through `registerProcessMetrics`.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Config } from "./config.ts";
import { VERSION } from "./version.ts";

/** The `route` label of requests that match no route: one value, so random paths cannot add series. */
export const UNMATCHED_ROUTE = "unmatched";

// Methods outside this set share one label value, for the same reason.
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"]);
export const methodLabel = (method: string): string => (KNOWN_METHODS.has(method) ? method : "OTHER");

export type MetricsOptions = {
  config: Config;
  runtime: string;
  /** Epoch milliseconds at which the app started. */
  startedAt: number;
  isCrashed: () => boolean;
};

export type AppMetrics = ReturnType<typeof createMetrics>;

export function createMetrics({ config, runtime, startedAt, isCrashed }: MetricsOptions) {
  const registry = new Registry();
  const labelNames = ["method", "route", "status"] as const;

  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, matched route pattern and status code.",
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to answer an HTTP request, by method, matched route pattern and status code.",
    labelNames,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: "http_requests_in_flight",
    help: "HTTP requests being answered now, including those held by CRASH_MODE=hang.",
    registers: [registry],
  });
  new Gauge({
    name: "crashy_crashed",
    help: "1 once the app has crashed (CRASH_AFTER seconds after start), else 0.",
    registers: [registry],
    collect() {
      this.set(isCrashed() ? 1 : 0);
    },
  });
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
  }).set(startedAt / 1000);

  return {
    registry,
    inFlight,
    observe(method: string, route: string, status: number, seconds: number) {
      const labels = { method: methodLabel(method), route, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}
