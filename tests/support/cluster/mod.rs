//! A fake Kubernetes cluster as shell-operator sees it, for end-to-end tests of the hook.
//!
//! It stores ConfigMaps and core/v1 Events as the API server does, writes the binding contexts shell-operator
//! would write for them, and applies a run's `KUBERNETES_PATCH_PATH` and `METRICS_PATH` files as shell-operator
//! v1.20.3 does after the hook exits 0 (its documentation of hooks, binding contexts and metrics). Whatever
//! shell-operator or the API server would refuse fails here too, with the reason, so that a hook bug fails a
//! test instead of making shell-operator retry the run forever.
//!
//! Self-contained: no `use crate::`.

mod contexts;
mod json_patches;
mod metrics;
mod patches;
mod validation;

use self::contexts::*;
use self::json_patches::*;
use self::patches::*;
use self::validation::*;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::SystemTime;

use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The hook's name, as shell-operator derives it from its path under `/hooks`: the `hook` label of its metrics,
/// and the group of every metric operation written without one.
pub const HOOK: &str = "connect-operator";

/// kind, namespace, name.
pub(crate) type Key = (String, String, String);
pub(crate) type Labels = BTreeMap<String, String>;
/// One object before and after a write (`None`: absent).
pub(crate) type Change = (Key, Option<Value>, Option<Value>);

/// A kind this fake API server serves. Both are core/v1 and namespaced. Lists are space-separated.
pub(crate) struct Kind {
    pub(crate) name: &'static str,
    pub(crate) resource: &'static str,
    /// The names a patch operation's or a binding's `kind` may use (case-insensitive), as discovery allows.
    pub(crate) aliases: &'static str,
    /// Top-level fields besides apiVersion, kind and metadata. The API server drops any other field.
    pub(crate) fields: &'static str,
}

pub(crate) const KINDS: [Kind; 2] = [
    Kind {
        name: "ConfigMap",
        resource: "configmaps",
        aliases: "configmap configmaps cm",
        fields: "data binaryData immutable",
    },
    Kind {
        name: "Event",
        resource: "events",
        aliases: "event events ev",
        fields: "involvedObject reason message source firstTimestamp lastTimestamp count type eventTime series action \
                 related reportingComponent reportingInstance",
    },
];

pub(crate) const METADATA: &str =
    "name generateName namespace uid resourceVersion generation creationTimestamp deletionTimestamp \
                        deletionGracePeriodSeconds labels annotations ownerReferences finalizers managedFields";

pub(crate) fn listed(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

pub(crate) fn kind_named(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|kind| listed(kind.aliases, &name.to_ascii_lowercase()))
}

pub(crate) fn kind_of(object: &Value) -> Option<&'static Kind> {
    KINDS.iter().find(|kind| object["kind"] == kind.name)
}

/// How the API server refuses a request; Create, CreateIfNotExists and ignoreMissingObject tell them apart.
pub(crate) enum ApiError {
    NotFound(String),
    Exists(String),
    Refused(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let (ApiError::NotFound(m) | ApiError::Exists(m) | ApiError::Refused(m)) = self;
        f.write_str(m)
    }
}

pub(crate) fn not_found((kind, _, name): &Key) -> ApiError {
    ApiError::NotFound(format!("{} {name:?} not found", kind_named(kind).unwrap().resource))
}

pub struct Cluster {
    /// Creation serial (for Events' order) and the stored object.
    pub(crate) objects: BTreeMap<Key, (u64, Value)>,
    /// Namespaces exist once the test puts an object in them; the hook cannot create objects elsewhere.
    pub(crate) namespaces: BTreeSet<String>,
    pub(crate) revision: u64,
    pub(crate) serial: u64,
    /// The hook's `kubernetes` bindings: what `includeSnapshotsFrom` names, and whose watch events
    /// `apply_patch_file` reports.
    pub(crate) bindings: Vec<Value>,
    /// (name, labels including `hook`) -> (group, value).
    pub(crate) series: BTreeMap<(String, Labels), (String, f64)>,
    /// A histogram keeps the buckets it was first observed with.
    pub(crate) buckets: BTreeMap<String, Vec<f64>>,
}

impl Default for Cluster {
    fn default() -> Cluster {
        Cluster::new()
    }
}

impl Cluster {
    pub fn new() -> Cluster {
        Cluster {
            objects: BTreeMap::new(),
            namespaces: BTreeSet::from(["default".to_string()]),
            revision: 0,
            serial: 0,
            bindings: vec![json!({"kind": "ConfigMap"})],
            series: BTreeMap::new(),
            buckets: BTreeMap::new(),
        }
    }

    /// Takes the hook's bindings (the `--config` output, parsed): its `kubernetes` bindings are the snapshots
    /// `includeSnapshotsFrom` may name, and the watches whose events `apply_patch_file` reports. Until then a
    /// single binding watches every ConfigMap without a jqFilter, so any stored change to one is Modified.
    pub fn configure(&mut self, config: &Value) {
        self.bindings = config["kubernetes"].as_array().expect("the config has kubernetes bindings").clone();
    }

    /// Adds or replaces the objects of a (multi-document) YAML string, `List`s included, as `kubectl apply`.
    pub fn apply_yaml(&mut self, yaml: &str) {
        for document in serde_yaml_ng::Deserializer::from_str(yaml) {
            match Value::deserialize(document).expect("apply_yaml: invalid YAML") {
                Value::Null => {}
                list if list["kind"] == "List" => {
                    list["items"].as_array().into_iter().flatten().for_each(|item| self.put(item.clone()))
                }
                object => self.put(object),
            }
        }
    }

    /// Adds or replaces an object as a user would: the namespace defaults to "default", uid, resourceVersion and
    /// creationTimestamp are the server's. Panics when the API server would refuse the object. As on the API
    /// server, writing an object unchanged is a no-op (no new resourceVersion).
    pub fn put(&mut self, mut object: Value) {
        let meta = object["metadata"].as_object_mut().expect("put: the object has no metadata");
        for field in ["uid", "resourceVersion", "creationTimestamp"] {
            meta.remove(field);
        }
        if meta.get("namespace").and_then(Value::as_str).unwrap_or("").is_empty() {
            meta.insert("namespace".into(), json!("default"));
        }
        self.namespaces.insert(meta["namespace"].as_str().unwrap().to_string());
        let key = key_of(&object).unwrap_or_else(|e| panic!("put: {e}"));
        let written = if self.objects.contains_key(&key) {
            self.update(&key, object).map(|_| ())
        } else {
            self.create(object).map(|_| ())
        };
        written.unwrap_or_else(|e| panic!("put: {e}"));
    }

    /// Deletes an object and returns its last state (what a Deleted context carries).
    pub fn delete(&mut self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        self.remove(&key(kind, namespace, name)).and_then(|(_, before, _)| before)
    }

    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<&Value> {
        self.objects.get(&key(kind, namespace, name)).map(|(_, object)| object)
    }

    /// Sorted by namespace then name, as snapshots are.
    pub fn configmaps(&self) -> Vec<&Value> {
        self.objects.iter().filter(|((kind, ..), _)| kind == "ConfigMap").map(|(_, (_, object))| object).collect()
    }

    /// core/v1 Events in creation order.
    pub fn events(&self) -> Vec<&Value> {
        let mut events: Vec<&(u64, Value)> =
            self.objects.iter().filter(|((kind, ..), _)| kind == "Event").map(|(_, stored)| stored).collect();
        events.sort_by_key(|(serial, _)| *serial);
        events.into_iter().map(|(_, object)| object).collect()
    }
}
