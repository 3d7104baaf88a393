// The prober against real local HTTP servers: each rule of the kubelet's HTTP probe, one case each.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort } from "../../test/processes.ts";
import { MAX_BODY_BYTES, MAX_REDIRECTS, probeHttp, USER_AGENT } from "../src/http.ts";

let server: Server;
let base: string;
let port: number;
const hits = new Map<string, number>();
let lastHeaders: IncomingHttpHeaders = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    lastHeaders = req.headers;
    const status = /^\/status\/(\d+)$/.exec(path);
    if (status) return void res.writeHead(Number(status[1])).end(`answer ${status[1]}\n`);
    if (path === "/same-host") return void res.writeHead(302, { location: "/status/500" }).end();
    if (path === "/same-host-ok") return void res.writeHead(302, { location: `http://127.0.0.1:${port}/status/200` }).end();
    // "localhost" and "127.0.0.1" are the same machine but not the same host name: the kubelet compares names.
    if (path === "/other-host") return void res.writeHead(302, { location: `http://localhost:${port}/status/500` }).end("moved\n");
    if (path.startsWith("/loop")) return void res.writeHead(302, { location: `/loop${hits.get(path)}${Math.random()}` }).end();
    if (path === "/big") return void res.writeHead(200).end("x".repeat(1024 * 1024));
    if (path === "/hang") return; // never answers
    if (path === "/slow-body") {
      res.writeHead(200);
      res.write("half of it");
      return; // the rest never comes
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("probeHttp", () => {
  test("200 is a success, sent with the kubelet's headers and no keep-alive", async () => {
    const outcome = await probeHttp({ url: `${base}/status/200`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "success", statusCode: 200, output: "", warning: false, body: "answer 200\n" });
    expect(lastHeaders["user-agent"]).toBe(USER_AGENT);
    expect(USER_AGENT).toMatch(/^crashy-probe\/\d+\.\d+\.\d+$/);
    expect(lastHeaders.accept).toBe("*/*");
    expect(lastHeaders["accept-encoding"]).toBeUndefined();
    expect(lastHeaders.connection).toBe("close");
  });

  test("302 to the same host is followed, and the final answer decides", async () => {
    const failed = await probeHttp({ url: `${base}/same-host`, timeoutSeconds: 1 });
    expect(failed).toMatchObject({ result: "failure", statusCode: 500, url: `${base}/status/500` });
    expect(failed.output).toBe("HTTP probe failed with statuscode: 500");
    const ok = await probeHttp({ url: `${base}/same-host-ok`, timeoutSeconds: 1 });
    expect(ok).toMatchObject({ result: "success", statusCode: 200, warning: false });
  });

  test("302 to another host is not followed: a success with the kubelet's warning", async () => {
    const before = hits.get("/status/500") ?? 0;
    const outcome = await probeHttp({ url: `${base}/other-host`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "success", statusCode: 302, warning: true, url: `${base}/other-host` });
    expect(outcome.output).toBe("Probe terminated redirects, Response body: moved\n");
    expect(hits.get("/status/500") ?? 0).toBe(before);
  });

  test("399 is a success (the kubelet takes 200 <= status < 400), reported with a warning", async () => {
    const outcome = await probeHttp({ url: `${base}/status/399`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "success", statusCode: 399, warning: true });
  });

  test.each([400, 500])("%i is a failure with the kubelet's message, without the body", async (code) => {
    const outcome = await probeHttp({ url: `${base}/status/${code}`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "failure", statusCode: code, output: `HTTP probe failed with statuscode: ${code}` });
  });

  test("no answer within the timeout is a failure worded as Go's client words it", async () => {
    const began = performance.now();
    const outcome = await probeHttp({ url: `${base}/hang`, timeoutSeconds: 0.3 });
    const ms = performance.now() - began;
    expect(outcome).toMatchObject({ result: "failure", statusCode: 0 });
    expect(outcome.output).toBe(`Get "${base}/hang": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1000);
    expect(outcome.durationSeconds).toBeGreaterThanOrEqual(0.29);
  });

  test("a refused connection is a failure naming the address", async () => {
    const closed = await freePort();
    const outcome = await probeHttp({ url: `http://127.0.0.1:${closed}/health`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "failure", statusCode: 0 });
    expect(outcome.output).toBe(`Get "http://127.0.0.1:${closed}/health": dial tcp 127.0.0.1:${closed}: connect: connection refused`);
  });

  test("a body larger than 10 KiB is read to 10 KiB only, and that is no failure", async () => {
    const outcome = await probeHttp({ url: `${base}/big`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "success", statusCode: 200, truncated: true });
    expect(Buffer.byteLength(outcome.body)).toBe(MAX_BODY_BYTES);
    expect(MAX_BODY_BYTES).toBe(10 * 1024);
  });

  test("a redirect loop stops after 10 redirects, as Go's client does", async () => {
    const outcome = await probeHttp({ url: `${base}/loop`, timeoutSeconds: 2 });
    expect(outcome.result).toBe("failure");
    expect(outcome.output).toMatch(/^Get "http:\/\/127\.0\.0\.1:\d+\/loop.*": stopped after 10 redirects$/);
    const loopHits = [...hits.entries()].filter(([path]) => path.startsWith("/loop")).reduce((n, [, count]) => n + count, 0);
    expect(loopHits).toBe(MAX_REDIRECTS);
  });

  test("a body cut by the timeout is an error the kubelet throws away: unknown", async () => {
    const outcome = await probeHttp({ url: `${base}/slow-body`, timeoutSeconds: 0.3 });
    expect(outcome).toMatchObject({ result: "unknown", statusCode: 200 });
    expect(outcome.output).toBe("context deadline exceeded (Client.Timeout or context cancellation while reading body)");
  });

  test("a cancelled probe is unknown and ends at once", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const began = performance.now();
    const outcome = await probeHttp({ url: `${base}/hang`, timeoutSeconds: 5, signal: controller.signal });
    expect(outcome.result).toBe("unknown");
    expect(performance.now() - began).toBeLessThan(1000);
  });
});
