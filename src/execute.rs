//! Carrying a plan out: writes in parallel, bounded by the client's
//! concurrency, one log line per decision, and what became of each step.

use std::sync::atomic::{AtomicUsize, Ordering};

use log::{debug, error, info, warn};

use crate::connect::{Applied, Carried, Client, Failure, Removed};
use crate::model::connector::TargetState;
use crate::model::requests::{OffsetsAction, OffsetsChange};
use crate::parallel;
use crate::plan::{Action, After, Origin, Plan, Rename, Stage, Step, Why};
use crate::redact::Scrubber;

/// Counts for the closing log line and the exit status.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Connectors created.
    pub created: usize,
    /// Connectors whose config was written.
    pub updated: usize,
    /// Connectors deleted.
    pub deleted: usize,
    /// Connectors already as declared.
    pub unchanged: usize,
    /// Permanent errors: reported, never retried, never fail the run.
    pub failed: usize,
    /// Transient errors left at the end: the run fails so shell-operator retries.
    pub unfinished: usize,
    /// State changes and restarts.
    pub changed: usize,
    /// Connectors renamed, their offsets carried over.
    pub renamed: usize,
}

impl Report {
    /// Whether nothing is left to retry: shell-operator then applies what the run wrote back.
    #[must_use]
    pub fn success(&self) -> bool {
        self.unfinished == 0
    }

    /// `1 created, 0 updated, ...`: the closing line of a run.
    #[must_use]
    pub fn summary(&self) -> String {
        format!(
            "{} created, {} updated, {} deleted, {} renamed, {} paused/resumed/stopped/restarted, {} unchanged, {} \
             failed, {} to retry",
            self.created,
            self.updated,
            self.deleted,
            self.renamed,
            self.changed,
            self.unchanged,
            self.failed,
            self.unfinished
        )
    }

    /// Adds the counts of another part of the run (another cluster).
    pub fn add(&mut self, other: &Report) {
        self.created += other.created;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.unchanged += other.unchanged;
        self.failed += other.failed;
        self.unfinished += other.unfinished;
        self.changed += other.changed;
        self.renamed += other.renamed;
    }
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
    Failed {
        /// What was done before it failed.
        done: Vec<Done>,
        /// Whether retrying cannot help.
        permanent: bool,
        /// Why, scrubbed of secrets.
        message: String,
    },
}

impl StepResult {
    /// What was done, failed or not.
    #[must_use]
    pub fn done(&self) -> &[Done] {
        match self {
            StepResult::Done(done) | StepResult::Failed { done, .. } => done,
            StepResult::NotSent => &[],
        }
    }
}

/// One request that succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// The config was written.
    Applied(Applied),
    /// The connector is gone.
    Removed(Removed),
    /// The connector was paused, resumed or stopped.
    Moved(TargetState),
    /// The connector and (some of) its tasks were restarted.
    Restarted(Why),
    /// The offsets annotation's request was carried out.
    Offsets(OffsetsDone),
    /// The connector took over the one it was renamed from, which is gone.
    Renamed(Carried),
}

/// What an offsets request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffsetsDone {
    /// Reset around a stop.
    Reset,
    /// Altered around a stop.
    Altered,
    /// Read, to be written into the ConfigMap `<configmap>-offsets`; never
    /// said in a log line or an Event.
    Listed(serde_json::Value),
}

/// Carries the plan out: writes in parallel, bounded by the client's
/// concurrency, and one log line per decision. Returns the counts and, for
/// every step of the plan, what became of it.
pub fn execute(plan: &Plan, client: &Client, scrubber: &Scrubber, how: &How<'_>) -> (Report, Vec<StepResult>) {
    let How { dry_run, max_restarts, progress } = *how;
    let mut report = Report::default();
    let mut results = vec![StepResult::NotSent; plan.steps.len()];
    for problem in &plan.problems {
        // The origin names a ConfigMap and key, which are never secret.
        error!("{}: {}", problem.origin, scrubber.scrub(&problem.message));
        report.failed += 1;
    }
    let sends: Vec<(usize, &Step)> = plan.steps.iter().enumerate().filter(|(_, s)| s.sends()).collect();
    for step in plan.steps.iter().filter(|s| !s.sends()) {
        // The common case of a resync: counted in the summary, said at debug
        // (a line per connector is a measurable share of a quiet resync's
        // instructions: see `cargo bench --bench table`).
        if matches!(step.action, Action::Unchanged) {
            debug!("{step}");
            report.unchanged += 1;
        } else if matches!(step.action, Action::Held { .. }) {
            warn!("{step}");
        } else {
            info!("{step}");
        }
    }
    if dry_run {
        for (_, step) in &sends {
            info!("dry run: would {step}");
        }
        info!("dry run: {} writes planned, none sent", plan.writes());
        return (report, results);
    }
    let sent = AtomicUsize::new(0);
    let outcomes = parallel::map(&sends, client.concurrency(), |(_, step)| {
        let outcome = send(step, client);
        // Said as each write is done, not when all are: a run of a few hundred
        // creates takes seconds, and its log shows how far it got.
        for d in &outcome.0 {
            info!("{}", said(step, d, Some(&step.origin), max_restarts));
        }
        if let Some(progress) = progress {
            progress(sent.fetch_add(1, Ordering::Relaxed) + 1, sends.len());
        }
        outcome
    });
    for (&(i, step), (done, failure)) in sends.iter().zip(outcomes) {
        count(&mut report, step, &done);
        let result = match failure {
            None => StepResult::Done(done),
            Some(failure) => {
                let message = match &step.action {
                    Action::Create(c)
                    | Action::Update { connector: c, .. }
                    | Action::Rename(Rename { connector: c, .. }) => failure.scrubbed(&scrubber.for_connector(c)),
                    _ => failure.scrubbed(scrubber),
                };
                let permanent = failure.is_permanent();
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

/// Counts what a sent step did; a step that only moved, restarted or reset
/// the offsets of a connector whose config is unchanged counts as unchanged too.
fn count(report: &mut Report, step: &Step, done: &[Done]) {
    for d in done {
        match d {
            Done::Applied(Applied::Created) => report.created += 1,
            Done::Applied(_) => report.updated += 1,
            Done::Removed(_) => report.deleted += 1,
            Done::Moved(_) | Done::Restarted(_) | Done::Offsets(_) => report.changed += 1,
            Done::Renamed(_) => report.renamed += 1,
        }
    }
    if matches!(step.action, Action::Unchanged)
        && done.iter().all(|d| matches!(d, Done::Moved(_) | Done::Restarted(_) | Done::Offsets(_)))
    {
        report.unchanged += 1;
    }
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
        Action::Rename(Rename { from, connector, stage }) => {
            let update = matches!(stage, Stage::Finish { changed } if !changed.is_empty());
            Some(client.rename(from, connector, update, &|line| info!("{line}")).map(Done::Renamed))
        }
        _ => None,
    };
    let afters = step.after.iter().map(|after| match after {
        After::SetState(state) => client.set_state(&step.connector, *state).map(|()| Done::Moved(*state)),
        After::Restart(why) => {
            let only_failed = matches!(why, Why::Failed(_) | Why::Asked);
            client.restart(&step.connector, only_failed).map(|()| Done::Restarted(why.clone()))
        }
        After::Offsets(OffsetsAction::Change(change), back) => {
            let say = |line: String| info!("{line}");
            let done = match change {
                OffsetsChange::Reset => OffsetsDone::Reset,
                OffsetsChange::Alter(_) => OffsetsDone::Altered,
            };
            client.change_offsets_stopped(&step.connector, change, Some(*back), &say).map(|_| Done::Offsets(done))
        }
        After::Offsets(OffsetsAction::List, _) => {
            client.offsets(&step.connector).map(|offsets| Done::Offsets(OffsetsDone::Listed(offsets)))
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

/// How to carry a plan out.
#[derive(Clone, Copy)]
pub struct How<'a> {
    /// Log what would be sent, send nothing.
    pub dry_run: bool,
    /// The most automatic restarts, to say "attempt 2 of 10".
    pub max_restarts: u32,
    /// Told as writes finish (a progress line on a terminal).
    pub progress: Option<&'a Progress<'a>>,
}

/// What a step's outcome is said as: in the log, with where the connector is
/// declared (`origin`), and in Events, whose object is that ConfigMap, without.
#[must_use]
pub fn said(step: &Step, done: &Done, origin: Option<&Origin>, max_restarts: u32) -> String {
    let name = &step.connector;
    // What the sentence is about, in parentheses: where it is declared, and why.
    let about = |why: &str| {
        let parts: Vec<String> =
            origin.map(ToString::to_string).into_iter().chain((!why.is_empty()).then(|| why.to_string())).collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    };
    let reason = match step.action {
        Action::Delete { reason } => reason,
        _ => "",
    };
    let gone = |what: &str| match origin {
        Some(origin) => format!("{what} ({origin}: {reason})"),
        None => format!("{what}: {reason}"),
    };
    match done {
        Done::Applied(Applied::Created) => format!("created connector {name}{}", about("")),
        Done::Applied(applied) => {
            let changed = match &step.action {
                Action::Update { changed, .. } => format!(": changed {}", changed.join(", ")),
                _ => String::new(),
            };
            let retry = if *applied == Applied::FoundOnRetry { "; a retry found it applied" } else { "" };
            format!("updated connector {name}{}{changed}{retry}", about(""))
        }
        Done::Removed(Removed::Deleted) => gone(&format!("deleted connector {name}")),
        Done::Removed(Removed::AlreadyGone) => gone(&format!("connector {name} was already gone")),
        Done::Moved(state) => format!("connector {name} is now {state}{}", about("")),
        Done::Restarted(Why::Requested(value)) => {
            format!("restarted connector {name} and its tasks as requested{}", about(&format!("restart={value}")))
        }
        Done::Restarted(Why::Asked) => {
            format!("restarted connector {name} and its failed tasks{}", about("--restart-failed"))
        }
        Done::Offsets(OffsetsDone::Reset) => format!("reset the offsets of connector {name}{}", about("as requested")),
        Done::Offsets(OffsetsDone::Altered) => {
            format!("altered the offsets of connector {name}{}", about("as requested"))
        }
        Done::Offsets(OffsetsDone::Listed(_)) => {
            format!("listed the offsets of connector {name} into ConfigMap {}{}", offsets_configmap(step), about(""))
        }
        Done::Renamed(carried) => {
            let from = match &step.action {
                Action::Rename(rename) => rename.from.as_str(),
                _ => "",
            };
            let carried = match carried {
                Carried::Partitions(0) => "; it had no offsets to carry".to_string(),
                Carried::Partitions(n) => format!(", carrying the offsets of {}", crate::text::count(*n, "partition")),
                Carried::KeptOwn => {
                    format!(
                        "; {name} already had offsets (its own, or carried by an earlier run), so none were written"
                    )
                }
            };
            format!("renamed connector {from} -> {name}{}{carried}", about(""))
        }
        Done::Restarted(Why::Failed(n)) => format!(
            "restarted connector {name} and its failed tasks{}",
            about(&format!("automatic attempt {n} of {max_restarts}"))
        ),
    }
}

/// Where a listing of a ConfigMap's offsets goes: `<configmap>-offsets` in
/// its namespace.
#[must_use]
pub fn offsets_configmap(step: &Step) -> String {
    format!("{}-offsets", step.origin.configmap)
}
