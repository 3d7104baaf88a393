// The Node entry as a real process: bad configuration, and a quick stop on SIGTERM/SIGINT.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, start } from "../../test/processes.ts";
import { assertBuilt, SIDECAR_ENTRY } from "./built.ts";

let hanging: Server;
let hangingUrl: string;

beforeAll(async () => {
  assertBuilt();
  hanging = createServer(() => {}); // never answers: a probe is always in flight
  await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
  hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
});
afterAll(() => {
  hanging.closeAllConnections();
  hanging.close();
});

describe("the sidecar's Node entry", () => {
  test("a bad configuration prints one line per bad variable and exits 2", async () => {
    const sidecar = await start(SIDECAR_ENTRY, {
      PROBE_PERIOD_SECONDS: "0",
      PROBE_URL: "ftp://127.0.0.1/health",
      PROBE_FAILURE_THRESHOLD: "three",
    });
    expect(await sidecar.exited).toBe(2);
    expect(sidecar.output().trim().split("\n")).toEqual([
      'crashy-sidecar: PROBE_URL="ftp://127.0.0.1/health" is invalid: expected an http:// or https:// URL, such as http://127.0.0.1:8080/health',
      'crashy-sidecar: PROBE_PERIOD_SECONDS="0" is invalid: expected a number of seconds > 0, such as 10 or 0.5',
      'crashy-sidecar: PROBE_FAILURE_THRESHOLD="three" is invalid: expected a whole number >= 1, such as 3',
    ]);
  });

  test("a port in use is one line and exit 1", async () => {
    const port = (hanging.address() as AddressInfo).port;
    const sidecar = await start(SIDECAR_ENTRY, { PORT: String(port), HOST: "127.0.0.1", METRICS_URL: "" });
    expect(await sidecar.exited).toBe(1);
    expect(sidecar.output()).toMatch(new RegExp(`crashy-sidecar: cannot listen on 127.0.0.1:${port}: .*EADDRINUSE`));
  });

  test.each(["SIGTERM", "SIGINT"] as const)("%s stops it well within a second, probe and scrape in flight", async (signal) => {
    const port = await freePort();
    const sidecar = await start(
      SIDECAR_ENTRY,
      {
        PORT: String(port),
        HOST: "127.0.0.1",
        PROBE_URL: `${hangingUrl}/health`,
        METRICS_URL: `${hangingUrl}/metrics`,
        PROBE_TIMEOUT_SECONDS: "30",
        PROBE_PERIOD_SECONDS: "60",
      },
      /crashy-sidecar: listening on/,
    );
    // An open page keeps a connection too.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    const { code, ms } = await sidecar.stop(signal);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
    expect(sidecar.output()).toContain(`crashy-sidecar: ${signal} received, stopping`);
  });
});
