//! connect-operator: a shell-operator hook that manages Kafka Connect
//! connectors declared in ConfigMaps labelled `destination=connect`.

// Input never panics the hook: no unwrap, expect, indexing or panic outside
// tests. Arithmetic is not linted (arithmetic_side_effects): the counters are
// bounded by the lengths of collections in memory; what comes from input
// (annotations, Retry-After, settings) is added with checked or saturating
// operations where it is used.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, clippy::unreachable)
)]

mod bindings;
mod cli;
mod clusters;
mod configmap;
mod connect;
mod connector;
mod files;
mod gitops;
mod hook_config;
#[cfg(test)]
mod invariants;
mod logging;
mod ownership;
mod parallel;
mod plan;
mod properties;
mod reconcile;
mod redact;
mod report;
mod sandbox;
mod status;
mod template;
mod validate;

fn main() -> std::process::ExitCode {
    cli::main()
}
