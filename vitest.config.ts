import { defineConfig } from "vitest/config";

// Tests that need no built program, server process, browser or container: `npm run test:unit`
// runs these alone, in seconds, for the inner loop. Everything else starts real parts.
const UNIT = [
  "lib/test/**/*.test.ts",
  "probe/test/{worker,handlers}.test.ts",
  "local/test/{backoff,events,format,kubelet,manifest,render,replicas,service,service-manifest}.test.ts",
  "services/test/{app,config,lifecycle,process-metrics,run,workerd}.test.ts",
  "sidecar/test/{config,exposition}.test.ts",
];
const IGNORED = ["node_modules/**", "dist/**"];
// Run after all the others, one at a time: the images under abuse at half a CPU judge probe
// timeouts, which other files' load on the machine's two cores would cause instead of the attack.
const ALONE = ["k8s/test/abuse.test.ts"];

export default defineConfig({
  test: {
    // Integration tests start real processes on loopback; give them room on a 2-core machine.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Most real-process files spend their time waiting on probe periods and crash timers, not on
    // the CPU: four files at once on 2 cores takes the suite from ~350 s to ~135 s. (vitest's
    // default, one fewer than the cores, runs them one by one here.)
    maxWorkers: 4,
    projects: [
      { extends: true, test: { name: "unit", include: UNIT, exclude: IGNORED } },
      { extends: true, test: { name: "real", include: ["**/*.test.ts"], exclude: [...IGNORED, ...UNIT, ...ALONE] } },
      { extends: true, test: { name: "alone", include: ALONE, exclude: IGNORED, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
