// The Dockerfiles and .dockerignore, read as text and held to the rules the pod relies on.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { find, render, ROOT } from "./kube.ts";

type Instruction = { op: string; args: string; line: number };
type Stage = { from: string; platform: string | undefined; name: string | undefined; instructions: Instruction[] };

/** Instructions, with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): { preamble: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending = "";
  let start = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) return;
    if (pending === "") start = i + 1;
    if (line.startsWith("#")) return;
    pending += (pending ? " " : "") + line.replace(/\\$/, "").trim();
    if (line.endsWith("\\")) return;
    const [op, ...rest] = pending.split(/\s+/);
    instructions.push({ op: op!.toUpperCase(), args: rest.join(" "), line: start });
    pending = "";
  });
  const preamble: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === "FROM") {
      const words = ins.args.split(/\s+/);
      const platform = words.find((w) => w.startsWith("--platform="))?.slice("--platform=".length);
      const [from, as, name] = words.filter((w) => !w.startsWith("--"));
      stages.push({ from: from!, platform, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else if (stages.length === 0) preamble.push(ins);
    else stages.at(-1)!.instructions.push(ins);
  }
  return { preamble, stages };
}

const dockerfile = (name: string) => parseDockerfile(readFileSync(join(ROOT, name), "utf8"));
const last = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op).at(-1);

const pod = find(render("k8s"), "Deployment", "crashy-app").spec.template.spec;
const containerOf = (name: string) => [...pod.initContainers, ...pod.containers].find((c) => c.name === name);

// [Dockerfile, the stage a plain `docker build` produces, the container that runs it, the command]
const IMAGES = [
  ["Dockerfile.app", "node", "crashy-app", ["/usr/local/bin/node", "app.mjs"]],
  ["Dockerfile.sidecar", "sidecar", "probe-sidecar", ["/usr/local/bin/node", "sidecar.mjs"]],
] as const;

describe.each(IMAGES)("%s", (file, finalStage, container, command) => {
  const { preamble, stages } = dockerfile(file);
  const final = stages.at(-1)!;

  test("takes its Node base from the BASE build argument, defaulting to the LTS the project runs", () => {
    const arg = preamble.find((i) => i.op === "ARG" && i.args.startsWith("BASE="));
    const major = readFileSync(join(ROOT, ".nvmrc"), "utf8").trim().split(".")[0];
    expect(arg?.args).toBe(`BASE=node:${major}-bookworm-slim`);
    // BUILD_BASE is BASE unless a local, single-CPU base image needs a second one.
    expect(preamble.find((i) => i.op === "ARG" && i.args.startsWith("BUILD_BASE="))?.args).toBe("BUILD_BASE=${BASE}");
    expect(stages.filter((s) => s.from === "${BASE}").length).toBeGreaterThanOrEqual(1);
    const bases = ["${BASE}", "${BUILD_BASE}", "scratch"];
    expect(stages.every((s) => bases.includes(s.from) || stages.some((t) => t.name === s.from))).toBe(true);
  });

  test("builds for any CPU: JavaScript on the building machine's, node from BASE for the image's", () => {
    // No CPU in a path: it comes from the build, through TARGETARCH's names for it (Node's, Deno's, Bun's, workerd's).
    const text = readFileSync(join(ROOT, file), "utf8").replace(/case "\$TARGETARCH" in .*? esac/g, "");
    expect(text).not.toMatch(/[-/]x64\b|x86_64|aarch64|linux\/(amd64|arm64)/);
    const stageOf = (name: string | undefined): Stage => stages.find((s) => s.name === name)!;
    const root = (s: Stage): Stage => (stages.some((t) => t.name === s.from) ? root(stageOf(s.from)) : s);
    // The stage that runs tsc and the bundler runs on BUILDPLATFORM: its native packages are the
    // ones `npm ci` installed on the building machine.
    const build = stages.find((s) => s.instructions.some((i) => i.op === "RUN" && /\btsc\b/.test(i.args)))!;
    expect(root(build)).toMatchObject({ from: "${BUILD_BASE}", platform: "$BUILDPLATFORM" });
    // The node the image runs, and the libraries it loads, come from a stage of the image's CPU.
    const nodeFrom = final.instructions.find((i) => i.op === "COPY" && / \/rootfs \/$/.test(i.args))!.args.split(/\s+/)[0]!;
    expect(root(stageOf(nodeFrom.replace("--from=", "")))).toMatchObject({ from: "${BASE}", platform: undefined });
  });

  test("is multi-stage, and the stage a plain build makes is last", () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(final.name).toBe(finalStage);
  });

  test("builds with dev dependencies and ships the bundle alone, no node_modules", () => {
    const runs = stages.flatMap((s) => s.instructions.filter((i) => i.op === "RUN").map((i) => i.args));
    expect(runs.some((r) => /\btsc\b/.test(r) && /node bundle\.mjs/.test(r))).toBe(true);
    const copies = final.instructions.filter((i) => i.op === "COPY").map((i) => i.args);
    expect(copies.some((c) => /node_modules/.test(c))).toBe(false);
    expect(copies).toContain(`--from=build /app/dist/bundle/${command[1]} ./`);
  });

  test("has no shell, npm or build tools in the final stage: scratch plus copies, no RUN", () => {
    expect(final.from).toBe("scratch");
    expect(final.instructions.filter((i) => i.op === "RUN")).toEqual([]);
  });

  test("runs as the pod's numeric non-root user", () => {
    const user = last(final, "USER")?.args ?? "";
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const sc = containerOf(container).securityContext;
    expect(user).toBe(`${sc.runAsUser}:${sc.runAsGroup}`);
  });

  test("starts node directly, in exec form (npm would swallow SIGTERM)", () => {
    const cmd = last(final, "CMD")!;
    // node, its V8 heap flags and --lite-mode (abuse.test.ts holds them equal to the npm scripts'), the bundle.
    const argv = JSON.parse(cmd.args) as string[];
    expect([argv[0], argv.at(-1)]).toEqual(command);
    expect(argv.slice(1, -1).every((w) => /^(--max-(old|semi)-space-size=\d+|--lite-mode)$/.test(w))).toBe(true);
    expect(final.instructions.some((i) => i.op === "ENTRYPOINT")).toBe(false);
  });

  test("exposes the port the pod names", () => {
    expect(last(final, "EXPOSE")?.args).toBe(String(containerOf(container).ports[0].containerPort));
  });
});

describe("Dockerfile.app's deno target", () => {
  const { stages } = dockerfile("Dockerfile.app");
  const deno = stages.find((s) => s.name === "deno")!;

  test("takes deno for the image's CPU, and its libraries from BASE for that CPU", () => {
    const rootfs = deno.instructions.find((i) => i.op === "COPY" && / \/rootfs \/$/.test(i.args))!.args.split(/\s+/)[0]!;
    const build = stages.find((s) => `--from=${s.name}` === rootfs)!;
    expect(build).toMatchObject({ from: "${BASE}", platform: undefined });
    expect(build.instructions).toContainEqual(expect.objectContaining({ op: "ARG", args: "TARGETARCH" }));
    const run = build.instructions.find((i) => i.op === "RUN" && /ldd/.test(i.args))!.args;
    expect(run).toContain("linux-$cpu-glibc/deno");
    expect(run).toMatch(/amd64\) echo x64/); // docker's name for the CPU, then Node's and Deno's
  });

  test("runs the same sources on Deno, as the same user, with a compiled cache", () => {
    expect(deno).toBeDefined();
    expect(deno.from).toBe("scratch");
    expect(deno.instructions.filter((i) => i.op === "RUN")).toEqual([]);
    expect(last(deno, "USER")?.args).toBe(last(stages.at(-1)!, "USER")?.args);
    const cmd = JSON.parse(last(deno, "CMD")!.args) as string[];
    expect(cmd.slice(0, 2)).toEqual(["/usr/local/bin/deno", "run"]);
    expect(cmd).toContain("--cached-only");
    expect(cmd.at(-1)).toBe("services/src/deno.ts");
    // Its npm packages are the production ones only.
    const pruned = stages.find((s) => s.instructions.some((i) => /npm prune --omit=dev/.test(i.args)))!;
    const build = stages.find((s) => s.instructions.some((i) => i.args.startsWith(`--from=${pruned.name} /app/node_modules`)));
    expect(build?.name).toBeDefined();
    expect(deno.instructions.map((i) => i.args)).toContain(`--from=${build!.name} /app/node_modules node_modules`);
    // The permissions and behaviour flags are the project's `app:deno` script's, no wider.
    const script = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts["app:deno"] as string;
    const flag = (w: string) => /^--(allow|unstable)-/.test(w);
    expect(cmd.filter(flag).sort()).toEqual(script.split(/\s+/).filter(flag).sort());
  });
});

test(".dockerignore lets in only what the builds copy", () => {
  const lines = readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  expect(lines[0]).toBe("*");
  const allowed = lines.filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, ""));
  const copied = new Set<string>();
  // What a RUN reads from the context through a bind mount, as the runtimes' stages read their binaries.
  const mounted = new Set<string>();
  for (const file of ["Dockerfile.app", "Dockerfile.sidecar"]) {
    for (const stage of dockerfile(file).stages) {
      for (const ins of stage.instructions.filter((i) => i.op === "COPY" && !i.args.startsWith("--from"))) {
        for (const src of ins.args.split(/\s+/).slice(0, -1)) copied.add(src.replace(/\/$/, ""));
      }
      for (const ins of stage.instructions.filter((i) => i.op === "RUN")) {
        for (const [, src] of ins.args.matchAll(/--mount=type=bind,source=([^,\s]+)/g)) mounted.add(src!.replace(/\/$/, ""));
      }
    }
  }
  // Every allowed path is read by some build (a path inside one read wholly, such as one runtime's
  // package in node_modules, counts as that one), and nothing else is.
  const read = [...new Set([...copied, ...mounted])];
  const top = read.filter((src) => !read.some((other) => src.startsWith(`${other}/`)));
  expect(top.sort()).toEqual(allowed.sort());
  expect(lines).toContain("**/*.test.ts");
});

describe.each([
  ["bun", "bun", "app-bun.mjs", "@oven/bun-linux-$cpu"],
  ["workerd", "workerd", "worker.mjs", "@cloudflare/workerd-linux-$cpu/bin/workerd"],
])("Dockerfile.app's %s target", (target, binary, bundle, pkg) => {
  const { stages } = dockerfile("Dockerfile.app");
  const final = stages.find((s) => s.name === target)!;

  test("takes its binary for the image's CPU from its npm package, and the libraries from BASE for that CPU", () => {
    const rootfs = final.instructions.find((i) => i.op === "COPY" && / \/rootfs \/$/.test(i.args))!.args.split(/\s+/)[0]!;
    const build = stages.find((s) => `--from=${s.name}` === rootfs)!;
    expect(build).toMatchObject({ from: "${BASE}", platform: undefined });
    expect(build.instructions).toContainEqual(expect.objectContaining({ op: "ARG", args: "TARGETARCH" }));
    const run = build.instructions.find((i) => i.op === "RUN" && /ldd/.test(i.args))!.args;
    expect(run).toContain(pkg.slice(pkg.indexOf("/") + 1));
    expect(run).toMatch(/amd64\) echo (x64|64)/); // docker's name for the CPU, then the package's
    expect(run).toMatch(new RegExp(`/rootfs/usr/local/bin/${binary} --version$`)); // it runs, there
  });

  test("runs the bundle alone from scratch, as the Node image's user, with no RUN and no node_modules", () => {
    expect(final.from).toBe("scratch");
    expect(final.instructions.filter((i) => i.op === "RUN")).toEqual([]);
    expect(last(final, "USER")?.args).toBe(last(stages.at(-1)!, "USER")?.args);
    expect(last(final, "EXPOSE")?.args).toBe(last(stages.at(-1)!, "EXPOSE")?.args);
    const copies = final.instructions.filter((i) => i.op === "COPY").map((i) => i.args);
    expect(copies.some((c) => /node_modules/.test(c))).toBe(false);
    expect(copies.some((c) => c.startsWith("--from=build ") && c.includes(`/app/dist/bundle/${bundle} `))).toBe(true);
    const cmd = JSON.parse(last(final, "CMD")!.args) as string[];
    expect(cmd[0]).toBe(`/usr/local/bin/${binary}`);
    expect(cmd).toContain(target === "workerd" ? "crashy.capnp" : bundle);
    expect(final.instructions.some((i) => i.op === "ENTRYPOINT")).toBe(false);
  });
});

describe("Dockerfile.sidecar's page", () => {
  const { stages } = dockerfile("Dockerfile.sidecar");

  test("is built into the bundle: the build copies its sources, the image gets nothing but the bundle", () => {
    const build = stages.find((s) => s.instructions.some((i) => i.op === "RUN" && /node bundle\.mjs sidecar/.test(i.args)))!;
    expect(build.instructions.filter((i) => i.op === "COPY").map((i) => i.args)).toContain("sidecar/page sidecar/page");
    const fromBuild = stages.at(-1)!.instructions.filter((i) => i.op === "COPY" && i.args.startsWith(`--from=${build.name} `));
    expect(fromBuild.map((i) => i.args)).toEqual([`--from=${build.name} /app/dist/bundle/sidecar.mjs ./`]);
  });
});
