// Starting the project's real programs as processes on loopback, for the tests and the benchmark.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root, with a trailing slash, whether this runs as source or from dist/. */
export const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return `${dir}/`;
})();

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** The command line of an npm script, with local binaries resolved: tests run what users run. */
export function npmScript(name: string): string[] {
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")) as { scripts: Record<string, string> };
  const script = pkg.scripts[name];
  if (!script) throw new Error(`package.json has no script ${name}`);
  const words = script.split(/\s+/).filter(Boolean);
  if (words[0] === "deno") words[0] = `${ROOT}/node_modules/.bin/deno`;
  return words;
}

/** The program an npm script runs after its build step (`npm run build --silent && node ...`), flags included. */
export function scriptProgram(name: string): string[] {
  const words = npmScript(name);
  return words.slice(words.lastIndexOf("&&") + 1);
}

export type Started = {
  child: ChildProcess;
  pid: number;
  output: () => string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** Sends a signal (SIGKILL after `killAfterMs`) and resolves with the exit code and how long the exit took. */
  stop: (signal?: NodeJS.Signals, killAfterMs?: number) => Promise<{ code: number | string; ms: number }>;
};

const running = new Set<ChildProcess>();
// Nothing started here outlives the test run or the benchmark.
process.on("exit", () => running.forEach((child) => child.kill("SIGKILL")));

/** Starts a process and returns at once; `detached` puts it in a process group of its own, as a terminal's foreground job. */
export function launch(argv: string[], env: Record<string, string>, detached = false): Started {
  const [command, ...args] = argv;
  const child = spawn(command!, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached,
  });
  running.add(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | string>((resolve) =>
    // "close", not "exit": it comes once the output pipes are drained, so no last line is lost.
    child.once("close", (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? "unknown");
    }),
  );
  return {
    child,
    pid: child.pid!,
    output: () => output,
    exited,
    async stop(signal = "SIGTERM", killAfterMs = 5_000) {
      const began = performance.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      const code = await exited;
      clearTimeout(timer);
      return { code, ms: performance.now() - began };
    },
  };
}

/** Starts a process and waits for `ready`, a line of its output (skipped if it exits first). */
export async function start(
  argv: string[],
  env: Record<string, string>,
  ready?: RegExp,
  timeoutMs = 15_000,
  detached = false,
): Promise<Started> {
  const started = launch(argv, env, detached);
  if (ready) {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void started.exited.then(() => (ended = true));
    while (!ready.test(started.output()) && !ended) {
      if (Date.now() > deadline) {
        started.child.kill("SIGKILL");
        throw new Error(`${argv.join(" ")} did not print ${ready} within ${timeoutMs} ms:\n${started.output()}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return started;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = "condition",
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
