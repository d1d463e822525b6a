//! The fast integration tests in one binary, so that the support and the
//! dependencies link once; the end-to-end suite (tests/e2e.rs) is its own binary.

#[path = "../support/mod.rs"]
mod support;

mod argocd;
mod cli;
mod cluster;
mod clusters;
mod completions;
mod config;
mod day2;
mod deploy;
mod exit_status;
mod export;
mod fake_connect;
mod gitops;
mod help;
mod hook;
mod jq16;
mod metrics_port;
mod migration;
mod operator;
mod predecessors;
mod rename;
mod render;
mod secrets_by_namespace;
mod settings;
mod tenancy;
mod tls;
mod validate;

use std::path::Path;

use support::fake_connect::FakeConnect;

/// The repository's root, where the README, the examples and the fixtures are.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Each request the fake Connect received, as `METHOD path`.
fn methods(fake: &FakeConnect) -> Vec<String> {
    fake.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect()
}
