// The sidecar's HTTP endpoints: /metrics, /healthz, /api/status and the page, as a plain route table.
// No Hono, and nothing of Response, Request, Headers or fetch: on Node, touching any of those loads
// its internal undici, 16 MiB of the sidecar's RSS (issue 14). node.ts serves it with node:http.
import { PAGE, type PageFiles } from "./page.ts";
import type { Sidecar } from "./sidecar.ts";

/** What the server answers to one request; `headers` has the content-length of the GET's body. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface SidecarServer {
  /** `path` as the request line has it: a query string is ignored. */
  answer(method: string, path: string): Promise<Answer>;
}

const TEXT = { "content-type": "text/plain; charset=utf-8" };
// Nothing but the sidecar itself may be loaded by the page.
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
  "cache-control": "no-store",
};

type Route = () => Answer | Promise<Answer>;
const encoder = new TextEncoder();
const reply = (status: number, headers: Record<string, string>, body: string): Answer => ({
  status,
  headers: { ...headers, "content-length": String(encoder.encode(body).byteLength) },
  body,
});
const NOT_FOUND = reply(404, TEXT, "404 Not Found\n");

/** `page` defaults to the page built into the bundle; unbundled there is none, so pass it. */
export function createServer(sidecar: Pick<Sidecar, "metrics" | "health" | "status">, page: PageFiles | undefined = PAGE): SidecarServer {
  if (!page) throw new Error("the sidecar's page is built into its bundle: run dist/bundle/sidecar.mjs (npm run build), or pass the page");
  // The page's bytes never change: their answers are made once.
  const index = reply(200, { ...PAGE_HEADERS, "content-type": "text/html; charset=UTF-8" }, page.html);
  const script = reply(200, { ...PAGE_HEADERS, "content-type": "text/javascript; charset=utf-8" }, page.script);
  const routes = new Map<string, Route>([
    ["/metrics", async () => reply(200, { "content-type": sidecar.metrics.registry.contentType }, await sidecar.metrics.registry.metrics())],
    [
      "/healthz",
      () => {
        const { ok, reason } = sidecar.health();
        return reply(ok ? 200 : 503, TEXT, `${ok ? "ok" : "not ok"}: ${reason}\n`);
      },
    ],
    ["/api/status", () => reply(200, { "cache-control": "no-store", "content-type": "application/json" }, JSON.stringify(sidecar.status()))],
    ["/", () => index],
    ["/page.js", () => script],
  ]);

  return {
    async answer(method, path) {
      const query = path.indexOf("?");
      const route = method === "GET" || method === "HEAD" ? routes.get(query < 0 ? path : path.slice(0, query)) : undefined;
      const answer = route ? await route() : NOT_FOUND;
      // HEAD is GET without the body: same status and headers, content-length included.
      return method === "HEAD" ? { ...answer, body: "" } : answer;
    },
  };
}
