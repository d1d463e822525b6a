# Shared by e2e/fetch, e2e/up, e2e/down and e2e/test: where things live.
# shellcheck shell=bash
E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$E2E_DIR/.." && pwd)"
# shellcheck source=e2e/versions
source "$E2E_DIR/versions"

# Built programs and jars, outside the clone, keyed by version: a machine's
# second run is warm, and a fresh machine fetches what it lacks.
CACHE_ROOT="${CONNECT_OPERATOR_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/connect-operator-e2e}"
KAFKA_DIR="$CACHE_ROOT/kafka-$KAFKA_VERSION-log4j-$LOG4J_VERSION"
GO_BIN="$CACHE_ROOT/bin"
SHELL_OPERATOR_BIN="$GO_BIN/shell-operator-$SHELL_OPERATOR_VERSION"
ETCD_BIN="$GO_BIN/etcd-$ETCD_VERSION"
# kube_bin NAME: a program of Kubernetes' own, built by e2e/fetch.
KUBERNETES_PROGRAMS=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet)
kube_bin() { echo "$GO_BIN/$1-$KUBERNETES_VERSION"; }
SHELL_OPERATOR_VENDOR="${SHELL_OPERATOR_VENDOR:-$ROOT/../shared/vendor/shell-operator}"

# What e2e/up starts: its state (pids, logs, data) lives here, one per clone.
RUN_DIR="${CONNECT_OPERATOR_E2E_RUN:-$ROOT/target/e2e}"

# The images the node runs (e2e/images/build), in buildah's storage inside
# the cache. Each stand-in's tag is made of what it is built from.
IMAGES_CACHE="$CACHE_ROOT/images"
BUILDAH_ROOT="$CACHE_ROOT/buildah"
BUILDAH_RUNROOT="$RUN_DIR/buildah"
_tag() { cat "$@" | sha256sum | cut -c1-12; }
SHELL_OPERATOR_IMAGE="localhost/e2e/shell-operator:$SHELL_OPERATOR_VERSION-$(_tag "$E2E_DIR/images/shell-operator/Containerfile" "$E2E_DIR/versions")"
RUST_IMAGE="localhost/e2e/rust:$(rustc --version | cut -d' ' -f2)-musl-$(_tag "$E2E_DIR/images/rust/Containerfile" "$E2E_DIR/versions")"
PAUSE_IMAGE="localhost/e2e/pause:$(_tag "$E2E_DIR/images/pause/"*)"
# Named as a user names a private image; kubelet finds it imported, pulls nothing.
OPERATOR_IMAGE="localhost/connect-operator:e2e"
# Where the FileStream connectors of the suite read and write.
E2E_FILES="$RUN_DIR/files"

log() { printf '%s e2e: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    log "FAIL: $*"
    exit 1
}

# Whether a program e2e/up started still runs.
running() {
    local pid
    pid="$(cat "$RUN_DIR/$1.pid" 2>/dev/null)" && kill -0 "$pid" 2>/dev/null
}

# stop NAME: SIGTERM to its process group (each program leads its own),
# SIGKILL after 10 s. bash's builtin kill, with `--`: procps-ng's
# /usr/bin/kill misreads a negative pid.
stop() {
    local pid
    running "$1" || return 0
    pid="$(cat "$RUN_DIR/$1.pid")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.25
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
}
