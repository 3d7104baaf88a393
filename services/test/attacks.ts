// Attacks on the app as a client would make them, probes as the kubelet makes them, and the app's
// memory from /proc: for services/test/abuse.test.ts, and runnable by hand to measure:
//   node services/test/attacks.ts <node|deno> [connections]
// Every loop is bounded; every socket opened here is destroyed by the end of the attack.
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { readFileSync } from "node:fs";

export type ProbeResult = { ok: boolean; ms: number; what: string };

/**
 * One probe as the kubelet makes it: a new connection (Go's transport with DisableKeepAlives,
 * pkg/probe/http/http.go, New), GET with kube-probe's User-Agent and Accept (request.go,
 * NewRequestForHTTPGetAction), a 1 s timeout (timeoutSeconds' default), success on 200-399.
 */
export function probe(port: number, path = "/health", timeoutMs = 1_000): Promise<ProbeResult> {
  const began = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean, what: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ok, ms: Math.round(performance.now() - began), what });
    };
    const req = request(
      { host: "127.0.0.1", port, path, agent: false, headers: { "user-agent": "kube-probe/1.33", accept: "*/*", connection: "close" } },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        res.on("end", () => done(status >= 200 && status < 400, String(status)));
        res.on("error", (e) => done(false, e.message));
      },
    );
    const timer = setTimeout(() => done(false, "timeout"), timeoutMs);
    req.on("error", (e) => done(false, (e as NodeJS.ErrnoException).code ?? e.message));
    req.end();
  });
}

/** Probes every `everyMs` until stopped, one at a time, as a prober's period does. */
export function prober(port: number, everyMs = 200) {
  const results: ProbeResult[] = [];
  let stopped = false;
  const running = (async () => {
    // Bounded: at most one probe per period for as long as the attack runs, and the attack is bounded.
    while (!stopped) {
      const began = performance.now();
      results.push(await probe(port));
      await sleep(Math.max(0, everyMs - (performance.now() - began)));
    }
  })();
  return {
    results,
    async stop() {
      stopped = true;
      await running;
      return results;
    },
  };
}

/** The longest run of failed probes in a row: 3 fail a liveness probe with the default failureThreshold. */
export function longestFailureRun(results: ProbeResult[]): number {
  let longest = 0;
  let run = 0;
  for (const r of results) {
    run = r.ok ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return longest;
}

export function summary(results: ProbeResult[]): string {
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const failed = results.filter((r) => !r.ok);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
  const why = [...new Set(failed.map((r) => r.what))].join(",");
  return `${results.length} probes, ${failed.length} failed${why ? ` (${why})` : ""}, longest run ${longestFailureRun(results)}; ms median ${at(0.5)} p95 ${at(0.95)} max ${ms.at(-1) ?? 0}`;
}

/** Resident memory of a process in MiB, from /proc (Linux). */
export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Connections the attacker holds: how many are open, and when the server closed each one. */
export type Held = {
  sockets: Socket[];
  /** Milliseconds from its open to the server's close, for each connection the server closed. */
  closedAfterMs: number[];
  /** Connections that failed to open (refused, reset during the handshake). */
  failed: number;
  open(): number;
  destroy(): void;
};

/**
 * Opens `count` connections, `batch` at a time, and sends `first` on each (nothing: a header-less
 * connection; a request: an idle keep-alive one once answered; a partial request: slowloris).
 */
export async function openConnections(port: number, count: number, first = "", batch = 200): Promise<Held> {
  const held: Held = {
    sockets: [],
    closedAfterMs: [],
    failed: 0,
    open: () => held.sockets.filter((s) => !s.destroyed && !s.readableEnded).length,
    destroy: () => held.sockets.forEach((s) => s.destroy()),
  };
  for (let i = 0; i < count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, () =>
        new Promise<void>((resolve) => {
          const socket = connect({ host: "127.0.0.1", port });
          const opened = performance.now();
          let connected = false;
          socket.on("connect", () => {
            connected = true;
            held.sockets.push(socket);
            if (first) socket.write(first);
            resolve();
          });
          // Answers are read and dropped: a real client's kernel buffer would do as much.
          socket.on("data", () => {});
          const closed = () => {
            if (connected) held.closedAfterMs.push(performance.now() - opened);
            else held.failed++;
            socket.destroy();
            resolve();
          };
          socket.on("end", closed);
          socket.on("error", closed);
          socket.on("close", closed);
        }),
      ),
    );
  }
  // "end" and "close" may both come for one socket: count each once.
  const once = new Set<Socket>();
  held.closedAfterMs.length = 0;
  for (const s of held.sockets) {
    s.removeAllListeners("end").removeAllListeners("close").removeAllListeners("error");
    if (s.destroyed || s.readableEnded) {
      once.add(s);
      held.closedAfterMs.push(0);
      continue;
    }
    const opened = performance.now();
    const closed = () => {
      if (once.has(s)) return;
      once.add(s);
      held.closedAfterMs.push(performance.now() - opened);
      s.destroy();
    };
    s.on("end", closed).on("close", closed).on("error", closed);
  }
  return held;
}

/** Waits until the server has closed every held connection, or `timeoutMs`; resolves with how many are still open. */
export async function shed(held: Held, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (held.open() > 0 && performance.now() < deadline) await sleep(100);
  return held.open();
}

/** Sends one byte of a header every `everyMs` on each held connection until stopped: slowloris. */
export function dribble(held: Held, everyMs = 500) {
  const timer = setInterval(() => {
    for (const s of held.sockets) if (!s.destroyed && s.writable) s.write("X-a: b\r\n");
  }, everyMs);
  return () => clearInterval(timer);
}

/**
 * A request with a huge body the app never reads (`Content-Length: 4000000000`, or chunked when
 * `chunked`), written as fast as the server takes it. Resolves once the server has answered and
 * closed the connection, or after `timeoutMs`: with what was answered and how many bytes of body
 * the server took (the kernel's buffers hold a few MiB of them).
 */
export function hugeBody(port: number, { method = "GET", path = "/health", chunked = false, timeoutMs = 5_000 } = {}) {
  return new Promise<{ answer: string; sentMiB: number; closedAfterMs: number | undefined }>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const began = performance.now();
    let answer = "";
    let sent = 0;
    let closed = false;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const piece = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]) : chunk;
    const finish = () => {
      clearTimeout(timer);
      const wasClosed = closed;
      closed = true;
      socket.destroy();
      resolve({ answer: answer.split("\r\n")[0] ?? "", sentMiB: Math.round(sent / 1024 / 1024), closedAfterMs: wasClosed ? Math.round(performance.now() - began) : undefined });
    };
    const pump = () => {
      // Bounded by the server: write() returns false once its buffers are full; "drain" calls again.
      while (!closed && socket.writable && socket.write(piece)) sent += piece.length;
    };
    socket.on("connect", () => {
      const framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: 4000000000";
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${framing}\r\n\r\n`);
      pump();
    });
    socket.on("drain", () => {
      sent += piece.length;
      pump();
    });
    socket.on("data", (d) => (answer += d.toString("latin1").slice(0, 200)));
    const ended = () => {
      closed = true;
      finish();
    };
    socket.on("end", ended).on("close", ended).on("error", ended);
    const timer = setTimeout(finish, timeoutMs);
  });
}

/** `count` GET /metrics at once, each on a connection of its own; resolves with how many answered 200. */
export async function metricsBurst(port: number, count: number, timeoutMs = 10_000): Promise<number> {
  const answers = await Promise.all(Array.from({ length: count }, () => probe(port, "/metrics", timeoutMs)));
  return answers.filter((a) => a.ok).length;
}

// By hand: node services/test/attacks.ts <node|deno> [connections], with the app built (npm run build).
if (import.meta.url === `file://${process.argv[1]}`) {
  const { freePort, npmScript, start } = await import("../../test/processes.ts");
  const runtime = process.argv[2] ?? "node";
  const count = Number(process.argv[3] ?? 3000);
  const port = await freePort();
  const argv = runtime === "deno" ? npmScript("app:deno") : ["node", "dist/bundle/app.mjs"];
  const app = await start(argv, { PORT: String(port), HOST: "127.0.0.1", CRASH_AFTER: "600" }, /listening on/);
  try {
    await sleep(500);
    const base = rssMiB(app.pid);
    console.log(`${runtime}: RSS at rest ${base} MiB`);

    for (const [name, first] of [["header-less", ""], ["idle keep-alive", "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"], ["slowloris", "GET /health HTTP/1.1\r\n"]] as const) {
      const probes = prober(port);
      const began = performance.now();
      const held = await openConnections(port, count, first);
      const openMs = Math.round(performance.now() - began);
      const stop = name === "slowloris" ? dribble(held) : () => {};
      await sleep(300);
      const rss = rssMiB(app.pid);
      const left = await shed(held, 30_000);
      stop();
      const shedMs = [...held.closedAfterMs].sort((a, b) => a - b);
      console.log(
        `${name} x${count}: opened in ${openMs} ms, ${held.failed} failed to open; RSS ${rss} MiB (+${Math.round(((rss - base) * 1024) / (count / 1000)) / 1000} MiB per 1,000)` +
          `; shed: first ${Math.round(shedMs[0] ?? NaN)} ms, median ${Math.round(shedMs[Math.floor(shedMs.length / 2)] ?? NaN)} ms, last ${Math.round(shedMs.at(-1) ?? NaN)} ms, ${left} still open after 30 s`,
      );
      held.destroy();
      await sleep(1_000);
      console.log(`  probes: ${summary(await probes.stop())}`);
    }

    for (const chunked of [false, true]) {
      const probes = prober(port);
      const r = await hugeBody(port, { chunked });
      console.log(`huge-body GET (${chunked ? "chunked" : "Content-Length: 4000000000"}): answer "${r.answer}", ${r.sentMiB} MiB taken, closed after ${r.closedAfterMs ?? "never (5 s)"} ms; RSS ${rssMiB(app.pid)} MiB`);
      await sleep(1_000);
      console.log(`  probes: ${summary(await probes.stop())}`);
    }
    const post = await hugeBody(port, { method: "POST" });
    console.log(`huge-body POST /health (405): answer "${post.answer}", ${post.sentMiB} MiB taken, closed after ${post.closedAfterMs ?? "never (5 s)"} ms`);

    const probes = prober(port);
    const ok = await metricsBurst(port, 256);
    console.log(`/metrics burst x256: ${ok} answered; RSS ${rssMiB(app.pid)} MiB`);
    await sleep(1_000);
    console.log(`  probes: ${summary(await probes.stop())}`);
  } finally {
    await app.stop("SIGTERM");
  }
}
