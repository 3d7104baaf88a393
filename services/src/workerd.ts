// workerd entry: the app as a worker module (services/workerd/crashy.capnp serves it). A worker is
// no process, so run.ts has nothing to do here: workerd reads the config, listens, and handles
// SIGTERM itself (it stops once the requests in flight are answered). `npm run build` bundles this
// file as dist/bundle/worker.mjs, with no node: imports, for workerd without nodejs_compat.
/// <reference path="../workerd/cloudflare-workers.d.ts" />
import { env } from "cloudflare:workers";
import { systemClock } from "../../lib/clock.ts";
import { ConfigError, configErrorLines } from "../../lib/env.ts";
import { createLogger } from "../../lib/log.ts";
import { createApp, type CrashyApp } from "./app.ts";
import { ENV_NAMES, type Config } from "./config.ts";
import { HOLD_MS, loadWorkerdConfig } from "./config-workerd.ts";
import { crashEvent, firstRequestEvent, startedEvent } from "./lifecycle.ts";
import { PROGRAM } from "./run.ts";

const RUNTIME = "workerd";

const vars = Object.fromEntries(ENV_NAMES.map((name) => [name, env[name] ?? undefined]));

// Read while the module loads, so a bad value stops workerd before it serves anything. A worker
// cannot choose workerd's exit code: the error it throws is workerd's one line, and it exits 1.
let config: Config;
try {
  config = loadWorkerdConfig(vars);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A string rather than an Error: workerd prints it on one line, without a stack.
  throw configErrorLines(PROGRAM, error).join("; ");
}

const log = createLogger({ program: PROGRAM, format: config.logFormat });
let crashy: CrashyApp | undefined;
let crashLogged = false;
let startedLogged = config.startupSeconds === 0;

// The clock starts at the first request, not as the module loads: while a module loads, workerd's
// clock reads 0 (the Unix epoch), and it moves only while a request runs (cloudflare/workerd
// issues 3567 and 6839). Nor can a timer be set outside a request, so the crash and the end of
// STARTUP_SECONDS are logged by the first request that finds them past.
function app(): CrashyApp {
  if (!crashy) {
    crashy = createApp({
      config,
      clock: systemClock,
      hostname: vars.HOSTNAME || RUNTIME,
      runtime: RUNTIME,
      holdMs: HOLD_MS,
      log,
      // POST /control/crash logs its own line; CRASH_MODE=exit, which would end the process, cannot be set here.
      onCrash: () => void (crashLogged = true),
    });
    const { msg, fields } = firstRequestEvent(config, RUNTIME);
    log.info(msg, fields);
  }
  const { state } = crashy;
  if (!startedLogged && state.isStarted()) {
    startedLogged = true;
    // As on the other runtimes: not said when the app crashed first (it then never started).
    if (state.crashAt > state.startupEndsAt) {
      const { msg, fields } = startedEvent(config);
      log.info(msg, fields);
    }
  }
  if (!crashLogged && state.isCrashed()) {
    crashLogged = true;
    const { msg, fields } = crashEvent(config);
    log.warn(msg, fields);
  }
  return crashy;
}

export default {
  fetch: (request: Request): Response | Promise<Response> => app().app.fetch(request),
};
