// The TCP prober against real loopback sockets: open means success, whatever is listening;
// a refused or unanswered dial is a failure worded as Go's dialer words it.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort } from "../../test/processes.ts";
import { createHttpGetProber } from "../src/http.ts";
import { createTcpSocketProber, dialErrorText } from "../src/tcp.ts";
import type { TcpSocketAction } from "../src/types.ts";

const tcp = (port: number, host = "127.0.0.1"): TcpSocketAction => ({ kind: "tcpSocket", host, port });
const never = new AbortController().signal;

let listener: NetServer;
let listenerPort: number;
const accepted: Socket[] = [];

beforeAll(async () => {
  listener = createNetServer((socket) => {
    accepted.push(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  listenerPort = (listener.address() as AddressInfo).port;
});

afterAll(() => {
  accepted.forEach((socket) => socket.destroy());
  listener.close();
});

describe("createTcpSocketProber (tcp.go DoTCPProbe)", () => {
  test("a listening port is a success with no output, and the connection is closed at once", async () => {
    const before = accepted.length;
    const outcome = await createTcpSocketProber(tcp(listenerPort), 1)(never);
    expect(outcome).toMatchObject({ result: "success", output: "" });
    expect(outcome.statusCode).toBeUndefined();
    expect(accepted.length).toBe(before + 1);
    const socket = accepted[accepted.length - 1]!;
    // The prober closed its end: the server's side sees the end of the stream.
    await new Promise<void>((resolve) => (socket.readableEnded ? resolve() : socket.once("end", resolve).resume()));
    expect(socket.readableEnded).toBe(true);
  });

  test("a closed port is a failure worded as Go's dialer words it", async () => {
    const closed = await freePort();
    const outcome = await createTcpSocketProber(tcp(closed), 1)(never);
    expect(outcome).toMatchObject({ result: "failure", output: `dial tcp 127.0.0.1:${closed}: connect: connection refused` });
  });

  test("a cancelled probe is unknown and ends at once", async () => {
    const { port, stop } = await unansweredPort();
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const began = performance.now();
      const outcome = await createTcpSocketProber(tcp(port), 5)(controller.signal);
      expect(outcome).toMatchObject({ result: "unknown", output: `dial tcp 127.0.0.1:${port}: operation was canceled` });
      expect(performance.now() - began).toBeLessThan(1000);
    } finally {
      stop();
    }
  });

  test("a dial that never completes is a failure by the timeout: i/o timeout", async () => {
    const { port, stop } = await unansweredPort();
    try {
      const began = performance.now();
      const outcome = await createTcpSocketProber(tcp(port), 0.3)(never);
      const ms = performance.now() - began;
      expect(outcome).toMatchObject({ result: "failure", output: `dial tcp 127.0.0.1:${port}: i/o timeout` });
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(1000);
      expect(outcome.durationSeconds).toBeGreaterThanOrEqual(0.29);
    } finally {
      stop();
    }
  });

  test("Go's words for other dial errors: DNS, unreachable, IPv6 in brackets", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED ::1:8080"), { code: "ECONNREFUSED", address: "::1", port: 8080 });
    expect(dialErrorText(refused, "localhost", 8080)).toBe("dial tcp [::1]:8080: connect: connection refused");
    const unreachable = Object.assign(new Error("connect EHOSTUNREACH 10.0.0.9:80"), { code: "EHOSTUNREACH", address: "10.0.0.9", port: 80 });
    expect(dialErrorText(unreachable, "10.0.0.9", 80)).toBe("dial tcp 10.0.0.9:80: connect: no route to host");
    const unknown = Object.assign(new Error("getaddrinfo ENOTFOUND db"), { code: "ENOTFOUND" });
    expect(dialErrorText(unknown, "db", 5432)).toMatch(/^dial tcp: lookup db( on \S+:\d+)?: no such host$/);
  });
});

describe("the lesson: a TCP probe only asks whether the port is open", () => {
  let app: Server;
  let appPort: number;

  beforeAll(async () => {
    // An app that listens but is broken: /health answers 500.
    app = createServer((_req, res) => res.writeHead(500).end("broken\n"));
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    appPort = (app.address() as AddressInfo).port;
  });

  afterAll(() => {
    app.closeAllConnections();
    app.close();
  });

  test("the TCP probe passes where the HTTP probe on the same port fails", async () => {
    const byTcp = await createTcpSocketProber(tcp(appPort), 1)(never);
    const byHttp = await createHttpGetProber({ kind: "httpGet", scheme: "HTTP", host: "127.0.0.1", port: appPort, path: "/health", httpHeaders: [] }, 1)(never);
    expect(byTcp.result).toBe("success");
    expect(byHttp).toMatchObject({ result: "failure", statusCode: 500, output: "HTTP probe failed with statuscode: 500" });
  });
});

/**
 * A loopback port whose connections never complete: a listener in another process whose event
 * loop is blocked, so it never accepts, with a backlog of 1. Once the kernel's accept queue is
 * full (two connections), it drops further SYNs and a dial waits until its timeout.
 */
async function unansweredPort(): Promise<{ port: number; stop: () => void }> {
  const script = `
    const server = require("node:net").createServer();
    server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
      process.stdout.write(server.address().port + "\\n");
      // Blocks the event loop (bounded, in case the test dies): nothing is ever accepted.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000);
    });`;
  const child: ChildProcess = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (data: Buffer) => resolve(Number(String(data).trim())));
    child.once("exit", (code) => reject(new Error(`listener exited with ${code}`)));
  });
  const fillers: Socket[] = [];
  const stop = () => {
    fillers.forEach((socket) => socket.destroy());
    child.kill("SIGKILL");
  };
  // Fill the accept queue until a connection stays pending (bounded: the queue holds backlog + 1).
  for (let i = 0; i < 8; i++) {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    fillers.push(socket);
    const opened = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 200);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!opened) return { port, stop };
  }
  stop();
  throw new Error("the listener's accept queue never filled up");
}
