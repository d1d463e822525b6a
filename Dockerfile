# syntax=docker/dockerfile:1
# Build a static (musl) binary, then add it to the shell-operator image.
FROM rust:1.95-alpine3.22 AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked && cp target/release/connect-operator /connect-operator

FROM ghcr.io/flant/shell-operator:v1.20.3
COPY --from=build /connect-operator /usr/local/bin/connect-operator
COPY hooks /hooks
