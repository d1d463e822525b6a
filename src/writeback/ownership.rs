//! What this operator owns: the connectors it has applied, recorded in a
//! ConfigMap of its own (written through shell-operator's patch file, read
//! back through a snapshot-only binding), so that `PRUNE=owned` can delete
//! those that no ConfigMap declares any more, such as the connectors of a
//! ConfigMap deleted while the operator was down.

use std::collections::BTreeSet;

use serde_json::json;

use crate::connect::clusters::DEFAULT;
use crate::execute::{Done, StepResult};
use crate::model::configmap::{ConfigMap, STATE_CONFIGMAP};
use crate::plan::{Action, Plan};
use crate::writeback::operations::Operation;

/// The state ConfigMap's data key for the default cluster (`owned.<cluster>`
/// for the others): a JSON array of connector names.
const OWNED_KEY: &str = "owned";

fn owned_key(cluster: &str) -> String {
    if cluster == DEFAULT {
        OWNED_KEY.to_string()
    } else {
        format!("{OWNED_KEY}.{cluster}")
    }
}

/// The names recorded as owned on a cluster.
#[must_use]
pub fn owned(state: Option<&ConfigMap>, cluster: &str) -> BTreeSet<String> {
    state.and_then(|cm| cm.data.get(&owned_key(cluster))).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
}

/// The owned set after the run: what was applied or found as declared is
/// added, what was deleted is removed. Patch operations when it changed.
#[must_use]
pub fn record(
    owned: &BTreeSet<String>,
    plan: &Plan,
    results: &[StepResult],
    namespace: &str,
    cluster: &str,
) -> Vec<Operation> {
    let mut now = owned.clone();
    for (step, result) in plan.steps.iter().zip(results) {
        let applied = result.done().iter().any(|d| matches!(d, Done::Applied(_)));
        if applied || matches!(step.action, Action::Unchanged) {
            now.insert(step.connector.clone());
        }
        if result.done().iter().any(|d| matches!(d, Done::Removed(_))) || matches!(step.action, Action::Absent) {
            now.remove(&step.connector);
        }
    }
    if now == *owned {
        return Vec::new();
    }
    let names: Vec<&String> = now.iter().collect();
    let data = json!({owned_key(cluster): serde_json::to_string(&names).unwrap_or_default()});
    vec![
        Operation::CreateIfNotExists {
            object: json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": STATE_CONFIGMAP, "namespace": namespace,
                             "labels": {"app.kubernetes.io/managed-by": "connect-operator"}},
                "data": {},
            }),
        },
        Operation::set_data(namespace, STATE_CONFIGMAP, data),
    ]
}
