// `npm start` for real: the runner, the app and the sidecar as processes on loopback, crossing the
// crash, the liveness kill and the restart in real time, with the manifest's 1 s probe period.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SidecarStatus } from "../../sidecar/src/status.ts";
import { processesWithPort, RUNNER } from "../../test/pods.ts";
import { eventually, freePort, start, type Started } from "../../test/processes.ts";


type Line = { at: number; text: string };

async function startPod(env: Record<string, string>, detached = false, args: string[] = []) {
  const appPort = await freePort();
  const sidecarPort = await freePort();
  // The Service's node port too: 30080 may be in use, by another test's runner or by kind.
  const servicePort = await freePort();
  const began = Date.now();
  const runner = await start(
    [...RUNNER, ...args],
    { APP_PORT: String(appPort), SIDECAR_PORT: String(sidecarPort), SERVICE_PORT: String(servicePort), ...env },
    /Started container crashy-app/,
    15_000,
    detached,
  );
  // Timestamp each output line as it arrives, to measure when things happened.
  const lines: Line[] = [];
  let seen = 0;
  const poll = setInterval(() => {
    const all = runner.output().split("\n");
    for (; seen < all.length - 1; seen++) lines.push({ at: Date.now(), text: all[seen]! });
  }, 10);
  const stop = async (signal: NodeJS.Signals = "SIGINT") => {
    const result = await runner.stop(signal);
    clearInterval(poll);
    return result;
  };
  return { runner, lines, began, appPort, sidecarPort, stop, app: `http://127.0.0.1:${appPort}`, sidecar: `http://127.0.0.1:${sidecarPort}` };
}

const reasons = (lines: Line[]) =>
  lines.map((l) => l.text.match(/\b(Normal|Warning)\s+(\w+)\s+Pod\/\S+\s+(.*)$/)).filter((m) => m !== null).map((m) => `${m![2]}: ${m![3]}`);


async function restartsSeenBySidecar(sidecar: string): Promise<number> {
  const text = await (await fetch(`${sidecar}/metrics`)).text();
  return Number(text.match(/^crashy_target_restarts_total (\S+)$/m)?.[1] ?? Number.NaN);
}

describe("the local pod", () => {
  it("restarts the app at CRASH_AFTER + 3 probes, the app answers again, and the sidecar counts the restart", async () => {
    const pod = await startPod({ CRASH_AFTER: "1" });
    try {
      const killed = await eventually(async () => pod.lines.find((l) => l.text.includes("failed liveness probe, will be restarted")), 10_000, "Killing");
      // Crash at 1 s, then failures at the next three 1 s probes: about 3-4 s after the start.
      const seconds = (killed.at - pod.began) / 1000;
      expect(seconds).toBeGreaterThan(2.5);
      expect(seconds).toBeLessThan(6.5);

      await eventually(async () => (reasons(pod.lines).filter((r) => r.startsWith("Started: Started container crashy-app")).length >= 2 ? true : undefined), 5_000, "the second start");
      await eventually(async () => ((await fetch(`${pod.app}/health`)).status === 200 ? true : undefined), 3_000, "the new app to answer");
      expect(await eventually(async () => ((await restartsSeenBySidecar(pod.sidecar)) >= 1 ? true : undefined), 5_000, "the sidecar to count the restart")).toBe(true);

      const events = reasons(pod.lines);
      const killIndex = events.indexOf("Killing: Container crashy-app failed liveness probe, will be restarted");
      expect(events.slice(killIndex - 3, killIndex)).toEqual(Array(3).fill("Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500"));
      expect(events.slice(killIndex + 1, killIndex + 4)).toEqual([
        'Pulled: Container image "crashy-app:1.0.0" already present on machine',
        "Created: Created container: crashy-app",
        "Started: Started container crashy-app",
      ]);
      expect(events.slice(0, 3)).toEqual([
        'Pulled: Container image "crashy-sidecar:1.0.0" already present on machine',
        "Created: Created container: probe-sidecar",
        "Started: Started container probe-sidecar",
      ]);
      expect(pod.runner.output()).toMatch(/crashy-app-local\s+2\/2\s+Running\s+1 \(\d+s ago\)/);
    } finally {
      await pod.stop();
    }
  });

  it("CRASH_AFTER=0: restarts at once twice, then waits out the back-off from the third kill (kuberuntime doBackOff), and marks what the spam filter drops", async () => {
    const pod = await startPod({ CRASH_AFTER: "0" });
    try {
      const startedApp = () => pod.lines.filter((l) => /(Normal\s+Started\s+\S+\s+Started container crashy-app)$/.test(l.text));
      const kills = () => pod.lines.filter((l) => l.text.includes("Container crashy-app failed liveness probe, will be restarted"));
      await eventually(async () => (startedApp().length >= 4 ? true : undefined), 40_000, "the third restart");
      const [k1, k2, k3] = kills();
      const next = (after: Line) => startedApp().find((l) => l.at > after.at)!.at - after.at;
      // The kill itself takes up to the 2 s minimum grace; the app stops on SIGTERM in well under it.
      expect(next(k1!)).toBeLessThan(2_500);
      expect(next(k2!)).toBeLessThan(2_500);
      expect(next(k3!)).toBeGreaterThanOrEqual(10_000);
      const backoff = pod.lines.find((l) => l.text.includes("Back-off restarting failed container crashy-app in pod crashy-app-local_default("));
      expect(backoff!.at).toBeGreaterThanOrEqual(k3!.at);
      expect(pod.runner.output()).toMatch(/crashy-app-local\s+1\/2\s+CrashLoopBackOff/);
      // More than 25 events about the pod by now: client-go's spam filter would drop the rest.
      expect(pod.runner.output()).toContain("(dropped = not sent to the API server");
      expect(pod.lines.some((l) => /^dropped( \(x\d+\))?\s+(Normal|Warning)/.test(l.text))).toBe(true);
    } finally {
      await pod.stop();
    }
  }, 60_000);

  it("npm start -- k8s/overlays/tcp-probe: a tcpSocket liveness probe passes while /health answers 500, so nothing restarts", async () => {
    const pod = await startPod({ CRASH_AFTER: "1" }, false, ["k8s/overlays/tcp-probe"]);
    try {
      await eventually(async () => ((await fetch(`${pod.app}/health`)).status === 500 ? true : undefined), 5_000, "the crash");
      // Well past CRASH_AFTER + 3 periods: a liveness probe on /health would have killed it by now.
      await new Promise((r) => setTimeout(r, 4_500));
      // As on a node, a first probe (the app's, or the sidecar's own) may come before its target
      // listens and be refused; none fails once it does, and nothing is killed.
      const aboutApp = (r: string) => r.includes("crashy-app") || r.includes(`:${pod.appPort}`);
      expect(reasons(pod.lines).filter((r) => r.startsWith("Killing"))).toEqual([]);
      const refused = reasons(pod.lines).filter((r) => r.startsWith("Unhealthy") && aboutApp(r));
      expect(refused.length).toBeLessThanOrEqual(1);
      for (const r of refused) expect(r).toMatch(/connect: connection refused$/);
      expect(pod.runner.output()).toMatch(/crashy-app-local\s+2\/2\s+Running\s+0\s/);
      // The sidecar probes what the kubelet probes: a TCP connection, which succeeds.
      const status = (await (await fetch(`${pod.sidecar}/api/status`)).json()) as SidecarStatus;
      const liveness = status.probes.find((p) => p.type === "Liveness")!;
      expect(liveness.config.url).toBe(`tcp://127.0.0.1:${pod.appPort}`);
      expect(liveness.verdict.state).toBe("healthy");
      // Its very first probe may come before the app listens; none fails once it does.
      const failed = liveness.history.filter((p) => p.result !== "success");
      expect(failed.length).toBeLessThanOrEqual(1);
      for (const p of failed) expect(p.output).toMatch(/connect: connection refused$/);
      expect(liveness.counters.successful).toBeGreaterThanOrEqual(5);
    } finally {
      await pod.stop();
    }
  });

  it("refuses a manifest the API server would refuse: one line per problem, naming the field, exit 2, nothing started", async () => {
    const dir = mkdtempSync(join(tmpdir(), "crashy-manifest-"));
    const file = join(dir, "deployment.yaml");
    const text = readFileSync("k8s/base/deployment.yaml", "utf8").replace("            failureThreshold: 3\n            terminationGracePeriodSeconds: 1", "            failureThreshold: 3\n            successThreshold: 2\n            terminationGracePeriodSeconds: 1");
    writeFileSync(file, text);
    const appPort = await freePort();
    const runner = await start([...RUNNER, file], { APP_PORT: String(appPort) });
    expect(await runner.exited).toBe(2);
    expect(runner.output().trim()).toBe(`crashy-local: ${file}: spec.template.spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1`);
    expect(processesWithPort(appPort)).toEqual([]);
  });

  it("restarts a hung app through probe timeouts", async () => {
    const pod = await startPod({ CRASH_AFTER: "1.5", CRASH_MODE: "hang" });
    try {
      await eventually(async () => pod.lines.find((l) => l.text.includes("failed liveness probe, will be restarted")), 10_000, "Killing");
      const events = reasons(pod.lines);
      const killIndex = events.indexOf("Killing: Container crashy-app failed liveness probe, will be restarted");
      for (const e of events.slice(killIndex - 3, killIndex)) {
        expect(e).toMatch(/^Unhealthy: Liveness probe failed: Get "http:\/\/127\.0\.0\.1:\d+\/health": context deadline exceeded/);
      }
    } finally {
      await pod.stop();
    }
  });

  it("restarts an app that exits by itself, with no probe failures", async () => {
    const pod = await startPod({ CRASH_AFTER: "0.5", CRASH_MODE: "exit" });
    try {
      await eventually(async () => (reasons(pod.lines).filter((r) => r === "Started: Started container crashy-app").length >= 2 ? true : undefined), 8_000, "the restart");
      expect(reasons(pod.lines).filter((r) => r.startsWith("Unhealthy: ") && r.includes("statuscode"))).toEqual([]);
      expect(reasons(pod.lines)).not.toContain("Killing: Container crashy-app failed liveness probe, will be restarted");
      expect(pod.runner.output()).toMatch(/crashy-app-local\s+2\/2\s+Running\s+1 \(\d+s ago\)/);
      // The second exit comes within the kubelet's first back-off window (10 s): CrashLoopBackOff.
      await eventually(async () => (pod.runner.output().includes("Back-off restarting failed container crashy-app") ? true : undefined), 5_000, "the back-off");
      expect(pod.runner.output()).toMatch(/CrashLoopBackOff/);
    } finally {
      await pod.stop();
    }
  });

  it("stops on Ctrl-C within the grace period, leaving nothing running or listening", async () => {
    const pod = await startPod({ CRASH_AFTER: "60" });
    await eventually(async () => ((await fetch(`${pod.app}/health`)).status === 200 ? true : undefined), 5_000, "the app");
    expect(processesWithPort(pod.appPort).length).toBe(1);
    expect(processesWithPort(pod.sidecarPort).length).toBe(1);
    // Each runs as its image does: the V8 flags of `npm run app` and `npm run sidecar` (heap sizes, the sidecar's --lite-mode).
    const scripts = JSON.parse(readFileSync("package.json", "utf8")).scripts as Record<string, string>;
    for (const [port, script] of [[pod.appPort, "app"], [pod.sidecarPort, "sidecar"]] as const) {
      const argv = readFileSync(`/proc/${processesWithPort(port)[0]}/cmdline`, "utf8").split("\0");
      const v8 = (w: string) => w.startsWith("--max-") || w === "--lite-mode";
      const flags = scripts[script]!.split(/\s+/).filter(v8);
      expect(flags.filter((w) => w.startsWith("--max-")), script).toHaveLength(2);
      expect(argv.filter(v8), script).toEqual(flags);
    }
    const { code, ms } = await pod.stop("SIGINT");
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2_000);
    expect(processesWithPort(pod.appPort)).toEqual([]);
    expect(processesWithPort(pod.sidecarPort)).toEqual([]);
    await expect(fetch(`${pod.app}/health`)).rejects.toThrow();
    await expect(fetch(`${pod.sidecar}/healthz`)).rejects.toThrow();
    // The app's own exit on the way down is not taken for a crash: no restart.
    expect(reasons(pod.lines).filter((r) => r === "Started: Started container crashy-app")).toHaveLength(1);
  });

  it("stops cleanly when Ctrl-C reaches the whole terminal process group at once", async () => {
    const pod = await startPod({ CRASH_AFTER: "60" }, true);
    await eventually(async () => ((await fetch(`${pod.app}/health`)).status === 200 ? true : undefined), 5_000, "the app");
    // What a terminal does on Ctrl-C: SIGINT to every process of the foreground group.
    process.kill(-pod.runner.child.pid!, "SIGINT");
    expect(await pod.runner.exited).toBe(0);
    await pod.stop();
    expect(processesWithPort(pod.appPort)).toEqual([]);
    expect(processesWithPort(pod.sidecarPort)).toEqual([]);
    expect(reasons(pod.lines).filter((r) => r === "Started: Started container crashy-app")).toHaveLength(1);
    expect(pod.runner.output()).not.toContain("Back-off");
  });

  it("restarts the native sidecar if it dies, as restartPolicy: Always asks", async () => {
    const pod = await startPod({ CRASH_AFTER: "60" });
    try {
      const [sidecarPid] = processesWithPort(pod.sidecarPort);
      expect(sidecarPid).toBeDefined();
      process.kill(sidecarPid!, "SIGKILL");
      await eventually(async () => (reasons(pod.lines).filter((r) => r === "Started: Started container probe-sidecar").length === 2 ? true : undefined), 5_000, "the sidecar's restart");
      await eventually(async () => ((await fetch(`${pod.sidecar}/healthz`)).ok ? true : undefined), 5_000, "the new sidecar to answer");
      expect(processesWithPort(pod.sidecarPort)).not.toContain(sidecarPid);
    } finally {
      await pod.stop();
    }
  });

  it("refuses a bad override as the service does, starting nothing", async () => {
    const appPort = await freePort();
    const runner: Started = await start(RUNNER, { CRASH_AFTER: "abc", APP_PORT: String(appPort) });
    expect(await runner.exited).toBe(2);
    expect(runner.output().trim()).toBe('crashy: CRASH_AFTER="abc" is invalid: expected a number of seconds >= 0, such as 60 or 2.5');
    expect(processesWithPort(appPort)).toEqual([]);
  });

  it("refuses a bad port override, naming it", async () => {
    const runner = await start(RUNNER, { APP_PORT: "99999" });
    expect(await runner.exited).toBe(2);
    expect(runner.output()).toContain('crashy-local: APP_PORT="99999" is invalid: expected a port number from 1 to 65535');
  });
});
