/** Wall-clock milliseconds since the epoch; injected so tests can cross the crash without sleeping. */
export type Clock = { now(): number };

export const systemClock: Clock = { now: () => Date.now() };
