//! One hook run: binding contexts -> declared connectors -> live state ->
//! plan -> writes -> report.

use std::time::Instant;

use log::{error, info, warn};

use crate::bindings::{Seen, Work};
use crate::configmap::{ConfigMap, Intent};
use crate::connect::{Applied, Client, Failure, Removed};
use crate::connector::Connector;
use std::collections::BTreeSet;

use std::collections::BTreeMap;

use crate::clusters::{Cluster, Clusters};
use crate::connect::Live;
use crate::connector::TargetState;
use crate::ownership::{self, Prune};
use crate::plan::{self, Action, After, CmState, Declared, Plan, Step, Why};
use crate::redact::Scrubber;
use crate::report::Output;
use crate::sandbox::Renderer;

/// Counts for the closing log line and the exit status.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
    /// Permanent errors: reported, never retried, never fail the run.
    pub failed: usize,
    /// Transient errors left at the end: the run fails so shell-operator retries.
    pub unfinished: usize,
    /// State changes and restarts.
    pub changed: usize,
}

impl Report {
    pub fn success(&self) -> bool {
        self.unfinished == 0
    }

    /// `1 created, 0 updated, ...`: the closing line of a run.
    pub fn summary(&self) -> String {
        format!(
            "{} created, {} updated, {} deleted, {} paused/resumed/stopped/restarted, {} unchanged, {} failed, {} to retry",
            self.created, self.updated, self.deleted, self.changed, self.unchanged, self.failed, self.unfinished
        )
    }

    pub fn add(&mut self, other: &Report) {
        self.created += other.created;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.unchanged += other.unchanged;
        self.failed += other.failed;
        self.unfinished += other.unfinished;
        self.changed += other.changed;
    }
}

/// Renders every ConfigMap the run knows of: those it acts on, and the others
/// for the names they declare.
pub fn declare(work: &Work, renderer: &Renderer, clusters: &Clusters) -> Vec<Declared> {
    let configmaps: Vec<&ConfigMap> = work.seen.values().map(Seen::configmap).collect();
    let rendered = render_configmaps(&configmaps, renderer);
    work.seen
        .iter()
        .zip(rendered)
        .map(|((id, seen), templates)| {
            let cm = seen.configmap();
            let (mut state, cluster) = state_of(cm, clusters);
            if matches!(seen, Seen::Deleted(_)) && !matches!(state, CmState::Invalid(_)) {
                state = CmState::Deleted;
            }
            Declared {
                id: id.clone(),
                cluster,
                state,
                act: work.touched.contains(id),
                templates,
                recorded: crate::status::recorded_names(&cm.annotations),
                previous: crate::status::CmStatus::recorded(&cm.annotations),
                restart_request: cm.annotations.get(crate::configmap::RESTART_ANNOTATION).cloned(),
            }
        })
        .collect()
}

/// What a ConfigMap asks for, and the cluster it asks it of. A ConfigMap
/// naming an unknown cluster is an error for it alone; it is kept with the
/// default cluster, where its names still guard against pruning.
pub fn state_of(cm: &ConfigMap, clusters: &Clusters) -> (CmState, String) {
    let cluster = match clusters.of(cm) {
        Ok(cluster) => cluster.name.clone(),
        Err(e) => return (CmState::Invalid(format!("{e:#}")), crate::clusters::DEFAULT.into()),
    };
    let state = match cm.intent() {
        Ok(Intent::Apply) => CmState::Apply,
        Ok(Intent::Remove) => CmState::Remove,
        Err(e) => CmState::Invalid(format!("{e:#}")),
    };
    (state, cluster)
}

/// What a template gets if the renderer returned too few results (a bug).
const MISSING: &str = "internal error: the template was not rendered";

/// Data key and what its template rendered to.
pub type Templates = Vec<(String, Result<Connector, String>)>;

/// Renders the templates of many ConfigMaps in one batch: every data key is
/// one template; `binaryData` keys cannot be.
pub fn render_configmaps(configmaps: &[&ConfigMap], renderer: &Renderer) -> Vec<Templates> {
    let codes: Vec<&str> = configmaps.iter().flat_map(|cm| cm.data.values().map(String::as_str)).collect();
    let mut rendered = renderer.render_all(&codes).into_iter();
    configmaps
        .iter()
        .map(|cm| {
            let mut templates: Templates = cm
                .data
                .keys()
                .map(|key| (key.clone(), rendered.next().unwrap_or_else(|| Err(MISSING.into()))))
                .collect();
            let binary = "a binaryData key cannot hold a template; use data";
            templates.extend(cm.binary_keys.iter().map(|k| (k.clone(), Err(binary.to_string()))));
            templates
        })
        .collect()
}

/// Called with (steps sent, steps to send) as writes finish.
pub type Progress<'a> = dyn Fn(usize, usize) + Sync + 'a;

/// What became of one step of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    /// Nothing to send, or a dry run.
    NotSent,
    /// Everything was sent; what happened, in order.
    Done(Vec<Done>),
    /// What succeeded before the failure, and the failure, scrubbed of secrets.
    Failed { done: Vec<Done>, permanent: bool, message: String },
}

impl StepResult {
    pub fn done(&self) -> &[Done] {
        match self {
            StepResult::Done(done) | StepResult::Failed { done, .. } => done,
            StepResult::NotSent => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Applied(Applied),
    Removed(Removed),
    Moved(TargetState),
    Restarted(Why),
}

/// How a run behaves, from the settings.
#[derive(Debug, Clone)]
pub struct Options {
    pub dry_run: bool,
    pub restarts: plan::Restarts,
    pub prune: Prune,
    /// The operator's namespace, where its state ConfigMap lives.
    pub namespace: String,
    /// CONNECT_OPERATOR_DIGEST_KEY: keys the digests of desired configs.
    pub digest_key: Option<Vec<u8>>,
}

/// Carries the plan out: writes in parallel, bounded by the client's
/// concurrency, and one log line per decision. Returns the counts and, for
/// every step of the plan, what became of it.
pub fn execute(
    plan: &Plan,
    client: &Client,
    scrubber: &Scrubber,
    dry_run: bool,
    progress: Option<&Progress<'_>>,
) -> (Report, Vec<StepResult>) {
    let mut report = Report::default();
    let mut results = vec![StepResult::NotSent; plan.steps.len()];
    for problem in &plan.problems {
        // The origin names a ConfigMap and key, which are never secret.
        error!("{}: {}", problem.origin, scrubber.scrub(&problem.message));
        report.failed += 1;
    }
    let sends: Vec<(usize, &Step)> = plan.steps.iter().enumerate().filter(|(_, s)| s.sends()).collect();
    for step in plan.steps.iter().filter(|s| !s.sends()) {
        info!("{step}");
        report.unchanged += usize::from(matches!(step.action, Action::Unchanged));
    }
    if dry_run {
        for (_, step) in &sends {
            info!("dry run: would {step}");
        }
        info!("dry run: {} writes planned, none sent", plan.writes());
        return (report, results);
    }
    let sent = std::sync::atomic::AtomicUsize::new(0);
    let outcomes = crate::parallel::map(&sends, client.concurrency(), |(_, step)| {
        let outcome = send(step, client);
        if let Some(progress) = progress {
            progress(sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1, sends.len());
        }
        outcome
    });
    for (&(i, step), (done, failure)) in sends.iter().zip(outcomes) {
        for d in &done {
            info!("{}", describe(step, d));
            match d {
                Done::Applied(Applied::Created) => report.created += 1,
                Done::Applied(_) => report.updated += 1,
                Done::Removed(_) => report.deleted += 1,
                Done::Moved(_) | Done::Restarted(_) => report.changed += 1,
            }
        }
        if matches!(step.action, Action::Unchanged)
            && done.iter().all(|d| matches!(d, Done::Moved(_) | Done::Restarted(_)))
        {
            report.unchanged += 1;
        }
        let result = match failure {
            None => StepResult::Done(done),
            Some(failure) => {
                let secrets = match &step.action {
                    Action::Create(c) | Action::Update { connector: c, .. } => c.secret_values().collect(),
                    _ => Vec::new(),
                };
                let message = failure.scrubbed(&scrubber.with(secrets));
                let permanent = failure.permanent;
                if permanent {
                    error!("failed to {step}: {message}");
                    report.failed += 1;
                } else {
                    warn!("could not {step}, will retry: {message}");
                    report.unfinished += 1;
                }
                StepResult::Failed { done, permanent, message }
            }
        };
        if let Some(slot) = results.get_mut(i) {
            *slot = result;
        }
    }
    (report, results)
}

/// Sends a step's action and then its follow-ups, stopping at the first failure.
fn send(step: &Step, client: &Client) -> (Vec<Done>, Option<Failure>) {
    let mut done = Vec::new();
    let first = match &step.action {
        // Confluent Cloud answers a create with 200, not 201: the plan knows it is new.
        Action::Create(c) => Some(client.create(c).map(|applied| match applied {
            Applied::Updated => Done::Applied(Applied::Created),
            other => Done::Applied(other),
        })),
        Action::Update { connector, .. } => Some(client.put_config(connector).map(Done::Applied)),
        Action::Delete { .. } => Some(client.delete(&step.connector).map(Done::Removed)),
        _ => None,
    };
    let afters = step.after.iter().map(|after| match after {
        After::SetState(state) => client.set_state(&step.connector, *state).map(|()| Done::Moved(*state)),
        After::Restart(why) => {
            let only_failed = matches!(why, Why::Failed(_) | Why::Asked);
            client.restart(&step.connector, only_failed).map(|()| Done::Restarted(why.clone()))
        }
    });
    for result in first.into_iter().chain(afters) {
        match result {
            Ok(d) => done.push(d),
            Err(failure) => return (done, Some(failure)),
        }
    }
    (done, None)
}

/// The log line for something that succeeded.
fn describe(step: &Step, done: &Done) -> String {
    let (name, origin) = (&step.connector, &step.origin);
    let changed = match &step.action {
        Action::Update { changed, .. } => format!(": changed {}", changed.join(", ")),
        _ => String::new(),
    };
    let reason = match step.action {
        Action::Delete { reason } => reason,
        _ => "",
    };
    match done {
        Done::Applied(Applied::Created) => format!("created connector {name} ({origin})"),
        Done::Applied(Applied::Updated) => format!("updated connector {name} ({origin}){changed}"),
        Done::Applied(Applied::FoundOnRetry) => {
            format!("updated connector {name} ({origin}){changed}; a retry found it applied")
        }
        Done::Removed(Removed::Deleted) => format!("deleted connector {name} ({origin}: {reason})"),
        Done::Removed(Removed::AlreadyGone) => format!("connector {name} was already gone ({origin}: {reason})"),
        Done::Moved(state) => format!("connector {name} is now {state} ({origin})"),
        Done::Restarted(Why::Requested(value)) => {
            format!("restarted connector {name} and its tasks as requested ({origin}, restart={value})")
        }
        Done::Restarted(Why::Asked) => {
            format!("restarted connector {name} and its failed tasks ({origin}, --restart-failed)")
        }
        Done::Restarted(Why::Failed(n)) => {
            format!("restarted connector {name} and its failed tasks ({origin}, automatic attempt {n})")
        }
    }
}

/// The plan of a run: the one engine behind the hook, `diff` and `apply`.
/// A full run (everything declared is known) also prunes as `options` says.
pub fn plan_run(declared: &[Declared], live: &Live, owned: &BTreeSet<String>, full: bool, options: &Options) -> Plan {
    let policy = plan::Policy {
        now: std::time::SystemTime::now(),
        restarts: options.restarts,
        digest_key: options.digest_key.clone(),
    };
    let mut plan = plan::plan(declared, live, &policy);
    if !plan.masked_unverified.is_empty() {
        warn!(
            "Connect masks secret values of {} connectors ({}); without CONNECT_OPERATOR_DIGEST_KEY a change to a \
             masked value cannot be detected, so only the other keys were compared",
            plan.masked_unverified.len(),
            plan.masked_unverified.join(", ")
        );
    }
    if full {
        prune(declared, live, owned, options, &mut plan);
    }
    plan
}

/// Adds to the plan the deletes `PRUNE` asks for, or says what is left alone.
fn prune(declared: &[Declared], live: &Live, owned: &BTreeSet<String>, options: &Options, plan: &mut Plan) {
    let undeclared = ownership::undeclared(declared, live);
    if undeclared.is_empty() {
        return;
    }
    if options.prune == Prune::Off {
        let names: Vec<&str> = undeclared.iter().map(String::as_str).collect();
        info!(
            "connectors no ConfigMap declares, left alone (PRUNE=owned or PRUNE=all deletes them): {}",
            names.join(", ")
        );
        return;
    }
    let anything_declared = declared
        .iter()
        .filter(|d| d.state != CmState::Deleted)
        .any(|d| !d.names().is_empty() || !d.recorded.is_empty());
    let origin = ownership::origin(&options.namespace);
    match ownership::prune(options.prune, &undeclared, owned, anything_declared, &origin) {
        Ok(steps) => plan.steps.extend(steps),
        Err(problem) => plan.problems.push(problem),
    }
}

/// The whole hook run after the binding contexts are read. Each cluster is
/// read, planned and written on its own thread, with its own concurrency:
/// one that is down fails the run (so it is retried) without holding back
/// the others.
pub fn run(work: &Work, renderer: &Renderer, clusters: &Clusters, scrubber: &Scrubber, options: &Options) -> Report {
    let started = Instant::now();
    for problem in &work.problems {
        error!("{problem}");
    }
    let declared = declare(work, renderer, clusters);
    let rendered = started.elapsed();
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
        // Every ConfigMap names a configured cluster: state_of keeps one naming another on `default`.
        let Some((name, cluster)) = clusters.all.get_key_value(&d.cluster) else { continue };
        by_cluster.entry(name).or_insert_with(|| (cluster, Vec::new())).1.push(d);
    }
    let done: Vec<(Report, Output, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = by_cluster
            .values()
            .map(|(cluster, declared)| scope.spawn(move || run_cluster(work, declared, cluster, scrubber, options)))
            .collect();
        // A cluster whose thread panicked is left to the next run, like one that is down.
        let failed = || (Report { unfinished: 1, ..Report::default() }, Output::default(), 0);
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| failed())).collect()
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
        rendered,
        requests,
        report.summary()
    );
    report
}

/// One cluster's part of a run: its report, what to write back, and the
/// requests it sent.
fn run_cluster(
    work: &Work,
    declared: &[Declared],
    cluster: &Cluster,
    scrubber: &Scrubber,
    options: &Options,
) -> (Report, Output, usize) {
    let fail = |message: String| {
        error!("{message}");
        (Report { unfinished: 1, ..Report::default() }, Output::default(), 0)
    };
    let client = match Client::new(&cluster.settings) {
        Ok(client) => client.scrubbing(scrubber),
        Err(e) => return fail(format!("cluster {}: {e:#}", cluster.name)),
    };
    let wanted = plan::wanted(declared);
    // A full run reads Connect even when nothing is declared, to find what to prune.
    let live = if wanted.is_empty() && !work.full {
        Live::default()
    } else {
        match client.read_live(&wanted) {
            Ok(live) => live,
            Err(failure) => {
                let message = failure.scrubbed(scrubber);
                return fail(format!(
                    "cannot read the connectors from Kafka Connect (cluster {}): {message}",
                    cluster.name
                ));
            }
        }
    };
    let owned = ownership::owned(work.state.as_ref(), &cluster.name);
    let plan = plan_run(declared, &live, &owned, work.full, options);
    let (report, results) = execute(&plan, &client, scrubber, options.dry_run, None);
    let mut output = Output::default();
    if report.success() && !options.dry_run {
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let run = crate::report::Run {
            work,
            declared,
            plan: &plan,
            results: &results,
            live: &live,
            now,
            options,
            cluster: &cluster.name,
        };
        output = crate::report::output(&run);
        output.patches.extend(ownership::record(&owned, &plan, &results, &options.namespace, &cluster.name));
    }
    (report, output, client.requests_sent())
}
