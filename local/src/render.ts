// What `npm start -- <path>` runs: a manifest file as it is, or a kustomization directory rendered
// by `kubectl kustomize`, the renderer `kubectl apply -k` itself uses, so local and cluster agree.
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ManifestError } from "./manifest.ts";

/** The YAML at `path`, or undefined for a plain file (the manifest reader reads it itself). */
export function renderKustomization(path: string): string | undefined {
  let directory: boolean;
  try {
    directory = statSync(path).isDirectory();
  } catch (error) {
    throw new ManifestError(path, [`cannot read the manifest: ${(error as Error).message}`]);
  }
  if (!directory) return undefined;
  const result = spawnSync("kubectl", ["kustomize", path], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    throw new ManifestError(path, [
      "a kustomization needs kubectl to render it (kubectl kustomize), and kubectl is not on PATH; install kubectl 1.27 or newer, or pass a manifest file",
    ]);
  }
  if (result.error) throw new ManifestError(path, [`kubectl kustomize: ${result.error.message}`]);
  if (result.status !== 0) {
    const first = (result.stderr || result.stdout).trim().split("\n")[0] ?? "";
    // kubectl logs as klog does: `E1128 ... run.go:72] "command failed" err="<the reason>"`.
    const reason = /err="(.*)"$/.exec(first)?.[1]?.replace(/\\"/g, '"') ?? first;
    throw new ManifestError(path, [`kubectl kustomize failed: ${reason}`]);
  }
  return result.stdout;
}

/** The files of k8s/base/kustomization.yaml's `resources:`, which plain `npm start` reads. */
export const BASE_RESOURCES = ["deployment.yaml", "service.yaml"] as const;

/**
 * k8s/base as `kubectl kustomize` renders it, less the labels it adds (to metadata and templates,
 * never to selectors): its files joined, so that plain `npm start` needs no kubectl.
 */
export function readBase(dir: string): string {
  return BASE_RESOURCES.map((file) => readFileSync(join(dir, file), "utf8")).join("\n---\n");
}
