// The sidecar put together: a probe worker (probe/) for each probe the app container has, each with
// its own results manager as in the kubelet's prober_manager.go, the scraper that notices the app's
// restarts, the metrics and a bounded history for /api/status. It plays the kubelet's part only so
// far as to show it: startup gates the other probes until it succeeds; a liveness or startup
// failure reads "restart pending" and the container counts as not running (every worker holds, the
// pod is not Ready) until the scraper sees the new instance, as the kubelet's workers wait for a new
// container ID; a readiness failure only takes the pod out of the Service. No server here
// (server.ts) and no process handling (node.ts).
import { systemTimers, type Timers } from "../../lib/clock.ts";
import { createRing, type Ring } from "../../lib/ring.ts";
import { keepable } from "../../lib/text.ts";
import { createProber } from "../../probe/src/handlers.ts";
import { createResultsManager, type ResultsManager, type Result, type Update } from "../../probe/src/results.ts";
import type { ProbeFn, ProbeType } from "../../probe/src/types.ts";
import { createProbeWorker, type ProbeEvent, type ProbeRecord, type ProbeWorker } from "../../probe/src/worker.ts";
import type { ProbeConfig, SidecarConfig } from "./config.ts";
import { createSidecarMetrics } from "./metrics.ts";
import { createScraper, type Restart, type ScrapeResult } from "./scraper.ts";
import type { ProbeWait, SidecarStatus, StatusPodCondition, StatusProbe, VerdictState } from "./status.ts";

/** Probes kept for /api/status and the page: at period 1 s, five minutes. */
export const PROBE_HISTORY = 300;
export const EVENT_HISTORY = 100;
export const RESTART_HISTORY = 100;

/** The prober's events, and what the kubelet does about them (Killing, Started), in its words. */
export type SidecarEvent = Omit<ProbeEvent, "type" | "reason"> & {
  type: "Normal" | "Warning";
  reason: ProbeEvent["reason"] | "Killing" | "Started";
  /** The probe the event is about; absent for "Started". */
  probeType?: ProbeType;
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
  /** Replaces the probers of some probe types (the tests use their own). */
  probers?: Partial<Record<ProbeType, ProbeFn>>;
  onEvent?: (event: SidecarEvent) => void;
  onScrape?: (result: ScrapeResult) => void;
};

export type Sidecar = ReturnType<typeof createSidecar>;

type ProbeUnit = {
  config: ProbeConfig;
  worker: ProbeWorker;
  results: ResultsManager;
  history: Ring<ProbeRecord>;
  counts: { successful: number; failed: number; unknown: number };
};

export function createSidecar({ config, timers = systemTimers, probers = {}, onEvent, onScrape }: SidecarOptions) {
  const events = createRing<SidecarEvent>(EVENT_HISTORY);
  const restarts = createRing<Restart>(RESTART_HISTORY);
  const counts = { restarts: 0, scrapesOk: 0, scrapesFailed: 0 };
  let lastScrape: ScrapeResult | undefined;
  let startedAt: number | undefined;

  // What comes from the target is kept escaped and capped (lib/text.ts), whatever it sent.
  const log = (event: SidecarEvent) => {
    const kept = { ...event, message: keepable(event.message) };
    events.push(kept);
    onEvent?.(kept);
  };

  // The app container as the sidecar can know it: an instance is a start time seen in its metrics.
  // Before the first scrape (or with scraping off) the instance is the one running when we started.
  // Its startedAt is on timers.monotonic(), for the initial delays (worker.ts ContainerStatus).
  let instance = 0;
  const container = { id: "instance-0", running: true, startedAt: timers.monotonic() };
  let restartPendingFor: "Liveness" | "Startup" | undefined;
  // The app's start time is the app's wall clock, the only one two processes share: it becomes a
  // monotonic instant once, when read, as "so long ago". A start that reads as still to come (the
  // two clocks disagree) counts as now.
  const monotonicOf = (wallMs: number) => timers.monotonic() - Math.max(0, timers.now() - wallMs);
  const newInstance = (startedAtMs: number) => {
    container.id = `instance-${++instance}`;
    container.running = true;
    container.startedAt = startedAtMs;
    restartPendingFor = undefined;
  };

  // One results manager per probe type: the kubelet's livenessManager, readinessManager, startupManager.
  const managers = new Map<ProbeType, ResultsManager>();
  const resultOf = (type: ProbeType) => managers.get(type)?.get(container.id);
  // prober_manager.go isContainerStarted: not running is not started; then the startup probe's
  // result for this instance, Success or not; no startup probe, started.
  const isStarted = () => container.running && (managers.has("Startup") ? resultOf("Startup") === "success" : true);
  // prober_manager.go UpdatePodStatus: a started container is ready if its readiness result is
  // Success, or if it has no readiness probe ("no readinessProbe -> always ready").
  const isReady = () => isStarted() && (managers.has("Readiness") ? resultOf("Readiness") === "success" : true);

  const metrics = createSidecarMetrics(config.probes.map((p) => p.type), { ready: isReady, started: isStarted });

  function onResult(type: ProbeType, update: Update) {
    // A probe of an instance already replaced that ends late changes nothing now.
    if (update.containerId !== container.id) return;
    metrics.recordResult(type, update.result);
    // kuberuntime_manager.go computePodActions: a running container whose liveness or startup
    // result is Failure is killed, "Container %s failed %s probe" + ", will be restarted". The
    // Failure the workers set for a container that is not running (any probe type) is no new kill.
    if (update.result !== "failure" || type === "Readiness" || !container.running) return;
    log({ at: timers.now(), type: "Normal", reason: "Killing", message: `Container ${config.containerName} failed ${type.toLowerCase()} probe, will be restarted`, probeType: type });
    // Killed: not running until the new instance is seen. worker.go doProbe then sets Failure for
    // every probe of it ("Non-running container probed") and probes nothing.
    container.running = false;
    restartPendingFor = type;
    // Without scraping, no restart can be seen: take it as done at once rather than hold forever.
    if (!scraper) newInstance(timers.monotonic());
  }

  const units: ProbeUnit[] = config.probes.map((probe) => {
    const type = probe.type;
    const results = createResultsManager((update) => onResult(type, update));
    managers.set(type, results);
    const history = createRing<ProbeRecord>(PROBE_HISTORY);
    const counts = { successful: 0, failed: 0, unknown: 0 };
    const worker = createProbeWorker({
      type,
      spec: probe,
      probe: probers[type] ?? createProber(probe.action, probe.timeoutSeconds),
      // The status manager's view of the container, Started from the startup probe's result.
      status: () => ({ ...container, started: isStarted() }),
      results,
      timers,
      onEvent: (event) => log({ ...event, probeType: type }),
      onProbe(recorded, state) {
        const record = { ...recorded, output: keepable(recorded.output) };
        history.push(record);
        if (record.result === "success") counts.successful++;
        else if (record.result === "failure") counts.failed++;
        else counts.unknown++;
        metrics.recordProbe(record, state);
      },
    });
    return { config: probe, worker, results, history, counts };
  });

  const scraper = config.scrape.url
    ? createScraper({
        url: config.scrape.url,
        intervalSeconds: config.scrape.intervalSeconds,
        timers,
        onScrape(result) {
          // The first start time read is when the instance we began with started, for the initial delays.
          if (result.ok && instance === 0 && counts.scrapesOk === 0) container.startedAt = monotonicOf(Math.round(result.startTimeSeconds * 1000));
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
          // A new container ID for the workers: each takes its initial result again and resumes.
          newInstance(monotonicOf(startedMs));
          log({ at: startedMs, type: "Normal", reason: "Started", message: `Started container ${config.containerName}` });
        },
      })
    : undefined;

  /** Why `unit`'s worker skips its probes now (worker.go doProbe's early returns), if it does. */
  function waitingOf(unit: ProbeUnit): ProbeWait | undefined {
    const state = unit.worker.state();
    if (!container.running || (state.onHold && state.containerId === container.id)) return "restart";
    if (Math.trunc((timers.monotonic() - container.startedAt) / 1000) < unit.config.initialDelaySeconds) return "initial-delay";
    const started = isStarted();
    if (started && unit.config.type === "Startup") return "done";
    if (!started && unit.config.type !== "Startup") return "startup";
    return undefined;
  }

  function probeStatus(unit: ProbeUnit): StatusProbe {
    const { config: probe } = unit;
    const state = unit.worker.state();
    const verdict = verdictOf(probe.type, state.result ?? unit.results.get(container.id));
    const waiting = waitingOf(unit);
    return {
      type: probe.type,
      config: {
        url: probe.url,
        periodSeconds: probe.periodSeconds,
        timeoutSeconds: probe.timeoutSeconds,
        failureThreshold: probe.failureThreshold,
        successThreshold: probe.successThreshold,
        initialDelaySeconds: probe.initialDelaySeconds,
      },
      verdict: {
        state: verdict,
        healthy: verdict === "healthy" || verdict === "ready" || verdict === "started",
        text: VERDICT_TEXT[verdict],
        onHold: state.onHold,
        ...(waiting ? { waiting } : {}),
        consecutiveFailures: state.consecutiveFailures,
        consecutiveSuccesses: state.consecutiveSuccesses,
        probesUntilFailure: state.probesUntilFailure,
      },
      counters: { probes: state.probes, ...unit.counts },
      history: unit.history.items(),
    };
  }

  /** generate.go GeneratePodReadyCondition, through GenerateContainersReadyCondition's words. */
  function readyCondition(): StatusPodCondition {
    if (isReady()) return { type: "Ready", status: "True" };
    return { type: "Ready", status: "False", reason: "ContainersNotReady", message: `containers with unready status: [${config.containerName}]` };
  }

  return {
    metrics,
    start() {
      startedAt = timers.monotonic();
      for (const unit of units) unit.worker.start();
      scraper?.start();
    },
    async stop() {
      await Promise.all([...units.map((unit) => unit.worker.stop()), scraper?.stop()]);
    },
    /** Its own liveness: every loop running, and no probe loop stuck. */
    health(): { ok: boolean; reason: string } {
      if (startedAt === undefined) return { ok: false, reason: "the probe loops are not running" };
      for (const unit of units) {
        const state = unit.worker.state();
        const name = `the ${unit.config.type.toLowerCase()} probe loop`;
        if (!state.running) return { ok: false, reason: `${name} is not running` };
        // A beat is due every period; a probe in flight (with its retries) may hold it up to its timeouts.
        const { periodSeconds, timeoutSeconds } = unit.config;
        // Monotonic, as the loops' beats: a wall-clock step is no stuck loop.
        const since = state.lastTickAt ?? startedAt;
        const allowedMs = (2 * periodSeconds + 3 * timeoutSeconds + 1) * 1000;
        const waited = timers.monotonic() - since;
        if (waited > allowedMs) {
          return { ok: false, reason: `${name} has not run for ${(waited / 1000).toFixed(1)} s` };
        }
      }
      if (scraper && !scraper.running()) return { ok: false, reason: "the scrape loop is not running" };
      return { ok: true, reason: "probing" };
    },
    status(): SidecarStatus {
      return {
        now: timers.now(),
        config: {
          metricsUrl: config.scrape.url,
          scrapeIntervalSeconds: config.scrape.intervalSeconds,
          containerName: config.containerName,
        },
        probes: units.map(probeStatus),
        container: {
          instance: container.id,
          running: container.running,
          ...(restartPendingFor ? { restartPendingFor } : {}),
          started: isStarted(),
          ready: isReady(),
        },
        pod: { ready: readyCondition() },
        counters: { ...counts },
        scrape: {
          enabled: scraper !== undefined,
          up: lastScrape?.ok ?? false,
          lastAt: lastScrape?.at,
          error: lastScrape && !lastScrape.ok ? lastScrape.error : undefined,
          startTimeSeconds: lastScrape?.ok ? lastScrape.startTimeSeconds : undefined,
        },
        restarts: restarts.items(),
        events: events.items(),
      };
    },
  };
}

export type { SidecarStatus, VerdictState };
