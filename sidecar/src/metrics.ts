// The sidecar's Prometheus metrics, on a Registry of its own. Names come from blackbox_exporter
// (probe_*), the kubelet (prober_*) and this project (crashy_*); every series exists from the start.
// Each probe's series carry its probe_type, as the kubelet's prober_probe_total does; blackbox's
// names get it too, since one container's probes cannot share one unlabelled gauge.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Result } from "../../probe/src/results.ts";
import type { ProbeType } from "../../probe/src/types.ts";
import type { ProbeRecord, WorkerState } from "../../probe/src/worker.ts";
import type { Restart, ScrapeResult } from "./scraper.ts";

// The kubelet's words for results (pkg/kubelet/prober: probeResultSuccessful, ...Failed, ...Unknown).
const RESULT_LABEL = { success: "successful", failure: "failed", unknown: "unknown" } as const;

export type SidecarMetrics = ReturnType<typeof createSidecarMetrics>;

/** What the pod's status would say, read at each scrape. */
export type PodView = {
  /** The pod's Ready condition is True. */
  ready: () => boolean;
  /** The app container's ContainerStatus.Started. */
  started: () => boolean;
};

export function createSidecarMetrics(probeTypes: readonly ProbeType[] = ["Liveness"], pod: PodView = { ready: () => false, started: () => false }) {
  const registry = new Registry();
  const registers = [registry];

  const success = new Gauge({
    name: "probe_success",
    help: "Whether the last probe succeeded (1) or not (0), as blackbox_exporter reports it.",
    labelNames: ["probe_type"],
    registers,
  });
  const duration = new Gauge({
    name: "probe_duration_seconds",
    help: "How long the last probe took to complete in seconds, as blackbox_exporter reports it.",
    labelNames: ["probe_type"],
    registers,
  });
  const statusCode = new Gauge({
    name: "probe_http_status_code",
    help: "HTTP status code of the last probe's final response; 0 when no response came.",
    labelNames: ["probe_type"],
    registers,
  });
  const total = new Counter({
    name: "prober_probe_total",
    help: "Probes run, by probe type and result, as the kubelet counts them (an errored probe is not counted).",
    labelNames: ["probe_type", "result"],
    registers,
  });
  const histogram = new Histogram({
    name: "prober_probe_duration_seconds",
    help: "Duration in seconds of successful probes; like the kubelet's, failed and errored probes are not observed.",
    labelNames: ["probe_type"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const failures = new Gauge({
    name: "crashy_probe_consecutive_failures",
    help: "Failed probes in a row, up to now.",
    labelNames: ["probe_type"],
    registers,
  });
  const successes = new Gauge({
    name: "crashy_probe_consecutive_successes",
    help: "Successful probes in a row, up to now.",
    labelNames: ["probe_type"],
    registers,
  });
  const healthy = new Gauge({
    name: "crashy_probe_healthy",
    help: "The kubelet's result after the thresholds: 1 Success (healthy, ready, started), 0 Failure or not yet known (a liveness or startup failure: the kubelet restarts the container; readiness: the Service sends it no traffic).",
    labelNames: ["probe_type"],
    registers,
  });
  // Read at each scrape, so they always agree with /api/status.
  new Gauge({
    name: "crashy_pod_ready",
    help: "The pod's Ready condition as the kubelet would set it: 1 True (the app container started, and its readiness probe succeeded or it has none: the Service sends it traffic), 0 False.",
    registers,
    collect() {
      this.set(pod.ready() ? 1 : 0);
    },
  });
  new Gauge({
    name: "crashy_container_started",
    help: "The app container's Started status as the kubelet would set it: 1 running and its startup probe succeeded (or it has none), else 0.",
    registers,
    collect() {
      this.set(pod.started() ? 1 : 0);
    },
  });
  const restarts = new Counter({
    name: "crashy_target_restarts_total",
    help: "Restarts of the app seen as a change of its start time in its metrics.",
    registers,
  });
  const lastRestart = new Gauge({
    name: "crashy_target_last_restart_timestamp_seconds",
    help: "Start time of the app at its last restart, seconds since the epoch; 0 before any restart.",
    registers,
  });
  const scrapeUp = new Gauge({
    name: "crashy_target_scrape_up",
    help: "Whether the last scrape of the app's metrics succeeded (1) or not (0); 0 when scraping is off.",
    registers,
  });

  // Present from the first scrape, so rate() and alerts have a starting point.
  for (const probeType of probeTypes) {
    const typed = { probe_type: probeType };
    for (const result of Object.values(RESULT_LABEL)) total.inc({ ...typed, result }, 0);
    histogram.zero(typed);
    for (const gauge of [success, duration, statusCode, failures, successes]) gauge.set(typed, 0);
    // worker.go newWorker's initial result: only liveness starts as Success.
    healthy.set(typed, probeType === "Liveness" ? 1 : 0);
  }
  for (const gauge of [lastRestart, scrapeUp]) gauge.set(0);
  restarts.inc(0);

  return {
    registry,
    recordProbe(record: ProbeRecord, state: WorkerState) {
      const typed = { probe_type: state.type };
      success.set(typed, record.result === "success" ? 1 : 0);
      duration.set(typed, record.durationSeconds);
      statusCode.set(typed, record.statusCode);
      // worker.go: "Prober error, throw away the result": errored probes are neither counted nor
      // observed; ProberDuration is observed for Success (and a prober's Unknown, which ours never give).
      if (record.result !== "unknown") {
        total.inc({ ...typed, result: RESULT_LABEL[record.result] });
        if (record.result === "success") histogram.observe(typed, record.durationSeconds);
      }
      failures.set(typed, state.consecutiveFailures);
      successes.set(typed, state.consecutiveSuccesses);
    },
    /** The results manager's value changed. */
    recordResult(probeType: ProbeType, result: Result) {
      healthy.set({ probe_type: probeType }, result === "success" ? 1 : 0);
    },
    recordScrape(result: ScrapeResult) {
      scrapeUp.set(result.ok ? 1 : 0);
    },
    recordRestart(restart: Restart) {
      restarts.inc();
      lastRestart.set(restart.startTimeSeconds);
    },
  };
}
