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
mod fake_connect;
mod gitops;
mod help;
mod hook;
mod jq16;
mod metrics_port;
mod migration;
mod operator;
mod render;
mod settings;
mod tls;
mod validate;
