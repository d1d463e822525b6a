//! Rendering: template variables, jq templates run in a sandbox, and the
//! rules that keep secrets out of everything printed.

pub mod cache;
pub mod error;
pub mod jaq_errors;
pub mod namespaces;
pub mod pipes;
pub mod sandbox;
pub mod shape;
pub mod template;
pub mod variables;
pub mod worker;
