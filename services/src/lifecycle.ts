// What the entry files share, runtime-neutral: the log lines of start, crash and shutdown, and the
// crash timer (Web-standard setTimeout). Each entry only reads the environment, serves and exits.
import type { Clock } from "../../lib/clock.ts";
import type { Config } from "./config.ts";

/** Printed once listening. */
export function describeStart(config: Config, runtime: string, url: string): string {
  return `crashy: listening on ${url} (${runtime}, CRASH_AFTER=${config.crashAfterSeconds}, CRASH_MODE=${config.crashMode})`;
}

/** How long an entry lets in-flight requests finish on SIGTERM before cutting what is left (hung requests). */
export const DRAIN_MS = 300;

/** What the app logs at the crash instant, for `kubectl logs`. */
export function describeCrash(config: Config): string {
  const after = `crashed after ${config.crashAfterSeconds} s (CRASH_AFTER)`;
  switch (config.crashMode) {
    case "error":
      return `crashy: ${after}: / and /health now answer 500, /metrics still answers`;
    case "hang":
      return `crashy: ${after}: / and /health now never answer, /metrics still answers`;
    case "exit":
      return `crashy: ${after}: exiting with code 1 (CRASH_MODE=exit)`;
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
