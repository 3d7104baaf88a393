// The run skeleton on a fake runtime: what it prints, when it exits and with what code, on fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DRAIN_MS } from "../src/lifecycle.ts";
import { run, type Runtime, type ServeOptions, type Signal } from "../src/run.ts";

/** A runtime that records what run() asks of it; the test plays the server and the signals. */
function fakeRuntime(env: Record<string, string> = {}) {
  const calls: string[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exits: number[] = [];
  const signals = new Map<Signal, () => void>();
  const registries: unknown[] = [];
  let served: ServeOptions | undefined;
  let closed: (() => void) | undefined;
  let serveError: Error | undefined;
  const runtime: Runtime = {
    name: "fake",
    env: (names) => Object.fromEntries(names.map((name) => [name, env[name]])),
    hostname: () => "fake-machine",
    serve(options) {
      calls.push("serve");
      if (serveError) throw serveError;
      served = options;
      return { close: () => new Promise<void>((resolve) => (closed = resolve)) };
    },
    onSignal(signal, fn) {
      calls.push(`onSignal ${signal}`);
      signals.set(signal, fn);
    },
    // Returns, unlike a real exit, so the test goes on and can see that nothing else happens.
    exit: (code) => void exits.push(code) as never,
    registerProcessMetrics: (registry) => void registries.push(registry),
    stdout: (line) => void stdout.push(line),
    stderr: (line) => void stderr.push(line),
  };
  return {
    runtime,
    calls,
    stdout,
    stderr,
    exits,
    registries,
    failServe: (error: Error) => (serveError = error),
    served: () => served ?? expect.fail("run() did not serve"),
    signal: (signal: Signal) => (signals.get(signal) ?? expect.fail(`no ${signal} listener`))(),
    /** Ends the drain: every request in flight has been answered. */
    drained: () => (closed ?? expect.fail("the server was not closed"))(),
  };
}

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

describe("run", () => {
  it("prints one plain line per bad variable and exits 2, serving nothing", () => {
    const fake = fakeRuntime({ CRASH_AFTER: "abc", LOG_FORMAT: "xml", CRASH_MODE: "boom" });
    run(fake.runtime);
    expect(fake.stderr).toEqual([
      'crashy: CRASH_AFTER="abc" is invalid: expected a number of seconds >= 0, such as 60 or 2.5',
      'crashy: CRASH_MODE="boom" is invalid: expected one of "error", "hang", "exit"',
      'crashy: LOG_FORMAT="xml" is invalid: expected one of "text", "json"',
    ]);
    expect(fake.stdout).toEqual([]);
    expect(fake.exits).toEqual([2]);
    expect(fake.calls).toEqual([]);
  });

  it("listens for signals before it serves, on the address configured, and logs the start line", () => {
    const fake = fakeRuntime({ HOST: "127.0.0.1", PORT: "8081", CRASH_AFTER: "2.5", CRASH_MODE: "hang" });
    run(fake.runtime);
    expect(fake.calls).toEqual(["onSignal SIGTERM", "onSignal SIGINT", "serve"]);
    expect(fake.served()).toMatchObject({ host: "127.0.0.1", port: 8081 });
    expect(fake.stdout).toEqual([]);
    fake.served().onListen("http://127.0.0.1:8081");
    expect(fake.stdout).toEqual(["crashy: listening on http://127.0.0.1:8081 (fake, CRASH_AFTER=2.5, CRASH_MODE=hang)"]);
    expect(fake.registries).toHaveLength(1);
    expect(fake.exits).toEqual([]);
  });

  it("logs the start as one JSON object with LOG_FORMAT=json", () => {
    const fake = fakeRuntime({ CRASH_AFTER: "60", LOG_FORMAT: "json" });
    run(fake.runtime);
    fake.served().onListen("http://0.0.0.0:8080");
    expect(fake.stdout).toHaveLength(1);
    expect(JSON.parse(fake.stdout[0]!)).toEqual({
      time: new Date(1_000_000).toISOString(),
      level: "info",
      msg: "listening on http://0.0.0.0:8080 (fake, CRASH_AFTER=60, CRASH_MODE=error)",
      program: "crashy",
      url: "http://0.0.0.0:8080",
      runtime: "fake",
      crash_after: 60,
      crash_mode: "error",
      startup_seconds: 0,
      control: false,
    });
  });

  it("serves the app, greeting with HOSTNAME or else the machine's name", async () => {
    const named = fakeRuntime({ HOSTNAME: "crashy-pod" });
    run(named.runtime);
    expect(await (await named.served().fetch(new Request("http://x/"))).text()).toMatch(/^Hi, my name is crashy-pod and/);
    const unnamed = fakeRuntime();
    run(unnamed.runtime);
    expect(await (await unnamed.served().fetch(new Request("http://x/"))).text()).toMatch(/^Hi, my name is fake-machine and/);
  });

  it("on SIGTERM stops the server, waits for the requests in flight, then exits 0", async () => {
    const fake = fakeRuntime();
    run(fake.runtime);
    fake.signal("SIGTERM");
    expect(fake.stdout).toEqual(["crashy: SIGTERM received, finishing in-flight requests"]);
    await vi.advanceTimersByTimeAsync(DRAIN_MS / 2);
    expect(fake.exits).toEqual([]);
    fake.drained();
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.exits).toEqual([0]);
    // A second signal changes nothing.
    fake.signal("SIGINT");
    await vi.advanceTimersByTimeAsync(DRAIN_MS);
    expect(fake.exits).toEqual([0]);
    expect(fake.stdout).toHaveLength(1);
  });

  it("on SIGINT, exits 0 after DRAIN_MS when requests in flight never finish (CRASH_MODE=hang)", async () => {
    const fake = fakeRuntime({ CRASH_AFTER: "0", CRASH_MODE: "hang" });
    run(fake.runtime);
    await vi.advanceTimersByTimeAsync(0);
    fake.signal("SIGINT");
    await vi.advanceTimersByTimeAsync(DRAIN_MS - 1);
    expect(fake.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.exits).toEqual([0]);
    expect(fake.stdout.at(-1)).toBe("crashy: SIGINT received, finishing in-flight requests");
  });

  it("says Connection: close on answers given while stopping, not before", async () => {
    const fake = fakeRuntime();
    run(fake.runtime);
    const { fetch } = fake.served();
    expect((await fetch(new Request("http://x/health"))).headers.get("connection")).toBeNull();
    // A request begun before the signal and answered after it: /metrics answers asynchronously.
    const begun = fetch(new Request("http://x/metrics"));
    fake.signal("SIGTERM");
    expect((await begun).headers.get("connection")).toBe("close");
    const during = await fetch(new Request("http://x/health"));
    expect(during.status).toBe(200);
    expect(during.headers.get("connection")).toBe("close");
    expect((await fetch(new Request("http://x/nowhere"))).headers.get("connection")).toBe("close");
  });

  it("logs the crash at CRASH_AFTER and, with CRASH_MODE=exit, exits 1 then", async () => {
    const fake = fakeRuntime({ CRASH_AFTER: "0.5", CRASH_MODE: "exit" });
    run(fake.runtime);
    await vi.advanceTimersByTimeAsync(499);
    expect(fake.stdout).toEqual([]);
    expect(fake.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.stdout).toEqual(["crashy: crashed after 0.5 s (CRASH_AFTER): exiting with code 1 (CRASH_MODE=exit)"]);
    expect(fake.exits).toEqual([1]);
  });

  it("logs the crash as a warning and keeps running with CRASH_MODE=error", async () => {
    const fake = fakeRuntime({ CRASH_AFTER: "1", LOG_FORMAT: "json" });
    run(fake.runtime);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fake.stdout.map((line) => JSON.parse(line))).toEqual([
      {
        time: new Date(1_001_000).toISOString(),
        level: "warn",
        msg: "crashed after 1 s (CRASH_AFTER): / and /health now answer 500, /metrics still answers",
        program: "crashy",
        crash_after: 1,
        crash_mode: "error",
      },
    ]);
    expect(fake.exits).toEqual([]);
    expect((await fake.served().fetch(new Request("http://x/health"))).status).toBe(500);
  });

  it("cancels the crash on SIGTERM: no crash line, no exit 1 while draining", async () => {
    const fake = fakeRuntime({ CRASH_AFTER: "0.1", CRASH_MODE: "exit" });
    run(fake.runtime);
    fake.signal("SIGTERM");
    await vi.advanceTimersByTimeAsync(DRAIN_MS);
    expect(fake.exits).toEqual([0]);
    expect(fake.stdout).toEqual(["crashy: SIGTERM received, finishing in-flight requests"]);
  });

  it("logs the end of STARTUP_SECONDS once, at that instant", async () => {
    const fake = fakeRuntime({ STARTUP_SECONDS: "2", LOG_FORMAT: "json" });
    run(fake.runtime);
    const { fetch } = fake.served();
    expect((await fetch(new Request("http://x/ready"))).status).toBe(503);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(fake.stdout).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.stdout.map((line) => JSON.parse(line))).toEqual([
      {
        time: new Date(1_002_000).toISOString(),
        level: "info",
        msg: "started after 2 s (STARTUP_SECONDS): /, /health and /ready no longer answer 503 starting",
        program: "crashy",
        startup_seconds: 2,
      },
    ]);
    expect((await fetch(new Request("http://x/ready"))).status).toBe(200);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fake.stdout).toHaveLength(1);
  });

  it("says nothing of a start-up that a crash came before: the app never started", async () => {
    const fake = fakeRuntime({ STARTUP_SECONDS: "2", CRASH_AFTER: "1" });
    run(fake.runtime);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(fake.stdout).toEqual(["crashy: crashed after 1 s (CRASH_AFTER): / and /health now answer 500, /metrics still answers"]);
  });

  it("logs the control API's switches through its logger, and a crash by POST /control/crash replaces the scheduled one", async () => {
    const fake = fakeRuntime({ CONTROL: "true", CRASH_AFTER: "1", STARTUP_SECONDS: "0.5" });
    run(fake.runtime);
    const { fetch } = fake.served();
    const post = async (path: string) => (await fetch(new Request(`http://x${path}`, { method: "POST" }))).status;
    expect(await post("/control/unready")).toBe(200);
    expect(await post("/control/crash")).toBe(200);
    await vi.advanceTimersByTimeAsync(5_000);
    // Neither the scheduled crash nor the end of the start-up is said after the crash.
    expect(fake.stdout).toEqual([
      "crashy: POST /control/unready: readiness switched off, /ready now answers 503 starting",
      "crashy: POST /control/crash: crashed after 0.00 s: / and /health now answer 500, /metrics still answers",
    ]);
    expect(fake.exits).toEqual([]);
    expect((await fetch(new Request("http://x/health"))).status).toBe(500);
  });

  it("on POST /control/crash with CRASH_MODE=exit, answers with Connection: close, stops serving, and exits 1 once drained", async () => {
    const fake = fakeRuntime({ CONTROL: "true", CRASH_MODE: "exit", CRASH_AFTER: "60" });
    run(fake.runtime);
    const answer = await fake.served().fetch(new Request("http://x/control/crash", { method: "POST" }));
    expect(answer.status).toBe(200);
    expect(answer.headers.get("connection")).toBe("close");
    expect(await answer.text()).toBe("POST /control/crash: crashed after 0.00 s: exiting with code 1 (CRASH_MODE=exit)\n");
    await vi.advanceTimersByTimeAsync(DRAIN_MS / 2);
    expect(fake.exits).toEqual([]);
    // A signal while it drains changes nothing.
    fake.signal("SIGTERM");
    fake.drained();
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.exits).toEqual([1]);
    expect(fake.stdout).toEqual(["crashy: POST /control/crash: crashed after 0.00 s: exiting with code 1 (CRASH_MODE=exit)"]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(fake.exits).toEqual([1]);
  });

  it("on POST /control/crash with CRASH_MODE=exit, exits 1 after DRAIN_MS when requests in flight never finish", async () => {
    const fake = fakeRuntime({ CONTROL: "true", CRASH_MODE: "exit" });
    run(fake.runtime);
    await fake.served().fetch(new Request("http://x/control/crash", { method: "POST" }));
    await vi.advanceTimersByTimeAsync(DRAIN_MS - 1);
    expect(fake.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.exits).toEqual([1]);
  });

  it("names the address and exits 1 when it cannot listen, reported or thrown", () => {
    const reported = fakeRuntime({ HOST: "127.0.0.1", PORT: "8080" });
    run(reported.runtime);
    reported.served().onError(new Error("listen EADDRINUSE: address already in use 127.0.0.1:8080"));
    expect(reported.stderr).toEqual(["crashy: cannot listen on 127.0.0.1:8080: listen EADDRINUSE: address already in use 127.0.0.1:8080"]);
    expect(reported.exits).toEqual([1]);

    const thrown = fakeRuntime({ HOST: "192.0.2.1", PORT: "8080", LOG_FORMAT: "json" });
    thrown.failServe(new Error("Cannot assign requested address (os error 99)"));
    run(thrown.runtime);
    expect(thrown.exits).toEqual([1]);
    expect(thrown.stdout).toEqual([]);
    expect(thrown.stderr.map((line) => JSON.parse(line))).toEqual([
      {
        time: new Date(1_000_000).toISOString(),
        level: "error",
        msg: "cannot listen on 192.0.2.1:8080: Cannot assign requested address (os error 99)",
        program: "crashy",
        host: "192.0.2.1",
        port: 8080,
        error: "Cannot assign requested address (os error 99)",
      },
    ]);
  });
});

// vi.setSystemTime steps Date alone: performance.now() runs on, as a monotonic clock does, and
// pending timers keep their delays, as the runtime's do (issue 14: stepped back 60 s, the app
// logged "crashed" and /health stayed 200 a minute more; stepped forward, it crashed at once).
describe("the wall clock stepped back or forward (lib/clock.ts)", () => {
  it.each([
    ["back", -60_000],
    ["forward", 60_000],
  ])("stepped %s 60 s: the crash comes at CRASH_AFTER of monotonic time, /health switches as it is logged, the line has the wall clock's time", async (_name, step) => {
    const fake = fakeRuntime({ CRASH_AFTER: "30", STARTUP_SECONDS: "5", LOG_FORMAT: "json" });
    run(fake.runtime);
    const health = async () => (await fake.served().fetch(new Request("http://x/health"))).status;
    const logged = () => fake.stdout.map((l) => JSON.parse(l) as { time: string; msg: string });
    await vi.advanceTimersByTimeAsync(1_000);
    vi.setSystemTime(Date.now() + step);
    await vi.advanceTimersByTimeAsync(3_999);
    expect(await health()).toBe(503);
    expect(logged()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await health()).toBe(200);
    expect(logged().map((l) => l.msg)).toEqual([expect.stringMatching(/^started after 5 s/)]);
    await vi.advanceTimersByTimeAsync(24_999);
    expect(await health()).toBe(200);
    expect(logged()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(logged().at(-1)).toMatchObject({ time: new Date(1_000_000 + 30_000 + step).toISOString(), msg: expect.stringMatching(/^crashed after 30 s/) });
    expect(await health()).toBe(500);
  });
});
