// For configuration tests: what a loader says about an environment it must reject.
import { ConfigError, type Env } from "../lib/env.ts";

/** The problem lines `load` reports for `env`; fails the test if `env` is accepted. */
export function problemsOf(load: (env: Env) => unknown, env: Env): readonly string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}
