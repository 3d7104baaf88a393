// The toolchain of a fresh clone: the tests run on the images' Node major (.nvmrc), and `npm ci`
// warns about no engine and installs no package at two versions.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ROOT } from "./processes.ts";

const nvmrc = readFileSync(join(ROOT, ".nvmrc"), "utf8").trim();
const major = nvmrc.split(".")[0]!;

describe("the toolchain", () => {
  test("the tests run on the Node major of .nvmrc, which package.json's engines name", () => {
    expect(nvmrc).toMatch(/^\d+\.\d+\.\d+$/);
    expect(process.versions.node.split(".")[0], "the node running the tests (.ci/setup.sh installs it)").toBe(major);
    const { engines } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(engines.node).toMatch(new RegExp(`^\\^${major}\\.\\d+\\.\\d+$`));
  });

  test("npm ci, as a fresh clone runs it, prints no engine warning", () => {
    // --dry-run reads the lock and checks engines, and changes nothing.
    const ci = spawnSync("npm", ["ci", "--dry-run", "--no-audit", "--no-fund"], { cwd: ROOT, encoding: "utf8" });
    expect(ci.status, ci.stderr).toBe(0);
    expect(`${ci.stdout}${ci.stderr}`).not.toContain("EBADENGINE");
  });

  test("the lock installs each package once, at one version", () => {
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };
    const versions = new Map<string, Set<string>>();
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === "") continue;
      const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
      versions.set(name, (versions.get(name) ?? new Set()).add(entry.version ?? path));
    }
    const twice = [...versions].filter(([, v]) => v.size > 1).map(([name, v]) => `${name}: ${[...v].join(", ")}`);
    expect(twice).toEqual([]);
    expect(versions.size).toBeGreaterThan(50);
  });
});
