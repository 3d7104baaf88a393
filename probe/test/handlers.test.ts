// The map from action kind to prober: each kind reaches its own prober, against a real server
// where the two kinds disagree (a listening app whose /health answers 500).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createProber, PROBERS } from "../src/handlers.ts";
import { createHttpGetProber } from "../src/http.ts";
import { createTcpSocketProber } from "../src/tcp.ts";
import type { ProbeAction } from "../src/types.ts";

let app: Server;
let port: number;
let requests = 0;

beforeAll(async () => {
  app = createServer((req, res) => {
    requests++;
    if (req.url === "/hang") return; // never answers
    res.writeHead(500).end("broken\n");
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  port = (app.address() as AddressInfo).port;
});

afterAll(() => {
  app.closeAllConnections();
  app.close();
});

describe("PROBERS and createProber", () => {
  test("one factory per kind of action", () => {
    expect(Object.keys(PROBERS).sort()).toEqual(["httpGet", "tcpSocket"]);
    expect(PROBERS.httpGet).toBe(createHttpGetProber);
    expect(PROBERS.tcpSocket).toBe(createTcpSocketProber);
  });

  test("an httpGet action is probed over HTTP: the 500 fails it", async () => {
    const before = requests;
    const action: ProbeAction = { kind: "httpGet", scheme: "HTTP", host: "127.0.0.1", port, path: "/health", httpHeaders: [] };
    const outcome = await createProber(action, 1)(new AbortController().signal);
    expect(outcome).toMatchObject({ result: "failure", statusCode: 500, output: "HTTP probe failed with statuscode: 500" });
    expect(requests).toBe(before + 1);
  });

  test("a tcpSocket action only connects: the same app passes, and no request is made", async () => {
    const before = requests;
    const outcome = await createProber({ kind: "tcpSocket", host: "127.0.0.1", port }, 1)(new AbortController().signal);
    expect(outcome).toMatchObject({ result: "success", output: "" });
    expect(outcome.statusCode).toBeUndefined();
    expect(requests).toBe(before);
  });

  test("the timeout given reaches the prober", async () => {
    const began = performance.now();
    const action: ProbeAction = { kind: "httpGet", scheme: "HTTP", host: "127.0.0.1", port, path: "/hang", httpHeaders: [] };
    const outcome = await createProber(action, 0.2)(new AbortController().signal);
    const ms = performance.now() - began;
    expect(outcome).toMatchObject({ result: "failure", statusCode: 0 });
    expect(outcome.output).toMatch(/Client\.Timeout exceeded while awaiting headers\)$/);
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(1000);
  });
});
