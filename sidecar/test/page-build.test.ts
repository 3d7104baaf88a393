// The page's build (sidecar/page/build.ts): page.ts becomes one classic script with no TypeScript
// left in it, the page's own tsconfig checks it as a browser would run it, and the bundle's plugin
// refuses to make a sidecar without the page. The bundle itself is checked in page.test.ts.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Script } from "node:vm";
import { build } from "rolldown";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT } from "../../test/processes.ts";
import { buildPage, embedPagePlugin, PAGE_DIR } from "../page/build.ts";
import type { PageFiles } from "../src/page.ts";

let page: PageFiles;
let dir: string;
beforeAll(async () => {
  page = await buildPage();
  dir = mkdtempSync(join(tmpdir(), "crashy-page-build-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("buildPage", () => {
  test("page.ts becomes one strict classic script: no types, imports or exports left", () => {
    // A classic script's grammar: a type annotation, `import` or `export` would not parse.
    expect(() => new Script(page.script, { filename: "page.js" })).not.toThrow();
    expect(page.script.startsWith('"use strict";')).toBe(true);
    // The functions of page.ts, by name, and none of its type words.
    for (const name of ["byId", "ago", "el", "render", "drawTimeline", "poll"]) expect(page.script).toContain(`function ${name}(`);
    expect(page.script).not.toMatch(/SidecarStatus|: string|: number|\bas SVGSVGElement\b/);
  });

  test("the HTML is index.html as it is, loading the script by a relative URL", () => {
    expect(page.html).toBe(readFileSync(join(ROOT, PAGE_DIR, "index.html"), "utf8"));
    expect(page.html).toContain('<script src="page.js"></script>');
  });
});

describe("the page's tsconfig.json: the browser's libraries, no Node types", () => {
  const tsc = join(ROOT, "node_modules", ".bin", "tsc");
  /** tsc's diagnostics for a project, as text (TypeScript 7 has no compiler API to call in-process). */
  const check = (project: string) => {
    const result = spawnSync(tsc, ["-p", project, "--noEmit", "--pretty", "false"], { encoding: "utf8" });
    return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
  };

  test("page.ts type-checks with it", () => {
    expect(check(join(ROOT, PAGE_DIR, "tsconfig.json"))).toEqual({ status: 0, output: "" });
  }, 30_000);

  test("it rejects Node's globals, which do not exist in a browser", () => {
    writeFileSync(join(dir, "node-global.ts"), "export const port = process.env.PORT;\n");
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ extends: join(ROOT, PAGE_DIR, "tsconfig.json"), include: ["node-global.ts"], compilerOptions: { typeRoots: [] } }),
    );
    const { status, output } = check(join(dir, "tsconfig.json"));
    expect(status).not.toBe(0);
    expect(output).toMatch(/Cannot find name 'process'/);
  }, 30_000);
});

describe("embedPagePlugin", () => {
  test("puts the page in place of sidecar/src/page.ts", async () => {
    const entry = join(dir, "entry.ts");
    writeFileSync(entry, `export { PAGE } from ${JSON.stringify(join(ROOT, "sidecar/src/page.ts"))};\n`);
    const files = { html: "<p>the page</p>", script: "poll();" };
    const { output } = await build({ input: entry, plugins: [embedPagePlugin(files)], write: false });
    const bundled = join(dir, "bundled.mjs");
    writeFileSync(bundled, output[0].code);
    expect((await import(pathToFileURL(bundled).href)).PAGE).toEqual(files);
  });

  test("fails a bundle that does not contain the page's module", async () => {
    const entry = join(dir, "no-page.ts");
    writeFileSync(entry, "export const nothing = 0;\n");
    await expect(build({ input: entry, plugins: [embedPagePlugin(page)], write: false })).rejects.toThrow(/sidecar\/src\/page\.ts is not in the bundle/);
  });
});
