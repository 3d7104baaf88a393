// How the app runs as a program, on any runtime: read the configuration, serve, crash on schedule,
// stop cleanly on SIGTERM/SIGINT. What differs between runtimes sits behind `Runtime`, so each entry
// (node.ts, deno.ts) is one adapter object, as Hono's src/adapter/<runtime>/ fill in one interface
// each. Runtime-neutral: no Node or Deno APIs here.
import type { Registry } from "prom-client";
import { sleep, systemClock } from "../../lib/clock.ts";
import { ConfigError, configErrorLines, type Env } from "../../lib/env.ts";
import { createLogger } from "../../lib/log.ts";
import { METRICS_MAX_AGE_MS } from "../../lib/metrics-cache.ts";
import { createApp } from "./app.ts";
import { ENV_NAMES, loadConfig, type Config } from "./config.ts";
import { callAt, crashEvent, DRAIN_MS, startedEvent, startEvent } from "./lifecycle.ts";

export const PROGRAM = "crashy";

export type Fetch = (request: Request) => Response | Promise<Response>;
export type Signal = "SIGTERM" | "SIGINT";

export type ServeOptions = {
  fetch: Fetch;
  host: string;
  port: number;
  /** Once listening, with the address bound, such as http://127.0.0.1:8080. */
  onListen(url: string): void;
  /** When it cannot listen (the port taken, the address not this machine's), if serve() has not thrown instead. */
  onError(error: Error): void;
};

/** What run() needs of a server once serving. */
export type Served = {
  /** Stops accepting; resolves once the requests in flight are answered (those held by a hang never are). */
  close(): Promise<void>;
};

/** One runtime: everything run() does not do in Web-standard code. */
export type Runtime = {
  /** For the start line and crashy_info{runtime}: "node", "deno". */
  name: string;
  /** These variables' values (Deno is granted exactly these). */
  env(names: readonly string[]): Env;
  /** The machine's name, for the greeting when HOSTNAME is not set. */
  hostname(): string;
  /** Starts serving; throws, or calls onError, when it cannot listen. */
  serve(options: ServeOptions): Served;
  onSignal(signal: Signal, fn: () => void): void;
  exit(code: number): never;
  registerProcessMetrics(registry: Registry): void;
  stdout(line: string): void;
  stderr(line: string): void;
};

/** Runs the app on `runtime` until a signal, the crash (CRASH_MODE=exit) or a failure ends it. */
export function run(runtime: Runtime): void {
  const env = runtime.env(ENV_NAMES);
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Plain lines whatever LOG_FORMAT says: it may be one of the bad values, and they are for the
    // person who just started the program.
    for (const line of configErrorLines(PROGRAM, error)) runtime.stderr(line);
    return runtime.exit(2);
  }
  const log = createLogger({ program: PROGRAM, format: config.logFormat, sink: runtime });

  const crashy = createApp({
    config,
    clock: systemClock,
    hostname: env.HOSTNAME || runtime.hostname(),
    runtime: runtime.name,
    // The control API (CONTROL=true) logs each switch; its crash ends the process with CRASH_MODE=exit.
    log,
    onCrash: () => void crashExit(),
    metricsMaxAgeMs: METRICS_MAX_AGE_MS,
  });
  runtime.registerProcessMetrics(crashy.metrics.registry);

  let served: Served | undefined;
  let stopping = false;
  let cancelCrash = () => {};
  let cancelStarted = () => {};
  // Requests held by CRASH_MODE=hang never finish: exiting after the drain cuts them.
  const drain = async () => {
    if (served) await Promise.race([served.close().catch(() => {}), sleep(DRAIN_MS)]);
  };
  async function shutdown(signal: Signal): Promise<void> {
    if (stopping) return;
    stopping = true;
    cancelCrash();
    cancelStarted();
    log.info(`${signal} received, finishing in-flight requests`, { signal });
    await drain();
    runtime.exit(0);
  }
  // POST /control/crash: the crash is logged by the app, so the scheduled one must not be too. With
  // CRASH_MODE=exit, the process stops as on SIGTERM, so the crash's own answer reaches whoever
  // asked for it, then exits 1 as the scheduled crash does.
  async function crashExit(): Promise<void> {
    cancelCrash();
    cancelStarted();
    if (config.crashMode !== "exit" || stopping) return;
    stopping = true;
    await drain();
    runtime.exit(1);
  }
  // Before serving: Deno prints "listening" from within Deno.serve, and a signal sent as soon as
  // that line shows must find its listener in place.
  runtime.onSignal("SIGTERM", () => void shutdown("SIGTERM"));
  runtime.onSignal("SIGINT", () => void shutdown("SIGINT"));

  const cannotListen = (error: Error) => {
    const { host, port } = config;
    log.error(`cannot listen on ${host}:${port}: ${error.message}`, { host, port, error: error.message });
    return runtime.exit(1);
  };
  try {
    served = runtime.serve({
      fetch: closingWhile(() => stopping, crashy.app.fetch),
      host: config.host,
      port: config.port,
      onListen(url) {
        const { msg, fields } = startEvent(config, runtime.name, url);
        log.info(msg, fields);
      },
      onError: cannotListen,
    });
  } catch (error) {
    return cannotListen(error as Error);
  }

  cancelCrash = callAt(crashy.crashAt, systemClock, () => {
    const { msg, fields } = crashEvent(config);
    log.warn(msg, fields);
    if (config.crashMode === "exit") runtime.exit(1);
  });
  // STARTUP_SECONDS: said once over, unless the app crashed first (it then never started).
  if (config.startupSeconds > 0) {
    cancelStarted = callAt(crashy.state.startupEndsAt, systemClock, () => {
      if (crashy.isCrashed()) return;
      const { msg, fields } = startedEvent(config);
      log.info(msg, fields);
    });
  }
}

/**
 * While stopping, every answer says "Connection: close", so keep-alive clients reconnect (to another
 * pod) instead of sending more requests on a connection that is about to be cut. Checked as each
 * answer is ready, so a request begun before the signal and answered after it says so too.
 */
function closingWhile(stopping: () => boolean, fetch: Fetch): Fetch {
  const mark = (response: Response) => (stopping() ? connectionClose(response) : response);
  return (request) => {
    const answer = fetch(request);
    return answer instanceof Promise ? answer.then(mark) : mark(answer);
  };
}

function connectionClose(response: Response): Response {
  try {
    response.headers.set("connection", "close");
    return response;
  } catch {
    // The headers of some responses (Response.error(), a fetch() answer) are immutable: copy it.
    const copy = new Response(response.body, response);
    copy.headers.set("connection", "close");
    return copy;
  }
}
