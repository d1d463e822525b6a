//! Rendering templates in child processes, so that a template that crashes
//! (unbounded recursion overflows the stack), eats memory (`"x" * 1e9`) or
//! runs forever takes down only its child, never the hook: the others still
//! render, and the run finishes.
//!
//! The child is this same binary (`connect-operator __render-worker`). It
//! reads the variables and the templates on stdin, caps its own memory with
//! `RLIMIT_DATA`, compiles the batch, and writes one JSON line per template
//! as soon as it has rendered it. The parent reads the lines with a deadline
//! per template. Because results come in order, the template that was
//! running when a child died or overran its time is known: it gets the
//! error, and a new child carries on with the templates after it. A child
//! that dies while compiling is retried on each half of its batch, until the
//! template that kills the compiler is alone.
//!
//! A batch may hold the templates of several namespaces, which read
//! different variables: its child compiles one program per set of
//! variables, and no template can reach another set's values.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::deadline::from_now;
use crate::model::configmap::CmId;
use crate::model::connector::Connector;
use crate::redact::Scrubber;
use crate::render::error::RenderError;
use crate::render::namespaces::ByNamespace;
use crate::render::pipes::{cause, read_capped, read_lines};
use crate::render::template::{self, Event, Job};
use crate::render::variables::Variables;
use crate::render::worker::{within_size, JobRef, Line, WorkerRequest, WORKER_COMMAND};

/// Below this many templates per core, one compile beats splitting the work.
const MIN_CHUNK: usize = 100;

/// Above this many templates per child, a batch costs more than another
/// child does: compiling costs more per template as the batch grows, while a
/// child's start costs the same whatever its batch. Where the two cross
/// depends on jaq's compiler and on the templates; `cargo bench --bench
/// table` counts the instructions under callgrind. Such chunks run a core at
/// a time.
const MAX_CHUNK: usize = 500;

/// Time a batch may take to compile (jaq's standard library included),
/// separate from the templates' own limit: a thousand templates compile in
/// tens of milliseconds.
const COMPILE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a template may run and how much memory a child may use.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time a template may run.
    pub timeout: Duration,
    /// Bytes of heap (`RLIMIT_DATA`) per child; 0 for no cap.
    pub memory: u64,
}

/// Renders templates, each batch in a child process; errors are scrubbed of
/// every secret value the templates of any namespace could read.
pub struct Renderer {
    variables: Arc<ByNamespace>,
    limits: Limits,
    scrubber: Scrubber,
    /// The binary to run as a child: this one. `None` renders in this
    /// process, unbounded: only unit tests do, whose binary is not this one.
    worker: Option<PathBuf>,
    /// The environment variables outside `TEMPLATE_ENV` that a template
    /// read, each said once per run.
    withheld_read: Mutex<BTreeSet<String>>,
}

/// A template to render, and the ConfigMap it is in: its namespace decides
/// what the template may read.
#[derive(Debug, Clone, Copy)]
pub struct ToRender<'a> {
    /// The ConfigMap.
    pub configmap: &'a CmId,
    /// The template.
    pub code: &'a str,
}

/// The sets of variables of one batch, and the templates that read each:
/// [`Job::set`] is an index into `sets`.
struct Batch<'v> {
    sets: Vec<&'v Variables>,
    jobs: Vec<Job>,
}

/// How a child's run ended, after the results it sent.
enum Ended {
    Finished,
    /// The template at this index of the batch ran past the limit.
    TimedOut(usize),
    /// The child died (or sent garbage) while rendering the template at this index.
    Died(usize, RenderError),
    /// The child died, or overran, before the batch compiled.
    DiedCompiling(RenderError),
}

impl Renderer {
    /// A renderer that runs this binary as its child, capped by `limits`.
    pub fn new(variables: Arc<ByNamespace>, limits: Limits) -> anyhow::Result<Renderer> {
        let worker = std::env::current_exe()
            .map_err(|e| anyhow::anyhow!("cannot find this program to render templates in a child: {e}"))?;
        let scrubber = Scrubber::new(variables.secret_values());
        Ok(Renderer { variables, limits, scrubber, worker: Some(worker), withheld_read: Mutex::default() })
    }

    /// What the templates of each namespace can read.
    #[must_use]
    pub fn variables(&self) -> &ByNamespace {
        &self.variables
    }

    /// What hides every secret value the templates could read: the run's
    /// messages use the same one, built once.
    #[must_use]
    pub fn scrubber(&self) -> &Scrubber {
        &self.scrubber
    }

    /// Renders in this process, for unit tests of what is built on rendering.
    #[cfg(test)]
    pub fn in_process(variables: Arc<ByNamespace>) -> Renderer {
        let scrubber = Scrubber::new(variables.secret_values());
        let limits = Limits { timeout: Duration::from_secs(10), memory: 0 };
        Renderer { variables, limits, scrubber, worker: None, withheld_read: Mutex::default() }
    }

    /// Renders every template into a connector. An error is one line (or a
    /// few, for several parse errors) with `line:column` where jaq gives one.
    /// Large batches are split over the machine's cores, one child each;
    /// templates that read the same variables are put side by side, so that
    /// a child compiles them together.
    #[must_use]
    pub fn render_all(&self, templates: &[ToRender]) -> Vec<Result<Connector, RenderError>> {
        self.say_withheld(templates);
        let (batch, order) = self.batch(templates);
        let cpus = crate::parallel::cores();
        let n = batch.jobs.len();
        let chunks = cpus.min(n.div_ceil(MIN_CHUNK)).max(n.div_ceil(MAX_CHUNK)).max(1);
        let size = n.div_ceil(chunks).max(1);
        let chunks: Vec<&[Job]> = batch.jobs.chunks(size).collect();
        let rendered = crate::parallel::map(&chunks, cpus, |chunk| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.render_chunk(&batch.sets, chunk)))
                .unwrap_or_else(|_| {
                    chunk.iter().map(|_| Err(RenderError::Internal("internal error rendering".into()))).collect()
                })
        });
        let mut results: Vec<Option<Result<Connector, RenderError>>> = templates.iter().map(|_| None).collect();
        for (at, result) in order.into_iter().zip(rendered.into_iter().flatten()) {
            if let Some(slot) = results.get_mut(at) {
                *slot = Some(result.map_err(|e| e.map_message(|m| self.scrubber.scrub(m))));
            }
        }
        let unrendered = || Err(RenderError::Internal("internal error: not rendered".into()));
        results.into_iter().map(|r| r.unwrap_or_else(unrendered)).collect()
    }

    /// The templates as jobs, side by side by the variables they read, and
    /// where each job's template was in `templates`.
    fn batch(&self, templates: &[ToRender]) -> (Batch<'_>, Vec<usize>) {
        let mut sets: Vec<&Variables> = Vec::new();
        // By address: the namespaces without variables of their own share one set.
        let mut index: HashMap<*const Variables, usize> = HashMap::new();
        let mut jobs: Vec<(usize, Job)> = (templates.iter().enumerate())
            .map(|(at, t)| {
                let variables = &**self.variables.of(t.configmap.namespace());
                let set = *index.entry(std::ptr::from_ref(variables)).or_insert_with(|| {
                    sets.push(variables);
                    sets.len() - 1
                });
                (at, Job { set, code: t.code.to_string() })
            })
            .collect();
        jobs.sort_by_key(|(_, job)| job.set);
        let (order, jobs) = jobs.into_iter().unzip();
        (Batch { sets, jobs }, order)
    }

    /// Warns, once per run for each, of the environment variables a template
    /// reads by name that `TEMPLATE_ENV` does not list: it reads `null`.
    fn say_withheld(&self, templates: &[ToRender]) {
        let Some(list) = self.variables.template_env() else { return };
        let Ok(mut said) = self.withheld_read.lock() else { return };
        for template in templates {
            let readable = &self.variables.of(template.configmap.namespace()).env;
            for name in jq16::refuse::env_names(template.code) {
                // The credentials derived from `sasl.jaas.config` are properties, not the Pod's environment.
                if list.allows(name) || readable.contains_key(name) || said.contains(name) {
                    continue;
                }
                log::warn!(
                    "ConfigMap {} reads env.{name}, which TEMPLATE_ENV does not list: templates read it as null",
                    template.configmap
                );
                said.insert(name.to_string());
            }
        }
    }

    /// Renders one chunk, in as many children as it takes.
    fn render_chunk(&self, sets: &[&Variables], codes: &[Job]) -> Vec<Result<Connector, RenderError>> {
        let Some(worker) = &self.worker else { return render_here(sets, codes) };
        let mut results: Vec<Option<Result<Connector, RenderError>>> = codes.iter().map(|_| None).collect();
        let mut pending = VecDeque::new();
        pending.push_back(0..codes.len());
        while let Some(range) = pending.pop_front() {
            let start = range.start;
            let mut done = 0;
            let ended = self.run_child(worker, sets, codes.get(range.clone()).unwrap_or_default(), |result| {
                if let Some(slot) = results.get_mut(start + done) {
                    *slot = Some(result);
                }
                done += 1;
            });
            let mut fail = |i: usize, error: RenderError| {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(Err(error));
                }
            };
            match ended {
                Ended::Finished => {}
                Ended::TimedOut(i) => {
                    fail(start + i, RenderError::Timeout(self.limits.timeout));
                    pending.push_front(start + i + 1..range.end);
                }
                Ended::Died(i, why) => {
                    fail(start + i, why);
                    pending.push_front(start + i + 1..range.end);
                }
                Ended::DiedCompiling(why) if range.len() <= 1 => fail(start, why),
                Ended::DiedCompiling(_) => {
                    let middle = start + range.len() / 2;
                    pending.push_front(middle..range.end);
                    pending.push_front(start..middle);
                }
            }
        }
        let unrendered = || Err(RenderError::Internal("internal error: not rendered".into()));
        results.into_iter().map(|r| r.unwrap_or_else(unrendered)).collect()
    }

    /// Runs one child on `codes`, passing each result on as it comes.
    fn run_child(
        &self,
        worker: &Path,
        sets: &[&Variables],
        codes: &[Job],
        mut each: impl FnMut(Result<Connector, RenderError>),
    ) -> Ended {
        if codes.is_empty() {
            return Ended::Finished;
        }
        let mut child = match self.spawn(worker, sets, codes) {
            Ok(child) => child,
            Err(e) => return Ended::DiedCompiling(RenderError::Worker(format!("cannot start a template worker: {e}"))),
        };
        let lines = read_lines(child.stdout.take());
        let stderr = read_capped(child.stderr.take());
        let mut compiled = false;
        let mut rendered = 0;
        let mut deadline = from_now(COMPILE_TIMEOUT);
        let ended = loop {
            if rendered == codes.len() {
                break Ended::Finished;
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(wait) {
                Ok(Ok(Line::Compiled)) if !compiled => compiled = true,
                Ok(Ok(Line::Rendered(result))) if compiled => {
                    each(result);
                    rendered += 1;
                }
                Ok(Err(unreadable)) => break died(compiled, rendered, unreadable),
                Ok(Ok(_)) => {
                    let why = RenderError::Worker("the template worker answered out of order".into());
                    break died(compiled, rendered, why);
                }
                Err(mpsc::RecvTimeoutError::Timeout) if compiled => break Ended::TimedOut(rendered),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let limit = humantime::format_duration(COMPILE_TIMEOUT);
                    break Ended::DiedCompiling(RenderError::Worker(format!(
                        "the templates did not compile within {limit}"
                    )));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait();
                    let stderr = stderr.join().unwrap_or_default();
                    break died(compiled, rendered, cause(status.ok(), &stderr, self.limits.memory));
                }
            }
            deadline = from_now(if compiled { self.limits.timeout } else { COMPILE_TIMEOUT });
        };
        // A child that finished may exit on its own, within the time a
        // template has (its stdout closes as it exits): a profiler or a
        // coverage tool writes its report then. A runaway child, or one
        // that does not exit, is stopped here.
        if matches!(ended, Ended::Finished) {
            let _ = lines.recv_timeout(self.limits.timeout);
        }
        let _ = child.kill();
        let _ = child.wait();
        ended
    }

    fn spawn(&self, worker: &Path, sets: &[&Variables], codes: &[Job]) -> std::io::Result<Child> {
        let mut child = Command::new(worker)
            .arg(WORKER_COMMAND)
            // The child needs nothing from the environment: the variables come on stdin.
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        // Only the sets this child's templates read, numbered anew.
        let used: BTreeSet<usize> = codes.iter().map(|job| job.set).collect();
        let variables: Vec<&Variables> = used.iter().filter_map(|set| sets.get(*set).copied()).collect();
        let templates: Vec<JobRef> =
            codes.iter().map(|job| JobRef { set: used.range(..job.set).count(), code: &job.code }).collect();
        let request = WorkerRequest { variables, memory: self.limits.memory, templates };
        let request = serde_json::to_vec(&request)?;
        let mut stdin = child.stdin.take().ok_or_else(|| std::io::Error::other("no stdin"))?;
        // Written from a thread: a child that dies early must not block the parent on a full pipe.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&request);
        });
        Ok(child)
    }
}

/// Renders in this process (see `worker`).
fn render_here(sets: &[&Variables], codes: &[Job]) -> Vec<Result<Connector, RenderError>> {
    let mut results = Vec::new();
    let rendered = template::render_each(sets, codes, |event| {
        if let Event::Rendered(result) = event {
            results.push(result.and_then(within_size));
        }
        Ok::<(), std::convert::Infallible>(())
    });
    match rendered {
        Ok(()) => results,
        Err(never) => match never {},
    }
}

fn died(compiled: bool, rendered: usize, why: RenderError) -> Ended {
    if compiled {
        Ended::Died(rendered, why)
    } else {
        Ended::DiedCompiling(why)
    }
}
