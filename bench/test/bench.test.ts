// A smoke run of `npm run bench` with the smallest settings, so the script does not rot. It checks
// the shape of what the bench prints and writes, never a speed: benchmarks are not tests.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../../test/processes.ts";

const out = mkdtempSync(join(tmpdir(), "crashy-bench-smoke-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("node", ["dist/bench/src/run.js", ...args], { cwd: ROOT, timeout: 150_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

// Every runtime's app and bare server; on /health and /, each app against its own runtime's bare server too.
const APPS = ["node", "deno", "bun", "workerd"];
const SERVERS = [...APPS, "bare", "bareDeno", "bareBun", "bareWorkerd"];
const APP_ROWS = [
  ...["/health", "/", "/metrics"].flatMap((path) => [
    ...SERVERS.map((on) => `cpu ${path} ${on}`),
    ...(path === "/metrics" ? [] : APPS.map((app) => `cpu ${path} ${app} vs own bare`)),
  ]),
  ...SERVERS.map((on) => `cold start ${on}`),
  ...["idle", "after load"].flatMap((phase) => SERVERS.map((on) => `rss ${phase} ${on}`)),
];
const SIDECAR_ROWS = [
  "cpu per probe sidecar",
  "cpu per probe blackbox",
  "jitter p50 sidecar",
  "jitter p99 sidecar",
  "detection sidecar",
  "rss sidecar",
  "recovery local pod",
];

type Row = { id: string; value: number | null; verdict: string; target?: string };

describe("npm run bench, smoke run", () => {
  it("prints one table and writes the same rows as JSON", { timeout: 180_000 }, async () => {
    const { code, stdout, stderr } = await runBench([
      "--seconds", "1", "--rounds", "1", "--cold-rounds", "1", "--warmup", "0", "--probes", "50", "--out", out,
    ]);
    expect(code, stderr).toBe(0);

    const table = stdout.split("\n").filter((line) => line.startsWith("|"));
    expect(table[0]).toMatch(/^\| what +\| on +\| median +\| baseline \(same run\) +\| ratio +\|.*\| target +\| result +\|$/);
    expect(table[1]).toMatch(/^\|-+\|/);
    expect(table).toHaveLength(2 + APP_ROWS.length + SIDECAR_ROWS.length);
    expect(stdout).toMatch(/CPU per request, GET \/health +\| Node app/);
    expect(stdout).toMatch(/CPU per request, GET \/health, against its runtime's bare server +\| workerd app +\| .* bare worker +\|/);
    expect(stdout).toMatch(/recovery, start → crash → 200 again .*\| local pod +\|/);

    const files = readdirSync(out);
    expect(files).toContain("latest.json");
    expect(files.filter((f) => /^bench-.*\.json$/.test(f))).toHaveLength(1);
    const doc = JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as { settings: object; rows: Row[] };
    expect(doc.settings).toMatchObject({ seconds: 1, rounds: 1, coldRounds: 1, probes: 50 });
    expect(doc.rows.map((r) => r.id)).toEqual([...APP_ROWS, ...SIDECAR_ROWS]);
    for (const row of doc.rows) {
      if (row.verdict === "GAP") {
        expect(row.value).toBeNull();
        continue;
      }
      // Measured, whatever the figure: a number, and a verdict wherever there is a target.
      expect(Number.isFinite(row.value), row.id).toBe(true);
      expect(row.verdict, row.id).toMatch(row.target ? /^(PASS|MISS)$/ : /^$/);
    }
  });
});
