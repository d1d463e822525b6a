//! Values written as jq 1.6 writes them: `tojson`, `tostring`, string
//! interpolation and the values quoted in its error messages.

use jaq_json::Val;

use crate::number;

/// `tojson`: compact JSON, keys in insertion order, numbers as jq 1.6
/// writes them.
#[must_use]
pub fn json(v: &Val) -> String {
    let mut out = String::new();
    write(&mut out, v);
    out
}

/// `tostring` and `"\(v)"`: a string as it is, anything else as JSON.
#[must_use]
pub fn text(v: &Val) -> String {
    match v {
        Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
        v => json(v),
    }
}

/// jq's name for the kind of a value.
#[must_use]
pub fn kind(v: &Val) -> &'static str {
    match v {
        Val::Null => "null",
        Val::Bool(_) => "boolean",
        Val::Num(_) => "number",
        Val::TStr(_) | Val::BStr(_) => "string",
        Val::Arr(_) => "array",
        Val::Obj(_) => "object",
    }
}

/// A value as jq 1.6's error messages quote it: `kind (json)`, the JSON
/// cut to 11 bytes and `...` when longer than 14.
#[must_use]
pub fn quoted(v: &Val) -> String {
    format!("{} ({})", kind(v), cut(json(v), 14))
}

/// `s` as jq 1.6's `jv_dump_string_trunc` cuts it to fit `max` bytes: the
/// first `max - 3` and `...` when it is longer.
#[must_use]
pub fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max.saturating_sub(3);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
    s
}

fn write(out: &mut String, v: &Val) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Num(n) => out.push_str(&number::format(number::to_f64(n))),
        Val::TStr(b) | Val::BStr(b) => string(out, &String::from_utf8_lossy(b)),
        Val::Arr(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, x);
            }
            out.push(']');
        }
        Val::Obj(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, &text(k));
                out.push(':');
                write(out, x);
            }
            out.push('}');
        }
    }
}

/// A JSON string, escaped as jq 1.6 escapes: control characters and DEL,
/// never other characters.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
