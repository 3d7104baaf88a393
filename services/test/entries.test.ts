// The behaviour suite: the app on each runtime as a real process on loopback, crossing the crash in
// real time, written once for all four (Node, Deno, Bun, workerd). Where a runtime must behave otherwise, its row in RUNTIMES
// says how, and the README's runtime table says why.
import { readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { describe, expect, it } from "vitest";
import { eventually, freePort, npmScript, ROOT, start, type Started } from "../../test/processes.ts";
import { promtoolCheckMetrics } from "../../test/promtool.ts";
import { ENV_NAMES } from "../src/config.ts";
import { HOLD_MS } from "../src/config-workerd.ts";

type Runtime = {
  /** The process, as the image runs it; the port is given for workerd, whose socket is on its command line. */
  argv(port: number): string[];
  /** Its own process metrics (process_*): none on workerd, where the worker is no process. */
  processMetrics: boolean;
  /** run.ts's SIGTERM and SIGINT handling; workerd handles SIGTERM itself and not SIGINT. */
  signals: boolean;
  /** CRASH_MODE=exit ends the process (none on workerd, where a worker cannot end workerd). */
  exits: boolean;
  /** The crash clock starts at the process's start, or at the first request (workerd). */
  clockFrom: "start" | "first request";
  /** A bad configuration: the lines printed and the exit code. */
  refuses(lines: string[]): { lines: string[]; code: number };
};

const bin = (name: string) => `${ROOT}node_modules/.bin/${name}`;
// The usual: one line per variable, exit 2.
const usual = (lines: string[]) => ({ lines, code: 2 });

type Name = "node" | "deno" | "bun" | "workerd";
const RUNTIMES: Record<Name, Runtime> = {
  node: { argv: () => ["node", "dist/bundle/app.mjs"], processMetrics: true, signals: true, exits: true, clockFrom: "start", refuses: usual }, // the bundle `npm run app` and the image run
  deno: { argv: () => npmScript("app:deno"), processMetrics: true, signals: true, exits: true, clockFrom: "start", refuses: usual },
  bun: { argv: () => [bin("bun"), "dist/bundle/app-bun.mjs"], processMetrics: true, signals: true, exits: true, clockFrom: "start", refuses: usual },
  workerd: {
    argv: (port) => [bin("workerd"), "serve", "dist/bundle/crashy.capnp", "--socket-addr", `http=127.0.0.1:${port}`],
    processMetrics: false,
    signals: false,
    exits: false,
    clockFrom: "first request",
    // The worker cannot choose workerd's exit code: the lines, joined, are workerd's one line, exit 1.
    refuses: (lines) => ({ lines: [`service crashy: Uncaught Error: ${lines.join("; ")}`], code: 1 }),
  },
};
const NAMES = Object.keys(RUNTIMES) as Name[];

const LISTENING = /crashy: listening on/;
const MODES = (name: Name) => (name === "workerd" ? '"error", "hang"' : '"error", "hang", "exit"');

/** True once something accepts connections on 127.0.0.1:port (workerd says nothing when it listens). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function launch(runtime: Name, port: number, env: Record<string, string>): Promise<Started> {
  return start(RUNTIMES[runtime].argv(port), { PORT: String(port), HOST: "127.0.0.1", ...env });
}

async function startApp(runtime: Name, env: Record<string, string>, ready = LISTENING) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  if (runtime === "workerd") {
    const app = await launch(runtime, port, { HOSTNAME: "crashy-test-pod", ...env });
    await eventually(async () => ((await accepts(port)) ? true : undefined), 15_000, `workerd to listen:\n${app.output()}`, 20);
    return { app, url };
  }
  const app = await start(RUNTIMES[runtime].argv(port), { PORT: String(port), HOST: "127.0.0.1", HOSTNAME: "crashy-test-pod", ...env }, ready);
  return { app, url };
}

async function stopped(app: Started) {
  return app.stop("SIGTERM");
}

// A behaviour that only some runtimes have is a test of theirs alone, not a skipped one elsewhere.
const only = (applies: boolean): typeof it => (applies ? it : ((() => undefined) as unknown as typeof it));

const logLines = (app: Started) => app.output().split("\n").filter(Boolean);

async function answer(url: string, path: string, method = "GET") {
  const res = await fetch(`${url}${path}`, { method });
  return { status: res.status, body: await res.text() };
}

describe.each(NAMES)("the %s entry", (runtime) => {
  const traits: Runtime = RUNTIMES[runtime];

  it("answers, crashes after CRASH_AFTER=1 for real, and keeps /metrics up", async () => {
    const { app, url } = await startApp(runtime, { CRASH_AFTER: "1" });
    try {
      const home = await fetch(`${url}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toBe(
        "Hi, my name is crashy-test-pod and I'm a crashy app...\nBut I didn't crash... yet :D\n",
      );
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const missing = await fetch(`${url}/nowhere`);
      expect([missing.status, await missing.text()]).toEqual([404, "404 Not Found\n"]);
      const post = await fetch(`${url}/health`, { method: "POST" });
      expect([post.status, post.headers.get("allow"), await post.text()]).toEqual([405, "GET, HEAD", "405 Method Not Allowed\n"]);

      await eventually(async () => ((await fetch(`${url}/health`)).status === 500 ? true : undefined), 3_000, "/health 500");
      const crashed = await fetch(`${url}/`);
      expect(crashed.status).toBe(500);
      expect(await crashed.text()).toMatch(/^Hi, my name is crashy-test-pod.*\nI crashed \d+\.\d\d seconds ago, sorry about that :\(\n$/);
      // The log line comes from the crash timer, which may fire a moment after a request saw the crash
      // (on workerd, from the first request that saw it).
      await eventually(async () => (app.output().includes("crashy: crashed after 1 s (CRASH_AFTER)") ? true : undefined), 2_000, "the crash log line");

      const metrics = await fetch(`${url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toMatch(new RegExp(`^crashy_info\\{runtime="${runtime}",version="1.0.0",crash_mode="error"\\} 1$`, "m"));
      expect(text).toMatch(/^crashy_crashed 1$/m);
      expect(text).toMatch(/^http_requests_total\{method="GET",route="\/health",status="500"\} [1-9]/m);
      expect(text).toMatch(/^http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m);
      expect(text).toMatch(/^http_requests_total\{method="POST",route="\/health",status="405"\} 1$/m);
      const lint = promtoolCheckMetrics(text);
      expect(lint.output).toBe("");
      expect(lint.ok).toBe(true);

      // The millisecond start time, close to now, everywhere; process_* only where the runtime is a
      // process that reports them for real, and never Node's own nodejs_* elsewhere than on Node.
      const value = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1]);
      const now = Date.now() / 1000;
      expect(Math.abs(value("crashy_start_time_seconds") - now)).toBeLessThan(30);
      if (traits.processMetrics) {
        expect(Math.abs(value("process_start_time_seconds") - now)).toBeLessThan(30);
        expect(value("process_resident_memory_bytes")).toBeGreaterThan(10_000_000);
        expect(value("process_cpu_seconds_total")).toBeGreaterThan(0);
      } else {
        expect(text).not.toMatch(/^process_/m);
      }
      if (runtime !== "node") expect(text).not.toMatch(/^nodejs_/m);
    } finally {
      await stopped(app);
    }
  });

  only(traits.signals)("exits 0 within 1 s of SIGTERM, cutting requests held by CRASH_MODE=hang", async () => {
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

  only(!traits.signals)("holds CRASH_MODE=hang requests HOLD_MS, and on SIGTERM stops once they are released", async () => {
    const { app, url } = await startApp(runtime, { CRASH_AFTER: "0", CRASH_MODE: "hang" });
    // workerd does not see a client give up: the request stays held, and counted, after its timeout.
    await expect(fetch(`${url}/health`, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    const inFlight = async () => Number(/^http_requests_in_flight (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
    expect(await inFlight()).toBe(2); // the held request and this scrape
    // workerd's SIGTERM waits for the requests in flight: with one held, it is still serving a second
    // later (the kubelet's SIGKILL ends it at the grace period), and it exits 0 once that is released.
    app.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(app.child.exitCode).toBeNull();
    expect(HOLD_MS).toBeGreaterThan(10_000);
    const { code } = await app.stop("SIGKILL");
    expect(code).toBe("SIGKILL");
    expect(app.output()).not.toMatch(/error|warning/i);
  });

  only(traits.signals)("exits 0 on SIGINT too, and stops listening", async () => {
    const { app, url } = await startApp(runtime, {});
    const { code } = await app.stop("SIGINT");
    expect(code).toBe(0);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  only(traits.exits)("ends the process with code 1 at CRASH_AFTER when CRASH_MODE=exit", async () => {
    const began = Date.now();
    const { app, url } = await startApp(runtime, { CRASH_AFTER: "0.5", CRASH_MODE: "exit" });
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(await app.exited).toBe(1);
    expect(Date.now() - began).toBeGreaterThanOrEqual(500);
    expect(app.output()).toContain("exiting with code 1 (CRASH_MODE=exit)");
  });

  it("refuses bad configuration with one line per variable, listening on nothing", async () => {
    const port = await freePort();
    // STARTUP_SECONDS and CONTROL are read, so granted on Deno: an ungranted variable would end it
    // with a permission error instead; and bound on workerd.
    const app = await launch(runtime, port, { CRASH_AFTER: "abc", CRASH_MODE: "boom", STARTUP_SECONDS: "soon", CONTROL: "yes" });
    const { lines, code } = traits.refuses([
      'crashy: CRASH_AFTER="abc" is invalid: expected a number of seconds >= 0, such as 60 or 2.5',
      `crashy: CRASH_MODE="boom" is invalid: expected one of ${MODES(runtime)}`,
      'crashy: STARTUP_SECONDS="soon" is invalid: expected a number of seconds >= 0, such as 0 or 30',
      'crashy: CONTROL="yes" is invalid: expected one of "true", "false"',
    ]);
    expect(await app.exited).toBe(code);
    expect(logLines(app)).toEqual(lines);
    expect(await accepts(port)).toBe(false);
  });

  only(!traits.exits)("refuses CRASH_MODE=exit, which a worker cannot do", async () => {
    const port = await freePort();
    const app = await launch(runtime, port, { CRASH_MODE: "exit" });
    const { lines, code } = traits.refuses(['crashy: CRASH_MODE="exit" is invalid: expected one of "error", "hang"']);
    expect(await app.exited).toBe(code);
    expect(logLines(app)).toEqual(lines);
    expect(await accepts(port)).toBe(false);
  });

  it("logs today's text lines exactly: start, crash, signal", async () => {
    const { app, url } = await startApp(runtime, { CRASH_AFTER: "0.3" });
    if (traits.clockFrom === "first request") {
      // Nothing before the first request; the crash line comes with the first request after the crash.
      expect((await fetch(`${url}/health`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await fetch(`${url}/health`)).status).toBe(500);
    }
    await eventually(async () => (app.output().includes("crashed after") ? true : undefined), 3_000, "the crash log line");
    expect((await stopped(app)).code).toBe(0);
    const crash = "crashy: crashed after 0.3 s (CRASH_AFTER): / and /health now answer 500, /metrics still answers";
    expect(logLines(app)).toEqual(
      traits.signals
        ? [`crashy: listening on ${url} (${runtime}, CRASH_AFTER=0.3, CRASH_MODE=error)`, crash, "crashy: SIGTERM received, finishing in-flight requests"]
        : [`crashy: first request: the crash clock starts now (${runtime}, CRASH_AFTER=0.3, CRASH_MODE=error)`, crash],
    );
  });

  it("logs one JSON object a line with LOG_FORMAT=json, the event's details as fields", async () => {
    const began = Date.now();
    const { app, url } = await startApp(runtime, { CRASH_AFTER: "0.3", CRASH_MODE: "hang", LOG_FORMAT: "json" }, /"msg":"listening on/);
    if (traits.clockFrom === "first request") {
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
    }
    await eventually(async () => (app.output().includes("crashed after") ? true : undefined), 3_000, "the crash log line");
    expect((await stopped(app)).code).toBe(0);
    const lines = logLines(app).map((line) => JSON.parse(line) as Record<string, unknown>);
    const fields = { runtime, crash_after: 0.3, crash_mode: "hang", startup_seconds: 0, control: false };
    const first = traits.signals
      ? { time: expect.any(String), level: "info", msg: `listening on ${url} (${runtime}, CRASH_AFTER=0.3, CRASH_MODE=hang)`, program: "crashy", url, ...fields }
      : { time: expect.any(String), level: "info", msg: `first request: the crash clock starts now (${runtime}, CRASH_AFTER=0.3, CRASH_MODE=hang)`, program: "crashy", ...fields };
    const crash = {
      time: expect.any(String),
      level: "warn",
      msg: "crashed after 0.3 s (CRASH_AFTER): / and /health now never answer, /metrics still answers",
      program: "crashy",
      crash_after: 0.3,
      crash_mode: "hang",
    };
    const signal = { time: expect.any(String), level: "info", msg: "SIGTERM received, finishing in-flight requests", program: "crashy", signal: "SIGTERM" };
    expect(lines).toEqual(traits.signals ? [first, crash, signal] : [first, crash]);
    // RFC 3339 in UTC with milliseconds, at the moment of each line.
    const times = lines.map((line) => String(line.time));
    for (const time of times) expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const ms = times.map((time) => Date.parse(time));
    expect(ms[0]).toBeGreaterThanOrEqual(began - 1_000);
    expect(ms[1]! - ms[0]!).toBeGreaterThanOrEqual(250);
    if (traits.signals) expect(ms[2]).toBeGreaterThanOrEqual(ms[1]!);
  });

  it("refuses LOG_FORMAT=xml in a plain line", async () => {
    const app = await launch(runtime, await freePort(), { LOG_FORMAT: "xml" });
    const { lines, code } = traits.refuses(['crashy: LOG_FORMAT="xml" is invalid: expected one of "text", "json"']);
    expect(await app.exited).toBe(code);
    expect(logLines(app)).toEqual(lines);
  });

  it("answers 503 starting for STARTUP_SECONDS, then 200, and says when; /control is 404 without CONTROL=true", async () => {
    const began = Date.now();
    const { app, url } = await startApp(runtime, { STARTUP_SECONDS: "2" });
    try {
      expect(await answer(url, "/health")).toEqual({ status: 503, body: "starting\n" });
      expect(await answer(url, "/ready")).toEqual({ status: 503, body: "starting\n" });
      expect((await answer(url, "/")).body).toMatch(/^Hi, my name is crashy-test-pod and I'm a crashy app\.\.\.\nI'm still starting up, \d\.\d\d seconds to go \(STARTUP_SECONDS=2\)\n$/);
      expect(await answer(url, "/control/crash", "POST")).toEqual({ status: 404, body: "404 Not Found\n" });
      expect((await answer(url, "/control")).status).toBe(404);
      const settings = `(${runtime}, CRASH_AFTER=60, CRASH_MODE=error, STARTUP_SECONDS=2)`;
      expect(app.output()).toContain(traits.clockFrom === "start" ? `crashy: listening on ${url} ${settings}` : `crashy: first request: the crash clock starts now ${settings}`);

      await eventually(async () => ((await fetch(`${url}/ready`)).status === 200 ? true : undefined), 5_000, "/ready 200");
      expect(Date.now() - began).toBeGreaterThanOrEqual(2_000);
      expect(await answer(url, "/health")).toEqual({ status: 200, body: "200 OK\n" });
      expect(await answer(url, "/ready")).toEqual({ status: 200, body: "ready\n" });
      // From a timer, or on workerd from the first request after the end.
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
      const post = (path: string) => answer(url, path, "POST");

      expect(await post("/control/unready")).toEqual({ status: 200, body: "POST /control/unready: readiness switched off, /ready now answers 503 unready\n" });
      expect(await answer(url, "/ready")).toEqual({ status: 503, body: "unready\n" });
      expect((await answer(url, "/health")).status).toBe(200);
      expect((await post("/control/ready")).status).toBe(200);
      expect(await answer(url, "/ready")).toEqual({ status: 200, body: "ready\n" });

      expect((await post("/control/fail?count=2")).status).toBe(200);
      expect((await answer(url, "/control")).body).toMatch(/"failNext": 2,/);
      expect([(await answer(url, "/health")).status, (await answer(url, "/health")).status, (await answer(url, "/health")).status]).toEqual([500, 500, 200]);
      expect(await post("/control/fail?count=abc")).toEqual({
        status: 400,
        body: '400 Bad Request: count="abc" is invalid: expected a whole number from 1 to 1000, such as /control/fail?count=3\n',
      });
      const wrong = await fetch(`${url}/control/crash`);
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get("allow")).toBe("POST");

      expect((await post("/control/crash")).body).toMatch(/^POST \/control\/crash: crashed after \d+\.\d\d s: \/ and \/health now answer 500, \/metrics still answers\n$/);
      expect(await answer(url, "/health")).toEqual({ status: 500, body: "500 Internal Server Error\n" });
      expect(await answer(url, "/ready")).toEqual({ status: 503, body: "crashed\n" });
      const state = JSON.parse((await answer(url, "/control")).body) as Record<string, unknown>;
      expect(state).toMatchObject({ readiness: "crashed", ready: false, crashed: true, crashCause: "control", failNext: 0 });

      const metrics = await (await fetch(`${url}/metrics`)).text();
      for (const action of ["crash", "unready", "ready", "fail"]) {
        expect(metrics).toMatch(new RegExp(`^crashy_control_actions_total\\{action="${action}"\\} 1$`, "m"));
      }
      expect(metrics).toMatch(/^crashy_crashed 1$/m);
      expect(metrics).toMatch(/^crashy_ready 0$/m);
      expect(metrics).toMatch(/^http_requests_total\{method="POST",route="\/control\/fail",status="400"\} 1$/m);
      expect(promtoolCheckMetrics(metrics).output).toBe("");

      const lines = logLines(app).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.filter((line) => "action" in line).map(({ level, action, program }) => ({ level, action, program }))).toEqual([
        { level: "info", action: "unready", program: "crashy" },
        { level: "info", action: "ready", program: "crashy" },
        { level: "info", action: "fail", program: "crashy" },
        { level: "warn", action: "crash", program: "crashy" },
      ]);
      expect(lines.find((line) => line.action === "fail")).toMatchObject({ msg: "POST /control/fail?count=2: the next 2 /health answers that would be 200 are 500 instead", count: 2 });
      // The start line (the first request's on workerd); the control crash logs its own line, never the scheduled one's.
      expect(lines[0]).toMatchObject({ control: true, startup_seconds: 0 });
      expect(lines.filter((line) => String(line.msg).startsWith("crashed after"))).toEqual([]);
    } finally {
      await stopped(app);
    }
  });

  only(traits.exits)("answers POST /control/crash with CRASH_MODE=exit, then exits 1 within a second", async () => {
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
      const port = Number(new URL(first.url).port);
      const second = await launch(runtime, port, {});
      expect(await second.exited).toBe(1);
      expect(second.output()).toContain(traits.signals ? `crashy: cannot listen on 127.0.0.1:${port}` : 'Socket "http": bind(): Address already in use');
    } finally {
      await stopped(first.app);
    }
  });
});

describe("the Bun entry's bounds", () => {
  it("answers 413 to a body over 1 MiB before the app sees it, and takes one under", async () => {
    const { app, url } = await startApp("bun", {});
    try {
      const big = await fetch(`${url}/health`, { method: "POST", body: new Uint8Array(1024 * 1024 + 1) });
      expect(big.status).toBe(413);
      const small = await fetch(`${url}/health`, { method: "POST", body: new Uint8Array(1024 * 1024) });
      expect(small.status).toBe(405);
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(text).toMatch(/^http_requests_total\{method="POST",route="\/health",status="405"\} 1$/m);
      expect(text).not.toMatch(/status="413"/);
    } finally {
      await stopped(app);
    }
  });
});

describe("npm run app:workerd", () => {
  // What the npm script runs after its build: the Node launcher in front of workerd.
  const argv = ["node", "dist/services/src/workerd-serve.js"];

  it("checks the configuration first, in the usual lines, exit 2", async () => {
    const app = await start(argv, { PORT: "0", HOST: "127.0.0.1", CRASH_MODE: "exit" });
    expect(await app.exited).toBe(2);
    expect(logLines(app)).toEqual([
      'crashy: PORT="0" is invalid: expected a port number from 1 to 65535',
      'crashy: CRASH_MODE="exit" is invalid: expected one of "error", "hang"',
    ]);
  });

  it("serves where PORT and HOST say, says so once workerd listens, and passes SIGINT on as SIGTERM", async () => {
    const port = await freePort();
    const app = await start(argv, { PORT: String(port), HOST: "127.0.0.1", CRASH_AFTER: "5" }, LISTENING);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    expect((await app.stop("SIGINT")).code).toBe(0);
    expect(logLines(app)).toEqual([
      `crashy: listening on http://127.0.0.1:${port} (workerd, CRASH_AFTER=5, CRASH_MODE=error)`,
      "crashy: first request: the crash clock starts now (workerd, CRASH_AFTER=5, CRASH_MODE=error)",
    ]);
  });

  it("names the address when the port is taken, exit 1", async () => {
    const port = await freePort();
    const first = await start(argv, { PORT: String(port), HOST: "127.0.0.1" }, LISTENING);
    try {
      const second = await start(argv, { PORT: String(port), HOST: "127.0.0.1" });
      expect(await second.exited).toBe(1);
      expect(second.output()).toContain(`crashy: cannot listen on 127.0.0.1:${port}: Socket "http": bind(): Address already in use`);
    } finally {
      await first.stop("SIGTERM");
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
