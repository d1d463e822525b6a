//! The Connect REST endpoints this operator uses: one bulk read of live
//! state, create-or-update, state changes, restarts, deletes, plugins and
//! validation. Behaviour follows the Kafka Connect REST reference.

use std::collections::{BTreeMap, BTreeSet};

use log::debug;
use serde::Deserialize;

use crate::connect::client::{encode, Client, Method};
use crate::connect::errors::{
    classify, from_connect, is_html, not_connect, retry_after_of, short, Attempt, Failure, Reply,
};
use crate::connect::listing::{Listed, Listing};
use crate::model::connector::{config_json, Connector, TargetState};
use crate::model::live::Live;

/// Up to this many connectors are read one at a time ([`Client::read_each`],
/// two requests apiece, in parallel) rather than with the list of the whole
/// cluster: the list costs Connect and the hook in proportion to every
/// connector on the cluster, these requests in proportion to those wanted.
pub const READ_EACH_MAX: usize = 8;

/// An installed plugin, from `GET /connector-plugins`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Plugin {
    /// The plugin's full class name.
    pub class: String,
    #[serde(rename = "type", default)]
    /// What it plugs into; unstated on old workers.
    pub kind: PluginKind,
    #[serde(default)]
    /// The plugin's version, when it says.
    pub version: Option<String>,
}

/// A plugin's `type`, as Connect lists it (KIP-769).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum PluginKind {
    /// `source`: a source connector.
    Source,
    /// `sink`: a sink connector.
    Sink,
    /// `converter`.
    Converter,
    /// `header_converter`.
    HeaderConverter,
    /// `transformation`.
    Transformation,
    /// `predicate`.
    Predicate,
    /// No `type`: a worker from before KIP-769, which lists connectors only.
    #[default]
    Unstated,
    /// A type this version does not know, as Connect spells it.
    Other(String),
}

impl PluginKind {
    /// As Connect spells it; empty when unstated.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            PluginKind::Source => "source",
            PluginKind::Sink => "sink",
            PluginKind::Converter => "converter",
            PluginKind::HeaderConverter => "header_converter",
            PluginKind::Transformation => "transformation",
            PluginKind::Predicate => "predicate",
            PluginKind::Unstated => "",
            PluginKind::Other(other) => other,
        }
    }

    /// Whether it is a connector (or may be one, when unstated).
    #[must_use]
    pub fn is_connector(&self) -> bool {
        matches!(self, PluginKind::Source | PluginKind::Sink | PluginKind::Unstated)
    }
}

impl From<String> for PluginKind {
    fn from(text: String) -> PluginKind {
        match text.as_str() {
            "source" => PluginKind::Source,
            "sink" => PluginKind::Sink,
            "converter" => PluginKind::Converter,
            "header_converter" => PluginKind::HeaderConverter,
            "transformation" => PluginKind::Transformation,
            "predicate" => PluginKind::Predicate,
            "" => PluginKind::Unstated,
            _ => PluginKind::Other(text),
        }
    }
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
        match self.retrying("list connectors", || self.get_read(&path, |body| Listing::parse(body, wanted)))? {
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

    /// The live state of the `wanted` connectors alone, each read with `GET
    /// /connectors/{name}/config` and `GET .../status`, at most
    /// `CONNECT_CONCURRENCY` requests at a time: what an event run that acts
    /// on a few connectors reads, instead of the list of the whole cluster
    /// (at 10,000 connectors, megabytes that Connect assembles and the hook
    /// parses for one change).
    pub fn read_each(&self, wanted: &BTreeSet<String>) -> Result<Live, Failure> {
        let names: Vec<&String> = wanted.iter().collect();
        let read = crate::parallel::map(&names, self.concurrency, |name| {
            let config = self.get_config(name)?;
            // A connector deleted between the two reads is absent, whatever its status said.
            let status = if config.is_some() { self.status(name)? } else { None };
            Ok::<_, Failure>((config, status))
        });
        let mut live = Live { only_wanted: true, ..Live::default() };
        for (name, read) in names.into_iter().zip(read) {
            let (config, status) = read?;
            if let Some(config) = config {
                live.names.insert(name.clone());
                live.configs.insert(name.clone(), config);
            }
            if let Some(status) = status {
                live.status.insert(name.clone(), status);
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
                Attempt::Fail(f, wait) => format!("{} {} {wait:?}", f.is_permanent(), f.detail),
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
            Ok(r) if r.status == 404 && from_connect(&r) => Attempt::Done(None),
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
                Ok(r) if r.status == 404 && from_connect(&r) => Attempt::Done(Removed::AlreadyGone),
                Ok(r) => classify(&r),
                Err(e) => Attempt::Fail(e, None),
            }
        })
    }

    pub(super) fn get_json(&self, path: &str) -> Attempt<serde_json::Value> {
        self.get_read(path, parse_json)
    }

    /// `GET`, the answer read by `read` (`None`: not JSON of the shape it reads).
    fn get_read<T>(&self, path: &str, read: impl FnOnce(&str) -> Option<T>) -> Attempt<T> {
        match self.request(Method::Get, path, None) {
            // Connect always answers JSON: anything else is another server.
            Ok(r) if r.status == 200 => match read(&r.body) {
                Some(v) => Attempt::Done(v),
                None => Attempt::Fail(Failure::permanent(&r.request, not_connect(&r)), None),
            },
            Ok(r) => classify(&r),
            Err(e) => Attempt::Fail(e, None),
        }
    }
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
