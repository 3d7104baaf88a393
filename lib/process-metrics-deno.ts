// Process metrics on Deno. prom-client's default collectors run there but report zeros for memory
// and file descriptors, and Node's version for nodejs_version_info (compare prometheus/client_js
// issue 651), so Deno gets these few, read from APIs that work under its permissions. Like Node's,
// they are collected at most once a second (see registerCachedMetrics).
import process from "node:process";
import { Counter, Gauge, Registry } from "prom-client";
import { registerCachedMetrics, type CachedMetricsOptions } from "./metrics-cache.ts";

export function registerDenoProcessMetrics(target: Registry, options?: CachedMetricsOptions): void {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds.",
    registers,
  }).set(performance.timeOrigin / 1000);
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers,
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  new Gauge({
    name: "process_heap_bytes",
    help: "Process heap size in bytes.",
    registers,
    collect() {
      this.set(Deno.memoryUsage().heapTotal);
    },
  });
  cpuCounter(registry, "process_cpu_user_seconds_total", "Total user CPU time spent in seconds.", (u) => u.user);
  cpuCounter(registry, "process_cpu_system_seconds_total", "Total system CPU time spent in seconds.", (u) => u.system);
  cpuCounter(registry, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", (u) => u.user + u.system);
  registerCachedMetrics(target, registry, options);
}

function cpuCounter(registry: Registry, name: string, help: string, pick: (u: NodeJS.CpuUsage) => number): void {
  let last = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = pick(process.cpuUsage()) / 1e6;
      this.inc(Math.max(0, now - last));
      last = now;
    },
  });
}
