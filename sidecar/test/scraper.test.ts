// Restart detection against real local servers that play the app's /metrics.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { freePort } from "../../test/processes.ts";
import { createRestartDetector, createScraper, MAX_SCRAPE_BYTES, scrapeStartTime, type Restart, type ScrapeResult } from "../src/scraper.ts";

let server: Server;
let base: string;
let startTime = "1764198693.123";

beforeAll(async () => {
  server = createServer((req, res) => {
    const text = "# TYPE crashy_start_time_seconds gauge\n";
    switch (req.url) {
      case "/metrics":
        return void res.end(`${text}crashy_start_time_seconds ${startTime}\nprocess_start_time_seconds 1764198693\n`);
      case "/only-process":
        return void res.end("process_start_time_seconds 1764198693\n");
      case "/none":
        return void res.end("up 1\n");
      case "/broken":
        return void res.end("crashy_start_time_seconds{ 12\n");
      case "/huge":
        return void res.end(`# ${"x".repeat(MAX_SCRAPE_BYTES)}\n`);
      case "/hang":
        return;
      case "/slow-body":
        // Headers and the first line, then nothing: the deadline covers the body too.
        res.writeHead(200);
        return void res.write("# TYPE crashy_start_time_seconds gauge\n");
      default:
        res.writeHead(500).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("scrapeStartTime", () => {
  test("reads the millisecond-precise start time", async () => {
    expect(await scrapeStartTime(`${base}/metrics`, 1)).toMatchObject({ ok: true, startTimeSeconds: 1764198693.123 });
  });

  test("falls back to process_start_time_seconds", async () => {
    expect(await scrapeStartTime(`${base}/only-process`, 1)).toMatchObject({ ok: true, startTimeSeconds: 1764198693 });
  });

  test.each([
    // Only /hang needs a short timeout; the others get room for a busy machine.
    ["/none", /no crashy_start_time_seconds or process_start_time_seconds/, 10],
    ["/broken", /malformed exposition, line 1: /, 10],
    ["/huge", /body larger than 4194304 bytes/, 10],
    ["/status", /status 500/, 10],
    ["/hang", /no answer within 0.3 s/, 0.3],
    ["/slow-body", /no answer within 0.3 s/, 0.3],
  ])("%s is a failed scrape, not a crash", async (path, error, timeoutSeconds) => {
    const result = await scrapeStartTime(`${base}${path}`, timeoutSeconds);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(error);
  });

  test("a refused connection is a failed scrape", async () => {
    const result = await scrapeStartTime(`http://127.0.0.1:${await freePort()}/metrics`, 1);
    expect(!result.ok && result.error).toMatch(/ECONNREFUSED/);
  });
});

describe("restart detection", () => {
  test("the first start time is the baseline; each change is one restart", () => {
    const detector = createRestartDetector();
    expect(detector.observe(100.001, 1)).toBeUndefined();
    expect(detector.observe(100.001, 2)).toBeUndefined();
    // 2 ms later: process_start_time_seconds would not have moved.
    expect(detector.observe(100.003, 3)).toEqual({ detectedAt: 3, startTimeSeconds: 100.003, previousStartTimeSeconds: 100.001 });
    expect(detector.observe(100.003, 4)).toBeUndefined();
  });

  test("the scraper notices a restart across failed scrapes", async () => {
    const scrapes: ScrapeResult[] = [];
    const restarts: Restart[] = [];
    startTime = "1764198693.123";
    const scraper = createScraper({
      url: `${base}/metrics`,
      intervalSeconds: 0.05,
      onScrape: (r) => scrapes.push(r),
      onRestart: (r) => restarts.push(r),
    });
    scraper.start();
    const waitFor = async (check: () => boolean) => {
      for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
      expect(check()).toBe(true);
    };
    await waitFor(() => scrapes.length >= 2);
    expect(restarts).toHaveLength(0);
    startTime = "1764198699.5";
    await waitFor(() => restarts.length === 1);
    expect(restarts[0]).toMatchObject({ startTimeSeconds: 1764198699.5, previousStartTimeSeconds: 1764198693.123 });
    await scraper.stop();
    const count = scrapes.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(scrapes.length).toBe(count);
  });

  test("a wall clock stepped back or forward 60 s keeps the scrape interval; each result's time is the wall clock's", async () => {
    // vi.setSystemTime steps Date alone; performance.now() runs on, as a monotonic clock does.
    vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z"), toFake: ["Date", "setTimeout", "clearTimeout", "performance"] });
    try {
      const began: number[] = [];
      const results: ScrapeResult[] = [];
      const scraper = createScraper({
        url: "http://127.0.0.1:1/metrics",
        intervalSeconds: 5,
        scrape: async () => {
          began.push(performance.now());
          return { ok: true, at: Date.now(), durationSeconds: 0, startTimeSeconds: 1 };
        },
        onScrape: (r) => results.push(r),
      });
      const t0 = performance.now();
      scraper.start();
      await vi.advanceTimersByTimeAsync(6_000);
      vi.setSystemTime(Date.now() - 60_000);
      await vi.advanceTimersByTimeAsync(5_000);
      vi.setSystemTime(Date.now() + 120_000);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(began.map((t) => t - t0)).toEqual([0, 5_000, 10_000, 15_000]);
      expect(results.map((r) => r.at - results[0]!.at)).toEqual([0, 5_000, 10_000 - 60_000, 15_000 + 60_000]);
      await scraper.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  test("stop() does not wait for a hung scrape", async () => {
    const scraper = createScraper({ url: `${base}/hang`, intervalSeconds: 10 });
    scraper.start();
    await new Promise((r) => setTimeout(r, 50));
    const began = performance.now();
    await scraper.stop();
    expect(performance.now() - began).toBeLessThan(200);
  });
});
