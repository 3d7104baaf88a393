// The project's root, found from this file whether it runs as source (local/src) or built (dist/local/src).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("crashy: cannot find the project root (no package.json above the runner)");
    dir = up;
  }
  return dir;
}
