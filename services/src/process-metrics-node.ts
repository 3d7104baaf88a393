// Process metrics on Node: prom-client's default collectors.
import { collectDefaultMetrics, type Registry } from "prom-client";

// Gauges that carry a counter's suffix: promtool rejects them ("non-counter metrics should not have
// _total suffix"), and prom-client also exports each under the name without the suffix.
const MISNAMED = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

export function registerNodeProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED) registry.removeSingleMetric(name);
}
