// Node entry: the app's run skeleton (run.ts) on Node, serving with @hono/node-server.
import type { Server } from "node:http";
import { hostname } from "node:os";
import process from "node:process";
import { serve } from "@hono/node-server";
import { registerNodeProcessMetrics } from "../../lib/process-metrics-node.ts";
import { run } from "./run.ts";

run({
  name: "node",
  env: () => process.env,
  hostname,
  serve({ fetch, host, port, onListen, onError }) {
    const server = serve({ fetch, port, hostname: host }, (info) => onListen(`http://${info.address}:${info.port}`)) as Server;
    server.on("error", onError);
    // close() stops accepting and ends idle keep-alive connections; its callback waits for the rest,
    // which close once answered, as answers then say "Connection: close".
    return { close: () => new Promise((resolve) => server.close(() => resolve())) };
  },
  onSignal: (signal, fn) => void process.on(signal, fn),
  exit: (code) => process.exit(code),
  registerProcessMetrics: registerNodeProcessMetrics,
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
});
