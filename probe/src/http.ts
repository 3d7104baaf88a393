// One HTTP probe with the kubelet's rules: kubernetes/kubernetes v1.33 pkg/probe/http (request.go
// builds the request, http.go sends it and judges the answer), over the Go net/http client rules it
// inherits (client.go: redirects, Referer, the timeout; transport.go: responses; request.go: the
// wire). Node-only: the kubelet opens a fresh connection per probe, without keep-alive, proxy or
// compression, and fetch() cannot promise that; node:http with `agent: false` can.
import type { ClientRequest, OutgoingHttpHeaders } from "node:http";
import type { RequestOptions } from "node:https";
import { http, https } from "../../lib/node-http.ts";
import { isIP, type Socket } from "node:net";
import type { Readable } from "node:stream";
import { PROBE_USER_AGENT } from "./kube.ts";
import { connErrorText, dialErrorText, joinHostPort } from "./tcp.ts";
import type { HttpGetAction, ProbeOutcome, ProbeResult } from "./types.ts";

export type { ProbeResult } from "./types.ts";

/** http.go: `maxRespBodyLength = 10 * 1 << 10 // 10KB`; reading stops there, and that is not an error. */
export const MAX_BODY_BYTES = 10 * 1024;
/** http.go RedirectChecker: `if len(via) >= 10 { return errors.New("stopped after 10 redirects") }`. */
export const MAX_REDIRECTS = 10;
/** client.go Client.do: `const maxBodySlurpSize = 2 << 10`, what is read of a followed redirect's body. */
export const MAX_REDIRECT_BODY_BYTES = 2 << 10;
/** transport.go maxHeaderResponseSize: `10 << 20`, Go's default; Node's own limit is 16 KiB. */
const MAX_HEADER_BYTES = 10 << 20;

export type HttpProbeOutcome = ProbeOutcome & {
  warning: boolean;
  /** The last status received; 0 when no response came. */
  statusCode: number;
  durationSeconds: number;
  /** The last URL requested, after any same-host redirects, as Go prints it. */
  url: string;
  /** At most MAX_BODY_BYTES of the last response, as text. */
  body: string;
  /** Reading stopped at MAX_BODY_BYTES (utilio.ErrLimitReached), whether or not more was coming. */
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

/** A probe bound to its target and timeout, as the worker calls it. */
export type HttpProber = (signal?: AbortSignal) => Promise<HttpProbeOutcome>;

/** The kubelet's HTTP prober for one httpGet action: what handlers.ts maps "httpGet" to. */
export function createHttpGetProber(action: HttpGetAction, timeoutSeconds: number): (signal: AbortSignal) => Promise<HttpProbeOutcome> {
  return (signal) => probeHttpGet(action, timeoutSeconds, signal);
}

/** createHttpGetProber for a URL (the sidecar's LIVENESS_PROBE_URL and the like). */
export function createHttpProber(options: Omit<HttpProbeOptions, "signal">): HttpProber {
  const action = httpGetActionFromUrl(options.url, options.headers);
  return (signal) => probeHttpGet(action, options.timeoutSeconds, signal);
}

/** Probes `url` once: probeHttpGet with the action the URL stands for. */
export function probeHttp(options: HttpProbeOptions): Promise<HttpProbeOutcome> {
  return probeHttpGet(httpGetActionFromUrl(options.url, options.headers), options.timeoutSeconds, options.signal);
}

/** The httpGet action a URL stands for: scheme, host, port (80 or 443 by default), path and query. */
export function httpGetActionFromUrl(url: string | URL, headers: Record<string, string> | HttpGetAction["httpHeaders"] = []): HttpGetAction {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`expected an http:// or https:// URL, got ${JSON.stringify(String(url))}`);
  }
  const scheme = parsed.protocol === "https:" ? "HTTPS" : "HTTP";
  return {
    kind: "httpGet",
    scheme,
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port ? Number(parsed.port) : scheme === "HTTPS" ? 443 : 80,
    path: parsed.pathname + parsed.search,
    httpHeaders: Array.isArray(headers) ? headers : Object.entries(headers).map(([name, value]) => ({ name, value })),
  };
}

/** An error before the response headers: client.Do's *url.Error, a failure whose output is its text. */
class HeadError extends Error {
  constructor(
    message: string,
    readonly result: ProbeResult = "failure",
  ) {
    super(message);
  }
}

/**
 * An error after the headers, reading the body: http.go returns (probe.Failure, "", err), prober.go
 * turns the non-nil err into "probe errored" and worker.go throws the result away: "unknown".
 */
class BodyError extends Error {}

/** What ends a probe early: its timeout (Client.Timeout), or the caller's signal (context canceled). */
type Stop = { signal: AbortSignal; reason(): "timeout" | "cancel" | undefined };

/**
 * Probes once: GET with the kubelet's headers, same-host redirects, one deadline over the whole
 * exchange (Go's Client.Timeout covers redirects and the body too), 10 KiB of body. Always settles
 * by the deadline, whatever the target does.
 */
export async function probeHttpGet(action: HttpGetAction, timeoutSeconds: number, signal?: AbortSignal): Promise<HttpProbeOutcome> {
  const began = performance.now();
  const stopper = new AbortController();
  let stopped: "timeout" | "cancel" | undefined;
  const stopFor = (why: "timeout" | "cancel") => {
    stopped ??= why;
    stopper.abort();
  };
  const timer = setTimeout(() => stopFor("timeout"), timeoutSeconds * 1000);
  const onCancel = () => stopFor("cancel");
  signal?.addEventListener("abort", onCancel, { once: true });
  if (signal?.aborted) onCancel();
  const stop: Stop = { signal: stopper.signal, reason: () => stopped };

  const first = formatTarget(action);
  const headers = probeHeaders(action.httpHeaders);
  let target = first;
  let response: Response | undefined;
  let status = 0;
  let body: Body = { bytes: Buffer.alloc(0), limitReached: false };
  const outcome = (result: ProbeResult, output: string, warning = false): HttpProbeOutcome => ({
    result,
    output,
    warning,
    statusCode: status,
    durationSeconds: (performance.now() - began) / 1000,
    url: target.href,
    body: body.bytes.toString("utf8"),
    truncated: body.limitReached,
  });

  try {
    const invalid = invalidHeader(headers);
    if (invalid) return outcome("failure", `Get ${goQuote(first.href)}: net/http: invalid header ${invalid}`);
    // request.go newProbeRequest: `req.Host = headers.Get("Host")`.
    let host = headers.get("Host")?.[0] ?? "";
    let referer: string | undefined;
    for (let sent = 1; ; sent++) {
      response = await send(target, wireHeaders(headers, host || target.host, referer), stop);
      status = response.status;
      const location = redirectLocation(response);
      if (location === undefined) break;
      const next = resolveLocation(location, target);
      // http.go RedirectChecker(followNonLocalRedirects=false), as the kubelet builds its prober: a
      // redirect to another host name (the port does not count) is not followed; the 3xx itself
      // becomes the answer, which the kubelet takes as a success with a warning.
      if (next.hostname !== first.hostname) break;
      // client.go Client.do: the previous body is read up to 2 KiB, errors ignored, then closed;
      // when the checker refuses, the error names the Location as written (`ue.URL = loc`).
      await drain(response);
      if (sent >= MAX_REDIRECTS) return outcome("failure", `Get ${goQuote(location)}: stopped after ${MAX_REDIRECTS} redirects`);
      // client.go Client.do: a custom Host survives a relative redirect only (issue 22233)...
      host = host !== "" && host !== target.host && !hasScheme(location) ? host : "";
      // ...and the new request carries the previous URL as its Referer, unless https -> http
      // (refererForURL); a non-empty Referer among the probe's own headers is copied instead.
      referer = headers.get("Referer")?.[0] || (target.scheme === "https" && next.scheme === "http") ? undefined : target.href;
      target = next;
    }
    // http.go DoHTTPProbe: `utilio.ReadAtMost(res.Body, maxRespBodyLength)`; ErrLimitReached is
    // "Non fatal body truncation": the status alone decides, with what was read.
    body = await response.read(MAX_BODY_BYTES);
    if (status >= 200 && status < 400) {
      // http.go DoHTTPProbe: a 3xx that ends the exchange is probe.Warning, reported as "Probe
      // terminated redirects, Response body: ..." and counted as a success by prober.go.
      if (status >= 300) return outcome("success", `Probe terminated redirects, Response body: ${body.bytes.toString("utf8")}`, true);
      return outcome("success", "");
    }
    // http.go: the user-facing failure message must not contain the response body (issue 99425).
    return outcome("failure", `HTTP probe failed with statuscode: ${status}`);
  } catch (error) {
    if (error instanceof HeadError) return outcome(error.result, error.message);
    if (error instanceof BodyError) return outcome("unknown", error.message);
    return outcome("failure", `Get ${goQuote(target.href)}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onCancel);
    response?.close();
  }
}

// ---- The request: request.go (kubelet) and Go's URL and header rules ----

/** Where one request goes, in Go's terms. */
type Target = {
  /** URL.String(): what errors quote and Referer carries. */
  href: string;
  scheme: string;
  /** URL.Host as written, host[:port]: the Host header unless one is given. */
  host: string;
  /** URL.Hostname(), what the redirect checker compares. */
  hostname: string;
  /** Where to connect. */
  connectHost: string;
  port: number;
  /** URL.RequestURI(): the request line's target. */
  requestUri: string;
  /** Set when Go's request has no host to send to ("http: no Host in request URL"). */
  noHost?: boolean;
};

/**
 * request.go GetProbeUrl and formatURL: `u, err := url.Parse(path)` (on error, the path as is),
 * then the scheme (lower-cased) and `net.JoinHostPort(host, port)` replace whatever the path held;
 * newProbeRequest parses u.String() again. So "health" becomes "/health", a query is kept as
 * written, "%2F" is kept, "a b" becomes "a%20b", and dot segments are not resolved.
 */
export function formatTarget(action: Pick<HttpGetAction, "scheme" | "host" | "port" | "path">): Target {
  const scheme = action.scheme.toLowerCase();
  const host = joinHostPort(action.host, action.port);
  const base = { scheme, host, hostname: action.host, connectHost: action.host, port: action.port };
  const parts = goParsePath(action.path);
  if (parts === undefined) {
    // url.Parse failed: formatURL keeps `&url.URL{Path: path}`, escaped whole.
    const path = slashed(goEscape(Buffer.from(action.path, "utf8")));
    return { ...base, href: `${scheme}://${host}${path}`, requestUri: path || "/" };
  }
  if (parts.opaque !== undefined) {
    // "name:rest" parses as a scheme and an opaque part; the String() of that URL has no host left.
    const href = `${scheme}:${parts.opaque}${parts.query === undefined ? "" : `?${parts.query}`}`;
    return { ...base, href, requestUri: "/", noHost: true };
  }
  const path = slashed(parts.path);
  const query = parts.query === undefined ? "" : `?${parts.query}`;
  const fragment = parts.fragment === undefined ? "" : `#${parts.fragment}`;
  return { ...base, href: `${scheme}://${host}${path}${query}${fragment}`, requestUri: `${path || "/"}${nodeSafeQuery(query)}` };
}

/** URL.String() puts a "/" before a relative path when there is a host. */
const slashed = (path: string) => (path !== "" && !path.startsWith("/") ? `/${path}` : path);

/** The parts of `path` as Go's url.Parse splits them, the path as EscapedPath() gives it; undefined when Parse fails. */
function goParsePath(raw: string): { path: string; query?: string; fragment?: string; opaque?: string } | undefined {
  // url.Parse: "net/url: invalid control character in URL".
  if (/[\x00-\x1f\x7f]/.test(raw)) return undefined;
  const hash = raw.indexOf("#");
  const fragment = hash < 0 ? undefined : raw.slice(hash + 1);
  if (fragment !== undefined && goUnescape(fragment) === undefined) return undefined;
  let rest = hash < 0 ? raw : raw.slice(0, hash);
  // getScheme: a letter, then letters, digits, "+", "-" or ".", then ":"; a ":" first is an error.
  if (rest.startsWith(":")) return undefined;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  let query: string | undefined;
  const question = rest.indexOf("?");
  if (question >= 0) {
    query = rest.slice(question + 1);
    rest = rest.slice(0, question);
  }
  if (!rest.startsWith("/")) {
    if (scheme) return { path: "", query, fragment, opaque: rest };
    // "first path segment in URL cannot contain colon"
    if (rest.split("/")[0]!.includes(":")) return undefined;
  }
  // "//authority/path": the authority is parsed, then replaced by the probe's host and port.
  if ((scheme || !rest.startsWith("///")) && rest.startsWith("//")) {
    const end = rest.indexOf("/", 2);
    rest = end < 0 ? "" : rest.slice(end);
  }
  const unescaped = goUnescape(rest);
  if (unescaped === undefined) return undefined;
  // URL.EscapedPath: the path as written when it is validly encoded, else escape(Path).
  return { path: validEncoded(rest) ? rest : goEscape(unescaped), query, fragment };
}

/** url.unescape(s, encodePath): every "%" must start two hex digits. */
function goUnescape(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, "utf8");
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x25) {
      out.push(bytes[i]!);
      continue;
    }
    const hex = bytes.subarray(i + 1, i + 3).toString("latin1");
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    out.push(parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(out);
}

/** url.shouldEscape(c, encodePath) is false for these bytes. */
const PATH_SAFE = /^[A-Za-z0-9\-_.~$&+,/:;=@]$/;

/** url.escape(s, encodePath), with Go's upper-case hex. */
function goEscape(bytes: Buffer): string {
  let out = "";
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && PATH_SAFE.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** url.validEncoded(s, encodePath): sub-delims, ":", "@", "[", "]", "%" and unescaped safe bytes. */
const validEncoded = (text: string) => /^[A-Za-z0-9\-_.~$&+,/:;=@!'()*[\]%]*$/.test(text);

/**
 * Go sends a query as written (RawQuery); Node refuses a request target outside "!".."ÿ", so the
 * bytes it would refuse go percent-encoded instead.
 */
const nodeSafeQuery = (query: string) =>
  query.replace(/[^\x21-\x7e]/gu, (char) => [...Buffer.from(char, "utf8")].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`).join(""));

/** http.Header: canonical names, each with its values in order. */
type Header = Map<string, string[]>;

/**
 * request.go v1HeaderToHTTPHeader (`headers.Add(name, value)`, so "host" and "Host" are one
 * header) and newProbeRequest: User-Agent kube-probe/1.33 and an Accept of any type unless
 * given; an Accept given empty removes Accept.
 */
export function probeHeaders(httpHeaders: HttpGetAction["httpHeaders"]): Header {
  const headers: Header = new Map();
  for (const { name, value } of httpHeaders) {
    const key = canonicalHeaderKey(name);
    headers.set(key, [...(headers.get(key) ?? []), value]);
  }
  if (!headers.has("User-Agent")) headers.set("User-Agent", [PROBE_USER_AGENT]);
  if (!headers.has("Accept")) headers.set("Accept", ["*/*"]);
  else if (headers.get("Accept")![0] === "") headers.delete("Accept");
  return headers;
}

/** httpguts token characters, what a header name may hold. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** textproto.CanonicalMIMEHeaderKey: "x-custom-header" -> "X-Custom-Header"; a name with other bytes stays as it is. */
export function canonicalHeaderKey(name: string): string {
  if (!TOKEN.test(name)) return name;
  let upper = true;
  let out = "";
  for (const char of name) {
    out += upper ? char.toUpperCase() : char.toLowerCase();
    upper = char === "-";
  }
  return out;
}

/** transport.go validateHeaders: the first bad name or value, in Go's words; undefined when all are good. */
function invalidHeader(headers: Header): string | undefined {
  for (const [key, values] of [...headers].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!TOKEN.test(key)) return `field name ${goQuote(key)}`;
    // httpguts.ValidHeaderFieldValue: no control bytes but tab.
    if (values.some((value) => /[\x00-\x08\x0a-\x1f\x7f]/.test(value))) return `field value for ${goQuote(key)}`;
  }
  return undefined;
}

/** request.go Request.write leaves these to itself: Host from req.Host, User-Agent first of all, the rest unused by a GET. */
const WRITTEN_APART = new Set(["Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer"]);

/**
 * The header lines Go writes: Host, then User-Agent (its first value only, and none when it is
 * empty), then the others sorted by name with every value; Node adds "Connection: close", as the
 * kubelet's DisableKeepAlives transport does. Values go out as their UTF-8 bytes, as Go sends them.
 */
function wireHeaders(headers: Header, host: string, referer: string | undefined): OutgoingHttpHeaders {
  const wire: OutgoingHttpHeaders = { Host: host };
  const agent = headers.get("User-Agent")?.[0];
  if (agent) wire["User-Agent"] = latin1(agent);
  const all = new Map(headers);
  if (referer !== undefined) all.set("Referer", [referer]);
  for (const key of [...all.keys()].sort()) {
    if (!WRITTEN_APART.has(key)) wire[key] = all.get(key)!.map(latin1);
  }
  return wire;
}

const latin1 = (text: string) => Buffer.from(text, "utf8").toString("latin1");

// ---- Redirects: client.go Client.do ----

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** The Location Go's client would follow, or undefined when this response ends the exchange. */
function redirectLocation(response: Response): string | undefined {
  // Go's client returns a redirect without a Location header as the response, not as an error.
  if (!REDIRECT_STATUSES.has(response.status) || !response.location) return undefined;
  return response.location;
}

const hasScheme = (location: string) => /^[A-Za-z][A-Za-z0-9+.-]*:/.test(location);

/** `req.URL.Parse(loc)`: the next target, named as Go names it. */
function resolveLocation(location: string, from: Target): Target {
  let url: URL;
  try {
    url = new URL(location, from.href);
  } catch {
    throw new HeadError(`Get ${goQuote(from.href)}: failed to parse Location header ${goQuote(location)}`);
  }
  url.username = "";
  url.password = "";
  // URL.Host as Go keeps it: from the Location's authority when it has one, else the base's.
  const authority = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/([^/?#]*)/.exec(location)?.[1];
  const host = authority === undefined ? from.host : authority.slice(authority.lastIndexOf("@") + 1);
  const scheme = url.protocol.slice(0, -1);
  const connectHost = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port ? Number(url.port) : scheme === "https" ? 443 : 80;
  return { href: url.href, scheme, host, hostname: goHostname(host), connectHost, port, requestUri: `${url.pathname || "/"}${url.search}` };
}

/** URL.Hostname(): the host without its port, an IPv6 address without brackets. */
function goHostname(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  const colon = host.indexOf(":");
  return colon < 0 ? host : host.slice(0, colon);
}

/** client.go Client.do: read the redirect's body up to 2 KiB when it is short or unsized, errors ignored, then close it. */
async function drain(response: Response): Promise<void> {
  if (response.contentLength === -1 || response.contentLength <= MAX_REDIRECT_BODY_BYTES) {
    await response.read(MAX_REDIRECT_BODY_BYTES).catch(() => undefined);
  }
  response.close();
}

// ---- One exchange: transport.go ----

type Body = { bytes: Buffer; limitReached: boolean };

/** A response whose headers came; its body is read on demand. */
type Response = {
  status: number;
  location: string | undefined;
  /** Content-Length, or -1 when unknown, as Go's Response.ContentLength. */
  contentLength: number;
  /** utilio.ReadAtMost: up to `limit` bytes, until the end, an error or the stop. */
  read(limit: number): Promise<Body>;
  close(): void;
};

/** Sends one GET and resolves once its response headers are in; settles by the stop at the latest. */
function send(target: Target, headers: OutgoingHttpHeaders, stop: Stop): Promise<Response> {
  const get = `Get ${goQuote(target.href)}`;
  return new Promise<Response>((resolve, reject) => {
    // client.go: a request sent with a spent deadline (after a slow redirect body) fails at once.
    if (stop.signal.aborted) return reject(stoppedBeforeHeaders(get, stop));
    // transport.go roundTrip.
    if (target.noHost) return reject(new HeadError(`${get}: http: no Host in request URL`));
    if (target.scheme !== "http" && target.scheme !== "https") {
      return reject(new HeadError(`${get}: unsupported protocol scheme ${goQuote(target.scheme)}`));
    }

    let phase: "headers" | "body" | "done" = "headers";
    let socket: Socket | undefined;
    let peer: { local: string; remote: string } | undefined;
    let upgraded: Socket | undefined;
    const body = createBodySink();
    let request: ClientRequest;

    const cleanup = () => {
      phase = "done";
      stop.signal.removeEventListener("abort", onStop);
      request.destroy();
      upgraded?.destroy();
    };
    const failHeaders = (error: HeadError) => {
      if (phase !== "headers") return;
      cleanup();
      reject(error);
    };
    const onStop = () => {
      if (phase === "headers") return failHeaders(stoppedBeforeHeaders(get, stop));
      // client.go cancelTimerBody: a body read cut by Client.Timeout says so; a cancel is just that.
      body.fail(stop.reason() === "cancel" ? "context canceled" : "context deadline exceeded (Client.Timeout or context cancellation while reading body)");
      request.destroy();
      upgraded?.destroy();
    };
    const respond = (response: Omit<Response, "read" | "close">) => {
      phase = "body";
      resolve({ ...response, read: body.read, close: cleanup });
    };

    try {
      const options: RequestOptions = {
        host: target.connectHost,
        port: target.port,
        path: target.requestUri,
        method: "GET",
        headers,
        setHost: false,
        agent: false,
        maxHeaderSize: MAX_HEADER_BYTES,
        // http.go New: `InsecureSkipVerify: true`. Go names the URL's host to TLS (never the Host
        // header), and crypto/tls sends no server name for an IP address.
        rejectUnauthorized: false,
        servername: isIP(target.connectHost) ? "" : target.connectHost,
      };
      request = target.scheme === "https" ? https.request(options) : http.request(options);
    } catch (error) {
      return reject(new HeadError(`${get}: ${(error as Error).message}`));
    }
    stop.signal.addEventListener("abort", onStop, { once: true });

    request.on("socket", (opened) => {
      socket = opened;
      opened.once("connect", () => {
        peer = { local: joinHostPort(opened.localAddress ?? "", opened.localPort ?? 0), remote: joinHostPort(opened.remoteAddress ?? "", opened.remotePort ?? 0) };
      });
    });
    request.on("error", (error: NodeJS.ErrnoException) => {
      if (phase === "headers") return failHeaders(new HeadError(`${get}: ${headersErrorText(error, target, socket, peer)}`));
      body.fail(bodyErrorText(error, peer));
    });
    request.on("response", (response) => {
      if (phase !== "headers") return void response.destroy();
      body.attach(response);
      response.on("error", () => body.fail("unexpected EOF"));
      response.on("aborted", () => body.fail("unexpected EOF"));
      const length = Number(response.headers["content-length"] ?? -1);
      respond({ status: response.statusCode ?? 0, location: response.headers.location, contentLength: Number.isInteger(length) ? length : -1 });
    });
    // transport.go readResponse: a 101 with Upgrade headers is the final answer (issue 26161), and
    // its body is the connection itself (newReadWriteCloserBody). Node hands it over as 'upgrade',
    // never as 'response'. Go sets no deadline on that body (its caller owns the connection); here
    // the probe's deadline ends the read all the same.
    request.on("upgrade", (response, connection: Socket, head: Buffer) => {
      if (phase !== "headers") return void connection.destroy();
      upgraded = connection;
      body.attach(connection, head);
      connection.on("error", (error: NodeJS.ErrnoException) => body.fail(bodyErrorText(error, peer)));
      connection.on("close", () => body.end());
      respond({ status: response.statusCode ?? 101, location: undefined, contentLength: -1 });
    });
    // Whatever Node leaves unsaid, a request closed before its headers is a server that hung up.
    request.on("close", () => setImmediate(() => failHeaders(new HeadError(`${get}: EOF`))));
    request.end();
  });
}

/** Client.Do's error when the deadline or the caller ends the wait for headers. */
function stoppedBeforeHeaders(get: string, stop: Stop): HeadError {
  if (stop.reason() === "cancel") return new HeadError(`${get}: context canceled`, "unknown");
  return new HeadError(`${get}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
}

/** transport.go's words for a request that got no response: the text after `Get "url": `. */
function headersErrorText(error: NodeJS.ErrnoException, target: Target, socket: Socket | undefined, peer: { local: string; remote: string } | undefined): string {
  // transport.go mapRoundTripError: once the response began, the connection is "broken".
  const broken = (socket?.bytesRead ?? 0) > 0 ? "net/http: HTTP/1.x transport connection broken: " : "";
  if (error.code?.startsWith("HPE_")) return `net/http: HTTP/1.x transport connection broken: ${malformedText(error as ParseError)}`;
  // client.go send: a TLS client that met a plain-HTTP server (ErrSchemeMismatch).
  if (error.code === "EPROTO" && /wrong version number/.test(error.message)) return "http: server gave HTTP response to HTTPS client";
  // Node's "socket hang up": closed before any answer is Go's io.EOF (its 1-byte peek failed);
  // closed halfway through the head is ReadResponse's io.ErrUnexpectedEOF.
  if (error.message === "socket hang up") return broken ? `${broken}unexpected EOF` : "EOF";
  if (peer && (error.syscall === "read" || error.syscall === "write")) return `${broken}${connErrorText(error.syscall, peer.local, peer.remote, error)}`;
  if (!peer) return dialErrorText(error, target.connectHost, target.port);
  return error.message;
}

/** A read error after the headers; the kubelet's output is err.Error(). */
function bodyErrorText(error: NodeJS.ErrnoException, peer: { local: string; remote: string } | undefined): string {
  if (peer && (error.syscall === "read" || error.syscall === "write") && error.code === "ECONNRESET") {
    return connErrorText(error.syscall, peer.local, peer.remote, error);
  }
  return "unexpected EOF";
}

type ParseError = { rawPacket?: Buffer; bytesParsed?: number; reason?: string; message: string };

/**
 * Go's ReadResponse words for what Node's parser refused, from the line it stopped on: the status
 * line ("malformed HTTP response", "malformed HTTP status code", "malformed HTTP version", each
 * with the part %q-quoted) or a header line ("malformed MIME header line: ..."). Node stops at the
 * first bad byte, where Go would wait for the end of the line; both end the same once it comes.
 */
function malformedText(error: ParseError): string {
  const raw = error.rawPacket ?? Buffer.alloc(0);
  const at = Math.min(error.bytesParsed ?? 0, raw.length);
  const start = at > 0 ? raw.lastIndexOf(0x0a, at - 1) + 1 : 0;
  let end = raw.indexOf(0x0a, start);
  if (end < 0) end = raw.length;
  else if (end > start && raw[end - 1] === 0x0d) end--;
  const line = raw.subarray(start, end);
  const before = raw.subarray(0, start).toString("latin1");
  if (start === 0 || /\r?\n\r?\n$/.test(before)) {
    const text = line.toString("latin1");
    const space = text.indexOf(" ");
    if (space < 0) return `malformed HTTP response ${goQuote(line)}`;
    const proto = text.slice(0, space);
    const code = text.slice(space + 1).replace(/^ +/, "").split(" ")[0]!;
    if (code.length !== 3 || !/^[+-]?\d+$/.test(code) || Number(code) < 0) return `malformed HTTP status code ${goQuote(Buffer.from(code, "latin1"))}`;
    if (!/^HTTP\/\d\.\d$/.test(proto)) return `malformed HTTP version ${goQuote(Buffer.from(proto, "latin1"))}`;
    return `malformed HTTP response ${goQuote(line)}`;
  }
  return `malformed MIME header line: ${line.toString("utf8")}`;
}

/** Holds what came of a body, up to MAX_BODY_BYTES, until read() asks for it. */
function createBodySink() {
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  let error: string | undefined;
  let wake: (() => void) | undefined;
  const add = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
  };
  const end = () => {
    if (error === undefined) ended = true;
    wake?.();
  };
  const fail = (message: string) => {
    if (!ended && error === undefined) error = message;
    wake?.();
  };
  const attach = (stream: Readable, first?: Buffer) => {
    if (first?.length) add(first);
    stream.on("data", (chunk: Buffer) => {
      add(chunk);
      // Enough for any read: the rest is never wanted (ReadAtMost, then Body.Close()).
      if (size >= MAX_BODY_BYTES) stream.pause();
      wake?.();
    });
    stream.on("end", end);
  };
  const read = (limit: number) =>
    new Promise<Body>((resolve, reject) => {
      const check = () => {
        wake = undefined;
        // utilio.ReadAtMost: an io.LimitedReader stops at the limit without waiting for more.
        if (size >= limit) resolve({ bytes: Buffer.concat(chunks).subarray(0, limit), limitReached: true });
        else if (error !== undefined) reject(new BodyError(error));
        else if (ended) resolve({ bytes: Buffer.concat(chunks), limitReached: false });
        else wake = check;
      };
      check();
    });
  return { attach, end, fail, read };
}

// ---- Go's %q ----

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const ESCAPES: Record<number, string> = { 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\" };

/** strconv.Quote, as fmt's %q prints a string of bytes: `Get "http://..."`, `malformed HTTP response "\x15\x03"`. */
export function goQuote(input: string | Uint8Array): string {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : Buffer.from(input);
  let out = '"';
  for (let i = 0; i < bytes.length; ) {
    const [rune, size] = decodeRune(bytes, i);
    i += size;
    if (rune < 0) out += `\\x${bytes[i - 1]!.toString(16).padStart(2, "0")}`;
    else if (ESCAPES[rune]) out += ESCAPES[rune];
    else if (PRINTABLE.test(String.fromCodePoint(rune))) out += String.fromCodePoint(rune);
    else if (rune < 0x20 || rune === 0x7f) out += `\\x${rune.toString(16).padStart(2, "0")}`;
    else if (rune < 0x10000) out += `\\u${rune.toString(16).padStart(4, "0")}`;
    else out += `\\U${rune.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

/** The UTF-8 rune at `i` and its size; -1 and 1 for a byte that starts none. */
function decodeRune(bytes: Buffer, i: number): [number, number] {
  if (bytes[i]! < 0x80) return [bytes[i]!, 1];
  for (let size = 2; size <= 4 && i + size <= bytes.length; size++) {
    try {
      const text = utf8.decode(bytes.subarray(i, i + size));
      return [text.codePointAt(0)!, size];
    } catch {
      // not a whole rune yet
    }
  }
  return [-1, 1];
}
