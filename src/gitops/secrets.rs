//! Secrets written into templates as literals. Such a secret is in the
//! ConfigMap, so in Git and in every `kubectl get configmap -o yaml`; it
//! belongs in a properties file (`$NAME`), the environment (`env.NAME`) or
//! a Connect config provider (`${provider:path:key}`).

use std::collections::BTreeSet;

use crate::model::connector::Connector;
use crate::redact;

/// What is said of a literal secret, after the key.
#[must_use]
pub fn literal() -> String {
    format!(
        "is a secret written as a literal in the template: it is in the ConfigMap and in Git; take it from {}",
        redact::SECRET_SOURCES
    )
}

/// The keys of `connector` Connect declares `PASSWORD` (`passwords`) whose
/// values the template writes out, beyond those its names already mark
/// ([`Connector::literal_secrets`]). A key no variable gave is not among
/// the secret keys, unless its name marks it.
#[must_use]
pub fn literal_passwords<'a>(connector: &'a Connector, passwords: &BTreeSet<String>) -> Vec<&'a str> {
    connector
        .config
        .iter()
        .filter(|(k, v)| passwords.contains(*k) && !connector.secret_keys.contains(*k) && !v.is_empty())
        .filter(|(_, v)| !redact::is_provider_reference(v))
        .map(|(k, _)| k.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_from_a_variable_or_a_provider_is_not_literal() {
        let config = [("connection.url", "jdbc:x"), ("db.url", "${file:/s.properties:url}"), ("from.var", "v")];
        let connector = Connector {
            name: "c".into(),
            state: crate::model::connector::TargetState::Running,
            config: config.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            secret_keys: BTreeSet::from(["from.var".to_string()]),
            literal_secrets: BTreeSet::new(),
            renamed_from: None,
        };
        let passwords = BTreeSet::from(["connection.url".to_string(), "db.url".to_string(), "from.var".to_string()]);
        assert_eq!(literal_passwords(&connector, &passwords), ["connection.url"]);
    }
}
