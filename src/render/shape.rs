//! What a template must yield, and which of its values are secret.
//!
//! A template is run twice (see [`crate::render::template`]): with the real
//! variables and with every variable replaced by a marker. A config value
//! that differs between the two runs was computed from a variable, so it is
//! secret wherever it is printed; a name or key that differs is refused.

use std::collections::{BTreeMap, BTreeSet};

use jaq_json::Val;
use jq16::dump::json;

use crate::model::connector::{self, Connector, TargetState, REDACTED};
use crate::redact;
use crate::render::error::RenderError;
use crate::render::variables::PUBLIC_VARIABLES;

/// What a template yields with the real variables and with markers, before
/// the name and config are checked.
pub struct Rendered {
    /// With the real variables.
    pub real: Result<Yielded, RenderError>,
    /// With every variable replaced by a marker.
    pub marked: Result<Yielded, RenderError>,
}

/// A template's value, once its shape is checked.
pub struct Yielded {
    name: String,
    state: Option<String>,
    renamed_from: Option<String>,
    config: BTreeMap<String, String>,
}

/// The value that stands for variable `i` in the marker run.
#[must_use]
pub fn marker(i: usize) -> String {
    format!("{MARK}var{i}{MARK}")
}

/// Checks the shape `{"name": string, "config": {key: scalar}}`.
pub fn to_output(value: &Val) -> Result<Yielded, RenderError> {
    let Val::Obj(obj) = value else {
        return Err(RenderError::Shape(format!(
            "the template must yield an object with `name` and `config`, not {}",
            kind(value)
        )));
    };
    let mut name = None;
    let mut state = None;
    let mut renamed_from = None;
    let mut config = None;
    for (k, v) in obj.iter() {
        match (text(k).as_deref(), v) {
            (Some("name"), Val::TStr(b)) => name = Some(String::from_utf8_lossy(b).into_owned()),
            (Some("name"), v) => return Err(RenderError::Shape(format!("`name` must be a string, not {}", kind(v)))),
            (Some("state"), Val::TStr(b)) => state = Some(String::from_utf8_lossy(b).into_owned()),
            (Some("state"), v) => return Err(RenderError::Shape(format!("`state` must be a string, not {}", kind(v)))),
            (Some("renamedFrom"), Val::TStr(b)) => renamed_from = Some(String::from_utf8_lossy(b).into_owned()),
            (Some("renamedFrom"), v) => {
                return Err(RenderError::Shape(format!("`renamedFrom` must be a string, not {}", kind(v))))
            }
            (Some("config"), Val::Obj(c)) => config = Some(c),
            (Some("config"), v) => {
                return Err(RenderError::Shape(format!("`config` must be an object, not {}", kind(v))))
            }
            (Some(other), _) => {
                return Err(RenderError::Shape(format!(
                    "unexpected key `{other}`; a template yields `name`, `config` and optionally `state` and \
                     `renamedFrom`"
                )))
            }
            (None, _) => return Err(RenderError::Shape("object keys must be strings".into())),
        }
    }
    let name = name.ok_or_else(|| RenderError::Shape("the result has no `name`".into()))?;
    let config = config.ok_or_else(|| RenderError::Shape("the result has no `config` object".into()))?;
    let mut out = BTreeMap::new();
    for (k, v) in config.iter() {
        let key = text(k).ok_or_else(|| RenderError::Shape("config keys must be strings".into()))?;
        let value = match v {
            Val::TStr(b) => String::from_utf8_lossy(b).into_owned(),
            // The JSON text jq 1.6 would have sent (`2`, not `2.0`; `1.5`,
            // not `1.50`), which is what Connect stores, so the next
            // comparison sees no change. NaN is what jq 1.6 writes as null.
            Val::Num(_) | Val::Bool(_) if json(v) != "null" => json(v),
            Val::Num(_) | Val::Null => {
                return Err(RenderError::Shape(format!(
                    "config key `{key}` is null {NULL_CAUSE}; Connect rejects null values"
                )))
            }
            v => {
                return Err(RenderError::Shape(format!(
                    "config key `{key}` is {}; values must be strings, numbers or booleans",
                    kind(v)
                )))
            }
        };
        out.insert(key, value);
    }
    Ok(Yielded { name, state, renamed_from, config: out })
}

fn text(v: &Val) -> Option<String> {
    match v {
        Val::TStr(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

fn kind(v: &Val) -> &'static str {
    match v {
        Val::Null => "null",
        Val::Bool(_) => "a boolean",
        Val::Num(_) => "a number",
        Val::TStr(_) | Val::BStr(_) => "a string",
        Val::Arr(_) => "an array",
        Val::Obj(_) => "an object",
    }
}

/// What is said instead of an error that only the real values explain.
const WITHHELD: &str = "the template failed on a value computed from a variable (properties or environment); \
     the message is withheld because it would quote that value";

/// Turns the two runs into a connector. What is computed from variables
/// stays out of every message: an error is the marker run's (markers said as
/// `[redacted]`), and a name or config key computed from a secret is refused,
/// since names and keys are printed in plans, logs and Events.
pub fn into_connector(r: Rendered) -> Result<Connector, RenderError> {
    let real = match r.real {
        Ok(real) => real,
        Err(e) => {
            return Err(match r.marked {
                Err(marked) if marked == e => marked,
                Err(marked) => marked.map_message(unmark),
                Ok(_) => e.map_message(|_| WITHHELD.into()),
            })
        }
    };
    let Yielded { name, state, renamed_from, mut config } = real;
    // `None` when the marker run failed: then every value counts as secret.
    let marked = r.marked.ok();
    if let Some(m) = &marked {
        if m.name != name {
            return Err(RenderError::Shape(format!(
                "the connector name is computed from a variable (properties or environment); names are \
                 printed in plans, logs and Events, so it must be literal text or use only variables listed in \
                 {PUBLIC_VARIABLES}"
            )));
        }
        if let Some(key) = m.config.keys().find(|k| !config.contains_key(*k)) {
            return Err(RenderError::Shape(format!(
                "config key {} is computed from a variable (properties or environment); keys are \
                 printed in plans and logs, so they must be literal text or use only variables listed in {}",
                unmark(&format!("{key:?}")),
                PUBLIC_VARIABLES
            )));
        }
    }
    connector::check_name(&name).map_err(|e| RenderError::Shape(e.0))?;
    if let Some(old) = &renamed_from {
        check_renamed_from(old, &name, marked.as_ref().is_some_and(|m| m.renamed_from.as_ref() != Some(old)))?;
    }
    let state_is_secret = marked.as_ref().is_some_and(|m| m.state != state);
    let state = match state.as_deref().map_or(Ok(TargetState::Running), TargetState::parse) {
        Err(_) if state_is_secret => {
            return Err(RenderError::Shape(
                "`state` is computed from a variable and is not running, paused or stopped".into(),
            ))
        }
        other => other.map_err(|e| RenderError::Shape(e.0))?,
    };
    // A setting about a secret (`...credentials.source`) is shown even when a variable gave it.
    let computed = |k: &String, v: &String| marked.as_ref().is_none_or(|m| m.config.get(k) != Some(v));
    let secret = |k: &String, v: &String| redact::is_secret_key(k) || (!redact::is_setting_key(k) && computed(k, v));
    match config.get("name") {
        Some(n) if *n != name && secret(&"name".to_string(), n) => {
            return Err(RenderError::Shape(format!("config.name differs from name {name:?}; Connect would reject it")))
        }
        Some(n) if *n != name => {
            return Err(RenderError::Shape(format!(
                "config.name {n:?} differs from name {name:?}; Connect would reject it"
            )))
        }
        _ => {
            config.insert("name".into(), name.clone());
        }
    }
    let secret_keys = config
        .iter()
        .filter(|(k, v)| k.as_str() != "name" && secret(k, v))
        .map(|(k, _)| k.clone())
        .collect::<BTreeSet<_>>();
    let literal = |k: &String, v: &String| {
        redact::is_secret_key(k) && !v.is_empty() && !computed(k, v) && !redact::is_provider_reference(v)
    };
    let literal_secrets = config.iter().filter(|(k, v)| literal(k, v)).map(|(k, _)| k.clone()).collect();
    Ok(Connector { name, state, config, secret_keys, literal_secrets, renamed_from })
}

/// `renamedFrom` is a name, printed like one: literal text, valid, and
/// another than `name`.
fn check_renamed_from(old: &str, name: &str, computed: bool) -> Result<(), RenderError> {
    if computed {
        return Err(RenderError::Shape(format!(
            "`renamedFrom` is computed from a variable (properties or environment); it is a connector name, printed \
             in plans, logs and Events, so it must be literal text or use only variables listed in {PUBLIC_VARIABLES}"
        )));
    }
    connector::check_name(old).map_err(|e| RenderError::Shape(format!("`renamedFrom`: {}", e.0)))?;
    if old == name {
        return Err(RenderError::Shape(format!("`renamedFrom` is the connector's own name {name:?}")));
    }
    Ok(())
}

/// Why a config value is usually null; [`crate::render::template`] names the
/// variable instead when it can.
pub const NULL_CAUSE: &str = "(an undefined `env.NAME` or a missing field?)";

/// What surrounds a marker's number.
const MARK: char = '\u{1}';

/// `\u{1}var3\u{1}` (a marker, as a message quotes it, possibly escaped) said as `[redacted]`.
#[must_use]
pub fn unmark(text: &str) -> String {
    let escaped = text.replace("\\u{1}", "\u{1}").replace("\\u0001", "\u{1}");
    let mut out = String::new();
    let mut parts = escaped.split(MARK);
    out.push_str(parts.next().unwrap_or_default());
    while let Some(inside) = parts.next() {
        match (inside.strip_prefix("var").is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())), parts.next()) {
            (true, Some(after)) => {
                out.push_str(REDACTED);
                out.push_str(after);
            }
            (_, after) => {
                out.push_str(inside);
                if let Some(after) = after {
                    out.push_str(after);
                }
            }
        }
    }
    out
}
