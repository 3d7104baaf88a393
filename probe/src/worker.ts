// The probe worker: the kubelet's loop around a probe (kubernetes/kubernetes
// pkg/kubelet/prober/worker.go and prober.go). It knows nothing of HTTP, metrics or servers: it
// calls `probe` on schedule, applies the thresholds, and reports through callbacks.
import { systemTimers, type Timers } from "../../lib/clock.ts";
import type { ProbeResult } from "./http.ts";

/** What the worker needs of a probe; an HttpProbeOutcome is one. */
export type ProbeOutcome = {
  result: ProbeResult;
  output: string;
  warning?: boolean;
  statusCode?: number;
  durationSeconds?: number;
};

export type ProbeSpec = {
  periodSeconds: number;
  initialDelaySeconds: number;
  failureThreshold: number;
  successThreshold: number;
};

/** An event as `kubectl events` shows it; reasons and messages are the kubelet's. */
export type ProbeEvent = {
  at: number;
  type: "Normal" | "Warning";
  reason: "Unhealthy" | "ProbeWarning" | "Killing";
  message: string;
};

export type ProbeRecord = {
  /** Epoch ms at which the probe started. */
  at: number;
  result: ProbeResult;
  /** The kubelet's output: failure message, warning or error; "" for a plain success. */
  output: string;
  warning: boolean;
  /** 0 when no response came. */
  statusCode: number;
  durationSeconds: number;
};

export type WorkerState = {
  /** The verdict after thresholds: false once failures reached the failure threshold. */
  healthy: boolean;
  /** Failures in a row, whatever the verdict did. */
  consecutiveFailures: number;
  /** Successes in a row. */
  consecutiveSuccesses: number;
  /** Probes left before the failure threshold is reached (and the kubelet restarts the container). */
  probesUntilRestart: number;
  /** True while the worker waits for a new container (the kubelet's behaviour, see holdAfterFailure). */
  onHold: boolean;
  probes: number;
  running: boolean;
  /** Epoch ms of the last probe start, or undefined before the first. */
  lastProbeAt: number | undefined;
  /** Epoch ms of the loop's last beat, probe or not (during the initial delay, on hold): its own liveness. */
  lastTickAt: number | undefined;
};

export type WorkerOptions = ProbeSpec & {
  probe: (signal: AbortSignal) => Promise<ProbeOutcome>;
  /** The container named in events, such as "crashy-app". */
  containerName: string;
  /**
   * The kubelet stops probing a container that failed its liveness probe until a new container
   * starts (worker.go `onHold`); call containerStarted() then. The sidecar keeps probing instead,
   * so the restart and the recovery are seen too: false there.
   */
  holdAfterFailure?: boolean;
  timers?: Timers;
  onResult?: (record: ProbeRecord, state: WorkerState) => void;
  onEvent?: (event: ProbeEvent) => void;
};

export type ProbeWorker = {
  start(): void;
  /** Stops the loop and cancels a probe in flight; resolves once it has settled. */
  stop(): Promise<void>;
  /** A new container started (at epoch ms `at`): the verdict is healthy again and the initial delay applies anew. */
  containerStarted(at?: number): void;
  /** The container is not running: no probes until containerStarted() (worker.go skips a non-running container). */
  containerStopped(): void;
  state(): WorkerState;
};

/** The verdict's words, for logs and the page. */
export const VERDICT_HEALTHY = "healthy";
export const VERDICT_UNHEALTHY = "unhealthy: the kubelet restarts the container";

export function createProbeWorker(options: WorkerOptions): ProbeWorker {
  const timers = options.timers ?? systemTimers;
  const periodMs = options.periodSeconds * 1000;
  const hold = options.holdAfterFailure ?? false;

  // The kubelet's own bookkeeping (worker.go): the last result and how many times in a row it came.
  let lastResult: ProbeResult | undefined;
  let resultRun = 0;
  // A liveness worker's initial value is Success (worker.go newWorker: w.initialValue = results.Success).
  let healthy = true;
  let onHold = false;
  let consecutiveFailures = 0;
  let consecutiveSuccesses = 0;
  let probes = 0;
  let lastProbeAt: number | undefined;
  let lastTickAt: number | undefined;
  let containerStartedAt = timers.now();

  let running = false;
  let firstTick = 0;
  let lastTick = 0;
  let timer: unknown;
  let inFlight: { controller: AbortController; done: Promise<void> } | undefined;

  const state = (): WorkerState => ({
    healthy,
    consecutiveFailures,
    consecutiveSuccesses,
    probesUntilRestart: Math.max(0, options.failureThreshold - (lastResult === "failure" ? resultRun : 0)),
    onHold,
    probes,
    running,
    lastProbeAt,
    lastTickAt,
  });

  const emit = (type: ProbeEvent["type"], reason: ProbeEvent["reason"], message: string) =>
    options.onEvent?.({ at: timers.now(), type, reason, message });

  function apply(at: number, outcome: ProbeOutcome): void {
    const record: ProbeRecord = {
      at,
      result: outcome.result,
      output: outcome.output,
      warning: Boolean(outcome.warning),
      statusCode: outcome.statusCode ?? 0,
      durationSeconds: outcome.durationSeconds ?? (timers.now() - at) / 1000,
    };
    probes++;

    // prober.go: a failure is an Unhealthy event each time, a warning a ProbeWarning event, an
    // error "probe errored" (and worker.go then throws the result away, so thresholds do not move).
    if (outcome.result === "failure") {
      emit("Warning", "Unhealthy", `Liveness probe failed: ${outcome.output}`);
    } else if (outcome.result === "unknown") {
      emit("Warning", "Unhealthy", `Liveness probe errored and resulted in failure state: ${outcome.output}`);
      options.onResult?.(record, state());
      return;
    } else if (outcome.warning) {
      emit("Warning", "ProbeWarning", `Liveness probe warning: ${outcome.output}`);
    }

    if (outcome.result === "failure") {
      consecutiveFailures++;
      consecutiveSuccesses = 0;
    } else {
      consecutiveSuccesses++;
      consecutiveFailures = 0;
    }

    if (lastResult === outcome.result) {
      resultRun++;
    } else {
      lastResult = outcome.result;
      resultRun = 1;
    }

    const threshold = outcome.result === "failure" ? options.failureThreshold : options.successThreshold;
    if (resultRun >= threshold) {
      if (outcome.result === "failure") {
        healthy = false;
        // pkg/kubelet/kuberuntime kills the container with these words (as `kubectl events` shows them in the lab).
        emit("Normal", "Killing", `Container ${options.containerName} failed liveness probe, will be restarted`);
        // worker.go: after a liveness failure the run starts again from zero, so the next
        // threshold needs as many failures again.
        resultRun = 0;
        if (hold) onHold = true;
      } else {
        healthy = true;
      }
    }
    options.onResult?.(record, state());
  }

  async function tick(): Promise<void> {
    timer = undefined;
    if (!running) return;
    lastTickAt = timers.now();
    // worker.go: "Probe disabled for InitialDelaySeconds", counted in whole seconds since the
    // container started; a skipped tick waits for the next one, as the kubelet's ticker does.
    const sinceStart = Math.trunc((timers.now() - containerStartedAt) / 1000);
    const delayed = sinceStart < options.initialDelaySeconds;
    if (!onHold && !delayed) {
      const controller = new AbortController();
      const at = timers.now();
      lastProbeAt = at;
      const done = options
        .probe(controller.signal)
        .then(
          (outcome) => outcome,
          (error: unknown): ProbeOutcome => ({ result: "unknown", output: String((error as Error)?.message ?? error) }),
        )
        .then((outcome) => {
          // A probe cancelled by stop() reports nothing.
          if (!controller.signal.aborted) apply(at, outcome);
        });
      inFlight = { controller, done };
      await done;
      inFlight = undefined;
    }
    schedule();
  }

  // One probe at a time on a fixed beat (Go's time.Ticker): a probe that overruns its period is
  // followed at once by the next (the one tick the ticker keeps), then the beat resumes.
  function schedule(): void {
    if (!running) return;
    const now = timers.now();
    const due = lastTick + periodMs;
    if (due <= now) {
      lastTick = firstTick + Math.floor((now - firstTick) / periodMs) * periodMs;
      timer = timers.setTimeout(() => void tick(), 0);
    } else {
      lastTick = due;
      timer = timers.setTimeout(() => void tick(), due - now);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      firstTick = lastTick = timers.now();
      // worker.go run(): the first doProbe comes at once, before the first tick.
      timer = timers.setTimeout(() => void tick(), 0);
    },
    async stop() {
      running = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      const current = inFlight;
      if (current) {
        current.controller.abort();
        await current.done;
      }
    },
    containerStarted(at = timers.now()) {
      // worker.go: a new container ID sets the initial value again and lifts the hold. It leaves
      // lastResult and resultRun alone: failures just before a restart still count after it.
      containerStartedAt = at;
      healthy = true;
      onHold = false;
    },
    containerStopped() {
      onHold = true;
    },
    state,
  };
}
