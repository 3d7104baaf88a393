// A Service's node port on this machine, as kube-proxy (iptables mode, Kubernetes v1.33) makes it:
// - the endpoints are the pods whose Ready condition is true (endpointslice utils.go podToEndpoint:
//   ready = IsPodReady && !terminating), and kube-proxy uses the ready ones (pkg/proxy/topology.go
//   CategorizeEndpoints);
// - each new connection goes to one of them at random: pkg/proxy/iptables/proxier.go
//   writeServiceToEndpointRules writes one rule per endpoint, the i-th of n matching with
//   probability 1/(n-i) (`-m statistic --mode random`), the last always: a uniform choice;
// - with no endpoint, the proxier's filter rule (`"<svc> has no endpoints" -j REJECT`) refuses new
//   connections: here the port stops listening, so a client's connect fails with ECONNREFUSED
//   (`curl: (7) Failed to connect ...`), and a connection already queued is reset;
// - a connection keeps its pod until it ends (conntrack keeps the DNAT), even if the pod turns not
//   ready: only new connections follow the endpoints.
// Unlike iptables, this is a userspace proxy: two sockets per connection, piped with backpressure,
// each closing (or resetting) the other. It is not a cluster IP: there is no `port: 80` here.
import { createConnection, createServer, type Server, type Socket } from "node:net";

export type Endpoint = {
  /** The pod's name, for what the runner prints. */
  pod: string;
  host: string;
  port: number;
};

/** writeServiceToEndpointRules: rule i of n matches with probability 1/(n-i), the last one always. */
export function pickEndpoint<T>(endpoints: readonly T[], random: () => number = Math.random): T | undefined {
  const n = endpoints.length;
  for (let i = 0; i < n - 1; i++) if (random() < 1 / (n - i)) return endpoints[i];
  return endpoints[n - 1];
}

export type NodePortOptions = {
  host: string;
  port: number;
  random?: () => number;
  /** A failure to listen again after being closed (the port taken meanwhile): one line to print. */
  onListenError?: (error: NodeJS.ErrnoException) => void;
};

export type NodePort = ReturnType<typeof createNodePort>;

export function createNodePort(options: NodePortOptions) {
  const random = options.random ?? Math.random;
  let endpoints: Endpoint[] = [];
  let server: Server | undefined;
  let closed = false;
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  /** Connections made, per pod, since the start: which pods the Service sent traffic to. */
  const sent = new Map<string, number>();
  // Listening and closing happen one at a time, in the order asked.
  let queue: Promise<void> = Promise.resolve();

  function forward(client: Socket): void {
    const endpoint = pickEndpoint(endpoints, random);
    // A connection the kernel queued before the port closed: iptables would have rejected it.
    if (!endpoint) {
      client.on("error", () => {});
      client.resetAndDestroy();
      return;
    }
    sent.set(endpoint.pod, (sent.get(endpoint.pod) ?? 0) + 1);
    const upstream = createConnection({ host: endpoint.host, port: endpoint.port, noDelay: true });
    client.setNoDelay(true);
    clients.add(client);
    sockets.add(client);
    sockets.add(upstream);
    // A reset on one side is a reset on the other, as it would be through a DNAT.
    const reset = (socket: Socket) => {
      if (!socket.destroyed) socket.resetAndDestroy();
    };
    client.on("error", () => reset(upstream));
    upstream.on("error", () => reset(client));
    // Ends follow each other through pipe(); a side that closes takes the other with it.
    client.on("close", () => {
      sockets.delete(client);
      clients.delete(client);
      upstream.destroy();
    });
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    // pipe() pauses the reader while the writer's buffer is full: memory stays bounded.
    client.pipe(upstream);
    upstream.pipe(client);
  }

  function open(): Promise<void> {
    return new Promise((resolve) => {
      const s = createServer({ noDelay: true }, forward);
      s.once("error", (error: NodeJS.ErrnoException) => {
        options.onListenError?.(error);
        resolve();
      });
      s.listen({ host: options.host, port: options.port, exclusive: true }, () => {
        server = s;
        resolve();
      });
    });
  }

  /** Stops listening; the connections it accepted go on (server.close waits for them, we do not). */
  function shut(): void {
    server?.close();
    server = undefined;
  }

  function reconcile(): Promise<void> {
    queue = queue.then(async () => {
      const want = !closed && endpoints.length > 0;
      if (want && !server) await open();
      else if (!want && server) shut();
    });
    return queue;
  }

  return {
    /** The ready endpoints now; resolves once the port listens (some) or is closed (none). */
    setEndpoints(ready: readonly Endpoint[]): Promise<void> {
      endpoints = [...ready];
      return reconcile();
    },
    endpoints: (): readonly Endpoint[] => endpoints,
    listening: () => server !== undefined,
    /** Connections through it that are still open. */
    connections: () => clients.size,
    /** Bytes the proxy holds in its own buffers now, both directions, every connection. */
    buffered: () => [...sockets].reduce((sum, s) => sum + s.writableLength + s.readableLength, 0),
    sent: (): ReadonlyMap<string, number> => sent,
    /** Stops listening and ends every connection (the runner's exit). */
    async close(): Promise<void> {
      closed = true;
      await reconcile();
      for (const socket of sockets) socket.destroy();
    },
  };
}
