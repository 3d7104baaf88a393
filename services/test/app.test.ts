import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { loadConfig, type CrashMode } from "../src/config.ts";

/** A clock the test moves by hand: crossing the crash needs no sleeping. */
function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
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
