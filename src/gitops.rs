//! `diff`, `apply` and `status`: the hook's engine, run from the ConfigMap
//! manifests in the repository, for CI pipelines and people at a terminal.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::clusters::Clusters;
use crate::configmap::{read_manifests, ConfigMap};
use crate::connect::Live;
use crate::plan::{Action, Declared, Plan, Step};
use crate::reconcile::{render_configmaps, state_of, StepResult};
use crate::redact::{is_secret_key, REDACTED};
use crate::status::{self, CmStatus};
use crate::template::Renderer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for people (colours on a terminal, unless NO_COLOR is set)
    Table,
    /// One JSON document for machines
    Json,
}

/// The ConfigMaps of the manifests, rendered as the hook renders them, and
/// the files that could not be read.
pub struct Manifests {
    pub declared: Vec<Declared>,
    pub errors: Vec<anyhow::Error>,
}

pub fn declare(paths: &[PathBuf], renderer: &Renderer, clusters: &Clusters) -> Manifests {
    let (manifests, errors) = read_manifests(paths);
    let configmaps: Vec<&ConfigMap> = manifests.iter().map(|m| &m.configmap).collect();
    let rendered = render_configmaps(&configmaps, renderer);
    let declared = configmaps
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
        .collect();
    Manifests { declared, errors }
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

fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Create(_) => "create",
        Action::Update { .. } => "update",
        Action::Unchanged => "unchanged",
        Action::Delete { .. } => "delete",
        Action::Absent => "absent",
        Action::Kept { .. } => "kept",
    }
}

/// The plan as JSON; with `results`, what became of each step.
pub fn plan_json(plan: &Plan, live: &Live, results: Option<&[StepResult]>) -> Value {
    let steps: Vec<Value> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let mut v = json!({
                "connector": step.connector,
                "action": action_name(&step.action),
                "configmap": step.origin.configmap.to_string(),
                "key": step.origin.key,
                "then": step.after.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            });
            if let Action::Delete { reason } = step.action {
                v["reason"] = json!(reason);
            }
            if matches!(step.action, Action::Update { .. }) {
                v["changes"] = json!(changes(step, live));
            }
            if let Some(result) = results.map(|r| &r[i]) {
                v["result"] = match result {
                    StepResult::NotSent => json!("not sent"),
                    StepResult::Done(_) => json!("done"),
                    StepResult::Failed { message, .. } => json!({"failed": message}),
                };
            }
            v
        })
        .collect();
    let problems: Vec<Value> = plan
        .problems
        .iter()
        .map(|p| {
            json!({"configmap": p.origin.configmap.to_string(), "key": p.origin.key, "connector": p.connector, "message": p.message})
        })
        .collect();
    json!({"steps": steps, "problems": problems})
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

/// One row per connector: live ones with their state and declaring
/// ConfigMap, and declared ones Connect does not have.
pub fn status_rows(declared: &[Declared], live: &Live) -> Vec<Value> {
    let mut declared_by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for d in declared {
        for (key, c) in d.templates.iter().filter_map(|(k, r)| Some((k, r.as_ref().ok()?))) {
            declared_by.entry(c.name.clone()).or_default().push(format!("{} key {key}", d.id));
        }
    }
    let names: BTreeSet<&String> = live.names.iter().chain(declared_by.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let s = live.status.get(name);
            let state = match (live.names.contains(name), s) {
                (false, _) => "ABSENT".to_string(),
                (true, Some(s)) => s.connector.clone(),
                (true, None) => "UNKNOWN".to_string(),
            };
            json!({
                "connector": name,
                "state": state,
                "tasks": s.and_then(status::tasks_summary),
                "declared_by": declared_by.get(name).cloned().unwrap_or_default(),
            })
        })
        .collect()
}

pub fn status_table(rows: &[Value], color: bool) -> String {
    let width = rows.iter().map(|r| r["connector"].as_str().unwrap_or("").chars().count()).max().unwrap_or(9).max(9);
    let mut out = format!("{:<width$}  {:<11}  {:<28}  DECLARED BY\n", "CONNECTOR", "STATE", "TASKS");
    for row in rows {
        let state = row["state"].as_str().unwrap_or("");
        let code = match state {
            "RUNNING" => "32",
            "FAILED" | "ABSENT" => "31",
            _ => "33",
        };
        let by: Vec<&str> = row["declared_by"].as_array().into_iter().flatten().filter_map(|v| v.as_str()).collect();
        let by = if by.is_empty() { "(no ConfigMap)".to_string() } else { by.join(", ") };
        out.push_str(&format!(
            "{:<width$}  {}  {:<28}  {by}\n",
            row["connector"].as_str().unwrap_or(""),
            paint(&format!("{state:<11}"), code, color),
            row["tasks"].as_str().unwrap_or("-"),
        ));
    }
    out
}
