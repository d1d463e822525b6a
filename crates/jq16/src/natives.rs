//! Filters written in Rust where jaq's own differ from jq 1.6: how values
//! become text, the string formats, arithmetic that jq 1.6 refuses, and
//! string trimming that jq 1.6 lets through. Each is named `_jq16_*` and
//! reached through a jq definition in `defs.jq`.

// jq 1.6 does its arithmetic on doubles and casts as C does: the casts
// below truncate on purpose.
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]

use jaq_core::native::{bome, run, v, Filter, Fun};
use jaq_core::{DataT, Error, RunPtr, ValR};
use jaq_json::Val;

use crate::dump::{json, quoted, text};
use crate::number::to_f64;
use crate::{builtins, errors, paths, regex};

#[allow(clippy::unnecessary_wraps)] // The shape every native returns.
fn string(s: String) -> ValR<Val> {
    Ok(Val::from(s))
}

fn fail(message: String) -> ValR<Val> {
    Err(Error::str(message))
}

/// The natives, in jaq's form.
pub fn funs<D: for<'a> DataT<V<'a> = Val>>() -> impl Iterator<Item = Fun<D>> {
    natives().into_vec().into_iter().map(run)
}

fn natives<D: for<'a> DataT<V<'a> = Val>>() -> Box<[Filter<RunPtr<D>>]> {
    Box::new([
        ("_jq16_json", v(0), |cv| bome(string(json(&cv.1)))),
        ("_jq16_text", v(0), |cv| bome(string(text(&cv.1)))),
        ("_jq16_csv", v(0), |cv| bome(row(&cv.1, "csv", csv_field))),
        ("_jq16_tsv", v(0), |cv| bome(row(&cv.1, "tsv", tsv_field))),
        ("_jq16_sh", v(0), |cv| bome(sh(&cv.1))),
        ("_jq16_html", v(0), |cv| bome(string(html(&text(&cv.1))))),
        ("_jq16_uri", v(0), |cv| bome(string(uri(&text(&cv.1))))),
        ("_jq16_base64d", v(0), |cv| bome(base64d(&cv.1))),
        ("_jq16_utf8bytelength", v(0), |cv| bome(utf8bytelength(&cv.1))),
        ("_jq16_divide", v(1), |mut cv| {
            let r = cv.0.pop_var();
            bome(divide(&cv.1, &r))
        }),
        ("_jq16_modulo", v(1), |mut cv| {
            let r = cv.0.pop_var();
            bome(modulo(&cv.1, &r))
        }),
        ("_jq16_negate", v(0), |cv| bome(negate(cv.1))),
        ("_jq16_key", v(0), |cv| bome(key(cv.1))),
        ("_jq16_builtins", v(0), |_| {
            let names = builtins::listed().into_iter().map(|n| Val::from(n.to_string()));
            bome(Ok(Val::Arr(names.collect::<Vec<_>>().into())))
        }),
        ("_jq16_tonumber", v(0), |cv| bome(tonumber(cv.1))),
        ("_jq16_indices", v(1), |mut cv| {
            let i = cv.0.pop_var();
            bome(indices(&cv.1, &i))
        }),
        ("_jq16_error_text", v(0), |cv| {
            let said = matches!(cv.1, Val::TStr(_)).then(|| errors::jq_text(&text(&cv.1))).flatten();
            bome(Ok(said.map_or(cv.1, Val::from)))
        }),
        ("_jq16_match_impl", v(3), |mut cv| {
            let test = cv.0.pop_var();
            let flags = cv.0.pop_var();
            let re = cv.0.pop_var();
            bome(regex::match_impl(&cv.1, &re, &flags, test == Val::Bool(true)))
        }),
        ("_jq16_setpath", v(2), |mut cv| {
            let value = cv.0.pop_var();
            let path = cv.0.pop_var();
            bome(paths::setpath(cv.1, &path, value))
        }),
        ("_jq16_delpaths", v(1), |mut cv| {
            let paths = cv.0.pop_var();
            bome(paths::delpaths(cv.1, &paths))
        }),
    ])
}

/// `@csv` and `@tsv`: an array of scalars, each written by `field`.
fn row(v: &Val, format: &str, field: fn(&Val) -> Option<String>) -> ValR<Val> {
    let Val::Arr(items) = v else {
        return fail(format!("{} cannot be {format}-formatted, only array", quoted(v)));
    };
    let sep = if format == "csv" { "," } else { "\t" };
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter() {
        match field(item) {
            Some(f) => out.push(f),
            // jq 1.6 says "csv row" for `@tsv` too.
            None => return fail(format!("{} is not valid in a csv row", quoted(item))),
        }
    }
    string(out.join(sep))
}

fn scalar(v: &Val) -> Option<String> {
    match v {
        Val::Null => Some(String::new()),
        Val::Bool(_) | Val::Num(_) => Some(json(v)),
        _ => None,
    }
}

fn csv_field(v: &Val) -> Option<String> {
    match v {
        Val::TStr(_) | Val::BStr(_) => Some(format!("\"{}\"", text(v).replace('"', "\"\""))),
        v => scalar(v),
    }
}

fn tsv_field(v: &Val) -> Option<String> {
    match v {
        Val::TStr(_) | Val::BStr(_) => {
            Some(text(v).replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n").replace('\r', "\\r"))
        }
        v => scalar(v),
    }
}

/// `@sh`: each string single-quoted, other scalars as they are written.
fn sh(v: &Val) -> ValR<Val> {
    let items: Vec<Val> = match v {
        Val::Arr(a) => a.iter().cloned().collect(),
        v => vec![v.clone()],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in &items {
        match item {
            Val::TStr(_) | Val::BStr(_) => out.push(format!("'{}'", text(item).replace('\'', "'\\''"))),
            Val::Arr(_) | Val::Obj(_) => return fail(format!("{} can not be escaped for shell", quoted(item))),
            scalar => out.push(json(scalar)),
        }
    }
    string(out.join(" "))
}

fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// `@uri`: every byte percent-encoded but the unreserved characters, which
/// for jq 1.6 include `!*'()`.
fn uri(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `@base64d` as jq 1.6 decodes: padding optional, invalid input refused.
fn base64d(v: &Val) -> ValR<Val> {
    let input = text(v);
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    for c in input.trim_end_matches('=').bytes() {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return fail(format!("{} is not valid base64 data", quoted(v))),
        };
        bits = (bits << 6) | u32::from(sextet);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    if count >= 6 {
        return fail(format!("{} trailing base64 byte found", quoted(v)));
    }
    string(String::from_utf8_lossy(&out).into_owned())
}

fn utf8bytelength(v: &Val) -> ValR<Val> {
    match v {
        Val::TStr(b) | Val::BStr(b) => Ok(Val::from(b.len())),
        v => fail(format!("{} only strings have UTF-8 byte length", quoted(v))),
    }
}

/// `/`: numbers divide, strings split; a zero divisor is an error.
fn divide(l: &Val, r: &Val) -> ValR<Val> {
    match (l, r) {
        (Val::Num(_), Val::Num(d)) if to_f64(d) == 0.0 => {
            fail(format!("{} and {} cannot be divided because the divisor is zero", quoted(l), quoted(r)))
        }
        (Val::Num(_), Val::Num(_)) | (Val::TStr(_), Val::TStr(_)) => (l.clone() / r.clone())
            .map_err(|_| Error::str(format!("{} and {} cannot be divided", quoted(l), quoted(r)))),
        _ => fail(format!("{} and {} cannot be divided", quoted(l), quoted(r))),
    }
}

/// `%`: jq 1.6 truncates both sides to integers first.
fn modulo(l: &Val, r: &Val) -> ValR<Val> {
    let (Val::Num(a), Val::Num(b)) = (l, r) else {
        return fail(format!("{} and {} cannot be divided (remainder)", quoted(l), quoted(r)));
    };
    let (a, b) = (to_f64(a) as i64, to_f64(b) as i64);
    if b == 0 {
        return fail(format!(
            "{} and {} cannot be divided (remainder) because the divisor is zero",
            quoted(l),
            quoted(r)
        ));
    }
    Ok(Val::from(a.wrapping_rem(b) as isize))
}

fn negate(v: Val) -> ValR<Val> {
    match v {
        Val::Num(_) => -v,
        v => fail(format!("{} cannot be negated", quoted(&v))),
    }
}

/// An object key built from a value: jq 1.6 takes only strings.
fn key(v: Val) -> ValR<Val> {
    match v {
        Val::TStr(_) => Ok(v),
        v => fail(format!("Cannot use {} as object key", quoted(&v))),
    }
}

/// `tonumber`: a string must hold exactly one JSON number.
fn tonumber(v: Val) -> ValR<Val> {
    match &v {
        Val::Num(_) => Ok(v),
        Val::TStr(b) => match jaq_json::read::parse_single(b) {
            Ok(n @ Val::Num(_)) => Ok(n),
            Ok(_) => fail(format!("{} cannot be parsed as a number", quoted(&v))),
            Err(e) => fail(format!("{e} (while parsing '{}')", text(&v))),
        },
        _ => fail(format!("{} cannot be parsed as a number", quoted(&v))),
    }
}

/// `indices($i)`: in a string, the byte offsets of `$i`, each search
/// starting after the last match (jq 1.6 counts bytes, not characters); in
/// an array, where `$i` (an array: as a run of elements) starts.
fn indices(v: &Val, i: &Val) -> ValR<Val> {
    let found: Vec<usize> = match (v, i) {
        (Val::Null, _) | (_, Val::Null) => return Ok(Val::Null),
        (Val::TStr(s), Val::TStr(n)) if !n.is_empty() => {
            let mut at = Vec::new();
            let mut from = 0;
            while let Some(p) = s.get(from..).and_then(|rest| rest.windows(n.len()).position(|w| w == &n[..])) {
                at.push(from + p);
                from += p + n.len();
            }
            at
        }
        (Val::Arr(a), Val::Arr(run)) if !run.is_empty() => {
            a.windows(run.len()).enumerate().filter(|(_, w)| w == &&run[..]).map(|(p, _)| p).collect()
        }
        (Val::TStr(_), Val::TStr(_)) | (Val::Arr(_), Val::Arr(_)) => Vec::new(),
        (Val::Arr(a), x) => a.iter().enumerate().filter(|(_, y)| *y == x).map(|(p, _)| p).collect(),
        (v, i) => return fail(format!("Cannot determine the indices of {} in {}", quoted(i), quoted(v))),
    };
    Ok(Val::Arr(found.into_iter().map(Val::from).collect::<Vec<_>>().into()))
}
