#!/usr/bin/env bash
# Readies this machine to build and run crashy's images with no image registry:
#   1. Debian's docker.io (and debootstrap),
#   2. a dockerd that leaves the host's network alone (no bridge, no iptables, no ip_forward):
#      the containers use --network none or share another container's network,
#   3. a local Node base image, passed to the Dockerfiles as --build-arg BASE=...:
#      Debian bookworm (debootstrap, minbase) + Node and npm from the npm registry.
# The image is for this machine's CPU; ARCH=arm64 (or amd64) makes one for another CPU, which
# needs qemu-user-static: this script installs it and registers it with the kernel (binfmt_misc),
# and adds that CPU's deno, bun and workerd packages to node_modules, for Dockerfile.app's targets.
# Idempotent: each step is skipped when its result is already there. Prints the base image name last.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/.ci/node.sh" # NODE_VERSION (.nvmrc), node_cpu, fetch_node

NPM_VERSION=${NPM_VERSION:-11.6.2}
# Docker's and Debian's name for the CPU (amd64, arm64); Node's is x64 or arm64.
HOST_ARCH=$(dpkg --print-architecture)
ARCH=${ARCH:-$HOST_ARCH}
NODE_CPU=$(node_cpu "$ARCH")
BASE_IMAGE=${BASE_IMAGE:-crashy-base/node:${NODE_VERSION}-bookworm-${ARCH}}
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

# Another CPU's programs run under qemu's user-mode emulation, which the kernel starts for them.
if [ "$ARCH" != "$HOST_ARCH" ]; then
  qemu=qemu-$(case "$ARCH" in arm64) echo aarch64 ;; amd64) echo x86_64 ;; *) echo "$ARCH" ;; esac)
  if ! grep -qx enabled "/proc/sys/fs/binfmt_misc/$qemu" 2>/dev/null; then
    # Mounted first, so that the packages' own set-up registers qemu with the kernel.
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    if ! dpkg -s qemu-user-static binfmt-support >/dev/null 2>&1; then
      log "installing qemu-user-static and binfmt-support, to make and run $ARCH images"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null
    fi
    update-binfmts --enable "$qemu" >/dev/null 2>&1 || true
  fi
  grep -qx enabled "/proc/sys/fs/binfmt_misc/$qemu" 2>/dev/null ||
    { log "the kernel does not run $ARCH programs through $qemu (binfmt_misc): see update-binfmts --display $qemu"; exit 1; }
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
  debootstrap --arch="$ARCH" --variant=minbase bookworm "$work/rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  # The npm registry ships Node's official Linux build as a package; npm pack checks its integrity.
  install -m 0755 "$(fetch_node "$NODE_CPU" "$work")" "$work/rootfs/usr/local/bin/node"
  (cd "$work" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$work/rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  # Built FROM scratch rather than `docker import`ed: this engine's import ignores --platform,
  # and an image must name its CPU for builds and runs of another CPU to find it.
  mkdir "$work/context"
  tar -C "$work/rootfs" -cf "$work/context/rootfs.tar" .
  printf '%s\n' 'FROM scratch' 'ADD rootfs.tar /' \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["node"]' >"$work/context/Dockerfile"
  DOCKER_BUILDKIT=1 "$DOCKER" build -q --network none --platform "linux/$ARCH" -t "$BASE_IMAGE" "$work/context" >/dev/null
fi

# npm ci installs the deno, bun and workerd binaries of this machine's CPU only: another CPU's
# come from the npm registry, each at the version of its package in node_modules.
# add_package PACKAGE_DIR NAME VERSION_OF BINARY: unpacks NAME@<version of VERSION_OF> in PACKAGE_DIR
# unless its BINARY (a path inside it) is there.
add_package() {
  local dir=$1 name=$2 of=$3 binary=$4 version packed
  [ "$ARCH" != "$HOST_ARCH" ] && [ -f "$ROOT/node_modules/$of/package.json" ] && [ ! -x "$ROOT/$dir/$binary" ] || return 0
  version=$(node -p 'require(process.argv[1]).version' "$ROOT/node_modules/$of/package.json")
  log "adding $dir@$version"
  packed=$(mktemp -d)
  (cd "$packed" && npm pack --silent "$name@$version" >/dev/null)
  mkdir -p "$ROOT/$dir"
  tar -xzf "$packed"/*.tgz -C "$ROOT/$dir" --strip-components=1
  rm -rf "$packed"
}
add_package "node_modules/@deno/linux-$NODE_CPU-glibc" "@deno/linux-$NODE_CPU-glibc" deno deno
# Bun's and workerd's names for the CPU: x64 or aarch64, 64 or arm64.
bun_cpu=$(case "$NODE_CPU" in arm64) echo aarch64 ;; *) echo "$NODE_CPU" ;; esac)
workerd_cpu=$(case "$NODE_CPU" in x64) echo 64 ;; *) echo "$NODE_CPU" ;; esac)
add_package "node_modules/@oven/bun-linux-$bun_cpu" "@oven/bun-linux-$bun_cpu" bun bin/bun
add_package "node_modules/@cloudflare/workerd-linux-$workerd_cpu" "@cloudflare/workerd-linux-$workerd_cpu" workerd bin/workerd

echo "$BASE_IMAGE"
