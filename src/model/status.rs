//! What the hook writes back on each ConfigMap it reconciles: annotations
//! under `status.connect-operator.io/`, which the binding's jqFilter ignores
//! so that writing them never triggers another run.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::configmap::{ConfigMap, STATUS_ANNOTATION_PREFIX};
use crate::model::live::ConnectorState;
use crate::text::{framed, hex};

/// JSON array of the connector names the ConfigMap declares: what to delete
/// when a key is removed, a template renames its connector, or a deleted
/// ConfigMap's templates no longer render.
pub const CONNECTORS: &str = "status.connect-operator.io/connectors";
/// JSON object: per connector, its state, tasks, last apply and last error;
/// per data key, template errors.
pub const STATUS: &str = "status.connect-operator.io/status";
/// One line for people (`kubectl get cm -o yaml`).
pub const SUMMARY: &str = "status.connect-operator.io/summary";
/// XXH3-128 of what the ConfigMap's connector names can depend on (see
/// [`source_digest`]): while it matches, the names and keys recorded in
/// [`CONNECTORS`] and [`STATUS`] are what its templates render, so a run that
/// does not act on it need not render it.
pub const SOURCE: &str = "status.connect-operator.io/source";

/// `True`, `False` or `Unknown`: whether every connector the ConfigMap
/// declares is as declared (for `kubectl wait --for=jsonpath=...`).
pub const READY: &str = "status.connect-operator.io/ready";
/// Why [`READY`] says what it says: see [`Reason`].
pub const REASON: &str = "status.connect-operator.io/reason";
/// `metadata.resourceVersion` of the ConfigMap whose data and labels the
/// status describes: once it is the version `kubectl apply` made, the edit
/// has been acted on.
pub const OBSERVED: &str = "status.connect-operator.io/observed-resource-version";
/// Set (outside the status prefix, so that writing it makes shell-operator
/// run the hook again) when a run found Connect unreachable; removed by the
/// next run that reaches it.
pub const UNREACHABLE_SINCE: &str = "connect-operator.io/connect-unreachable-since";

/// Whether a ConfigMap's connectors are as it declares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Readiness {
    /// Every connector is in its declared state, with every task running.
    True,
    /// Not yet, or not at all: see the reason.
    False,
    /// This run could not tell: Connect did not answer.
    #[default]
    Unknown,
}

/// Why the readiness is what it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    /// Every connector is as declared.
    AsDeclared,
    /// Being created, restarted or moved to its state, or tasks starting.
    #[default]
    Progressing,
    /// A connector or a task failed.
    Failed,
    /// A template, label or write failed: the declaration cannot be applied.
    Error,
    /// Connect did not answer; the states are the last seen.
    ConnectUnreachable,
}

/// A Kubernetes-style condition: `Ready`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `True`, `False` or `Unknown`.
    pub status: Readiness,
    /// Why.
    pub reason: Reason,
    /// For people.
    pub message: String,
    /// When `status` or `reason` last changed.
    pub last_transition_time: String,
}

/// Connectors and tasks by state, for tools that count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Connectors by state.
    #[serde(default)]
    pub connectors: BTreeMap<ConnectorState, usize>,
    /// Tasks by state, over every connector.
    #[serde(default)]
    pub tasks: BTreeMap<ConnectorState, usize>,
}

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
    /// Connectors and tasks by state.
    #[serde(default)]
    pub counts: Counts,
    /// Whether its connectors are as declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<Condition>,
    /// See [`OBSERVED`].
    #[serde(default, rename = "observedResourceVersion", skip_serializing_if = "Option::is_none")]
    pub observed_resource_version: Option<String>,
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
    /// Tasks by state, e.g. `{"RUNNING": 2, "FAILED": 1}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub task_counts: BTreeMap<ConnectorState, usize>,
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
    /// The connector it took over under its new name (`renamedFrom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed: Option<Renamed>,
}

/// A rename a connector took over: the old name, and how many partitions'
/// offsets came with it (none when it had offsets of its own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renamed {
    /// The name it had.
    pub from: String,
    /// Partitions whose offsets were carried over.
    pub partitions: usize,
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

    /// The annotations that say this status, with the declared `names` and
    /// the digest of what they were rendered from.
    #[must_use]
    pub fn annotations(&self, names: &BTreeSet<String>, source: &str) -> BTreeMap<String, String> {
        let names: Vec<&String> = names.iter().collect();
        let mut annotations = BTreeMap::from([
            // Strings and maps of strings always serialize.
            (CONNECTORS.to_string(), serde_json::to_string(&names).unwrap_or_default()),
            (STATUS.to_string(), serde_json::to_string(self).unwrap_or_default()),
            (SUMMARY.to_string(), self.summary()),
            (SOURCE.to_string(), source.to_string()),
        ]);
        if let Some(ready) = &self.ready {
            annotations.insert(READY.to_string(), format!("{:?}", ready.status));
            annotations.insert(REASON.to_string(), format!("{:?}", ready.reason));
        }
        if let Some(version) = &self.observed_resource_version {
            annotations.insert(OBSERVED.to_string(), version.clone());
        }
        annotations
    }

    fn summary(&self) -> String {
        let connectors = self.connectors.iter().map(|(name, r)| {
            let tasks = r.tasks.as_ref().map(|t| format!(" ({t})")).unwrap_or_default();
            let error = r.error.as_ref().map(|_| ", see error").unwrap_or_default();
            format!("{name}: {}{tasks}{error}", r.state)
        });
        let errors = self.errors.keys().map(|key| format!("{key}: error"));
        let parts: Vec<String> = connectors.chain(errors).collect();
        let said = if parts.is_empty() { "no connectors".into() } else { parts.join("; ") };
        match &self.ready {
            Some(c) if c.reason == Reason::ConnectUnreachable => {
                format!("Connect unreachable since {}; last seen: {said}", c.last_transition_time)
            }
            _ => said,
        }
    }
}

/// The connector names recorded on a ConfigMap by an earlier run.
#[must_use]
pub fn recorded_names(annotations: &BTreeMap<String, String>) -> BTreeSet<String> {
    annotations.get(CONNECTORS).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
}

/// What a ConfigMap's connector names and keys can depend on, as a digest:
/// its data, binaryData keys and labels (the cluster and `enabled`), and the
/// values of the public variables from properties files, the only variables
/// a name may be computed from (names computed from a secret are refused).
/// The environment is left out: it cannot change while the operator runs,
/// and its first run after a start is a full one, which renders everything.
///
/// It tells a change, not an attack: whoever can change a ConfigMap can
/// write its annotations too. So it is XXH3-128, which every run computes
/// for every ConfigMap at little cost.
#[must_use]
pub fn source_digest(cm: &ConfigMap, public: &BTreeMap<&str, &str>) -> String {
    // The counts first and every text length-prefixed: no two sources hash the same bytes.
    let mut bytes = Vec::with_capacity(1024);
    for count in [cm.data.len(), cm.binary_keys.len(), cm.labels.len(), public.len()] {
        bytes.extend_from_slice(&(count as u64).to_le_bytes());
    }
    let data = cm.data.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]);
    let binary = cm.binary_keys.iter().map(String::as_str);
    let labels = cm.labels.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]);
    let public = public.iter().flat_map(|(k, v)| [*k, *v]);
    framed(data.chain(binary).chain(labels).chain(public), |b| bytes.extend_from_slice(b));
    hex(&xxhash_rust::xxh3::xxh3_128(&bytes).to_be_bytes())
}

/// What [`recorded_declarations`] reads of the status: the key of each
/// connector, and whether any template failed. Borrowed: an event run reads
/// it for every ConfigMap it does not act on.
#[derive(Deserialize)]
struct RecordedKeys<'a> {
    #[serde(default, borrow)]
    connectors: BTreeMap<Cow<'a, str>, Key<'a>>,
    #[serde(default, borrow)]
    errors: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Key<'a> {
    #[serde(default, borrow)]
    key: Cow<'a, str>,
}

/// (data key, connector name) of each connector a ConfigMap declares.
pub type Declarations = Vec<(String, String)>;

/// The (data key, connector name) pairs an earlier run recorded, if they
/// still say what the ConfigMap declares: recorded from the same source
/// (`digest`, see [`source_digest`]), with no template error, and every name
/// with the key that declares it. `None` when the ConfigMap must be rendered.
#[must_use]
pub fn recorded_declarations(annotations: &BTreeMap<String, String>, digest: &str) -> Option<Declarations> {
    if annotations.get(SOURCE).map(String::as_str) != Some(digest) {
        return None;
    }
    let status: RecordedKeys = serde_json::from_str(annotations.get(STATUS)?).ok()?;
    let names: BTreeSet<String> = serde_json::from_str(annotations.get(CONNECTORS)?).ok()?;
    if !status.errors.is_empty() {
        return None;
    }
    names
        .into_iter()
        .map(|name| {
            let key = status.connectors.get(name.as_str()).map(|r| r.key.to_string()).filter(|k| !k.is_empty())?;
            Some((key, name))
        })
        .collect()
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
        let annotations = status.annotations(&names, "d");
        assert_eq!(annotations[CONNECTORS], r#"["a"]"#);
        assert_eq!(annotations[SUMMARY], "a: RUNNING (1/1 tasks RUNNING); b.json: error");
        assert_eq!(CmStatus::recorded(&annotations), status);
        assert_eq!(recorded_names(&annotations), names);
        assert!(up_to_date(&annotations, &status.annotations(&names, "d")));
        assert!(!up_to_date(&BTreeMap::new(), &annotations));
        assert_eq!(
            CmStatus::recorded(&BTreeMap::from([(STATUS.to_string(), "{broken".to_string())])),
            CmStatus::default()
        );
    }

    #[test]
    fn recorded_declarations_are_trusted_only_from_the_same_source_and_without_errors() {
        let record = |key: &str| Record { key: key.into(), ..Record::default() };
        let mut status = CmStatus::default();
        status.connectors.insert("a".into(), record("a.json"));
        status.connectors.insert("b".into(), record("b.json"));
        let names = BTreeSet::from(["a".to_string(), "b".to_string()]);
        let annotations = status.annotations(&names, "d1");
        let pairs = |k: &str, n: &str| (k.to_string(), n.to_string());
        assert_eq!(recorded_declarations(&annotations, "d1"), Some(vec![pairs("a.json", "a"), pairs("b.json", "b")]));
        assert_eq!(recorded_declarations(&annotations, "d2"), None, "the ConfigMap changed since");
        let mut failing = status.clone();
        failing.errors.insert("c.json".into(), "1:1: boom".into());
        assert_eq!(recorded_declarations(&failing.annotations(&names, "d1"), "d1"), None, "c.json may declare one");
        let leftover = BTreeSet::from(["a".to_string(), "b".to_string(), "old".to_string()]);
        assert_eq!(recorded_declarations(&status.annotations(&leftover, "d1"), "d1"), None, "a name without its key");
    }

    #[test]
    fn the_source_digest_follows_data_labels_and_public_variables() {
        let cm = |data: &str, label: &str| ConfigMap {
            id: crate::model::configmap::CmId { namespace: Some("ns".into()), name: "c".into() },
            uid: None,
            resource_version: None,
            labels: BTreeMap::from([("enabled".to_string(), label.to_string())]),
            annotations: BTreeMap::new(),
            data: BTreeMap::from([("k".to_string(), data.to_string())]),
            binary_keys: Vec::new(),
        };
        let none = BTreeMap::new();
        let base = source_digest(&cm("{}", "true"), &none);
        assert_eq!(base.len(), 32);
        assert_eq!(base, source_digest(&cm("{}", "true"), &none));
        assert_ne!(base, source_digest(&cm("{ }", "true"), &none));
        assert_ne!(base, source_digest(&cm("{}", "false"), &none));
        assert_ne!(base, source_digest(&cm("{}", "true"), &BTreeMap::from([("ENV", "prod")])));
    }
}
