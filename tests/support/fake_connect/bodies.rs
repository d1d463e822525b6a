//! Request bodies the way Jersey's Jackson provider reads them, and query parameters.
use super::*;

/// The first JSON value of the body (Jackson ignores trailing content); `None` for an empty body
/// (ALLOW_EMPTY_INPUT: the resource then gets null and throws an NPE). Syntax errors are 500s.
pub(crate) fn read_json(body: &str) -> Result<Option<&RawValue>, Reply> {
    if body.trim().is_empty() {
        return Ok(None);
    }
    match serde_json::Deserializer::from_str(body).into_iter::<&RawValue>().next() {
        Some(Ok(raw)) => Ok(Some(raw)),
        Some(Err(e)) => Err(syntax_error(body, &e)),
        None => Ok(None),
    }
}

/// The object's members in document order; anything but an object is a MismatchedInputException.
pub(crate) fn object<'a>(
    body: &'a str,
    raw: &'a RawValue,
    target: &str,
    chain: &str,
) -> Result<Vec<(String, &'a RawValue)>, Reply> {
    if !raw.get().starts_with('{') {
        return Err(mismatch(body, raw, target, chain));
    }
    // Borrowed RawValues point into `body`, which gives their position (and the document order).
    let members: HashMap<String, &RawValue> = serde_json::from_str(raw.get()).map_err(|e| syntax_error(body, &e))?;
    let mut members: Vec<_> = members.into_iter().collect();
    members.sort_by_key(|(_, v)| offset(body, v));
    Ok(members)
}

/// A `Map<String,String>`: strings as they are, numbers and booleans as their source text, null kept as
/// `None` (validation rejects it later), objects and arrays rejected.
pub(crate) fn config_map(body: &str, raw: &RawValue, chain: &str) -> Result<Entries, Reply> {
    object(body, raw, STRING_MAP, chain.trim_end_matches("->"))?
        .into_iter()
        .map(|(key, value)| {
            let value = string_value(body, value, &format!("{chain}java.util.LinkedHashMap[\"{key}\"]"))?;
            Ok((key, value))
        })
        .collect()
}

/// Jackson's StringDeserializer: scalar tokens keep their text (`1.50` stays `"1.50"`).
pub(crate) fn string_value(body: &str, raw: &RawValue, chain: &str) -> Result<Option<String>, Reply> {
    let text = raw.get();
    match text.as_bytes()[0] {
        b'n' => Ok(None),
        b'"' => Ok(Some(serde_json::from_str(text).expect("a valid JSON string"))),
        b'{' | b'[' => Err(mismatch(body, raw, "java.lang.String", chain)),
        _ => Ok(Some(text.to_string())),
    }
}

pub(crate) fn mismatch(body: &str, raw: &RawValue, target: &str, chain: &str) -> Reply {
    let text = raw.get();
    let (kind, token) = match text.as_bytes()[0] {
        b'{' => ("Object", "START_OBJECT"),
        b'[' => ("Array", "START_ARRAY"),
        b'"' => ("String", "VALUE_STRING"),
        b't' => ("Boolean", "VALUE_TRUE"),
        b'f' => ("Boolean", "VALUE_FALSE"),
        _ if text.contains(['.', 'e', 'E']) => ("Floating-point", "VALUE_NUMBER_FLOAT"),
        _ => ("Integer", "VALUE_NUMBER_INT"),
    };
    let chain = if chain.is_empty() { String::new() } else { format!(" (through reference chain: {chain})") };
    Reply::error(
        500,
        format!(
            "Cannot deserialize value of type `{target}` from {kind} value (token `JsonToken.{token}`)\n{}{chain}",
            at(body, raw)
        ),
    )
}

/// Jackson's wording for the common syntax errors serde_json reports.
pub(crate) fn syntax_error(body: &str, e: &serde_json::Error) -> Reply {
    // serde_json points at the offending character, Jackson just past it.
    let location = format!(" at [Source: {SOURCE}; line: {}, column: {}]", e.line(), e.column() + 1);
    if e.is_eof() {
        return Reply::error(500, format!("Unexpected end-of-input within/between Object entries\n{location}"));
    }
    let text = e.to_string();
    let expecting = if text.contains("expected `,` or `}`") {
        "was expecting comma to separate Object entries"
    } else if text.contains("expected `,` or `]`") {
        "was expecting comma to separate Array entries"
    } else if text.contains("key must be a string") || text.contains("trailing comma") {
        "was expecting double-quote to start field name"
    } else if text.contains("expected `:`") {
        "was expecting a colon to separate field name and value"
    } else {
        "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
    };
    let found = body.lines().nth(e.line().saturating_sub(1)).and_then(|l| l.chars().nth(e.column().saturating_sub(1)));
    let message = match found {
        Some(c) => format!("Unexpected character ('{c}' (code {})): {expecting}\n{location}", c as u32),
        None => format!("Unexpected character: {expecting}\n{location}"),
    };
    Reply::error(500, message)
}

pub(crate) fn offset(body: &str, raw: &RawValue) -> usize {
    raw.get().as_ptr() as usize - body.as_ptr() as usize
}

/// Jackson's location, just after the first character of the token `raw` starts with.
pub(crate) fn at(body: &str, raw: &RawValue) -> String {
    let before = &body[..offset(body, raw)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 2;
    format!(" at [Source: {SOURCE}; line: {line}, column: {column}]")
}

pub(crate) fn npe(method: &str, variable: &str) -> Reply {
    Reply::error(500, format!("Cannot invoke \"{method}\" because \"{variable}\" is null"))
}

/// Decoded values of every `key` parameter, in order (JAX-RS does not split on commas).
pub(crate) fn query_values(query: &str, key: &str) -> Vec<String> {
    let decode = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .filter(|(k, _)| decode(k) == key)
        .map(|(_, v)| decode(v))
        .collect()
}

/// `Boolean.valueOf` of the first value: only `true` (any case) is true, never an error.
pub(crate) fn query_flag(query: &str, key: &str) -> bool {
    query_values(query, key).first().is_some_and(|v| v.eq_ignore_ascii_case("true"))
}
