// The sidecar's configuration, read from the environment. The schema is the single source of the
// Config type, its defaults (the kubelet's, where the kubelet has one) and its error messages.
//
// One set of variables per probe of the app container, named after the manifest's fields, so the
// sidecar's env reads like the probes it mirrors: LIVENESS_PROBE_URL, LIVENESS_PROBE_PERIOD_SECONDS,
// ..., the same with READINESS_ and STARTUP_. A probe is on when its URL is set.
import { z } from "zod";
import { ConfigError, envHttpUrl, envHost, envNumber, envPort, envText, envVar, parseEnv, type Env } from "../../lib/env.ts";
import { envLogFormat } from "../../lib/log.ts";
import { httpGetActionFromUrl } from "../../probe/src/http.ts";
import type { ProbeAction, ProbeType } from "../../probe/src/types.ts";

/** The probes in the order a container meets them: startup first, then liveness and readiness. */
export const PROBE_ORDER = ["Startup", "Liveness", "Readiness"] as const satisfies readonly ProbeType[];

/** Each probe type's variable prefix: LIVENESS_PROBE_URL, READINESS_PROBE_URL, STARTUP_PROBE_URL. */
export const PROBE_PREFIX = { Liveness: "LIVENESS", Readiness: "READINESS", Startup: "STARTUP" } as const satisfies Record<ProbeType, string>;
type Prefix = (typeof PROBE_PREFIX)[ProbeType];

/** The name of one probe variable, such as probeVariable("Readiness", "URL") = "READINESS_PROBE_URL". */
export const probeVariable = (type: ProbeType, setting: Setting) => `${PROBE_PREFIX[type]}_PROBE_${setting}` as const;

/**
 * What to probe, as a URL: http:// or https:// is an httpGet probe (scheme HTTP or HTTPS), tcp://
 * a tcpSocket probe, which only opens a connection.
 */
const PROBE_TARGET = "an http://, https:// or tcp:// URL, such as http://127.0.0.1:8080/health or tcp://127.0.0.1:8080";
function probeTarget(text: string): { url: string; action: ProbeAction } | undefined {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || url.hostname === "") return undefined;
  if (url.protocol === "http:" || url.protocol === "https:") return { url: url.href, action: httpGetActionFromUrl(url) };
  // A TCP probe needs a port and has no path to speak of.
  if (url.protocol !== "tcp:" || url.port === "" || !["", "/"].includes(url.pathname) || url.search !== "") return undefined;
  return { url: `tcp://${url.host}`, action: { kind: "tcpSocket", host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) } };
}

// The kubelet takes whole seconds; fractions are accepted here so demos and tests can go faster.
const seconds = (fallback: number) =>
  envNumber({ default: fallback, above: 0, expected: "a number of seconds > 0, such as 10 or 0.5" });
const threshold = (fallback: number) =>
  envNumber({ default: fallback, integer: true, min: 1, expected: "a whole number >= 1, such as 3" });

// One probe's variables, after its prefix; the defaults are the API server's (SetDefaults_Probe).
const PROBE_SETTINGS = {
  // Unset or empty: this probe is off (null), as the container has no such probe.
  URL: envVar<{ url: string; action: ProbeAction } | null>(null, PROBE_TARGET, (text) => (text === "" ? null : probeTarget(text))),
  PERIOD_SECONDS: seconds(10),
  TIMEOUT_SECONDS: seconds(1),
  FAILURE_THRESHOLD: threshold(3),
  SUCCESS_THRESHOLD: threshold(1),
  INITIAL_DELAY_SECONDS: envNumber({ default: 0, min: 0, expected: "a number of seconds >= 0, such as 0 or 5" }),
};
type Setting = keyof typeof PROBE_SETTINGS;
type ProbeVariables<P extends Prefix> = { [S in Setting as `${P}_PROBE_${S}`]: (typeof PROBE_SETTINGS)[S] };
type ProbeValues = { [S in Setting]: z.output<(typeof PROBE_SETTINGS)[S]> };

function probeVariables<P extends Prefix>(prefix: P): ProbeVariables<P> {
  return Object.fromEntries(Object.entries(PROBE_SETTINGS).map(([setting, schema]) => [`${prefix}_PROBE_${setting}`, schema])) as ProbeVariables<P>;
}

function probeValues(env: Record<string, unknown>, type: ProbeType): ProbeValues {
  return Object.fromEntries(Object.keys(PROBE_SETTINGS).map((setting) => [setting, env[probeVariable(type, setting as Setting)]])) as ProbeValues;
}

export const configSchema = z
  .object({
    ...probeVariables("LIVENESS"),
    ...probeVariables("READINESS"),
    ...probeVariables("STARTUP"),
    METRICS_URL: envHttpUrl("http://127.0.0.1:8080/metrics", { allowEmpty: true }),
    // Unset means "the shortest probe period"; resolved in the transform below.
    SCRAPE_INTERVAL_SECONDS: envNumber({
      default: 0,
      above: 0,
      expected: "a number of seconds > 0, such as 10 or 0.5",
    }),
    // Only for the wording of events, as the kubelet names the container in them.
    TARGET_CONTAINER: envText("crashy-app", "a container name, such as crashy-app"),
    PORT: envPort(9102),
    // 0.0.0.0 so Prometheus reaches it on the pod IP; `kubectl port-forward` would do with loopback.
    HOST: envHost("0.0.0.0"),
    LOG_FORMAT: envLogFormat(),
  })
  // The cross-rules run even when another variable is bad, so every problem shows at once: a value
  // that failed its own check is neither null nor a number here, and is left to that check.
  .superRefine(
    (env, ctx) => {
      if (PROBE_ORDER.every((type) => probeValues(env, type).URL === null)) {
        ctx.addIssue({
          code: "custom",
          path: ["LIVENESS_PROBE_URL"],
          message: "expected a probe to run: set LIVENESS_PROBE_URL, READINESS_PROBE_URL or STARTUP_PROBE_URL, such as LIVENESS_PROBE_URL=http://127.0.0.1:8080/health",
        });
      }
      for (const type of PROBE_ORDER) {
        const probe = probeValues(env, type);
        // validateLivenessProbe / validateStartupProbe (pkg/apis/core/validation): "must be 1".
        if (type !== "Readiness" && probe.URL !== null && typeof probe.SUCCESS_THRESHOLD === "number" && probe.SUCCESS_THRESHOLD !== 1) {
          ctx.addIssue({ code: "custom", path: [probeVariable(type, "SUCCESS_THRESHOLD")], message: `expected 1 for a ${type} probe (Kubernetes requires it)` });
        }
      }
    },
    { when: () => true },
  )
  .transform((env) => {
    const probes = PROBE_ORDER.flatMap((type) => {
      const p = probeValues(env, type);
      if (p.URL === null) return [];
      return [{
        type,
        url: p.URL.url,
        action: p.URL.action,
        periodSeconds: p.PERIOD_SECONDS,
        timeoutSeconds: p.TIMEOUT_SECONDS,
        failureThreshold: p.FAILURE_THRESHOLD,
        successThreshold: p.SUCCESS_THRESHOLD,
        initialDelaySeconds: p.INITIAL_DELAY_SECONDS,
      }];
    });
    return {
      /** The probes the app container has, in PROBE_ORDER; at least one. */
      probes,
      scrape: {
        /** "" when scraping is switched off. */
        url: env.METRICS_URL,
        intervalSeconds: env.SCRAPE_INTERVAL_SECONDS || Math.min(...probes.map((p) => p.periodSeconds)),
      },
      containerName: env.TARGET_CONTAINER,
      port: env.PORT,
      host: env.HOST,
      logFormat: env.LOG_FORMAT,
    };
  });

export type SidecarConfig = z.output<typeof configSchema>;
/** One probe of the app container, as the sidecar runs it. */
export type ProbeConfig = SidecarConfig["probes"][number];

/**
 * Reads the sidecar's configuration; throws a ConfigError naming each bad variable. A setting of a
 * probe whose URL is not set is refused too: it would be silently ignored, and is most likely a
 * forgotten URL.
 */
export function loadConfig(env: Env): SidecarConfig {
  const orphans = PROBE_ORDER.flatMap((type) => {
    const url = env[probeVariable(type, "URL")];
    if (url !== undefined && url.trim() !== "") return [];
    return Object.keys(PROBE_SETTINGS)
      .filter((setting) => setting !== "URL" && env[probeVariable(type, setting as Setting)] !== undefined)
      .map((setting) => {
        const name = probeVariable(type, setting as Setting);
        return `${name}=${JSON.stringify(env[name])} is invalid: expected ${probeVariable(type, "URL")} to be set as well: without it there is no ${type.toLowerCase()} probe`;
      });
  });
  let config: SidecarConfig | undefined;
  let problems: readonly string[] = [];
  try {
    config = parseEnv(configSchema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = error.problems;
  }
  // One line a variable: a value that is bad in itself says so, not that its URL is missing.
  const named = new Set(problems.map((line) => line.slice(0, line.indexOf("="))));
  const unnamed = orphans.filter((line) => !named.has(line.slice(0, line.indexOf("="))));
  if (!config || unnamed.length > 0) throw new ConfigError([...problems, ...unnamed]);
  return config;
}
