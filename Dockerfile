# syntax=docker/dockerfile:1
# connect-operator on shell-operator: a static (musl) release binary added to
# the pinned shell-operator image. Build: docker build -t IMAGE .
ARG RUST_VERSION=1.95
ARG SHELL_OPERATOR_VERSION=v1.20.3

FROM rust:${RUST_VERSION}-alpine3.22 AS build
# Alpine's Rust targets musl and links statically; ring's C code needs musl-dev.
# Alpine drops old package versions, so pinning them would break rebuilds.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY benches ./benches
# Dependencies first, in their own layer: editing src/ does not rebuild them.
RUN mkdir src && echo 'fn main() {}' > src/main.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src ./src
# touch: the placeholder main.rs above is newer than nothing in src/.
RUN touch src/main.rs \
    && cargo build --release --locked \
    && install -m 0755 target/release/connect-operator /connect-operator

FROM ghcr.io/flant/shell-operator:${SHELL_OPERATOR_VERSION}
COPY --from=build /connect-operator /usr/local/bin/connect-operator
# shell-operator runs every executable under /hooks (SHELL_OPERATOR_HOOKS_DIR).
COPY --chmod=0755 hooks/ /hooks/
