// One HTTP probe with the kubelet's rules (kubernetes/kubernetes pkg/probe/http/http.go and
// request.go). Node-only: the kubelet opens a fresh connection per probe, without keep-alive,
// proxy or compression, and fetch() cannot promise that; node:http with `agent: false` can.
import http from "node:http";
import https from "node:https";
import { VERSION } from "../../lib/version.ts";

/** http.go: `maxRespBodyLength = 10 * 1 << 10 // 10KB`; reading stops there, and that is not an error. */
export const MAX_BODY_BYTES = 10 * 1024;
/** http.go RedirectChecker: `if len(via) >= 10 { return errors.New("stopped after 10 redirects") }`. */
export const MAX_REDIRECTS = 10;
export const USER_AGENT = `crashy-probe/${VERSION}`;

/**
 * What the kubelet makes of one probe: "success" (a 2xx, or a 3xx it reports with a warning),
 * "failure" (another status, a refused connection, a timeout), or "unknown" when the probe errored
 * after the headers came (the kubelet throws such a result away: worker.go "Prober error, throw away
 * the result").
 */
export type ProbeResult = "success" | "failure" | "unknown";

export type HttpProbeOutcome = {
  result: ProbeResult;
  /** The kubelet's output: the failure or error message, the warning, or "" for a plain success. */
  output: string;
  /** A success the kubelet reports with a ProbeWarning event: it stopped at a redirect. */
  warning: boolean;
  /** The last status received; 0 when no response came. */
  statusCode: number;
  durationSeconds: number;
  /** The last URL requested, after any same-host redirects. */
  url: string;
  /** At most MAX_BODY_BYTES of the last response, as text. */
  body: string;
  truncated: boolean;
};

export type HttpProbeOptions = {
  url: string | URL;
  timeoutSeconds: number;
  /** Extra request headers; User-Agent and Accept are set unless given here. */
  headers?: Record<string, string>;
  /** Cancels the probe (its result is then "unknown"), as when the prober stops. */
  signal?: AbortSignal;
};

/** A probe bound to its URL and timeout, as the worker calls it. */
export type HttpProber = (signal?: AbortSignal) => Promise<HttpProbeOutcome>;

export function createHttpProber(options: Omit<HttpProbeOptions, "signal">): HttpProber {
  return (signal) => probeHttp({ ...options, signal });
}

type Response = { status: number; location: string | undefined; body: string; truncated: boolean };

class ProbeError extends Error {
  constructor(
    message: string,
    readonly result: ProbeResult,
    readonly statusCode = 0,
  ) {
    super(message);
  }
}

/** Probes `url` once: GET, same-host redirects, the timeout over the whole exchange, 10 KiB of body. */
export async function probeHttp(options: HttpProbeOptions): Promise<HttpProbeOutcome> {
  const began = performance.now();
  const first = new URL(options.url);
  const headers = { "user-agent": USER_AGENT, accept: "*/*", ...lowerKeys(options.headers ?? {}) };
  // Go's Client.Timeout covers redirects and reading the body too: one deadline for the whole probe.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutSeconds * 1000);
  const onCancel = () => deadline.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onCancel, { once: true });
  if (options.signal?.aborted) onCancel();

  let url = first;
  let last: Response | undefined;
  const outcome = (result: ProbeResult, output: string, extra: Partial<HttpProbeOutcome> = {}): HttpProbeOutcome => ({
    result,
    output,
    warning: false,
    statusCode: last?.status ?? 0,
    durationSeconds: (performance.now() - began) / 1000,
    url: url.href,
    body: last?.body ?? "",
    truncated: last?.truncated ?? false,
    ...extra,
  });

  try {
    for (let redirects = 0; ; redirects++) {
      last = await get(url, headers, deadline.signal, () => Boolean(options.signal?.aborted));
      const next = redirectTarget(last, url);
      if (next === undefined) break;
      // http.go RedirectChecker(followNonLocalRedirects=false), as the kubelet builds its prober:
      // a redirect to another host name (the port does not count) is not followed; the 3xx itself
      // becomes the answer, which the kubelet takes as a success with a warning.
      if (next.hostname !== first.hostname) break;
      if (redirects + 1 >= MAX_REDIRECTS) {
        return outcome("failure", `Get ${quote(next)}: stopped after ${MAX_REDIRECTS} redirects`);
      }
      url = next;
    }
    const status = last.status;
    if (status >= 200 && status < 400) {
      // http.go DoHTTPProbe: any 3xx that ends the exchange is probe.Warning, reported as
      // "Probe terminated redirects, Response body: ..." and counted as a success by prober.go.
      if (status >= 300) return outcome("success", `Probe terminated redirects, Response body: ${last.body}`, { warning: true });
      return outcome("success", "");
    }
    // http.go: the user-facing failure message must not contain the response body (issue 99425).
    return outcome("failure", `HTTP probe failed with statuscode: ${status}`);
  } catch (error) {
    if (error instanceof ProbeError) return outcome(error.result, error.message, { statusCode: error.statusCode });
    return outcome("failure", `Get ${quote(url)}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onCancel);
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Where Go's client would go next, or undefined when this response ends the exchange. */
function redirectTarget(response: Response, from: URL): URL | undefined {
  // Go's client returns a redirect without a Location header as the response, not as an error.
  if (!REDIRECT_STATUSES.has(response.status) || response.location === undefined) return undefined;
  try {
    return new URL(response.location, from);
  } catch {
    throw new ProbeError(`Get ${quote(from)}: failed to parse Location header ${JSON.stringify(response.location)}`, "failure", response.status);
  }
}

function get(url: URL, headers: Record<string, string>, deadline: AbortSignal, cancelled: () => boolean): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    let phase: "headers" | "body" = "headers";
    let status = 0;
    const fail = (error: Error) => reject(describeError(error, url, phase, status, deadline.aborted, cancelled()));
    const client = url.protocol === "https:" ? https : http;
    // The kubelet skips certificate checks (http.go: InsecureSkipVerify) and keep-alive.
    const request = client.request(url, { method: "GET", headers, agent: false, rejectUnauthorized: false });
    const onDeadline = () => request.destroy(new Error("deadline"));
    if (deadline.aborted) onDeadline();
    deadline.addEventListener("abort", onDeadline, { once: true });
    request.on("close", () => deadline.removeEventListener("abort", onDeadline));
    request.on("error", fail);
    request.on("response", (response) => {
      phase = "body";
      status = response.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const done = () => {
        const location = response.headers.location;
        resolve({ status, location, body: Buffer.concat(chunks).toString("utf8"), truncated });
      };
      response.on("data", (chunk: Buffer) => {
        if (truncated) return;
        const room = MAX_BODY_BYTES - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          size = MAX_BODY_BYTES;
          truncated = true;
          // Enough read: the rest is never wanted (utilio.ReadAtMost, then Body.Close()). Settle
          // first: destroy() reports "aborted" at once, which must not count as a failed read.
          done();
          response.destroy();
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      response.on("end", done);
      response.on("error", fail);
      response.on("aborted", () => fail(new Error("aborted")));
    });
    request.end();
  });
}

/** Node's errors, worded as Go's client words them in the kubelet's events. */
function describeError(error: Error, url: URL, phase: "headers" | "body", status: number, timedOut: boolean, cancelled: boolean): ProbeError {
  const get = `Get ${quote(url)}`;
  if (cancelled) return new ProbeError(`${get}: context canceled`, "unknown", status);
  if (phase === "body") {
    // http.go returns (probe.Failure, "", err) when the body cannot be read; prober.go turns a
    // non-nil err into "probe errored" and worker.go throws that result away: "unknown" here.
    const reason = timedOut ? "context deadline exceeded (Client.Timeout or context cancellation while reading body)" : "unexpected EOF";
    return new ProbeError(reason, "unknown", status);
  }
  if (timedOut) return new ProbeError(`${get}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, "failure");
  const code = (error as NodeJS.ErrnoException).code;
  const { address, port } = error as { address?: string; port?: number };
  const peer = address !== undefined && port !== undefined ? joinHostPort(address, port) : url.host;
  switch (code) {
    case "ECONNREFUSED":
      return new ProbeError(`${get}: dial tcp ${peer}: connect: connection refused`, "failure");
    case "EHOSTUNREACH":
      return new ProbeError(`${get}: dial tcp ${peer}: connect: no route to host`, "failure");
    case "ENETUNREACH":
      return new ProbeError(`${get}: dial tcp ${peer}: connect: network is unreachable`, "failure");
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ProbeError(`${get}: dial tcp: lookup ${url.hostname}: no such host`, "failure");
    case "ECONNRESET":
      // Node says "socket hang up" when the server closed before answering; Go says EOF.
      return new ProbeError(error.message === "socket hang up" ? `${get}: EOF` : `${get}: read: connection reset by peer`, "failure");
    default:
      return new ProbeError(`${get}: ${error.message}`, "failure");
  }
}

/** Go's %q of a URL, as in `Get "http://127.0.0.1:8080/health": ...`. */
const quote = (url: URL) => JSON.stringify(url.href);

const joinHostPort = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

const lowerKeys = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
