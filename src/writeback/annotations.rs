//! The status annotations of a ConfigMap after a run: per connector its
//! state, tasks, last apply, last error and restart count; per key, errors.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::connect::Applied;
use crate::desired::{CmState, Declared};
use crate::execute::{Done, StepResult};
use crate::model::configmap::CmId;
use crate::model::connector::TargetState;
use crate::model::live::{ConnectorState, Status};
use crate::model::status::{CmStatus, Record};
use crate::plan::compare::digest;
use crate::plan::{Action, Problem, Step, Why};
use crate::writeback::run::{brief, Run};

/// The status of one ConfigMap after this run, and the names to record.
#[must_use]
pub fn status(
    run: &Run,
    d: &Declared,
    steps: &[(&Step, &StepResult)],
    problems: &[&Problem],
) -> (CmStatus, BTreeSet<String>) {
    let previous = &d.previous;
    // A request is handled by the run that sees it: its restarts were sent
    // (a transient failure fails the run, and nothing is recorded).
    let restart_handled = d.restart_request.clone().or_else(|| previous.restart_handled.clone());
    // Likewise an offsets request: done once, whether it worked or failed for good.
    let offsets = d.offsets_request.as_ref().and_then(|r| r.as_ref().ok()).map(|r| r.value.clone());
    let offsets_handled = offsets.or_else(|| previous.offsets_handled.clone());
    let mut status = CmStatus { restart_handled, offsets_handled, ..CmStatus::default() };
    let mut names = d.names();
    if d.templates.iter().any(|(_, r)| r.is_err()) {
        // A failing template may still declare a recorded name: keep them all.
        names.extend(d.recorded.iter().cloned());
    }
    for &(step, result) in steps {
        let Some(key) = &step.origin.key else {
            // A leftover whose delete did not succeed stays recorded, to be retried.
            if !matches!(result, StepResult::Done(_)) {
                names.insert(step.connector.clone());
            }
            continue;
        };
        let before = previous.connectors.get(&step.connector);
        let record = record(run, d, step, result, key, before);
        status.connectors.insert(step.connector.clone(), record);
    }
    for problem in problems {
        match (&problem.connector, &problem.origin.key) {
            (Some(name), key) => {
                let key = key.as_deref().unwrap_or_default();
                let record = observed(run, name, key, previous.connectors.get(name));
                status.connectors.insert(name.clone(), Record { error: Some(brief(&problem.message)), ..record });
            }
            (None, Some(key)) => {
                status.errors.insert(key.clone(), brief(&problem.message));
            }
            (None, None) => {
                status.errors.insert("labels".into(), brief(&problem.message));
            }
        }
    }
    (status, names)
}

fn key_of(step: &Step) -> &str {
    step.origin.key.as_deref().unwrap_or_default()
}

/// A connector as Connect reports it, with when it was last applied.
fn observed(run: &Run, name: &str, key: &str, before: Option<&Record>) -> Record {
    let live = run.live.status.get(name);
    Record {
        key: key.to_string(),
        state: live.map_or(ConnectorState::Absent, |s| s.connector.state),
        tasks: live.and_then(Status::tasks_summary),
        applied_at: before.and_then(|r| r.applied_at.clone()),
        ..Record::default()
    }
}

fn record(run: &Run, d: &Declared, step: &Step, result: &StepResult, key: &str, before: Option<&Record>) -> Record {
    let live = run.live.status.get(&step.connector);
    let mut record = Record {
        restarts: before.map_or(0, |r| r.restarts),
        last_restart_at: before.and_then(|r| r.last_restart_at.clone()),
        ..observed(run, &step.connector, key, before)
    };
    // The count of automatic restarts starts again once it runs healthy.
    if live.is_some_and(|s| !s.has_failed()) {
        (record.restarts, record.last_restart_at) = (0, None);
    }
    for done in result.done() {
        match (done, &step.action) {
            (Done::Applied(Applied::Created), Action::Create(c)) => {
                record.state =
                    if c.state == TargetState::Running { ConnectorState::Pending } else { c.state.initial_state() };
                record.tasks = None;
                record.applied_at = Some(run.now.clone());
            }
            (Done::Applied(_), _) => {
                if live.is_none() {
                    record.state = ConnectorState::Pending;
                }
                record.applied_at = Some(run.now.clone());
            }
            (Done::Moved(state), _) => record.state = state.initial_state(),
            (Done::Restarted(why), _) => {
                record.state = ConnectorState::Restarting;
                if let Why::Failed(n) = why {
                    (record.restarts, record.last_restart_at) = (*n, Some(run.now.clone()));
                }
            }
            (Done::Removed(_) | Done::Offsets(_), _) => {}
        }
    }
    if let StepResult::Failed { message, .. } = result {
        record.error = Some(brief(message));
    }
    // The digest of what Connect now runs: the config just applied, or
    // (unchanged) the declared one; a failed write keeps the old digest.
    let applied = result.done().iter().any(|d| matches!(d, Done::Applied(_)));
    record.digest = match (run.policy.digest_key.as_deref(), &step.action) {
        (Some(key), Action::Create(c) | Action::Update { connector: c, .. }) if applied => Some(digest(key, &c.config)),
        (Some(key), Action::Unchanged) => d
            .templates
            .iter()
            .find(|(k, _)| k == key_of(step))
            .and_then(|(_, r)| r.as_ref().ok())
            .map(|c| digest(key, &c.config)),
        _ => before.and_then(|r| r.digest.clone()),
    };
    if d.state == CmState::Remove && matches!(step.action, Action::Delete { .. } | Action::Absent) {
        (record.state, record.tasks) = (ConnectorState::Disabled, None);
    }
    record
}

/// The patch that writes the annotations, through shell-operator.
#[must_use]
pub fn merge(id: &CmId, annotations: &BTreeMap<String, String>) -> Value {
    json!({
        "operation": "MergePatch",
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "namespace": id.namespace.clone().unwrap_or_else(|| "default".into()),
        "name": id.name,
        // The ConfigMap may be deleted between the snapshot and the patch.
        "ignoreMissingObject": true,
        "mergePatch": {"metadata": {"annotations": annotations}},
    })
}
