// The app under abuse, as real processes on loopback (the bundle on Node, `npm run app:deno` on
// Deno): floods of idle connections, slowloris, a GET with a 4 GB body and a /metrics burst right
// after the start. Each asserts what a liveness probe needs: no 3 probes in a row fail while it
// goes on (failureThreshold's default), and the next probe after it succeeds; and what the runtime
// bounds. Figures (RSS from /proc, probe latencies, when connections were shed) are printed.
// Timing bounds are generous: speed belongs in `npm run bench`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt } from "../../test/built.ts";
import { freePort, npmScript, start, type Started } from "../../test/processes.ts";
import { HTTP_LIMITS } from "../src/node-http.ts";
import { dribble, hugeBody, longestFailureRun, metricsBurst, openConnections, probe, prober, rssMiB, shed, sleep, summary } from "./attacks.ts";

const RUNTIMES = {
  node: ["node", "dist/bundle/app.mjs"],
  deno: npmScript("app:deno"),
} as const;
type Runtime = keyof typeof RUNTIMES;

/**
 * What each runtime bounds. Node: everything (services/src/node-http.ts). Deno.serve (2.9) has
 * no connection timeouts or limit and drains a GET's body whatever the answer says (README, "Limits"):
 * on Deno these tests hold the probes' line only.
 */
const BOUNDS: Record<Runtime, { shedMs?: number; held?: number; bodyClosedMs?: number }> = {
  node: {
    // The longest timeout, one check late, and room for a loaded machine.
    shedMs: Math.max(HTTP_LIMITS.headersTimeoutMs, HTTP_LIMITS.keepAliveTimeoutMs) + HTTP_LIMITS.checkEveryMs + 3_000,
    held: HTTP_LIMITS.maxConnections,
    bodyClosedMs: 1_000,
  },
  deno: {},
};

const FLOOD = 3_000;
const log = (line: string) => console.log(line);

async function startApp(runtime: Runtime): Promise<{ app: Started; port: number }> {
  const port = await freePort();
  const app = await start([...RUNTIMES[runtime]], { PORT: String(port), HOST: "127.0.0.1", CRASH_AFTER: "600" }, /listening on/);
  return { app, port };
}

/** Probes until `attack` is over and one period more, then asserts the liveness line. */
async function underProbes<T>(port: number, attack: () => Promise<T>): Promise<{ result: T; probes: string }> {
  const probes = prober(port, 200);
  let result: T;
  try {
    result = await attack();
  } finally {
    await sleep(300);
  }
  const results = await probes.stop();
  const after = await probe(port);
  expect(longestFailureRun(results), summary(results)).toBeLessThan(3);
  expect(after.ok, `the probe after the attack: ${after.what}`).toBe(true);
  return { result: result!, probes: summary(results) };
}

beforeAll(() => assertBuilt());

describe.each(Object.keys(RUNTIMES) as Runtime[])("the %s app under abuse", (runtime) => {
  const bounds = BOUNDS[runtime];
  let app: Started;
  let port: number;
  beforeAll(async () => ({ app, port } = await startApp(runtime)));
  afterAll(async () => void (await app?.stop("SIGTERM")));

  it(`a flood of ${FLOOD} idle connections (header-less, idle keep-alive, slowloris) fails no probe, and held ones are bounded and shed`, { timeout: 30_000 }, async () => {
    const before = rssMiB(app.pid);
    const { result, probes } = await underProbes(port, async () => {
      const third = FLOOD / 3;
      const floods = [
        await openConnections(port, third, ""),
        await openConnections(port, third, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"),
        await openConnections(port, third, "GET /health HTTP/1.1\r\nHost: x\r\n"),
      ];
      const stopDribble = dribble(floods[2]!, 500);
      try {
        await sleep(1_000);
        const rss = rssMiB(app.pid);
        const open = floods.reduce((n, f) => n + f.open(), 0);
        // Deno sheds nothing: hold them for a while under probes, then let go.
        const left = await Promise.all(floods.map((f) => shed(f, bounds.shedMs ?? 2_000)));
        const shedMs = floods.flatMap((f) => f.closedAfterMs).sort((a, b) => a - b);
        floods.forEach((f) => f.destroy());
        return { rss, open, left, lastShedMs: Math.round(shedMs.at(-1) ?? NaN), failed: floods.reduce((n, f) => n + f.failed, 0) };
      } finally {
        stopDribble();
      }
    });
    log(
      `${runtime}: ${FLOOD} idle connections: RSS ${before} -> ${result.rss} MiB, ${result.open} held after 1 s, ${result.failed} refused; ` +
        `still open at the bound: ${result.left.join("/")} (header-less/keep-alive/slowloris), last shed after ${result.lastShedMs} ms; probes: ${probes}`,
    );
    expect(result.failed).toBe(0);
    if (bounds.held !== undefined) expect(result.open).toBeLessThanOrEqual(bounds.held);
    if (bounds.shedMs !== undefined) expect(result.left).toEqual([0, 0, 0]);
  });

  for (const chunked of [false, true]) {
    it(`a GET /health with a huge body (${chunked ? "chunked" : "Content-Length: 4000000000"}) is answered, ${bounds.bodyClosedMs ? "and its connection closed unread" : "drained by Deno.serve"}, failing no probe`, async () => {
      const { result, probes } = await underProbes(port, () => hugeBody(port, { chunked, timeoutMs: bounds.bodyClosedMs ? 5_000 : 2_000 }));
      log(`${runtime}: huge-body GET (${chunked ? "chunked" : "Content-Length"}): "${result.answer}", ${result.sentMiB} MiB taken, closed after ${result.closedAfterMs ?? "-"} ms; RSS ${rssMiB(app.pid)} MiB; probes: ${probes}`);
      expect(result.answer).toBe("HTTP/1.1 200 OK");
      if (bounds.bodyClosedMs !== undefined) {
        expect(result.closedAfterMs).toBeLessThan(bounds.bodyClosedMs);
        // What the kernel's socket buffers take, not the body.
        expect(result.sentMiB).toBeLessThan(64);
      }
    });
  }

  if (bounds.bodyClosedMs !== undefined) {
    it("a POST with a huge body (405) has its connection closed unread", async () => {
      const { result } = await underProbes(port, () => hugeBody(port, { method: "POST" }));
      log(`${runtime}: huge-body POST /health: "${result.answer}", ${result.sentMiB} MiB taken, closed after ${result.closedAfterMs ?? "-"} ms`);
      expect(result.closedAfterMs).toBeLessThan(bounds.bodyClosedMs!);
      expect(result.sentMiB).toBeLessThan(64);
    });
  }

  it("a /metrics burst right after the start (256 clients for 2 s) fails no probe, and scrapes share renderings", { timeout: 30_000 }, async () => {
    const fresh = await startApp(runtime);
    try {
      const { result, probes } = await underProbes(fresh.port, () => metricsBurst(fresh.port, 256, 2_000));
      log(`${runtime}: /metrics burst on a fresh start: ${result.ok} answered, ${result.failed} failed, ${result.texts} different texts; RSS ${rssMiB(fresh.app.pid)} MiB; probes: ${probes}`);
      expect(result.failed).toBe(0);
      expect(result.ok).toBeGreaterThan(256);
      // One rendering a second at most (2 s, and a shared one in progress at each end), not one per scrape.
      expect(result.texts).toBeLessThanOrEqual(5);

      // Renderings more than a second apart see what happened between them.
      const count = async () => Number(/^http_requests_total\{method="GET",route="\/health",status="200"\} (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${fresh.port}/metrics`)).text())?.[1] ?? 0);
      const first = await count();
      await probe(fresh.port);
      await sleep(1_100);
      expect(await count()).toBeGreaterThan(first);
    } finally {
      await fresh.app.stop("SIGTERM");
    }
  });

  it("HEAD says GET's content-length, and /x/../health is /health", async () => {
    const url = `http://127.0.0.1:${port}`;
    const get = await fetch(`${url}/health`);
    const head = await fetch(`${url}/health`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String((await get.text()).length));
    // fetch would resolve the dot segments itself: the request line is written by hand.
    const dotted = await rawStatus(port, "/x/../health");
    const escaped = await rawStatus(port, "/x/%2e%2E/health");
    expect([dotted, escaped]).toEqual([200, 200]);
  });
});

/** The status of a GET whose request line carries `path` as is. */
async function rawStatus(port: number, path: string): Promise<number> {
  const { connect } = await import("node:net");
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let answer = "";
    socket.setTimeout(2_000, () => socket.destroy(new Error("no answer")));
    socket.on("data", (d) => (answer += d));
    socket.on("error", reject);
    socket.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
  });
}
