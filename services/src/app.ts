// The crashy app: a Web-standard fetch handler (Hono) that answers normally for CRASH_AFTER seconds,
// then fails the way CRASH_MODE says; answers 503 for STARTUP_SECONDS first; and, with CONTROL=true,
// takes switches at run time. Runtime-neutral: no Node or Deno APIs here. One route table below,
// one handler a file in routes/, the state they read and change in state.ts.
import { Hono } from "hono";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/log.ts";
import type { Config } from "./config.ts";
import { createMetrics, UNMATCHED_ROUTE } from "./metrics.ts";
import { crashNow, failHealth, showControl, switchReadiness } from "./routes/control.ts";
import { RELEASED } from "./routes/hang.ts";
import { health } from "./routes/health.ts";
import { home } from "./routes/home.ts";
import { metrics as metricsRoute } from "./routes/metrics.ts";
import { ready } from "./routes/ready.ts";
import { TEXT, type Handler, type RouteDeps } from "./routes/route.ts";
import { createState } from "./state.ts";

export type AppOptions = {
  config: Config;
  clock: Clock;
  /** Shown in the greeting: the pod name on Kubernetes. */
  hostname: string;
  /** Label for crashy_info, such as "node" or "deno". */
  runtime: string;
  /** Where the control API logs its switches; none by default. */
  log?: Logger;
  /** Called when POST /control/crash crashes the app, once answered: the entry ends the process with CRASH_MODE=exit. */
  onCrash?: () => void;
  /** How old a /metrics text may be when served again (run.ts: 1 s); 0, the default, shares only renderings in progress. */
  metricsMaxAgeMs?: number;
};

export type CrashyApp = ReturnType<typeof createApp>;

type Route = { method: "GET" | "POST"; path: string; handler: Handler };

const silent: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export function createApp({ config, clock, hostname, runtime, log = silent, onCrash = () => {}, metricsMaxAgeMs = 0 }: AppOptions) {
  const state = createState(config, clock);
  const metrics = createMetrics({ config, runtime, state });
  const greeting = `Hi, my name is ${hostname} and I'm a crashy app...\n`;
  const deps: RouteDeps = { config, clock, state, metrics, log, greeting, onCrash };

  // The control routes exist only with CONTROL=true: otherwise /control/... is a path like any
  // other unknown one (404, route label "unmatched").
  const routes: Route[] = [
    { method: "GET", path: "/", handler: home(deps) },
    { method: "GET", path: "/health", handler: health(deps) },
    { method: "GET", path: "/ready", handler: ready(deps) },
    { method: "GET", path: "/metrics", handler: metricsRoute(deps, metricsMaxAgeMs) },
    ...(config.control
      ? ([
          { method: "GET", path: "/control", handler: showControl(deps) },
          { method: "POST", path: "/control/crash", handler: crashNow(deps) },
          { method: "POST", path: "/control/unready", handler: switchReadiness(deps, false) },
          { method: "POST", path: "/control/ready", handler: switchReadiness(deps, true) },
          { method: "POST", path: "/control/fail", handler: failHealth(deps) },
        ] satisfies Route[])
      : []),
  ];

  const app = new Hono();
  // The Allow header of each path: GET brings HEAD, which Hono answers from the GET handler.
  const allow = new Map<string, string>();
  for (const { method, path, handler } of routes) {
    app.on(method, path, method === "GET" ? sizedForHead(handler) : handler);
    allow.set(path, method === "GET" ? "GET, HEAD" : method);
  }

  // 405 comes from here rather than from app.all() routes: a GET that matches two handlers (or
  // passes a middleware) goes through Hono's async compose, about 1.5 us of CPU more per request.
  app.notFound((c) => {
    const methods = allow.get(c.req.path);
    return methods ? c.body("405 Method Not Allowed\n", 405, { ...TEXT, allow: methods }) : c.body("404 Not Found\n", 404, TEXT);
  });

  // Request metrics wrap the fetch handler instead of being a middleware, for the same reason.
  // Hono's own request() calls this.fetch, so tests and both entries go through it.
  const dispatch = app.fetch;
  app.fetch = (request, env, executionCtx) => {
    const began = performance.now();
    // The routes are fixed paths (queries are not part of it): the matched pattern is the path
    // itself, read as Hono reads it, so the label takes only the route table's values.
    const path = app.getPath(request, { env });
    const route = allow.has(path) ? path : UNMATCHED_ROUTE;
    const done = (response: Response) => {
      metrics.inFlight.dec();
      // A request released from a hang was never answered: it has no status to count.
      if (response.status !== RELEASED) {
        metrics.observe(request.method, route, response.status, (performance.now() - began) / 1000);
      }
      return response;
    };
    metrics.inFlight.inc();
    let answer: Response | Promise<Response>;
    try {
      answer = dispatch(request, env, executionCtx);
    } catch (error) {
      metrics.inFlight.dec();
      throw error;
    }
    if (!(answer instanceof Promise)) return done(answer);
    return answer.then(done, (error: unknown) => {
      metrics.inFlight.dec();
      throw error;
    });
  };

  return {
    app,
    metrics,
    state,
    /** Epoch ms of the start. */
    startedAt: state.startedAt,
    /** Epoch ms of the crash: CRASH_AFTER after the start, or earlier by POST /control/crash. */
    get crashAt() {
      return state.crashAt;
    },
    isCrashed: state.isCrashed,
  };
}

/**
 * Hono answers HEAD with the GET handler's answer minus its body, and the length goes with the
 * body: Deno then says `content-length: 0` where GET says 7. RFC 9110 9.3.2 and 8.6: HEAD sends
 * GET's header fields, and a Content-Length, if sent, is GET's. Only HEAD pays for the measure.
 */
function sizedForHead(handler: Handler): Handler {
  return (c) => (c.req.method === "HEAD" ? withLength(handler(c)) : handler(c));
}

async function withLength(answer: Response | Promise<Response>): Promise<Response> {
  const response = await answer;
  if (response.body === null || response.headers.has("content-length")) return response;
  const body = await response.arrayBuffer();
  const headers = new Headers(response.headers);
  headers.set("content-length", String(body.byteLength));
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}
