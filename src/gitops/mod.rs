//! The repository commands: the hook's engine run on the ConfigMap
//! manifests in a repository, for CI pipelines and people at a terminal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use log::{error, warn};

use crate::connect::clusters::Clusters;
use crate::connect::Client;
use crate::desired::{self, Declared, Role, Source};
use crate::input::manifests::{self, Manifest, Read};
use crate::model::live::Live;
use crate::model::scope::Scope;
use crate::plan::{self, DeleteLimit, Owned, Plan, Prune, Restarts};
use crate::redact::Scrubber;
use crate::render::error::RenderError;
use crate::settings::{self, ConnectArgs, Manifests, Sources};

pub mod apply;
pub mod classes;
pub mod output;
pub mod render;
pub mod secrets;
pub mod status;
pub mod validate;

/// How a command ended, beyond success: each maps to its exit status in
/// one place (`main`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 0: all is as declared, or all was done.
    Done,
    /// 1: something failed, is wrong in the manifests, or the command line
    /// is wrong: no error shares a code with a result (as `terraform plan`).
    Failed,
    /// 2: `diff` (and `apply --dry-run`) would change something.
    Changes,
    /// 3: `status` found connectors not as declared.
    NotAsDeclared,
}

/// Everything read from the manifests: declared connectors, rendered, and
/// the file each came from.
pub struct Sourced {
    /// Hides every secret value the templates could read.
    pub scrubber: Scrubber,
    /// In the order of the manifests.
    pub declared: Vec<Declared>,
    /// The file each ConfigMap came from.
    pub files: Vec<PathBuf>,
}

/// How a command reads the manifests.
#[derive(Debug, Clone, Copy)]
pub enum Reading {
    /// To act on every connector they declare: the current directory when no
    /// path is named, and an error when they declare nothing, unless allowed.
    Every {
        /// `--allow-empty`.
        allow_empty: bool,
    },
    /// To look one connector up: only the paths named, which may be none.
    Lookup,
}

impl Sources {
    /// How the commands that act on every connector read them.
    #[must_use]
    pub fn reading(&self) -> Reading {
        Reading::Every { allow_empty: self.allow_empty }
    }
}

/// Reads the manifests and renders them as the hook does, says which
/// documents were probably meant to be selected, and refuses what
/// `reading` does not allow.
pub fn source(sources: &Manifests, clusters: &Clusters, reading: Reading) -> Result<Sourced> {
    let renderer = sources.renderer()?;
    let current = [PathBuf::from(".")];
    let paths = match reading {
        Reading::Every { .. } if sources.paths.is_empty() => &current[..],
        _ => &sources.paths[..],
    };
    let read = manifests::read_manifests(paths);
    for miss in &read.near_misses {
        warn!("{miss}");
    }
    if !read.errors.is_empty() {
        for e in &read.errors {
            error!("{e:#}");
        }
        let n = read.errors.len();
        bail!(
            "{n} manifest {} could not be read (said above); nothing was done",
            if n == 1 { "file" } else { "files" }
        );
    }
    if let Reading::Every { allow_empty: false } = reading {
        check_not_empty(&read, paths)?;
    }
    let mut declared = desired::declare(&sources_of(&read.manifests), &renderer, clusters);
    if !sources.templates.config_dir.is_dir() {
        hint_config_dir(&mut declared, &sources.templates.config_dir);
    }
    let files: Vec<PathBuf> = read.manifests.into_iter().map(|m| m.file).collect();
    check_declared_once(&declared, &files)?;
    Ok(Sourced { scrubber: renderer.scrubber().clone(), declared, files })
}

/// How jaq names a `$VARIABLE` no properties file defines.
const UNDEFINED_VARIABLE: &str = "undefined variable `$";

/// Adds to each error about an undefined `$VARIABLE` that there is no
/// properties directory, and how to name one: at a terminal, the usual cause.
fn hint_config_dir(declared: &mut [Declared], dir: &Path) {
    let errors =
        declared.iter_mut().flat_map(|d| d.rendered.templates.iter_mut()).filter_map(|(_, r)| r.as_mut().err());
    let hint = format!(
        "no properties directory at {}, so no `$VARIABLES` are defined: name the folder of the *.properties \
         files with --config-dir",
        dir.display()
    );
    for error in errors {
        let taken = std::mem::replace(error, RenderError::Internal(String::new()));
        *error =
            taken.map_message(|m| if m.contains(UNDEFINED_VARIABLE) { format!("{m}\n{hint}") } else { m.to_string() });
    }
}

/// Refuses a connector name declared in more than one place on one cluster,
/// naming each place. The hook applies only the declaration of the
/// ConfigMap that owns the connector (none while none does), and these
/// commands do not read the cluster's ownership record: they cannot tell
/// which one would apply, so none passes.
fn check_declared_once(declared: &[Declared], files: &[PathBuf]) -> Result<()> {
    let mut places: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for (d, file) in declared.iter().zip(files) {
        for (key, name) in d.declarations() {
            let place = format!("ConfigMap {} key {key} ({})", d.id, file.display());
            places.entry((d.cluster.as_str(), name.as_str())).or_default().push(place);
        }
    }
    let twice: Vec<_> = places.into_iter().filter(|(_, places)| places.len() > 1).collect();
    for ((cluster, name), places) in &twice {
        error!(
            "connector {name} is declared {} times for cluster {cluster}: {}; the hook applies only the one whose \
             ConfigMap owns the connector, or none while none does, so none passes here",
            places.len(),
            places.join(", ")
        );
    }
    match twice.len() {
        0 => Ok(()),
        1 => bail!("1 connector name is declared more than once (said above); nothing was done"),
        n => bail!("{n} connector names are declared more than once (said above); nothing was done"),
    }
}

/// The manifests as the run treats them: all acted on; restart and offsets
/// annotations are requests to the running operator, not part of a diff.
#[must_use]
pub fn sources_of(manifests: &[Manifest]) -> Vec<Source<'_>> {
    manifests
        .iter()
        .map(|m| Source {
            configmap: &m.configmap,
            role: Role::Acting,
            evented: false,
            deleted: false,
            requests: false,
        })
        .collect()
}

fn check_not_empty(read: &Read, paths: &[PathBuf]) -> Result<()> {
    if !read.manifests.is_empty() {
        return Ok(());
    }
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let hint = if read.near_misses.is_empty() { "" } else { " (see the warnings above)" };
    bail!(
        "no ConfigMap labelled destination=connect in {} ({} read){hint}; pass --allow-empty if that is intended",
        paths.join(", "),
        read.counts()
    )
}

/// The declared ConfigMaps of each cluster, in name order.
#[must_use]
pub fn by_cluster(declared: Vec<Declared>) -> BTreeMap<String, Vec<Declared>> {
    let mut by_cluster: BTreeMap<String, Vec<Declared>> = BTreeMap::new();
    for d in declared {
        by_cluster.entry(d.cluster.clone()).or_default().push(d);
    }
    by_cluster
}

/// Connect and what it runs, for one cluster.
pub struct Connected {
    /// The cluster's name.
    pub cluster: String,
    /// Its client.
    pub client: Client,
    /// What it runs, read once.
    pub live: Live,
}

/// Connects to cluster `name` and reads what it runs, once.
pub fn connect(name: &str, clusters: &Clusters, declared: &[Declared], scrubber: &Scrubber) -> Result<Connected> {
    let client = Client::new(&clusters.get(name)?.settings, scrubber)?;
    let live = client.read_live(&desired::wanted(declared)).map_err(|f| anyhow::anyhow!(f.reading(name, scrubber)))?;
    Ok(Connected { cluster: name.to_string(), client, live })
}

/// What `diff` and `apply` share, for one cluster: Connect, and the plan
/// made by the hook's engine.
pub struct Planned {
    /// The cluster, its client and what it runs.
    pub connected: Connected,
    /// What to do there.
    pub plan: Plan,
}

/// The plan of every cluster the manifests name (every configured one with `prune`).
pub fn planned(
    sources: &Sources,
    connect_args: &ConnectArgs,
    prune: bool,
    delete_limit: DeleteLimit,
    restarts: Restarts,
    concurrency: usize,
) -> Result<(Scrubber, Vec<Planned>)> {
    let clusters = connect_args.writing_clusters(concurrency)?;
    let Sourced { scrubber, declared, .. } = source(&sources.manifests, &clusters, sources.reading())?;
    if prune && declared.iter().all(|d| d.declarations().next().is_none()) {
        bail!(
            "--prune refused: the manifests declare no connector, so it would delete every connector of every cluster"
        );
    }
    let mut by_cluster = by_cluster(declared);
    if prune {
        for name in clusters.all.keys() {
            by_cluster.entry(name.clone()).or_default();
        }
    }
    let policy =
        plan::Policy { delete_limit, ..settings::policy(restarts, if prune { Prune::All } else { Prune::Off }) };
    let mut planned = Vec::new();
    for (name, declared) in by_cluster {
        let connected = connect(&name, &clusters, &declared, &scrubber)?;
        // The manifests are everything declared: a full run, as the hook's resync.
        let plan = plan::build(&declared, &connected.live, &Owned::default(), Scope::Full, &policy);
        planned.push(Planned { connected, plan });
    }
    Ok((scrubber, planned))
}
