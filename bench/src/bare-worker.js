// The workerd floor: a bare worker answering /health, / and /metrics with the app's bodies and
// headers, and nothing else (bare-worker.capnp serves it). The /metrics text comes as a binding.
import { env } from "cloudflare:workers";

const TEXT = "text/plain; charset=utf-8";
const home = `Hi, my name is ${env.HOSTNAME || "workerd"} and I'm a crashy app...\nBut I didn't crash... yet :D\n`;
const metrics = env.BARE_METRICS || "# none\n";

const send = (status, body, type) => new Response(body, { status, headers: { "content-type": type } });

export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/health") return send(200, "200 OK\n", TEXT);
    if (path === "/") return send(200, home, TEXT);
    if (path === "/metrics") return send(200, metrics, "text/plain; version=0.0.4; charset=utf-8");
    return send(404, "404 Not Found\n", TEXT);
  },
};
