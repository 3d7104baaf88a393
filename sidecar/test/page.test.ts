// The live page in headless Chromium (Debian package), with real data from the real sidecar
// beside the real app: the verdict, the probe marks and a restart mark must be on the screen.
// And the bundle serves the page built from sidecar/page, not an older one.
// CRASHY_SCREENSHOT_TO=docs/sidecar-page.png also writes the README's picture.
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
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
let dir: string;

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "crashy-page-"));
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop("SIGKILL")));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const startApp = async (port: number, crashAfter: string) => {
  const app = await start(APP_ENTRY, { PORT: String(port), HOST: "127.0.0.1", CRASH_AFTER: crashAfter }, /crashy: listening on/);
  processes.push(app);
  return app;
};

test("the bundle serves the page built from sidecar/page: index.html, and page.ts compiled", async () => {
  const port = await freePort();
  // Nothing listens on the probed port: the page is served whatever the probes find.
  const sidecar = await start(
    SIDECAR_ENTRY,
    { PORT: String(port), HOST: "127.0.0.1", PROBE_URL: `http://127.0.0.1:${await freePort()}/health`, METRICS_URL: "" },
    /crashy-sidecar: listening on/,
  );
  processes.push(sidecar);
  const built = await buildPage();
  const html = await (await fetch(`http://127.0.0.1:${port}/`)).text();
  const script = await (await fetch(`http://127.0.0.1:${port}/page.js`)).text();
  const stale = "the bundle's page differs from sidecar/page: run `npm run build`";
  expect(html, stale).toBe(built.html);
  expect(script, stale).toBe(built.script);
  expect(script).toContain("function drawTimeline(");
  await sidecar.stop("SIGTERM");
});

test("the page shows the verdict, the probe marks and the restart, in Chromium", async () => {
  const appPort = await freePort();
  const sidecarPort = await freePort();
  const first = await startApp(appPort, "1");
  const sidecar = await start(
    SIDECAR_ENTRY,
    {
      PORT: String(sidecarPort),
      HOST: "127.0.0.1",
      PROBE_URL: `http://127.0.0.1:${appPort}/health`,
      METRICS_URL: `http://127.0.0.1:${appPort}/metrics`,
      PROBE_PERIOD_SECONDS: "0.25",
    },
    /crashy-sidecar: listening on/,
  );
  processes.push(sidecar);
  const base = `http://127.0.0.1:${sidecarPort}`;
  const status = async () => (await (await fetch(`${base}/api/status`)).json()) as SidecarStatus;

  // Crash, three failures, the verdict; then a new app, as the kubelet would start.
  await eventually(async () => ((await status()).verdict.healthy ? undefined : true), 6_000, "the unhealthy verdict");
  await first.stop("SIGTERM");
  await startApp(appPort, "60");
  await eventually(async () => {
    const s = await status();
    return s.counters.restarts === 1 && s.verdict.healthy ? true : undefined;
  }, 4_000, "the restart");

  const browser = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 820 },
  });
  try {
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    await page.goto(`${base}/`);
    await page.waitForSelector('#verdict[data-verdict="healthy"]', { timeout: 5_000 });
    // A vertical line has no width, which Playwright calls hidden: wait for it to be there.
    await page.waitForSelector("svg#timeline line.restart", { state: "attached", timeout: 5_000 });

    expect(await page.textContent("#verdict")).toBe("healthy");
    expect(await page.textContent("#probe-type")).toBe("Liveness");
    expect(await page.title()).toBe("crashy sidecar: liveness probe");
    expect(await page.textContent("#countdown")).toBe("would be restarted after 3 more failed probes in a row");
    expect(await page.locator("svg#timeline rect.mark.failure").count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator("svg#timeline rect.mark.success").count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator("svg#timeline text.killing").count()).toBeGreaterThanOrEqual(1);
    expect(await page.textContent("#restarts")).toBe("1 restart seen");
    expect(await page.textContent("#events")).toContain("Container crashy-app failed liveness probe, will be restarted");
    // Everything it loaded came from the sidecar itself.
    expect(requested.every((url) => url.startsWith(base))).toBe(true);

    const png = join(dir, "sidecar-page.png");
    await page.screenshot({ path: png, fullPage: true });
    expect(statSync(png).size).toBeGreaterThan(10_000);
    const keep = process.env.CRASHY_SCREENSHOT_TO;
    if (keep) copyFileSync(png, join(ROOT, keep));
  } finally {
    await browser.close();
  }
});
