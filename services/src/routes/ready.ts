// GET /ready: the readiness endpoint. 200 `ready` while started, not crashed and not switched
// unready; otherwise 503 and why: `starting`, `crashed` or `unready`. The kubelet counts 200-399 as
// success and anything else as failure (pkg/probe/http/http.go, DoHTTPProbe). It answers in every
// CRASH_MODE, hang included: a crashed app is not ready, and saying why helps more than a timeout.
import { TEXT, type Handler, type RouteDeps } from "./route.ts";

export function ready({ state }: RouteDeps): Handler {
  return (c) => {
    const readiness = state.readiness();
    return readiness === "ready" ? c.body("ready\n", 200, TEXT) : c.body(`${readiness}\n`, 503, TEXT);
  };
}
