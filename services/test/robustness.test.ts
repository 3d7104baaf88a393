// Bad input, faults and load: random requests through the app answer exactly as specified (the
// control API off, its paths unknown ones) and never hang; the real Node entry under load crosses the crash instant without a wrong or lost answer,
// and SIGTERM lets requests already begun finish.
import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import autocannon, { type Result } from "autocannon";
import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, ROOT, sleep, start, type Started } from "../../test/processes.ts";
import { APP_ENTRY, assertBuilt } from "../../test/built.ts";
import { createApp } from "../src/app.ts";
import { CRASH_MODES, loadConfig, type CrashMode } from "../src/config.ts";

const ROUTES = ["/", "/health", "/ready", "/metrics"] as const;
const KNOWN_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"];
const STATUSES = ["200", "404", "405", "500", "503"];
const CRASH_AFTER_MS = 60_000;

// ---- the specification, written independently of the app ----

/** The path a server sees: the URL's own normalisation, then RFC 3986 6.2.2.2 (unreserved octets decoded). */
function specPath(path: string): string {
  const pathname = new URL(`http://localhost${path}`).pathname;
  return pathname.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : escape;
  });
}

/** The method as fetch's Request normalises it (only these six are upper-cased). */
function specMethod(method: string): string {
  const upper = method.toUpperCase();
  return ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"].includes(upper) ? upper : method;
}

type Expected = { status: number | "never"; body: string; allow: string | null };

function expected(path: string, method: string, crashed: boolean, mode: CrashMode): Expected {
  const route = specPath(path);
  if (!(ROUTES as readonly string[]).includes(route)) return { status: 404, body: "404 Not Found\n", allow: null };
  if (method !== "GET" && method !== "HEAD") return { status: 405, body: "405 Method Not Allowed\n", allow: "GET, HEAD" };
  if (route === "/metrics") return { status: 200, body: "", allow: null };
  // /ready answers in every mode, hang included.
  if (route === "/ready") return crashed ? { status: 503, body: "crashed\n", allow: null } : { status: 200, body: "ready\n", allow: null };
  if (!crashed) return { status: 200, body: route === "/health" ? "200 OK\n" : "", allow: null };
  if (mode === "hang") return { status: "never", body: "", allow: null };
  return { status: 500, body: route === "/health" ? "500 Internal Server Error\n" : "", allow: null };
}

// ---- generators ----

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split("");
const token = fc.array(fc.constantFrom(...TCHARS), { minLength: 1, maxLength: 12 }).map((cs) => cs.join(""));

// fetch's Request refuses CONNECT, TRACE and TRACK outright, so app.request() can never be given them.
const method = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom("GET", "HEAD", "get", "Head", "POST", "PUT", "DELETE", "PATCH", "patch", "OPTIONS") },
    { weight: 2, arbitrary: token },
  )
  .filter((m) => !["CONNECT", "TRACE", "TRACK"].includes(m.toUpperCase()));

const segment = fc.oneof(
  // The control API is off here (CONTROL unset): its paths are unknown ones.
  fc.constantFrom("", "health", "metrics", "ready", "READY", "control", "crash", "HEALTH", "Health", "..", ".", "%68ealth", "he%61lth", "%2Fhealth", "%2e%2e", "%", "%zz", "%E2%82", "%00", ";", "health;x"),
  fc.string({ unit: "binary", maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.string({ maxLength: 12 }).map((s) => s.replace(/[?#]/g, "")),
);
const path = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ROUTES) }, { weight: 2, arbitrary: fc.array(segment, { maxLength: 4 }).map((s) => `/${s.join("/")}`) }),
    fc.constantFrom("", "/", "?", "?x=1&y", "#frag", "?a=%zz#b", "//", "/.", "/.."),
  )
  .map(([p, suffix]) => p + suffix)
  // A URL the WHATWG parser cannot read never reaches an app.
  .filter((p) => URL.canParse(`http://localhost${p}`));

const HEADER_NAMES = ["content-type", "content-length", "accept", "accept-encoding", "cookie", "authorization", "x-forwarded-for", "range", "if-none-match", "expect", "upgrade", "transfer-encoding", "connection"];
const headerValue = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((n) => String.fromCharCode(n)), maxLength: 40 });
const headers = fc.dictionary(fc.oneof(fc.constantFrom(...HEADER_NAMES), token), headerValue, { maxKeys: 6 });

const body = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 2048 }),
  fc.constantFrom("{", '{"a":', "\u0000\uffff", "x".repeat(256 * 1024)),
);

const request = fc.record({ path, method, headers, body, mode: fc.constantFrom(...CRASH_MODES), crashed: fc.boolean(), lateMs: fc.nat(10 * CRASH_AFTER_MS) });

// ---- helpers ----

function clockAt(start: number) {
  let now = start;
  return { now: () => now, monotonic: () => now, set: (at: number) => void (now = at) };
}

/** Settles with the answer, or with "none" if none comes within `ms`: a bound on every request. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | "none"> {
  let timer: NodeJS.Timeout | undefined;
  const none = new Promise<"none">((resolve) => (timer = setTimeout(() => resolve("none"), ms)));
  try {
    return await Promise.race([promise, none]);
  } finally {
    clearTimeout(timer);
  }
}

function series(metricsText: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of metricsText.split("\n")) {
    const m = /^http_requests_total\{method="([^"]*)",route="([^"]*)",status="([^"]*)"\} (\S+)$/.exec(line);
    if (m) found.set(`${m[1]} ${m[2]} ${m[3]}`, Number(m[4]));
  }
  return found;
}

describe("random requests through app.request()", () => {
  it("answer 404, 405 with Allow, 200, 500 or 503 exactly as specified, HEAD as GET without a body, and never hang", { timeout: 120_000 }, async () => {
    const start = Date.UTC(2026, 0, 1);
    const apps = Object.fromEntries(
      CRASH_MODES.map((mode) => {
        const clock = clockAt(start);
        const crashy = createApp({ config: loadConfig({ CRASH_AFTER: String(CRASH_AFTER_MS / 1000), CRASH_MODE: mode }), clock, hostname: "pod", runtime: "test" });
        return [mode, { crashy, clock, counted: new Map<string, number>() }];
      }),
    ) as Record<CrashMode, { crashy: ReturnType<typeof createApp>; clock: ReturnType<typeof clockAt>; counted: Map<string, number> }>;
    let runs = 0;
    let hangs = 0;

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        runs++;
        const { crashy, clock, counted } = apps[r.mode];
        // Crashed or not, anywhere from the start to ten CRASH_AFTERs past the crash instant.
        clock.set(r.crashed ? crashy.crashAt + r.lateMs : start + (r.lateMs % CRASH_AFTER_MS));
        const m = specMethod(r.method);
        const want = expected(r.path, m, r.crashed, r.mode);
        const controller = new AbortController();
        const init: RequestInit = { method: r.method, headers: r.headers, signal: controller.signal };
        if (r.body !== undefined && m !== "GET" && m !== "HEAD") init.body = r.body;

        const pending = Promise.resolve(crashy.app.request(r.path, init));
        const res = await within(pending, want.status === "never" ? 20 : 5_000);
        if (want.status === "never") {
          hangs++;
          expect(res).toBe("none");
          // A client giving up releases the held request, promptly, and it is not counted.
          controller.abort();
          const settled = pending.then(() => "settled", () => "settled");
          expect(await within(settled, 5_000)).toBe("settled");
          return;
        }
        expect(res, `${r.method} ${r.path} hung`).not.toBe("none");
        if (res === "none") return;
        expect(res.status, `${r.mode} crashed=${r.crashed} ${r.method} ${JSON.stringify(r.path)}`).toBe(want.status);
        expect(res.headers.get("allow")).toBe(want.allow);
        const text = await res.text();
        if (m === "HEAD") expect(text).toBe("");
        else if (want.body) expect(text).toBe(want.body);
        else expect(text.length).toBeGreaterThan(0);
        if (m === "HEAD") {
          // The same status and headers as the GET, minus the body.
          const get = await crashy.app.request(r.path, { ...init, method: "GET", body: null });
          expect(get.status).toBe(res.status);
          expect(get.headers.get("content-type")).toBe(res.headers.get("content-type"));
          await get.text();
          count(counted, "GET", r.path, get.status);
        }
        count(counted, m, r.path, res.status);
      }),
      { numRuns: 3_000, endOnFailure: true },
    );

    // The label set stays within known routes x known methods x statuses, and counts exactly what was answered.
    const bound = (ROUTES.length + 1) * (KNOWN_METHODS.length + 1) * STATUSES.length;
    for (const mode of CRASH_MODES) {
      const { crashy, counted } = apps[mode];
      const found = series(await (await crashy.app.request("/metrics")).text());
      expect(found.size).toBeLessThanOrEqual(bound);
      for (const key of found.keys()) {
        const [m, route, status] = key.split(" ");
        expect([...KNOWN_METHODS, "OTHER"]).toContain(m);
        expect([...ROUTES, "unmatched"]).toContain(route);
        expect(STATUSES).toContain(status);
      }
      expect(Object.fromEntries(found)).toEqual(Object.fromEntries(counted));
    }
    expect(runs).toBe(3_000);
    // The generators reach every answer, the hang included.
    expect(hangs).toBeGreaterThan(0);
  });
});

function count(counted: Map<string, number>, method: string, path: string, status: number) {
  const route = specPath(path);
  const key = `${KNOWN_METHODS.includes(method) ? method : "OTHER"} ${(ROUTES as readonly string[]).includes(route) ? route : "unmatched"} ${status}`;
  counted.set(key, (counted.get(key) ?? 0) + 1);
}

// ---- the real Node entry ----

const running: Started[] = [];
beforeAll(() => assertBuilt());
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop("SIGKILL")));
});

async function startApp(env: Record<string, string>) {
  const port = await freePort();
  const app = await start(APP_ENTRY, { PORT: String(port), HOST: "127.0.0.1", HOSTNAME: "pod", ...env }, /crashy: listening on/);
  running.push(app);
  return { app, port, url: `http://127.0.0.1:${port}` };
}

/** The app's crash instant in epoch ms, from its millisecond start time. */
async function crashInstant(url: string, crashAfterMs: number): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const started = Number(/^crashy_start_time_seconds (\S+)$/m.exec(text)?.[1]);
  expect(Number.isFinite(started)).toBe(true);
  return Math.round(started * 1000) + crashAfterMs;
}

describe("the real Node entry under load", () => {
  it("answers every request across the crash instant: 200 before it, 500 after it, none lost", { timeout: 30_000 }, async () => {
    const { app, url } = await startApp({ CRASH_AFTER: "1.5" });
    const crashAt = await crashInstant(url, 1_500);
    const answers: { client: object; status: number; sentAt: number; receivedAt: number }[] = [];
    const errors: string[] = [];
    // Bounded in time (until a second and a half past the crash) and in count.
    const duration = Math.max(1, (crashAt + 1_500 - Date.now()) / 1000);
    const result = await new Promise<Result>((resolve, reject) => {
      const load = autocannon({ url: `${url}/health`, connections: 8, duration, maxOverallRequests: 500_000, timeout: 10 }, (error, r) =>
        error ? reject(error) : resolve(r),
      );
      load.on("response", (client, status, _bytes, responseTime) => {
        const receivedAt = Date.now();
        answers.push({ client, status, sentAt: receivedAt - responseTime, receivedAt });
      });
      load.on("reqError", (error) => errors.push(String(error)));
    });

    expect(errors).toEqual([]);
    expect({ errors: result.errors, timeouts: result.timeouts, resets: result.resets, mismatches: result.mismatches }).toEqual({ errors: 0, timeouts: 0, resets: 0, mismatches: 0 });
    expect(Object.keys(result.statusCodeStats).sort()).toEqual(["200", "500"]);
    // Only the requests still in flight when the load stopped may lack an answer: one per connection.
    expect(result.requests.sent - answers.length).toBeLessThanOrEqual(8);

    // The app decides between sending and receiving: a request answered before the instant got a
    // 200, one sent after it a 500; only those spanning the instant (give or take its millisecond) may be either.
    const before = answers.filter((a) => a.receivedAt < crashAt);
    const after = answers.filter((a) => a.sentAt > crashAt + 1);
    const spanning = answers.length - before.length - after.length;
    expect(before.filter((a) => a.status !== 200)).toEqual([]);
    expect(after.filter((a) => a.status !== 500)).toEqual([]);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    // On each connection, once a 500 came no 200 follows: the crash is for good.
    const crashedClients = new Set<object>();
    for (const a of answers) {
      if (a.status === 500) crashedClients.add(a.client);
      else expect(crashedClients.has(a.client)).toBe(false);
    }
    console.log(`across the crash: ${before.length} answered before (200), ${after.length} sent after (500), ${spanning} spanning the instant; sent ${result.requests.sent}`);

    // It is still up after the load, and stops cleanly.
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    expect((await app.stop("SIGTERM")).code).toBe(0);
  });

  it("on SIGTERM under load, answers the requests already begun and exits 0 within a second", { timeout: 30_000 }, async () => {
    const { app, port, url } = await startApp({ CRASH_AFTER: "3600" });
    // The load in a process of its own, so this one stays free to act on time.
    const load = spawn(process.execPath, [`${ROOT}/node_modules/autocannon/autocannon.js`, "--json", "-c", "16", "-d", "3", "-t", "5", `${url}/health`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let loadOut = "";
    load.stdout.on("data", (d) => (loadOut += d));
    const loadDone = new Promise<void>((resolve) => load.once("exit", () => resolve()));
    try {
      await eventually(async () => {
        const text = await (await fetch(`${url}/metrics`)).text();
        return /^http_requests_total\{method="GET",route="\/health",status="200"\} \d{3,}/m.test(text) ? true : undefined;
      }, 10_000, "the load to reach the app");

      // Keep-alive connections mid-request: the request line and some headers, not the blank line that ends them.
      const begun = await Promise.all(Array.from({ length: 6 }, () => openPartial(port)));
      // A request on another connection answered after those bytes were sent: the app has read them by now.
      expect((await fetch(`${url}/health`)).status).toBe(200);
      await sleep(100);

      const stopping = app.stop("SIGTERM");
      await eventually(async () => (app.output().includes("SIGTERM received") ? true : undefined), 1_000, "the SIGTERM line");
      for (const b of begun) b.socket.write("accept: */*\r\n\r\n");
      const answers = await Promise.all(begun.map((b) => b.answer));
      const { code, ms } = await stopping;

      for (const a of answers) {
        expect(a.error).toBeUndefined();
        expect(a.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect(a.text.endsWith("\r\n\r\n200 OK\n")).toBe(true);
        // Answered while stopping: the client is told not to send more on this connection.
        expect(a.text.toLowerCase()).toContain("\r\nconnection: close\r\n");
      }
      expect(code).toBe(0);
      expect(ms).toBeLessThan(1_000);
      console.log(`SIGTERM under load: exit ${code} after ${Math.round(ms)} ms; ${answers.length} requests begun before it all answered`);
    } finally {
      // It ends by itself after its -d seconds; the kill is only a bound.
      const bound = setTimeout(() => load.kill("SIGKILL"), 10_000);
      await loadDone;
      clearTimeout(bound);
      const report = loadOut.trim() ? (JSON.parse(loadOut) as Result) : undefined;
      if (report) {
        console.log(`load beside it: ${report.requests.sent} sent, status codes ${JSON.stringify(report.statusCodeStats)}, errors ${report.errors}, resets ${report.resets}`);
      }
    }
  });
});

/** A connection holding a request begun but not finished; `answer` is all it receives until it closes. */
async function openPartial(port: number): Promise<{ socket: Socket; answer: Promise<{ text: string; error?: string }> }> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.write("GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n");
  const answer = new Promise<{ text: string; error?: string }>((resolve) => {
    let text = "";
    let error: string | undefined;
    socket.on("data", (d) => (text += d));
    socket.on("error", (e) => (error = (e as NodeJS.ErrnoException).code ?? e.message));
    socket.on("close", () => resolve(error === undefined ? { text } : { text, error }));
  });
  return { socket, answer };
}
