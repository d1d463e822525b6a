//! One hook run: binding contexts -> declared connectors -> live state ->
//! plan -> writes -> report.

use std::time::Instant;

use log::{error, info, warn};

use crate::bindings::{Seen, Work};
use crate::configmap::{ConfigMap, Intent};
use crate::connect::{Applied, Client, Failure, Removed};
use crate::connector::Connector;
use crate::plan::{self, Action, CmState, Declared, Plan, Step};
use crate::redact::Scrubber;
use crate::template::Renderer;

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
}

impl Report {
    pub fn success(&self) -> bool {
        self.unfinished == 0
    }
}

/// Renders every ConfigMap the run knows of: those it acts on, and the others
/// for the names they declare.
pub fn declare(work: &Work, renderer: &Renderer) -> Vec<Declared> {
    let configmaps: Vec<&ConfigMap> = work.seen.values().map(Seen::configmap).collect();
    let rendered = render_configmaps(&configmaps, renderer);
    work.seen
        .iter()
        .zip(rendered)
        .map(|((id, seen), templates)| {
            let state = match seen {
                Seen::Present(cm) => state_of(cm),
                Seen::Deleted(cm) => {
                    cm.check_destination().map_or_else(|e| CmState::Elsewhere(format!("{e:#}")), |_| CmState::Deleted)
                }
            };
            let recorded = crate::status::recorded_names(&seen.configmap().annotations);
            Declared { id: id.clone(), state, act: work.touched.contains(id), templates, recorded }
        })
        .collect()
}

pub fn state_of(cm: &ConfigMap) -> CmState {
    if let Err(e) = cm.check_destination() {
        return CmState::Elsewhere(format!("{e:#}"));
    }
    match cm.intent() {
        Ok(Intent::Apply) => CmState::Apply,
        Ok(Intent::Remove) => CmState::Remove,
        Err(e) => CmState::Invalid(format!("{e:#}")),
    }
}

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
            let mut templates: Templates =
                cm.data.keys().map(|key| (key.clone(), rendered.next().expect("one result per template"))).collect();
            let binary = "a binaryData key cannot hold a template; use data";
            templates.extend(cm.binary_keys.iter().map(|k| (k.clone(), Err(binary.to_string()))));
            templates
        })
        .collect()
}

/// What became of one step of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    /// Not a write, or a dry run.
    NotSent,
    Done(Done),
    /// The message is scrubbed of secrets.
    Failed {
        permanent: bool,
        message: String,
    },
}

/// Carries the plan out: writes in parallel, bounded by the client's
/// concurrency, and one log line per decision. Returns the counts and, for
/// every step of the plan, what became of it.
pub fn execute(plan: &Plan, client: &Client, scrubber: &Scrubber, dry_run: bool) -> (Report, Vec<StepResult>) {
    let mut report = Report::default();
    let mut results = vec![StepResult::NotSent; plan.steps.len()];
    for problem in &plan.problems {
        error!("{}", scrubber.scrub(&problem.to_string()));
        report.failed += 1;
    }
    let writes: Vec<usize> = (0..plan.steps.len()).filter(|&i| is_write(&plan.steps[i].action)).collect();
    for step in plan.steps.iter().filter(|s| !is_write(&s.action)) {
        info!("{step}");
        report.unchanged += usize::from(matches!(step.action, Action::Unchanged));
    }
    if dry_run {
        for &i in &writes {
            info!("dry run: would {}", plan.steps[i]);
        }
        info!("dry run: {} writes planned, none sent", plan.writes());
        return (report, results);
    }
    let outcomes = crate::parallel::map(&writes, client.concurrency(), |&i| write(&plan.steps[i], client));
    for (&i, outcome) in writes.iter().zip(outcomes) {
        let step = &plan.steps[i];
        results[i] = match outcome {
            Ok(done) => {
                info!("{}", describe(step, done));
                match done {
                    Done::Applied(Applied::Created) => report.created += 1,
                    Done::Applied(_) => report.updated += 1,
                    Done::Removed(_) => report.deleted += 1,
                }
                StepResult::Done(done)
            }
            Err(failure) => {
                let secrets = match &step.action {
                    Action::Create(c) | Action::Update { connector: c, .. } => c.secret_values().collect(),
                    _ => Vec::new(),
                };
                let message = scrubber.with(secrets).scrub(failure.message());
                let permanent = matches!(failure, Failure::Permanent(_));
                if permanent {
                    error!("failed to {step}: {message}");
                    report.failed += 1;
                } else {
                    warn!("could not {step}, will retry: {message}");
                    report.unfinished += 1;
                }
                StepResult::Failed { permanent, message }
            }
        };
    }
    (report, results)
}

fn is_write(action: &Action) -> bool {
    matches!(action, Action::Create(_) | Action::Update { .. } | Action::Delete { .. })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Applied(Applied),
    Removed(Removed),
}

fn write(step: &Step, client: &Client) -> Result<Done, Failure> {
    match &step.action {
        Action::Create(c) | Action::Update { connector: c, .. } => client.put_config(c).map(Done::Applied),
        Action::Delete { .. } => client.delete(&step.connector).map(Done::Removed),
        _ => unreachable!("only writes are sent"),
    }
}

/// The log line for a write that succeeded.
fn describe(step: &Step, done: Done) -> String {
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
    }
}

/// The whole hook run after the binding contexts are read.
pub fn run(work: &Work, renderer: &Renderer, client: &Client, scrubber: &Scrubber, dry_run: bool) -> Report {
    let started = Instant::now();
    for problem in &work.problems {
        error!("{problem}");
    }
    let declared = declare(work, renderer);
    let rendered = started.elapsed();
    let wanted = plan::wanted(&declared);
    if !declared.iter().any(|d| d.act) {
        info!("nothing to reconcile in this run");
    }
    let live = if wanted.is_empty() {
        // Errors only: no need to ask Connect anything.
        Default::default()
    } else {
        match client.read_live(&wanted) {
            Ok(live) => live,
            Err(failure) => {
                error!("cannot read the connectors from Kafka Connect: {}", scrubber.scrub(failure.message()));
                return Report { unfinished: wanted.len(), ..Report::default() };
            }
        }
    };
    let plan = plan::plan(&declared, &live);
    let (mut report, results) = execute(&plan, client, scrubber, dry_run);
    report.failed += work.problems.len();
    if report.success() && !dry_run {
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let run = crate::report::Run { work, declared: &declared, plan: &plan, results: &results, live: &live, now };
        if let Err(e) = crate::report::output(&run).write() {
            // shell-operator would lose the status: fail so the run is retried.
            error!("{e:#}");
            report.unfinished += 1;
        }
    }
    info!(
        "run finished in {:?} (templates {:?}, {} Connect requests): {} created, {} updated, {} deleted, {} unchanged, {} failed, {} to retry",
        started.elapsed(),
        rendered,
        client.requests_sent(),
        report.created,
        report.updated,
        report.deleted,
        report.unchanged,
        report.failed,
        report.unfinished
    );
    report
}
