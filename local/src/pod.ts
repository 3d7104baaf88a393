// The local pod: what the kubelet does for one pod, on this machine. Probe workers (probe/) report
// into results managers; this file plays kuberuntime and the pod worker on top of them: one sync at
// a time (pkg/kubelet/pod_workers.go), in which it kills a container whose liveness or startup
// result is Failure, starts what is not running, subject to the restart back-off
// (kuberuntime_manager.go SyncPod, computePodActions, doBackOff), and computes the READY column
// from the readiness results (prober_manager.go UpdatePodStatus), and from it the pod's Ready
// condition, which decides whether the Service sends it traffic. Events and pod lines go to `write`.
import { systemTimers, type Timers } from "../../lib/clock.ts";
import { createResultsManager, type ResultsManager } from "../../probe/src/results.ts";
import type { ProbeFn, ProbeSpec, ProbeType } from "../../probe/src/types.ts";
import { createProbeWorker, type ContainerStatus, type ProbeWorker } from "../../probe/src/worker.ts";
import { createRestartBackoff, type RestartBackoff } from "./backoff.ts";
import { createProcessContainer, type Container, type ContainerFactory, type ContainerSpec } from "./container.ts";
import { createEventPrinter, podTable, type EventType, type PodRow } from "./format.ts";

/** kuberuntime_container.go `minimumGracePeriodInSeconds`: killContainer never gives less. */
export const MINIMUM_GRACE_PERIOD_SECONDS = 2;
/** kubelet.go `backOffPeriod`: pod_workers.go completeWork retries a failed sync after it, jittered. */
export const SYNC_RETRY_MS = 10_000;
/** pod_workers.go `workerBackOffPeriodJitterFactor`: wait.Jitter(backOffPeriod, 0.5) is 10-15 s. */
export const SYNC_RETRY_JITTER = 0.5;

export type PodContainerSpec = ContainerSpec & {
  image: string;
  /** A native sidecar: an init container with restartPolicy: Always, started before the others. */
  sidecar: boolean;
  probes: Partial<Record<ProbeType, ProbeSpec>>;
};

export type LocalPodOptions = {
  name: string;
  namespace?: string;
  uid: string;
  /** Native sidecars and then the app's containers, in the manifest's order. */
  containers: PodContainerSpec[];
  /** The pod's terminationGracePeriodSeconds: the budget for stopping the whole pod. */
  terminationGracePeriodSeconds: number;
  /** Makes the prober of one probe (its action, bound to its timeout). */
  createProber: (spec: ProbeSpec) => ProbeFn;
  write: (line: string) => void;
  colour: boolean;
  /** Prints the events' column header at start (default true); the runner's other pods leave it to the first. */
  eventHeader?: boolean;
  /** Takes the pod's `kubectl get pods` row when it changes, instead of the pod printing it. */
  onRow?: (row: PodRow) => void;
  /** The pod's Ready condition changed: true when every container is ready and the pod is not terminating. */
  onReadyChange?: (ready: boolean) => void;
  timers?: Timers;
  /** rand.Float64: the sync retry's and the probe workers' jitter. */
  random?: () => number;
  createContainer?: ContainerFactory;
};

/** One container of the pod with the kubelet's bookkeeping about it. */
type Member = {
  spec: PodContainerSpec;
  container: Container;
  backoff: RestartBackoff;
  /** FinishedAt of the newest exited instance, as the pod status has it (monotonic ms: the back-off's event time). */
  lastExitedAt: number | undefined;
  killing: boolean;
  /** Its last start was held back (CrashLoopBackOff). */
  backingOff: boolean;
  restarts: number;
  lastRestartAt: number | undefined;
};

export type LocalPod = ReturnType<typeof createLocalPod>;

export function createLocalPod(options: LocalPodOptions) {
  const timers = options.timers ?? systemTimers;
  // Two clocks (lib/clock.ts): `now` (wall) for what is printed, events' times and the AGE columns;
  // `monotonic` for what is waited: the back-off, the kill grace, the initial delays. A container's
  // StartedAt and FinishedAt come from the runtime on a node, as wall-clock times, so there the
  // back-off and initial delay follow a step; here they are seen in-process and keep the monotonic
  // reading, as a Go time.Now() would.
  const now = () => timers.now();
  const monotonic = () => timers.monotonic();
  const random = options.random ?? Math.random;
  const namespace = options.namespace ?? "default";
  const printer = createEventPrinter(options.name, options.write, options.colour, { namespace });
  const createdAt = now();
  const makeContainer = options.createContainer ?? createProcessContainer;

  let stopping = false;
  let lastRow = "";
  let wasReady = false;
  // The kubelet's container events are about the pod, with the container as the field path.
  const event = (m: Member, type: EventType, reason: string, message: string) =>
    void printer.event({ at: now(), monotonicAt: monotonic(), type, reason, message, container: m.spec.name, initContainer: m.spec.sidecar });

  // The kubelet's three results managers; their updates are what makes it act (kubelet.go syncLoopIteration).
  const results: Record<ProbeType, ResultsManager> = {
    Liveness: createResultsManager((u) => (u.result === "failure" ? requestSync() : undefined)),
    Startup: createResultsManager(() => {
      row();
      requestSync();
    }),
    Readiness: createResultsManager(() => row()),
  };

  const members: Member[] = options.containers.map((spec) => {
    const member: Member = {
      spec,
      container: makeContainer(spec, monotonic, (exit) => {
        row();
        if (stopping || member.killing) return;
        // Exited by itself (CRASH_MODE=exit): the PLEG sees it and the pod is synced again.
        for (const line of member.container.logs().slice(-2)) options.write(dim(`    ${spec.name} | ${line}`));
        member.lastExitedAt = exit.at;
        requestSync();
      }),
      backoff: createRestartBackoff(monotonic),
      lastExitedAt: undefined,
      killing: false,
      backingOff: false,
      restarts: 0,
      lastRestartAt: undefined,
    };
    return member;
  });

  /** prober_manager.go isContainerStarted: running, and its startup probe succeeded or it has none. */
  function isStarted(m: Member): boolean {
    const s = m.container.state();
    if (s.state !== "Running") return false;
    return !m.spec.probes.Startup || results.Startup.get(s.id) === "success";
  }

  /** prober_manager.go UpdatePodStatus: started, and its readiness probe succeeded or it has none. */
  function isReady(m: Member): boolean {
    const s = m.container.state();
    if (!isStarted(m) || s.state !== "Running") return false;
    return !m.spec.probes.Readiness || results.Readiness.get(s.id) === "success";
  }

  function statusOf(m: Member): ContainerStatus | undefined {
    const s = m.container.state();
    if (s.state === "Waiting") return undefined;
    return { id: s.id, running: s.state === "Running", startedAt: s.startedAt, started: isStarted(m) };
  }

  // The prober manager's workers, one per probe of each container, for the pod's whole life.
  const kubeletStartedAt = monotonic();
  const workers: ProbeWorker[] = members.flatMap((m) =>
    (Object.entries(m.spec.probes) as [ProbeType, ProbeSpec][]).map(([type, spec]) =>
      createProbeWorker({
        type,
        spec,
        probe: options.createProber(spec),
        status: () => statusOf(m),
        results: results[type],
        timers,
        kubeletStartedAt,
        random,
        onEvent: (e) => event(m, e.type, e.reason, e.message),
      }),
    ),
  );

  function dim(text: string): string {
    return options.colour ? `\x1b[2m${text}\x1b[0m` : text;
  }

  /**
   * The pod's Ready condition (status/generate.go GeneratePodReadyCondition over
   * GenerateContainersReadyCondition): every container ready, native sidecars included; none of
   * this pod's readiness gates exist here. A pod being deleted is not a ready endpoint
   * (endpointslice utils.go podToEndpoint: ready = serving && !terminating).
   */
  function podReady(): boolean {
    return !stopping && members.every(isReady);
  }

  function readyChanged(): void {
    const ready = podReady();
    if (ready === wasReady) return;
    wasReady = ready;
    options.onReadyChange?.(ready);
  }

  /** Whatever may have changed the pod's status: its row, then its Ready condition. */
  function row(): void {
    printRow();
    // Also while a container is being killed: it is still running, and ready if its probe says so.
    readyChanged();
  }

  /** The kubectl get pods line, printed when anything in it but AGE changes. */
  function printRow(): void {
    // The kubelet kills and restarts in one sync: kubectl would not see the container in between.
    if (members.some((m) => m.killing) && !stopping) return;
    const sidecars = members.filter((m) => m.spec.sidecar);
    const app = members.filter((m) => !m.spec.sidecar);
    const startedSidecars = sidecars.filter(isStarted).length;
    const terminated = app.map((m) => m.container.state()).find((s) => s.state === "Terminated");
    const status = stopping
      ? "Terminating"
      : members.some((m) => m.backingOff)
        ? "CrashLoopBackOff"
        : startedSidecars < sidecars.length && app.every((m) => m.container.state().state === "Waiting")
          ? `Init:${startedSidecars}/${sidecars.length}`
          : terminated?.state === "Terminated"
            ? terminated.reason
            : app.some((m) => m.container.state().state === "Waiting")
              ? "PodInitializing"
              : "Running";
    const ready = members.filter(isReady).length;
    // kubectl's RESTARTS: every container's restart count, the native sidecars' included.
    const restarts = members.reduce((sum, m) => sum + m.restarts, 0);
    const lastRestartAt = Math.max(...members.map((m) => m.lastRestartAt ?? Number.NEGATIVE_INFINITY));
    const key = `${ready}/${status}/${restarts}`;
    if (key === lastRow) return;
    lastRow = key;
    const podRow: PodRow = { name: options.name, ready, total: members.length, status, restarts, lastRestartAt: Number.isFinite(lastRestartAt) ? lastRestartAt : undefined, createdAt };
    if (options.onRow) return options.onRow(podRow);
    const [head, line] = podTable(podRow, now());
    options.write(dim(`    ${head}`));
    options.write(dim(`    ${line}`));
  }

  // pod_workers.go: one sync at a time; a sync asked for while one runs follows it; a sync that
  // failed (a start held back) is retried after wait.Jitter(backOffPeriod, 0.5).
  let syncing = false;
  let syncAgain = false;
  let retry: unknown;
  function requestSync(): void {
    if (stopping) return;
    if (syncing) {
      syncAgain = true;
      return;
    }
    if (retry !== undefined) timers.clearTimeout(retry);
    retry = undefined;
    syncing = true;
    void syncPod().then((failed) => {
      syncing = false;
      if (stopping) return;
      if (syncAgain) {
        syncAgain = false;
        requestSync();
      } else if (failed) {
        retry = timers.setTimeout(() => {
          retry = undefined;
          requestSync();
        }, SYNC_RETRY_MS * (1 + random() * SYNC_RETRY_JITTER));
      }
    });
  }

  /**
   * kuberuntime_manager.go SyncPod, for restartPolicy: Always: native sidecars first, in order, each
   * started before the next (computeInitContainerActions), then the app's containers. Returns
   * whether a start was held back by the back-off (the sync's error, ErrCrashLoopBackOff).
   */
  async function syncPod(): Promise<boolean> {
    // The pod status the sync works from: a container killed in this sync is not yet in it.
    const exitedBefore = new Map(members.map((m) => [m, m.lastExitedAt]));
    let failed = false;
    for (const m of members) {
      if (stopping) return false;
      if (!m.spec.sidecar && !members.filter((s) => s.spec.sidecar).every(isStarted)) break;
      const s = m.container.state();
      if (s.state === "Running") {
        // computePodActions: "Container %s failed liveness probe" / "... startup probe".
        const probe = results.Liveness.get(s.id) === "failure" ? "Liveness" : results.Startup.get(s.id) === "failure" ? "Startup" : undefined;
        if (!probe) continue;
        event(m, "Normal", "Killing", `Container ${m.spec.name} failed ${probe.toLowerCase()} probe, will be restarted`);
        await kill(m, m.spec.probes[probe]?.terminationGracePeriodSeconds ?? options.terminationGracePeriodSeconds);
        if (stopping) return false;
        if (!start(m, exitedBefore.get(m))) failed = true;
      } else if (!start(m, s.state === "Waiting" ? undefined : m.lastExitedAt)) {
        failed = true;
      }
    }
    return failed;
  }

  /** killContainer: SIGTERM, SIGKILL after the grace period, never less than 2 s. */
  async function kill(m: Member, graceSeconds: number): Promise<void> {
    m.killing = true;
    const exit = await m.container.stop(Math.max(MINIMUM_GRACE_PERIOD_SECONDS, graceSeconds) * 1000);
    m.killing = false;
    m.lastExitedAt = exit.at;
  }

  /** startContainer after doBackOff; returns false when the back-off held it back. */
  function start(m: Member, lastExitedAt: number | undefined): boolean {
    if (m.backoff.check(lastExitedAt) > 0) {
      m.backingOff = true;
      // doBackOff: the event names the pod as format.Pod does, with its UID.
      event(m, "Warning", "BackOff", `Back-off restarting failed container ${m.spec.name} in pod ${options.name}_${namespace}(${options.uid})`);
      row();
      return false;
    }
    m.backingOff = false;
    if (m.container.state().state !== "Waiting") {
      m.restarts++;
      m.lastRestartAt = now();
    }
    // imagePullPolicy: IfNotPresent, and the image is here (image_manager.go EnsureImageExists).
    event(m, "Normal", "Pulled", `Container image "${m.spec.image}" already present on machine`);
    event(m, "Normal", "Created", `Created container: ${m.spec.name}`);
    m.container.start();
    event(m, "Normal", "Started", `Started container ${m.spec.name}`);
    row();
    return true;
  }

  return {
    start(): void {
      if (options.eventHeader ?? true) printer.header();
      row();
      for (const worker of workers) worker.start();
      requestSync();
    },
    /**
     * Deletes the pod as the kubelet kills it (killContainersWithSyncResult): the app's containers
     * first, then the native sidecars in reverse order, all within one terminationGracePeriodSeconds
     * (each kill still gets at least 2 s).
     */
    async stop(): Promise<void> {
      if (stopping) return;
      stopping = true;
      // Deleted: kubectl shows it Terminating at once, and it leaves the Service's endpoints.
      row();
      if (retry !== undefined) timers.clearTimeout(retry);
      for (const m of members) m.backingOff = false;
      await Promise.all(workers.map((w) => w.stop()));
      const deadline = monotonic() + options.terminationGracePeriodSeconds * 1000;
      const stopOne = async (m: Member) => {
        if (m.container.state().state === "Running") event(m, "Normal", "Killing", `Stopping container ${m.spec.name}`);
        const left = Math.max(MINIMUM_GRACE_PERIOD_SECONDS * 1000, deadline - monotonic());
        m.killing = true;
        await m.container.stop(left);
        row();
      };
      await Promise.all(members.filter((m) => !m.spec.sidecar).map(stopOne));
      for (const m of members.filter((m) => m.spec.sidecar).reverse()) await stopOne(m);
    },
    killNow(): void {
      for (const m of members) m.container.killNow();
    },
    /** The pod's Ready condition now (see onReadyChange). */
    ready: podReady,
    /** Restarts of each container, by name. */
    restarts: () => Object.fromEntries(members.map((m) => [m.spec.name, m.restarts])),
  };
}
