// The live page in headless Chromium (Debian package), with real data from the real sidecar: beside
// the real app (one liveness probe, a crash and a restart), and beside a local server whose startup,
// liveness and readiness answers the test sets (all three probes and the pod's Ready condition).
// And the bundle serves the page built from sidecar/page, not an older one.
// CRASHY_SCREENSHOT_TO=docs/sidecar-page.png also writes the README's picture (the three probes).
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually, freePort, ROOT, start, type Started } from "../../test/processes.ts";
import { buildPage } from "../page/build.ts";
import type { SidecarStatus } from "../src/status.ts";
import { APP_ENTRY, assertBuilt, SIDECAR_ENTRY } from "../../test/built.ts";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const processes: Started[] = [];
const servers: Server[] = [];
let dir: string;
let browser: BrowserContext | undefined;

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "crashy-page-"));
});
afterAll(async () => {
  await browser?.close();
  await Promise.all(processes.map((p) => p.stop("SIGKILL")));
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const startApp = async (port: number, crashAfter: string) => {
  const app = await start(APP_ENTRY, { PORT: String(port), HOST: "127.0.0.1", CRASH_AFTER: crashAfter }, /crashy: listening on/);
  processes.push(app);
  return app;
};

async function startSidecar(env: Record<string, string>) {
  const port = await freePort();
  const sidecar = await start(SIDECAR_ENTRY, { PORT: String(port), HOST: "127.0.0.1", ...env }, /crashy-sidecar: listening on/);
  processes.push(sidecar);
  const base = `http://127.0.0.1:${port}`;
  const status = async () => (await (await fetch(`${base}/api/status`)).json()) as SidecarStatus;
  return { sidecar, base, status };
}

/** A page of the sidecar at `base`, recording every URL it requests. */
async function openPage(base: string): Promise<{ page: Page; requested: string[] }> {
  browser ??= await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 820 },
  });
  const page = await browser.newPage();
  const requested: string[] = [];
  page.on("request", (request) => requested.push(request.url()));
  await page.goto(`${base}/`);
  return { page, requested };
}

test("the bundle serves the page built from sidecar/page: index.html, and page.ts compiled", async () => {
  // Nothing listens on the probed port: the page is served whatever the probes find.
  const { sidecar, base } = await startSidecar({ LIVENESS_PROBE_URL: `http://127.0.0.1:${await freePort()}/health`, METRICS_URL: "" });
  const built = await buildPage();
  const html = await (await fetch(`${base}/`)).text();
  const script = await (await fetch(`${base}/page.js`)).text();
  const stale = "the bundle's page differs from sidecar/page: run `npm run build`";
  expect(html, stale).toBe(built.html);
  expect(script, stale).toBe(built.script);
  expect(script).toContain("function drawTimeline(");
  await sidecar.stop("SIGTERM");
});

test("a liveness probe alone: the verdict, the probe marks and the restart, in Chromium", async () => {
  const appPort = await freePort();
  const first = await startApp(appPort, "1");
  const { base, status } = await startSidecar({
    LIVENESS_PROBE_URL: `http://127.0.0.1:${appPort}/health`,
    LIVENESS_PROBE_PERIOD_SECONDS: "0.25",
    METRICS_URL: `http://127.0.0.1:${appPort}/metrics`,
  });
  const liveness = (s: SidecarStatus) => s.probes[0]!;

  // Crash, three failures, the verdict; then a new app, as the kubelet would start.
  await eventually(async () => (liveness(await status()).verdict.healthy ? undefined : true), 6_000, "the unhealthy verdict");
  await first.stop("SIGTERM");
  await startApp(appPort, "60");
  await eventually(async () => {
    const s = await status();
    return s.counters.restarts === 1 && liveness(s).verdict.healthy ? true : undefined;
  }, 4_000, "the restart");

  const { page, requested } = await openPage(base);
  await page.waitForSelector('#probe-Liveness .verdict[data-verdict="healthy"]', { timeout: 5_000 });
  // A vertical line has no width, which Playwright calls hidden: wait for it to be there.
  await page.waitForSelector("#probe-Liveness svg.timeline line.restart", { state: "attached", timeout: 5_000 });

  expect(await page.locator("section.probe").count()).toBe(1);
  expect(await page.textContent("#probe-Liveness .verdict")).toBe("healthy");
  expect(await page.textContent("#probe-Liveness .type")).toBe("Liveness");
  expect(await page.textContent("#probe-Liveness .action")).toBe("On failure: the container would be restarted.");
  expect(await page.title()).toBe("crashy sidecar: liveness probe");
  expect(await page.textContent("#probe-Liveness .countdown")).toBe("would be restarted after 3 more failed probes in a row");
  expect(await page.locator("#probe-Liveness rect.mark.failure").count()).toBeGreaterThanOrEqual(3);
  expect(await page.locator("#probe-Liveness rect.mark.success").count()).toBeGreaterThanOrEqual(2);
  expect(await page.locator("#probe-Liveness text.killing").count()).toBeGreaterThanOrEqual(1);
  expect(await page.textContent("#restarts")).toBe("1 restart seen");
  // No readiness probe: Ready as soon as it runs.
  expect(await page.textContent("#ready")).toBe("Ready: True");
  expect(await page.textContent("#ready-text")).toBe("The Service sends the pod traffic: the container runs and has no readiness probe.");
  expect(await page.textContent("#events")).toContain("Container crashy-app failed liveness probe, will be restarted");
  // Everything it loaded came from the sidecar itself.
  expect(requested.every((url) => url.startsWith(base))).toBe(true);
  await page.close();
});

test("three probes: each its own verdict and timeline, and the pod's Ready condition, in Chromium", { timeout: 40_000 }, async () => {
  // The app as the probes see it, set by the test: 503 while "starting", then each path's status.
  const app = { startup: 503, health: 200, ready: 200, startTime: Date.now() / 1000 };
  const server = createServer((req, res) => {
    if (req.url === "/metrics") return void res.end(`crashy_start_time_seconds ${app.startTime}\n`);
    const path = req.url?.slice(1);
    res.writeHead(path === "startup" || path === "health" || path === "ready" ? app[path] : 404).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { base, status } = await startSidecar({
    STARTUP_PROBE_URL: `${target}/startup`,
    STARTUP_PROBE_PERIOD_SECONDS: "0.25",
    STARTUP_PROBE_FAILURE_THRESHOLD: "20",
    LIVENESS_PROBE_URL: `${target}/health`,
    LIVENESS_PROBE_PERIOD_SECONDS: "0.25",
    READINESS_PROBE_URL: `${target}/ready`,
    READINESS_PROBE_PERIOD_SECONDS: "0.25",
    METRICS_URL: `${target}/metrics`,
  });
  const until = (what: string, ok: (s: SidecarStatus) => boolean) =>
    eventually(async () => { const s = await status(); return ok(s) ? s : undefined; }, 8_000, what);

  const { page, requested } = await openPage(base);
  // Starting: the startup probe fails, the other two wait for it, the pod is not Ready.
  await until("three startup failures", (s) => s.probes[0]!.counters.failed >= 3);
  await page.waitForSelector('#probe-Startup .verdict[data-state="starting"][data-verdict="unhealthy"]', { timeout: 5_000 });
  expect(await page.textContent("#ready")).toBe("Ready: False");
  expect(await page.textContent("#ready-text")).toBe(
    "Taken out of the Service's endpoints: the startup probe has not succeeded yet (ContainersNotReady: containers with unready status: [crashy-app]).",
  );
  expect(await page.textContent("#probe-Liveness .countdown")).toBe("not probed yet: liveness and readiness probes wait for the startup probe to succeed");
  expect(await page.textContent("#probe-Readiness .countdown")).toBe("not probed yet: liveness and readiness probes wait for the startup probe to succeed");

  // Started and Ready.
  app.startup = 200;
  await until("Ready", (s) => s.pod.ready.status === "True");
  await page.waitForSelector('#ready[data-status="True"]', { timeout: 5_000 });
  expect(await page.textContent("#probe-Startup .verdict")).toBe("started: liveness and readiness probes take over");
  expect(await page.textContent("#ready-text")).toBe("The Service sends the pod traffic: the readiness probe succeeds.");

  // A liveness failure: the kubelet restarts the container; the pod leaves the Service meanwhile.
  app.health = 500;
  const killed = await until("the kill", (s) => !s.container.running);
  const startupFailures = killed.probes[0]!.counters.failed;
  await page.waitForSelector('#ready[data-why="restart"]', { timeout: 5_000 });
  expect(await page.textContent("#container-state")).toBe(
    "Container crashy-app: failed its liveness probe: the kubelet kills and restarts it; every probe waits for the new one.",
  );
  app.health = 200;
  app.startup = 503;
  app.startTime = Date.now() / 1000;
  await until("the new instance starting", (s) => s.counters.restarts === 1 && s.probes[0]!.counters.failed >= startupFailures + 3);
  app.startup = 200;
  await until("Ready after the restart", (s) => s.pod.ready.status === "True");

  // A readiness failure: out of the Service, and no restart.
  app.ready = 503;
  const out = await until("not Ready", (s) => s.pod.ready.status === "False" && s.probes[2]!.counters.failed >= 3);
  expect(out.container).toMatchObject({ running: true, started: true, ready: false, instance: "instance-1" });
  await page.waitForSelector('#probe-Readiness .verdict[data-state="not-ready"]', { timeout: 5_000 });
  await page.waitForSelector('#ready[data-status="False"][data-why="readiness"]', { timeout: 5_000 });

  expect(await page.title()).toBe("crashy sidecar: startup, liveness, readiness probes");
  expect(await page.locator("section.probe").evaluateAll((cards) => cards.map((c) => c.id))).toEqual(["probe-Startup", "probe-Liveness", "probe-Readiness"]);
  expect(await page.textContent("#ready")).toBe("Ready: False");
  expect(await page.textContent("#ready-text")).toBe(
    "Taken out of the Service's endpoints: the readiness probe fails (ContainersNotReady: containers with unready status: [crashy-app]).",
  );
  expect(await page.textContent("#container-state")).toBe("Container crashy-app: running, started, not ready.");
  // What each probe's failure does, side by side.
  expect(await page.textContent("#probe-Startup .action")).toBe("Liveness and readiness probes wait until it succeeds. On failure: the container would be restarted.");
  expect(await page.textContent("#probe-Liveness .action")).toBe("On failure: the container would be restarted.");
  expect(await page.textContent("#probe-Readiness .action")).toBe("On failure: the pod is taken out of the Service. Never restarted for it.");
  expect(await page.textContent("#probe-Startup .verdict")).toBe("started: liveness and readiness probes take over");
  expect(await page.textContent("#probe-Startup .countdown")).toBe("the startup probe is done until the next restart; liveness and readiness probes run now");
  expect(await page.textContent("#probe-Liveness .verdict")).toBe("healthy");
  expect(await page.textContent("#probe-Readiness .verdict")).toBe("not ready: the Service sends it no traffic");
  expect(await page.textContent("#probe-Readiness .countdown")).toBe("back in the Service after 1 successful probe in a row; not restarted meanwhile");
  // Each timeline has its own marks; the kill is on the liveness probe's only; the restart on all.
  for (const type of ["Startup", "Liveness", "Readiness"]) {
    expect(await page.locator(`#probe-${type} rect.mark.success`).count(), type).toBeGreaterThanOrEqual(1);
    expect(await page.locator(`#probe-${type} line.restart`).count(), type).toBe(1);
  }
  expect(await page.locator("#probe-Startup rect.mark.failure").count()).toBeGreaterThanOrEqual(6);
  expect(await page.locator("#probe-Liveness text.killing").count()).toBe(1);
  expect(await page.locator("#probe-Readiness text.killing").count()).toBe(0);
  expect(await page.locator("#probe-Readiness rect.mark.failure").count()).toBeGreaterThanOrEqual(3);
  expect(await page.textContent("#restarts")).toBe("1 restart seen");
  const events = await page.textContent("#events");
  expect(events).toContain("Readiness probe failed: HTTP probe failed with statuscode: 503");
  expect(events).not.toMatch(/failed readiness probe/);
  expect(requested.every((url) => url.startsWith(base))).toBe(true);

  const png = join(dir, "sidecar-page.png");
  await page.screenshot({ path: png, fullPage: true });
  expect(statSync(png).size).toBeGreaterThan(10_000);
  const keep = process.env.CRASHY_SCREENSHOT_TO;
  if (keep) copyFileSync(png, join(ROOT, keep));
  await page.close();
});
