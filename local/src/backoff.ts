// The kubelet's container restart back-off, as kuberuntime applies it (pkg/kubelet/kuberuntime
// kuberuntime_manager.go doBackOff, and client-go util/flowcontrol backoff.go):
// - the key is the container; the event time is when the container's latest exited instance
//   finished (its FinishedAt), not when the restart is attempted;
// - with no exited instance, or none in the table yet, the container starts at once;
// - it is held back while less than the current back-off has passed since that FinishedAt;
// - each start that was not held back moves the back-off on: 10 s, then doubled, at most 300 s;
// - an entry last moved more than 2 x 300 s before the event time starts again from 10 s.
// So a container killed by its liveness probe after running longer than the back-off restarts at
// once (the lab's transcript), while one that exits quickly soon waits 10, 20, 40 s ... 5 min:
// CrashLoopBackOff.
// `now` and the FinishedAt given are monotonic ms: backoff.go's Clock.Now().Sub(eventTime) uses
// Go's monotonic reading when both times carry one. (The kubelet's FinishedAt comes from the
// runtime as a wall-clock time, without one; ours is seen in-process and keeps it.)

export const INITIAL_BACKOFF_MS = 10_000; // kubelet.go backOffPeriod
export const MAX_BACKOFF_MS = 300_000; // kubelet.go MaxContainerBackOff

export type RestartBackoff = {
  /**
   * Milliseconds to wait before the container may start again, given when its latest exited
   * instance finished (undefined when none has); 0 means "start now", and then counts as a start.
   */
  check(lastFinishedAt: number | undefined): number;
  /** The current back-off window, for display; 0 before the first. */
  current(): number;
};

export function createRestartBackoff(now: () => number, initialMs = INITIAL_BACKOFF_MS, maxMs = MAX_BACKOFF_MS): RestartBackoff {
  let entry: { backoff: number; lastUpdate: number } | undefined;
  const expired = (eventTime: number, lastUpdate: number) => eventTime - lastUpdate > 2 * maxMs;

  return {
    check(lastFinishedAt) {
      if (lastFinishedAt === undefined) return 0;
      // flowcontrol IsInBackOffSince(key, FinishedAt)
      if (entry && !expired(lastFinishedAt, entry.lastUpdate)) {
        const waited = now() - lastFinishedAt;
        if (waited < entry.backoff) return entry.backoff - waited;
      }
      // flowcontrol Next(key, FinishedAt)
      if (!entry || expired(lastFinishedAt, entry.lastUpdate)) entry = { backoff: initialMs, lastUpdate: now() };
      else entry = { backoff: Math.min(2 * entry.backoff, maxMs), lastUpdate: now() };
      return 0;
    },
    current: () => entry?.backoff ?? 0,
  };
}
