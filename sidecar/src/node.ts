// Node entry: read the environment, probe, scrape, serve; stop within a second on SIGTERM/SIGINT.
import type { Server } from "node:http";
import process from "node:process";
import { serve } from "@hono/node-server";
import { ConfigError, configErrorLines } from "../../lib/env.ts";
import { createLogger } from "../../lib/log.ts";
import { registerNodeProcessMetrics } from "../../lib/process-metrics-node.ts";
import { loadConfig, type SidecarConfig } from "./config.ts";
import { createServer } from "./server.ts";
import { createSidecar } from "./sidecar.ts";

const PROGRAM = "crashy-sidecar";
// Well inside the kubelet's grace period: a page or a Prometheus scrape in flight gets this long.
const DRAIN_MS = 300;

let config: SidecarConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // Plain lines whatever LOG_FORMAT says: it may be one of the bad values.
  for (const line of configErrorLines(PROGRAM, error)) console.error(line);
  process.exit(2);
}

const log = createLogger({ program: PROGRAM, format: config.logFormat });

let scrapeWasUp: boolean | undefined;
const sidecar = createSidecar({
  config,
  onEvent(e) {
    const container = config.containerName;
    const fields = { type: e.type, reason: e.reason, container, message: e.message };
    log[e.type === "Warning" ? "warn" : "info"](`${e.type} ${e.reason} container/${container}: ${e.message}`, fields);
  },
  // Only changes are worth a line: a scrape every period would drown the events.
  onScrape(result) {
    if (result.ok === scrapeWasUp) return;
    scrapeWasUp = result.ok;
    const url = config.scrape.url;
    if (result.ok) log.info(`scraping ${url}`, { url });
    else log.warn(`scrape failed: ${result.error}`, { url, error: result.error });
  },
});
registerNodeProcessMetrics(sidecar.metrics.registry);

const server = serve({ fetch: createServer(sidecar).fetch, port: config.port, hostname: config.host }, (info) => {
  const p = config.probe;
  const url = `http://${info.address}:${info.port}`;
  log.info(
    `listening on ${url}; probing ${p.url} every ${p.periodSeconds} s ` +
      `(timeout ${p.timeoutSeconds} s, failure threshold ${p.failureThreshold}, success threshold ${p.successThreshold}, ` +
      `initial delay ${p.initialDelaySeconds} s); ` +
      (config.scrape.url ? `scraping ${config.scrape.url} every ${config.scrape.intervalSeconds} s` : "not scraping (METRICS_URL is empty)"),
    {
      url,
      probe_url: p.url,
      probe_period_seconds: p.periodSeconds,
      probe_timeout_seconds: p.timeoutSeconds,
      probe_failure_threshold: p.failureThreshold,
      probe_success_threshold: p.successThreshold,
      probe_initial_delay_seconds: p.initialDelaySeconds,
      metrics_url: config.scrape.url,
      scrape_interval_seconds: config.scrape.intervalSeconds,
    },
  );
  sidecar.start();
}) as Server;

server.on("error", (error) => {
  const { host, port } = config;
  log.error(`cannot listen on ${host}:${port}: ${error.message}`, { host, port, error: error.message });
  process.exit(1);
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info(`${signal} received, stopping`, { signal });
  // Whatever happens below, be gone well within a second.
  setTimeout(() => process.exit(0), 900).unref();
  server.close(() => process.exit(0));
  setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
  await sidecar.stop();
  server.closeIdleConnections();
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
