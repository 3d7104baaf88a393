// The app's figures: CPU per request, req/s and latency under a bounded wrk load, cold start and
// RSS, for the Node, Deno, Bun and workerd entries, each beside a bare node:http server measured in
// the same run and the bare server of its own runtime (Deno.serve, Bun.serve, a bare worker): the
// floor of what that runtime can do.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuSeconds, rssBytes } from "./proc.ts";
import type { Row } from "./report.ts";
import { firstOk, freePort, getStatus, launch, npmScript, scriptProgram, sleep, type Proc } from "./spawn.ts";
import { median } from "./stats.ts";
import { runWrk, type LoadResult } from "./wrk.ts";

export const APPS = ["node", "deno", "bun", "workerd"] as const;
export type AppKey = (typeof APPS)[number];
export type ServerKey = AppKey | "bare" | "bareDeno" | "bareBun" | "bareWorkerd";
// Each app's own floor: the bare server of its runtime (Node's is the baseline of every row too).
const OWN_BARE: Record<AppKey, ServerKey> = { node: "bare", deno: "bareDeno", bun: "bareBun", workerd: "bareWorkerd" };
export const PATHS = ["/health", "/", "/metrics"] as const;
type Path = (typeof PATHS)[number];

export const LABEL: Record<ServerKey, string> = {
  node: "Node app",
  deno: "Deno app",
  bun: "Bun app",
  workerd: "workerd app",
  bare: "bare node:http",
  bareDeno: "bare Deno.serve",
  bareBun: "bare Bun.serve",
  bareWorkerd: "bare worker",
};

/** Every server of these apps, in the order of the table: the apps, then the bare servers. */
export function serverKeys(apps: readonly AppKey[]): ServerKey[] {
  const bares = new Set<ServerKey>(["bare", ...apps.map((app) => OWN_BARE[app])]);
  return [...apps, ...(["bare", "bareDeno", "bareBun", "bareWorkerd"] as const).filter((key) => bares.has(key))];
}

/** The app of a runtime costs at most this much CPU per request of its runtime's bare server. */
const OWN_BARE_LIMIT = 1.1;

export type AppBenchOptions = {
  seconds: number;
  rounds: number;
  coldRounds: number;
  connections: number;
  /** Seconds of uncounted load per server and path before the rounds; 0 for none. */
  warmupSeconds: number;
  /** The runtimes whose apps are measured (each with its bare server, and bare Node always). */
  apps?: readonly AppKey[];
  log: (line: string) => void;
};

const ENV = { HOST: "127.0.0.1", HOSTNAME: "crashy-bench", CRASH_AFTER: "86400", CRASH_MODE: "error" };

const DENO = "node_modules/.bin/deno";
const BUN = "node_modules/.bin/bun";
const WORKERD = "node_modules/.bin/workerd";

// Each as its image runs it: Node and Bun their bundles, Deno the sources, workerd the worker's
// config with the socket on its command line.
function argv(key: ServerKey, port: number, metricsFile?: string): string[] {
  const socket = ["--socket-addr", `http=127.0.0.1:${port}`];
  switch (key) {
    case "node":
      return scriptProgram("app"); // the bundle and heap flags `npm run app` and the image run
    case "deno":
      return npmScript("app:deno");
    case "bun":
      return [BUN, "dist/bundle/app-bun.mjs"];
    case "workerd":
      return [WORKERD, "serve", "dist/bundle/crashy.capnp", ...socket];
    case "bare":
      return ["node", "dist/bench/src/bare-server.js"];
    case "bareDeno": {
      const read = metricsFile ? [`--allow-read=${metricsFile}`] : [];
      return [DENO, "run", "--allow-net", "--allow-env=PORT,HOST,HOSTNAME,BARE_METRICS_FILE", "--allow-sys=hostname", ...read, "bench/src/bare-server-deno.js"];
    }
    case "bareBun":
      return [BUN, "bench/src/bare-server-bun.js"];
    case "bareWorkerd":
      return [WORKERD, "serve", "bench/src/bare-worker.capnp", ...socket];
  }
}

type Running = { key: ServerKey; proc: Proc; url: string };

async function startServer(key: ServerKey, extraEnv: Record<string, string> = {}): Promise<Running> {
  const port = await freePort();
  const proc = launch(argv(key, port, extraEnv.BARE_METRICS_FILE), { ...ENV, ...extraEnv, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await firstOk(`${url}/health`, proc, 20_000, 20);
  return { key, proc, url };
}

/** Round r runs the servers in an order rotated by r, so none always runs first or last. */
const rotate = <T>(items: readonly T[], r: number) => items.map((_, i) => items[(i + r) % items.length]!);

type Sample = LoadResult & { cpuPerRequestUs: number };

export async function benchApp(opts: AppBenchOptions): Promise<{ rows: Row[]; raw: object }> {
  const { log } = opts;
  const apps = opts.apps ?? APPS;
  const keys = serverKeys(apps);
  const servers: Running[] = [];
  try {
    log(`app: starting ${keys.map((key) => LABEL[key]).join(", ")}`);
    // The bare servers send the Node app's own /metrics text, so all send the same bytes.
    const node = await startServer("node");
    const metricsText = (await getStatus(`${node.url}/metrics`))?.body ?? "";
    await node.proc.stop();
    const metricsFile = join(tmpdir(), `crashy-bench-metrics-${process.pid}.txt`);
    writeFileSync(metricsFile, metricsText);
    const bareEnv = { BARE_METRICS_FILE: metricsFile, BARE_METRICS: metricsText };
    for (const key of keys) servers.push(await startServer(key, key.startsWith("bare") ? bareEnv : {}));

    await sleep(1_000);
    const rssIdle = Object.fromEntries(servers.map((s) => [s.key, rssBytes(s.proc.pid)])) as Record<ServerKey, number>;

    if (opts.warmupSeconds > 0) {
      log(`app: warming up (${opts.warmupSeconds} s of load per server and path, not counted)`);
      for (const s of servers) {
        for (const path of PATHS) await runWrk(s.url + path, { seconds: opts.warmupSeconds, connections: opts.connections });
      }
    }

    const samples: Record<string, Sample[]> = {};
    for (let r = 0; r < opts.rounds; r++) {
      for (const path of PATHS) {
        for (const s of rotate(servers, r)) {
          const before = cpuSeconds(s.proc.pid);
          const load = await runWrk(s.url + path, { seconds: opts.seconds, connections: opts.connections });
          const cpu = cpuSeconds(s.proc.pid) - before;
          const sample = { ...load, cpuPerRequestUs: (cpu / Math.max(1, load.requests)) * 1e6 };
          (samples[`${s.key} ${path}`] ??= []).push(sample);
          log(`app: round ${r + 1}/${opts.rounds} ${LABEL[s.key]} ${path}: ${sample.cpuPerRequestUs.toFixed(1)} µs/req, ${load.requestsPerSecond.toFixed(0)} req/s`);
        }
      }
    }
    const rssLoaded = Object.fromEntries(servers.map((s) => [s.key, rssBytes(s.proc.pid)])) as Record<ServerKey, number>;
    for (const s of servers.splice(0)) await s.proc.stop();

    const cold = await coldStarts(opts, keys);
    return {
      rows: [...loadRows(samples, opts.rounds, keys), ...coldRows(cold, keys), ...rssRows(rssIdle, rssLoaded, keys)],
      raw: { samples, cold, rssIdle, rssLoaded },
    };
  } finally {
    for (const s of servers) await s.proc.stop();
  }
}

async function coldStarts(opts: AppBenchOptions, keys: readonly ServerKey[]): Promise<Record<ServerKey, number[]>> {
  const times = Object.fromEntries(keys.map((key) => [key, [] as number[]])) as Record<ServerKey, number[]>;
  // One start each first, not counted: the file cache and Deno's transpile cache are warm after it.
  for (let r = -1; r < opts.coldRounds; r++) {
    for (const key of rotate(keys, Math.max(0, r))) {
      const port = await freePort();
      const began = performance.now();
      const proc = launch(argv(key, port), { ...ENV, PORT: String(port) });
      const ok = await firstOk(`http://127.0.0.1:${port}/health`, proc, 10_000);
      await proc.stop();
      if (r >= 0) times[key].push(ok - began);
    }
    if (r >= 0) log(opts, `cold start: round ${r + 1}/${opts.coldRounds}: ${keys.map((k) => `${k} ${times[k].at(-1)!.toFixed(0)} ms`).join(", ")}`);
  }
  return times;
}

const log = (opts: AppBenchOptions, line: string) => opts.log(line);

function ratios(a: number[], b: number[]): number[] {
  return a.map((v, i) => v / b[i]!);
}

function loadRows(samples: Record<string, Sample[]>, rounds: number, keys: readonly ServerKey[]): Row[] {
  const rows: Row[] = [];
  const pick = (key: ServerKey, path: Path) => samples[`${key} ${path}`] ?? [];
  const cpuOf = (key: ServerKey, path: Path) => pick(key, path).map((s) => s.cpuPerRequestUs);
  for (const path of PATHS) {
    const bareCpu = cpuOf("bare", path);
    for (const key of keys) {
      const runs = pick(key, path);
      const cpu = runs.map((s) => s.cpuPerRequestUs);
      const p99 = median(runs.map((s) => s.p99Ms));
      const errors = runs.reduce((n, s) => n + s.errors, 0);
      const row: Row = {
        id: `cpu ${path} ${key}`,
        what: path === "/metrics" ? "CPU per scrape, GET /metrics" : `CPU per request, GET ${path}`,
        on: LABEL[key],
        value: median(cpu),
        unit: "us",
        detail: `${median(runs.map((s) => s.requestsPerSecond)).toFixed(0)} · ${fmtMs(median(runs.map((s) => s.p50Ms)))} · ${fmtMs(p99)}`,
        verdict: "",
        rounds: cpu,
      };
      const ratio = median(ratios(cpu, bareCpu));
      if (key !== "bare") {
        row.baseline = { on: LABEL.bare, value: median(bareCpu) };
        row.ratio = ratio;
      }
      if (isApp(key) && path === "/metrics") {
        row.target = "≤ 200 µs, p99 < 10 ms";
        row.verdict = row.value! <= 200 && p99 < 10 ? "PASS" : "MISS";
      } else if (key === "node" || key === "deno") {
        const limit = key === "node" ? 1.25 : 0.5;
        row.target = `≤ ${limit}x bare`;
        row.verdict = ratio <= limit ? "PASS" : "MISS";
      }
      if (errors > 0) {
        row.verdict = "MISS";
        row.note = `${errors} error or non-2xx answers over ${rounds} rounds`;
      }
      rows.push(row);
    }
    // Each app against the bare server of its own runtime: what the app itself adds there.
    if (path === "/metrics") continue;
    for (const app of APPS.filter((key) => keys.includes(key))) {
      const own = OWN_BARE[app];
      const cpu = cpuOf(app, path);
      const ownCpu = cpuOf(own, path);
      const ratio = median(ratios(cpu, ownCpu));
      rows.push({
        id: `cpu ${path} ${app} vs own bare`,
        what: `CPU per request, GET ${path}, against its runtime's bare server`,
        on: LABEL[app],
        value: median(cpu),
        unit: "us",
        baseline: { on: LABEL[own], value: median(ownCpu) },
        ratio,
        target: `≤ ${OWN_BARE_LIMIT}x own bare`,
        verdict: ratio <= OWN_BARE_LIMIT ? "PASS" : "MISS",
        rounds: ratios(cpu, ownCpu),
      });
    }
  }
  return rows;
}

const isApp = (key: ServerKey): key is AppKey => (APPS as readonly string[]).includes(key);

const fmtMs = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);

// Cold start and memory on Bun and workerd: no worse than the Node app's, in the same run.
function coldRows(times: Record<ServerKey, number[]>, keys: readonly ServerKey[]): Row[] {
  const limits: Partial<Record<ServerKey, number>> = { node: 150, deno: 120 };
  const nodeApp = median(times.node ?? []);
  return keys.map((key) => {
    const value = median(times[key]);
    const row: Row = { id: `cold start ${key}`, what: "cold start, spawn → first 200 /health", on: LABEL[key], value, unit: "ms", verdict: "", rounds: times[key] };
    if (key !== "bare") {
      row.baseline = { on: LABEL.bare, value: median(times.bare) };
      row.ratio = median(ratios(times[key], times.bare));
    }
    const limit = limits[key];
    if (limit !== undefined) {
      row.target = `< ${limit} ms`;
      row.verdict = value < limit ? "PASS" : "MISS";
    } else if ((key === "bun" || key === "workerd") && times.node) {
      row.target = `≤ Node app (${nodeApp.toFixed(0)} ms)`;
      row.verdict = value <= nodeApp ? "PASS" : "MISS";
    }
    return row;
  });
}

function rssRows(idle: Record<ServerKey, number>, loaded: Record<ServerKey, number>, keys: readonly ServerKey[]): Row[] {
  const rows: Row[] = [];
  for (const [phase, values, limit] of [["idle", idle, 60], ["after load", loaded, 90]] as const) {
    for (const key of keys) {
      const mb = values[key] / 2 ** 20;
      const row: Row = { id: `rss ${phase} ${key}`, what: `RSS ${phase}`, on: LABEL[key], value: mb, unit: "MiB", verdict: "" };
      if (key !== "bare") {
        row.baseline = { on: LABEL.bare, value: values.bare / 2 ** 20 };
        row.ratio = values[key] / values.bare;
      }
      if (key === "node" || key === "deno") {
        row.target = `< ${limit} MiB`;
        row.verdict = mb < limit ? "PASS" : "MISS";
      } else if ((key === "bun" || key === "workerd") && values.node !== undefined) {
        const nodeMb = values.node / 2 ** 20;
        row.target = `≤ Node app (${nodeMb.toFixed(1)} MiB)`;
        row.verdict = mb <= nodeMb ? "PASS" : "MISS";
      }
      rows.push(row);
    }
  }
  return rows;
}
