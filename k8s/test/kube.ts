// Helpers for the manifest tests: render with kubectl's kustomize, and check objects against the
// Kubernetes API schemas that kubernetes-models generates from the OpenAPI spec.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
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

// kubernetes-models is CommonJS without an exports map; the prometheus-operator set is ESM only.
async function load(spec: string): Promise<Obj | undefined> {
  try {
    return require(spec) as Obj;
  } catch {
    return (await import(spec).catch(() => undefined)) as Obj | undefined;
  }
}

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
  const imports: string[] = [];
  const consts: string[] = [];
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
    imports.push(`import type { I${o.kind} as T${i} } from ${JSON.stringify(spec)};`);
    consts.push(`export const o${i}: T${i} = ${JSON.stringify(o, null, 1)};`);
  }
  if (consts.length > 0) problems.push(...typeProblems(objects, `${imports.join("\n")}\n${consts.join("\n")}\n`));
  return problems;
}

function typeProblems(objects: Obj[], source: string): string[] {
  const fileName = join(ROOT, "k8s", "test", "__objects__.ts");
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === fileName ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  const sourceFile = program.getSourceFile(fileName)!;
  return ts.getPreEmitDiagnostics(program, sourceFile).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n").at(-1);
    if (d.file !== sourceFile || d.start === undefined) return `schema check: ${message}`;
    return `${objectAt(source, d.start, objects)}: ${pathAt(sourceFile, d.start)}: ${message}`;
  });
}

/** Which object a position in the generated source falls in. */
function objectAt(source: string, pos: number, objects: Obj[]): string {
  const match = [...source.slice(0, pos).matchAll(/export const o(\d+):/g)].at(-1);
  const o = match ? objects[Number(match[1])] : undefined;
  return o ? id(o) : "schema check";
}

/** The property path of the node at `pos`, as `spec.template...` */
function pathAt(file: ts.SourceFile, pos: number): string {
  const path: string[] = [];
  const visit = (node: ts.Node): void => {
    if (pos < node.getStart(file) || pos >= node.getEnd()) return;
    if (ts.isPropertyAssignment(node) && ts.isStringLiteral(node.name)) path.push(node.name.text);
    if (ts.isArrayLiteralExpression(node)) {
      const index = node.elements.findIndex((e) => pos >= e.getStart(file) && pos < e.getEnd());
      if (index >= 0) path.push(`[${index}]`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return path.join(".").replace(/\.\[/g, "[");
}
