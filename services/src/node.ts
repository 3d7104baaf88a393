// Node entry: the app's run skeleton (run.ts) on Node, serving with @hono/node-server within the
// limits of node-http.ts.
import { hostname } from "node:os";
import process from "node:process";
import { registerNodeProcessMetrics } from "../../lib/process-metrics-node.ts";
import { serveNodeHttp } from "./node-http.ts";
import { run } from "./run.ts";

run({
  name: "node",
  env: () => process.env,
  hostname,
  serve: (options) => serveNodeHttp(options),
  onSignal: (signal, fn) => void process.on(signal, fn),
  exit: (code) => process.exit(code),
  registerProcessMetrics: registerNodeProcessMetrics,
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
});
