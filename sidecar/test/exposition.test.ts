// The parser on real prom-client output (the app's own registry) and on broken text.
import fc from "fast-check";
import { Gauge, Registry } from "prom-client";
import { describe, expect, test } from "vitest";
import { createMetrics } from "../../services/src/metrics.ts";
import { createState } from "../../services/src/state.ts";
import { registerNodeProcessMetrics } from "../../lib/process-metrics-node.ts";
import { createExpositionScanner, ExpositionError, findSample, parseExposition } from "../src/exposition.ts";
import { createSidecarMetrics } from "../src/metrics.ts";

describe("parseExposition", () => {
  test("reads the app's real /metrics text, every sample prom-client reports", async () => {
    const startedAt = 1_764_198_693_123;
    const config = { port: 8080, host: "0.0.0.0", crashAfterSeconds: 60, crashMode: "error", logFormat: "text", startupSeconds: 0, control: true } as const;
    const metrics = createMetrics({ config, runtime: "node", state: createState(config, { now: () => startedAt, monotonic: () => 0 }) });
    registerNodeProcessMetrics(metrics.registry);
    metrics.observe("GET", "/health", 200, 0.002);
    const samples = parseExposition(await metrics.registry.metrics());

    expect(findSample(samples, "crashy_start_time_seconds")).toBe(startedAt / 1000);
    expect(findSample(samples, "http_requests_total", { route: "/health", status: "200" })).toBe(1);
    expect(findSample(samples, "http_request_duration_seconds_bucket", { route: "/health", le: "+Inf" })).toBe(1);
    expect(findSample(samples, "crashy_info", { runtime: "node", crash_mode: "error" })).toBe(1);
    expect(findSample(samples, "process_start_time_seconds")).toBeGreaterThan(1_700_000_000);

    // Every value prom-client holds is found, with its labels.
    for (const metric of await metrics.registry.getMetricsAsJSON()) {
      for (const value of metric.values) {
        const name = (value as { metricName?: string }).metricName ?? metric.name;
        const labels = Object.fromEntries(Object.entries(value.labels).map(([k, v]) => [k, String(v)]));
        const found = findSample(samples, name, labels);
        expect(found, `${name} ${JSON.stringify(labels)}`).toBeDefined();
      }
    }
  });

  test("reads the sidecar's own exposition", async () => {
    const samples = parseExposition(await createSidecarMetrics().registry.metrics());
    expect(findSample(samples, "crashy_probe_healthy")).toBe(1);
    expect(findSample(samples, "prober_probe_total", { result: "failed" })).toBe(0);
  });

  test("label values survive prom-client's escaping, whatever they hold", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), async (text) => {
        const registry = new Registry();
        new Gauge({ name: "odd_label", help: "h", labelNames: ["v"], registers: [registry] }).set({ v: text }, 1);
        const [sample] = parseExposition(await registry.metrics());
        expect(sample?.labels.v).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  test("reads special values, timestamps, spacing and CRLF", () => {
    const samples = parseExposition('a Nan\nb{x="1",} +Inf 1700000000000\r\n  c -Inf\nd{ y = "2" } 1.5e3\n# free comment\n\n');
    expect(samples.map((s) => [s.name, s.value])).toEqual([
      ["a", Number.NaN],
      ["b", Number.POSITIVE_INFINITY],
      ["c", Number.NEGATIVE_INFINITY],
      ["d", 1500],
    ]);
    expect(samples[1]).toMatchObject({ labels: { x: "1" }, timestamp: 1_700_000_000_000 });
  });

  test.each([
    ["no value", "up\n", 1],
    ["a word for a value", "up yes\n", 1],
    ["an unterminated label value", 'up{job="x} 1\n', 1],
    ["an unknown escape", 'up{job="\\t"} 1\n', 1],
    ["a missing =", 'up{job"x"} 1\n', 1],
    ["a repeated label", 'up{a="1",a="2"} 1\n', 1],
    ["a bad TYPE", "# TYPE up gauge-ish\nup 1\n", 1],
    ["a TYPE without name", "# TYPE\n", 1],
    ["a bad timestamp", "up 1 soon\n", 1],
    ["garbage after the value", "ok 1\nup 1 2 3\n", 2],
    ["a name starting with a digit", "9up 1\n", 1],
    ["HTML", "<html><body>not metrics</body></html>\n", 1],
  ])("rejects %s, naming the line", (_what, text, line) => {
    expect(() => parseExposition(text)).toThrow(ExpositionError);
    try {
      parseExposition(text);
    } catch (error) {
      expect((error as ExpositionError).line).toBe(line);
      expect((error as Error).message).toMatch(new RegExp(`^line ${line}: `));
    }
  });
});

describe("createExpositionScanner with wanted series", () => {
  const scan = (chunks: string[], wanted: string[]) => {
    const samples: { name: string; value: number }[] = [];
    const scanner = createExpositionScanner((s) => void samples.push({ name: s.name, value: s.value }), wanted);
    for (const chunk of chunks) scanner.push(chunk);
    scanner.end();
    return samples;
  };

  test("reads only the wanted series, stepping over others unparsed, malformed ones included", () => {
    const text = 'other{a="1"} 2\nnot metrics at all\n# TYPE other bogus\n# free text\nwanted_total_x 3\nwanted 7\nwanted{job="x"} 8\n';
    expect(scan([text], ["wanted"])).toEqual([{ name: "wanted", value: 7 }, { name: "wanted", value: 8 }]);
    // Without `wanted`, every line is read, and the second one is an error.
    expect(() => scan([text], undefined as unknown as string[])).toThrow(/^line 2: /);
  });

  test("still checks the wanted series' HELP, TYPE and samples, numbering lines across skipped ones", () => {
    expect(() => scan(["a 1\nb 2\n# TYPE wanted gauge-ish\n"], ["wanted"])).toThrow(/^line 3: /);
    expect(() => scan(["a 1\nb 2\nc 3\nwanted{ 1\n"], ["wanted"])).toThrow(/^line 4: /);
  });

  test("a line split between chunks is joined first, then read or stepped over as a whole", () => {
    expect(scan(["oth", "er 1\nwan", "ted 5\nwanted", " 6\nun", "wanted{ 1\n"], ["wanted"])).toEqual([
      { name: "wanted", value: 5 },
      { name: "wanted", value: 6 },
    ]);
    expect(() => scan(["wan", "ted{ 1\n"], ["wanted"])).toThrow(/^line 1: /);
  });
});
