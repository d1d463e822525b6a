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

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::deadline::from_now;
use crate::model::connector::Connector;
use crate::redact::Scrubber;
use crate::render::error::RenderError;
use crate::render::template::{self, Event};
use crate::render::variables::Variables;
use crate::render::worker::{within_size, Line, WorkerRequest, MAX_LINE_BYTES, WORKER_COMMAND};

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

/// What stderr of a child is kept, to say why it died.
const MAX_STDERR_BYTES: u64 = 16 << 10;

/// How long a template may run and how much memory a child may use.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time a template may run.
    pub timeout: Duration,
    /// Bytes of heap (`RLIMIT_DATA`) per child; 0 for no cap.
    pub memory: u64,
}

/// Renders templates, each batch in a child process; errors are scrubbed of
/// every secret value the templates could read.
pub struct Renderer {
    variables: Arc<Variables>,
    limits: Limits,
    scrubber: Scrubber,
    /// The binary to run as a child: this one. `None` renders in this
    /// process, unbounded: only unit tests do, whose binary is not this one.
    worker: Option<PathBuf>,
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
    pub fn new(variables: Arc<Variables>, limits: Limits) -> anyhow::Result<Renderer> {
        let worker = std::env::current_exe()
            .map_err(|e| anyhow::anyhow!("cannot find this program to render templates in a child: {e}"))?;
        let scrubber = Scrubber::new(variables.secret_values());
        Ok(Renderer { variables, limits, scrubber, worker: Some(worker) })
    }

    /// What the templates can read.
    #[must_use]
    pub fn variables(&self) -> &Variables {
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
    pub fn in_process(variables: Arc<Variables>) -> Renderer {
        let scrubber = Scrubber::new(variables.secret_values());
        let limits = Limits { timeout: Duration::from_secs(10), memory: 0 };
        Renderer { variables, limits, scrubber, worker: None }
    }

    /// Renders every template into a connector. An error is one line (or a
    /// few, for several parse errors) with `line:column` where jaq gives one.
    /// Large batches are split over the machine's cores, one child each.
    #[must_use]
    pub fn render_all(&self, codes: &[&str]) -> Vec<Result<Connector, RenderError>> {
        let cpus = crate::parallel::cores();
        let chunks = cpus.min(codes.len().div_ceil(MIN_CHUNK)).max(codes.len().div_ceil(MAX_CHUNK)).max(1);
        let size = codes.len().div_ceil(chunks).max(1);
        let codes: Vec<String> = codes.iter().map(std::string::ToString::to_string).collect();
        let chunks: Vec<&[String]> = codes.chunks(size).collect();
        let rendered = crate::parallel::map(&chunks, cpus, |chunk| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.render_chunk(chunk))).unwrap_or_else(|_| {
                chunk.iter().map(|_| Err(RenderError::Internal("internal error rendering".into()))).collect()
            })
        });
        rendered.into_iter().flatten().map(|r| r.map_err(|e| e.map_message(|m| self.scrubber.scrub(m)))).collect()
    }

    /// Renders one chunk, in as many children as it takes.
    fn render_chunk(&self, codes: &[String]) -> Vec<Result<Connector, RenderError>> {
        let Some(worker) = &self.worker else { return self.render_here(codes) };
        let mut results: Vec<Option<Result<Connector, RenderError>>> = codes.iter().map(|_| None).collect();
        let mut pending = VecDeque::new();
        pending.push_back(0..codes.len());
        while let Some(range) = pending.pop_front() {
            let start = range.start;
            let mut done = 0;
            let ended = self.run_child(worker, codes.get(range.clone()).unwrap_or_default(), |result| {
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
        codes: &[String],
        mut each: impl FnMut(Result<Connector, RenderError>),
    ) -> Ended {
        if codes.is_empty() {
            return Ended::Finished;
        }
        let mut child = match self.spawn(worker, codes) {
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

    fn spawn(&self, worker: &Path, codes: &[String]) -> std::io::Result<Child> {
        let mut child = Command::new(worker)
            .arg(WORKER_COMMAND)
            // The child needs nothing from the environment: the variables come on stdin.
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let request = WorkerRequest { variables: &self.variables, memory: self.limits.memory, templates: codes };
        let request = serde_json::to_vec(&request)?;
        let mut stdin = child.stdin.take().ok_or_else(|| std::io::Error::other("no stdin"))?;
        // Written from a thread: a child that dies early must not block the parent on a full pipe.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&request);
        });
        Ok(child)
    }
}

impl Renderer {
    /// Renders in this process (see `worker`).
    fn render_here(&self, codes: &[String]) -> Vec<Result<Connector, RenderError>> {
        let mut results = Vec::new();
        let rendered = template::render_each(&self.variables, codes, |event| {
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
}

fn died(compiled: bool, rendered: usize, why: RenderError) -> Ended {
    if compiled {
        Ended::Died(rendered, why)
    } else {
        Ended::DiedCompiling(why)
    }
}

/// Why a child died, for the template's error.
fn cause(status: Option<ExitStatus>, stderr: &str, memory: u64) -> RenderError {
    use std::os::unix::process::ExitStatusExt;
    if stderr.contains("overflowed its stack") {
        return RenderError::Worker(
            "recursed too deeply (stack overflow): nested too deeply, or a definition that calls itself without end"
                .into(),
        );
    }
    if stderr.contains("memory allocation of") {
        return RenderError::Memory(memory);
    }
    RenderError::Worker(match status {
        Some(s) if s.signal().is_some() => {
            format!("the template worker was killed by signal {}", s.signal().unwrap_or_default())
        }
        Some(s) => format!("the template worker exited with {s}"),
        None => "the template worker ended unexpectedly".into(),
    })
}

/// Lines from the child, parsed, on a channel (so the parent can wait with a
/// deadline); each is read with a cap.
fn read_lines(stdout: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Result<Line, RenderError>> {
    let unreadable = |why: String| RenderError::Worker(format!("the template worker sent an unreadable answer: {why}"));
    let (tx, rx) = mpsc::channel();
    let Some(stdout) = stdout else { return rx };
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut line = Vec::new();
            match reader.by_ref().take(MAX_LINE_BYTES).read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line.last() != Some(&b'\n') => {
                    let _ = tx.send(Err(unreadable(format!("a line over {MAX_LINE_BYTES} bytes"))));
                    return;
                }
                Ok(_) => {
                    let parsed = serde_json::from_slice::<Line>(&line).map_err(|e| unreadable(e.to_string()));
                    if tx.send(parsed).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// The start of the child's stderr, read on a thread so it can never fill up.
fn read_capped(stderr: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr {
            let mut capped = stderr.take(MAX_STDERR_BYTES);
            let _ = capped.read_to_string(&mut text);
            // Drain the rest so the child never blocks on a full pipe.
            let _ = std::io::copy(&mut capped.into_inner(), &mut std::io::sink());
        }
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_of_death() {
        assert!(cause(None, "thread 'main' has overflowed its stack", 0).to_string().contains("stack overflow"));
        assert!(cause(None, "memory allocation of 1000000000 bytes failed", 64 << 20).to_string().contains("64 MiB"));
    }
}
