import { describe, expect, it } from "vitest";
import { createEventPrinter, humanDuration, podTable } from "../src/format.ts";

describe("humanDuration", () => {
  it.each([
    [0, "0s"],
    [3_400, "3s"],
    [119_000, "119s"],
    [199_000, "3m19s"],
    [180_000, "3m"],
    [65 * 60_000, "65m"],
    [(3 * 60 + 5) * 60_000, "3h5m"],
    [30 * 3600_000, "30h"],
    [(3 * 24 + 4) * 3600_000, "3d4h"],
    [10 * 24 * 3600_000, "10d"],
  ])("prints %d ms as kubectl does: %s", (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe("the event printer", () => {
  it("prints the lab's columns and counts repeats of one event, with the time they span", () => {
    const lines: string[] = [];
    const printer = createEventPrinter("crashy-app-local", (l) => lines.push(l), false);
    printer.header();
    const message = "Liveness probe failed: HTTP probe failed with statuscode: 500";
    printer.event({ at: 0, type: "Normal", reason: "Started", message: "Started container crashy-app" });
    printer.event({ at: 60_000, type: "Warning", reason: "Unhealthy", message });
    printer.event({ at: 61_000, type: "Warning", reason: "Unhealthy", message });
    printer.event({ at: 62_000, type: "Warning", reason: "Unhealthy", message });
    expect(lines).toEqual([
      "LAST SEEN   TYPE      REASON      OBJECT                 MESSAGE",
      "0s          Normal    Started     Pod/crashy-app-local   Started container crashy-app",
      `0s          Warning   Unhealthy   Pod/crashy-app-local   ${message}`,
      `0s (x2 over 1s)   Warning   Unhealthy   Pod/crashy-app-local   ${message}`,
      `0s (x3 over 2s)   Warning   Unhealthy   Pod/crashy-app-local   ${message}`,
    ]);
  });

  it("colours warnings only when asked to", () => {
    const lines: string[] = [];
    const printer = createEventPrinter("p", (l) => lines.push(l), true);
    printer.event({ at: 0, type: "Warning", reason: "Unhealthy", message: "m" });
    expect(lines[0]).toContain("\x1b[33m");
  });

  it("spans whole seconds, as the API's event timestamps do", () => {
    const lines: string[] = [];
    const printer = createEventPrinter("p", (l) => lines.push(l), false);
    printer.event({ at: 5_990, type: "Warning", reason: "Unhealthy", message: "m" });
    printer.event({ at: 6_980, type: "Warning", reason: "Unhealthy", message: "m" });
    expect(lines[1]).toMatch(/^0s \(x2 over 1s\)/);
  });
});

describe("podTable", () => {
  it("shows restarts with how long ago, as kubectl get pods does", () => {
    const [head, row] = podTable(
      { name: "crashy-app-local", ready: 2, total: 2, status: "Running", restarts: 3, lastRestartAt: 196_000, createdAt: 0 },
      199_000,
    );
    expect(head).toBe("NAME               READY   STATUS    RESTARTS     AGE");
    expect(row).toBe("crashy-app-local   2/2     Running   3 (3s ago)   3m19s");
  });
});
