//! Templates answer as jq 1.6 answers, because our users' templates were
//! written for the streaming-ops hook, which ran jq 1.6. jaq runs them;
//! this module holds what makes jaq's answers jq 1.6's: how values are
//! written, definitions and native filters where jaq's builtins differ,
//! rewrites of syntax whose meaning differs, and the refusal of the few
//! constructs jaq cannot parse. `tests/jq16.rs` measures the result
//! against jq 1.6's own test suite.

pub mod dump;
pub mod errors;
pub mod natives;
pub mod number;
pub mod paths;
pub mod refuse;
pub mod regex;
pub mod rewrite;

use jaq_core::load::{self, parse::Def};

/// Definitions that go before jaq's, replacing jaq's of the same name.
#[must_use]
pub fn early_defs() -> Vec<Def<&'static str>> {
    parse(include_str!("early.jq"))
}

/// Definitions that go after jaq's, shadowing them.
#[must_use]
pub fn late_defs() -> Vec<Def<&'static str>> {
    parse(include_str!("late.jq"))
}

fn parse(code: &'static str) -> Vec<Def<&'static str>> {
    // Ours, and tested: they always parse.
    load::parse(code, |p| p.defs()).unwrap_or_default()
}
