// One table for the terminal and the README (Markdown), and the same rows as JSON.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type Verdict = "PASS" | "MISS" | "GAP" | "";

export type Row = {
  /** Stable key, such as "cpu /health node": the smoke test and later runs compare by it. */
  id: string;
  what: string;
  on: string;
  /** Median over rounds, in `unit`; null when not measured. */
  value: number | null;
  unit: "us" | "ms" | "MiB" | "probes";
  /** The same-run baseline, in the same unit. */
  baseline?: { on: string; value: number };
  /** Median of per-round ratios to the baseline. */
  ratio?: number;
  /** req/s and latency beside a CPU figure, or any short note. */
  detail?: string;
  target?: string;
  verdict: Verdict;
  /** The value of each round, for whoever reads the JSON. */
  rounds?: number[];
  note?: string;
};

const fmt = (value: number, unit: Row["unit"]) => {
  if (!Number.isFinite(value)) return "n/a";
  const digits = unit === "MiB" ? 1 : value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit === "us" ? "µs" : unit}`;
};

export function tableLines(rows: Row[]): string[] {
  const head = ["what", "on", "median", "baseline (same run)", "ratio", "detail (load: req/s · p50 · p99)", "target", "result"];
  const body = rows.map((r) => [
    r.what,
    r.on,
    r.value === null ? "—" : fmt(r.value, r.unit),
    r.baseline ? `${fmt(r.baseline.value, r.unit)} ${r.baseline.on}` : "",
    r.ratio === undefined || !Number.isFinite(r.ratio) ? "" : `${r.ratio.toFixed(2)}x`,
    r.detail ?? "",
    r.target ?? "",
    r.verdict,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)];
}

export function writeResults(dir: string, doc: object): string {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const file = join(dir, `bench-${stamp}.json`);
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  writeFileSync(file, text);
  // A fixed name too, for whoever wants the last run without listing the folder.
  writeFileSync(join(dir, "latest.json"), text);
  return file;
}
