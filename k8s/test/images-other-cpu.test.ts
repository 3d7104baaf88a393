// The images for the other CPU (arm64 on an amd64 machine, amd64 on an arm64 one), built and run
// here under qemu's user-mode emulation: what Apple Silicon and Graviton users, or this machine's
// users, get from the same Dockerfiles. .ci/docker.sh, with ARCH, installs qemu-user-static, makes
// that CPU's base image and adds its deno package. A smoke test: images.test.ts measures the
// native images; emulated timings mean nothing.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually } from "../../test/processes.ts";
import { find, render, ROOT, type Obj } from "./kube.ts";

const DOCKER = process.env.DOCKER ?? "/usr/bin/docker";
const run = promisify(execFile);
const HOST = execFileSync("dpkg", ["--print-architecture"], { encoding: "utf8" }).trim();
const OTHER = HOST === "amd64" ? "arm64" : "amd64";
const PLATFORM = `linux/${OTHER}`;
const APP = `crashy-app:1.0.0-${OTHER}`;
const APP_DENO = `crashy-app:1.0.0-deno-${OTHER}`;
const APP_BUN = `crashy-app:1.0.0-bun-${OTHER}`;
const APP_WORKERD = `crashy-app:1.0.0-workerd-${OTHER}`;
const SIDECAR = `crashy-sidecar:1.0.0-${OTHER}`;
const PREFIX = `crashy-test-${OTHER}-${process.pid}`;

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run(DOCKER, args, { cwd: ROOT, maxBuffer: 64 << 20, env: { ...process.env, DOCKER_BUILDKIT: "1" } });
  return stdout.trim();
}
const dockerSh = (env: Record<string, string>) =>
  execFileSync("bash", [".ci/docker.sh"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } }).trim().split("\n").at(-1)!;

const pod = find(render("k8s"), "Deployment", "crashy-app").spec.template.spec;
const appSpec: Obj = pod.containers.find((c: Obj) => c.name === "crashy-app");
const sidecarSpec: Obj = pod.initContainers.find((c: Obj) => c.name === "probe-sidecar");
const podEnv = (c: Obj): string[] => (c.env ?? []).flatMap((e: Obj) => ["-e", `${e.name}=${e.value}`]);
const user = `${appSpec.securityContext.runAsUser}:${appSpec.securityContext.runAsGroup}`;

function runLikePod(name: string, image: string, network: string, env: string[]) {
  return docker(
    "run", "-d", "--platform", PLATFORM, "--name", name, "--network", network, "--read-only", "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges", "--user", user, ...env, image,
  );
}

// This machine's own base image: its node is native, so a GET takes a fraction of a second even while
// the emulated containers keep both cores busy (an emulated node took seconds just to start).
let hostBase = "";

/** GET a URL from inside `container`'s network namespace, with this machine's node. */
async function get(container: string, url: string): Promise<{ status: number; body: string }> {
  const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(3000) })
    .then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))
    .catch((e) => console.log(JSON.stringify({ status: 0, body: String(e) })))`;
  const out = await docker("run", "--rm", "--network", `container:${container}`, "--entrypoint", "/usr/local/bin/node", hostBase, "-e", script);
  return JSON.parse(out) as { status: number; body: string };
}

beforeAll(async () => {
  hostBase = dockerSh({});
  const base = dockerSh({ ARCH: OTHER });
  // The JavaScript is built on this machine's CPU (BUILD_BASE); node and deno come from BASE.
  const args = ["--network", "none", "-q", "--platform", PLATFORM, "--build-arg", `BASE=${base}`, "--build-arg", `BUILD_BASE=${hostBase}`];
  await docker("build", ...args, "-f", "Dockerfile.app", "-t", APP, ".");
  await docker("build", ...args, "-f", "Dockerfile.app", "--target", "deno", "-t", APP_DENO, ".");
  await docker("build", ...args, "-f", "Dockerfile.app", "--target", "bun", "-t", APP_BUN, ".");
  await docker("build", ...args, "-f", "Dockerfile.app", "--target", "workerd", "-t", APP_WORKERD, ".");
  await docker("build", ...args, "-f", "Dockerfile.sidecar", "-t", SIDECAR, ".");
}, 600_000);

afterAll(async () => {
  const names = (await docker("ps", "-aq", "--filter", `name=${PREFIX}`)).split("\n").filter(Boolean);
  if (names.length > 0) await docker("rm", "-f", ...names);
}, 60_000);

describe(`the images for ${PLATFORM}, under qemu`, () => {
  test("are images of that CPU, whose node and deno are that CPU's programs", async () => {
    for (const image of [APP, APP_DENO, APP_BUN, APP_WORKERD, SIDECAR]) {
      expect(await docker("image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", image), image).toBe(PLATFORM);
    }
    const arch = await docker("run", "--rm", "--platform", PLATFORM, "--network", "none", "--entrypoint", "/usr/local/bin/node", APP, "-p", "process.arch");
    expect(arch).toBe(OTHER === "amd64" ? "x64" : "arm64");
    const deno = await docker("run", "--rm", "--platform", PLATFORM, "--network", "none", "--entrypoint", "/usr/local/bin/deno", APP_DENO, "eval", "console.log(Deno.build.arch)");
    expect(deno).toBe(OTHER === "amd64" ? "x86_64" : "aarch64");
    const bun = await docker("run", "--rm", "--platform", PLATFORM, "--network", "none", "--entrypoint", "/usr/local/bin/bun", APP_BUN, "-p", "process.arch");
    expect(bun).toBe(OTHER === "amd64" ? "x64" : "arm64");
  }, 60_000);

  test("the app answers, then crashes, and the sidecar beside it judges it unhealthy", async () => {
    const app = `${PREFIX}-app`;
    await runLikePod(app, APP, "none", [...podEnv(appSpec), "-e", "CRASH_AFTER=6"]);
    await runLikePod(`${PREFIX}-sidecar`, SIDECAR, `container:${app}`, podEnv(sidecarSpec));
    const health = await eventually(async () => {
      const r = await get(app, "http://127.0.0.1:8080/health");
      return r.status > 0 ? r : undefined;
    }, 20_000, "the app to answer", 500);
    expect(health.status).toBe(200);
    const metrics = await eventually(async () => {
      const text = (await get(app, "http://127.0.0.1:9102/metrics")).body;
      return /^crashy_probe_healthy(\{[^}]*\})? 0$/m.test(text) ? text : undefined;
    }, 40_000, "the sidecar to judge the app unhealthy", 500);
    expect(metrics).toMatch(/^probe_success(\{[^}]*\})? 0$/m);
    expect((await get(app, "http://127.0.0.1:8080/")).status).toBe(500);
  }, 90_000);

  test("the deno target serves", async () => {
    const app = `${PREFIX}-deno`;
    await runLikePod(app, APP_DENO, "none", podEnv(appSpec));
    const health = await eventually(async () => {
      const r = await get(app, "http://127.0.0.1:8080/health");
      return r.status > 0 ? r : undefined;
    }, 60_000, "the Deno app to answer", 500);
    expect(health).toEqual({ status: 200, body: "200 OK\n" });
    expect(await docker("logs", app)).toMatch(/deno/);
  }, 90_000);

  test.concurrent.each([
    ["bun", APP_BUN],
    ["workerd", APP_WORKERD],
  ])("the %s target serves", async (runtime, image) => {
    const app = `${PREFIX}-${runtime}`;
    await runLikePod(app, image, "none", podEnv(appSpec));
    const health = await eventually(async () => {
      const r = await get(app, "http://127.0.0.1:8080/health");
      return r.status > 0 ? r : undefined;
    }, 60_000, `the ${runtime} app to answer`, 500);
    expect(health).toEqual({ status: 200, body: "200 OK\n" });
    expect(await docker("logs", app)).toMatch(new RegExp(`\\(${runtime}, CRASH_AFTER=`));
  }, 90_000);
});
