// Starting the measured programs as real processes on loopback, and stopping them.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** The argv of an npm script, with local binaries resolved: the bench runs what users run. */
export function npmScript(name: string): string[] | undefined {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { scripts: Record<string, string> };
  const script = pkg.scripts[name];
  if (!script) return undefined;
  const words = script.split(/\s+/).filter(Boolean);
  if (words[0] === "deno") words[0] = `${ROOT}node_modules/.bin/deno`;
  return words;
}

export type Proc = {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<number | string>;
  stop(): Promise<void>;
};

const running = new Set<ChildProcess>();
// Whatever happens to the bench, nothing it started outlives it.
process.on("exit", () => running.forEach((child) => child.kill("SIGKILL")));

export function launch(argv: string[], env: Record<string, string>): Proc {
  const [command, ...args] = argv;
  const child = spawn(command!, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? "unknown");
    }),
  );
  return {
    child,
    pid: child.pid!,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** One GET on a fresh connection: the status, or undefined if nothing answered. */
export function getStatus(url: string, timeoutMs = 1_000): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", () => resolve(undefined));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

/** Polls `url` every `everyMs` until it answers 200; the performance.now() of that answer. */
export async function firstOk(url: string, proc: Proc, deadlineMs: number, everyMs = 2): Promise<number> {
  const deadline = performance.now() + deadlineMs;
  let ended = false;
  void proc.exited.then(() => (ended = true));
  while (performance.now() < deadline && !ended) {
    const answer = await getStatus(url, 500);
    if (answer?.status === 200) return performance.now();
    await sleep(everyMs);
  }
  throw new Error(`${url} gave no 200 within ${deadlineMs} ms${ended ? " (the process exited)" : ""}:\n${proc.output()}`);
}
