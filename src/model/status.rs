//! What the hook writes back on each ConfigMap it reconciles: annotations
//! under `status.connect-operator.io/`, which the binding's jqFilter ignores
//! so that writing them never triggers another run.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::configmap::STATUS_ANNOTATION_PREFIX;
use crate::model::live::ConnectorState;

/// JSON array of the connector names the ConfigMap declares: what to delete
/// when a key is removed, a template renames its connector, or a deleted
/// ConfigMap's templates no longer render.
pub const CONNECTORS: &str = "status.connect-operator.io/connectors";
/// JSON object: per connector, its state, tasks, last apply and last error;
/// per data key, template errors.
pub const STATUS: &str = "status.connect-operator.io/status";
/// One line for people (`kubectl get cm -o yaml`).
pub const SUMMARY: &str = "status.connect-operator.io/summary";

/// The status of one ConfigMap, as recorded in its annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmStatus {
    #[serde(default)]
    /// Per connector it declares, what was last seen and done.
    pub connectors: BTreeMap<String, Record>,
    /// Data key (or `labels`) to the error that kept it from being applied.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, String>,
    /// The value of the restart annotation last acted on, so a request is
    /// carried out once.
    #[serde(default, rename = "restartHandled", skip_serializing_if = "Option::is_none")]
    pub restart_handled: Option<String>,
    /// The value of the offsets annotation last acted on, so a request is
    /// carried out once.
    #[serde(default, rename = "offsetsHandled", skip_serializing_if = "Option::is_none")]
    pub offsets_handled: Option<String>,
}

/// One connector's line in the status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// The data key that declares it.
    #[serde(default)]
    pub key: String,
    /// Connect's connector state (`RUNNING`, `PAUSED`, `FAILED`, ...), `PENDING`
    /// right after a create, `DISABLED`, or `ABSENT`.
    pub state: ConnectorState,
    /// Task states, e.g. `2/3 tasks RUNNING, 1 FAILED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<String>,
    /// When this hook last wrote its config (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
    /// The last error applying it, secrets scrubbed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Automatic restarts since it last ran healthy.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub restarts: u32,
    /// When the last automatic restart was sent (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restart_at: Option<String>,
    /// HMAC-SHA256 of the config last applied, when CONNECT_OPERATOR_DIGEST_KEY
    /// is set: how a change to a value Connect masks is noticed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

// serde's skip_serializing_if passes a reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl CmStatus {
    /// The status recorded on a ConfigMap; empty when there is none or it
    /// cannot be read (someone edited it by hand).
    #[must_use]
    pub fn recorded(annotations: &BTreeMap<String, String>) -> CmStatus {
        annotations.get(STATUS).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
    }

    /// The annotations that say this status, with the declared `names`.
    #[must_use]
    pub fn annotations(&self, names: &BTreeSet<String>) -> BTreeMap<String, String> {
        let names: Vec<&String> = names.iter().collect();
        BTreeMap::from([
            // Strings and maps of strings always serialize.
            (CONNECTORS.to_string(), serde_json::to_string(&names).unwrap_or_default()),
            (STATUS.to_string(), serde_json::to_string(self).unwrap_or_default()),
            (SUMMARY.to_string(), self.summary()),
        ])
    }

    fn summary(&self) -> String {
        let connectors = self.connectors.iter().map(|(name, r)| {
            let tasks = r.tasks.as_ref().map(|t| format!(" ({t})")).unwrap_or_default();
            let error = r.error.as_ref().map(|_| ", see error").unwrap_or_default();
            format!("{name}: {}{tasks}{error}", r.state)
        });
        let errors = self.errors.keys().map(|key| format!("{key}: error"));
        let parts: Vec<String> = connectors.chain(errors).collect();
        if parts.is_empty() {
            "no connectors".into()
        } else {
            parts.join("; ")
        }
    }
}

/// The connector names recorded on a ConfigMap by an earlier run.
#[must_use]
pub fn recorded_names(annotations: &BTreeMap<String, String>) -> BTreeSet<String> {
    annotations.get(CONNECTORS).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
}

/// Whether `annotations` already say everything in `wanted`.
#[must_use]
pub fn up_to_date(annotations: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>) -> bool {
    debug_assert!(wanted.keys().all(|k| k.starts_with(STATUS_ANNOTATION_PREFIX)));
    wanted.iter().all(|(k, v)| annotations.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_round_trip() {
        let mut status = CmStatus::default();
        status.connectors.insert(
            "a".into(),
            Record {
                key: "a.json".into(),
                state: ConnectorState::Running,
                tasks: Some("1/1 tasks RUNNING".into()),
                ..Record::default()
            },
        );
        status.errors.insert("b.json".into(), "1:1: boom".into());
        let names = BTreeSet::from(["a".to_string()]);
        let annotations = status.annotations(&names);
        assert_eq!(annotations[CONNECTORS], r#"["a"]"#);
        assert_eq!(annotations[SUMMARY], "a: RUNNING (1/1 tasks RUNNING); b.json: error");
        assert_eq!(CmStatus::recorded(&annotations), status);
        assert_eq!(recorded_names(&annotations), names);
        assert!(up_to_date(&annotations, &status.annotations(&names)));
        assert!(!up_to_date(&BTreeMap::new(), &annotations));
        assert_eq!(
            CmStatus::recorded(&BTreeMap::from([(STATUS.to_string(), "{broken".to_string())])),
            CmStatus::default()
        );
    }
}
