import { describe, expect, it } from "vitest";
import { createLogger } from "../../lib/log.ts";
import { createApp } from "../src/app.ts";
import { CRASH_MODES, loadConfig, type CrashMode } from "../src/config.ts";

/**
 * A clock the test moves by hand: crossing the crash needs no sleeping. `advance` moves both
 * readings; `step` moves the wall clock alone, as NTP or an admin does. The monotonic origin is not
 * the epoch, as performance.now()'s is not.
 */
function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let wall = start;
  let monotonic = 12_345.5;
  return {
    now: () => wall,
    monotonic: () => monotonic,
    advance(ms: number) {
      wall += ms;
      monotonic += ms;
    },
    step: (ms: number) => void (wall += ms),
  };
}

function setup(crashMode: CrashMode = "error", crashAfter = "60") {
  const clock = fakeClock();
  const crashy = createApp({
    config: loadConfig({ CRASH_AFTER: crashAfter, CRASH_MODE: crashMode }),
    clock,
    hostname: "crashy-app-5799b6fd57-sd56v",
    runtime: "test",
  });
  return { clock, crashy, get: (path: string, init?: RequestInit) => crashy.app.request(path, init) };
}

const GREETING = "Hi, my name is crashy-app-5799b6fd57-sd56v and I'm a crashy app...\n";

async function metricsText(crashy: ReturnType<typeof setup>["crashy"]) {
  return (await crashy.app.request("/metrics")).text();
}

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("before the crash", () => {
  it("greets with the hostname and says it has not crashed yet", async () => {
    const { get, clock } = setup();
    clock.advance(59_999);
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe(`${GREETING}But I didn't crash... yet :D\n`);
  });

  it("answers /health with 200 OK", async () => {
    const res = await setup().get("/health");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("200 OK\n");
  });
});

describe("after the crash, CRASH_MODE=error", () => {
  it("answers / with 500 and the seconds since the crash, two decimals", async () => {
    const { get, clock } = setup();
    clock.advance(60_000 + 2_850);
    const res = await get("/");
    expect(res.status).toBe(500);
    expect(await res.text()).toBe(`${GREETING}I crashed 2.85 seconds ago, sorry about that :(\n`);
  });

  it("crashes exactly at CRASH_AFTER, not a millisecond later", async () => {
    const { get, clock } = setup();
    clock.advance(60_000);
    const res = await get("/");
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("I crashed 0.00 seconds ago");
  });

  it("answers /health with 500 Internal Server Error", async () => {
    const { get, clock } = setup();
    clock.advance(61_000);
    const res = await get("/health");
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("500 Internal Server Error\n");
  });

  it("keeps /metrics answering, and crashy_crashed turns from 0 to 1", async () => {
    const { crashy, clock } = setup();
    expect(sample(await metricsText(crashy), "crashy_crashed")).toBe(0);
    clock.advance(60_000);
    const res = await crashy.app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(sample(await res.text(), "crashy_crashed")).toBe(1);
  });

  it("crashes at once with CRASH_AFTER=0", async () => {
    const { get } = setup("error", "0");
    expect((await get("/health")).status).toBe(500);
  });
});

describe("after the crash, CRASH_MODE=hang", () => {
  async function settlesWithin(pending: unknown, ms: number): Promise<boolean> {
    const promise = Promise.resolve(pending);
    return Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  }

  it("answers normally before the crash", async () => {
    const { get } = setup("hang");
    expect((await get("/health")).status).toBe(200);
  });

  it("never answers / or /health, but /metrics still answers", async () => {
    const { get, clock } = setup("hang");
    clock.advance(60_000);
    expect(await settlesWithin(get("/health"), 50)).toBe(false);
    expect(await settlesWithin(get("/"), 50)).toBe(false);
    const metrics = await get("/metrics");
    expect(metrics.status).toBe(200);
    expect(sample(await metrics.text(), "http_requests_in_flight")).toBe(3);
  });

  it("lets a held request go when its client goes away, without counting it as answered", async () => {
    const { get, clock, crashy } = setup("hang");
    clock.advance(60_000);
    const client = new AbortController();
    const held = get("/health", { signal: client.signal });
    expect(await settlesWithin(held, 20)).toBe(false);
    client.abort();
    expect(await settlesWithin(held, 200)).toBe(true);
    const text = await metricsText(crashy);
    expect(sample(text, "http_requests_in_flight")).toBe(1); // the scrape itself
    expect(text).not.toContain('route="/health"');
  });
});

describe("CRASH_MODE=exit", () => {
  it("answers normally until the entry file ends the process", async () => {
    const { get, clock } = setup("exit");
    expect((await get("/")).status).toBe(200);
    clock.advance(60_000);
    // The app itself reports the crash like error mode; the Node and Deno entries exit at crashAt.
    expect((await get("/health")).status).toBe(500);
  });
});

describe("routing", () => {
  it("answers unknown paths with 404", async () => {
    const res = await setup().get("/does/not/exist");
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("404 Not Found\n");
  });

  it("answers other methods on known paths with 405 and an Allow header", async () => {
    const res = await setup().get("/health", { method: "POST", body: "x" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("answers HEAD like GET, without a body", async () => {
    const { get, clock } = setup();
    const before = await get("/health", { method: "HEAD" });
    expect(before.status).toBe(200);
    expect(await before.text()).toBe("");
    clock.advance(60_000);
    expect((await get("/health", { method: "HEAD" })).status).toBe(500);
  });
});

describe("the hot path", () => {
  // A promise here means Hono's async compose (a middleware, two matching handlers): about 1.5 us
  // of CPU more per request, which the benchmark measures.
  it.each<[string, Record<string, string>]>([
    ["/", {}],
    ["/health", {}],
    ["/ready", {}],
    ["/health", { CONTROL: "true", STARTUP_SECONDS: "1" }],
  ])("answers GET %s synchronously (%j)", (path, env) => {
    const { crashy } = setupWith(env);
    const answer = crashy.app.fetch(new Request(`http://pod${path}`));
    expect(answer).toBeInstanceOf(Response);
  });
});

describe("request metrics", () => {
  it("label requests by method, matched route and status", async () => {
    const { get, clock, crashy } = setup();
    await get("/");
    await get("/health");
    clock.advance(60_000);
    await get("/health");
    await get("/health", { method: "DELETE" });
    const text = await metricsText(crashy);
    expect(sample(text, 'http_requests_total{method="GET",route="/",status="200"}')).toBe(1);
    expect(sample(text, 'http_requests_total{method="GET",route="/health",status="200"}')).toBe(1);
    expect(sample(text, 'http_requests_total{method="GET",route="/health",status="500"}')).toBe(1);
    expect(sample(text, 'http_requests_total{method="DELETE",route="/health",status="405"}')).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count{method="GET",route="/health",status="500"}')).toBe(1);
  });

  it("give every unmatched path and unknown method one label value, so random input cannot add series", async () => {
    const { get, crashy } = setup();
    for (let i = 0; i < 50; i++) {
      await get(`/random/${i}/${Math.random()}`, { method: i % 2 ? "GET" : `X-CUSTOM-${i}` });
    }
    const text = await metricsText(crashy);
    const series = text.split("\n").filter((l) => l.startsWith("http_requests_total{"));
    expect(series.sort()).toEqual([
      'http_requests_total{method="GET",route="unmatched",status="404"} 25',
      'http_requests_total{method="OTHER",route="unmatched",status="404"} 25',
    ]);
  });
});

describe("app metrics", () => {
  it("export the crash setting, the info labels and a start time precise to the millisecond", async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 0, 0, 0, 123));
    const crashy = createApp({
      config: loadConfig({ CRASH_AFTER: "2.5", CRASH_MODE: "hang" }),
      clock,
      hostname: "h",
      runtime: "test",
    });
    const text = await metricsText(crashy);
    expect(sample(text, "crashy_crash_after_seconds")).toBe(2.5);
    expect(sample(text, 'crashy_info{runtime="test",version="1.0.0",crash_mode="hang"}')).toBe(1);
    expect(sample(text, "crashy_start_time_seconds")).toBe(Date.UTC(2026, 0, 1, 0, 0, 0, 123) / 1000);
    expect(text).toContain("# TYPE http_request_duration_seconds histogram");
  });

  it("live on a registry of their own, so two apps in one process do not share counts", async () => {
    const a = setup();
    const b = setup();
    await a.get("/");
    expect(await metricsText(b.crashy)).not.toContain('route="/",status="200"');
  });
});

/** An app with any variables, its log lines (JSON, parsed) and the times onCrash was called. */
function setupWith(env: Record<string, string>, format: "json" | "text" = "json") {
  const clock = fakeClock();
  const lines: string[] = [];
  const crashes: number[] = [];
  const log = createLogger({ program: "crashy", format, clock, sink: { stdout: (l) => void lines.push(l), stderr: (l) => void lines.push(`stderr ${l}`) } });
  const crashy = createApp({
    config: loadConfig(env),
    clock,
    hostname: "crashy-app-5799b6fd57-sd56v",
    runtime: "test",
    log,
    onCrash: () => void crashes.push(clock.now()),
  });
  const request = (path: string, init?: RequestInit) => crashy.app.request(path, init);
  const answer = async (path: string, init?: RequestInit) => {
    const res = await request(path, init);
    return { status: res.status, body: await res.text() };
  };
  return {
    clock,
    crashy,
    request,
    answer,
    post: (path: string) => answer(path, { method: "POST" }),
    lines,
    logged: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    crashes,
    metrics: () => metricsText(crashy),
  };
}

const AT = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();

describe("/ready", () => {
  it("answers 200 ready, in plain text, while started and not crashed", async () => {
    const { request } = setupWith({});
    const res = await request("/ready");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe("ready\n");
  });

  it.each(CRASH_MODES)("answers 503 crashed once crashed, with CRASH_MODE=%s too (it never hangs)", async (mode) => {
    const { answer, clock } = setupWith({ CRASH_MODE: mode, CRASH_AFTER: "5" });
    clock.advance(4_999);
    expect(await answer("/ready")).toEqual({ status: 200, body: "ready\n" });
    clock.advance(1);
    expect(await answer("/ready")).toEqual({ status: 503, body: "crashed\n" });
  });

  it("answers HEAD like GET, and other methods 405 with Allow", async () => {
    const { request } = setupWith({});
    const head = await request("/ready", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await request("/ready", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("is counted under its own route, and crashy_ready follows it", async () => {
    const { request, clock, metrics } = setupWith({ CRASH_AFTER: "5" });
    await request("/ready");
    expect(sample(await metrics(), "crashy_ready")).toBe(1);
    clock.advance(5_000);
    await request("/ready");
    const text = await metrics();
    expect(sample(text, "crashy_ready")).toBe(0);
    expect(sample(text, 'http_requests_total{method="GET",route="/ready",status="200"}')).toBe(1);
    expect(sample(text, 'http_requests_total{method="GET",route="/ready",status="503"}')).toBe(1);
  });
});

describe("STARTUP_SECONDS", () => {
  it("answers 503 starting on /health and /ready, and 503 on /, for that long after the start", async () => {
    const { answer, clock } = setupWith({ STARTUP_SECONDS: "30" });
    expect(await answer("/health")).toEqual({ status: 503, body: "starting\n" });
    expect(await answer("/ready")).toEqual({ status: 503, body: "starting\n" });
    clock.advance(10_000);
    expect(await answer("/")).toEqual({
      status: 503,
      body: `${GREETING}I'm still starting up, 20.00 seconds to go (STARTUP_SECONDS=30)\n`,
    });
    clock.advance(19_999);
    expect((await answer("/health")).status).toBe(503);
    expect((await answer("/ready")).status).toBe(503);
    expect((await answer("/")).status).toBe(503);
  });

  it("ends exactly at STARTUP_SECONDS: /health, /ready and / answer 200", async () => {
    const { answer, clock } = setupWith({ STARTUP_SECONDS: "30" });
    clock.advance(30_000);
    expect(await answer("/health")).toEqual({ status: 200, body: "200 OK\n" });
    expect(await answer("/ready")).toEqual({ status: 200, body: "ready\n" });
    expect(await answer("/")).toEqual({ status: 200, body: `${GREETING}But I didn't crash... yet :D\n` });
  });

  it("keeps /metrics answering while starting; crashy_started and crashy_ready turn from 0 to 1", async () => {
    const { request, clock, metrics } = setupWith({ STARTUP_SECONDS: "2.5" });
    expect((await request("/metrics")).status).toBe(200);
    let text = await metrics();
    expect(sample(text, "crashy_startup_seconds")).toBe(2.5);
    expect(sample(text, "crashy_started")).toBe(0);
    expect(sample(text, "crashy_ready")).toBe(0);
    clock.advance(2_500);
    text = await metrics();
    expect(sample(text, "crashy_started")).toBe(1);
    expect(sample(text, "crashy_ready")).toBe(1);
  });

  it("is 0 by default: the app answers 200 from its first instant", async () => {
    const { answer, metrics } = setupWith({});
    expect((await answer("/health")).status).toBe(200);
    expect(sample(await metrics(), "crashy_started")).toBe(1);
  });

  it("does not move the crash: CRASH_AFTER counts from the start, STARTUP_SECONDS included", async () => {
    const { answer, clock } = setupWith({ STARTUP_SECONDS: "30", CRASH_AFTER: "60" });
    clock.advance(59_999);
    expect((await answer("/health")).status).toBe(200);
    clock.advance(1);
    expect(await answer("/health")).toEqual({ status: 500, body: "500 Internal Server Error\n" });
  });

  it("gives way to a crash that comes first: with CRASH_AFTER < STARTUP_SECONDS the app never gets up", async () => {
    const { answer, clock, metrics } = setupWith({ STARTUP_SECONDS: "30", CRASH_AFTER: "10" });
    clock.advance(9_999);
    expect((await answer("/health")).status).toBe(503);
    clock.advance(1);
    expect(await answer("/health")).toEqual({ status: 500, body: "500 Internal Server Error\n" });
    expect(await answer("/ready")).toEqual({ status: 503, body: "crashed\n" });
    expect(await answer("/")).toEqual({ status: 500, body: `${GREETING}I crashed 0.00 seconds ago, sorry about that :(\n` });
    clock.advance(30_000);
    expect((await answer("/health")).status).toBe(500);
    expect(await answer("/ready")).toEqual({ status: 503, body: "crashed\n" });
    // Started (STARTUP_SECONDS are over) but crashed, so not ready.
    const text = await metrics();
    expect([sample(text, "crashy_started"), sample(text, "crashy_crashed"), sample(text, "crashy_ready")]).toEqual([1, 1, 0]);
  });

  it("answers 503 starting with CRASH_MODE=hang too: only the crash hangs", async () => {
    const { answer } = setupWith({ STARTUP_SECONDS: "30", CRASH_MODE: "hang" });
    expect(await answer("/health")).toEqual({ status: 503, body: "starting\n" });
  });
});

const CONTROL_PATHS = ["/control", "/control/crash", "/control/unready", "/control/ready", "/control/fail", "/control/fail?count=3"];

describe("the wall clock (lib/clock.ts): stepped, it moves no crash and no start-up", () => {
  it.each([
    ["back", -60_000],
    ["forward", 60_000],
  ])("stepped %s 60 s: up until exactly CRASH_AFTER and STARTUP_SECONDS of monotonic time, then crashed", async (_name, step) => {
    const { clock, answer } = setupWith({ STARTUP_SECONDS: "5", CRASH_AFTER: "30" });
    clock.advance(1_000);
    clock.step(step);
    clock.advance(3_999);
    expect((await answer("/health")).status).toBe(503);
    clock.advance(1);
    expect((await answer("/health")).status).toBe(200);
    clock.step(-step);
    clock.advance(24_999);
    expect(await answer("/health")).toEqual({ status: 200, body: "200 OK\n" });
    clock.advance(1);
    expect(await answer("/health")).toEqual({ status: 500, body: "500 Internal Server Error\n" });
    clock.step(step);
    clock.advance(2_500);
    expect((await answer("/")).body).toContain("I crashed 2.50 seconds ago");
  });

  it("GET /control shows instants as the wall clock reads now and uptime on the monotonic clock; the start time stays when it was", async () => {
    const { request, clock, metrics } = setupWith({ CONTROL: "true", STARTUP_SECONDS: "5", CRASH_AFTER: "60" });
    clock.advance(1_000);
    clock.step(-60_000);
    clock.advance(234);
    expect(await (await request("/control")).json()).toMatchObject({
      phase: "starting",
      startTime: AT(0),
      startupEndsAt: AT(5_000 - 60_000),
      crashAt: AT(60_000 - 60_000),
      uptimeSeconds: 1.234,
    });
    // Prometheus reads the start on the wall clock, as it was at the start.
    expect(await metrics()).toContain(`crashy_start_time_seconds ${Date.UTC(2026, 0, 1) / 1000}\n`);
  });
});

describe("the control API when off (the default)", () => {
  it.each<Record<string, string>>([{}, { CONTROL: "false" }])("answers every control path and method 404, exactly as an unknown path (%j)", async (env) => {
    const { request, answer, metrics } = setupWith(env);
    for (const path of CONTROL_PATHS) {
      for (const method of ["GET", "POST", "DELETE"]) {
        const res = await request(path, { method });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.headers.get("allow")).toBeNull();
        expect(await res.text()).toBe("404 Not Found\n");
      }
    }
    // Nothing switched, nothing counted under a control route, no action series.
    expect(await answer("/ready")).toEqual({ status: 200, body: "ready\n" });
    expect(await answer("/health")).toEqual({ status: 200, body: "200 OK\n" });
    const text = await metrics();
    expect(text).not.toContain('route="/control');
    expect(sample(text, 'http_requests_total{method="POST",route="unmatched",status="404"}')).toBe(6);
    expect(text).not.toMatch(/^crashy_control_actions_total\{/m);
  });

  it("logs nothing", async () => {
    const { post, lines } = setupWith({});
    await post("/control/crash");
    expect(lines).toEqual([]);
  });
});

describe("the control API when CONTROL=true", () => {
  it("GET /control shows the state as JSON", async () => {
    const { request, clock } = setupWith({ CONTROL: "true", STARTUP_SECONDS: "5", CRASH_AFTER: "60" });
    clock.advance(1_234);
    const res = await request("/control");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({
      readiness: "starting",
      ready: false,
      phase: "starting",
      started: false,
      crashed: false,
      unready: false,
      failNext: 0,
      startupSeconds: 5,
      crashAfterSeconds: 60,
      crashMode: "error",
      crashCause: "CRASH_AFTER",
      startTime: AT(0),
      startupEndsAt: AT(5_000),
      crashAt: AT(60_000),
      uptimeSeconds: 1.234,
    });
    const head = await request("/control", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("POST /control/unready takes /ready to 503 unready, without touching /health or /; /control/ready undoes it", async () => {
    const { post, answer, logged, metrics } = setupWith({ CONTROL: "true" });
    expect(await post("/control/unready")).toEqual({
      status: 200,
      body: "POST /control/unready: readiness switched off, /ready now answers 503 unready\n",
    });
    expect(await answer("/ready")).toEqual({ status: 503, body: "unready\n" });
    expect(await answer("/health")).toEqual({ status: 200, body: "200 OK\n" });
    expect((await answer("/")).status).toBe(200);
    expect(sample(await metrics(), "crashy_ready")).toBe(0);
    expect(JSON.parse((await answer("/control")).body)).toMatchObject({ readiness: "unready", ready: false, unready: true });

    expect(await post("/control/ready")).toEqual({
      status: 200,
      body: "POST /control/ready: readiness switched on, /ready now answers 200 ready\n",
    });
    expect(await answer("/ready")).toEqual({ status: 200, body: "ready\n" });
    expect(sample(await metrics(), "crashy_ready")).toBe(1);

    expect(logged()).toEqual([
      {
        time: AT(0),
        level: "info",
        msg: "POST /control/unready: readiness switched off, /ready now answers 503 unready",
        program: "crashy",
        action: "unready",
        readiness: "unready",
      },
      {
        time: AT(0),
        level: "info",
        msg: "POST /control/ready: readiness switched on, /ready now answers 200 ready",
        program: "crashy",
        action: "ready",
        readiness: "ready",
      },
    ]);
  });

  it("switched unready while starting, stays unready once started; the message says what /ready answers now", async () => {
    const { post, answer, clock } = setupWith({ CONTROL: "true", STARTUP_SECONDS: "10" });
    expect((await post("/control/unready")).body).toBe("POST /control/unready: readiness switched off, /ready now answers 503 starting\n");
    clock.advance(10_000);
    expect(await answer("/health")).toEqual({ status: 200, body: "200 OK\n" });
    expect(await answer("/ready")).toEqual({ status: 503, body: "unready\n" });
  });

  it("POST /control/fail?count=3 fails the next 3 /health answers with 500, then 200 again; / and /ready are untouched", async () => {
    const { post, answer, logged, metrics } = setupWith({ CONTROL: "true" });
    expect(await post("/control/fail?count=3")).toEqual({
      status: 200,
      body: "POST /control/fail?count=3: the next 3 /health answers that would be 200 are 500 instead\n",
    });
    expect(sample(await metrics(), "crashy_health_failures_pending")).toBe(3);
    expect((await answer("/")).status).toBe(200);
    expect((await answer("/ready")).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await answer("/health"));
    expect(statuses).toEqual([
      { status: 500, body: "500 Internal Server Error\n" },
      { status: 500, body: "500 Internal Server Error\n" },
      { status: 500, body: "500 Internal Server Error\n" },
      { status: 200, body: "200 OK\n" },
      { status: 200, body: "200 OK\n" },
    ]);
    expect(sample(await metrics(), "crashy_health_failures_pending")).toBe(0);
    expect(logged()).toEqual([
      {
        time: AT(0),
        level: "info",
        msg: "POST /control/fail?count=3: the next 3 /health answers that would be 200 are 500 instead",
        program: "crashy",
        action: "fail",
        count: 3,
      },
    ]);
  });

  it("counts HEAD /health answers as /health answers", async () => {
    const { post, request, answer } = setupWith({ CONTROL: "true" });
    await post("/control/fail?count=1");
    expect((await request("/health", { method: "HEAD" })).status).toBe(500);
    expect((await answer("/health")).status).toBe(200);
  });

  it("spends the count only on answers that would be 200: not while starting", async () => {
    const { post, answer, clock } = setupWith({ CONTROL: "true", STARTUP_SECONDS: "10" });
    expect((await post("/control/fail?count=1")).body).toBe(
      "POST /control/fail?count=1: the next /health answer that would be 200 is 500 instead\n",
    );
    expect(await answer("/health")).toEqual({ status: 503, body: "starting\n" });
    expect(await answer("/health")).toEqual({ status: 503, body: "starting\n" });
    clock.advance(10_000);
    expect((await answer("/health")).status).toBe(500);
    expect((await answer("/health")).status).toBe(200);
  });

  it("replaces the count left with the new one", async () => {
    const { post, answer } = setupWith({ CONTROL: "true" });
    await post("/control/fail?count=5");
    await post("/control/fail?count=1");
    expect((await answer("/health")).status).toBe(500);
    expect((await answer("/health")).status).toBe(200);
  });

  it.each(["1", "1000", "0007"])("takes count=%s", async (count) => {
    const { post, answer } = setupWith({ CONTROL: "true" });
    expect((await post(`/control/fail?count=${count}`)).status).toBe(200);
    expect(JSON.parse((await answer("/control")).body).failNext).toBe(Number(count));
  });

  it.each(["0", "1001", "-1", "abc", "1.5", "", "%203", "3e2", "0x10", "99999999999999999999"])(
    "answers count=%s with 400 and one clear line, changing and logging nothing",
    async (count) => {
      const { post, answer, lines, metrics } = setupWith({ CONTROL: "true" });
      const value = decodeURIComponent(count);
      expect(await post(`/control/fail?count=${count}`)).toEqual({
        status: 400,
        body: `400 Bad Request: count=${JSON.stringify(value)} is invalid: expected a whole number from 1 to 1000, such as /control/fail?count=3\n`,
      });
      expect((await answer("/health")).status).toBe(200);
      expect(lines).toEqual([]);
      const text = await metrics();
      expect(sample(text, 'crashy_control_actions_total{action="fail"}')).toBe(0);
      expect(sample(text, 'http_requests_total{method="POST",route="/control/fail",status="400"}')).toBe(1);
    },
  );

  it("answers a missing count with 400", async () => {
    const { post } = setupWith({ CONTROL: "true" });
    expect(await post("/control/fail")).toEqual({
      status: 400,
      body: "400 Bad Request: count is missing: expected a whole number from 1 to 1000, such as /control/fail?count=3\n",
    });
  });

  it("POST /control/crash crashes now, as CRASH_MODE=error says, logs a warning and calls onCrash once", async () => {
    const { post, answer, clock, logged, crashes, metrics } = setupWith({ CONTROL: "true", CRASH_AFTER: "60" });
    clock.advance(12_345);
    expect(await post("/control/crash")).toEqual({
      status: 200,
      body: "POST /control/crash: crashed after 12.35 s: / and /health now answer 500, /metrics still answers\n",
    });
    expect(crashes).toEqual([Date.UTC(2026, 0, 1) + 12_345]);
    expect(await answer("/health")).toEqual({ status: 500, body: "500 Internal Server Error\n" });
    expect(await answer("/ready")).toEqual({ status: 503, body: "crashed\n" });
    clock.advance(2_850);
    expect((await answer("/")).body).toBe(`${GREETING}I crashed 2.85 seconds ago, sorry about that :(\n`);
    expect(sample(await metrics(), "crashy_crashed")).toBe(1);
    expect(JSON.parse((await answer("/control")).body)).toMatchObject({ crashed: true, crashCause: "control", crashAt: AT(12_345) });

    // Again: nothing more happens, and the answer says so.
    expect(await post("/control/crash")).toEqual({ status: 200, body: "POST /control/crash: crashed already, 2.85 s ago (POST /control/crash)\n" });
    expect(crashes).toHaveLength(1);
    expect(logged()).toEqual([
      {
        time: AT(12_345),
        level: "warn",
        msg: "POST /control/crash: crashed after 12.35 s: / and /health now answer 500, /metrics still answers",
        program: "crashy",
        action: "crash",
        crashed: true,
        uptime_seconds: 12.345,
        crash_mode: "error",
      },
      {
        time: AT(15_195),
        level: "info",
        msg: "POST /control/crash: crashed already, 2.85 s ago (POST /control/crash)",
        program: "crashy",
        action: "crash",
        crashed: false,
        crash_cause: "control",
      },
    ]);
    expect(sample(await metrics(), 'crashy_control_actions_total{action="crash"}')).toBe(2);
  });

  it("POST /control/crash with CRASH_MODE=hang: / and /health never answer, /ready and /metrics do", async () => {
    const { post, request, answer } = setupWith({ CONTROL: "true", CRASH_MODE: "hang" });
    expect((await post("/control/crash")).body).toBe("POST /control/crash: crashed after 0.00 s: / and /health now never answer, /metrics still answers\n");
    const client = new AbortController();
    const pending = Promise.resolve(request("/health", { signal: client.signal }));
    const held = Promise.race([pending.then(() => "answered"), new Promise((r) => setTimeout(() => r("held"), 50))]);
    expect(await held).toBe("held");
    client.abort();
    expect(await answer("/ready")).toEqual({ status: 503, body: "crashed\n" });
  });

  it("POST /control/crash with CRASH_MODE=exit says the entry exits", async () => {
    const { post, crashes } = setupWith({ CONTROL: "true", CRASH_MODE: "exit" });
    expect((await post("/control/crash")).body).toBe("POST /control/crash: crashed after 0.00 s: exiting with code 1 (CRASH_MODE=exit)\n");
    expect(crashes).toHaveLength(1);
  });

  it("POST /control/crash during STARTUP_SECONDS crashes: the crash wins over starting", async () => {
    const { post, answer } = setupWith({ CONTROL: "true", STARTUP_SECONDS: "30" });
    await post("/control/crash");
    expect((await answer("/health")).status).toBe(500);
    expect(await answer("/ready")).toEqual({ status: 503, body: "crashed\n" });
  });

  it("POST /control/crash after the scheduled crash changes nothing and says which came first", async () => {
    const { post, clock, crashes } = setupWith({ CONTROL: "true", CRASH_AFTER: "5" });
    clock.advance(6_000);
    expect((await post("/control/crash")).body).toBe("POST /control/crash: crashed already, 1.00 s ago (CRASH_AFTER)\n");
    expect(crashes).toEqual([]);
  });

  it("switching ready after a crash leaves /ready at 503 crashed, and says so", async () => {
    const { post, answer } = setupWith({ CONTROL: "true" });
    await post("/control/crash");
    expect((await post("/control/ready")).body).toBe("POST /control/ready: readiness switched on, /ready now answers 503 crashed\n");
    expect((await answer("/ready")).body).toBe("crashed\n");
  });

  it("answers wrong methods 405 with the path's Allow, and unknown control paths 404", async () => {
    const { request } = setupWith({ CONTROL: "true" });
    for (const path of ["/control/crash", "/control/unready", "/control/ready", "/control/fail"]) {
      for (const method of ["GET", "HEAD", "PUT", "DELETE"]) {
        const res = await request(path, { method });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get("allow")).toBe("POST");
      }
    }
    const post = await request("/control", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect((await request("/control/explode", { method: "POST" })).status).toBe(404);
  });

  it("counts every switch by action, each series there from the start", async () => {
    const { post, metrics } = setupWith({ CONTROL: "true" });
    const counts = async () => {
      const text = await metrics();
      return ["crash", "unready", "ready", "fail"].map((a) => sample(text, `crashy_control_actions_total{action="${a}"}`));
    };
    expect(await counts()).toEqual([0, 0, 0, 0]);
    await post("/control/unready");
    await post("/control/unready");
    await post("/control/ready");
    await post("/control/fail?count=2");
    await post("/control/crash");
    expect(await counts()).toEqual([1, 2, 1, 1]);
  });

  it("keeps the route label to the route table: queries and unknown control paths add no series", async () => {
    const { post, metrics } = setupWith({ CONTROL: "true" });
    for (let i = 1; i <= 30; i++) await post(`/control/fail?count=${i}&x=${Math.random()}`);
    for (let i = 0; i < 30; i++) await post(`/control/${i}`);
    const text = await metrics();
    const series = text.split("\n").filter((l) => l.startsWith('http_requests_total{method="POST"'));
    expect(series.sort()).toEqual([
      'http_requests_total{method="POST",route="/control/fail",status="200"} 30',
      'http_requests_total{method="POST",route="unmatched",status="404"} 30',
    ]);
  });

  it("logs text lines with LOG_FORMAT=text", async () => {
    const { post, lines } = setupWith({ CONTROL: "true" }, "text");
    await post("/control/unready");
    await post("/control/crash");
    expect(lines).toEqual([
      "crashy: POST /control/unready: readiness switched off, /ready now answers 503 unready",
      "crashy: POST /control/crash: crashed after 0.00 s: / and /health now answer 500, /metrics still answers",
    ]);
  });
});
