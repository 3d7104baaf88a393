// The kubelet's probe results channel (pkg/kubelet/prober/results/results_manager.go): the latest
// result of one probe type per container instance, and an update each time it changes. Workers
// only Set results here; whoever plays kuberuntime (the local runner, or the sidecar showing what
// the kubelet would do) reads them and acts.

/**
 * results.Result: Unknown (a startup probe's initial value), Success, Failure. Not pkg/probe's
 * result, though the words are the same.
 */
export type Result = "success" | "failure" | "unknown";

export type Update = { containerId: string; result: Result };

export type ResultsManager = {
  get(containerId: string): Result | undefined;
  /** results_manager.go Set: caches the result and sends an update only when it changed. */
  set(containerId: string, result: Result): void;
  remove(containerId: string): void;
};

export function createResultsManager(onUpdate: (update: Update) => void = () => {}): ResultsManager {
  const cache = new Map<string, Result>();
  return {
    get: (containerId) => cache.get(containerId),
    set(containerId, result) {
      // setInternal: "Returns whether an update should be sent."
      if (cache.get(containerId) === result) return;
      cache.set(containerId, result);
      onUpdate({ containerId, result });
    },
    remove(containerId) {
      cache.delete(containerId);
    },
  };
}
