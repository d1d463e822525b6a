//! What one cluster's part of a run knows at its end, for what is written back.

use std::collections::BTreeSet;

use crate::desired::Declared;
use crate::execute::StepResult;
use crate::model::live::Live;
use crate::model::scope::Scope;
use crate::plan::{Plan, Policy};

/// Everything a run knows at its end, for one cluster.
pub struct Run<'a> {
    /// The ConfigMaps of this cluster, rendered.
    pub declared: &'a [Declared],
    /// What was planned, and what became of each step.
    pub plan: &'a Plan,
    /// In the order of the plan's steps.
    pub results: &'a [StepResult],
    /// What Connect reported: before the writes, and after them for the
    /// connectors in `settled`.
    pub live: &'a Live,
    /// Connectors whose state in `live` was read after this run changed them.
    pub settled: &'a BTreeSet<String>,
    /// RFC 3339, the time written as `appliedAt` and on Events.
    pub now: String,
    /// How the run planned: the restart limit and the digest key.
    pub policy: &'a Policy,
    /// The cluster this part of the run is about (a label on the metrics).
    pub cluster: &'a str,
    /// Full when the run saw every ConfigMap (a resync), so drift can be told.
    pub scope: Scope,
    /// Whether shell-operator has just started (its metric storage is empty).
    pub synchronization: bool,
}

/// An error as recorded and said: Connect's "available connectors are: ..."
/// lists every plugin, and annotations share a 256 KiB budget.
#[must_use]
pub fn brief(message: &str) -> String {
    crate::text::truncate(message, 1024)
}
