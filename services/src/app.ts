// The crashy app: a Web-standard fetch handler (Hono) that answers normally for CRASH_AFTER seconds,
// then fails the way CRASH_MODE says. Runtime-neutral: no Node or Deno APIs here.
import { Hono, type Context } from "hono";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import { createMetrics, renderMetrics, UNMATCHED_ROUTE } from "./metrics.ts";

export type AppOptions = {
  config: Config;
  clock: Clock;
  /** Shown in the greeting: the pod name on Kubernetes. */
  hostname: string;
  /** Label for crashy_info, such as "node" or "deno". */
  runtime: string;
};

export type CrashyApp = ReturnType<typeof createApp>;

const TEXT = { "content-type": "text/plain; charset=utf-8" };
const ALLOW = "GET, HEAD";

export function createApp({ config, clock, hostname, runtime }: AppOptions) {
  const startedAt = clock.now();
  const crashAt = startedAt + config.crashAfterSeconds * 1000;
  const isCrashed = () => clock.now() >= crashAt;
  const metrics = createMetrics({ config, runtime, startedAt, isCrashed });

  const app = new Hono();

  app.use(async (c, next) => {
    const began = performance.now();
    metrics.inFlight.inc();
    try {
      await next();
    } finally {
      metrics.inFlight.dec();
    }
    // A request released from a hang was never answered: it has no status to count.
    if (c.get("hung")) return;
    const route = c.get("route") ?? UNMATCHED_ROUTE;
    metrics.observe(c.req.method, route, c.res.status, (performance.now() - began) / 1000);
  });

  const greeting = `Hi, my name is ${hostname} and I'm a crashy app...\n`;

  app.get("/", (c) => {
    c.set("route", "/");
    if (!isCrashed()) return c.body(`${greeting}But I didn't crash... yet :D\n`, 200, TEXT);
    if (config.crashMode === "hang") return hang(c);
    const ago = ((clock.now() - crashAt) / 1000).toFixed(2);
    return c.body(`${greeting}I crashed ${ago} seconds ago, sorry about that :(\n`, 500, TEXT);
  });

  app.get("/health", (c) => {
    c.set("route", "/health");
    if (!isCrashed()) return c.body("200 OK\n", 200, TEXT);
    if (config.crashMode === "hang") return hang(c);
    return c.body("500 Internal Server Error\n", 500, TEXT);
  });

  // Answers after the crash too, so the crashed state stays observable.
  app.get("/metrics", async (c) => {
    c.set("route", "/metrics");
    return c.body(await renderMetrics(metrics.registry), 200, { "content-type": metrics.registry.contentType });
  });

  for (const path of ["/", "/health", "/metrics"]) {
    app.all(path, (c) => {
      c.set("route", path);
      return c.body("405 Method Not Allowed\n", 405, { ...TEXT, allow: ALLOW });
    });
  }

  app.notFound((c) => c.body("404 Not Found\n", 404, TEXT));

  return { app, metrics, startedAt, crashAt, isCrashed };
}

/**
 * Never answers, like a deadlocked server, so a probe fails by its timeout. The request is
 * released when its client goes away (or the server cuts it at shutdown), so nothing leaks.
 */
function hang(c: Context): Promise<Response> {
  c.set("hung", true);
  const signal = c.req.raw.signal;
  // Nobody is left to read this answer; settling the promise just lets the request be collected.
  const gone = () => new Response(null, { status: 503 });
  return new Promise((resolve) => {
    if (signal.aborted) resolve(gone());
    else signal.addEventListener("abort", () => resolve(gone()), { once: true });
  });
}

declare module "hono" {
  interface ContextVariableMap {
    route?: string;
    hung?: boolean;
  }
}
