// The lessons as a student runs them, `npm start -- k8s/overlays/<lesson>`, for real: the runner,
// the pods' apps and sidecars as processes, the Service's node port, and the app's control API.
import { describe, expect, it } from "vitest";
import { findSample, parseExposition } from "../../sidecar/src/exposition.ts";
import { freePorts, hit, loop, RUNNER } from "../pods.ts";
import { eventually, freePort, start, type Started } from "../processes.ts";

async function lesson(overlay: string, env: Record<string, string>, pods = 1) {
  const appPort = await freePorts(pods);
  const sidecarPort = await freePorts(pods);
  const servicePort = await freePort();
  const runner = await start(
    [...RUNNER, `k8s/overlays/${overlay}`],
    { APP_PORT: String(appPort), SIDECAR_PORT: String(sidecarPort), SERVICE_PORT: String(servicePort), NO_COLOR: "1", ...env },
    /service crashy-app: http/,
  );
  const names = [...runner.output().matchAll(/pod (\S+) from .*: app http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => m[1]!);
  return { runner, names, appPort, sidecarPort, servicePort };
}

const events = (runner: Started, reason: string) => runner.output().split("\n").filter((l) => new RegExp(`\\b(Normal|Warning)\\s+${reason}\\s`).test(l));
const rows = (runner: Started, pod: string) => runner.output().split("\n").filter((l) => l.startsWith(`    ${pod} `));
const post = async (port: number, path: string) => (await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST" })).status;

describe("the lessons, with npm start", () => {
  it("readiness: one of two pods switched unready drops out of READY and out of the Service, a client never fails, nothing restarts", async () => {
    const { runner, names, appPort, servicePort } = await lesson("readiness", {}, 2);
    try {
      const [a, b] = names as [string, string];
      await eventually(async () => (runner.output().includes(`-> ${a}, ${b}`) ? true : undefined), 15_000, "both pods Ready");
      await eventually(async () => ("pod" in (await hit(servicePort)) ? true : undefined), 2_000, "the Service");

      // Service lines printed after `mark` (a line count): earlier ones may tell of the start.
      const serviceAfter = (mark: number, to: string) => async () =>
        runner.output().split("\n").slice(mark).some((l) => l.endsWith(` -> ${to}`)) ? true : undefined;
      let mark = runner.output().split("\n").length;
      expect(await post(appPort, "/control/unready")).toBe(200);
      await eventually(serviceAfter(mark, b), 5_000, "the Service to drop the first pod");
      const hits = await loop(servicePort, 1_500);
      expect(hits.length).toBeGreaterThan(10);
      expect(hits.filter((h) => !("status" in h) || h.status !== 200 || h.pod !== b)).toEqual([]);
      expect(rows(runner, a).at(-1)).toMatch(/\s1\/2\s+Running\s+0\s/);
      expect(events(runner, "Unhealthy").join("\n")).toContain(`Pod/${a}   Readiness probe failed: HTTP probe failed with statuscode: 503`);

      mark = runner.output().split("\n").length;
      expect(await post(appPort, "/control/ready")).toBe(200);
      await eventually(serviceAfter(mark, `${a}, ${b}`), 5_000, "the first pod back");
      expect(events(runner, "Killing")).toEqual([]);
      expect(runner.output()).not.toContain("will be restarted");
    } finally {
      await runner.stop("SIGINT");
    }
  }, 45_000);

  it("slow-start: an app slower to start than its liveness probe allows is killed before it is up, again and again", async () => {
    const { runner } = await lesson("slow-start", { STARTUP_SECONDS: "6" });
    try {
      await eventually(async () => (events(runner, "Killing").length >= 2 ? true : undefined), 15_000, "two kills");
      const kills = events(runner, "Killing");
      expect(kills.every((l) => l.endsWith("Container crashy-app failed liveness probe, will be restarted"))).toBe(true);
      // Every failure was the app still starting (503), or not listening yet: it never got to answer 200.
      const failures = events(runner, "Unhealthy").filter((l) => l.includes("Liveness probe failed") && !l.includes("/healthz"));
      expect(failures.length).toBeGreaterThanOrEqual(6);
      for (const l of failures) expect(l).toMatch(/statuscode: 503$|connect: connection refused$/);
    } finally {
      await runner.stop("SIGINT");
    }
  }, 30_000);

  it("startup: the same slow starter with a startup probe starts once and stays; liveness takes over after", async () => {
    const { runner, appPort, sidecarPort } = await lesson("startup", { STARTUP_SECONDS: "4" });
    try {
      await eventually(async () => ((await fetch(`http://127.0.0.1:${appPort}/health`)).status === 200 ? true : undefined), 15_000, "the app up");
      // Well past the liveness probe's 3 failures: nothing killed, one start.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(events(runner, "Killing")).toEqual([]);
      expect(events(runner, "Started").filter((l) => l.endsWith("Started container crashy-app"))).toHaveLength(1);
      // Only the startup probe failed (503 while starting, or refused before the app listened); the sidecar's own may be refused once.
      for (const l of events(runner, "Unhealthy")) expect(l).toMatch(/Startup probe failed: (HTTP probe failed with statuscode: 503|.*connect: connection refused)$|\/healthz.*connection refused$/);
      expect(runner.output()).toMatch(/crashy-app-local\s+2\/2\s+Running\s+0\s/);
      // The sidecar saw the same: the container started by its startup probe, then liveness probing.
      const samples = parseExposition(await (await fetch(`http://127.0.0.1:${sidecarPort}/metrics`)).text());
      expect(findSample(samples, "crashy_container_started")).toBe(1);
      expect(findSample(samples, "prober_probe_total", { probe_type: "Liveness", result: "successful" })).toBeGreaterThan(0);
    } finally {
      await runner.stop("SIGINT");
    }
  }, 30_000);
});
