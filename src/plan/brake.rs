//! The brake on mass deletion: a plan that would delete more connectors of
//! one cluster than the limit deletes none of them. A namespace torn down,
//! a kustomization moved or a selector gone wrong looks to the operator like
//! many ConfigMaps deleted at once; deleting their connectors cannot be
//! undone (their offsets stay, their tasks' work stops), so a person decides.

use anyhow::{Context, Result};
use log::warn;

use std::collections::BTreeSet;

use crate::model::live::Live;
use crate::plan::claims::Owned;
use crate::plan::prune;
use crate::plan::steps::{Action, Brake, Plan, Step};

/// The default limit: more deletes than an ordinary ConfigMap declares
/// connectors (the examples declare at most a few each), fewer than a
/// namespace of them; see docs/operate.md, "Deletion brake".
pub const DEFAULT_DELETE_LIMIT: &str = "20";

/// `DELETE_LIMIT` (`apply --delete-limit`): how many deletes a plan may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteLimit {
    /// No brake (`0`).
    Off,
    /// At most this many deletes at once.
    At(usize),
}

impl DeleteLimit {
    /// A count; `0` turns the brake off.
    pub fn parse(text: &str) -> Result<DeleteLimit> {
        let n: usize = text.trim().parse().with_context(|| format!("{text:?} is not a count of connectors"))?;
        Ok(if n == 0 { DeleteLimit::Off } else { DeleteLimit::At(n) })
    }
}

/// The deletes the brake held earlier that nothing plans any more (see
/// [`Owned::held`]), planned again by a full run: deleted when still live and
/// `undeclared` (see [`prune::undeclared`]), absent when gone already.
pub fn retry_held(undeclared: &BTreeSet<String>, live: &Live, owned: &Owned, namespace: &str, plan: &mut Plan) {
    if owned.held.is_empty() {
        return;
    }
    let planned: BTreeSet<&str> = plan.steps.iter().map(|s| s.connector.as_str()).collect();
    let reason = "its declaration is gone, and the delete limit held its delete earlier";
    let retried: Vec<Step> = (owned.held.iter())
        .filter(|name| !planned.contains(name.as_str()))
        .filter_map(|name| {
            let action = match (undeclared.contains(name), live.names.contains(name)) {
                (true, _) => Action::Delete { reason },
                // Declared again: its ConfigMap plans it.
                (false, true) => return None,
                (false, false) => Action::Absent,
            };
            Some(Step { origin: prune::origin(namespace), connector: name.clone(), action, after: Vec::new() })
        })
        .collect();
    plan.steps.extend(retried);
}

/// Holds every delete of `plan` (prunes included) when there are more than
/// `limit`; the other steps are left as they are, and the brake is recorded
/// on the plan and said, naming the connectors.
pub fn hold(plan: &mut Plan, limit: DeleteLimit) {
    let DeleteLimit::At(limit) = limit else { return };
    let deletes = plan.steps.iter().filter(|s| matches!(s.action, Action::Delete { .. })).count();
    if deletes <= limit {
        return;
    }
    let mut names = Vec::new();
    for step in &mut plan.steps {
        if let Action::Delete { reason } = step.action {
            step.action = Action::Held { reason };
            names.push(step.connector.as_str());
        }
    }
    let brake = Brake { deletes, limit };
    warn!("deletes held: {brake}: {}", names.join(", "));
    plan.brake = Some(brake);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::configmap::CmId;
    use crate::plan::steps::{Origin, Step};

    fn plan(deletes: usize) -> Plan {
        let origin = Origin { configmap: CmId::new(Some("ns".into()), "cm".into()), key: None };
        let step = |name: String, action| Step { origin: origin.clone(), connector: name, action, after: Vec::new() };
        let mut steps: Vec<Step> =
            (0..deletes).map(|i| step(format!("d{i}"), Action::Delete { reason: "gone" })).collect();
        steps.push(step("kept".into(), Action::Unchanged));
        Plan { steps, ..Plan::default() }
    }

    #[test]
    fn over_the_limit_every_delete_is_held_and_the_rest_stays() {
        let mut held = plan(3);
        hold(&mut held, DeleteLimit::At(2));
        assert_eq!(held.held().collect::<Vec<_>>(), ["d0", "d1", "d2"]);
        assert!(matches!(held.steps[3].action, Action::Unchanged));
        assert_eq!(held.brake, Some(Brake { deletes: 3, limit: 2 }));
        assert_eq!(held.writes(), 0);
        assert!(held.brake.unwrap().to_string().contains("raise DELETE_LIMIT (`apply --delete-limit`)"));
        assert!(held.steps[0].to_string().starts_with("hold the delete of connector d0 (ConfigMap ns/cm: gone)"));
    }

    #[test]
    fn at_the_limit_or_off_nothing_is_held() {
        for (deletes, limit) in [(2, DeleteLimit::At(2)), (100, DeleteLimit::Off), (0, DeleteLimit::At(1))] {
            let mut p = plan(deletes);
            hold(&mut p, limit);
            assert_eq!(p.held().count(), 0);
            assert_eq!((p.brake, p.writes()), (None, deletes));
        }
    }

    #[test]
    fn the_limit_as_written() {
        assert_eq!(DeleteLimit::parse("0").unwrap(), DeleteLimit::Off);
        assert_eq!(DeleteLimit::parse(DEFAULT_DELETE_LIMIT).unwrap(), DeleteLimit::At(20));
        assert!(DeleteLimit::parse("-1").unwrap_err().to_string().contains("not a count of connectors"));
    }
}
