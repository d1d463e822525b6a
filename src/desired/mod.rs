//! The desired connectors: every ConfigMap rendered, with what it asks for
//! and the cluster it asks it of. The one place where both the hook and the
//! repository commands turn ConfigMaps into what the plan compares.

use std::collections::{BTreeMap, BTreeSet};

use log::{debug, warn};

use crate::connect::clusters::{self, Clusters};
use crate::model::configmap::{CmId, ConfigMap, Intent, RESTART_ANNOTATION, STATUS_ANNOTATION_PREFIX};
use crate::model::connector::Connector;
use crate::model::status::{self, CmStatus, Declarations};
use crate::render::error::{Located, RenderError};
use crate::render::namespaces::ByNamespace;
use crate::render::sandbox::{Renderer, ToRender};

mod declared;

pub use crate::render::error::Templates;
pub use declared::{CmState, Declared, DeclaredConnectors, ObjectRef, Recorded, Requests, Role, Source};

/// Connector names the run acts on: the live configs it must know.
#[must_use]
pub fn wanted(declared: &[Declared]) -> BTreeSet<String> {
    declared
        .iter()
        .filter(|d| d.role == Role::Acting && d.state.refusal().is_none())
        .flat_map(|d| {
            let renamed = d.connectors().filter_map(|c| c.renamed_from.clone());
            d.names().into_iter().chain(d.leftovers().into_iter().cloned()).chain(renamed)
        })
        .collect()
}

/// The connector a template renders, when it is known without rendering it
/// (see [`crate::render::cache`]): given the ConfigMap, the data key and the
/// ConfigMap's source digest.
pub type Reuse<'a> = &'a (dyn Fn(&ConfigMap, &str, &str) -> Option<Connector> + Sync);

/// Renders the ConfigMaps in one batch and says what each asks for. One
/// that the run does not act on is rendered only when the names recorded on
/// it may no longer be what it declares: an event run renders what it
/// touches, and takes the other names (to find a name declared twice) from
/// their status.
#[must_use]
pub fn declare(sources: &[Source], renderer: &Renderer, clusters: &Clusters) -> Vec<Declared> {
    declare_reusing(sources, renderer, clusters, &|_, _, _| None)
}

/// [`declare`], where a template whose connector `reuse` knows is not rendered.
#[must_use]
pub fn declare_reusing(sources: &[Source], renderer: &Renderer, clusters: &Clusters, reuse: Reuse) -> Vec<Declared> {
    let public = PublicProperties::of(renderer.variables());
    // Thousands on an event run: on every core.
    let cpus = crate::parallel::cores();
    let (digests, recorded): (Vec<String>, Vec<Option<Declarations>>) = crate::parallel::chunked(sources, cpus, |s| {
        let digest = status::source_digest(s.configmap, public.in_namespace(s.configmap.namespace()));
        let recorded = if s.role == Role::Acting {
            None
        } else {
            status::recorded_declarations(&s.configmap.annotations, &digest)
        };
        (digest, recorded)
    })
    .into_iter()
    .unzip();
    let to_render: Vec<(&Source, &str)> = (sources.iter().zip(&digests).zip(&recorded))
        .filter(|(_, r)| r.is_none())
        .map(|((s, d), _)| (s, d.as_str()))
        .collect();
    if to_render.len() < sources.len() {
        debug!(
            "rendering {} of {} ConfigMaps; the names the others declare are as their status records",
            to_render.len(),
            sources.len()
        );
    }
    let mut renderings = render(&to_render, renderer, reuse).into_iter();
    sources
        .iter()
        .zip(digests)
        .zip(recorded)
        .map(|((source, source_digest), unrendered)| {
            let cm = source.configmap;
            let (mut state, cluster) = state_of(cm, clusters);
            let templates = if unrendered.is_some() { Templates::new() } else { renderings.next().unwrap_or_default() };
            let templates = match clusters.all.get(&cluster) {
                Some(c) => c.tenancy.refuse_names(cm.namespace(), &cluster, templates),
                None => templates,
            };
            if source.deleted && state.refusal().is_none() {
                state = CmState::Deleted;
            }
            // What the run writes back and acts on is needed of the ConfigMaps it acts on alone.
            let acting = source.role == Role::Acting;
            let written = cm.annotations.range(STATUS_ANNOTATION_PREFIX.to_string()..).filter(|_| acting);
            let written = written.take_while(|(k, _)| k.starts_with(STATUS_ANNOTATION_PREFIX));
            let requests = acting && source.requests;
            // Read once: recorded declarations name every recorded connector.
            let recorded = match &unrendered {
                Some(declarations) => declarations.iter().map(|(_, name)| name.clone()).collect(),
                None => status::recorded_names(&cm.annotations),
            };
            Declared {
                id: cm.id.clone(),
                object: ObjectRef { uid: cm.uid.clone(), resource_version: cm.resource_version.clone() },
                cluster,
                state,
                role: source.role,
                evented: source.evented,
                rendered: DeclaredConnectors {
                    templates,
                    unrendered: unrendered.unwrap_or_default(),
                    source: source_digest,
                },
                recorded: Recorded {
                    names: recorded,
                    status: if acting { CmStatus::recorded(&cm.annotations) } else { CmStatus::default() },
                    annotations: written.map(|(k, v)| (k.clone(), v.clone())).collect(),
                    flagged_unreachable: acting && cm.annotations.contains_key(status::UNREACHABLE_SINCE),
                },
                requests: Requests {
                    restart: cm.annotations.get(RESTART_ANNOTATION).filter(|_| requests).cloned(),
                    offsets: if requests { cm.offsets_request() } else { None },
                },
                deletion: cm.deletion_policy().ok().flatten(),
            }
        })
        .collect()
}

/// The public variables from properties files, by name, of each
/// namespace: what a connector name may be computed from, besides the
/// environment, and so part of a ConfigMap's source digest.
struct PublicProperties<'v> {
    variables: &'v ByNamespace,
    shared: BTreeMap<&'v str, &'v str>,
    own: BTreeMap<&'v str, BTreeMap<&'v str, &'v str>>,
}

impl<'v> PublicProperties<'v> {
    fn of(variables: &'v ByNamespace) -> PublicProperties<'v> {
        let shared = variables.shared_variables().public_properties();
        let own = variables.own().map(|(ns, v)| (ns, v.public_properties())).collect();
        PublicProperties { variables, shared, own }
    }

    /// Those of a ConfigMap in `namespace`.
    fn in_namespace(&self, namespace: &str) -> &BTreeMap<&'v str, &'v str> {
        self.variables.own_namespace(namespace).and_then(|ns| self.own.get(ns)).unwrap_or(&self.shared)
    }
}

/// What a ConfigMap asks for, and the cluster it asks it of. A ConfigMap
/// naming an unknown cluster is an error for it alone; it is kept with the
/// default cluster, where its names still guard against pruning.
fn state_of(cm: &ConfigMap, clusters: &Clusters) -> (CmState, String) {
    let cluster = match clusters.of(cm) {
        Ok(cluster) => cluster,
        Err(e) => return (CmState::Invalid(format!("{e:#}")), clusters::DEFAULT.into()),
    };
    if let Err(refusal) = cluster.tenancy.admit(cm.namespace(), &cluster.name) {
        return (CmState::Refused(refusal.to_string()), cluster.name.clone());
    }
    let cluster = cluster.name.clone();
    let state = match (cm.intent(), cm.deletion_policy()) {
        (Err(e), _) | (_, Err(e)) => CmState::Invalid(format!("{e:#}")),
        (Ok(Intent::Apply), Ok(_)) => CmState::Apply,
        (Ok(Intent::Remove), Ok(_)) => CmState::Remove,
    };
    (state, cluster)
}

/// What a template gets if the renderer returned too few results (a bug).
const MISSING: &str = "internal error: the template was not rendered";

/// Renders the templates of many ConfigMaps (with their source digests) in
/// one batch: every data key is one template, unless `reuse` knows what it
/// renders; `binaryData` keys cannot be templates.
fn render(sources: &[(&Source, &str)], renderer: &Renderer, reuse: Reuse) -> Vec<Templates> {
    // Knowing a template's connector digests a config: thousands on a resync, on every core.
    let reused: Vec<Vec<Option<Connector>>> =
        crate::parallel::chunked(sources, crate::parallel::cores(), |(s, source)| {
            s.configmap.data.keys().map(|key| reuse(s.configmap, key, source)).collect()
        });
    let codes: Vec<ToRender> = (sources.iter().zip(&reused))
        .flat_map(|((s, _), reused)| {
            let configmap = &s.configmap.id;
            let unknown = s.configmap.data.values().zip(reused).filter(|(_, r)| r.is_none());
            unknown.map(move |(code, _)| ToRender { configmap, code })
        })
        .collect();
    let known = reused.iter().flatten().filter(|r| r.is_some()).count();
    if known > 0 {
        debug!("{known} templates render what they rendered before (see the render cache); rendering {}", codes.len());
    }
    let mut results = if codes.is_empty() { Vec::new() } else { renderer.render_all(&codes) }.into_iter();
    let mut all: Vec<Templates> = sources
        .iter()
        .zip(reused)
        .map(|((source, _), reused)| {
            let cm = source.configmap;
            let mut templates: Templates = (cm.data.keys().zip(reused))
                .map(|(key, known)| {
                    let result = match known {
                        Some(connector) => Ok(connector),
                        None => results.next().unwrap_or_else(|| Err(RenderError::Internal(MISSING.into()))),
                    };
                    (key.clone(), result)
                })
                .collect();
            let binary = || RenderError::Refused(Located::nowhere("a binaryData key cannot hold a template; use data"));
            templates.extend(cm.binary_keys.iter().map(|k| (k.clone(), Err(binary()))));
            templates
        })
        .collect();
    names_of_disabled(sources, &mut all, renderer);
    all
}

/// A disabled ConfigMap's connectors need only their names to be deleted:
/// a template that failed there (an `env.NAME` no longer set, say) is
/// rendered again for its name alone, its config left empty.
fn names_of_disabled(sources: &[(&Source, &str)], templates: &mut [Templates], renderer: &Renderer) {
    let mut failed: Vec<(usize, usize, &CmId, String)> = Vec::new();
    for (i, ((source, _), of_one)) in sources.iter().zip(templates.iter()).enumerate() {
        if !matches!(source.configmap.intent(), Ok(Intent::Remove)) {
            continue;
        }
        for (j, (key, result)) in of_one.iter().enumerate() {
            if let (Err(_), Some(code)) = (result, source.configmap.data.get(key)) {
                failed.push((i, j, &source.configmap.id, format!("({code}\n) | {{name: .name, config: {{}}}}")));
            }
        }
    }
    if failed.is_empty() {
        return;
    }
    let codes: Vec<ToRender> = failed.iter().map(|(_, _, configmap, code)| ToRender { configmap, code }).collect();
    for ((i, j, _, _), named) in failed.iter().zip(renderer.render_all(&codes)) {
        let (Some((source, _)), Some(slot)) = (sources.get(*i), templates.get_mut(*i).and_then(|t| t.get_mut(*j)))
        else {
            continue;
        };
        if let (Ok(connector), Err(error)) = (named, &slot.1) {
            warn!(
                "ConfigMap {} key {}: disabled, so the hook deletes its connector {} by name although its template failed: {error}",
                source.configmap.id, slot.0, connector.name
            );
            slot.1 = Ok(connector);
        }
    }
}
