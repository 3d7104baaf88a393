// The V8 flags the programs run with (memory: see k8s/README.md, "Limits and why"), as tests find
// them in a command line: the npm scripts, the images' CMD, a running process's argv.

/** One V8 flag the kit sets: heap sizes, and the compilers it turns off. */
export const V8_FLAG = /^--(max-(old|semi)-space-size=\d+|no-maglev|lite-mode)$/;

/** The V8 flags in a command line, Deno's --v8-flags= list opened up. */
export const v8Flags = (argv: readonly string[]): string[] =>
  argv.flatMap((w) => (w.startsWith("--v8-flags=") ? w.slice("--v8-flags=".length).split(",") : [w])).filter((w) => V8_FLAG.test(w));
