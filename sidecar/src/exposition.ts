// A parser for the Prometheus text exposition format (version 0.0.4), enough to read the app's
// /metrics. The npm parser parse-prometheus-text-format has had no release since 2018; this one is
// small, strict about syntax and tested on prom-client's own output.

export type Sample = {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  timestamp?: number;
};

export class ExpositionError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = "ExpositionError";
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** Every sample in `text`; throws an ExpositionError naming the first malformed line. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const scanner = createExpositionScanner((sample) => void samples.push(sample));
  scanner.push(text);
  scanner.end();
  return samples;
}

/**
 * Reads exposition text as it arrives, a chunk at a time, line by line: every line is checked, and
 * each sample is handed to `onSample` and then dropped, so a body of a million samples costs one
 * line at a time, not a million objects. With `wanted`, only those series' lines (samples, HELP
 * and TYPE) are read: any other line is stepped over unparsed, so a million lines of other series
 * cost one `indexOf` each, which matters when V8 runs interpreted (the sidecar's --lite-mode).
 */
export function createExpositionScanner(onSample: (sample: Sample) => void, wanted?: readonly string[]) {
  let partial = "";
  let lineNumber = 0;
  // Whether a wanted name starts at `at`, followed by labels, a blank or the end of the line.
  const wantedAt = (text: string, at: number): boolean =>
    wanted!.some((name) => {
      if (!text.startsWith(name, at)) return false;
      const next = text.charCodeAt(at + name.length);
      return Number.isNaN(next) || next === 123 /* { */ || next === 32 || next === 9 || next === 13 || next === 10;
    });
  const skipped = (text: string, at: number): boolean => {
    if (wanted === undefined) return false;
    if (text.charCodeAt(at) !== 35 /* # */) return !wantedAt(text, at);
    return !((text.startsWith("# HELP ", at) || text.startsWith("# TYPE ", at)) && wantedAt(text, at + 7));
  };
  const line = (raw: string) => {
    lineNumber++;
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() === "" || skipped(text, 0)) return;
    if (text.startsWith("#")) checkComment(text, lineNumber);
    else onSample(parseSample(text, lineNumber));
  };
  return {
    /** More text; complete lines are read now, the last partial one when the rest arrives. */
    push(chunk: string): void {
      let start = 0;
      for (let end = chunk.indexOf("\n"); end !== -1; end = chunk.indexOf("\n", start)) {
        if (partial === "" && skipped(chunk, start)) lineNumber++;
        else line(partial + chunk.slice(start, end));
        partial = "";
        start = end + 1;
      }
      partial += chunk.slice(start);
    },
    end(): void {
      if (partial !== "") line(partial);
      partial = "";
    },
  };
}

/** The value of the first sample named `name` whose labels include `labels`, or undefined. */
export function findSample(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const match = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return match?.value;
}

function checkComment(line: string, lineNumber: number): void {
  const parts = line.slice(1).trim().split(/\s+/);
  const keyword = parts[0];
  if (keyword !== "HELP" && keyword !== "TYPE") return; // any other comment is free text
  const name = parts[1];
  if (name === undefined || !METRIC_NAME.test(name) || name.match(METRIC_NAME)?.[0] !== name) {
    throw new ExpositionError(lineNumber, `# ${keyword} needs a metric name`);
  }
  if (keyword === "TYPE" && (parts.length !== 3 || !TYPES.has(parts[2] ?? ""))) {
    throw new ExpositionError(lineNumber, `# TYPE ${name} needs one of ${[...TYPES].join(", ")}`);
  }
}

function parseSample(line: string, lineNumber: number): Sample {
  const fail = (reason: string): never => {
    throw new ExpositionError(lineNumber, reason);
  };
  let rest = line.trimStart();
  const name = rest.match(METRIC_NAME)?.[0] ?? fail(`expected a metric name at ${JSON.stringify(rest.slice(0, 20))}`);
  rest = rest.slice(name.length);

  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = rest.slice(1).trimStart();
    while (!rest.startsWith("}")) {
      const label = rest.match(LABEL_NAME)?.[0] ?? fail(`expected a label name in ${name}`);
      rest = rest.slice(label.length).trimStart();
      if (!rest.startsWith("=")) fail(`expected = after label ${label}`);
      rest = rest.slice(1).trimStart();
      if (!rest.startsWith('"')) fail(`expected a quoted value for label ${label}`);
      const [value, length] = readQuoted(rest) ?? fail(`unterminated value for label ${label}`);
      if (label in labels) fail(`label ${label} given twice`);
      labels[label] = value;
      rest = rest.slice(length).trimStart();
      if (rest.startsWith(",")) rest = rest.slice(1).trimStart();
      else if (!rest.startsWith("}")) fail(`expected , or } after label ${label}`);
    }
    rest = rest.slice(1);
  }

  const fields = rest.trim().split(/\s+/);
  if (!/^\s/.test(rest) || fields.length < 1 || fields.length > 2 || fields[0] === "") {
    fail(`expected a value (and an optional timestamp) after ${name}`);
  }
  const value = parseValue(fields[0] ?? "") ?? fail(`${JSON.stringify(fields[0])} is not a number`);
  const sample: Sample = { name, labels, value };
  if (fields[1] !== undefined) {
    if (!/^-?\d+$/.test(fields[1])) fail(`${JSON.stringify(fields[1])} is not a timestamp in milliseconds`);
    sample.timestamp = Number(fields[1]);
  }
  return sample;
}

/** A quoted label value at the start of `text`: its unescaped value and its length with quotes. */
function readQuoted(text: string): [string, number] | undefined {
  let value = "";
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return [value, i + 1];
    if (c === "\\") {
      const next = text[++i];
      if (next === "n") value += "\n";
      else if (next === "\\" || next === '"') value += next;
      else return undefined;
    } else {
      value += c;
    }
  }
  return undefined;
}

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// Prometheus reads values with Go's strconv.ParseFloat, which takes NaN and Inf in any case; and
// prom-client writes "Nan" (nodejs_eventloop_lag_mean_seconds before any lag was measured).
const SPECIAL = /^([+-]?)(nan|inf|infinity)$/i;

function parseValue(text: string): number | undefined {
  if (FLOAT.test(text)) return Number(text);
  const special = SPECIAL.exec(text);
  if (!special) return undefined;
  if (special[2]!.toLowerCase() === "nan") return Number.NaN;
  return special[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}
