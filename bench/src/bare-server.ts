// The floor: a bare node:http server answering /health, / and /metrics with the app's bodies and
// headers, and nothing else (no router, no metrics). Same env as the app: PORT, HOST, HOSTNAME.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { hostname } from "node:os";
import process from "node:process";

const TEXT = "text/plain; charset=utf-8";
const name = process.env.HOSTNAME || hostname();
const home = `Hi, my name is ${name} and I'm a crashy app...\nBut I didn't crash... yet :D\n`;
// The app's own /metrics text, captured by the bench, so the bytes sent are the same.
const metrics = process.env.BARE_METRICS_FILE ? readFileSync(process.env.BARE_METRICS_FILE, "utf8") : "# none\n";

const server = createServer((req, res) => {
  const path = req.url ?? "/";
  if (path === "/health") return send(res, 200, "200 OK\n", TEXT);
  if (path === "/") return send(res, 200, home, TEXT);
  if (path === "/metrics") return send(res, 200, metrics, "text/plain; version=0.0.4; charset=utf-8");
  send(res, 404, "404 Not Found\n", TEXT);
});

function send(res: import("node:http").ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? "127.0.0.1", () => {
  console.log(`bare: listening on ${process.env.HOST}:${process.env.PORT}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
