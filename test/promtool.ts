// promtool from Debian's prometheus package: the reference linter for the exposition format.
import { spawnSync } from "node:child_process";

/** Runs `promtool check metrics` on `text`; returns what it printed (empty when clean). */
export function promtoolCheckMetrics(text: string): { ok: boolean; output: string } {
  const run = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (run.error) throw new Error(`promtool could not run (apt-get install prometheus): ${run.error.message}`);
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
}
