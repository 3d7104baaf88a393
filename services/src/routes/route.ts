// What every handler is given and returns. One handler a file (home.ts, health.ts, ready.ts,
// metrics.ts, control.ts); app.ts holds the one route table.
import type { Context } from "hono";
import type { Clock } from "../../../lib/clock.ts";
import type { Logger } from "../../../lib/log.ts";
import type { Config } from "../config.ts";
import type { AppMetrics } from "../metrics.ts";
import type { AppState } from "../state.ts";

export const TEXT = { "content-type": "text/plain; charset=utf-8" };

// Typed, since TypeScript 7 no longer picks an overload for the union of a body and a promise.
export type Handler = (c: Context) => Response | Promise<Response>;

export type RouteDeps = {
  config: Config;
  clock: Clock;
  state: AppState;
  metrics: AppMetrics;
  log: Logger;
  /** The greeting's first line, with its newline. */
  greeting: string;
  /** Called when POST /control/crash crashes the app, after its log line. */
  onCrash: () => void;
  /** The longest CRASH_MODE=hang holds a request, where the runtime never says its client left (workerd). */
  holdMs?: number;
};
