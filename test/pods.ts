// Helpers for tests of the local pod as real processes: ports, the processes a pod started, and a
// client of the Service's node port that opens a new connection per request, as curl does.
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { freePort } from "./processes.ts";

/** The runner, as `npm start` runs it once built. */
export const RUNNER = ["node", "dist/local/src/main.js"];

/** Processes whose environment carries PORT=<port>: what the pod started and may have left behind. */
export function processesWithPort(port: number): number[] {
  const found: number[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`PORT=${port}`)) found.push(Number(pid));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** `count` ports in a row that were free a moment ago: the pods' ports count up from the first. */
export async function freePorts(count: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const first = await freePort();
    if (first + count > 65535) continue;
    let free = true;
    for (let p = first + 1; p < first + count && free; p++) free = await listenable(p);
    if (free) return first;
  }
  throw new Error(`no ${count} free ports in a row`);
}

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export type Hit = { status: number; pod: string } | { error: string };

/** One GET on a new connection (no keep-alive): the Service picks a pod per connection. */
export function hit(port: number, path = "/"): Promise<Hit> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false, timeout: 2_000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, pod: /my name is (\S+)/.exec(body)?.[1] ?? "" }));
      res.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

/** Hits the Service again and again for `ms`: every answer, in order. */
export async function loop(port: number, ms: number): Promise<Hit[]> {
  const hits: Hit[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) hits.push(await hit(port));
  return hits;
}
