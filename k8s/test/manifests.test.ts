// The rendered manifests, checked for what makes the lab work rather than against a snapshot.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { parse as parseYamlDoc } from "yaml";
import { find, id, parseYaml, render, ROOT, schemaProblems, type Obj } from "./kube.ts";

// The lab, its extras and its lessons: every one is rendered, schema-checked and held to the rules below.
const LESSONS = ["k8s/overlays/tcp-probe", "k8s/overlays/readiness", "k8s/overlays/slow-start", "k8s/overlays/startup"] as const;
const RENDERS = ["k8s", "k8s/overlays/prometheus", "k8s/overlays/podmonitor", ...LESSONS] as const;
const rendered = new Map<string, Obj[]>();
beforeAll(() => {
  for (const dir of RENDERS) rendered.set(dir, render(dir));
});
const objectsOf = (dir: string) => rendered.get(dir)!;

// The images the lab loads into kind; the README's build commands and the docker test tag these.
export const APP_IMAGE = "crashy-app:1.0.0";
export const SIDECAR_IMAGE = "crashy-sidecar:1.0.0";

// The API server's defaults for a probe (core/v1 Probe).
const PROBE_DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 };

function podOf(objects: Obj[]) {
  const deployment = find(objects, "Deployment", "crashy-app");
  const pod = deployment.spec.template;
  const app = pod.spec.containers.find((c: Obj) => c.name === "crashy-app");
  const sidecar = (pod.spec.initContainers ?? []).find((c: Obj) => c.name === "probe-sidecar");
  return { deployment, pod, app, sidecar };
}

const allContainers = (podSpec: Obj): Obj[] => [...(podSpec.initContainers ?? []), ...podSpec.containers];
const envOf = (c: Obj): Record<string, string> => Object.fromEntries((c.env ?? []).map((e: Obj) => [e.name, e.value]));

/** The container and number a port (number or name) means in this pod, as the kubelet resolves it. */
function resolvePort(podSpec: Obj, port: number | string, container?: Obj): { container: Obj; port: number } {
  const candidates = container ? [container] : allContainers(podSpec);
  for (const c of candidates) {
    for (const p of c.ports ?? []) {
      if (p.name === port || p.containerPort === port) return { container: c, port: p.containerPort };
    }
  }
  throw new Error(`port ${JSON.stringify(port)} resolves to no container port${container ? ` of ${container.name}` : ""}`);
}

// The sidecar's variables for each probe type (sidecar/src/config.ts), and the manifest's field.
const PROBE_FIELDS = [
  ["LIVENESS", "livenessProbe"],
  ["READINESS", "readinessProbe"],
  ["STARTUP", "startupProbe"],
] as const;

/**
 * The sidecar's variables that mirror `app`'s probes, as it must be given them: one set per probe,
 * the API server's defaults spelled out, the pod's own address (the sidecar shares its network).
 */
function mirroredProbeEnv(podSpec: Obj, app: Obj): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [prefix, field] of PROBE_FIELDS) {
    if (!app[field]) continue;
    const probe = { ...PROBE_DEFAULTS, ...app[field] };
    const where = `${app.name}.${field}`;
    // The sidecar runs httpGet and tcpSocket probes, from a URL: no exec, no grpc, no headers.
    expect(probe.httpGet ?? probe.tcpSocket, `${where}: the sidecar mirrors httpGet and tcpSocket probes only`).toBeDefined();
    expect(probe.httpGet?.httpHeaders ?? [], `${where}: the sidecar sends no httpHeaders`).toEqual([]);
    const handler = probe.httpGet ?? probe.tcpSocket;
    const host = handler.host ?? "127.0.0.1";
    const port = resolvePort(podSpec, handler.port, app).port;
    const path = probe.httpGet?.path ?? "/";
    env[`${prefix}_PROBE_URL`] = probe.httpGet
      ? `${(probe.httpGet.scheme ?? "HTTP").toLowerCase()}://${host}:${port}${path.startsWith("/") ? path : `/${path}`}`
      : `tcp://${host}:${port}`;
    env[`${prefix}_PROBE_INITIAL_DELAY_SECONDS`] = String(probe.initialDelaySeconds);
    env[`${prefix}_PROBE_PERIOD_SECONDS`] = String(probe.periodSeconds);
    env[`${prefix}_PROBE_TIMEOUT_SECONDS`] = String(probe.timeoutSeconds);
    env[`${prefix}_PROBE_SUCCESS_THRESHOLD`] = String(probe.successThreshold);
    env[`${prefix}_PROBE_FAILURE_THRESHOLD`] = String(probe.failureThreshold);
  }
  return env;
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

describe.each(RENDERS)("kubectl kustomize %s", (dir) => {
  test("the sidecar's env mirrors every probe of the app, and no other, so its verdicts are the kubelet's", () => {
    const { app, sidecar, pod } = podOf(objectsOf(dir));
    const probeEnv = Object.fromEntries(Object.entries(envOf(sidecar)).filter(([name]) => /^(LIVENESS|READINESS|STARTUP)_PROBE_/.test(name)));
    expect(probeEnv).toEqual(mirroredProbeEnv(pod.spec, app));
    // At least one probe, or the sidecar refuses to start.
    expect(Object.keys(probeEnv).some((name) => name.endsWith("_PROBE_URL"))).toBe(true);
    expect(envOf(sidecar).METRICS_URL).toBe(`http://127.0.0.1:${app.ports[0].containerPort}/metrics`);
  });

  test("every object is valid against the Kubernetes schemas, with no unknown field", async () => {
    expect(await schemaProblems(objectsOf(dir))).toEqual([]);
  });

  test("contains the lab's Deployment and Services", () => {
    const objects = objectsOf(dir);
    // One pod, but in the readiness lesson: two, so the Service has another to send traffic to.
    expect(find(objects, "Deployment", "crashy-app").spec.replicas).toBe(dir === "k8s/overlays/readiness" ? 2 : 1);
    expect(find(objects, "Service", "crashy-app").spec.type).toBe("NodePort");
    expect(find(objects, "Service", "crashy-sidecar").spec.type).toBe("ClusterIP");
  });

  test("every Deployment's containers are locked down and have requests and limits", () => {
    for (const deployment of objectsOf(dir).filter((o) => o.kind === "Deployment")) {
      const podSpec = deployment.spec.template.spec;
      for (const c of allContainers(podSpec)) {
        const where = `${id(deployment)} container ${c.name}`;
        const sc = c.securityContext ?? {};
        expect(sc.runAsNonRoot, where).toBe(true);
        expect(Number.isInteger(sc.runAsUser ?? podSpec.securityContext?.runAsUser), where).toBe(true);
        expect(sc.runAsUser ?? podSpec.securityContext?.runAsUser, where).toBeGreaterThan(0);
        expect(sc.allowPrivilegeEscalation, where).toBe(false);
        expect(sc.readOnlyRootFilesystem, where).toBe(true);
        expect(sc.capabilities?.drop, where).toContain("ALL");
        expect(sc.capabilities?.add ?? [], where).toEqual([]);
        expect(sc.seccompProfile?.type ?? podSpec.securityContext?.seccompProfile?.type, where).toBe("RuntimeDefault");
        for (const resource of ["cpu", "memory"]) {
          expect(c.resources?.requests?.[resource], `${where} requests.${resource}`).toBeTruthy();
          expect(c.resources?.limits?.[resource], `${where} limits.${resource}`).toBeTruthy();
          expect(quantity(c.resources.requests[resource])).toBeLessThanOrEqual(quantity(c.resources.limits[resource]));
        }
      }
    }
  });

  test("every named port in a Deployment resolves, and port names are unique in the pod", () => {
    for (const deployment of objectsOf(dir).filter((o) => o.kind === "Deployment")) {
      const podSpec = deployment.spec.template.spec;
      const names = allContainers(podSpec).flatMap((c) => (c.ports ?? []).map((p: Obj) => p.name));
      expect(new Set(names).size, id(deployment)).toBe(names.length);
      for (const name of names) expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/), expect(name.length).toBeLessThanOrEqual(15);
      for (const c of allContainers(podSpec)) {
        for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean)) {
          // A probe's named port is looked up in its own container.
          expect(() => resolvePort(podSpec, (probe.httpGet ?? probe.tcpSocket).port, c), `${id(deployment)} ${c.name}`).not.toThrow();
        }
      }
    }
  });

  test("every Service selects a pod and its targetPorts reach a container port", () => {
    const objects = objectsOf(dir);
    const pods = objects.filter((o) => o.kind === "Deployment").map((d) => d.spec.template);
    for (const service of objects.filter((o) => o.kind === "Service")) {
      const selected = pods.filter((p) => labelsMatch(service.spec.selector, p.metadata.labels));
      expect(selected.length, id(service)).toBe(1);
      for (const port of service.spec.ports) {
        expect(() => resolvePort(selected[0]!.spec, port.targetPort), `${id(service)} port ${port.name}`).not.toThrow();
      }
    }
  });

  test("each Deployment's selector matches its pod labels, and carries the recommended labels", () => {
    for (const deployment of objectsOf(dir).filter((o) => o.kind === "Deployment")) {
      expect(labelsMatch(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
    }
    for (const o of objectsOf(dir)) {
      expect(o.metadata.labels?.["app.kubernetes.io/name"], id(o)).toBeTruthy();
      expect(o.metadata.labels?.["app.kubernetes.io/part-of"], id(o)).toBe("crashy");
    }
  });
});

describe("the lab's pod (k8s)", () => {
  test("has the labels, with the lab's app: crashy as the only selector", () => {
    const objects = objectsOf("k8s");
    const { deployment, pod } = podOf(objects);
    expect(deployment.spec.selector).toEqual({ matchLabels: { app: "crashy" } });
    expect(find(objects, "Service", "crashy-app").spec.selector).toEqual({ app: "crashy" });
    for (const o of [...objects, pod]) {
      expect(o.metadata.labels, id(o)).toMatchObject({
        app: "crashy",
        "app.kubernetes.io/name": "crashy",
        "app.kubernetes.io/instance": "crashy",
        "app.kubernetes.io/version": "1.0.0",
        "app.kubernetes.io/part-of": "crashy",
        "app.kubernetes.io/managed-by": "kustomize",
      });
    }
    // kustomize's `labels`, not the deprecated `commonLabels` (which would also rewrite selectors).
    const kustomization = parseYamlDoc(readFileSync(join(ROOT, "k8s/base/kustomization.yaml"), "utf8"));
    expect(kustomization.commonLabels).toBeUndefined();
    expect(kustomization.labels?.[0]?.includeSelectors).toBe(false);
  });

  test("runs the app with the lab's image, env and liveness probe, exactly", () => {
    const { app, pod } = podOf(objectsOf("k8s"));
    expect(app.image).toBe(APP_IMAGE);
    expect(app.imagePullPolicy).toBe("IfNotPresent");
    expect(app.ports).toEqual([{ name: "http", containerPort: 8080 }]);
    expect(app.env).toEqual([{ name: "CRASH_AFTER", value: "60" }]);
    expect(app.livenessProbe).toEqual({
      httpGet: { path: "/health", port: "http" },
      periodSeconds: 1,
      failureThreshold: 3,
      terminationGracePeriodSeconds: 1,
    });
    // The app listens on PORT (default 8080): the named port must be that one.
    expect(resolvePort(pod.spec, app.livenessProbe.httpGet.port, app).port).toBe(Number(envOf(app).PORT ?? 8080));
  });

  test("runs the sidecar as a native sidecar, started before the app, with its own liveness probe", () => {
    const { sidecar, pod } = podOf(objectsOf("k8s"));
    expect(sidecar).toBeDefined();
    expect(pod.spec.initContainers[0].name).toBe("probe-sidecar");
    expect(sidecar.restartPolicy).toBe("Always");
    expect(sidecar.image).toBe(SIDECAR_IMAGE);
    expect(sidecar.imagePullPolicy).toBe("IfNotPresent");
    expect(resolvePort(pod.spec, "sidecar", sidecar).port).toBe(9102);
    expect(Number(envOf(sidecar).PORT ?? 9102)).toBe(9102);
    expect(sidecar.livenessProbe.httpGet.path).toBe("/healthz");
    expect(resolvePort(pod.spec, sidecar.livenessProbe.httpGet.port, sidecar).port).toBe(9102);
  });

  test("the NodePort Service sends port 80 and node port 30080 to the app's port", () => {
    const objects = objectsOf("k8s");
    const { app, pod } = podOf(objects);
    const service = find(objects, "Service", "crashy-app");
    expect(service.spec.ports).toHaveLength(1);
    const [port] = service.spec.ports;
    expect(port).toMatchObject({ port: 80, nodePort: 30080, protocol: "TCP" });
    const target = resolvePort(pod.spec, port.targetPort);
    expect(target.container.name).toBe(app.name);
    expect(target.port).toBe(8080);
  });

  test("the sidecar's Service reaches the sidecar's port", () => {
    const objects = objectsOf("k8s");
    const { pod } = podOf(objects);
    const [port] = find(objects, "Service", "crashy-sidecar").spec.ports;
    const target = resolvePort(pod.spec, port.targetPort);
    expect(target.container.name).toBe("probe-sidecar");
    expect(target).toMatchObject({ port: 9102 });
  });

  test("the pod annotations point Prometheus at the app's metrics", () => {
    const { pod, app } = podOf(objectsOf("k8s"));
    expect(pod.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(resolvePort(pod.spec, "http", app).port),
      "prometheus.io/path": "/metrics",
    });
  });

  test("the kind cluster maps the Service's node port to the host", () => {
    const cluster = parseYaml(readFileSync(join(ROOT, "k8s/kind/cluster.yaml"), "utf8"))[0]!;
    expect(cluster).toMatchObject({ kind: "Cluster", apiVersion: "kind.x-k8s.io/v1alpha4" });
    const nodePort = find(objectsOf("k8s"), "Service", "crashy-app").spec.ports[0].nodePort;
    const mappings = cluster.nodes.flatMap((n: Obj) => n.extraPortMappings ?? []);
    expect(mappings).toContainEqual(expect.objectContaining({ containerPort: nodePort, hostPort: nodePort }));
  });

  test("the README's docker build commands tag the images the pod runs", () => {
    const readme = join(ROOT, "k8s/README.md");
    const images = new Set(allContainers(podOf(objectsOf("k8s")).pod.spec).map((c) => c.image));
    expect([...images].sort()).toEqual([APP_IMAGE, SIDECAR_IMAGE].sort());
    const text = readFileSync(readme, "utf8");
    const tags = [...text.matchAll(/docker build\b[^\n]*?(?:-t|--tag)[ =](\S+)/g)].map((m) => m[1]!);
    for (const image of images) expect(tags, `README builds ${image}`).toContain(image);
    const loaded = text.match(/kind load docker-image([^\n]*)/)?.[1]?.trim().split(/\s+/) ?? [];
    for (const image of images) expect(loaded, `README loads ${image} into kind`).toContain(image);
  });
});

describe("the Prometheus overlay", () => {
  const objects = () => objectsOf("k8s/overlays/prometheus");

  test("scrapes both of the crashy pod's containers by their named ports", () => {
    const configMap = objects().find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("prometheus-config"))!;
    const config = parseYamlDoc(configMap.data["prometheus.yml"]);
    const job = config.scrape_configs.find((j: Obj) => j.job_name === "crashy");
    expect(job.kubernetes_sd_configs[0].role).toBe("pod");
    const keep = job.relabel_configs.find((r: Obj) => r.action === "keep");
    expect(keep.source_labels).toEqual(["__meta_kubernetes_pod_container_port_name"]);
    const { pod } = podOf(objects());
    const regex = new RegExp(`^(?:${keep.regex})$`); // Prometheus anchors relabel regexes
    const kept = allContainers(pod.spec).flatMap((c) => (c.ports ?? []).filter((p: Obj) => regex.test(p.name)).map(() => c.name));
    expect(kept.sort()).toEqual(["crashy-app", "probe-sidecar"]);
    // Rule files are read relative to the config, so they must be keys of the same ConfigMap.
    expect(config.rule_files.length).toBeGreaterThan(0);
    for (const file of config.rule_files) expect(Object.keys(configMap.data)).toContain(file);
    // Its label selector is the pod's.
    const [key, value] = job.kubernetes_sd_configs[0].selectors[0].label.split("=");
    expect(pod.metadata.labels[key]).toBe(value);
  });

  test("mounts the generated config, and its account may list and watch pods", () => {
    const prometheus = find(objects(), "Deployment", "prometheus");
    const podSpec = prometheus.spec.template.spec;
    const configMap = objects().find((o) => o.kind === "ConfigMap")!;
    const volume = podSpec.volumes.find((v: Obj) => v.configMap);
    expect(volume.configMap.name).toBe(configMap.metadata.name);
    const container = podSpec.containers[0];
    const mount = container.volumeMounts.find((m: Obj) => m.name === volume.name);
    expect(container.args).toContain(`--config.file=${mount.mountPath}/prometheus.yml`);
    // The TSDB lives on a volume, since the root filesystem is read-only.
    const data = container.args.find((a: string) => a.startsWith("--storage.tsdb.path=")).split("=")[1];
    const dataMount = container.volumeMounts.find((m: Obj) => m.mountPath === data);
    expect(podSpec.volumes.find((v: Obj) => v.name === dataMount.name).emptyDir).toBeDefined();

    const binding = find(objects(), "RoleBinding", "prometheus");
    expect(binding.subjects).toContainEqual(expect.objectContaining({ kind: "ServiceAccount", name: podSpec.serviceAccountName }));
    const role = find(objects(), binding.roleRef.kind, binding.roleRef.name);
    const rule = role.rules.find((r: Obj) => r.resources.includes("pods"));
    expect(rule.verbs).toEqual(expect.arrayContaining(["list", "watch"]));
  });
});

describe("the PodMonitor overlay", () => {
  test("selects the crashy pod and scrapes both containers by named port", () => {
    const objects = objectsOf("k8s/overlays/podmonitor");
    const monitor = find(objects, "PodMonitor", "crashy");
    const { pod } = podOf(objects);
    expect(labelsMatch(monitor.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    const containers = monitor.spec.podMetricsEndpoints.map((e: Obj) => resolvePort(pod.spec, e.port).container.name);
    expect(containers.sort()).toEqual(["crashy-app", "probe-sidecar"]);
    for (const e of monitor.spec.podMetricsEndpoints) expect(e.path).toBe("/metrics");
  });

  test("ships the plain Prometheus overlay's alerts, unchanged, as a PrometheusRule", () => {
    const rule = find(objectsOf("k8s/overlays/podmonitor"), "PrometheusRule", "crashy");
    const alerts = parseYamlDoc(readFileSync(join(ROOT, "k8s/overlays/prometheus/alerts.yml"), "utf8"));
    expect(rule.spec).toEqual({ groups: alerts.groups });
    expect(rule.spec.groups.flatMap((g: Obj) => g.rules.map((r: Obj) => r.alert))).toEqual(["CrashyLivenessProbeFailing", "CrashyRestartingTooOften", "CrashyPodNotReady"]);
  });

  test("ships the Grafana dashboard as a ConfigMap that Grafana's dashboard sidecar loads", () => {
    const objects = objectsOf("k8s/overlays/podmonitor");
    const configMaps = objects.filter((o) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard === "1");
    expect(configMaps.map(id)).toEqual(["ConfigMap/crashy-grafana-dashboard"]); // no hash suffix
    const [file, text] = Object.entries(configMaps[0]!.data as Record<string, string>)[0]!;
    expect(file).toBe("crashy.json");
    const dashboard = JSON.parse(text);
    expect(dashboard).toEqual(JSON.parse(readFileSync(join(ROOT, "k8s/grafana/crashy.json"), "utf8")));
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.id).toBeUndefined(); // Grafana assigns ids; a fixed one clashes on import
  });
});

describe("the Grafana dashboard (k8s/grafana/crashy.json)", () => {
  const dashboard = JSON.parse(readFileSync(join(ROOT, "k8s/grafana/crashy.json"), "utf8"));
  const panels: Obj[] = dashboard.panels;
  const targets = panels.flatMap((p) => p.targets as Obj[]);
  const redStep = (p: Obj) => p.fieldConfig.defaults.thresholds.steps.find((s: Obj) => s.color === "red")?.value;

  test("queries the data source its variable names, in every panel and query", () => {
    const variable = dashboard.templating.list.find((v: Obj) => v.type === "datasource");
    expect(variable).toMatchObject({ name: "datasource", query: "prometheus" });
    const ref = { type: "prometheus", uid: "${datasource}" };
    for (const p of panels) expect(p.datasource, p.title).toEqual(ref);
    for (const t of targets) expect(t.datasource, t.expr).toEqual(ref);
    for (const v of dashboard.templating.list.filter((v: Obj) => v.type === "query")) expect(v.datasource, v.name).toEqual(ref);
  });

  test("every query selects the chosen namespace and pods", () => {
    expect(targets.length).toBeGreaterThanOrEqual(10);
    // The probe series have one per probe type: those panels also choose the liveness probe's.
    for (const t of targets) expect(t.expr).toMatch(/\{namespace=~"\$namespace", pod=~"\$pod"(, probe_type="Liveness")?\}/);
    // "All" must be a regex that also matches no namespace label (the local pod's Prometheus).
    for (const v of dashboard.templating.list.filter((v: Obj) => v.type === "query")) expect(v.allValue, v.name).toBe(".*");
  });

  test("covers what the lab shows: probes, verdict, restarts, requests by status, the crash, scrapes", () => {
    const exprs = targets.map((t) => t.expr).join("\n");
    for (const metric of [
      "crashy_probe_consecutive_failures", "probe_success", "prober_probe_total", "crashy_probe_healthy",
      "crashy_target_restarts_total", "crashy_target_last_restart_timestamp_seconds", "http_requests_total",
      "crashy_crashed", "crashy_target_scrape_up", "up{",
    ]) expect(exprs).toContain(metric);
    expect(exprs).toMatch(/sum by \(status\) \(rate\(http_requests_total/);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  test("draws the failure threshold at the lab's failureThreshold, and the restart alert's threshold", () => {
    const { app } = podOf(objectsOf("k8s"));
    const failures = panels.find((p) => p.targets.some((t: Obj) => t.expr.startsWith("crashy_probe_consecutive_failures")))!;
    expect(redStep(failures)).toBe(app.livenessProbe.failureThreshold);
    const alerts = parseYamlDoc(readFileSync(join(ROOT, "k8s/overlays/prometheus/alerts.yml"), "utf8"));
    const alert = alerts.groups[0].rules.find((r: Obj) => r.alert === "CrashyRestartingTooOften");
    const [, window, count] = /^changes\(crashy_target_last_restart_timestamp_seconds\[(\w+)\]\) >= (\d+)$/.exec(alert.expr)!;
    const restarts = panels.find((p) => p.targets.some((t: Obj) => t.expr.startsWith("changes(")))!;
    expect(restarts.targets[0].expr).toContain(`[${window}])`);
    expect(redStep(restarts)).toBe(Number(count));
  });
});

describe("the schema check itself", () => {
  test("catches a misspelt probe field that the API server would silently drop", async () => {
    const deployment = structuredClone(find(objectsOf("k8s"), "Deployment", "crashy-app"));
    const probe = deployment.spec.template.spec.containers[0].livenessProbe;
    probe.periodSecond = probe.periodSeconds;
    delete probe.periodSeconds;
    const problems = await schemaProblems([deployment]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("spec.template.spec.containers[0].livenessProbe.periodSecond");
  });

  test("catches a wrong type, an unknown kind and a misspelt field in a custom resource", async () => {
    const deployment = structuredClone(find(objectsOf("k8s"), "Deployment", "crashy-app"));
    deployment.spec.template.spec.containers[0].livenessProbe.failureThreshold = "3";
    const monitor = structuredClone(find(objectsOf("k8s/overlays/podmonitor"), "PodMonitor", "crashy"));
    monitor.spec.podMetricsEndpoints[0].intervall = "5s";
    const problems = await schemaProblems([deployment, { apiVersion: "v1", kind: "Servce", metadata: { name: "x" } }, monitor]);
    expect(problems.join("\n")).toMatch(/Deployment\/crashy-app: .*failureThreshold/);
    expect(problems.join("\n")).toContain("Servce/x: no schema");
    expect(problems.join("\n")).toContain("PodMonitor/crashy: spec.podMetricsEndpoints[0].intervall");
  });
});

/** A Kubernetes quantity as a number, for comparing requests with limits. */
function quantity(q: string | number): number {
  const match = /^([0-9.]+)(m|Ki|Mi|Gi|k|M|G)?$/.exec(String(q));
  if (!match) throw new Error(`unsupported quantity ${q}`);
  const scale: Record<string, number> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  return Number(match[1]) * scale[match[2] ?? ""]!;
}

describe("the lessons", () => {
  const appEnv = (dir: string) => envOf(podOf(objectsOf(dir)).app);
  const budget = (probe: Obj) => (probe.failureThreshold ?? 3) * (probe.periodSeconds ?? 10);

  test("readiness: two pods, a readiness probe on /ready, the control API on, no crash to muddle it", () => {
    const { app } = podOf(objectsOf("k8s/overlays/readiness"));
    expect(app.readinessProbe.httpGet).toEqual({ path: "/ready", port: "http" });
    expect(appEnv("k8s/overlays/readiness")).toMatchObject({ CONTROL: "true", CRASH_AFTER: "86400" });
    // Readiness never restarts: the liveness probe is the lab's, untouched.
    expect(app.livenessProbe).toEqual(podOf(objectsOf("k8s")).app.livenessProbe);
  });

  test("slow-start: the app takes longer to start than the liveness probe allows, and has no startup probe", () => {
    const { app } = podOf(objectsOf("k8s/overlays/slow-start"));
    expect(app.startupProbe).toBeUndefined();
    expect(Number(appEnv("k8s/overlays/slow-start").STARTUP_SECONDS)).toBeGreaterThan(budget(app.livenessProbe));
  });

  test("startup: the same slow starter, with a startup probe whose failureThreshold x periodSeconds covers the start", () => {
    const { app } = podOf(objectsOf("k8s/overlays/startup"));
    expect(appEnv("k8s/overlays/startup")).toEqual(appEnv("k8s/overlays/slow-start"));
    expect(app.startupProbe.httpGet).toEqual({ path: "/health", port: "http" });
    expect(budget(app.startupProbe)).toBeGreaterThan(Number(appEnv("k8s/overlays/startup").STARTUP_SECONDS));
    expect(app.livenessProbe).toEqual(podOf(objectsOf("k8s")).app.livenessProbe);
  });
});
