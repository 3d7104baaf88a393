// The app's configuration, read from the environment. The schema is the single source of the
// Config type, its defaults and its error messages.
import { z } from "zod";
import { envChoice, envHost, envNumber, envPort, parseEnv, type Env } from "../../lib/env.ts";
import { envLogFormat } from "../../lib/log.ts";

export const CRASH_MODES = ["error", "hang", "exit"] as const;

export const configSchema = z
  .object({
    PORT: envPort(8080),
    // 0.0.0.0 because the kubelet probes the pod IP, not loopback.
    HOST: envHost("0.0.0.0"),
    CRASH_AFTER: envNumber({
      default: 60,
      min: 0,
      expected: "a number of seconds >= 0, such as 60 or 2.5",
    }),
    CRASH_MODE: envChoice(CRASH_MODES, "error"),
    LOG_FORMAT: envLogFormat(),
    // Counted from the start, like CRASH_AFTER: a crash that comes first wins.
    STARTUP_SECONDS: envNumber({
      default: 0,
      min: 0,
      expected: "a number of seconds >= 0, such as 0 or 30",
    }),
    // The run-time control API (/control/...): off in the base lab, on in the lessons that flip switches.
    CONTROL: envChoice(["true", "false"], "false"),
  })
  .transform((env) => ({
    port: env.PORT,
    host: env.HOST,
    crashAfterSeconds: env.CRASH_AFTER,
    crashMode: env.CRASH_MODE,
    logFormat: env.LOG_FORMAT,
    startupSeconds: env.STARTUP_SECONDS,
    control: env.CONTROL === "true",
  }));

export type Config = z.output<typeof configSchema>;
export type CrashMode = Config["crashMode"];

/** Reads the app's configuration; throws a ConfigError naming each bad variable. */
export function loadConfig(env: Env): Config {
  return parseEnv(configSchema, env);
}

/** The variables the app reads: Deno is granted exactly these. */
export const ENV_NAMES = [
  "PORT", "HOST", "CRASH_AFTER", "CRASH_MODE", "LOG_FORMAT", "HOSTNAME",
  // Readiness and startup.
  "STARTUP_SECONDS", "CONTROL",
] as const;
