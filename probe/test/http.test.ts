// The prober against real local servers: each rule of the kubelet's HTTP probe (pkg/probe/http and
// the Go client under it), one case each. node:http servers where a well-behaved server will do,
// raw node:net servers where the answer has to be wrong on the wire.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort } from "../../test/processes.ts";
import {
  canonicalHeaderKey,
  createHttpGetProber,
  formatTarget,
  goQuote,
  httpGetActionFromUrl,
  MAX_BODY_BYTES,
  MAX_REDIRECTS,
  probeHttp,
  probeHttpGet,
} from "../src/http.ts";
import { PROBE_USER_AGENT } from "../src/kube.ts";
import type { HttpGetAction } from "../src/types.ts";

let server: Server;
let base: string;
let port: number;
const hits = new Map<string, number>();
const seen: IncomingMessage[] = [];
const last = () => seen[seen.length - 1]!;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    seen.push(req);
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
    // The next hop is on the same host name, a port away: the kubelet follows it.
    if (path === "/to-other-port") return void res.writeHead(302, { location: `http://127.0.0.1:${rawPort}/ok` }).end();
    res.writeHead(404).end();
  });
  await listen(server);
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  await startRaw();
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
  stopRaw();
});

const listen = (s: Server | NetServer) => new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));

/** An httpGet action against the node:http server above. */
const action = (path: string, httpHeaders: HttpGetAction["httpHeaders"] = []): HttpGetAction => ({
  kind: "httpGet",
  scheme: "HTTP",
  host: "127.0.0.1",
  port,
  path,
  httpHeaders,
});

/** The header lines a request arrived with, names as sent. */
const rawHeaders = (req: IncomingMessage) => {
  const lines: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  return lines;
};

// ---- A raw server: each path answers with bytes written by hand ----

let raw: NetServer;
let rawPort: number;
let rawBase: string;
const rawSockets = new Set<Socket>();
const rawHandlers = new Map<string, (socket: Socket) => void>();
/** Each request the raw server got, by path, as it arrived. */
const rawRequests = new Map<string, string[]>();
const rawHeader = (request: string | undefined, name: string) => new RegExp(`\r\n${name}: ([^\r]*)`, "i").exec(request ?? "")?.[1];

async function startRaw() {
  raw = createNetServer((socket) => {
    rawSockets.add(socket);
    socket.on("close", () => rawSockets.delete(socket));
    socket.on("error", () => undefined);
    let request = "";
    socket.on("data", (chunk) => {
      if (request.includes("\r\n\r\n")) return;
      request += chunk.toString("latin1");
      if (!request.includes("\r\n\r\n")) return;
      const path = request.split(" ")[1] ?? "/";
      rawRequests.set(path, [...(rawRequests.get(path) ?? []), request]);
      (rawHandlers.get(path) ?? ((s: Socket) => s.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")))(socket);
    });
  });
  await listen(raw);
  rawPort = (raw.address() as AddressInfo).port;
  rawBase = `http://127.0.0.1:${rawPort}`;
  rawHandlers.set("/ok", (s) => s.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
}

function stopRaw() {
  for (const socket of rawSockets) socket.destroy();
  raw.close();
}

/** Registers what the raw server answers on `path`; returns the URL. */
function onRaw(path: string, answer: (socket: Socket) => void): string {
  rawHandlers.set(path, answer);
  return `${rawBase}${path}`;
}

/** Runs `probe` and how long it took, in ms. */
async function timed<T>(probe: () => Promise<T>): Promise<[T, number]> {
  const began = performance.now();
  const outcome = await probe();
  return [outcome, performance.now() - began];
}

describe("the kubelet's request (request.go newProbeRequest, Go's Request.write)", () => {
  test("200 is a success, sent with kube-probe/1.33, Accept */*, no compression and no keep-alive", async () => {
    const outcome = await probeHttp({ url: `${base}/status/200`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "success", statusCode: 200, output: "", warning: false, body: "answer 200\n" });
    expect(PROBE_USER_AGENT).toBe("kube-probe/1.33");
    expect(last().headers["user-agent"]).toBe("kube-probe/1.33");
    expect(last().headers.accept).toBe("*/*");
    expect(last().headers["accept-encoding"]).toBeUndefined();
    expect(last().headers.connection).toBe("close");
    // Go writes URL.Host, port included.
    expect(last().headers.host).toBe(`127.0.0.1:${port}`);
  });

  test("httpHeaders override the defaults, names canonicalised as http.Header.Add does, every value sent", async () => {
    const outcome = await createHttpGetProber(
      action("/status/200", [
        { name: "user-agent", value: "my-probe/2" },
        { name: "ACCEPT", value: "application/json" },
        { name: "x-custom-header", value: "one" },
        { name: "X-Custom-Header", value: "two" },
      ]),
      1,
    )(new AbortController().signal);
    expect(outcome.result).toBe("success");
    const lines = rawHeaders(last());
    expect(lines.filter(([name]) => /^user-agent$/i.test(name))).toEqual([["User-Agent", "my-probe/2"]]);
    expect(lines.filter(([name]) => /^accept$/i.test(name))).toEqual([["Accept", "application/json"]]);
    expect(lines.filter(([name]) => /^x-custom-header$/i.test(name))).toEqual([
      ["X-Custom-Header", "one"],
      ["X-Custom-Header", "two"],
    ]);
    expect(canonicalHeaderKey("x-b3-traceid")).toBe("X-B3-Traceid");
    expect(canonicalHeaderKey("bad name")).toBe("bad name");
  });

  test("a Host header sets the request's Host; host and Host are one header, its first value wins", async () => {
    await probeHttpGet(action("/status/200", [{ name: "host", value: "app.example" }, { name: "Host", value: "other.example" }]), 1);
    expect(rawHeaders(last()).filter(([name]) => /^host$/i.test(name))).toEqual([["Host", "app.example"]]);
  });

  test("an Accept given empty removes Accept; a User-Agent given empty sends none", async () => {
    await probeHttpGet(action("/status/200", [{ name: "Accept", value: "" }, { name: "User-Agent", value: "" }]), 1);
    expect(last().headers.accept).toBeUndefined();
    expect(last().headers["user-agent"]).toBeUndefined();
  });

  test("a header value Go refuses fails the probe before any connection, in Go's words", async () => {
    const before = seen.length;
    const outcome = await probeHttpGet(action("/status/200", [{ name: "X-Bad", value: "a\nb" }]), 1);
    expect(outcome).toMatchObject({ result: "failure", statusCode: 0 });
    expect(outcome.output).toBe(`Get "${base}/status/200": net/http: invalid header field value for "X-Bad"`);
    expect(seen.length).toBe(before);
  });
});

describe("the URL (request.go formatURL)", () => {
  test.each([
    ["health", "/health"],
    ["/health?verbose=1", "/health?verbose=1"],
    ["", "/"],
    ["/a/../status/200", "/a/../status/200"],
    ["/with space", "/with%20space"],
    ["/kept%2Fescape", "/kept%2Fescape"],
    ["/page#fragment", "/page"],
    // Go would send the space as is; Node refuses one in a request line: percent-encoded instead.
    ["/search?q=a b", "/search?q=a%20b"],
  ])("path %j is requested as %s", async (path, requestLine) => {
    await probeHttpGet(action(path), 1);
    expect(last().url).toBe(requestLine);
  });

  test("errors name the URL as Go prints it: IPv6 in brackets, the port always there, a relative path made absolute", () => {
    expect(formatTarget({ scheme: "HTTP", host: "::1", port: 8080, path: "health" }).href).toBe("http://[::1]:8080/health");
    expect(formatTarget({ scheme: "HTTPS", host: "10.0.0.5", port: 443, path: "/ready?x=1" }).href).toBe("https://10.0.0.5:443/ready?x=1");
    expect(formatTarget({ scheme: "HTTP", host: "10.0.0.5", port: 80, path: "" }).href).toBe("http://10.0.0.5:80");
    expect(formatTarget({ scheme: "HTTP", host: "10.0.0.5", port: 80, path: "/search?q=a b" }).href).toBe("http://10.0.0.5:80/search?q=a b");
    // A full URL written as the path keeps only its path: the probe's host and port replace the rest.
    expect(formatTarget({ scheme: "HTTP", host: "10.0.0.5", port: 80, path: "http://elsewhere:9/x" }).href).toBe("http://10.0.0.5:80/x");
  });

  test("httpGetActionFromUrl: the action a URL stands for", () => {
    expect(httpGetActionFromUrl("https://[::1]/ready?x=1", { "X-A": "b" })).toEqual({
      kind: "httpGet",
      scheme: "HTTPS",
      host: "::1",
      port: 443,
      path: "/ready?x=1",
      httpHeaders: [{ name: "X-A", value: "b" }],
    });
    expect(httpGetActionFromUrl("http://127.0.0.1:8080/health")).toMatchObject({ scheme: "HTTP", port: 8080, path: "/health" });
    expect(() => httpGetActionFromUrl("ftp://127.0.0.1/")).toThrow(/expected an http:\/\/ or https:\/\/ URL/);
  });
});

describe("the answer (http.go DoHTTPProbe)", () => {
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

  test("a redirect to the same host name on another port is followed", async () => {
    const outcome = await probeHttp({ url: `${base}/to-other-port`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "success", statusCode: 200, body: "ok", url: `${rawBase}/ok` });
  });

  test("399 is a success (the kubelet takes 200 <= status < 400), reported with a warning", async () => {
    const outcome = await probeHttp({ url: `${base}/status/399`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "success", statusCode: 399, warning: true });
  });

  test.each([400, 500])("%i is a failure with the kubelet's message, without the body", async (code) => {
    const outcome = await probeHttp({ url: `${base}/status/${code}`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "failure", statusCode: code, output: `HTTP probe failed with statuscode: ${code}` });
  });

  test("a body larger than 10 KiB is read to 10 KiB only, and that is no failure", async () => {
    const outcome = await probeHttp({ url: `${base}/big`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "success", statusCode: 200, truncated: true });
    expect(Buffer.byteLength(outcome.body)).toBe(MAX_BODY_BYTES);
    expect(MAX_BODY_BYTES).toBe(10 * 1024);
  });

  test("exactly 10 KiB then a stall is a success at once: ReadAtMost stops at the limit", async () => {
    const url = onRaw("/ten-kib-then-stall", (s) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n${"y".repeat(MAX_BODY_BYTES)}`));
    const [outcome, ms] = await timed(() => probeHttp({ url, timeoutSeconds: 2 }));
    expect(outcome).toMatchObject({ result: "success", statusCode: 200, truncated: true });
    expect(outcome.body).toBe("y".repeat(MAX_BODY_BYTES));
    expect(ms).toBeLessThan(1000);
  });

  test("more than 10 KiB then a stall: 10 KiB read, the status decides (ErrLimitReached is not fatal)", async () => {
    const url = onRaw("/eleven-kib-500", (s) => s.write(`HTTP/1.1 500 Oops\r\nContent-Length: 20000\r\n\r\n${"z".repeat(11 * 1024)}`));
    const [outcome, ms] = await timed(() => probeHttp({ url, timeoutSeconds: 2 }));
    expect(outcome).toMatchObject({ result: "failure", statusCode: 500, output: "HTTP probe failed with statuscode: 500", truncated: true });
    expect(ms).toBeLessThan(1000);
  });

  test("a redirect loop stops after 10 redirects, the error naming the Location as written", async () => {
    const outcome = await probeHttp({ url: `${base}/loop`, timeoutSeconds: 2 });
    expect(outcome).toMatchObject({ result: "failure", statusCode: 302 });
    // client.go: `ue.(*url.Error).URL = loc`, the header's text, not the resolved URL.
    expect(outcome.output).toMatch(/^Get "\/loop10[\d.]+": stopped after 10 redirects$/);
    const loopHits = [...hits.entries()].filter(([path]) => path.startsWith("/loop")).reduce((n, [, count]) => n + count, 0);
    expect(loopHits).toBe(MAX_REDIRECTS);
  });
});

describe("redirects (client.go Client.do)", () => {
  test("a followed redirect carries the previous URL as its Referer; the first request has none", async () => {
    const first = onRaw("/referer-1", (s) => s.end("HTTP/1.1 302 Found\r\nLocation: /referer-2\r\nContent-Length: 0\r\n\r\n"));
    onRaw("/referer-2", (s) => s.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    const outcome = await probeHttp({ url: first, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "success", statusCode: 200 });
    expect(rawHeader(rawRequests.get("/referer-1")?.[0], "Referer")).toBeUndefined();
    expect(rawHeader(rawRequests.get("/referer-2")?.[0], "Referer")).toBe(first);
  });

  test("a Referer among the probe's headers is kept on every hop", async () => {
    const first = onRaw("/own-referer-1", (s) => s.end("HTTP/1.1 302 Found\r\nLocation: /own-referer-2\r\nContent-Length: 0\r\n\r\n"));
    onRaw("/own-referer-2", (s) => s.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    await probeHttpGet({ ...action("/own-referer-1", [{ name: "Referer", value: "https://mine.example/" }]), port: rawPort }, 1);
    expect(rawHeader(rawRequests.get("/own-referer-2")?.[0], "Referer")).toBe("https://mine.example/");
    expect(first).toBe(`${rawBase}/own-referer-1`);
  });

  test("a custom Host survives a relative redirect, not an absolute one", async () => {
    onRaw("/host-relative", (s) => s.end("HTTP/1.1 302 Found\r\nLocation: /host-absolute\r\nContent-Length: 0\r\n\r\n"));
    onRaw("/host-absolute", (s) => s.end(`HTTP/1.1 302 Found\r\nLocation: ${rawBase}/host-last\r\nContent-Length: 0\r\n\r\n`));
    onRaw("/host-last", (s) => s.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    const outcome = await probeHttpGet({ ...action("/host-relative", [{ name: "Host", value: "app.example" }]), port: rawPort }, 1);
    expect(outcome).toMatchObject({ result: "success", statusCode: 200 });
    const hosts = ["/host-relative", "/host-absolute", "/host-last"].map((path) => rawHeader(rawRequests.get(path)?.[0], "Host"));
    expect(hosts).toEqual(["app.example", "app.example", `127.0.0.1:${rawPort}`]);
  });

  test("a redirect whose body stalls: the deadline passes while draining it, and the next request fails awaiting headers", async () => {
    const url = onRaw("/redirect-stalls", (s) => s.write("HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 100\r\n\r\nabc"));
    const [outcome, ms] = await timed(() => probeHttp({ url, timeoutSeconds: 0.3 }));
    expect(outcome).toMatchObject({ result: "failure", statusCode: 302 });
    expect(outcome.output).toBe(`Get "${rawBase}/ok": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
    expect(ms).toBeLessThan(1000);
  });
});

describe("a probe always ends by its timeout, whatever the target does", () => {
  test("no answer within the timeout is a failure worded as Go's client words it", async () => {
    const [outcome, ms] = await timed(() => probeHttp({ url: `${base}/hang`, timeoutSeconds: 0.3 }));
    expect(outcome).toMatchObject({ result: "failure", statusCode: 0 });
    expect(outcome.output).toBe(`Get "${base}/hang": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1000);
    expect(outcome.durationSeconds).toBeGreaterThanOrEqual(0.29);
  });

  test("101 Switching Protocols with Upgrade, the connection then kept open: ended by the deadline, unknown", { timeout: 5000 }, async () => {
    const url = onRaw("/upgrade-stall", (s) => s.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello"));
    const [outcome, ms] = await timed(() => probeHttp({ url, timeoutSeconds: 0.3 }));
    expect(outcome).toMatchObject({ result: "unknown", statusCode: 101 });
    expect(outcome.output).toBe("context deadline exceeded (Client.Timeout or context cancellation while reading body)");
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1000);
  });

  test("101 with Upgrade whose connection then closes: its status fails the probe", { timeout: 5000 }, async () => {
    const url = onRaw("/upgrade-close", (s) => s.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nbye"));
    const outcome = await probeHttp({ url, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "failure", statusCode: 101, output: "HTTP probe failed with statuscode: 101" });
  });

  test("101 without Upgrade headers has no body: a failure at once", async () => {
    const url = onRaw("/101-plain", (s) => s.write("HTTP/1.1 101 Switching Protocols\r\n\r\n"));
    const [outcome, ms] = await timed(() => probeHttp({ url, timeoutSeconds: 2 }));
    expect(outcome).toMatchObject({ result: "failure", statusCode: 101, output: "HTTP probe failed with statuscode: 101" });
    expect(ms).toBeLessThan(1000);
  });

  test("1xx informational answers are skipped: the final answer decides", async () => {
    const url = onRaw("/early-hints", (s) =>
      s.end("HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    );
    const outcome = await probeHttp({ url, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "success", statusCode: 200, body: "ok" });
  });

  test("1xx answers that never end in a final one: a failure awaiting headers, by the deadline", { timeout: 5000 }, async () => {
    const url = onRaw("/processing-forever", (s) => {
      const tick = setInterval(() => (s.writable ? s.write("HTTP/1.1 102 Processing\r\n\r\n") : clearInterval(tick)), 50);
      s.on("close", () => clearInterval(tick));
    });
    const [outcome, ms] = await timed(() => probeHttp({ url, timeoutSeconds: 0.3 }));
    expect(outcome).toMatchObject({ result: "failure", statusCode: 0 });
    expect(outcome.output).toBe(`Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
    expect(ms).toBeLessThan(1000);
  });

  test("a body cut by the timeout is an error the kubelet throws away: unknown", async () => {
    const outcome = await probeHttp({ url: `${base}/slow-body`, timeoutSeconds: 0.3 });
    expect(outcome).toMatchObject({ result: "unknown", statusCode: 200 });
    expect(outcome.output).toBe("context deadline exceeded (Client.Timeout or context cancellation while reading body)");
  });

  test.each([
    ["a chunked body never finished", "/chunked-forever", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"],
    ["a body read to close, on a connection never closed", "/until-close", "HTTP/1.1 200 OK\r\n\r\nstill going"],
  ])("%s: unknown by the deadline", { timeout: 5000 }, async (_what, path, answer) => {
    const url = onRaw(path, (s) => s.write(answer));
    const [outcome, ms] = await timed(() => probeHttp({ url, timeoutSeconds: 0.3 }));
    expect(outcome).toMatchObject({ result: "unknown", statusCode: 200 });
    expect(ms).toBeLessThan(1000);
  });

  test("a cancelled probe is unknown and ends at once", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const [outcome, ms] = await timed(() => probeHttp({ url: `${base}/hang`, timeoutSeconds: 5, signal: controller.signal }));
    expect(outcome).toMatchObject({ result: "unknown", output: `Get "${base}/hang": context canceled` });
    expect(ms).toBeLessThan(1000);
  });
});

describe("Go's words for what went wrong", () => {
  test("a refused connection names the address", async () => {
    const closed = await freePort();
    const outcome = await probeHttp({ url: `http://127.0.0.1:${closed}/health`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "failure", statusCode: 0 });
    expect(outcome.output).toBe(`Get "http://127.0.0.1:${closed}/health": dial tcp 127.0.0.1:${closed}: connect: connection refused`);
  });

  test("a server that closes before answering: EOF", async () => {
    const url = onRaw("/close", (s) => s.end());
    const outcome = await probeHttp({ url, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "failure", statusCode: 0, output: `Get "${url}": EOF` });
  });

  test("a server that resets the connection: read: connection reset by peer, with both ends", async () => {
    const url = onRaw("/reset", (s) => s.resetAndDestroy());
    const outcome = await probeHttp({ url, timeoutSeconds: 1 });
    expect(outcome.result).toBe("failure");
    const escaped = url.replace(/[.]/g, "\\.");
    expect(outcome.output).toMatch(new RegExp(`^Get "${escaped}": read tcp 127\\.0\\.0\\.1:\\d+->127\\.0\\.0\\.1:${rawPort}: read: connection reset by peer$`));
  });

  test("a server that closes halfway through the headers: the connection is broken, unexpected EOF", async () => {
    const url = onRaw("/half-head", (s) => s.end("HTTP/1.1 200 OK\r\nContent-"));
    const outcome = await probeHttp({ url, timeoutSeconds: 1 });
    expect(outcome.output).toBe(`Get "${url}": net/http: HTTP/1.x transport connection broken: unexpected EOF`);
  });

  test.each([
    ["not HTTP at all", "garbage\r\n", 'malformed HTTP response "garbage"'],
    ["a TLS alert, as from an HTTPS server", "\x15\x03\x01\x00\x02\x02", 'malformed HTTP response "\\x15\\x03\\x01\\x00\\x02\\x02"'],
    ["a four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", 'malformed HTTP status code "2000"'],
    ["a header line without a colon", "HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", "malformed MIME header line: nocolon"],
  ])("a malformed response (%s)", async (_what, answer, words) => {
    const url = onRaw(`/malformed-${words.length}`, (s) => s.end(Buffer.from(answer, "latin1")));
    const outcome = await probeHttp({ url, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "failure", statusCode: 0 });
    expect(outcome.output).toBe(`Get "${url}": net/http: HTTP/1.x transport connection broken: ${words}`);
  });

  test("a body cut short by the server is an error after the headers: unknown, unexpected EOF", async () => {
    const url = onRaw("/short-body", (s) => s.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"));
    const outcome = await probeHttp({ url, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "unknown", statusCode: 200, output: "unexpected EOF" });
  });

  test("goQuote quotes as Go's %q does", () => {
    expect(goQuote("a\"b\\c\td")).toBe('"a\\"b\\\\c\\td"');
    expect(goQuote("é\u0085\u{1F600}")).toBe('"é\\u0085\u{1F600}"');
    expect(goQuote(Buffer.from([0x41, 0xff, 0x7f]))).toBe('"A\\xff\\x7f"');
  });
});

describe("HTTPS", () => {
  // A self-signed certificate for CN=localhost, for these tests only: the kubelet verifies none.
  const key = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgDRVMefQ2RewBlnnh
jXMbu5KhYMlqrtPyOIRnGYNM4UuhRANCAATKeW1PdOyR1CkrPAi+mPD5rjh3IBfc
goq+3HGKQleefl/4NMsAKUc/cVC2s/u8CGhVPhUV1MnMN1zgzvTJRswD
-----END PRIVATE KEY-----`;
  const cert = `-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUPKMJ2dYMZFf+OBl9tkXDJodLprswCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyODExNTM1MVoYDzIxMjYxMTA0
MTE1MzUxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATKeW1PdOyR1CkrPAi+mPD5rjh3IBfcgoq+3HGKQleefl/4NMsAKUc/
cVC2s/u8CGhVPhUV1MnMN1zgzvTJRswDo1MwUTAdBgNVHQ4EFgQUgtp7Dp8guw/h
d0TlVJm4nD8PongwHwYDVR0jBBgwFoAUgtp7Dp8guw/hd0TlVJm4nD8PongwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAizMHMU1lDzNzvSxWXGWkb
y19Z/7gMtut8orh8aJy0SwIhAPnyZPsEwcwJx8BpxsB7l7G+tIZonZLmzSUUoUm3
ZFDk
-----END CERTIFICATE-----`;
  let secure: Server;
  let secureBase: string;

  beforeAll(async () => {
    secure = createHttpsServer({ key, cert }, (req, res) => {
      seen.push(req);
      if (req.url === "/down-to-http") return void res.writeHead(302, { location: `${base}/status/200` }).end();
      res.writeHead(200).end("secure\n");
    });
    await listen(secure);
    secureBase = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    secure.closeAllConnections();
    secure.close();
  });

  test("scheme HTTPS: a self-signed certificate is accepted, as InsecureSkipVerify does", async () => {
    const outcome = await probeHttp({ url: `${secureBase}/health`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "success", statusCode: 200, body: "secure\n" });
  });

  test("a redirect from https to http is followed without a Referer", async () => {
    const outcome = await probeHttp({ url: `${secureBase}/down-to-http`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "success", statusCode: 200, url: `${base}/status/200` });
    expect(last().url).toBe("/status/200");
    expect(last().headers.referer).toBeUndefined();
  });

  test("scheme HTTPS against a plain HTTP server: Go's ErrSchemeMismatch", async () => {
    const outcome = await probeHttp({ url: `https://127.0.0.1:${port}/status/200`, timeoutSeconds: 1 });
    expect(outcome).toMatchObject({ result: "failure", statusCode: 0 });
    expect(outcome.output).toBe(`Get "https://127.0.0.1:${port}/status/200": http: server gave HTTP response to HTTPS client`);
  });
});
