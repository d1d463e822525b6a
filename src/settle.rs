//! After the writes, follow every connector they touched until it and all
//! its tasks are in the declared state: `apply --wait` (the step GitOps
//! pipelines otherwise write in shell around `curl .../status`), and the
//! hook, so the status it writes says RUNNING rather than PENDING.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use crate::connect::api::READ_EACH_MAX;
use crate::connect::{Caller, Client};
use crate::deadline::from_now;
use crate::execute::StepResult;
use crate::model::connector::TargetState;
use crate::model::live::{ConnectorState, Live, Status};
use crate::plan::{Action, After, Plan};
use crate::redact::Scrubber;

/// Between two reads of the cluster's state, when a person waits on a
/// terminal (`apply --wait`), which reads the whole cluster.
const POLL: Duration = Duration::from_secs(1);
/// The same for the hook, which reads only what it changed: shell-operator
/// holds its queue while the hook runs, so it looks again sooner.
const HOOK_POLL: Duration = Duration::from_millis(200);

/// Where a followed connector stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Standing {
    /// Not there yet; why, for the message if time runs out.
    Pending(String),
    /// Running with no tasks, seen once: a connector may have none, but
    /// right after a create its tasks are not started yet.
    NoTasksYet,
    /// In its declared state, every task too.
    Arrived,
    /// FAILED: it will not get there by waiting.
    Failed(String),
}

/// The connectors a plan's writes touched that must reach a state: created,
/// updated, moved, and (when a person waits) restarted ones; not deleted ones.
#[must_use]
pub fn followed(plan: &Plan, results: &[StepResult], caller: Caller) -> BTreeMap<String, TargetState> {
    let mut followed = BTreeMap::new();
    for (step, result) in plan.steps.iter().zip(results) {
        if result.done().is_empty() {
            continue;
        }
        let state = match &step.action {
            Action::Create(c) | Action::Update { connector: c, .. } => Some(c.state),
            Action::Rename(rename) => Some(rename.connector.state),
            Action::Delete { .. }
            | Action::Absent
            | Action::Kept { .. }
            | Action::Retain { .. }
            | Action::Held { .. } => None,
            Action::Unchanged => step
                .after
                .iter()
                .filter_map(|a| match a {
                    After::SetState(state) => Some(*state),
                    After::Restart(_) => (caller == Caller::Terminal).then_some(TargetState::Running),
                    After::Offsets(_, declared) => Some(*declared),
                })
                .next_back(),
        };
        if let Some(state) = state {
            followed.insert(step.connector.clone(), state);
        }
    }
    followed
}

fn standing(status: Option<&Status>, want: TargetState, before: Option<&Standing>) -> Standing {
    let Some(status) = status else { return Standing::Pending("no status yet".into()) };
    let failed = std::iter::once(("connector".to_string(), &status.connector))
        .chain(status.tasks.iter().enumerate().map(|(i, t)| (format!("task {i}"), t)))
        .find(|(_, u)| u.state == ConnectorState::Failed);
    if let Some((what, unit)) = failed {
        return Standing::Failed(format!("{what} FAILED: {}", unit.reason().unwrap_or("(no trace)")));
    }
    let wanted = want.initial_state();
    if status.connector.state != wanted {
        return Standing::Pending(format!("it is {}, want {wanted}", status.connector.state));
    }
    if let Some(task) = status.tasks.iter().find(|t| t.state != wanted) {
        return Standing::Pending(format!("a task is {}, want {wanted}", task.state));
    }
    match (want, status.tasks.is_empty(), before) {
        (TargetState::Running, true, Some(Standing::NoTasksYet)) | (TargetState::Stopped, true, _) => Standing::Arrived,
        (TargetState::Running, true, _) => Standing::NoTasksYet,
        (TargetState::Stopped, false, _) => Standing::Pending("its tasks are not shut down yet".into()),
        _ => Standing::Arrived,
    }
}

/// What following found: a line per connector that did not get there, and
/// the last state read of those followed.
#[derive(Debug, Default)]
pub struct Settled {
    /// One line per connector that did not get there.
    pub not_there: Vec<String>,
    /// The last state read.
    pub live: Option<Live>,
}

/// Follows `followed` on one cluster until each arrives or `timeout` runs
/// out, saying how many arrived on stderr when a person waits.
pub fn wait(
    client: &Client,
    cluster: &str,
    followed: &BTreeMap<String, TargetState>,
    timeout: Duration,
    scrubber: &Scrubber,
    caller: Caller,
) -> Settled {
    let (say, poll) = match caller {
        Caller::Terminal => (true, POLL),
        Caller::Hook => (false, HOOK_POLL),
    };
    let deadline = from_now(timeout);
    let terminal = say && std::io::stderr().is_terminal();
    let mut standings: BTreeMap<&String, Standing> = BTreeMap::new();
    let mut said = if say { usize::MAX } else { 0 };
    let mut last = None;
    let names: BTreeSet<String> = followed.keys().cloned().collect();
    loop {
        let read =
            if names.len() <= READ_EACH_MAX { client.read_each(&names) } else { client.read_live(&BTreeSet::new()) };
        match read {
            Ok(live) => {
                for (name, want) in followed {
                    let next = standing(live.status.get(name), *want, standings.get(name));
                    standings.insert(name, next);
                }
                last = Some(live);
            }
            Err(f) => log::warn!("cannot read the state of cluster {cluster}: {}", f.scrubbed(scrubber)),
        }
        let arrived = standings.values().filter(|s| **s == Standing::Arrived).count();
        let settled = standings.values().filter(|s| matches!(s, Standing::Arrived | Standing::Failed(_))).count();
        if terminal {
            eprint!("\rwaiting for cluster {cluster}: {arrived}/{} connectors as declared", followed.len());
        } else if say && arrived != said {
            eprintln!("waiting for cluster {cluster}: {arrived}/{} connectors as declared", followed.len());
            said = arrived;
        }
        if settled == followed.len() || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(poll);
    }
    if terminal {
        eprintln!();
    }
    let limit = humantime::format_duration(timeout);
    let not_there = followed
        .iter()
        .filter_map(|(name, want)| match standings.get(name) {
            Some(Standing::Arrived) => None,
            Some(Standing::Failed(why)) => Some(format!("connector {name} (cluster {cluster}): {why}")),
            Some(Standing::Pending(why)) => Some(format!(
                "connector {name} (cluster {cluster}) is not {} after {limit}: {why}",
                want.initial_state()
            )),
            Some(Standing::NoTasksYet) | None => Some(format!(
                "connector {name} (cluster {cluster}) is not {} after {limit}: no task started",
                want.initial_state()
            )),
        })
        .collect();
    Settled { not_there, live: last }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectorState::{Failed, Paused, Running, Stopped, Unassigned};

    #[test]
    fn a_connector_arrives_when_it_and_every_task_are_in_the_declared_state() {
        let run = TargetState::Running;
        assert_eq!(standing(Some(&Status::of(Running, &[Running, Running])), run, None), Standing::Arrived);
        assert!(matches!(standing(Some(&Status::of(Running, &[Unassigned])), run, None), Standing::Pending(_)));
        assert!(matches!(standing(None, run, None), Standing::Pending(_)));
        assert!(matches!(standing(Some(&Status::of(Running, &[Failed])), run, None), Standing::Failed(_)));
        // No tasks: arrived only when seen twice.
        let once = standing(Some(&Status::of(Running, &[])), run, None);
        assert_eq!(once, Standing::NoTasksYet);
        assert_eq!(standing(Some(&Status::of(Running, &[])), run, Some(&once)), Standing::Arrived);
        assert_eq!(standing(Some(&Status::of(Stopped, &[])), TargetState::Stopped, None), Standing::Arrived);
        assert!(matches!(
            standing(Some(&Status::of(Stopped, &[Running])), TargetState::Stopped, None),
            Standing::Pending(_)
        ));
        assert_eq!(standing(Some(&Status::of(Paused, &[Paused])), TargetState::Paused, None), Standing::Arrived);
    }
}
