//! The binding contexts shell-operator writes, and how a binding selects and filters objects.

use super::*;

impl Cluster {
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
    pub(crate) fn finish(&self, mut context: Value, binding: &Value, kubernetes: &Value) -> Value {
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
    pub(crate) fn selected(&self, binding: &Value) -> Vec<&Value> {
        self.objects.values().map(|(_, object)| object).filter(|object| selects(binding, object)).collect()
    }

    /// `{"object", "filterResult"}` items: no `object` with `keepFullObjectsInMemory: false`, no `filterResult`
    /// without a jqFilter.
    pub(crate) fn items(&self, binding: &Value, objects: &[&Value]) -> Vec<Value> {
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
}

/// The watch event a binding's informer fires for a change, if the binding runs the hook on it: Added and
/// Deleted when the object enters or leaves the selection; Modified only when the checksum changed, which is
/// over the jqFilter result (the whole object without a jqFilter).
pub(crate) fn watch_event(binding: &Value, (key, before, after): &Change) -> Option<String> {
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

pub(crate) fn binding_name(binding: &Value, default: &str) -> String {
    binding["name"].as_str().unwrap_or(default).to_string()
}

/// Whether a `kubernetes` binding selects the object: kind, nameSelector, namespace.nameSelector,
/// labelSelector and fieldSelector (metadata.name and metadata.namespace).
pub(crate) fn selects(binding: &Value, object: &Value) -> bool {
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

pub(crate) fn label_selector(selector: &Value, labels: &Value) -> bool {
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
pub(crate) fn jq(filter: &str, input: &Value) -> Result<Vec<Value>, String> {
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
pub(crate) fn filter_results(filter: &str, objects: &[&Value]) -> Vec<Value> {
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
