import { describe, expect, it } from "vitest";
import { problemsOf } from "../../test/config.ts";
import { loadConfig, PROBE_ORDER, probeVariable } from "../src/config.ts";

const problems = (env: Record<string, string>) => problemsOf(loadConfig, env);

const TARGET = "an http://, https:// or tcp:// URL, such as http://127.0.0.1:8080/health or tcp://127.0.0.1:8080";
const LIVENESS = { LIVENESS_PROBE_URL: "http://127.0.0.1:8080/health" };
const NO_PROBE = 'LIVENESS_PROBE_URL="" is invalid: expected a probe to run: set LIVENESS_PROBE_URL, READINESS_PROBE_URL or STARTUP_PROBE_URL, such as LIVENESS_PROBE_URL=http://127.0.0.1:8080/health';

describe("sidecar configuration", () => {
  it("has the kubelet's defaults for a probe given only its URL, and the app's metrics in the same pod", () => {
    expect(loadConfig(LIVENESS)).toEqual({
      probes: [
        {
          type: "Liveness",
          url: "http://127.0.0.1:8080/health",
          action: { kind: "httpGet", scheme: "HTTP", host: "127.0.0.1", port: 8080, path: "/health", httpHeaders: [] },
          periodSeconds: 10,
          timeoutSeconds: 1,
          failureThreshold: 3,
          successThreshold: 1,
          initialDelaySeconds: 0,
        },
      ],
      scrape: { url: "http://127.0.0.1:8080/metrics", intervalSeconds: 10 },
      containerName: "crashy-app",
      port: 9102,
      host: "0.0.0.0",
      logFormat: "text",
    });
  });

  it("needs at least one probe: with no URL set, or all empty, one line says which variables to set", () => {
    expect(problems({})).toEqual([NO_PROBE]);
    expect(problems({ LIVENESS_PROBE_URL: "", READINESS_PROBE_URL: " ", STARTUP_PROBE_URL: "" })).toEqual([NO_PROBE]);
  });

  it("runs each probe whose URL is set, startup first, then liveness, then readiness, each with its own settings", () => {
    const config = loadConfig({
      READINESS_PROBE_URL: "http://127.0.0.1:8080/ready",
      READINESS_PROBE_PERIOD_SECONDS: "2",
      READINESS_PROBE_SUCCESS_THRESHOLD: "2",
      READINESS_PROBE_FAILURE_THRESHOLD: "1",
      STARTUP_PROBE_URL: "tcp://127.0.0.1:8080",
      STARTUP_PROBE_FAILURE_THRESHOLD: "30",
      STARTUP_PROBE_INITIAL_DELAY_SECONDS: "1.5",
      LIVENESS_PROBE_URL: "http://127.0.0.1:8080/health",
      LIVENESS_PROBE_TIMEOUT_SECONDS: "0.5",
    });
    expect(config.probes.map((p) => p.type)).toEqual(["Startup", "Liveness", "Readiness"]);
    expect(config.probes).toMatchObject([
      { type: "Startup", url: "tcp://127.0.0.1:8080", action: { kind: "tcpSocket" }, periodSeconds: 10, failureThreshold: 30, initialDelaySeconds: 1.5 },
      { type: "Liveness", url: "http://127.0.0.1:8080/health", periodSeconds: 10, timeoutSeconds: 0.5, failureThreshold: 3, successThreshold: 1 },
      { type: "Readiness", url: "http://127.0.0.1:8080/ready", periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 1, successThreshold: 2 },
    ]);
    // Scraped as often as the most frequent probe.
    expect(config.scrape.intervalSeconds).toBe(2);
  });

  it("takes an empty URL as that probe switched off", () => {
    expect(loadConfig({ ...LIVENESS, READINESS_PROBE_URL: "" }).probes.map((p) => p.type)).toEqual(["Liveness"]);
  });

  it("names every variable after its probe type", () => {
    expect(PROBE_ORDER.map((type) => probeVariable(type, "URL"))).toEqual(["STARTUP_PROBE_URL", "LIVENESS_PROBE_URL", "READINESS_PROBE_URL"]);
    expect(probeVariable("Readiness", "INITIAL_DELAY_SECONDS")).toBe("READINESS_PROBE_INITIAL_DELAY_SECONDS");
  });

  it("takes LOG_FORMAT=json", () => {
    expect(loadConfig({ ...LIVENESS, LOG_FORMAT: "json" }).logFormat).toBe("json");
  });

  it("scrapes at the shortest probe period unless told otherwise", () => {
    expect(loadConfig({ ...LIVENESS, LIVENESS_PROBE_PERIOD_SECONDS: "1" }).scrape.intervalSeconds).toBe(1);
    expect(loadConfig({ ...LIVENESS, LIVENESS_PROBE_PERIOD_SECONDS: "1", SCRAPE_INTERVAL_SECONDS: "5" }).scrape.intervalSeconds).toBe(5);
  });

  it("takes an empty METRICS_URL as scraping switched off", () => {
    expect(loadConfig({ ...LIVENESS, METRICS_URL: "" }).scrape.url).toBe("");
  });

  it("takes tcp:// probe URLs as a tcpSocket probe", () => {
    expect(loadConfig({ LIVENESS_PROBE_URL: "tcp://127.0.0.1:8080" }).probes[0]).toMatchObject({
      url: "tcp://127.0.0.1:8080",
      action: { kind: "tcpSocket", host: "127.0.0.1", port: 8080 },
    });
    expect(loadConfig({ READINESS_PROBE_URL: "tcp://[::1]:8080/" }).probes[0]?.action).toEqual({ kind: "tcpSocket", host: "::1", port: 8080 });
  });

  it("takes https probe URLs, as the kubelet's scheme: HTTPS", () => {
    expect(loadConfig({ STARTUP_PROBE_URL: "https://10.0.0.7:8443/healthz" }).probes[0]?.url).toBe("https://10.0.0.7:8443/healthz");
  });

  // Each probe's variables, checked alike for every type.
  const perProbe = PROBE_ORDER.flatMap((type) => {
    const v = (setting: Parameters<typeof probeVariable>[1]) => probeVariable(type, setting);
    const on = { [v("URL")]: "http://127.0.0.1:8080/x" };
    return [
      [v("PERIOD_SECONDS"), "0", "expected a number of seconds > 0, such as 10 or 0.5", on],
      [v("PERIOD_SECONDS"), "-1", "expected a number of seconds > 0, such as 10 or 0.5", on],
      [v("TIMEOUT_SECONDS"), "soon", "expected a number of seconds > 0, such as 10 or 0.5", on],
      [v("FAILURE_THRESHOLD"), "0", "expected a whole number >= 1, such as 3", on],
      [v("FAILURE_THRESHOLD"), "2.5", "expected a whole number >= 1, such as 3", on],
      [v("SUCCESS_THRESHOLD"), "", "expected a whole number >= 1, such as 3", on],
      [v("INITIAL_DELAY_SECONDS"), "-3", "expected a number of seconds >= 0, such as 0 or 5", on],
      [v("URL"), "ftp://127.0.0.1/health", `expected ${TARGET}`, {}],
      [v("URL"), "127.0.0.1:8080/health", `expected ${TARGET}`, {}],
      [v("URL"), "tcp://127.0.0.1", `expected ${TARGET}`, {}],
      [v("URL"), "tcp://127.0.0.1:8080/health", `expected ${TARGET}`, {}],
    ] as const;
  });

  it.each(perProbe)("rejects %s=%j, naming it", (name, value, expected, others) => {
    // A probe URL that is bad in itself is no "no probe at all": the other probe keeps the config whole.
    const rest = name.startsWith("LIVENESS") ? { STARTUP_PROBE_URL: "http://127.0.0.1:8080/s" } : LIVENESS;
    expect(problems({ ...rest, ...others, [name]: value })).toEqual([`${name}=${JSON.stringify(value)} is invalid: ${expected}`]);
  });

  it.each([
    ["SCRAPE_INTERVAL_SECONDS", "0", "expected a number of seconds > 0, such as 10 or 0.5"],
    ["METRICS_URL", "file:///etc/passwd", "expected an http:// or https:// URL, such as http://127.0.0.1:8080/health, or empty to disable"],
    ["PORT", "99999", "expected a port number from 1 to 65535"],
    ["LOG_FORMAT", "xml", 'expected one of "text", "json"'],
  ])("rejects %s=%j, naming it", (name, value, expected) => {
    expect(problems({ ...LIVENESS, [name]: value })).toEqual([`${name}=${JSON.stringify(value)} is invalid: ${expected}`]);
  });

  it("takes a success threshold above 1 for a readiness probe only, as Kubernetes does", () => {
    expect(loadConfig({ READINESS_PROBE_URL: "http://127.0.0.1:8080/ready", READINESS_PROBE_SUCCESS_THRESHOLD: "2" }).probes[0]).toMatchObject({ type: "Readiness", successThreshold: 2 });
    // validateLivenessProbe / validateStartupProbe (pkg/apis/core/validation): successThreshold "must be 1".
    expect(problems({ ...LIVENESS, LIVENESS_PROBE_SUCCESS_THRESHOLD: "2" })).toEqual([
      'LIVENESS_PROBE_SUCCESS_THRESHOLD="2" is invalid: expected 1 for a Liveness probe (Kubernetes requires it)',
    ]);
    expect(problems({ STARTUP_PROBE_URL: "http://127.0.0.1:8080/health", STARTUP_PROBE_SUCCESS_THRESHOLD: "3" })).toEqual([
      'STARTUP_PROBE_SUCCESS_THRESHOLD="3" is invalid: expected 1 for a Startup probe (Kubernetes requires it)',
    ]);
  });

  it("refuses a probe's setting without that probe's URL: it would be ignored", () => {
    expect(problems({ ...LIVENESS, READINESS_PROBE_PERIOD_SECONDS: "5", STARTUP_PROBE_FAILURE_THRESHOLD: "30" })).toEqual([
      'STARTUP_PROBE_FAILURE_THRESHOLD="30" is invalid: expected STARTUP_PROBE_URL to be set as well: without it there is no startup probe',
      'READINESS_PROBE_PERIOD_SECONDS="5" is invalid: expected READINESS_PROBE_URL to be set as well: without it there is no readiness probe',
    ]);
    // A value bad in itself says so once, in its own words.
    expect(problems({ ...LIVENESS, READINESS_PROBE_PERIOD_SECONDS: "0" })).toEqual([
      'READINESS_PROBE_PERIOD_SECONDS="0" is invalid: expected a number of seconds > 0, such as 10 or 0.5',
    ]);
  });

  it("reports every bad variable at once, one line each, the cross-rules too", () => {
    expect(problems({ LIVENESS_PROBE_URL: "http://127.0.0.1:8080/health", LIVENESS_PROBE_PERIOD_SECONDS: "0", LIVENESS_PROBE_SUCCESS_THRESHOLD: "2", PORT: "x" })).toEqual([
      'LIVENESS_PROBE_PERIOD_SECONDS="0" is invalid: expected a number of seconds > 0, such as 10 or 0.5',
      'PORT="x" is invalid: expected a port number from 1 to 65535',
      'LIVENESS_PROBE_SUCCESS_THRESHOLD="2" is invalid: expected 1 for a Liveness probe (Kubernetes requires it)',
    ]);
    expect(problems({ PORT: "x", READINESS_PROBE_TIMEOUT_SECONDS: "2" })).toEqual([
      'PORT="x" is invalid: expected a port number from 1 to 65535',
      NO_PROBE,
      'READINESS_PROBE_TIMEOUT_SECONDS="2" is invalid: expected READINESS_PROBE_URL to be set as well: without it there is no readiness probe',
    ]);
  });

  it("ignores the old single-probe names, which were never released", () => {
    expect(problems({ PROBE_URL: "http://127.0.0.1:8080/health", PROBE_TYPE: "Liveness" })).toEqual([NO_PROBE]);
  });
});
