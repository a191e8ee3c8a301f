# The golb BuildKit frontend image: a single static binary on scratch.
#
# Publish:  docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/golb:TAG --push .
#
# scripts/harness builds this same file without pulling rust: it passes
# --opt build-arg:GOLB_BINARY_STAGE=prebuilt and a named context "prebuilt"
# (a local directory holding a host-built /golb), so the "build" stage below is
# never reached.
ARG RUST_VERSION=1
ARG GOLB_BINARY_STAGE=build

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# Static (crt-static on the gnu target gives a static-pie ELF with no
# interpreter), so it runs from scratch. Built natively for each target
# platform; with --target the flags do not reach proc-macros.
RUN --mount=type=cache,id=golb-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=golb-cargo-target,target=/src/target,sharing=locked \
    set -eux; \
    case "$(uname -m)" in \
      x86_64) triple=x86_64-unknown-linux-gnu ;; \
      aarch64) triple=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported architecture: $(uname -m)" >&2; exit 1 ;; \
    esac; \
    RUSTFLAGS="-C target-feature=+crt-static" \
      cargo build --release --locked -p golb --target "$triple"; \
    install -m 0755 "target/$triple/release/golb" /golb

# Either the stage above or the harness's named context "prebuilt".
FROM ${GOLB_BINARY_STAGE} AS binary

FROM scratch
COPY --from=binary /golb /golb
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
ENTRYPOINT ["/golb"]
