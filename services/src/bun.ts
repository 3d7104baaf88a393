// Bun entry: the app's run skeleton (run.ts) on Bun, serving with Bun.serve. Bun also runs
// node:os and process, as Node does; `npm run build` bundles this file as dist/bundle/app-bun.mjs.
import { hostname } from "node:os";
import process from "node:process";
import { registerBunProcessMetrics } from "../../lib/process-metrics-bun.ts";
import { run } from "./run.ts";

// What this file uses of Bun's global, as Bun documents it, rather than a dependency on bun-types.
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    /** Seconds a connection may sit idle before Bun closes it (default 10; at most 255). */
    idleTimeout: number;
    /** Bytes a request body may have; Bun answers 413 to a larger one (default 128 MiB). */
    maxRequestBodySize: number;
    fetch(request: Request): Response | Promise<Response>;
  }): {
    readonly hostname: string;
    readonly port: number;
    /** Stops listening; resolves once the requests in flight are answered. */
    stop(closeActiveConnections?: boolean): Promise<void>;
  };
};

const IDLE_TIMEOUT_SECONDS = 10;
const MAX_BODY_BYTES = 1024 * 1024;

run({
  name: "bun",
  env: () => process.env,
  hostname,
  serve({ fetch, host, port, onListen }) {
    // Throws when it cannot listen ("Failed to start server. Is port 8080 in use?").
    // Bounds as the Node entry's: idle connections closed after 10 s, and a body far above anything
    // the app reads (its routes take none), so a flood of idle sockets or large bodies holds little.
    const server = Bun.serve({ hostname: host, port, idleTimeout: IDLE_TIMEOUT_SECONDS, maxRequestBodySize: MAX_BODY_BYTES, fetch });
    onListen(`http://${server.hostname}:${server.port}`);
    return { close: () => server.stop() };
  },
  onSignal: (signal, fn) => void process.on(signal, fn),
  exit: (code) => process.exit(code),
  registerProcessMetrics: registerBunProcessMetrics,
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
});
