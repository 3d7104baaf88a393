// The pod that `npm start` runs, read from the same Deployment that `kubectl apply -k k8s` applies,
// so the local runner and the cluster cannot disagree. It is read as the API server reads it
// (Kubernetes v1.33): decoded, defaulted (pkg/apis/core/v1/defaults.go), then validated
// (pkg/apis/core/validation/validation.go), each problem worded as field.ErrorList words it. Only the
// fields the runner uses are read; the rest is the cluster's business (k8s/test checks the schemas).
// On top come the runner's own limits (exec and grpc probes, init containers that are not native
// sidecars, env it cannot resolve), each said to be this runner's limit and not Kubernetes'.
import { readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import process from "node:process";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import type { HttpGetAction, ProbeAction, ProbeSpec, ProbeType, TcpSocketAction } from "../../probe/src/types.ts";
import { projectRoot } from "./paths.ts";

export const deploymentFile = () => join(projectRoot(), "k8s", "base", "deployment.yaml");

export type ContainerSpec = {
  name: string;
  image: string;
  /** A native sidecar: an init container with restartPolicy: Always. */
  sidecar: boolean;
  ports: { name?: string; containerPort: number }[];
  env: Record<string, string>;
  /** Each probe the container has, after the API server's defaults, its port resolved to a number. */
  probes: Partial<Record<ProbeType, ProbeSpec>>;
};

export type PodSpec = {
  deployment: string;
  replicas: number; // default 1
  terminationGracePeriodSeconds: number; // default 30
  /** Native sidecars, in order (init containers with restartPolicy: Always). */
  sidecars: ContainerSpec[];
  containers: ContainerSpec[];
};

/** Every problem found in the manifest, one line each; `message` is the lines joined. */
export class ManifestError extends Error {
  override name = "ManifestError";
  readonly file: string;
  readonly problems: readonly string[];
  constructor(file: string, problems: string[]) {
    super(problems.join("\n"));
    this.file = file;
    this.problems = problems;
  }
}

/** The lines a program prints for a bad manifest: `<program>: <file>: <problem>`, one per problem. */
export function manifestErrorLines(program: string, error: ManifestError): string[] {
  const shown = relative(process.cwd(), error.file);
  const file = shown && !shown.startsWith("..") && !isAbsolute(shown) ? shown : error.file;
  return error.problems.map((problem) => `${program}: ${file}: ${problem}`);
}

// ---------------------------------------------------------------------------------------------
// Decoding: the JSON-to-Go-struct step. A value of the wrong type stops the API server before
// defaulting or validation (it answers with a decoding error); these schemas say which field and
// what type it wanted. Every field is optional here: absence is the validators' business.

const INT32 = "must be of type int32";
const int32 = z.int32({ error: INT32 });
// int64 fields (the grace periods), as far as a JS number holds them exactly.
const int64 = z.int({ error: "must be of type int64" });
const string = z.string({ error: "must be of type string" });
const object = <T extends z.core.$ZodLooseShape>(shape: T) => z.object(shape, { error: "must be of type object" });
const list = <T extends z.ZodType>(item: T) => z.array(item, { error: "must be of type array" });
// intstr.IntOrString: a JSON number is a port number, a JSON string a port name ("8080" too).
const intOrString = z.union([int32, z.string()], { error: "must be an int32 or a string" });

const probeSchema = object({
  exec: object({ command: list(string).optional() }).optional(),
  httpGet: object({
    path: string.optional(),
    port: intOrString.optional(),
    host: string.optional(),
    scheme: string.optional(),
    httpHeaders: list(object({ name: string.optional(), value: string.optional() })).optional(),
  }).optional(),
  tcpSocket: object({ port: intOrString.optional(), host: string.optional() }).optional(),
  grpc: object({ port: int32.optional(), service: string.optional() }).optional(),
  initialDelaySeconds: int32.optional(),
  timeoutSeconds: int32.optional(),
  periodSeconds: int32.optional(),
  successThreshold: int32.optional(),
  failureThreshold: int32.optional(),
  terminationGracePeriodSeconds: int64.optional(),
});

const containerSchema = object({
  name: string.optional(),
  image: string.optional(),
  restartPolicy: string.optional(),
  ports: list(object({ name: string.optional(), containerPort: int32.optional() })).optional(),
  env: list(object({ name: string.optional(), value: string.optional(), valueFrom: z.unknown().optional() })).optional(),
  envFrom: list(z.unknown()).optional(),
  livenessProbe: probeSchema.optional(),
  readinessProbe: probeSchema.optional(),
  startupProbe: probeSchema.optional(),
});

const deploymentSchema = object({
  metadata: object({ name: string.optional(), generateName: string.optional() }).optional(),
  spec: object({
    replicas: int32.optional(),
    template: object({
      spec: object({
        terminationGracePeriodSeconds: int64.optional(),
        initContainers: list(containerSchema).optional(),
        containers: list(containerSchema).optional(),
      }).optional(),
    }).optional(),
  }).optional(),
});

type RawProbe = z.output<typeof probeSchema>;
type RawContainer = z.output<typeof containerSchema>;
type RawDeployment = z.output<typeof deploymentSchema>;

// ---------------------------------------------------------------------------------------------
// field.Error's wording (staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go,
// Error() and ErrorBody()): "<path>: <type>[: <value>][: <detail>]", strings quoted as Go's %q,
// numbers as %v; Required and Forbidden print no value.

function goValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === undefined || value === null) return "null";
  return JSON.stringify(value);
}
export const invalid = (path: string, value: unknown, detail: string) => `${path}: Invalid value: ${goValue(value)}: ${detail}`;
export const required = (path: string, detail = "") => `${path}: Required value${detail ? `: ${detail}` : ""}`;
export const forbidden = (path: string, detail: string) => `${path}: Forbidden: ${detail}`;
export const duplicate = (path: string, value: unknown) => `${path}: Duplicate value: ${goValue(value)}`;
const notFound = (path: string, value: unknown, detail: string) => `${path}: Not found: ${goValue(value)}: ${detail}`;
export const notSupported = (path: string, value: unknown, valid: string[]) =>
  `${path}: Unsupported value: ${goValue(value)}: supported values: ${valid.map((v) => JSON.stringify(v)).join(", ")}`;
/** Not a Kubernetes rule: something valid that this runner cannot do. */
export const runnerLimit = (path: string, detail: string) => `${path}: not supported by the local runner: ${detail}`;

// Messages of staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go.
const maxLenError = (length: number) => `must be no more than ${length} characters`;
const inclusiveRangeError = (lo: number, hi: number) => `must be between ${lo} and ${hi}, inclusive`;
const IS_NEGATIVE = "must be greater than or equal to 0"; // apimachinery validation.IsNegativeErrorMsg
/** RegexError, double space after the first example included. */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(" or ")}regex used for validation is '${fmt}')`;
}

const DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;

/** validation.IsDNS1123Label: a container's name. */
function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!new RegExp(`^${DNS1123_LABEL}$`).test(value)) {
    if (new RegExp(`^${DNS1123_SUBDOMAIN}$`).test(value)) errs.push("must not contain dots");
    else
      errs.push(
        regexError(
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
          DNS1123_LABEL,
          "my-name",
          "123-abc",
        ),
      );
  }
  return errs;
}

/** validation.IsValidPortNum. */
export const isValidPortNum = (port: number) => (port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)]);

/** validation.IsValidPortName (IANA_SVC_NAME). */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(port)) errs.push("must contain at least one letter (a-z)");
  if (port.includes("--")) errs.push("must not contain consecutive hyphens");
  if (port.startsWith("-") || port.endsWith("-")) errs.push("must not begin or end with a hyphen");
  return errs;
}

/** validation.IsHTTPHeaderName. */
const isHTTPHeaderName = (value: string) =>
  /^[-A-Za-z0-9]+$/.test(value)
    ? []
    : [regexError("a valid HTTP header must consist of alphanumeric characters or '-'", "[-A-Za-z0-9]+", "X-Header-Name")];

/**
 * validation.IsRelaxedEnvVarName: the RelaxedEnvironmentVariableValidation gate is beta, on by
 * default, in v1.33 (KEP-4369), so ValidateEnv uses it rather than IsEnvVarName's stricter pattern.
 */
const isRelaxedEnvVarName = (value: string) =>
  /^[\x20-\x3c\x3e-\x7e]*$/.test(value) ? [] : ["a valid environment variable name must consist only of printable ASCII characters other than '='"];

// ---------------------------------------------------------------------------------------------

const SPEC = "spec.template.spec";
const PROBE_FIELDS: [ProbeType, "livenessProbe" | "readinessProbe" | "startupProbe"][] = [
  ["Liveness", "livenessProbe"],
  ["Readiness", "readinessProbe"],
  ["Startup", "startupProbe"],
];

/**
 * Reads the first Deployment in `file` as the API server would, and the pod the runner runs.
 * `text`, when given, is the file's YAML already read (a kustomization rendered by render.ts).
 */
export function loadPodSpec(file: string = deploymentFile(), text?: string): PodSpec {
  const raw = readDeployment(file, text);
  const decoded = deploymentSchema.safeParse(withoutNulls(raw));
  if (!decoded.success) throw new ManifestError(file, decodingProblems(decoded.error, raw));
  const problems: string[] = [];
  const pod = podSpecOf(decoded.data, problems);
  // field.ErrorList.ToAggregate drops repeated messages.
  if (problems.length > 0) throw new ManifestError(file, [...new Set(problems)]);
  return pod;
}

/** The YAML documents of `file` (or of `given`, its text already read) that are objects. */
export function readManifestDocuments(file: string, given?: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = given ?? readFileSync(file, "utf8");
  } catch (error) {
    throw new ManifestError(file, [`cannot read the manifest: ${(error as Error).message}`]);
  }
  const documents = [...parseAllDocuments(text)];
  const syntax = documents.flatMap((d) => d.errors.map((e) => `YAML: ${e.message.split("\n")[0]}`));
  if (syntax.length > 0) throw new ManifestError(file, syntax);
  return documents.flatMap((document) => {
    try {
      const value = document.toJS() as unknown;
      return isRecord(value) ? [value] : [];
    } catch (error) {
      throw new ManifestError(file, [`YAML: ${(error as Error).message}`]);
    }
  });
}

function readDeployment(file: string, given?: string): Record<string, unknown> {
  const deployment = readManifestDocuments(file, given).find((d) => d.kind === "Deployment");
  if (deployment) return deployment;
  throw new ManifestError(file, ["no Deployment found (a document with kind: Deployment)"]);
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** JSON null decodes to a Go zero value: a field set to null is a field left out. */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === null ? {} : withoutNulls(v)));
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (v === null ? [] : [[k, withoutNulls(v)]])));
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

export function decodingProblems(error: z.ZodError, raw: unknown): string[] {
  return error.issues.map((issue) => {
    const value = issue.path.reduce<unknown>((v, key) => (v as Record<PropertyKey, unknown> | undefined)?.[key], raw);
    return invalid(formatPath(issue.path), value, issue.message);
  });
}

function podSpecOf(deployment: RawDeployment, problems: string[]): PodSpec {
  // ValidateObjectMeta; a generateName becomes the name before validation (rest.BeforeCreate).
  const name = deployment.metadata?.name || deployment.metadata?.generateName || "";
  if (!name) problems.push(required("metadata.name", "name or generateName is required"));

  // apps/v1 SetDefaults_Deployment: replicas 1. apps ValidateDeploymentSpec: ValidateNonnegativeField.
  const replicas = deployment.spec?.replicas ?? 1;
  if (replicas < 0) problems.push(invalid("spec.replicas", replicas, IS_NEGATIVE));

  const pod = deployment.spec?.template?.spec ?? {};
  // SetDefaults_PodSpec: 30. A negative value is not refused but taken as 1 when the pod is
  // created (kubernetes/kubernetes#115606, v1.27).
  const given = pod.terminationGracePeriodSeconds ?? 30;
  const terminationGracePeriodSeconds = given < 0 ? 1 : given;

  // ValidatePodSpec: validateContainers, then validateInitContainers.
  const regular = pod.containers ?? [];
  const init = pod.initContainers ?? [];
  const containers: ContainerSpec[] = [];
  const sidecars: ContainerSpec[] = [];

  // validateContainers
  if (regular.length === 0) problems.push(required(`${SPEC}.containers`));
  const names = new Set<string>();
  regular.forEach((raw, i) => {
    const path = `${SPEC}.containers[${i}]`;
    const container = validateContainerCommon(raw, path, false, problems);
    // Unique among regular containers; an init container's clash is reported on the init container.
    if (names.has(container.name)) problems.push(duplicate(`${path}.name`, container.name));
    else names.add(container.name);
    container.probes = readProbes(raw, path, problems);
    if (raw.restartPolicy !== undefined) problems.push(forbidden(`${path}.restartPolicy`, "may not be set for non-init containers"));
    containers.push(container);
  });

  // validateInitContainers
  init.forEach((raw, i) => {
    const path = `${SPEC}.initContainers[${i}]`;
    const restartAlways = raw.restartPolicy === "Always";
    const container = validateContainerCommon(raw, path, restartAlways, problems);
    // validateInitContainerRestartPolicy
    if (raw.restartPolicy !== undefined && !restartAlways) problems.push(notSupported(`${path}.restartPolicy`, raw.restartPolicy, ["Always"]));
    if (names.has(container.name)) problems.push(duplicate(`${path}.name`, container.name));
    else if (container.name.length > 0) names.add(container.name);
    if (restartAlways) {
      container.probes = readProbes(raw, path, problems);
      sidecars.push(container);
      return;
    }
    for (const [, field] of PROBE_FIELDS) {
      if (raw[field] !== undefined) problems.push(forbidden(`${path}.${field}`, "may not be set for init containers without restartPolicy=Always"));
    }
    problems.push(runnerLimit(path, "it runs native sidecars (restartPolicy: Always) only, not init containers that run to completion"));
  });

  return { deployment: name, replicas, terminationGracePeriodSeconds, sidecars, containers };
}

/** validateContainerCommon: the name, the image, the ports, the env. */
function validateContainerCommon(raw: RawContainer, path: string, sidecar: boolean, problems: string[]): ContainerSpec {
  const name = raw.name ?? "";
  if (name.length === 0) problems.push(required(`${path}.name`));
  else for (const msg of isDNS1123Label(name)) problems.push(invalid(`${path}.name`, name, msg));
  // Only empty: surrounding whitespace is refused for pods, not for pod templates.
  const image = raw.image ?? "";
  if (image.length === 0) problems.push(required(`${path}.image`));

  // validateContainerPorts (hostPort and protocol are not read: the runner listens on loopback).
  const ports: ContainerSpec["ports"] = [];
  const portNames = new Set<string>();
  (raw.ports ?? []).forEach((port, i) => {
    const portPath = `${path}.ports[${i}]`;
    if (port.name !== undefined && port.name.length > 0) {
      const msgs = isValidPortName(port.name);
      if (msgs.length > 0) for (const msg of msgs) problems.push(invalid(`${portPath}.name`, port.name, msg));
      else if (portNames.has(port.name)) problems.push(duplicate(`${portPath}.name`, port.name));
      else portNames.add(port.name);
    }
    const containerPort = port.containerPort ?? 0;
    if (containerPort === 0) problems.push(required(`${portPath}.containerPort`));
    else for (const msg of isValidPortNum(containerPort)) problems.push(invalid(`${portPath}.containerPort`, containerPort, msg));
    ports.push(port.name ? { name: port.name, containerPort } : { containerPort });
  });

  // ValidateEnv. Like the kubelet's environment map, a later entry of the same name wins.
  const env: Record<string, string> = {};
  (raw.env ?? []).forEach((variable, i) => {
    const envPath = `${path}.env[${i}]`;
    const envName = variable.name ?? "";
    if (envName.length === 0) problems.push(required(`${envPath}.name`));
    else for (const msg of isRelaxedEnvVarName(envName)) problems.push(invalid(`${envPath}.name`, envName, msg));
    if (variable.valueFrom !== undefined) {
      problems.push(runnerLimit(`${envPath}.valueFrom`, "it passes only env values written in the manifest (value:)"));
    }
    env[envName] = variable.value ?? "";
  });
  if ((raw.envFrom ?? []).length > 0) {
    problems.push(runnerLimit(`${path}.envFrom`, "it passes only env values written in the manifest (env[].value)"));
  }

  return { name, image, sidecar, ports, env, probes: {} };
}

function readProbes(raw: RawContainer, path: string, problems: string[]): ContainerSpec["probes"] {
  const probes: ContainerSpec["probes"] = {};
  for (const [type, field] of PROBE_FIELDS) {
    const probe = raw[field];
    if (probe === undefined) continue;
    const spec = readProbe(type, probe, `${path}.${field}`, raw, problems);
    if (spec) probes[type] = spec;
  }
  return probes;
}

/**
 * One probe: SetDefaults_Probe and SetDefaults_HTTPGetAction, then validateLivenessProbe /
 * validateReadinessProbe / validateStartupProbe (each validateProbe plus its own rule), then what
 * the runner adds: exec and grpc it cannot run, and a named port the container does not have.
 */
function readProbe(type: ProbeType, raw: RawProbe, path: string, container: RawContainer, problems: string[]): ProbeSpec | undefined {
  // SetDefaults_Probe: an explicit 0 is defaulted too (the Go field cannot tell 0 from unset).
  const timeoutSeconds = raw.timeoutSeconds || 1;
  const periodSeconds = raw.periodSeconds || 10;
  const successThreshold = raw.successThreshold || 1;
  const failureThreshold = raw.failureThreshold || 3;
  const initialDelaySeconds = raw.initialDelaySeconds ?? 0;
  const grace = raw.terminationGracePeriodSeconds;
  const before = problems.length;

  // validateProbe
  const action = validateHandler(raw, path, container, problems);
  const counts = { initialDelaySeconds, timeoutSeconds, periodSeconds, successThreshold, failureThreshold };
  for (const [field, value] of Object.entries(counts)) {
    if (value < 0) problems.push(invalid(`${path}.${field}`, value, IS_NEGATIVE));
  }
  if (grace !== undefined && grace <= 0) problems.push(invalid(`${path}.terminationGracePeriodSeconds`, grace, "must be greater than 0"));

  if (type === "Readiness") {
    // validateReadinessProbe: the kubelet never kills for readiness, so a kill grace period makes no sense.
    if (grace !== undefined) problems.push(invalid(`${path}.terminationGracePeriodSeconds`, grace, "must not be set for readinessProbes"));
  } else if (successThreshold !== 1) {
    // validateLivenessProbe, validateStartupProbe
    problems.push(invalid(`${path}.successThreshold`, successThreshold, "must be 1"));
  }

  if (!action || problems.length > before) return undefined;
  return {
    action,
    initialDelaySeconds,
    periodSeconds,
    timeoutSeconds,
    successThreshold,
    failureThreshold,
    ...(grace !== undefined ? { terminationGracePeriodSeconds: grace } : {}),
  };
}

/** validateHandler: exactly one handler, in the order exec, httpGet, tcpSocket, grpc. */
function validateHandler(raw: RawProbe, path: string, container: RawContainer, problems: string[]): ProbeAction | undefined {
  let handlers = 0;
  let action: ProbeAction | undefined;
  const one = (field: string, present: boolean, validate: () => void): boolean => {
    if (!present) return false;
    if (handlers > 0) {
      problems.push(forbidden(`${path}.${field}`, "may not specify more than 1 handler type"));
      return false;
    }
    handlers++;
    validate();
    return true;
  };

  if (
    one("exec", raw.exec !== undefined, () => {
      // validateExecAction
      if ((raw.exec?.command ?? []).length === 0) problems.push(required(`${path}.exec.command`));
    })
  ) {
    problems.push(runnerLimit(`${path}.exec`, "it runs httpGet and tcpSocket probes only (exec is valid Kubernetes: the kubelet runs it on a cluster)"));
  }

  const httpGet = raw.httpGet;
  one("httpGet", httpGet !== undefined, () => {
    // SetDefaults_HTTPGetAction fills path and scheme, so validateHTTPGetAction's "path: Required" cannot fire.
    const httpPath = `${path}.httpGet`;
    const scheme = httpGet?.scheme || "HTTP";
    const port = resolvePort(httpGet?.port, `${httpPath}.port`, container, problems);
    if (scheme !== "HTTP" && scheme !== "HTTPS") problems.push(notSupported(`${httpPath}.scheme`, scheme, ["HTTP", "HTTPS"]));
    const httpHeaders = (httpGet?.httpHeaders ?? []).map((h) => ({ name: h.name ?? "", value: h.value ?? "" }));
    // The path has no index: validateHTTPGetAction reports on httpHeaders itself.
    for (const header of httpHeaders) {
      for (const msg of isHTTPHeaderName(header.name)) problems.push(invalid(`${httpPath}.httpHeaders`, header.name, msg));
    }
    if (port === undefined || (scheme !== "HTTP" && scheme !== "HTTPS")) return;
    action = { kind: "httpGet", scheme, host: httpGet?.host ?? "", port, path: httpGet?.path || "/", httpHeaders } satisfies HttpGetAction;
  });

  const tcpSocket = raw.tcpSocket;
  one("tcpSocket", tcpSocket !== undefined, () => {
    // validateTCPSocketAction
    const port = resolvePort(tcpSocket?.port, `${path}.tcpSocket.port`, container, problems);
    if (port === undefined) return;
    action = { kind: "tcpSocket", host: tcpSocket?.host ?? "", port } satisfies TcpSocketAction;
  });

  if (
    one("grpc", raw.grpc !== undefined, () => {
      // validateGRPCAction: an int32 port, never a name.
      const port = raw.grpc?.port ?? 0;
      for (const msg of isValidPortNum(port)) problems.push(invalid(`${path}.grpc.port`, port, msg));
    })
  ) {
    problems.push(runnerLimit(`${path}.grpc`, "it runs httpGet and tcpSocket probes only (grpc is valid Kubernetes: the kubelet runs it on a cluster)"));
  }

  if (handlers === 0) problems.push(required(path, "must specify a handler type"));
  return handlers === 1 ? action : undefined;
}

/**
 * ValidatePortNumOrName, then pkg/probe/util.go ResolveContainerPort for a name. The API server
 * accepts a name no port of the container carries; the kubelet's probe then errors every period
 * and its result is thrown away, so the container is never judged. The runner refuses it up front.
 */
function resolvePort(port: number | string | undefined, path: string, container: RawContainer, problems: string[]): number | undefined {
  // An IntOrString left out is the int 0.
  if (port === undefined || typeof port === "number") {
    const value = port ?? 0;
    const msgs = isValidPortNum(value);
    for (const msg of msgs) problems.push(invalid(path, value, msg));
    return msgs.length === 0 ? value : undefined;
  }
  const msgs = isValidPortName(port);
  for (const msg of msgs) problems.push(invalid(path, port, msg));
  if (msgs.length > 0) return undefined;
  const named = (container.ports ?? []).find((p) => p.name === port);
  if (!named) {
    problems.push(
      notFound(path, port, `no port of this container has that name (the API server accepts it; the kubelet's probe would error every period: port "${port}" not found)`),
    );
    return undefined;
  }
  return named.containerPort;
}
