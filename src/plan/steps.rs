//! The plan's values: steps, their actions and follow-ups, and problems;
//! and how each is said in logs and plans.

use std::fmt;

use crate::model::configmap::CmId;
use crate::model::connector::{Connector, TargetState};
use crate::model::requests::{OffsetsAction, OffsetsChange};

#[derive(Debug, Clone, Default)]
/// What to do to one cluster's connectors: a value to print, test and carry out.
pub struct Plan {
    /// One per connector the run looks at.
    pub steps: Vec<Step>,
    /// Declarations that cannot be carried out.
    pub problems: Vec<Problem>,
    /// Connectors whose live config masks values, compared without them
    /// because no digest key is set: a change to a masked value goes unseen.
    pub masked_unverified: Vec<String>,
}

#[derive(Debug, Clone)]
/// What to do to one connector.
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
/// A request sent after a step's action.
pub enum After {
    /// Move the connector to its declared state (pause, resume or stop).
    SetState(TargetState),
    /// Restart the connector and its tasks.
    Restart(Why),
    /// What the offsets annotation asks: a change around a stop (then the
    /// declared state, given here), or a listing.
    Offsets(OffsetsAction, TargetState),
}

#[derive(Debug, Clone)]
/// The write a connector needs, if any.
pub enum Action {
    /// Create it with this config.
    Create(Connector),
    /// `changed`: the keys added, changed or removed.
    Update {
        /// The connector as declared.
        connector: Connector,
        /// The keys added, changed or removed.
        changed: Vec<String>,
    },
    /// Its config is as declared.
    Unchanged,
    /// Delete it.
    Delete {
        /// Why, in words for the log.
        reason: &'static str,
    },
    /// Wanted gone and already gone: no request.
    Absent,
    /// Its ConfigMap is gone or disabled, but another ConfigMap declares it.
    Kept {
        /// The declaration that keeps it.
        by: Origin,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
/// Where a connector is declared: a ConfigMap, and the data key of its template.
pub struct Origin {
    /// The ConfigMap.
    pub configmap: CmId,
    /// The data key; none for what a ConfigMap's labels or record cause.
    pub key: Option<String>,
}

/// A permanent error, reported and not retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where it comes from.
    pub origin: Origin,
    /// The connector it is about, if one.
    pub connector: Option<String>,
    /// What is wrong, not yet scrubbed.
    pub message: String,
}

impl Plan {
    /// How many steps send anything.
    #[must_use]
    pub fn writes(&self) -> usize {
        self.steps.iter().filter(|s| s.sends()).count()
    }
}

impl Step {
    /// Whether it sends any request.
    #[must_use]
    pub fn sends(&self) -> bool {
        self.writes() || !self.after.is_empty()
    }

    /// Whether its action writes a config or deletes.
    fn writes(&self) -> bool {
        matches!(self.action, Action::Create(_) | Action::Update { .. } | Action::Delete { .. })
    }

    /// The follow-up that failed when `done` requests had succeeded before
    /// the failure; `None` when the action itself failed.
    #[must_use]
    pub fn failed_after(&self, done: usize) -> Option<&After> {
        self.after.get(done.checked_sub(usize::from(self.writes()))?)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// Why a connector is restarted.
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
            After::Offsets(OffsetsAction::Change(OffsetsChange::Reset), _) => {
                write!(f, "reset its offsets as requested")
            }
            After::Offsets(OffsetsAction::Change(OffsetsChange::Alter(_)), _) => {
                write!(f, "alter its offsets as requested")
            }
            After::Offsets(OffsetsAction::List, _) => write!(f, "list its offsets as requested"),
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
