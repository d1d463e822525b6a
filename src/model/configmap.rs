//! The ConfigMaps that declare connectors: their names, labels and what
//! those labels ask for.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{bail, Context, Result};
use serde::de::{Deserializer, IgnoredAny, MapAccess};
use serde::Deserialize;

use crate::model::lenient::{Keys, Shape, Shaped, Text, Texts};
use crate::text::Invalid;

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
/// The annotation that says what becomes of a ConfigMap's connectors when it
/// is deleted or a key is removed (see [`DeletionPolicy`]).
pub const DELETION_POLICY_ANNOTATION: &str = "connect-operator.io/deletion-policy";
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

    /// Its namespace; a manifest without one is in `default`, as kubectl puts it.
    #[must_use]
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE)
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
    /// `metadata.resourceVersion` as the run saw it: the status says which
    /// version of the ConfigMap it describes.
    pub resource_version: Option<String>,
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

/// What becomes of the connectors of a deleted ConfigMap or of a removed
/// key: Kubernetes' `reclaimPolicy`, Helm's `resource-policy: keep`. The
/// label `enabled: "false"` deletes under either: it is an explicit ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeletionPolicy {
    /// They are deleted.
    #[default]
    Delete,
    /// They are left running, and no longer owned by the operator.
    Retain,
}

impl DeletionPolicy {
    /// `delete` or `retain`, as the annotation and `DELETION_POLICY` say it.
    pub fn parse(text: &str) -> Result<DeletionPolicy> {
        match text.trim() {
            "delete" => Ok(DeletionPolicy::Delete),
            "retain" => Ok(DeletionPolicy::Retain),
            other => bail!("{other:?} must be \"delete\" or \"retain\""),
        }
    }
}

const NOT_A_CONFIGMAP: &str = "not a ConfigMap";

/// Where kubectl puts a manifest that names no namespace, unless told otherwise.
pub const DEFAULT_NAMESPACE: &str = "default";

impl ConfigMap {
    /// A ConfigMap from its JSON (or YAML) object.
    pub fn from_json(value: &serde_json::Value) -> Result<ConfigMap> {
        Object::deserialize(value).context(NOT_A_CONFIGMAP)?.into_result()
    }

    /// A ConfigMap from the text of its JSON object, read straight into
    /// its fields.
    pub fn from_json_text(text: &str) -> Result<ConfigMap> {
        serde_json::from_str::<Object>(text).context(NOT_A_CONFIGMAP)?.into_result()
    }
}

/// A JSON object read as a ConfigMap, or why it is not one. Reading never
/// fails on the object's shape, only on JSON syntax: a binding context reads
/// thousands of objects in one pass over its text, and one broken object is
/// a problem of its own, never the others'.
#[derive(Debug)]
pub struct Object(Result<ConfigMap, NotAConfigMap>);

/// Why an object is not read as a ConfigMap.
#[derive(Debug)]
enum NotAConfigMap {
    /// Its `kind` says what it is.
    Kind(String),
    /// The first field that is missing or holds the wrong shape.
    Shape(Invalid),
}

impl Object {
    /// The ConfigMap, or an error naming the field and what it holds instead.
    pub fn into_result(self) -> Result<ConfigMap> {
        self.0.map_err(|why| match why {
            NotAConfigMap::Kind(kind) => anyhow::anyhow!("a {kind}, not a ConfigMap"),
            NotAConfigMap::Shape(why) => anyhow::anyhow!("{NOT_A_CONFIGMAP}: {why}"),
        })
    }
}

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Object, D::Error> {
        Shaped::<Object>::deserialize(deserializer).map(|shaped| shaped.0)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum ConfigMapField {
    Kind,
    Metadata,
    Data,
    BinaryData,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum MetadataField {
    Name,
    Namespace,
    Uid,
    ResourceVersion,
    Labels,
    Annotations,
    #[serde(other)]
    Other,
}

/// `metadata`, as far as this operator reads it.
#[derive(Default)]
struct Metadata {
    name: Option<Text>,
    namespace: Option<Text>,
    uid: Option<Text>,
    resource_version: Option<Text>,
    labels: Option<Texts>,
    annotations: Option<Texts>,
    /// What it is when it is not an object.
    not: Option<&'static str>,
}

impl Shape for Metadata {
    fn other(what: &'static str) -> Metadata {
        Metadata { not: Some(what), ..Metadata::default() }
    }
    fn map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Metadata, A::Error> {
        let mut metadata = Metadata::default();
        while let Some(field) = map.next_key::<MetadataField>()? {
            match field {
                MetadataField::Name => metadata.name = Some(map.next_value::<Shaped<Text>>()?.0),
                MetadataField::Namespace => metadata.namespace = Some(map.next_value::<Shaped<Text>>()?.0),
                MetadataField::Uid => metadata.uid = Some(map.next_value::<Shaped<Text>>()?.0),
                MetadataField::ResourceVersion => {
                    metadata.resource_version = Some(map.next_value::<Shaped<Text>>()?.0);
                }
                MetadataField::Labels => metadata.labels = Some(map.next_value::<Shaped<Texts>>()?.0),
                MetadataField::Annotations => metadata.annotations = Some(map.next_value::<Shaped<Texts>>()?.0),
                MetadataField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(metadata)
    }
}

impl Shape for Object {
    fn other(what: &'static str) -> Object {
        Object(Err(NotAConfigMap::Shape(Invalid(format!("the object is {what}")))))
    }
    fn map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Object, A::Error> {
        let (mut kind, mut metadata, mut data, mut binary) = (None, None, None, None);
        while let Some(field) = map.next_key::<ConfigMapField>()? {
            match field {
                ConfigMapField::Kind => kind = Some(map.next_value::<Shaped<Text>>()?.0),
                ConfigMapField::Metadata => metadata = Some(map.next_value::<Shaped<Metadata>>()?.0),
                ConfigMapField::Data => data = Some(map.next_value::<Shaped<Texts>>()?.0),
                ConfigMapField::BinaryData => binary = Some(map.next_value::<Shaped<Keys>>()?.0),
                ConfigMapField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let Some(Text::Is(kind)) = kind.filter(|k| !matches!(k, Text::Is(k) if k == "ConfigMap")) {
            return Ok(Object(Err(NotAConfigMap::Kind(kind))));
        }
        Ok(Object(configmap(metadata, data, binary).map_err(NotAConfigMap::Shape)))
    }
}

/// The ConfigMap the fields make, or the first thing wrong with them.
fn configmap(metadata: Option<Metadata>, data: Option<Texts>, binary: Option<Keys>) -> Result<ConfigMap, Invalid> {
    let metadata = metadata.ok_or("it has no metadata")?;
    if let Some(what) = metadata.not {
        return Err(Invalid(format!("metadata is {what}, not an object")));
    }
    let optional = |text: Option<Text>, field| text.map_or(Ok(None), |t| t.optional(field));
    let name = optional(metadata.name, "metadata.name")?.ok_or("it has no metadata.name")?;
    let texts = |texts: Option<Texts>, field| texts.map_or(Ok(BTreeMap::new()), |t| t.named(field));
    Ok(ConfigMap {
        id: CmId::new(optional(metadata.namespace, "metadata.namespace")?, name),
        uid: optional(metadata.uid, "metadata.uid")?,
        resource_version: optional(metadata.resource_version, "metadata.resourceVersion")?,
        labels: texts(metadata.labels, "metadata.labels")?,
        annotations: texts(metadata.annotations, "metadata.annotations")?,
        data: texts(data, "data")?,
        binary_keys: binary
            .map_or(Ok(Vec::new()), |k| k.0)
            .map_err(|what| Invalid(format!("binaryData is {what}, not an object")))?,
    })
}

impl ConfigMap {
    /// The namespace it is in; a manifest without one goes where kubectl
    /// puts it by default.
    #[must_use]
    pub fn namespace(&self) -> &str {
        self.id.namespace()
    }

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

    /// The deletion-policy annotation, when set; a bad value is an error, so
    /// that a typo of `retain` never deletes connectors.
    pub fn deletion_policy(&self) -> Result<Option<DeletionPolicy>> {
        let Some(text) = self.annotations.get(DELETION_POLICY_ANNOTATION) else { return Ok(None) };
        match DeletionPolicy::parse(text) {
            Ok(policy) => Ok(Some(policy)),
            Err(_) => {
                bail!("annotation `{DELETION_POLICY_ANNOTATION}` is {text:?}; it must be \"delete\" or \"retain\"")
            }
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

    fn why(object: serde_json::Value) -> String {
        let from_text = ConfigMap::from_json_text(&object.to_string()).unwrap_err();
        let from_value = ConfigMap::from_json(&object).unwrap_err();
        assert_eq!(from_text.to_string(), from_value.to_string());
        from_text.to_string()
    }

    #[test]
    fn a_wrong_shape_names_the_field_and_what_it_holds() {
        let named = |metadata| json!({"metadata": metadata, "data": {"k": "{}"}});
        assert_eq!(
            why(json!({"metadata": {"name": "c"}, "data": {"a.json": "{}", "b.json": 1}})),
            r#"not a ConfigMap: data key "b.json" is a number, not a string"#
        );
        assert_eq!(
            why(named(json!({"name": "c", "labels": {"enabled": false}}))),
            r#"not a ConfigMap: metadata.labels key "enabled" is a boolean, not a string"#
        );
        assert_eq!(
            why(named(json!({"name": "c", "annotations": ["a"]}))),
            "not a ConfigMap: metadata.annotations is an array, not an object of strings"
        );
        assert_eq!(why(named(json!({"namespace": "ns"}))), "not a ConfigMap: it has no metadata.name");
        assert_eq!(why(named(json!({"name": 7}))), "not a ConfigMap: metadata.name is a number, not a string");
        assert_eq!(why(json!({"data": {}})), "not a ConfigMap: it has no metadata");
        assert_eq!(why(json!([1])), "not a ConfigMap: the object is an array");
        assert_eq!(why(json!({"kind": "Secret", "metadata": 1})), "a Secret, not a ConfigMap");
        assert!(ConfigMap::from_json_text("{\"metadata\": ").unwrap_err().to_string().starts_with("not a ConfigMap"));
    }

    #[test]
    fn what_is_read_and_what_may_be_null() {
        let object = json!({"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "c", "namespace": null, "uid": "u", "labels": null, "managedFields": [{}]},
            "data": {"a.json": "{}"}, "binaryData": {"b.bin": "AAEC"}});
        let cm = ConfigMap::from_json_text(&object.to_string()).unwrap();
        assert_eq!(cm, ConfigMap::from_json(&object).unwrap());
        assert_eq!(cm.id, CmId::new(None, "c".into()));
        assert_eq!(cm.uid.as_deref(), Some("u"));
        assert!(cm.labels.is_empty() && cm.annotations.is_empty());
        assert_eq!(cm.data["a.json"], "{}");
        assert_eq!(cm.binary_keys, ["b.bin"]);
    }

    #[test]
    fn enabled_label() {
        assert_eq!(cm(json!({"destination": "connect"})).intent().unwrap(), Intent::Apply);
        assert_eq!(cm(json!({"enabled": "true"})).intent().unwrap(), Intent::Apply);
        assert_eq!(cm(json!({"enabled": "false"})).intent().unwrap(), Intent::Remove);
        let err = cm(json!({"enabled": "False"})).intent().unwrap_err().to_string();
        assert!(err.contains("\"False\""), "{err}");
    }

    #[test]
    fn deletion_policy_annotation() {
        let with = |value: &str| {
            let mut cm = cm(json!({}));
            cm.annotations.insert(DELETION_POLICY_ANNOTATION.into(), value.into());
            cm.deletion_policy()
        };
        assert_eq!(cm(json!({})).deletion_policy().unwrap(), None);
        assert_eq!(with("retain").unwrap(), Some(DeletionPolicy::Retain));
        assert_eq!(with("delete").unwrap(), Some(DeletionPolicy::Delete));
        let err = with("keep").unwrap_err().to_string();
        assert_eq!(
            err,
            "annotation `connect-operator.io/deletion-policy` is \"keep\"; it must be \"delete\" or \"retain\""
        );
    }
}
