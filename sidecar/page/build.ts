// Builds the live page for the sidecar's server, at build time (Node, with rolldown): index.html as
// it is, and page.ts as one classic script, since `<script src="page.js">` is not a module. Types
// are erased, not checked, here: tsc checks page.ts (npm run typecheck, and the page's own
// tsconfig.json in a test). bundle.mjs embeds the result into the sidecar's bundle with
// embedPagePlugin(); tests call buildPage() to get the very bytes the bundle holds.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "rolldown";
import type { PageFiles } from "../src/page.ts";

/** The page's sources, relative to the project's root. */
export const PAGE_DIR = join("sidecar", "page");

/** The project's root: the nearest folder with a package.json, whether this runs as source or from dist/. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export async function buildPage(root: string = projectRoot()): Promise<PageFiles> {
  const dir = join(root, PAGE_DIR);
  const { output } = await build({
    input: join(dir, "page.ts"),
    cwd: root,
    platform: "browser",
    tsconfig: join(dir, "tsconfig.json"),
    // The page loads nothing but itself: an import left unresolved would be a request at run time.
    onLog(level, log, handler) {
      handler(log.code === "UNRESOLVED_IMPORT" ? "error" : level, log);
    },
    write: false,
    // Not minified, so the browser's errors point at readable lines; strict, as page.ts (a module) is.
    output: { format: "iife", strict: true },
  });
  const [chunk, ...rest] = output;
  if (!chunk || chunk.type !== "chunk" || rest.length > 0) throw new Error(`${PAGE_DIR}/page.ts must build into one script`);
  return { html: await readFile(join(dir, "index.html"), "utf8"), script: chunk.code };
}

/**
 * Replaces sidecar/src/page.ts (or its build in dist) with a module holding `page`, so the bundle
 * serves the page with no file beside it. Fails the build if that module is not in the bundle.
 */
export function embedPagePlugin(page: PageFiles): Plugin {
  const isPageModule = (id: string) => /[\\/]sidecar[\\/]src[\\/]page\.(ts|js)$/.test(id);
  let embedded = false;
  return {
    name: "crashy-embed-page",
    load(id) {
      if (!isPageModule(id)) return null;
      embedded = true;
      return { code: `export const PAGE = ${JSON.stringify(page)};\n`, map: null };
    },
    buildEnd(error) {
      if (!error && !embedded) this.error("sidecar/src/page.ts is not in the bundle: the page would be missing");
    },
  };
}
