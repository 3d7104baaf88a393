// The Services `npm start` serves: the manifest's NodePort (and LoadBalancer) Services whose
// selector matches the Deployment's pod template, read as the API server reads them (v1.33):
// decoded, defaulted (pkg/apis/core/v1/defaults.go SetDefaults_Service), checked by the part of
// pkg/apis/core/validation/validation.go ValidateService the runner relies on and by the node port
// allocator (pkg/registry/core/service/portallocator), each problem worded as field.ErrorList
// words it, after the Service's name. The rest of a Service (cluster IPs, session affinity,
// traffic policies) is the cluster's business; k8s/test checks the schemas.
import { z } from "zod";
import {
  decodingProblems,
  forbidden,
  invalid,
  isRecord,
  isValidPortName,
  isValidPortNum,
  ManifestError,
  notSupported,
  readManifestDocuments,
  required,
  runnerLimit,
  withoutNulls,
  type PodSpec,
} from "./manifest.ts";

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

/** kube-apiserver's default --service-node-port-range. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

export type ServicePort = {
  name: string;
  protocol: string;
  port: number;
  /** A number, or the name of a container port (resolved per pod, endpointslice findPort). */
  targetPort: number | string;
  nodePort?: number;
};

export type ServiceSpec = {
  name: string;
  type: ServiceType;
  /** Undefined: no selector, so the endpointslice controller manages no endpoints for it. */
  selector: Record<string, string> | undefined;
  ports: ServicePort[];
};

/** One port the runner listens on for a Service: its node port, to the pods' target port. */
export type NodePortSpec = {
  service: string;
  /** The Service port's name ("" when it has one port and no name). */
  portName: string;
  nodePort: number;
  /** The container port in the manifest (each local pod moves it to its own). */
  targetPort: number;
};

// Decoding, as manifest.ts does for the Deployment: a wrong type stops the API server first.
const int32 = z.int32({ error: "must be of type int32" });
const string = z.string({ error: "must be of type string" });
const object = <T extends z.core.$ZodLooseShape>(shape: T) => z.object(shape, { error: "must be of type object" });
const intOrString = z.union([int32, z.string()], { error: "must be an int32 or a string" });

const serviceSchema = object({
  metadata: object({ name: string.optional() }).optional(),
  spec: object({
    type: string.optional(),
    selector: z.record(z.string(), string, { error: "must be of type object" }).optional(),
    ports: z
      .array(
        object({
          name: string.optional(),
          protocol: string.optional(),
          port: int32.optional(),
          targetPort: intOrString.optional(),
          nodePort: int32.optional(),
        }),
        { error: "must be of type array" },
      )
      .optional(),
  }).optional(),
});

type RawService = z.output<typeof serviceSchema>;

/** Every Service in `file` (or in `text`, its YAML already read), defaulted and checked. */
export function loadServices(file: string, text?: string): ServiceSpec[] {
  const problems: string[] = [];
  const services = readManifestDocuments(file, text)
    .filter((d) => d.kind === "Service")
    .map((raw) => {
      const decoded = serviceSchema.safeParse(withoutNulls(raw));
      const shown = isRecord(raw.metadata) && typeof raw.metadata.name === "string" ? raw.metadata.name : "";
      // kubectl's own prefix for an object the API server refuses: The Service "<name>" is invalid.
      const say = (lines: string[]) => problems.push(...lines.map((line) => `Service ${JSON.stringify(shown)}: ${line}`));
      if (!decoded.success) {
        say(decodingProblems(decoded.error, raw));
        return undefined;
      }
      const own: string[] = [];
      const service = serviceOf(decoded.data, own);
      say(own);
      return service;
    })
    .filter((s): s is ServiceSpec => s !== undefined);

  // The node port allocator: one Service port per node port, cluster-wide.
  const taken = new Map<number, string>();
  for (const service of services) {
    service.ports.forEach((port, i) => {
      if (port.nodePort === undefined) return;
      if (taken.has(port.nodePort)) {
        problems.push(`Service ${JSON.stringify(service.name)}: ${invalid(`spec.ports[${i}].nodePort`, port.nodePort, "provided port is already allocated")}`);
      } else taken.set(port.nodePort, service.name);
    });
  }
  if (problems.length > 0) throw new ManifestError(file, [...new Set(problems)]);
  return services;
}

/** SetDefaults_Service and the parts of ValidateService (validateServicePort included) read here. */
function serviceOf(raw: RawService, problems: string[]): ServiceSpec {
  const name = raw.metadata?.name ?? "";
  if (!name) problems.push(required("metadata.name", "name or generateName is required"));
  const type = (raw.spec?.type ?? "ClusterIP") as ServiceType;
  if (!SERVICE_TYPES.includes(type)) problems.push(notSupported("spec.type", type, [...SERVICE_TYPES]));
  const rawPorts = raw.spec?.ports ?? [];
  if (rawPorts.length === 0 && type !== "ExternalName") problems.push(required("spec.ports"));

  const ports = rawPorts.map((raw, i): ServicePort => {
    const path = `spec.ports[${i}]`;
    const portName = raw.name ?? "";
    if (rawPorts.length > 1 && !portName) problems.push(required(`${path}.name`));
    const protocol = raw.protocol || "TCP";
    if (!["TCP", "UDP", "SCTP"].includes(protocol)) problems.push(notSupported(`${path}.protocol`, protocol, ["SCTP", "TCP", "UDP"]));
    const port = raw.port ?? 0;
    for (const msg of isValidPortNum(port)) problems.push(invalid(`${path}.port`, port, msg));
    // SetDefaults_Service: a targetPort left out (or 0, or "") is the port.
    const targetPort = raw.targetPort === undefined || raw.targetPort === 0 || raw.targetPort === "" ? port : raw.targetPort;
    // ValidatePortNumOrName
    const targetMsgs = typeof targetPort === "number" ? isValidPortNum(targetPort) : isValidPortName(targetPort);
    for (const msg of targetMsgs) problems.push(invalid(`${path}.targetPort`, targetPort, msg));
    const nodePort = raw.nodePort || undefined;
    if (nodePort !== undefined) {
      if (type === "ClusterIP") problems.push(forbidden(`${path}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
      // portallocator ErrNotInRange, as the service REST storage reports it.
      else if (nodePort < NODE_PORT_RANGE.min || nodePort > NODE_PORT_RANGE.max) {
        problems.push(
          invalid(`${path}.nodePort`, nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`),
        );
      }
    }
    return { name: portName, protocol, port, targetPort, ...(nodePort !== undefined ? { nodePort } : {}) };
  });
  return { name, type, selector: raw.spec?.selector, ports };
}

/** The first Deployment's pod template labels: what a Service selector is matched against. */
function templateLabels(file: string, text?: string): Record<string, string> {
  const deployment = readManifestDocuments(file, text).find((d) => d.kind === "Deployment");
  const labels = (deployment as { spec?: { template?: { metadata?: { labels?: unknown } } } } | undefined)?.spec?.template?.metadata?.labels;
  if (!isRecord(labels)) return {};
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
}

/**
 * The node ports that reach `pod`'s replicas: each port of each NodePort or LoadBalancer Service
 * whose selector matches the pod template (endpointslice controller: a Service without a selector
 * gets no endpoints from it; labels.SelectorFromSet(selector).Matches(pod labels)), its
 * targetPort resolved as endpointslice utils.go findPort does: a number as it is, a name looked
 * up in the containers' ports, then the native sidecars'. A name no container has would leave the
 * Service without endpoints, refusing everything; the runner says so up front instead.
 */
export function loadNodePorts(file: string, text: string | undefined, pod: PodSpec): NodePortSpec[] {
  const services = loadServices(file, text);
  const labels = templateLabels(file, text);
  const problems: string[] = [];
  const found: NodePortSpec[] = [];
  for (const service of services) {
    if (service.type !== "NodePort" && service.type !== "LoadBalancer") continue;
    if (!service.selector || !Object.entries(service.selector).every(([k, v]) => labels[k] === v)) continue;
    const say = (line: string) => problems.push(`Service ${JSON.stringify(service.name)}: ${line}`);
    service.ports.forEach((port, i) => {
      const path = `spec.ports[${i}]`;
      if (port.protocol !== "TCP") return say(runnerLimit(`${path}.protocol`, "it forwards TCP only"));
      if (port.nodePort === undefined) {
        return say(runnerLimit(`${path}.nodePort`, `it listens on a nodePort written in the manifest (the API server would pick a free one from ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max})`));
      }
      let targetPort: number | undefined;
      if (typeof port.targetPort === "number") targetPort = port.targetPort;
      else {
        const name = port.targetPort;
        targetPort = [...pod.containers, ...pod.sidecars].flatMap((c) => c.ports).find((p) => p.name === name)?.containerPort;
        if (targetPort === undefined) {
          return say(
            `${path}.targetPort: Not found: ${JSON.stringify(name)}: no container port of the pods has that name (the API server accepts it; the Service would have no endpoints and refuse every connection)`,
          );
        }
      }
      found.push({ service: service.name, portName: port.name, nodePort: port.nodePort, targetPort });
    });
  }
  if (problems.length > 0) throw new ManifestError(file, problems);
  return found;
}
