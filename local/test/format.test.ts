import { describe, expect, it } from "vitest";
import { createEventPrinter, createPodTablePrinter, DROPPED_EVENT_LINE, EVENT_LINE, humanDuration, parseEventLine, pendingRow, podsTable, podTable } from "../src/format.ts";

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

describe("the event printer, after client-go's correlation", () => {
  // pod.test.ts reads the kubelet's events with this; every event line must still match it.
  const KUBECTL_EVENT = /\b(Normal|Warning)\s+(\w+)\s+Pod\/\S+\s+(.*)$/;
  const message = "Liveness probe failed: HTTP probe failed with statuscode: 500";

  function printer(colour = false) {
    const lines: string[] = [];
    return { lines, printer: createEventPrinter("crashy-app-local", (l) => lines.push(l), colour) };
  }

  it("marks the 26th event about the pod as dropped, says why once, and shows the next one sent 300 s later with the dropped ones counted", () => {
    const { lines, printer: p } = printer();
    for (let i = 0; i < 25; i++) p.event({ at: i * 10, type: "Warning", reason: "Unhealthy", message, container: "crashy-app" });
    expect(lines.slice(-1)).toEqual([`0s (x25 over 0s)   Warning   Unhealthy   Pod/crashy-app-local   ${message}`]);
    lines.length = 0;

    p.event({ at: 1_000, type: "Warning", reason: "Unhealthy", message, container: "crashy-app" });
    p.event({ at: 2_000, type: "Normal", reason: "Killing", message: "Container crashy-app failed liveness probe, will be restarted", container: "crashy-app" });
    p.event({ at: 200_000, type: "Warning", reason: "Unhealthy", message, container: "crashy-app" });
    p.event({ at: 300_000, type: "Warning", reason: "Unhealthy", message, container: "crashy-app" });
    expect(lines).toEqual([
      "    (dropped = not sent to the API server, so not in kubectl events: the kubelet's client-go spam filter passes a burst of 25 events per pod, then 1 per 5 min)",
      `dropped (x26)   Warning   Unhealthy   Pod/crashy-app-local   ${message}`,
      "dropped     Normal    Killing     Pod/crashy-app-local   Container crashy-app failed liveness probe, will be restarted",
      `dropped (x27)   Warning   Unhealthy   Pod/crashy-app-local   ${message}`,
      `0s (x28 over 5m)   Warning   Unhealthy   Pod/crashy-app-local   ${message}`,
    ]);
    expect(lines.slice(1).every((l) => KUBECTL_EVENT.test(l))).toBe(true);
    expect(lines.map((l) => DROPPED_EVENT_LINE.test(l))).toEqual([false, true, true, true, false]);
    expect(lines.map((l) => parseEventLine(l)?.dropped)).toEqual([undefined, true, true, true, false]);
    expect(parseEventLine(lines[1]!)).toEqual({ dropped: true, count: 26, type: "Warning", reason: "Unhealthy", object: "Pod/crashy-app-local", message });
    expect(parseEventLine(lines[4]!)).toEqual({ dropped: false, count: 28, type: "Warning", reason: "Unhealthy", object: "Pod/crashy-app-local", message });
  });

  it("prints the combined event once 10 distinct messages of one reason come within 10 minutes", () => {
    const { lines, printer: p } = printer();
    for (let i = 1; i <= 11; i++) p.event({ at: i * 1_000, type: "Warning", reason: "Unhealthy", message: `timeout after ${i}s` });
    expect(lines.slice(8)).toEqual([
      "0s          Warning   Unhealthy   Pod/crashy-app-local   timeout after 9s",
      "0s          Warning   Unhealthy   Pod/crashy-app-local   (combined from similar events): timeout after 10s",
      "0s (x2 over 1s)   Warning   Unhealthy   Pod/crashy-app-local   (combined from similar events): timeout after 11s",
    ]);
  });

  it("counts the same event about two containers apart, as their fieldPaths differ", () => {
    const { lines, printer: p } = printer();
    p.event({ at: 0, type: "Normal", reason: "Pulled", message: "Image is present", container: "crashy-app" });
    p.event({ at: 0, type: "Normal", reason: "Pulled", message: "Image is present", container: "probe-sidecar", initContainer: true });
    p.event({ at: 1_000, type: "Normal", reason: "Pulled", message: "Image is present", container: "crashy-app" });
    expect(lines.map((l) => l.split("   ")[0])).toEqual(["0s", "0s", "0s (x2 over 1s)"]);
  });

  it("dims dropped lines when colouring, and parses them coloured too", () => {
    const { lines, printer: p } = printer(true);
    for (let i = 0; i < 26; i++) p.event({ at: 0, type: "Warning", reason: "Unhealthy", message });
    const dropped = lines.at(-1)!;
    expect(dropped.startsWith("\x1b[2mdropped (x26)")).toBe(true);
    expect(dropped).not.toContain("\x1b[33m");
    expect(lines.at(-2)!.startsWith("\x1b[2m    (dropped = ")).toBe(true);
    expect(parseEventLine(dropped)).toMatchObject({ dropped: true, count: 26, reason: "Unhealthy" });
    expect(parseEventLine(lines[0]!)).toMatchObject({ dropped: false, count: 1, type: "Warning" });
  });

  it("EVENT_LINE reads kubectl's LAST SEEN column", () => {
    expect("0s (x3 over 2s)   Warning   Unhealthy   Pod/p   m".match(EVENT_LINE)?.groups).toMatchObject({ count: "3", over: "2s", reason: "Unhealthy", object: "Pod/p", message: "m" });
    expect("    crashy-app-local   2/2     Running   0          0s".match(EVENT_LINE)).toBeNull();
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

describe("podsTable and the pod table printer, for a Deployment's pods", () => {
  it("lines up every pod's row in one set of columns, as kubectl get pods does", () => {
    expect(
      podsTable(
        [
          { name: "crashy-app-local-x7k2p", ready: 2, total: 2, status: "Running", restarts: 0, createdAt: 0 },
          { name: "crashy-app-local-b9m4q", ready: 1, total: 2, status: "CrashLoopBackOff", restarts: 12, lastRestartAt: 60_000, createdAt: 0 },
        ],
        65_000,
      ),
    ).toEqual([
      "NAME                     READY   STATUS             RESTARTS      AGE",
      "crashy-app-local-x7k2p   2/2     Running            0             65s",
      "crashy-app-local-b9m4q   1/2     CrashLoopBackOff   12 (5s ago)   65s",
    ]);
  });

  it("prints the header and every pod's row whenever one row changes; pods not started yet are Pending", () => {
    const lines: string[] = [];
    const table = createPodTablePrinter([pendingRow("web-local-aaaaa", 2, 0), pendingRow("web-local-bbbbb", 2, 0)], (l) => lines.push(l), false, () => 1_000);
    expect(lines).toEqual([]);
    table.update({ name: "web-local-aaaaa", ready: 0, total: 2, status: "Init:0/1", restarts: 0, createdAt: 0 });
    table.update({ name: "web-local-bbbbb", ready: 2, total: 2, status: "Running", restarts: 0, createdAt: 0 });
    expect(lines).toEqual([
      "    NAME              READY   STATUS     RESTARTS   AGE",
      "    web-local-aaaaa   0/2     Init:0/1   0          1s",
      "    web-local-bbbbb   0/2     Pending    0          1s",
      "    NAME              READY   STATUS     RESTARTS   AGE",
      "    web-local-aaaaa   0/2     Init:0/1   0          1s",
      "    web-local-bbbbb   2/2     Running    0          1s",
    ]);
  });

  it("podTable is the one-pod table: the lab's lines are unchanged", () => {
    const row = { name: "crashy-app-local", ready: 1, total: 2, status: "PodInitializing", restarts: 0, createdAt: 0 };
    expect(podTable(row, 0)).toEqual(podsTable([row], 0));
  });
});
