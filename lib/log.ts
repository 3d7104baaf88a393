// Log lines of the app and the sidecar, as LOG_FORMAT says: `text`, the "program: message" lines a
// person reads in `kubectl logs`, or `json`, one object a line for a log pipeline (Loki, Fluent Bit,
// Cloud Logging), with the event's details as fields. Web-standard only (console, Date).
import { systemClock, type Clock } from "./clock.ts";
import { envChoice } from "./env.ts";

export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The LOG_FORMAT variable, for a program's configuration schema. */
export const envLogFormat = () => envChoice(LOG_FORMATS, "text");

export type LogLevel = "info" | "warn" | "error";
/** An event's details: JSON fields, snake_case, named after the variable where there is one. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;
/** A message and its details, as a program's parts describe what happened. */
export type LogEvent = { msg: string; fields?: LogFields };

/** Where lines go; the default is the console. */
export type LogSink = { stdout(line: string): void; stderr(line: string): void };

export type Logger = Record<LogLevel, (msg: string, fields?: LogFields) => void>;

export type LoggerOptions = {
  /** Prefixes text lines, and is the `program` field of JSON lines. */
  program: string;
  format: LogFormat;
  sink?: LogSink;
  /** Only its wall clock: log lines carry the time a person reads. */
  clock?: Pick<Clock, "now">;
};

const consoleSink: LogSink = {
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
};

export function createLogger({ program, format, sink = consoleSink, clock = systemClock }: LoggerOptions): Logger {
  const line =
    format === "text"
      ? (_level: LogLevel, msg: string) => `${program}: ${msg}`
      : (level: LogLevel, msg: string, fields?: LogFields) => {
          const head = { time: new Date(clock.now()).toISOString(), level, msg, program };
          // The head's keys first, and their values kept even if a field has the same name.
          return JSON.stringify({ ...head, ...fields, ...head });
        };
  // Errors, the lines a program dies with, go to stderr; the rest to stdout, as the text lines always have.
  const write = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    const text = line(level, msg, fields);
    if (level === "error") sink.stderr(text);
    else sink.stdout(text);
  };
  return { info: write("info"), warn: write("warn"), error: write("error") };
}
