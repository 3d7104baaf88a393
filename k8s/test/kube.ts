// Helpers for the manifest tests: render with kubectl's kustomize, and check objects against the
// Kubernetes API schemas that kubernetes-models generates from the OpenAPI spec.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

// Loosely typed on purpose: the tests read rendered YAML, and the schema check is what types it.
export type Obj = Record<string, any>;

/** `kubectl kustomize <dir>`, parsed: what `kubectl apply -k <dir>` would send. */
export function render(dir: string): Obj[] {
  const text = execFileSync("kubectl", ["kustomize", join(ROOT, dir)], { encoding: "utf8" });
  return parseYaml(text);
}

export function parseYaml(text: string): Obj[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw doc.errors[0];
    return doc.toJS() as Obj;
  });
}

export function find(objects: Obj[], kind: string, name: string): Obj {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`no ${kind}/${name} among ${objects.map(id).join(", ")}`);
  return found;
}

export const id = (o: Obj) => `${o.kind}/${o.metadata?.name}`;

/** The module of kubernetes-models (or its prometheus-operator set) that models this object. */
function modelModule(o: Obj): string | undefined {
  const apiVersion = String(o.apiVersion ?? "");
  const kind = String(o.kind ?? "");
  if (!/^[A-Za-z]+$/.test(kind)) return undefined;
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  }
  if (!/^([a-z0-9.]+\/)?v[0-9a-z]+$/.test(apiVersion)) return undefined;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

const require = createRequire(import.meta.url);

// Both sets are ES modules; a kind they do not have fails to import.
const load = (spec: string): Promise<Obj | undefined> => import(spec).catch(() => undefined);

/**
 * Problems with `objects` as Kubernetes API objects, one line each; [] when all are valid.
 * Two checks, since neither alone is enough:
 * - the models' runtime validators check required fields, types and formats, but, as the
 *   OpenAPI spec allows, ignore fields they do not know;
 * - TypeScript's excess-property check over the same models' declarations rejects any field
 *   the API does not define, such as a misspelt `periodSecond`, which the API server would
 *   drop (or, with strict field validation, refuse).
 */
export async function schemaProblems(objects: Obj[]): Promise<string[]> {
  const problems: string[] = [];
  const imports: Line[] = [];
  const consts: Line[] = [];
  for (const [i, o] of objects.entries()) {
    const spec = modelModule(o);
    const model = spec ? await load(spec) : undefined;
    const Model = model?.[o.kind];
    if (!spec || typeof Model !== "function") {
      problems.push(`${id(o)}: no schema for apiVersion ${o.apiVersion} kind ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (error) {
      problems.push(`${id(o)}: ${(error as Error).message}`);
    }
    imports.push({ text: `import type { I${o.kind} as T${i} } from ${JSON.stringify(spec)};`, path: "" });
    consts.push(...literalLines(o, i, "", `export const o${i}: T${i} = `, ";"));
  }
  if (consts.length > 0) problems.push(...typeProblems(objects, [...imports, ...consts]));
  return problems;
}

function typeProblems(objects: Obj[], lines: Line[]): string[] {
  // tsc itself, not its API: TypeScript 7's compiler is a native program whose JavaScript API is
  // unstable. The file sits under node_modules so that the models' imports resolve.
  mkdirSync(join(ROOT, "node_modules", ".cache"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, "node_modules", ".cache", "crashy-schema-"));
  try {
    writeFileSync(join(dir, "objects.ts"), lines.map((l) => l.text).join("\n") + "\n");
    const compilerOptions = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      target: "es2022",
      module: "esnext",
      moduleResolution: "bundler",
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["objects.ts"] }));
    const tsc = join(dirname(require.resolve("typescript/package.json")), "bin", "tsc");
    const run = spawnSync(process.execPath, [tsc, "-p", dir, "--pretty", "false"], { encoding: "utf8" });
    if (run.error) throw run.error;
    return diagnostics(run.stdout).map(({ file, line, message }) => {
      const at = file === "objects.ts" && line !== undefined ? lines[line - 1] : undefined;
      if (!at || at.object === undefined) return `schema check: ${message}`;
      return `${id(objects[at.object]!)}: ${at.path}: ${message}`;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** tsc's `--pretty false` output: one diagnostic per unindented line, its message chain indented below it. */
function diagnostics(output: string): { file?: string; line?: number; message: string }[] {
  const found: { file?: string; line?: number; message: string }[] = [];
  for (const text of output.split("\n")) {
    if (text.trim() === "") continue;
    if (/^\s/.test(text) && found.length > 0) {
      found.at(-1)!.message = text.trim(); // the chain's last line is its most specific
      continue;
    }
    const match = /^(.*)\((\d+),\d+\): error TS\d+: (.*)$/.exec(text);
    if (match) found.push({ file: basename(match[1]!), line: Number(match[2]), message: match[3]! });
    else found.push({ message: text.replace(/^error TS\d+: /, "") });
  }
  return found;
}

/** A line of the generated source: which object it belongs to, and the property path it starts. */
type Line = { text: string; object?: number; path: string };

/** `value` as a TypeScript literal, one property or element per line, each line with its path. */
function literalLines(value: unknown, object: number, path: string, head: string, tail: string): Line[] {
  const line = (text: string): Line => ({ text, object, path });
  const children = Array.isArray(value)
    ? value.map((v, i) => literalLines(v, object, `${path}[${i}]`, "", ","))
    : value !== null && typeof value === "object"
      ? Object.entries(value).map(([k, v]) => literalLines(v, object, path ? `${path}.${k}` : k, `${JSON.stringify(k)}: `, ","))
      : undefined;
  if (!children) return [line(`${head}${JSON.stringify(value)}${tail}`)];
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  return [line(`${head}${open}`), ...children.flat(), line(`${close}${tail}`)];
}

