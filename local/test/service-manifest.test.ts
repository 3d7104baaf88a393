// The Services `npm start` reads: the base lab's NodePort, the ports of a Service selecting the
// pods resolved as the endpointslice controller resolves them, and a bad Service refused as the API
// server would refuse it, one line per problem after the Service's name.
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { stringify } from "yaml";
import { loadPodSpec, ManifestError } from "../src/manifest.ts";
import { readBase } from "../src/render.ts";
import { loadNodePorts, loadServices } from "../src/service-manifest.ts";

const BASE = join(import.meta.dirname, "..", "..", "k8s", "base");

// Loosely typed on purpose: each test bends the manifest its own way.
type Obj = Record<string, any>;

const deployment = (labels: Record<string, string> = { app: "demo" }): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "demo" },
  spec: {
    replicas: 2,
    template: {
      metadata: { labels },
      spec: {
        initContainers: [{ name: "side", image: "crashy-sidecar:1.0.0", restartPolicy: "Always", ports: [{ name: "sidecar", containerPort: 9102 }] }],
        containers: [{ name: "web", image: "crashy-app:1.0.0", ports: [{ name: "http", containerPort: 8080 }] }],
      },
    },
  },
});

const service = (spec: Obj, name = "web"): Obj => ({ apiVersion: "v1", kind: "Service", metadata: { name }, spec });
const nodePort = (ports: Obj[], extra: Obj = {}) => service({ type: "NodePort", selector: { app: "demo" }, ports, ...extra });

const yaml = (...docs: Obj[]) => docs.map((d) => stringify(d)).join("---\n");

function nodePortsOf(...docs: Obj[]) {
  const text = yaml(deployment(), ...docs);
  return loadNodePorts("demo.yaml", text, loadPodSpec("demo.yaml", text));
}

function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ManifestError) return error.problems;
    throw error;
  }
  throw new Error("expected a ManifestError");
}

describe("the base lab's Service", () => {
  test("k8s/base: the NodePort 30080 to the app's port named http; the sidecar's ClusterIP Service has no node port", () => {
    const text = readBase(BASE);
    expect(loadNodePorts(BASE, text, loadPodSpec(BASE, text))).toEqual([{ service: "crashy-app", portName: "http", nodePort: 30080, targetPort: 8080 }]);
    expect(loadServices(BASE, text).map((s) => [s.name, s.type])).toEqual([
      ["crashy-app", "NodePort"],
      ["crashy-sidecar", "ClusterIP"],
    ]);
  });
});

describe("which Services reach the pods (endpointslice controller)", () => {
  test("a named targetPort is the container port of that name, a native sidecar's too (findPort)", () => {
    expect(
      nodePortsOf(
        nodePort([
          { name: "web", port: 80, targetPort: "http", nodePort: 30080 },
          { name: "page", port: 9102, targetPort: "sidecar", nodePort: 30102 },
        ]),
      ),
    ).toEqual([
      { service: "web", portName: "web", nodePort: 30080, targetPort: 8080 },
      { service: "web", portName: "page", nodePort: 30102, targetPort: 9102 },
    ]);
  });

  test("a targetPort left out is the port (SetDefaults_Service); a number is taken as it is", () => {
    expect(nodePortsOf(nodePort([{ port: 8080, nodePort: 30080 }]))).toEqual([{ service: "web", portName: "", nodePort: 30080, targetPort: 8080 }]);
    expect(nodePortsOf(nodePort([{ port: 80, targetPort: 8080, nodePort: 30080 }]))[0]!.targetPort).toBe(8080);
  });

  test("a Service whose selector does not match the pod template, or that has none, or is ClusterIP, is not listened for", () => {
    expect(nodePortsOf(nodePort([{ port: 80, targetPort: "http", nodePort: 30080 }], { selector: { app: "other" } }))).toEqual([]);
    expect(nodePortsOf(nodePort([{ port: 80, targetPort: "http", nodePort: 30080 }], { selector: undefined }))).toEqual([]);
    expect(nodePortsOf(service({ selector: { app: "demo" }, ports: [{ port: 80, targetPort: "http" }] }))).toEqual([]);
  });

  test("a LoadBalancer Service has node ports too", () => {
    expect(nodePortsOf(nodePort([{ port: 80, targetPort: "http", nodePort: 30080 }], { type: "LoadBalancer" }))).toHaveLength(1);
  });
});

describe("a Service the API server would refuse, or the runner cannot serve", () => {
  test("field errors, worded as field.ErrorList words them, after the Service's name", () => {
    expect(
      problems(() =>
        nodePortsOf(
          service({ type: "ClusterIP", selector: { app: "demo" }, ports: [{ name: "a", port: 80, nodePort: 30080 }, { name: "b", port: 0 }] }, "one"),
          service({ type: "NodePort", selector: { app: "demo" }, ports: [{ port: 80, nodePort: 80 }] }, "two"),
          service({ type: "Nodeport", ports: [{ port: 80, protocol: "HTTP" }] }, "three"),
        ),
      ),
    ).toEqual([
      `Service "one": spec.ports[0].nodePort: Forbidden: may not be used when \`type\` is 'ClusterIP'`,
      'Service "one": spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      'Service "one": spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
      'Service "two": spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
      'Service "three": spec.type: Unsupported value: "Nodeport": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      'Service "three": spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ]);
  });

  test("several ports need names; a node port is allocated once; a wrong type is a decoding error", () => {
    expect(problems(() => nodePortsOf(nodePort([{ port: 80, nodePort: 30080 }, { port: 81, nodePort: 30081 }])))).toEqual([
      'Service "web": spec.ports[0].name: Required value',
      'Service "web": spec.ports[1].name: Required value',
    ]);
    expect(problems(() => nodePortsOf(nodePort([{ port: 80, nodePort: 30080 }]), nodePort([{ port: 81, nodePort: 30080 }])))).toEqual([
      'Service "web": spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
    ]);
    expect(problems(() => nodePortsOf(nodePort([{ port: "eighty", nodePort: 30080 }])))).toEqual([
      'Service "web": spec.ports[0].port: Invalid value: "eighty": must be of type int32',
    ]);
  });

  test("the runner's own limits: a named targetPort no container has, no nodePort written, not TCP", () => {
    expect(problems(() => nodePortsOf(nodePort([{ port: 80, targetPort: "metrics", nodePort: 30080 }])))).toEqual([
      'Service "web": spec.ports[0].targetPort: Not found: "metrics": no container port of the pods has that name (the API server accepts it; the Service would have no endpoints and refuse every connection)',
    ]);
    expect(problems(() => nodePortsOf(nodePort([{ port: 80, targetPort: "http" }])))).toEqual([
      'Service "web": spec.ports[0].nodePort: not supported by the local runner: it listens on a nodePort written in the manifest (the API server would pick a free one from 30000-32767)',
    ]);
    expect(problems(() => nodePortsOf(nodePort([{ port: 80, targetPort: "http", nodePort: 30080, protocol: "UDP" }])))).toEqual([
      'Service "web": spec.ports[0].protocol: not supported by the local runner: it forwards TCP only',
    ]);
  });
});
