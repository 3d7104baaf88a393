// The Node and Deno entry files as real processes on loopback, crossing the crash in real time.
import { describe, expect, it } from "vitest";
import { eventually, freePort, npmScript, start, type Started } from "../../test/processes.ts";
import { promtoolCheckMetrics } from "../../test/promtool.ts";
import { ENV_NAMES } from "../src/config.ts";

const RUNTIMES = {
  node: ["node", "dist/bundle/app.mjs"], // the bundle `npm run app` and the image run
  deno: npmScript("app:deno"),
} as const;

const LISTENING = /crashy: listening on/;

async function startApp(runtime: keyof typeof RUNTIMES, env: Record<string, string>, ready = LISTENING) {
  const port = await freePort();
  const app = await start(
    [...RUNTIMES[runtime]],
    { PORT: String(port), HOST: "127.0.0.1", HOSTNAME: "crashy-test-pod", ...env },
    ready,
  );
  return { app, url: `http://127.0.0.1:${port}` };
}

async function stopped(app: Started) {
  return app.stop("SIGTERM");
}

describe.each(Object.keys(RUNTIMES) as (keyof typeof RUNTIMES)[])("the %s entry", (runtime) => {
  it("answers, crashes after CRASH_AFTER=1 for real, and keeps /metrics up", async () => {
    const { app, url } = await startApp(runtime, { CRASH_AFTER: "1" });
    try {
      const home = await fetch(`${url}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toBe(
        "Hi, my name is crashy-test-pod and I'm a crashy app...\nBut I didn't crash... yet :D\n",
      );
      expect((await fetch(`${url}/health`)).status).toBe(200);

      await eventually(async () => ((await fetch(`${url}/health`)).status === 500 ? true : undefined), 3_000, "/health 500");
      const crashed = await fetch(`${url}/`);
      expect(crashed.status).toBe(500);
      expect(await crashed.text()).toMatch(/^Hi, my name is crashy-test-pod.*\nI crashed \d+\.\d\d seconds ago, sorry about that :\(\n$/);
      // The log line comes from the crash timer, which may fire a moment after a request saw the crash.
      await eventually(async () => (app.output().includes("crashy: crashed after 1 s (CRASH_AFTER)") ? true : undefined), 2_000, "the crash log line");

      const metrics = await fetch(`${url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toMatch(new RegExp(`^crashy_info\\{runtime="${runtime}",version="1.0.0",crash_mode="error"\\} 1$`, "m"));
      expect(text).toMatch(/^crashy_crashed 1$/m);
      expect(text).toMatch(/^http_requests_total\{method="GET",route="\/health",status="500"\} [1-9]/m);
      const lint = promtoolCheckMetrics(text);
      expect(lint.output).toBe("");
      expect(lint.ok).toBe(true);

      // Both runtimes export process_start_time_seconds and the millisecond start time, close to now.
      const value = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1]);
      const now = Date.now() / 1000;
      expect(Math.abs(value("process_start_time_seconds") - now)).toBeLessThan(30);
      expect(Math.abs(value("crashy_start_time_seconds") - now)).toBeLessThan(30);
      expect(value("process_resident_memory_bytes")).toBeGreaterThan(10_000_000);
      expect(value("process_cpu_seconds_total")).toBeGreaterThan(0);
    } finally {
      await stopped(app);
    }
  });

  it("exits 0 within 1 s of SIGTERM, cutting requests held by CRASH_MODE=hang", async () => {
    const { app, url } = await startApp(runtime, { CRASH_AFTER: "0", CRASH_MODE: "hang" });
    const held = fetch(`${url}/health`).then(
      (res) => `answered ${res.status}`,
      () => "cut",
    );
    await eventually(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return /^http_requests_in_flight 2$/m.test(text) ? true : undefined;
    }, 3_000, "the held request");

    // A probe that gives up (its timeout) releases its request: nothing piles up, nothing is logged.
    await expect(fetch(`${url}/`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    await eventually(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return /^http_requests_in_flight 2$/m.test(text) ? true : undefined;
    }, 3_000, "the timed-out request to be released");

    const { code, ms } = await stopped(app);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1_000);
    expect(await held).toBe("cut");
    expect(app.output()).not.toMatch(/error|warning|Deno\.serve/i);
    expect(app.output()).toContain("crashy: SIGTERM received");
  });

  it("exits 0 on SIGINT too, and stops listening", async () => {
    const { app, url } = await startApp(runtime, {});
    const { code } = await app.stop("SIGINT");
    expect(code).toBe(0);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it("ends the process with code 1 at CRASH_AFTER when CRASH_MODE=exit", async () => {
    const began = Date.now();
    const { app, url } = await startApp(runtime, { CRASH_AFTER: "0.5", CRASH_MODE: "exit" });
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(await app.exited).toBe(1);
    expect(Date.now() - began).toBeGreaterThanOrEqual(500);
    expect(app.output()).toContain("exiting with code 1 (CRASH_MODE=exit)");
  });

  it("refuses bad configuration with one line per variable and exit code 2, listening on nothing", async () => {
    const port = await freePort();
    const app = await start([...RUNTIMES[runtime]], {
      PORT: String(port),
      HOST: "127.0.0.1",
      CRASH_AFTER: "abc",
      CRASH_MODE: "boom",
    });
    expect(await app.exited).toBe(2);
    expect(app.output().trim().split("\n")).toEqual([
      'crashy: CRASH_AFTER="abc" is invalid: expected a number of seconds >= 0, such as 60 or 2.5',
      'crashy: CRASH_MODE="boom" is invalid: expected one of "error", "hang", "exit"',
    ]);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });

  it("logs today's text lines exactly: start, crash, signal", async () => {
    const { app, url } = await startApp(runtime, { CRASH_AFTER: "0.3" });
    await eventually(async () => (app.output().includes("crashed after") ? true : undefined), 3_000, "the crash log line");
    expect((await stopped(app)).code).toBe(0);
    expect(app.output().split("\n").filter(Boolean)).toEqual([
      `crashy: listening on ${url} (${runtime}, CRASH_AFTER=0.3, CRASH_MODE=error)`,
      "crashy: crashed after 0.3 s (CRASH_AFTER): / and /health now answer 500, /metrics still answers",
      "crashy: SIGTERM received, finishing in-flight requests",
    ]);
  });

  it("logs one JSON object a line with LOG_FORMAT=json, the event's details as fields", async () => {
    const began = Date.now();
    const { app, url } = await startApp(runtime, { CRASH_AFTER: "0.3", CRASH_MODE: "hang", LOG_FORMAT: "json" }, /"msg":"listening on/);
    await eventually(async () => (app.output().includes("crashed after") ? true : undefined), 3_000, "the crash log line");
    expect((await stopped(app)).code).toBe(0);
    const lines = app.output().split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        time: expect.any(String),
        level: "info",
        msg: `listening on ${url} (${runtime}, CRASH_AFTER=0.3, CRASH_MODE=hang)`,
        program: "crashy",
        url,
        runtime,
        crash_after: 0.3,
        crash_mode: "hang",
      },
      {
        time: expect.any(String),
        level: "warn",
        msg: "crashed after 0.3 s (CRASH_AFTER): / and /health now never answer, /metrics still answers",
        program: "crashy",
        crash_after: 0.3,
        crash_mode: "hang",
      },
      { time: expect.any(String), level: "info", msg: "SIGTERM received, finishing in-flight requests", program: "crashy", signal: "SIGTERM" },
    ]);
    // RFC 3339 in UTC with milliseconds, at the moment of each line.
    const times = lines.map((line) => String(line.time));
    for (const time of times) expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const ms = times.map((time) => Date.parse(time));
    expect(ms[0]).toBeGreaterThanOrEqual(began - 1_000);
    expect(ms[1]! - ms[0]!).toBeGreaterThanOrEqual(250);
    expect(ms[2]).toBeGreaterThanOrEqual(ms[1]!);
  });

  it("refuses LOG_FORMAT=xml in a plain line, exit code 2", async () => {
    const app = await start([...RUNTIMES[runtime]], { PORT: String(await freePort()), HOST: "127.0.0.1", LOG_FORMAT: "xml" });
    expect(await app.exited).toBe(2);
    expect(app.output().trim().split("\n")).toEqual(['crashy: LOG_FORMAT="xml" is invalid: expected one of "text", "json"']);
  });

  it("names the address when the port is taken, and exits non-zero", async () => {
    const first = await startApp(runtime, {});
    try {
      const port = new URL(first.url).port;
      const second = await start([...RUNTIMES[runtime]], { PORT: port, HOST: "127.0.0.1" });
      expect(await second.exited).toBe(1);
      expect(second.output()).toContain(`crashy: cannot listen on 127.0.0.1:${port}`);
    } finally {
      await stopped(first.app);
    }
  });
});

describe("the npm scripts", () => {
  it("start the Deno entry with no file system permissions", () => {
    const argv = npmScript("app:deno");
    expect(argv.join(" ")).not.toMatch(/--allow-(all|read|write|run|ffi)|\s-A\b/);
  });

  it("grant the Deno entry exactly the variables the app reads", () => {
    const flag = npmScript("app:deno").find((word) => word.startsWith("--allow-env="));
    expect(flag?.slice("--allow-env=".length).split(",").sort()).toEqual([...ENV_NAMES].sort());
  });
});
