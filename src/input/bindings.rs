//! shell-operator binding contexts: the JSON array in `BINDING_CONTEXT_PATH`,
//! reduced to what the run must do.
//!
//! shell-operator merges queued events of a hook into one run, so the array
//! can hold any mix of Synchronization, Event, Schedule and Group contexts.
//! Each is handled, in order; the last word about a ConfigMap wins.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context, Result};
use log::debug;
use serde_json::Value;

use crate::input::{files, STATE_BINDING};
use crate::model::configmap::{CmId, ConfigMap};

/// The last thing a run heard about one ConfigMap.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// Added, Modified, or in a snapshot.
    Present(ConfigMap),
    /// Deleted: its last state.
    Deleted(ConfigMap),
}

impl Seen {
    /// The ConfigMap, present or deleted.
    #[must_use]
    pub fn configmap(&self) -> &ConfigMap {
        match self {
            Seen::Present(cm) | Seen::Deleted(cm) => cm,
        }
    }
}

/// What one run works on.
#[derive(Debug, Default)]
pub struct Work {
    /// ConfigMaps that events, objects or snapshots told about, last word first.
    pub seen: BTreeMap<CmId, Seen>,
    /// ConfigMaps to reconcile. A full run (Synchronization, Schedule, Group)
    /// reconciles every ConfigMap in `seen`.
    pub touched: BTreeSet<CmId>,
    /// Objects that could not be read, with the reason.
    pub problems: Vec<String>,
    /// Whether some context asked for a full reconcile.
    pub full: bool,
    /// ConfigMaps named by an Event context (not only by a resync).
    pub evented: BTreeSet<CmId>,
    /// The operator's own state ConfigMap, from the `state` snapshot.
    pub state: Option<ConfigMap>,
}

/// Reads and parses the binding context file at `path`.
pub fn read(path: &std::path::Path) -> Result<Work> {
    let text = files::read_capped(path, files::BINDING_CONTEXT_MAX, "the binding context file")?;
    parse_text(&text).with_context(|| format!("the binding context file {}", path.display()))
}

/// The binding contexts of a file's text.
pub fn parse_text(text: &str) -> Result<Work> {
    let contexts: Value = serde_json::from_str(text).context("not JSON")?;
    parse(&contexts)
}

/// Reduces parsed binding contexts to the work of one run.
pub fn parse(contexts: &Value) -> Result<Work> {
    let Some(contexts) = contexts.as_array() else {
        bail!("the binding context must be a JSON array");
    };
    let mut work = Work::default();
    for (i, context) in contexts.iter().enumerate() {
        handle(&mut work, i, context);
    }
    if work.full {
        work.touched.extend(work.seen.keys().cloned());
    }
    Ok(work)
}

fn handle(work: &mut Work, i: usize, context: &Value) {
    let binding = context.get("binding").and_then(Value::as_str).unwrap_or("?");
    let kind = context.get("type").and_then(Value::as_str);
    // Snapshots are taken when the run starts, so they are the newest view;
    // an event in the same context is older and only marks what to act on.
    if let Some(snapshots) = context.get("snapshots").and_then(Value::as_object) {
        for (name, items) in snapshots {
            if name == STATE_BINDING {
                let first = items.as_array().and_then(|i| i.first()).and_then(|i| i.get("object"));
                work.state = first.and_then(|o| ConfigMap::from_json(o).ok());
                continue;
            }
            for cm in objects(work, items, &format!("context {i} ({binding}) snapshot")) {
                work.seen.insert(cm.id.clone(), Seen::Present(cm));
            }
        }
    }
    match kind {
        Some("Synchronization") => {
            let listed =
                objects(work, context.get("objects").unwrap_or(&Value::Null), &format!("context {i} ({binding})"));
            for cm in listed {
                work.touched.insert(cm.id.clone());
                work.seen.insert(cm.id.clone(), Seen::Present(cm));
            }
            work.full = true;
        }
        Some("Event") => {
            let event = context.get("watchEvent").and_then(Value::as_str).unwrap_or("");
            let Some(object) = context.get("object").filter(|o| !o.is_null()) else {
                work.problems.push(format!("context {i} ({binding}): {event} event without an object"));
                return;
            };
            match (event, ConfigMap::from_json(object)) {
                (_, Err(e)) => work.problems.push(format!("context {i} ({binding}): {event} event: {e:#}")),
                ("Added" | "Modified", Ok(cm)) if !cm.is_selected() => {
                    debug!("context {i} ({binding}): {} is not labelled destination=connect; ignored", cm.id);
                }
                ("Added" | "Modified", Ok(cm)) => {
                    work.evented.insert(cm.id.clone());
                    work.touched.insert(cm.id.clone());
                    work.seen.insert(cm.id.clone(), Seen::Present(cm));
                }
                ("Deleted", Ok(cm)) => {
                    work.evented.insert(cm.id.clone());
                    work.touched.insert(cm.id.clone());
                    work.seen.insert(cm.id.clone(), Seen::Deleted(cm));
                }
                (other, Ok(cm)) => {
                    work.problems.push(format!("context {i} ({binding}): unknown watchEvent {other:?} for {}", cm.id));
                }
            }
        }
        Some("Schedule" | "Group") => work.full = true,
        _ => debug!("binding context {i} ({binding}, type {kind:?}): nothing to do"),
    }
}

fn objects(work: &mut Work, items: &Value, place: &str) -> Vec<ConfigMap> {
    let mut found = Vec::new();
    for (n, item) in items.as_array().into_iter().flatten().enumerate() {
        let Some(object) = item.get("object") else {
            work.problems
                .push(format!("{place} item {n}: no `object` (keepFullObjectsInMemory must stay true for this hook)"));
            continue;
        };
        match ConfigMap::from_json(object) {
            Ok(cm) if cm.is_selected() => found.push(cm),
            Ok(cm) => debug!("{place}: {} is not labelled destination=connect; ignored", cm.id),
            Err(e) => work.problems.push(format!("{place} item {n}: {e:#}")),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(name: &str, data: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "ns", "labels": {"destination": "connect"}},
               "data": {"k": data}})
    }

    fn event(kind: &str, object: Value) -> Value {
        json!({"binding": "connectors", "type": "Event", "watchEvent": kind, "object": object, "filterResult": {}})
    }

    fn id(name: &str) -> CmId {
        CmId { namespace: Some("ns".into()), name: name.into() }
    }

    #[test]
    fn every_context_is_handled_and_the_last_state_wins() {
        let work = parse(&json!([
            event("Added", cm("a", "1")),
            event("Modified", cm("a", "2")),
            event("Added", cm("b", "1")),
            event("Deleted", cm("b", "1")),
        ]))
        .unwrap();
        assert_eq!(work.touched, BTreeSet::from([id("a"), id("b")]));
        match &work.seen[&id("a")] {
            Seen::Present(c) => assert_eq!(c.data["k"], "2"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(work.seen[&id("b")], Seen::Deleted(_)));
    }

    #[test]
    fn synchronization_and_schedule_touch_everything() {
        let work = parse(&json!([
            {"binding": "connectors", "type": "Synchronization", "objects": [{"object": cm("a", "1"), "filterResult": {}}]},
        ]))
        .unwrap();
        assert_eq!(work.touched, BTreeSet::from([id("a")]));

        let work = parse(&json!([
            {"binding": "onStartup"},
            event("Added", cm("a", "1")),
            {"binding": "resync", "type": "Schedule", "snapshots": {"connectors": [{"object": cm("a", "1")}, {"object": cm("c", "1")}]}},
        ]))
        .unwrap();
        assert_eq!(work.touched, BTreeSet::from([id("a"), id("c")]));
    }

    #[test]
    fn snapshots_are_seen_but_not_touched_by_an_event() {
        let work = parse(&json!([{
            "binding": "connectors", "type": "Event", "watchEvent": "Added", "object": cm("a", "1"),
            "snapshots": {"connectors": [{"object": cm("a", "1")}, {"object": cm("z", "1")}]}
        }]))
        .unwrap();
        assert_eq!(work.touched, BTreeSet::from([id("a")]));
        assert_eq!(work.seen.len(), 2);
    }

    #[test]
    fn broken_objects_are_problems_not_failures() {
        let work = parse(&json!([
            event("Added", json!({"kind": "ConfigMap", "metadata": {}})),
            {"binding": "connectors", "type": "Event", "watchEvent": "Added", "object": null, "filterResult": ""},
            {"binding": "connectors", "type": "Synchronization", "objects": [{}]},
            event("Added", cm("ok", "1")),
        ]))
        .unwrap();
        assert_eq!(work.problems.len(), 3, "{:?}", work.problems);
        assert_eq!(work.touched, BTreeSet::from([id("ok")]));
    }

    #[test]
    fn reference_examples_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shell-operator");
        let entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .collect();
        assert_eq!(entries.len(), 8, "the eight examples of shell-operator's docs");
        for entry in entries {
            // The examples watch Pods: no ConfigMap is selected, and the Pods
            // are reported, but every shape must parse.
            let work = read(&entry.path()).unwrap();
            assert!(work.touched.is_empty(), "{:?}", entry.path());
            assert!(work.problems.iter().all(|p| p.contains("a Pod, not a ConfigMap")), "{:?}", work.problems);
        }
    }

    #[test]
    fn not_an_array_is_an_error() {
        assert!(parse(&json!({"binding": "x"})).is_err());
    }
}
