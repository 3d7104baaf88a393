import { describe, expect, it } from "vitest";
import { createRestartBackoff } from "../src/backoff.ts";

function clock() {
  let t = 1_000_000;
  return { now: () => t, set: (ms: number) => void (t = ms), advance: (ms: number) => void (t += ms) };
}

describe("the kubelet's restart back-off", () => {
  it("starts a container at once the first time, when no instance has exited before", () => {
    const c = clock();
    expect(createRestartBackoff(c.now).check(undefined)).toBe(0);
  });

  it("restarts a container killed after a long run at once, as in the lab (60 s runs, 10 s back-off)", () => {
    const c = clock();
    const backoff = createRestartBackoff(c.now);
    // First kill: the instance killed now is not yet an exited instance in the pod's status.
    expect(backoff.check(undefined)).toBe(0);
    const firstFinished = c.now();
    c.advance(63_000);
    // Second kill: the latest exited instance finished 63 s ago, longer than any back-off yet.
    expect(backoff.check(firstFinished)).toBe(0);
    expect(backoff.current()).toBe(10_000);
    const secondFinished = c.now();
    c.advance(63_000);
    expect(backoff.check(secondFinished)).toBe(0);
    expect(backoff.current()).toBe(20_000);
  });

  it("holds back a container that keeps exiting quickly: 10, 20, 40 s ... CrashLoopBackOff", () => {
    const c = clock();
    const backoff = createRestartBackoff(c.now);
    const waits: number[] = [];
    for (let run = 0; run < 7; run++) {
      c.advance(1_000); // runs one second, then exits
      const finished = c.now();
      let wait = backoff.check(finished);
      waits.push(wait);
      while (wait > 0) {
        c.advance(wait);
        wait = backoff.check(finished);
      }
    }
    expect(waits).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000]);
  });

  it("never waits longer than 5 minutes", () => {
    const c = clock();
    const backoff = createRestartBackoff(c.now);
    for (let i = 0; i < 20; i++) {
      const finished = c.now();
      let wait = backoff.check(finished);
      expect(wait).toBeLessThanOrEqual(300_000);
      while (wait > 0) {
        c.advance(wait);
        wait = backoff.check(finished);
      }
    }
    expect(backoff.current()).toBe(300_000);
  });

  it("forgets the back-off after 10 minutes without an exit", () => {
    const c = clock();
    const backoff = createRestartBackoff(c.now);
    backoff.check(c.now()); // 10 s from now on
    const finished = c.now();
    expect(backoff.check(finished)).toBe(10_000);
    c.advance(10_000);
    expect(backoff.check(finished)).toBe(0); // 20 s from now on
    expect(backoff.current()).toBe(20_000);
    c.advance(600_001);
    expect(backoff.check(c.now())).toBe(0);
    expect(backoff.current()).toBe(10_000);
  });
});
