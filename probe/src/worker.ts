// The probe worker: the kubelet's loop around one probe of one container
// (kubernetes/kubernetes pkg/kubelet/prober/worker.go). newWorker picks the initial result by probe
// type; doProbe looks at the container's status, skips what the kubelet skips, runs the probe
// (prober.ts), applies the thresholds and ends in results.set. It never kills anything: acting on
// results is kuberuntime's part (the local runner), or the sidecar's, which only shows it.
import { systemTimers, type Timers } from "../../lib/clock.ts";
import { runProbe, type ProberEvent } from "./prober.ts";
import type { Result, ResultsManager } from "./results.ts";
import type { ProbeFn, ProbeRecord, ProbeSpec, ProbeType } from "./types.ts";

export type { ProbeRecord } from "./types.ts";

/** What the worker reads of its container each period (the kubelet's status manager). */
export type ContainerStatus = {
  /** The container instance: a new value after every restart (the kubelet's container ID). */
  id: string;
  running: boolean;
  /**
   * When the running instance started, on timers.monotonic(). worker.go measures the initial delay
   * with time.Since(StartedAt), a wall-clock time from the runtime; we see the start in-process and
   * keep the monotonic reading, so a wall-clock step neither cuts nor stretches the delay.
   */
  startedAt: number;
  /** ContainerStatus.Started: its startup probe succeeded, or it has none. */
  started: boolean;
};

/** An event the prober recorded, with when (wall-clock epoch ms, for display). */
export type ProbeEvent = ProberEvent & { at: number };


export type WorkerState = {
  type: ProbeType;
  /** The container instance probed, once one was seen. */
  containerId: string | undefined;
  /** What the results manager holds for that instance: the kubelet's verdict after the thresholds. */
  result: Result | undefined;
  /** Failures in a row (errored probes neither break nor extend a run). */
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** Failed probes still needed to reach the failure threshold from the current run. */
  probesUntilFailure: number;
  /** worker.go onHold: after a liveness or startup failure, no probes until a new instance. */
  onHold: boolean;
  /** Probes that counted (not errored). */
  probes: number;
  running: boolean;
  /** Monotonic ms (timers.monotonic()) of the last probe start, or undefined before the first. */
  lastProbeAt: number | undefined;
  /** Monotonic ms of the loop's last beat, probe or not: the loop's own liveness. */
  lastTickAt: number | undefined;
};

export type WorkerOptions = {
  type: ProbeType;
  spec: Pick<ProbeSpec, "initialDelaySeconds" | "periodSeconds" | "successThreshold" | "failureThreshold">;
  probe: ProbeFn;
  /** The container as last seen; undefined while it does not exist yet. */
  status: () => ContainerStatus | undefined;
  results: ResultsManager;
  timers?: Timers;
  /**
   * When the kubelet started (timers.monotonic()). worker.go run(): a worker started within one period of it
   * first sleeps a random part of the period, so probes do not all fire at once. Undefined: no sleep.
   */
  kubeletStartedAt?: number;
  /** rand.Float64, injectable for tests. */
  random?: () => number;
  onEvent?: (event: ProbeEvent) => void;
  /** After every probe, counted or errored: for history, metrics and pages. */
  onProbe?: (record: ProbeRecord, state: WorkerState) => void;
};

export type ProbeWorker = {
  start(): void;
  /** Stops the loop and cancels a probe in flight; resolves once it has settled. */
  stop(): Promise<void>;
  state(): WorkerState;
};

/** worker.go newWorker: readiness starts as Failure, liveness as Success, startup as Unknown. */
export const INITIAL_RESULT: Record<ProbeType, Result> = { Readiness: "failure", Liveness: "success", Startup: "unknown" };

export function createProbeWorker(options: WorkerOptions): ProbeWorker {
  const { type, spec } = options;
  const timers = options.timers ?? systemTimers;
  const periodMs = spec.periodSeconds * 1000;
  const initialValue = INITIAL_RESULT[type];

  // worker.go's own bookkeeping: the last result and how many times in a row it came.
  let containerId: string | undefined;
  let lastResult: Result | undefined;
  let resultRun = 0;
  let onHold = false;
  let consecutiveFailures = 0;
  let consecutiveSuccesses = 0;
  let probes = 0;
  let lastProbeAt: number | undefined;
  let lastTickAt: number | undefined;

  let running = false;
  let firstTick = 0;
  let lastTick = 0;
  let timer: unknown;
  let inFlight: { controller: AbortController; done: Promise<void> } | undefined;

  const state = (): WorkerState => ({
    type,
    containerId,
    result: containerId === undefined ? undefined : options.results.get(containerId),
    consecutiveFailures,
    consecutiveSuccesses,
    probesUntilFailure: Math.max(0, spec.failureThreshold - (lastResult === "failure" ? resultRun : 0)),
    onHold,
    probes,
    running,
    lastProbeAt,
    lastTickAt,
  });

  /** worker.go doProbe, up to the probe itself; returns whether to probe now. */
  function beforeProbe(): boolean {
    const status = options.status();
    // "Either the container has not been created yet, or it was deleted."
    if (!status) return false;
    if (containerId !== status.id) {
      if (containerId !== undefined) options.results.remove(containerId);
      containerId = status.id;
      options.results.set(containerId, initialValue);
      // "We've got a new container; resume probing." lastResult and resultRun are left alone.
      onHold = false;
    }
    if (onHold) return false;
    if (!status.running) {
      // "Non-running container probed": its result is Failure until it runs again.
      options.results.set(containerId, "failure");
      return false;
    }
    // "Probe disabled for InitialDelaySeconds", in whole seconds since the instance started.
    if (Math.trunc((timers.monotonic() - status.startedAt) / 1000) < spec.initialDelaySeconds) return false;
    // "Stop probing for startup once container has started" / "Disable other probes until
    // container has started."
    if (status.started ? type === "Startup" : type !== "Startup") return false;
    return true;
  }

  /** worker.go doProbe, from the probe's result on. */
  function afterProbe(id: string, result: Result): void {
    if (result === "failure") {
      consecutiveFailures++;
      consecutiveSuccesses = 0;
    } else {
      consecutiveSuccesses++;
      consecutiveFailures = 0;
    }
    if (lastResult === result) resultRun++;
    else {
      lastResult = result;
      resultRun = 1;
    }
    // "Success or failure is below threshold - leave the probe state unchanged."
    if ((result === "failure" && resultRun < spec.failureThreshold) || (result === "success" && resultRun < spec.successThreshold)) return;
    options.results.set(id, result);
    if ((type === "Liveness" || type === "Startup") && result === "failure") {
      // "The container fails a liveness/startup check, it will need to be restarted. Stop probing
      // until we see a new container ID."
      onHold = true;
      resultRun = 0;
    }
  }

  async function tick(): Promise<void> {
    timer = undefined;
    if (!running) return;
    lastTickAt = timers.monotonic();
    if (beforeProbe()) {
      const id = containerId!;
      const controller = new AbortController();
      // When it ran, for people (the record's `at`), and from when its duration counts.
      const at = timers.now();
      const began = timers.monotonic();
      lastProbeAt = began;
      const done = runProbe(type, options.probe, controller.signal, (event) => options.onEvent?.({ ...event, at: timers.now() })).then((run) => {
        // A probe cancelled by stop() reports nothing.
        if (!run || controller.signal.aborted) return;
        const { outcome } = run;
        const record: ProbeRecord = {
          at,
          result: run.errored ? "unknown" : run.result,
          output: outcome.output,
          warning: Boolean(outcome.warning),
          statusCode: outcome.statusCode ?? 0,
          durationSeconds: outcome.durationSeconds ?? (timers.monotonic() - began) / 1000,
        };
        // "Prober error, throw away the result."
        if (!run.errored) {
          probes++;
          afterProbe(id, run.result);
        }
        options.onProbe?.(record, state());
      });
      inFlight = { controller, done };
      await done;
      inFlight = undefined;
    }
    schedule();
  }

  // One probe at a time on a fixed beat (Go's time.Ticker): a probe that overruns its period is
  // followed at once by the next (the one tick the ticker keeps), then the beat resumes. The beat
  // is kept on the monotonic clock, as Go's runtime timers are: a wall-clock step moves no probe.
  function schedule(): void {
    if (!running) return;
    const now = timers.monotonic();
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
      // worker.go run(): "If kubelet restarted the probes could be started in rapid succession.
      // Let the worker wait for a random portion of tickerPeriod before probing."
      const now = timers.monotonic();
      const recent = options.kubeletStartedAt !== undefined && periodMs > now - options.kubeletStartedAt;
      const sleep = recent ? Math.floor((options.random ?? Math.random)() * periodMs) : 0;
      // The ticker starts after the sleep; the first doProbe comes at once, before its first tick.
      timer = timers.setTimeout(() => {
        firstTick = lastTick = timers.monotonic();
        void tick();
      }, sleep);
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
    state,
  };
}
