// The Deployment's replicas on this machine: each pod's name, its ports, and its containers as the
// local pod runs them. On a node every pod has its own IP and the same ports; here every pod is on
// 127.0.0.1, so each gets its own ports: the manifest's (or the demo's APP_PORT and SIDECAR_PORT)
// for the first pod, counting up by one for each next pod.
import type { ProbeSpec, ProbeType } from "../../probe/src/types.ts";
import type { ContainerSpec, PodSpec } from "./manifest.ts";
import type { PodContainerSpec } from "./pod.ts";

/** More pods than this is not a laptop's lesson: each is two processes. */
export const MAX_LOCAL_REPLICAS = 10;

/** apimachinery pkg/util/rand alphanums: the letters of generated names (no vowels, no 0, 1, 3). */
const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/**
 * The pods' names. One replica keeps `<deployment>-local`, the name the lab's transcripts use.
 * More are named as a Deployment's pods are, `<deployment>-<pod-template-hash>-<5 random>`
 * (ReplicaSet controller_utils.go getPodsPrefix, then apiserver names.SimpleNameGenerator and
 * utilrand.String(5)), with `local` in place of the hash: `crashy-app-local-x7k2p`.
 */
export function podNames(deployment: string, replicas: number, random: () => number = Math.random): string[] {
  if (replicas === 1) return [`${deployment}-local`];
  const names = new Set<string>();
  for (let draws = 0; names.size < replicas; draws++) {
    if (draws > 1000 * replicas) throw new Error("podNames: the random source keeps repeating itself");
    const suffix = Array.from({ length: 5 }, () => ALPHANUMS[Math.floor(random() * ALPHANUMS.length)]!).join("");
    names.add(`${deployment}-local-${suffix}`);
  }
  return [...names];
}

/** The demo's port overrides; 0 keeps the manifest's. */
export type PortOverrides = { app: number; sidecar: number };

/**
 * Each pod's port map, manifest port to local port: the first pod's ports are the manifest's, the
 * first app port moved to `overrides.app` and the first sidecar port to `overrides.sidecar` when
 * given; pod i adds i to each. Throws a one-line Error when two would clash or leave 1-65535.
 */
export function podPorts(spec: PodSpec, replicas: number, overrides: PortOverrides, reserved: ReadonlyMap<number, string> = new Map()): Map<number, number>[] {
  const first = new Map<number, number>();
  for (const c of [...spec.sidecars, ...spec.containers]) for (const p of c.ports) first.set(p.containerPort, p.containerPort);
  const move = (containers: ContainerSpec[], to: number) => {
    const from = containers[0]?.ports[0]?.containerPort;
    if (from !== undefined && to) first.set(from, to);
  };
  move(spec.containers, overrides.app);
  move(spec.sidecars, overrides.sidecar);

  const used = new Map<number, string>(reserved);
  return Array.from({ length: replicas }, (_, i) => {
    const ports = new Map<number, number>();
    for (const [from, to] of first) {
      const port = to + i;
      const what = `pod ${i + 1}'s port ${from}`;
      if (port > 65535) throw new Error(`${what} would be ${port}, above 65535; move the pods lower with APP_PORT=... SIDECAR_PORT=...`);
      const clash = used.get(port);
      if (clash) throw new Error(`${what} and ${clash} would both be ${port}; move one with APP_PORT=... SIDECAR_PORT=... SERVICE_PORT=...`);
      used.set(port, what);
      ports.set(from, port);
    }
    return ports;
  });
}

const LOOPBACK_URL = /\b([a-z][a-z0-9+.-]*):\/\/(127\.0\.0\.1|localhost|\[::1\]):(\d+)/g;

/**
 * A value with every URL to one of the pod's ports on loopback (the pod's own network) moved to
 * the pod's local port: `http://127.0.0.1:8080/health` becomes `http://127.0.0.1:8081/health` in
 * the second pod. Any variable, any URL scheme (`tcp://` too), inside any text (JSON too): the
 * sidecar's probe and scrape URLs follow their pod whatever form its configuration takes.
 */
export function moveUrls(value: string, ports: ReadonlyMap<number, number>): string {
  return value.replace(LOOPBACK_URL, (url, scheme: string, host: string, port: string) => {
    const moved = ports.get(Number(port));
    return moved === undefined ? url : `${scheme}://${host}:${moved}`;
  });
}

export type PodPlanOptions = {
  /** The pod's name: its HOSTNAME, as the kubelet sets it. */
  name: string;
  ports: ReadonlyMap<number, number>;
  podIp: string;
  /** Variables every container gets first (PATH); the manifest's env comes over them. */
  env: Record<string, string>;
  /** The demo's overrides of the app's env (CRASH_AFTER=5 npm start): over the manifest's. */
  appEnv: Record<string, string>;
  argv: (container: ContainerSpec) => string[];
  cwd: string;
};

/** One pod's containers, native sidecars first, as createLocalPod takes them. */
export function podContainers(spec: PodSpec, options: PodPlanOptions): PodContainerSpec[] {
  const portOf = (port: number) => options.ports.get(port) ?? port;
  return [...spec.sidecars, ...spec.containers].map((container) => {
    const env: Record<string, string> = { ...options.env, HOSTNAME: options.name, HOST: options.podIp };
    for (const [name, value] of Object.entries(container.env)) env[name] = moveUrls(value, options.ports);
    if (!container.sidecar) Object.assign(env, options.appEnv);
    const port = container.ports[0]?.containerPort;
    if (port !== undefined) env.PORT = String(portOf(port));
    // The kubelet probes the pod IP unless the probe names a host; the ports move with the pod.
    const probes = Object.fromEntries(
      (Object.entries(container.probes) as [ProbeType, ProbeSpec][]).map(([type, probe]) => [
        type,
        { ...probe, action: { ...probe.action, host: probe.action.host || options.podIp, port: portOf(probe.action.port) } },
      ]),
    );
    return { name: container.name, image: container.image, sidecar: container.sidecar, argv: options.argv(container), env, cwd: options.cwd, probes };
  });
}
