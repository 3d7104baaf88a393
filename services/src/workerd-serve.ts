// `npm run app:workerd`: workerd from the npm package, serving dist/bundle/crashy.capnp where PORT
// and HOST say. The worker checks every variable as it loads, but a worker can neither choose the
// socket nor workerd's exit code, so this Node program, run before workerd, checks them first (the
// usual lines, exit 2), passes PORT and HOST as --socket-addr, says where it listens once workerd
// reports it, and hands SIGTERM and SIGINT to workerd as SIGTERM (workerd's signal to stop: it
// stops taking requests and exits once those in flight are answered). The image runs workerd alone.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ConfigError, configErrorLines } from "../../lib/env.ts";
import { createLogger } from "../../lib/log.ts";
import { ENV_NAMES, type Config } from "./config.ts";
import { loadWorkerdConfig } from "./config-workerd.ts";
import { startEvent } from "./lifecycle.ts";
import { PROGRAM } from "./run.ts";

/** workerd's binary, from the npm package's own bin (a Node wrapper would stand between the signals). */
export const WORKERD = join(dirname(createRequire(import.meta.url).resolve("workerd/package.json")), "bin", "workerd");
/** The config beside the worker's bundle, as `npm run build` leaves them (this file runs from dist/services/src). */
export const WORKERD_CONFIG = fileURLToPath(new URL("../../bundle/crashy.capnp", import.meta.url));

/** workerd's --socket-addr for the socket named http: an IPv6 address in brackets. */
export function socketAddress(host: string, port: number): string {
  return `http=${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function main(): void {
  const env = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
  let config: Config;
  try {
    config = loadWorkerdConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const line of configErrorLines(PROGRAM, error)) console.error(line);
    process.exit(2);
  }
  const log = createLogger({ program: PROGRAM, format: config.logFormat });
  const { host, port } = config;

  // fd 3: workerd's control messages, one JSON object a line, such as {"event":"listen","socket":"http","port":8080}.
  const child = spawn(WORKERD, ["serve", WORKERD_CONFIG, "--socket-addr", socketAddress(host, port), "--control-fd", "3"], {
    stdio: ["ignore", "inherit", "pipe", "pipe"],
  });
  let listening = false;
  let control = "";
  child.stdio[3]!.on("data", (chunk: Buffer) => {
    control += chunk;
    for (let end = control.indexOf("\n"); end >= 0; end = control.indexOf("\n")) {
      const message = JSON.parse(control.slice(0, end)) as { event?: string; socket?: string; port?: number };
      control = control.slice(end + 1);
      if (message.event === "listen" && message.socket === "http" && !listening) {
        listening = true;
        const url = `http://${host.includes(":") ? `[${host}]` : host}:${message.port}`;
        const { msg, fields } = startEvent(config, "workerd", url);
        log.info(msg, fields);
      }
    }
  });
  // workerd's own lines pass through; the last one before it listens says why it could not. Kept
  // from the last non-empty line, as a line may come in several chunks (its newline alone, last).
  let tail = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    process.stderr.write(chunk);
    if (!listening) tail = (tail + String(chunk)).slice(-4096);
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => child.kill("SIGTERM"));
  child.on("error", (error) => {
    log.error(`cannot start ${WORKERD}: ${error.message}`, { error: error.message });
    process.exit(1);
  });
  // "close", not "exit": it comes once workerd's stderr is read to the end, with the line that says why.
  child.on("close", (code, signal) => {
    const lastLine = tail.trim().split("\n").at(-1) ?? "";
    if (!listening && /bind\(\)/.test(lastLine)) {
      log.error(`cannot listen on ${host}:${port}: ${lastLine}`, { host, port, error: lastLine });
    }
    process.exit(code ?? (signal ? 1 : 0));
  });
}

main();
