//! connect-operator: a shell-operator hook that manages Kafka Connect
//! connectors declared in ConfigMaps labelled `destination=connect`, and
//! the same engine for a repository's manifests (`render`, `diff`, ...).
//!
//! Data flows one way, and each room imports only the rooms above it in
//! this list:
//!
//! - `text`, `deadline`, `parallel`, `logging`: words, deadlines, threads and log lines.
//! - `metrics_port`: the Pod's metrics port, passing on only shell-operator's metrics.
//! - `model`: ConfigMaps, connectors, live state, recorded status.
//! - `input`: binding contexts, manifests on disk, `--config`.
//! - `render`: variables, templates in a sandbox, redaction.
//! - `connect`: the Connect REST client and the clusters file.
//! - `predecessors`: the Pod's init container, waiting for the Pods before it to stop.
//! - `desired`: ConfigMaps -> desired connectors, for every command.
//! - `plan`: desired + live -> what to do, with no I/O.
//! - `settings`: flags and environment -> validated settings.
//! - `execute`: the plan's writes and what became of them.
//! - `writeback`: annotations, Events, metrics, the ownership record.
//! - `hook`: one hook run; the only room that sees binding contexts.
//! - `gitops`: `render`, `diff`, `apply`, `status`, `validate`.
//! - `cli`: clap types. `main.rs` parses, runs and maps the exit status.
//!
//! A library so that the fuzz targets (`fuzz/`) reach the parsers the hook
//! uses.

// Input never panics the hook: no unwrap, expect, indexing or panic outside
// tests. Arithmetic is not linted (arithmetic_side_effects): the counters are
// bounded by the lengths of collections in memory; what comes from input
// (annotations, Retry-After, settings) is added with checked or saturating
// operations where it is used.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, clippy::unreachable)
)]
#![warn(missing_docs)]
// Pedantic for the program; unit tests are held to the default lints.
#![cfg_attr(not(test), warn(clippy::pedantic))]
// Deliberate exceptions to clippy::pedantic:
// - doc_markdown: doc comments of the clap types are the --help text, and
//   prose names Kubernetes kinds (ConfigMap) and environment variables
//   (BINDING_CONTEXT_PATH) as people type them; backticks would show there.
// - missing_errors_doc: every error is an anyhow chain or a Failure that
//   names its file, key or request and the cause; an `# Errors` section
//   would repeat those messages beside each function.
// - format_push_string: printing tables, where `push_str(&format!(..))`
//   reads plainly and the extra allocation does not matter.
#![allow(clippy::doc_markdown, clippy::missing_errors_doc, clippy::format_push_string)]

pub mod cli;
pub mod completions;
pub mod connect;
pub mod day2;
pub mod deadline;
pub mod desired;
pub mod execute;
pub mod files;
pub mod gitops;
pub mod hook;
pub mod input;
#[cfg(test)]
mod invariants;
pub mod logging;
pub mod metrics_port;
pub mod model;
pub mod parallel;
pub mod plan;
pub mod predecessors;
pub mod redact;
pub mod render;
pub mod settings;
pub mod settle;
pub mod text;
pub mod writeback;
