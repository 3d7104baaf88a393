// Recovery in the local pod (issue 5's runner, `npm start`): from the app's start, through its
// crash, the sidecar's verdict, the kill and the restart, to /health answering 200 again; against
// CRASH_AFTER + threshold × period + grace, with the probe settings of k8s/base/deployment.yaml.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadPodSpec } from "../../local/src/manifest.ts";
import type { Row } from "./report.ts";
import { firstOk, freePort, getStatus, launch, ROOT, sleep } from "./spawn.ts";
import { median } from "./stats.ts";

const RUNNER = "dist/local/src/main.js";
const CRASH_AFTER_S = 2;

export type RecoveryOptions = { rounds: number; log: (line: string) => void };

export async function benchRecovery(opts: RecoveryOptions): Promise<{ rows: Row[]; raw: object }> {
  if (!existsSync(join(ROOT, RUNNER))) {
    opts.log(`recovery: ${RUNNER} not built, skipped`);
    return { rows: [gap(`${RUNNER} is not built`)], raw: {} };
  }
  const pod = loadPodSpec();
  const liveness = pod.containers[0]!.probes.Liveness!;
  const probe = { ...liveness, terminationGracePeriodSeconds: liveness.terminationGracePeriodSeconds ?? pod.terminationGracePeriodSeconds };
  const budgetMs = (CRASH_AFTER_S + probe.failureThreshold * probe.periodSeconds + probe.terminationGracePeriodSeconds) * 1000;
  const fromStart: number[] = [];
  const fromCrash: number[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const [appPort, sidecarPort] = [await freePort(), await freePort()];
    const pod = launch(["node", RUNNER], {
      APP_PORT: String(appPort),
      SIDECAR_PORT: String(sidecarPort),
      SERVICE_PORT: String(await freePort()),
      CRASH_AFTER: String(CRASH_AFTER_S),
      CRASH_MODE: "error",
      NO_COLOR: "1",
    });
    const health = `http://127.0.0.1:${appPort}/health`;
    try {
      await firstOk(health, pod, 20_000, 20);
      const metrics = (await getStatus(`http://127.0.0.1:${appPort}/metrics`))?.body ?? "";
      const startedAt = Number(/^crashy_start_time_seconds (\S+)$/m.exec(metrics)?.[1]) * 1000;
      if (!Number.isFinite(startedAt)) throw new Error("the app's /metrics has no crashy_start_time_seconds");
      const crashAt = startedAt + CRASH_AFTER_S * 1000;
      // Bounded: well past the budget, whatever the pod does.
      const deadline = crashAt + budgetMs + 15_000;
      let failed = false;
      let back: number | undefined;
      while (Date.now() < deadline && back === undefined) {
        const status = (await getStatus(health, 500))?.status ?? 0;
        if (status !== 200 && Date.now() >= crashAt) failed = true;
        else if (status === 200 && failed) back = Date.now();
        else await sleep(20);
      }
      if (back === undefined) throw new Error(`the local pod's app did not answer 200 again within ${deadline - crashAt} ms of the crash:\n${pod.output()}`);
      fromStart.push(back - startedAt);
      fromCrash.push(back - crashAt);
      opts.log(`recovery: round ${r + 1}/${opts.rounds}: 200 again ${fromCrash.at(-1)!.toFixed(0)} ms after the crash`);
    } finally {
      await pod.stop();
    }
  }
  const value = median(fromStart);
  return {
    rows: [
      {
        id: "recovery local pod",
        what: `recovery, start → crash → 200 again (CRASH_AFTER=${CRASH_AFTER_S}, period ${probe.periodSeconds} s, threshold ${probe.failureThreshold})`,
        on: "local pod",
        value,
        unit: "ms",
        baseline: { on: "CRASH_AFTER + threshold × period + grace", value: budgetMs },
        ratio: value / budgetMs,
        detail: `crash → 200 again: ${median(fromCrash).toFixed(0)} ms`,
        target: `≤ ${budgetMs} ms every round`,
        verdict: Math.max(...fromStart) <= budgetMs ? "PASS" : "MISS",
        rounds: fromStart,
      },
    ],
    raw: { fromStart, fromCrash, budgetMs, probe },
  };
}

function gap(note: string): Row {
  return {
    id: "recovery local pod",
    what: "recovery, start → crash → 200 again",
    on: "local pod",
    value: null,
    unit: "ms",
    target: "≤ CRASH_AFTER + threshold × period + grace",
    verdict: "GAP",
    note,
  };
}
