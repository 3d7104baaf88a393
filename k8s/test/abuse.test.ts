// The images under abuse, run as the pod runs them: read-only root, its user, no capabilities, and
// the manifest's CPU and memory limits (read from the rendered manifest). Each attack and the
// kubelet's probe run as separate processes inside the container's network namespace
// (k8s/test/abuse-tools.ts under nsenter), so their memory and CPU are not the container's. For
// each attack: the container is not OOM-killed, no 3 probes in a row fail while it lasts (a
// liveness restart that is not the lesson) and the next probe after it succeeds; the peak memory
// is printed. The containers use --network none: no traffic leaves their namespace.
import { execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test, type ExpectStatic } from "vitest";
import { sleep } from "../../test/processes.ts";
import { v8Flags } from "../../test/v8-flags.ts";
import { find, render, ROOT, type Obj } from "./kube.ts";

const DOCKER = process.env.DOCKER ?? "/usr/bin/docker";
const run = promisify(execFile);
// CRASHY_ABUSE_TAG runs the suite against images already built under that tag (crashy-app:TAG,
// crashy-app:TAG-deno, crashy-sidecar:TAG), for figures of another version; unset, it builds them.
const TAG = process.env.CRASHY_ABUSE_TAG ?? "1.0.0";
const APP = `crashy-app:${TAG}`;
const APP_DENO = `crashy-app:${TAG}-deno`;
const SIDECAR = `crashy-sidecar:${TAG}`;
const PREFIX = `crashy-abuse-${process.pid}`;
const TOOLS = `${ROOT}/k8s/test/abuse-tools.ts`;
// How long each attack lasts: long enough for three 1 s probes to fail in a row, short enough for
// the suite to stay within about a minute of CI.
const ATTACK_SECONDS = 6;

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run(DOCKER, args, { cwd: ROOT, maxBuffer: 64 << 20, env: { ...process.env, DOCKER_BUILDKIT: "1" } });
  return stdout.trim();
}

const pod = find(render("k8s"), "Deployment", "crashy-app").spec.template.spec;
const appSpec: Obj = pod.containers.find((c: Obj) => c.name === "crashy-app");
const sidecarSpec: Obj = pod.initContainers.find((c: Obj) => c.name === "probe-sidecar");
const podEnv = (c: Obj): Record<string, string> => Object.fromEntries((c.env ?? []).map((e: Obj) => [e.name, e.value]));
const bytes = (q: string) => {
  const [, n, unit] = /^(\d+)(Mi|Gi)$/.exec(q)!;
  return Number(n) * (unit === "Gi" ? 2 ** 30 : 2 ** 20);
};
const cpus = (q: string) => (q.endsWith("m") ? Number(q.slice(0, -1)) / 1000 : Number(q));

/** `docker run -d` as the pod runs the container: securityContext and resources.limits. */
async function runLikePod(name: string, image: string, spec: Obj, env: Record<string, string>): Promise<number> {
  const { limits } = spec.resources;
  const { runAsUser, runAsGroup } = spec.securityContext;
  await docker(
    "run", "-d", "--name", name, "--network", "none", "--read-only", "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges", "--user", `${runAsUser}:${runAsGroup}`,
    "--memory", String(bytes(limits.memory)), "--memory-swap", String(bytes(limits.memory)), "--cpus", String(cpus(limits.cpu)),
    ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]), image,
  );
  return Number(await docker("inspect", "-f", "{{.State.Pid}}", name));
}

/** The container's memory cgroup (v1 or v2) directory on the host. */
function cgroupDir(pid: number): { dir: string; v1: boolean } {
  const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n");
  const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  return v1 ? { dir: `/sys/fs/cgroup/memory${v1.split(":")[2]}`, v1: true } : { dir: `/sys/fs/cgroup${lines.find((l) => l.startsWith("0::"))!.slice(3)}`, v1: false };
}

/**
 * Samples the container's memory every 100 ms: its anonymous memory (what no reclaim frees) and
 * its working set (usage less inactive file cache, the kubelet's figure), keeping the peaks.
 */
function memoryWatch(pid: number) {
  const { dir, v1 } = cgroupDir(pid);
  const peak = { anonMiB: 0, workingSetMiB: 0 };
  const sample = () => {
    try {
      const stat = readFileSync(`${dir}/memory.stat`, "utf8");
      const field = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(stat)?.[1] ?? 0);
      const usage = Number(readFileSync(`${dir}/${v1 ? "memory.usage_in_bytes" : "memory.current"}`, "utf8"));
      const anon = v1 ? field("total_rss") || field("rss") : field("anon");
      const inactiveFile = v1 ? field("total_inactive_file") : field("inactive_file");
      peak.anonMiB = Math.max(peak.anonMiB, anon / 2 ** 20);
      peak.workingSetMiB = Math.max(peak.workingSetMiB, (usage - inactiveFile) / 2 ** 20);
    } catch {
      // The container is gone: the test's OOM check says why.
    }
  };
  const timer = setInterval(sample, 100);
  return {
    reset: () => {
      sample();
      Object.assign(peak, { anonMiB: 0, workingSetMiB: 0 });
      sample();
    },
    peak: () => (sample(), { ...peak }),
    stop: () => clearInterval(timer),
  };
}

/** A program run inside the network namespace of the process `pid`; its stdout's JSON lines. */
function inNetns(pid: number, argv: string[]) {
  const child = spawn("nsenter", ["-t", String(pid), "-n", "--", ...argv], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const lines: Obj[] = [];
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    for (let i = out.indexOf("\n"); i >= 0; i = out.indexOf("\n")) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Obj);
      } catch {
        lines.push({ text: line });
      }
    }
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  return { lines, exited, stderr: () => err, kill: () => child.kill("SIGKILL") };
}

const node = (...args: string[]) => [process.execPath, TOOLS, ...args];

type Probe = { at: number; ms: number; status: number; error?: string };
type Outcome = { attack: string; peak: { anonMiB: number; workingSetMiB: number }; during: Probe[]; after?: Probe; report: Obj[] };

const maxFailuresInARow = (probes: Probe[]) => {
  let run = 0;
  let max = 0;
  for (const p of [...probes].sort((a, b) => a.at - b.at)) {
    run = p.status === 200 ? 0 : run + 1;
    max = Math.max(max, run);
  }
  return max;
};
const describeProbes = (probes: Probe[]) => {
  const failed = probes.filter((p) => p.status !== 200).length;
  return `${probes.length - failed}/${probes.length} ok, max ${maxFailuresInARow(probes)} failed in a row, slowest ${Math.max(0, ...probes.map((p) => p.ms))} ms`;
};

/** One container under a series of attacks, probed all along as the kubelet probes it. */
async function underAbuse(name: string, image: string, spec: Obj, env: Record<string, string>, probePort: number, probePath: string) {
  const pid = await runLikePod(name, image, spec, env);
  const memory = memoryWatch(pid);
  const prober = inNetns(pid, node("probe", String(probePort), probePath, "120"));
  const probes = () => prober.lines as Probe[];
  const firstOkAfter = async (t: number, what: string): Promise<Probe | undefined> => {
    for (let i = 0; i < 60; i++) {
      const next = probes().filter((p) => p.at > t).sort((a, b) => a.at - b.at)[0];
      if (next) return next;
      await sleep(250);
    }
    throw new Error(`no probe after ${what}`);
  };
  return {
    pid,
    probes,
    /** Waits for the container's first successful probe (its start). */
    started: async () => {
      for (let i = 0; i < 120; i++) {
        if (probes().some((p) => p.status === 200)) return;
        await sleep(250);
      }
      throw new Error(`${image} never answered ${probePath}: ${JSON.stringify(probes().slice(-3))} ${await docker("logs", name).catch(() => "")}`);
    },
    /** Runs `argv` in the container's namespace, and judges the container during and after it. */
    attack: async (attack: string, argv: string[]): Promise<Outcome> => {
      memory.reset();
      const start = Date.now();
      const tool = inNetns(pid, argv);
      const code = await tool.exited;
      const end = Date.now();
      const after = await firstOkAfter(end, attack);
      const outcome = {
        attack,
        peak: memory.peak(),
        during: probes().filter((p) => p.at >= start && p.at <= end),
        after,
        report: tool.lines,
      };
      if (code !== 0) throw new Error(`${attack}: the attacker exited ${code}: ${tool.stderr()}`);
      return outcome;
    },
    state: async () => JSON.parse(await docker("inspect", "-f", "{{json .State}}", name)) as { Running: boolean; OOMKilled: boolean; ExitCode: number },
    stop: () => {
      memory.stop();
      prober.kill();
    },
  };
}

const figures: string[] = [];
function judge(expect: ExpectStatic, o: Outcome, state: { Running: boolean; OOMKilled: boolean; ExitCode: number }, image: string) {
  const line = `${image} ${o.attack}: peak anon ${o.peak.anonMiB.toFixed(1)} MiB, working set ${o.peak.workingSetMiB.toFixed(1)} MiB; probes during: ${describeProbes(o.during)}; next after: ${o.after ? `${o.after.status || o.after.error} in ${o.after.ms} ms` : "none"}; ${state.OOMKilled ? "OOM-KILLED" : state.Running ? "running" : `exited ${state.ExitCode}`}; ${JSON.stringify(o.report)}`;
  figures.push(line);
  // Soft: every attack runs and prints its figures, on a new container if one died.
  expect.soft(state.OOMKilled, line).toBe(false);
  expect.soft(state.Running, line).toBe(true);
  expect.soft(maxFailuresInARow(o.during), line).toBeLessThan(3);
  expect.soft(o.after?.status, line).toBe(200);
}


beforeAll(async () => {
  if (process.env.CRASHY_ABUSE_TAG) return;
  // The same build as k8s/test/images.test.ts (BuildKit shares the work when both run at once).
  const { stdout } = await run("bash", [".ci/docker.sh"], { cwd: ROOT });
  const base = stdout.trim().split("\n").at(-1)!;
  for (const [file, tag, target] of [
    ["Dockerfile.app", APP, undefined],
    ["Dockerfile.app", APP_DENO, "deno"],
    ["Dockerfile.sidecar", SIDECAR, undefined],
  ] as const) {
    await docker("build", "--network", "none", "-q", "-f", file, ...(target ? ["--target", target] : []), "--build-arg", `BASE=${base}`, "-t", tag, ".");
  }
}, 600_000);

afterAll(async () => {
  const names = (await docker("ps", "-aq", "--filter", `name=${PREFIX}`)).split("\n").filter(Boolean);
  if (names.length > 0) await docker("rm", "-f", ...names);
  console.log(figures.join("\n"));
  if (process.env.CRASHY_ABUSE_FIGURES) writeFileSync(process.env.CRASHY_ABUSE_FIGURES, `${figures.join("\n")}\n`);
}, 60_000);


test("the images run with the V8 flags of npm run app, app:deno and sidecar (the bench's launchers)", async () => {
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")) as { scripts: Record<string, string> };
  for (const [image, script] of [[APP, "app"], [APP_DENO, "app:deno"], [SIDECAR, "sidecar"]] as const) {
    const cmd = JSON.parse(await docker("image", "inspect", "-f", "{{json .Config.Cmd}}", image)) as string[];
    const flags = v8Flags(pkg.scripts[script]!.split(/\s+/));
    expect(flags.filter((f) => f.startsWith("--max-")), script).toHaveLength(2);
    expect(v8Flags(cmd), image).toEqual(flags);
  }
});

// The two app images at once: each has half a CPU, and the machine has two.
describe.concurrent("the images under abuse, with the manifest's limits", () => {
  for (const [image, label] of [[APP, "node"], [APP_DENO, "deno"]] as const) {
    test(`the app (${label}): a /metrics burst at start, a 10,000-connection flood, slowloris, a huge-body GET`, async ({ expect }) => {
      // CRASH_AFTER far beyond the suite: every failure here is a false one.
      let n = 0;
      const fresh = async () => {
        const c = await underAbuse(`${PREFIX}-${label}-${n++}`, image, appSpec, { ...podEnv(appSpec), CRASH_AFTER: "3600" }, 8080, "/health");
        await c.started();
        return c;
      };
      let c = await fresh();
      try {
        const attacks: [string, string[]][] = [
          // wrk as in the issue: 256 connections on a container that has just started.
          ["/metrics burst at start (wrk -c256)", ["wrk", "-t2", "-c256", `-d${ATTACK_SECONDS}s`, "http://127.0.0.1:8080/metrics"]],
          ["10,000-connection flood", node("flood", "8080", "10000", String(ATTACK_SECONDS))],
          ["slowloris, 1,000 connections", node("slowloris", "8080", "1000", String(ATTACK_SECONDS))],
          ["4 GETs with Content-Length: 4000000000", node("hugebody", "8080", "4", String(ATTACK_SECONDS))],
        ];
        for (const [attack, argv] of attacks) {
          const outcome = await c.attack(attack, argv);
          if (argv[0] === "wrk") outcome.report = [{ wrk: (outcome.report as Obj[]).map((l) => l.text).filter((t) => /Requests\/sec|requests in|Socket errors|Non-2xx/.test(t ?? "")) }];
          const state = await c.state();
          judge(expect, outcome, state, label);
          if (!state.Running) {
            c.stop();
            c = await fresh();
          }
        }
      } finally {
        c.stop();
      }
    }, 120_000);
  }

  test("the sidecar: a target with a hostile redirect body and a 4 MiB, million-sample /metrics", async ({ expect }) => {
    const c = await underAbuse(`${PREFIX}-sidecar`, SIDECAR, sidecarSpec, podEnv(sidecarSpec), 9102, "/healthz");
    try {
      await c.started();
      // The hostile target listens where the sidecar's probe and scrape go, 127.0.0.1:8080.
      const probeUrl = new URL(podEnv(sidecarSpec).LIVENESS_PROBE_URL!);
      expect(new URL(podEnv(sidecarSpec).METRICS_URL!).port).toBe(probeUrl.port);
      const outcome = await c.attack("hostile target (302 + 10 KiB control bytes, 4 MiB /metrics), 8 /api/status pollers", node("hostile", probeUrl.port, String(2 * ATTACK_SECONDS)));
      judge(expect, outcome, await c.state(), "sidecar");
    } finally {
      c.stop();
    }
  }, 120_000);
});
