// What the local runner prints, shaped like `kubectl events --watch` and `kubectl get pods`.

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

export type EventType = "Normal" | "Warning";
export type PodEvent = { at: number; type: EventType; reason: string; message: string };

type Paint = (code: number, text: string) => string;
const plain: Paint = (_code, text) => text;
const ansi: Paint = (code, text) => `\x1b[${code}m${text}\x1b[0m`;

const EVENT_COLUMNS = [12, 10, 12, 0] as const;
const pad = (text: string, width: number) => (width && text.length < width ? text.padEnd(width) : `${text}   `);

/**
 * Prints events as `kubectl events --watch` does: as they happen (LAST SEEN 0s), with repeats of
 * the same event counted, "(x3 over 2s)", the way the API server aggregates them.
 */
export function createEventPrinter(pod: string, write: (line: string) => void, colour: boolean) {
  const paint = colour ? ansi : plain;
  const seen = new Map<string, { count: number; first: number }>();
  const object = `Pod/${pod}`;
  const objectWidth = Math.max(object.length + 3, 10);
  return {
    header() {
      write(
        paint(1, `${pad("LAST SEEN", EVENT_COLUMNS[0])}${pad("TYPE", EVENT_COLUMNS[1])}${pad("REASON", EVENT_COLUMNS[2])}${"OBJECT".padEnd(objectWidth)}MESSAGE`),
      );
    },
    event(event: PodEvent) {
      const key = `${event.type}\0${event.reason}\0${event.message}`;
      const entry = seen.get(key) ?? { count: 0, first: event.at };
      entry.count++;
      seen.set(key, entry);
      // Event timestamps have whole seconds in the API: kubectl's "over" counts whole seconds too.
      const span = Math.floor(event.at / 1000) - Math.floor(entry.first / 1000);
      const last = entry.count > 1 ? `0s (x${entry.count} over ${humanDuration(span * 1000)})` : "0s";
      const type = event.type === "Warning" ? paint(33, pad(event.type, EVENT_COLUMNS[1])) : pad(event.type, EVENT_COLUMNS[1]);
      const reason = event.reason === "Killing" || event.reason === "BackOff" ? paint(31, pad(event.reason, EVENT_COLUMNS[2])) : pad(event.reason, EVENT_COLUMNS[2]);
      write(`${pad(last, EVENT_COLUMNS[0])}${type}${reason}${object.padEnd(objectWidth)}${event.message}`);
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
  const restarts = row.lastRestartAt === undefined ? `${row.restarts}` : `${row.restarts} (${humanDuration(now - row.lastRestartAt)} ago)`;
  const cells = [row.name, `${row.ready}/${row.total}`, row.status, restarts, humanDuration(now - row.createdAt)];
  const heads = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"];
  const widths = heads.map((h, i) => Math.max(h.length, cells[i]!.length) + 3);
  const line = (values: string[]) => values.map((v, i) => (i < values.length - 1 ? v.padEnd(widths[i]!) : v)).join("");
  return [line(heads), line(cells)];
}
