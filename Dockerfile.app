# crashy-app: the crashy service on Node (the default target), Deno, Bun or workerd (--target).
#   npm ci
#   docker build -f Dockerfile.app -t crashy-app:1.0.0 .
#   docker build -f Dockerfile.app --target deno -t crashy-app:1.0.0-deno .
#   docker build -f Dockerfile.app --target bun -t crashy-app:1.0.0-bun .
#   docker build -f Dockerfile.app --target workerd -t crashy-app:1.0.0-workerd .
# BASE is a Debian (glibc) Node LTS image with npm. Without a registry, pass a local one:
#   --build-arg BASE=$(bash .ci/docker.sh)
# No Dockerfile syntax line: the engine's built-in frontend needs no registry either.
# Any CPU (amd64, arm64): the stages that make JavaScript run on the building machine's CPU
# (BUILDPLATFORM), with the native packages that `npm ci` installed there (tsc, rolldown); node,
# deno and their libraries come from BASE for the image's CPU (TARGETARCH, --platform). A local
# base image is one CPU's: for another CPU's image, pass the building machine's as BUILD_BASE.
ARG BASE=node:24-bookworm-slim
ARG BUILD_BASE=${BASE}

# Dependencies come from the context, installed by `npm ci` beforehand, so the build needs no
# network; `npm ls` stops it when node_modules does not match package-lock.json. The runtimes'
# binaries (deno, bun, workerd: 350 MB) stay out of this layer: each is read, through a bind
# mount, by its own target's stage alone, so no other build copies or caches them.
FROM --platform=$BUILDPLATFORM ${BUILD_BASE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=bind,source=node_modules,target=/context/node_modules \
    mkdir node_modules && \
    tar -C /context/node_modules --exclude=./deno --exclude=./@deno --exclude=./bun --exclude=./@oven \
      --exclude=./workerd --exclude=./@cloudflare -cf - . | tar -C node_modules -xf - && \
    npm ls --omit=dev --all >/dev/null

# The Node, Bun and workerd images each run one bundle (dist/bundle/app.mjs, app-bun.mjs,
# worker.mjs) with the npm packages inside it.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json bundle.mjs ./
COPY lib lib
COPY services/src services/src
COPY services/workerd services/workerd
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json && node bundle.mjs app

# Deno's production dependencies (the Node image needs none beside its bundle).
FROM deps AS prod-deps
RUN npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund && \
    find node_modules -xtype l -delete && find node_modules -depth -type d -empty -delete

# Node and the shared libraries it loads, at fixed paths: the final stage has no shell or npm.
FROM ${BASE} AS node-rootfs
RUN set -eu; \
    mkdir -p /rootfs/usr/local/bin /rootfs/tmp; chmod 1777 /rootfs/tmp; \
    node=$(command -v node); cp -L "$node" /rootfs/usr/local/bin/node; \
    for lib in $(ldd "$node" | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }'); do \
      cp -L --parents "$lib" /rootfs/; \
    done; \
    /rootfs/usr/local/bin/node --version

# Deno runs the TypeScript sources, with the npm packages from node_modules. They are compiled
# into DENO_DIR here, by the image's own deno, since at run time the root filesystem is read-only.
# The deno package installs the binary for the CPU `npm ci` ran on: another CPU's image needs
# its @deno/linux-<cpu>-glibc package in node_modules too (the README says how).
FROM ${BASE} AS deno-build
ARG TARGETARCH
ENV DENO_DIR=/deno-dir
WORKDIR /app
RUN --mount=type=bind,source=node_modules/@deno,target=/deno-packages set -eu; \
    cpu=$(case "$TARGETARCH" in amd64) echo x64 ;; *) echo "$TARGETARCH" ;; esac); \
    deno=/deno-packages/linux-$cpu-glibc/deno; \
    [ -x "$deno" ] || { echo "node_modules has no @deno/linux-$cpu-glibc, the deno of $TARGETARCH images" >&2; exit 1; }; \
    mkdir -p /rootfs/usr/local/bin /rootfs/tmp; chmod 1777 /rootfs/tmp; cp -L "$deno" /rootfs/usr/local/bin/deno; \
    for lib in $(ldd "$deno" | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }'); do \
      cp -L --parents "$lib" /rootfs/; \
    done
COPY --from=deps /app/package.json ./
COPY --from=prod-deps /app/node_modules /app/node_modules
COPY lib lib
COPY services/src services/src
RUN /rootfs/usr/local/bin/deno cache services/src/deno.ts && chmod -R a+rX "$DENO_DIR"

FROM scratch AS deno
COPY --from=deno-build /rootfs /
COPY --from=deno-build /deno-dir /deno-dir
WORKDIR /app
COPY --from=deno-build /app/package.json ./
COPY --from=deno-build /app/node_modules node_modules
COPY --from=deno-build /app/lib lib
COPY --from=deno-build /app/services/src services/src
ENV DENO_DIR=/deno-dir DENO_NO_UPDATE_CHECK=1
USER 10001:10001
EXPOSE 8080
# V8's heap flags as in `npm run app:deno` (k8s/test/abuse.test.ts keeps them equal): a young
# generation of 1 MiB and an old one of 32 MiB keep the heap far below the memory limit (k8s/README.md).
CMD ["/usr/local/bin/deno", "run", "--cached-only", "--unstable-no-legacy-abort", "--allow-net", "--allow-env=PORT,HOST,CRASH_AFTER,CRASH_MODE,LOG_FORMAT,HOSTNAME,STARTUP_SECONDS,CONTROL", "--allow-sys=hostname", "--v8-flags=--max-semi-space-size=1,--max-old-space-size=32", "services/src/deno.ts"]

# Bun and workerd, each from its npm package for the image's CPU, and the libraries it loads, at
# fixed paths. npm ci installs this machine's CPU's package, whose bun the bun package's
# postinstall moves to node_modules/bun/bin/bun.exe; .ci/docker.sh adds another CPU's (the README
# says how), with its binary in place.
FROM ${BASE} AS bun-rootfs
ARG TARGETARCH
RUN --mount=type=bind,source=node_modules/@oven,target=/packages \
    --mount=type=bind,source=node_modules/bun/bin,target=/bun-bin set -eu; \
    cpu=$(case "$TARGETARCH" in amd64) echo x64 ;; arm64) echo aarch64 ;; *) echo "$TARGETARCH" ;; esac); \
    package=/packages/bun-linux-$cpu; \
    if [ -x "$package/bin/bun" ]; then bun="$package/bin/bun"; \
    elif [ -f "$package/package.json" ]; then bun=/bun-bin/bun.exe; \
    else echo "node_modules has no @oven/bun-linux-$cpu, the bun of $TARGETARCH images" >&2; exit 1; fi; \
    mkdir -p /rootfs/usr/local/bin /rootfs/tmp; chmod 1777 /rootfs/tmp; cp -L "$bun" /rootfs/usr/local/bin/bun; \
    for lib in $(ldd "$bun" | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }'); do \
      cp -L --parents "$lib" /rootfs/; \
    done; \
    /rootfs/usr/local/bin/bun --version

FROM ${BASE} AS workerd-rootfs
ARG TARGETARCH
RUN --mount=type=bind,source=node_modules/@cloudflare,target=/packages set -eu; \
    cpu=$(case "$TARGETARCH" in amd64) echo 64 ;; *) echo "$TARGETARCH" ;; esac); \
    workerd=/packages/workerd-linux-$cpu/bin/workerd; \
    [ -x "$workerd" ] || { echo "node_modules has no @cloudflare/workerd-linux-$cpu, the workerd of $TARGETARCH images" >&2; exit 1; }; \
    mkdir -p /rootfs/usr/local/bin /rootfs/tmp; chmod 1777 /rootfs/tmp; cp -L "$workerd" /rootfs/usr/local/bin/workerd; \
    for lib in $(ldd "$workerd" | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }'); do \
      cp -L --parents "$lib" /rootfs/; \
    done; \
    /rootfs/usr/local/bin/workerd --version

# Bun and the Bun bundle, as the Node image: bun itself as PID 1 handles SIGTERM.
FROM scratch AS bun
COPY --from=bun-rootfs /rootfs /
WORKDIR /app
COPY --from=build /app/dist/bundle/app-bun.mjs ./
USER 10001:10001
EXPOSE 8080
CMD ["/usr/local/bin/bun", "app-bun.mjs"]

# workerd and the worker with its config. workerd as PID 1 stops on SIGTERM once the requests in
# flight are answered. It listens where the config says, *:8080: PORT and HOST are checked, but
# only a command line that ends in `--socket-addr http=<host>:<port>` moves the socket.
FROM scratch AS workerd
COPY --from=workerd-rootfs /rootfs /
WORKDIR /app
COPY --from=build /app/dist/bundle/worker.mjs /app/dist/bundle/crashy.capnp ./
USER 10001:10001
EXPOSE 8080
CMD ["/usr/local/bin/workerd", "serve", "crashy.capnp"]

# The default target: Node and the bundled app (no node_modules: the bundle holds its packages).
FROM scratch AS node
COPY --from=node-rootfs /rootfs /
WORKDIR /app
COPY --from=build /app/dist/bundle/app.mjs ./
ENV NODE_ENV=production
# Numeric, so the kubelet can check runAsNonRoot without an /etc/passwd.
USER 10001:10001
EXPOSE 8080
# node itself as PID 1 (no npm, no shell): it receives SIGTERM and the app stops within a second.
# V8's flags as in `npm run app` (k8s/test/abuse.test.ts keeps them equal; k8s/README.md says why).
CMD ["/usr/local/bin/node", "--max-semi-space-size=1", "--max-old-space-size=32", "--no-maglev", "app.mjs"]
