// The words every part of the kit's probing shares, as the kubelet has them (core/v1 Probe,
// pkg/probe Result, pkg/kubelet/prober probeType). Types only: no runtime code here.

/** pkg/kubelet/prober probeType, spelled as its String() prints it (events, metric labels). */
export const PROBE_TYPES = ["Liveness", "Readiness", "Startup"] as const;
export type ProbeType = (typeof PROBE_TYPES)[number];

/**
 * What one run of a prober found (pkg/probe Result, with Warning folded into success): "unknown"
 * stands for a probe that errored (the kubelet's non-nil err: the body could not be read, the probe
 * was cancelled), which prober.go retries and worker.go then throws away.
 */
export type ProbeResult = "success" | "failure" | "unknown";

/** One run of a prober, with what the kit shows of it. */
export type ProbeOutcome = {
  result: ProbeResult;
  /** The kubelet's output: the failure or error message, the warning, or "" for a plain success. */
  output: string;
  /** A success the kubelet reports with a ProbeWarning event (an HTTP probe that stopped at a redirect). */
  warning?: boolean;
  /** HTTP only: the last status received; 0 when no response came. */
  statusCode?: number;
  durationSeconds?: number;
};

/** A probe run as the kit records and shows it (the worker's history, the sidecar's /api/status). */
export type ProbeRecord = {
  /** Wall-clock epoch ms at which the probe started: for display (its beat runs on the monotonic clock). */
  at: number;
  /** "unknown": the probe errored (after its retries) and the kubelet threw the result away. */
  result: ProbeResult;
  /** The kubelet's output: failure message, warning or error; "" for a plain success. */
  output: string;
  warning: boolean;
  /** 0 when no response came (and for TCP probes). */
  statusCode: number;
  durationSeconds: number;
};

/** One run of a probe, bound to its target and timeout: what the worker calls every period. */
export type ProbeFn = (signal: AbortSignal) => Promise<ProbeOutcome>;

/** core/v1 HTTPGetAction, its port resolved to a number and its host filled in (the pod IP by default). */
export type HttpGetAction = {
  kind: "httpGet";
  scheme: "HTTP" | "HTTPS";
  host: string;
  port: number;
  /** As written in the manifest: "/health", "health" or "/health?verbose=1". */
  path: string;
  httpHeaders: { name: string; value: string }[];
};

/** core/v1 TCPSocketAction, its port resolved to a number and its host filled in. */
export type TcpSocketAction = { kind: "tcpSocket"; host: string; port: number };

export type ProbeAction = HttpGetAction | TcpSocketAction;

/** core/v1 Probe after the API server's defaults, with its action resolved. */
export type ProbeSpec = {
  action: ProbeAction;
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
  /** The probe-level grace period (liveness and startup only); undefined means the pod's. */
  terminationGracePeriodSeconds?: number;
};
