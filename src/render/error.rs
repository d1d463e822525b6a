//! Why a template rendered no connector.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::connector::Connector;
use crate::text::format_size;

/// Each data key of a ConfigMap, and what its template rendered to.
pub type Templates = Vec<(String, Result<Connector, RenderError>)>;

/// Why a template rendered no connector. Its text is what the status, the
/// log and the commands say; it crosses from the worker to the hook as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RenderError {
    /// jaq cannot parse or compile it: each problem, at its place.
    Parse(Vec<Located>),
    /// It uses what a template may not: a construct jaq cannot run as jq 1.6
    /// does, a builtin jq 1.6 lacks, a module directive, a binary data key.
    Refused(Located),
    /// It raised an error as it ran (`error`, a type error, `halt`).
    Runtime(String),
    /// What it yielded is not one connector Connect accepts.
    Shape(String),
    /// It ran past the time a template has.
    Timeout(Duration),
    /// Its batch used more than this many bytes of memory (TEMPLATE_MEMORY_LIMIT).
    Memory(u64),
    /// The worker that rendered it failed: it crashed, its batch did not
    /// compile in time, or it answered what a worker never says.
    Worker(String),
    /// A fault of the renderer, not of the template.
    Internal(String),
}

/// A message, at `line:column` of the template where it has a place there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Located {
    /// The line and column, from 1.
    pub at: Option<(usize, usize)>,
    /// What is wrong there.
    pub message: String,
}

impl Located {
    /// `message` at `line:column`.
    #[must_use]
    pub fn at(line: usize, column: usize, message: impl Into<String>) -> Located {
        Located { at: Some((line, column)), message: message.into() }
    }

    /// `message`, about no place in particular.
    #[must_use]
    pub fn nowhere(message: impl Into<String>) -> Located {
        Located { at: None, message: message.into() }
    }
}

impl RenderError {
    /// The same error with each of its messages passed through `f`: to hide
    /// secrets or markers in it.
    #[must_use]
    pub fn map_message(self, f: impl Fn(&str) -> String) -> RenderError {
        let located = |l: Located| Located { message: f(&l.message), ..l };
        match self {
            RenderError::Parse(all) => RenderError::Parse(all.into_iter().map(located).collect()),
            RenderError::Refused(l) => RenderError::Refused(located(l)),
            RenderError::Runtime(m) => RenderError::Runtime(f(&m)),
            RenderError::Shape(m) => RenderError::Shape(f(&m)),
            RenderError::Worker(m) => RenderError::Worker(f(&m)),
            RenderError::Internal(m) => RenderError::Internal(f(&m)),
            RenderError::Timeout(_) | RenderError::Memory(_) => self,
        }
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((line, column)) => write!(f, "{line}:{column}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::Parse(all) => {
                for (i, l) in all.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{l}")?;
                }
                Ok(())
            }
            RenderError::Refused(l) => write!(f, "{l}"),
            RenderError::Runtime(m) | RenderError::Shape(m) | RenderError::Worker(m) | RenderError::Internal(m) => {
                f.write_str(m)
            }
            RenderError::Timeout(limit) => write!(f, "did not finish within {}", humantime::format_duration(*limit)),
            RenderError::Memory(limit) => write!(
                f,
                "used more than the {} of memory a template batch may use (TEMPLATE_MEMORY_LIMIT)",
                format_size(*limit)
            ),
        }
    }
}

impl std::error::Error for RenderError {}
