// CRASH_MODE=hang: answers that never come, like a deadlocked server's.
import type { Context } from "hono";

// The status of the answer that stands for a request released from a hang (nobody reads it), so
// the metrics can leave it out. 499, nginx's "client closed request": the app answers it nowhere
// else (503 is /ready's and the start-up's), and Hono's HEAD handling keeps it.
export const RELEASED = 499;

// Requests held by a hang, until their client goes away. Holding each here keeps its abort signal
// alive: a Request made from a caller's signal (undici's, as app.request() makes) follows that
// signal only through a weak reference, so a hung request that nothing else refers to could be
// garbage-collected and then never released.
const held = new Set<Request>();

/**
 * Never answers, like a deadlocked server, so a probe fails by its timeout. The request is
 * released when its client goes away (or the server cuts it at shutdown), so nothing leaks; or,
 * given `holdMs`, after that long at most (workerd, which never tells a held request its client left).
 */
export function hang(c: Context, holdMs?: number): Promise<Response> {
  const request = c.req.raw;
  // Nobody is left to read this answer; settling the promise just lets the request be collected.
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const release = () => {
      clearTimeout(timer);
      held.delete(request);
      resolve(new Response(null, { status: RELEASED }));
    };
    if (request.signal.aborted) return release();
    held.add(request);
    request.signal.addEventListener("abort", release, { once: true });
    if (holdMs !== undefined) timer = setTimeout(release, holdMs);
  });
}
