//! A desired connector and the rules its name must follow.

use std::collections::{BTreeMap, BTreeSet};

/// A rendered connector, as it will be sent to Connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connector {
    pub name: String,
    /// The full config, `name` included: exactly what `PUT .../config` sends
    /// and what Connect returns when nothing changed.
    pub config: BTreeMap<String, String>,
    /// Keys whose values are secret: computed from a properties value or the
    /// environment, or named like a secret.
    pub secret_keys: BTreeSet<String>,
}

impl Connector {
    /// The config with secret values replaced, for printing.
    pub fn redacted_config(&self) -> BTreeMap<&str, &str> {
        self.config
            .iter()
            .map(|(k, v)| {
                let shown = if self.secret_keys.contains(k) { crate::redact::REDACTED } else { v.as_str() };
                (k.as_str(), shown)
            })
            .collect()
    }

    /// The values to hide in messages about this connector.
    pub fn secret_values(&self) -> impl Iterator<Item = &str> {
        self.secret_keys.iter().filter_map(|k| self.config.get(k)).map(String::as_str)
    }
}

/// Connect accepts almost any name, but names with `/` cannot be addressed
/// on Kafka 4 (Jetty 12 rejects `%2F`), control characters fail validation,
/// and `.` / `..` would change the URL path.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("the connector name is empty".into());
    }
    if name.chars().any(char::is_control) {
        return Err(format!("the connector name {name:?} contains control characters"));
    }
    if name.contains('/') {
        return Err(format!("the connector name {name:?} contains `/`, which Kafka Connect cannot address"));
    }
    if name == "." || name == ".." {
        return Err(format!("the connector name {name:?} is not allowed"));
    }
    if name != name.trim() {
        return Err(format!("the connector name {name:?} has leading or trailing spaces, which Connect trims"));
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
