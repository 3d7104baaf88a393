// Node entry: read the environment, serve, crash on schedule, stop cleanly on SIGTERM/SIGINT.
import type { Server } from "node:http";
import { hostname as osHostname } from "node:os";
import process from "node:process";
import { serve } from "@hono/node-server";
import { ConfigError, configErrorLines } from "../../lib/env.ts";
import { createApp } from "./app.ts";
import { systemClock } from "../../lib/clock.ts";
import { loadConfig, type Config } from "./config.ts";
import { callAt, describeCrash, describeStart, DRAIN_MS } from "./lifecycle.ts";
import { registerNodeProcessMetrics } from "../../lib/process-metrics-node.ts";

let config: Config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const line of configErrorLines("crashy", error)) console.error(line);
  process.exit(2);
}

const crashy = createApp({
  config,
  clock: systemClock,
  hostname: process.env.HOSTNAME || osHostname(),
  runtime: "node",
});
registerNodeProcessMetrics(crashy.metrics.registry);

const server = serve({ fetch: crashy.app.fetch, port: config.port, hostname: config.host }, (info) => {
  console.log(describeStart(config, "node", `http://${info.address}:${info.port}`));
}) as Server;

server.on("error", (error) => {
  console.error(`crashy: cannot listen on ${config.host}:${config.port}: ${error.message}`);
  process.exit(1);
});

const cancelCrash = callAt(crashy.crashAt, systemClock, () => {
  console.log(describeCrash(config));
  if (config.crashMode === "exit") process.exit(1);
});

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  cancelCrash();
  console.log(`crashy: ${signal} received, finishing in-flight requests`);
  // close() stops accepting and ends idle keep-alive connections; its callback waits for the rest.
  server.close(() => process.exit(0));
  // Requests held by CRASH_MODE=hang never finish: cut whatever is still open after the drain.
  setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
}
// While stopping, every answer says "Connection: close", so keep-alive clients reconnect (to another
// pod) instead of sending more requests on a connection that is about to be cut. Prepended, as
// Hono may answer synchronously within its own listener.
server.prependListener("request", (_request, response) => {
  if (stopping) response.setHeader("connection", "close");
});
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
