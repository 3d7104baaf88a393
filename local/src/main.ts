// `npm start`: the pod of k8s/base/deployment.yaml on this machine, as the kubelet would run it.
// Not Kubernetes: one pod, its containers as processes on 127.0.0.1 (the pod IP), the kubelet's
// probe, kill, restart, back-off and event rules. The real thing is `kubectl apply -k k8s`.
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { join, relative, resolve } from "node:path";
import process from "node:process";
import { z } from "zod";
import { ConfigError, configErrorLines, envPort, parseEnv } from "../../lib/env.ts";
import { createProber } from "../../probe/src/handlers.ts";
import { loadConfig as loadAppConfig } from "../../services/src/config.ts";
import { loadConfig as loadSidecarConfig } from "../../sidecar/src/config.ts";
import { deploymentFile, loadPodSpec, ManifestError, manifestErrorLines, type ContainerSpec } from "./manifest.ts";
import { projectRoot } from "./paths.ts";
import { createLocalPod, type PodContainerSpec } from "./pod.ts";
import { renderKustomization } from "./render.ts";

const PROGRAM = "crashy-local";
/** Every container of the pod shares the pod's IP; here that is loopback. */
const POD_IP = "127.0.0.1";
const root = projectRoot();

// What each image runs here: the bundled Node entry of its program, as in the image.
const ENTRIES: Record<string, string> = {
  "crashy-app": "dist/bundle/app.mjs",
  "crashy-sidecar": "dist/bundle/sidecar.mjs",
};

// Overrides for the demo, checked by the programs' own schemas below.
const overridesSchema = z.object({ APP_PORT: envPort(0), SIDECAR_PORT: envPort(0) });

function fail(lines: string[], code = 2): never {
  for (const line of lines) console.error(line);
  process.exit(code);
}

function entryOf(container: ContainerSpec): string[] {
  const image = container.image.split(":")[0]!.split("/").pop()!;
  const entry = ENTRIES[image];
  if (!entry) fail([`${PROGRAM}: container ${container.name}: no local program for image ${container.image}`]);
  return [process.execPath, join(root, entry)];
}

/** Free if we can listen on it: a port bound by another program but not listening is not free. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: POD_IP, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function parseOrFail<T>(program: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ConfigError) fail(configErrorLines(program, error));
    if (error instanceof ManifestError) fail(manifestErrorLines(program, error));
    throw error;
  }
}

async function main(): Promise<void> {
  // `npm start -- <manifest file or kustomization directory>`; k8s/base by default.
  const file = process.argv[2] === undefined ? deploymentFile() : resolve(process.argv[2]);
  const spec = parseOrFail(PROGRAM, () => loadPodSpec(file, renderKustomization(file)));
  const overrides = parseOrFail(PROGRAM, () => parseEnv(overridesSchema, process.env));
  const podName = `${spec.deployment}-local`;

  // The manifest's ports, moved by the demo overrides: the app's (its containers') and the sidecar's.
  const moved = new Map<number, number>();
  const move = (containers: ContainerSpec[], to: number) => {
    const from = containers[0]?.ports[0]?.containerPort;
    if (from !== undefined && to) moved.set(from, to);
  };
  move(spec.containers, overrides.APP_PORT);
  move(spec.sidecars, overrides.SIDECAR_PORT);
  const portOf = (port: number) => moved.get(port) ?? port;
  const moveUrl = (url: string) => {
    if (!url) return url;
    const u = new URL(url);
    const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
    if (moved.has(port)) u.port = String(portOf(port));
    return u.href;
  };

  const base = { PATH: process.env.PATH ?? "", HOSTNAME: podName, HOST: POD_IP };
  const containers: PodContainerSpec[] = [...spec.sidecars, ...spec.containers].map((container) => {
    const env: Record<string, string> = { ...base, ...container.env };
    const port = container.ports[0]?.containerPort;
    if (port !== undefined) env.PORT = String(portOf(port));
    if (container.sidecar) {
      // Every URL the sidecar is given (LIVENESS_PROBE_URL, METRICS_URL, ...) follows the moved ports.
      for (const name of Object.keys(env).filter((n) => n.endsWith("_URL"))) env[name] = moveUrl(env[name]!);
      parseOrFail("crashy-sidecar", () => loadSidecarConfig(env));
    } else {
      // The demo's overrides of the app (CRASH_AFTER=5 npm start), checked by the app's own schema.
      for (const name of ["CRASH_AFTER", "CRASH_MODE"]) {
        const value = process.env[name];
        if (value !== undefined) env[name] = value;
      }
      parseOrFail("crashy", () => loadAppConfig(env));
    }
    // The kubelet probes the pod IP unless the probe names a host; the ports move with the overrides.
    const probes = Object.fromEntries(
      Object.entries(container.probes).map(([type, probe]) => [
        type,
        { ...probe, action: { ...probe.action, host: probe.action.host || POD_IP, port: portOf(probe.action.port) } },
      ]),
    );
    return { name: container.name, image: container.image, sidecar: container.sidecar, argv: entryOf(container), env, cwd: root, probes };
  });

  // A port already taken would make every start fail: say so once, before starting anything.
  for (const port of containers.map((c) => Number(c.env.PORT)).filter(Boolean)) {
    if (!(await portFree(port))) {
      fail([`${PROGRAM}: port ${port} on ${POD_IP} is in use; stop what uses it or move the pod with APP_PORT=... SIDECAR_PORT=...`], 1);
    }
  }

  const colour = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const pod = createLocalPod({
    name: podName,
    uid: randomUUID(),
    containers,
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
    createProber: (probe) => createProber(probe.action, probe.timeoutSeconds),
    write: (line) => console.log(line),
    colour,
  });

  const app = containers.find((c) => !c.sidecar);
  const sidecar = containers.find((c) => c.sidecar);
  console.log(
    `${PROGRAM}: pod ${podName} from ${relative(root, file)}: app http://${POD_IP}:${app?.env.PORT ?? "-"}, sidecar page http://${POD_IP}:${sidecar?.env.PORT ?? "-"} (Ctrl-C stops)`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${PROGRAM}: ${signal} received, stopping the pod`);
    void pod.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // No container may outlive the runner, whatever ends it.
  process.on("exit", () => pod.killNow());
  pod.start();
}

await main();
