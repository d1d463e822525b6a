//! jaq's error messages said as jq 1.6 says them. A template sees an error
//! message only through `catch` (and the operator in the hook's log), so
//! the message a `catch` handler receives, and the one reported, is
//! rewritten when it is one of jaq's: indexing, iterating, arithmetic on
//! the wrong kinds, `length`, and invalid path expressions. Any other
//! message, a template's own `error(..)` included, is left as it is.

use jaq_json::Val;

use crate::dump::{cut, json, kind, quoted, text};

/// jq 1.6's text for one of jaq's error messages, or None.
#[must_use]
pub fn jq_text(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("cannot index ") {
        let (t, k) = values(rest, " with ")?;
        return Some(match &k {
            Val::TStr(b) if b.len() < 30 => format!("Cannot index {} with string \"{}\"", kind(&t), text(&k)),
            k => format!("Cannot index {} with {}", kind(&t), kind(k)),
        });
    }
    if let Some(rest) = message.strip_prefix("cannot use ") {
        let v = value(rest.strip_suffix(" as iterable (array or object)")?)?;
        return Some(format!("Cannot iterate over {}", quoted(&v)));
    }
    if let Some(rest) = message.strip_prefix("cannot calculate ") {
        for (op, verb) in [(" + ", "added"), (" - ", "subtracted"), (" * ", "multiplied"), (" / ", "divided")] {
            if let Some((l, r)) = values(rest, op) {
                return Some(format!("{} and {} cannot be {verb}", quoted(&l), quoted(&r)));
            }
        }
        return None;
    }
    if let Some(rest) = message.strip_prefix("invalid path expression with input ") {
        return Some(format!("Invalid path expression with result {}", cut(json(&value(rest)?), 29)));
    }
    let v = value(message.strip_suffix(" has no length")?)?;
    Some(format!("{} has no length", quoted(&v)))
}

/// A value as jaq's messages write it (JSON).
fn value(s: &str) -> Option<Val> {
    jaq_json::read::parse_single(s.as_bytes()).ok()
}

/// Two values around `sep`, at the first place where both read.
fn values(s: &str, sep: &str) -> Option<(Val, Val)> {
    s.match_indices(sep).find_map(|(i, _)| Some((value(s.get(..i)?)?, value(s.get(i + sep.len()..)?)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each jq text is what jq 1.6 said on this machine for the same error.
    #[test]
    fn jaq_messages_become_jq_1_6_messages() {
        for (jaq, jq) in [
            ("cannot index 1 with \"a\"", "Cannot index number with string \"a\""),
            ("cannot index {\"a\":1} with 0", "Cannot index object with number"),
            ("cannot index \"x\" with \"abcdefghijklmnopqrstuvwxyz0123\"", "Cannot index string with string"),
            ("cannot use 5 as iterable (array or object)", "Cannot iterate over number (5)"),
            ("cannot use null as iterable (array or object)", "Cannot iterate over null (null)"),
            ("cannot calculate 1 - \"a\"", "number (1) and string (\"a\") cannot be subtracted"),
            (
                "cannot calculate \"1,2,\" + {\"a\":{\"b\":{\"c\":33}}}",
                "string (\"1,2,\") and object ({\"a\":{\"b\":{...) cannot be added",
            ),
            ("true has no length", "boolean (true) has no length"),
            ("invalid path expression with input \"1\"", "Invalid path expression with result \"1\""),
            (
                "invalid path expression with input \"[1,2,3,4,5,6,7,8,9,10,11,12,13]\"",
                "Invalid path expression with result \"[1,2,3,4,5,6,7,8,9,10,11,...",
            ),
        ] {
            assert_eq!(jq_text(jaq).as_deref(), Some(jq), "{jaq}");
        }
        assert_eq!(jq_text("cannot index the template's own words"), None);
        assert_eq!(jq_text("boom"), None);
    }
}
