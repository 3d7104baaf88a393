// `npm run bench`: the app's and the sidecar's speed, memory, start-up and probe accuracy, each
// against a baseline measured in the same run. Prints one table; writes it as JSON to bench/results/.
// Options: --seconds N (per load run), --rounds N, --cold-rounds N, --connections N, --warmup N
// (seconds of uncounted load per server and path, 0 for none), --probes N (per round), --period-ms N,
// --out DIR, --only app|sidecar, --runtimes node,deno,bun,workerd (the apps measured, each beside
// its runtime's bare server; bare Node always).
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { APPS, benchApp, serverKeys, type AppKey } from "./app-bench.ts";
import { tableLines, writeResults, type Row } from "./report.ts";
import { benchRecovery } from "./recovery-bench.ts";
import { benchSidecar } from "./sidecar-bench.ts";
import { ROOT } from "./spawn.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "2" },
    rounds: { type: "string", default: "3" },
    "cold-rounds": { type: "string", default: "5" },
    connections: { type: "string", default: "32" },
    warmup: { type: "string", default: "1" },
    probes: { type: "string", default: "1000" },
    "period-ms": { type: "string", default: "10" },
    out: { type: "string", default: join(ROOT, "bench", "results") },
    only: { type: "string" },
    runtimes: { type: "string", default: APPS.join(",") },
  },
});

const apps = values.runtimes!.split(",").map((name) => name.trim());
for (const app of apps) {
  if (!(APPS as readonly string[]).includes(app)) throw new Error(`--runtimes takes ${APPS.join(", ")}, got ${app}`);
}
const appServers = serverKeys(apps as AppKey[]).length;

const num = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a number > 0, got ${values[name]}`);
  return n;
};
const settings = {
  seconds: num("seconds"),
  rounds: Math.round(num("rounds")),
  coldRounds: Math.round(num("cold-rounds")),
  connections: Math.round(num("connections")),
  warmupSeconds: Number(values.warmup) > 0 ? Math.max(1, Math.round(Number(values.warmup))) : 0,
  probes: Math.round(num("probes")),
  periodMs: num("period-ms"),
};

// A hard bound on the whole run, well above what the settings need, so a stuck part cannot hang CI.
const budgetMs =
  1000 *
  (3 * appServers * (settings.rounds * (settings.seconds + 1) + settings.warmupSeconds + 1) + // wrk runs
    appServers * (settings.coldRounds + 1) * 10 + // cold starts, each bounded by 10 s
    settings.rounds * (2 * ((settings.probes * settings.periodMs * 3) / 1000 + 5) + 20) + // probes, detection
    settings.rounds * 45 + // recovery rounds, each bounded by about 40 s
    60);
setTimeout(() => {
  console.error(`bench: still running after ${Math.round(budgetMs / 1000)} s, giving up`);
  process.exit(1);
}, budgetMs).unref();

const log = (line: string) => console.error(line);
const started = new Date();
const rows: Row[] = [];
const raw: Record<string, object> = {};

if (values.only !== "sidecar") {
  const app = await benchApp({ ...settings, apps: apps as AppKey[], log });
  rows.push(...app.rows);
  raw.app = app.raw;
}
if (values.only !== "app") {
  const sidecar = await benchSidecar({ ...settings, log });
  rows.push(...sidecar.rows);
  raw.sidecar = sidecar.raw;
  const recovery = await benchRecovery({ ...settings, log });
  rows.push(...recovery.rows);
  raw.recovery = recovery.raw;
}

const lines = tableLines(rows);
console.log(`crashy bench, ${started.toISOString()}, ${cpus().length} cores, Node ${process.versions.node}; medians of ${settings.rounds} interleaved rounds (${settings.coldRounds} for cold start), wrk -c${settings.connections} for ${settings.seconds} s per run`);
console.log(lines.join("\n"));
for (const row of rows.filter((r) => r.note)) console.log(`- ${row.on}, ${row.what}: ${row.note}`);
const file = writeResults(values.out!, { started: started.toISOString(), settings, rows, raw });
console.log(`results: ${file}`);
