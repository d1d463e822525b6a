//! jaq's parse and compile errors, said with `line:column` inside the
//! template they are about.

use jaq_core::compile;
use jaq_core::load::{self, lex};

use crate::render::error::Located;

/// An undefined name, with the variables that are defined.
#[must_use]
pub fn undefined_message(found: &str, u: compile::Undefined, known: &[&str]) -> String {
    match u {
        compile::Undefined::Var if found == "$__loc__" => {
            "`$__loc__` is not supported in templates; a template's place is its ConfigMap and key, which every error names".into()
        }
        compile::Undefined::Var => {
            let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            format!(
                "undefined variable `{found}` (defined from properties files: {known}; the environment is `env.NAME` or `$ENV.NAME`)"
            )
        }
        compile::Undefined::Filter(arity) => format!("undefined filter `{found}/{arity}`"),
        u => format!("undefined {} `{found}`", u.as_str()),
    }
}

/// Lex and parse errors, each at `line:column` of `code`.
#[must_use]
pub fn load_errors(code: &str, e: load::Error<&str>) -> Vec<Located> {
    match e {
        load::Error::Io(errs) => {
            errs.into_iter().map(|(path, e)| Located::nowhere(format!("cannot load `{path}`: {e}"))).collect()
        }
        load::Error::Lex(errs) => errs.into_iter().map(|(expect, found)| lex_error(code, expect, found)).collect(),
        load::Error::Parse(errs) => errs
            .into_iter()
            .map(|(expect, found)| {
                let found_text = if found.is_empty() { "end of input".to_string() } else { format!("`{found}`") };
                at(code, found, &format!("expected {}, found {found_text}", expect.as_str()))
            })
            .collect(),
    }
}

fn lex_error(code: &str, expect: lex::Expect<&str>, found: &str) -> Located {
    let message = match expect {
        lex::Expect::Delim(open) => {
            let (line, col) = position(code, open);
            format!("expected closing delimiter for `{open}` opened at {line}:{col}")
        }
        e => format!("expected {}", e.as_str()),
    };
    at(code, found, &message)
}

/// `message` at a sub-slice of `code`.
fn at(code: &str, found: &str, message: &str) -> Located {
    let (line, col) = position(code, found);
    Located::at(line, col, message)
}

/// Where `part`, a sub-slice of `code` in every jaq error, starts in it;
/// anything else (a jaq bug) points at the end rather than panicking.
#[must_use]
pub fn offset(code: &str, part: &str) -> usize {
    let (start, base) = (part.as_ptr() as usize, code.as_ptr() as usize);
    if start >= base && start <= base + code.len() {
        start - base
    } else {
        code.len()
    }
}

fn position(code: &str, part: &str) -> (usize, usize) {
    line_col(code, offset(code, part))
}

/// Line and column (both from 1) of a byte offset.
#[must_use]
pub fn line_col(code: &str, offset: usize) -> (usize, usize) {
    let before = code.get(..offset).unwrap_or(code);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
