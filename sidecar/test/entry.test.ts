// The Node entry as a real process: bad configuration, and a quick stop on SIGTERM/SIGINT.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually, freePort, start } from "../../test/processes.ts";
import { assertBuilt, SIDECAR_ENTRY } from "../../test/built.ts";

let hanging: Server;
let hangingUrl: string;

beforeAll(async () => {
  assertBuilt();
  hanging = createServer(() => {}); // never answers: a probe is always in flight
  await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
  hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
});
afterAll(() => {
  hanging.closeAllConnections();
  hanging.close();
});

/**
 * The sidecar probing and scraping a port where nothing listens, until its first Killing event;
 * then stopped with SIGTERM.
 */
async function failing(env: Record<string, string>) {
  const port = await freePort();
  const nothing = `http://127.0.0.1:${await freePort()}`;
  const sidecar = await start(SIDECAR_ENTRY, {
    PORT: String(port),
    HOST: "127.0.0.1",
    LIVENESS_PROBE_URL: `${nothing}/health`,
    METRICS_URL: `${nothing}/metrics`,
    LIVENESS_PROBE_PERIOD_SECONDS: "0.2",
    LIVENESS_PROBE_TIMEOUT_SECONDS: "0.5",
    LIVENESS_PROBE_FAILURE_THRESHOLD: "1",
    ...env,
  });
  try {
    await eventually(async () => (/Killing/.test(sidecar.output()) && /scrape failed/.test(sidecar.output()) ? true : undefined), 5_000, "a Killing event and a failed scrape");
  } finally {
    expect((await sidecar.stop("SIGTERM")).code).toBe(0);
  }
  return { sidecar, url: `http://127.0.0.1:${port}`, nothing };
}

describe("the sidecar's Node entry", () => {
  test("a bad configuration prints one line per bad variable and exits 2", async () => {
    const sidecar = await start(SIDECAR_ENTRY, {
      LIVENESS_PROBE_PERIOD_SECONDS: "0",
      LIVENESS_PROBE_URL: "ftp://127.0.0.1/health",
      LIVENESS_PROBE_FAILURE_THRESHOLD: "three",
    });
    expect(await sidecar.exited).toBe(2);
    expect(sidecar.output().trim().split("\n")).toEqual([
      'crashy-sidecar: LIVENESS_PROBE_URL="ftp://127.0.0.1/health" is invalid: expected an http://, https:// or tcp:// URL, such as http://127.0.0.1:8080/health or tcp://127.0.0.1:8080',
      'crashy-sidecar: LIVENESS_PROBE_PERIOD_SECONDS="0" is invalid: expected a number of seconds > 0, such as 10 or 0.5',
      'crashy-sidecar: LIVENESS_PROBE_FAILURE_THRESHOLD="three" is invalid: expected a whole number >= 1, such as 3',
    ]);
  });

  test("with no probe configured, one line names the variables to set, exit 2", async () => {
    const sidecar = await start(SIDECAR_ENTRY, { PORT: String(await freePort()), HOST: "127.0.0.1" });
    expect(await sidecar.exited).toBe(2);
    expect(sidecar.output().trim().split("\n")).toEqual([
      'crashy-sidecar: LIVENESS_PROBE_URL="" is invalid: expected a probe to run: set LIVENESS_PROBE_URL, READINESS_PROBE_URL or STARTUP_PROBE_URL, such as LIVENESS_PROBE_URL=http://127.0.0.1:8080/health',
    ]);
  });

  test("a port in use is one line and exit 1", async () => {
    const port = (hanging.address() as AddressInfo).port;
    const sidecar = await start(SIDECAR_ENTRY, { PORT: String(port), HOST: "127.0.0.1", METRICS_URL: "", LIVENESS_PROBE_URL: `${hangingUrl}/health` });
    expect(await sidecar.exited).toBe(1);
    expect(sidecar.output()).toMatch(new RegExp(`crashy-sidecar: cannot listen on 127.0.0.1:${port}: .*EADDRINUSE`));
  });

  test("LOG_FORMAT=xml is refused in a plain line, exit 2", async () => {
    const sidecar = await start(SIDECAR_ENTRY, { PORT: String(await freePort()), HOST: "127.0.0.1", LOG_FORMAT: "xml", LIVENESS_PROBE_URL: `${hangingUrl}/health` });
    expect(await sidecar.exited).toBe(2);
    expect(sidecar.output().trim().split("\n")).toEqual(['crashy-sidecar: LOG_FORMAT="xml" is invalid: expected one of "text", "json"']);
  });

  test("logs today's text lines: start, events, scrape, signal", async () => {
    const { sidecar, url, nothing } = await failing({});
    const lines = sidecar.output().split("\n").filter(Boolean);
    expect(lines[0]).toBe(
      `crashy-sidecar: listening on ${url}; liveness probe ${nothing}/health every 0.2 s (timeout 0.5 s, failure threshold 1, ` +
        `success threshold 1, initial delay 0 s); scraping ${nothing}/metrics every 0.2 s`,
    );
    expect(lines).toContainEqual(expect.stringMatching(/^crashy-sidecar: Warning Unhealthy container\/crashy-app: Liveness probe failed: .*connection refused$/));
    expect(lines).toContain("crashy-sidecar: Normal Killing container/crashy-app: Container crashy-app failed liveness probe, will be restarted");
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^crashy-sidecar: scrape failed: GET ${nothing}/metrics: `)));
    expect(lines.at(-1)).toBe("crashy-sidecar: SIGTERM received, stopping");
  });

  test("logs one JSON object a line with LOG_FORMAT=json, events with their type, reason, container and message", async () => {
    const { sidecar, url, nothing } = await failing({ LOG_FORMAT: "json" });
    const lines = sidecar.output().split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const line of lines) {
      expect(line).toMatchObject({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), program: "crashy-sidecar" });
      expect(Math.abs(Date.parse(String(line.time)) - Date.now())).toBeLessThan(30_000);
    }
    expect(lines[0]).toEqual({
      time: expect.any(String),
      level: "info",
      msg: expect.stringMatching(new RegExp(`^listening on ${url}; liveness probe `)),
      program: "crashy-sidecar",
      url,
      liveness_probe_url: `${nothing}/health`,
      liveness_probe_period_seconds: 0.2,
      liveness_probe_timeout_seconds: 0.5,
      liveness_probe_failure_threshold: 1,
      liveness_probe_success_threshold: 1,
      liveness_probe_initial_delay_seconds: 0,
      metrics_url: `${nothing}/metrics`,
      scrape_interval_seconds: 0.2,
    });
    const unhealthy = lines.find((line) => line.reason === "Unhealthy");
    expect(unhealthy).toEqual({
      time: expect.any(String),
      level: "warn",
      msg: `Warning Unhealthy container/crashy-app: ${String(unhealthy?.message)}`,
      program: "crashy-sidecar",
      type: "Warning",
      reason: "Unhealthy",
      container: "crashy-app",
      message: expect.stringMatching(/^Liveness probe failed: .*connection refused$/),
      probe_type: "Liveness",
    });
    expect(lines.find((line) => line.reason === "Killing")).toMatchObject({ level: "info", type: "Normal", container: "crashy-app" });
    expect(lines.find((line) => String(line.msg).startsWith("scrape failed"))).toMatchObject({
      level: "warn",
      url: `${nothing}/metrics`,
      error: expect.stringMatching(new RegExp(`^GET ${nothing}/metrics: `)),
    });
    expect(lines.at(-1)).toEqual({ time: expect.any(String), level: "info", msg: "SIGTERM received, stopping", program: "crashy-sidecar", signal: "SIGTERM" });
  });

  test.each(["SIGTERM", "SIGINT"] as const)("%s stops it well within a second, probes and scrape in flight", async (signal) => {
    const port = await freePort();
    const sidecar = await start(
      SIDECAR_ENTRY,
      {
        PORT: String(port),
        HOST: "127.0.0.1",
        LIVENESS_PROBE_URL: `${hangingUrl}/health`,
        READINESS_PROBE_URL: `${hangingUrl}/ready`,
        METRICS_URL: `${hangingUrl}/metrics`,
        LIVENESS_PROBE_TIMEOUT_SECONDS: "30",
        LIVENESS_PROBE_PERIOD_SECONDS: "60",
        READINESS_PROBE_TIMEOUT_SECONDS: "30",
        READINESS_PROBE_PERIOD_SECONDS: "60",
      },
      /crashy-sidecar: listening on/,
    );
    // An open page keeps a connection too.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    const { code, ms } = await sidecar.stop(signal);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
    expect(sidecar.output()).toContain(`crashy-sidecar: ${signal} received, stopping`);
  });
});
