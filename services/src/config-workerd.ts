// The app's configuration on workerd: the same variables, rules and words, except that
// CRASH_MODE=exit cannot exist there. A worker is not a process: nothing it can call ends workerd
// (process.exit() only cancels the request that calls it), so "exit" is refused like any bad value.
import { z } from "zod";
import { envChoice, parseEnv, type Env } from "../../lib/env.ts";
import { configSchema, type Config } from "./config.ts";

export const WORKERD_CRASH_MODES = ["error", "hang"] as const;

/**
 * How long CRASH_MODE=hang holds a request on workerd. workerd does not notice a client that goes
 * away while its answer is pending, so a held request would be held for ever; this is well past
 * any probe's timeout in the lab. (A promise with nothing pending would not do either: workerd
 * ends it as hung code, with a 500.)
 */
export const HOLD_MS = 30_000;

// The same schema with CRASH_MODE narrowed; extend() keeps the key's place, so the lines of several
// bad variables come in the same order as on the other runtimes.
const variables = configSchema.in.extend({ CRASH_MODE: envChoice(WORKERD_CRASH_MODES, "error") });
// The app's own transform, which takes every crash mode, so the narrower values too: the cast only
// tells TypeScript so, as it compares a transform's input invariantly.
const toConfig = configSchema.out as unknown as z.ZodType<Config, z.output<typeof variables>>;
export const workerdConfigSchema = z.pipe(variables, toConfig);

/** Reads the app's configuration on workerd; throws a ConfigError naming each bad variable. */
export function loadWorkerdConfig(env: Env): Config {
  return parseEnv(workerdConfigSchema, env);
}
