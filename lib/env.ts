// Environment parsing shared by the app, the sidecar and the local runner: zod schemas whose failures
// become one line per variable, naming the variable, the value given and what was expected.
import { z } from "zod";

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Parses `env` with `schema`; on failure throws a ConfigError with one line per bad variable. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "environment");
    return `${name}=${JSON.stringify(env[name] ?? "")} is invalid: ${issue.message}`;
  });
  throw new ConfigError([...new Set(problems)]);
}

/** The lines a program prints for a bad configuration, each prefixed with the program's name. */
export function configErrorLines(program: string, error: ConfigError): string[] {
  return error.problems.map((problem) => `${program}: ${problem}`);
}

/**
 * One variable: unset gives `fallback`; otherwise `parse` gets the trimmed text and returns the
 * value, or undefined for "not valid", which becomes the issue "expected <expected>".
 */
export function envVar<T>(fallback: T, expected: string, parse: (text: string) => T | undefined) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      if (raw === undefined) return fallback;
      const value = parse(raw.trim());
      if (value === undefined) {
        ctx.addIssue({ code: "custom", message: `expected ${expected}` });
        return z.NEVER;
      }
      return value;
    });
}

type NumberRule = {
  default: number;
  /** Words for the error message, after "expected". */
  expected: string;
  integer?: boolean;
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  max?: number;
};

// Plain decimal notation only: Number() would also take "", "0x10", "1e3" and "Infinity".
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const INTEGER = /^\d+$/;

/** A number; an empty or malformed value, or one out of range, is an error. */
export function envNumber(rule: NumberRule) {
  return envVar(rule.default, rule.expected, (text) => {
    const n = (rule.integer ? INTEGER : DECIMAL).test(text) ? Number(text) : Number.NaN;
    const ok =
      Number.isFinite(n) &&
      (rule.min === undefined || n >= rule.min) &&
      (rule.above === undefined || n > rule.above) &&
      (rule.max === undefined || n <= rule.max);
    return ok ? n : undefined;
  });
}

/** A TCP port, 1-65535. */
export function envPort(fallback: number) {
  return envNumber({ default: fallback, integer: true, min: 1, max: 65535, expected: "a port number from 1 to 65535" });
}

/** One of a fixed set of words. */
export function envChoice<const T extends readonly [string, ...string[]]>(choices: T, fallback: T[number]) {
  const expected = `one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`;
  return envVar<T[number]>(fallback, expected, (text) => choices.find((c) => c === text));
}

/** A non-empty word. */
export function envText(fallback: string, expected: string) {
  return envVar(fallback, expected, (text) => (text === "" ? undefined : text));
}

/**
 * An address to listen on: an IP address or a host name. Checked at start-up, so that a malformed
 * value ("not a host", "999.1.1.1", "127.0.0.1:8080") is a configuration error naming HOST rather
 * than a failure to listen; a well-formed name that does not resolve still fails at listen time.
 */
export function envHost(fallback: string) {
  return envVar(fallback, "an address to listen on, such as 0.0.0.0 or 127.0.0.1", (text) =>
    isListenAddress(text) ? text : undefined,
  );
}

function isListenAddress(text: string): boolean {
  if (text === "") return false;
  // An IPv6 literal, written bare as listen() takes it.
  if (text.includes(":")) return URL.canParse(`http://[${text}]/`);
  // An IPv4 address or a host name: what the WHATWG URL parser takes as a host, unchanged by it.
  try {
    return new URL(`http://${text}/`).hostname === text.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * An http:// or https:// URL. With `allowEmpty`, an empty value gives "" (a feature switched off);
 * unset always gives the fallback.
 */
export function envHttpUrl(fallback: string, options: { allowEmpty?: boolean } = {}) {
  const expected = options.allowEmpty
    ? "an http:// or https:// URL, such as http://127.0.0.1:8080/health, or empty to disable"
    : "an http:// or https:// URL, such as http://127.0.0.1:8080/health";
  return envVar(fallback, expected, (text) => {
    if (text === "" && options.allowEmpty) return "";
    const url = URL.canParse(text) ? new URL(text) : undefined;
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") return undefined;
    return url.href;
  });
}
