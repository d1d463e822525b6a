//! The plan's values: steps, their actions and follow-ups, and problems;
//! and how each is said in logs and plans.

use std::fmt;

use crate::model::configmap::CmId;
use crate::model::connector::{Connector, TargetState};

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub problems: Vec<Problem>,
    /// Connectors whose live config masks values, compared without them
    /// because no digest key is set: a change to a masked value goes unseen.
    pub masked_unverified: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// The ConfigMap and key that declare it.
    pub origin: Origin,
    /// The connector's name.
    pub connector: String,
    /// The write it needs, if any.
    pub action: Action,
    /// Sent after the action, in order, by the same worker.
    pub after: Vec<After>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    /// Move the connector to its declared state (pause, resume or stop).
    SetState(TargetState),
    /// Restart the connector and its tasks.
    Restart(Why),
}

#[derive(Debug, Clone)]
pub enum Action {
    Create(Connector),
    /// `changed`: the keys added, changed or removed.
    Update {
        connector: Connector,
        changed: Vec<String>,
    },
    Unchanged,
    Delete {
        reason: &'static str,
    },
    /// Wanted gone and already gone: no request.
    Absent,
    /// Its ConfigMap is gone or disabled, but another ConfigMap declares it.
    Kept {
        by: Origin,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    pub configmap: CmId,
    pub key: Option<String>,
}

/// A permanent error, reported and not retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub origin: Origin,
    pub connector: Option<String>,
    pub message: String,
}

impl Plan {
    /// How many steps send anything.
    pub fn writes(&self) -> usize {
        self.steps.iter().filter(|s| s.sends()).count()
    }
}

impl Step {
    pub fn sends(&self) -> bool {
        matches!(self.action, Action::Create(_) | Action::Update { .. } | Action::Delete { .. })
            || !self.after.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The restart annotation was set to this value.
    Requested(String),
    /// The connector or a task failed; this is automatic attempt N.
    Failed(u32),
    /// The connector or a task failed, and `apply --restart-failed` asked for it.
    Asked,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "ConfigMap {} key {key}", self.configmap),
            None => write!(f, "ConfigMap {}", self.configmap),
        }
    }
}

impl fmt::Display for After {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            After::SetState(state) => write!(f, "make it {state}"),
            After::Restart(Why::Requested(value)) => write!(f, "restart it as requested ({value})"),
            After::Restart(Why::Failed(n)) => write!(f, "restart it and its failed tasks (attempt {n})"),
            After::Restart(Why::Asked) => write!(f, "restart it and its failed tasks (--restart-failed)"),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.action_text(f)?;
        for after in &self.after {
            write!(f, ", then {after}")?;
        }
        Ok(())
    }
}

impl Step {
    fn action_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, origin) = (&self.connector, &self.origin);
        match &self.action {
            Action::Create(_) => write!(f, "create connector {name} ({origin})"),
            Action::Update { changed, .. } => {
                write!(f, "update connector {name} ({origin}): changed {}", changed.join(", "))
            }
            Action::Unchanged => write!(f, "connector {name} is unchanged ({origin})"),
            Action::Delete { reason } => write!(f, "delete connector {name} ({origin}: {reason})"),
            Action::Absent => write!(f, "connector {name} is already absent ({origin})"),
            Action::Kept { by } => write!(f, "keep connector {name}: {origin} is gone but {by} declares it"),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}
