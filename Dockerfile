# syntax=docker/dockerfile:1
# connect-operator on shell-operator: a static (musl) release binary added to
# the pinned shell-operator image. Build: docker build -t IMAGE .
#
# The two images it starts from are build arguments, so that a machine with
# no registry can name local stand-ins (e2e/images does; docs/operate.md's
# "Deploy" section lists how they differ from these defaults):
#   BUILD_IMAGE: any image with cargo, the x86_64-unknown-linux-musl target
#                and a C compiler for it (ring's C code); on Alpine, whose
#                Rust targets musl, musl-dev is added below.
#   BASE_IMAGE:  shell-operator's image, which runs /hooks with
#                /sbin/tini -- /shell-operator start.
ARG RUST_VERSION=1.95
ARG SHELL_OPERATOR_VERSION=v1.20.3
ARG BUILD_IMAGE=rust:${RUST_VERSION}-alpine3.22
ARG BASE_IMAGE=ghcr.io/flant/shell-operator:${SHELL_OPERATOR_VERSION}

FROM ${BUILD_IMAGE} AS build
# Alpine drops old package versions, so pinning them would break rebuilds.
# hadolint ignore=DL3018
RUN if command -v apk >/dev/null; then apk add --no-cache musl-dev; fi
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates/jq16/Cargo.toml ./crates/jq16/
COPY benches ./benches
# The target is named, not left to the build image's host: the binary is
# static musl whatever the build image's libc.
ARG TARGET=x86_64-unknown-linux-musl
# Dependencies first, in their own layer: editing src/ does not rebuild them.
# The crate is a library and a binary, and the jq 1.6 layer (crates/jq16)
# a library of its own: each needs a placeholder.
RUN mkdir src crates/jq16/src && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs crates/jq16/src/lib.rs \
    && cargo build --release --locked --target "$TARGET" \
    && rm -rf src crates/jq16/src
COPY crates ./crates
COPY src ./src
# touch: the copied files are older than the placeholders' build, which
# cargo would otherwise take as up to date.
RUN touch src/main.rs src/lib.rs crates/jq16/src/lib.rs \
    && cargo build --release --locked --target "$TARGET" \
    && install -m 0755 "target/$TARGET/release/connect-operator" /connect-operator

FROM ${BASE_IMAGE}
COPY --from=build /connect-operator /usr/local/bin/connect-operator
# shell-operator runs every executable under /hooks (SHELL_OPERATOR_HOOKS_DIR).
COPY --chmod=0755 hooks/ /hooks/
