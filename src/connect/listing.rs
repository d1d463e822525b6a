//! The connector list as Connect answers `GET /connectors`, expanded with
//! configs and statuses or not, read into the live state.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::live::{Live, Status};

/// The connector list, read: what [`Client::complete`] starts from.
pub struct Listed {
    pub(super) live: Live,
    /// Whether Connect expanded it (configs and statuses in the one answer).
    pub(super) expanded: bool,
}

impl Listed {
    /// Every connector name the list holds.
    #[must_use]
    pub fn names(&self) -> &BTreeSet<String> {
        &self.live.names
    }

    /// The config of connector `name`, if the list held it.
    #[must_use]
    pub fn config(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.live.configs.get(name)
    }
}

/// The connector list as Connect answers it. An expanded list is read in
/// one pass, each `info` kept as text until it is known to be wanted: a run
/// that acts on a few connectors reads the configs of those alone (at 10,000
/// connectors the list is megabytes).
pub(super) enum Listing {
    /// `?expand=info&expand=status`, read.
    Expanded(Live),
    /// An old worker's, or the plain, list of names (or something else, said as unexpected).
    Names(serde_json::Value),
}

impl Listing {
    /// `None` when the body is not JSON.
    pub(super) fn parse(body: &str, wanted: Option<&BTreeSet<String>>) -> Option<Listing> {
        if !body.trim_start().starts_with('{') {
            return serde_json::from_str(body).ok().map(Listing::Names);
        }
        let live = expanded_typed(body, wanted).or_else(|| {
            // Some entry is not as Connect writes it: each is taken apart on its own.
            let map: BTreeMap<String, Box<RawValue>> = serde_json::from_str(body).ok()?;
            Some(expanded(map, wanted))
        });
        live.map(Listing::Expanded)
    }
}

/// One entry of the expanded list.
#[derive(Deserialize)]
struct ListedEntry<'a> {
    #[serde(default, borrow)]
    info: Option<&'a RawValue>,
    #[serde(default, borrow)]
    status: Option<&'a RawValue>,
}

/// `info` of an entry: the stored config, every value a string.
#[derive(Deserialize)]
struct Info {
    config: BTreeMap<String, String>,
}

/// An entry of the expanded list as Connect writes it, read in one pass:
/// the status into its type, `info` kept as text until it is wanted.
#[derive(Deserialize)]
struct TypedEntry<'a> {
    #[serde(default, borrow)]
    info: Option<&'a RawValue>,
    #[serde(default)]
    status: Option<Status>,
}

/// An entry of the expanded list as Connect writes it, every config wanted.
#[derive(Deserialize)]
struct FullEntry {
    #[serde(default)]
    info: Option<Info>,
    #[serde(default)]
    status: Option<Status>,
}

/// The expanded list read in one pass, when every entry has Connect's shape;
/// `None` sends the caller to [`expanded`], which takes each entry apart.
fn expanded_typed(body: &str, wanted: Option<&BTreeSet<String>>) -> Option<Live> {
    let mut live = Live::default();
    if wanted.is_none() {
        // Every config is kept (a resync checks them all): read straight into their types.
        let map: BTreeMap<String, FullEntry> = serde_json::from_str(body).ok()?;
        for (name, entry) in map {
            insert(&mut live, name, entry.info.map(|i| i.config), entry.status);
        }
        return Some(live);
    }
    let map: BTreeMap<String, TypedEntry> = serde_json::from_str(body).ok()?;
    for (name, entry) in map {
        add(&mut live, name, entry.info, entry.status, wanted);
    }
    Some(live)
}

/// The connectors of an expanded list (`?expand=info&expand=status`), with
/// the status of each that has one, and the config of each `wanted` one
/// (of all when `None`).
fn expanded(map: BTreeMap<String, Box<RawValue>>, wanted: Option<&BTreeSet<String>>) -> Live {
    let mut live = Live::default();
    for (name, entry) in map {
        // An entry that is not an object still names a connector.
        let ListedEntry { info, status } =
            serde_json::from_str(entry.get()).unwrap_or(ListedEntry { info: None, status: None });
        let status = status.and_then(|s| serde_json::from_str::<Status>(s.get()).ok());
        add(&mut live, name, info, status, wanted);
    }
    live
}

/// One connector of the list: its name, its status if read, and its config
/// if it is wanted and as Connect stores one.
fn add(
    live: &mut Live,
    name: String,
    info: Option<&RawValue>,
    status: Option<Status>,
    wanted: Option<&BTreeSet<String>>,
) {
    let config = info.filter(|_| wanted.is_none_or(|w| w.contains(&name)));
    let config = config.and_then(|i| serde_json::from_str::<Info>(i.get()).ok()).map(|i| i.config);
    insert(live, name, config, status);
}

/// One connector of the list, with its config and status where known.
fn insert(live: &mut Live, name: String, config: Option<BTreeMap<String, String>>, status: Option<Status>) {
    if let Some(config) = config {
        live.configs.insert(name.clone(), config);
    }
    if let Some(status) = status {
        live.status.insert(name.clone(), status);
    }
    live.names.insert(name);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(body: &str, wanted: Option<&BTreeSet<String>>) -> Option<Live> {
        match Listing::parse(body, wanted)? {
            Listing::Expanded(live) => Some(live),
            Listing::Names(_) => None,
        }
    }

    #[test]
    fn an_expanded_list_keeps_every_status_and_the_wanted_configs() {
        let body = r#"{"a": {"info": {"config": {"k": "v"}}, "status": {"connector": {"state": "RUNNING"}, "tasks": []}},
                       "b": {"info": {"config": {"k": "w"}}, "status": {"connector": {"state": "PAUSED"}, "tasks": []}}}"#;
        let all = live(body, None).unwrap();
        assert_eq!(all.configs.len(), 2);
        let wanted = BTreeSet::from(["b".to_string()]);
        let some = live(body, Some(&wanted)).unwrap();
        assert_eq!(some.configs.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(some.status.len(), 2, "every status, for the gauges");
    }

    #[test]
    fn an_entry_not_as_connect_writes_it_still_names_its_connector() {
        let body = r#"{"a": 1, "b": {"status": {"connector": "odd"}},
                       "c": {"info": {"config": {"k": "v"}}, "status": {"connector": {"state": "RUNNING"}}}}"#;
        let live = live(body, None).unwrap();
        assert_eq!(live.names.iter().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(live.configs.keys().collect::<Vec<_>>(), ["c"]);
        assert_eq!(live.status.keys().collect::<Vec<_>>(), ["c"]);
        assert!(Listing::parse("{not json", None).is_none());
        assert!(matches!(Listing::parse(r#"["a"]"#, None), Some(Listing::Names(_))));
    }
}
