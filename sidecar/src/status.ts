// What GET /api/status answers: the one shape that sidecar.ts's status() returns and that the
// server, the page (sidecar/page/page.ts, in the browser) and the tests compile against.
// Types only, and none from Node: the page's browser-only type check reads this file too.
// It travels as JSON, so a field that may be undefined is optional here (JSON.stringify drops it).
import type { ProbeRecord, ProbeType } from "../../probe/src/types.ts";

/** The settings the sidecar runs with, from its environment, beside its probes' own. */
export type StatusConfig = {
  /** The app's /metrics, scraped for its start time; "" when scraping is switched off. */
  metricsUrl: string;
  scrapeIntervalSeconds: number;
  /** The container named in events, such as "crashy-app". */
  containerName: string;
};

/** One probe's settings, from its variables (LIVENESS_PROBE_URL, LIVENESS_PROBE_PERIOD_SECONDS, ...). */
export type StatusProbeConfig = {
  url: string;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
  successThreshold: number;
  initialDelaySeconds: number;
};

/**
 * What the kubelet's result of one probe means for the container and the pod: a liveness or startup
 * Failure is "restart-pending" (the kubelet kills and restarts it; the sidecar holds until it sees
 * the new instance), a readiness Failure "not-ready" (out of the Service's endpoints, never
 * restarted), a startup probe that has not succeeded yet "starting".
 */
export type VerdictState = "healthy" | "restart-pending" | "ready" | "not-ready" | "starting" | "started";

/**
 * Why a probe is not being run now (worker.go doProbe's early returns), or absent while it runs:
 * "restart" the container is being restarted (not running, or the worker on hold); "startup" its
 * startup probe has not succeeded yet; "initial-delay" initialDelaySeconds since the start have
 * not passed; "done" a startup probe that succeeded, until the next restart.
 */
export type ProbeWait = "restart" | "startup" | "initial-delay" | "done";

/** The kubelet's view after the thresholds: the results manager's value for the current instance. */
export type StatusVerdict = {
  state: VerdictState;
  /** The kubelet's result is Success: healthy, ready or started. */
  healthy: boolean;
  /** The verdict in words, such as "restart pending: the kubelet restarts the container". */
  text: string;
  /** No probes until the restart is seen (worker.go onHold after a liveness or startup failure). */
  onHold: boolean;
  /** Why the worker skips its probes now; absent while it probes. */
  waiting?: ProbeWait;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** Failed probes left before the failure threshold is reached. */
  probesUntilFailure: number;
};

/** One probe's totals since the sidecar started; its history keeps only the newest runs. */
export type StatusProbeCounters = {
  /** Probes that counted (errored ones are thrown away, as the kubelet does); 0 until the first. */
  probes: number;
  successful: number;
  failed: number;
  /** Probes that errored (result "unknown") even after their retries: shown, never counted. */
  unknown: number;
};

/** One run of a probe (the probe worker's record). */
export type StatusProbeRun = ProbeRecord;

/** One probe of the app container: its settings, verdict, totals and latest runs. */
export type StatusProbe = {
  type: ProbeType;
  config: StatusProbeConfig;
  verdict: StatusVerdict;
  counters: StatusProbeCounters;
  /** Oldest first, bounded (sidecar.ts's PROBE_HISTORY). */
  history: StatusProbeRun[];
};

/** The app container as the kubelet's status manager would have it (prober_manager.go UpdatePodStatus). */
export type StatusContainer = {
  /** The instance the sidecar knows: "instance-0" until the first restart it sees, then -1, -2, ... */
  instance: string;
  /** False from a liveness or startup failure (the kubelet kills it) until the restart is seen. */
  running: boolean;
  /** The probe whose failure has the kubelet restart the container; absent unless one did. */
  restartPendingFor?: "Liveness" | "Startup";
  /** ContainerStatus.Started (isContainerStarted): running, and its startup probe succeeded or it has none. */
  started: boolean;
  /** ContainerStatus.Ready: started, and its readiness probe's result Success or it has none. */
  ready: boolean;
};

/**
 * The pod's Ready condition as the kubelet sets it (pkg/kubelet/status/generate.go
 * GeneratePodReadyCondition): the sidecar itself runs, so the app container's Ready decides it.
 */
export type StatusPodCondition = {
  type: "Ready";
  status: "True" | "False";
  /** "ContainersNotReady" when False. */
  reason?: "ContainersNotReady";
  /** Such as "containers with unready status: [crashy-app]" when False. */
  message?: string;
};

/** Totals since the sidecar started about the app as a whole. */
export type StatusCounters = {
  /** Restarts of the app seen through its start time. */
  restarts: number;
  scrapesOk: number;
  scrapesFailed: number;
};

/** The scrape of the app's /metrics, by which restarts are seen. */
export type StatusScrape = {
  /** False when METRICS_URL is empty. */
  enabled: boolean;
  /** Whether the last scrape succeeded; false before the first. */
  up: boolean;
  /** Epoch ms of the last scrape; absent before the first. */
  lastAt?: number;
  /** Why the last scrape failed; absent unless it did. */
  error?: string;
  /** The app's start time (seconds since the epoch) from the last successful scrape. */
  startTimeSeconds?: number;
};

/** An event as `kubectl events` shows it, in the kubelet's words. */
export type StatusEvent = {
  /** Epoch ms. */
  at: number;
  type: "Normal" | "Warning";
  /** The prober's reasons, "Killing" for what the kubelet does on a liveness or startup failure, and "Started" when a restart of the app is seen. */
  reason: "Unhealthy" | "ProbeWarning" | "Killing" | "Started";
  message: string;
  /** The probe the event is about; absent for "Started". */
  probeType?: ProbeType;
};

/** A restart of the app, seen as a change of its start time. */
export type StatusRestart = {
  /** Epoch ms at which the restart was noticed. */
  detectedAt: number;
  /** The new start time of the app, seconds since the epoch. */
  startTimeSeconds: number;
  previousStartTimeSeconds: number;
};

/** The body of GET /api/status. Lists are oldest first and bounded (sidecar.ts's *_HISTORY). */
export type SidecarStatus = {
  /** The sidecar's clock (epoch ms) when it answered: the page measures "ago" against it. */
  now: number;
  config: StatusConfig;
  /** The probes the app container has, startup first, then liveness, then readiness; at least one. */
  probes: StatusProbe[];
  container: StatusContainer;
  pod: { ready: StatusPodCondition };
  counters: StatusCounters;
  scrape: StatusScrape;
  restarts: StatusRestart[];
  events: StatusEvent[];
};
