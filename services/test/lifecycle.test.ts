import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/config.ts";
import { callAt, describeCrash } from "../src/lifecycle.ts";
import { VERSION } from "../../lib/version.ts";

afterEach(() => vi.useRealTimers());

describe("callAt", () => {
  it("calls at the given instant and not before", () => {
    vi.useFakeTimers({ now: 1_000 });
    const fn = vi.fn();
    callAt(3_500, { now: () => Date.now() }, fn);
    vi.advanceTimersByTime(2_499);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledOnce();
  });

  it("waits out delays longer than setTimeout can hold instead of firing at once", () => {
    vi.useFakeTimers({ now: 0 });
    const fn = vi.fn();
    const thirtyDays = 30 * 24 * 3600 * 1000;
    callAt(thirtyDays, { now: () => Date.now() }, fn);
    vi.advanceTimersByTime(thirtyDays - 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledOnce();
  });

  it("can be cancelled", () => {
    vi.useFakeTimers({ now: 0 });
    const fn = vi.fn();
    const cancel = callAt(100, { now: () => Date.now() }, fn);
    cancel();
    vi.advanceTimersByTime(1_000);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe("describeCrash", () => {
  it("tells each mode apart in the log", () => {
    const lines = (["error", "hang", "exit"] as const).map((mode) =>
      describeCrash(loadConfig({ CRASH_MODE: mode, CRASH_AFTER: "5" })),
    );
    expect(lines[0]).toBe("crashy: crashed after 5 s (CRASH_AFTER): / and /health now answer 500, /metrics still answers");
    expect(lines[1]).toContain("never answer");
    expect(lines[2]).toContain("exiting with code 1");
  });
});

describe("VERSION", () => {
  it("matches package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(VERSION).toBe(pkg.version);
  });
});
