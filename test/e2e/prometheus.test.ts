// The local pod scraped by a real Prometheus, with the alert rules we ship: what an SRE would see.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { eventually, freePort, ROOT, start, type Started } from "../processes.ts";
import { startPrometheus, type Prometheus } from "../prometheus.ts";
import { promtoolCheckMetrics } from "../promtool.ts";
import { spawnSync } from "node:child_process";

const RULES = join(ROOT, "k8s/overlays/prometheus/alerts.yml");
const CONFIG = join(ROOT, "prometheus/prometheus.yml");
const DASHBOARD = join(ROOT, "k8s/grafana/crashy.json");

type StaticConfig = { targets: string[]; labels?: Record<string, string> };
type ScrapeConfig = { job_name: string; static_configs: StaticConfig[] };

let prometheus: Prometheus;
let pod: Started;
let appPort: number;
/** Epoch seconds just before the pod started: the app cannot have crashed before this + CRASH_AFTER. */
let podStartedAt: number;
let sidecarPort: number;
let scrapeIntervalSeconds: number;
const startedContainers = () => (pod.output().match(/Started container crashy-app/g) ?? []).length;

beforeAll(async () => {
  appPort = await freePort();
  sidecarPort = await freePort();
  // The shipped config, pointed at this test's ports and with the rule file's absolute path.
  const config = parse(readFileSync(CONFIG, "utf8")) as {
    global: { scrape_interval: string };
    rule_files: string[];
    scrape_configs: ScrapeConfig[];
  };
  scrapeIntervalSeconds = Number(/^(\d+)s$/.exec(config.global.scrape_interval)![1]);
  const ports: Record<string, number> = { "8080": appPort, "9102": sidecarPort };
  for (const job of config.scrape_configs) {
    for (const target of job.static_configs) {
      target.targets = target.targets.map((t) => `127.0.0.1:${ports[t.split(":")[1]!]}`);
    }
  }
  config.rule_files = [RULES];
  prometheus = await startPrometheus(config);
  // Prometheus takes a few seconds to turn its config into scrape loops: start the pod once both
  // targets have been tried, so the scrapes see it from its first second.
  await eventually(async () => ((await prometheus.targets()).filter((t) => t.lastScrape > 0).length === 2 ? true : undefined), 15_000, "scrape loops");
  podStartedAt = Date.now() / 1000;
  pod = await start(
    ["node", "dist/local/src/main.js"],
    { CRASH_AFTER: "4", APP_PORT: String(appPort), SIDECAR_PORT: String(sidecarPort), SERVICE_PORT: String(await freePort()) },
    /Started container crashy-app/,
  );
}, 40_000);

afterAll(async () => {
  await pod?.stop("SIGINT");
  await prometheus?.stop();
});

const value = async (expr: string) => (await prometheus.query(expr))[0]?.value;
const firing = async (name: string) => (await prometheus.alerts()).some((a) => a.name === name && a.state === "firing");

describe("a real Prometheus scraping the local pod", () => {
  it("follows the pod through crash, kill and restarts, and fires the shipped alerts when it should", { timeout: 60_000 }, async () => {
    // Both targets up, the probe passing, no alert: before the crash at 4 s.
    await eventually(async () => ((await prometheus.query("up == 1")).length === 2 ? true : undefined), 10_000, "both targets up");
    await eventually(async () => ((await value("probe_success")) === 1 ? true : undefined), 5_000, "probe_success 1");
    expect(await prometheus.alerts()).toEqual([]);

    // The crash: probe_success drops to 0 and, at the failure threshold, the probe alert fires.
    await eventually(async () => ((await value("probe_success")) === 0 ? true : undefined), 10_000, "probe_success 0");
    await eventually(async () => ((await firing("CrashyLivenessProbeFailing")) ? true : undefined), 10_000, "CrashyLivenessProbeFailing");

    // The restart: the probe passes again.
    await eventually(async () => (((await value("crashy_target_restarts_total")) ?? 0) >= 1 ? true : undefined), 10_000, "one restart counted");
    await eventually(async () => ((await value("probe_success")) === 1 ? true : undefined), 5_000, "probe_success back to 1");

    // The second restart: now the restart alert fires.
    await eventually(async () => ((await firing("CrashyRestartingTooOften")) ? true : undefined), 15_000, "CrashyRestartingTooOften");

    // Not before they should, by Prometheus's own history (immune to how slowly this test polls):
    // the probe alert only once the sidecar's verdict turned, at least 3 failed probes (2 periods)
    // after the crash; the restart alert only once the second restart was counted.
    // A step past now, so that the last evaluation before now falls on the grid.
    const end = Date.now() / 1000 + 1;
    const first = (expr: string) => prometheus.firstTime(expr, podStartedAt, end);
    const unhealthy = (await first(`crashy_probe_healthy{probe_type="Liveness"} == 0`))!;
    expect(unhealthy).toBeGreaterThanOrEqual(podStartedAt + 4 + 2 - 0.5);
    expect(await first('ALERTS{alertname="CrashyLivenessProbeFailing",alertstate="firing"}')).toBeGreaterThanOrEqual(unhealthy);
    const twoRestarts = (await first("crashy_target_restarts_total >= 2"))!;
    expect(twoRestarts).toBeGreaterThan(unhealthy);
    expect(await first('ALERTS{alertname="CrashyRestartingTooOften",alertstate="firing"}')).toBeGreaterThanOrEqual(twoRestarts);

    // increase() of the counter matches the restarts the pod really made (give the last scrape a moment).
    await eventually(async () => {
      const restarts = startedContainers() - 1;
      const counted = await value("crashy_target_restarts_total");
      return counted === restarts ? true : undefined;
    }, 5_000, "the sidecar's count to match the pod's");
    const restarts = startedContainers() - 1;
    const increase = (await value("increase(crashy_target_restarts_total[5m])"))!;
    expect(restarts).toBeGreaterThanOrEqual(2);
    expect(Math.round(increase)).toBe(restarts);
    expect(Math.abs(increase - restarts)).toBeLessThan(0.3);
  });

  it("answers every query of the Grafana dashboard with data, as Grafana would send it", { timeout: 30_000 }, async () => {
    // After a crash and a restart (at once when the test above ran), so that every panel has a story.
    await eventually(async () => (((await value("crashy_target_restarts_total")) ?? 0) >= 1 ? true : undefined), 20_000, "a restart");
    type Variable = { name: string; type: string; query: string; multi: boolean };
    type Panel = { title: string; targets: { expr: string }[] };
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { templating: { list: Variable[] }; panels: Panel[] };
    // Grafana's $__rate_interval is at least four scrape intervals.
    const values: Record<string, string> = { __rate_interval: `${4 * scrapeIntervalSeconds}s` };
    const escape = (v: string) => v.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
    const interpolate = (expr: string) =>
      expr.replace(/\$(\w+)/g, (whole, name: string) => {
        if (!(name in values)) throw new Error(`${expr}: no value for the variable ${whole}`);
        return values[name]!;
      });
    // The variables, in order, as Grafana resolves them: label_values(selector, label) lists the
    // label's values among the selector's series; the dashboard then shows all of them.
    const found: Record<string, string[]> = {};
    for (const variable of dashboard.templating.list.filter((v) => v.type === "query")) {
      const [, selector, label] = /^label_values\((.+), (\w+)\)$/.exec(variable.query)!;
      const series = await prometheus.query(interpolate(selector!));
      found[variable.name] = [...new Set(series.map((s) => s.metric[label!]).filter((v) => v !== undefined))].sort();
      expect(found[variable.name], variable.query).not.toEqual([]);
      const escaped = found[variable.name]!.map(escape);
      values[variable.name] = escaped.length === 1 ? escaped[0]! : `(${escaped.join("|")})`;
    }
    // The local pod's labels, as prometheus/prometheus.yml gives them.
    expect(found).toEqual({ namespace: ["default"], pod: ["crashy-app-local"] });

    const empty: string[] = [];
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const expr = interpolate(target.expr);
        if ((await prometheus.query(expr)).length === 0) empty.push(`${panel.title}: ${expr}`);
      }
    }
    expect(empty).toEqual([]);
    expect(dashboard.panels.flatMap((p) => p.targets).length).toBeGreaterThanOrEqual(10);
  });

  it("serves metrics that promtool accepts, from both containers", async () => {
    for (const port of [appPort, sidecarPort]) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(promtoolCheckMetrics(text)).toEqual({ ok: true, output: "" });
    }
  });
});

describe("what we ship for Prometheus", () => {
  it("passes promtool check rules and check config", () => {
    const rules = spawnSync("promtool", ["check", "rules", RULES], { encoding: "utf8" });
    expect(rules.stdout).toContain("SUCCESS: 3 rules found");
    expect(rules.status).toBe(0);
    const config = spawnSync("promtool", ["check", "config", CONFIG], { encoding: "utf8" });
    expect(config.status).toBe(0);
  });
});
