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
    /// The brake on mass deletion, when it holds this plan's deletes.
    pub brake: Option<Brake>,
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
    /// No longer declared (its ConfigMap deleted, or its key removed), and
    /// left running as the deletion policy `retain` says: no request, and
    /// the operator no longer owns it.
    Retain {
        /// Why it would otherwise be deleted, in words for the log.
        reason: &'static str,
    },
    /// A delete the brake holds (see [`crate::plan::brake`]): no request.
    Held {
        /// Why it would be deleted, in words for the log.
        reason: &'static str,
    },
    /// Take over the connector the template says it was renamed from,
    /// with its offsets (see [`crate::connect::rename`]).
    Rename(Rename),
}

#[derive(Debug, Clone)]
/// A connector declared under a new name whose old name still runs.
pub struct Rename {
    /// The name it had.
    pub from: String,
    /// The connector as declared under its new name.
    pub connector: Connector,
    /// How far the move has come, as the live state shows it.
    pub stage: Stage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// How far a rename has come.
pub enum Stage {
    /// The new name does not exist yet.
    Begin,
    /// Both names exist: a move cut short, or a new name that ran on its
    /// own; `changed`: the keys of its config that differ from the declared.
    Finish {
        /// The keys added, changed or removed.
        changed: Vec<String>,
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

    /// The connectors whose delete the brake holds.
    pub fn held(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter(|s| matches!(s.action, Action::Held { .. })).map(|s| s.connector.as_str())
    }
}

/// Why a plan's deletes were held: how many it has, and the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Brake {
    /// The deletes the plan would send.
    pub deletes: usize,
    /// The limit they exceed.
    pub limit: usize,
}

impl fmt::Display for Brake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "this run would delete {} connectors at once, more than the delete limit of {}, so it deletes none of \
             them; to let them through, raise DELETE_LIMIT (`apply --delete-limit`), set it to 0 to turn the brake \
             off, or delete in smaller steps",
            self.deletes, self.limit
        )
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
        matches!(self.action, Action::Create(_) | Action::Update { .. } | Action::Delete { .. } | Action::Rename(_))
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
            Action::Retain { reason } => write!(
                f,
                "leave connector {name} running ({origin}: {reason}; deletion policy retain): no longer owned by \
                 connect-operator, so PRUNE=owned never deletes it"
            ),
            Action::Held { reason } => {
                write!(f, "hold the delete of connector {name} ({origin}: {reason}): too many deletes at once")
            }
            Action::Rename(Rename { from, stage: Stage::Begin, .. }) => {
                write!(f, "rename connector {from} -> {name} ({origin}): offsets carried")
            }
            Action::Rename(Rename { from, stage: Stage::Finish { changed }, .. }) => {
                write!(
                    f,
                    "finish renaming connector {from} -> {name} ({origin}): offsets carried unless {name} has its own"
                )?;
                if !changed.is_empty() {
                    write!(f, "; changed {}", changed.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}
