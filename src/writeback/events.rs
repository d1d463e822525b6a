//! Kubernetes Events about ConfigMaps, created through shell-operator:
//! Normal ones for what changed, Warnings for failures.

use log::warn;
use serde_json::json;

use crate::connect::{Applied, Removed};
use crate::desired::Declared;
use crate::execute::{Done, OffsetsDone, StepResult};
use crate::model::connector::TargetState;
use crate::plan::{Action, After, Problem, Step};
use crate::writeback::operations::Operation;
use crate::writeback::run::{brief, Run};

/// How often the same Event may be created.
#[derive(Clone, Copy)]
enum Repeat {
    /// Each is its own Event: what changed, with its time.
    Each,
    /// At most once an hour while it lasts: a failure. The API server
    /// forgets Events after an hour (`--event-ttl`), so `kubectl describe`
    /// always shows why, and a connector failing every run never floods the
    /// namespace.
    Hourly,
    /// Once for each version of what the ConfigMap declares: advice about
    /// its templates, which only an edit changes.
    PerVersion,
}

/// Events for what changed, and Warnings for what still fails.
pub fn said(run: &Run, d: &Declared, steps: &[(&Step, &StepResult)], problems: &[&Problem], out: &mut Vec<Operation>) {
    let mut emit = |kind: &str, reason: &str, message: String, repeat: Repeat| {
        out.push(event(d, kind, reason, &message, &run.now, repeat));
    };
    let max = run.policy.restarts.max();
    for &(step, result) in steps {
        let name = &step.connector;
        let before = d.recorded.status.connectors.get(name);
        if let Some((kind, reason, message)) = unsent(run, step) {
            emit(kind, reason, message, if kind == "Normal" { Repeat::Each } else { Repeat::Hourly });
        }
        for done in result.done() {
            let reason = match (done, &step.action) {
                (Done::Applied(Applied::Created), _) => "ConnectorCreated",
                (Done::Applied(_), Action::Update { .. }) => "ConnectorUpdated",
                (Done::Removed(Removed::Deleted), Action::Delete { .. }) => "ConnectorDeleted",
                (Done::Moved(TargetState::Running), _) => "ConnectorResumed",
                (Done::Moved(TargetState::Paused), _) => "ConnectorPaused",
                (Done::Moved(TargetState::Stopped), _) => "ConnectorStopped",
                (Done::Restarted(_), _) => "ConnectorRestarted",
                (Done::Offsets(OffsetsDone::Reset), _) => "OffsetsReset",
                (Done::Offsets(OffsetsDone::Altered), _) => "OffsetsAltered",
                (Done::Offsets(OffsetsDone::Listed(_)), _) => "OffsetsListed",
                (Done::Renamed(_), _) => "ConnectorRenamed",
                _ => continue,
            };
            emit("Normal", reason, crate::execute::said(step, done, None, max), Repeat::Each);
        }
        if let StepResult::Failed { permanent: true, message, done } = result {
            // What failed: the write, or (after it) the offsets request.
            let offsets = matches!(step.failed_after(done.len()), Some(After::Offsets(..)));
            let (reason, what) = match &step.action {
                _ if offsets => ("OffsetsFailed", format!("change the offsets of connector {name}")),
                Action::Rename(rename) => ("RenameFailed", format!("rename connector {} -> {name}", rename.from)),
                _ => ("ApplyFailed", format!("apply connector {name}")),
            };
            emit("Warning", reason, format!("failed to {what}: {message}"), Repeat::Hourly);
        }
        let Some(live) = run.live.status.get(name).filter(|s| s.has_failed()) else { continue };
        let tasks = live.tasks_summary().map(|t| format!(", {t}")).unwrap_or_default();
        emit("Warning", "TaskFailed", format!("connector {name} is {}{tasks}", live.connector.state), Repeat::Hourly);
        let attempts = before.map_or(0, |r| r.restarts);
        if max > 0 && attempts >= max {
            let message = format!(
                "connector {name} still fails after {attempts} automatic restarts; no more until it runs healthy \
                 (restart it with the connect-operator.io/restart annotation)"
            );
            emit("Warning", "RestartsExhausted", message, Repeat::Hourly);
        }
    }
    for problem in problems {
        let reason = if problem.connector.is_some() { "DuplicateConnector" } else { "TemplateFailed" };
        emit("Warning", reason, problem.to_string(), Repeat::Hourly);
    }
    if let Some(message) = literal_secrets(d) {
        warn!("ConfigMap {}: {message}", d.id);
        emit("Warning", "LiteralSecret", message, Repeat::PerVersion);
    }
}

/// The Event of a step that sends nothing but says something: a connector
/// retained, a delete held by the brake.
fn unsent(run: &Run, step: &Step) -> Option<(&'static str, &'static str, String)> {
    let name = &step.connector;
    match step.action {
        Action::Retain { reason } => Some((
            "Normal",
            "ConnectorRetained",
            format!(
                "connector {name} left running: {reason}, and the deletion policy is retain; connect-operator no \
                 longer owns it, so PRUNE=owned never deletes it (delete it with the REST API when it is no longer wanted)"
            ),
        )),
        Action::Held { reason } => {
            let brake = run.plan.brake.map(|b| b.to_string()).unwrap_or_default();
            Some(("Warning", "DeletesHeld", format!("connector {name} not deleted ({reason}): {brake}")))
        }
        _ => None,
    }
}

/// What its templates write out as literal secrets, by connector and key
/// (never the values); `None` when none. Known only where the templates
/// were rendered, which every edit makes them.
fn literal_secrets(d: &Declared) -> Option<String> {
    let found: Vec<String> = (d.rendered.templates.iter())
        .filter_map(|(key, rendered)| Some((key, rendered.as_ref().ok()?)))
        .flat_map(|(key, c)| c.literal_secrets.iter().map(move |k| format!("{k} of connector {} ({key})", c.name)))
        .collect();
    (!found.is_empty()).then(|| {
        format!(
            "secrets written as literals in the template, so in the ConfigMap and in Git: {}; take them from {}",
            found.join(", "),
            crate::redact::SECRET_SOURCES
        )
    })
}

/// A core/v1 Event about the ConfigMap, created through shell-operator. Its
/// name is a digest of what it says and when (to the second, or to the hour
/// for a failure), and it is created only if absent: a repeat within that
/// time is a no-op.
fn event(d: &Declared, kind: &str, reason: &str, message: &str, now: &str, repeat: Repeat) -> Operation {
    // RFC 3339: `2026-12-02T01` is the hour.
    let stamp = match repeat {
        Repeat::Each => now,
        Repeat::Hourly => now.get(..13).unwrap_or(now),
        Repeat::PerVersion => &d.rendered.source,
    };
    let digest = fnv1a(&[&d.id.to_string(), reason, message, stamp]);
    // Event names are DNS subdomains (253 characters at most).
    let prefix: String = d.id.name.chars().take(200).collect();
    let namespace = d.id.namespace.clone().unwrap_or_else(|| "default".into());
    let mut involved = serde_json::Map::new();
    for (key, value) in [("apiVersion", "v1"), ("kind", "ConfigMap"), ("name", &d.id.name), ("namespace", &namespace)] {
        involved.insert(key.into(), json!(value));
    }
    if let Some(uid) = &d.object.uid {
        involved.insert("uid".into(), json!(uid));
    }
    Operation::CreateIfNotExists {
        object: json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": format!("{prefix}.{digest:016x}"), "namespace": namespace},
            "involvedObject": involved,
            "type": kind,
            "reason": reason,
            "message": brief(message),
            "source": {"component": "connect-operator"},
            "reportingComponent": "connect-operator",
            "reportingInstance": std::env::var("HOSTNAME").unwrap_or_else(|_| "connect-operator".into()),
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }),
    }
}

/// Stable across runs and versions, unlike `std`'s hasher.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flat_map(|p| p.bytes().chain([0])) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_one_event_an_hour_and_a_change_one_event_each() {
        let d = Declared::default();
        let name = |now: &str, repeat| {
            serde_json::to_value(event(&d, "Warning", "TaskFailed", "x", now, repeat)).unwrap()["object"]["metadata"]
                ["name"]
                .clone()
        };
        let (early, late, next) = ("2026-12-02T01:05:00Z", "2026-12-02T01:55:00Z", "2026-12-02T02:00:10Z");
        assert_eq!(name(early, Repeat::Hourly), name(late, Repeat::Hourly), "the same failure within the hour");
        assert_ne!(name(late, Repeat::Hourly), name(next, Repeat::Hourly), "said again once the hour turns");
        assert_ne!(name(early, Repeat::Each), name(late, Repeat::Each));
    }

    #[test]
    fn digests_are_stable() {
        assert_eq!(fnv1a(&["a", "b"]), fnv1a(&["a", "b"]));
        assert_ne!(fnv1a(&["ab", ""]), fnv1a(&["a", "b"]));
        assert_eq!(fnv1a(&[]), 0xcbf2_9ce4_8422_2325);
    }
}
