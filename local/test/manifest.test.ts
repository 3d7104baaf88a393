// The manifest read as the API server reads it (v1.33): defaults from pkg/apis/core/v1/defaults.go,
// rules from pkg/apis/core/validation/validation.go, each problem line worded as field.ErrorList
// prints it. Every bad manifest is written to a temp file and loaded like the real one.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadPodSpec, ManifestError, manifestErrorLines } from "../src/manifest.ts";

// Loosely typed on purpose: each test breaks the manifest in its own way.
type Obj = Record<string, any>;

const dir = mkdtempSync(join(tmpdir(), "crashy-manifest-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let written = 0;

function write(text: string): string {
  const path = join(dir, `deployment-${written++}.yaml`);
  writeFileSync(path, text);
  return path;
}

/** A small valid Deployment: a native sidecar and an app probed on its named port. */
function base(): Obj {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "demo" },
    spec: {
      template: {
        spec: {
          initContainers: [
            { name: "side", image: "crashy-sidecar:1.0.0", restartPolicy: "Always", ports: [{ name: "sidecar", containerPort: 9102 }] },
          ],
          containers: [
            {
              name: "web",
              image: "crashy-app:1.0.0",
              ports: [{ name: "http", containerPort: 8081 }],
              env: [{ name: "CRASH_AFTER", value: "5" }],
              livenessProbe: { httpGet: { path: "/health", port: "http" } },
            },
          ],
        },
      },
    },
  };
}

/** `base()` changed by `edit` (given the pod spec and the whole Deployment), written to a file. */
function manifest(edit?: (pod: Obj, deployment: Obj) => void): string {
  const deployment = base();
  edit?.(deployment.spec.template.spec, deployment);
  return write(stringify(deployment));
}

function problems(file: string): readonly string[] {
  try {
    loadPodSpec(file);
  } catch (error) {
    if (error instanceof ManifestError) return error.problems;
    throw error;
  }
  throw new Error(`${file} loaded without a problem`);
}

const C0 = "spec.template.spec.containers[0]";
const PROBE = `${C0}.livenessProbe`;
const app = (pod: Obj): Obj => pod.containers[0];

describe("the shipped k8s/base/deployment.yaml", () => {
  it("loads: crashy-app probed on its named port http, /health every second, 3 failures, 1 s grace", () => {
    const pod = loadPodSpec();
    expect(pod).toMatchObject({ deployment: "crashy-app", replicas: 1, terminationGracePeriodSeconds: 30 });
    expect(pod.containers.map((c) => c.name)).toEqual(["crashy-app"]);
    const [web] = pod.containers;
    expect(web).toMatchObject({ image: "crashy-app:1.0.0", sidecar: false, ports: [{ name: "http", containerPort: 8080 }] });
    expect(web!.env).toEqual({ CRASH_AFTER: "60" });
    expect(web!.probes).toEqual({
      Liveness: {
        action: { kind: "httpGet", scheme: "HTTP", host: "", port: 8080, path: "/health", httpHeaders: [] },
        initialDelaySeconds: 0,
        periodSeconds: 1,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
        terminationGracePeriodSeconds: 1,
      },
    });
  });

  it("has the probe sidecar as a native sidecar, its /healthz liveness probe resolved from the named port sidecar", () => {
    const pod = loadPodSpec();
    expect(pod.sidecars.map((s) => s.name)).toEqual(["probe-sidecar"]);
    const [sidecar] = pod.sidecars;
    expect(sidecar).toMatchObject({ sidecar: true, ports: [{ name: "sidecar", containerPort: 9102 }] });
    expect(sidecar!.env.LIVENESS_PROBE_URL).toBe("http://127.0.0.1:8080/health");
    expect(sidecar!.probes).toEqual({
      Liveness: {
        action: { kind: "httpGet", scheme: "HTTP", host: "", port: 9102, path: "/healthz", httpHeaders: [] },
        initialDelaySeconds: 0,
        periodSeconds: 10,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      },
    });
  });

});

describe("the API server's defaults (SetDefaults_Probe, SetDefaults_HTTPGetAction, SetDefaults_PodSpec, SetDefaults_Deployment)", () => {
  const DEFAULTED = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 };

  it("fills in a probe's timings, the path and scheme, the pod's grace period and the replicas", () => {
    const pod = loadPodSpec(manifest((p) => (app(p).livenessProbe = { httpGet: { port: "http" } })));
    expect(pod.replicas).toBe(1);
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    expect(pod.containers[0]!.probes.Liveness).toEqual({
      action: { kind: "httpGet", scheme: "HTTP", host: "", port: 8081, path: "/", httpHeaders: [] },
      ...DEFAULTED,
    });
  });

  it("defaults an explicit 0 too, as the Go field cannot tell 0 from unset", () => {
    const file = manifest((p) => {
      app(p).livenessProbe = { httpGet: { port: 8081, path: "" }, timeoutSeconds: 0, periodSeconds: 0, successThreshold: 0, failureThreshold: 0 };
    });
    expect(loadPodSpec(file).containers[0]!.probes.Liveness).toMatchObject({ ...DEFAULTED, action: { path: "/" } });
  });

  it("keeps the values given", () => {
    const file = manifest((p, d) => {
      d.spec.replicas = 3;
      p.terminationGracePeriodSeconds = 7;
      app(p).readinessProbe = { httpGet: { port: 8081 }, initialDelaySeconds: 2, timeoutSeconds: 3, periodSeconds: 4, successThreshold: 5, failureThreshold: 6 };
    });
    const pod = loadPodSpec(file);
    expect([pod.replicas, pod.terminationGracePeriodSeconds]).toEqual([3, 7]);
    expect(pod.containers[0]!.probes.Readiness).toMatchObject({ initialDelaySeconds: 2, timeoutSeconds: 3, periodSeconds: 4, successThreshold: 5, failureThreshold: 6 });
  });

  it("takes a negative pod grace period as 1, as the API server has since v1.27", () => {
    expect(loadPodSpec(manifest((p) => (p.terminationGracePeriodSeconds = -5))).terminationGracePeriodSeconds).toBe(1);
  });

  it("reads a field set to null as a field left out", () => {
    const pod = loadPodSpec(manifest((p) => (app(p).readinessProbe = null)));
    expect(Object.keys(pod.containers[0]!.probes)).toEqual(["Liveness"]);
  });
});

describe("probe handlers", () => {
  it("reads a tcpSocket probe, its named port resolved and its host kept", () => {
    const file = manifest((p) => (app(p).startupProbe = { tcpSocket: { port: "http", host: "10.0.0.9" }, failureThreshold: 30 }));
    expect(loadPodSpec(file).containers[0]!.probes.Startup).toMatchObject({
      action: { kind: "tcpSocket", host: "10.0.0.9", port: 8081 },
      failureThreshold: 30,
    });
  });

  it("leaves a tcpSocket host out as \"\", for the runner to fill with the pod IP", () => {
    const file = manifest((p) => (app(p).livenessProbe = { tcpSocket: { port: 8081 } }));
    expect(loadPodSpec(file).containers[0]!.probes.Liveness!.action).toEqual({ kind: "tcpSocket", host: "", port: 8081 });
  });

  it("reads httpGet's headers, host and HTTPS scheme", () => {
    const file = manifest((p) => {
      app(p).livenessProbe = {
        httpGet: { path: "/health?deep=1", port: 8443, host: "example.test", scheme: "HTTPS", httpHeaders: [{ name: "X-Probe", value: "kubelet" }, { name: "Accept" }] },
      };
    });
    expect(loadPodSpec(file).containers[0]!.probes.Liveness!.action).toEqual({
      kind: "httpGet",
      scheme: "HTTPS",
      host: "example.test",
      port: 8443,
      path: "/health?deep=1",
      httpHeaders: [
        { name: "X-Probe", value: "kubelet" },
        { name: "Accept", value: "" },
      ],
    });
  });

  it("refuses an exec probe as this runner's limit, naming the field", () => {
    expect(problems(manifest((p) => (app(p).livenessProbe = { exec: { command: ["cat", "/tmp/healthy"] } })))).toEqual([
      `${PROBE}.exec: not supported by the local runner: it runs httpGet and tcpSocket probes only (exec is valid Kubernetes: the kubelet runs it on a cluster)`,
    ]);
  });

  it("refuses a grpc probe as this runner's limit, naming the field", () => {
    expect(problems(manifest((p) => (app(p).readinessProbe = { grpc: { port: 9090 } })))).toEqual([
      `${C0}.readinessProbe.grpc: not supported by the local runner: it runs httpGet and tcpSocket probes only (grpc is valid Kubernetes: the kubelet runs it on a cluster)`,
    ]);
  });
});

describe("validation as the API server's (validation.go)", () => {
  it("validateHandler: a probe needs a handler", () => {
    expect(problems(manifest((p) => (app(p).livenessProbe = { periodSeconds: 5 })))).toEqual([`${PROBE}: Required value: must specify a handler type`]);
  });

  it("validateHandler: only one handler, the later ones forbidden", () => {
    expect(problems(manifest((p) => (app(p).livenessProbe = { httpGet: { port: 8081 }, tcpSocket: { port: 8081 } })))).toEqual([
      `${PROBE}.tcpSocket: Forbidden: may not specify more than 1 handler type`,
    ]);
  });

  it("validateExecAction: a command is required (before the runner's own refusal)", () => {
    expect(problems(manifest((p) => (app(p).livenessProbe = { exec: {} })))[0]).toBe(`${PROBE}.exec.command: Required value`);
  });

  it.each(["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"])(
    "validateProbe: ValidateNonnegativeField(%s)",
    (field) => {
      const file = manifest((p) => (app(p).readinessProbe = { httpGet: { port: 8081 }, [field]: -1 }));
      expect(problems(file)).toEqual([`${C0}.readinessProbe.${field}: Invalid value: -1: must be greater than or equal to 0`]);
    },
  );

  it.each(["livenessProbe", "startupProbe"])("validate%s: successThreshold must be 1", (field) => {
    const file = manifest((p) => (app(p)[field] = { httpGet: { port: 8081 }, successThreshold: 2 }));
    expect(problems(file)).toEqual([`${C0}.${field}.successThreshold: Invalid value: 2: must be 1`]);
  });

  it("validateReadinessProbe: any successThreshold of at least 1 will do", () => {
    const file = manifest((p) => (app(p).readinessProbe = { httpGet: { port: 8081 }, successThreshold: 2 }));
    expect(loadPodSpec(file).containers[0]!.probes.Readiness!.successThreshold).toBe(2);
  });

  it("validateProbe: a probe's terminationGracePeriodSeconds must be positive", () => {
    const file = manifest((p) => (app(p).livenessProbe.terminationGracePeriodSeconds = 0));
    expect(problems(file)).toEqual([`${PROBE}.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0`]);
  });

  it("validateReadinessProbe: terminationGracePeriodSeconds is not allowed", () => {
    const file = manifest((p) => (app(p).readinessProbe = { httpGet: { port: 8081 }, terminationGracePeriodSeconds: 5 }));
    expect(problems(file)).toEqual([`${C0}.readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes`]);
  });

  it.each([0, 65536])("ValidatePortNumOrName: port %i is out of range", (port) => {
    const file = manifest((p) => (app(p).livenessProbe.httpGet.port = port));
    expect(problems(file)).toEqual([`${PROBE}.httpGet.port: Invalid value: ${port}: must be between 1 and 65535, inclusive`]);
  });

  it("ValidatePortNumOrName: a port left out is the int 0", () => {
    expect(problems(manifest((p) => (app(p).livenessProbe = { tcpSocket: {} })))).toEqual([
      `${PROBE}.tcpSocket.port: Invalid value: 0: must be between 1 and 65535, inclusive`,
    ]);
  });

  it("ValidatePortNumOrName: a port name is an IANA_SVC_NAME (\"8080\" as a string is a name)", () => {
    expect(problems(manifest((p) => (app(p).livenessProbe.httpGet.port = "8080")))).toEqual([
      `${PROBE}.httpGet.port: Invalid value: "8080": must contain at least one letter (a-z)`,
    ]);
    expect(problems(manifest((p) => (app(p).livenessProbe.httpGet.port = "Http")))).toEqual([
      `${PROBE}.httpGet.port: Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
    ]);
  });

  it("a named port the container does not have: accepted by the API server, refused here with the kubelet's reason", () => {
    expect(problems(manifest((p) => (app(p).livenessProbe.httpGet.port = "web")))).toEqual([
      `${PROBE}.httpGet.port: Not found: "web": no port of this container has that name (the API server accepts it; the kubelet's probe would error every period: port "web" not found)`,
    ]);
  });

  it("a named port is looked up in the probe's own container, not another one", () => {
    expect(problems(manifest((p) => (app(p).livenessProbe.httpGet.port = "sidecar")))).toEqual([
      `${PROBE}.httpGet.port: Not found: "sidecar": no port of this container has that name (the API server accepts it; the kubelet's probe would error every period: port "sidecar" not found)`,
    ]);
  });

  it("validateHTTPGetAction: scheme is HTTP or HTTPS", () => {
    expect(problems(manifest((p) => (app(p).livenessProbe.httpGet.scheme = "FTP")))).toEqual([
      `${PROBE}.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"`,
    ]);
  });

  it("validateHTTPGetAction: header names must be HTTP tokens (the path has no index), repeats reported once", () => {
    const file = manifest((p) => (app(p).livenessProbe.httpGet.httpHeaders = [{ name: "X Probe", value: "a" }, { name: "X Probe", value: "b" }]));
    expect(problems(file)).toEqual([
      `${PROBE}.httpGet.httpHeaders: Invalid value: "X Probe": a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')`,
    ]);
  });

  it("validateGRPCAction: the port is checked before the runner refuses grpc", () => {
    expect(problems(manifest((p) => (app(p).livenessProbe = { grpc: {} })))[0]).toBe(
      `${PROBE}.grpc.port: Invalid value: 0: must be between 1 and 65535, inclusive`,
    );
  });

  it("validateContainerCommon: a container's name is required", () => {
    expect(problems(manifest((p) => delete app(p).name))).toEqual([`${C0}.name: Required value`]);
  });

  it("validateContainerCommon: a container's name is a DNS-1123 label", () => {
    expect(problems(manifest((p) => (app(p).name = "Web")))).toEqual([
      `${C0}.name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    expect(problems(manifest((p) => (app(p).name = "web.app")))).toEqual([`${C0}.name: Invalid value: "web.app": must not contain dots`]);
  });

  it("validateContainerCommon: a container's image is required", () => {
    expect(problems(manifest((p) => (app(p).image = "")))).toEqual([`${C0}.image: Required value`]);
  });

  it("validateContainers: at least one container", () => {
    expect(problems(manifest((p) => (p.containers = [])))).toEqual(["spec.template.spec.containers: Required value"]);
  });

  it("validateContainers: names are unique among the containers", () => {
    expect(problems(manifest((p) => p.containers.push({ name: "web", image: "x:1" })))).toEqual([
      "spec.template.spec.containers[1].name: Duplicate value: \"web\"",
    ]);
  });

  it("validateInitContainers: an init container may not reuse a container's name", () => {
    expect(problems(manifest((p) => (p.initContainers[0].name = "web")))).toEqual(["spec.template.spec.initContainers[0].name: Duplicate value: \"web\""]);
  });

  it("validateContainers: restartPolicy is for init containers only", () => {
    expect(problems(manifest((p) => (app(p).restartPolicy = "Always")))).toEqual([`${C0}.restartPolicy: Forbidden: may not be set for non-init containers`]);
  });

  it("validateInitContainerRestartPolicy: Always is the only restartPolicy", () => {
    expect(problems(manifest((p) => (p.initContainers[0].restartPolicy = "OnFailure")))[0]).toBe(
      "spec.template.spec.initContainers[0].restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\"",
    );
  });

  it("validateInitContainers: no probes on an init container that is not a sidecar; the runner refuses such containers", () => {
    const file = manifest((p) => p.initContainers.push({ name: "setup", image: "busybox:1", readinessProbe: { tcpSocket: { port: 1 } } }));
    expect(problems(file)).toEqual([
      "spec.template.spec.initContainers[1].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
      "spec.template.spec.initContainers[1]: not supported by the local runner: it runs native sidecars (restartPolicy: Always) only, not init containers that run to completion",
    ]);
  });

  it("validateInitContainers: a sidecar's probes are validated like a container's", () => {
    const file = manifest((p) => (p.initContainers[0].startupProbe = { httpGet: { port: "sidecar" }, successThreshold: 3 }));
    expect(problems(file)).toEqual(["spec.template.spec.initContainers[0].startupProbe.successThreshold: Invalid value: 3: must be 1"]);
  });

  it("validateContainerPorts: containerPort is required", () => {
    expect(problems(manifest((p) => app(p).ports.push({ name: "metrics" })))).toEqual([`${C0}.ports[1].containerPort: Required value`]);
  });

  it("validateContainerPorts: containerPort is 1-65535", () => {
    expect(problems(manifest((p) => (app(p).ports[0].containerPort = 70000)))).toEqual([
      `${C0}.ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive`,
    ]);
  });

  it("validateContainerPorts: a port name is at most 15 characters", () => {
    const file = manifest((p) => (app(p).ports[0].name = "a-very-long-port-name"));
    expect(problems(file)).toContain(`${C0}.ports[0].name: Invalid value: "a-very-long-port-name": must be no more than 15 characters`);
  });

  it("validateContainerPorts: port names are unique", () => {
    expect(problems(manifest((p) => app(p).ports.push({ name: "http", containerPort: 9000 })))).toEqual([`${C0}.ports[1].name: Duplicate value: "http"`]);
  });

  it("ValidateEnv: a variable's name is required", () => {
    expect(problems(manifest((p) => app(p).env.push({ value: "x" })))).toEqual([`${C0}.env[1].name: Required value`]);
  });

  it("ValidateEnv: a name is printable ASCII without '=' (the relaxed rule, on by default in v1.33)", () => {
    expect(loadPodSpec(manifest((p) => app(p).env.push({ name: "my.var-1 x", value: "ok" }))).containers[0]!.env["my.var-1 x"]).toBe("ok");
    expect(problems(manifest((p) => app(p).env.push({ name: "A=B", value: "x" })))).toEqual([
      `${C0}.env[1].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
    ]);
  });

  it("the runner refuses env it cannot resolve: valueFrom and envFrom", () => {
    const file = manifest((p) => {
      app(p).env.push({ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } });
      app(p).envFrom = [{ configMapRef: { name: "settings" } }];
    });
    expect(problems(file)).toEqual([
      `${C0}.env[1].valueFrom: not supported by the local runner: it passes only env values written in the manifest (value:)`,
      `${C0}.envFrom: not supported by the local runner: it passes only env values written in the manifest (env[].value)`,
    ]);
  });

  it("ValidateDeploymentSpec: replicas is not negative", () => {
    expect(problems(manifest((_, d) => (d.spec.replicas = -1)))).toEqual(["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]);
  });

  it("ValidateObjectMeta: the Deployment needs a name", () => {
    expect(problems(manifest((_, d) => (d.metadata = {})))).toEqual(["metadata.name: Required value: name or generateName is required"]);
  });

  it("decoding: a value of the wrong type names its field and the type wanted", () => {
    const file = manifest((p) => {
      app(p).livenessProbe.periodSeconds = "fast";
      app(p).livenessProbe.httpGet.port = 80.5;
      app(p).image = 3;
    });
    expect(problems(file)).toEqual([
      `${C0}.image: Invalid value: 3: must be of type string`,
      `${PROBE}.httpGet.port: Invalid value: 80.5: must be an int32 or a string`,
      `${PROBE}.periodSeconds: Invalid value: "fast": must be of type int32`,
    ]);
  });

  it("reports every problem at once, the message being the lines joined", () => {
    const file = manifest((p, d) => {
      d.spec.replicas = -2;
      app(p).image = "";
      app(p).livenessProbe.successThreshold = 3;
    });
    const expected = [
      "spec.replicas: Invalid value: -2: must be greater than or equal to 0",
      `${C0}.image: Required value`,
      `${PROBE}.successThreshold: Invalid value: 3: must be 1`,
    ];
    expect(problems(file)).toEqual(expected);
    expect(() => loadPodSpec(file)).toThrow(expected.join("\n"));
  });
});

describe("the file", () => {
  it("takes the first Deployment among several documents", () => {
    const other = { ...base(), metadata: { name: "second" } };
    const file = write(["kind: Service\nmetadata: {name: svc}", stringify(base()), stringify(other)].join("\n---\n"));
    expect(loadPodSpec(file).deployment).toBe("demo");
  });

  it("refuses a file without a Deployment", () => {
    expect(problems(write("kind: Service\nmetadata: {name: x}\n"))).toEqual(["no Deployment found (a document with kind: Deployment)"]);
  });

  it("refuses YAML that does not parse, naming the line", () => {
    expect(problems(write("kind: Deployment\nspec: [unclosed\n"))[0]).toMatch(/^YAML: .*line \d+, column \d+/);
  });

  it("refuses a file that cannot be read", () => {
    expect(problems(join(dir, "missing.yaml"))[0]).toMatch(/^cannot read the manifest: ENOENT/);
  });

  it("prints one line per problem, with the program and the file", () => {
    const file = manifest((p) => (app(p).image = ""));
    let caught: unknown;
    try {
      loadPodSpec(file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ManifestError);
    expect(manifestErrorLines("crashy-local", caught as ManifestError)).toEqual([`crashy-local: ${file}: ${C0}.image: Required value`]);
  });
});

