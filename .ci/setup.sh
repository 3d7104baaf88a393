#!/usr/bin/env bash
# Installs what the tests use for real on a Debian machine (as root): Node of .nvmrc's major
# when the machine's is another, Debian's prometheus (and promtool), prometheus-blackbox-exporter,
# chromium (the sidecar page's screenshot), wrk (the benchmark), the npm packages, and docker.io
# with local base images for this machine's CPU and the other one (.ci/docker.sh, which installs
# qemu-user-static for the other). Checks that kubectl can render k8s/.
# Idempotent: what is already there is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
source .ci/node.sh

# The manifest tests render k8s/ with `kubectl kustomize`, whose kustomize must know `labels:`
# (kustomize 4.1 and newer, in kubectl 1.22 and newer): say so now rather than inside a test.
kustomize_knows_labels() {
  local dir ok=1
  dir=$(mktemp -d)
  printf 'resources: [cm.yaml]\nlabels:\n  - pairs: {crashy-setup: labels}\n' >"$dir/kustomization.yaml"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe}\n' >"$dir/cm.yaml"
  if kubectl kustomize "$dir" 2>/dev/null | grep -q 'crashy-setup: labels'; then ok=0; fi
  rm -rf "$dir"
  return "$ok"
}
if ! command -v kubectl >/dev/null; then
  echo "setup: kubectl is missing. The tests render k8s/ with it: install kubectl 1.22 or newer" \
    "(https://kubernetes.io/docs/tasks/tools/; Debian's kubernetes-client is 1.20, too old), then run this again" >&2
  exit 1
elif ! kustomize_knows_labels; then
  echo "setup: $(command -v kubectl) is too old: its kustomize does not know \`labels:\` ($(kubectl version --client 2>/dev/null | tr '\n' ' '))." \
    "Install kubectl 1.22 or newer (https://kubernetes.io/docs/tasks/tools/), first on PATH, then run this again" >&2
  exit 1
fi

# Development, tests and CI run the images' Node major. Another major on PATH gets Node
# $NODE_VERSION from the npm package for this machine's CPU (the images' source too, .ci/docker.sh)
# in NODE_BIN_DIR: as root /usr/local/bin, which PATH searches before /usr/bin, so that `npm test`
# after this script runs on it too; otherwise ~/.local/bin.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none; }
if [ "$(node_major)" != "${NODE_VERSION%%.*}" ]; then
  if [ "$(id -u)" = 0 ]; then dir=${NODE_BIN_DIR:-/usr/local/bin}; else dir=${NODE_BIN_DIR:-$HOME/.local/bin}; fi
  echo "setup: installing Node $NODE_VERSION in $dir (node on PATH: $(node --version 2>/dev/null || echo none))"
  work=$(mktemp -d)
  node_bin=$(fetch_node "$(node_cpu "$(uname -m)")" "$work")
  mkdir -p "$dir"
  install -m 0755 "$node_bin" "$dir/node"
  rm -rf "$work"
  hash -r
  if [ "$(node_major)" != "${NODE_VERSION%%.*}" ]; then
    echo "setup: Node $NODE_VERSION is in $dir, but PATH finds $(command -v node) first:" \
      "run export PATH=\"$dir:\$PATH\" (and add it to your shell's profile), then this again" >&2
    exit 1
  fi
fi
echo "setup: node $(node --version) ($(command -v node))"

packages=()
command -v promtool >/dev/null || packages+=(prometheus)
command -v prometheus-blackbox-exporter >/dev/null || packages+=(prometheus-blackbox-exporter)
command -v chromium >/dev/null || packages+=(chromium)
command -v wrk >/dev/null || packages+=(wrk)
command -v faketime >/dev/null || packages+=(faketime)
if ((${#packages[@]})); then
  echo "setup: installing ${packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
echo "setup: debian packages ready after $((SECONDS - started)) s"

npm ci --no-audit --no-fund
echo "setup: npm ci done after $((SECONDS - started)) s"

# The container images' tests need a Docker engine and local base images (no registry here):
# one for this machine's CPU, one for the other (amd64 or arm64), whose images run under qemu.
bash .ci/docker.sh >/dev/null
case "$(dpkg --print-architecture)" in amd64) other=arm64 ;; *) other=amd64 ;; esac
ARCH=$other bash .ci/docker.sh >/dev/null
echo "setup: docker ready, for $(dpkg --print-architecture) and $other images, after $((SECONDS - started)) s"
