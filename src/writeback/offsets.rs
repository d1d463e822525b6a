//! `connect-operator.io/offsets: list`: the offsets of a ConfigMap's
//! connectors, written into the ConfigMap `<configmap>-offsets` beside it,
//! one key per connector. Offsets may name tables or files, so they go only
//! there, where the Role lets whoever asked read them; never to Events.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::execute::{Done, OffsetsDone};
use crate::model::configmap::CmId;
use crate::writeback::operations::Operation;
use crate::writeback::run::Run;

/// A data key for a connector name: ConfigMap keys allow letters, digits,
/// `-`, `_` and `.` only.
fn key(connector: &str) -> String {
    let safe: String = connector
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect();
    format!("{safe}.json")
}

/// The patch operations that write every listing of this run.
#[must_use]
pub fn listings(run: &Run) -> Vec<Operation> {
    let mut by_configmap: BTreeMap<&CmId, Map<String, Value>> = BTreeMap::new();
    for (step, result) in run.plan.steps.iter().zip(run.results) {
        for done in result.done() {
            if let Done::Offsets(OffsetsDone::Listed(offsets)) = done {
                let text = serde_json::to_string_pretty(&json!({ "offsets": offsets })).unwrap_or_default();
                by_configmap.entry(&step.origin.configmap).or_default().insert(key(&step.connector), json!(text));
            }
        }
    }
    let mut operations = Vec::new();
    for (id, data) in by_configmap {
        let name = format!("{}-offsets", id.name);
        let namespace = id.namespace.clone().unwrap_or_else(|| "default".into());
        operations.push(Operation::CreateIfNotExists {
            object: json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": namespace,
                             "labels": {"app.kubernetes.io/managed-by": "connect-operator"},
                             "annotations": {"connect-operator.io/offsets-of": id.name}},
                "data": {},
            }),
        });
        operations.push(Operation::set_data(&namespace, &name, Value::Object(data)));
    }
    operations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_what_a_configmap_allows() {
        assert_eq!(key("orders-sink.v1"), "orders-sink.v1.json");
        assert_eq!(key("a b/c"), "a_b_c.json");
    }
}
