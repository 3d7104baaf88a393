// One TCP probe with the kubelet's rules (kubernetes/kubernetes v1.33 pkg/probe/tcp/tcp.go
// DoTCPProbe): open a connection within the timeout and close it at once. Nothing is sent or read,
// so whatever accepts connections passes, whatever it would answer. Also the wording of Go's net
// errors (net.OpError, net.DNSError), which the HTTP prober shares for its dial. Node-only.
import { getServers, lookup } from "node:dns";
import { connect, isIP, type LookupFunction } from "node:net";
import type { ProbeFn, ProbeOutcome, TcpSocketAction } from "./types.ts";

/** A probe bound to its address and timeout, as the worker calls it. */
export function createTcpSocketProber(action: TcpSocketAction, timeoutSeconds: number): ProbeFn {
  return (signal) => probeTcp(action, timeoutSeconds, signal);
}

/**
 * tcp.go DoTCPProbe: `d := probe.ProbeDialer(); d.Timeout = timeout; conn, err := d.Dial("tcp", addr)`;
 * an error is a failure whose output is err.Error(), a connection is a success with no output, closed
 * at once. (ProbeDialer's SO_LINGER of 1 s only shortens TIME-WAIT; Node cannot set it.)
 */
export function probeTcp(action: TcpSocketAction, timeoutSeconds: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const began = performance.now();
  return new Promise((resolve) => {
    // Go names the address it was dialing, after the lookup: remember what the lookup gave.
    let dialed: string | undefined = isIP(action.host) ? action.host : undefined;
    const recordingLookup: LookupFunction = (hostname, options, callback) =>
      lookup(hostname, options, (error, address, family) => {
        if (!error) dialed = typeof address === "string" ? address : address[0]?.address;
        (callback as (...args: unknown[]) => void)(error, address, family);
      });
    const address = () => joinHostPort(dialed ?? action.host, action.port);

    let settled = false;
    const finish = (result: ProbeOutcome["result"], output: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onCancel);
      socket.destroy();
      resolve({ result, output, durationSeconds: (performance.now() - began) / 1000 });
    };
    const socket = connect({ host: action.host, port: action.port, lookup: recordingLookup });
    socket.on("connect", () => finish("success", ""));
    socket.on("error", (error) => finish("failure", dialErrorText(error, action.host, action.port)));
    // net.Dialer.Timeout: the dial's deadline passes as an i/o timeout (net.OpError{Op: "dial"}).
    const timer = setTimeout(() => finish("failure", `dial tcp ${address()}: i/o timeout`), timeoutSeconds * 1000);
    // The kubelet never cancels a TCP probe; when ours is stopped, Go's words for a cancelled dial.
    const onCancel = () => finish("unknown", `dial tcp ${address()}: operation was canceled`);
    signal?.addEventListener("abort", onCancel, { once: true });
    if (signal?.aborted) onCancel();
  });
}

/** net.JoinHostPort: IPv6 hosts in brackets. */
export const joinHostPort = (host: string, port: number | string) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

/** Go's text for the errnos a dial, a read or a write meets (syscall.Errno.Error on Linux). */
const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  ECONNABORTED: "software caused connection abort",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network is unreachable",
  ETIMEDOUT: "connection timed out",
  EPIPE: "broken pipe",
  EADDRNOTAVAIL: "cannot assign requested address",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
};

type NetError = NodeJS.ErrnoException & { address?: string; port?: number; errors?: NetError[] };

/**
 * A failed dial as Go words it (net.OpError{Op: "dial", Net: "tcp"}): "dial tcp 127.0.0.1:8080:
 * connect: connection refused", or for a name that does not resolve (net.DNSError, pure-Go
 * resolver) "dial tcp: lookup db on 10.96.0.10:53: no such host".
 */
export function dialErrorText(error: Error, host: string, port: number): string {
  // Node tries each address of a name and reports them all; Go reports the first error.
  const first = ((error as NetError).errors?.[0] ?? error) as NetError;
  if (first.code === "ENOTFOUND" || first.code === "EAI_AGAIN" || first.code === "EAI_NODATA") {
    const server = getServers()[0];
    return `dial tcp: lookup ${host}${server ? ` on ${withDnsPort(server)}` : ""}: no such host`;
  }
  const address = first.address !== undefined && first.port !== undefined ? joinHostPort(first.address, first.port) : joinHostPort(host, port);
  const text = first.code === undefined ? undefined : ERRNO_TEXT[first.code];
  return text ? `dial tcp ${address}: connect: ${text}` : `dial tcp ${address}: ${first.message}`;
}

/**
 * A failed read or write on an open connection (net.OpError with Source and Addr):
 * "read tcp 10.0.0.1:41234->10.0.0.5:8080: read: connection reset by peer".
 */
export function connErrorText(op: "read" | "write", local: string, remote: string, error: NodeJS.ErrnoException): string {
  const text = (error.code !== undefined && ERRNO_TEXT[error.code]) || error.message;
  return `${op} tcp ${local}->${remote}: ${op}: ${text}`;
}

/** dns.getServers() leaves out the default port; Go's DNSError.Server has it. */
function withDnsPort(server: string): string {
  if (server.startsWith("[")) return server;
  if (isIP(server) === 6) return joinHostPort(server, 53);
  return server.includes(":") ? server : `${server}:53`;
}
