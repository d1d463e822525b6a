//! `diff`, `apply` and `status`: the hook's engine, run from the ConfigMap
//! manifests in the repository, for CI pipelines and people at a terminal.

use std::collections::BTreeSet;
use std::io::IsTerminal;

use serde_json::{json, Value};

use crate::clusters::Clusters;
use crate::configmap::{ConfigMap, Manifest};
use crate::connect::Live;
use crate::connector::{Connector, TargetState};
use crate::plan::CmState;
use crate::plan::{Action, Declared, Plan, Step};
use crate::reconcile::{render_configmaps, state_of, StepResult};
use crate::redact::{is_secret_key, Scrubber, REDACTED};
use crate::sandbox::Renderer;
use crate::status::{self, CmStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for people (colours on a terminal, unless NO_COLOR is set)
    Table,
    /// One JSON document for machines
    Json,
}

/// The ConfigMaps of the manifests, rendered as the hook renders them, in
/// the same order.
pub fn declare(manifests: &[Manifest], renderer: &Renderer, clusters: &Clusters) -> Vec<Declared> {
    let configmaps: Vec<&ConfigMap> = manifests.iter().map(|m| &m.configmap).collect();
    let rendered = render_configmaps(&configmaps, renderer);
    configmaps
        .iter()
        .zip(rendered)
        .map(|(cm, templates)| {
            let (state, cluster) = state_of(cm, clusters);
            (cm, templates, state, cluster)
        })
        .map(|(cm, templates, state, cluster)| Declared {
            id: cm.id.clone(),
            cluster,
            state,
            act: true,
            templates,
            recorded: status::recorded_names(&cm.annotations),
            previous: CmStatus::recorded(&cm.annotations),
            // A restart is a request to the running operator, not part of a manifest's diff.
            restart_request: None,
        })
        .collect()
}

/// A changed config key, with secret values redacted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

fn changes(step: &Step, live: &Live) -> Vec<Change> {
    let Action::Update { connector, changed } = &step.action else { return Vec::new() };
    let current = live.configs.get(&step.connector);
    changed
        .iter()
        .map(|key| {
            let secret = connector.secret_keys.contains(key) || is_secret_key(key);
            let shown = |v: Option<&String>| v.map(|v| if secret { REDACTED.to_string() } else { v.clone() });
            Change {
                key: key.clone(),
                old: shown(current.and_then(|c| c.get(key))),
                new: shown(connector.config.get(key)),
            }
        })
        .collect()
}

pub fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Create(_) => "create",
        Action::Update { .. } => "update",
        Action::Unchanged => "unchanged",
        Action::Delete { .. } => "delete",
        Action::Absent => "absent",
        Action::Kept { .. } => "kept",
    }
}

/// One cluster's plan as JSON steps and problems, each naming the cluster;
/// with `results`, what became of each step.
pub fn plan_json(plan: &Plan, live: &Live, results: Option<&[StepResult]>, cluster: &str) -> (Vec<Value>, Vec<Value>) {
    let steps: Vec<Value> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let mut v = serde_json::Map::new();
            v.insert("cluster".into(), json!(cluster));
            v.insert("connector".into(), json!(step.connector));
            v.insert("action".into(), json!(action_name(&step.action)));
            v.insert("configmap".into(), json!(step.origin.configmap.to_string()));
            v.insert("key".into(), json!(step.origin.key));
            v.insert("then".into(), json!(step.after.iter().map(|a| a.to_string()).collect::<Vec<_>>()));
            if let Action::Delete { reason } = step.action {
                v.insert("reason".into(), json!(reason));
            }
            if matches!(step.action, Action::Update { .. }) {
                v.insert("changes".into(), json!(changes(step, live)));
            }
            if let Some(result) = results.and_then(|r| r.get(i)) {
                let result = match result {
                    StepResult::NotSent => json!("not sent"),
                    StepResult::Done(_) => json!("done"),
                    StepResult::Failed { message, .. } => json!({"failed": message}),
                };
                v.insert("result".into(), result);
            }
            Value::Object(v)
        })
        .collect();
    let problems: Vec<Value> = plan
        .problems
        .iter()
        .map(|p| {
            json!({"cluster": cluster, "configmap": p.origin.configmap.to_string(), "key": p.origin.key,
                   "connector": p.connector, "message": p.message})
        })
        .collect();
    (steps, problems)
}

/// Colours on a terminal only, and never with NO_COLOR set.
pub fn colors() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The plan for people: one line per connector, changed keys beneath.
pub fn plan_table(plan: &Plan, live: &Live, color: bool) -> String {
    let mut out = String::new();
    let width = plan.steps.iter().map(|s| s.connector.chars().count()).max().unwrap_or(0);
    for step in &plan.steps {
        let (mark, code) = match step.action {
            Action::Create(_) => ("+", "32"),
            Action::Update { .. } => ("~", "33"),
            Action::Delete { .. } => ("-", "31"),
            _ if !step.after.is_empty() => ("~", "33"),
            _ => (" ", "0"),
        };
        let line = format!("{mark} {:<9} {:<width$}  {}", action_name(&step.action), step.connector, step.origin);
        out.push_str(&paint(&line, code, color && mark != " "));
        if let Action::Delete { reason } = step.action {
            out.push_str(&format!(" ({reason})"));
        }
        for after in &step.after {
            out.push_str(&format!(", then {after}"));
        }
        out.push('\n');
        for c in changes(step, live) {
            let show = |v: &Option<String>| v.as_ref().map_or("(absent)".to_string(), |v| format!("{v:?}"));
            out.push_str(&format!("      {}: {} -> {}\n", c.key, show(&c.old), show(&c.new)));
        }
    }
    for problem in &plan.problems {
        out.push_str(&paint(&format!("! error     {problem}"), "31", color));
        out.push('\n');
    }
    let count = |f: fn(&Step) -> bool| plan.steps.iter().filter(|s| f(s)).count();
    out.push_str(&format!(
        "{} to create, {} to update, {} to delete, {} with state or restart changes, {} unchanged, {} errors\n",
        count(|s| matches!(s.action, Action::Create(_))),
        count(|s| matches!(s.action, Action::Update { .. })),
        count(|s| matches!(s.action, Action::Delete { .. })),
        count(|s| !matches!(s.action, Action::Create(_) | Action::Update { .. } | Action::Delete { .. })
            && !s.after.is_empty()),
        count(|s| matches!(s.action, Action::Unchanged) && s.after.is_empty()),
        plan.problems.len(),
    ));
    out
}

/// What `apply` could not do, one line each, with Connect's message.
pub fn failures_table(plan: &Plan, results: &[StepResult], cluster: &str, color: bool) -> String {
    let mut out = String::new();
    for (step, result) in plan.steps.iter().zip(results) {
        if let StepResult::Failed { message, permanent, .. } = result {
            let what = if *permanent { "failed" } else { "failed (transient)" };
            let line = format!("! {what} {} ({}, cluster {cluster}): {message}", step.connector, step.origin);
            out.push_str(&paint(&line, "31", color));
            out.push('\n');
        }
    }
    for problem in &plan.problems {
        out.push_str(&paint(&format!("! error {problem}"), "31", color));
        out.push('\n');
    }
    out
}

/// How a status row bears on `status`' exit code, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Not declared by any manifest: shown, never judged.
    Undeclared,
    /// As declared: in its declared state with every task there too, or disabled and gone.
    Healthy,
    /// The cluster answered, but the connector is not as declared.
    Unhealthy,
    /// The manifest itself is wrong: a template or label error, or an unknown cluster.
    Error,
}

/// One row of `status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// `-` when the ConfigMap names a cluster that is not configured.
    pub cluster: String,
    /// `-` when no template rendered a name.
    pub connector: String,
    /// Connect's state, or `ABSENT`, `UNKNOWN`, `DISABLED` or `ERROR`.
    pub state: String,
    /// What the manifests ask for: `RUNNING`, `PAUSED`, `STOPPED` or `DISABLED`.
    pub declared: Option<String>,
    pub tasks: Option<String>,
    pub declared_by: Vec<String>,
    /// Why it is not healthy: first lines of traces with their workers, or errors.
    pub problems: Vec<String>,
    pub health: Health,
}

/// Rows for ConfigMaps that are wrong as a whole (labels, cluster).
pub fn invalid_rows(declared: &[Declared]) -> Vec<Row> {
    let mut rows = Vec::new();
    for d in declared {
        let CmState::Invalid(message) = &d.state else { continue };
        let mut names: Vec<String> = d.names().into_iter().collect();
        if names.is_empty() {
            names.push("-".into());
        }
        rows.extend(names.into_iter().map(|connector| Row {
            cluster: "-".into(),
            connector,
            state: "ERROR".into(),
            declared: None,
            tasks: None,
            declared_by: vec![format!("{}", d.id)],
            problems: vec![message.clone()],
            health: Health::Error,
        }));
    }
    rows
}

/// One row per declared connector of one cluster, one per template that did
/// not render, and one per connector no manifest declares.
pub fn status_rows(cluster: &str, declared: &[Declared], live: &Live, scrubber: &Scrubber) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut seen = BTreeSet::new();
    for d in declared {
        for (key, rendered) in &d.templates {
            let by = vec![format!("{} key {key}", d.id)];
            let row = match rendered {
                Ok(c) => {
                    seen.insert(c.name.clone());
                    declared_row(cluster, c, d.state == CmState::Remove, by, live)
                }
                Err(e) => Row {
                    cluster: cluster.into(),
                    connector: "-".into(),
                    state: "ERROR".into(),
                    declared: None,
                    tasks: None,
                    declared_by: by,
                    problems: vec![scrubber.scrub(e)],
                    health: Health::Error,
                },
            };
            rows.push(row);
        }
    }
    for name in live.names.iter().filter(|n| !seen.contains(*n)) {
        let status = live.status.get(name);
        rows.push(Row {
            cluster: cluster.into(),
            connector: name.clone(),
            state: status.map_or("UNKNOWN".into(), |s| s.connector.state.clone()),
            declared: None,
            tasks: status.and_then(status::tasks_summary),
            declared_by: Vec::new(),
            problems: status.map(failures).unwrap_or_default(),
            health: Health::Undeclared,
        });
    }
    rows
}

fn declared_row(cluster: &str, c: &Connector, disabled: bool, declared_by: Vec<String>, live: &Live) -> Row {
    let exists = live.names.contains(&c.name);
    let status = live.status.get(&c.name).filter(|_| exists);
    let mut row = Row {
        cluster: cluster.into(),
        connector: c.name.clone(),
        state: match (exists, status) {
            (false, _) => "ABSENT".into(),
            (true, Some(s)) => s.connector.state.clone(),
            (true, None) => "UNKNOWN".into(),
        },
        declared: Some(if disabled { "DISABLED".into() } else { c.state.initial_state().into() }),
        tasks: status.and_then(status::tasks_summary),
        declared_by,
        problems: status.map(failures).unwrap_or_default(),
        health: Health::Healthy,
    };
    if disabled {
        if exists {
            row.problems.push("disabled, but still on the cluster (apply deletes it)".into());
            row.health = Health::Unhealthy;
        } else {
            row.state = "DISABLED".into();
        }
        return row;
    }
    let wanted = c.state.initial_state();
    let as_declared = status.is_some_and(|s| {
        s.connector.state == wanted
            && match c.state {
                TargetState::Stopped => s.tasks.is_empty(),
                _ => s.tasks.iter().all(|t| t.state == wanted),
            }
    });
    if !as_declared {
        row.health = Health::Unhealthy;
    }
    row
}

/// The first line of the trace of the connector and of each task that failed, with its worker.
fn failures(status: &crate::connect::Status) -> Vec<String> {
    let unit = |what: String, u: &crate::connect::Unit| {
        (u.state == "FAILED").then(|| {
            let worker = u.worker_id.as_deref().map(|w| format!(" on {w}")).unwrap_or_default();
            format!("{what} FAILED{worker}: {}", u.reason().unwrap_or("(no trace)"))
        })
    };
    let connector = unit("connector".into(), &status.connector);
    let tasks = status.tasks.iter().enumerate().filter_map(|(i, t)| unit(format!("task {i}"), t));
    connector.into_iter().chain(tasks).collect()
}

/// A row's state, and the declared one when they differ and it matters.
fn shown_state(row: &Row) -> String {
    match row.declared.as_ref().filter(|d| row.health == Health::Unhealthy && **d != row.state) {
        Some(declared) => format!("{} (want {declared})", row.state),
        None => row.state.clone(),
    }
}

/// The status for people: a line per connector, its failures beneath.
pub fn status_table(rows: &[Row], color: bool) -> String {
    let width = |f: fn(&Row) -> &str, min: usize| rows.iter().map(|r| f(r).chars().count()).max().unwrap_or(0).max(min);
    let (cw, nw) = (width(|r| &r.cluster, 7), width(|r| &r.connector, 9));
    let states: Vec<String> = rows.iter().map(shown_state).collect();
    let sw = states.iter().map(|s| s.chars().count()).max().unwrap_or(0).max(11);
    let mut out = format!("{:<cw$}  {:<nw$}  {:<sw$}  {:<28}  DECLARED BY\n", "CLUSTER", "CONNECTOR", "STATE", "TASKS");
    for (row, state) in rows.iter().zip(states) {
        let code = match (row.health, row.state.as_str()) {
            (Health::Healthy, "DISABLED") => "2",
            (Health::Healthy, _) | (Health::Undeclared, "RUNNING") => "32",
            (_, "FAILED" | "ERROR" | "ABSENT" | "UNASSIGNED") => "31",
            _ => "33",
        };
        let by = if row.declared_by.is_empty() { "(no ConfigMap)".to_string() } else { row.declared_by.join(", ") };
        out.push_str(&format!(
            "{:<cw$}  {:<nw$}  {}  {:<28}  {by}\n",
            row.cluster,
            row.connector,
            paint(&format!("{state:<sw$}"), code, color),
            row.tasks.as_deref().unwrap_or("-"),
        ));
        for problem in &row.problems {
            out.push_str(&format!("{:<cw$}    {}\n", "", paint(problem, code, color)));
        }
    }
    let count = |h: Health| rows.iter().filter(|r| r.health == h).count();
    out.push_str(&format!(
        "{} as declared, {} not as declared, {} errors, {} not declared by any manifest\n",
        count(Health::Healthy),
        count(Health::Unhealthy),
        count(Health::Error),
        count(Health::Undeclared)
    ));
    out
}
