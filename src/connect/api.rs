//! The Connect REST endpoints this operator uses: one bulk read of live
//! state, create-or-update, state changes, restarts, deletes, plugins and
//! validation. Behaviour follows the Kafka Connect REST reference.

use std::collections::{BTreeMap, BTreeSet};

use log::debug;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::connect::client::{encode, Client, Method};
use crate::connect::errors::{classify, is_html, not_connect, retry_after_of, short, Attempt, Failure, Reply};
use crate::model::connector::{config_json, Connector, TargetState};
use crate::model::live::{Live, Status};

/// An installed plugin, from `GET /connector-plugins`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Plugin {
    /// The plugin's full class name.
    pub class: String,
    #[serde(rename = "type", default)]
    /// `source`, `sink`, `converter`, `transformation`, ... (empty on old workers).
    pub kind: String,
    #[serde(default)]
    /// The plugin's version, when it says.
    pub version: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// How a config write went.
pub enum Applied {
    /// The connector is new.
    Created,
    /// The connector's config was replaced.
    Updated,
    /// A retried write found the config already in place.
    FoundOnRetry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// How a delete went.
pub enum Removed {
    /// The connector was deleted.
    Deleted,
    /// There was nothing to delete.
    AlreadyGone,
}

impl Client {
    /// Reads the live state with one request, `GET
    /// /connectors?expand=info&expand=status`. Connect leaves out a connector
    /// whose status is not written yet, and old workers do not expand: only
    /// then are the names listed and the configs of `wanted` connectors read
    /// one by one.
    pub fn read_live(&self, wanted: &BTreeSet<String>) -> Result<Live, Failure> {
        let listed = self.read_listing(Some(wanted))?;
        self.complete(listed, wanted)
    }

    /// The first part of [`Client::read_live`], which needs no names: the
    /// one request for the connector list, keeping the configs of `wanted`
    /// connectors (of all when `None`). A full run sends it while its
    /// templates render.
    pub fn read_listing(&self, wanted: Option<&BTreeSet<String>>) -> Result<Listed, Failure> {
        let path = format!("/connectors?{}", self.expand);
        match self.retrying("list connectors", || self.get_listing(&path, wanted))? {
            Listing::Expanded(live) => Ok(Listed { live, expanded: true }),
            Listing::Names(names) => {
                let names = name_list(&names, &format!("GET {}/connectors", self.shown_base))?;
                Ok(Listed { live: Live { names, ..Live::default() }, expanded: false })
            }
        }
    }

    /// The rest of [`Client::read_live`]: the configs of the `wanted`
    /// connectors the list did not hold.
    pub fn complete(&self, listed: Listed, wanted: &BTreeSet<String>) -> Result<Live, Failure> {
        let Listed { mut live, expanded } = listed;
        let missing: Vec<&String> = wanted.iter().filter(|n| !live.configs.contains_key(*n)).collect();
        if missing.is_empty() {
            return Ok(live);
        }
        if expanded {
            debug!("{} wanted connectors not in the expanded list; listing names", missing.len());
            let names = self.retrying("list connector names", || self.get_json("/connectors"))?;
            live.names.extend(name_list(&names, &format!("GET {}/connectors", self.shown_base))?);
        } else {
            debug!("Connect did not expand the connector list; reading configs one by one");
        }
        let to_read: Vec<&String> = missing.into_iter().filter(|n| live.names.contains(*n)).collect();
        let read = crate::parallel::map(&to_read, self.concurrency, |name| ((*name).clone(), self.get_config(name)));
        for (name, config) in read {
            match config? {
                Some(config) => {
                    live.configs.insert(name, config);
                }
                None => {
                    live.names.remove(&name);
                }
            }
        }
        Ok(live)
    }

    /// What the client makes of one answer, without sending anything: how it
    /// sorts an error, and what it reads from a success (a connector list,
    /// expanded or not, a config, the plugin list). The fuzz target's entry.
    pub fn read_answer(status: u16, content_type: Option<&str>, retry_after: Option<&str>, body: &str) -> String {
        let reply = Reply {
            request: "GET http://connect/connectors".into(),
            listing: true,
            status,
            html: content_type.is_some_and(is_html),
            body: body.to_string(),
            retry_after: retry_after.and_then(retry_after_of),
        };
        if !(200..300).contains(&status) {
            return match classify::<()>(&reply) {
                Attempt::Fail(f, wait) => format!("{} {} {wait:?}", f.permanent, f.detail),
                Attempt::Done(()) => String::new(),
            };
        }
        let config = parse_json(body).as_ref().and_then(string_map);
        match Listing::parse(body, None) {
            Some(Listing::Expanded(live)) => format!("{live:?} {config:?}"),
            Some(Listing::Names(list)) => {
                let plugins = serde_json::from_value::<Vec<Plugin>>(list.clone()).map_err(|e| e.to_string());
                format!("{:?} {plugins:?}", name_list(&list, &reply.request).map_err(|f| f.detail))
            }
            None => not_connect(&reply),
        }
    }

    /// `GET /connectors/{name}/config`; `None` when there is no such connector.
    pub fn get_config(&self, name: &str) -> Result<Option<BTreeMap<String, String>>, Failure> {
        let path = format!("/connectors/{}/config", encode(name));
        self.retrying(&format!("read connector {name}"), || match self.request(Method::Get, &path, None) {
            Ok(r) if r.status == 200 => match parse_json(&r.body).as_ref().and_then(string_map) {
                Some(config) => Attempt::Done(Some(config)),
                None => Attempt::Fail(
                    Failure::permanent(&r.request, format!("unexpected config: {}", short(&r.body))),
                    None,
                ),
            },
            Ok(r) if r.status == 404 => Attempt::Done(None),
            Ok(r) => classify(&r),
            Err(e) => Attempt::Fail(e, None),
        })
    }

    /// `PUT /connectors/{name}/config`, which creates or replaces. Before a
    /// retry the config is read back: a write that timed out may have been
    /// applied after all.
    pub fn put_config(&self, connector: &Connector) -> Result<Applied, Failure> {
        let path = format!("/connectors/{}/config", encode(&connector.name));
        let body = config_json(&connector.config);
        let mut first = true;
        self.retrying(&format!("apply connector {}", connector.name), || {
            if !std::mem::take(&mut first) {
                if let Ok(Some(live)) = self.get_config(&connector.name) {
                    if live == connector.config {
                        return Attempt::Done(Applied::FoundOnRetry);
                    }
                }
            }
            match self.request(Method::Put, &path, Some(&body)) {
                Ok(r) if r.status == 201 => Attempt::Done(Applied::Created),
                Ok(r) if r.status == 200 => Attempt::Done(Applied::Updated),
                Ok(r) => classify(&r),
                Err(e) => Attempt::Fail(e, None),
            }
        })
    }

    /// `POST /connectors` with `initial_state`, so a paused or stopped
    /// connector never runs (Kafka 3.7+). Workers that do not know the field
    /// answer 500 "Unrecognized field": then it is created with `PUT` and
    /// moved at once. A connector that appeared meanwhile is updated.
    pub fn create(&self, connector: &Connector) -> Result<Applied, Failure> {
        if connector.state == TargetState::Running {
            return self.put_config(connector);
        }
        let body = serde_json::json!({
            "name": connector.name,
            "config": connector.config,
            "initial_state": connector.state.initial_state(),
        });
        let created = self.retrying(&format!("create connector {}", connector.name), || {
            match self.request(Method::Post, "/connectors", Some(&body)) {
                Ok(r) if r.status == 201 || r.status == 200 => Attempt::Done(true),
                Ok(r)
                    if (r.status == 500 && r.body.contains("Unrecognized field"))
                        || r.status == 409 && r.body.contains("already exists") =>
                {
                    Attempt::Done(false)
                }
                Ok(r) => classify(&r),
                Err(e) => Attempt::Fail(e, None),
            }
        })?;
        if created {
            return Ok(Applied::Created);
        }
        let applied = self.put_config(connector)?;
        self.set_state(&connector.name, connector.state)?;
        Ok(applied)
    }

    /// `PUT /connectors/{name}/pause`, `/resume` or `/stop`.
    pub fn set_state(&self, name: &str, state: TargetState) -> Result<(), Failure> {
        let path = format!("/connectors/{}/{}", encode(name), state.verb());
        self.retrying(&format!("{} connector {name}", state.verb()), || self.expect_success(Method::Put, &path))
    }

    /// `POST /connectors/{name}/restart?includeTasks=true&onlyFailed=...`.
    pub fn restart(&self, name: &str, only_failed: bool) -> Result<(), Failure> {
        let path = format!("/connectors/{}/restart?includeTasks=true&onlyFailed={only_failed}", encode(name));
        self.retrying(&format!("restart connector {name}"), || self.expect_success(Method::Post, &path))
    }

    pub(super) fn expect_success(&self, method: Method, path: &str) -> Attempt<()> {
        match self.request(method, path, None) {
            Ok(r) if (200..300).contains(&r.status) => Attempt::Done(()),
            Ok(r) => classify(&r),
            Err(e) => Attempt::Fail(e, None),
        }
    }

    /// `GET /connector-plugins`: the installed connector classes.
    pub fn plugins(&self) -> Result<Vec<Plugin>, Failure> {
        let body = self.retrying("list connector plugins", || self.get_json("/connector-plugins"))?;
        serde_json::from_value(body).map_err(|e| {
            Failure::permanent(
                &format!("GET {}/connector-plugins", self.shown_base),
                format!("unexpected plugin list: {e}"),
            )
        })
    }

    /// `PUT /connector-plugins/{plugin}/config/validate`: Connect's verdict on
    /// a config (its `ConfigInfos`), which is a report, not a rejection.
    pub fn validate(&self, plugin: &str, config: &BTreeMap<String, String>) -> Result<serde_json::Value, Failure> {
        let path = format!("/connector-plugins/{}/config/validate", encode(plugin));
        let body = config_json(config);
        self.retrying(&format!("validate {plugin}"), || match self.request(Method::Put, &path, Some(&body)) {
            Ok(r) if r.status == 200 => match parse_json(&r.body) {
                Some(v) => Attempt::Done(v),
                None => Attempt::Fail(Failure::permanent(&r.request, not_connect(&r)), None),
            },
            Ok(r) => classify(&r),
            Err(e) => Attempt::Fail(e, None),
        })
    }

    /// `DELETE /connectors/{name}`; a 404 means it is already gone.
    pub fn delete(&self, name: &str) -> Result<Removed, Failure> {
        let path = format!("/connectors/{}", encode(name));
        let mut first = true;
        self.retrying(&format!("delete connector {name}"), || {
            if !std::mem::take(&mut first) && matches!(self.get_config(name), Ok(None)) {
                return Attempt::Done(Removed::AlreadyGone);
            }
            match self.request(Method::Delete, &path, None) {
                Ok(r) if r.status == 204 || r.status == 200 => Attempt::Done(Removed::Deleted),
                Ok(r) if r.status == 404 => Attempt::Done(Removed::AlreadyGone),
                Ok(r) => classify(&r),
                Err(e) => Attempt::Fail(e, None),
            }
        })
    }

    pub(super) fn get_json(&self, path: &str) -> Attempt<serde_json::Value> {
        match self.request(Method::Get, path, None) {
            // Connect always answers JSON: anything else is another server.
            Ok(r) if r.status == 200 => match parse_json(&r.body) {
                Some(v) => Attempt::Done(v),
                None => Attempt::Fail(Failure::permanent(&r.request, not_connect(&r)), None),
            },
            Ok(r) => classify(&r),
            Err(e) => Attempt::Fail(e, None),
        }
    }

    /// `GET` of the connector list: expanded (an object) or names (an array).
    fn get_listing(&self, path: &str, wanted: Option<&BTreeSet<String>>) -> Attempt<Listing> {
        match self.request(Method::Get, path, None) {
            // Connect always answers JSON: anything else is another server.
            Ok(r) if r.status == 200 => match Listing::parse(&r.body, wanted) {
                Some(listing) => Attempt::Done(listing),
                None => Attempt::Fail(Failure::permanent(&r.request, not_connect(&r)), None),
            },
            Ok(r) => classify(&r),
            Err(e) => Attempt::Fail(e, None),
        }
    }
}

/// The connector list, read: what [`Client::complete`] starts from.
pub struct Listed {
    live: Live,
    /// Whether Connect expanded it (configs and statuses in the one answer).
    expanded: bool,
}

/// The connector list as Connect answers it. An expanded list is read in
/// one pass, each `info` kept as text until it is known to be wanted: a run
/// that acts on a few connectors reads the configs of those alone (at 10,000
/// connectors the list is megabytes).
enum Listing {
    /// `?expand=info&expand=status`, read.
    Expanded(Live),
    /// An old worker's, or the plain, list of names (or something else, said as unexpected).
    Names(serde_json::Value),
}

impl Listing {
    /// `None` when the body is not JSON.
    fn parse(body: &str, wanted: Option<&BTreeSet<String>>) -> Option<Listing> {
        if !body.trim_start().starts_with('{') {
            return parse_json(body).map(Listing::Names);
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
struct Entry<'a> {
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

/// The expanded list read in one pass, when every entry has Connect's shape;
/// `None` sends the caller to [`expanded`], which takes each entry apart.
fn expanded_typed(body: &str, wanted: Option<&BTreeSet<String>>) -> Option<Live> {
    let map: BTreeMap<String, TypedEntry> = serde_json::from_str(body).ok()?;
    let mut live = Live::default();
    for (name, entry) in map {
        if wanted.is_none_or(|w| w.contains(&name)) {
            if let Some(Ok(info)) = entry.info.map(|i| serde_json::from_str::<Info>(i.get())) {
                live.configs.insert(name.clone(), info.config);
            }
        }
        if let Some(status) = entry.status {
            live.status.insert(name.clone(), status);
        }
        live.names.insert(name);
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
        let Entry { info, status } = serde_json::from_str(entry.get()).unwrap_or(Entry { info: None, status: None });
        if wanted.is_none_or(|w| w.contains(&name)) {
            if let Some(Ok(info)) = info.map(|i| serde_json::from_str::<Info>(i.get())) {
                live.configs.insert(name.clone(), info.config);
            }
        }
        if let Some(Ok(status)) = status.map(|s| serde_json::from_str::<Status>(s.get())) {
            live.status.insert(name.clone(), status);
        }
        live.names.insert(name);
    }
    live
}

pub(super) fn parse_json(body: &str) -> Option<serde_json::Value> {
    serde_json::from_str(body).ok()
}

fn string_map(value: &serde_json::Value) -> Option<BTreeMap<String, String>> {
    value.as_object()?.iter().map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()
}

fn name_list(value: &serde_json::Value, request: &str) -> Result<BTreeSet<String>, Failure> {
    value
        .as_array()
        .and_then(|names| names.iter().map(|n| n.as_str().map(str::to_string)).collect())
        .ok_or_else(|| Failure::transient(request, format!("unexpected answer {}", short(&value.to_string()))))
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
