// Restart detection: scrape the app's /metrics on a beat and notice when its start time changes.
// Runtime-neutral (fetch and Web streams). A failed scrape is reported, never thrown.
import { createExpositionScanner, ExpositionError } from "./exposition.ts";
import { systemTimers, type Timers } from "../../lib/clock.ts";

/** Enough for any app's metrics; a larger body is a failed scrape, not a memory problem. */
export const MAX_SCRAPE_BYTES = 4 * 1024 * 1024;
/** How much of a body is checked before the event loop gets a turn: a few milliseconds of work. */
const SCAN_SLICE_CHARS = 64 * 1024;

// Millisecond precision: process_start_time_seconds is whole seconds in prom-client and misses
// restarts less than a second apart (CRASH_MODE=exit with a small CRASH_AFTER). It is the fallback
// for apps that do not export the precise one.
export const START_TIME_METRICS = ["crashy_start_time_seconds", "process_start_time_seconds"] as const;

export type ScrapeResult =
  | { ok: true; at: number; durationSeconds: number; startTimeSeconds: number }
  | { ok: false; at: number; durationSeconds: number; error: string };

export type Restart = {
  /** Epoch ms at which the restart was noticed. */
  detectedAt: number;
  /** The new start time of the app, seconds since the epoch. */
  startTimeSeconds: number;
  previousStartTimeSeconds: number;
};

/** Fetches `url` and reads the app's start time from it. */
export async function scrapeStartTime(
  url: string,
  timeoutSeconds: number,
  options: { now?: () => number; signal?: AbortSignal } = {},
): Promise<ScrapeResult> {
  const now = options.now ?? Date.now;
  const at = now();
  const began = performance.now();
  const elapsed = () => (performance.now() - began) / 1000;
  try {
    const response = await fetch(url, {
      headers: { accept: "text/plain;version=0.0.4" },
      signal: options.signal
        ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutSeconds * 1000)])
        : AbortSignal.timeout(timeoutSeconds * 1000),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      return { ok: false, at, durationSeconds: elapsed(), error: `GET ${url}: status ${response.status}` };
    }
    const found = await scanStartTimes(response, MAX_SCRAPE_BYTES);
    if (found === undefined) {
      return { ok: false, at, durationSeconds: elapsed(), error: `GET ${url}: body larger than ${MAX_SCRAPE_BYTES} bytes` };
    }
    for (const name of START_TIME_METRICS) {
      const value = found.get(name);
      if (value !== undefined && Number.isFinite(value)) {
        return { ok: true, at, durationSeconds: elapsed(), startTimeSeconds: value };
      }
    }
    return { ok: false, at, durationSeconds: elapsed(), error: `GET ${url}: no ${START_TIME_METRICS.join(" or ")} in the answer` };
  } catch (error) {
    const reason =
      error instanceof ExpositionError
        ? `malformed exposition, ${error.message}`
        : (error as Error).name === "TimeoutError"
          ? `no answer within ${timeoutSeconds} s`
          : describeFetchError(error as Error);
    return { ok: false, at, durationSeconds: elapsed(), error: `GET ${url}: ${reason}` };
  }
}

/**
 * The first value of each START_TIME_METRICS sample in the body, read as it arrives (every line is
 * still checked), or undefined once the body passes `limit` bytes (the rest is not read). Nothing
 * but the current line is kept, and the event loop runs between chunks: a huge body costs time
 * spread over the scrape, not memory or a stalled sidecar.
 */
async function scanStartTimes(response: Response, limit: number): Promise<Map<string, number> | undefined> {
  const found = new Map<string, number>();
  const wanted = new Set<string>(START_TIME_METRICS);
  const scanner = createExpositionScanner((sample) => {
    if (wanted.has(sample.name) && !found.has(sample.name)) found.set(sample.name, sample.value);
  });
  const reader = response.body?.getReader();
  if (!reader) return found;
  const decoder = new TextDecoder();
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        return undefined;
      }
      // A chunk can be large: read it a slice at a time, letting the event loop in between, so
      // the sidecar's own endpoints answer while a big body is checked.
      const text = decoder.decode(value, { stream: true });
      for (let at = 0; at < text.length; at += SCAN_SLICE_CHARS) {
        scanner.push(text.slice(at, at + SCAN_SLICE_CHARS));
        if (text.length > SCAN_SLICE_CHARS) await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  }
  scanner.push(decoder.decode());
  scanner.end();
  return found;
}

// fetch() says only "fetch failed"; the reason is in `cause`.
function describeFetchError(error: Error): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${cause.code} ${cause.message ?? ""}`.trim() : error.message;
}

/**
 * Compares each start time with the one before. The first scrape only sets the baseline; a scrape
 * that fails changes nothing, so a restart seen across an outage is still counted (once: the
 * start time tells only of the latest start).
 */
export function createRestartDetector() {
  let known: number | undefined;
  return {
    observe(startTimeSeconds: number, detectedAt: number): Restart | undefined {
      const previous = known;
      known = startTimeSeconds;
      if (previous === undefined || previous === startTimeSeconds) return undefined;
      return { detectedAt, startTimeSeconds, previousStartTimeSeconds: previous };
    },
    get startTimeSeconds() {
      return known;
    },
  };
}

export type ScraperOptions = {
  url: string;
  intervalSeconds: number;
  /** Defaults to the interval, capped at 10 s as Prometheus caps its scrape timeout. */
  timeoutSeconds?: number;
  timers?: Timers;
  scrape?: (url: string, timeoutSeconds: number, signal: AbortSignal) => Promise<ScrapeResult>;
  onScrape?: (result: ScrapeResult) => void;
  onRestart?: (restart: Restart) => void;
};

export type Scraper = {
  start(): void;
  stop(): Promise<void>;
  /** Monotonic ms (timers.monotonic()) of the last scrape start, undefined before the first. */
  lastScrapeAt(): number | undefined;
  running(): boolean;
};

/** Scrapes on a beat, one scrape at a time. */
export function createScraper(options: ScraperOptions): Scraper {
  const timers = options.timers ?? systemTimers;
  const timeoutSeconds = options.timeoutSeconds ?? Math.min(options.intervalSeconds, 10);
  const scrape = options.scrape ?? ((url, timeout, signal) => scrapeStartTime(url, timeout, { now: () => timers.now(), signal }));
  const detector = createRestartDetector();
  let running = false;
  let timer: unknown;
  let current: { controller: AbortController; done: Promise<void> } | undefined;
  let last: number | undefined;

  async function tick(): Promise<void> {
    timer = undefined;
    if (!running) return;
    // The beat on the monotonic clock; the result's `at` (when, for people) on the wall clock.
    const began = timers.monotonic();
    last = began;
    const controller = new AbortController();
    const done = scrape(options.url, timeoutSeconds, controller.signal).then((result) => {
      if (!running) return;
      options.onScrape?.(result);
      if (!result.ok) return;
      const restart = detector.observe(result.startTimeSeconds, result.at);
      if (restart) options.onRestart?.(restart);
    });
    current = { controller, done };
    await done;
    current = undefined;
    if (!running) return;
    const wait = Math.max(0, began + options.intervalSeconds * 1000 - timers.monotonic());
    timer = timers.setTimeout(() => void tick(), wait);
  }

  return {
    start() {
      if (running) return;
      running = true;
      timer = timers.setTimeout(() => void tick(), 0);
    },
    async stop() {
      running = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      current?.controller.abort();
      await current?.done;
    },
    lastScrapeAt: () => last,
    running: () => running,
  };
}
