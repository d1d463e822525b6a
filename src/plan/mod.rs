//! The plan: what to do to each connector, computed from the declared
//! connectors and the live state with no I/O, so it can be printed and tested.

use std::time::SystemTime;

use log::warn;

use crate::desired::{CmState, Declared, Role};
use crate::model::configmap::{CmId, DeletionPolicy};
use crate::model::connector::{Connector, TargetState};
use crate::model::live::Live;
use crate::model::requests::OFFSETS_ANNOTATION;
use crate::model::scope::Scope;
use crate::plan::claims::{Claims, Ruling};

pub mod brake;
pub mod claims;
pub mod compare;
pub mod prune;
pub mod restarts;
pub mod steps;

pub use brake::DeleteLimit;
pub use claims::{Owned, Owner};
pub use prune::Prune;
pub use restarts::Restarts;
pub use steps::{Action, After, Brake, Origin, Plan, Problem, Rename, Stage, Step, Why};

/// How to plan, from the settings.
#[derive(Debug, Clone)]
pub struct Policy {
    /// When the run started: automatic restarts wait out their backoff from it.
    pub now: SystemTime,
    /// What to do about connectors and tasks Connect reports FAILED.
    pub restarts: Restarts,
    /// Key of the digest that tells a changed masked secret (CONNECT_OPERATOR_DIGEST_KEY).
    pub digest_key: Option<Vec<u8>>,
    /// What to do with connectors no ConfigMap declares, on a full run.
    pub prune: Prune,
    /// The operator's namespace, where its state ConfigMap lives.
    pub namespace: String,
    /// What becomes of the connectors of a ConfigMap whose own annotation
    /// does not say (`DELETION_POLICY`).
    pub deletion: DeletionPolicy,
    /// How many deletes a plan may hold before the brake stops them all.
    pub delete_limit: DeleteLimit,
}

impl Default for Policy {
    /// Now, no automatic restarts, no digest, no pruning, deletes as
    /// declared and no brake.
    fn default() -> Policy {
        Policy {
            now: SystemTime::now(),
            restarts: Restarts::Automatic(0),
            digest_key: None,
            prune: Prune::Off,
            namespace: "default".into(),
            deletion: DeletionPolicy::Delete,
            delete_limit: DeleteLimit::Off,
        }
    }
}

/// The plan of a run: the one engine behind the hook, `diff` and `apply`.
/// A full run (everything declared is known) also prunes as the policy says.
#[must_use]
pub fn build(declared: &[Declared], live: &Live, owned: &Owned, scope: Scope, policy: &Policy) -> Plan {
    let mut plan = for_declared(declared, live, owned, policy);
    if !plan.masked_unverified.is_empty() {
        warn!(
            "Connect masks secret values of {} connectors ({}); without CONNECT_OPERATOR_DIGEST_KEY a change to a \
             masked value cannot be detected, so only the other keys were compared",
            plan.masked_unverified.len(),
            plan.masked_unverified.join(", ")
        );
    }
    if scope == Scope::Full {
        let undeclared = prune::undeclared(declared, live);
        prune::add(declared, &undeclared, owned, (policy.prune, &policy.namespace), &mut plan);
        brake::retry_held(&undeclared, live, owned, &policy.namespace, &mut plan);
    }
    brake::hold(&mut plan, policy.delete_limit);
    plan
}

/// What to do to each connector `declared` names, given what `live` runs
/// and who owns what.
fn for_declared(declared: &[Declared], live: &Live, owned: &Owned, policy: &Policy) -> Plan {
    let claims = Claims::new(declared, owned);
    let mut plan = Plan::default();
    for d in declared.iter().filter(|d| d.role == Role::Acting) {
        if let Some(message) = d.state.refusal() {
            plan.problems.push(Problem { origin: origin(&d.id, None), connector: None, message: message.to_string() });
            continue;
        }
        if let Some(Err(message)) = &d.requests.offsets {
            let here = origin(&d.id, Some(&OFFSETS_ANNOTATION.to_string()));
            plan.problems.push(Problem { origin: here, connector: None, message: message.to_string() });
        }
        for (key, rendered) in &d.rendered.templates {
            let here = origin(&d.id, Some(key));
            let connector = match rendered {
                Ok(c) => c,
                Err(message) => {
                    plan.problems.push(Problem { origin: here, connector: None, message: message.to_string() });
                    continue;
                }
            };
            if d.state != CmState::Apply && claims.is_renamed(&connector.name) {
                continue;
            }
            let action = match claims.ruling(d, key, &connector.name) {
                Ruling::KeptBy(by) => Action::Kept { by },
                Ruling::Planned => match planned(d, connector, live, policy, &mut plan) {
                    Some(action) => match renamed((d, key, connector), action, live, &claims) {
                        Ok(action) => action,
                        Err(message) => {
                            let connector = Some(connector.name.clone());
                            plan.problems.push(Problem { origin: here, connector, message });
                            continue;
                        }
                    },
                    None => continue,
                },
                Ruling::Refused(refusal) => {
                    let message = refusal.message(&connector.name);
                    plan.problems.push(Problem { origin: here, connector: Some(connector.name.clone()), message });
                    continue;
                }
            };
            // A rename moves the connector to its declared state itself.
            let mut after = match d.state {
                CmState::Apply if !matches!(action, Action::Rename(_)) => {
                    restarts::after(d, connector, &action, live, (policy.restarts, policy.now))
                }
                _ => Vec::new(),
            };
            let moved = matches!(action, Action::Create(_) | Action::Rename(_));
            if d.state == CmState::Apply && live.names.contains(&connector.name) && !moved {
                after.extend(offsets_request(d, connector.state));
            }
            plan.steps.push(Step { origin: here, connector: connector.name.clone(), action, after });
        }
        remove_leftovers(d, &claims, live, policy, &mut plan);
    }
    plan
}

/// The action `d` asks for its connector when its declaration counts (a
/// masked value left unverified is noted in `plan`); none for an invalid
/// ConfigMap.
fn planned(d: &Declared, connector: &Connector, live: &Live, policy: &Policy, plan: &mut Plan) -> Option<Action> {
    Some(match d.state {
        CmState::Apply => {
            let recorded = d.recorded.status.connectors.get(&connector.name).and_then(|r| r.digest.as_deref());
            let (action, unverified) = compare::apply(connector, live, recorded, policy.digest_key.as_deref());
            if unverified {
                plan.masked_unverified.push(connector.name.clone());
            }
            action
        }
        CmState::Remove => remove(&connector.name, live, "disabled by label enabled=false"),
        CmState::Deleted => gone(d, &connector.name, live, policy, "its ConfigMap was deleted"),
        // Reported by the caller: nothing of an invalid ConfigMap is applied.
        CmState::Invalid(_) | CmState::Refused(_) => return None,
    })
}

/// The action `planned` for a connector of an applied ConfigMap, or, when
/// it says it was renamed from a connector that still runs, the move that
/// takes that one over; or why that may not be.
fn renamed(
    (d, key, connector): (&Declared, &String, &Connector),
    planned: Action,
    live: &Live,
    claims: &Claims,
) -> Result<Action, String> {
    let Some(from) =
        connector.renamed_from.as_ref().filter(|old| d.state == CmState::Apply && live.names.contains(*old))
    else {
        return Ok(planned);
    };
    if let Some(refusal) = claims.rename_refusal(d, key, from) {
        return Err(refusal);
    }
    let stage = match planned {
        Action::Create(_) => Stage::Begin,
        Action::Update { changed, .. } => Stage::Finish { changed },
        _ => Stage::Finish { changed: Vec::new() },
    };
    Ok(Action::Rename(Rename { from: from.clone(), connector: connector.clone(), stage }))
}

/// Removes the connectors `d` recorded and no longer declares, unless
/// another ConfigMap declares them now or owns them.
fn remove_leftovers(d: &Declared, claims: &Claims, live: &Live, policy: &Policy, plan: &mut Plan) {
    for name in d.leftovers() {
        if !claims.may_remove_leftover(d, name) {
            continue;
        }
        let reason = match d.state {
            CmState::Deleted => "its ConfigMap was deleted",
            _ => "its ConfigMap no longer declares it",
        };
        let action = gone(d, name, live, policy, reason);
        plan.steps.push(Step { origin: origin(&d.id, None), connector: name.clone(), action, after: Vec::new() });
    }
}

/// The offsets request of a ConfigMap not yet carried out.
fn offsets_request(d: &Declared, declared: TargetState) -> Option<After> {
    let request = d.requests.offsets.as_ref()?.as_ref().ok()?;
    (d.recorded.status.offsets_handled.as_ref() != Some(&request.value))
        .then(|| After::Offsets(request.action.clone(), declared))
}

/// What becomes of a connector `d` no longer declares (deleted, or its key
/// removed): deleted, or left running when its deletion policy (or else the
/// operator's) is `retain`.
fn gone(d: &Declared, name: &str, live: &Live, policy: &Policy, reason: &'static str) -> Action {
    match d.deletion.unwrap_or(policy.deletion) {
        DeletionPolicy::Retain if live.names.contains(name) => Action::Retain { reason },
        DeletionPolicy::Retain | DeletionPolicy::Delete => remove(name, live, reason),
    }
}

fn remove(name: &str, live: &Live, reason: &'static str) -> Action {
    if live.names.contains(name) {
        Action::Delete { reason }
    } else {
        Action::Absent
    }
}

fn origin(id: &CmId, key: Option<&String>) -> Origin {
    Origin { configmap: id.clone(), key: key.cloned() }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::Duration;

    use super::compare::{compare, digest, is_masked};
    use super::restarts::restart_backoff;
    use super::*;
    use crate::desired::{wanted, DeclaredConnectors};
    use crate::model::connector::{Connector, TargetState};
    use crate::model::live::{ConnectorState, Status, Unit};
    use crate::render::error::{Located, RenderError};
    use ConnectorState::Running;
    use Role::{Acting, NamesOnly};

    fn id(name: &str) -> CmId {
        CmId { namespace: Some("ns".into()), name: name.into() }
    }

    fn connector(name: &str, pairs: &[(&str, &str)]) -> Connector {
        let mut config: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        config.insert("name".into(), name.into());
        Connector {
            name: name.into(),
            state: TargetState::Running,
            config,
            secret_keys: BTreeSet::new(),
            literal_secrets: BTreeSet::new(),
            renamed_from: None,
        }
    }

    fn declared(cm: &str, state: CmState, role: Role, connectors: Vec<Connector>) -> Declared {
        Declared {
            id: id(cm),
            cluster: crate::connect::clusters::DEFAULT.into(),
            state,
            role,
            rendered: DeclaredConnectors {
                templates: connectors.into_iter().enumerate().map(|(i, c)| (format!("k{i}"), Ok(c))).collect(),
                ..DeclaredConnectors::default()
            },
            ..Declared::default()
        }
    }

    fn plan(declared: &[Declared], live: &Live) -> Plan {
        owned_plan(declared, live, &Owned::default())
    }

    fn owned_plan(declared: &[Declared], live: &Live, owned: &Owned) -> Plan {
        super::for_declared(declared, live, owned, &Policy { restarts: Restarts::Automatic(10), ..Policy::default() })
    }

    fn live(connectors: &[Connector]) -> Live {
        Live {
            names: connectors.iter().map(|c| c.name.clone()).collect(),
            configs: connectors.iter().map(|c| (c.name.clone(), c.config.clone())).collect(),
            status: BTreeMap::new(),
            only_wanted: false,
        }
    }

    fn summary(plan: &Plan) -> Vec<String> {
        plan.steps.iter().map(|s| s.to_string()).chain(plan.problems.iter().map(|p| p.to_string())).collect()
    }

    #[test]
    fn create_update_unchanged() {
        let a = connector("a", &[("x", "1")]);
        let b = connector("b", &[("x", "1"), ("y", "2")]);
        let c = connector("c", &[]);
        let d = declared("cm", CmState::Apply, Acting, vec![a.clone(), b.clone(), c.clone()]);
        let b_live = connector("b", &[("x", "9"), ("z", "3")]);
        let plan = plan(&[d], &live(&[a, b_live]));
        assert_eq!(
            summary(&plan),
            [
                "connector a is unchanged (ConfigMap ns/cm key k0)",
                "update connector b (ConfigMap ns/cm key k1): changed x, y, z",
                "create connector c (ConfigMap ns/cm key k2)",
            ]
        );
        assert_eq!(plan.writes(), 2);
    }

    #[test]
    fn disabled_and_deleted_remove_what_exists() {
        let a = connector("a", &[]);
        let b = connector("b", &[]);
        let plan = plan(
            &[
                declared("off", CmState::Remove, Acting, vec![a.clone()]),
                declared("gone", CmState::Deleted, Acting, vec![b]),
            ],
            &live(&[a]),
        );
        assert_eq!(
            summary(&plan),
            [
                "delete connector a (ConfigMap ns/off key k0: disabled by label enabled=false)",
                "connector b is already absent (ConfigMap ns/gone key k0)",
            ]
        );
    }

    #[test]
    fn retain_leaves_what_is_no_longer_declared_and_disabled_still_deletes() {
        let (a, b, c) = (connector("a", &[]), connector("b", &[]), connector("c", &[]));
        let live = live(&[a.clone(), b.clone(), c.clone()]);
        let retain = |mut d: Declared| {
            d.deletion = Some(DeletionPolicy::Retain);
            d
        };
        let mut removed_key = retain(declared("kept", CmState::Apply, Acting, vec![]));
        removed_key.recorded.names = BTreeSet::from(["b".into(), "gone-already".into()]);
        let all = [
            retain(declared("gone", CmState::Deleted, Acting, vec![a.clone()])),
            removed_key,
            retain(declared("off", CmState::Remove, Acting, vec![c.clone()])),
        ];
        assert_eq!(
            summary(&plan(&all, &live)),
            [
                "leave connector a running (ConfigMap ns/gone key k0: its ConfigMap was deleted; deletion policy \
                 retain): no longer owned by connect-operator, so PRUNE=owned never deletes it",
                "leave connector b running (ConfigMap ns/kept: its ConfigMap no longer declares it; deletion policy \
                 retain): no longer owned by connect-operator, so PRUNE=owned never deletes it",
                "connector gone-already is already absent (ConfigMap ns/kept)",
                "delete connector c (ConfigMap ns/off key k0: disabled by label enabled=false)",
            ]
        );

        // The operator's policy holds where the annotation says nothing, and the annotation beats it.
        let policy = Policy { deletion: DeletionPolicy::Retain, ..Policy::default() };
        let plain = declared("gone", CmState::Deleted, Acting, vec![a.clone()]);
        let run = |d: &Declared, policy: &Policy| {
            super::for_declared(std::slice::from_ref(d), &live, &Owned::default(), policy)
        };
        assert!(matches!(run(&plain, &policy).steps[0].action, Action::Retain { .. }));
        let deleting = Declared { deletion: Some(DeletionPolicy::Delete), ..plain.clone() };
        assert!(matches!(run(&deleting, &policy).steps[0].action, Action::Delete { .. }));
        assert!(matches!(run(&plain, &Policy::default()).steps[0].action, Action::Delete { .. }));
    }

    #[test]
    fn the_brake_holds_deletes_prunes_included_and_nothing_else() {
        let names: Vec<Connector> = (0..3).map(|i| connector(&format!("c{i}"), &[])).collect();
        let mut live = live(&names);
        live.names.insert("pruned".into());
        let gone = declared("gone", CmState::Deleted, Acting, names.clone());
        let new = declared("new", CmState::Apply, Acting, vec![connector("n", &[])]);
        let owned = owned_by(&[("pruned", None)]);
        let policy = |limit| Policy { prune: Prune::Owned, delete_limit: limit, ..Policy::default() };
        let held = build(&[gone.clone(), new.clone()], &live, &owned, Scope::Full, &policy(DeleteLimit::At(3)));
        assert_eq!(held.held().collect::<Vec<_>>(), ["c0", "c1", "c2", "pruned"]);
        assert_eq!(held.brake, Some(Brake { deletes: 4, limit: 3 }));
        assert_eq!(held.writes(), 1, "the create still happens");
        for limit in [DeleteLimit::At(4), DeleteLimit::Off] {
            let plan = build(&[gone.clone(), new.clone()], &live, &owned, Scope::Full, &policy(limit));
            assert_eq!((plan.held().count(), plan.writes()), (0, 5));
        }
    }

    #[test]
    fn a_rename_takes_over_a_running_old_name_which_is_then_no_leftover_to_delete() {
        let mut renamed = connector("new", &[]);
        renamed.renamed_from = Some("old".into());
        let mut d = declared("cm", CmState::Apply, Acting, vec![renamed.clone()]);
        d.recorded.names = BTreeSet::from(["old".into()]);
        let begin = plan(std::slice::from_ref(&d), &live(&[connector("old", &[])]));
        assert_eq!(summary(&begin), ["rename connector old -> new (ConfigMap ns/cm key k0): offsets carried"]);
        let both = live(&[connector("old", &[]), connector("new", &[("x", "1")])]);
        assert_eq!(
            summary(&plan(std::slice::from_ref(&d), &both)),
            ["finish renaming connector old -> new (ConfigMap ns/cm key k0): offsets carried unless new has its own; changed x"]
        );
        // The old name gone: the template is applied as if it said nothing of it.
        assert_eq!(
            summary(&plan(std::slice::from_ref(&d), &Live::default())),
            ["create connector new (ConfigMap ns/cm key k0)"]
        );
        // Disabled or deleted where it was declared: the rename, not that ConfigMap, deletes it.
        for state in [CmState::Remove, CmState::Deleted] {
            let was = declared("was", state, Acting, vec![connector("old", &[])]);
            let both = plan(&[was, d.clone()], &live(&[connector("old", &[])]));
            assert_eq!(summary(&both), ["rename connector old -> new (ConfigMap ns/cm key k0): offsets carried"]);
        }
        // Not pruned either: the rename deletes it.
        let owned = owned_by(&[("old", Some("cm"))]);
        let policy = Policy { prune: Prune::Owned, ..Policy::default() };
        let full = build(std::slice::from_ref(&d), &live(&[connector("old", &[])]), &owned, Scope::Full, &policy);
        assert_eq!(full.steps.len(), 1);
        assert!(matches!(full.steps[0].action, Action::Rename(_)));
    }

    #[test]
    fn a_name_declared_twice_is_touched_by_neither() {
        let a1 = connector("a", &[("v", "1")]);
        let a2 = connector("a", &[("v", "2")]);
        let plan = plan(
            &[declared("one", CmState::Apply, Acting, vec![a1]), declared("two", CmState::Apply, NamesOnly, vec![a2])],
            &Live::default(),
        );
        assert!(plan.steps.is_empty());
        assert_eq!(
            summary(&plan),
            ["ConfigMap ns/one key k0: connector a is also declared by ConfigMap ns/two key k0; neither declaration is applied until only one remains"]
        );
    }

    fn owned_by(pairs: &[(&str, Option<&str>)]) -> Owned {
        let owner = |cm: Option<&str>| cm.map_or(Owner::Unknown, |cm| Owner::ConfigMap(id(cm)));
        Owned { by_name: pairs.iter().map(|(name, cm)| (name.to_string(), owner(*cm))).collect(), ..Owned::default() }
    }

    #[test]
    fn the_owner_keeps_its_connector_and_its_edits_apply() {
        let live = live(&[connector("x", &[("v", "1")])]);
        let owned = owned_by(&[("x", Some("owner"))]);
        let edited = declared("owner", CmState::Apply, Acting, vec![connector("x", &[("v", "2")])]);
        let intruder = declared("intruder", CmState::Apply, Acting, vec![connector("x", &[("v", "3")])]);
        let refused =
            "ConfigMap ns/intruder key k0: connector x belongs to ConfigMap ns/owner, which applied it; this \
                       declaration is not applied while that ConfigMap declares it";
        let plan = owned_plan(&[edited.clone(), intruder.clone()], &live, &owned);
        assert_eq!(summary(&plan), ["update connector x (ConfigMap ns/owner key k0): changed v", refused]);

        // Whichever ConfigMap the run acts on, the other's declaration counts as much.
        let names_only = |d: &Declared| Declared { role: NamesOnly, ..d.clone() };
        let plan = owned_plan(&[edited.clone(), names_only(&intruder)], &live, &owned);
        assert_eq!(summary(&plan), ["update connector x (ConfigMap ns/owner key k0): changed v"]);
        let plan = owned_plan(&[names_only(&edited), intruder.clone()], &live, &owned);
        assert_eq!(summary(&plan), [refused]);

        // Disabled by its owner: deleted, whoever else declares it.
        let disabled = declared("owner", CmState::Remove, Acting, vec![connector("x", &[])]);
        let plan = owned_plan(&[disabled, intruder.clone()], &live, &owned);
        assert_eq!(
            summary(&plan),
            ["delete connector x (ConfigMap ns/owner key k0: disabled by label enabled=false)", refused]
        );

        // The intruder deleted, or its key removed: the connector stays.
        let gone = declared("intruder", CmState::Deleted, Acting, vec![connector("x", &[("v", "3")])]);
        let plan = owned_plan(&[names_only(&edited), gone], &live, &owned);
        assert_eq!(
            summary(&plan),
            ["keep connector x: ConfigMap ns/intruder key k0 is gone but ConfigMap ns/owner key k0 declares it"]
        );
        let mut removed = declared("intruder", CmState::Apply, Acting, vec![]);
        removed.recorded.names = BTreeSet::from(["x".into()]);
        // Even while the owner's template fails, so that only its record says it declares x.
        let mut failing = declared("owner", CmState::Apply, NamesOnly, vec![]);
        failing.rendered.templates.push(("k0".into(), Err(RenderError::Runtime("boom".into()))));
        failing.recorded.names = BTreeSet::from(["x".into()]);
        assert!(owned_plan(&[failing.clone(), removed], &live, &owned).steps.is_empty());
        let plan = owned_plan(&[failing, intruder.clone()], &live, &owned);
        assert_eq!(summary(&plan), [refused]);
    }

    #[test]
    fn a_name_is_free_once_its_owner_no_longer_declares_it() {
        let live = live(&[connector("x", &[("v", "1")])]);
        let owned = owned_by(&[("x", Some("owner"))]);
        let intruder = declared("intruder", CmState::Apply, Acting, vec![connector("x", &[("v", "3")])]);
        // The owner is gone, or declares something else.
        let plan = owned_plan(std::slice::from_ref(&intruder), &live, &owned);
        assert_eq!(summary(&plan), ["update connector x (ConfigMap ns/intruder key k0): changed v"]);
        let renamed = declared("owner", CmState::Apply, NamesOnly, vec![connector("y", &[])]);
        let plan = owned_plan(&[renamed, intruder.clone()], &live, &owned);
        assert_eq!(summary(&plan), ["update connector x (ConfigMap ns/intruder key k0): changed v"]);
        // The owner deleted while another ConfigMap declares the name: kept for that one.
        let deleted = declared("owner", CmState::Deleted, Acting, vec![connector("x", &[("v", "1")])]);
        let plan = owned_plan(&[deleted, Declared { role: NamesOnly, ..intruder.clone() }], &live, &owned);
        assert_eq!(
            summary(&plan),
            ["keep connector x: ConfigMap ns/owner key k0 is gone but ConfigMap ns/intruder key k0 declares it"]
        );

        // No owner known (the record of names alone) or none yet: declared twice, refused twice.
        let other = declared("other", CmState::Apply, Acting, vec![connector("x", &[("v", "4")])]);
        for owned in [owned_by(&[("x", None)]), Owned::default()] {
            let plan = owned_plan(&[intruder.clone(), other.clone()], &live, &owned);
            assert!(plan.steps.is_empty(), "{:?}", summary(&plan));
            assert_eq!(plan.problems.len(), 2, "{:?}", summary(&plan));
            assert!(plan.problems.iter().all(|p| p.message.contains("neither declaration is applied")));
        }

        // The owner's two keys are as two declarations, and the intruder is still refused.
        let twice = declared("owner", CmState::Apply, Acting, vec![connector("x", &[]), connector("x", &[])]);
        let plan = owned_plan(&[twice, intruder], &live, &owned);
        let messages: Vec<&str> = plan.problems.iter().map(|p| p.message.as_str()).collect();
        assert!(plan.steps.is_empty());
        assert_eq!(messages.iter().filter(|m| m.contains("also declared by ConfigMap ns/owner key")).count(), 2);
        assert_eq!(messages.iter().filter(|m| m.contains("belongs to ConfigMap ns/owner")).count(), 1);
    }

    #[test]
    fn moving_a_connector_to_another_configmap_does_not_delete_it() {
        let a = connector("a", &[]);
        let plan = plan(
            &[
                declared("old", CmState::Deleted, Acting, vec![a.clone()]),
                declared("new", CmState::Apply, NamesOnly, vec![a.clone()]),
            ],
            &live(&[a]),
        );
        assert_eq!(
            summary(&plan),
            ["keep connector a: ConfigMap ns/old key k0 is gone but ConfigMap ns/new key k0 declares it"]
        );
    }

    #[test]
    fn errors_and_invalid_labels_are_problems() {
        let mut broken = declared("broken", CmState::Apply, Acting, vec![connector("ok", &[])]);
        broken.rendered.templates.push(("bad".into(), Err(RenderError::Parse(vec![Located::at(1, 1, "boom")]))));
        let invalid =
            declared("typo", CmState::Invalid("label enabled is \"yes\"".into()), Acting, vec![connector("x", &[])]);
        let plan = plan(&[broken, invalid], &Live::default());
        assert_eq!(
            summary(&plan),
            [
                "create connector ok (ConfigMap ns/broken key k0)",
                "ConfigMap ns/broken key bad: 1:1: boom",
                "ConfigMap ns/typo: label enabled is \"yes\"",
            ]
        );
    }

    #[test]
    fn recorded_names_that_are_no_longer_declared_are_deleted() {
        let (old, new, moved) = (connector("old", &[]), connector("new", &[]), connector("moved", &[]));
        let mut renamed = declared("cm", CmState::Apply, Acting, vec![new.clone()]);
        renamed.recorded.names = BTreeSet::from(["old".into(), "new".into(), "moved".into()]);
        let elsewhere = declared("other", CmState::Apply, NamesOnly, vec![moved.clone()]);
        let planned = plan(&[renamed.clone(), elsewhere], &live(&[old.clone(), new.clone(), moved.clone()]));
        assert_eq!(
            summary(&planned),
            [
                "connector new is unchanged (ConfigMap ns/cm key k0)",
                "delete connector old (ConfigMap ns/cm: its ConfigMap no longer declares it)",
            ]
        );

        // A template that fails may still declare an old name: nothing is deleted.
        renamed.rendered.templates.push(("broken".into(), Err(RenderError::Runtime("boom".into()))));
        let planned = plan(&[renamed], &live(&[old.clone(), new]));
        assert!(planned.steps.iter().all(|s| !matches!(s.action, Action::Delete { .. })), "{:?}", summary(&planned));

        // A deleted ConfigMap whose template no longer renders uses the names it recorded.
        let mut gone = declared("gone", CmState::Deleted, Acting, vec![]);
        gone.rendered
            .templates
            .push(("k".into(), Err(RenderError::Parse(vec![Located::nowhere("undefined variable")]))));
        gone.recorded.names = BTreeSet::from(["old".into()]);
        assert!(wanted(std::slice::from_ref(&gone)).contains("old"));
        let plan = plan(&[gone], &live(&[old]));
        assert_eq!(
            summary(&plan),
            [
                "delete connector old (ConfigMap ns/gone: its ConfigMap was deleted)",
                "ConfigMap ns/gone key k: undefined variable",
            ]
        );
    }

    fn with_status(mut live: Live, name: &str, connector: ConnectorState, tasks: &[ConnectorState]) -> Live {
        let tasks = tasks.iter().map(|t| Unit::new(*t)).collect();
        live.status.insert(name.into(), Status { connector: Unit::new(connector), tasks });
        live
    }

    fn afters(d: &Declared, live: &Live, policy: &Policy) -> Vec<After> {
        super::for_declared(std::slice::from_ref(d), live, &Owned::default(), policy)
            .steps
            .into_iter()
            .flat_map(|s| s.after)
            .collect()
    }

    #[test]
    fn declared_state_moves_the_connector() {
        let policy = Policy { restarts: Restarts::Automatic(10), ..Policy::default() };
        let mut paused = connector("a", &[]);
        paused.state = TargetState::Paused;
        let d = declared("cm", CmState::Apply, Acting, vec![paused.clone()]);
        let running = with_status(live(&[paused.clone()]), "a", ConnectorState::Running, &[ConnectorState::Running]);
        assert_eq!(afters(&d, &running, &policy), [After::SetState(TargetState::Paused)]);
        let already = with_status(live(&[paused.clone()]), "a", ConnectorState::Paused, &[ConnectorState::Paused]);
        assert!(afters(&d, &already, &policy).is_empty());
        // A new connector is created in its state; nothing follows.
        assert!(afters(&d, &Live::default(), &policy).is_empty());
        let plain = declared("cm", CmState::Apply, Acting, vec![connector("a", &[])]);
        let stopped = with_status(live(&[connector("a", &[])]), "a", ConnectorState::Stopped, &[]);
        assert_eq!(afters(&plain, &stopped, &policy), [After::SetState(TargetState::Running)]);
    }

    #[test]
    fn a_restart_request_is_carried_out_once() {
        let policy = Policy { restarts: Restarts::Automatic(10), ..Policy::default() };
        let a = connector("a", &[]);
        let mut d = declared("cm", CmState::Apply, Acting, vec![a.clone()]);
        d.requests.restart = Some("2026-11-22".into());
        let running = with_status(live(&[a]), "a", ConnectorState::Running, &[ConnectorState::Running]);
        assert_eq!(afters(&d, &running, &policy), [After::Restart(Why::Requested("2026-11-22".into()))]);
        d.recorded.status.restart_handled = Some("2026-11-22".into());
        assert!(afters(&d, &running, &policy).is_empty());
    }

    #[test]
    fn failed_connectors_restart_with_backoff_up_to_the_limit() {
        let now = SystemTime::now();
        let policy = Policy { now, restarts: Restarts::Automatic(3), ..Policy::default() };
        let a = connector("a", &[]);
        let mut d = declared("cm", CmState::Apply, Acting, vec![a.clone()]);
        let failed =
            with_status(live(&[a]), "a", ConnectorState::Running, &[ConnectorState::Running, ConnectorState::Failed]);
        assert_eq!(afters(&d, &failed, &policy), [After::Restart(Why::Failed(1))]);

        let record = |restarts: u32, ago: Duration| crate::model::status::Record {
            state: Running,
            restarts,
            last_restart_at: Some(humantime::format_rfc3339_seconds(now - ago).to_string()),
            ..Default::default()
        };
        // After one attempt the next waits two minutes.
        d.recorded.status.connectors.insert("a".into(), record(1, Duration::from_secs(60)));
        assert!(afters(&d, &failed, &policy).is_empty());
        d.recorded.status.connectors.insert("a".into(), record(1, Duration::from_secs(121)));
        assert_eq!(afters(&d, &failed, &policy), [After::Restart(Why::Failed(2))]);
        // At the limit: no more.
        d.recorded.status.connectors.insert("a".into(), record(3, Duration::from_secs(86400)));
        assert!(afters(&d, &failed, &policy).is_empty());
        // Off.
        d.recorded.status.connectors.clear();
        assert!(afters(&d, &failed, &Policy { now, restarts: Restarts::Automatic(0), ..Policy::default() }).is_empty());
        assert_eq!(restart_backoff(0), Duration::ZERO);
        assert_eq!(restart_backoff(3), Duration::from_secs(12 * 60));
        assert_eq!(restart_backoff(20), Duration::from_secs(3600));
    }

    #[test]
    fn server_keys_and_masked_values_are_not_differences() {
        let desired = connector("a", &[("connector.class", "X"), ("password", "s3cret"), ("kafka.region", "eu")]);
        let mut shown = desired.config.clone();
        shown.insert("password".into(), "••••••••".into());
        shown.insert("__internal.config.version".into(), "2".into());
        shown.insert("cloud.provider".into(), "aws".into());
        let comparison = compare(&desired.config, &shown);
        assert!(comparison.changed.is_empty());
        assert_eq!(comparison.masked, ["password"]);
        // A server key the template sets is compared.
        shown.insert("kafka.region".into(), "us".into());
        assert_eq!(compare(&desired.config, &shown).changed, ["kafka.region"]);
        assert!(is_masked("****************") && is_masked("•••") && !is_masked("") && !is_masked("a*"));
    }

    #[test]
    fn a_masked_secret_is_checked_through_the_recorded_digest() {
        let a = connector("a", &[("password", "s3cret")]);
        let mut masked = live(std::slice::from_ref(&a));
        masked.configs.get_mut("a").unwrap().insert("password".into(), "****".into());
        let key = b"digest-key".to_vec();
        let policy = |key: Option<Vec<u8>>| Policy { digest_key: key, ..Policy::default() };
        let mut d = declared("cm", CmState::Apply, Acting, vec![a.clone()]);
        let run = |d: &Declared, policy: &Policy| {
            super::for_declared(std::slice::from_ref(d), &masked, &Owned::default(), policy)
        };

        // No key: compared without the masked value, and said.
        let plan = run(&d, &policy(None));
        assert!(matches!(plan.steps[0].action, Action::Unchanged));
        assert_eq!(plan.masked_unverified, ["a"]);
        // A key but no digest recorded yet: applied once, to know.
        assert!(matches!(run(&d, &policy(Some(key.clone()))).steps[0].action, Action::Update { .. }));
        // The recorded digest matches: unchanged; the secret rotated: updated.
        let record = |digest: String| crate::model::status::Record { digest: Some(digest), ..Default::default() };
        d.recorded.status.connectors.insert("a".into(), record(digest(&key, &a.config)));
        assert!(matches!(run(&d, &policy(Some(key.clone()))).steps[0].action, Action::Unchanged));
        let rotated = connector("a", &[("password", "n3w")]);
        d.rendered.templates = vec![("k0".into(), Ok(rotated))];
        match &run(&d, &policy(Some(key.clone()))).steps[0].action {
            Action::Update { changed, .. } => assert_eq!(changed, &["password"]),
            other => panic!("{other:?}"),
        }
        // Keyed: another key gives another digest, so a leaked digest tests no guess.
        assert_ne!(digest(b"k1", &a.config), digest(b"k2", &a.config));
    }

    #[test]
    fn number_text_matches_what_connect_stores() {
        let desired = connector("a", &[("tasks.max", "1")]);
        let stored = connector("a", &[("tasks.max", "1")]);
        let comparison = compare(&desired.config, &stored.config);
        assert!(comparison.changed.is_empty() && comparison.masked.is_empty());
    }
}
