//! One hook run: binding contexts -> declared connectors -> live state ->
//! plan -> writes -> what shell-operator writes back. The only room that
//! sees the binding contexts.

use std::collections::{BTreeMap, BTreeSet};
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};

use log::{error, info};

use crate::connect::clusters::{Cluster, Clusters};
use crate::connect::listing::Listed;
use crate::connect::{Client, Failure};
use crate::desired::{self, Declared, Source};
use crate::execute::{self, How, Report, StepResult};
use crate::input::bindings::{Seen, Work};
use crate::model::configmap::ConfigMap;
use crate::model::live::Live;
use crate::plan::{self, Plan};
use crate::render::cache::Cache;
use crate::render::redact::Scrubber;
use crate::render::sandbox::Renderer;
use crate::settings::Options;
use crate::writeback::{self, ownership, Output};

/// The whole hook run after the binding contexts are read. Each cluster is
/// read, planned and written on its own thread, with its own concurrency:
/// one that is down fails the run (so it is retried) without holding back
/// the others. Called once per process, which ends after it: what the
/// run declared is not freed.
#[must_use]
pub fn run(work: &Work, renderer: &Renderer, clusters: &Clusters, options: &Options) -> Report {
    let started = Instant::now();
    for problem in &work.problems {
        error!("{problem}");
    }
    let scrubber = renderer.scrubber();
    let (done, render_time): (Vec<(Report, Output, usize)>, _) = std::thread::scope(|scope| {
        // A full run reads every cluster whatever is declared: the one
        // request for each connector list is sent while the templates render.
        let mut early: BTreeMap<&str, _> = BTreeMap::new();
        if work.full {
            for (name, cluster) in &clusters.all {
                early.insert(name.as_str(), scope.spawn(move || connect(cluster, scrubber, true)));
            }
        }
        let sources = sources(work);
        let cache = options.render_cache.as_deref().filter(|_| work.full);
        let cache = cache.and_then(|path| Cache::open(path, renderer.variables()));
        // Kept renders are checked against the connector lists: they are waited for.
        let mut ready: BTreeMap<&str, Connected> = BTreeMap::new();
        if cache.as_ref().is_some_and(|c| !c.is_empty()) {
            for (name, cluster) in &clusters.all {
                if let Some(handle) = early.remove(name.as_str()) {
                    ready.insert(name.as_str(), joined(handle, cluster, scrubber));
                }
            }
        }
        // From here: the connector lists waited for above are Connect's time, not the templates'.
        let rendering = Instant::now();
        let reuse = |cm: &ConfigMap, key: &str, source: &str| {
            let listed = ready.get(clusters.of(cm).ok()?.name.as_str())?;
            cache.as_ref()?.reuse(&cm.id, key, source, |name| listed_config(listed, name))
        };
        let declared = desired::declare_reusing(&sources, renderer, clusters, &reuse);
        if let Some(mut cache) = cache {
            keep(&mut cache, &sources, &declared);
            cache.save();
        }
        let render_time = rendering.elapsed();
        if !declared.iter().any(|d| d.act) {
            info!("nothing to reconcile in this run");
        }
        let mut by_cluster: BTreeMap<&str, (&Cluster, Vec<Declared>)> = BTreeMap::new();
        if work.full {
            // A full run looks at every cluster, for what to prune.
            for (name, cluster) in &clusters.all {
                by_cluster.insert(name, (cluster, Vec::new()));
            }
        }
        for d in declared {
            // Every ConfigMap names a configured cluster: an unknown one is kept on `default`.
            let Some((name, cluster)) = clusters.all.get_key_value(&d.cluster) else { continue };
            by_cluster.entry(name).or_insert_with(|| (cluster, Vec::new())).1.push(d);
        }
        let handles: Vec<_> = by_cluster
            .into_iter()
            .map(|(name, (cluster, declared))| {
                let (early, ready) = (early.remove(name), ready.remove(name));
                scope.spawn(move || {
                    let connected = match (ready, early) {
                        (Some(connected), _) => connected,
                        (None, Some(early)) => joined(early, cluster, scrubber),
                        (None, None) => connect(cluster, scrubber, false),
                    };
                    let done = run_cluster(work, &declared, cluster, connected, scrubber, options);
                    // Left for the process's end, like the ConfigMaps they came from (see main).
                    std::mem::forget(declared);
                    done
                })
            })
            .collect();
        // A cluster whose thread panicked is left to the next run, like one that is down.
        let failed = || (Report { unfinished: 1, ..Report::default() }, Output::default(), 0);
        (handles.into_iter().map(|h| h.join().unwrap_or_else(|_| failed())).collect(), render_time)
    });
    let mut report = Report { failed: work.problems.len(), ..Report::default() };
    let mut output = Output::default();
    let mut requests = 0;
    for (r, o, sent) in done {
        report.add(&r);
        output.patches.extend(o.patches);
        output.metrics.extend(o.metrics);
        requests += sent;
    }
    if report.success() && !options.dry_run {
        if let Err(e) = output.write() {
            // shell-operator would lose the status: fail so the run is retried.
            error!("{e:#}");
            report.unfinished += 1;
        }
    }
    info!(
        "run finished in {:?} (templates {:?}, {} Connect requests): {}",
        started.elapsed(),
        render_time,
        requests,
        report.summary()
    );
    report
}

/// An event run that acts on at most this many connectors reads each of
/// them (two requests apiece, in parallel) instead of listing the cluster:
/// the list costs Connect and the hook in proportion to every connector on
/// the cluster, these requests in proportion to the event.
const READ_EACH_MAX: usize = 8;

/// A cluster's client, and with `list` its connector list read already
/// (configs of every connector: the names wanted are not known yet); or why
/// there is no client.
type Connected = Result<(Client, Option<Result<Listed, Failure>>), String>;

fn connect(cluster: &Cluster, scrubber: &Scrubber, list: bool) -> Connected {
    let client = Client::new(&cluster.settings, scrubber).map_err(|e| format!("cluster {}: {e:#}", cluster.name))?;
    let listed = list.then(|| client.read_listing(None));
    Ok((client, listed))
}

/// The connection made while the templates rendered; one whose thread
/// panicked is made again here, and fails here if it must.
fn joined(early: ScopedJoinHandle<'_, Connected>, cluster: &Cluster, scrubber: &Scrubber) -> Connected {
    early.join().unwrap_or_else(|_| connect(cluster, scrubber, false))
}

/// The config of connector `name` in a cluster's connector list, if read.
fn listed_config<'a>(connected: &'a Connected, name: &str) -> Option<&'a BTreeMap<String, String>> {
    connected.as_ref().ok()?.1.as_ref()?.as_ref().ok()?.config(name)
}

/// Keeps what each template of the run rendered, for the next resync.
fn keep(cache: &mut Cache, sources: &[Source], declared: &[Declared]) {
    for (source, d) in sources.iter().zip(declared) {
        for (key, result) in &d.templates {
            if let (Ok(connector), Some(code)) = (result, source.configmap.data.get(key)) {
                cache.keep(&d.id, key, code, &d.source, connector);
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
            act: work.touched.contains(id),
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
    let followed = crate::settle::followed(plan, results, false);
    if followed.is_empty() || ready_wait.is_zero() {
        return (live, BTreeSet::new());
    }
    let settled =
        crate::settle::wait(client, cluster, &followed, ready_wait, scrubber, false, crate::settle::HOOK_POLL);
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
fn unreachable(declared: &[Declared], cluster: &str, message: &str, options: &Options) -> (Report, Output, usize) {
    let patches = writeback::annotations::unreachable(declared, cluster, message, &now());
    if patches.is_empty() || options.dry_run {
        return retry_later(message);
    }
    error!("{message}");
    info!("the status of {} ConfigMap(s) now says Connect is unreachable; the hook runs again at once", patches.len());
    (Report::default(), Output { patches, ..Output::default() }, 0)
}

/// A cluster's part that failed before it wrote anything: said, and left
/// for shell-operator to run again.
fn retry_later(message: &str) -> (Report, Output, usize) {
    error!("{message}");
    (Report { unfinished: 1, ..Report::default() }, Output::default(), 0)
}

/// The time written into statuses and annotations.
fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// One cluster's part of a run: its report, what to write back, and the
/// requests it sent.
fn run_cluster(
    work: &Work,
    declared: &[Declared],
    cluster: &Cluster,
    connected: Connected,
    scrubber: &Scrubber,
    options: &Options,
) -> (Report, Output, usize) {
    let (client, listed) = match connected {
        Ok(connected) => connected,
        Err(message) => return retry_later(&message),
    };
    let wanted = desired::wanted(declared);
    // A full run reads Connect even when nothing is declared, to find what to prune.
    let live = match listed {
        Some(listed) => listed.and_then(|listed| client.complete(listed, &wanted)),
        None if wanted.is_empty() && !work.full => Ok(Live::default()),
        None if wanted.len() <= READ_EACH_MAX && !work.full => client.read_each(&wanted),
        None => client.read_live(&wanted),
    };
    let live = match live {
        Ok(live) => live,
        Err(failure) => {
            return unreachable(declared, &cluster.name, &failure.reading(&cluster.name, scrubber), options)
        }
    };
    let owned = ownership::owned(work.state.as_ref(), &cluster.name);
    let plan = plan::run(declared, &live, &owned, work.full, &options.policy);
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
            full: work.full,
            synchronization: work.synchronization,
        };
        output = writeback::output(&run);
        output.patches.extend(ownership::record(&owned, &plan, &results, &options.policy.namespace, &cluster.name));
    }
    (report, output, client.requests_sent())
}
