// Restart detection: scrape the app's /metrics on a beat and notice when its start time changes.
// Node-only transport (node:http, as probe/src/http.ts): fetch() would load undici, whose parser is
// WebAssembly, which V8's --lite-mode (the sidecar's memory-saving flag) leaves undefined; undici
// also costs about 13 MiB of RSS. A failed scrape is reported, never thrown.
import type { IncomingMessage } from "node:http";
import { http, https } from "../../lib/node-http.ts";
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

/** What ended a scrape early: its deadline, or the caller's signal. */
class Stopped extends Error {}
/** The body passed MAX_SCRAPE_BYTES. */
class TooLarge extends Error {}

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
  // One deadline over the whole exchange, the body included, as fetch's AbortSignal.timeout was.
  const stopper = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stopper.abort();
  }, timeoutSeconds * 1000);
  const onCancel = () => stopper.abort();
  options.signal?.addEventListener("abort", onCancel, { once: true });
  if (options.signal?.aborted) onCancel();
  let response: IncomingMessage | undefined;
  try {
    response = await get(url, stopper.signal);
    if (response.statusCode !== 200) {
      return { ok: false, at, durationSeconds: elapsed(), error: `GET ${url}: status ${response.statusCode}` };
    }
    const found = await scanStartTimes(response, MAX_SCRAPE_BYTES, stopper.signal);
    for (const name of START_TIME_METRICS) {
      const value = found.get(name);
      if (value !== undefined && Number.isFinite(value)) {
        return { ok: true, at, durationSeconds: elapsed(), startTimeSeconds: value };
      }
    }
    return { ok: false, at, durationSeconds: elapsed(), error: `GET ${url}: no ${START_TIME_METRICS.join(" or ")} in the answer` };
  } catch (error) {
    // The deadline first: whatever the stream said when it was cut, the cause is the timeout.
    const reason = timedOut
      ? `no answer within ${timeoutSeconds} s`
      : error instanceof TooLarge
        ? `body larger than ${MAX_SCRAPE_BYTES} bytes`
        : error instanceof ExpositionError
          ? `malformed exposition, ${error.message}`
          : error instanceof Stopped
            ? "canceled"
            : describeError(error as NodeJS.ErrnoException);
    return { ok: false, at, durationSeconds: elapsed(), error: `GET ${url}: ${reason}` };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onCancel);
    // Never read to the end what is not wanted: the connection is ours alone (agent: false).
    response?.destroy();
  }
}

/** One GET on a fresh connection (agent: false: no pool to hold sockets); resolves with the response once its headers are in. */
function get(url: string, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Stopped());
    const target = new URL(url);
    if (target.protocol !== "http:" && target.protocol !== "https:") {
      return reject(new Error(`unsupported protocol ${target.protocol}`));
    }
    const request = (target.protocol === "https:" ? https : http).request(target, {
      headers: { accept: "text/plain;version=0.0.4" },
      agent: false,
    });
    const onAbort = () => request.destroy(new Stopped());
    signal.addEventListener("abort", onAbort, { once: true });
    request.on("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
    request.on("response", (response) => {
      signal.removeEventListener("abort", onAbort);
      // From here the body's reader owns the stop.
      resolve(response);
    });
    request.end();
  });
}

/**
 * The first value of each START_TIME_METRICS sample in the body, read as it arrives (every line is
 * still checked); throws TooLarge once the body passes `limit` bytes (the rest is not read). Nothing
 * but the current line is kept, and the event loop runs between slices: a huge body costs time
 * spread over the scrape, not memory or a stalled sidecar.
 */
async function scanStartTimes(response: IncomingMessage, limit: number, signal: AbortSignal): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const wanted = new Set<string>(START_TIME_METRICS);
  const scanner = createExpositionScanner((sample) => {
    if (wanted.has(sample.name) && !found.has(sample.name)) found.set(sample.name, sample.value);
  }, START_TIME_METRICS);
  const onAbort = () => response.destroy(new Stopped());
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  const decoder = new TextDecoder();
  let size = 0;
  try {
    // The iterator pauses the socket while a chunk is scanned: no more than one chunk is held.
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > limit) throw new TooLarge();
      // A chunk can be large: read it a slice at a time, letting the event loop in between, so
      // the sidecar's own endpoints answer while a big body is checked.
      const text = decoder.decode(chunk, { stream: true });
      for (let at = 0; at < text.length; at += SCAN_SLICE_CHARS) {
        scanner.push(text.slice(at, at + SCAN_SLICE_CHARS));
        if (text.length > SCAN_SLICE_CHARS) await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  scanner.push(decoder.decode());
  scanner.end();
  return found;
}

/** Node's error with its code first, as fetch()'s cause read before: "ECONNREFUSED connect ECONNREFUSED 127.0.0.1:9". */
function describeError(error: NodeJS.ErrnoException): string {
  return error.code ? `${error.code} ${error.message}` : error.message;
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
