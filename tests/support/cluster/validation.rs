//! What the API server refuses: names, label and annotation keys, data, binaryData, Events.

use super::*;

pub(crate) fn dns_subdomain(s: &str) -> bool {
    let label = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    s.len() <= 253 && s.split('.').all(label)
}

/// The name part of a qualified name, and a non-empty label value: `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
pub(crate) fn name_part(s: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    s.len() <= 63
        && alnum(s.chars().next())
        && alnum(s.chars().last())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// `[prefix/]name`, the prefix a DNS subdomain: label and annotation keys.
pub(crate) fn qualified_name(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => dns_subdomain(prefix) && name_part(name),
        None => name_part(s),
    }
}

/// A `map[string]string` field: every value must be a string.
pub(crate) fn string_map(errors: &mut Vec<String>, parent: &str, map: &Map<String, Value>, field: &str) {
    match map.get(field) {
        None | Some(Value::Null) => {}
        Some(Value::Object(entries)) => {
            for (key, value) in entries.iter().filter(|(_, value)| !value.is_string()) {
                errors.push(format!("{parent}.{field}[{key}]: cannot unmarshal {value} into a Go string"));
            }
        }
        Some(other) => errors.push(format!("{parent}.{field}: cannot unmarshal {other} into a Go map")),
    }
}

/// Go's `omitempty` drops empty maps: an object never comes back with `"annotations": {}`.
pub(crate) fn drop_empty(map: &mut Map<String, Value>, fields: &[&str]) {
    map.retain(|field, value| !(fields.contains(&field.as_str()) && value.as_object().is_some_and(Map::is_empty)));
}

pub(crate) fn validate_configmap(map: &mut Map<String, Value>, old: Option<&Value>, errors: &mut Vec<String>) {
    string_map(errors, "", map, "data");
    string_map(errors, "", map, "binaryData");
    drop_empty(map, &["data", "binaryData"]);
    let mut size = 0;
    for field in ["data", "binaryData"] {
        for (key, value) in map.get(field).and_then(Value::as_object).into_iter().flatten() {
            let valid = key.len() <= 253
                && key.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
                && !key.is_empty()
                && key != "."
                && !key.starts_with("..");
            if !valid {
                errors.push(format!(
                    "{field}[{key}]: Invalid value: {key:?}: a valid config key must consist of \
                                     alphanumeric characters, '-', '_' or '.'"
                ));
            }
            let value = value.as_str().unwrap_or("");
            size += match field {
                "data" => value.len(),
                _ => base64::engine::general_purpose::STANDARD.decode(value).map_or_else(
                    |_| {
                        errors.push(format!("binaryData[{key}]: illegal base64 data"));
                        0
                    },
                    |bytes| bytes.len(),
                ),
            };
            if field == "binaryData" && map.get("data").is_some_and(|data| data.get(key).is_some()) {
                errors.push(format!("binaryData[{key}]: Invalid value: duplicate of key present in data"));
            }
        }
    }
    if size > 1024 * 1024 {
        errors.push("[]: Too long: must have at most 1048576 bytes".into());
    }
    if map.get("immutable").is_some_and(|v| !v.is_boolean()) {
        errors.push("immutable: cannot unmarshal into a Go bool".into());
    }
    if let Some(old) = old.filter(|old| old["immutable"] == true) {
        let same = |field: &str| old.get(field) == map.get(field);
        if !same("immutable") || !same("data") || !same("binaryData") {
            errors.push("data: Forbidden: field is immutable when `immutable` is set".into());
        }
    }
}

/// core/v1 Events, as the API server validates them when they are written through core/v1.
pub(crate) fn validate_event(map: &Map<String, Value>, namespace: &str, errors: &mut Vec<String>) {
    let text = |field: &str| map.get(field).and_then(Value::as_str).unwrap_or("");
    let involved = map.get("involvedObject").and_then(|o| o["namespace"].as_str()).unwrap_or("");
    let new_style = map.contains_key("eventTime");
    let mismatch = match (new_style, involved) {
        (false, "") => !namespace.is_empty() && namespace != "default",
        (false, _) => involved != namespace,
        (true, "") => namespace != "default" && namespace != "kube-system",
        (true, _) => false,
    };
    if mismatch {
        errors.push(format!("involvedObject.namespace: Invalid value: {involved:?}: does not match event.namespace"));
    }
    if new_style {
        for field in ["reportingComponent", "reportingInstance", "action", "reason"] {
            match text(field).len() {
                0 => errors.push(format!("{field}: Required value")),
                n if n > 128 && field != "reportingComponent" => {
                    errors.push(format!("{field}: Too long: may not be more than 128 bytes"))
                }
                _ => {}
            }
        }
        if text("message").len() > 1024 {
            errors.push("message: Too long: may not be more than 1024 bytes".into());
        }
    }
}

/// A generated name's suffix: 5 characters of the API server's alphabet, from a counter instead of randomness.
pub(crate) fn suffix(mut n: u64) -> String {
    pub(crate) const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % 27) as usize] as char;
            n /= 27;
            c
        })
        .collect()
}

/// RFC 3339 UTC time, as creationTimestamp.
pub(crate) fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}
