//! shell-operator binding contexts: the JSON array in `BINDING_CONTEXT_PATH`,
//! reduced to what the run must do.
//!
//! shell-operator merges queued events of a hook into one run, so the array
//! can hold any mix of Synchronization, Event, Schedule and Group contexts.
//! Each is handled, in order; the last word about a ConfigMap wins.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result};
use log::debug;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use crate::files;
use crate::input::STATE_BINDING;
use crate::model::configmap::{CmId, ConfigMap, Object};
use crate::model::scope::Scope;

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
    /// Full when some context asked for a full reconcile.
    pub scope: Scope,
    /// Whether a context was a Synchronization: shell-operator has just
    /// started, and its metric storage is empty.
    pub synchronization: bool,
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

/// One binding context, as shell-operator writes it. Objects are read as
/// ConfigMaps in the same pass as the text around them, each with its own
/// error ([`Object`]), so a broken one never stops the others.
#[derive(Default)]
struct Context {
    binding: Option<String>,
    kind: Option<String>,
    watch_event: Option<String>,
    object: Option<Object>,
    objects: Option<Vec<Item>>,
    snapshots: BTreeMap<String, Vec<Item>>,
}

/// An entry of `objects` or of a snapshot.
#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    object: Option<Object>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum ContextField {
    Binding,
    #[serde(rename = "type")]
    Kind,
    WatchEvent,
    Object,
    Objects,
    Snapshots,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Context {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ContextVisitor)
    }
}

struct ContextVisitor;

impl<'de> Visitor<'de> for ContextVisitor {
    type Value = Context;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a binding context object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Context, A::Error> {
        let mut context = Context::default();
        while let Some(field) = map.next_key::<ContextField>()? {
            match field {
                ContextField::Binding => context.binding = map.next_value()?,
                ContextField::Kind => context.kind = map.next_value()?,
                ContextField::WatchEvent => context.watch_event = map.next_value()?,
                ContextField::Object => context.object = map.next_value()?,
                ContextField::Objects => context.objects = map.next_value()?,
                ContextField::Snapshots => {
                    // shell-operator writes the keys sorted: a Synchronization's
                    // binding and `objects` come before its snapshots, and the
                    // snapshot of its own binding repeats `objects`. In another
                    // order that snapshot is read too, and `objects` still win.
                    let repeated = context.binding.as_deref().filter(|_| context.objects.is_some());
                    context.snapshots = map.next_value_seed(SnapshotsBut(repeated))?;
                }
                ContextField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(context)
    }
}

/// The snapshots, by binding name, but the one named here: skipped unread.
struct SnapshotsBut<'s>(Option<&'s str>);

impl<'de> DeserializeSeed<'de> for SnapshotsBut<'_> {
    type Value = BTreeMap<String, Vec<Item>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for SnapshotsBut<'_> {
    type Value = BTreeMap<String, Vec<Item>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object of snapshots by binding name")
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut snapshots = BTreeMap::new();
        while let Some(name) = map.next_key::<String>()? {
            if Some(name.as_str()) == self.0 {
                map.next_value::<IgnoredAny>()?;
            } else {
                snapshots.insert(name, map.next_value()?);
            }
        }
        Ok(snapshots)
    }
}

/// The binding contexts of a file's text.
pub fn parse_text(text: &str) -> Result<Work> {
    let contexts: Vec<Context> =
        serde_json::from_str(text).context("not the JSON array of binding contexts shell-operator writes")?;
    let mut work = Work::default();
    for (i, context) in contexts.into_iter().enumerate() {
        handle(&mut work, i, context);
    }
    if work.scope == Scope::Full {
        work.touched.extend(work.seen.keys().cloned());
    }
    Ok(work)
}

fn handle(work: &mut Work, i: usize, context: Context) {
    let Context { binding, kind, watch_event, object, objects, snapshots } = context;
    let binding = binding.as_deref().unwrap_or("?");
    let kind = kind.as_deref();
    let context_kind = ContextKind::of(kind);
    // A Synchronization's objects are its binding's own snapshot, and win over it.
    let mut listed = BTreeSet::new();
    if context_kind == ContextKind::Synchronization {
        work.synchronization = true;
        for cm in selected(work, objects.unwrap_or_default(), &format!("context {i} ({binding})")) {
            listed.insert(cm.id.clone());
            work.touched.insert(cm.id.clone());
            work.seen.insert(cm.id.clone(), Seen::Present(cm));
        }
        work.scope = Scope::Full;
    }
    // Snapshots are taken when the run starts, so they are the newest view;
    // an event in the same context is older and only marks what to act on.
    for (name, items) in snapshots {
        if name == STATE_BINDING {
            work.state = items.into_iter().next().and_then(|item| item.object?.into_result().ok());
            continue;
        }
        for cm in selected(work, items, &format!("context {i} ({binding}) snapshot")) {
            if !listed.contains(&cm.id) {
                work.seen.insert(cm.id.clone(), Seen::Present(cm));
            }
        }
    }
    match context_kind {
        ContextKind::Synchronization => {}
        ContextKind::Event => event(work, &format!("context {i} ({binding})"), watch_event.as_deref(), object),
        ContextKind::Schedule | ContextKind::Group => work.scope = Scope::Full,
        ContextKind::Other => debug!("binding context {i} ({binding}, type {kind:?}): nothing to do"),
    }
}

/// What a binding context is, by shell-operator's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContextKind {
    /// The binding's objects as the hook starts: a full run.
    Synchronization,
    /// A watch event on one object.
    Event,
    /// A schedule fired: a full run.
    Schedule,
    /// Several bindings grouped: a full run.
    Group,
    /// Any other `type`, or none: nothing to do.
    Other,
}

impl ContextKind {
    fn of(kind: Option<&str>) -> ContextKind {
        match kind {
            Some("Synchronization") => ContextKind::Synchronization,
            Some("Event") => ContextKind::Event,
            Some("Schedule") => ContextKind::Schedule,
            Some("Group") => ContextKind::Group,
            _ => ContextKind::Other,
        }
    }
}

/// What happened to the object of an Event context (its `watchEvent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WatchEvent {
    Added,
    Modified,
    Deleted,
    /// Anything else: a problem, said with the text.
    Unknown,
}

impl WatchEvent {
    fn of(event: &str) -> WatchEvent {
        match event {
            "Added" => WatchEvent::Added,
            "Modified" => WatchEvent::Modified,
            "Deleted" => WatchEvent::Deleted,
            _ => WatchEvent::Unknown,
        }
    }
}

fn event(work: &mut Work, place: &str, event: Option<&str>, object: Option<Object>) {
    let event = event.unwrap_or("");
    let Some(object) = object else {
        work.problems.push(format!("{place}: {event} event without an object"));
        return;
    };
    match (WatchEvent::of(event), object.into_result()) {
        (_, Err(e)) => work.problems.push(format!("{place}: {event} event: {e:#}")),
        (WatchEvent::Added | WatchEvent::Modified, Ok(cm)) if !cm.is_selected() => {
            debug!("{place}: {} is not labelled destination=connect; ignored", cm.id);
        }
        (WatchEvent::Added | WatchEvent::Modified, Ok(cm)) => {
            work.evented.insert(cm.id.clone());
            work.touched.insert(cm.id.clone());
            work.seen.insert(cm.id.clone(), Seen::Present(cm));
        }
        (WatchEvent::Deleted, Ok(cm)) => {
            work.evented.insert(cm.id.clone());
            work.touched.insert(cm.id.clone());
            work.seen.insert(cm.id.clone(), Seen::Deleted(cm));
        }
        (WatchEvent::Unknown, Ok(cm)) => {
            work.problems.push(format!("{place}: unknown watchEvent {event:?} for {}", cm.id));
        }
    }
}

/// The selected ConfigMaps among `items`; the others are problems or ignored.
fn selected(work: &mut Work, items: Vec<Item>, place: &str) -> Vec<ConfigMap> {
    let mut found = Vec::new();
    for (n, item) in items.into_iter().enumerate() {
        match item.object.map(Object::into_result) {
            None => work
                .problems
                .push(format!("{place} item {n}: no `object` (keepFullObjectsInMemory must stay true for this hook)")),
            Some(Ok(cm)) if cm.is_selected() => found.push(cm),
            Some(Ok(cm)) => debug!("{place}: {} is not labelled destination=connect; ignored", cm.id),
            Some(Err(e)) => work.problems.push(format!("{place} item {n}: {e:#}")),
        }
    }
    found
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
    fn a_broken_object_in_a_snapshot_is_a_problem_of_its_own() {
        let broken = json!({"metadata": {"name": "b", "labels": {"destination": "connect"}}, "data": {"k": 1}});
        let work = parse(&json!([{
            "binding": "connectors", "type": "Event", "watchEvent": "Added", "object": cm("a", "1"),
            "snapshots": {"connectors": [{"object": cm("a", "1")}, {"object": broken}, {"object": cm("z", "1")}]}
        }]))
        .unwrap();
        assert_eq!(work.seen.keys().cloned().collect::<Vec<_>>(), [id("a"), id("z")]);
        assert_eq!(
            work.problems,
            [r#"context 0 (connectors) snapshot item 1: not a ConfigMap: data key "k" is a number, not a string"#]
        );
    }

    #[test]
    fn a_synchronization_reads_its_objects_not_its_own_snapshot_again() {
        let broken = json!({"metadata": {"name": "b"}, "data": {"k": 1}});
        let own = json!([{"object": cm("a", "old")}, {"object": broken}]);
        // As shell-operator writes it: keys sorted, objects before snapshots.
        let text = format!(
            r#"[{{"binding": "connectors", "objects": [{{"object": {}}}], "snapshots": {{"connectors": {own},
                "state": []}}, "type": "Synchronization"}}]"#,
            cm("a", "new")
        );
        let work = parse_text(&text).unwrap();
        assert!(work.problems.is_empty(), "the own snapshot was read: {:?}", work.problems);
        // In another order the snapshot is read, and the objects still win.
        let work = parse(&json!([{"binding": "connectors", "type": "Synchronization",
            "snapshots": {"connectors": own}, "objects": [{"object": cm("a", "new")}]}]))
        .unwrap();
        assert_eq!(work.problems.len(), 1, "{:?}", work.problems);
        match &work.seen[&id("a")] {
            Seen::Present(c) => assert_eq!(c.data["k"], "new"),
            other => panic!("{other:?}"),
        }
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
