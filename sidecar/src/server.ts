// The sidecar's HTTP endpoints (Hono, runtime-neutral): /metrics, /healthz, /api/status and the page.
import { Hono } from "hono";
import { PAGE, type PageFiles } from "./page.ts";
import type { Sidecar } from "./sidecar.ts";

const TEXT = { "content-type": "text/plain; charset=utf-8" };
// Nothing but the sidecar itself may be loaded by the page.
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
  "cache-control": "no-store",
};

/** `page` defaults to the page built into the bundle; unbundled there is none, so pass it. */
export function createServer(sidecar: Pick<Sidecar, "metrics" | "health" | "status">, page: PageFiles | undefined = PAGE) {
  if (!page) throw new Error("the sidecar's page is built into its bundle: run dist/bundle/sidecar.mjs (npm run build), or pass the page");
  const app = new Hono();

  app.get("/metrics", async (c) =>
    c.body(await sidecar.metrics.registry.metrics(), 200, { "content-type": sidecar.metrics.registry.contentType }),
  );

  app.get("/healthz", (c) => {
    const { ok, reason } = sidecar.health();
    return c.body(`${ok ? "ok" : "not ok"}: ${reason}\n`, ok ? 200 : 503, TEXT);
  });

  app.get("/api/status", (c) => c.json(sidecar.status(), 200, { "cache-control": "no-store" }));

  app.get("/", (c) => c.html(page.html, 200, PAGE_HEADERS));
  app.get("/page.js", (c) => c.body(page.script, 200, { ...PAGE_HEADERS, "content-type": "text/javascript; charset=utf-8" }));

  app.notFound((c) => c.body("404 Not Found\n", 404, TEXT));
  return app;
}
