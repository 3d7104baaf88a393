// Tests of real processes run the bundles that users and the images run; a stale build would test old code.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./processes.ts";

export const SIDECAR_ENTRY = ["node", "dist/bundle/sidecar.mjs"];
export const APP_ENTRY = ["node", "dist/bundle/app.mjs"];

/** Throws unless dist/ holds a build and bundles of every sidecar and service source at least as new as the source. */
export function assertBuilt(): void {
  const bundled = Math.min(...["app", "app-bun", "worker", "sidecar"].map((b) => mtime(join(ROOT, "dist", "bundle", `${b}.mjs`))));
  for (const dir of ["sidecar/src", "services/src", "services/src/routes", "probe/src", "lib"]) {
    for (const file of readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".ts"))) {
      if (file.includes("deno")) continue;
      const built = join(ROOT, "dist", dir, file.replace(/\.ts$/, ".js"));
      const source = mtime(join(ROOT, dir, file));
      const stale = mtime(built) < source ? built : bundled < source ? "dist/bundle" : undefined;
      if (stale) throw new Error(`${stale} is missing or older than ${dir}/${file}: run \`npm run build\` first (npm test does)`);
    }
  }
}

/** A file's mtime, or -Infinity if it is missing. */
function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -Infinity;
  }
}
