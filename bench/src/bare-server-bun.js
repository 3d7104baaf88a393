// The Bun floor: a bare Bun.serve answering /health, / and /metrics with the app's bodies and
// headers, and nothing else. Plain JavaScript so the Node build and typecheck leave it alone; the
// bench runs it with bun from node_modules.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

const TEXT = "text/plain; charset=utf-8";
const env = process.env;
const home = `Hi, my name is ${env.HOSTNAME || hostname()} and I'm a crashy app...\nBut I didn't crash... yet :D\n`;
const metrics = env.BARE_METRICS_FILE ? readFileSync(env.BARE_METRICS_FILE, "utf8") : "# none\n";

const send = (status, body, type) => new Response(body, { status, headers: { "content-type": type } });

const server = Bun.serve({
  hostname: env.HOST ?? "127.0.0.1",
  port: Number(env.PORT ?? 8080),
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/health") return send(200, "200 OK\n", TEXT);
    if (path === "/") return send(200, home, TEXT);
    if (path === "/metrics") return send(200, metrics, "text/plain; version=0.0.4; charset=utf-8");
    return send(404, "404 Not Found\n", TEXT);
  },
});
console.log(`bare bun: listening on ${server.hostname}:${server.port}`);
process.on("SIGTERM", () => process.exit(0));
