// GET /metrics: Prometheus text. Answers in every state, so the crashed state stays observable.
import { renderMetrics } from "../../../lib/metrics-cache.ts";
import type { Handler, RouteDeps } from "./route.ts";

export function metrics({ metrics }: RouteDeps): Handler {
  const { registry } = metrics;
  return async (c) => c.body(await renderMetrics(registry), 200, { "content-type": registry.contentType });
}
