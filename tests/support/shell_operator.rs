//! The real shell-operator v1.20.3 that `e2e/up` starts, seen from outside
//! as a user sees it: its log, its `/metrics` and `/metrics/hooks`, its debug
//! socket, and its process. The hook runs only when shell-operator runs it.
//!
//! A test says which of the Deployment's environment variables it changes
//! ([`ShellOperator::with`]); shell-operator is restarted when they differ
//! from those it runs with, as a changed Deployment restarts its Pod.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::real::{wait_until, Env};

/// The hook's name in shell-operator: its path under the hooks directory.
pub const HOOK: &str = "connect-operator";

/// How long the suite waits for shell-operator to have handled what it was given.
const SETTLE: Duration = Duration::from_secs(120);

/// shell-operator's counters of the hook's runs, from `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Runs {
    pub succeeded: f64,
    pub failed: f64,
}

pub struct ShellOperator<'a> {
    env: &'a Env,
    overrides: String,
    /// Where this test's part of shell-operator's log starts.
    log_from: usize,
}

impl<'a> ShellOperator<'a> {
    /// shell-operator running with these changes to the Deployment's
    /// environment (and no others), its first Synchronization done.
    pub fn with(env: &'a Env, overrides: &[(&str, &str)]) -> ShellOperator<'a> {
        let overrides: String = overrides.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        let operator = ShellOperator { env, overrides, log_from: env.program_log("shell-operator").len() };
        let current = std::fs::read_to_string(env.run_dir.join("shell-operator.env")).unwrap_or_default();
        if current.trim() != operator.overrides.trim() || !operator.alive() {
            operator.start();
        }
        operator.synchronized();
        operator
    }

    /// The Pod restarted: shell-operator stops (SIGTERM) and starts again,
    /// and its Synchronization runs. Returns once that run is done.
    pub fn restart(&self) {
        self.start();
        self.synchronized();
    }

    /// Killed as a node dies: SIGKILL to shell-operator and any hook it runs.
    pub fn kill(&self) {
        self.env.stop_program("shell-operator", libc::SIGKILL);
    }

    /// Started (again, after [`Self::kill`]; a running one is stopped
    /// first), without waiting for anything.
    pub fn start(&self) {
        self.env.up("shell-operator", &[("E2E_SHELL_OPERATOR_ENV", self.overrides.clone())]);
    }

    fn alive(&self) -> bool {
        // SAFETY: signal 0 only asks whether the process exists.
        self.env.pid("shell-operator").is_some_and(|pid| unsafe { libc::kill(pid, 0) } == 0)
    }

    /// Waits until the Synchronization of the `connectors` binding succeeded.
    fn synchronized(&self) {
        let done = wait_until(SETTLE, || {
            self.metric("shell_operator_hook_run_success_total", &[("binding", "connectors")]) >= 1.0
                && self.queue_length() == 0.0
        });
        assert!(done, "shell-operator's Synchronization did not succeed:\n{}", self.tail());
    }

    /// shell-operator's own `/metrics`, as Prometheus scrapes it.
    pub fn metrics(&self) -> String {
        self.get("/metrics")
    }

    /// The hook's metrics, on `/metrics/hooks`.
    pub fn hook_metrics(&self) -> String {
        self.get("/metrics/hooks")
    }

    fn get(&self, path: &str) -> String {
        let url = format!("{}{path}", self.env.shell_operator_url);
        match ureq::get(&url).call() {
            Ok(mut response) => response.body_mut().read_to_string().unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The sum of a metric's series of the hook whose labels include `labels`.
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        sum(&self.metrics(), name, &[&[("hook", HOOK)], labels].concat())
    }

    pub fn runs(&self) -> Runs {
        let text = self.metrics();
        Runs {
            succeeded: sum(&text, "shell_operator_hook_run_success_total", &[("hook", HOOK)]),
            failed: sum(&text, "shell_operator_hook_run_errors_total", &[("hook", HOOK)]),
        }
    }

    /// Tasks in shell-operator's queues, the running one included, from the
    /// debug socket: the `shell_operator_tasks_queue_length` gauge is only
    /// sampled every 5 seconds, too late to tell that a queue is empty.
    fn queue_length(&self) -> f64 {
        let queues: Value = serde_json::from_str(&self.debug(&["queue", "list", "-o", "json"])).unwrap_or_default();
        queues["summary"]["totalTasks"].as_f64().unwrap_or(f64::MAX)
    }

    /// Waits until a run that started after `before` succeeded and nothing
    /// is left in the queue: what was changed before that has been handled.
    pub fn settled_since(&self, before: Runs) -> Runs {
        let mut now = before;
        let done = wait_until(SETTLE, || {
            now = self.runs();
            now.succeeded > before.succeeded && self.queue_length() == 0.0
        });
        assert!(done, "no successful hook run since {before:?} (now {now:?}):\n{}", self.tail());
        now
    }

    /// Waits until shell-operator's queue is empty: nothing left to run.
    pub fn idle(&self) {
        self.wait("an empty queue", SETTLE, || self.queue_length() == 0.0);
    }

    /// Does `change` (a kubectl apply, say) and waits until shell-operator
    /// ran the hook for it. The informer needs a moment to queue the event;
    /// a run that began before it cannot count, so the queue must also be empty.
    pub fn after(&self, change: impl FnOnce()) -> Runs {
        let before = self.runs();
        change();
        self.settled_since(before)
    }

    /// shell-operator's log since this test began, one JSON object a line.
    pub fn log(&self) -> Vec<Value> {
        self.log_text().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// The running shell-operator's own log, from its start. Stopping
    /// shell-operator (SIGTERM, as a Pod's) terminates a hook it runs, and the
    /// process being stopped logs that run as failed: those lines belong to
    /// the process before, in the history.
    pub fn log_since_start(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.env.run_dir.join("shell-operator.log")).unwrap_or_default();
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// The log's text since this test began.
    pub fn log_text(&self) -> String {
        let text = self.env.program_log("shell-operator");
        text.get(self.log_from..).unwrap_or("").to_string()
    }

    /// The messages of the hook's own log lines (shell-operator proxies
    /// each JSON line the hook writes, its `msg` as the message).
    pub fn hook_messages(&self) -> Vec<String> {
        self.log()
            .iter()
            .filter(|l| l["hook"] == HOOK && l["proxyJsonLog"] == true)
            .filter_map(|l| l["msg"].as_str().map(str::to_string))
            .collect()
    }

    fn tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// `shell-operator hook ...` against the debug socket.
    pub fn debug(&self, args: &[&str]) -> String {
        let out = Command::new(&self.env.shell_operator_bin)
            .args(args)
            .args(["--debug-unix-socket", &self.env.debug_socket])
            .output()
            .unwrap();
        assert!(out.status.success(), "shell-operator {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits for `done`, failing with shell-operator's log if it never is.
    pub fn wait(&self, what: &str, timeout: Duration, done: impl FnMut() -> bool) {
        let started = Instant::now();
        assert!(wait_until(timeout, done), "{what}: not within {:?}:\n{}", started.elapsed(), self.tail());
    }
}

/// Every test ends with this: the object patcher was never refused (RBAC),
/// and the hook never failed in a way shell-operator would not retry.
impl Drop for ShellOperator<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let text = self.log_text();
        let forbidden: Vec<&str> = text.lines().filter(|l| l.contains("forbidden")).collect();
        assert!(forbidden.is_empty(), "forbidden in shell-operator's log: {forbidden:#?}");
    }
}

/// Sums the series of `name` in a Prometheus text exposition whose labels
/// include every one of `labels`.
pub fn sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
