// The Node and Deno entry files as real processes on loopback, crossing the crash in real time.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { eventually, freePort, npmScript, ROOT, start, type Started } from "../../test/processes.ts";
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
      // Read, so granted on Deno: an ungranted variable would end it with a permission error instead.
      STARTUP_SECONDS: "soon",
      CONTROL: "yes",
    });
    expect(await app.exited).toBe(2);
    expect(app.output().trim().split("\n")).toEqual([
      'crashy: CRASH_AFTER="abc" is invalid: expected a number of seconds >= 0, such as 60 or 2.5',
      'crashy: CRASH_MODE="boom" is invalid: expected one of "error", "hang", "exit"',
      'crashy: STARTUP_SECONDS="soon" is invalid: expected a number of seconds >= 0, such as 0 or 30',
      'crashy: CONTROL="yes" is invalid: expected one of "true", "false"',
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
        startup_seconds: 0,
        control: false,
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

  it("answers 503 starting for STARTUP_SECONDS, then 200, and says when; /control is 404 without CONTROL=true", async () => {
    const began = Date.now();
    const { app, url } = await startApp(runtime, { STARTUP_SECONDS: "2" });
    try {
      const answer = async (path: string, init?: RequestInit) => {
        const res = await fetch(`${url}${path}`, init);
        return { status: res.status, body: await res.text() };
      };
      expect(await answer("/health")).toEqual({ status: 503, body: "starting\n" });
      expect(await answer("/ready")).toEqual({ status: 503, body: "starting\n" });
      expect((await answer("/")).body).toMatch(/^Hi, my name is crashy-test-pod and I'm a crashy app\.\.\.\nI'm still starting up, \d\.\d\d seconds to go \(STARTUP_SECONDS=2\)\n$/);
      expect(await answer("/control/crash", { method: "POST" })).toEqual({ status: 404, body: "404 Not Found\n" });
      expect((await answer("/control")).status).toBe(404);
      expect(app.output()).toContain(`crashy: listening on ${url} (${runtime}, CRASH_AFTER=60, CRASH_MODE=error, STARTUP_SECONDS=2)`);

      await eventually(async () => ((await fetch(`${url}/ready`)).status === 200 ? true : undefined), 5_000, "/ready 200");
      expect(Date.now() - began).toBeGreaterThanOrEqual(2_000);
      expect(await answer("/health")).toEqual({ status: 200, body: "200 OK\n" });
      expect(await answer("/ready")).toEqual({ status: 200, body: "ready\n" });
      await eventually(async () => (app.output().includes("crashy: started after 2 s (STARTUP_SECONDS)") ? true : undefined), 2_000, "the started line");
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^crashy_started 1$/m);
      expect(metrics).toMatch(/^crashy_ready 1$/m);
      // The first, and as many as the wait above saw.
      expect(metrics).toMatch(/^http_requests_total\{method="GET",route="\/ready",status="503"\} [1-9]\d*$/m);
    } finally {
      await stopped(app);
    }
  });

  it("takes every switch of the control API with CONTROL=true, counting and logging each", async () => {
    const { app, url } = await startApp(runtime, { CONTROL: "true", CRASH_AFTER: "3600", LOG_FORMAT: "json" }, /"msg":"listening on/);
    try {
      const answer = async (path: string, method = "GET") => {
        const res = await fetch(`${url}${path}`, { method });
        return { status: res.status, body: await res.text() };
      };
      const post = (path: string) => answer(path, "POST");

      expect(await post("/control/unready")).toEqual({ status: 200, body: "POST /control/unready: readiness switched off, /ready now answers 503 unready\n" });
      expect(await answer("/ready")).toEqual({ status: 503, body: "unready\n" });
      expect((await answer("/health")).status).toBe(200);
      expect((await post("/control/ready")).status).toBe(200);
      expect(await answer("/ready")).toEqual({ status: 200, body: "ready\n" });

      expect((await post("/control/fail?count=2")).status).toBe(200);
      expect((await answer("/control")).body).toMatch(/"failNext": 2,/);
      expect([(await answer("/health")).status, (await answer("/health")).status, (await answer("/health")).status]).toEqual([500, 500, 200]);
      expect(await post("/control/fail?count=abc")).toEqual({
        status: 400,
        body: '400 Bad Request: count="abc" is invalid: expected a whole number from 1 to 1000, such as /control/fail?count=3\n',
      });
      const wrong = await fetch(`${url}/control/crash`);
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get("allow")).toBe("POST");

      expect((await post("/control/crash")).body).toMatch(/^POST \/control\/crash: crashed after \d+\.\d\d s: \/ and \/health now answer 500, \/metrics still answers\n$/);
      expect(await answer("/health")).toEqual({ status: 500, body: "500 Internal Server Error\n" });
      expect(await answer("/ready")).toEqual({ status: 503, body: "crashed\n" });
      const state = JSON.parse((await answer("/control")).body) as Record<string, unknown>;
      expect(state).toMatchObject({ readiness: "crashed", ready: false, crashed: true, crashCause: "control", failNext: 0 });

      const metrics = await (await fetch(`${url}/metrics`)).text();
      for (const action of ["crash", "unready", "ready", "fail"]) {
        expect(metrics).toMatch(new RegExp(`^crashy_control_actions_total\\{action="${action}"\\} 1$`, "m"));
      }
      expect(metrics).toMatch(/^crashy_crashed 1$/m);
      expect(metrics).toMatch(/^crashy_ready 0$/m);
      expect(metrics).toMatch(/^http_requests_total\{method="POST",route="\/control\/fail",status="400"\} 1$/m);
      const lint = promtoolCheckMetrics(metrics);
      expect(lint.output).toBe("");

      const lines = app.output().split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.filter((line) => "action" in line).map(({ level, action, program }) => ({ level, action, program }))).toEqual([
        { level: "info", action: "unready", program: "crashy" },
        { level: "info", action: "ready", program: "crashy" },
        { level: "info", action: "fail", program: "crashy" },
        { level: "warn", action: "crash", program: "crashy" },
      ]);
      expect(lines.find((line) => line.action === "fail")).toMatchObject({ msg: "POST /control/fail?count=2: the next 2 /health answers that would be 200 are 500 instead", count: 2 });
      expect(lines[0]).toMatchObject({ control: true, startup_seconds: 0 });
    } finally {
      await stopped(app);
    }
  });

  it("answers POST /control/crash with CRASH_MODE=exit, then exits 1 within a second", async () => {
    const { app, url } = await startApp(runtime, { CONTROL: "true", CRASH_MODE: "exit", CRASH_AFTER: "3600" });
    const began = performance.now();
    const res = await fetch(`${url}/control/crash`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(res.headers.get("connection")).toBe("close");
    expect(await res.text()).toMatch(/^POST \/control\/crash: crashed after \d+\.\d\d s: exiting with code 1 \(CRASH_MODE=exit\)\n$/);
    expect(await app.exited).toBe(1);
    expect(performance.now() - began).toBeLessThan(1_000);
    expect(app.output()).toMatch(/crashy: POST \/control\/crash: crashed after \d+\.\d\d s: exiting with code 1 \(CRASH_MODE=exit\)\n$/);
    expect(app.output()).not.toMatch(/error|warning/i);
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

describe("the Deno image", () => {
  it("grants exactly the variables the app reads", () => {
    const dockerfile = readFileSync(`${ROOT}/Dockerfile.app`, "utf8");
    const flags = [...dockerfile.matchAll(/"--allow-env=([^"]*)"/g)].map((m) => m[1]!.split(",").sort());
    expect(flags).toEqual([[...ENV_NAMES].sort()]);
  });
});
