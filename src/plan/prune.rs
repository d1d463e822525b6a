//! Connectors no ConfigMap declares: left alone and listed (`PRUNE=off`),
//! deleted when this operator applied them (`owned`), or all deleted
//! (`all`, refused when nothing is declared at all).

use std::collections::{BTreeSet, HashSet};

use anyhow::{bail, Result};
use log::info;

use crate::desired::{CmState, Declared};
use crate::model::configmap::{CmId, STATE_CONFIGMAP};
use crate::model::live::Live;
use crate::plan::claims::Owned;
use crate::plan::steps::{Action, Origin, Plan, Problem, Step};

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
    /// `PRUNE` as people write it.
    pub fn parse(text: &str) -> Result<Prune> {
        Ok(match text.trim() {
            "" | "off" | "false" | "none" => Prune::Off,
            "owned" => Prune::Owned,
            "all" => Prune::All,
            other => bail!("PRUNE {other:?} must be off, owned or all"),
        })
    }
}

/// Where prune steps come from, in logs: the record of ownership.
#[must_use]
pub fn origin(namespace: &str) -> Origin {
    Origin { configmap: CmId { namespace: Some(namespace.into()), name: STATE_CONFIGMAP.into() }, key: None }
}

/// Live connectors of a cluster that none of its existing ConfigMaps
/// declares. Recorded names count as declared (a template that fails today
/// may still declare one), and so do the names of ConfigMaps with a bad label,
/// and the names connectors are renamed from (the rename deletes them).
#[must_use]
pub fn undeclared(declared: &[Declared], live: &Live) -> BTreeSet<String> {
    let mut names: HashSet<&str> = HashSet::new();
    for d in declared.iter().filter(|d| d.state != CmState::Deleted) {
        names.extend(d.declarations().map(|(_, name)| name.as_str()));
        names.extend(d.recorded.names.iter().map(String::as_str));
        names.extend(d.renames().map(|(_, old)| old.as_str()));
    }
    live.names.iter().filter(|n| !names.contains(n.as_str())).cloned().collect()
}

/// Delete steps for the undeclared connectors `mode` allows, or the reason
/// it refuses.
pub fn steps(
    mode: Prune,
    undeclared: &BTreeSet<String>,
    owned: &Owned,
    anything_declared: bool,
    origin: &Origin,
) -> Result<Vec<Step>, Problem> {
    let (names, reason): (Vec<&String>, &'static str) = match mode {
        Prune::Off => return Ok(Vec::new()),
        Prune::Owned => {
            let mine = undeclared.iter().filter(|name| owned.contains(name)).collect();
            (mine, "applied by this operator earlier, declared by no ConfigMap now")
        }
        Prune::All if !anything_declared => {
            return Err(Problem {
                origin: origin.clone(),
                connector: None,
                message: format!(
                    "PRUNE=all refused (--prune on the command line): no ConfigMap declares any connector, which \
                     looks like a missing snapshot or label rather than an intent to delete all {} connectors",
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

/// Adds to the plan the deletes `PRUNE` asks for among the `undeclared`
/// connectors, or says what is left alone (not the held deletes, which
/// [`crate::plan::brake::retry_held`] plans whatever `PRUNE` says).
pub fn add(
    declared: &[Declared],
    undeclared: &BTreeSet<String>,
    owned: &Owned,
    (mode, namespace): (Prune, &str),
    plan: &mut Plan,
) {
    if undeclared.is_empty() {
        return;
    }
    if mode == Prune::Off {
        let names: Vec<&str> = undeclared.iter().filter(|n| !owned.held.contains(*n)).map(String::as_str).collect();
        if names.is_empty() {
            return;
        }
        info!(
            "connectors no ConfigMap declares, left alone (the hook deletes them with PRUNE=owned or PRUNE=all, \
             `apply --prune` on the command line): {}",
            names.join(", ")
        );
        return;
    }
    let anything_declared = declared
        .iter()
        .filter(|d| d.state != CmState::Deleted)
        .any(|d| !d.names().is_empty() || !d.recorded.names.is_empty());
    let origin = origin(namespace);
    match steps(mode, undeclared, owned, anything_declared, &origin) {
        Ok(steps) => plan.steps.extend(steps),
        Err(problem) => plan.problems.push(problem),
    }
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
        let owned = Owned {
            by_name: ["mine", "declared"].map(|n| (n.to_string(), crate::plan::Owner::Unknown)).into_iter().collect(),
            ..Owned::default()
        };
        let names = |steps: Vec<Step>| steps.into_iter().map(|s| s.connector).collect::<Vec<_>>();
        assert!(steps(Prune::Off, &undeclared, &owned, true, &origin).unwrap().is_empty());
        assert_eq!(names(steps(Prune::Owned, &undeclared, &owned, true, &origin).unwrap()), ["mine"]);
        assert_eq!(names(steps(Prune::All, &undeclared, &owned, true, &origin).unwrap()), ["mine", "theirs"]);
        let refused = steps(Prune::All, &undeclared, &owned, false, &origin).unwrap_err();
        assert!(refused.message.starts_with("PRUNE=all refused (--prune on the command line)"), "{}", refused.message);
        assert!(Prune::parse("sometimes").is_err());
        assert_eq!(Prune::parse("owned").unwrap(), Prune::Owned);
    }
}
