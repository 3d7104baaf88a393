// Node entry: read the environment, probe, scrape, serve; stop within a second on SIGTERM/SIGINT.
// Served with node:http directly: Hono's adapter would load Node's undici, 16 MiB (server.ts).
import type { AddressInfo } from "node:net";
import process from "node:process";
import { ConfigError, configErrorLines } from "../../lib/env.ts";
import { createLogger } from "../../lib/log.ts";
import { http } from "../../lib/node-http.ts";
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
    const fields = { type: e.type, reason: e.reason, container, message: e.message, probe_type: e.probeType };
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

const routes = createServer(sidecar);
const server = http.createServer((req, res) => {
  routes.answer(req.method ?? "GET", req.url ?? "/").then(
    ({ status, headers, body }) => res.writeHead(status, headers).end(body),
    (error: unknown) => {
      log.error(`answering ${req.method} ${req.url}: ${String(error)}`, { method: req.method, path: req.url, error: String(error) });
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end("Internal Server Error\n");
    },
  );
});
server.listen(config.port, config.host, () => {
  const info = server.address() as AddressInfo;
  const url = `http://${info.address}:${info.port}`;
  const probes = config.probes.map(
    (p) =>
      `${p.type.toLowerCase()} probe ${p.url} every ${p.periodSeconds} s (timeout ${p.timeoutSeconds} s, failure threshold ${p.failureThreshold}, ` +
      `success threshold ${p.successThreshold}, initial delay ${p.initialDelaySeconds} s)`,
  );
  // Fields named after the variables: liveness_probe_url for LIVENESS_PROBE_URL, and so on.
  const fields = Object.fromEntries(
    config.probes.flatMap((p) => {
      const prefix = `${p.type.toLowerCase()}_probe`;
      return [
        [`${prefix}_url`, p.url],
        [`${prefix}_period_seconds`, p.periodSeconds],
        [`${prefix}_timeout_seconds`, p.timeoutSeconds],
        [`${prefix}_failure_threshold`, p.failureThreshold],
        [`${prefix}_success_threshold`, p.successThreshold],
        [`${prefix}_initial_delay_seconds`, p.initialDelaySeconds],
      ];
    }),
  );
  log.info(
    `listening on ${url}; ${probes.join("; ")}; ` +
      (config.scrape.url ? `scraping ${config.scrape.url} every ${config.scrape.intervalSeconds} s` : "not scraping (METRICS_URL is empty)"),
    { url, ...fields, metrics_url: config.scrape.url, scrape_interval_seconds: config.scrape.intervalSeconds },
  );
  sidecar.start();
});

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
