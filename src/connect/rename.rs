//! Renaming a connector without losing its place: Connect keys offsets by
//! connector name, so the new name takes over the old one's offsets before
//! it runs. Each step is decided from what Connect shows when it is taken,
//! so a move cut short (the hook, shell-operator or a worker killed) is
//! finished by the next run, and offsets are written at most once.

use serde_json::json;

use crate::connect::client::{Client, Method};
use crate::connect::errors::{classify, Attempt, Failure};
use crate::model::connector::{Connector, TargetState};
use crate::model::live::{ConnectorState, Status};

/// What became of the old connector's offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carried {
    /// Written to the new connector: this many partitions (none when the
    /// old one had none).
    Partitions(usize),
    /// The new connector had offsets of its own, so none were written: it
    /// ran before, or an earlier run carried them already.
    KeptOwn,
}

impl Client {
    /// Moves connector `from` to `to.name`: creates `to` STOPPED (unless
    /// it exists; `update` rewrites its config then), stops `from`, writes
    /// its offsets to `to` while `to` has none, moves `to` to its declared
    /// state and deletes `from`. The two never run at once. A worker without
    /// the offsets endpoints (Kafka 3.5) or `initial_state` (3.7) refuses
    /// before anything changes.
    pub fn rename(&self, from: &str, to: &Connector, update: bool, say: &dyn Fn(String)) -> Result<Carried, Failure> {
        let name = &to.name;
        // Read first: a worker that cannot read offsets fails here, having changed nothing.
        self.offsets(from)?;
        match self.get_config(name)? {
            None => {
                self.create_stopped(to, from)?;
                say(format!("created connector {name} STOPPED, to take over from connector {from}"));
            }
            Some(_) if update => {
                self.put_config(to)?;
            }
            Some(_) => {}
        }
        self.stop(from, say)?;
        let carried = self.carry(from, to, say)?;
        self.set_state(name, to.state)?;
        self.delete(from)?;
        Ok(carried)
    }

    /// Writes the offsets of `from` (stopped) to `to` while `to` has none.
    fn carry(&self, from: &str, to: &Connector, say: &dyn Fn(String)) -> Result<Carried, Failure> {
        let offsets = self.offsets(from)?;
        let partitions = offsets.as_array().map_or(0, Vec::len);
        if partitions == 0 {
            return Ok(Carried::Partitions(0));
        }
        if self.offsets(&to.name)?.as_array().is_some_and(|own| !own.is_empty()) {
            return Ok(Carried::KeptOwn);
        }
        self.stop(&to.name, say)?;
        self.alter_offsets(&to.name, &offsets)?;
        say(format!(
            "wrote the offsets of {} of connector {from} to connector {}",
            crate::text::count(partitions, "partition"),
            to.name
        ));
        Ok(Carried::Partitions(partitions))
    }

    /// Stops `name` and waits until it is STOPPED with no tasks.
    fn stop(&self, name: &str, say: &dyn Fn(String)) -> Result<(), Failure> {
        let stopped = |s: &Status| s.connector.state == ConnectorState::Stopped && s.tasks.is_empty();
        if self.status(name)?.as_ref().is_some_and(stopped) {
            return Ok(());
        }
        say(format!("stopping connector {name}"));
        self.set_state(name, TargetState::Stopped)?;
        self.wait_stopped(name)
    }

    /// `POST /connectors` with `initial_state` STOPPED, which workers before
    /// Kafka 3.7 do not know: they are refused rather than sent a `PUT`
    /// that would start the connector from no offsets.
    fn create_stopped(&self, to: &Connector, from: &str) -> Result<(), Failure> {
        let body = json!({"name": to.name, "config": to.config, "initial_state": ConnectorState::Stopped});
        self.retrying(&format!("create connector {} STOPPED", to.name), || {
            match self.request(Method::Post, "/connectors", Some(&body)) {
                Ok(r) if r.status == 201 || r.status == 200 => Attempt::Done(()),
                Ok(r) if r.status == 409 && r.body.contains("already exists") => Attempt::Done(()),
                Ok(r) if r.status == 500 && r.body.contains("Unrecognized field") => Attempt::Fail(
                    Failure::permanent(
                        &r.request,
                        format!(
                            "this Kafka Connect worker cannot create a connector STOPPED (initial_state, Kafka 3.7 \
                             or later, KIP-980), which renaming connector {from} to {} needs so that it never runs \
                             without its offsets; nothing was changed; upgrade the workers",
                            to.name
                        ),
                    ),
                    None,
                ),
                Ok(r) => classify(&r),
                Err(e) => Attempt::Fail(e, None),
            }
        })
    }
}
