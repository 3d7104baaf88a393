// Deno entry: read the environment, serve, crash on schedule, stop cleanly on SIGTERM/SIGINT.
// --unstable-no-legacy-abort: request.signal then aborts only when the client goes away (Deno's
// coming default), which is what releases requests held by CRASH_MODE=hang, without a warning.
// Run with: deno run --unstable-no-legacy-abort --allow-net --allow-env=PORT,HOST,CRASH_AFTER,CRASH_MODE,HOSTNAME --allow-sys=hostname
import { ConfigError, configErrorLines } from "../../lib/env.ts";
import { createApp } from "./app.ts";
import { systemClock } from "../../lib/clock.ts";
import { ENV_NAMES, loadConfig, type Config } from "./config.ts";
import { callAt, describeCrash, describeStart, DRAIN_MS } from "./lifecycle.ts";
import { registerDenoProcessMetrics } from "../../lib/process-metrics-deno.ts";

// Read variable by variable: Deno.env.toObject() needs access to the whole environment.
const env = Object.fromEntries(ENV_NAMES.map((name) => [name, Deno.env.get(name)]));

let config: Config;
try {
  config = loadConfig(env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const line of configErrorLines("crashy", error)) console.error(line);
  Deno.exit(2);
}

const crashy = createApp({
  config,
  clock: systemClock,
  hostname: env.HOSTNAME || Deno.hostname(),
  runtime: "deno",
});
registerDenoProcessMetrics(crashy.metrics.registry);

let server: Deno.HttpServer | undefined;
let stopping = false;
async function shutdown(signal: Deno.Signal): Promise<void> {
  if (stopping) return;
  stopping = true;
  cancelCrash?.();
  console.log(`crashy: ${signal} received, finishing in-flight requests`);
  // shutdown() waits for in-flight requests; those held by CRASH_MODE=hang never finish.
  if (server) await Promise.race([server.shutdown(), new Promise((resolve) => setTimeout(resolve, DRAIN_MS))]);
  Deno.exit(0);
}
// Before serving: onListen prints "listening" from within Deno.serve, and a signal sent as soon as
// that line shows must find its listener in place.
Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));

let cancelCrash: (() => void) | undefined;
try {
  server = Deno.serve(
    {
      hostname: config.host,
      port: config.port,
      onListen: ({ hostname, port }) => console.log(describeStart(config, "deno", `http://${hostname}:${port}`)),
    },
    crashy.app.fetch,
  );
} catch (error) {
  console.error(`crashy: cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  Deno.exit(1);
}

cancelCrash = callAt(crashy.crashAt, systemClock, () => {
  console.log(describeCrash(config));
  if (config.crashMode === "exit") Deno.exit(1);
});
