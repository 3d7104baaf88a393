// Node entry: read the environment, probe, scrape, serve; stop within a second on SIGTERM/SIGINT.
import type { Server } from "node:http";
import process from "node:process";
import { serve } from "@hono/node-server";
import { ConfigError, configErrorLines } from "../../lib/env.ts";
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
  for (const line of configErrorLines(PROGRAM, error)) console.error(line);
  process.exit(2);
}

let scrapeWasUp: boolean | undefined;
const sidecar = createSidecar({
  config,
  onEvent: (e) => console.log(`${PROGRAM}: ${e.type} ${e.reason} container/${config.containerName}: ${e.message}`),
  // Only changes are worth a line: a scrape every period would drown the events.
  onScrape(result) {
    if (result.ok === scrapeWasUp) return;
    scrapeWasUp = result.ok;
    console.log(`${PROGRAM}: ${result.ok ? `scraping ${config.scrape.url}` : `scrape failed: ${result.error}`}`);
  },
});
registerNodeProcessMetrics(sidecar.metrics.registry);

const server = serve({ fetch: createServer(sidecar).fetch, port: config.port, hostname: config.host }, (info) => {
  const p = config.probe;
  console.log(
    `${PROGRAM}: listening on http://${info.address}:${info.port}; probing ${p.url} every ${p.periodSeconds} s ` +
      `(timeout ${p.timeoutSeconds} s, failure threshold ${p.failureThreshold}, success threshold ${p.successThreshold}, ` +
      `initial delay ${p.initialDelaySeconds} s); ` +
      (config.scrape.url ? `scraping ${config.scrape.url} every ${config.scrape.intervalSeconds} s` : "not scraping (METRICS_URL is empty)"),
  );
  sidecar.start();
}) as Server;

server.on("error", (error) => {
  console.error(`${PROGRAM}: cannot listen on ${config.host}:${config.port}: ${error.message}`);
  process.exit(1);
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${PROGRAM}: ${signal} received, stopping`);
  // Whatever happens below, be gone well within a second.
  setTimeout(() => process.exit(0), 900).unref();
  server.close(() => process.exit(0));
  setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
  await sidecar.stop();
  server.closeIdleConnections();
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
