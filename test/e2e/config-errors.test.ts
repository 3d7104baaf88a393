// Start-up configuration: every variable of the app, the sidecar and the local pod runner, given
// wrong values, each as a real process: one line naming the variable, the value and what was
// expected, exit code 2, and nothing left listening.
import { createConnection, createServer } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt } from "../../test/built.ts";
import { freePort, start } from "../processes.ts";

type Program = "app" | "sidecar" | "local";

const PROGRAMS: Record<Program, { argv: string[]; prefix: string }> = {
  app: { argv: ["node", "dist/bundle/app.mjs"], prefix: "crashy" },
  sidecar: { argv: ["node", "dist/bundle/sidecar.mjs"], prefix: "crashy-sidecar" },
  local: { argv: ["node", "dist/local/src/main.js"], prefix: "crashy-local" },
};

// What each kind of variable expects, in the words the programs document.
const PORT = "a port number from 1 to 65535";
const ADDRESS = "an address to listen on, such as 0.0.0.0 or 127.0.0.1";
const PORTS = ["", " ", "0", "65536", "-1", "80.5", "abc", "0x50", "1e3", "8 0"];
const NON_NEGATIVE = ["", "-1", "abc", "Infinity", "NaN", "1e3", "1,5", "+2"];
const POSITIVE = ["", "0", "0.0", "-0.5", "ten", "Infinity"];
const THRESHOLD = ["", "0", "1.5", "-1", "three", "1e1"];
const HOSTS = ["", "   ", "not a host", "999.1.1.1", "127.0.0.1:8080", "http://0.0.0.0"];
const URL_TEXT = "an http:// or https:// URL, such as http://127.0.0.1:8080/health";

type Row = { program: Program; name: string; values: string[]; expected: string; prefix?: string; env?: Record<string, string> };

// The sidecar needs a probe to run, or it says so before anything else.
const SIDECAR_PROBE = { LIVENESS_PROBE_URL: "http://127.0.0.1:8080/health" };

const TABLE: Row[] = [
  { program: "app", name: "PORT", values: PORTS, expected: PORT },
  { program: "app", name: "HOST", values: HOSTS, expected: ADDRESS },
  { program: "app", name: "CRASH_AFTER", values: NON_NEGATIVE, expected: "a number of seconds >= 0, such as 60 or 2.5" },
  { program: "app", name: "CRASH_MODE", values: ["", "crash", "ERROR", "error,hang"], expected: 'one of "error", "hang", "exit"' },
  { program: "app", name: "LOG_FORMAT", values: ["", "xml", "JSON"], expected: 'one of "text", "json"' },
  { program: "app", name: "STARTUP_SECONDS", values: NON_NEGATIVE, expected: "a number of seconds >= 0, such as 0 or 30" },
  { program: "app", name: "CONTROL", values: ["", "TRUE", "yes", "1", "on"], expected: 'one of "true", "false"' },

  // Each probe type's variables share one schema: every value for liveness, two for the others.
  ...(["LIVENESS", "READINESS", "STARTUP"] as const).flatMap((type): Row[] => {
    const some = (values: string[]) => (type === "LIVENESS" ? values : values.slice(0, 2));
    // A setting needs its probe's URL, or it is refused for that instead.
    const env = { [`${type}_PROBE_URL`]: "http://127.0.0.1:8080/x" };
    return [
      // An empty URL is that probe switched off (with none on, see below).
      { program: "sidecar", name: `${type}_PROBE_URL`, values: some(["ftp://127.0.0.1/health", "127.0.0.1:8080/health", "http://", "not a url", "tcp://127.0.0.1"]), expected: "an http://, https:// or tcp:// URL, such as http://127.0.0.1:8080/health or tcp://127.0.0.1:8080" },
      { program: "sidecar", name: `${type}_PROBE_PERIOD_SECONDS`, values: some(POSITIVE), expected: "a number of seconds > 0, such as 10 or 0.5", env },
      { program: "sidecar", name: `${type}_PROBE_TIMEOUT_SECONDS`, values: some(POSITIVE), expected: "a number of seconds > 0, such as 10 or 0.5", env },
      { program: "sidecar", name: `${type}_PROBE_FAILURE_THRESHOLD`, values: some(THRESHOLD), expected: "a whole number >= 1, such as 3", env },
      { program: "sidecar", name: `${type}_PROBE_SUCCESS_THRESHOLD`, values: some(THRESHOLD), expected: "a whole number >= 1, such as 3", env },
      { program: "sidecar", name: `${type}_PROBE_INITIAL_DELAY_SECONDS`, values: some(NON_NEGATIVE), expected: "a number of seconds >= 0, such as 0 or 5", env },
    ];
  }),
  // validateLivenessProbe / validateStartupProbe: successThreshold must be 1.
  { program: "sidecar", name: "LIVENESS_PROBE_SUCCESS_THRESHOLD", values: ["2"], expected: "1 for a Liveness probe (Kubernetes requires it)" },
  { program: "sidecar", name: "STARTUP_PROBE_SUCCESS_THRESHOLD", values: ["3"], expected: "1 for a Startup probe (Kubernetes requires it)", env: { STARTUP_PROBE_URL: "http://127.0.0.1:8080/x" } },
  { program: "sidecar", name: "READINESS_PROBE_PERIOD_SECONDS", values: ["5"], expected: "READINESS_PROBE_URL to be set as well: without it there is no readiness probe", env: { READINESS_PROBE_URL: "" } },
  { program: "sidecar", name: "LIVENESS_PROBE_URL", values: [""], expected: "a probe to run: set LIVENESS_PROBE_URL, READINESS_PROBE_URL or STARTUP_PROBE_URL, such as LIVENESS_PROBE_URL=http://127.0.0.1:8080/health" },
  { program: "sidecar", name: "LOG_FORMAT", values: ["xml"], expected: 'one of "text", "json"' },
  { program: "sidecar", name: "METRICS_URL", values: ["file:///etc/passwd", "nope", "http://", "ws://127.0.0.1/metrics"], expected: `${URL_TEXT}, or empty to disable` },
  { program: "sidecar", name: "SCRAPE_INTERVAL_SECONDS", values: POSITIVE, expected: "a number of seconds > 0, such as 10 or 0.5" },
  { program: "sidecar", name: "TARGET_CONTAINER", values: ["", "  "], expected: "a container name, such as crashy-app" },
  { program: "sidecar", name: "PORT", values: PORTS, expected: PORT },
  { program: "sidecar", name: "HOST", values: HOSTS, expected: ADDRESS },

  { program: "local", name: "APP_PORT", values: ["", "0", "65536", "abc", "80.5"], expected: PORT },
  { program: "local", name: "SIDECAR_PORT", values: ["", "0", "65536", "abc", "80.5"], expected: PORT },
  // Passed through to the app: checked by the app's rules before anything starts, in the app's words.
  { program: "local", name: "CRASH_AFTER", values: ["", "-1", "soon"], expected: "a number of seconds >= 0, such as 60 or 2.5", prefix: "crashy" },
  { program: "local", name: "CRASH_MODE", values: ["", "crash"], expected: 'one of "error", "hang", "exit"', prefix: "crashy" },
];

const CASES = TABLE.flatMap((row) => row.values.map((value) => ({ ...row, value })));

/** True if something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      // A connection to a free ephemeral port can, rarely, be given that same port as its own
      // source and connect to itself: that is no listener.
      const self = socket.localPort === port;
      socket.destroy();
      resolve(!self);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Runs `program` with `env` on free ports; resolves with what it printed, its exit and the ports it was given. */
async function run(program: Program, env: Record<string, string>) {
  const ports: Record<string, string> = program === "local" ? { APP_PORT: String(await freePort()), SIDECAR_PORT: String(await freePort()) } : { PORT: String(await freePort()) };
  const given = { HOST: "127.0.0.1", ...ports, ...(program === "sidecar" ? SIDECAR_PROBE : {}), ...env };
  const p = await start(PROGRAMS[program].argv, given);
  let stdout = "";
  let stderr = "";
  p.child.stdout!.on("data", (d) => (stdout += d));
  p.child.stderr!.on("data", (d) => (stderr += d));
  // "exit" can come before the last output is read; "close" comes after the pipes are drained.
  const closed = new Promise<void>((resolve) => p.child.once("close", () => resolve()));
  // A program that does not exit on its own is a failure; the bound keeps the test from hanging.
  const bound = setTimeout(() => p.child.kill("SIGKILL"), 25_000);
  const code = await p.exited;
  await closed;
  clearTimeout(bound);
  // Only ports this run chose and did not break on purpose say something about it.
  const checked = Object.entries(ports).filter(([name]) => !(name in env)).map(([, port]) => Number(port));
  return { stdout, stderr, code, checked };
}

beforeAll(() => assertBuilt());

describe.concurrent("a wrong value of each variable", () => {
  it.each(CASES)("$program: $name=$value gives one line naming it, exit 2, nothing listening", { timeout: 30_000 }, async ({ program, name, value, expected, prefix, env }) => {
    const { stdout, stderr, code, checked } = await run(program, { ...env, [name]: value });
    const line = `${prefix ?? PROGRAMS[program].prefix}: ${name}=${JSON.stringify(value)} is invalid: expected ${expected}`;
    // One comparison, so a failure shows everything the process did.
    expect({ stderr: stderr.split("\n").filter(Boolean), stdout, code }).toEqual({ stderr: [line], stdout: "", code: 2 });
    for (const port of checked) expect(await listening(port), `port ${port}`).toBe(false);
  });

  it.each<{ program: Program; env: Record<string, string>; lines: string[] }>([
    { program: "app", env: { PORT: "0", CRASH_MODE: "x" }, lines: ['crashy: PORT="0" is invalid', 'crashy: CRASH_MODE="x" is invalid'] },
    {
      program: "sidecar",
      env: { LIVENESS_PROBE_URL: "x", LIVENESS_PROBE_PERIOD_SECONDS: "0", HOST: "" },
      lines: ['crashy-sidecar: LIVENESS_PROBE_URL="x" is invalid', 'crashy-sidecar: LIVENESS_PROBE_PERIOD_SECONDS="0" is invalid', 'crashy-sidecar: HOST="" is invalid'],
    },
    { program: "local", env: { APP_PORT: "0", SIDECAR_PORT: "x" }, lines: ['crashy-local: APP_PORT="0" is invalid', 'crashy-local: SIDECAR_PORT="x" is invalid'] },
  ])("$program: several wrong values give one line each, exit 2", { timeout: 30_000 }, async ({ program, env, lines }) => {
    const { stdout, stderr, code, checked } = await run(program, env);
    const printed = stderr.split("\n").filter(Boolean);
    expect(printed).toHaveLength(lines.length);
    lines.forEach((start, i) => expect(printed[i]).toMatch(new RegExp(`^${start.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: expected `)));
    expect(stdout).toBe("");
    expect(code).toBe(2);
    for (const port of checked) expect(await listening(port)).toBe(false);
  });
});

// Well-formed values that only the machine can refuse: not configuration errors (exit 1, as when
// the port is taken), but still one line that says where it could not listen, and nothing left behind.
describe.concurrent("an address or port the machine refuses", () => {
  it.each<{ program: "app" | "sidecar"; what: string }>([
    { program: "app", what: "address" },
    { program: "app", what: "port" },
    { program: "sidecar", what: "address" },
    { program: "sidecar", what: "port" },
  ])("$program: an unavailable $what gives one line naming it, exit 1", { timeout: 30_000 }, async ({ program, what }) => {
    const port = await freePort();
    // 192.0.2.1 (TEST-NET-1) is no address of this machine; the port is taken by this test.
    const taken = createServer();
    if (what === "port") await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));
    try {
      const host = what === "address" ? "192.0.2.1" : "127.0.0.1";
      const { stderr, code } = await run(program, { HOST: host, PORT: String(port) });
      const reason = what === "address" ? "EADDRNOTAVAIL" : "EADDRINUSE";
      expect(stderr.split("\n").filter(Boolean)).toEqual([expect.stringMatching(new RegExp(`^${PROGRAMS[program].prefix}: cannot listen on ${host}:${port}: listen ${reason}: `))]);
      expect(code).toBe(1);
    } finally {
      taken.close();
    }
    expect(await listening(port)).toBe(false);
  });
});
