// What the run skeleton (run.ts) says and times, runtime-neutral: the events of start and crash,
// the drain on SIGTERM, and the crash timer (Web-standard setTimeout).
import type { Clock } from "../../lib/clock.ts";
import type { LogEvent } from "../../lib/log.ts";
import type { Config, CrashMode } from "./config.ts";

/** Logged once listening. STARTUP_SECONDS and CONTROL show in the text only when set, so the lab's line stays as it was. */
export function startEvent(config: Config, runtime: string, url: string): LogEvent {
  return { msg: `listening on ${url} (${runtime}, ${settings(config)})`, fields: { url, ...settingFields(config, runtime) } };
}

function settings(config: Config): string {
  const set = [`CRASH_AFTER=${config.crashAfterSeconds}`, `CRASH_MODE=${config.crashMode}`];
  if (config.startupSeconds > 0) set.push(`STARTUP_SECONDS=${config.startupSeconds}`);
  if (config.control) set.push("CONTROL=true");
  return set.join(", ");
}

function settingFields(config: Config, runtime: string) {
  return {
    runtime,
    crash_after: config.crashAfterSeconds,
    crash_mode: config.crashMode,
    startup_seconds: config.startupSeconds,
    control: config.control,
  };
}

/** How long the app lets in-flight requests finish on SIGTERM before cutting what is left (hung requests). */
export const DRAIN_MS = 300;

/** What / and /health do from the crash on, in the words of the log lines. */
export function crashOutcome(mode: CrashMode): string {
  switch (mode) {
    case "error":
      return "/ and /health now answer 500, /metrics still answers";
    case "hang":
      return "/ and /health now never answer, /metrics still answers";
    case "exit":
      return "exiting with code 1 (CRASH_MODE=exit)";
  }
}

/** What the app logs at the crash instant, for `kubectl logs`. */
export function crashEvent(config: Config): LogEvent {
  return {
    msg: `crashed after ${config.crashAfterSeconds} s (CRASH_AFTER): ${crashOutcome(config.crashMode)}`,
    fields: { crash_after: config.crashAfterSeconds, crash_mode: config.crashMode },
  };
}

/** What the app logs when STARTUP_SECONDS are over (and it has not crashed first). */
export function startedEvent(config: Config): LogEvent {
  return {
    msg: `started after ${config.startupSeconds} s (STARTUP_SECONDS): /, /health and /ready no longer answer 503 starting`,
    fields: { startup_seconds: config.startupSeconds },
  };
}

// setTimeout takes at most 2^31-1 ms (about 24.8 days); longer delays would fire at once.
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Calls `fn` once at `at` on clock.monotonic(); returns a function that cancels it. Read on the
 * monotonic clock as setTimeout runs on it: a wall-clock step moves neither.
 */
export function callAt(at: number, clock: Pick<Clock, "monotonic">, fn: () => void): () => void {
  let timer: ReturnType<typeof setTimeout>;
  // A timer may fire a little before its delay has passed by performance.now(): Node counts from
  // the event loop's cached time, which lags. Not yet due: wait out the rest, so `fn` (the
  // "crashed" line) never comes before the state it announces.
  const arm = () => {
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, Math.ceil(at - clock.monotonic())));
    timer = setTimeout(() => (clock.monotonic() >= at ? fn() : arm()), delay);
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * Logged by the first request on workerd, where the crash clock starts then: a worker cannot read
 * the time while its module loads, and workerd, not the app, says when it listens.
 */
export function firstRequestEvent(config: Config, runtime: string): LogEvent {
  return { msg: `first request: the crash clock starts now (${runtime}, ${settings(config)})`, fields: settingFields(config, runtime) };
}
