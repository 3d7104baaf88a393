// The built app and sidecar as real processes under libfaketime (Debian's faketime, installed by
// .ci/setup.sh): their wall clock is stepped from outside while they run, back or forward 60 s, as
// NTP, a VM resume or an admin steps a node's, while their monotonic clock is left alone
// (FAKETIME_DONT_FAKE_MONOTONIC=1). libfaketime rereads the step from a file on every time call
// (FAKETIME_NO_CACHE=1). Node 24 reads the wall clock through the calls libfaketime wraps
// (Date.now(), performance.timeOrigin) and its timers and performance.now() through
// CLOCK_MONOTONIC, which is left alone. Issue 14 saw, before the monotonic clock: stepped back, the
// app logged "crashed" but /health stayed 200 a minute more and the sidecar stopped probing;
// stepped forward, /health answered 500 at 1 s with CRASH_AFTER=3.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { APP_ENTRY, assertBuilt, SIDECAR_ENTRY } from "../../test/built.ts";
import { eventually, freePort, sleep, start, type Started } from "../../test/processes.ts";

/** libfaketime.so.1 for this machine's CPU, where Debian's libfaketime puts it. */
function libfaketime(): string {
  const found = readdirSync("/usr/lib")
    .map((dir) => join("/usr/lib", dir, "faketime", "libfaketime.so.1"))
    .find((path) => existsSync(path));
  if (!found) throw new Error("libfaketime.so.1 is not under /usr/lib/*/faketime/: install Debian's faketime (.ci/setup.sh does)");
  return found;
}

const CRASH_AFTER_S = 3;
const PERIOD_S = 0.2;
const started: Started[] = [];
let dir: string;

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "crashy-faketime-"));
});
afterAll(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop("SIGKILL")));
  rmSync(dir, { recursive: true, force: true });
});

type Probes = { probes: { type: string; counters: { probes: number } }[] };

async function status(url: string, path: string): Promise<number> {
  return (await fetch(`${url}${path}`, { signal: AbortSignal.timeout(1_000) })).status;
}

describe("the wall clock stepped under the running programs (libfaketime)", () => {
  test.each([
    ["back", "-60s"],
    ["forward", "+60s"],
  ])("stepped %s 60 s at 1 s: /health fails at CRASH_AFTER=3, not before nor a minute late; the sidecar keeps probing and stays healthy", async (name, step) => {
    const offset = join(dir, `${name}.rc`);
    writeFileSync(offset, "+0\n");
    const faked = {
      LD_PRELOAD: libfaketime(),
      FAKETIME_TIMESTAMP_FILE: offset,
      FAKETIME_NO_CACHE: "1",
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
    };
    const [appPort, sidecarPort] = [await freePort(), await freePort()];
    const app = `http://127.0.0.1:${appPort}`;
    const sidecar = `http://127.0.0.1:${sidecarPort}`;
    const appProcess = await start(APP_ENTRY, { ...faked, PORT: String(appPort), HOST: "127.0.0.1", CRASH_AFTER: String(CRASH_AFTER_S) }, /listening on/);
    const listened = performance.now();
    started.push(appProcess);
    started.push(
      await start(
        SIDECAR_ENTRY,
        {
          ...faked,
          PORT: String(sidecarPort),
          HOST: "127.0.0.1",
          LIVENESS_PROBE_URL: `${app}/health`,
          LIVENESS_PROBE_PERIOD_SECONDS: String(PERIOD_S),
          LIVENESS_PROBE_FAILURE_THRESHOLD: "1000",
          METRICS_URL: `${app}/metrics`,
        },
        /listening on/,
      ),
    );
    const probes = async () => ((await (await fetch(`${sidecar}/api/status`)).json()) as Probes).probes[0]!.counters.probes;

    await sleep(Math.max(0, 1_000 - (performance.now() - listened)));
    expect(await status(app, "/health")).toBe(200);
    writeFileSync(offset, `${step}\n`);
    const probesAtStep = await probes();

    // /health until it fails, every 50 ms, for at most 6 s (a minute late is a failure too).
    let failedAt: number | undefined;
    for (let i = 0; i < 120 && failedAt === undefined; i++) {
      if ((await status(app, "/health")) === 500) failedAt = (performance.now() - listened) / 1000;
      else await sleep(50);
    }
    expect(failedAt, "/health never answered 500 within 6 s of the step").toBeDefined();
    // The crash counts from the process start, a little before "listening": never before 2 s, not
    // a second late. Before the monotonic clock: ~1 s forward, ~63 s back.
    expect(failedAt!).toBeGreaterThan(CRASH_AFTER_S - 1);
    expect(failedAt!).toBeLessThan(CRASH_AFTER_S + 1);
    // Logged at the same instant; its line may reach us through the pipe a moment after the 500.
    await eventually(async () => (/crashed after 3 s \(CRASH_AFTER\)/.test(appProcess.output()) ? true : undefined), 2_000, "the crash line");
    expect(appProcess.output()).toMatch(/crashed after 3 s \(CRASH_AFTER\)/);

    // The sidecar: at its period since the step (at least half the beats, on a loaded machine), and its own liveness is fine.
    const since = (performance.now() - listened) / 1000 - 1;
    expect((await probes()) - probesAtStep).toBeGreaterThanOrEqual(Math.floor(since / PERIOD_S / 2));
    expect(await status(sidecar, "/healthz")).toBe(200);
  });
});
