// GET /metrics: Prometheus text. Answers in every state, so the crashed state stays observable.
// Scrapes share renderings (lib/metrics-cache.ts, sharedRender): a burst of them right after a
// start would otherwise render once each, enough CPU and garbage to make probes time out.
import { renderMetrics, sharedRender } from "../../../lib/metrics-cache.ts";
import type { Handler, RouteDeps } from "./route.ts";

/** `maxAgeMs`: how old a rendering may be when served again; 0 shares only renderings in progress. */
export function metrics({ metrics }: RouteDeps, maxAgeMs = 0): Handler {
  const { registry } = metrics;
  const render = sharedRender(() => renderMetrics(registry), { maxAgeMs });
  return async (c) => c.body(await render(), 200, { "content-type": registry.contentType });
}
