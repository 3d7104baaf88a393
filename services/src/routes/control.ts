// The run-time control API, routed only when CONTROL=true: switches an instructor flips without a
// restart, as podinfo's /readyz/enable and /readyz/disable and kuard's "fail next N" do. Every
// switch is counted (crashy_control_actions_total{action}) and logged in one line, whose message
// is also the answer, for the person at curl.
import type { Context } from "hono";
import { z } from "zod";
import { wallTimeOf } from "../../../lib/clock.ts";
import type { LogFields } from "../../../lib/log.ts";
import { crashOutcome } from "../lifecycle.ts";
import type { ControlAction, Readiness } from "../state.ts";
import { TEXT, type Handler, type RouteDeps } from "./route.ts";

/** The bounds of POST /control/fail?count=N. */
export const FAIL_COUNT = { min: 1, max: 1000 } as const;

const countSchema = z
  .string()
  .regex(/^\d+$/)
  .transform(Number)
  .pipe(z.number().int().min(FAIL_COUNT.min).max(FAIL_COUNT.max));

const EXPECTED_COUNT = `expected a whole number from ${FAIL_COUNT.min} to ${FAIL_COUNT.max}, such as /control/fail?count=3`;

/** What /ready answers, as the switches' messages say it. */
const readyAnswer = (readiness: Readiness) => (readiness === "ready" ? "200 ready" : `503 ${readiness}`);

// Seconds to the millisecond for JSON, to the hundredth for people (as / says how long ago it crashed).
const seconds = (ms: number) => Math.round(ms) / 1000;
const secondsText = (ms: number) => (ms / 1000).toFixed(2);

/** Counts and logs one switch, and answers with its log line. */
function act(c: Context, deps: RouteDeps, action: ControlAction, level: "info" | "warn", msg: string, fields: LogFields): Response {
  deps.metrics.controlAction(action);
  deps.log[level](msg, { action, ...fields });
  return c.body(`${msg}\n`, 200, TEXT);
}

/** GET /control: the state, as JSON. */
export function showControl({ config, clock, state }: RouteDeps): Handler {
  // Instants are kept on the monotonic clock; shown as the wall clock reads now (lib/clock.ts).
  const iso = (ms: number) => new Date(ms).toISOString();
  const wall = (at: number) => iso(wallTimeOf(at, clock));
  return (c) => {
    const now = clock.monotonic();
    const readiness = state.readiness();
    const body = {
      // What /ready answers: ready (200), or why not (503).
      readiness,
      ready: readiness === "ready",
      phase: state.phase(),
      // STARTUP_SECONDS are over; a crash that came first leaves the app crashed all the same.
      started: now >= state.startupEndsAt,
      crashed: now >= state.crashAt,
      // Switched off by POST /control/unready.
      unready: state.unready,
      // /health answers still to fail, from POST /control/fail?count=N.
      failNext: state.failNext,
      startupSeconds: config.startupSeconds,
      crashAfterSeconds: config.crashAfterSeconds,
      crashMode: config.crashMode,
      // What crashes (or crashed) the app at crashAt: the schedule, or POST /control/crash.
      crashCause: state.crashCause,
      startTime: iso(state.startedAt),
      startupEndsAt: wall(state.startupEndsAt),
      crashAt: wall(state.crashAt),
      uptimeSeconds: seconds(now - state.start),
    };
    return c.body(`${JSON.stringify(body, null, 2)}\n`, 200, { "content-type": "application/json" });
  };
}

/** POST /control/crash: crashes now, as CRASH_MODE says (with `exit`, the entry ends the process once this is answered). */
export function crashNow(deps: RouteDeps): Handler {
  const { config, clock, state } = deps;
  return (c) => {
    if (!state.crash()) {
      const cause = state.crashCause === "control" ? "POST /control/crash" : "CRASH_AFTER";
      const ago = clock.monotonic() - state.crashAt;
      return act(c, deps, "crash", "info", `POST /control/crash: crashed already, ${secondsText(ago)} s ago (${cause})`, {
        crashed: false,
        crash_cause: state.crashCause,
      });
    }
    const after = state.crashAt - state.start;
    const msg = `POST /control/crash: crashed after ${secondsText(after)} s: ${crashOutcome(config.crashMode)}`;
    const answer = act(c, deps, "crash", "warn", msg, { crashed: true, uptime_seconds: seconds(after), crash_mode: config.crashMode });
    deps.onCrash();
    return answer;
  };
}

/** POST /control/ready and /control/unready: readiness on and off, without a restart. */
export function switchReadiness(deps: RouteDeps, on: boolean): Handler {
  const action = on ? "ready" : "unready";
  return (c) => {
    deps.state.setUnready(!on);
    const readiness = deps.state.readiness();
    const msg = `POST /control/${action}: readiness switched ${on ? "on" : "off"}, /ready now answers ${readyAnswer(readiness)}`;
    return act(c, deps, action, "info", msg, { readiness });
  };
}

/** POST /control/fail?count=N: the next N /health answers that would be 200 are 500 instead. */
export function failHealth(deps: RouteDeps): Handler {
  return (c) => {
    const raw = c.req.query("count");
    const parsed = countSchema.safeParse(raw);
    if (!parsed.success) {
      const what = raw === undefined ? "count is missing" : `count=${JSON.stringify(raw)} is invalid`;
      return c.body(`400 Bad Request: ${what}: ${EXPECTED_COUNT}\n`, 400, TEXT);
    }
    const count = parsed.data;
    deps.state.failHealth(count);
    const next = count === 1 ? "the next /health answer that would be 200 is" : `the next ${count} /health answers that would be 200 are`;
    return act(c, deps, "fail", "info", `POST /control/fail?count=${count}: ${next} 500 instead`, { count });
  };
}
