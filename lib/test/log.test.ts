import { describe, expect, it } from "vitest";
import { z } from "zod";
import { problemsOf } from "../../test/config.ts";
import { parseEnv, type Env } from "../env.ts";
import { createLogger, envLogFormat, type LogFormat } from "../log.ts";

function capture(format: LogFormat, now = Date.UTC(2026, 0, 2, 3, 4, 5, 67)) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const log = createLogger({
    program: "prog",
    format,
    sink: { stdout: (line) => void stdout.push(line), stderr: (line) => void stderr.push(line) },
    clock: { now: () => now },
  });
  return { log, stdout, stderr };
}

describe("LOG_FORMAT=text", () => {
  it("prints the program's name and the message, nothing else: info and warn on stdout, error on stderr", () => {
    const { log, stdout, stderr } = capture("text");
    log.info("listening on http://127.0.0.1:8080", { url: "http://127.0.0.1:8080" });
    log.warn("Warning Unhealthy container/app: Liveness probe failed", { type: "Warning" });
    log.error("cannot listen on 127.0.0.1:8080: listen EADDRINUSE");
    expect(stdout).toEqual(["prog: listening on http://127.0.0.1:8080", "prog: Warning Unhealthy container/app: Liveness probe failed"]);
    expect(stderr).toEqual(["prog: cannot listen on 127.0.0.1:8080: listen EADDRINUSE"]);
  });
});

describe("LOG_FORMAT=json", () => {
  it("prints one object a line: time (RFC 3339, ms), level, msg, program, then the fields", () => {
    const { log, stdout, stderr } = capture("json");
    log.info("listening", { url: "http://[::1]:8080", crash_after: 2.5, up: true, none: null });
    log.warn("scrape failed: \"quoted\"\nsecond line", { url: "http://x/metrics" });
    log.error("cannot listen");
    expect(stdout).toHaveLength(2);
    expect(stderr).toHaveLength(1);
    // Raw text: the key order, and a message with a newline still on one line.
    expect(stdout[0]).toBe(
      '{"time":"2026-01-02T03:04:05.067Z","level":"info","msg":"listening","program":"prog","url":"http://[::1]:8080","crash_after":2.5,"up":true,"none":null}',
    );
    expect(stdout[1]!.split("\n")).toHaveLength(1);
    expect(JSON.parse(stdout[1]!)).toEqual({
      time: "2026-01-02T03:04:05.067Z",
      level: "warn",
      msg: 'scrape failed: "quoted"\nsecond line',
      program: "prog",
      url: "http://x/metrics",
    });
    expect(JSON.parse(stderr[0]!)).toEqual({ time: "2026-01-02T03:04:05.067Z", level: "error", msg: "cannot listen", program: "prog" });
  });

  it("keeps time, level, msg and program when a field has the same name", () => {
    const { log, stdout } = capture("json");
    log.info("real", { msg: "fake", level: "error", program: "other", time: "never", extra: 1 });
    expect(JSON.parse(stdout[0]!)).toEqual({ time: "2026-01-02T03:04:05.067Z", level: "info", msg: "real", program: "prog", extra: 1 });
  });

  it("reads the time at each line", () => {
    let now = 0;
    const lines: string[] = [];
    const log = createLogger({ program: "p", format: "json", sink: { stdout: (l) => void lines.push(l), stderr: () => {} }, clock: { now: () => now } });
    log.info("a");
    now = 1_500;
    log.info("b");
    expect(lines.map((l) => JSON.parse(l).time)).toEqual(["1970-01-01T00:00:00.000Z", "1970-01-01T00:00:01.500Z"]);
  });
});

describe("envLogFormat", () => {
  const schema = z.object({ LOG_FORMAT: envLogFormat() });
  const load = (env: Env) => parseEnv(schema, env);

  it("is text when unset, and takes text or json", () => {
    expect(load({}).LOG_FORMAT).toBe("text");
    expect(load({ LOG_FORMAT: "text" }).LOG_FORMAT).toBe("text");
    expect(load({ LOG_FORMAT: "json" }).LOG_FORMAT).toBe("json");
  });

  it.each(["xml", "JSON", "", "logfmt"])("rejects LOG_FORMAT=%j, naming the choices", (value) => {
    expect(problemsOf(load, { LOG_FORMAT: value })).toEqual([
      `LOG_FORMAT=${JSON.stringify(value)} is invalid: expected one of "text", "json"`,
    ]);
  });
});
