// GET /: the greeting, and whether the app has crashed yet.
import { hang } from "./hang.ts";
import { TEXT, type Handler, type RouteDeps } from "./route.ts";

export function home({ config, clock, state, greeting, holdMs }: RouteDeps): Handler {
  const up = `${greeting}But I didn't crash... yet :D\n`;
  const seconds = (ms: number) => (ms / 1000).toFixed(2);
  return (c) => {
    switch (state.phase()) {
      case "up":
        return c.body(up, 200, TEXT);
      case "starting":
        return c.body(`${greeting}I'm still starting up, ${seconds(state.startupEndsAt - clock.monotonic())} seconds to go (STARTUP_SECONDS=${config.startupSeconds})\n`, 503, TEXT);
      case "crashed":
        if (config.crashMode === "hang") return hang(c, holdMs);
        return c.body(`${greeting}I crashed ${seconds(clock.monotonic() - state.crashAt)} seconds ago, sorry about that :(\n`, 500, TEXT);
    }
  };
}
