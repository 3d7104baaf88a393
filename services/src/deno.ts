// Deno entry: the app's run skeleton (run.ts) on Deno, serving with Deno.serve.
// --unstable-no-legacy-abort: request.signal then aborts only when the client goes away (Deno's
// coming default), which is what releases requests held by CRASH_MODE=hang, without a warning.
// Run with: deno run --unstable-no-legacy-abort --allow-net --allow-env=PORT,HOST,CRASH_AFTER,CRASH_MODE,LOG_FORMAT,HOSTNAME,STARTUP_SECONDS,CONTROL --allow-sys=hostname
import { registerDenoProcessMetrics } from "../../lib/process-metrics-deno.ts";
import { resolveDotSegments } from "./paths.ts";
import { run } from "./run.ts";

run({
  name: "deno",
  // Variable by variable: Deno.env.toObject() needs access to the whole environment.
  env: (names) => Object.fromEntries(names.map((name) => [name, Deno.env.get(name)])),
  hostname: () => Deno.hostname(),
  serve({ fetch, host, port, onListen }) {
    // Throws when it cannot listen.
    const server = Deno.serve(
      { hostname: host, port, onListen: ({ hostname, port }) => onListen(`http://${hostname}:${port}`) },
      (request) => fetch(resolveDotSegments(request)),
    );
    // shutdown() waits for in-flight requests.
    return { close: () => server.shutdown() };
  },
  onSignal: (signal, fn) => Deno.addSignalListener(signal, fn),
  exit: (code) => Deno.exit(code),
  registerProcessMetrics: registerDenoProcessMetrics,
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
});

