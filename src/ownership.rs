//! What this operator owns: the connectors it has applied, recorded in a
//! ConfigMap of its own (written through shell-operator's patch file, read
//! back through a snapshot-only binding), so that `PRUNE=owned` can delete
//! those that no ConfigMap declares any more, such as the connectors of a
//! ConfigMap deleted while the operator was down.

use std::collections::BTreeSet;

use anyhow::{bail, Result};
use serde_json::{json, Value};

use crate::configmap::{CmId, ConfigMap};
use crate::connect::Live;
use crate::plan::{Action, CmState, Declared, Origin, Plan, Problem, Step};
use crate::reconcile::{Done, StepResult};

/// The snapshot-only binding that watches the state ConfigMap.
pub const STATE_BINDING: &str = "state";
/// The state ConfigMap, in the operator's namespace.
pub const STATE_CONFIGMAP: &str = "connect-operator-state";
/// Its data key for the default cluster (`owned.<cluster>` for the others):
/// a JSON array of connector names.
const OWNED_KEY: &str = "owned";

fn owned_key(cluster: &str) -> String {
    if cluster == crate::clusters::DEFAULT {
        OWNED_KEY.to_string()
    } else {
        format!("{OWNED_KEY}.{cluster}")
    }
}

/// `PRUNE`: what to do with connectors no ConfigMap declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prune {
    /// List them in the log at each resync.
    #[default]
    Off,
    /// Delete those this operator applied earlier.
    Owned,
    /// Delete all of them, unless no ConfigMap declares anything.
    All,
}

impl Prune {
    pub fn parse(text: &str) -> Result<Prune> {
        Ok(match text.trim() {
            "" | "off" | "false" | "none" => Prune::Off,
            "owned" => Prune::Owned,
            "all" => Prune::All,
            other => bail!("PRUNE {other:?} must be off, owned or all"),
        })
    }
}

/// The operator's namespace: `OPERATOR_NAMESPACE` (the Deployment sets it
/// from the Pod), else the service account's, else `default`.
pub fn namespace() -> String {
    std::env::var("OPERATOR_NAMESPACE")
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(|| std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace").ok())
        .map(|n| n.trim().to_string())
        .unwrap_or_else(|| "default".into())
}

/// Where prune steps come from, in logs: the record of ownership.
pub fn origin(namespace: &str) -> Origin {
    Origin { configmap: CmId { namespace: Some(namespace.into()), name: STATE_CONFIGMAP.into() }, key: None }
}

/// The names recorded as owned on a cluster.
pub fn owned(state: Option<&ConfigMap>, cluster: &str) -> BTreeSet<String> {
    state.and_then(|cm| cm.data.get(&owned_key(cluster))).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
}

/// Live connectors of a cluster that none of its existing ConfigMaps
/// declares. Recorded names count as declared (a template that fails today
/// may still declare one), and so do the names of ConfigMaps with a bad label.
pub fn undeclared(declared: &[Declared], live: &Live) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for d in declared.iter().filter(|d| d.state != CmState::Deleted) {
        names.extend(d.names());
        names.extend(d.recorded.iter().cloned());
    }
    live.names.iter().filter(|n| !names.contains(*n)).cloned().collect()
}

/// Delete steps for the undeclared connectors `mode` allows, or the reason
/// it refuses.
pub fn prune(
    mode: Prune,
    undeclared: &BTreeSet<String>,
    owned: &BTreeSet<String>,
    anything_declared: bool,
    origin: &Origin,
) -> Result<Vec<Step>, Problem> {
    let (names, reason): (Vec<&String>, &'static str) = match mode {
        Prune::Off => return Ok(Vec::new()),
        Prune::Owned => {
            (undeclared.intersection(owned).collect(), "applied by this operator earlier, declared by no ConfigMap now")
        }
        Prune::All if !anything_declared => {
            return Err(Problem {
                origin: origin.clone(),
                connector: None,
                message: format!(
                    "PRUNE=all refused: no ConfigMap declares any connector, which looks like a missing snapshot or \
                     label rather than an intent to delete all {} connectors",
                    undeclared.len()
                ),
            })
        }
        Prune::All => (undeclared.iter().collect(), "declared by no ConfigMap"),
    };
    Ok(names
        .into_iter()
        .map(|name| Step {
            origin: origin.clone(),
            connector: name.clone(),
            action: Action::Delete { reason },
            after: Vec::new(),
        })
        .collect())
}

/// The owned set after the run: what was applied or found as declared is
/// added, what was deleted is removed. Patch operations when it changed.
pub fn record(
    owned: &BTreeSet<String>,
    plan: &Plan,
    results: &[StepResult],
    namespace: &str,
    cluster: &str,
) -> Vec<Value> {
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
        json!({"operation": "CreateIfNotExists", "object": {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": STATE_CONFIGMAP, "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "connect-operator"}},
            "data": {},
        }}),
        json!({"operation": "MergePatch", "apiVersion": "v1", "kind": "ConfigMap", "namespace": namespace,
               "name": STATE_CONFIGMAP, "mergePatch": {"data": data}}),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn modes() {
        let origin = origin("ops");
        let undeclared = set(&["mine", "theirs"]);
        let owned = set(&["mine", "declared"]);
        let names = |steps: Vec<Step>| steps.into_iter().map(|s| s.connector).collect::<Vec<_>>();
        assert!(prune(Prune::Off, &undeclared, &owned, true, &origin).unwrap().is_empty());
        assert_eq!(names(prune(Prune::Owned, &undeclared, &owned, true, &origin).unwrap()), ["mine"]);
        assert_eq!(names(prune(Prune::All, &undeclared, &owned, true, &origin).unwrap()), ["mine", "theirs"]);
        let refused = prune(Prune::All, &undeclared, &owned, false, &origin).unwrap_err();
        assert!(refused.message.starts_with("PRUNE=all refused"), "{}", refused.message);
        assert!(Prune::parse("sometimes").is_err());
        assert_eq!(Prune::parse("owned").unwrap(), Prune::Owned);
    }
}
