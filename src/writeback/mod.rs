//! The end of a run: what shell-operator writes back for the hook. Status
//! annotations and Kubernetes Events go to the ConfigMaps through
//! `KUBERNETES_PATCH_PATH`; metrics go through `METRICS_PATH`. The hook
//! itself needs no Kubernetes client and no credentials.
//!
//! shell-operator applies these files only when the hook exits 0, so a run
//! left with transient errors reports nothing and the next run reports all.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::desired::Role;
use crate::execute::StepResult;
use crate::model::configmap::CmId;
use crate::model::status;
use crate::plan::{Problem, Step};

pub mod annotations;
pub mod events;
pub mod metrics;
pub mod offsets;
pub mod operations;
pub mod ownership;
pub mod run;

pub use operations::Operation;
pub use run::Run;

/// The operations and metrics of one run, as shell-operator reads them.
#[derive(Debug, Default)]
pub struct Output {
    /// Operations for `KUBERNETES_PATCH_PATH`.
    pub patches: Vec<Operation>,
    /// Metric operations for `METRICS_PATH`.
    pub metrics: Vec<metrics::MetricOp>,
}

impl Output {
    /// Writes each non-empty list to the file named by its variable, one JSON
    /// object per line; nothing when the variable is unset (outside shell-operator).
    pub fn write(&self) -> Result<()> {
        append("KUBERNETES_PATCH_PATH", &self.patches)?;
        append("METRICS_PATH", &self.metrics)
    }
}

/// Appends `lines` to the file `variable` names, one JSON object a line.
fn append(variable: &str, lines: &[impl Serialize]) -> Result<()> {
    let Some(path) = std::env::var_os(variable) else { return Ok(()) };
    if lines.is_empty() {
        return Ok(());
    }
    let mut text = Vec::new();
    for line in lines {
        serde_json::to_writer(&mut text, line).with_context(|| format!("cannot write {variable}"))?;
        text.push(b'\n');
    }
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .with_context(|| format!("cannot open {variable} {}", path.to_string_lossy()))?;
    file.write_all(&text).with_context(|| format!("cannot write {variable}"))
}

/// The steps and problems of one ConfigMap.
#[derive(Default)]
struct Its<'a> {
    steps: Vec<(&'a Step, &'a StepResult)>,
    problems: Vec<&'a Problem>,
}

/// What to write back after one cluster's part of a run: for every
/// ConfigMap it reconciled, Events for what changed and its status
/// annotations when they changed; and the metrics.
#[must_use]
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
    let mut changed = std::collections::BTreeSet::new();
    for d in run.declared.iter().filter(|d| d.role == Role::Acting) {
        let its = by_configmap.get(&d.id).unwrap_or(&none);
        events::said(run, d, &its.steps, &its.problems, &mut out.patches);
        // One patch per ConfigMap: its status when it changed, and the end of
        // an unreachable spell.
        let mut annotations = Map::new();
        if d.state != crate::desired::CmState::Deleted {
            let (status, names) = annotations::status(run, d, &its.steps, &its.problems);
            let wanted = status.annotations(&names, &d.rendered.source);
            if !status::up_to_date(&d.recorded.annotations, &wanted) {
                annotations.extend(wanted.into_iter().map(|(k, v)| (k, Value::from(v))));
                changed.insert(&d.id);
            }
        }
        if d.recorded.flagged_unreachable {
            annotations.insert(status::UNREACHABLE_SINCE.into(), Value::Null);
        }
        if !annotations.is_empty() {
            out.patches.push(Operation::annotate(&d.id, annotations));
        }
    }
    out.patches.extend(offsets::listings(run));
    out.metrics = metrics::gauges(run, &changed);
    out
}
