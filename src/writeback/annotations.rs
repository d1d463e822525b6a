//! The status annotations of a ConfigMap after a run: per connector its
//! state, tasks, last apply, last error and restart count; per key, errors.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::connect::{Applied, Carried};
use crate::desired::{CmState, Declared, Role};
use crate::execute::{Done, StepResult};
use crate::model::connector::TargetState;
use crate::model::live::{ConnectorState, Status};
use crate::model::status::{self, CmStatus, Condition, Counts, Readiness, Reason, Record, Renamed};
use crate::plan::compare::digest;
use crate::plan::{Action, Problem, Rename, Step, Why};
use crate::writeback::operations::Operation;
use crate::writeback::run::{brief, Run};

/// The status of one ConfigMap after this run, and the names to record.
#[must_use]
pub fn status(
    run: &Run,
    d: &Declared,
    steps: &[(&Step, &StepResult)],
    problems: &[&Problem],
) -> (CmStatus, BTreeSet<String>) {
    let previous = &d.recorded.status;
    // A request is handled by the run that sees it: its restarts were sent
    // (a transient failure fails the run, and nothing is recorded).
    let restart_handled = d.requests.restart.clone().or_else(|| previous.restart_handled.clone());
    // Likewise an offsets request: done once, whether it worked or failed for good.
    let offsets = d.requests.offsets.as_ref().and_then(|r| r.as_ref().ok()).map(|r| r.value.clone());
    let offsets_handled = offsets.or_else(|| previous.offsets_handled.clone());
    let mut status = CmStatus { restart_handled, offsets_handled, ..CmStatus::default() };
    let mut names = d.names();
    if d.rendered.templates.iter().any(|(_, r)| r.is_err()) {
        // A failing template may still declare a recorded name: keep them all.
        names.extend(d.recorded.names.iter().cloned());
    }
    for &(step, result) in steps {
        let Some(key) = &step.origin.key else {
            // A leftover whose delete did not succeed (or was held) stays
            // recorded, to be retried; a retained one is no longer this ConfigMap's.
            if !matches!(result, StepResult::Done(_)) && !matches!(step.action, Action::Retain { .. }) {
                names.insert(step.connector.clone());
            }
            continue;
        };
        // The old name of a rename not yet done stays recorded until it is.
        if let (Action::Rename(rename), false) = (&step.action, matches!(result, StepResult::Done(_))) {
            names.insert(rename.from.clone());
        }
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
    finish(run, d, &mut status);
    (status, names)
}

/// What tools read: counts, the `Ready` condition, and the version of the
/// ConfigMap the status describes.
fn finish(run: &Run, d: &Declared, status: &mut CmStatus) {
    let mut counts = Counts::default();
    for r in status.connectors.values() {
        *counts.connectors.entry(r.state).or_default() += 1;
        for (state, n) in &r.task_counts {
            *counts.tasks.entry(*state).or_default() += n;
        }
    }
    status.counts = counts;
    let (readiness, reason, message) = readiness(d, status);
    status.ready = Some(condition(&run.now, &d.recorded.status, readiness, reason, message));
    // Only an edit of the data or labels changes what the status describes;
    // taking every version would rewrite it after each of the hook's own patches.
    let same_source = d.recorded.annotations.get(status::SOURCE) == Some(&d.rendered.source);
    let previous = d.recorded.status.observed_resource_version.clone().filter(|_| same_source);
    status.observed_resource_version = previous.or_else(|| d.object.resource_version.clone());
}

/// `Ready`, keeping the previous transition time while nothing changed.
fn condition(now: &str, previous: &CmStatus, status: Readiness, reason: Reason, message: String) -> Condition {
    let since = previous.ready.as_ref().filter(|c| c.status == status && c.reason == reason);
    let last_transition_time = since.map_or_else(|| now.to_string(), |c| c.last_transition_time.clone());
    Condition { status, reason, message, last_transition_time }
}

/// Whether every connector is as declared, and if not the first that is not.
fn readiness(d: &Declared, status: &CmStatus) -> (Readiness, Reason, String) {
    if let Some((key, error)) = status.errors.iter().next() {
        return (Readiness::False, Reason::Error, format!("{key}: {error}"));
    }
    let connectors = &status.connectors;
    if let Some((name, error)) = connectors.iter().find_map(|(n, r)| Some((n, r.error.as_ref()?))) {
        return (Readiness::False, Reason::Error, format!("{name}: {error}"));
    }
    let said = |name: &str, r: &Record| {
        format!("{name}: {}{}", r.state, r.tasks.as_ref().map(|t| format!(" ({t})")).unwrap_or_default())
    };
    let failed = |r: &&Record| r.state == ConnectorState::Failed || r.task_counts.contains_key(&ConnectorState::Failed);
    if let Some((name, r)) = connectors.iter().find(|(_, r)| failed(r)) {
        return (Readiness::False, Reason::Failed, said(name, r));
    }
    let targets: BTreeMap<&str, TargetState> = d.connectors().map(|c| (c.name.as_str(), c.state)).collect();
    if let Some((name, r)) = connectors.iter().find(|(n, r)| !as_declared(&d.state, targets.get(n.as_str()), r)) {
        return (Readiness::False, Reason::Progressing, said(name, r));
    }
    let n = connectors.len();
    (Readiness::True, Reason::AsDeclared, format!("{n} connector{} as declared", if n == 1 { "" } else { "s" }))
}

fn as_declared(state: &CmState, target: Option<&TargetState>, r: &Record) -> bool {
    let tasks_running = r.task_counts.keys().all(|s| *s == ConnectorState::Running);
    match (state, target) {
        (CmState::Remove | CmState::Deleted, _) => matches!(r.state, ConnectorState::Disabled | ConnectorState::Absent),
        (_, Some(TargetState::Running)) => r.state == ConnectorState::Running && tasks_running,
        (_, Some(TargetState::Paused)) => r.state == ConnectorState::Paused,
        (_, Some(TargetState::Stopped)) => r.state == ConnectorState::Stopped,
        (_, None) => true,
    }
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
        task_counts: live.map(Status::task_counts).unwrap_or_default(),
        applied_at: before.and_then(|r| r.applied_at.clone()),
        ..Record::default()
    }
}

fn record(run: &Run, d: &Declared, step: &Step, result: &StepResult, key: &str, before: Option<&Record>) -> Record {
    let live = run.live.status.get(&step.connector);
    let mut record = Record {
        restarts: before.map_or(0, |r| r.restarts),
        last_restart_at: before.and_then(|r| r.last_restart_at.clone()),
        renamed: before.and_then(|r| r.renamed.clone()),
        ..observed(run, &step.connector, key, before)
    };
    // The count of automatic restarts starts again once it runs healthy.
    if live.is_some_and(|s| !s.has_failed()) {
        (record.restarts, record.last_restart_at) = (0, None);
    }
    // Read after the writes: what Connect says now beats what the writes imply.
    let settled = run.settled.contains(&step.connector);
    for done in result.done() {
        match (done, &step.action) {
            // A new connector, made or taken over under its new name, in the state it was created in.
            (Done::Applied(Applied::Created), Action::Create(c))
            | (Done::Renamed(_), Action::Rename(Rename { connector: c, .. })) => {
                if !settled {
                    record.state =
                        if c.state == TargetState::Running { ConnectorState::Pending } else { c.state.initial_state() };
                    (record.tasks, record.task_counts) = (None, BTreeMap::new());
                }
                record.applied_at = Some(run.now.clone());
                if let (Done::Renamed(carried), Action::Rename(rename)) = (done, &step.action) {
                    let partitions = match carried {
                        Carried::Partitions(n) => *n,
                        Carried::KeptOwn => 0,
                    };
                    record.renamed = Some(Renamed { from: rename.from.clone(), partitions });
                }
            }
            (Done::Applied(_), _) => {
                if live.is_none() {
                    record.state = ConnectorState::Pending;
                }
                record.applied_at = Some(run.now.clone());
            }
            (Done::Moved(state), _) if !settled => record.state = state.initial_state(),
            (Done::Restarted(why), _) => {
                record.state = ConnectorState::Restarting;
                if let Why::Failed(n) = why {
                    (record.restarts, record.last_restart_at) = (*n, Some(run.now.clone()));
                }
            }
            (Done::Moved(_) | Done::Removed(_) | Done::Offsets(_) | Done::Renamed(_), _) => {}
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
            .rendered
            .templates
            .iter()
            .find(|(k, _)| k == key_of(step))
            .and_then(|(_, r)| r.as_ref().ok())
            .map(|c| digest(key, &c.config)),
        _ => before.and_then(|r| r.digest.clone()),
    };
    if d.state == CmState::Remove && matches!(step.action, Action::Delete { .. } | Action::Absent) {
        (record.state, record.tasks, record.task_counts) = (ConnectorState::Disabled, None, BTreeMap::new());
    }
    record
}

/// When Connect does not answer: for each ConfigMap of `cluster` the run
/// acts on whose status does not say so yet, its status as last written
/// with `Ready` `Unknown` (`ConnectUnreachable`), so that no stale `RUNNING`
/// is read as current; and [`status::UNREACHABLE_SINCE`], whose change makes
/// shell-operator run the hook again. (shell-operator drops what a failed run
/// writes, and retries only failed runs: this run succeeds to say it, and the
/// next one, finding the status said, fails and is retried.)
#[must_use]
pub fn unreachable(declared: &[Declared], cluster: &str, message: &str, now: &str) -> Vec<Operation> {
    let said = |d: &&Declared| d.recorded.status.ready.as_ref().is_some_and(|c| c.reason == Reason::ConnectUnreachable);
    let stale =
        declared.iter().filter(|d| d.role == Role::Acting && d.cluster == cluster && d.state != CmState::Deleted);
    stale
        .filter(|d| !said(d))
        .map(|d| {
            let mut status = d.recorded.status.clone();
            let ready =
                condition(now, &d.recorded.status, Readiness::Unknown, Reason::ConnectUnreachable, message.to_string());
            status.ready = Some(ready);
            // Names, source and version stay as written: this run rendered nothing into Connect.
            let kept = [status::STATUS, status::SUMMARY, status::READY, status::REASON];
            let annotations =
                status.annotations(&d.recorded.names, "").into_iter().filter(|(k, _)| kept.contains(&k.as_str()));
            let mut values: serde_json::Map<String, Value> = annotations.map(|(k, v)| (k, Value::from(v))).collect();
            values.insert(status::UNREACHABLE_SINCE.into(), Value::from(now));
            Operation::annotate(&d.id, values)
        })
        .collect()
}
