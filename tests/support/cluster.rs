//! A fake Kubernetes cluster as shell-operator sees it, for end-to-end tests of the hook.
//!
//! It stores ConfigMaps and core/v1 Events as the API server does, writes the binding contexts shell-operator
//! would write for them, and applies a run's `KUBERNETES_PATCH_PATH` and `METRICS_PATH` files as shell-operator
//! v1.20.3 does after the hook exits 0 (`/work/shared/reference/shell-operator.md`, sections 5 to 7). Whatever
//! shell-operator or the API server would refuse fails here too, with the reason, so that a hook bug fails a
//! test instead of making shell-operator retry the run forever.
//!
//! Self-contained: no `use crate::`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The hook's name, as shell-operator derives it from its path under `/hooks`: the `hook` label of its metrics,
/// and the group of every metric operation written without one.
pub const HOOK: &str = "connect-operator";

/// kind, namespace, name.
type Key = (String, String, String);
type Labels = BTreeMap<String, String>;
/// One object before and after a write (`None`: absent).
type Change = (Key, Option<Value>, Option<Value>);

/// A kind this fake API server serves. Both are core/v1 and namespaced. Lists are space-separated.
struct Kind {
    name: &'static str,
    resource: &'static str,
    /// The names a patch operation's or a binding's `kind` may use (case-insensitive), as discovery allows.
    aliases: &'static str,
    /// Top-level fields besides apiVersion, kind and metadata. The API server drops any other field.
    fields: &'static str,
}

const KINDS: [Kind; 2] = [
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

const METADATA: &str =
    "name generateName namespace uid resourceVersion generation creationTimestamp deletionTimestamp \
                        deletionGracePeriodSeconds labels annotations ownerReferences finalizers managedFields";

fn listed(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

fn kind_named(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|kind| listed(kind.aliases, &name.to_ascii_lowercase()))
}

fn kind_of(object: &Value) -> Option<&'static Kind> {
    KINDS.iter().find(|kind| object["kind"] == kind.name)
}

/// How the API server refuses a request; Create, CreateIfNotExists and ignoreMissingObject tell them apart.
enum ApiError {
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

fn not_found((kind, _, name): &Key) -> ApiError {
    ApiError::NotFound(format!("{} {name:?} not found", kind_named(kind).unwrap().resource))
}

pub struct Cluster {
    /// Creation serial (for Events' order) and the stored object.
    objects: BTreeMap<Key, (u64, Value)>,
    /// Namespaces exist once the test puts an object in them; the hook cannot create objects elsewhere.
    namespaces: BTreeSet<String>,
    revision: u64,
    serial: u64,
    /// The hook's `kubernetes` bindings: what `includeSnapshotsFrom` names, and whose watch events
    /// `apply_patch_file` reports.
    bindings: Vec<Value>,
    /// (name, labels including `hook`) -> (group, value).
    series: BTreeMap<(String, Labels), (String, f64)>,
    /// A histogram keeps the buckets it was first observed with.
    buckets: BTreeMap<String, Vec<f64>>,
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

    // Binding contexts (section 5).

    /// The Synchronization run of a `kubernetes` binding: `[{"binding", "type", "objects", "snapshots"?}]`, or
    /// `[]` when the binding has `executeHookOnSynchronization: false` (shell-operator does not run the hook).
    pub fn synchronization(&self, binding: &Value) -> Value {
        if binding["executeHookOnSynchronization"] == false {
            return json!([]);
        }
        let mut context = json!({"binding": binding_name(binding, "kubernetes"), "type": "Synchronization"});
        if binding.get("group").is_none() {
            context["objects"] = json!(self.items(binding, &self.selected(binding)));
        }
        json!([self.finish(context, binding, binding)])
    }

    /// One Event context (not an array, so that tests can merge several into one run), with the snapshots as
    /// they are now. `object` is the object's state at the event (for Deleted, its last state).
    pub fn event(&self, binding: &Value, watch_event: &str, object: &Value) -> Value {
        let allowed = binding.get("executeHookOnEvent").or(binding.get("watchEvent"));
        let runs = allowed.is_none_or(|events| events.as_array().unwrap().iter().any(|e| e == watch_event));
        assert!(runs, "shell-operator does not run the hook on {watch_event} for {binding}");
        assert!(["Added", "Modified", "Deleted"].contains(&watch_event), "unknown watch event {watch_event}");
        let mut context =
            json!({"binding": binding_name(binding, "kubernetes"), "type": "Event", "watchEvent": watch_event});
        let item = self.items(binding, &[object]).remove(0);
        context.as_object_mut().unwrap().extend(item.as_object().unwrap().clone());
        self.finish(context, binding, binding)
    }

    /// The run of a `schedule` binding: `[{"binding", "type": "Schedule", "snapshots"?}]`. Its
    /// `includeSnapshotsFrom` may name `kubernetes_binding` and the bindings given to [`Cluster::configure`].
    pub fn schedule(&self, schedule_binding: &Value, kubernetes_binding: &Value) -> Value {
        let context = json!({"binding": binding_name(schedule_binding, "schedule"), "type": "Schedule"});
        json!([self.finish(context, schedule_binding, kubernetes_binding)])
    }

    /// Adds the snapshots, and turns the context into a Group context when the binding has a `group`: then it
    /// carries no objects, and every `kubernetes` binding of the group is in the snapshots.
    fn finish(&self, mut context: Value, binding: &Value, kubernetes: &Value) -> Value {
        let known: Vec<&Value> = [kubernetes].into_iter().chain(&self.bindings).collect();
        let named = |name: &str| known.iter().copied().find(|b| binding_name(b, "kubernetes") == name);
        let mut names: Vec<String> = binding["includeSnapshotsFrom"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| n.as_str().unwrap().into())
            .collect();
        if let Some(group) = binding["group"].as_str() {
            context = json!({"binding": context["binding"], "type": "Group", "groupName": group});
            names.extend(known.iter().filter(|b| b["group"] == group).map(|b| binding_name(b, "kubernetes")));
        }
        let mut snapshots = Map::new();
        for name in names {
            let source = named(&name).unwrap_or_else(|| panic!("no kubernetes binding {name}: see Cluster::configure"));
            snapshots.entry(name).or_insert_with(|| json!(self.items(source, &self.selected(source))));
        }
        if !snapshots.is_empty() {
            context["snapshots"] = Value::Object(snapshots);
        }
        context
    }

    /// The objects a binding selects, sorted by namespace then name.
    fn selected(&self, binding: &Value) -> Vec<&Value> {
        self.objects.values().map(|(_, object)| object).filter(|object| selects(binding, object)).collect()
    }

    /// `{"object", "filterResult"}` items: no `object` with `keepFullObjectsInMemory: false`, no `filterResult`
    /// without a jqFilter.
    fn items(&self, binding: &Value, objects: &[&Value]) -> Vec<Value> {
        let results = binding["jqFilter"].as_str().map(|filter| filter_results(filter, objects));
        let keep = binding["keepFullObjectsInMemory"] != false;
        let items = objects.iter().enumerate().map(|(i, object)| {
            let mut item = Map::new();
            if keep {
                item.insert("object".into(), (*object).clone());
            }
            if let Some(results) = &results {
                item.insert("filterResult".into(), results[i].clone());
            }
            Value::Object(item)
        });
        items.collect()
    }

    // KUBERNETES_PATCH_PATH (section 6).

    /// Applies a patch file as shell-operator does after a successful run, and returns the watch events its
    /// changes cause that run the hook (see [`Cluster::configure`] and `watch_event`), in order, e.g.
    /// "Modified streaming/orders". Every document is validated against the v0 schema first, and an invalid
    /// one applies nothing. Then the operations run in order, each is attempted, and any failure is an `Err`
    /// (the run fails) after the others were applied, as shell-operator does.
    pub fn apply_patch_file(&mut self, text: &str) -> Result<Vec<String>, String> {
        let documents = documents(text)?;
        let specs = documents
            .iter()
            .enumerate()
            .map(|(i, d)| operation_spec(d).map_err(|e| format!("document {}: {e}", i + 1)));
        let specs: Vec<Value> = specs.collect::<Result<_, _>>()?;
        let invalid: Vec<String> = specs
            .iter()
            .enumerate()
            .filter_map(|(i, spec)| {
                let errors: Vec<String> =
                    patch_schema().iter_errors(spec).map(|e| format!("{e} at '{}'", e.instance_path())).collect();
                (!errors.is_empty()).then(|| format!("document {}: {spec}: {}", i + 1, errors.join("; ")))
            })
            .collect();
        if !invalid.is_empty() {
            return Err(format!("kubernetes patch spec is not valid, nothing was applied:\n{}", invalid.join("\n")));
        }
        let (mut events, mut errors) = (Vec::new(), Vec::new());
        for (i, spec) in specs.iter().enumerate() {
            match self.execute(spec) {
                Ok(change) => {
                    let mut fired: Vec<String> =
                        change.iter().flat_map(|c| self.bindings.iter().filter_map(|b| watch_event(b, c))).collect();
                    fired.dedup();
                    events.extend(fired);
                }
                Err(e) => errors.push(format!("document {} ({}): {e}", i + 1, describe(spec))),
            }
        }
        if errors.is_empty() {
            Ok(events)
        } else {
            Err(errors.join("\n"))
        }
    }

    fn execute(&mut self, spec: &Value) -> Result<Option<Change>, String> {
        let text = |field: &str| spec[field].as_str().unwrap_or("");
        if !text("subresource").is_empty() {
            // ConfigMaps and Events have no subresources.
            return Err(format!(
                "the server could not find the requested resource (subresource {:?})",
                text("subresource")
            ));
        }
        let operation = text("operation");
        match operation {
            "Create" | "CreateIfNotExists" | "CreateOrUpdate" => {
                let object = parsed(&spec["object"])?;
                match self.create(object.clone()) {
                    Ok(change) => Ok(Some(change)),
                    Err(ApiError::Exists(_)) if operation == "CreateIfNotExists" => Ok(None),
                    Err(ApiError::Exists(_)) if operation == "CreateOrUpdate" => {
                        // GET, then PUT the given object with the current resourceVersion.
                        let key = key_of(&object)?;
                        let mut object = object;
                        object["metadata"]["resourceVersion"] =
                            self.objects[&key].1["metadata"]["resourceVersion"].clone();
                        self.update(&key, object).map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            // NotFound is ignored.
            "Delete" | "DeleteInBackground" | "DeleteNonCascading" => Ok(self.remove(&address(spec)?)),
            _ => {
                let key = address(spec)?;
                let Some((_, old)) = self.objects.get(&key).cloned() else {
                    if spec["ignoreMissingObject"] == true {
                        return Ok(None);
                    }
                    return Err(not_found(&key).to_string());
                };
                let new = match operation {
                    "MergePatch" => {
                        let mut new = old;
                        merge_patch(&mut new, &parsed(&spec["mergePatch"])?);
                        new
                    }
                    "JSONPatch" => {
                        let mut new = old;
                        json_patch(&mut new, &parsed(&spec["jsonPatch"])?)?;
                        new
                    }
                    _ => match jq(text("jqFilter"), &old)?.as_slice() {
                        [one] => one.clone(),
                        other => {
                            return Err(format!("JQPatch: the jqFilter must yield one object, not {}", other.len()))
                        }
                    },
                };
                self.update(&key, new).map_err(|e| e.to_string())
            }
        }
    }

    // The API server.

    fn create(&mut self, mut object: Value) -> Result<Change, ApiError> {
        // generateName: the server picks the name.
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            let unnamed = meta.get("name").and_then(Value::as_str).unwrap_or("").is_empty();
            if let (true, Some(prefix)) = (unnamed, meta.get("generateName").and_then(Value::as_str)) {
                let name = format!("{prefix}{}", suffix(self.serial + 1));
                meta.insert("name".into(), json!(name));
            }
        }
        let mut object = Self::admit(object, None)?;
        let key = key_of(&object).map_err(ApiError::Refused)?;
        if object["metadata"].get("resourceVersion").is_some() {
            return Err(ApiError::Refused("resourceVersion should not be set on objects to be created".into()));
        }
        if !self.namespaces.contains(&key.1) {
            return Err(ApiError::NotFound(format!("namespaces {:?} not found", key.1)));
        }
        if self.objects.contains_key(&key) {
            let resource = kind_named(&key.0).unwrap().resource;
            return Err(ApiError::Exists(format!("{resource} {:?} already exists", key.2)));
        }
        self.serial += 1;
        self.revision += 1;
        let meta = object["metadata"].as_object_mut().unwrap();
        meta.insert("uid".into(), json!(format!("00000000-0000-4000-8000-{:012x}", self.serial)));
        meta.insert("resourceVersion".into(), json!(self.revision.to_string()));
        meta.insert("creationTimestamp".into(), json!(now()));
        self.objects.insert(key.clone(), (self.serial, object.clone()));
        Ok((key, None, Some(object)))
    }

    /// A PUT. `Ok(None)`: nothing changed, so no new resourceVersion and no watch event.
    fn update(&mut self, key: &Key, object: Value) -> Result<Option<Change>, ApiError> {
        let Some((serial, old)) = self.objects.get(key).cloned() else { return Err(not_found(key)) };
        let mut object = Self::admit(object, Some(&old))?;
        if key_of(&object).map_err(ApiError::Refused)? != *key {
            return Err(ApiError::Refused(format!("the object's kind, namespace or name differs from {key:?}")));
        }
        let meta = object["metadata"].as_object_mut().unwrap();
        if meta.get("resourceVersion").is_some_and(|version| *version != old["metadata"]["resourceVersion"]) {
            let resource = kind_named(&key.0).unwrap().resource;
            return Err(ApiError::Refused(format!(
                "Operation cannot be fulfilled on {resource} {:?}: the object has been modified; please apply your \
                 changes to the latest version and try again",
                key.2
            )));
        }
        for field in ["uid", "resourceVersion", "creationTimestamp"] {
            meta.insert(field.into(), old["metadata"][field].clone());
        }
        if object == old {
            return Ok(None);
        }
        self.revision += 1;
        object["metadata"]["resourceVersion"] = json!(self.revision.to_string());
        self.objects.insert(key.clone(), (serial, object.clone()));
        Ok(Some((key.clone(), Some(old), Some(object))))
    }

    fn remove(&mut self, key: &Key) -> Option<Change> {
        let (_, old) = self.objects.remove(key)?;
        self.revision += 1;
        Some((key.clone(), Some(old), None))
    }

    /// What the API server does with a written object: decode it into the Go type (unknown fields and empty
    /// values dropped, wrong types refused), then validate it as k8s.io/kubernetes `pkg/apis/core/validation`.
    fn admit(object: Value, old: Option<&Value>) -> Result<Value, ApiError> {
        let refuse = |message: String| ApiError::Refused(message);
        let Value::Object(mut map) = object else { return Err(refuse(format!("not a JSON object: {object}"))) };
        match map.get("apiVersion") {
            None => return Err(refuse("Object 'apiVersion' is missing".into())),
            Some(version) if version != "v1" => {
                return Err(refuse(format!("the fake cluster serves core/v1 only, not apiVersion {version}")))
            }
            _ => {}
        }
        let Some(kind) = KINDS.iter().find(|kind| map.get("kind").is_some_and(|k| k == kind.name)) else {
            return Err(refuse(format!(
                "no kind {} is registered for version \"v1\"",
                map.get("kind").unwrap_or(&Value::Null)
            )));
        };
        map.retain(|field, value| {
            !value.is_null() && (listed("apiVersion kind metadata", field) || listed(kind.fields, field))
        });
        let Some(Value::Object(meta)) = map.get_mut("metadata") else {
            return Err(refuse(format!("{} is invalid: metadata: Required value", kind.name)));
        };
        meta.retain(|field, value| listed(METADATA, field) && !value.is_null() && *value != "");
        let mut errors = Vec::new();
        for field in ["name", "generateName", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if meta.get(field).is_some_and(|v| !v.is_string()) {
                errors.push(format!("metadata.{field}: must be a string"));
            }
        }
        string_map(&mut errors, "metadata", meta, "labels");
        string_map(&mut errors, "metadata", meta, "annotations");
        drop_empty(meta, &["labels", "annotations"]);
        let text = |field: &str| meta.get(field).and_then(Value::as_str).unwrap_or("").to_string();
        let (name, namespace) = (text("name"), text("namespace"));
        if name.is_empty() {
            errors.push("metadata.name: Required value: name or generateName is required".into());
        } else if !dns_subdomain(&name) {
            errors.push(format!("metadata.name: Invalid value: {name:?}: must be a lowercase RFC 1123 subdomain"));
        }
        if namespace.is_empty() {
            errors.push("metadata.namespace: Required value".into());
        }
        for (key, value) in meta.get("labels").and_then(Value::as_object).into_iter().flatten() {
            if !qualified_name(key) {
                errors.push(format!("metadata.labels: Invalid value: {key:?}: not a qualified name"));
            }
            if !value.as_str().is_some_and(|v| v.is_empty() || name_part(v)) {
                errors.push(format!("metadata.labels: Invalid value: {value}: not a valid label value"));
            }
        }
        let annotations = meta.get("annotations").and_then(Value::as_object);
        let mut size = 0;
        for (key, value) in annotations.into_iter().flatten() {
            size += key.len() + value.as_str().map_or(0, str::len);
            if !qualified_name(&key.to_ascii_lowercase()) {
                errors.push(format!("metadata.annotations: Invalid value: {key:?}: not a qualified name"));
            }
        }
        if size > 256 * 1024 {
            errors.push("metadata.annotations: Too long: must have at most 262144 bytes".into());
        }
        match kind.name {
            "ConfigMap" => validate_configmap(&mut map, old, &mut errors),
            _ => validate_event(&map, &namespace, &mut errors),
        }
        if !errors.is_empty() {
            return Err(refuse(format!("{} {name:?} is invalid: {}", kind.name, errors.join("; "))));
        }
        Ok(Value::Object(map))
    }

    // METRICS_PATH (section 7).

    /// Applies a metrics file as shell-operator does after a successful run: a stream of JSON objects; an
    /// operation without `group` is in the group "connect-operator"; an unknown or missing action is dropped;
    /// then every operation is validated (an invalid one applies nothing); then each group of the batch is
    /// expired and its operations applied. Stricter than shell-operator: a metric or label name Prometheus
    /// cannot serve is an error here.
    pub fn apply_metrics_file(&mut self, text: &str) -> Result<(), String> {
        let mut operations = Vec::new();
        for (i, document) in serde_json::Deserializer::from_str(text).into_iter::<Value>().enumerate() {
            let document = document.map_err(|e| format!("got bad metrics: {e}"))?;
            let operation =
                MetricOperation::decode(&document).map_err(|e| format!("got bad metrics: line {}: {e}", i + 1))?;
            if ["set", "add", "observe", "expire"].contains(&operation.action.as_str()) {
                operations.push(operation);
            } else {
                eprintln!("cluster: metrics line {} dropped: unknown action {:?}", i + 1, operation.action);
            }
        }
        let errors: Vec<String> = operations.iter().filter_map(MetricOperation::invalid).collect();
        if !errors.is_empty() {
            return Err(format!("metrics not applied: {}", errors.join("; ")));
        }
        let mut groups: Vec<&str> = Vec::new();
        for operation in &operations {
            if !groups.contains(&operation.group.as_str()) {
                groups.push(&operation.group);
            }
        }
        for group in groups {
            self.series.retain(|_, (g, _)| g != group);
            for operation in operations.iter().filter(|o| o.group == group) {
                self.apply_metric(operation);
            }
        }
        Ok(())
    }

    fn apply_metric(&mut self, operation: &MetricOperation) {
        let (name, group, value) = (&operation.name, &operation.group, operation.value.unwrap_or_default());
        let mut labels = operation.labels.clone();
        labels.insert("hook".into(), HOOK.into());
        let mut bump = |name: String, labels: Labels, by: f64, set: bool| {
            let series = self.series.entry((name, labels)).or_insert((group.clone(), 0.0));
            *series = (group.clone(), if set { by } else { series.1 + by });
        };
        match operation.action.as_str() {
            "set" => bump(name.clone(), labels, value, true),
            "add" => bump(name.clone(), labels, value, false),
            "observe" => {
                let buckets =
                    self.buckets.entry(name.clone()).or_insert_with(|| operation.buckets.clone().unwrap()).clone();
                for bound in buckets.into_iter().chain([f64::INFINITY]) {
                    let mut labels = labels.clone();
                    labels.insert("le".into(), if bound.is_infinite() { "+Inf".into() } else { bound.to_string() });
                    bump(format!("{name}_bucket"), labels, f64::from(u8::from(value <= bound)), false);
                }
                bump(format!("{name}_sum"), labels.clone(), value, false);
                bump(format!("{name}_count"), labels, 1.0, false);
            }
            _ => self.series.retain(|_, (g, _)| g != group),
        }
    }

    /// The value of the series with exactly these labels (besides `hook`, which shell-operator adds to all).
    /// A histogram `h` is served as `h_bucket` (with `le`), `h_sum` and `h_count`.
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut labels: Labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        labels.insert("hook".into(), HOOK.into());
        self.series.get(&(name.to_string(), labels)).map(|(_, value)| *value)
    }

    /// Every series of a metric: its labels (without `hook`) and value.
    pub fn series(&self, name: &str) -> Vec<(Labels, f64)> {
        let series = self.series.iter().filter(|((n, _), _)| n == name);
        series
            .map(|((_, labels), (_, value))| {
                (labels.clone().into_iter().filter(|(k, _)| k != "hook").collect(), *value)
            })
            .collect()
    }

    pub fn metric_names(&self) -> Vec<String> {
        let names: BTreeSet<&String> = self.series.keys().map(|(name, _)| name).collect();
        names.into_iter().cloned().collect()
    }
}

/// One line of a metrics file, decoded as shell-operator's Go struct `MetricOperation`.
struct MetricOperation {
    name: String,
    action: String,
    value: Option<f64>,
    buckets: Option<Vec<f64>>,
    labels: Labels,
    group: String,
}

impl MetricOperation {
    fn decode(document: &Value) -> Result<MetricOperation, String> {
        let empty = Map::new();
        let map = match document {
            Value::Object(map) => map,
            Value::Null => &empty,
            other => return Err(format!("cannot unmarshal {other} into Go value of type MetricOperation")),
        };
        let field = |key: &str| map.get(key).filter(|v| !v.is_null());
        let wrong = |key: &str, go: &str| format!("cannot unmarshal {} into field {key} of type {go}", map[key]);
        let text = |key: &str| match field(key) {
            None => Ok(String::new()),
            Some(value) => value.as_str().map(str::to_string).ok_or_else(|| wrong(key, "string")),
        };
        let number = |key: &str| field(key).map(|v| v.as_f64().ok_or_else(|| wrong(key, "float64"))).transpose();
        let mut operation = MetricOperation {
            name: text("name")?,
            action: text("action")?,
            value: number("value")?,
            buckets: field("buckets")
                .map(|v| {
                    v.as_array()
                        .and_then(|a| a.iter().map(Value::as_f64).collect())
                        .ok_or_else(|| wrong("buckets", "[]float64"))
                })
                .transpose()?,
            labels: field("labels")
                .map(|v| {
                    let labels = v
                        .as_object()
                        .and_then(|m| m.iter().map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect());
                    labels.ok_or_else(|| wrong("labels", "map[string]string"))
                })
                .transpose()?
                .unwrap_or_default(),
            group: text("group")?,
        };
        // The deprecated shortcuts `"set": N` and `"add": N`.
        match (number("set")?, number("add")?) {
            (Some(set), None) => (operation.action, operation.value) = ("set".into(), Some(set)),
            (None, Some(add)) => (operation.action, operation.value) = ("add".into(), Some(add)),
            _ => {}
        }
        if operation.group.is_empty() {
            operation.group = HOOK.into();
        }
        Ok(operation)
    }

    /// The checks of deckhouse's metrics-storage (ValidateMetricOperation), plus Prometheus names.
    fn invalid(&self) -> Option<String> {
        let mut errors = Vec::new();
        if self.name.is_empty() && self.action != "expire" {
            errors.push("'name' is required when action is not 'expire'".to_string());
        }
        if self.value.is_none() && self.action != "expire" {
            errors.push(format!("'value' is required for action '{}'", self.action));
        }
        if self.buckets.is_none() && self.action == "observe" {
            errors.push("'buckets' is required for action 'observe'".into());
        }
        let name_ok = |name: &str, colon: bool| {
            let mut chars = name.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
        };
        if !self.name.is_empty() && !name_ok(&self.name, true) {
            errors.push(format!("{:?} is not a valid Prometheus metric name", self.name));
        }
        for label in self.labels.keys().filter(|label| !name_ok(label, false) || label.starts_with("__")) {
            errors.push(format!("{label:?} is not a valid Prometheus label name"));
        }
        (!errors.is_empty()).then(|| format!("{} (metric {:?}, group {:?})", errors.join(", "), self.name, self.group))
    }
}

// Patch files.

/// The documents of a patch file: a stream of JSON values, or else multi-document YAML.
fn documents(text: &str) -> Result<Vec<Value>, String> {
    let json = serde_json::Deserializer::from_str(text).into_iter::<Value>().collect::<Result<Vec<_>, _>>();
    json.or_else(|json| {
        let yaml = serde_yaml_ng::Deserializer::from_str(text).map(Value::deserialize);
        let yaml = yaml.filter(|doc| !matches!(doc, Ok(Value::Null))).collect::<Result<Vec<_>, _>>();
        yaml.map_err(|yaml| format!("the patch file is neither a JSON stream ({json}) nor YAML ({yaml})"))
    })
}

/// A document as shell-operator validates it: decoded into its Go struct `OperationSpec` and encoded again,
/// so unknown keys and empty strings are gone and `ignoreMissingObject` and `ignoreHookError` are always there.
fn operation_spec(document: &Value) -> Result<Value, String> {
    let empty = Map::new();
    let map = match document {
        Value::Object(map) => map,
        Value::Null => &empty,
        other => return Err(format!("cannot unmarshal {other} into Go value of type OperationSpec")),
    };
    let field = |key: &str| map.get(key).filter(|v| !v.is_null());
    let mut spec = Map::new();
    for key in ["operation", "apiVersion", "kind", "namespace", "name", "subresource", "object", "jqFilter"] {
        match field(key) {
            Some(Value::String(s)) if s.is_empty() && key != "operation" => {}
            Some(value) if key == "object" || value.is_string() => {
                spec.insert(key.into(), value.clone());
            }
            Some(value) => {
                return Err(format!("cannot unmarshal {value} into field OperationSpec.{key} of type string"))
            }
            None if key == "operation" => {
                spec.insert(key.into(), json!(""));
            }
            None => {}
        }
    }
    for key in ["mergePatch", "jsonPatch"] {
        if let Some(value) = field(key) {
            spec.insert(key.into(), value.clone());
        }
    }
    for key in ["ignoreMissingObject", "ignoreHookError"] {
        let value = field(key).map_or(Some(false), Value::as_bool);
        let value = value
            .ok_or_else(|| format!("cannot unmarshal {} into field OperationSpec.{key} of type bool", map[key]))?;
        spec.insert(key.into(), json!(value));
    }
    Ok(Value::Object(spec))
}

fn patch_schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kubernetes-patch-schema-v0.yaml");
        let schema: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::draft4::new(&schema).unwrap()
    })
}

fn describe(spec: &Value) -> String {
    let text = |field: &str| spec[field].as_str().unwrap_or("").to_string();
    let (kind, namespace, name) = match spec.get("object").map(parsed) {
        Some(Ok(object)) => {
            (object["kind"].clone(), object["metadata"]["namespace"].clone(), object["metadata"]["name"].clone())
        }
        _ => (json!(text("kind")), json!(text("namespace")), json!(text("name"))),
    };
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    format!("{} {} {}/{}", text(&spec["operation"]), text(&kind), text(&namespace), text(&name))
}

/// `object`, `mergePatch` and `jsonPatch` may be given as a value or as JSON or YAML text.
fn parsed(value: &Value) -> Result<Value, String> {
    match value {
        Value::String(text) => serde_yaml_ng::from_str(text).map_err(|e| format!("cannot parse {text:?}: {e}")),
        other => Ok(other.clone()),
    }
}

/// The object a patch or delete operation names. An empty namespace addresses a cluster-scoped object, which
/// a namespaced kind has not: the API server answers NotFound.
fn address(spec: &Value) -> Result<Key, String> {
    let text = |field: &str| spec[field].as_str().unwrap_or("").to_string();
    let kind =
        kind_named(&text("kind")).ok_or_else(|| format!("the fake cluster does not serve kind {:?}", text("kind")))?;
    if !matches!(text("apiVersion").as_str(), "" | "v1") {
        return Err(format!("no matches for kind {:?} in version {:?}", text("kind"), text("apiVersion")));
    }
    Ok((kind.name.to_string(), text("namespace"), text("name")))
}

fn key(kind: &str, namespace: &str, name: &str) -> Key {
    let kind = kind_named(kind).unwrap_or_else(|| panic!("the fake cluster does not serve kind {kind:?}"));
    (kind.name.to_string(), namespace.to_string(), name.to_string())
}

fn key_of(object: &Value) -> Result<Key, String> {
    let kind = kind_of(object).ok_or_else(|| format!("the fake cluster does not serve kind {}", object["kind"]))?;
    let text = |field: &str| object["metadata"][field].as_str().unwrap_or("").to_string();
    Ok((kind.name.to_string(), text("namespace"), text("name")))
}

/// RFC 7386: objects merge recursively, `null` removes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else { return *target = patch.clone() };
    if !target.is_object() {
        *target = json!({});
    }
    let target = target.as_object_mut().unwrap();
    for (key, value) in patch {
        match value {
            Value::Null => {
                target.remove(key);
            }
            _ => merge_patch(target.entry(key).or_insert(Value::Null), value),
        }
    }
}

/// RFC 6902: add, remove, replace, move, copy and test.
fn json_patch(document: &mut Value, operations: &Value) -> Result<(), String> {
    let operations = operations.as_array().ok_or("a JSON patch is an array")?;
    for operation in operations {
        let text = |field: &str| operation[field].as_str().ok_or_else(|| format!("{operation}: no {field}"));
        let value = || operation.get("value").cloned().ok_or_else(|| format!("{operation}: no value"));
        let path = text("path")?;
        match text("op")? {
            "add" => pointer_add(document, path, value()?)?,
            "remove" => {
                pointer_remove(document, path)?;
            }
            "replace" => {
                pointer_remove(document, path)?;
                pointer_add(document, path, value()?)?
            }
            "move" => {
                let moved = pointer_remove(document, text("from")?)?;
                pointer_add(document, path, moved)?
            }
            "copy" => {
                let copied =
                    document.pointer(text("from")?).cloned().ok_or_else(|| format!("{operation}: no such from"))?;
                pointer_add(document, path, copied)?
            }
            "test" if document.pointer(path) == Some(&value()?) => {}
            "test" => return Err(format!("{operation}: test failed")),
            other => return Err(format!("unknown JSON patch operation {other:?}")),
        }
    }
    Ok(())
}

fn split_pointer(path: &str) -> Result<(&str, String), String> {
    let (parent, last) = path.rsplit_once('/').ok_or_else(|| format!("{path:?} is not a JSON pointer"))?;
    Ok((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn pointer_add(document: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *document = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    match document.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
        }
        Some(Value::Array(items)) if last == "-" => items.push(value),
        Some(Value::Array(items)) => match last.parse::<usize>() {
            Ok(i) if i <= items.len() => items.insert(i, value),
            _ => return Err(format!("add: index {last:?} out of range at {path:?}")),
        },
        _ => return Err(format!("add: no parent for {path:?}")),
    }
    Ok(())
}

fn pointer_remove(document: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split_pointer(path)?;
    let removed = match document.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&last),
        Some(Value::Array(items)) => last.parse::<usize>().ok().filter(|i| *i < items.len()).map(|i| items.remove(i)),
        _ => None,
    };
    removed.ok_or_else(|| format!("no value at {path:?}"))
}

// Selection and jq.

/// The watch event a binding's informer fires for a change, if the binding runs the hook on it: Added and
/// Deleted when the object enters or leaves the selection; Modified only when the checksum changed, which is
/// over the jqFilter result (the whole object without a jqFilter).
fn watch_event(binding: &Value, (key, before, after): &Change) -> Option<String> {
    let selected = |object: &Option<Value>| object.as_ref().filter(|object| selects(binding, object)).is_some();
    let event = match (selected(before), selected(after)) {
        (false, false) => return None,
        (false, true) => "Added",
        (true, false) => "Deleted",
        (true, true) => {
            let (before, after) = (before.as_ref().unwrap(), after.as_ref().unwrap());
            let changed = match binding["jqFilter"].as_str() {
                Some(filter) => {
                    let results = filter_results(filter, &[before, after]);
                    results[0] != results[1]
                }
                None => before != after,
            };
            if !changed {
                return None;
            }
            "Modified"
        }
    };
    let runs = binding.get("executeHookOnEvent").or(binding.get("watchEvent"));
    let runs = runs.is_none_or(|events| events.as_array().unwrap().iter().any(|e| e == event));
    runs.then(|| format!("{event} {}/{}", key.1, key.2))
}

fn binding_name(binding: &Value, default: &str) -> String {
    binding["name"].as_str().unwrap_or(default).to_string()
}

/// Whether a `kubernetes` binding selects the object: kind, nameSelector, namespace.nameSelector,
/// labelSelector and fieldSelector (metadata.name and metadata.namespace).
fn selects(binding: &Value, object: &Value) -> bool {
    let kind = binding["kind"].as_str().and_then(kind_named);
    let kind = kind.unwrap_or_else(|| panic!("the fake cluster does not serve the binding's kind {}", binding["kind"]));
    assert!(binding.get("apiVersion").is_none_or(|v| v == "v1"), "the fake cluster serves core/v1 only: {binding}");
    assert!(binding["namespace"].get("labelSelector").is_none(), "namespace.labelSelector is not supported");
    let meta = &object["metadata"];
    let (name, namespace) = (meta["name"].as_str().unwrap_or(""), meta["namespace"].as_str().unwrap_or(""));
    let among = |list: &Value, item: &str| list.as_array().is_none_or(|list| list.iter().any(|v| v == item));
    let fields = binding["fieldSelector"]["matchExpressions"].as_array().into_iter().flatten().all(|e| {
        let equal = match e["field"].as_str() {
            Some("metadata.name") => name == e["value"],
            Some("metadata.namespace") => namespace == e["value"],
            other => panic!("fieldSelector on {other:?} is not supported"),
        };
        match e["operator"].as_str() {
            Some("=" | "==" | "Equals") => equal,
            Some("!=" | "NotEquals") => !equal,
            other => panic!("unknown fieldSelector operator {other:?}"),
        }
    });
    object["kind"] == kind.name
        && among(&binding["nameSelector"]["matchNames"], name)
        && among(&binding["namespace"]["nameSelector"]["matchNames"], namespace)
        && label_selector(&binding["labelSelector"], &meta["labels"])
        && fields
}

fn label_selector(selector: &Value, labels: &Value) -> bool {
    let label = |key: &Value| key.as_str().and_then(|key| labels[key].as_str());
    let exact = selector["matchLabels"].as_object().into_iter().flatten().all(|(k, v)| labels[k] == *v);
    exact
        && selector["matchExpressions"].as_array().into_iter().flatten().all(|e| {
            let values = e["values"].as_array().cloned().unwrap_or_default();
            let listed = label(&e["key"]).is_some_and(|v| values.iter().any(|value| value == v));
            match e["operator"].as_str() {
                Some("In") => listed,
                Some("NotIn") => !listed,
                Some("Exists") => label(&e["key"]).is_some(),
                Some("DoesNotExist") => label(&e["key"]).is_none(),
                other => panic!("unknown matchExpressions operator {other:?}"),
            }
        })
}

/// Runs `filter` over `input` with the system jq, standing in for shell-operator's gojq; every output.
fn jq(filter: &str, input: &Value) -> Result<Vec<Value>, String> {
    let mut child = Command::new("jq")
        .args(["-c", filter])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run jq: {e}"))?;
    // jq reads its whole (single) input before writing anything, so this cannot deadlock.
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("jq {filter:?}: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    serde_json::Deserializer::from_slice(&out.stdout).into_iter().collect::<Result<_, _>>().map_err(|e| e.to_string())
}

/// Each object's jqFilter result as shell-operator stores it: no output is null, several are an array.
fn filter_results(filter: &str, objects: &[&Value]) -> Vec<Value> {
    if objects.is_empty() {
        return Vec::new();
    }
    // One jq process for all objects. The newlines keep a trailing `#` comment in the filter harmless.
    let outputs = jq(&format!("map([\n{filter}\n])"), &json!(objects)).unwrap_or_else(|e| panic!("jqFilter: {e}"));
    let per_object =
        outputs[0].as_array().unwrap().iter().map(|outputs| match outputs.as_array().unwrap().as_slice() {
            [] => Value::Null,
            [one] => one.clone(),
            many => Value::Array(many.to_vec()),
        });
    per_object.collect()
}

// API server validation.

fn dns_subdomain(s: &str) -> bool {
    let label = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    s.len() <= 253 && s.split('.').all(label)
}

/// The name part of a qualified name, and a non-empty label value: `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn name_part(s: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    s.len() <= 63
        && alnum(s.chars().next())
        && alnum(s.chars().last())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// `[prefix/]name`, the prefix a DNS subdomain: label and annotation keys.
fn qualified_name(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => dns_subdomain(prefix) && name_part(name),
        None => name_part(s),
    }
}

/// A `map[string]string` field: every value must be a string.
fn string_map(errors: &mut Vec<String>, parent: &str, map: &Map<String, Value>, field: &str) {
    match map.get(field) {
        None | Some(Value::Null) => {}
        Some(Value::Object(entries)) => {
            for (key, value) in entries.iter().filter(|(_, value)| !value.is_string()) {
                errors.push(format!("{parent}.{field}[{key}]: cannot unmarshal {value} into a Go string"));
            }
        }
        Some(other) => errors.push(format!("{parent}.{field}: cannot unmarshal {other} into a Go map")),
    }
}

/// Go's `omitempty` drops empty maps: an object never comes back with `"annotations": {}`.
fn drop_empty(map: &mut Map<String, Value>, fields: &[&str]) {
    map.retain(|field, value| !(fields.contains(&field.as_str()) && value.as_object().is_some_and(Map::is_empty)));
}

fn validate_configmap(map: &mut Map<String, Value>, old: Option<&Value>, errors: &mut Vec<String>) {
    string_map(errors, "", map, "data");
    string_map(errors, "", map, "binaryData");
    drop_empty(map, &["data", "binaryData"]);
    let mut size = 0;
    for field in ["data", "binaryData"] {
        for (key, value) in map.get(field).and_then(Value::as_object).into_iter().flatten() {
            let valid = key.len() <= 253
                && key.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
                && !key.is_empty()
                && key != "."
                && !key.starts_with("..");
            if !valid {
                errors.push(format!(
                    "{field}[{key}]: Invalid value: {key:?}: a valid config key must consist of \
                                     alphanumeric characters, '-', '_' or '.'"
                ));
            }
            let value = value.as_str().unwrap_or("");
            size += match field {
                "data" => value.len(),
                _ => base64::engine::general_purpose::STANDARD.decode(value).map_or_else(
                    |_| {
                        errors.push(format!("binaryData[{key}]: illegal base64 data"));
                        0
                    },
                    |bytes| bytes.len(),
                ),
            };
            if field == "binaryData" && map.get("data").is_some_and(|data| data.get(key).is_some()) {
                errors.push(format!("binaryData[{key}]: Invalid value: duplicate of key present in data"));
            }
        }
    }
    if size > 1024 * 1024 {
        errors.push("[]: Too long: must have at most 1048576 bytes".into());
    }
    if map.get("immutable").is_some_and(|v| !v.is_boolean()) {
        errors.push("immutable: cannot unmarshal into a Go bool".into());
    }
    if let Some(old) = old.filter(|old| old["immutable"] == true) {
        let same = |field: &str| old.get(field) == map.get(field);
        if !same("immutable") || !same("data") || !same("binaryData") {
            errors.push("data: Forbidden: field is immutable when `immutable` is set".into());
        }
    }
}

/// core/v1 Events, as the API server validates them when they are written through core/v1.
fn validate_event(map: &Map<String, Value>, namespace: &str, errors: &mut Vec<String>) {
    let text = |field: &str| map.get(field).and_then(Value::as_str).unwrap_or("");
    let involved = map.get("involvedObject").and_then(|o| o["namespace"].as_str()).unwrap_or("");
    let new_style = map.contains_key("eventTime");
    let mismatch = match (new_style, involved) {
        (false, "") => !namespace.is_empty() && namespace != "default",
        (false, _) => involved != namespace,
        (true, "") => namespace != "default" && namespace != "kube-system",
        (true, _) => false,
    };
    if mismatch {
        errors.push(format!("involvedObject.namespace: Invalid value: {involved:?}: does not match event.namespace"));
    }
    if new_style {
        for field in ["reportingComponent", "reportingInstance", "action", "reason"] {
            match text(field).len() {
                0 => errors.push(format!("{field}: Required value")),
                n if n > 128 && field != "reportingComponent" => {
                    errors.push(format!("{field}: Too long: may not be more than 128 bytes"))
                }
                _ => {}
            }
        }
        if text("message").len() > 1024 {
            errors.push("message: Too long: may not be more than 1024 bytes".into());
        }
    }
}

/// A generated name's suffix: 5 characters of the API server's alphabet, from a counter instead of randomness.
fn suffix(mut n: u64) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % 27) as usize] as char;
            n /= 27;
            c
        })
        .collect()
}

/// RFC 3339 UTC time, as creationTimestamp.
fn now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}
