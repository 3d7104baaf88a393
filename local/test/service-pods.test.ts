// `npm start` with replicas and the Service, for real: the runner, two pods' apps and sidecars as
// processes, and a client looping on the Service's node port, one new connection per request, as
// `while true; do curl localhost:30080; done` does.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePorts, hit, loop, processesWithPort, RUNNER, type Hit } from "../../test/pods.ts";
import { eventually, freePort, sleep, start } from "../../test/processes.ts";

const dir = mkdtempSync(join(tmpdir(), "crashy-service-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** k8s/base with 2 replicas and the app's liveness probe turned into a readiness probe on /health. */
function readinessManifest(): string {
  const deployment = readFileSync("k8s/base/deployment.yaml", "utf8")
    .replace("  replicas: 1\n", "  replicas: 2\n")
    .replace(
      "          livenessProbe:\n            httpGet:\n              path: /health\n              port: http\n            periodSeconds: 1\n            failureThreshold: 3\n            terminationGracePeriodSeconds: 1\n",
      "          readinessProbe:\n            httpGet:\n              path: /health\n              port: http\n            periodSeconds: 1\n            failureThreshold: 1\n",
    );
  expect(deployment).toContain("readinessProbe:");
  const file = join(dir, "readiness.yaml");
  writeFileSync(file, `${deployment}---\n${readFileSync("k8s/base/service.yaml", "utf8")}`);
  return file;
}

describe("npm start with replicas: 2 and the Service", () => {
  it("readiness takes a pod out of the Service and puts it back: no failed connection while one pod is Ready, refused while none is", async () => {
    const appPort = await freePorts(2);
    const sidecarPort = await freePorts(2);
    const servicePort = await freePort();
    const runner = await start(
      [...RUNNER, readinessManifest()],
      { CRASH_AFTER: "3", APP_PORT: String(appPort), SIDECAR_PORT: String(sidecarPort), SERVICE_PORT: String(servicePort), NO_COLOR: "1" },
      /service crashy-app: http/,
    );
    try {
      const pods = [...runner.output().matchAll(/pod (\S+) from .*: app http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => ({ name: m[1]!, port: Number(m[2]) }));
      expect(pods.map((p) => p.port)).toEqual([appPort, appPort + 1]);
      const [a, b] = pods as [{ name: string; port: number }, { name: string; port: number }];
      const serviceLine = (to: string) => `    service crashy-app: 127.0.0.1:${servicePort} -> ${to}`;
      // A line printed after `mark` (a count of lines printed before).
      const lines = () => runner.output().split("\n");
      const printed = (line: string, mark = 0) => async () => (lines().slice(mark).includes(line) ? true : undefined);

      // Both Ready: both get connections.
      // Four programs start first: room for a machine running other test files at once.
      await eventually(printed(serviceLine(`${a.name}, ${b.name}`)), 15_000, "both pods Ready");
      const bothReady = lines().length;
      await eventually(async () => ("pod" in (await hit(servicePort)) ? true : undefined), 1_000, "the port to open");
      const first: Hit[] = [];
      for (const end = Date.now() + 1_500; Date.now() < end && new Set(first.map((h) => ("pod" in h ? h.pod : ""))).size < 2; ) first.push(await hit(servicePort));
      expect(new Set(first.map((h) => ("pod" in h ? h.pod : "")))).toEqual(new Set([a.name, b.name]));
      expect(first.filter((h) => !("status" in h) || h.status !== 200)).toEqual([]);

      // Both crash at 3 s: /health answers 500, both turn not ready, the port refuses.
      await eventually(printed(serviceLine("no Ready pod, connections refused"), bothReady), 5_000, "no pod Ready");
      expect(await hit(servicePort)).toEqual({ error: "ECONNREFUSED" });

      // The first pod's app dies and is restarted; Ready again, it alone gets every connection.
      const pids = processesWithPort(a.port);
      expect(pids).toHaveLength(1);
      const mark = lines().length;
      process.kill(pids[0]!, "SIGKILL");
      await eventually(printed(serviceLine(a.name), mark), 5_000, "the first pod Ready again");
      // The port opens within a tick of the line.
      await eventually(async () => ("pod" in (await hit(servicePort)) ? true : undefined), 1_000, "the port to open");
      const hits = await loop(servicePort, 1_000);
      expect(hits.length).toBeGreaterThan(10);
      expect(hits.filter((h) => !("pod" in h) || h.status !== 200 || h.pod !== a.name)).toEqual([]);
      // Meanwhile the second is listed not ready, and nothing was restarted for readiness.
      const table = runner.output().split("\n").filter((l) => l.startsWith(`    ${b.name} `));
      expect(table.at(-1)).toMatch(new RegExp(`^    ${b.name}\\s+1/2\\s+Running\\s+0\\s`));
      expect(runner.output()).toMatch(new RegExp(`    ${a.name}\\s+2/2\\s+Running\\s+1 \\(`));
      expect(runner.output()).not.toMatch(/Killing|will be restarted/);
      expect(runner.output()).toContain(`Warning   Unhealthy   Pod/${b.name}   Readiness probe failed: HTTP probe failed with statuscode: 500`);
    } finally {
      await runner.stop("SIGINT");
    }
  }, 45_000);

  it("npm start: k8s/base's Service on its node port (moved by SERVICE_PORT) reaches crashy-app-local", async () => {
    const [appPort, sidecarPort, servicePort] = [await freePort(), await freePort(), await freePort()];
    const runner = await start(
      RUNNER,
      { APP_PORT: String(appPort), SIDECAR_PORT: String(sidecarPort), SERVICE_PORT: String(servicePort), NO_COLOR: "1" },
      /-> crashy-app-local$/m,
    );
    try {
      expect(runner.output()).toContain(
        `crashy-local: service crashy-app: http://127.0.0.1:${servicePort} -> the Ready ones of pods crashy-app-local (127.0.0.1:${appPort}) (Ctrl-C stops)`,
      );
      // No readiness probe: Ready once the container runs, which can be before the app listens.
      const answered = async () => {
        const h = await hit(servicePort);
        return "pod" in h ? h : undefined;
      };
      expect(await eventually(answered, 3_000, "the app")).toEqual({
        status: 200,
        pod: "crashy-app-local",
      });
    } finally {
      const { code } = await runner.stop("SIGINT");
      expect(code).toBe(0);
    }
    await sleep(100);
    expect(await hit(servicePort)).toEqual({ error: "ECONNREFUSED" });
  });

  it("a node port in use: one line naming it, exit 1, nothing started", async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const servicePort = (holder.address() as { port: number }).port;
    const appPort = await freePort();
    try {
      const runner = await start(RUNNER, { APP_PORT: String(appPort), SIDECAR_PORT: String(await freePort()), SERVICE_PORT: String(servicePort) });
      expect(await runner.exited).toBe(1);
      expect(runner.output().trim()).toBe(
        `crashy-local: port ${servicePort} on 127.0.0.1 is in use, and it is the node port of service crashy-app; stop what uses it or move the service with SERVICE_PORT=...`,
      );
      expect(processesWithPort(appPort)).toEqual([]);
    } finally {
      holder.close();
    }
  });

  it("replicas: 0 runs nothing and says so; more than 10 is this runner's limit, exit 2", async () => {
    const base = readFileSync("k8s/base/deployment.yaml", "utf8");
    const none = join(dir, "none.yaml");
    writeFileSync(none, base.replace("  replicas: 1\n", "  replicas: 0\n"));
    let runner = await start([...RUNNER, none], { SERVICE_PORT: String(await freePort()) });
    expect(await runner.exited).toBe(0);
    expect(runner.output().trim()).toMatch(/^crashy-local: deployment crashy-app from \S+none\.yaml has replicas: 0, so there is no pod to run$/);
    const many = join(dir, "many.yaml");
    writeFileSync(many, base.replace("  replicas: 1\n", "  replicas: 11\n"));
    runner = await start([...RUNNER, many], {});
    expect(await runner.exited).toBe(2);
    expect(runner.output().trim()).toMatch(/^crashy-local: \S+many\.yaml: spec\.replicas: not supported by the local runner: at most 10 pods \(each is two processes\), got 11$/);
  });

  it("refuses a bad SERVICE_PORT, naming it, exit 2", async () => {
    const runner = await start(RUNNER, { SERVICE_PORT: "30080x" });
    expect(await runner.exited).toBe(2);
    expect(runner.output().trim()).toBe('crashy-local: SERVICE_PORT="30080x" is invalid: expected a port number from 1 to 65535');
  });
});
