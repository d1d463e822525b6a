//! Metrics through shell-operator: gauges of the cluster as read this run,
//! and of what this run did.

use std::collections::{BTreeMap, BTreeSet};

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::connect::Removed;
use crate::desired::{CmState, Role};
use crate::execute::{Done, StepResult};
use crate::model::configmap::CmId;
use crate::model::live::{ConnectorState, Live};
use crate::model::scope::Scope;
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

/// One operation on shell-operator's metric storage: a line of METRICS_PATH.
/// Typed rather than built as JSON values: a Synchronization writes two per
/// declared connector, and each `json!` map cost more than the line it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricOp {
    /// `{"name", "group", "action": "set", "value", "labels"}`.
    Set {
        /// The metric.
        name: &'static str,
        /// Its group, which a later `expire` or a later run's set replaces.
        group: String,
        /// The value.
        value: usize,
        /// Label names and values, in this order.
        labels: Vec<(&'static str, String)>,
    },
    /// `{"group", "action": "expire"}`: the group's series go.
    Expire {
        /// The group.
        group: String,
    },
}

impl Serialize for MetricOp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            MetricOp::Set { name, group, value, labels } => {
                let mut map = serializer.serialize_map(Some(5))?;
                map.serialize_entry("name", name)?;
                map.serialize_entry("group", group)?;
                map.serialize_entry("action", "set")?;
                map.serialize_entry("value", value)?;
                map.serialize_entry("labels", &Labels(labels))?;
                map.end()
            }
            MetricOp::Expire { group } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("group", group)?;
                map.serialize_entry("action", "expire")?;
                map.end()
            }
        }
    }
}

struct Labels<'a>(&'a [(&'static str, String)]);

impl Serialize for Labels<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

fn set(name: &'static str, group: &str, value: usize, labels: Vec<(&'static str, String)>) -> MetricOp {
    MetricOp::Set { name, group: group.to_string(), value, labels }
}

/// Gauges of the cluster as read this run, and of what this run did.
#[must_use]
pub fn gauges(run: &Run, changed: &BTreeSet<&CmId>) -> Vec<MetricOp> {
    let mut metrics = if run.live.only_wanted { Vec::new() } else { by_state(run.live, run.cluster) };
    let mut set = |name: &'static str, value: usize| {
        metrics.push(set(name, METRIC_GROUP, value, vec![("cluster", run.cluster.to_string())]));
    };
    let done = |f: fn(&Done) -> bool| run.results.iter().flat_map(StepResult::done).filter(|d| f(d)).count();
    set("connect_operator_run_applied", done(|d| matches!(d, Done::Applied(_))));
    set("connect_operator_run_deleted", done(|d| matches!(d, Done::Removed(Removed::Deleted))));
    set("connect_operator_run_restarted", done(|d| matches!(d, Done::Restarted(_))));
    set("connect_operator_run_state_changes", done(|d| matches!(d, Done::Moved(_))));
    set("connect_operator_run_renamed", done(|d| matches!(d, Done::Renamed(_))));
    let failed = run.results.iter().filter(|r| matches!(r, StepResult::Failed { .. })).count();
    set("connect_operator_run_failed", failed + run.plan.problems.len());
    let template_errors = run.declared.iter().flat_map(|d| &d.rendered.templates).filter(|(_, r)| r.is_err()).count();
    set("connect_operator_template_errors", template_errors);
    set("connect_operator_drift_repaired", drift_repaired(run));
    set("connect_operator_deletes_held", run.plan.held().count());
    metrics.extend(per_connector(run, changed));
    metrics
}

/// One series per connector a ConfigMap declares, in a group per
/// ConfigMap. A group stays in shell-operator until written again, so it is
/// written only when the ConfigMap's status changed (the series say what
/// the status says) and when shell-operator has just started; a deleted
/// ConfigMap's expire. Only declared connectors, so the count of series is
/// bounded by the ConfigMaps, whatever else the cluster runs.
fn per_connector(run: &Run, changed: &BTreeSet<&CmId>) -> Vec<MetricOp> {
    let mut metrics = Vec::new();
    let acted = run.declared.iter().filter(|d| d.role == Role::Acting && d.cluster == run.cluster);
    for d in acted.filter(|d| run.synchronization || d.state == CmState::Deleted || changed.contains(&d.id)) {
        let group = format!("{METRIC_GROUP}_configmap_{}", d.id);
        if d.state == CmState::Deleted {
            metrics.push(MetricOp::Expire { group });
            continue;
        }
        let namespace = d.id.namespace.clone().unwrap_or_else(|| "default".into());
        for name in d.names() {
            let status = run.live.status.get(&name);
            let state = match (&d.state, status) {
                (CmState::Remove, None) => ConnectorState::Disabled,
                (_, Some(s)) => s.connector.state,
                (_, None) if d.rendered.templates.iter().any(|(_, r)| r.is_err()) => ConnectorState::Error,
                (_, None) => ConnectorState::Absent,
            };
            let failed_tasks =
                status.map_or(0, |s| s.tasks.iter().filter(|t| t.state == ConnectorState::Failed).count());
            let labels = vec![
                ("namespace", namespace.clone()),
                ("configmap", d.id.name.clone()),
                ("connector", name),
                ("cluster", run.cluster.to_string()),
            ];
            let mut with_state = labels.clone();
            with_state.push(("state", state.to_string()));
            metrics.push(set("connect_operator_connector_state", &group, 1, with_state));
            metrics.push(set("connect_operator_connector_failed_tasks", &group, failed_tasks, labels));
        }
    }
    metrics
}

/// Connectors and tasks of the cluster by state, in the cluster's own group.
fn by_state(live: &Live, cluster: &str) -> Vec<MetricOp> {
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
            metrics.push(set(name, &group, n, vec![("state", state.to_string()), ("cluster", cluster.to_string())]));
        }
    }
    metrics
}

/// Writes of a full resync to connectors this hook had applied before and
/// whose ConfigMap no event touched: someone changed or deleted them
/// through the REST API.
fn drift_repaired(run: &Run) -> usize {
    if run.scope == Scope::Event {
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
                    !d.evented
                        && d.recorded.status.connectors.get(&step.connector).is_some_and(|r| r.applied_at.is_some())
                })
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_written_as_shell_operator_reads_them() {
        let op = set("m", "g", 2, vec![("cluster", "default".into()), ("state", "RUNNING".into())]);
        assert_eq!(
            serde_json::to_string(&op).unwrap(),
            r#"{"name":"m","group":"g","action":"set","value":2,"labels":{"cluster":"default","state":"RUNNING"}}"#
        );
        let op = MetricOp::Expire { group: "g".into() };
        assert_eq!(serde_json::to_string(&op).unwrap(), r#"{"group":"g","action":"expire"}"#);
    }
}
