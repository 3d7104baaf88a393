// The sidecar put together: one probe worker (probe/) on the app, the scraper that notices its
// restarts, the metrics and a bounded history for /api/status. It plays the kubelet's part only so
// far as to show it: a liveness or startup failure reads "restart pending" until the scraper sees
// the new instance, as the kubelet holds its worker until a new container ID. No server here
// (server.ts) and no process handling (node.ts).
import { systemTimers, type Timers } from "../../lib/clock.ts";
import { createRing } from "../../lib/ring.ts";
import { createProber } from "../../probe/src/handlers.ts";
import { createResultsManager, type Result } from "../../probe/src/results.ts";
import type { ProbeFn, ProbeType } from "../../probe/src/types.ts";
import { createProbeWorker, type ContainerStatus, type ProbeEvent, type ProbeRecord } from "../../probe/src/worker.ts";
import type { SidecarConfig } from "./config.ts";
import { createSidecarMetrics } from "./metrics.ts";
import { createScraper, type Restart, type ScrapeResult } from "./scraper.ts";
import type { SidecarStatus, VerdictState } from "./status.ts";

/** Probes kept for /api/status and the page: at period 1 s, five minutes. */
export const PROBE_HISTORY = 300;
export const EVENT_HISTORY = 100;
export const RESTART_HISTORY = 100;

/** The prober's events, and what the kubelet does about them (Killing, Started), in its words. */
export type SidecarEvent = Omit<ProbeEvent, "type" | "reason"> & {
  type: "Normal" | "Warning";
  reason: ProbeEvent["reason"] | "Killing" | "Started";
};


/** The verdict's words, for logs and the page. */
export const VERDICT_TEXT: Record<VerdictState, string> = {
  healthy: "healthy",
  "restart-pending": "restart pending: the kubelet restarts the container",
  ready: "ready: the Service sends it traffic",
  "not-ready": "not ready: the Service sends it no traffic",
  starting: "starting: liveness and readiness probes wait",
  started: "started: liveness and readiness probes take over",
};

/** What the kubelet's result of a probe of `type` means (kuberuntime computePodActions, the status manager). */
export function verdictOf(type: ProbeType, result: Result | undefined): VerdictState {
  switch (type) {
    case "Liveness":
      return result === "failure" ? "restart-pending" : "healthy";
    case "Readiness":
      return result === "success" ? "ready" : "not-ready";
    case "Startup":
      return result === "failure" ? "restart-pending" : result === "success" ? "started" : "starting";
  }
}

export type SidecarOptions = {
  config: SidecarConfig;
  timers?: Timers;
  /** Replaces the HTTP prober (the worker's tests use their own). */
  prober?: ProbeFn;
  onEvent?: (event: SidecarEvent) => void;
  onScrape?: (result: ScrapeResult) => void;
};

export type Sidecar = ReturnType<typeof createSidecar>;

export function createSidecar({ config, timers = systemTimers, prober, onEvent, onScrape }: SidecarOptions) {
  const type = config.probe.type;
  const metrics = createSidecarMetrics(type);
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

  // The app container as the sidecar can know it: an instance is a start time seen in its metrics.
  // Before the first scrape (or with scraping off) the instance is the one running when we started.
  let instance = 0;
  const container: ContainerStatus = { id: "instance-0", running: true, startedAt: timers.now(), started: true };
  const newInstance = (startedAtMs: number) => {
    container.id = `instance-${++instance}`;
    container.startedAt = startedAtMs;
  };

  const results = createResultsManager((update) => {
    metrics.recordResult(update.result);
    if (update.result !== "failure" || type === "Readiness") return;
    // kuberuntime computePodActions: "Container %s failed %s probe", then ", will be restarted".
    log({ at: timers.now(), type: "Normal", reason: "Killing", message: `Container ${config.containerName} failed ${type.toLowerCase()} probe, will be restarted` });
    // Without scraping, no restart can be seen: take it as done at once rather than hold forever.
    if (!scraper) newInstance(timers.now());
  });

  const worker = createProbeWorker({
    type,
    spec: config.probe,
    probe: prober ?? createProber(config.probe.action, config.probe.timeoutSeconds),
    // The sidecar knows no other probe of the container: a startup probe's own Success is what
    // starts it; for the other types, the container counts as started.
    status: () => ({ ...container, started: type !== "Startup" || results.get(container.id) === "success" }),
    results,
    timers,
    onEvent: log,
    onProbe(record, state) {
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
          // A new container ID for the worker: it takes the initial result again and resumes.
          newInstance(startedMs);
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
      // A beat is due every period; a probe in flight (with its retries) may hold it up to its timeouts.
      const { periodSeconds, timeoutSeconds } = config.probe;
      const since = state.lastTickAt ?? startedAt;
      const allowedMs = (2 * periodSeconds + 3 * timeoutSeconds + 1) * 1000;
      if (timers.now() - since > allowedMs) {
        return { ok: false, reason: `the probe loop has not run for ${((timers.now() - since) / 1000).toFixed(1)} s` };
      }
      return { ok: true, reason: "probing" };
    },
    status(): SidecarStatus {
      const state = worker.state();
      const verdict = verdictOf(type, state.result ?? results.get(container.id));
      return {
        now: timers.now(),
        config: {
          probeType: type,
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
          state: verdict,
          /** The kubelet's result is Success (healthy, ready or started). */
          healthy: verdict === "healthy" || verdict === "ready" || verdict === "started",
          text: VERDICT_TEXT[verdict],
          /** No probes until the restart is seen (worker.go onHold). */
          onHold: state.onHold,
          consecutiveFailures: state.consecutiveFailures,
          consecutiveSuccesses: state.consecutiveSuccesses,
          /** Failed probes still needed for the failure threshold. */
          probesUntilRestart: state.probesUntilFailure,
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

export type { SidecarStatus, VerdictState };
