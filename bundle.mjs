// `npm run build`, after tsc: the entries of the app and the sidecar, each with its npm packages, as
// one ES module in dist/bundle. Loading one file instead of hundreds of modules (zod, prom-client,
// hono) lowers idle RSS and cold start, and the images ship these files alone: the sidecar's bundle
// also holds its live page (sidecar/page, built by sidecar/page/build.ts). The app has one bundle
// per runtime that runs a bundle: Node (app.mjs), Bun (app-bun.mjs) and workerd (worker.mjs, with
// its config crashy.capnp copied beside it); Deno runs the sources.
// Not minified, so stack traces stay readable; the .map files point back into dist.
// `node bundle.mjs app` makes one only: Dockerfile.app's build has no sidecar sources.
import { copyFileSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const BUNDLES = {
  app: ["dist/services/src/node.js", "dist/bundle/app.mjs"],
  "app-bun": ["dist/services/src/bun.js", "dist/bundle/app-bun.mjs"],
  worker: ["dist/services/src/workerd.js", "dist/bundle/worker.mjs"],
  sidecar: ["dist/sidecar/src/node.js", "dist/bundle/sidecar.mjs"],
};
// `node bundle.mjs app` makes every bundle of the app.
const GROUPS = { app: ["app", "app-bun", "worker"] };

const names = (process.argv.length > 2 ? process.argv.slice(2) : Object.keys(BUNDLES)).flatMap((name) => GROUPS[name] ?? [name]);
for (const name of names) if (!(name in BUNDLES)) throw new Error(`bundle.mjs: no bundle named ${name}`);

const local = (path) => fileURLToPath(new URL(path, import.meta.url));

/** The worker's own stand-ins for prom-client's index and Node's util (services/workerd/*.js say why). */
const workerModules = {
  name: "crashy-worker-modules",
  resolveId(id) {
    if (id === "prom-client") return local("./services/workerd/prom-client.js");
    if (id === "util") return local("./services/workerd/util.js");
    return undefined;
  },
};

/** Plugins and options of one bundle; plugins are imported only when that bundle is made, as their modules may be absent otherwise. */
const OPTIONS = {
  async sidecar() {
    const { buildPage, embedPagePlugin } = await import("./dist/sidecar/page/build.js");
    return { plugins: [embedPagePlugin(await buildPage())] };
  },
  // workerd's own modules are its to resolve; everything else is bundled, Node's built-ins included.
  worker: () => ({ platform: "browser", external: [/^cloudflare:/], plugins: [workerModules] }),
};

await build(
  await Promise.all(
    names.map(async (name) => ({
      input: BUNDLES[name][0],
      platform: "node", // Node's built-ins stay imports (Bun has them too)
      ...(await OPTIONS[name]?.()),
      // Anything else left unresolved would be missing from an image that has no node_modules.
      onLog(level, log, handler) {
        handler(log.code === "UNRESOLVED_IMPORT" ? "error" : level, log);
      },
      output: { file: BUNDLES[name][1], format: "esm", sourcemap: true },
    })),
  ),
);

if (names.includes("worker")) {
  // A worker without nodejs_compat has no node: modules, nor require(): say so here, not at load.
  const text = readFileSync(BUNDLES.worker[1], "utf8");
  const node = text.match(/\bfrom\s+["']node:[^"']+["']|\bimport\(\s*["']node:|\brequire\(/);
  if (node) throw new Error(`bundle.mjs: ${BUNDLES.worker[1]} needs Node (${node[0]})`);
  copyFileSync("services/workerd/crashy.capnp", "dist/bundle/crashy.capnp");
}
