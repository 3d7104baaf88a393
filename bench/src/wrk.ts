// A bounded load from wrk (Debian's package): fixed connections, fixed whole-second duration.
import { execFile } from "node:child_process";

export type LoadResult = {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx/3xx answers plus socket errors; a measured row with any is not trusted. */
  errors: number;
};

export const WRK = process.env.WRK ?? "/usr/bin/wrk";

export function runWrk(url: string, opts: { seconds: number; connections: number; threads?: number }): Promise<LoadResult> {
  const args = [
    `-t${opts.threads ?? 1}`,
    `-c${opts.connections}`,
    // wrk takes whole seconds only.
    `-d${Math.max(1, Math.round(opts.seconds))}s`,
    "--timeout", "2s",
    "--latency",
    url,
  ];
  return new Promise((resolve, reject) => {
    // The kill timer is a second bound, should wrk itself hang.
    execFile(WRK, args, { timeout: (opts.seconds + 10) * 1000, encoding: "utf8" }, (error, stdout) => {
      if (error) return reject(new Error(`wrk ${args.join(" ")}: ${error.message}\n${stdout}`));
      try {
        resolve(parseWrk(stdout));
      } catch (e) {
        reject(e);
      }
    });
  });
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

export function parseWrk(text: string): LoadResult {
  const done = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(text);
  if (!done) throw new Error(`unexpected wrk output:\n${text}`);
  const requests = Number(done[1]);
  const seconds = (Number(done[2]) * UNIT_MS[done[3]!]!) / 1000;
  const latency = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)$`, "m").exec(text);
    return m ? Number(m[1]) * UNIT_MS[m[2]!]! : Number.NaN;
  };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requests,
    seconds,
    requestsPerSecond: requests / seconds,
    p50Ms: latency("50"),
    p99Ms: latency("99"),
    errors: non2xx + socketErrors,
  };
}
