//! What one ConfigMap declares, once rendered: its connectors, what it asks
//! for, what earlier runs recorded on it, and how a run treats it.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::configmap::{CmId, ConfigMap, DeletionPolicy};
use crate::model::connector::Connector;
use crate::model::requests::OffsetsRequest;
use crate::model::status::{CmStatus, Declarations};
use crate::render::error::Templates;
use crate::text::Invalid;

/// One ConfigMap after rendering, with everything later stages need of it.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// Its namespace and name.
    pub id: CmId,
    /// Which version of which object the run saw.
    pub object: ObjectRef,
    /// The Connect cluster its connectors live on.
    pub cluster: String,
    /// What it asks for.
    pub state: CmState,
    /// Whether this run reconciles it, or only counts its names when looking
    /// for a connector declared twice.
    pub role: Role,
    /// Whether an Added, Modified or Deleted event named it (not only a resync).
    pub evented: bool,
    /// The connectors it declares.
    pub rendered: DeclaredConnectors,
    /// What earlier runs wrote on it.
    pub recorded: Recorded,
    /// What its annotations ask of this run.
    pub requests: Requests,
    /// Its deletion-policy annotation, when set (a bad value makes it
    /// [`CmState::Invalid`]); the plan's policy says what holds when unset.
    pub deletion: Option<DeletionPolicy>,
}

/// The object the API server holds, as the run saw it.
#[derive(Debug, Clone, Default)]
pub struct ObjectRef {
    /// Set by the API server; Events refer to it.
    pub uid: Option<String>,
    /// The version the run saw (see [`crate::model::status::OBSERVED`]).
    pub resource_version: Option<String>,
}

/// The connectors a ConfigMap declares: rendered, or as recorded.
#[derive(Debug, Clone, Default)]
pub struct DeclaredConnectors {
    /// Data key and what its template rendered to.
    pub templates: Templates,
    /// (data key, connector name) as an earlier run recorded them, for a
    /// ConfigMap this run does not act on and need not render (see
    /// [`crate::model::status::recorded_declarations`]); empty when it was rendered.
    pub unrendered: Declarations,
    /// The digest of what its names are rendered from ([`crate::model::status::source_digest`]).
    pub source: String,
}

/// What earlier runs recorded on a ConfigMap; all but the names only of a
/// ConfigMap the run acts on.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// Connector names an earlier run recorded.
    pub names: BTreeSet<String>,
    /// The status an earlier run recorded (restart attempts, handled requests).
    pub status: CmStatus,
    /// The status annotations it carries now, so that only a change is written.
    pub annotations: BTreeMap<String, String>,
    /// Whether it carries [`crate::model::status::UNREACHABLE_SINCE`], which
    /// the next run that reaches Connect removes.
    pub flagged_unreachable: bool,
}

/// What a ConfigMap's annotations ask of the run that acts on it.
#[derive(Debug, Clone, Default)]
pub struct Requests {
    /// The value of the restart-on-demand annotation, if set.
    pub restart: Option<String>,
    /// What the offsets annotation asks, if set (or why it cannot be done).
    pub offsets: Option<Result<OffsetsRequest, Invalid>>,
}

/// What a run does with a ConfigMap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Role {
    /// Reconciles it.
    Acting,
    /// Only counts the names it declares, to find a connector declared twice.
    #[default]
    NamesOnly,
}

/// What a ConfigMap asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CmState {
    /// Enabled: its connectors must exist as declared.
    #[default]
    Apply,
    /// `enabled: "false"`: its connectors must not exist.
    Remove,
    /// The ConfigMap was deleted: its connectors must not exist.
    Deleted,
    /// A label says something this run cannot honour: nothing is done.
    Invalid(String),
    /// Its namespace may not use the cluster it names: nothing of it is
    /// sent there, and its names claim nothing there (an intruder cannot
    /// keep the owner's connector from being deleted).
    Refused(String),
}

/// A ConfigMap to declare, and how this run treats it.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The ConfigMap as last seen.
    pub configmap: &'a ConfigMap,
    /// Whether this run reconciles it.
    pub role: Role,
    /// Whether an event named it.
    pub evented: bool,
    /// Whether it was deleted.
    pub deleted: bool,
    /// Whether its restart and offsets annotations are requests to act on:
    /// they are to the running operator, never in a manifest's diff.
    pub requests: bool,
}

impl CmState {
    /// Why nothing of the ConfigMap is applied, when nothing is.
    #[must_use]
    pub fn refusal(&self) -> Option<&str> {
        match self {
            CmState::Invalid(message) | CmState::Refused(message) => Some(message),
            CmState::Apply | CmState::Remove | CmState::Deleted => None,
        }
    }
}

impl Declared {
    /// Names it declares: what its templates render to now, or what its
    /// status records when it was not rendered.
    #[must_use]
    pub fn names(&self) -> BTreeSet<String> {
        self.declarations().map(|(_, name)| name.clone()).collect()
    }

    /// (data key, connector name) of every connector it declares, rendered
    /// or recorded.
    pub fn declarations(&self) -> impl Iterator<Item = (&String, &String)> {
        let rendered = self.rendered.templates.iter().filter_map(|(k, r)| Some((k, &r.as_ref().ok()?.name)));
        rendered.chain(self.rendered.unrendered.iter().map(|(k, n)| (k, n)))
    }

    /// (data key, old name) of each connector it declares as renamed
    /// (`renamedFrom`), while its connectors are to exist.
    pub fn renames(&self) -> impl Iterator<Item = (&String, &String)> {
        let applied = self.state == CmState::Apply;
        (self.rendered.templates.iter().filter(move |_| applied))
            .filter_map(|(k, r)| Some((k, r.as_ref().ok()?.renamed_from.as_ref()?)))
    }

    /// The connectors its templates rendered.
    pub fn connectors(&self) -> impl Iterator<Item = &Connector> {
        self.rendered.templates.iter().filter_map(|(_, r)| r.as_ref().ok())
    }

    /// Recorded names it no longer declares, so their connectors must go: a
    /// key was removed or a template now renders another name. Only when
    /// every template rendered (a failing one may still declare the name),
    /// except for a deleted ConfigMap, where they are all it has.
    #[must_use]
    pub fn leftovers(&self) -> Vec<&String> {
        let all_rendered = self.rendered.templates.iter().all(|(_, r)| r.is_ok());
        let names = self.names();
        match self.state {
            CmState::Apply | CmState::Remove if all_rendered => {}
            CmState::Deleted => {}
            _ => return Vec::new(),
        }
        self.recorded.names.iter().filter(|n| !names.contains(*n)).collect()
    }
}
