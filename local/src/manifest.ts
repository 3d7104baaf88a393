// The pod that `npm start` runs, read from the same Deployment that `kubectl apply -k k8s` applies,
// so the local runner and the cluster cannot disagree. Only the fields the runner uses are read;
// the rest of the manifest is the cluster's business (and k8s/test checks it).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { projectRoot } from "./paths.ts";

export const deploymentFile = () => join(projectRoot(), "k8s", "base", "deployment.yaml");

const envVarSchema = z.object({ name: z.string(), value: z.string().default("") });
const portSchema = z.object({ name: z.string().optional(), containerPort: z.number().int().min(1).max(65535) });
// Defaults are the API server's (core/v1 Probe).
const probeSchema = z.object({
  httpGet: z.object({
    path: z.string().default("/"),
    port: z.union([z.number().int(), z.string()]),
    scheme: z.literal("HTTP").default("HTTP"),
  }),
  initialDelaySeconds: z.number().int().min(0).default(0),
  periodSeconds: z.number().int().min(1).default(10),
  timeoutSeconds: z.number().int().min(1).default(1),
  successThreshold: z.number().int().min(1).default(1),
  failureThreshold: z.number().int().min(1).default(3),
  terminationGracePeriodSeconds: z.number().int().min(1).optional(),
});
const containerSchema = z.object({
  name: z.string(),
  image: z.string(),
  restartPolicy: z.string().optional(),
  ports: z.array(portSchema).default([]),
  env: z.array(envVarSchema).default([]),
  livenessProbe: probeSchema.optional(),
});
const deploymentSchema = z.object({
  kind: z.literal("Deployment"),
  metadata: z.object({ name: z.string() }),
  spec: z.object({
    template: z.object({
      spec: z.object({
        terminationGracePeriodSeconds: z.number().int().min(0).default(30),
        initContainers: z.array(containerSchema).default([]),
        containers: z.array(containerSchema).min(1),
      }),
    }),
  }),
});

export type Container = z.output<typeof containerSchema>;

export type LivenessProbe = {
  path: string;
  port: number;
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
  /** The probe's own grace period if set, else the pod's: how long a killed container may take. */
  terminationGracePeriodSeconds: number;
};

export type PodSpec = {
  deployment: string;
  /** The pod's terminationGracePeriodSeconds: the limit for stopping the whole pod. */
  terminationGracePeriodSeconds: number;
  /** Native sidecars: init containers with restartPolicy Always, started first, in order. */
  sidecars: Container[];
  app: Container & { port: number; probe: LivenessProbe };
};

export class ManifestError extends Error {
  override name = "ManifestError";
}

/** Reads the Deployment in `file` and the parts of its pod the runner needs. */
export function loadPod(file: string = deploymentFile()): PodSpec {
  const text = readFileSync(file, "utf8");
  const documents = parseAllDocuments(text).map((d) => d.toJS() as unknown);
  const raw = documents.find((d) => (d as { kind?: unknown } | null)?.kind === "Deployment");
  if (!raw) throw new ManifestError(`${file}: no Deployment found`);
  const parsed = deploymentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ManifestError(`${file}: ${issue.path.join(".")}: ${issue.message}`);
  }
  const deployment = parsed.data;
  const pod = deployment.spec.template.spec;
  const withProbe = pod.containers.filter((c) => c.livenessProbe);
  if (withProbe.length !== 1) {
    throw new ManifestError(`${file}: expected exactly one container with a livenessProbe, found ${withProbe.length}`);
  }
  const app = withProbe[0]!;
  const probe = app.livenessProbe!;
  const probePort = resolvePort(app, probe.httpGet.port, file);
  return {
    deployment: deployment.metadata.name,
    terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
    sidecars: pod.initContainers.filter((c) => c.restartPolicy === "Always"),
    app: {
      ...app,
      port: probePort,
      probe: {
        path: probe.httpGet.path,
        port: probePort,
        initialDelaySeconds: probe.initialDelaySeconds,
        periodSeconds: probe.periodSeconds,
        timeoutSeconds: probe.timeoutSeconds,
        successThreshold: probe.successThreshold,
        failureThreshold: probe.failureThreshold,
        terminationGracePeriodSeconds: probe.terminationGracePeriodSeconds ?? pod.terminationGracePeriodSeconds,
      },
    },
  };
}

/** A probe's port is a number or the name of one of the container's ports. */
function resolvePort(container: Container, port: number | string, file: string): number {
  if (typeof port === "number") return port;
  const named = container.ports.find((p) => p.name === port);
  if (!named) throw new ManifestError(`${file}: container ${container.name}: no port named ${JSON.stringify(port)}`);
  return named.containerPort;
}

/** A container's env as a plain record. */
export function envOf(container: Container): Record<string, string> {
  return Object.fromEntries(container.env.map((e) => [e.name, e.value]));
}
