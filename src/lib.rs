//! connect-operator: a shell-operator hook that manages Kafka Connect
//! connectors declared in ConfigMaps labelled `destination=connect`, and
//! the same engine for a repository's manifests (`render`, `diff`, ...).
//!
//! A library so that the fuzz targets (`fuzz/`) reach the parsers the hook
//! uses; the program is `main.rs`.

// Input never panics the hook: no unwrap, expect, indexing or panic outside
// tests. Arithmetic is not linted (arithmetic_side_effects): the counters are
// bounded by the lengths of collections in memory; what comes from input
// (annotations, Retry-After, settings) is added with checked or saturating
// operations where it is used.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, clippy::unreachable)
)]

pub mod bindings;
pub mod cli;
pub mod clusters;
pub mod configmap;
pub mod connect;
pub mod connector;
pub mod files;
pub mod gitops;
pub mod hook_config;
#[cfg(test)]
mod invariants;
pub mod logging;
pub mod ownership;
pub mod parallel;
pub mod plan;
pub mod properties;
pub mod reconcile;
pub mod redact;
pub mod report;
pub mod sandbox;
pub mod status;
pub mod template;
pub mod validate;
