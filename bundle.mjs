// `npm run build`, after tsc: the Node entries of the app and the sidecar, each with its npm
// packages, as one ES module in dist/bundle. Loading one file instead of hundreds of modules (zod,
// prom-client, hono) lowers idle RSS and cold start, and the images ship these files alone: the
// sidecar's bundle also holds its live page (sidecar/page, built by sidecar/page/build.ts).
// Not minified, so stack traces stay readable; the .map files point back into dist.
// `node bundle.mjs app` makes one only: Dockerfile.app's build has no sidecar sources.
import { build } from "rolldown";

const BUNDLES = {
  app: ["dist/services/src/node.js", "dist/bundle/app.mjs"],
  sidecar: ["dist/sidecar/src/node.js", "dist/bundle/sidecar.mjs"],
};

const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(BUNDLES);
for (const name of names) if (!(name in BUNDLES)) throw new Error(`bundle.mjs: no bundle named ${name}`);

/** Plugins of one bundle; imported only when that bundle is made, as their modules may be absent otherwise. */
const PLUGINS = {
  async sidecar() {
    const { buildPage, embedPagePlugin } = await import("./dist/sidecar/page/build.js");
    return [embedPagePlugin(await buildPage())];
  },
};

await build(
  await Promise.all(
    names.map(async (name) => ({
      input: BUNDLES[name][0],
      platform: "node", // Node's built-ins stay imports
      plugins: (await PLUGINS[name]?.()) ?? [],
      // Anything else left unresolved would be missing from an image that has no node_modules.
      onLog(level, log, handler) {
        handler(log.code === "UNRESOLVED_IMPORT" ? "error" : level, log);
      },
      output: { file: BUNDLES[name][1], format: "esm", sourcemap: true },
    })),
  ),
);
