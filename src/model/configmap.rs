//! The ConfigMaps that declare connectors: their names, labels and what
//! those labels ask for.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// The label that selects ConfigMaps.
pub const SELECTOR_LABEL: &str = "destination";
/// The value of [`SELECTOR_LABEL`] that selects a ConfigMap.
pub const SELECTOR_VALUE: &str = "connect";
/// `"false"` removes the ConfigMap's connectors; absent or `"true"` applies them.
pub const ENABLED_LABEL: &str = "enabled";
/// streaming-ops' Confluent Cloud destination.
pub const CLOUD_LABEL: &str = "destination.cc";
/// Setting it to a new value restarts the ConfigMap's connectors and their tasks once.
pub const RESTART_ANNOTATION: &str = "connect-operator.io/restart";
/// Annotations the hook writes on ConfigMaps start with this; changes to
/// them never count as a modification (see the binding's jqFilter).
pub const STATUS_ANNOTATION_PREFIX: &str = "status.connect-operator.io/";
/// The operator's own ConfigMap, in its namespace: the record of the
/// connectors it owns, for `PRUNE=owned`.
pub const STATE_CONFIGMAP: &str = "connect-operator-state";

/// `namespace/name`, or just `name` for a manifest without a namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CmId {
    /// None for a manifest without one.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl CmId {
    /// From an object's metadata: an empty namespace is none.
    #[must_use]
    pub fn new(namespace: Option<String>, name: String) -> CmId {
        CmId { namespace: namespace.filter(|ns| !ns.is_empty()), name }
    }
}

impl fmt::Display for CmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
/// A ConfigMap, with what this operator reads of it.
pub struct ConfigMap {
    /// Its namespace and name.
    pub id: CmId,
    /// Set by the API server; Events refer to it.
    pub uid: Option<String>,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// Data key to template text.
    pub data: BTreeMap<String, String>,
    /// `binaryData` keys, which cannot hold templates.
    pub binary_keys: Vec<String>,
}

/// What a ConfigMap asks for, from its labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Its connectors must exist as declared.
    Apply,
    /// Its connectors must not exist.
    Remove,
}

const NOT_A_CONFIGMAP: &str = "not a ConfigMap (metadata.name and string data expected)";

#[derive(Deserialize)]
struct Kind {
    #[serde(default)]
    kind: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    kind: Option<serde_json::Value>,
    metadata: Metadata,
    #[serde(default)]
    data: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "binaryData")]
    binary_data: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct Metadata {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

impl ConfigMap {
    /// A ConfigMap from its JSON (or YAML) object.
    pub fn from_json(value: &serde_json::Value) -> Result<ConfigMap> {
        if let Some(kind) = value.get("kind").and_then(|k| k.as_str()).filter(|k| *k != "ConfigMap") {
            bail!("a {kind}, not a ConfigMap");
        }
        let raw = Raw::deserialize(value).context(NOT_A_CONFIGMAP)?;
        Ok(raw.into())
    }

    /// A ConfigMap from the text of its JSON object, read straight into
    /// its fields: a hook run reads thousands.
    pub fn from_json_text(text: &str) -> Result<ConfigMap> {
        let kind = |raw_kind: Option<&serde_json::Value>| {
            raw_kind.and_then(|k| k.as_str()).filter(|k| *k != "ConfigMap").map(str::to_string)
        };
        match serde_json::from_str::<Raw>(text) {
            Ok(raw) => match kind(raw.kind.as_ref()) {
                Some(other) => bail!("a {other}, not a ConfigMap"),
                None => Ok(raw.into()),
            },
            Err(e) => {
                // Another kind of object need not have a ConfigMap's shape: say what it is.
                let other = serde_json::from_str::<Kind>(text).ok().and_then(|k| kind(k.kind.as_ref()));
                match other {
                    Some(other) => bail!("a {other}, not a ConfigMap"),
                    None => Err(e).context(NOT_A_CONFIGMAP),
                }
            }
        }
    }
}

impl From<Raw> for ConfigMap {
    fn from(raw: Raw) -> ConfigMap {
        ConfigMap {
            id: CmId::new(raw.metadata.namespace, raw.metadata.name),
            uid: raw.metadata.uid,
            labels: raw.metadata.labels.unwrap_or_default(),
            annotations: raw.metadata.annotations.unwrap_or_default(),
            data: raw.data.unwrap_or_default(),
            binary_keys: raw.binary_data.unwrap_or_default().into_keys().collect(),
        }
    }
}

impl ConfigMap {
    /// Whether it is labelled `destination=connect`.
    pub fn is_selected(&self) -> bool {
        self.labels.get(SELECTOR_LABEL).map(String::as_str) == Some(SELECTOR_VALUE)
    }

    /// The `enabled` label: absent or `"true"` applies, `"false"` removes,
    /// anything else is an error so a typo never deletes connectors.
    pub fn intent(&self) -> Result<Intent> {
        match self.labels.get(ENABLED_LABEL).map(String::as_str) {
            None | Some("true") => Ok(Intent::Apply),
            Some("false") => Ok(Intent::Remove),
            Some(other) => bail!("label `{ENABLED_LABEL}` is {other:?}; it must be \"true\" or \"false\""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(labels: serde_json::Value) -> ConfigMap {
        ConfigMap::from_json(
            &json!({"metadata": {"name": "c", "namespace": "ns", "labels": labels}, "data": {"k": "{}"}}),
        )
        .unwrap()
    }

    #[test]
    fn enabled_label() {
        assert_eq!(cm(json!({"destination": "connect"})).intent().unwrap(), Intent::Apply);
        assert_eq!(cm(json!({"enabled": "true"})).intent().unwrap(), Intent::Apply);
        assert_eq!(cm(json!({"enabled": "false"})).intent().unwrap(), Intent::Remove);
        let err = cm(json!({"enabled": "False"})).intent().unwrap_err().to_string();
        assert!(err.contains("\"False\""), "{err}");
    }
}
