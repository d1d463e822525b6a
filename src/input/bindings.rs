//! shell-operator binding contexts: the JSON array in `BINDING_CONTEXT_PATH`,
//! reduced to what the run must do.
//!
//! shell-operator merges queued events of a hook into one run, so the array
//! can hold any mix of Synchronization, Event, Schedule and Group contexts.
//! Each is handled, in order; the last word about a ConfigMap wins.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use anyhow::{Context as _, Result};
use log::debug;
use serde::Deserialize;
use serde_json::value::RawValue;

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

/// One binding context, as shell-operator writes it. The objects are kept
/// as their JSON text and read one by one, so a broken one is a problem of
/// its own and never stops the others.
#[derive(Deserialize)]
struct Context<'a> {
    #[serde(default)]
    binding: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, rename = "watchEvent")]
    watch_event: Option<String>,
    #[serde(default, borrow)]
    object: Option<&'a RawValue>,
    #[serde(default, borrow)]
    objects: Option<Vec<Item<'a>>>,
    #[serde(default, borrow)]
    snapshots: Option<BTreeMap<String, Vec<Item<'a>>>>,
}

/// An entry of `objects` or of a snapshot.
#[derive(Deserialize)]
struct Item<'a> {
    #[serde(default, borrow)]
    object: Option<&'a RawValue>,
}

/// Just the name of an object, to skip one that is read already.
#[derive(Deserialize)]
struct Named {
    metadata: NamedMetadata,
}

#[derive(Deserialize)]
struct NamedMetadata {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

/// The binding contexts of a file's text.
pub fn parse_text(text: &str) -> Result<Work> {
    let contexts: Vec<Context> =
        serde_json::from_str(text).context("not the JSON array of binding contexts shell-operator writes")?;
    let mut work = Work::default();
    for (i, context) in contexts.iter().enumerate() {
        handle(&mut work, i, context);
    }
    if work.full {
        work.touched.extend(work.seen.keys().cloned());
    }
    Ok(work)
}

fn handle(work: &mut Work, i: usize, context: &Context) {
    let binding = context.binding.as_deref().unwrap_or("?");
    let kind = context.kind.as_deref();
    // A Synchronization's objects are its binding's own snapshot, and win
    // over it: each is read once, from `objects`.
    let mut listed = Listed::default();
    if kind == Some("Synchronization") {
        let items = context.objects.as_deref().unwrap_or_default();
        listed.texts = items.iter().filter_map(|item| Some(item.object?.get())).collect();
        for cm in objects(work, items, &format!("context {i} ({binding})"), &Listed::default()) {
            listed.ids.insert(cm.id.clone());
            work.touched.insert(cm.id.clone());
            work.seen.insert(cm.id.clone(), Seen::Present(cm));
        }
        work.full = true;
    }
    // Snapshots are taken when the run starts, so they are the newest view;
    // an event in the same context is older and only marks what to act on.
    for (name, items) in context.snapshots.iter().flatten() {
        if name == STATE_BINDING {
            let first = items.first().and_then(|i| i.object);
            work.state = first.and_then(|o| ConfigMap::from_json_text(o.get()).ok());
            continue;
        }
        for cm in objects(work, items, &format!("context {i} ({binding}) snapshot"), &listed) {
            work.seen.insert(cm.id.clone(), Seen::Present(cm));
        }
    }
    match kind {
        Some("Synchronization") => {}
        Some("Event") => event(work, i, context),
        Some("Schedule" | "Group") => work.full = true,
        _ => debug!("binding context {i} ({binding}, type {kind:?}): nothing to do"),
    }
}

fn event(work: &mut Work, i: usize, context: &Context) {
    let binding = context.binding.as_deref().unwrap_or("?");
    let event = context.watch_event.as_deref().unwrap_or("");
    let Some(object) = context.object.filter(|o| o.get() != "null") else {
        work.problems.push(format!("context {i} ({binding}): {event} event without an object"));
        return;
    };
    match (event, ConfigMap::from_json_text(object.get())) {
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

/// The objects a Synchronization listed, which its snapshot repeats.
#[derive(Default)]
struct Listed<'a> {
    ids: BTreeSet<CmId>,
    /// Their JSON texts: a snapshot item with the same text is the same
    /// object, known without reading it again.
    texts: HashSet<&'a str>,
}

/// The selected ConfigMaps among `items`, except those `skip` listed; read
/// on every core, as a snapshot may hold thousands.
fn objects(work: &mut Work, items: &[Item], place: &str, skip: &Listed) -> Vec<ConfigMap> {
    let cpus = crate::parallel::cores();
    let read = crate::parallel::chunked(items, cpus, |item| {
        let object = item.object?;
        let listed = || serde_json::from_str::<Named>(object.get()).is_ok_and(|o| skip.ids.contains(&o.id()));
        if !skip.ids.is_empty() && (skip.texts.contains(object.get()) || listed()) {
            return Some(None);
        }
        Some(Some(ConfigMap::from_json_text(object.get())))
    });
    let mut found = Vec::new();
    for (n, read) in read.into_iter().enumerate() {
        match read {
            None => work
                .problems
                .push(format!("{place} item {n}: no `object` (keepFullObjectsInMemory must stay true for this hook)")),
            Some(None) => {}
            Some(Some(Ok(cm))) if cm.is_selected() => found.push(cm),
            Some(Some(Ok(cm))) => debug!("{place}: {} is not labelled destination=connect; ignored", cm.id),
            Some(Some(Err(e))) => work.problems.push(format!("{place} item {n}: {e:#}")),
        }
    }
    found
}

impl Named {
    fn id(self) -> CmId {
        CmId::new(self.metadata.namespace, self.metadata.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse(contexts: &Value) -> Result<Work> {
        parse_text(&contexts.to_string())
    }

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
