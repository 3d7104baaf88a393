// Starting the measured programs as real processes on loopback, and stopping them.
import { request } from "node:http";

// Process handling is shared with the tests.
export { freePort, launch, npmScript, ROOT, sleep, type Started as Proc } from "../../test/processes.ts";
import { npmScript, sleep, type Started as Proc } from "../../test/processes.ts";

/** The program an npm script runs after its build step: `node <V8 heap flags> <bundle>`, as users run it. */
export function scriptProgram(name: string): string[] {
  const words = npmScript(name);
  const and = words.lastIndexOf("&&");
  return and >= 0 ? words.slice(and + 1) : words;
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
