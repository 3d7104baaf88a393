// `npm start -- <path>`: a kustomization rendered by the real kubectl, a plain file read as it is,
// and one clear line when kubectl is missing or the directory is no kustomization.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { loadPodSpec, ManifestError } from "../src/manifest.ts";
import { BASE_RESOURCES, readBase, renderKustomization } from "../src/render.ts";
import { loadNodePorts } from "../src/service-manifest.ts";

const PATH = process.env.PATH;
afterEach(() => {
  process.env.PATH = PATH;
});

const problemsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ManifestError) return error.problems;
    throw error;
  }
  return [];
};

describe("renderKustomization", () => {
  test("renders a kustomization directory with kubectl kustomize, which the manifest reader then reads", () => {
    const text = renderKustomization("k8s/overlays/tcp-probe");
    expect(text).toContain("kind: Deployment");
    const pod = loadPodSpec("k8s/overlays/tcp-probe", text);
    expect(pod.containers[0]!.probes.Liveness!.action).toEqual({ kind: "tcpSocket", host: "", port: 8080 });
  });

  test("leaves a plain file to the manifest reader", () => {
    expect(renderKustomization("k8s/base/deployment.yaml")).toBeUndefined();
  });

  test("says plainly when kubectl is missing", () => {
    process.env.PATH = "/nonexistent";
    expect(problemsOf(() => renderKustomization("k8s/base"))).toEqual([
      "a kustomization needs kubectl to render it (kubectl kustomize), and kubectl is not on PATH; install kubectl 1.27 or newer, or pass a manifest file",
    ]);
  });

  test("passes on kubectl's own reason for a directory that is no kustomization", () => {
    const [line] = problemsOf(() => renderKustomization("local"));
    expect(line).toMatch(/^kubectl kustomize failed: unable to find one of 'kustomization.yaml'/);
  });

  test("names a path that does not exist", () => {
    expect(problemsOf(() => renderKustomization("k8s/nope"))[0]).toMatch(/^cannot read the manifest: ENOENT/);
  });
});

describe("readBase: plain `npm start`, without kubectl", () => {
  test("reads exactly the resources k8s/base/kustomization.yaml lists", () => {
    const kustomization = parse(readFileSync("k8s/base/kustomization.yaml", "utf8")) as { resources: string[] };
    expect(kustomization.resources).toEqual([...BASE_RESOURCES]);
  });

  test("gives the runner the same pod and node ports as kubectl kustomize k8s/base", () => {
    const plain = readBase("k8s/base");
    const rendered = renderKustomization("k8s/base")!;
    const pod = loadPodSpec("k8s/base", plain);
    expect(loadPodSpec("k8s/base", rendered)).toEqual(pod);
    expect(loadNodePorts("k8s/base", rendered, pod)).toEqual(loadNodePorts("k8s/base", plain, pod));
    expect(loadNodePorts("k8s/base", plain, pod)).toHaveLength(1);
  });
});
