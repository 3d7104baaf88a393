// The replicas on one machine: their names, their ports (the first pod's, then counting up), and
// each container's env and probes moved to its pod's ports.
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadPodSpec } from "../src/manifest.ts";
import { moveUrls, podContainers, podNames, podPorts } from "../src/replicas.ts";
import { readBase } from "../src/render.ts";

const BASE = join(import.meta.dirname, "..", "..", "k8s", "base");
const spec = loadPodSpec(BASE, readBase(BASE));

describe("podNames", () => {
  test("one replica keeps the lab's name", () => {
    expect(podNames("crashy-app", 1)).toEqual(["crashy-app-local"]);
  });

  test("several are named as a ReplicaSet names its pods: a 5-letter suffix from apimachinery's alphabet, all different", () => {
    const names = podNames("crashy-app", 10);
    expect(new Set(names).size).toBe(10);
    for (const name of names) expect(name).toMatch(/^crashy-app-local-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  test("a suffix drawn twice is drawn again", () => {
    const draws = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.99, 0.99, 0.99, 0.99, 0.99];
    let i = 0;
    expect(podNames("web", 2, () => draws[i++]!)).toEqual(["web-local-bbbbb", "web-local-99999"]);
  });
});

describe("podPorts", () => {
  test("the first pod has the manifest's ports, each next one counts up", () => {
    const ports = podPorts(spec, 3, { app: 0, sidecar: 0 });
    expect(ports.map((p) => Object.fromEntries(p))).toEqual([
      { 8080: 8080, 9102: 9102 },
      { 8080: 8081, 9102: 9103 },
      { 8080: 8082, 9102: 9104 },
    ]);
  });

  test("APP_PORT and SIDECAR_PORT move the first pod, and the others after it", () => {
    const ports = podPorts(spec, 2, { app: 18080, sidecar: 19102 });
    expect(ports.map((p) => Object.fromEntries(p))).toEqual([
      { 8080: 18080, 9102: 19102 },
      { 8080: 18081, 9102: 19103 },
    ]);
  });

  test("says which two ports would clash, a node port included, or which would pass 65535", () => {
    expect(() => podPorts(spec, 3, { app: 9100, sidecar: 0 })).toThrow("pod 3's port 8080 and pod 1's port 9102 would both be 9102; move one with APP_PORT=... SIDECAR_PORT=... SERVICE_PORT=...");
    expect(() => podPorts(spec, 2, { app: 30079, sidecar: 0 }, new Map([[30080, "the node port of service crashy-app"]]))).toThrow(
      "pod 2's port 8080 and the node port of service crashy-app would both be 30080",
    );
    expect(() => podPorts(spec, 2, { app: 0, sidecar: 65535 })).toThrow("pod 2's port 9102 would be 65536, above 65535");
  });
});

describe("moveUrls", () => {
  const ports = new Map([
    [8080, 8081],
    [9102, 9103],
  ]);
  test("moves every URL to one of the pod's ports on loopback, any scheme, inside any text", () => {
    expect(moveUrls("http://127.0.0.1:8080/health", ports)).toBe("http://127.0.0.1:8081/health");
    expect(moveUrls("tcp://localhost:8080", ports)).toBe("tcp://localhost:8081");
    expect(moveUrls('[{"type":"Readiness","url":"http://127.0.0.1:8080/ready"},{"url":"https://[::1]:9102/x"}]', ports)).toBe(
      '[{"type":"Readiness","url":"http://127.0.0.1:8081/ready"},{"url":"https://[::1]:9103/x"}]',
    );
  });

  test("leaves other ports, other hosts and plain values alone", () => {
    for (const value of ["http://127.0.0.1:7070/x", "http://10.0.0.1:8080/x", "8080", "", "http://127.0.0.1/health"]) expect(moveUrls(value, ports)).toBe(value);
  });
});

describe("podContainers", () => {
  test("the second pod's containers: its name, its ports, its probes, the sidecar's URLs moved with them", () => {
    const [, ports] = podPorts(spec, 2, { app: 0, sidecar: 0 });
    const containers = podContainers(spec, {
      name: "crashy-app-local-x7k2p",
      ports: ports!,
      podIp: "127.0.0.1",
      env: { PATH: "/bin" },
      appEnv: { CRASH_AFTER: "5" },
      argv: (c) => ["run", c.name],
      cwd: "/",
    });
    const [sidecar, app] = containers;
    expect(sidecar).toMatchObject({ name: "probe-sidecar", sidecar: true, argv: ["run", "probe-sidecar"] });
    expect(sidecar!.env).toMatchObject({ PATH: "/bin", HOSTNAME: "crashy-app-local-x7k2p", PORT: "9103", LIVENESS_PROBE_URL: "http://127.0.0.1:8081/health", METRICS_URL: "http://127.0.0.1:8081/metrics" });
    expect(sidecar!.env.CRASH_AFTER).toBeUndefined();
    expect(sidecar!.probes.Liveness!.action).toMatchObject({ host: "127.0.0.1", port: 9103, path: "/healthz" });
    expect(app).toMatchObject({ name: "crashy-app", sidecar: false });
    expect(app!.env).toMatchObject({ HOSTNAME: "crashy-app-local-x7k2p", HOST: "127.0.0.1", PORT: "8081", CRASH_AFTER: "5" });
    expect(app!.probes.Liveness!.action).toMatchObject({ host: "127.0.0.1", port: 8081, path: "/health" });
  });
});
