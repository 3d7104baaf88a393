// Process metrics on Node: prom-client's default collectors, collected at most once a second.
import { collectDefaultMetrics, Registry } from "prom-client";
import { registerCachedMetrics, type CachedMetricsOptions } from "./metrics-cache.ts";

// Gauges that carry a counter's suffix: promtool rejects them ("non-counter metrics should not have
// _total suffix"), and prom-client also exports each under the name without the suffix.
const MISNAMED = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

export function registerNodeProcessMetrics(registry: Registry, options?: CachedMetricsOptions): void {
  const source = new Registry();
  collectDefaultMetrics({ register: source });
  for (const name of MISNAMED) source.removeSingleMetric(name);
  registerCachedMetrics(registry, source, options);
}
