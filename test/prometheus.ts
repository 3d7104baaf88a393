// A real Prometheus (Debian's package) on loopback, for end-to-end tests, and its HTTP API.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, start, type Started } from "./processes.ts";

export type Sample = { metric: Record<string, string>; value: number };

export type Prometheus = {
  url: string;
  query(expr: string): Promise<Sample[]>;
  /** Epoch seconds of the first step in [start, end] at which `expr` has a value, or undefined. */
  firstTime(expr: string, start: number, end: number, step?: number): Promise<number | undefined>;
  /** The scrape targets, with when each was last scraped (epoch ms; 0 if never). */
  targets(): Promise<{ job: string; health: string; lastScrape: number }[]>;
  alerts(): Promise<{ name: string; state: string; labels: Record<string, string> }[]>;
  stop(): Promise<void>;
  process: Started;
};

/** Starts Prometheus with `config` (an object written as YAML-compatible JSON) on a free port. */
export async function startPrometheus(config: unknown): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), "crashy-prometheus-"));
  const configFile = join(dir, "prometheus.yml");
  // JSON is YAML: no serialiser needed.
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const port = await freePort();
  const process = await start(
    [
      "prometheus",
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    {},
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || process.child.exitCode !== null) {
      throw new Error(`prometheus did not become ready:\n${process.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const api = async (path: string) => {
    const body = (await (await fetch(`${url}${path}`)).json()) as { status: string; data: unknown; error?: string };
    if (body.status !== "success") throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  };
  return {
    url,
    process,
    async query(expr) {
      const data = (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)) as {
        result: { metric: Record<string, string>; value: [number, string] }[];
      };
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async firstTime(expr, start, end, step = 0.25) {
      const data = (await api(
        `/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${start}&end=${end}&step=${step}`,
      )) as { result: { values: [number, string][] }[] };
      const times = data.result.flatMap((r) => r.values.map(([t]) => t));
      return times.length ? Math.min(...times) : undefined;
    },
    async targets() {
      const data = (await api("/api/v1/targets")) as {
        activeTargets: { labels: Record<string, string>; health: string; lastScrape: string }[];
      };
      return data.activeTargets.map((t) => {
        const at = Date.parse(t.lastScrape);
        return { job: t.labels.job ?? "", health: t.health, lastScrape: at > 0 ? at : 0 };
      });
    },
    async alerts() {
      const data = (await api("/api/v1/alerts")) as { alerts: { labels: Record<string, string>; state: string }[] };
      return data.alerts.map((a) => ({ name: a.labels.alertname ?? "", state: a.state, labels: a.labels }));
    },
    async stop() {
      await process.stop("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
