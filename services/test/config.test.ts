import { describe, expect, it } from "vitest";
import { problemsOf } from "../../test/config.ts";
import { loadConfig } from "../src/config.ts";

const problems = (env: Record<string, string>) => problemsOf(loadConfig, env);

describe("app configuration", () => {
  it("has the lab's defaults when nothing is set", () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: "0.0.0.0",
      crashAfterSeconds: 60,
      crashMode: "error",
      logFormat: "text",
      startupSeconds: 0,
      control: false,
    });
  });

  it("takes every variable when valid", () => {
    expect(
      loadConfig({ PORT: "9000", HOST: "127.0.0.1", CRASH_AFTER: "2.5", CRASH_MODE: "hang", LOG_FORMAT: "json", STARTUP_SECONDS: "30", CONTROL: "true" }),
    ).toEqual({
      port: 9000,
      host: "127.0.0.1",
      crashAfterSeconds: 2.5,
      crashMode: "hang",
      logFormat: "json",
      startupSeconds: 30,
      control: true,
    });
  });

  it.each([
    ["0", 0],
    ["60", 60],
    ["0.25", 0.25],
    [".5", 0.5],
    [" 7 ", 7],
  ])("accepts CRASH_AFTER=%j", (value, seconds) => {
    expect(loadConfig({ CRASH_AFTER: value }).crashAfterSeconds).toBe(seconds);
  });

  it.each(["abc", "-5", "", "1e3", "Infinity", "0x10", "5s", "NaN"])("rejects CRASH_AFTER=%j, naming it", (value) => {
    expect(problems({ CRASH_AFTER: value })).toEqual([
      `CRASH_AFTER=${JSON.stringify(value)} is invalid: expected a number of seconds >= 0, such as 60 or 2.5`,
    ]);
  });

  it.each(["1", "8080", "65535"])("accepts PORT=%s", (value) => {
    expect(loadConfig({ PORT: value }).port).toBe(Number(value));
  });

  it.each(["0", "99999", "65536", "80.5", "http", "-1", ""])("rejects PORT=%j, naming it", (value) => {
    expect(problems({ PORT: value })).toEqual([
      `PORT=${JSON.stringify(value)} is invalid: expected a port number from 1 to 65535`,
    ]);
  });

  it.each(["error", "hang", "exit"])("accepts CRASH_MODE=%s", (mode) => {
    expect(loadConfig({ CRASH_MODE: mode }).crashMode).toBe(mode);
  });

  it.each(["boom", "ERROR", ""])("rejects CRASH_MODE=%j, naming the choices", (value) => {
    expect(problems({ CRASH_MODE: value })).toEqual([
      `CRASH_MODE=${JSON.stringify(value)} is invalid: expected one of "error", "hang", "exit"`,
    ]);
  });

  it("rejects an empty HOST", () => {
    expect(problems({ HOST: " " })).toEqual([
      'HOST=" " is invalid: expected an address to listen on, such as 0.0.0.0 or 127.0.0.1',
    ]);
  });

  it.each([
    ["0", 0],
    ["30", 30],
    ["1.5", 1.5],
  ])("accepts STARTUP_SECONDS=%j", (value, seconds) => {
    expect(loadConfig({ STARTUP_SECONDS: value }).startupSeconds).toBe(seconds);
  });

  it.each(["", "-1", "soon", "30s", "1e2", "Infinity"])("rejects STARTUP_SECONDS=%j, naming it", (value) => {
    expect(problems({ STARTUP_SECONDS: value })).toEqual([
      `STARTUP_SECONDS=${JSON.stringify(value)} is invalid: expected a number of seconds >= 0, such as 0 or 30`,
    ]);
  });

  it.each([
    ["true", true],
    ["false", false],
  ])("accepts CONTROL=%s", (value, on) => {
    expect(loadConfig({ CONTROL: value }).control).toBe(on);
  });

  it.each(["", "TRUE", "yes", "1", "on", "enabled"])("rejects CONTROL=%j: only the words true and false", (value) => {
    expect(problems({ CONTROL: value })).toEqual([`CONTROL=${JSON.stringify(value)} is invalid: expected one of "true", "false"`]);
  });

  it("reports every bad variable at once, one line each", () => {
    expect(problems({ PORT: "99999", CRASH_AFTER: "abc", CRASH_MODE: "boom" })).toHaveLength(3);
  });
});
