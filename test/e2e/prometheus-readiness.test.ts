// The readiness alert in a real Prometheus, over the readiness lesson run locally: one of the two
// pods switched unready fires CrashyPodNotReady for that pod alone, after its `for`, and nothing else.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parse } from "yaml";
import { freePorts, RUNNER } from "../pods.ts";
import { eventually, freePort, ROOT, start, type Started } from "../processes.ts";
import { startPrometheus, type Prometheus } from "../prometheus.ts";

const RULES = join(ROOT, "k8s/overlays/prometheus/alerts.yml");
type ScrapeConfig = { job_name: string; static_configs: { targets: string[]; labels: Record<string, string> }[] };

let prometheus: Prometheus;
let pod: Started;
let appPort: number;
let names: string[];

beforeAll(async () => {
  appPort = await freePorts(2);
  const sidecarPort = await freePorts(2);
  pod = await start(
    [...RUNNER, "k8s/overlays/readiness"],
    { APP_PORT: String(appPort), SIDECAR_PORT: String(sidecarPort), SERVICE_PORT: String(await freePort()), NO_COLOR: "1" },
    /service crashy-app: http/,
  );
  names = [...pod.output().matchAll(/pod (\S+) from /g)].map((m) => m[1]!);
  // The shipped config's sidecar job, once per pod, each with its pod's name and port.
  const config = parse(readFileSync(join(ROOT, "prometheus/prometheus.yml"), "utf8")) as { rule_files: string[]; scrape_configs: ScrapeConfig[] };
  const sidecar = config.scrape_configs.find((j) => j.job_name === "crashy-sidecar")!;
  sidecar.static_configs = names.map((name, i) => ({ targets: [`127.0.0.1:${sidecarPort + i}`], labels: { ...sidecar.static_configs[0]!.labels, pod: name } }));
  config.scrape_configs = [sidecar];
  config.rule_files = [RULES];
  prometheus = await startPrometheus(config);
}, 40_000);

afterAll(async () => {
  await pod?.stop("SIGINT");
  await prometheus?.stop();
});

it("CrashyPodNotReady fires for the pod switched unready, after 15 s, and for no other", { timeout: 60_000 }, async () => {
  await eventually(async () => ((await prometheus.query("crashy_pod_ready == 1")).length === 2 ? true : undefined), 15_000, "both pods Ready");
  expect((await fetch(`http://127.0.0.1:${appPort}/control/unready`, { method: "POST" })).status).toBe(200);
  const unready = await eventually(async () => (await prometheus.query("crashy_pod_ready == 0"))[0], 10_000, "the pod's Ready condition False");
  expect(unready.metric.pod).toBe(names[0]);
  const since = Date.now();
  const alert = await eventually(async () => (await prometheus.alerts()).find((a) => a.name === "CrashyPodNotReady" && a.state === "firing"), 30_000, "CrashyPodNotReady");
  expect(Date.now() - since).toBeGreaterThanOrEqual(13_000);
  expect(alert.labels.pod).toBe(names[0]);
  expect((await prometheus.alerts()).filter((a) => a.state === "firing").map((a) => `${a.name} ${a.labels.pod}`)).toEqual([`CrashyPodNotReady ${names[0]}`]);
});
