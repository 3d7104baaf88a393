// What the app is at a given instant: starting, up or crashed, switched unready or not, with /health
// failures pending or not. Read by the handlers on every request, changed by the clock (STARTUP_SECONDS,
// CRASH_AFTER) and by the control API. Runtime-neutral.
import type { Clock } from "../../lib/clock.ts";
import type { Config } from "./config.ts";

/** Where the app is in its life: STARTUP_SECONDS, then up until the crash. */
export type Phase = "starting" | "up" | "crashed";

/** What /ready answers: `ready` (200), or why not (503). */
export type Readiness = "ready" | "starting" | "crashed" | "unready";

/** What crashes (or crashed) the app: the schedule, or POST /control/crash. */
export type CrashCause = "CRASH_AFTER" | "control";

export type AppState = ReturnType<typeof createState>;

export function createState(config: Config, clock: Clock) {
  // The start as people and Prometheus read it (wall clock), and as it is measured from (monotonic):
  // a wall-clock step neither brings the crash forward nor holds it back.
  const startedAt = clock.now();
  const start = clock.monotonic();
  // Both count from the process start, so CRASH_AFTER means what it always has.
  const startupEndsAt = start + config.startupSeconds * 1000;
  let crashAt = start + config.crashAfterSeconds * 1000;
  let crashCause: CrashCause = "CRASH_AFTER";
  let unready = false;
  let failNext = 0;

  // One clock read: this runs on every request to / and /health.
  const phase = (): Phase => {
    const now = clock.monotonic();
    // A crash wins over starting: with CRASH_AFTER <= STARTUP_SECONDS the app never gets up.
    return now >= crashAt ? "crashed" : now < startupEndsAt ? "starting" : "up";
  };

  return {
    /** Wall-clock epoch ms of the start: crashy_start_time_seconds and what is shown. */
    startedAt,
    /** The start on clock.monotonic(): what uptime is measured from. */
    start,
    /** Monotonic ms at which STARTUP_SECONDS end. */
    startupEndsAt,
    /** Monotonic ms of the crash, to come or past; moves earlier when POST /control/crash comes first. */
    get crashAt() {
      return crashAt;
    },
    get crashCause() {
      return crashCause;
    },
    /** Switched off by POST /control/unready. */
    get unready() {
      return unready;
    },
    /** /health answers still to fail, from POST /control/fail?count=N. */
    get failNext() {
      return failNext;
    },
    phase,
    isCrashed: () => clock.monotonic() >= crashAt,
    /** STARTUP_SECONDS are over (crashed or not). */
    isStarted: () => clock.monotonic() >= startupEndsAt,
    readiness(): Readiness {
      const now = phase();
      if (now !== "up") return now;
      return unready ? "unready" : "ready";
    },
    /** Crashes now; false if the app had crashed already, which changes nothing. */
    crash(): boolean {
      const now = clock.monotonic();
      if (now >= crashAt) return false;
      crashAt = now;
      crashCause = "control";
      return true;
    },
    setUnready(value: boolean): void {
      unready = value;
    },
    /** The next `count` /health answers that would be 200 are 500 instead (replacing any count left). */
    failHealth(count: number): void {
      failNext = count;
    },
    /** Spends one pending failure: true if this /health answer, which would be 200, is to fail. */
    takeFailure(): boolean {
      if (failNext === 0) return false;
      failNext--;
      return true;
    },
  };
}

/** The switches of the control API, as the `action` label of crashy_control_actions_total and the log lines say them. */
export const CONTROL_ACTIONS = ["crash", "unready", "ready", "fail"] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];
