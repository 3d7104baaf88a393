// The built sidecar, run as `npm run sidecar` runs it, never loads Node's undici: touching the global
// Response, Request, Headers or fetch would load it, 16 MiB of RSS (issue 14's 60 MiB). A preload
// module in the sidecar's own process writes, as the process exits, the modules Node has loaded.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { assertBuilt } from "../../test/built.ts";
import { eventually, freePort, scriptProgram, start } from "../../test/processes.ts";

const UNDICI = "NativeModule internal/deps/undici/undici";
let dir: string;
let preload: string;
let target: Server;
let scrapes = 0;

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "crashy-undici-"));
  preload = join(dir, "loaded.cjs");
  writeFileSync(preload, `process.on("exit", () => require("node:fs").writeFileSync(process.env.LOADED_FILE, JSON.stringify(process.moduleLoadList)));\n`);
  target = createServer((req, res) => {
    if (req.url === "/metrics") scrapes++;
    res.end(req.url === "/metrics" ? "crashy_start_time_seconds 1764198693.123\n" : "ok\n");
  });
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
});
afterAll(() => {
  target.closeAllConnections();
  target.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * `argv` with the preload after `node`; resolves, once it has exited, with the modules it loaded.
 * With `work`, it is a sidecar: `work` runs once it listens, then SIGTERM stops it.
 */
async function loadedBy(argv: string[], env: Record<string, string>, work?: () => Promise<void>) {
  const file = join(dir, `loaded-${Math.random().toString(36).slice(2)}.json`);
  const child = await start([argv[0]!, "--require", preload, ...argv.slice(1)], { ...env, LOADED_FILE: file }, work && /crashy-sidecar: listening on/);
  if (work) await work();
  const code = work ? (await child.stop("SIGTERM")).code : await child.exited;
  expect(code, child.output()).toBe(0);
  return JSON.parse(readFileSync(file, "utf8")) as string[];
}

/** One request by node:http, as a browser or Prometheus sends it; resolves with the status. */
const get = (url: string, method = "GET") =>
  new Promise<number>((resolve, reject) => request(url, { method }, (res) => res.resume().on("end", () => resolve(res.statusCode!))).on("error", reject).end());

describe("the sidecar bundle and Node's undici", () => {
  test("the check sees undici when a program touches Response", async () => {
    const loaded = await loadedBy(["node", "-e", "globalThis.Response"], {});
    expect(loaded).toContain(UNDICI);
  });

  test("probing, scraping and serving every endpoint, the sidecar never loads it", async () => {
    const argv = scriptProgram("sidecar");
    expect(argv).toContain("--lite-mode");
    const port = await freePort();
    const base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    const sidecar = `http://127.0.0.1:${port}`;
    const loaded = await loadedBy(
      argv,
      {
        PORT: String(port),
        HOST: "127.0.0.1",
        LIVENESS_PROBE_URL: `${base}/health`,
        LIVENESS_PROBE_PERIOD_SECONDS: "0.05",
        READINESS_PROBE_URL: `${base}/ready`,
        READINESS_PROBE_PERIOD_SECONDS: "0.05",
        METRICS_URL: `${base}/metrics`,
        SCRAPE_INTERVAL_SECONDS: "0.05",
      },
      async () => {
        const before = scrapes;
        await eventually(async () => (scrapes > before + 3 ? true : undefined), 5_000, "a few scrapes");
        for (const path of ["/", "/page.js", "/api/status", "/metrics", "/healthz"]) {
          expect(await get(`${sidecar}${path}`), path).toBe(200);
          expect(await get(`${sidecar}${path}?x=1`, "HEAD"), path).toBe(200);
        }
        expect(await get(`${sidecar}/nope`)).toBe(404);
      },
    );
    // The preload ran and saw the sidecar's own modules.
    expect(loaded).toContain("NativeModule http");
    expect(loaded.filter((m) => /undici/.test(m))).toEqual([]);
  });
});
