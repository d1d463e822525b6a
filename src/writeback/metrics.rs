//! Metrics through shell-operator: gauges of the cluster as read this run,
//! and of what this run did.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::connect::Removed;
use crate::execute::{Done, StepResult};
use crate::model::live::ConnectorState;
use crate::plan::Action;
use crate::writeback::run::Run;

/// Every metric series shares this group, so a run replaces the series of
/// the previous one and stale ones expire.
const METRIC_GROUP: &str = "connect_operator";

/// Gauges of the cluster as read this run, and of what this run did.
#[must_use]
pub fn gauges(run: &Run) -> Vec<Value> {
    let mut metrics = Vec::new();
    let mut set = |name: &str, value: usize, state: Option<ConnectorState>| {
        let labels = match state {
            Some(state) => json!({"state": state, "cluster": run.cluster}),
            None => json!({"cluster": run.cluster}),
        };
        metrics.push(json!({"name": name, "group": METRIC_GROUP, "action": "set", "value": value, "labels": labels}));
    };
    let mut connectors: BTreeMap<ConnectorState, usize> = BTreeMap::new();
    let mut tasks: BTreeMap<ConnectorState, usize> = BTreeMap::new();
    for s in run.live.status.values() {
        *connectors.entry(s.connector.state).or_default() += 1;
        for t in &s.tasks {
            *tasks.entry(t.state).or_default() += 1;
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
