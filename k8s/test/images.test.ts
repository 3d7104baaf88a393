// The images, for real: built with Debian's docker.io from a local base image (no registry), then
// run as the pod runs them (read-only root, no capabilities, the sidecar in the app's network
// namespace) to see the sidecar catch the app's crash and each container stop on SIGTERM in time.
// .ci/docker.sh readies docker; its dockerd never touches the host's network, and the test checks
// that the host's network is as it found it.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually } from "../../test/processes.ts";
import { find, render, ROOT, type Obj } from "./kube.ts";

const DOCKER = process.env.DOCKER ?? "/usr/bin/docker";
const run = promisify(execFile);
const APP = "crashy-app:1.0.0";
const APP_DENO = "crashy-app:1.0.0-deno";
const APP_BUN = "crashy-app:1.0.0-bun";
const APP_WORKERD = "crashy-app:1.0.0-workerd";
const SIDECAR = "crashy-sidecar:1.0.0";
const PREFIX = `crashy-test-${process.pid}`;

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run(DOCKER, args, { cwd: ROOT, maxBuffer: 64 << 20, env: { ...process.env, DOCKER_BUILDKIT: "1" } });
  return stdout.trim();
}

/** What the host's network looks like: links, addresses, routes, firewall rules, forwarding. */
function networkState(): string {
  const out = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    } catch {
      return `${cmd} unavailable\n`;
    }
  };
  const rules = (cmd: string) =>
    out(cmd, [])
      .split("\n")
      .filter((l) => !l.startsWith("#"))
      .map((l) => l.replace(/\[\d+:\d+\]/, "")) // packet counters change by themselves
      .join("\n");
  return [
    out("ip", ["-o", "link", "show"]).replace(/ link\/\S+ \S+ brd \S+/g, "").replace(/state \S+/g, ""),
    out("ip", ["-o", "address", "show"]),
    out("ip", ["route", "show", "table", "all"]),
    rules("iptables-save"),
    rules("ip6tables-save"),
    readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8"),
  ].join("\n--\n");
}

const pod = find(render("k8s"), "Deployment", "crashy-app").spec.template.spec;
const appSpec: Obj = pod.containers.find((c: Obj) => c.name === "crashy-app");
const sidecarSpec: Obj = pod.initContainers.find((c: Obj) => c.name === "probe-sidecar");
const envArgs = (env: Record<string, string>) => Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
const podEnv = (c: Obj): Record<string, string> => Object.fromEntries((c.env ?? []).map((e: Obj) => [e.name, e.value]));
const mib = (limit: string) => Number(/^(\d+)Mi$/.exec(limit)![1]);

/** `docker run -d` with the pod's securityContext: read-only root, no capabilities, its user. */
function runLikePod(name: string, image: string, network: string, env: Record<string, string>) {
  return docker(
    "run", "-d", "--name", name, "--network", network, "--read-only", "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges", "--user", `${appSpec.securityContext.runAsUser}:${appSpec.securityContext.runAsGroup}`,
    ...envArgs(env), image,
  );
}

/** GET a URL from inside `container`'s network namespace, with the node in the sidecar image. */
async function get(container: string, url: string): Promise<{ status: number; body: string }> {
  const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(2000) })
    .then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))
    .catch((e) => console.log(JSON.stringify({ status: 0, body: String(e) })))`;
  const out = await docker("run", "--rm", "--network", `container:${container}`, "--entrypoint", "/usr/local/bin/node", SIDECAR, "-e", script);
  return JSON.parse(out) as { status: number; body: string };
}

/** `docker stop -t <grace>`: how long it took and the exit code (143 or 137 if it had to be killed). */
async function stop(name: string, grace: number): Promise<{ ms: number; exitCode: number }> {
  const started = performance.now();
  await docker("stop", "-t", String(grace), name);
  const ms = performance.now() - started;
  return { ms, exitCode: Number(await docker("inspect", "-f", "{{.State.ExitCode}}", name)) };
}

/** The container's anonymous memory (RSS), from its memory cgroup: what no reclaim can free. */
async function rssMiB(name: string): Promise<number> {
  const pid = await docker("inspect", "-f", "{{.State.Pid}}", name);
  const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n");
  const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  const stat = v1
    ? readFileSync(`/sys/fs/cgroup/memory${v1.split(":")[2]}/memory.stat`, "utf8")
    : readFileSync(`/sys/fs/cgroup${lines.find((l) => l.startsWith("0::"))!.slice(3)}/memory.stat`, "utf8");
  const bytes = Number(/^(?:rss|anon) (\d+)$/m.exec(stat)![1]);
  return bytes / 2 ** 20;
}

/** `docker stats`' figure: usage less inactive file cache, as the kubelet's working set. */
async function memoryMiB(name: string): Promise<number> {
  const usage = await docker("stats", "--no-stream", "--format", "{{.MemUsage}}", name);
  const [, value, unit] = /^([\d.]+)(KiB|MiB|GiB)/.exec(usage)!;
  return Number(value) * { KiB: 1 / 1024, MiB: 1, GiB: 1024 }[unit as "KiB" | "MiB" | "GiB"];
}

const networkBefore = networkState();
const figures: Record<string, string> = {};

beforeAll(async () => {
  // Installs and starts docker and makes the base image, each only if missing.
  const started = performance.now();
  const base = execFileSync("bash", [".ci/docker.sh"], { cwd: ROOT, encoding: "utf8" }).trim().split("\n").at(-1)!;
  figures["docker.sh"] = `${((performance.now() - started) / 1000).toFixed(1)} s`;
  for (const [file, tag, target] of [
    ["Dockerfile.app", APP, undefined],
    ["Dockerfile.app", APP_DENO, "deno"],
    ["Dockerfile.app", APP_BUN, "bun"],
    ["Dockerfile.app", APP_WORKERD, "workerd"],
    ["Dockerfile.sidecar", SIDECAR, undefined],
  ] as const) {
    const t0 = performance.now();
    await docker("build", "--network", "none", "-q", "-f", file, ...(target ? ["--target", target] : []), "--build-arg", `BASE=${base}`, "-t", tag, ".");
    const size = Number(await docker("image", "inspect", "-f", "{{.Size}}", tag)) / 1e6;
    figures[`build ${tag}`] = `${((performance.now() - t0) / 1000).toFixed(1)} s, ${size.toFixed(0)} MB`;
  }
}, 600_000);

afterAll(async () => {
  const names = (await docker("ps", "-aq", "--filter", `name=${PREFIX}`)).split("\n").filter(Boolean);
  if (names.length > 0) await docker("rm", "-f", ...names);
  console.log(Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join("\n"));
  // dockerd runs with --bridge=none --iptables=false --ip-forward=false and every container here
  // uses --network none or another container's namespace: nothing on the host may have changed.
  expect(networkState()).toBe(networkBefore);
}, 60_000);

describe("the images, run as the pod runs them", () => {
  test("run as the pod's user, from images with no shell", async () => {
    const { runAsUser, runAsGroup } = appSpec.securityContext;
    for (const image of [APP, APP_DENO, APP_BUN, APP_WORKERD, SIDECAR]) {
      expect(await docker("image", "inspect", "-f", "{{.Config.User}}", image)).toBe(`${runAsUser}:${runAsGroup}`);
      await expect(docker("run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", image, "-c", "true")).rejects.toThrow();
    }
  });

  test("the sidecar, with the pod's env, sees the app crash; both stop on SIGTERM within the grace period", async () => {
    const app = `${PREFIX}-app`;
    const sidecar = `${PREFIX}-sidecar`;
    await runLikePod(app, APP, "none", { ...podEnv(appSpec), CRASH_AFTER: "8" });
    await runLikePod(sidecar, SIDECAR, `container:${app}`, podEnv(sidecarSpec));

    const status = async () => JSON.parse((await get(app, "http://127.0.0.1:9102/api/status")).body) as Obj;
    // The pod's one probe, the app's liveness probe, as the sidecar reports it.
    const liveness = async () => (await status()).probes.find((p: Obj) => p.type === "Liveness") as Obj;
    const healthy = await eventually(async () => ((await liveness()).counters.successful > 0 ? await liveness() : undefined), 10_000, "the sidecar's first verdict", 300);
    expect(healthy.verdict.healthy).toBe(true);
    expect((await get(app, "http://127.0.0.1:8080/health")).status).toBe(200);

    // Idle memory against the pod's requests. docker stats also counts the page cache of files
    // a container was first to read (such as the node binary), so the request is held to the RSS.
    for (const [name, spec] of [[app, appSpec], [sidecar, sidecarSpec]] as const) {
      const [stats, rss] = [await memoryMiB(name), await rssMiB(name)];
      figures[`memory idle ${spec.name}`] = `docker stats ${stats.toFixed(1)} MiB, RSS ${rss.toFixed(1)} MiB`;
      expect(rss).toBeLessThan(mib(spec.resources.requests.memory));
      expect(stats).toBeLessThan(mib(spec.resources.limits.memory));
    }

    const failureThreshold = Number(podEnv(sidecarSpec).LIVENESS_PROBE_FAILURE_THRESHOLD);
    const crashed = await eventually(async () => {
      const s = await liveness();
      return s.verdict.healthy === false ? s : undefined;
    }, 20_000, "the sidecar to judge the app unhealthy", 300);
    expect(crashed.verdict.consecutiveFailures).toBeGreaterThanOrEqual(failureThreshold);
    expect(crashed.history.at(-1).output).toBe("HTTP probe failed with statuscode: 500");
    expect((await get(app, "http://127.0.0.1:8080/")).status).toBe(500);
    const metrics = (await get(app, "http://127.0.0.1:9102/metrics")).body;
    expect(metrics).toMatch(/^probe_success(\{[^}]*\})? 0$/m);
    expect(metrics).toMatch(/^crashy_probe_healthy(\{[^}]*\})? 0$/m);

    // Exit code 0, not 137: each left on SIGTERM before docker's kill after the 1 s grace period.
    const grace = appSpec.livenessProbe.terminationGracePeriodSeconds;
    for (const name of [sidecar, app]) {
      const stopped = await stop(name, grace);
      figures[`docker stop -t ${grace} ${name.slice(PREFIX.length + 1)}`] = `${stopped.ms.toFixed(0)} ms, exit ${stopped.exitCode}`;
      expect(stopped.exitCode, name).toBe(0);
      expect(stopped.ms, name).toBeLessThan(grace * 1000 + 500);
    }
  }, 60_000);

  test("under a burst of requests, each container stays within the pod's memory limit", async () => {
    const app = `${PREFIX}-burst-app`;
    const sidecar = `${PREFIX}-burst-sidecar`;
    await runLikePod(app, APP, "none", podEnv(appSpec));
    await runLikePod(sidecar, SIDECAR, `container:${app}`, podEnv(sidecarSpec));
    await eventually(async () => ((await get(app, "http://127.0.0.1:9102/healthz")).status === 200 ? true : undefined), 10_000, "the app and the sidecar to answer", 300);
    // A bounded load from a third container: 8 loops over both containers' endpoints for 8 s.
    const load = `const end = Date.now() + 8000; let n = 0;
      const urls = ["http://127.0.0.1:8080/", "http://127.0.0.1:8080/metrics", "http://127.0.0.1:9102/api/status", "http://127.0.0.1:9102/metrics"];
      async function loop() { while (Date.now() < end) for (const u of urls) { n++; await fetch(u).then((r) => r.text()).catch(() => {}); } }
      Promise.all(Array.from({ length: 8 }, loop)).then(() => console.log(n));`;
    const burst = docker("run", "--rm", "--network", `container:${app}`, "--entrypoint", "/usr/local/bin/node", SIDECAR, "-e", load);
    const peak = { app: { stats: 0, rss: 0 }, sidecar: { stats: 0, rss: 0 } };
    let done = false;
    const requests = burst.finally(() => (done = true));
    while (!done) {
      for (const [key, name] of [["app", app], ["sidecar", sidecar]] as const) {
        peak[key].stats = Math.max(peak[key].stats, await memoryMiB(name));
        peak[key].rss = Math.max(peak[key].rss, await rssMiB(name));
      }
    }
    figures["burst requests"] = `${await requests} in 8 s`;
    for (const [key, spec] of [["app", appSpec], ["sidecar", sidecarSpec]] as const) {
      figures[`memory peak ${spec.name}`] = `docker stats ${peak[key].stats.toFixed(1)} MiB, RSS ${peak[key].rss.toFixed(1)} MiB`;
      expect(peak[key].stats).toBeLessThan(mib(spec.resources.limits.memory));
      expect(peak[key].rss).toBeLessThan(mib(spec.resources.limits.memory));
    }
  }, 60_000);

  // The other runtimes' targets, side by side: each serves, crashes, and stops on SIGTERM in time.
  test.concurrent.each([
    ["deno", APP_DENO],
    ["bun", APP_BUN],
    ["workerd", APP_WORKERD],
  ])("the %s target serves, crashes and stops the same way, read-only", async (runtime, image) => {
    const app = `${PREFIX}-${runtime}`;
    await runLikePod(app, image, "none", { ...podEnv(appSpec), CRASH_AFTER: "3" });
    await eventually(async () => ((await get(app, "http://127.0.0.1:8080/health")).status === 200 ? true : undefined), 15_000, `the ${runtime} app to answer`, 300);
    const rss = await rssMiB(app);
    figures[`memory idle ${runtime}`] = `RSS ${rss.toFixed(1)} MiB`;
    expect(rss).toBeLessThan(mib(appSpec.resources.requests.memory));
    await eventually(async () => ((await get(app, "http://127.0.0.1:8080/health")).status === 500 ? true : undefined), 15_000, `the ${runtime} app to crash`, 300);
    expect(await docker("logs", app)).toMatch(new RegExp(`\\(${runtime}, CRASH_AFTER=3`));
    const stopped = await stop(app, 1);
    figures[`docker stop -t 1 ${runtime}`] = `${stopped.ms.toFixed(0)} ms, exit ${stopped.exitCode}`;
    expect(stopped.exitCode).toBe(0);
    expect(stopped.ms).toBeLessThan(1500);
  }, 60_000);

  test("the workerd target refuses CRASH_MODE=exit in workerd's one line, exit 1", async () => {
    const run = docker("run", "--rm", "--network", "none", "--read-only", "--user", "10001:10001", "-e", "CRASH_MODE=exit", APP_WORKERD);
    const failed = (await run.then(() => undefined, (error: { code?: number; stderr?: string }) => error))!;
    expect(failed.code).toBe(1);
    expect(failed.stderr?.trim()).toBe('service crashy: Uncaught Error: crashy: CRASH_MODE="exit" is invalid: expected one of "error", "hang"');
  }, 30_000);
});
