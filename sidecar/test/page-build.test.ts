// The page's build (sidecar/page/build.ts): page.ts becomes one classic script with no TypeScript
// left in it, the page's own tsconfig checks it as a browser would run it, and the bundle's plugin
// refuses to make a sidecar without the page. The bundle itself is checked in page.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Script } from "node:vm";
import { build } from "rolldown";
import ts from "typescript";
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
  const configFile = join(ROOT, PAGE_DIR, "tsconfig.json");
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configFile, ts.sys.readFile).config, ts.sys, dirname(configFile));
  const check = (files: string[]) =>
    ts.getPreEmitDiagnostics(ts.createProgram(files, { ...parsed.options, noEmit: true }))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));

  test("page.ts type-checks with it", () => {
    expect(parsed.errors).toEqual([]);
    expect(parsed.fileNames).toEqual([join(ROOT, PAGE_DIR, "page.ts")]);
    expect(check(parsed.fileNames)).toEqual([]);
  }, 30_000);

  test("it rejects Node's globals, which do not exist in a browser", () => {
    const file = join(dir, "node-global.ts");
    writeFileSync(file, "export const port = process.env.PORT;\n");
    expect(check([file]).join("\n")).toMatch(/Cannot find name 'process'/);
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
