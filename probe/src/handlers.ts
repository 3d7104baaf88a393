// One map from a probe's action to the prober that runs it, as blackbox_exporter maps a module's
// prober name to its function: a new kind of probe is one file and one line here. No retries:
// prober.go's runProbeWithRetries sits on top of the ProbeFn made here.
import { createHttpGetProber } from "./http.ts";
import { createTcpSocketProber } from "./tcp.ts";
import type { ProbeAction, ProbeFn } from "./types.ts";

/** Each kind of action (core/v1 Probe's handler field), with the factory of its prober. */
export const PROBERS: {
  [K in ProbeAction["kind"]]: (action: Extract<ProbeAction, { kind: K }>, timeoutSeconds: number) => ProbeFn;
} = {
  httpGet: createHttpGetProber,
  tcpSocket: createTcpSocketProber,
};

/** The probe for `action`, bound to its timeout: what the worker calls every period. */
export function createProber(action: ProbeAction, timeoutSeconds: number): ProbeFn {
  // TypeScript cannot tie PROBERS[action.kind] to action's own kind; the mapped type above does.
  const factory = PROBERS[action.kind] as (action: ProbeAction, timeoutSeconds: number) => ProbeFn;
  return factory(action, timeoutSeconds);
}
