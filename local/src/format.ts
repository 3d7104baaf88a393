// What the local runner prints, shaped like `kubectl events --watch` and `kubectl get pods`.
import { keepable } from "../../lib/text.ts";
import {
  createEventCorrelator,
  EVENT_CORRELATION_DEFAULTS,
  podReference,
  type CorrelateResult,
  type CorrelatorOptions,
  type EventType,
} from "./events.ts";

/** kubectl's short durations (apimachinery duration.HumanDuration): 5s, 3m19s, 2h, 3d4h. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  return `${d}d`;
}

export type { EventType };

/**
 * An event as the local pod records it. `container` makes it a container event, about the Pod
 * with fieldPath `spec.containers{name}` (`spec.initContainers{name}` when `initContainer`), as
 * the kubelet's are: counted apart from the same event about another container, but in the same
 * spam-filter bucket as every event about the pod.
 */
export type PodEvent = {
  /** Wall-clock epoch ms: the event's timestamps. */
  at: number;
  /** The same instant on the monotonic clock, which client-go's windows are measured on; `at` when left out. */
  monotonicAt?: number;
  type: EventType;
  reason: string;
  message: string;
  container?: string;
  initContainer?: boolean;
};

type Paint = (code: number, text: string) => string;
const plain: Paint = (_code, text) => text;
const ansi: Paint = (code, text) => `\x1b[${code}m${text}\x1b[0m`;

const EVENT_COLUMNS = [12, 10, 12, 0] as const;
const pad = (text: string, width: number) => (width && text.length < width ? text.padEnd(width) : `${text}   `);

/** What the LAST SEEN column says instead of a time for an event the API server never got. */
export const DROPPED_MARK = "dropped";

/**
 * Every event line, passed or dropped: `<LAST SEEN>  <TYPE>  <REASON>  <Kind>/<name>  <MESSAGE>`.
 * A passed event's LAST SEEN is kubectl's: "0s", "0s (x3 over 2s)". A dropped event's is
 * "dropped", or "dropped (x26)" with the count client-go had reached (the next event that passes
 * carries it on). Dropped lines keep the other columns, so a grep for the kubelet's events
 * (`/\b(Normal|Warning)\s+(\w+)\s+Pod\/\S+\s+(.*)$/`) still sees them; what `kubectl events`
 * would list is the event lines that do not start with "dropped" (DROPPED_EVENT_LINE).
 */
export const EVENT_LINE =
  /^(?<seen>dropped(?: \(x(?<droppedCount>\d+)\))?|\S+(?: \(x(?<count>\d+) over (?<over>\S+)\))?)\s+(?<type>Normal|Warning)\s+(?<reason>\w+)\s+(?<object>\w+\/\S+)\s+(?<message>.*)$/;

/** The lines of events that client-go's spam filter would keep from the API server (plain output). */
export const DROPPED_EVENT_LINE = /^dropped(?: \(x\d+\))?\s+(Normal|Warning)\s+(\w+)\s+\w+\/\S+\s+(.*)$/;

export type EventLine = { dropped: boolean; count: number; type: EventType; reason: string; object: string; message: string };

/** Reads an event line the printer wrote, coloured or not; undefined for any other line. */
export function parseEventLine(line: string): EventLine | undefined {
  const g = line.replace(/\x1b\[\d+m/g, "").match(EVENT_LINE)?.groups;
  if (!g) return undefined;
  const dropped = g.seen!.startsWith(DROPPED_MARK);
  return {
    dropped,
    count: Number((dropped ? g.droppedCount : g.count) ?? 1),
    type: g.type as EventType,
    reason: g.reason!,
    object: g.object!,
    message: g.message!,
  };
}

/** The line that says, once per pod, why its events start showing as dropped; numbers are the filter's. */
export function droppedExplanation(burst: number = EVENT_CORRELATION_DEFAULTS.spamBurst, qps: number = EVENT_CORRELATION_DEFAULTS.spamQPS): string {
  const every = Math.round(1 / qps);
  const period = every % 60 === 0 ? `${every / 60} min` : `${every} s`;
  return `(${DROPPED_MARK} = not sent to the API server, so not in kubectl events: the kubelet's client-go spam filter passes a burst of ${burst} events per pod, then 1 per ${period})`;
}

export type EventPrinterOptions = {
  namespace?: string;
  /** The node, the kubelet's event source host. */
  node?: string;
  /** client-go's correlation limits; the kubelet's defaults when left out. */
  limits?: Omit<CorrelatorOptions, "clock">;
};

/**
 * Prints events as `kubectl events --watch` shows them as they happen (LAST SEEN 0s), after the
 * kubelet's client-go correlation (events.ts): repeats counted, "(x3 over 2s)"; similar ones
 * combined; and those its spam filter would skip shown dimmed, marked "dropped", with one line
 * saying why the first time a pod's events are dropped.
 */
export function createEventPrinter(pod: string, write: (line: string) => void, colour: boolean, options: EventPrinterOptions = {}) {
  const paint = colour ? ansi : plain;
  // The correlator's clock is the time of the event being recorded: record.makeEvent and
  // EventCorrelate both read the same clock, moments apart.
  let at = 0;
  let monotonicAt = 0;
  const correlator = createEventCorrelator({ ...options.limits, clock: { now: () => at, monotonic: () => monotonicAt } });
  const source = { component: "kubelet", host: options.node ?? "localhost" };
  const explained = new Set<string>();
  const object = `Pod/${pod}`;
  const objectWidth = Math.max(object.length + 3, 10);
  return {
    header() {
      write(
        paint(1, `${pad("LAST SEEN", EVENT_COLUMNS[0])}${pad("TYPE", EVENT_COLUMNS[1])}${pad("REASON", EVENT_COLUMNS[2])}${"OBJECT".padEnd(objectWidth)}MESSAGE`),
      );
    },
    /** Records and prints one event; returns what client-go made of it. */
    event(event: PodEvent): CorrelateResult {
      at = event.at;
      monotonicAt = event.monotonicAt ?? event.at;
      const container = event.container === undefined ? undefined : { name: event.container, init: event.initContainer ?? false };
      const result = correlator.correlate({
        source,
        involvedObject: podReference({ name: pod, namespace: options.namespace ?? "default" }, container),
        type: event.type,
        reason: event.reason,
        // A probe's output can carry a target's body: escaped and capped before a terminal shows it.
        message: keepable(event.message),
      });
      const { count, firstTimestamp, lastTimestamp, message } = result.event;
      if (result.skip) {
        if (!explained.has(result.spamKey)) {
          explained.add(result.spamKey);
          write(paint(2, `    ${droppedExplanation(options.limits?.spamBurst, options.limits?.spamQPS)}`));
        }
        const seen = count > 1 ? `${DROPPED_MARK} (x${count})` : DROPPED_MARK;
        write(paint(2, `${pad(seen, EVENT_COLUMNS[0])}${pad(event.type, EVENT_COLUMNS[1])}${pad(event.reason, EVENT_COLUMNS[2])}${object.padEnd(objectWidth)}${message}`));
        return result;
      }
      // Event timestamps have whole seconds in the API: kubectl's "over" counts whole seconds too.
      const span = Math.floor(lastTimestamp / 1000) - Math.floor(firstTimestamp / 1000);
      const last = count > 1 ? `0s (x${count} over ${humanDuration(span * 1000)})` : "0s";
      const type = event.type === "Warning" ? paint(33, pad(event.type, EVENT_COLUMNS[1])) : pad(event.type, EVENT_COLUMNS[1]);
      const reason = event.reason === "Killing" || event.reason === "BackOff" ? paint(31, pad(event.reason, EVENT_COLUMNS[2])) : pad(event.reason, EVENT_COLUMNS[2]);
      write(`${pad(last, EVENT_COLUMNS[0])}${type}${reason}${object.padEnd(objectWidth)}${message}`);
      return result;
    },
  };
}

export type PodRow = {
  name: string;
  ready: number;
  total: number;
  status: string;
  restarts: number;
  /** Epoch ms of the last restart, if any. */
  lastRestartAt?: number;
  createdAt: number;
};

/** The columns of `kubectl get pods`, header and row, as two lines. */
export function podTable(row: PodRow, now: number): [string, string] {
  const [head, line] = podsTable([row], now);
  return [head!, line!];
}

/**
 * `kubectl get pods` for several pods: the header, then one row per pod, in one set of columns
 * (kubectl's tabwriter pads each column to its widest cell, plus 3).
 */
export function podsTable(rows: PodRow[], now: number): string[] {
  const heads = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"];
  const cells = rows.map((row) => {
    const restarts = row.lastRestartAt === undefined ? `${row.restarts}` : `${row.restarts} (${humanDuration(now - row.lastRestartAt)} ago)`;
    return [row.name, `${row.ready}/${row.total}`, row.status, restarts, humanDuration(now - row.createdAt)];
  });
  const widths = heads.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)) + 3);
  const line = (values: string[]) => values.map((v, i) => (i < values.length - 1 ? v.padEnd(widths[i]!) : v)).join("");
  return [line(heads), ...cells.map(line)];
}

/**
 * The pods of a Deployment as `kubectl get pods` lists them: whenever a pod's row changes, the
 * header and every pod's row again, indented and dimmed under the events. `pods` are the rows to
 * begin with (Pending, before the kubelet starts anything), in the order they are listed.
 */
export function createPodTablePrinter(pods: readonly PodRow[], write: (line: string) => void, colour: boolean, now: () => number = Date.now) {
  const rows = new Map(pods.map((row) => [row.name, row]));
  const dim = (text: string) => (colour ? `\x1b[2m${text}\x1b[0m` : text);
  return {
    /** A pod's new row: prints the whole table. */
    update(row: PodRow): void {
      rows.set(row.name, row);
      for (const line of podsTable([...rows.values()], now())) write(dim(`    ${line}`));
    },
  };
}

/** A pod's row before its kubelet has started anything: what `kubectl get pods` shows first. */
export const pendingRow = (name: string, total: number, createdAt: number): PodRow => ({ name, ready: 0, total, status: "Pending", restarts: 0, createdAt });
