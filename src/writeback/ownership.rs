//! What this operator owns: the connectors it has applied, each with the
//! ConfigMap it applied it for, recorded in a ConfigMap of its own (written
//! through shell-operator's patch file, read back through a snapshot-only
//! binding). `PRUNE=owned` deletes those that no ConfigMap declares any
//! more, such as the connectors of a ConfigMap deleted while the operator
//! was down; and a ConfigMap that declares a name another one owns is
//! refused, so it cannot take the connector over.

use std::collections::{BTreeMap, BTreeSet};

use log::warn;
use serde::Deserialize;
use serde_json::json;

use crate::connect::clusters::DEFAULT;
use crate::execute::{Done, StepResult};
use crate::model::configmap::{CmId, ConfigMap, STATE_CONFIGMAP};
use crate::plan::{Action, Owned, Owner, Plan};
use crate::writeback::operations::Operation;

/// The state ConfigMap's data key for the default cluster (`owned.<cluster>`
/// for the others): a JSON object of connector name -> `namespace/configmap`.
const OWNED_KEY: &str = "owned";
/// Its key for the deletes the brake held whose declaration is gone
/// (`held.<cluster>` for the other clusters): a JSON list of names.
const HELD_KEY: &str = "held";

fn key(base: &str, cluster: &str) -> String {
    if cluster == DEFAULT {
        base.to_string()
    } else {
        format!("{base}.{cluster}")
    }
}

/// The record as written: owners by name, or the list of names that
/// versions before owners wrote (read with the owners unknown).
#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Owners(BTreeMap<String, String>),
    Names(BTreeSet<String>),
}

/// The connectors recorded as owned on a cluster, with their owners. A
/// record that cannot be read is said, and read as empty.
#[must_use]
pub fn owned(state: Option<&ConfigMap>, cluster: &str) -> Owned {
    Owned { by_name: owners(state, cluster), held: held(state, cluster) }
}

fn owners(state: Option<&ConfigMap>, cluster: &str) -> BTreeMap<String, Owner> {
    let key = key(OWNED_KEY, cluster);
    let Some((cm, text)) = state.and_then(|cm| Some((cm, cm.data.get(&key)?))) else { return BTreeMap::new() };
    let by_name = match serde_json::from_str(text) {
        Ok(Written::Owners(owners)) => owners.into_iter().map(|(name, owner)| (name, owner_of(&owner))).collect(),
        Ok(Written::Names(names)) => names.into_iter().map(|name| (name, Owner::Unknown)).collect(),
        Err(e) => {
            warn!(
                "ConfigMap {} key {key}: not a JSON object of connector names to their ConfigMaps, nor a JSON list \
                 of names ({e}); read as owning nothing, and written again after the next change",
                cm.id
            );
            BTreeMap::new()
        }
    };
    by_name
}

/// The held deletes recorded for a cluster; one that cannot be read is
/// said, and read as none (the resync with `PRUNE=owned` still finds them).
fn held(state: Option<&ConfigMap>, cluster: &str) -> BTreeSet<String> {
    let key = key(HELD_KEY, cluster);
    let Some((cm, text)) = state.and_then(|cm| Some((cm, cm.data.get(&key)?))) else { return BTreeSet::new() };
    serde_json::from_str(text).unwrap_or_else(|e| {
        warn!("ConfigMap {} key {key}: not a JSON list of connector names ({e}); read as none", cm.id);
        BTreeSet::new()
    })
}

/// `namespace/name` (or a bare name) as recorded.
fn owner_of(text: &str) -> Owner {
    match text.split_once('/') {
        _ if text.is_empty() => Owner::Unknown,
        Some((namespace, name)) => Owner::ConfigMap(CmId::new(Some(namespace.into()), name.into())),
        None => Owner::ConfigMap(CmId::new(None, text.into())),
    }
}

/// The owned connectors after the run: what was applied or found as
/// declared is owned by the ConfigMap that declares it, what was deleted is
/// no longer owned. Patch operations when that changed.
#[must_use]
pub fn record(owned: &Owned, plan: &Plan, results: &[StepResult], namespace: &str, cluster: &str) -> Vec<Operation> {
    let mut now = owned.clone();
    for (step, result) in plan.steps.iter().zip(results) {
        let applied = result.done().iter().any(|d| matches!(d, Done::Applied(_) | Done::Renamed(_)));
        if applied || matches!(step.action, Action::Unchanged) {
            now.by_name.insert(step.connector.clone(), Owner::ConfigMap(step.origin.configmap.clone()));
        }
        if let (Action::Rename(rename), true) = (&step.action, applied) {
            now.by_name.remove(&rename.from);
        }
        // A retained connector is no longer the operator's: PRUNE=owned must never take it later.
        let let_go = matches!(step.action, Action::Absent | Action::Retain { .. });
        let removed = result.done().iter().any(|d| matches!(d, Done::Removed(_)));
        if removed || let_go {
            now.by_name.remove(&step.connector);
        }
        if matches!(step.action, Action::Held { .. }) {
            now.held.insert(step.connector.clone());
        } else if removed || let_go || applied || matches!(step.action, Action::Unchanged) {
            now.held.remove(&step.connector);
        }
    }
    if now == *owned {
        return Vec::new();
    }
    let written: BTreeMap<&String, String> = (now.by_name.iter())
        .map(|(name, owner)| match owner {
            Owner::ConfigMap(id) => (name, id.to_string()),
            Owner::Unknown => (name, String::new()),
        })
        .collect();
    let held = (!now.held.is_empty()).then(|| serde_json::to_string(&now.held).unwrap_or_default());
    let data = json!({
        key(OWNED_KEY, cluster): serde_json::to_string(&written).unwrap_or_default(),
        key(HELD_KEY, cluster): held,
    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Origin, Step};

    fn state(owned: &str) -> ConfigMap {
        ConfigMap::from_json(
            &json!({"metadata": {"name": STATE_CONFIGMAP, "namespace": "ops"}, "data": {"owned": owned}}),
        )
        .unwrap()
    }

    fn step(name: &str, configmap: &str, action: Action) -> Step {
        let configmap = CmId::new(Some("team-a".into()), configmap.into());
        Step { origin: Origin { configmap, key: Some("k".into()) }, connector: name.into(), action, after: Vec::new() }
    }

    #[test]
    fn both_forms_are_read_and_the_owners_form_is_written_when_it_changes() {
        let old = owned(Some(&state(r#"["x","y"]"#)), DEFAULT);
        assert_eq!(old.by_name.get("x"), Some(&Owner::Unknown));
        assert_eq!(old.owner("x"), None);
        assert!(old.contains("y"));

        // The connectors found as declared gain their owner; what is gone leaves the record.
        let plan = Plan {
            steps: vec![step("x", "owner", Action::Unchanged), step("y", "owner", Action::Absent)],
            ..Plan::default()
        };
        let results = vec![StepResult::NotSent; 2];
        let operations = record(&old, &plan, &results, "ops", DEFAULT);
        let written = serde_json::to_value(&operations[1]).unwrap();
        let text = written["mergePatch"]["data"]["owned"].as_str().unwrap().to_string();
        assert_eq!(text, r#"{"x":"team-a/owner"}"#);

        let new = owned(Some(&state(&text)), DEFAULT);
        assert_eq!(new.owner("x"), Some(&CmId::new(Some("team-a".into()), "owner".into())));
        assert!(record(&new, &plan, &results, "ops", DEFAULT).is_empty(), "nothing changed: nothing written");
        assert_eq!(owned(Some(&state("not json")), DEFAULT), Owned::default());
        assert_eq!(owned(None, "other"), Owned::default());
    }
}
