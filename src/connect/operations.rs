//! One connector at a time, for people at a terminal: its status, task
//! restarts, offsets (KIP-875), and every installed plugin (KIP-769).

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::connect::client::{encode, Client, Method};
use crate::connect::errors::{classify, from_connect, Attempt, Failure, Reply};
use crate::connect::Plugin;
use crate::deadline::from_now;
use crate::model::connector::TargetState;
use crate::model::live::{ConnectorState, Status};
use crate::model::requests::OffsetsChange;

/// How long a stop may take before an offsets change is given up.
const STOP_TIMEOUT: Duration = Duration::from_secs(120);
/// Between two status reads while waiting for a stop.
const POLL: Duration = Duration::from_millis(500);

/// Connect's answer to an offsets change: what it did, in its words.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Changed {
    /// e.g. `The offsets for this connector have been reset successfully`.
    pub message: String,
}

/// Every plugin a worker lists, and whether the list is complete: workers
/// before Kafka 3.2 list connectors only, whatever is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugins {
    /// By class name.
    pub all: Vec<Plugin>,
    /// Whether converters, transformations and predicates were listed too.
    pub complete: bool,
}

/// What a 404 or 405 from an offsets endpoint means: the connector is not
/// there, or the worker predates the endpoint. Jersey answers an unknown
/// route with `HTTP 404 Not Found` or `HTTP 405 Method Not Allowed`.
fn too_old(r: &Reply, needs: &str) -> Option<Failure> {
    let unrouted = (r.status == 404 && from_connect(r) && r.body.contains("HTTP 404 Not Found")) || r.status == 405;
    unrouted.then(|| {
        Failure::permanent(
            &r.request,
            format!("this Kafka Connect worker has no such endpoint: {needs} (KIP-875); upgrade the workers"),
        )
    })
}

impl Client {
    /// `GET /connectors/{name}/status`; `None` when Connect has no such
    /// connector, or no status for it yet.
    pub fn status(&self, name: &str) -> Result<Option<Status>, Failure> {
        let path = format!("/connectors/{}/status", encode(name));
        self.retrying(&format!("read the status of connector {name}"), || {
            match self.request(Method::Get, &path, None) {
                Ok(r) if r.status == 200 => match serde_json::from_str(&r.body) {
                    Ok(status) => Attempt::Done(Some(status)),
                    Err(e) => Attempt::Fail(Failure::permanent(&r.request, format!("unexpected status: {e}")), None),
                },
                Ok(r) if r.status == 404 && from_connect(&r) && !r.body.contains("HTTP 404 Not Found") => {
                    Attempt::Done(None)
                }
                Ok(r) => classify(&r),
                Err(e) => Attempt::Fail(e, None),
            }
        })
    }

    /// `GET /connectors/{name}/offsets`: the `offsets` array, as Connect
    /// gives it (partitions and offsets are connector-defined objects).
    pub fn offsets(&self, name: &str) -> Result<Value, Failure> {
        let path = format!("/connectors/{}/offsets", encode(name));
        self.retrying(&format!("read the offsets of connector {name}"), || {
            match self.request(Method::Get, &path, None) {
                Ok(r) if r.status == 200 => match serde_json::from_str::<Value>(&r.body) {
                    Ok(mut body) => Attempt::Done(body.get_mut("offsets").map(Value::take).unwrap_or(json!([]))),
                    Err(e) => Attempt::Fail(Failure::permanent(&r.request, format!("unexpected offsets: {e}")), None),
                },
                Ok(r) => match too_old(&r, "reading offsets needs Kafka 3.5 or later") {
                    Some(failure) => Attempt::Fail(failure, None),
                    None => classify(&r),
                },
                Err(e) => Attempt::Fail(e, None),
            }
        })
    }

    /// `PATCH /connectors/{name}/offsets` with `{"offsets": offsets}`; the
    /// connector must be STOPPED.
    pub fn alter_offsets(&self, name: &str, offsets: &Value) -> Result<Changed, Failure> {
        let body = json!({ "offsets": offsets });
        self.change_offsets(name, Method::Patch, Some(&body), "alter")
    }

    /// `DELETE /connectors/{name}/offsets`; the connector must be STOPPED.
    pub fn reset_offsets(&self, name: &str) -> Result<Changed, Failure> {
        self.change_offsets(name, Method::Delete, None, "reset")
    }

    fn change_offsets(&self, name: &str, method: Method, body: Option<&Value>, verb: &str) -> Result<Changed, Failure> {
        let path = format!("/connectors/{}/offsets", encode(name));
        self.retrying(&format!("{verb} the offsets of connector {name}"), || match self.request(method, &path, body) {
            Ok(r) if r.status == 200 => match serde_json::from_str(&r.body) {
                Ok(changed) => Attempt::Done(changed),
                Err(e) => Attempt::Fail(Failure::permanent(&r.request, format!("unexpected answer: {e}")), None),
            },
            Ok(r) => match too_old(&r, "changing offsets needs Kafka 3.6 or later") {
                Some(failure) => Attempt::Fail(failure, None),
                None => classify(&r),
            },
            Err(e) => Attempt::Fail(e, None),
        })
    }

    /// Changes a connector's offsets the only way Connect allows: stops it,
    /// follows its status until it is STOPPED with no tasks, changes them,
    /// and moves it to its `declared` state, or with none to the state it had
    /// (unless that is STOPPED), even when the change failed. Each step is
    /// told to `say` as it happens.
    pub fn change_offsets_stopped(
        &self,
        name: &str,
        change: &OffsetsChange,
        declared: Option<TargetState>,
        say: &dyn Fn(String),
    ) -> Result<Changed, Failure> {
        let absent = || {
            Failure::permanent(
                &format!("GET {}/connectors/{}/status", self.shown_base, encode(name)),
                format!("no connector {name}"),
            )
        };
        let before = self.status(name)?.ok_or_else(absent)?.connector.state;
        let (back, why) = match declared {
            Some(declared) => (declared, "its declared state"),
            None => (TargetState::of_live(before), "the state it had"),
        };
        if before == ConnectorState::Stopped {
            say(format!("connector {name} is already STOPPED"));
        } else {
            say(format!("stopping connector {name} (it is {before})"));
            self.set_state(name, TargetState::Stopped)?;
            self.wait_stopped(name)?;
            say(format!("connector {name} is STOPPED"));
        }
        let changed = match change {
            OffsetsChange::Reset => self.reset_offsets(name),
            OffsetsChange::Alter(offsets) => self.alter_offsets(name, offsets),
        };
        if let Ok(changed) = &changed {
            say(format!("{} (connector {name})", changed.message));
        }
        if back != TargetState::Stopped {
            say(format!("bringing connector {name} back to {} ({why})", back.initial_state()));
            self.set_state(name, back)?;
        }
        changed
    }

    /// Only a connector STOPPED with no tasks accepts an offsets change.
    pub(super) fn wait_stopped(&self, name: &str) -> Result<(), Failure> {
        let deadline = from_now(STOP_TIMEOUT);
        loop {
            let status = self.status(name)?.unwrap_or_default();
            if status.connector.state == ConnectorState::Stopped && status.tasks.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let request = format!("GET {}/connectors/{}/status", self.shown_base, encode(name));
                let limit = humantime::format_duration(STOP_TIMEOUT);
                let detail = format!(
                    "connector {name} did not stop within {limit} (it is {} with {} tasks); its offsets were not changed",
                    status.connector.state,
                    status.tasks.len()
                );
                return Err(Failure::permanent(&request, detail));
            }
            std::thread::sleep(POLL);
        }
    }

    /// `POST /connectors/{name}/restart?includeTasks=...&onlyFailed=...`.
    pub fn restart_with(&self, name: &str, include_tasks: bool, only_failed: bool) -> Result<(), Failure> {
        let path =
            format!("/connectors/{}/restart?includeTasks={include_tasks}&onlyFailed={only_failed}", encode(name));
        self.retrying(&format!("restart connector {name}"), || self.expect_success(Method::Post, &path))
    }

    /// `POST /connectors/{name}/tasks/{task}/restart`.
    pub fn restart_task(&self, name: &str, task: u32) -> Result<(), Failure> {
        let path = format!("/connectors/{}/tasks/{task}/restart", encode(name));
        self.retrying(&format!("restart task {task} of connector {name}"), || self.expect_success(Method::Post, &path))
    }

    /// `GET /connector-plugins?connectorsOnly=false`: connectors, converters,
    /// header converters, transformations and predicates.
    pub fn all_plugins(&self) -> Result<Plugins, Failure> {
        let path = "/connector-plugins?connectorsOnly=false";
        let body = self.retrying("list plugins", || self.get_json(path))?;
        let all: Vec<Plugin> = serde_json::from_value(body).map_err(|e| {
            Failure::permanent(&format!("GET {}{path}", self.shown_base), format!("unexpected plugin list: {e}"))
        })?;
        let complete = all.iter().any(|p| !p.kind.is_connector());
        Ok(Plugins { all, complete })
    }
}
