#!/usr/bin/env bash
# Installs what the tests use for real on a Debian machine (as root): Debian's prometheus (and
# promtool), prometheus-blackbox-exporter, chromium (the sidecar page's screenshot), wrk (the
# benchmark), the npm packages, and docker.io with a local base image (.ci/docker.sh).
# Idempotent: what is already there is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

packages=()
command -v promtool >/dev/null || packages+=(prometheus)
command -v prometheus-blackbox-exporter >/dev/null || packages+=(prometheus-blackbox-exporter)
command -v chromium >/dev/null || packages+=(chromium)
command -v wrk >/dev/null || packages+=(wrk)
if ((${#packages[@]})); then
  echo "setup: installing ${packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
echo "setup: debian packages ready after $((SECONDS - started)) s"

npm ci --no-audit --no-fund
echo "setup: npm ci done after $((SECONDS - started)) s"

# The container images' test needs a Docker engine and a local base image (no registry here).
bash .ci/docker.sh >/dev/null
echo "setup: docker ready after $((SECONDS - started)) s"
