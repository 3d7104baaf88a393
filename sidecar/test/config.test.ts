import { describe, expect, it } from "vitest";
import { problemsOf } from "../../test/config.ts";
import { loadConfig } from "../src/config.ts";

const problems = (env: Record<string, string>) => problemsOf(loadConfig, env);

const TARGET = "an http://, https:// or tcp:// URL, such as http://127.0.0.1:8080/health or tcp://127.0.0.1:8080";

describe("sidecar configuration", () => {
  it("has the kubelet's defaults and the app's URLs in the same pod when nothing is set", () => {
    expect(loadConfig({})).toEqual({
      probe: {
        type: "Liveness",
        url: "http://127.0.0.1:8080/health",
        action: { kind: "httpGet", scheme: "HTTP", host: "127.0.0.1", port: 8080, path: "/health", httpHeaders: [] },
        periodSeconds: 10,
        timeoutSeconds: 1,
        failureThreshold: 3,
        successThreshold: 1,
        initialDelaySeconds: 0,
      },
      scrape: { url: "http://127.0.0.1:8080/metrics", intervalSeconds: 10 },
      containerName: "crashy-app",
      port: 9102,
      host: "0.0.0.0",
      logFormat: "text",
    });
  });

  it("takes LOG_FORMAT=json", () => {
    expect(loadConfig({ LOG_FORMAT: "json" }).logFormat).toBe("json");
  });

  it("scrapes at the probe period unless told otherwise", () => {
    expect(loadConfig({ PROBE_PERIOD_SECONDS: "1" }).scrape.intervalSeconds).toBe(1);
    expect(loadConfig({ PROBE_PERIOD_SECONDS: "1", SCRAPE_INTERVAL_SECONDS: "5" }).scrape.intervalSeconds).toBe(5);
  });

  it("takes an empty METRICS_URL as scraping switched off", () => {
    expect(loadConfig({ METRICS_URL: "" }).scrape.url).toBe("");
  });

  it("takes tcp:// probe URLs as a tcpSocket probe", () => {
    expect(loadConfig({ PROBE_URL: "tcp://127.0.0.1:8080" }).probe).toMatchObject({
      url: "tcp://127.0.0.1:8080",
      action: { kind: "tcpSocket", host: "127.0.0.1", port: 8080 },
    });
    expect(loadConfig({ PROBE_URL: "tcp://[::1]:8080/" }).probe.action).toEqual({ kind: "tcpSocket", host: "::1", port: 8080 });
  });

  it("takes https probe URLs, as the kubelet's scheme: HTTPS", () => {
    expect(loadConfig({ PROBE_URL: "https://10.0.0.7:8443/healthz" }).probe.url).toBe("https://10.0.0.7:8443/healthz");
  });

  it.each([
    ["PROBE_PERIOD_SECONDS", "0", "expected a number of seconds > 0, such as 10 or 0.5"],
    ["PROBE_PERIOD_SECONDS", "-1", "expected a number of seconds > 0, such as 10 or 0.5"],
    ["PROBE_TIMEOUT_SECONDS", "soon", "expected a number of seconds > 0, such as 10 or 0.5"],
    ["PROBE_FAILURE_THRESHOLD", "0", "expected a whole number >= 1, such as 3"],
    ["PROBE_FAILURE_THRESHOLD", "2.5", "expected a whole number >= 1, such as 3"],
    ["PROBE_SUCCESS_THRESHOLD", "", "expected a whole number >= 1, such as 3"],
    ["PROBE_INITIAL_DELAY_SECONDS", "-3", "expected a number of seconds >= 0, such as 0 or 5"],
    ["SCRAPE_INTERVAL_SECONDS", "0", "expected a number of seconds > 0, such as 10 or 0.5"],
    ["PROBE_URL", "ftp://127.0.0.1/health", `expected ${TARGET}`],
    ["PROBE_URL", "127.0.0.1:8080/health", `expected ${TARGET}`],
    ["PROBE_URL", "", `expected ${TARGET}`],
    ["PROBE_URL", "tcp://127.0.0.1", `expected ${TARGET}`],
    ["PROBE_URL", "tcp://127.0.0.1:8080/health", `expected ${TARGET}`],
    ["METRICS_URL", "file:///etc/passwd", "expected an http:// or https:// URL, such as http://127.0.0.1:8080/health, or empty to disable"],
    ["PORT", "99999", "expected a port number from 1 to 65535"],
    ["PROBE_TYPE", "liveness", 'expected one of "Liveness", "Readiness", "Startup"'],
    // validateLivenessProbe (pkg/apis/core/validation): successThreshold "must be 1".
    ["PROBE_SUCCESS_THRESHOLD", "2", "expected 1 for a Liveness probe (Kubernetes requires it)"],
    ["LOG_FORMAT", "xml", 'expected one of "text", "json"'],
  ])("rejects %s=%j, naming it", (name, value, expected) => {
    expect(problems({ [name]: value })).toEqual([`${name}=${JSON.stringify(value)} is invalid: ${expected}`]);
  });

  it("takes a success threshold above 1 for a readiness probe only", () => {
    expect(loadConfig({ PROBE_TYPE: "Readiness", PROBE_SUCCESS_THRESHOLD: "2" }).probe).toMatchObject({ type: "Readiness", successThreshold: 2 });
    expect(problems({ PROBE_TYPE: "Startup", PROBE_SUCCESS_THRESHOLD: "3" })).toEqual([
      'PROBE_SUCCESS_THRESHOLD="3" is invalid: expected 1 for a Startup probe (Kubernetes requires it)',
    ]);
  });

  it("reports every bad variable at once, one line each", () => {
    expect(problems({ PROBE_PERIOD_SECONDS: "0", PROBE_URL: "nope", PORT: "x" })).toHaveLength(3);
  });
});
