// Serving the app with node:http (through @hono/node-server), bounded for a liveness lab under
// abuse: idle, slow and header-less connections are shed within seconds, a request with a body is
// answered without reading it and its connection closed, and past a number of connections held the
// oldest idle ones are closed, so new ones (the kubelet opens one per probe) keep coming in.
import { type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { serve } from "@hono/node-server";
import type { Served, ServeOptions } from "./run.ts";

export const HTTP_LIMITS = {
  /** A connection's request headers must all arrive within this (kube-probe sends them in one write). */
  headersTimeoutMs: 5_000,
  /** The whole request, headers and body. */
  requestTimeoutMs: 10_000,
  /** An idle keep-alive connection is closed after this (Node's default). */
  keepAliveTimeoutMs: 5_000,
  /** How often the two timeouts above are checked: a connection is shed at most this much late. */
  checkEveryMs: 1_000,
  /** Connections held at most; past it the oldest idle ones are closed (down to 90% of it). */
  maxConnections: 1_000,
};

export type HttpLimits = typeof HTTP_LIMITS;

/** Serves `fetch` on host:port with node:http and the limits above. */
export function serveNodeHttp({ fetch, host, port, onListen, onError }: ServeOptions, limits: HttpLimits = HTTP_LIMITS): Served {
  const server = serve(
    {
      fetch,
      port,
      hostname: host,
      // Its clean-up reads up to 64 MiB of an unread body; closeIfBody below reads none.
      autoCleanupIncoming: false,
      // Node's own defaults keep a header-less connection 60 s and a slow request 300 s.
      serverOptions: {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: limits.checkEveryMs,
      },
    },
    (info) => onListen(`http://${info.address}:${info.port}`),
  ) as Server;
  server.on("error", onError);
  boundConnections(server, limits.maxConnections);
  yieldToNewConnections(server);
  // Before @hono/node-server's listener, so the header is in place whatever it answers.
  server.prependListener("request", closeIfBody);
  // close() stops accepting and ends idle keep-alive connections; its callback waits for the rest,
  // which close once answered, as answers then say "Connection: close".
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** How long a connection closed unread is kept, its reading stopped, so the client reads the answer first. */
export const LINGER_MS = 1_000;

/**
 * The app reads no request body. A request with one is answered at once with "Connection: close"
 * and its connection closed after the answer, the body unread: Node would otherwise drain it (at
 * wire speed, gigabytes for `Content-Length: 4000000000`) to reuse the connection. Closed at once,
 * with the body still arriving, the connection would be reset and the client could lose the answer
 * (RFC 9112 9.6): the answer is followed by a FIN, reading stops, and the reset comes LINGER_MS later.
 */
export function closeIfBody(req: IncomingMessage, res: ServerResponse): void {
  const length = req.headers["content-length"];
  if (req.headers["transfer-encoding"] === undefined && (length === undefined || length === "0")) return;
  res.setHeader("connection", "close");
  const socket = req.socket;
  // Node ends an answer saying Connection: close with socket.destroySoon(), after resuming reading.
  socket.destroySoon = () => {
    socket.end();
    const stop = () => void socket.pause();
    stop();
    // Node's request stream resumes reading on its next turn: stopped again after it.
    setImmediate(stop);
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}

/**
 * Past `max` connections, closes the oldest idle ones (no request being answered): header-less,
 * slow and idle keep-alive connections, which a flood is made of, while the newest connections,
 * a probe's among them, are kept. A hard cap (server.maxConnections) would refuse the probes too.
 */
export function boundConnections(server: Server, max: number): { held(): number } {
  // A Set keeps insertion order: the oldest connection first.
  const sockets = new Set<Socket>();
  const answering = new WeakMap<Socket, number>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (sockets.size > max) shed(Math.max(1, sockets.size - Math.floor(max * 0.9)));
  });
  server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    answering.set(socket, (answering.get(socket) ?? 0) + 1);
    // "close" comes once per answer, whether it finished or the client left.
    res.once("close", () => answering.set(socket, (answering.get(socket) ?? 1) - 1));
  });
  function shed(count: number) {
    for (const socket of sockets) {
      if (count <= 0) break;
      if (socket.destroyed) {
        sockets.delete(socket);
        continue;
      }
      if ((answering.get(socket) ?? 0) > 0) continue;
      socket.destroy();
      sockets.delete(socket);
      count--;
    }
  }
  return { held: () => sockets.size };
}

/**
 * While the event loop lags, a keep-alive connection that has just been answered waits a little
 * before its next request is read, so a new connection's request (a probe's: the kubelet opens one
 * for each) is not queued behind a turn of every busy connection's next one.
 */
export function yieldToNewConnections(server: Server, { lagMs = 50, pauseMs = 100 } = {}): void {
  let lagging = false;
  let last = performance.now();
  const beat = setInterval(() => {
    const now = performance.now();
    lagging = now - last > 20 + lagMs;
    last = now;
  }, 20);
  beat.unref();
  server.once("close", () => clearInterval(beat));
  server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
    res.once("finish", () => {
      if (!lagging) return;
      const socket = req.socket;
      if (socket.destroyed || !socket.readable) return;
      socket.pause();
      setTimeout(() => {
        if (!socket.destroyed) socket.resume();
      }, pauseMs).unref();
    });
  });
}
