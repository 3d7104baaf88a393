// The sidecar put together: the probe worker with the HTTP prober, the scraper, the metrics and a
// bounded history for /api/status. No server here (server.ts) and no process handling (node.ts).
import type { SidecarConfig } from "./config.ts";
import { createSidecarMetrics } from "./metrics.ts";
import { createHttpProber, type HttpProber } from "../../probe/src/http.ts";
import { createRing } from "../../lib/ring.ts";
import { createScraper, type Restart, type ScrapeResult } from "./scraper.ts";
import type { SidecarStatus } from "./status.ts";
import { systemTimers, type Timers } from "../../lib/clock.ts";
import { createProbeWorker, VERDICT_HEALTHY, VERDICT_UNHEALTHY, type ProbeEvent, type ProbeRecord } from "../../probe/src/worker.ts";

/** Probes kept for /api/status and the page: at period 1 s, five minutes. */
export const PROBE_HISTORY = 300;
export const EVENT_HISTORY = 100;
export const RESTART_HISTORY = 100;

/** The worker's events, and "Started" when a restart of the app is seen, in the kubelet's words. */
export type SidecarEvent = Omit<ProbeEvent, "reason"> & { reason: ProbeEvent["reason"] | "Started" };

export type SidecarOptions = {
  config: SidecarConfig;
  timers?: Timers;
  /** Replaces the HTTP prober (the worker's tests use their own). */
  prober?: HttpProber;
  onEvent?: (event: SidecarEvent) => void;
  onScrape?: (result: ScrapeResult) => void;
};

export type Sidecar = ReturnType<typeof createSidecar>;

export function createSidecar({ config, timers = systemTimers, prober, onEvent, onScrape }: SidecarOptions) {
  const metrics = createSidecarMetrics();
  const probes = createRing<ProbeRecord>(PROBE_HISTORY);
  const events = createRing<SidecarEvent>(EVENT_HISTORY);
  const restarts = createRing<Restart>(RESTART_HISTORY);
  const counts = { successful: 0, failed: 0, unknown: 0, restarts: 0, scrapesOk: 0, scrapesFailed: 0 };
  let lastScrape: ScrapeResult | undefined;
  let startedAt: number | undefined;

  const log = (event: SidecarEvent) => {
    events.push(event);
    onEvent?.(event);
  };

  const worker = createProbeWorker({
    ...config.probe,
    probe: prober ?? createHttpProber({ url: config.probe.url, timeoutSeconds: config.probe.timeoutSeconds }),
    containerName: config.containerName,
    // Unlike the kubelet, keep probing after the verdict, to see the restart and the recovery.
    holdAfterFailure: false,
    timers,
    onEvent: log,
    onResult(record, state) {
      probes.push(record);
      if (record.result === "success") counts.successful++;
      else if (record.result === "failure") counts.failed++;
      else counts.unknown++;
      metrics.recordProbe(record, state);
    },
  });

  const scraper = config.scrape.url
    ? createScraper({
        url: config.scrape.url,
        intervalSeconds: config.scrape.intervalSeconds,
        timers,
        onScrape(result) {
          lastScrape = result;
          if (result.ok) counts.scrapesOk++;
          else counts.scrapesFailed++;
          metrics.recordScrape(result);
          onScrape?.(result);
        },
        onRestart(restart) {
          restarts.push(restart);
          counts.restarts++;
          metrics.recordRestart(restart);
          const startedMs = Math.round(restart.startTimeSeconds * 1000);
          // The kubelet sets a new container's liveness result to Success (worker.go initialValue).
          worker.containerStarted(startedMs);
          metrics.recordState(worker.state());
          log({ at: startedMs, type: "Normal", reason: "Started", message: `Started container ${config.containerName}` });
        },
      })
    : undefined;

  return {
    metrics,
    start() {
      startedAt = timers.now();
      worker.start();
      scraper?.start();
    },
    async stop() {
      await Promise.all([worker.stop(), scraper?.stop()]);
    },
    /** Its own liveness: both loops running, and the probe loop not stuck. */
    health(): { ok: boolean; reason: string } {
      const state = worker.state();
      if (!state.running || startedAt === undefined) return { ok: false, reason: "the probe loop is not running" };
      if (scraper && !scraper.running()) return { ok: false, reason: "the scrape loop is not running" };
      // A beat is due every period; a probe in flight may hold it up to its timeout.
      const { periodSeconds, timeoutSeconds } = config.probe;
      const since = state.lastTickAt ?? startedAt;
      const allowedMs = (2 * periodSeconds + timeoutSeconds + 1) * 1000;
      if (timers.now() - since > allowedMs) {
        return { ok: false, reason: `the probe loop has not run for ${((timers.now() - since) / 1000).toFixed(1)} s` };
      }
      return { ok: true, reason: "probing" };
    },
    status(): SidecarStatus {
      const state = worker.state();
      return {
        now: timers.now(),
        config: {
          probeUrl: config.probe.url,
          periodSeconds: config.probe.periodSeconds,
          timeoutSeconds: config.probe.timeoutSeconds,
          failureThreshold: config.probe.failureThreshold,
          successThreshold: config.probe.successThreshold,
          initialDelaySeconds: config.probe.initialDelaySeconds,
          metricsUrl: config.scrape.url,
          scrapeIntervalSeconds: config.scrape.intervalSeconds,
          containerName: config.containerName,
        },
        verdict: {
          healthy: state.healthy,
          text: state.healthy ? VERDICT_HEALTHY : VERDICT_UNHEALTHY,
          consecutiveFailures: state.consecutiveFailures,
          consecutiveSuccesses: state.consecutiveSuccesses,
          probesUntilRestart: state.probesUntilRestart,
        },
        counters: { probes: state.probes, ...counts },
        scrape: {
          enabled: scraper !== undefined,
          up: lastScrape?.ok ?? false,
          lastAt: lastScrape?.at,
          error: lastScrape && !lastScrape.ok ? lastScrape.error : undefined,
          startTimeSeconds: lastScrape?.ok ? lastScrape.startTimeSeconds : undefined,
        },
        probes: probes.items(),
        restarts: restarts.items(),
        events: events.items(),
      };
    },
  };
}

export type { SidecarStatus };
