//! The operations shell-operator applies for the hook from
//! `KUBERNETES_PATCH_PATH`, as its documentation spells them: each names
//! what it does and to which object, so a typo is a compile error rather
//! than an operation shell-operator rejects after the run.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::configmap::CmId;

/// One operation, written as one JSON line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "operation")]
pub enum Operation {
    /// Creates `object` unless an object of its kind and name exists.
    CreateIfNotExists {
        /// The whole object, as `kubectl create` would take it.
        object: Value,
    },
    /// A JSON merge patch (RFC 7386) of a ConfigMap.
    MergePatch(MergePatch),
}

/// A JSON merge patch of one ConfigMap.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MergePatch {
    api_version: &'static str,
    kind: &'static str,
    namespace: String,
    name: String,
    /// The patch is dropped, not failed, when the object is gone.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    ignore_missing_object: bool,
    #[serde(rename = "mergePatch")]
    patch: Value,
}

impl Operation {
    /// Sets `annotations` on a declaring ConfigMap; a `null` value removes
    /// one. The ConfigMap may be deleted between the snapshot and the patch,
    /// which is no error.
    #[must_use]
    pub fn annotate(id: &CmId, annotations: Map<String, Value>) -> Operation {
        let mut metadata = Map::new();
        metadata.insert("annotations".into(), Value::Object(annotations));
        Operation::MergePatch(MergePatch {
            api_version: "v1",
            kind: "ConfigMap",
            namespace: id.namespace.clone().unwrap_or_else(|| "default".into()),
            name: id.name.clone(),
            ignore_missing_object: true,
            patch: Value::Object(Map::from_iter([("metadata".to_string(), Value::Object(metadata))])),
        })
    }

    /// Sets keys of the `data` of one of the operator's own ConfigMaps.
    #[must_use]
    pub fn set_data(namespace: &str, name: &str, data: Value) -> Operation {
        Operation::MergePatch(MergePatch {
            api_version: "v1",
            kind: "ConfigMap",
            namespace: namespace.to_string(),
            name: name.to_string(),
            ignore_missing_object: false,
            patch: Value::Object(Map::from_iter([("data".to_string(), data)])),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shapes of shell-operator's documentation (`KUBERNETES_PATCH_PATH`).
    #[test]
    fn operations_are_written_as_shell_operator_reads_them() {
        let id = CmId { namespace: Some("team-a".into()), name: "orders".into() };
        let annotate = Operation::annotate(&id, Map::from_iter([("a".to_string(), json!("b"))]));
        assert_eq!(
            serde_json::to_value(&annotate).unwrap(),
            json!({"operation": "MergePatch", "apiVersion": "v1", "kind": "ConfigMap", "namespace": "team-a",
                   "name": "orders", "ignoreMissingObject": true, "mergePatch": {"metadata": {"annotations": {"a": "b"}}}})
        );
        let data = Operation::set_data("ops", "state", json!({"k": "v"}));
        assert_eq!(
            serde_json::to_value(&data).unwrap(),
            json!({"operation": "MergePatch", "apiVersion": "v1", "kind": "ConfigMap", "namespace": "ops",
                   "name": "state", "mergePatch": {"data": {"k": "v"}}})
        );
        let create = Operation::CreateIfNotExists { object: json!({"kind": "Event"}) };
        assert_eq!(
            serde_json::to_value(&create).unwrap(),
            json!({"operation": "CreateIfNotExists", "object": {"kind": "Event"}})
        );
    }
}
