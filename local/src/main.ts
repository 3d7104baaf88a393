// `npm start`: the pod of k8s/base/deployment.yaml on this machine, as the kubelet would run it.
// Not Kubernetes: one pod, its two containers as processes on 127.0.0.1, the kubelet's probe,
// kill, restart and back-off rules. The real thing is `kubectl apply -k k8s`.
import { createConnection } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { z } from "zod";
import { ConfigError, configErrorLines, envPort, parseEnv } from "../../lib/env.ts";
import { loadConfig as loadAppConfig } from "../../services/src/config.ts";
import { loadConfig as loadSidecarConfig } from "../../sidecar/src/config.ts";
import type { ContainerSpec } from "./container.ts";
import { envOf, loadPod, ManifestError, type Container } from "./manifest.ts";
import { projectRoot } from "./paths.ts";
import { createLocalPod } from "./pod.ts";

const PROGRAM = "crashy-local";
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

function entryOf(container: Container): string[] {
  const image = container.image.split(":")[0]!.split("/").pop()!;
  const entry = ENTRIES[image];
  if (!entry) fail([`${PROGRAM}: container ${container.name}: no local program for image ${container.image}`]);
  return [process.execPath, join(root, entry)];
}

/** Points a URL at the moved app port, if it was aimed at the manifest's one. */
function movePort(url: string, from: number, to: number): string {
  if (!url) return url;
  const u = new URL(url);
  if (Number(u.port || 80) === from) u.port = String(to);
  return u.href;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

async function waitForPort(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await portFree(port))) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

async function main(): Promise<void> {
  let spec;
  try {
    spec = loadPod();
  } catch (error) {
    if (error instanceof ManifestError) fail([`${PROGRAM}: ${error.message}`]);
    throw error;
  }

  let overrides;
  try {
    overrides = parseEnv(overridesSchema, process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(configErrorLines(PROGRAM, error));
    throw error;
  }
  const podName = `${spec.deployment}-local`;
  const appPort = overrides.APP_PORT || spec.app.port;
  const base = { PATH: process.env.PATH ?? "", HOSTNAME: podName, HOST: "127.0.0.1" };

  // The app's env: the manifest's, then the demo overrides (CRASH_AFTER=5 npm start).
  const appEnv: Record<string, string> = { ...base, ...envOf(spec.app), PORT: String(appPort) };
  for (const name of ["CRASH_AFTER", "CRASH_MODE"]) {
    const value = process.env[name];
    if (value !== undefined) appEnv[name] = value;
  }
  try {
    loadAppConfig(appEnv);
  } catch (error) {
    if (error instanceof ConfigError) fail(configErrorLines("crashy", error));
    throw error;
  }

  const sidecars: ContainerSpec[] = spec.sidecars.map((container) => {
    const env: Record<string, string> = { ...base, ...envOf(container) };
    const port = overrides.SIDECAR_PORT || container.ports[0]?.containerPort || 9102;
    env.PORT = String(port);
    for (const name of ["PROBE_URL", "METRICS_URL"]) {
      if (env[name] !== undefined) env[name] = movePort(env[name], spec.app.port, appPort);
    }
    try {
      loadSidecarConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) fail(configErrorLines("crashy-sidecar", error));
      throw error;
    }
    return { name: container.name, argv: entryOf(container), env, cwd: root };
  });

  // A port already taken would make every start fail: say so once, before starting anything.
  const ports = [appPort, ...sidecars.map((s) => Number(s.env.PORT))];
  for (const port of ports) {
    if (!(await portFree(port))) {
      fail([`${PROGRAM}: port ${port} on 127.0.0.1 is in use; stop what listens there or move the pod with APP_PORT=... SIDECAR_PORT=...`], 1);
    }
  }

  const colour = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const pod = createLocalPod({
    name: podName,
    sidecars,
    app: { name: spec.app.name, argv: entryOf(spec.app), env: appEnv, cwd: root },
    probe: { ...spec.app.probe, url: `http://127.0.0.1:${appPort}${spec.app.probe.path}` },
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
    sidecarReady: async (sidecar) => {
      if (!(await waitForPort(Number(sidecar.env.PORT), 5_000))) {
        console.error(`${PROGRAM}: sidecar ${sidecar.name} did not listen on ${sidecar.env.PORT} within 5 s`);
      }
    },
    write: (line) => console.log(line),
    colour,
  });

  console.log(
    `${PROGRAM}: pod ${podName} from k8s/base/deployment.yaml: app http://127.0.0.1:${appPort}, sidecar page http://127.0.0.1:${sidecars[0]?.env.PORT ?? "-"} (Ctrl-C stops)`,
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
  await pod.start();
}

await main();
