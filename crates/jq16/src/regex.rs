//! jq 1.6's `_match_impl`, on which `match`, `test`, `capture`, `scan`,
//! `splits`, `sub` and `gsub` are built. jq 1.6 runs Oniguruma with Perl
//! syntax over UTF-8: `\w`, `\d`, `\b` and case folding are Unicode, `\p{L}`
//! and look-around work, `^` and `$` match only at the ends of the string,
//! and flag `m` lets `.` match a newline. fancy-regex in its Oniguruma mode
//! reads the same syntax (jaq's regex-bites is ASCII-only and has no
//! look-around). The search loop is jq 1.6's, quirks included: after an
//! empty match the next search starts one character on, and a global
//! search stops when it reaches the end.

use fancy_regex::{Captures, Regex, RegexBuilder};
use jaq_core::{Error, ValR};
use jaq_json::Val;

use crate::dump::{quoted, text};

fn fail<T>(message: String) -> Result<T, Error<Val>> {
    Err(Error::str(message))
}

/// The flags jq 1.6 takes, and whether the search is global.
fn regex(re: &str, flags: &Val) -> Result<(Regex, bool), Error<Val>> {
    let flags = match flags {
        Val::Null => String::new(),
        Val::TStr(_) => text(flags),
        v => return fail(format!("{} is not a string", quoted(v))),
    };
    let re = perl_dollar(re);
    let mut builder = RegexBuilder::new(&re);
    builder.oniguruma_mode(true);
    let mut global = false;
    for flag in flags.chars() {
        match flag {
            'g' => global = true,
            'i' => _ = builder.case_insensitive(true),
            'x' => _ = builder.ignore_whitespace(true),
            // Oniguruma's "multiline" is Perl's dotall; "singleline" is already Perl's default.
            'm' | 'p' => _ = builder.dot_matches_new_line(true),
            's' => {}
            // fancy-regex has no longest-match search: said, rather than answered differently.
            'l' => return fail("the regex flag l (longest match) is not supported in templates".into()),
            'n' => _ = builder.find_not_empty(true),
            _ => return fail(format!("{flags} is not a valid modifier string")),
        }
    }
    builder.build().map(|r| (r, global)).map_err(|e| Error::str(format!("Regex failure: {e}")))
}

/// `_match_impl(re; flags; test)`: `true`/`false` when testing, else the
/// array of matches.
pub fn match_impl(input: &Val, re: &Val, flags: &Val, test: bool) -> ValR<Val> {
    let Val::TStr(_) = input else {
        return fail(format!("{} cannot be matched, as it is not a string", quoted(input)));
    };
    let Val::TStr(_) = re else { return fail(format!("{} is not a string", quoted(re))) };
    let (regex, global) = regex(&text(re), flags)?;
    let s = text(input);
    let mut matches = Vec::new();
    let mut start = 0;
    loop {
        let found =
            regex.captures_from_pos(s.as_str(), start).map_err(|e| Error::str(format!("Regex failure: {e}")))?;
        let Some(caps) = found else { break };
        if test {
            return Ok(Val::Bool(true));
        }
        let Some(whole) = caps.get(0) else { break };
        if whole.start() == whole.end() {
            matches.push(entry(
                chars(&s, whole.start()),
                0,
                Val::from(String::new()),
                Some(Val::Arr(Vec::new().into())),
            ));
            // jq 1.6 moves the search's start, not the match, one on.
            start = next_char(&s, start);
        } else {
            matches.push(with_captures(&s, &regex, &caps));
            start = whole.end();
        }
        if !global || start >= s.len() {
            break;
        }
    }
    Ok(if test { Val::Bool(false) } else { Val::Arr(matches.into()) })
}

fn with_captures(s: &str, regex: &Regex, caps: &Captures<'_, str>) -> Val {
    let mut captures = Vec::new();
    for (i, name) in regex.capture_names().enumerate().skip(1) {
        let name = name.map_or(Val::Null, |n| Val::from(n.to_string()));
        let capture = match caps.get(i) {
            None => {
                let pairs = [("offset", Val::from(-1isize)), ("string", Val::Null), ("length", Val::from(0usize))];
                object(pairs.into_iter().chain([("name", name)]))
            }
            Some(m) if m.start() == m.end() => {
                let pairs = [("offset", Val::from(chars(s, m.start()))), ("string", Val::from(String::new()))];
                object(pairs.into_iter().chain([("length", Val::from(0usize)), ("name", name)]))
            }
            Some(m) => {
                let (offset, length) = (chars(s, m.start()), m.as_str().chars().count());
                let Val::Obj(o) = entry(offset, length, Val::from(m.as_str().to_string()), None) else { continue };
                let mut o = (*o).clone();
                o.insert(Val::from("name".to_string()), name);
                Val::obj(o)
            }
        };
        captures.push(capture);
    }
    let whole = caps.get(0).map_or((0, 0, ""), |m| (m.start(), m.end(), m.as_str()));
    let length = whole.2.chars().count();
    entry(chars(s, whole.0), length, Val::from(whole.2.to_string()), Some(Val::Arr(captures.into())))
}

fn entry(offset: usize, length: usize, string: Val, captures: Option<Val>) -> Val {
    let pairs = [("offset", Val::from(offset)), ("length", Val::from(length)), ("string", string)];
    object(pairs.into_iter().chain(captures.map(|c| ("captures", c))))
}

fn object<'a>(pairs: impl Iterator<Item = (&'a str, Val)>) -> Val {
    Val::obj(pairs.map(|(k, v)| (Val::from(k.to_string()), v)).collect())
}

/// The character offset of a byte offset.
fn chars(s: &str, byte: usize) -> usize {
    s.get(..byte).map_or(0, |p| p.chars().count())
}

/// The byte offset of the character after the one at `byte`.
fn next_char(s: &str, byte: usize) -> usize {
    s.get(byte..).and_then(|rest| rest.chars().next()).map_or(byte + 1, |c| byte + c.len_utf8())
}

/// Perl's `$` matches at the end and before a final newline; fancy-regex's
/// only at the end. Each `$` outside a character class and not escaped
/// becomes `(?=\n?\z)`.
fn perl_dollar(re: &str) -> String {
    let mut out = String::with_capacity(re.len());
    let (mut escaped, mut class) = (false, 0usize);
    for c in re.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' => class += 1,
            ']' if class > 0 => class -= 1,
            '$' if class == 0 => {
                out.push_str("(?=\\n?\\z)");
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}
