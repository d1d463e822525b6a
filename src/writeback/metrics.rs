//! Metrics through shell-operator: gauges of the cluster as read this run,
//! and of what this run did.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::connect::Removed;
use crate::desired::CmState;
use crate::execute::{Done, StepResult};
use crate::model::configmap::CmId;
use crate::model::live::{ConnectorState, Live};
use crate::plan::Action;
use crate::writeback::run::Run;

/// The group of the series of what a run did: each run replaces the
/// previous run's series, and stale ones expire.
const METRIC_GROUP: &str = "connect_operator";

/// The group of one cluster's connectors and tasks by state: a run that read
/// only the connectors it acts on leaves out the group, so the series stay as
/// the last read of the whole cluster set them.
fn state_group(cluster: &str) -> String {
    format!("{METRIC_GROUP}_state_{cluster}")
}

/// Gauges of the cluster as read this run, and of what this run did.
#[must_use]
pub fn gauges(run: &Run, changed: &BTreeSet<&CmId>) -> Vec<Value> {
    let mut metrics = if run.live.only_wanted { Vec::new() } else { by_state(run.live, run.cluster) };
    let mut set = |name: &str, value: usize| {
        let labels = json!({"cluster": run.cluster});
        metrics.push(json!({"name": name, "group": METRIC_GROUP, "action": "set", "value": value, "labels": labels}));
    };
    let done = |f: fn(&Done) -> bool| run.results.iter().flat_map(StepResult::done).filter(|d| f(d)).count();
    set("connect_operator_run_applied", done(|d| matches!(d, Done::Applied(_))));
    set("connect_operator_run_deleted", done(|d| matches!(d, Done::Removed(Removed::Deleted))));
    set("connect_operator_run_restarted", done(|d| matches!(d, Done::Restarted(_))));
    set("connect_operator_run_state_changes", done(|d| matches!(d, Done::Moved(_))));
    let failed = run.results.iter().filter(|r| matches!(r, StepResult::Failed { .. })).count();
    set("connect_operator_run_failed", failed + run.plan.problems.len());
    let template_errors = run.declared.iter().flat_map(|d| &d.templates).filter(|(_, r)| r.is_err()).count();
    set("connect_operator_template_errors", template_errors);
    set("connect_operator_drift_repaired", drift_repaired(run));
    metrics.extend(per_connector(run, changed));
    metrics
}

/// One series per connector a ConfigMap declares, in a group per
/// ConfigMap. A group stays in shell-operator until written again, so it is
/// written only when the ConfigMap's status changed (the series say what
/// the status says) and when shell-operator has just started; a deleted
/// ConfigMap's expire. Only declared connectors, so the count of series is
/// bounded by the ConfigMaps, whatever else the cluster runs.
fn per_connector(run: &Run, changed: &BTreeSet<&CmId>) -> Vec<Value> {
    let mut metrics = Vec::new();
    let acted = run.declared.iter().filter(|d| d.act && d.cluster == run.cluster);
    for d in acted.filter(|d| run.synchronization || d.state == CmState::Deleted || changed.contains(&d.id)) {
        let group = format!("{METRIC_GROUP}_configmap_{}", d.id);
        if d.state == CmState::Deleted {
            metrics.push(json!({"group": group, "action": "expire"}));
            continue;
        }
        let namespace = d.id.namespace.clone().unwrap_or_else(|| "default".into());
        for name in d.names() {
            let status = run.live.status.get(&name);
            let state = match (&d.state, status) {
                (CmState::Remove, None) => ConnectorState::Disabled,
                (_, Some(s)) => s.connector.state,
                (_, None) if d.templates.iter().any(|(_, r)| r.is_err()) => ConnectorState::Error,
                (_, None) => ConnectorState::Absent,
            };
            let failed_tasks =
                status.map_or(0, |s| s.tasks.iter().filter(|t| t.state == ConnectorState::Failed).count());
            let (configmap, cluster) = (&d.id.name, run.cluster);
            let labels = json!({"namespace": namespace, "configmap": configmap, "connector": name, "cluster": cluster});
            let with_state = json!({"namespace": namespace, "configmap": configmap, "connector": name, "cluster": cluster,
                "state": state});
            let series = [
                ("connect_operator_connector_state", with_state, 1),
                ("connect_operator_connector_failed_tasks", labels, failed_tasks),
            ];
            for (metric, labels, value) in series {
                metrics
                    .push(json!({"name": metric, "group": group, "action": "set", "value": value, "labels": labels}));
            }
        }
    }
    metrics
}

/// Connectors and tasks of the cluster by state, in the cluster's own group.
fn by_state(live: &Live, cluster: &str) -> Vec<Value> {
    let mut connectors: BTreeMap<ConnectorState, usize> = BTreeMap::new();
    let mut tasks: BTreeMap<ConnectorState, usize> = BTreeMap::new();
    for s in live.status.values() {
        *connectors.entry(s.connector.state).or_default() += 1;
        for t in &s.tasks {
            *tasks.entry(t.state).or_default() += 1;
        }
    }
    let group = state_group(cluster);
    let mut metrics = Vec::new();
    for (name, counts) in [("connect_operator_connectors", connectors), ("connect_operator_tasks", tasks)] {
        for (state, n) in counts {
            let labels = json!({"state": state, "cluster": cluster});
            metrics.push(json!({"name": name, "group": group, "action": "set", "value": n, "labels": labels}));
        }
    }
    metrics
}

/// Writes of a full resync to connectors this hook had applied before and
/// whose ConfigMap no event touched: someone changed or deleted them
/// through the REST API.
fn drift_repaired(run: &Run) -> usize {
    if !run.full {
        return 0;
    }
    let by_id: BTreeMap<_, _> = run.declared.iter().map(|d| (&d.id, d)).collect();
    run.plan
        .steps
        .iter()
        .zip(run.results)
        .filter(|(step, result)| {
            let d = by_id.get(&step.origin.configmap);
            matches!(step.action, Action::Create(_) | Action::Update { .. })
                && matches!(result, StepResult::Done(_))
                && d.is_some_and(|d| {
                    !d.evented && d.previous.connectors.get(&step.connector).is_some_and(|r| r.applied_at.is_some())
                })
        })
        .count()
}
