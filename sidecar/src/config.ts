// The sidecar's configuration, read from the environment. The schema is the single source of the
// Config type, its defaults (the kubelet's, where the kubelet has one) and its error messages.
import { z } from "zod";
import { envChoice, envHttpUrl, envHost, envNumber, envPort, envText, envVar, parseEnv, type Env } from "../../lib/env.ts";
import { envLogFormat } from "../../lib/log.ts";
import { httpGetActionFromUrl } from "../../probe/src/http.ts";
import { PROBE_TYPES, type ProbeAction } from "../../probe/src/types.ts";

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

export const configSchema = z
  .object({
    // Which of the container's probes this is: it sets the kubelet's initial result, what a failure
    // leads to (a restart, or leaving the Service), and the words of events, metrics and the page.
    PROBE_TYPE: envChoice(PROBE_TYPES, "Liveness"),
    PROBE_URL: envVar(probeTarget("http://127.0.0.1:8080/health")!, PROBE_TARGET, probeTarget),
    PROBE_PERIOD_SECONDS: seconds(10),
    PROBE_TIMEOUT_SECONDS: seconds(1),
    PROBE_FAILURE_THRESHOLD: threshold(3),
    PROBE_SUCCESS_THRESHOLD: threshold(1),
    PROBE_INITIAL_DELAY_SECONDS: envNumber({
      default: 0,
      min: 0,
      expected: "a number of seconds >= 0, such as 0 or 5",
    }),
    METRICS_URL: envHttpUrl("http://127.0.0.1:8080/metrics", { allowEmpty: true }),
    // Unset means "the probe period"; resolved in the transform below.
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
  // validateLivenessProbe / validateStartupProbe (pkg/apis/core/validation): "must be 1".
  .superRefine((env, ctx) => {
    if (env.PROBE_TYPE !== "Readiness" && env.PROBE_SUCCESS_THRESHOLD !== 1) {
      ctx.addIssue({ code: "custom", path: ["PROBE_SUCCESS_THRESHOLD"], message: `expected 1 for a ${env.PROBE_TYPE} probe (Kubernetes requires it)` });
    }
  })
  .transform((env) => ({
    probe: {
      type: env.PROBE_TYPE,
      url: env.PROBE_URL.url,
      action: env.PROBE_URL.action,
      periodSeconds: env.PROBE_PERIOD_SECONDS,
      timeoutSeconds: env.PROBE_TIMEOUT_SECONDS,
      failureThreshold: env.PROBE_FAILURE_THRESHOLD,
      successThreshold: env.PROBE_SUCCESS_THRESHOLD,
      initialDelaySeconds: env.PROBE_INITIAL_DELAY_SECONDS,
    },
    scrape: {
      /** "" when scraping is switched off. */
      url: env.METRICS_URL,
      intervalSeconds: env.SCRAPE_INTERVAL_SECONDS || env.PROBE_PERIOD_SECONDS,
    },
    containerName: env.TARGET_CONTAINER,
    port: env.PORT,
    host: env.HOST,
    logFormat: env.LOG_FORMAT,
  }));

export type SidecarConfig = z.output<typeof configSchema>;

/** Reads the sidecar's configuration; throws a ConfigError naming each bad variable. */
export function loadConfig(env: Env): SidecarConfig {
  return parseEnv(configSchema, env);
}
