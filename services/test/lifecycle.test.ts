import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { callAt, crashEvent, startedEvent, startEvent } from "../src/lifecycle.ts";
import { VERSION } from "../../lib/version.ts";

afterEach(() => vi.useRealTimers());

describe("callAt", () => {
  it("calls at the given instant and not before", () => {
    vi.useFakeTimers({ now: 1_000 });
    const fn = vi.fn();
    callAt(performance.now() + 2_500, { monotonic: () => performance.now() }, fn);
    vi.advanceTimersByTime(2_499);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledOnce();
  });

  it("waits out delays longer than setTimeout can hold instead of firing at once", () => {
    vi.useFakeTimers({ now: 0 });
    const fn = vi.fn();
    const thirtyDays = 30 * 24 * 3600 * 1000;
    callAt(performance.now() + thirtyDays, { monotonic: () => performance.now() }, fn);
    vi.advanceTimersByTime(thirtyDays - 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledOnce();
  });

  it("a timer that fires before the monotonic clock reaches the instant waits out the rest: no \"crashed\" line while /health still answers 200", async () => {
    vi.useFakeTimers({ now: 0 });
    // Node starts a timer's delay from the event loop's cached time, which may lag performance.now().
    let lag = 0;
    const monotonic = () => performance.now() - lag;
    const crashy = createApp({ config: loadConfig({ CRASH_AFTER: "1" }), clock: { now: () => Date.now(), monotonic }, hostname: "h", runtime: "t" });
    const fired: boolean[] = [];
    callAt(crashy.crashAt, { monotonic }, () => void fired.push(crashy.isCrashed()));
    await vi.advanceTimersByTimeAsync(999);
    // The timer's 1,000 ms are up, but the monotonic clock has 3 ms to go.
    lag = 3;
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(3);
    expect(fired).toEqual([true]);
  });

  it("can be cancelled", () => {
    vi.useFakeTimers({ now: 0 });
    const fn = vi.fn();
    const cancel = callAt(performance.now() + 100, { monotonic: () => performance.now() }, fn);
    cancel();
    vi.advanceTimersByTime(1_000);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe("crashEvent", () => {
  it("tells each mode apart in the log, with the variables as fields", () => {
    const events = (["error", "hang", "exit"] as const).map((mode) => crashEvent(loadConfig({ CRASH_MODE: mode, CRASH_AFTER: "5" })));
    expect(events[0]!.msg).toBe("crashed after 5 s (CRASH_AFTER): / and /health now answer 500, /metrics still answers");
    expect(events[1]!.msg).toBe("crashed after 5 s (CRASH_AFTER): / and /health now never answer, /metrics still answers");
    expect(events[2]!.msg).toBe("crashed after 5 s (CRASH_AFTER): exiting with code 1 (CRASH_MODE=exit)");
    expect(events.map((e) => e.fields)).toEqual([
      { crash_after: 5, crash_mode: "error" },
      { crash_after: 5, crash_mode: "hang" },
      { crash_after: 5, crash_mode: "exit" },
    ]);
  });
});

describe("startEvent", () => {
  it("names the address, the runtime and the crash settings", () => {
    expect(startEvent(loadConfig({ CRASH_AFTER: "2.5", CRASH_MODE: "hang" }), "deno", "http://127.0.0.1:8080")).toEqual({
      msg: "listening on http://127.0.0.1:8080 (deno, CRASH_AFTER=2.5, CRASH_MODE=hang)",
      fields: { url: "http://127.0.0.1:8080", runtime: "deno", crash_after: 2.5, crash_mode: "hang", startup_seconds: 0, control: false },
    });
  });

  it("names STARTUP_SECONDS and CONTROL in the text only when set, so the lab's line stays as it was", () => {
    const event = startEvent(loadConfig({ STARTUP_SECONDS: "30", CONTROL: "true" }), "node", "http://0.0.0.0:8080");
    expect(event.msg).toBe("listening on http://0.0.0.0:8080 (node, CRASH_AFTER=60, CRASH_MODE=error, STARTUP_SECONDS=30, CONTROL=true)");
    expect(event.fields).toMatchObject({ startup_seconds: 30, control: true });
  });
});

describe("startedEvent", () => {
  it("says STARTUP_SECONDS are over and what no longer answers 503", () => {
    expect(startedEvent(loadConfig({ STARTUP_SECONDS: "2.5" }))).toEqual({
      msg: "started after 2.5 s (STARTUP_SECONDS): /, /health and /ready no longer answer 503 starting",
      fields: { startup_seconds: 2.5 },
    });
  });
});

describe("VERSION", () => {
  it("matches package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(VERSION).toBe(pkg.version);
  });
});
