//! What Kafka Connect runs now: the connectors on a cluster, their configs,
//! and the state of each connector and task.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// The state of a connector or task: Connect's own six, and the words the
/// operator uses for what Connect cannot report (`PENDING` right after a
/// create, `ABSENT`, `DISABLED`, `ERROR` for a declaration that is wrong).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ConnectorState {
    /// Not yet assigned to a worker.
    Unassigned,
    /// Running on a worker.
    Running,
    /// Assigned but not processing records.
    Paused,
    /// Shut down, its tasks too (Kafka 3.5+).
    Stopped,
    /// Failed; its trace says why.
    Failed,
    /// Being restarted.
    Restarting,
    /// Created by this run; Connect has not reported on it yet.
    Pending,
    /// Not on the cluster.
    Absent,
    /// Its ConfigMap says `enabled: "false"`, and it is gone.
    Disabled,
    /// The declaration is wrong: a template, label or cluster error.
    Error,
    /// On the cluster without a reported state, or a state this version
    /// does not know (a newer Connect's).
    #[default]
    #[serde(other)]
    Unknown,
}

impl ConnectorState {
    /// As Connect and the status annotation spell it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorState::Unassigned => "UNASSIGNED",
            ConnectorState::Running => "RUNNING",
            ConnectorState::Paused => "PAUSED",
            ConnectorState::Stopped => "STOPPED",
            ConnectorState::Failed => "FAILED",
            ConnectorState::Restarting => "RESTARTING",
            ConnectorState::Pending => "PENDING",
            ConnectorState::Absent => "ABSENT",
            ConnectorState::Disabled => "DISABLED",
            ConnectorState::Error => "ERROR",
            ConnectorState::Unknown => "UNKNOWN",
        }
    }
}

impl fmt::Display for ConnectorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What Connect runs now, for the connectors the run cares about.
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// Every connector name on the cluster; with `only_wanted`, those of the
    /// connectors asked for that exist.
    pub names: BTreeSet<String>,
    /// Stored config of each connector in `names` that was asked for (and of
    /// every connector when the server expands).
    pub configs: BTreeMap<String, BTreeMap<String, String>>,
    /// Connector and task states, where Connect reported them.
    pub status: BTreeMap<String, Status>,
    /// Read for the connectors asked for alone, not listed: nothing is known
    /// of the others (an event run does not prune, and sets no gauge of the
    /// whole cluster from it).
    pub only_wanted: bool,
}

/// A connector's state and its tasks', as `GET .../status` reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Status {
    /// The connector itself.
    pub connector: Unit,
    /// Its tasks, in order of their ids.
    #[serde(default)]
    pub tasks: Vec<Unit>,
}

/// The connector itself or one task: its state, the worker running it, and
/// the stack trace Connect keeps for a FAILED one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Unit {
    /// What Connect reports.
    pub state: ConnectorState,
    /// `host:port` of the worker running it.
    #[serde(default)]
    pub worker_id: Option<String>,
    /// The stack trace of a FAILED one.
    #[serde(default)]
    pub trace: Option<String>,
}

impl Unit {
    /// A unit in `state` on no particular worker.
    #[must_use]
    pub fn new(state: ConnectorState) -> Unit {
        Unit { state, ..Unit::default() }
    }

    /// The first line of the trace: the exception and its message.
    #[must_use]
    pub fn reason(&self) -> Option<&str> {
        self.trace.as_deref().and_then(|t| t.lines().map(str::trim).find(|l| !l.is_empty()))
    }
}

impl Status {
    /// A connector in `connector` with one task in each of `tasks`.
    #[cfg(test)]
    pub fn of(connector: ConnectorState, tasks: &[ConnectorState]) -> Status {
        Status { connector: Unit::new(connector), tasks: tasks.iter().map(|t| Unit::new(*t)).collect() }
    }

    /// Whether Connect reports the connector or one of its tasks as FAILED.
    #[must_use]
    pub fn has_failed(&self) -> bool {
        self.connector.state == ConnectorState::Failed || self.tasks.iter().any(|t| t.state == ConnectorState::Failed)
    }

    /// Its tasks by state.
    #[must_use]
    pub fn task_counts(&self) -> BTreeMap<ConnectorState, usize> {
        let mut counts = BTreeMap::new();
        for task in &self.tasks {
            *counts.entry(task.state).or_default() += 1;
        }
        counts
    }

    /// `2/3 tasks RUNNING, 1 FAILED`; `None` for a connector without tasks.
    #[must_use]
    pub fn tasks_summary(&self) -> Option<String> {
        if self.tasks.is_empty() {
            return None;
        }
        let mut counts = self.task_counts();
        let running = counts.remove(&ConnectorState::Running).unwrap_or(0);
        let mut text = format!("{running}/{} tasks RUNNING", self.tasks.len());
        for (state, n) in counts {
            text.push_str(&format!(", {n} {state}"));
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectorState::*;

    #[test]
    fn task_summaries() {
        assert_eq!(Status::of(Running, &[Running]).tasks_summary().as_deref(), Some("1/1 tasks RUNNING"));
        assert_eq!(
            Status::of(Running, &[Running, Failed, Running]).tasks_summary().as_deref(),
            Some("2/3 tasks RUNNING, 1 FAILED")
        );
        assert_eq!(Status::of(Stopped, &[]).tasks_summary(), None);
        assert!(Status::of(Running, &[Failed]).has_failed());
        assert!(!Status::of(Paused, &[Paused]).has_failed());
    }

    #[test]
    fn states_read_as_connect_spells_them() {
        let unit: Unit = serde_json::from_str(r#"{"state": "RUNNING", "worker_id": "w:8083"}"#).unwrap();
        assert_eq!(unit.state, Running);
        // A state a newer Connect may add is not an error.
        let unit: Unit = serde_json::from_str(r#"{"state": "HIBERNATING"}"#).unwrap();
        assert_eq!(unit.state, Unknown);
        assert_eq!(serde_json::to_string(&Restarting).unwrap(), r#""RESTARTING""#);
        assert_eq!(Unassigned.to_string(), "UNASSIGNED");
    }
}
