//! Templates answer as jq 1.6 answers, because our users' templates were
//! written for the streaming-ops hook, which ran jq 1.6. jaq runs them;
//! this crate holds what makes jaq's answers jq 1.6's: how values are
//! written, definitions and native filters where jaq's builtins differ,
//! rewrites of syntax whose meaning differs, and the refusal of the few
//! constructs jaq cannot parse. It knows nothing of the operator, so a
//! change to the operator does not recompile it. The operator's
//! `tests/jq16.rs` measures the result against jq 1.6's own test suite.

// The operator's lints: templates are input, and input never panics the hook.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, clippy::unreachable)
)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::pedantic))]
// The operator's exceptions to clippy::pedantic, for its reasons (its lib.rs).
#![allow(clippy::doc_markdown, clippy::missing_errors_doc, clippy::format_push_string)]

pub mod builtins;
pub mod dump;
pub mod errors;
pub mod natives;
pub mod number;
pub mod path_exprs;
pub mod paths;
pub mod refuse;
pub mod regex;
pub mod rewrite;
pub mod terms;

use jaq_core::load::{self, parse::Def};

/// jaq's definitions with ours: the early ones first, in place of jaq's
/// of the same name (jaq's later definitions use them: how values become
/// text), the late ones last, shadowing jaq's.
#[must_use]
pub fn defs() -> Vec<Def<&'static str>> {
    let early = parse(include_str!("early.jq"));
    let replaced = |d: &Def<&str>| early.iter().any(|e| e.name == d.name && e.args.len() == d.args.len());
    let jaq: Vec<_> =
        jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs()).filter(|d| !replaced(d)).collect();
    early.into_iter().chain(jaq).chain(parse(include_str!("late.jq"))).collect()
}

fn parse(code: &'static str) -> Vec<Def<&'static str>> {
    // Ours, and tested: they always parse.
    load::parse(code, |p| p.defs()).unwrap_or_default()
}
