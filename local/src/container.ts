// One container of the local pod: a child process with the states the kubelet reports
// (Waiting, Running, Terminated), stopped as the kubelet stops a container: SIGTERM, then SIGKILL
// once the grace period is over.
import { spawn, type ChildProcess } from "node:child_process";

export type ContainerSpec = { name: string; argv: string[]; env: Record<string, string>; cwd: string };

/** `at`, like ContainerState's startedAt and finishedAt, is on the `now` the factory was given: the pod's monotonic clock. */
export type Exit = { code: number | null; signal: NodeJS.Signals | null; at: number };

/** Each has the instance's ID (a new one per start, as the runtime's container ID), once there is one. */
export type ContainerState =
  | { state: "Waiting" }
  | { state: "Running"; id: string; startedAt: number }
  | { state: "Terminated"; id: string; startedAt: number; finishedAt: number; exitCode: number; reason: "Completed" | "Error" };

const LOG_LINES = 20;

/** What the pod needs of a container; the local runner's are processes (createProcessContainer). */
export type Container = {
  readonly name: string;
  state(): ContainerState;
  /** The last lines the container printed, as `kubectl logs --tail` would show. */
  logs(): string[];
  start(): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the instance is gone. */
  stop(graceMs: number): Promise<Exit & { killed: boolean }>;
  /** For the runner's own exit path: no process may outlive it. */
  killNow(): void;
};

export type ContainerFactory = (spec: ContainerSpec, now: () => number, onExit: (exit: Exit) => void) => Container;

export function createProcessContainer(spec: ContainerSpec, now: () => number, onExit: (exit: Exit) => void): Container {
  let child: ChildProcess | undefined;
  let instances = 0;
  let current: ContainerState = { state: "Waiting" };
  let exited: Promise<Exit> = Promise.resolve({ code: null, signal: null, at: now() });
  const logs: string[] = [];

  const remember = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      logs.push(line);
      if (logs.length > LOG_LINES) logs.shift();
    }
  };

  return {
    name: spec.name,
    state: () => current,
    logs: () => [...logs],
    start(): void {
      if (current.state === "Running") throw new Error(`container ${spec.name} is already running`);
      const [command, ...args] = spec.argv;
      // A process group of its own: Ctrl-C on the terminal reaches the runner only, which then
      // stops the containers in order, instead of each one dying at once and looking like a crash.
      child = spawn(command!, args, { cwd: spec.cwd, env: spec.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
      const startedAt = now();
      const id = `${spec.name}-${++instances}`;
      current = { state: "Running", id, startedAt };
      child.stdout!.on("data", remember);
      child.stderr!.on("data", remember);
      const proc = child;
      exited = new Promise((resolve) => {
        proc.once("exit", (code, signal) => {
          const exit = { code, signal, at: now() };
          // 128 + signal number, as container runtimes report a container killed by a signal.
          const exitCode = code ?? 128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : signal === "SIGINT" ? 2 : 1);
          current = { state: "Terminated", id, startedAt, finishedAt: exit.at, exitCode, reason: exitCode === 0 ? "Completed" : "Error" };
          if (child === proc) child = undefined;
          resolve(exit);
          onExit(exit);
        });
      });
    },
    async stop(graceMs: number): Promise<Exit & { killed: boolean }> {
      const proc = child;
      if (!proc) return { ...(await exited), killed: false };
      proc.kill("SIGTERM");
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        proc.kill("SIGKILL");
      }, graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return { ...exit, killed };
    },
    killNow(): void {
      child?.kill("SIGKILL");
    },
  };
}
