// prom-client for the worker bundle: the three classes the app uses, from their own files. prom-client's
// index loads every part at once, and the others require Node's fs, v8, perf_hooks, cluster, http,
// https and zlib (default metrics, the cluster aggregator, the Pushgateway), none of which a worker
// without nodejs_compat has; a bundle that require()s them fails as workerd loads it.
export { default as Registry } from "prom-client/lib/registry.js";
export { default as Gauge } from "prom-client/lib/gauge.js";
export { default as Counter } from "prom-client/lib/counter.js";
