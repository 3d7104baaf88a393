// Tests of real processes run the built entry; a stale build would test old code.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../test/processes.ts";

export const SIDECAR_ENTRY = ["node", "dist/sidecar/src/node.js"];
export const APP_ENTRY = ["node", "dist/services/src/node.js"];

/** Throws unless dist/ holds a build of every sidecar and service source at least as new as the source. */
export function assertBuilt(): void {
  for (const dir of ["sidecar/src", "services/src"]) {
    for (const file of readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".ts"))) {
      if (file.includes("deno")) continue;
      const built = join(ROOT, "dist", dir, file.replace(/\.ts$/, ".js"));
      let stale: boolean;
      try {
        stale = statSync(built).mtimeMs < statSync(join(ROOT, dir, file)).mtimeMs;
      } catch {
        stale = true;
      }
      if (stale) throw new Error(`${built} is missing or older than its source: run \`npm run build\` first (npm test does)`);
    }
  }
}
