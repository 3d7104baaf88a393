// The local pod: the native sidecar, then the app, with the app's liveness probe run by the same
// prober and worker as the sidecar's (sidecar/src), and the kubelet's reaction to it: kill with the
// probe's grace period, restart, back off. Events and pod lines go to `write`.
import { createHttpProber } from "../../probe/src/http.ts";
import { createProbeWorker, type ProbeEvent } from "../../probe/src/worker.ts";
import { createRestartBackoff } from "./backoff.ts";
import { createProcessContainer, type ContainerSpec, type ProcessContainer } from "./container.ts";
import { createEventPrinter, podTable, type EventType } from "./format.ts";
import type { LivenessProbe } from "./manifest.ts";

export type LocalPodOptions = {
  name: string;
  /** Native sidecars, started first, in order, and stopped last. */
  sidecars: ContainerSpec[];
  app: ContainerSpec;
  probe: LivenessProbe & { url: string };
  /** The pod's terminationGracePeriodSeconds, for stopping the whole pod. */
  terminationGracePeriodSeconds: number;
  /** Resolves once a sidecar is ready for the app to start (its port answers). */
  sidecarReady: (spec: ContainerSpec) => Promise<void>;
  write: (line: string) => void;
  colour: boolean;
  now?: () => number;
};

export type LocalPod = ReturnType<typeof createLocalPod>;

export function createLocalPod(options: LocalPodOptions) {
  const now = options.now ?? Date.now;
  const printer = createEventPrinter(options.name, options.write, options.colour);
  const backoff = createRestartBackoff(now);
  const createdAt = now();
  const appName = options.app.name;

  let stopping = false;
  let killing = false;
  let restarts = 0;
  let lastRestartAt: number | undefined;
  let backingOff = false;
  // kuberuntime's doBackOff looks at the latest *exited* instance in the pod's status; when the
  // kubelet kills and restarts in one sync, that is the instance before the one it just killed.
  let previousFinishedAt: number | undefined;
  let lastRow = "";

  const event = (type: EventType, reason: string, message: string) => printer.event({ at: now(), type, reason, message });

  // A native sidecar that exits is restarted too (restartPolicy: Always), with its own back-off.
  const sidecars: ProcessContainer[] = options.sidecars.map((spec) => {
    const sidecarBackoff = createRestartBackoff(now);
    const container: ProcessContainer = createProcessContainer(spec, now, (exit) => {
      if (stopping) return;
      row();
      void (async () => {
        let wait = sidecarBackoff.check(exit.at);
        while (wait > 0 && !stopping) {
          event("Warning", "BackOff", `Back-off restarting failed container ${spec.name} in pod ${options.name}_default`);
          await new Promise((r) => setTimeout(r, wait));
          wait = sidecarBackoff.check(exit.at);
        }
        if (stopping) return;
        event("Normal", "Created", `Created container: ${spec.name}`);
        container.start();
        event("Normal", "Started", `Started container ${spec.name}`);
        row();
      })();
    });
    return container;
  });
  const app: ProcessContainer = createProcessContainer(options.app, now, (exit) => {
    row();
    if (stopping || killing) return;
    // Exited by itself (CRASH_MODE=exit): no probe involved. The kubelet stops probing a
    // container that is not running and restarts it, subject to back-off.
    worker.containerStopped();
    for (const line of app.logs().slice(-2)) options.write(dim(`    ${appName} | ${line}`));
    // Here the instance that just exited is the latest exited one.
    previousFinishedAt = exit.at;
    void restart(exit.at);
  });

  const worker = createProbeWorker({
    ...options.probe,
    containerName: appName,
    holdAfterFailure: true,
    probe: createHttpProber({ url: options.probe.url, timeoutSeconds: options.probe.timeoutSeconds }),
    onEvent: (e: ProbeEvent) => {
      event(e.type, e.reason, e.message);
      if (e.reason === "Killing") void killAndRestart();
    },
  });

  function dim(text: string): string {
    return options.colour ? `\x1b[2m${text}\x1b[0m` : text;
  }

  /** The kubectl get pods line, printed when anything in it but AGE changes. */
  function row(): void {
    // The kubelet restarts a killed container in the same sync: kubectl would not see it in between.
    if (killing) return;
    const state = app.state();
    const running = (state.state === "Running" ? 1 : 0) + sidecars.filter((s) => s.state().state === "Running").length;
    const status = stopping
      ? "Terminating"
      : backingOff
        ? "CrashLoopBackOff"
        : state.state === "Terminated"
          ? state.reason
          : state.state === "Waiting"
            ? "PodInitializing"
            : "Running";
    const key = `${running}/${status}/${restarts}`;
    if (key === lastRow) return;
    lastRow = key;
    const [head, line] = podTable(
      { name: options.name, ready: running, total: sidecars.length + 1, status, restarts, lastRestartAt, createdAt },
      now(),
    );
    options.write(dim(`    ${head}`));
    options.write(dim(`    ${line}`));
  }

  function startApp(): void {
    event("Normal", "Created", `Created container: ${appName}`);
    app.start();
    event("Normal", "Started", `Started container ${appName}`);
    worker.containerStarted(now());
    row();
  }

  async function killAndRestart(): Promise<void> {
    if (stopping || killing) return;
    killing = true;
    const exit = await app.stop(options.probe.terminationGracePeriodSeconds * 1000);
    killing = false;
    if (stopping) return;
    const lastExited = previousFinishedAt;
    previousFinishedAt = exit.at;
    await restart(lastExited);
  }

  /** Starts the app again once the back-off allows, given when its latest exited instance finished. */
  async function restart(lastExitedAt: number | undefined): Promise<void> {
    let wait = backoff.check(lastExitedAt);
    while (wait > 0 && !stopping) {
      backingOff = true;
      event("Warning", "BackOff", `Back-off restarting failed container ${appName} in pod ${options.name}_default`);
      row();
      await new Promise((r) => setTimeout(r, wait));
      wait = backoff.check(lastExitedAt);
    }
    backingOff = false;
    if (stopping) return;
    restarts++;
    lastRestartAt = now();
    startApp();
  }

  return {
    async start(): Promise<void> {
      printer.header();
      row();
      // The kubelet's probe worker ticks from the pod's admission, not from the container's start,
      // and skips the container until it runs: the first probe lands somewhere in the first period.
      worker.containerStopped();
      worker.start();
      for (const [i, sidecar] of sidecars.entries()) {
        const spec = options.sidecars[i]!;
        event("Normal", "Created", `Created container: ${spec.name}`);
        sidecar.start();
        event("Normal", "Started", `Started container ${spec.name}`);
        await options.sidecarReady(spec);
        if (stopping) return;
      }
      startApp();
    },
    /** Stops the app, then the sidecars, each within the pod's grace period. */
    async stop(): Promise<void> {
      if (stopping) return;
      stopping = true;
      backingOff = false;
      await worker.stop();
      const grace = options.terminationGracePeriodSeconds * 1000;
      if (app.state().state === "Running") event("Normal", "Killing", `Stopping container ${appName}`);
      await app.stop(grace);
      for (const [i, sidecar] of [...sidecars.entries()].reverse()) {
        if (sidecar.state().state === "Running") event("Normal", "Killing", `Stopping container ${options.sidecars[i]!.name}`);
        await sidecar.stop(grace);
      }
    },
    killNow(): void {
      app.killNow();
      for (const s of sidecars) s.killNow();
    },
    restarts: () => restarts,
    appState: () => app.state(),
  };
}
