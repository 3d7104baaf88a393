// The app's figures: CPU per request, req/s and latency under a bounded wrk load, cold start and
// RSS, for the Node and Deno entries, each beside a bare node:http server measured in the same run
// (the targets' baseline) and a bare Deno.serve (the floor of what Deno can do).
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuSeconds, rssBytes } from "./proc.ts";
import type { Row } from "./report.ts";
import { firstOk, freePort, getStatus, launch, npmScript, scriptProgram, sleep, type Proc } from "./spawn.ts";
import { median } from "./stats.ts";
import { runWrk, type LoadResult } from "./wrk.ts";

export type ServerKey = "node" | "deno" | "bare" | "bareDeno";
// Every server, in the order of the table; the bare ones are the floors the apps are held against.
const KEYS: readonly ServerKey[] = ["node", "deno", "bare", "bareDeno"];
export const PATHS = ["/health", "/", "/metrics"] as const;
type Path = (typeof PATHS)[number];

export const LABEL: Record<ServerKey, string> = { node: "Node app", deno: "Deno app", bare: "bare node:http", bareDeno: "bare Deno.serve" };

export type AppBenchOptions = {
  seconds: number;
  rounds: number;
  coldRounds: number;
  connections: number;
  /** Seconds of uncounted load per server and path before the rounds; 0 for none. */
  warmupSeconds: number;
  log: (line: string) => void;
};

const ENV = { HOST: "127.0.0.1", HOSTNAME: "crashy-bench", CRASH_AFTER: "86400", CRASH_MODE: "error" };

const DENO = "node_modules/.bin/deno";

function argv(key: ServerKey, metricsFile?: string): string[] {
  if (key === "node") return scriptProgram("app"); // the bundle and heap flags `npm run app` and the image run
  if (key === "bare") return ["node", "dist/bench/src/bare-server.js"];
  if (key === "bareDeno") {
    const read = metricsFile ? [`--allow-read=${metricsFile}`] : [];
    return [DENO, "run", "--allow-net", "--allow-env=PORT,HOST,HOSTNAME,BARE_METRICS_FILE", "--allow-sys=hostname", ...read, "bench/src/bare-server-deno.js"];
  }
  return npmScript("app:deno");
}

type Running = { key: ServerKey; proc: Proc; url: string };

async function startServer(key: ServerKey, extraEnv: Record<string, string> = {}): Promise<Running> {
  const port = await freePort();
  const proc = launch(argv(key, extraEnv.BARE_METRICS_FILE), { ...ENV, ...extraEnv, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await firstOk(`${url}/health`, proc, 20_000, 20);
  return { key, proc, url };
}

/** Round r runs the servers in an order rotated by r, so none always runs first or last. */
const rotate = <T>(items: readonly T[], r: number) => items.map((_, i) => items[(i + r) % items.length]!);

type Sample = LoadResult & { cpuPerRequestUs: number };

export async function benchApp(opts: AppBenchOptions): Promise<{ rows: Row[]; raw: object }> {
  const { log } = opts;
  const servers: Running[] = [];
  try {
    log("app: starting the Node and Deno apps and the bare server");
    servers.push(await startServer("node"));
    servers.push(await startServer("deno"));
    // The bare server sends the Node app's own /metrics text, so both send the same bytes.
    const metricsText = (await getStatus(`${servers[0]!.url}/metrics`))?.body ?? "";
    const metricsFile = join(tmpdir(), `crashy-bench-metrics-${process.pid}.txt`);
    writeFileSync(metricsFile, metricsText);
    servers.push(await startServer("bare", { BARE_METRICS_FILE: metricsFile }));
    servers.push(await startServer("bareDeno", { BARE_METRICS_FILE: metricsFile }));

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

    const cold = await coldStarts(opts);
    return {
      rows: [...loadRows(samples, opts.rounds), ...coldRows(cold), ...rssRows(rssIdle, rssLoaded)],
      raw: { samples, cold, rssIdle, rssLoaded },
    };
  } finally {
    for (const s of servers) await s.proc.stop();
  }
}

async function coldStarts(opts: AppBenchOptions): Promise<Record<ServerKey, number[]>> {
  const keys = KEYS;
  const times: Record<ServerKey, number[]> = { node: [], deno: [], bare: [], bareDeno: [] };
  // One start each first, not counted: the file cache and Deno's transpile cache are warm after it.
  for (let r = -1; r < opts.coldRounds; r++) {
    for (const key of rotate(keys, Math.max(0, r))) {
      const port = await freePort();
      const began = performance.now();
      const proc = launch(argv(key), { ...ENV, PORT: String(port) });
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

function loadRows(samples: Record<string, Sample[]>, rounds: number): Row[] {
  const rows: Row[] = [];
  const pick = (key: ServerKey, path: Path) => samples[`${key} ${path}`] ?? [];
  for (const path of PATHS) {
    const bare = pick("bare", path);
    const bareCpu = bare.map((s) => s.cpuPerRequestUs);
    for (const key of KEYS) {
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
      if (key === "node" || key === "deno") {
        if (path === "/metrics") {
          row.target = "≤ 200 µs, p99 < 10 ms";
          row.verdict = row.value! <= 200 && p99 < 10 ? "PASS" : "MISS";
        } else {
          const limit = key === "node" ? 1.25 : 0.5;
          row.target = `≤ ${limit}x bare`;
          row.verdict = ratio <= limit ? "PASS" : "MISS";
        }
      }
      if (errors > 0) {
        row.verdict = "MISS";
        row.note = `${errors} error or non-2xx answers over ${rounds} rounds`;
      }
      rows.push(row);
    }
  }
  return rows;
}

const fmtMs = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);

function coldRows(times: Record<ServerKey, number[]>): Row[] {
  const limits: Partial<Record<ServerKey, number>> = { node: 150, deno: 120 };
  return KEYS.map((key) => {
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
    }
    return row;
  });
}

function rssRows(idle: Record<ServerKey, number>, loaded: Record<ServerKey, number>): Row[] {
  const rows: Row[] = [];
  for (const [phase, values, limit] of [["idle", idle, 60], ["after load", loaded, 90]] as const) {
    for (const key of KEYS) {
      const mb = values[key] / 2 ** 20;
      const row: Row = { id: `rss ${phase} ${key}`, what: `RSS ${phase}`, on: LABEL[key], value: mb, unit: "MiB", verdict: "" };
      if (key !== "bare") {
        row.baseline = { on: LABEL.bare, value: values.bare / 2 ** 20 };
        row.ratio = values[key] / values.bare;
      }
      if (key === "node" || key === "deno") {
        row.target = `< ${limit} MiB`;
        row.verdict = mb < limit ? "PASS" : "MISS";
      }
      rows.push(row);
    }
  }
  return rows;
}
