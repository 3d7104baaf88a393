import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { envOf, loadPod, ManifestError } from "../src/manifest.ts";

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "crashy-manifest-")), "deployment.yaml");
  writeFileSync(path, text);
  return path;
}

describe("the pod read from k8s/", () => {
  it("is the lab's: crashy-app probed on /health every second, 3 failures, 1 s grace", () => {
    const pod = loadPod();
    expect(pod.deployment).toBe("crashy-app");
    expect(pod.app.name).toBe("crashy-app");
    expect(pod.app.image).toBe("crashy-app:1.0.0");
    expect(envOf(pod.app).CRASH_AFTER).toBe("60");
    expect(pod.app.probe).toMatchObject({
      path: "/health",
      port: 8080,
      periodSeconds: 1,
      failureThreshold: 3,
      successThreshold: 1,
      timeoutSeconds: 1,
      terminationGracePeriodSeconds: 1,
    });
  });

  it("has the probe sidecar as a native sidecar, on 9102", () => {
    const pod = loadPod();
    expect(pod.sidecars.map((s) => s.name)).toEqual(["probe-sidecar"]);
    expect(pod.sidecars[0]!.ports[0]!.containerPort).toBe(9102);
  });
});

const MINIMAL = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: demo}
spec:
  template:
    spec:
      containers:
        - name: web
          image: crashy-app:1.0.0
          ports: [{name: http, containerPort: 8081}]
          livenessProbe:
            httpGet: {path: /health, port: http}
`;

describe("loadPod", () => {
  it("fills in the API server's probe defaults and the pod's grace period", () => {
    const pod = loadPod(file(MINIMAL));
    expect(pod.app.probe).toEqual({
      path: "/health",
      port: 8081,
      initialDelaySeconds: 0,
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
      terminationGracePeriodSeconds: 30,
    });
  });

  it("names a probe port that no container port carries", () => {
    expect(() => loadPod(file(MINIMAL.replace("port: http}", "port: web}")))).toThrow(
      /container web: no port named "web"/,
    );
  });

  it("names the field that is wrong", () => {
    expect(() => loadPod(file(MINIMAL.replace("httpGet: {path: /health, port: http}", "httpGet: {path: /health, port: http}\n            periodSeconds: fast")))).toThrow(
      /spec\.template\.spec\.containers\.0\.livenessProbe\.periodSeconds/,
    );
  });

  it("refuses a file without a Deployment", () => {
    expect(() => loadPod(file("kind: Service\nmetadata: {name: x}\n"))).toThrow(ManifestError);
  });
});
