// Side by side with the real prometheus-blackbox-exporter (Debian package): both probe the same
// real targets. They agree on 2xx, 4xx/5xx, timeouts and refused connections; they differ by design
// on 3xx answers, which the kubelet accepts and blackbox's default http_2xx module does not.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, start, type Started } from "../../test/processes.ts";
import { findSample, parseExposition } from "../src/exposition.ts";
import { probeHttp } from "../../probe/src/http.ts";

const TIMEOUT_SECONDS = 0.5;
let dir: string;
let blackbox: Started;
let blackboxUrl: string;
let target: Server;
let base: string;

beforeAll(async () => {
  target = createServer((req, res) => {
    const status = /^\/status\/(\d+)$/.exec(req.url ?? "");
    if (status) return void res.writeHead(Number(status[1])).end("body\n");
    if (req.url === "/same-host") return void res.writeHead(302, { location: "/status/200" }).end();
    if (req.url === "/other-host") return void res.writeHead(302, { location: `http://localhost:${port()}/status/500` }).end();
    // /hang never answers.
  });
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${port()}`;

  dir = mkdtempSync(join(tmpdir(), "crashy-blackbox-"));
  // The module a dashboard would use; the timeout matches the sidecar's.
  writeFileSync(join(dir, "blackbox.yml"), `modules:\n  http_2xx:\n    prober: http\n    timeout: ${TIMEOUT_SECONDS}s\n`);
  const listen = `127.0.0.1:${await freePort()}`;
  blackbox = await start(
    ["prometheus-blackbox-exporter", `--config.file=${join(dir, "blackbox.yml")}`, `--web.listen-address=${listen}`],
    {},
    /msg="Listening on"/,
  );
  blackboxUrl = `http://${listen}`;
});

afterAll(async () => {
  await blackbox?.stop("SIGTERM");
  target?.closeAllConnections();
  target?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const port = () => (target.address() as AddressInfo).port;

async function blackboxProbe(url: string) {
  const query = new URLSearchParams({ target: url, module: "http_2xx" });
  const response = await fetch(`${blackboxUrl}/probe?${query}`);
  expect(response.status).toBe(200);
  const samples = parseExposition(await response.text());
  return { success: findSample(samples, "probe_success"), status: findSample(samples, "probe_http_status_code") };
}

async function ours(url: string) {
  const outcome = await probeHttp({ url, timeoutSeconds: TIMEOUT_SECONDS });
  return { success: outcome.result === "success" ? 1 : 0, status: outcome.statusCode };
}

describe("probe_success beside blackbox_exporter", () => {
  test.each([
    ["200", "/status/200", 1],
    ["204", "/status/204", 1],
    ["302 to the same host, then 200", "/same-host", 1],
    ["404", "/status/404", 0],
    ["500", "/status/500", 0],
    ["503", "/status/503", 0],
    ["a timeout", "/hang", 0],
  ])("agree on %s", async (_what, path, expected) => {
    const [theirs, mine] = await Promise.all([blackboxProbe(`${base}${path}`), ours(`${base}${path}`)]);
    expect(mine.success).toBe(expected);
    expect(theirs.success).toBe(expected);
    expect(mine.status).toBe(theirs.status);
  });

  test("agree on a refused connection", async () => {
    const url = `http://127.0.0.1:${await freePort()}/health`;
    const [theirs, mine] = await Promise.all([blackboxProbe(url), ours(url)]);
    expect(theirs).toEqual({ success: 0, status: 0 });
    expect(mine).toEqual({ success: 0, status: 0 });
  });

  test("differ by design on a final 3xx: the kubelet accepts 300-399, blackbox's http_2xx does not", async () => {
    const [theirs, mine] = await Promise.all([blackboxProbe(`${base}/status/399`), ours(`${base}/status/399`)]);
    expect(mine).toEqual({ success: 1, status: 399 });
    expect(theirs).toEqual({ success: 0, status: 399 });
  });

  test("differ by design on a redirect to another host: the kubelet stops there, blackbox follows it", async () => {
    const [theirs, mine] = await Promise.all([blackboxProbe(`${base}/other-host`), ours(`${base}/other-host`)]);
    expect(mine).toEqual({ success: 1, status: 302 });
    expect(theirs).toEqual({ success: 0, status: 500 });
  });
});
