// Prometheus text for programs that are scraped in a loop: metrics whose values are collected at
// most once per interval and whose text is formatted once per collection (process metrics), and
// stand-ins that let a program hand plain numbers to a prom-client Registry at scrape time.
import { Registry, type Metric } from "prom-client";

/** How long process metrics, once collected, are served before they are collected again. */
export const PROCESS_METRICS_MAX_AGE_MS = 1000;

export type CachedMetricsOptions = {
  maxAgeMs?: number;
  /** Milliseconds on any steady scale; injected so tests can move time by hand. */
  now?: () => number;
};

type Snapshot = { byName: Map<string, object>; text: string };
type CachedGroup = { current(): Snapshot | Promise<Snapshot> };

// The stand-ins registerCachedMetrics puts on a registry, and the group each belongs to.
const cachedGroups = new WeakMap<object, CachedGroup>();

/**
 * Puts every metric of `source` on `target`, served from what `source` last collected and
 * collected again at most once per `maxAgeMs`. For process metrics: prom-client's default
 * collectors read /proc and walk handles on every scrape (about 0.4 ms of CPU on Node), which makes
 * a /metrics scraped in a loop a cheap way to burn the app's CPU. Values up to a second old are
 * fine for metrics scraped every few seconds. The stand-ins live on `target` itself, so
 * `target.metrics()` includes them; `renderMetrics` also reuses their text.
 */
export function registerCachedMetrics(target: Registry, source: Registry, options: CachedMetricsOptions = {}): void {
  const maxAgeMs = options.maxAgeMs ?? PROCESS_METRICS_MAX_AGE_MS;
  const now = options.now ?? (() => Date.now());
  const metrics = source.getMetricsAsArray().map(({ name, help, type, aggregator }) => ({ name, help, type, aggregator }));

  // Formats a collection once, for every scrape until the next one.
  let collected = new Map<string, object>();
  const formatter = new Registry();
  for (const metric of metrics) formatter.registerMetric(standIn(metric, async () => collected.get(metric.name) ?? {}));

  let snapshot: Snapshot | undefined;
  let collectedAt = 0;
  // Scrapes that arrive while a collection runs share it rather than start their own.
  let collecting: Promise<Snapshot> | undefined;
  const group: CachedGroup = {
    current() {
      if (snapshot && now() - collectedAt < maxAgeMs) return snapshot;
      collecting ??= (async () => {
        try {
          collected = new Map((await source.getMetricsAsJSON()).map((metric) => [metric.name, metric]));
          snapshot = { byName: collected, text: (await formatter.metrics()).trimEnd() };
          collectedAt = now();
          return snapshot;
        } finally {
          collecting = undefined;
        }
      })();
      return collecting;
    },
  };

  for (const metric of metrics) {
    const cached = standIn(metric, async () => (await group.current()).byName.get(metric.name) ?? {});
    cachedGroups.set(cached, group);
    target.registerMetric(cached);
  }
}

/**
 * A metric for a registry whose values come from `get`: a registry only reads name, type,
 * aggregator and get() (name, help, type, values) of what it holds.
 */
export function standIn(metric: { name: string; help: string; type: unknown; aggregator: unknown }, get: () => Promise<object>): Metric {
  const object = {
    ...metric,
    get: async () => ({ ...metric, ...(await get()) }),
    // Registry.resetMetrics() calls this; what a stand-in serves belongs to whatever feeds it.
    reset() {},
  };
  // prom-client's types admit only its own metric classes.
  return object as unknown as Metric;
}

/**
 * The Prometheus text of `registry`, like `registry.metrics()`, but with the text of cached metrics
 * (registerCachedMetrics) formatted once per collection rather than on every scrape.
 */
export async function renderMetrics(registry: Registry): Promise<string> {
  const done = new Set<CachedGroup>();
  const parts = registry.getMetricsAsArray().map((metric) => {
    const group = cachedGroups.get(metric);
    if (!group) return registry.getSingleMetricAsString(metric.name);
    if (done.has(group)) return undefined;
    done.add(group);
    const current = group.current();
    return current instanceof Promise ? current.then((s) => s.text) : current.text;
  });
  const texts = await Promise.all(parts);
  return `${texts.filter((text) => text !== undefined).join("\n\n")}\n`;
}

/** How old a /metrics text may be when served again: a burst of scrapes then costs one rendering a second. */
export const METRICS_MAX_AGE_MS = 1000;

export type SharedRenderOptions = {
  /** 0: only scrapes that arrive while a rendering runs share it. */
  maxAgeMs?: number;
  /** Milliseconds on a steady (monotonic) scale; injected so tests can move time by hand. */
  now?: () => number;
};

/**
 * `render`, shared: scrapes that arrive while a rendering runs get its text, and so do those that
 * arrive within `maxAgeMs` of its start (so a text is at most that old in what it says). A burst
 * of 256 scrapes renders once instead of 256 times; scrapes further apart each get a new text.
 */
export function sharedRender(render: () => Promise<string>, options: SharedRenderOptions = {}): () => Promise<string> {
  const maxAgeMs = options.maxAgeMs ?? METRICS_MAX_AGE_MS;
  const now = options.now ?? (() => performance.now());
  let last: { text: Promise<string>; at: number } | undefined;
  let rendering: Promise<string> | undefined;
  return () => {
    if (rendering) return rendering;
    if (last && now() - last.at < maxAgeMs) return last.text;
    const at = now();
    const text = render();
    rendering = text;
    const settle = () => (rendering = undefined);
    // A failed rendering is not kept: the next scrape tries again.
    text.then(() => {
      settle();
      last = { text, at };
    }, settle);
    return text;
  };
}
