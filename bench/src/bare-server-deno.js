// The Deno floor: a bare Deno.serve answering /health, / and /metrics with the app's bodies and
// headers, and nothing else. Plain JavaScript so the Node build and typecheck leave it alone; the
// bench runs it with deno and grants only the net, its env variables and the /metrics text file.
const TEXT = "text/plain; charset=utf-8";
const env = (name) => Deno.env.get(name);
const home = `Hi, my name is ${env("HOSTNAME") || Deno.hostname()} and I'm a crashy app...\nBut I didn't crash... yet :D\n`;
const metrics = env("BARE_METRICS_FILE") ? Deno.readTextFileSync(env("BARE_METRICS_FILE")) : "# none\n";

const send = (status, body, type) => new Response(body, { status, headers: { "content-type": type } });

Deno.serve(
  {
    hostname: env("HOST") ?? "127.0.0.1",
    port: Number(env("PORT") ?? 8080),
    onListen: ({ hostname, port }) => console.log(`bare deno: listening on ${hostname}:${port}`),
  },
  (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/health") return send(200, "200 OK\n", TEXT);
    if (path === "/") return send(200, home, TEXT);
    if (path === "/metrics") return send(200, metrics, "text/plain; version=0.0.4; charset=utf-8");
    return send(404, "404 Not Found\n", TEXT);
  },
);
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
