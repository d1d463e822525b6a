//! The end of a run: what shell-operator writes back for the hook. Status
//! annotations and Kubernetes Events go to the ConfigMaps through
//! `KUBERNETES_PATCH_PATH`; metrics go through `METRICS_PATH`. The hook
//! itself needs no Kubernetes client and no credentials.
//!
//! shell-operator applies these files only when the hook exits 0, so a run
//! left with transient errors reports nothing and the next run reports all.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::bindings::Work;
use crate::configmap::{CmId, ConfigMap};
use crate::connect::{Applied, Live, Removed};
use crate::connector::TargetState;
use crate::plan::{Action, CmState, Declared, Plan, Problem, Step, Why};
use crate::reconcile::{Done, Options, StepResult};
use crate::status::{self, CmStatus, Record};

/// Every metric series shares this group, so a run replaces the series of
/// the previous one and stale ones expire.
const METRIC_GROUP: &str = "connect_operator";

/// Everything a run knows at its end.
pub struct Run<'a> {
    pub work: &'a Work,
    pub declared: &'a [Declared],
    pub plan: &'a Plan,
    pub results: &'a [StepResult],
    pub live: &'a Live,
    /// RFC 3339, the time written as `appliedAt` and on Events.
    pub now: String,
    pub options: &'a Options,
    /// The cluster this part of the run is about (a label on the metrics).
    pub cluster: &'a str,
}

/// The operations and metrics of one run, as shell-operator reads them.
#[derive(Debug, Default)]
pub struct Output {
    pub patches: Vec<Value>,
    pub metrics: Vec<Value>,
}

impl Output {
    /// Writes each non-empty list to the file named by its variable, one JSON
    /// object per line; nothing when the variable is unset (outside shell-operator).
    pub fn write(&self) -> Result<()> {
        for (variable, lines) in [("KUBERNETES_PATCH_PATH", &self.patches), ("METRICS_PATH", &self.metrics)] {
            let Some(path) = std::env::var_os(variable) else { continue };
            if lines.is_empty() {
                continue;
            }
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .with_context(|| format!("cannot open {variable} {}", path.to_string_lossy()))?;
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            file.write_all(text.as_bytes()).with_context(|| format!("cannot write {variable}"))?;
        }
        Ok(())
    }
}

/// The steps and problems of one ConfigMap.
#[derive(Default)]
struct Its<'a> {
    steps: Vec<(&'a Step, &'a StepResult)>,
    problems: Vec<&'a Problem>,
}

pub fn output(run: &Run) -> Output {
    // Indexed once: a resync reports on every ConfigMap.
    let mut by_configmap: BTreeMap<&CmId, Its> = BTreeMap::new();
    for (step, result) in run.plan.steps.iter().zip(run.results) {
        by_configmap.entry(&step.origin.configmap).or_default().steps.push((step, result));
    }
    for problem in &run.plan.problems {
        by_configmap.entry(&problem.origin.configmap).or_default().problems.push(problem);
    }
    let none = Its::default();
    let mut out = Output::default();
    for d in run.declared.iter().filter(|d| d.act) {
        let Some(cm) = run.work.seen.get(&d.id).map(|s| s.configmap()) else { continue };
        let its = by_configmap.get(&d.id).unwrap_or(&none);
        let previous = CmStatus::recorded(&cm.annotations);
        events(run, its, cm, &previous, &mut out.patches);
        if d.state != CmState::Deleted {
            let (status, names) = configmap_status(run, d, its, &previous);
            let annotations = status.annotations(&names);
            if !status::up_to_date(&cm.annotations, &annotations) {
                out.patches.push(merge_annotations(&cm.id, &annotations));
            }
        }
    }
    out.metrics = metrics(run);
    out
}

/// The status of one ConfigMap after this run, and the names to record.
fn configmap_status(run: &Run, d: &Declared, its: &Its, previous: &CmStatus) -> (CmStatus, BTreeSet<String>) {
    // A request is handled by the run that sees it: its restarts were sent
    // (a transient failure fails the run, and nothing is recorded).
    let restart_handled = d.restart_request.clone().or_else(|| previous.restart_handled.clone());
    let mut status = CmStatus { restart_handled, ..CmStatus::default() };
    let mut names = d.names();
    if d.templates.iter().any(|(_, r)| r.is_err()) {
        // A failing template may still declare a recorded name: keep them all.
        names.extend(d.recorded.iter().cloned());
    }
    for &(step, result) in &its.steps {
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
    for problem in &its.problems {
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
        state: live.map_or("ABSENT".into(), |s| s.connector.state.clone()),
        tasks: live.and_then(status::tasks_summary),
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
    if live.is_some_and(|s| !status::has_failed(s)) {
        (record.restarts, record.last_restart_at) = (0, None);
    }
    for done in result.done() {
        match (done, &step.action) {
            (Done::Applied(Applied::Created), Action::Create(c)) => {
                record.state =
                    if c.state == TargetState::Running { "PENDING".into() } else { c.state.initial_state().into() };
                record.tasks = None;
                record.applied_at = Some(run.now.clone());
            }
            (Done::Applied(_), _) => {
                if live.is_none() {
                    record.state = "PENDING".into();
                }
                record.applied_at = Some(run.now.clone());
            }
            (Done::Moved(state), _) => record.state = state.initial_state().into(),
            (Done::Restarted(why), _) => {
                record.state = "RESTARTING".into();
                if let Why::Failed(n) = why {
                    (record.restarts, record.last_restart_at) = (*n, Some(run.now.clone()));
                }
            }
            (Done::Removed(_), _) => {}
        }
    }
    if let StepResult::Failed { message, .. } = result {
        record.error = Some(brief(message));
    }
    // The digest of what Connect now runs: the config just applied, or
    // (unchanged) the declared one; a failed write keeps the old digest.
    let applied = result.done().iter().any(|d| matches!(d, Done::Applied(_)));
    record.digest = match (run.options.digest_key.as_deref(), &step.action) {
        (Some(key), Action::Create(c) | Action::Update { connector: c, .. }) if applied => {
            Some(crate::plan::digest(key, &c.config))
        }
        (Some(key), Action::Unchanged) => d
            .templates
            .iter()
            .find(|(k, _)| k == key_of(step))
            .and_then(|(_, r)| r.as_ref().ok())
            .map(|c| crate::plan::digest(key, &c.config)),
        _ => before.and_then(|r| r.digest.clone()),
    };
    if d.state == CmState::Remove && matches!(step.action, Action::Delete { .. } | Action::Absent) {
        (record.state, record.tasks) = ("DISABLED".into(), None);
    }
    record
}

/// Events for what changed. Failures are said once, when they differ from
/// the error already recorded, so a connector failing every run does not
/// flood the namespace; successes carry the time, so each is its own Event.
fn events(run: &Run, its: &Its, cm: &ConfigMap, previous: &CmStatus, patches: &mut Vec<Value>) {
    let mut emit = |kind: &str, reason: &str, message: String, once: bool| {
        patches.push(event(cm, kind, reason, &message, &run.now, once));
    };
    for &(step, result) in &its.steps {
        let name = &step.connector;
        let before = previous.connectors.get(name);
        for done in result.done() {
            let (kind, reason, message) = match (done, &step.action) {
                (Done::Applied(Applied::Created), _) => {
                    ("Normal", "ConnectorCreated", format!("created connector {name}"))
                }
                (Done::Applied(_), Action::Update { changed, .. }) => {
                    ("Normal", "ConnectorUpdated", format!("updated connector {name}: changed {}", changed.join(", ")))
                }
                (Done::Removed(Removed::Deleted), Action::Delete { reason }) => {
                    ("Normal", "ConnectorDeleted", format!("deleted connector {name}: {reason}"))
                }
                (Done::Moved(state), _) => {
                    let reason = match state {
                        TargetState::Running => "ConnectorResumed",
                        TargetState::Paused => "ConnectorPaused",
                        TargetState::Stopped => "ConnectorStopped",
                    };
                    ("Normal", reason, format!("connector {name} is now {state}"))
                }
                (Done::Restarted(Why::Requested(value)), _) => (
                    "Normal",
                    "ConnectorRestarted",
                    format!("restarted connector {name} and its tasks as requested (restart={value})"),
                ),
                (Done::Restarted(Why::Failed(n)), _) => (
                    "Normal",
                    "ConnectorRestarted",
                    format!(
                        "restarted connector {name} and its failed tasks (automatic attempt {n} of {})",
                        run.options.restarts.max()
                    ),
                ),
                (Done::Restarted(Why::Asked), _) => (
                    "Normal",
                    "ConnectorRestarted",
                    format!("restarted connector {name} and its failed tasks (--restart-failed)"),
                ),
                _ => continue,
            };
            emit(kind, reason, message, false);
        }
        if let StepResult::Failed { permanent: true, message, .. } = result {
            if before.and_then(|r| r.error.as_deref()) != Some(brief(message).as_str()) {
                emit("Warning", "ApplyFailed", format!("failed to apply connector {name}: {message}"), true);
            }
        }
        let Some(live) = run.live.status.get(name).filter(|s| status::has_failed(s)) else { continue };
        let was_failed =
            before.is_some_and(|r| r.state == "FAILED" || r.tasks.as_ref().is_some_and(|t| t.contains("FAILED")));
        if !was_failed {
            let tasks = status::tasks_summary(live).map(|t| format!(", {t}")).unwrap_or_default();
            emit("Warning", "TaskFailed", format!("connector {name} is {}{tasks}", live.connector.state), true);
        }
        let attempts = before.map_or(0, |r| r.restarts);
        let max = run.options.restarts.max();
        if max > 0 && attempts >= max {
            let message = format!(
                "connector {name} still fails after {attempts} automatic restarts; no more until it runs healthy \
                 (restart it with the connect-operator.io/restart annotation)"
            );
            emit("Warning", "RestartsExhausted", message, true);
        }
    }
    for problem in &its.problems {
        let recorded = match (&problem.connector, &problem.origin.key) {
            (Some(name), _) => previous.connectors.get(name).and_then(|r| r.error.as_ref()),
            (None, Some(key)) => previous.errors.get(key),
            (None, None) => previous.errors.get("labels"),
        };
        if recorded.map(String::as_str) != Some(brief(&problem.message).as_str()) {
            let reason = if problem.connector.is_some() { "DuplicateConnector" } else { "TemplateFailed" };
            emit("Warning", reason, problem.to_string(), true);
        }
    }
}

/// A core/v1 Event about the ConfigMap, created through shell-operator. Its
/// name is a digest of what it says (and, unless `once`, when), and it is
/// created only if absent: a repeat within the Event's lifetime is a no-op.
fn event(cm: &ConfigMap, kind: &str, reason: &str, message: &str, now: &str, once: bool) -> Value {
    let stamp = if once { "" } else { now };
    let digest = fnv1a(&[&cm.id.to_string(), reason, message, stamp]);
    // Event names are DNS subdomains (253 characters at most).
    let prefix: String = cm.id.name.chars().take(200).collect();
    let namespace = cm.id.namespace.clone().unwrap_or_else(|| "default".into());
    let mut involved = serde_json::Map::new();
    for (key, value) in [("apiVersion", "v1"), ("kind", "ConfigMap"), ("name", &cm.id.name), ("namespace", &namespace)]
    {
        involved.insert(key.into(), json!(value));
    }
    if let Some(uid) = &cm.uid {
        involved.insert("uid".into(), json!(uid));
    }
    json!({
        "operation": "CreateIfNotExists",
        "object": {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": format!("{prefix}.{digest:016x}"), "namespace": namespace},
            "involvedObject": involved,
            "type": kind,
            "reason": reason,
            "message": brief(message),
            "source": {"component": "connect-operator"},
            "reportingComponent": "connect-operator",
            "reportingInstance": std::env::var("HOSTNAME").unwrap_or_else(|_| "connect-operator".into()),
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
    })
}

fn merge_annotations(id: &CmId, annotations: &BTreeMap<String, String>) -> Value {
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

/// An error as recorded and said: Connect's "available connectors are: ..."
/// lists every plugin, and annotations share a 256 KiB budget.
fn brief(message: &str) -> String {
    match message.char_indices().nth(1024) {
        Some((i, _)) => format!("{}…", &message[..i]),
        None => message.to_string(),
    }
}

/// Stable across runs and versions, unlike `std`'s hasher.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf29ce484222325;
    for byte in parts.iter().flat_map(|p| p.bytes().chain([0])) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    hash
}

/// Gauges of the cluster as read this run, and of what this run did.
fn metrics(run: &Run) -> Vec<Value> {
    let mut metrics = Vec::new();
    let mut set = |name: &str, value: usize, state: Option<&str>| {
        let labels = match state {
            Some(state) => json!({"state": state, "cluster": run.cluster}),
            None => json!({"cluster": run.cluster}),
        };
        metrics.push(json!({"name": name, "group": METRIC_GROUP, "action": "set", "value": value, "labels": labels}));
    };
    let mut connectors: BTreeMap<&str, usize> = BTreeMap::new();
    let mut tasks: BTreeMap<&str, usize> = BTreeMap::new();
    for s in run.live.status.values() {
        *connectors.entry(&s.connector.state).or_default() += 1;
        for t in &s.tasks {
            *tasks.entry(&t.state).or_default() += 1;
        }
    }
    for (state, n) in connectors {
        set("connect_operator_connectors", n, Some(state));
    }
    for (state, n) in tasks {
        set("connect_operator_tasks", n, Some(state));
    }
    let done = |f: fn(&Done) -> bool| run.results.iter().flat_map(StepResult::done).filter(|d| f(d)).count();
    set("connect_operator_run_applied", done(|d| matches!(d, Done::Applied(_))), None);
    set("connect_operator_run_deleted", done(|d| matches!(d, Done::Removed(Removed::Deleted))), None);
    set("connect_operator_run_restarted", done(|d| matches!(d, Done::Restarted(_))), None);
    set("connect_operator_run_state_changes", done(|d| matches!(d, Done::Moved(_))), None);
    let failed = run.results.iter().filter(|r| matches!(r, StepResult::Failed { .. })).count();
    set("connect_operator_run_failed", failed + run.plan.problems.len(), None);
    let template_errors = run.declared.iter().flat_map(|d| &d.templates).filter(|(_, r)| r.is_err()).count();
    set("connect_operator_template_errors", template_errors, None);
    set("connect_operator_drift_repaired", drift_repaired(run), None);
    metrics
}

/// Writes of a full resync to connectors this hook had applied before and
/// whose ConfigMap no event touched: someone changed or deleted them
/// through the REST API.
fn drift_repaired(run: &Run) -> usize {
    if !run.work.full {
        return 0;
    }
    run.plan
        .steps
        .iter()
        .zip(run.results)
        .filter(|(step, result)| {
            matches!(step.action, Action::Create(_) | Action::Update { .. })
                && matches!(result, StepResult::Done(_))
                && !run.work.evented.contains(&step.origin.configmap)
                && run.work.seen.get(&step.origin.configmap).is_some_and(|seen| {
                    CmStatus::recorded(&seen.configmap().annotations)
                        .connectors
                        .get(&step.connector)
                        .is_some_and(|r| r.applied_at.is_some())
                })
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_cut_the_same_way_everywhere() {
        let long = "x".repeat(5000);
        assert_eq!(brief(&long).chars().count(), 1025);
        assert_eq!(brief(&brief(&long)), brief(&long), "a recorded error compares equal to a new one");
        assert_eq!(brief("short"), "short");
    }

    #[test]
    fn digests_are_stable() {
        assert_eq!(fnv1a(&["a", "b"]), fnv1a(&["a", "b"]));
        assert_ne!(fnv1a(&["ab", ""]), fnv1a(&["a", "b"]));
        assert_eq!(fnv1a(&[]), 0xcbf29ce484222325);
    }
}
