// The one place that names the Kubernetes release whose kubelet the kit follows. Every rule copied
// from kubernetes/kubernetes cites that release's sources; moving to a newer one starts here.

/** The kubelet's version, as k8s.io/component-base/version.Get() reports Major and Minor. */
export const KUBE_VERSION = { major: "1", minor: "33" } as const;

/**
 * pkg/probe/http/request.go userAgent("probe"): `fmt.Sprintf("kube-%s/%s.%s", purpose, v.Major, v.Minor)`,
 * what every HTTP probe sends unless its httpHeaders name a User-Agent.
 */
export const PROBE_USER_AGENT = `kube-probe/${KUBE_VERSION.major}.${KUBE_VERSION.minor}`;
