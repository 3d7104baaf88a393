// `npm start`: the Deployment and Service of k8s/base on this machine, as a node would run them.
// Not Kubernetes: the Deployment's `replicas` pods, their containers as processes on 127.0.0.1
// (every pod IP), each pod with the kubelet's probe, kill, restart, back-off and event rules, and
// the Service's node port forwarding to the Ready pods as kube-proxy does. The real thing is
// `kubectl apply -k k8s`.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative, resolve } from "node:path";
import process from "node:process";
import { z } from "zod";
import { ConfigError, configErrorLines, envPort, parseEnv } from "../../lib/env.ts";
import { createProber } from "../../probe/src/handlers.ts";
import { loadConfig as loadAppConfig } from "../../services/src/config.ts";
import { loadConfig as loadSidecarConfig } from "../../sidecar/src/config.ts";
import { createPodTablePrinter, pendingRow } from "./format.ts";
import { loadPodSpec, ManifestError, manifestErrorLines, type ContainerSpec } from "./manifest.ts";
import { projectRoot } from "./paths.ts";
import { createLocalPod, type LocalPod } from "./pod.ts";
import { MAX_LOCAL_REPLICAS, podContainers, podNames, podPorts } from "./replicas.ts";
import { readBase, renderKustomization } from "./render.ts";
import { loadNodePorts } from "./service-manifest.ts";
import { createNodePort, type Endpoint, type NodePort } from "./service.ts";

const PROGRAM = "crashy-local";
/** Every pod's IP here is loopback; the node's address, where node ports listen, too. */
const POD_IP = "127.0.0.1";
const root = projectRoot();

// What each image runs here: the npm script that runs its program as the image does (the bundled
// Node entry, with the image's V8 heap flags; k8s/test/abuse.test.ts keeps the two equal).
const ENTRIES: Record<string, string> = {
  "crashy-app": "app",
  "crashy-sidecar": "sidecar",
};

// Overrides for the demo, checked by the programs' own schemas below.
const overridesSchema = z.object({ APP_PORT: envPort(0), SIDECAR_PORT: envPort(0), SERVICE_PORT: envPort(0) });
/** The app's variables the demo may override on the command line (CRASH_AFTER=5 npm start). */
const APP_OVERRIDES = ["CRASH_AFTER", "CRASH_MODE", "STARTUP_SECONDS"];

function fail(lines: string[], code = 2): never {
  for (const line of lines) console.error(line);
  process.exit(code);
}

function entryOf(container: ContainerSpec): string[] {
  const image = container.image.split(":")[0]!.split("/").pop()!;
  const entry = ENTRIES[image];
  if (!entry) fail([`${PROGRAM}: container ${container.name}: no local program for image ${container.image}`]);
  return nodeCommand(entry);
}

/** The node command line of an npm script (what follows its build step), with this node and absolute paths. */
export function nodeCommand(script: string, dir = root): string[] {
  const scripts = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  const words = (scripts[script] ?? "").split("&&").at(-1)!.trim().split(/\s+/);
  if (words[0] !== "node" || words.length < 2) throw new Error(`package.json script ${script} does not end in a node command: ${scripts[script]}`);
  return [process.execPath, ...words.slice(1).map((w) => (w.startsWith("-") ? w : join(dir, w)))];
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
  // `npm start -- <manifest file or kustomization directory>`; k8s/base by default, read without kubectl.
  const base = join(root, "k8s", "base");
  const file = process.argv[2] === undefined ? base : resolve(process.argv[2]);
  const text = process.argv[2] === undefined ? readBase(base) : parseOrFail(PROGRAM, () => renderKustomization(file));
  const shown = relative(root, file) || file;
  const spec = parseOrFail(PROGRAM, () => loadPodSpec(file, text));
  const nodePorts = parseOrFail(PROGRAM, () => loadNodePorts(file, text, spec));
  const overrides = parseOrFail(PROGRAM, () => parseEnv(overridesSchema, process.env));
  if (spec.replicas > MAX_LOCAL_REPLICAS) {
    fail([`${PROGRAM}: ${shown}: spec.replicas: not supported by the local runner: at most ${MAX_LOCAL_REPLICAS} pods (each is two processes), got ${spec.replicas}`]);
  }
  if (spec.replicas === 0) {
    console.log(`${PROGRAM}: deployment ${spec.deployment} from ${shown} has replicas: 0, so there is no pod to run`);
    return;
  }

  // SERVICE_PORT moves the first node port, as APP_PORT moves the app's.
  const services = nodePorts.map((p, i) => ({ ...p, listen: i === 0 && overrides.SERVICE_PORT ? overrides.SERVICE_PORT : p.nodePort }));
  const reserved = new Map<number, string>();
  for (const s of services) {
    const clash = reserved.get(s.listen);
    if (clash) fail([`${PROGRAM}: SERVICE_PORT=${overrides.SERVICE_PORT} is also ${clash}; choose another`]);
    reserved.set(s.listen, `the node port of service ${s.service}`);
  }
  let ports: Map<number, number>[];
  try {
    ports = podPorts(spec, spec.replicas, { app: overrides.APP_PORT, sidecar: overrides.SIDECAR_PORT }, reserved);
  } catch (error) {
    fail([`${PROGRAM}: ${(error as Error).message}`]);
  }
  const names = podNames(spec.deployment, spec.replicas);
  const appEnv = Object.fromEntries(APP_OVERRIDES.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]!]])));
  const plans = names.map((name, i) => {
    const containers = podContainers(spec, { name, ports: ports[i]!, podIp: POD_IP, env: { PATH: process.env.PATH ?? "" }, appEnv, argv: entryOf, cwd: root });
    // Each container's env, demo overrides and moved ports included, checked by its program's own schema.
    for (const c of containers) {
      if (c.sidecar) parseOrFail("crashy-sidecar", () => loadSidecarConfig(c.env));
      else parseOrFail("crashy", () => loadAppConfig(c.env));
    }
    return { name, ports: ports[i]!, containers };
  });

  // A port already taken would make every start fail: say so once, before starting anything.
  for (const s of services) {
    if (!(await portFree(s.listen))) {
      fail([`${PROGRAM}: port ${s.listen} on ${POD_IP} is in use, and it is the node port of service ${s.service}; stop what uses it or move the service with SERVICE_PORT=...`], 1);
    }
  }
  for (const port of plans.flatMap((p) => p.containers.map((c) => Number(c.env.PORT)).filter(Boolean))) {
    if (!(await portFree(port))) {
      fail([`${PROGRAM}: port ${port} on ${POD_IP} is in use; stop what uses it or move the pods with APP_PORT=... SIDECAR_PORT=...`], 1);
    }
  }

  const colour = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const write = (line: string) => console.log(line);
  const dim = (text: string) => (colour ? `\x1b[2m${text}\x1b[0m` : text);
  const table = createPodTablePrinter(
    plans.map((p) => pendingRow(p.name, p.containers.length, Date.now())),
    write,
    colour,
  );

  // The Services: each node port forwards to its target port on the pods that are Ready.
  const ready = new Set<string>();
  const proxies: { spec: (typeof services)[number]; proxy: NodePort }[] = services.map((s) => ({
    spec: s,
    proxy: createNodePort({
      host: POD_IP,
      port: s.listen,
      // The port was free at start; closed while no pod was Ready, another program may have taken it.
      onListenError: (error) => write(`${PROGRAM}: service ${s.service}: cannot listen on ${POD_IP}:${s.listen} (${error.code ?? error.message}); another program has it now`),
    }),
  }));
  const endpointsOf = (s: (typeof services)[number]): Endpoint[] =>
    plans.filter((p) => ready.has(p.name)).map((p) => ({ pod: p.name, host: POD_IP, port: p.ports.get(s.targetPort) ?? s.targetPort }));
  let stopping = false;
  const readyChanged = () => {
    // Stopping, the Services are already closed: nothing to say about them.
    if (stopping) return;
    for (const { spec: s, proxy } of proxies) {
      const endpoints = endpointsOf(s);
      const to = endpoints.length > 0 ? endpoints.map((e) => e.pod).join(", ") : "no Ready pod, connections refused";
      // Said when decided, in order with the events; the port follows within a tick, as kube-proxy
      // follows an EndpointSlice change with its next sync.
      write(dim(`    service ${s.service}: ${POD_IP}:${s.listen} -> ${to}`));
      void proxy.setEndpoints(endpoints);
    }
  };

  const pods: LocalPod[] = plans.map((plan, i) =>
    createLocalPod({
      name: plan.name,
      uid: randomUUID(),
      containers: plan.containers,
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      createProber: (probe) => createProber(probe.action, probe.timeoutSeconds),
      write,
      colour,
      eventHeader: i === 0,
      onRow: (row) => table.update(row),
      onReadyChange: (isReady) => {
        if (isReady) ready.add(plan.name);
        else ready.delete(plan.name);
        readyChanged();
      },
    }),
  );

  plans.forEach((plan, i) => {
    const app = plan.containers.find((c) => !c.sidecar);
    const sidecar = plan.containers.find((c) => c.sidecar);
    const last = i === plans.length - 1 && services.length === 0;
    console.log(
      `${PROGRAM}: pod ${plan.name} from ${shown}: app http://${POD_IP}:${app?.env.PORT ?? "-"}, sidecar page http://${POD_IP}:${sidecar?.env.PORT ?? "-"}${last ? " (Ctrl-C stops)" : ""}`,
    );
  });
  services.forEach((s, i) => {
    const targets = plans.map((p) => `${p.name} (${POD_IP}:${p.ports.get(s.targetPort) ?? s.targetPort})`).join(", ");
    const last = i === services.length - 1;
    console.log(`${PROGRAM}: service ${s.service}: http://${POD_IP}:${s.listen} -> the Ready ones of pods ${targets}${last ? " (Ctrl-C stops)" : ""}`);
  });

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${PROGRAM}: ${signal} received, stopping the ${pods.length === 1 ? "pod" : "pods"}`);
    // The Service first: deleted with the pods, it takes no new connection while they stop.
    void Promise.all(proxies.map(({ proxy }) => proxy.close()))
      .then(() => Promise.all(pods.map((pod) => pod.stop())))
      .then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // No container may outlive the runner, whatever ends it.
  process.on("exit", () => pods.forEach((pod) => pod.killNow()));
  for (const pod of pods) pod.start();
}

await main();
