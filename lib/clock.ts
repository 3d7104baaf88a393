// Time for every program of the kit: a clock to read and timers to schedule with, injected so
// tests can move time by hand. Web-standard only (setTimeout, Date, performance), so every runtime
// has it.
//
// Two readings, as Go's time.Time carries two (time package docs, "Monotonic Clocks"): the wall
// clock, which NTP, a VM resume or an admin may step back or forward, and a monotonic one, which
// only moves on. Every interval, deadline, period, timeout and back-off is measured on
// `monotonic()` (Go's Sub, Since, Until, Timer and Ticker use the monotonic reading, which is why
// the kubelet's prober ticker and client-go's back-off and rate limiter ignore wall-clock steps);
// `now()` is only for what a person reads (log timestamps, event times and ages, the page) and for
// start times another process compares (crashy_start_time_seconds, process_start_time_seconds).

export type Clock = {
  /** Wall-clock milliseconds since the epoch: for what is displayed, never to measure time with. */
  now(): number;
  /**
   * Monotonic milliseconds from an arbitrary origin (performance.now()): for every interval and
   * deadline. Its origin is not the epoch on purpose, so a reading mixed up with a wall-clock one
   * is visibly wrong at once rather than only after a step.
   */
  monotonic(): number;
};

/** Both readings, looked up at each call so test fake timers apply. */
export const systemClock: Clock = { now: () => Date.now(), monotonic: () => performance.now() };

/** A clock and the timers that go with it: the probe worker, the scraper and the local pod run on these. */
export type Timers = Clock & {
  /** Fires after `ms` of monotonic time: setTimeout runs on the runtime's monotonic clock (libuv's uv_now, Deno's and Bun's too). */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

/** The global timers, looked up at each call so test fake timers apply. */
export const systemTimers: Timers = {
  ...systemClock,
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The wall-clock time of `at`, a past or future monotonic instant, as the wall clock reads now: for display. */
export const wallTimeOf = (at: number, clock: Clock): number => clock.now() - (clock.monotonic() - at);

/** Resolves after `ms` on `timers`. */
export const sleep = (ms: number, timers: Timers = systemTimers): Promise<void> =>
  new Promise((resolve) => void timers.setTimeout(resolve, ms));
