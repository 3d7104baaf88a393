import { describe, expect, it } from "vitest";
import { keepable, MAX_KEPT_CHARS } from "../text.ts";

describe("keepable", () => {
  it("leaves ordinary text alone, tabs included", () => {
    expect(keepable("Probe terminated redirects, Response body: <a href=\"/x\">moved</a>\tok")).toBe(
      "Probe terminated redirects, Response body: <a href=\"/x\">moved</a>\tok",
    );
  });

  it("escapes control characters, so a body cannot drive a terminal: ESC, newline, NUL, DEL, C1", () => {
    expect(keepable("a\u001b[2Jb\nc\u0000d\u007fe\u009bf")).toBe("a\\x1b[2Jb\\x0ac\\x00d\\x7fe\\x9bf");
  });

  it("keeps at most MAX_KEPT_CHARS characters and says how many it left out", () => {
    const kept = keepable("x".repeat(10 * 1024));
    expect(kept).toBe(`${"x".repeat(MAX_KEPT_CHARS)}... (${10 * 1024 - MAX_KEPT_CHARS} more characters)`);
  });
});
