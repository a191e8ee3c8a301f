# The golb BuildKit frontend image: a single static binary on scratch, for
# linux/amd64 and linux/arm64, cross-compiled on the build machine (no QEMU).
#
# Publish (docs/install.md):
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) \
#     -t REGISTRY/golb:0.1.0 --push .
#
# scripts/harness builds this same file without pulling rust: it passes
# --opt build-arg:GOLB_BINARY_STAGE=prebuilt and a named context "prebuilt"
# (a local directory holding <os>/<arch>/golb, built on the host), so the
# "build" stage below is never reached.
ARG RUST_VERSION=1
ARG GOLB_BINARY_STAGE=build

# Runs on the build machine's platform for every target platform: Rust
# cross-compiles, with the target's C linker and libc from Debian.
FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-bookworm AS build
ARG BUILDARCH
ARG TARGETOS
ARG TARGETARCH
# The commit `golb --version` reports (frontend/build.rs reads GOLB_REVISION).
ARG REVISION=unknown
# Where this golb's images are published: the default `# syntax=` of `golb init`.
ARG IMAGE_REPOSITORY=
RUN set -eux; \
    case "${TARGETARCH}" in \
      amd64) triple=x86_64-unknown-linux-gnu; cross=x86-64-linux-gnu; libc=amd64 ;; \
      arm64) triple=aarch64-unknown-linux-gnu; cross=aarch64-linux-gnu; libc=arm64 ;; \
      *) echo "unsupported target architecture: ${TARGETARCH}" >&2; exit 1 ;; \
    esac; \
    if [ "${TARGETARCH}" = "${BUILDARCH}" ]; then \
      linker=cc; \
    else \
      apt-get update; \
      apt-get install -y --no-install-recommends "gcc-${cross}" "libc6-dev-${libc}-cross"; \
      rm -rf /var/lib/apt/lists/*; \
      linker="${cross}-gcc"; \
    fi; \
    rustup target add "${triple}"; \
    printf '%s %s\n' "${triple}" "${linker}" > /target
WORKDIR /src
COPY . .
# crt-static on the gnu targets gives a static ELF with no interpreter, so
# it runs from scratch; with --target, RUSTFLAGS do not reach proc-macros
# and build scripts, which run here on the build machine.
RUN --mount=type=cache,id=golb-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=golb-cargo-target,target=/src/target,sharing=locked \
    set -eux; \
    read -r triple linker < /target; \
    env_triple="$(echo "${triple}" | tr 'a-z-' 'A-Z_')"; \
    export "CARGO_TARGET_${env_triple}_LINKER=${linker}"; \
    GOLB_REVISION="${REVISION}" GOLB_IMAGE_REPOSITORY="${IMAGE_REPOSITORY}" \
    RUSTFLAGS="-C target-feature=+crt-static" \
      cargo build --release --locked -p golb --target "${triple}"; \
    install -D -m 0755 "target/${triple}/release/golb" "/${TARGETOS}/${TARGETARCH}/golb"

# Either the stage above or the harness's named context "prebuilt".
FROM ${GOLB_BINARY_STAGE} AS binary

FROM scratch
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/golb-build/golb
COPY --from=binary /${TARGETOS}/${TARGETARCH}/golb /golb
LABEL org.opencontainers.image.title="golb" \
      org.opencontainers.image.description="BuildKit frontend that builds Go services into small, non-root, reproducible images" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
ENTRYPOINT ["/golb"]
