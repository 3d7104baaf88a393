// Process metrics on Bun: prom-client's process_* collectors, which read /proc/self and
// process.cpuUsage(), both real on Bun. Its nodejs_* collectors are left out: on JavaScriptCore
// they report V8 heap spaces as zeros, no event-loop handles or garbage collections, and, in
// nodejs_version_info, the Node version Bun imitates. Collected at most once a second, as on Node.
import { collectDefaultMetrics, Registry } from "prom-client";
import { registerCachedMetrics, type CachedMetricsOptions } from "./metrics-cache.ts";

export function registerBunProcessMetrics(target: Registry, options?: CachedMetricsOptions): void {
  const source = new Registry();
  collectDefaultMetrics({ register: source });
  for (const { name } of source.getMetricsAsArray()) if (!name.startsWith("process_")) source.removeSingleMetric(name);
  registerCachedMetrics(target, source, options);
}
