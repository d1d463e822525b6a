//! Time from `kubectl apply` of a ConfigMap to its connector RUNNING with
//! all its tasks RUNNING, told apart into shell-operator's part (its watch,
//! jqFilter and queue, up to the start of the hook run that created the
//! connector), the hook's own part (from that start to its create line), and
//! Connect's (from the create to every task RUNNING).
//!
//! The start of a run and the hook's lines are read from shell-operator's
//! JSON log as it is written, every 100 ms, and timed as they are read:
//! shell-operator's own `time` has whole seconds only (deckhouse/log formats
//! it as RFC 3339), too coarse to tell a 50 ms run apart. RUNNING is polled
//! from Connect at the same pace, so each figure is about 100 ms coarse.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::real::Env;
use super::shell_operator::HOOK;

/// When each connector was applied, and first seen RUNNING, and the lines
/// shell-operator logged meanwhile, each with the time it was first read.
pub struct Watch {
    applied: BTreeMap<String, SystemTime>,
    running: BTreeMap<String, SystemTime>,
    log: std::path::PathBuf,
    read: u64,
    lines: Vec<(SystemTime, Value)>,
}

impl Watch {
    /// Starts reading shell-operator's log where it ends now.
    pub fn new(env: &Env) -> Watch {
        let log = env.run_dir.join("shell-operator.log");
        let read = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        Watch { applied: BTreeMap::new(), running: BTreeMap::new(), log, read, lines: Vec::new() }
    }

    /// The whole lines shell-operator wrote since the last read.
    fn read_log(&mut self) {
        let now = SystemTime::now();
        let Ok(mut file) = std::fs::File::open(&self.log) else { return };
        let mut text = String::new();
        if file.seek(SeekFrom::Start(self.read)).is_err() || file.read_to_string(&mut text).is_err() {
            return;
        }
        let whole = text.rfind('\n').map_or(0, |i| i + 1);
        self.read += whole as u64;
        let lines = text[..whole].lines().filter_map(|l| serde_json::from_str(l).ok());
        self.lines.extend(lines.map(|l| (now, l)));
    }

    pub fn applied(&mut self, name: &str) {
        self.applied.insert(name.to_string(), SystemTime::now());
    }

    /// Polls Connect until every applied connector runs, all tasks RUNNING.
    pub fn until_running(&mut self, env: &Env, timeout: Duration) -> bool {
        let started = std::time::Instant::now();
        while started.elapsed() < timeout {
            self.read_log();
            let now = SystemTime::now();
            let list = env.connect_get("/connectors?expand=status").unwrap_or_default();
            for (name, entry) in list.as_object().into_iter().flatten() {
                if self.applied.contains_key(name) && !self.running.contains_key(name) && all_running(entry) {
                    self.running.insert(name.clone(), now);
                }
            }
            if self.running.len() == self.applied.len() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The parts of each connector's latency.
    pub fn parts(&mut self) -> Vec<Parts> {
        self.read_log();
        let mut starts = Vec::new();
        let mut created = BTreeMap::new();
        for (time, line) in self.lines.iter().filter(|(_, l)| l["hook"] == HOOK) {
            let (time, Some(msg)) = (*time, line["msg"].as_str()) else { continue };
            if msg == "Execute hook" {
                starts.push(time);
            } else if let Some(name) = msg.strip_prefix("created connector ") {
                let name = name.split_whitespace().next().unwrap_or("");
                created.entry(name.to_string()).or_insert(time);
            }
        }
        let since = |a: SystemTime, b: SystemTime| b.duration_since(a).unwrap_or_default();
        self.applied
            .iter()
            .filter_map(|(name, &applied)| {
                let (&created, &running) = (created.get(name)?, self.running.get(name)?);
                let start = starts.iter().copied().filter(|&s| s <= created).max()?;
                Some(Parts {
                    total: since(applied, running),
                    shell_operator: since(applied, start),
                    hook: since(start, created),
                    connect: since(created, running),
                })
            })
            .collect()
    }

    /// The hook runs seen, from `Execute hook` to `Hook executed successfully`.
    pub fn runs(&mut self) -> Vec<Run> {
        self.read_log();
        let (mut runs, mut start, mut last, mut took) = (Vec::new(), None, None, None);
        for (time, line) in self.lines.iter().filter(|(_, l)| l["hook"] == HOOK) {
            match line["msg"].as_str() {
                Some("Execute hook") => (start, last, took) = (Some(*time), None, None),
                Some("Hook executed successfully") => {
                    if let (Some(_), Some(last), Some(took)) = (start.take(), last.take(), took.take()) {
                        runs.push(Run { hook: took, patches: time.duration_since(last).unwrap_or_default() });
                    }
                }
                Some(msg) if line["proxyJsonLog"] == true => {
                    last = Some(*time);
                    took = msg.strip_prefix("run finished in ").and_then(duration).or(took);
                }
                _ => {}
            }
        }
        runs
    }
}

/// A duration as Rust's `Debug` writes it (`16.574553ms`, `1.2s`, `192.176µs`).
fn duration(text: &str) -> Option<Duration> {
    let end = text.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (number, rest) = text.split_at(end);
    let number: f64 = number.parse().ok()?;
    let unit = [("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0)].into_iter().find(|(u, _)| rest.starts_with(u))?;
    Some(Duration::from_secs_f64(number * unit.1))
}

fn all_running(entry: &Value) -> bool {
    let status = &entry["status"];
    let tasks = status["tasks"].as_array().map(Vec::as_slice).unwrap_or_default();
    status["connector"]["state"] == "RUNNING" && !tasks.is_empty() && tasks.iter().all(|t| t["state"] == "RUNNING")
}

pub struct Parts {
    pub total: Duration,
    pub shell_operator: Duration,
    pub hook: Duration,
    pub connect: Duration,
}

/// One hook run: the hook's process (as its own summary line times it),
/// then shell-operator applying its patch file and metrics (from the hook's
/// last line to `Hook executed successfully`), before the queue moves on.
pub struct Run {
    pub hook: Duration,
    pub patches: Duration,
}

/// `median / worst` of each part, one line, also kept in the run folder's
/// `latency` file that `e2e/test` prints at the end.
pub fn report(env: &Env, case: &str, watch: &mut Watch) -> String {
    let (parts, runs) = (watch.parts(), watch.runs());
    let line = format!(
        "{case} ({} connectors), median / worst: apply -> RUNNING {}; shell-operator (watch, jqFilter, queue) {}; hook run up to its create {}; Connect, create -> all tasks RUNNING {}. {} hook runs: the hook's process {}, then shell-operator applying its patches {}",
        parts.len(),
        figure(&parts, |p| p.total),
        figure(&parts, |p| p.shell_operator),
        figure(&parts, |p| p.hook),
        figure(&parts, |p| p.connect),
        runs.len(),
        figure(&runs, |r| r.hook),
        figure(&runs, |r| r.patches),
    );
    let file = env.run_dir.join("latency");
    let mut text = std::fs::read_to_string(&file).unwrap_or_default();
    text.push_str(&line);
    text.push('\n');
    std::fs::write(file, text).unwrap();
    line
}

fn figure<T>(all: &[T], f: fn(&T) -> Duration) -> String {
    let mut all: Vec<Duration> = all.iter().map(f).collect();
    all.sort();
    let median = all.get(all.len() / 2).copied().unwrap_or_default();
    let worst = all.last().copied().unwrap_or_default();
    format!("{} ms / {} ms", median.as_millis(), worst.as_millis())
}
