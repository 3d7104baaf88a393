// GET /health: the liveness endpoint. 200 while up, unless POST /control/fail?count=N asked for
// failures; 503 while starting; after the crash, what CRASH_MODE says.
import { hang } from "./hang.ts";
import { TEXT, type Handler, type RouteDeps } from "./route.ts";

const OK = "200 OK\n";
const FAILED = "500 Internal Server Error\n";

export function health({ config, state, holdMs }: RouteDeps): Handler {
  return (c) => {
    const phase = state.phase();
    if (phase === "up") return state.takeFailure() ? c.body(FAILED, 500, TEXT) : c.body(OK, 200, TEXT);
    if (phase === "starting") return c.body("starting\n", 503, TEXT);
    return config.crashMode === "hang" ? hang(c, holdMs) : c.body(FAILED, 500, TEXT);
  };
}
