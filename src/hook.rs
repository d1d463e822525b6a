//! One hook run: binding contexts -> declared connectors -> live state ->
//! plan -> writes -> what shell-operator writes back. The only room that
//! sees the binding contexts.

use std::collections::{BTreeMap, BTreeSet};
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use log::{error, info};

use crate::connect::api::READ_EACH_MAX;
use crate::connect::clusters::{Cluster, Clusters};
use crate::connect::listing::Listed;
use crate::connect::{Caller, Client, Failure};
use crate::desired::{self, Declared, Role, Source};
use crate::execute::{self, How, Report, StepResult};
use crate::input::bindings::{Seen, Work};
use crate::model::configmap::ConfigMap;
use crate::model::live::Live;
use crate::model::scope::Scope;
use crate::plan::{self, Plan};
use crate::redact::Scrubber;
use crate::render::cache::Cache;
use crate::render::sandbox::Renderer;
use crate::settings::Options;
use crate::writeback::{self, ownership, Output};

/// The whole hook run after the binding contexts are read, in phases: read
/// the clusters (a full run), declare (with the render cache), group by
/// cluster, reconcile, write back. Each cluster is read, planned and
/// written on its own thread, with its own concurrency: one that is down
/// fails the run (so it is retried) without holding back the others.
/// Called once per process, which ends after it: what the run declared is
/// not freed.
#[must_use]
pub fn run(work: &Work, renderer: &Renderer, clusters: &Clusters, options: &Options) -> Report {
    let started = Instant::now();
    for problem in &work.problems {
        error!("{problem}");
    }
    let scrubber = renderer.scrubber();
    let (outcomes, render_time) = std::thread::scope(|scope| {
        let mut connections = read(scope, work, clusters, scrubber);
        let (declared, render_time) = declare(work, renderer, clusters, options, &mut connections);
        let by_cluster = group(work, clusters, declared);
        (reconcile(scope, work, by_cluster, connections, scrubber, options), render_time)
    });
    let (report, requests) = write_back(work, outcomes, options);
    info!(
        "run finished in {:?} (templates {:?}, {} Connect requests): {}",
        started.elapsed(),
        render_time,
        requests,
        report.summary()
    );
    report
}

/// A cluster's connection during a run: being made on its own thread while
/// the templates render, or made.
enum Pending<'scope> {
    Connecting(ScopedJoinHandle<'scope, ConnectResult>),
    Ready(Box<ConnectResult>),
}

/// The connections of a run so far, by cluster name.
type Connections<'scope, 'env> = BTreeMap<&'env str, Pending<'scope>>;

impl Pending<'_> {
    /// The connection, once made; one whose thread panicked is made again
    /// here, and fails here if it must.
    fn wait(self, cluster: &Cluster, scrubber: &Scrubber) -> ConnectResult {
        match self {
            Pending::Ready(connected) => *connected,
            Pending::Connecting(handle) => handle.join().unwrap_or_else(|_| connect(cluster, scrubber)),
        }
    }
}

/// A full run reads every cluster whatever is declared: the one request for
/// each connector list is sent while the templates render.
fn read<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    work: &Work,
    clusters: &'env Clusters,
    scrubber: &'env Scrubber,
) -> Connections<'scope, 'env> {
    if work.scope != Scope::Full {
        return Connections::new();
    }
    let connecting = |cluster| Pending::Connecting(scope.spawn(move || connect_listing(cluster, scrubber)));
    clusters.all.iter().map(|(name, cluster)| (name.as_str(), connecting(cluster))).collect()
}

/// Renders what the run knows of, reusing what the render cache kept where
/// the connector lists confirm it (kept renders are checked against them:
/// they are waited for), and keeps this run's renders for the next; with
/// the time the templates took, the wait for those lists left out.
fn declare(
    work: &Work,
    renderer: &Renderer,
    clusters: &Clusters,
    options: &Options,
    connections: &mut Connections<'_, '_>,
) -> (Vec<Declared>, Duration) {
    let sources = sources(work);
    let cache = options.render_cache.as_deref().filter(|_| work.scope == Scope::Full);
    let cache = cache.and_then(|path| Cache::open(path, renderer.variables()));
    if cache.as_ref().is_some_and(|c| !c.is_empty()) {
        for (name, pending) in std::mem::take(connections) {
            let Some(cluster) = clusters.all.get(name) else { continue };
            connections.insert(name, Pending::Ready(Box::new(pending.wait(cluster, renderer.scrubber()))));
        }
    }
    let rendering = Instant::now();
    let reuse = |cm: &ConfigMap, key: &str, source: &str| {
        let Some(Pending::Ready(listed)) = connections.get(clusters.of(cm).ok()?.name.as_str()) else { return None };
        cache.as_ref()?.reuse(&cm.id, key, source, |name| listed_config(listed, name))
    };
    let declared = desired::declare_reusing(&sources, renderer, clusters, &reuse);
    if let Some(mut cache) = cache {
        keep(&mut cache, &sources, &declared);
        cache.save();
    }
    let render_time = rendering.elapsed();
    if !declared.iter().any(|d| d.role == Role::Acting) {
        info!("nothing to reconcile in this run");
    }
    (declared, render_time)
}

/// The declared ConfigMaps by cluster; a full run looks at every cluster,
/// for what to prune.
fn group<'env>(
    work: &Work,
    clusters: &'env Clusters,
    declared: Vec<Declared>,
) -> BTreeMap<&'env str, (&'env Cluster, Vec<Declared>)> {
    let mut by_cluster: BTreeMap<&str, (&Cluster, Vec<Declared>)> = BTreeMap::new();
    if work.scope == Scope::Full {
        for (name, cluster) in &clusters.all {
            by_cluster.insert(name, (cluster, Vec::new()));
        }
    }
    for d in declared {
        // Every ConfigMap names a configured cluster: an unknown one is kept on `default`.
        let Some((name, cluster)) = clusters.all.get_key_value(&d.cluster) else { continue };
        by_cluster.entry(name).or_insert_with(|| (cluster, Vec::new())).1.push(d);
    }
    by_cluster
}

/// Reconciles each cluster on its own thread, on the connection the run
/// made for it or a new one.
fn reconcile<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    work: &'env Work,
    by_cluster: BTreeMap<&'env str, (&'env Cluster, Vec<Declared>)>,
    mut connections: Connections<'scope, 'env>,
    scrubber: &'env Scrubber,
    options: &'env Options,
) -> Vec<Outcome> {
    let handles: Vec<_> = by_cluster
        .into_iter()
        .map(|(name, (cluster, declared))| {
            let pending = connections.remove(name);
            scope.spawn(move || {
                let connected = match pending {
                    Some(pending) => pending.wait(cluster, scrubber),
                    None => connect(cluster, scrubber),
                };
                let outcome = run_cluster(work, &declared, cluster, connected, scrubber, options);
                // Left for the process's end, like the ConfigMaps they came from (see main).
                std::mem::forget(declared);
                outcome
            })
        })
        .collect();
    // A cluster whose thread panicked is left to the next run, like one that is down.
    let failed = || Outcome { report: Report { unfinished: 1, ..Report::default() }, ..Outcome::default() };
    handles.into_iter().map(|h| h.join().unwrap_or_else(|_| failed())).collect()
}

/// The clusters' outcomes as one report, and what shell-operator is to
/// write back, handed to it when the run succeeded; with the requests sent.
fn write_back(work: &Work, outcomes: Vec<Outcome>, options: &Options) -> (Report, usize) {
    let mut report = Report { failed: work.problems.len(), ..Report::default() };
    let mut output = Output::default();
    let mut requests = 0;
    for outcome in outcomes {
        report.add(&outcome.report);
        output.patches.extend(outcome.output.patches);
        output.metrics.extend(outcome.output.metrics);
        requests += outcome.requests;
    }
    if report.success() && !options.dry_run {
        if let Err(e) = output.write() {
            // shell-operator would lose the status: fail so the run is retried.
            error!("{e:#}");
            report.unfinished += 1;
        }
    }
    (report, requests)
}

/// A cluster's client, and its connector list when a full run read it
/// early (configs of every connector: the names wanted are not known yet).
struct Connection {
    client: Client,
    listed: Option<Result<Listed, Failure>>,
}

/// A cluster's connection, or why there is none.
type ConnectResult = anyhow::Result<Connection>;

/// One cluster's part of a run: its report, what to write back, and the
/// requests it sent.
#[derive(Default)]
struct Outcome {
    report: Report,
    output: Output,
    requests: usize,
}

fn connect(cluster: &Cluster, scrubber: &Scrubber) -> ConnectResult {
    let client = Client::new(&cluster.settings, scrubber).with_context(|| format!("cluster {}", cluster.name))?;
    Ok(Connection { client, listed: None })
}

/// A connection whose connector list is read at once.
fn connect_listing(cluster: &Cluster, scrubber: &Scrubber) -> ConnectResult {
    let connection = connect(cluster, scrubber)?;
    let listed = connection.client.read_listing(None);
    Ok(Connection { listed: Some(listed), ..connection })
}

/// The config of connector `name` in a cluster's connector list, if read.
fn listed_config<'a>(connected: &'a ConnectResult, name: &str) -> Option<&'a BTreeMap<String, String>> {
    connected.as_ref().ok()?.listed.as_ref()?.as_ref().ok()?.config(name)
}

/// Keeps what each template of the run rendered, for the next resync.
fn keep(cache: &mut Cache, sources: &[Source], declared: &[Declared]) {
    for (source, d) in sources.iter().zip(declared) {
        for (key, result) in &d.rendered.templates {
            if let (Ok(connector), Some(code)) = (result, source.configmap.data.get(key)) {
                cache.keep(&d.id, key, code, &d.rendered.source, connector);
            }
        }
    }
}

/// Every ConfigMap the run knows of: those it acts on, and the others for
/// the names they declare.
#[must_use]
pub fn sources(work: &Work) -> Vec<Source<'_>> {
    work.seen
        .iter()
        .map(|(id, seen)| Source {
            configmap: seen.configmap(),
            role: if work.touched.contains(id) { Role::Acting } else { Role::NamesOnly },
            evented: work.evented.contains(id),
            deleted: matches!(seen, Seen::Deleted(_)),
            requests: true,
        })
        .collect()
}

/// Follows what the run changed (not what it restarted, whose count of
/// restarts needs the state before) for up to `ready_wait`, so the status
/// says where it got; returns the live state with theirs read after the
/// writes, and their names.
fn settle(
    client: &Client,
    cluster: &str,
    plan: &Plan,
    results: &[StepResult],
    mut live: Live,
    scrubber: &Scrubber,
    ready_wait: Duration,
) -> (Live, BTreeSet<String>) {
    let followed = crate::settle::followed(plan, results, Caller::Hook);
    if followed.is_empty() || ready_wait.is_zero() {
        return (live, BTreeSet::new());
    }
    let settled = crate::settle::wait(client, cluster, &followed, ready_wait, scrubber, Caller::Hook);
    let Some(after) = settled.live else { return (live, BTreeSet::new()) };
    let mut read = BTreeSet::new();
    for name in followed.keys() {
        if let Some(status) = after.status.get(name) {
            live.status.insert(name.clone(), status.clone());
            read.insert(name.clone());
        }
    }
    (live, read)
}

/// Connect did not answer: the statuses say so where they do not yet, in a
/// run that succeeds so shell-operator writes them; once they say it, the
/// run fails, and shell-operator retries it.
fn unreachable(declared: &[Declared], cluster: &str, message: &str, options: &Options) -> Outcome {
    let patches = writeback::annotations::unreachable(declared, cluster, message, &now());
    if patches.is_empty() || options.dry_run {
        return retry_later(message);
    }
    error!("{message}");
    info!("the status of {} ConfigMap(s) now says Connect is unreachable; the hook runs again at once", patches.len());
    Outcome { output: Output { patches, ..Output::default() }, ..Outcome::default() }
}

/// A cluster's part that failed before it wrote anything: said, and left
/// for shell-operator to run again.
fn retry_later(message: &str) -> Outcome {
    error!("{message}");
    Outcome { report: Report { unfinished: 1, ..Report::default() }, ..Outcome::default() }
}

/// The time written into statuses and annotations.
fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// One cluster's part of a run.
fn run_cluster(
    work: &Work,
    declared: &[Declared],
    cluster: &Cluster,
    connected: ConnectResult,
    scrubber: &Scrubber,
    options: &Options,
) -> Outcome {
    let Connection { client, listed } = match connected {
        Ok(connection) => connection,
        Err(e) => return retry_later(&format!("{e:#}")),
    };
    let wanted = desired::wanted(declared);
    // A full run reads Connect even when nothing is declared, to find what to prune.
    let live = match listed {
        Some(listed) => listed.and_then(|listed| client.complete(listed, &wanted)),
        None if wanted.is_empty() && work.scope == Scope::Event => Ok(Live::default()),
        None if wanted.len() <= READ_EACH_MAX && work.scope == Scope::Event => client.read_each(&wanted),
        None => client.read_live(&wanted),
    };
    let live = match live {
        Ok(live) => live,
        Err(failure) => {
            return unreachable(declared, &cluster.name, &failure.reading(&cluster.name, scrubber), options)
        }
    };
    let owned = ownership::owned(work.state.as_ref(), &cluster.name);
    let plan = plan::build(declared, &live, &owned, work.scope, &options.policy);
    let how = How { dry_run: options.dry_run, max_restarts: options.policy.restarts.max(), progress: None };
    let (report, results) = execute::execute(&plan, &client, scrubber, &how);
    let mut output = Output::default();
    if report.success() && !options.dry_run {
        let (live, settled) = settle(&client, &cluster.name, &plan, &results, live, scrubber, options.ready_wait);
        let now = now();
        let run = writeback::Run {
            declared,
            plan: &plan,
            results: &results,
            live: &live,
            settled: &settled,
            now,
            policy: &options.policy,
            cluster: &cluster.name,
            scope: work.scope,
            synchronization: work.synchronization,
        };
        output = writeback::output(&run);
        output.patches.extend(ownership::record(&owned, &plan, &results, &options.policy.namespace, &cluster.name));
    }
    Outcome { report, output, requests: client.requests_sent() }
}
