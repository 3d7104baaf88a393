// The crashy app: a Web-standard fetch handler (Hono) that answers normally for CRASH_AFTER seconds,
// then fails the way CRASH_MODE says. Runtime-neutral: no Node or Deno APIs here.
import { Hono, type Context } from "hono";
import type { Clock } from "../../lib/clock.ts";
import type { Config } from "./config.ts";
import { renderMetrics } from "../../lib/metrics-cache.ts";
import { createMetrics, UNMATCHED_ROUTE } from "./metrics.ts";

export type AppOptions = {
  config: Config;
  clock: Clock;
  /** Shown in the greeting: the pod name on Kubernetes. */
  hostname: string;
  /** Label for crashy_info, such as "node" or "deno". */
  runtime: string;
  /**
   * Where the runtime cannot tell that a client went away (workerd), the longest a request is held
   * by CRASH_MODE=hang before it is released; elsewhere it is held until its client goes away.
   */
  holdMs?: number;
};

export type CrashyApp = ReturnType<typeof createApp>;

const TEXT = { "content-type": "text/plain; charset=utf-8" };
const ROUTES: ReadonlySet<string> = new Set(["/", "/health", "/metrics"]);
const ALLOW = "GET, HEAD";

export function createApp({ config, clock, hostname, runtime, holdMs }: AppOptions) {
  const startedAt = clock.now();
  const crashAt = startedAt + config.crashAfterSeconds * 1000;
  const isCrashed = () => clock.now() >= crashAt;
  const metrics = createMetrics({ config, runtime, startedAt, isCrashed });

  const app = new Hono();
  const greeting = `Hi, my name is ${hostname} and I'm a crashy app...\n`;

  // Typed, since TypeScript 7 no longer picks an overload for the union of a body and a promise.
  app.get("/", (c): Response | Promise<Response> => {
    if (!isCrashed()) return c.body(`${greeting}But I didn't crash... yet :D\n`, 200, TEXT);
    if (config.crashMode === "hang") return hang(c, holdMs);
    const ago = ((clock.now() - crashAt) / 1000).toFixed(2);
    return c.body(`${greeting}I crashed ${ago} seconds ago, sorry about that :(\n`, 500, TEXT);
  });

  app.get("/health", (c): Response | Promise<Response> => {
    if (!isCrashed()) return c.body("200 OK\n", 200, TEXT);
    if (config.crashMode === "hang") return hang(c, holdMs);
    return c.body("500 Internal Server Error\n", 500, TEXT);
  });

  // Answers after the crash too, so the crashed state stays observable.
  app.get("/metrics", async (c) => {
    return c.body(await renderMetrics(metrics.registry), 200, { "content-type": metrics.registry.contentType });
  });

  // 405 comes from here rather than from app.all() routes: a GET that matches two handlers (or
  // passes a middleware) goes through Hono's async compose, about 1.5 us of CPU more per request.
  app.notFound((c) =>
    ROUTES.has(c.req.path)
      ? c.body("405 Method Not Allowed\n", 405, { ...TEXT, allow: ALLOW })
      : c.body("404 Not Found\n", 404, TEXT),
  );

  // Request metrics wrap the fetch handler instead of being a middleware, for the same reason.
  // Hono's own request() calls this.fetch, so tests and both entries go through it.
  const dispatch = app.fetch;
  app.fetch = (request, env, executionCtx) => {
    const began = performance.now();
    // The routes are fixed paths: the matched pattern is the path itself, read as Hono reads it.
    const path = app.getPath(request, { env });
    const route = ROUTES.has(path) ? path : UNMATCHED_ROUTE;
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

  return { app, metrics, startedAt, crashAt, isCrashed };
}

// The status of the answer that stands for a request released from a hang (nobody reads it), so
// the metrics can leave it out. The app answers 503 nowhere else; Hono's HEAD handling keeps it.
const RELEASED = 503;

// Requests held by a hang, until their client goes away. Holding each here keeps its abort signal
// alive: a Request made from a caller's signal (undici's, as app.request() makes) follows that
// signal only through a weak reference, so a hung request that nothing else refers to could be
// garbage-collected and then never released.
const held = new Set<Request>();

/**
 * Never answers, like a deadlocked server, so a probe fails by its timeout. The request is
 * released when its client goes away (or the server cuts it at shutdown), so nothing leaks.
 */
function hang(c: Context, holdMs?: number): Promise<Response> {
  const request = c.req.raw;
  // Nobody is left to read this answer; settling the promise just lets the request be collected.
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const release = () => {
      clearTimeout(timer);
      held.delete(request);
      resolve(new Response(null, { status: RELEASED }));
    };
    if (request.signal.aborted) return release();
    held.add(request);
    request.signal.addEventListener("abort", release, { once: true });
    if (holdMs !== undefined) timer = setTimeout(release, holdMs);
  });
}
