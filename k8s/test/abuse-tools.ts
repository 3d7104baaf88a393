// The abuse suite's programs, each run by k8s/test/abuse.test.ts as its own process inside a
// container's network namespace (`nsenter -n -t <pid> node k8s/test/abuse-tools.ts <mode> ...`), so
// that their sockets are the container's loopback and their CPU and memory are not the container's.
//   probe <port> <path> <seconds>         the kubelet's probe: every 1 s a new connection, GET, 1 s
//                                          timeout; one JSON line per probe
//   flood <port> <count> <seconds>         <count> idle connections, held <seconds>
//   slowloris <port> <count> <seconds>     <count> requests whose headers never end: a header line
//                                          every 2 s, for <seconds>
//   hugebody <port> <count> <seconds>      <count> GET /health with Content-Length: 4000000000,
//                                          the body sent at wire speed for <seconds>
//   hostile <port> <seconds>               a hostile target on <port> for the sidecar: /health is a
//                                          302 with a 10 KiB body of control bytes, /metrics is
//                                          4 MiB of ~1M samples; 8 loops GET the sidecar's
//                                          /api/status (port 9102) meanwhile
// Every loop is bounded by <seconds>; each attack prints one JSON line of what it did and exits.
import { request, createServer } from "node:http";
import { connect, type Socket } from "node:net";

const HOST = "127.0.0.1";
const [mode, ...args] = process.argv.slice(2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const print = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

/** One probe as the kubelet's http prober makes it: fresh connection, GET, 1 s for the whole answer. */
function probeOnce(port: number, path: string): Promise<{ at: number; ms: number; status: number; error?: string }> {
  const at = Date.now();
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (status: number, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ at, ms: Math.round(performance.now() - t0), status, ...(error ? { error } : {}) });
    };
    const req = request({ host: HOST, port, path, agent: false, headers: { "user-agent": "kube-probe/1.33" } }, (res) => {
      res.resume();
      res.on("end", () => finish(res.statusCode ?? 0));
      res.on("error", (e) => finish(0, e.message));
    });
    const timer = setTimeout(() => finish(0, "timeout"), 1_000);
    req.on("error", (e) => finish(0, e.message));
    req.end();
  });
}

/** Opens `count` connections, at most 256 connecting at once; the sockets that connected. */
async function openMany(port: number, count: number, onConnect: (s: Socket) => void): Promise<{ sockets: Socket[]; failed: number }> {
  const sockets: Socket[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await new Promise<void>((resolve) => {
        const s = connect({ host: HOST, port });
        s.setTimeout(5_000, () => s.destroy());
        s.once("connect", () => {
          s.setTimeout(0);
          sockets.push(s);
          onConnect(s);
          resolve();
        });
        s.once("error", () => {
          failed++;
          resolve();
        });
        s.once("close", () => resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: 256 }, worker));
  return { sockets, failed };
}

async function hold(sockets: Socket[], failed: number, endAt: number, started: number, tick?: (s: Socket) => void) {
  let closedByServer = 0;
  for (const s of sockets) {
    s.on("error", () => {});
    s.on("close", () => closedByServer++);
    s.resume();
  }
  while (Date.now() < endAt) {
    await sleep(Math.min(2_000, Math.max(0, endAt - Date.now())));
    if (tick) for (const s of sockets) if (!s.destroyed) tick(s);
  }
  const stillOpen = sockets.filter((s) => !s.destroyed).length;
  const closedBefore = closedByServer;
  for (const s of sockets) s.destroy();
  print({ mode, connected: sockets.length, failed, closedByServer: closedBefore, stillOpen, ms: Date.now() - started });
}

async function main() {
  const port = Number(args[0]);
  if (mode === "probe") {
    const [path = "/health", seconds = "60"] = args.slice(1);
    const end = Date.now() + Number(seconds) * 1000;
    // Period 1 s from the start of one probe to the next, as the kubelet's worker ticks.
    for (let next = Date.now(); Date.now() < end; next += 1_000) {
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      void probeOnce(port, path).then(print);
    }
    await sleep(1_100);
    return;
  }
  if (mode === "hostile") {
    const seconds = Number(args[1]);
    const control = Buffer.alloc(10 * 1024, 0);
    for (let i = 0; i < control.length; i++) control[i] = i % 32; // C0 control bytes, NUL to US
    // 4 MiB of one-sample lines, a million of them: "a 1\n" is 4 bytes.
    const line = "a 1\n";
    const metrics = Buffer.from(line.repeat(Math.floor((4 * 1024 * 1024 - 64) / line.length)));
    const server = createServer((req, res) => {
      if (req.url === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4", "content-length": metrics.length });
        res.end(metrics);
      } else {
        res.writeHead(302, { location: "/", "content-type": "text/html", "content-length": control.length });
        res.end(control);
      }
    });
    await new Promise<void>((r) => server.listen(port, HOST, r));
    const end = Date.now() + seconds * 1000;
    let polls = 0;
    let largest = 0;
    const poll = async () => {
      while (Date.now() < end) {
        await sleep(250);
        const r = await fetch("http://127.0.0.1:9102/api/status", { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
        const body = await r?.arrayBuffer().catch(() => undefined);
        polls++;
        largest = Math.max(largest, body?.byteLength ?? 0);
      }
    };
    await Promise.all(Array.from({ length: 8 }, poll));
    server.closeAllConnections();
    server.close();
    print({ mode, polls, largestStatusBytes: largest, metricsBytes: metrics.length });
    return;
  }
  const count = Number(args[1]);
  const seconds = Number(args[2]);
  const started = Date.now();
  const endAt = started + seconds * 1000;
  if (mode === "flood") {
    const { sockets, failed } = await openMany(port, count, () => {});
    await hold(sockets, failed, endAt, started);
  } else if (mode === "slowloris") {
    const { sockets, failed } = await openMany(port, count, (s) => s.write(`GET /health HTTP/1.1\r\nHost: ${HOST}\r\n`));
    let n = 0;
    await hold(sockets, failed, endAt, started, (s) => s.write(`X-${n++ % 1000}: a\r\n`));
  } else if (mode === "hugebody") {
    const chunk = Buffer.alloc(64 * 1024, 97);
    let sent = 0;
    const { sockets, failed } = await openMany(port, count, (s) => {
      s.write(`GET /health HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 4000000000\r\n\r\n`);
      const pump = () => {
        while (Date.now() < endAt && !s.destroyed) {
          sent += chunk.length;
          if (!s.write(chunk)) return void s.once("drain", pump);
        }
      };
      pump();
    });
    await hold(sockets, failed, endAt, started);
    print({ mode, sentMiB: Math.round(sent / 2 ** 20) });
  } else {
    console.error(`abuse-tools: unknown mode ${mode}`);
    process.exit(2);
  }
}

await main();
process.exit(0);
