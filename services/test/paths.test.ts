// Dot segments resolved as Node's adapter and the URL standard do, for Deno.serve's requests.
import { describe, expect, it } from "vitest";
import { resolveDotSegments } from "../src/paths.ts";

/** A Request whose url keeps its dot segments, as Deno.serve's does (fetch's Request would resolve them). */
function asSent(url: string, init?: RequestInit): Request {
  const request = new Request("http://pod:8080/placeholder", init);
  Object.defineProperty(request, "url", { value: url });
  return request;
}

describe("resolveDotSegments", () => {
  it.each([
    ["http://pod:8080/x/../health", "http://pod:8080/health"],
    ["http://pod:8080/x/%2e%2E/health", "http://pod:8080/health"],
    ["http://pod:8080/./health?a=/../b", "http://pod:8080/health?a=/../b"],
    ["http://pod:8080/../../health", "http://pod:8080/health"],
  ])("%s is %s", (sent, resolved) => {
    expect(resolveDotSegments(asSent(sent)).url).toBe(resolved);
  });

  it("passes a request without dot segments as it is, and keeps method and headers when it resolves", () => {
    const plain = asSent("http://pod:8080/health");
    expect(resolveDotSegments(plain)).toBe(plain);
    const moved = resolveDotSegments(asSent("http://pod:8080/a/../ready", { method: "HEAD", headers: { "user-agent": "kube-probe/1.33" } }));
    expect([moved.method, moved.headers.get("user-agent")]).toEqual(["HEAD", "kube-probe/1.33"]);
  });
});
