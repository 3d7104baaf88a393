// The Service's node port as kube-proxy makes it (pkg/proxy/iptables/proxier.go), with real
// sockets on loopback: a random Ready endpoint per connection, refused with none, connections kept
// when their pod turns not ready, bounded buffers, both sides closed together.
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { createNodePort, pickEndpoint, type Endpoint, type NodePort } from "../src/service.ts";
import { eventually, freePort } from "../../test/processes.ts";

/** A small seeded PRNG (mulberry32), so the distribution test is the same every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random numbers from a script, counting how many were drawn. */
function scripted(values: number[]) {
  let i = 0;
  const random = () => {
    if (i >= values.length) throw new Error("drew more random numbers than scripted");
    return values[i++]!;
  };
  return { random, drawn: () => i };
}

describe("pickEndpoint (iptables writeServiceToEndpointRules: rule i of n matches with probability 1/(n-i))", () => {
  test("walks the rules in order, one draw per rule, the last rule taken without a draw", () => {
    const eps = ["a", "b", "c"];
    // 0.2 < 1/3: the first rule matches.
    let s = scripted([0.2]);
    expect(pickEndpoint(eps, s.random)).toBe("a");
    expect(s.drawn()).toBe(1);
    // 0.5 >= 1/3, then 0.4 < 1/2: the second.
    s = scripted([0.5, 0.4]);
    expect(pickEndpoint(eps, s.random)).toBe("b");
    // Neither probabilistic rule matches: the last, unconditional one.
    s = scripted([0.9, 0.9]);
    expect(pickEndpoint(eps, s.random)).toBe("c");
    expect(s.drawn()).toBe(2);
    // One endpoint: its rule has no statistic match at all.
    s = scripted([]);
    expect(pickEndpoint(["only"], s.random)).toBe("only");
    expect(pickEndpoint([], s.random)).toBeUndefined();
  });

  test("chooses uniformly among the endpoints", () => {
    const random = seeded(42);
    const counts = new Map<string, number>();
    const runs = 30_000;
    for (let i = 0; i < runs; i++) {
      const e = pickEndpoint(["a", "b", "c"], random)!;
      counts.set(e, (counts.get(e) ?? 0) + 1);
    }
    for (const name of ["a", "b", "c"]) expect(Math.abs(counts.get(name)! / runs - 1 / 3)).toBeLessThan(0.015);
  });
});

// ---------------------------------------------------------------------------------------------

const servers: Server[] = [];
const nodePorts: NodePort[] = [];
const clients: Socket[] = [];
const podSockets: Socket[] = [];
afterEach(async () => {
  for (const c of [...clients.splice(0), ...podSockets.splice(0)]) c.destroy();
  await Promise.all(nodePorts.splice(0).map((n) => n.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A pod's app: says its name on each connection, then echoes; keeps its sockets for the test to act on. */
async function pod(name: string, options: { pause?: boolean } = {}) {
  const sockets: Socket[] = [];
  const server = createServer({ pauseOnConnect: options.pause ?? false }, (socket) => {
    sockets.push(socket);
    podSockets.push(socket);
    socket.on("error", () => {});
    if (options.pause) return;
    socket.write(`${name}\n`);
    socket.pipe(socket);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const endpoint: Endpoint = { pod: name, host: "127.0.0.1", port };
  return { endpoint, sockets, server };
}

async function nodePort(random?: () => number) {
  const port = await freePort();
  const n = createNodePort({ host: "127.0.0.1", port, ...(random ? { random } : {}) });
  nodePorts.push(n);
  return { n, port };
}

/** Connects; resolves with the socket once connected, or the error code. */
function connect(port: number): Promise<Socket | string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    clients.push(socket);
    socket.once("connect", () => resolve(socket));
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** The next line the socket reads. */
function line(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (d: Buffer) => {
      text += d.toString();
      const i = text.indexOf("\n");
      if (i >= 0) {
        socket.off("data", onData);
        resolve(text.slice(0, i));
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
}

/** Which pod answers a new connection through the node port. */
async function whoAnswers(port: number): Promise<string> {
  const socket = await connect(port);
  if (typeof socket === "string") return socket;
  const name = await line(socket);
  socket.destroy();
  return name;
}

const closed = (socket: Socket) => new Promise<void>((r) => (socket.destroyed ? r() : socket.once("close", () => r())));

describe("the node port (kube-proxy, iptables mode)", () => {
  test("sends each new connection to the endpoint the random draw picks", async () => {
    const a = await pod("a");
    const b = await pod("b");
    const { n, port } = await nodePort(scripted([0.1, 0.9, 0.4, 0.6]).random);
    await n.setEndpoints([a.endpoint, b.endpoint]);
    expect([await whoAnswers(port), await whoAnswers(port), await whoAnswers(port), await whoAnswers(port)]).toEqual(["a", "b", "a", "b"]);
    expect(Object.fromEntries(n.sent())).toEqual({ a: 2, b: 2 });
  });

  test("sends nothing to a pod that is not Ready", async () => {
    const a = await pod("a");
    const b = await pod("b");
    const { n, port } = await nodePort();
    await n.setEndpoints([b.endpoint]);
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await whoAnswers(port));
    expect(new Set(answers)).toEqual(new Set(["b"]));
    expect(a.sockets).toHaveLength(0);
  });

  test("refuses connections while no pod is Ready, from the start, and accepts them again once one is", async () => {
    const a = await pod("a");
    const { n, port } = await nodePort();
    expect(await connect(port)).toBe("ECONNREFUSED");
    await n.setEndpoints([a.endpoint]);
    expect(n.listening()).toBe(true);
    expect(await whoAnswers(port)).toBe("a");
    await n.setEndpoints([]);
    expect(n.listening()).toBe(false);
    expect(await connect(port)).toBe("ECONNREFUSED");
    await n.setEndpoints([a.endpoint]);
    expect(await whoAnswers(port)).toBe("a");
  });

  test("keeps a connection to a pod that turns not ready (conntrack), while new ones are refused", async () => {
    const a = await pod("a");
    const { n, port } = await nodePort();
    await n.setEndpoints([a.endpoint]);
    const socket = (await connect(port)) as Socket;
    expect(await line(socket)).toBe("a");
    await n.setEndpoints([]);
    expect(await connect(port)).toBe("ECONNREFUSED");
    socket.write("still here\n");
    expect(await line(socket)).toBe("still here");
    expect(n.connections()).toBe(1);
  });

  test("closes the pod's side when the client ends, and the client's when the pod ends", async () => {
    const a = await pod("a");
    const { n, port } = await nodePort();
    await n.setEndpoints([a.endpoint]);

    const first = (await connect(port)) as Socket;
    await line(first);
    first.end();
    await closed(a.sockets[0]!);
    await closed(first);

    const second = (await connect(port)) as Socket;
    await line(second);
    a.sockets[1]!.destroy();
    await closed(second);
    await eventually(async () => (n.connections() === 0 ? true : undefined), 2_000, "no connection left");
  });

  test("passes a reset on: the pod's RST reaches the client, and a pod that refuses resets the client", async () => {
    const a = await pod("a");
    const { n, port } = await nodePort();
    await n.setEndpoints([a.endpoint]);
    const socket = (await connect(port)) as Socket;
    await line(socket);
    const error = new Promise<string>((r) => socket.once("error", (e: NodeJS.ErrnoException) => r(e.code ?? "")));
    a.sockets[0]!.resetAndDestroy();
    expect(await error).toBe("ECONNRESET");

    // A Ready endpoint whose port is not listening (its process just died).
    await n.setEndpoints([{ pod: "gone", host: "127.0.0.1", port: await freePort() }]);
    const orphan = (await connect(port)) as Socket;
    const reset = new Promise<string>((r) => orphan.once("error", (e: NodeJS.ErrnoException) => r(e.code ?? "")));
    expect(await reset).toBe("ECONNRESET");
  });

  test("holds a bounded amount of data when the pod does not read: backpressure reaches the client", async () => {
    const a = await pod("slow", { pause: true });
    const { n, port } = await nodePort();
    await n.setEndpoints([a.endpoint]);
    const socket = (await connect(port)) as Socket;
    const total = 64 * 1024 * 1024;
    socket.write(Buffer.alloc(total));
    // Let the kernel's buffers and the proxy's fill up as far as they will.
    let before = -1;
    await eventually(
      async () => {
        const now = socket.writableLength;
        const settled = now === before;
        before = now;
        return settled ? true : undefined;
      },
      10_000,
      "the client's buffer to stop draining",
      200,
    );
    expect(n.buffered()).toBeLessThan(1024 * 1024);
    // Most of it is still waiting in the client: the proxy did not take it in.
    expect(socket.writableLength).toBeGreaterThan(total / 2);
  });

  test("a port taken while it was closed is reported, not thrown, and the node port stays closed", async () => {
    const a = await pod("a");
    const port = await freePort();
    const errors: string[] = [];
    const n = createNodePort({ host: "127.0.0.1", port, onListenError: (e) => errors.push(e.code ?? "") });
    nodePorts.push(n);
    const thief = createServer();
    servers.push(thief);
    await new Promise<void>((r) => thief.listen(port, "127.0.0.1", r));
    await n.setEndpoints([a.endpoint]);
    expect(errors).toEqual(["EADDRINUSE"]);
    expect(n.listening()).toBe(false);
  });

  test("close() stops listening and ends every connection", async () => {
    const a = await pod("a");
    const { n, port } = await nodePort();
    await n.setEndpoints([a.endpoint]);
    const socket = (await connect(port)) as Socket;
    await line(socket);
    await n.close();
    await closed(socket);
    expect(await connect(port)).toBe("ECONNREFUSED");
    // Ready pods after close() do not open it again.
    await n.setEndpoints([a.endpoint]);
    expect(n.listening()).toBe(false);
  });
});
