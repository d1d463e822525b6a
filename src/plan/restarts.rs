//! Restarts: on request (the restart annotation), after a failure with
//! backoff (the hook), or at once (`apply --restart-failed`).

use std::time::{Duration, SystemTime};

use crate::desired::Declared;
use crate::model::connector::{Connector, TargetState};
use crate::model::live::Live;
use crate::plan::steps::{Action, After, Why};

/// Restarts of what Connect reports FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restarts {
    /// The hook's: with backoff, at most this many attempts (0: never). The
    /// command line's default is `Automatic(0)`: it restarts nothing unasked.
    Automatic(u32),
    /// `apply --restart-failed`: every failed connector, now.
    Now,
}

impl Restarts {
    /// The most automatic attempts; 0 when restarts are not automatic.
    #[must_use]
    pub fn max(self) -> u32 {
        match self {
            Restarts::Automatic(max) => max,
            Restarts::Now => 0,
        }
    }
}

/// What an applied connector needs besides its config: its declared state,
/// a requested restart, or an automatic restart after a failure.
#[must_use]
pub fn after(
    d: &Declared,
    connector: &Connector,
    action: &Action,
    live: &Live,
    (restarts, now): (Restarts, SystemTime),
) -> Vec<After> {
    let mut after = Vec::new();
    let Some(status) = live.status.get(&connector.name) else {
        // New, or no status yet: a create carries its state; the rest waits for the next run.
        return after;
    };
    if matches!(action, Action::Create(_)) {
        return after;
    }
    if TargetState::of_live(status.connector.state) != connector.state {
        after.push(After::SetState(connector.state));
    }
    let requested = d.requests.restart.as_ref().filter(|r| d.recorded.status.restart_handled.as_ref() != Some(*r));
    if let Some(request) = requested {
        after.push(After::Restart(Why::Requested(request.clone())));
    } else if connector.state == TargetState::Running && status.has_failed() {
        if restarts == Restarts::Now {
            after.push(After::Restart(Why::Asked));
            return after;
        }
        let record = d.recorded.status.connectors.get(&connector.name);
        let attempts = record.map_or(0, |r| r.restarts);
        let last = record.and_then(|r| r.last_restart_at.as_deref()).and_then(|t| humantime::parse_rfc3339(t).ok());
        // `last` comes from an annotation anyone may edit: no overflow on a date far off.
        let due = last.is_none_or(|last| last.checked_add(restart_backoff(attempts)).is_none_or(|at| now >= at));
        if attempts < restarts.max() && due {
            after.push(After::Restart(Why::Failed(attempts.saturating_add(1))));
        }
    }
    after
}

/// The wait after `attempts` automatic restarts before the next one: 2, 6,
/// 12, 20, 30, 42, 56 minutes, then an hour (as Strimzi does).
#[must_use]
pub fn restart_backoff(attempts: u32) -> Duration {
    let minutes = u64::from(attempts).saturating_mul(u64::from(attempts).saturating_add(1));
    Duration::from_secs(60 * minutes.min(60))
}
