// Request paths as the app sees them, the same on every runtime. Web-standard only.

// A "." or ".." segment, also written %2e, as the URL standard reads them.
const DOT_SEGMENT = /\/(?:\.|%2e)/i;

/**
 * Deno.serve hands over the path as the request line has it (`/x/../health`), where Node's
 * adapter, like the URL standard, resolves dot segments (RFC 3986 5.2.4) first: one behaviour on
 * both runtimes, the resolved one (services/README.md, "Paths"). Requests without one pass as
 * they are, at the cost of one regular expression test.
 */
export function resolveDotSegments(request: Request): Request {
  if (!DOT_SEGMENT.test(request.url)) return request;
  const href = new URL(request.url).href;
  return href === request.url ? request : new Request(href, request);
}
