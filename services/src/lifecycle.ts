// What the run skeleton (run.ts) says and times, runtime-neutral: the events of start and crash,
// the drain on SIGTERM, and the crash timer (Web-standard setTimeout).
import type { Clock } from "../../lib/clock.ts";
import type { LogEvent } from "../../lib/log.ts";
import type { Config } from "./config.ts";

/** Logged once listening. */
export function startEvent(config: Config, runtime: string, url: string): LogEvent {
  return {
    msg: `listening on ${url} (${runtime}, CRASH_AFTER=${config.crashAfterSeconds}, CRASH_MODE=${config.crashMode})`,
    fields: { url, runtime, crash_after: config.crashAfterSeconds, crash_mode: config.crashMode },
  };
}

/** How long the app lets in-flight requests finish on SIGTERM before cutting what is left (hung requests). */
export const DRAIN_MS = 300;

/** What the app logs at the crash instant, for `kubectl logs`. */
export function crashEvent(config: Config): LogEvent {
  const after = `crashed after ${config.crashAfterSeconds} s (CRASH_AFTER)`;
  const fields = { crash_after: config.crashAfterSeconds, crash_mode: config.crashMode };
  switch (config.crashMode) {
    case "error":
      return { msg: `${after}: / and /health now answer 500, /metrics still answers`, fields };
    case "hang":
      return { msg: `${after}: / and /health now never answer, /metrics still answers`, fields };
    case "exit":
      return { msg: `${after}: exiting with code 1 (CRASH_MODE=exit)`, fields };
  }
}

// setTimeout takes at most 2^31-1 ms (about 24.8 days); longer delays would fire at once.
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Calls `fn` once at epoch ms `at`; returns a function that cancels it. */
export function callAt(at: number, clock: Clock, fn: () => void): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const arm = () => {
    const delay = at - clock.now();
    timer = delay > MAX_DELAY_MS ? setTimeout(arm, MAX_DELAY_MS) : setTimeout(fn, Math.max(0, delay));
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * Logged by the first request on workerd, where the crash clock starts then: a worker cannot read
 * the time while its module loads, and workerd, not the app, says when it listens.
 */
export function firstRequestEvent(config: Config, runtime: string): LogEvent {
  return {
    msg: `first request: the crash clock starts now (${runtime}, CRASH_AFTER=${config.crashAfterSeconds}, CRASH_MODE=${config.crashMode})`,
    fields: { runtime, crash_after: config.crashAfterSeconds, crash_mode: config.crashMode },
  };
}
