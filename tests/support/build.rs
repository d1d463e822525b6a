//! Builders for what the hook reads: ConfigMaps as the API server has them,
//! their templates, and the binding contexts shell-operator writes.

use std::process::Output;

use serde_json::{json, Map, Value};

/// A ConfigMap in `streaming` labelled `destination=connect` (plus `labels`),
/// one data key per template.
pub fn configmap(name: &str, labels: Value, data: &[(&str, &str)]) -> Value {
    let mut labels = labels;
    labels["destination"] = json!("connect");
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "streaming", "labels": labels, "resourceVersion": "1"},
        "data": data.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<Map<_, _>>(),
    })
}

/// `configmap` in another namespace, with annotations.
pub fn annotated(namespace: &str, name: &str, labels: Value, annotations: Value, data: &[(&str, &str)]) -> Value {
    let mut cm = configmap(name, labels, data);
    cm["metadata"]["namespace"] = json!(namespace);
    cm["metadata"]["annotations"] = annotations;
    cm
}

/// A FileStreamSource connector's template; `extra` is spliced into its config.
pub fn template(name: &str, extra: &str) -> String {
    format!(
        r#"{{"name": "{name}", "config": {{"connector.class": "FileStreamSource", "tasks.max": 1, "topic": "t-{name}"{extra}}}}}"#
    )
}

fn items(objects: &[Value]) -> Vec<Value> {
    objects.iter().map(|o| json!({"object": o, "filterResult": {}})).collect()
}

/// The Synchronization context of the ConfigMap binding.
pub fn sync(objects: &[Value]) -> Value {
    let items = items(objects);
    json!([{"binding": "connectors", "type": "Synchronization", "objects": items,
            "snapshots": {"connectors": items}}])
}

/// One Event context (not wrapped in an array: runs can merge several).
pub fn event(watch: &str, object: &Value, snapshot: &[Value]) -> Value {
    json!({"binding": "connectors", "type": "Event", "watchEvent": watch, "object": object, "filterResult": {},
           "snapshots": {"connectors": items(snapshot)}})
}

/// The periodic resync's context.
pub fn schedule(snapshot: &[Value]) -> Value {
    json!([{"binding": "resync", "type": "Schedule", "snapshots": {"connectors": items(snapshot)}}])
}

/// What a run logged.
pub fn log(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
