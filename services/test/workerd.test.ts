// What the app does differently on workerd, without workerd: the configuration (CRASH_MODE=exit
// refused), the bounded hold of CRASH_MODE=hang, and crashy.capnp's bindings. entries.test.ts runs it on workerd.
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../lib/env.ts";
import { createApp } from "../src/app.ts";
import { CRASH_MODES, ENV_NAMES, loadConfig } from "../src/config.ts";
import { HOLD_MS, loadWorkerdConfig, WORKERD_CRASH_MODES } from "../src/config-workerd.ts";

const problems = (load: () => unknown): readonly string[] => {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe("the configuration on workerd", () => {
  it("refuses CRASH_MODE=exit in the usual words, naming the modes a worker has", () => {
    expect(problems(() => loadWorkerdConfig({ CRASH_MODE: "exit" }))).toEqual(['CRASH_MODE="exit" is invalid: expected one of "error", "hang"']);
    expect(WORKERD_CRASH_MODES).toEqual(CRASH_MODES.filter((mode) => mode !== "exit"));
  });

  it("reads every other value as the other runtimes do, and names bad ones in the same order", () => {
    for (const env of [{}, { CRASH_MODE: "hang", CRASH_AFTER: "2.5", PORT: "9000", HOST: "127.0.0.1", LOG_FORMAT: "json" }, { CRASH_MODE: "error", CRASH_AFTER: "0" }]) {
      expect(loadWorkerdConfig(env)).toEqual(loadConfig(env));
    }
    const bad = { PORT: "0", HOST: "not a host", CRASH_AFTER: "abc", CRASH_MODE: "boom", LOG_FORMAT: "xml" };
    const lines = problems(() => loadWorkerdConfig(bad));
    expect(lines).toHaveLength(5);
    expect(lines).toEqual(problems(() => loadConfig(bad)).map((line) => line.replace(', "exit"', "")));
  });
});

describe("CRASH_MODE=hang with holdMs, as on workerd", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("holds a request until holdMs, then releases it, uncounted, with nothing left in flight", async () => {
    const crashy = createApp({ config: loadConfig({ CRASH_AFTER: "0", CRASH_MODE: "hang" }), clock: { now: () => 0, monotonic: () => 0 }, hostname: "h", runtime: "workerd", holdMs: 1_000 });
    let settled = false;
    void Promise.resolve(crashy.app.request("/health")).then(() => (settled = true));
    const inFlight = async () => /^http_requests_in_flight (\d+)$/m.exec(await (await crashy.app.request("/metrics")).text())?.[1];
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    expect(await inFlight()).toBe("2");
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toBe(true);
    const text = await (await crashy.app.request("/metrics")).text();
    expect(text).toMatch(/^http_requests_in_flight 1$/m);
    expect(text).not.toMatch(/route="\/health"/);
  });

  it("holds for ever without holdMs, until the client goes away (the other runtimes)", async () => {
    const crashy = createApp({ config: loadConfig({ CRASH_AFTER: "0", CRASH_MODE: "hang" }), clock: { now: () => 0, monotonic: () => 0 }, hostname: "h", runtime: "node" });
    const client = new AbortController();
    let settled = false;
    void Promise.resolve(crashy.app.request("/health", { signal: client.signal })).then(() => (settled = true), () => (settled = true));
    await vi.advanceTimersByTimeAsync(10 * HOLD_MS);
    expect(settled).toBe(false);
    client.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(true);
  });

  it("holds longer on workerd than any probe of the lab waits", () => {
    expect(HOLD_MS).toBeGreaterThanOrEqual(10_000);
  });
});

describe("services/workerd/crashy.capnp", () => {
  const text = readFileSync(new URL("../workerd/crashy.capnp", import.meta.url), "utf8");

  it("binds exactly the variables the app reads, each from the variable of the same name", () => {
    const bindings = [...text.matchAll(/\(name = "(\w+)", fromEnvironment = "(\w+)"\)/g)].map(([, name, from]) => ({ name, from }));
    expect(bindings.map((b) => b.name).sort()).toEqual([...ENV_NAMES].sort());
    for (const b of bindings) expect(b.from).toBe(b.name);
  });

  it("listens where the app listens by default, serves the bundle, and needs no nodejs_compat", () => {
    expect(text).toMatch(/sockets = \[ \(name = "http", address = "\*:8080", http = \(\), service = "crashy"\) \]/);
    expect(text).toContain('esModule = embed "worker.mjs"');
    expect(text).not.toMatch(/^\s*compatibilityFlags/m);
    // Its fetch() reaches no address (and needs no CA certificates in the image).
    expect(text).toContain('(name = "internet", network = (allow = [])),');
    const { port, host } = loadConfig({});
    expect([port, host]).toEqual([8080, "0.0.0.0"]);
  });
});
