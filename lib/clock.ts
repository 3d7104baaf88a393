// Time for every program of the kit: a clock to read and timers to schedule with, injected so
// tests can move time by hand. Web-standard only (setTimeout, Date), so every runtime has it.

/** Wall-clock milliseconds since the epoch. */
export type Clock = { now(): number };

export const systemClock: Clock = { now: () => Date.now() };

/** A clock and the timers that go with it: the probe worker, the scraper and the local pod run on these. */
export type Timers = Clock & {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

/** The global timers, looked up at each call so test fake timers apply. */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` on `timers`. */
export const sleep = (ms: number, timers: Timers = systemTimers): Promise<void> =>
  new Promise((resolve) => void timers.setTimeout(resolve, ms));
