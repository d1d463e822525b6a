//! A desired connector and the rules its name must follow.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::live::ConnectorState;
use crate::text::Invalid;

/// What a secret value is printed as.
pub const REDACTED: &str = "[redacted]";

/// The state a template asks for (`"state"` beside `name` and `config`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetState {
    /// Connect's default.
    #[default]
    Running,
    /// Tasks stay assigned but do not process records.
    Paused,
    /// Tasks are shut down (Kafka 3.5+).
    Stopped,
}

impl TargetState {
    /// The template's `state`, in any case.
    pub fn parse(text: &str) -> Result<TargetState, Invalid> {
        match text.to_ascii_lowercase().as_str() {
            "running" => Ok(TargetState::Running),
            "paused" => Ok(TargetState::Paused),
            "stopped" => Ok(TargetState::Stopped),
            other => Err(Invalid(format!("`state` is {other:?}; it must be \"running\", \"paused\" or \"stopped\""))),
        }
    }

    /// The target state behind a connector state Connect reports: a FAILED,
    /// UNASSIGNED or RESTARTING connector is meant to run.
    #[must_use]
    pub fn of_live(state: ConnectorState) -> TargetState {
        match state {
            ConnectorState::Paused => TargetState::Paused,
            ConnectorState::Stopped => TargetState::Stopped,
            _ => TargetState::Running,
        }
    }

    /// The verb of the Connect endpoint that moves a connector here.
    #[must_use]
    pub fn verb(self) -> &'static str {
        match self {
            TargetState::Running => "resume",
            TargetState::Paused => "pause",
            TargetState::Stopped => "stop",
        }
    }

    /// The connector state it leads to; what Connect calls it in `initial_state`.
    #[must_use]
    pub fn initial_state(self) -> ConnectorState {
        match self {
            TargetState::Running => ConnectorState::Running,
            TargetState::Paused => ConnectorState::Paused,
            TargetState::Stopped => ConnectorState::Stopped,
        }
    }
}

impl std::fmt::Display for TargetState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TargetState::Running => "running",
            TargetState::Paused => "paused",
            TargetState::Stopped => "stopped",
        })
    }
}

/// A rendered connector, as it will be sent to Connect.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Connector {
    /// The connector's name on the cluster.
    pub name: String,
    /// The state it is declared in.
    pub state: TargetState,
    /// The full config, `name` included: exactly what `PUT .../config` sends
    /// and what Connect returns when nothing changed.
    pub config: BTreeMap<String, String>,
    /// Keys whose values are secret: computed from a properties value or the
    /// environment, or named like a secret.
    pub secret_keys: BTreeSet<String>,
    /// Keys named like a secret whose values the template writes out
    /// literally: the secret is in the ConfigMap, and in Git.
    #[serde(default)]
    pub literal_secrets: BTreeSet<String>,
    /// The name it had before (`renamedFrom`): its offsets are carried over
    /// when that connector still exists (see [`crate::connect::rename`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

impl Connector {
    /// The config with secret values replaced, for printing.
    #[must_use]
    pub fn redacted_config(&self) -> BTreeMap<&str, &str> {
        self.config
            .iter()
            .map(|(k, v)| {
                let shown = if self.secret_keys.contains(k) { REDACTED } else { v.as_str() };
                (k.as_str(), shown)
            })
            .collect()
    }

    /// The config as a JSON object, as Connect takes it.
    #[must_use]
    pub fn config_json(&self) -> serde_json::Value {
        config_json(&self.config)
    }
}

/// A string map as a JSON object, as Connect takes configs.
#[must_use]
pub fn config_json(config: &BTreeMap<String, String>) -> serde_json::Value {
    serde_json::Value::Object(config.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect())
}

/// Connect accepts almost any name, but names with `/` cannot be addressed
/// on Kafka 4 (Jetty 12 rejects `%2F`), control characters fail validation,
/// and `.` / `..` would change the URL path.
pub fn check_name(name: &str) -> Result<(), Invalid> {
    if name.trim().is_empty() {
        return Err(Invalid("the connector name is empty".into()));
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid(format!("the connector name {name:?} contains control characters")));
    }
    if name.contains('/') {
        return Err(Invalid(format!("the connector name {name:?} contains `/`, which Kafka Connect cannot address")));
    }
    if name == "." || name == ".." {
        return Err(Invalid(format!("the connector name {name:?} is not allowed")));
    }
    if name != name.trim() {
        return Err(Invalid(format!(
            "the connector name {name:?} has leading or trailing spaces, which Connect trims"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["jdbc-customers", "a b", "ünïcode", "x.y", "..."] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "  ", "a/b", ".", "..", "a\u{1}b", "a\nb", " a"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
