// One probe of a container as the kubelet runs it (pkg/kubelet/prober/prober.go): the prober for
// its action, retried while it errors, and the events the kubelet records about the outcome,
// worded with the probe type. It decides nothing about thresholds (the worker) or kills (kuberuntime).
import type { ProbeFn, ProbeOutcome, ProbeType } from "./types.ts";

/** prober.go `maxProbeRetries`: a probe that errors is tried this many times in all. */
export const MAX_PROBE_RETRIES = 3;

/** An event the kubelet's prober records (events.ContainerUnhealthy, events.ContainerProbeWarning). */
export type ProberEvent = { type: "Warning"; reason: "Unhealthy" | "ProbeWarning"; message: string };

export type ProbeRun = {
  /** What the worker gets: success or failure; errored runs are thrown away by it. */
  result: "success" | "failure";
  /** prober.go returned a non-nil err: worker.go "Prober error, throw away the result". */
  errored: boolean;
  /** The last attempt's outcome, for the kit's history and metrics. */
  outcome: ProbeOutcome;
  attempts: number;
};

/**
 * prober.go `probe`: runProbeWithRetries, then one event for a failure, a warning or an error.
 * Resolves undefined when `signal` cancelled the probe (the worker is stopping).
 */
export async function runProbe(
  probeType: ProbeType,
  probe: ProbeFn,
  signal: AbortSignal,
  record: (event: ProberEvent) => void = () => {},
): Promise<ProbeRun | undefined> {
  // runProbeWithRetries: "if err == nil { return result, output, nil }", else try again.
  let outcome: ProbeOutcome;
  let attempts = 0;
  do {
    attempts++;
    outcome = await probe(signal).catch((error: unknown): ProbeOutcome => ({ result: "unknown", output: String((error as Error)?.message ?? error) }));
    if (signal.aborted) return undefined;
  } while (outcome.result === "unknown" && attempts < MAX_PROBE_RETRIES);

  if (outcome.result === "unknown") {
    // probe.Failure is what http.go returns beside a body-read error: "resulted in failure state".
    record({ type: "Warning", reason: "Unhealthy", message: `${probeType} probe errored and resulted in failure state: ${outcome.output}` });
    return { result: "failure", errored: true, outcome, attempts };
  }
  if (outcome.result === "failure") {
    record({ type: "Warning", reason: "Unhealthy", message: `${probeType} probe failed: ${outcome.output}` });
  } else if (outcome.warning) {
    record({ type: "Warning", reason: "ProbeWarning", message: `${probeType} probe warning: ${outcome.output}` });
  }
  return { result: outcome.result, errored: false, outcome, attempts };
}
