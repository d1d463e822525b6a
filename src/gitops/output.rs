//! How plans and their results are printed: aligned tables for people
//! (coloured on a terminal), one JSON document for machines.

use std::io::IsTerminal;

use serde_json::{json, Value};

use crate::connect::Applied;
use crate::execute::{said, Done, StepResult};
use crate::gitops::Planned;
use crate::model::live::Live;
use crate::plan::{Action, Plan, Rename, Stage, Step};
use crate::redact::{is_secret_key, REDACTED};

/// How a command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for people (colours on a terminal, unless NO_COLOR is set)
    Table,
    /// One JSON document for machines
    Json,
}

/// How `render` prints the connectors.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderFormat {
    /// A JSON array
    Json,
    /// A YAML sequence
    Yaml,
}

/// A changed config key, with secret values redacted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The config key.
    pub key: String,
    /// Its live value; absent when the key is new.
    pub old: Option<String>,
    /// Its declared value; absent when the key goes.
    pub new: Option<String>,
}

fn changes(step: &Step, live: &Live) -> Vec<Change> {
    let (Action::Update { connector, changed }
    | Action::Rename(Rename { connector, stage: Stage::Finish { changed }, .. })) = &step.action
    else {
        return Vec::new();
    };
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

/// The action's name in plans: `create`, `update`, ...
#[must_use]
pub fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Create(_) => "create",
        Action::Update { .. } => "update",
        Action::Unchanged => "unchanged",
        Action::Delete { .. } => "delete",
        Action::Absent => "absent",
        Action::Kept { .. } => "kept",
        Action::Retain { .. } => "retain",
        Action::Held { .. } => "held",
        Action::Rename(_) => "rename",
    }
}

/// One cluster's plan as JSON steps and problems, each naming the cluster;
/// with `results`, what became of each step.
#[must_use]
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
            v.insert("then".into(), json!(step.after.iter().map(std::string::ToString::to_string).collect::<Vec<_>>()));
            if let Action::Delete { reason } | Action::Held { reason } | Action::Retain { reason } = step.action {
                v.insert("reason".into(), json!(reason));
            }
            if let Action::Rename(rename) = &step.action {
                v.insert("renamedFrom".into(), json!(rename.from));
            }
            if matches!(step.action, Action::Update { .. } | Action::Rename(_)) {
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
#[must_use]
pub fn colors() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `text` in the colour of the ANSI `code`, when `color`.
#[must_use]
pub fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The plan for people: one line per connector, changed keys beneath.
#[must_use]
pub fn plan_table(plan: &Plan, live: &Live, color: bool) -> String {
    let mut out = String::new();
    let width = plan.steps.iter().map(|s| s.connector.chars().count()).max().unwrap_or(0);
    for step in &plan.steps {
        let (mark, code) = match step.action {
            Action::Create(_) => ("+", "32"),
            Action::Update { .. } => ("~", "33"),
            Action::Delete { .. } => ("-", "31"),
            Action::Held { .. } => ("!", "31"),
            Action::Rename(_) => (">", "36"),
            _ if !step.after.is_empty() => ("~", "33"),
            _ => (" ", "0"),
        };
        let said = match &step.action {
            Action::Rename(rename) => format!("{mark} {}  {}", rename_said(rename), step.origin),
            action => format!("{mark} {:<9} {:<width$}  {}", action_name(action), step.connector, step.origin),
        };
        out.push_str(&paint(&said, code, color && mark != " "));
        if let Action::Delete { reason } | Action::Held { reason } | Action::Retain { reason } = step.action {
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
        "{} to create, {} to rename, {} to update, {} to delete, {} with state or restart changes, {} unchanged, {}\n",
        count(|s| matches!(s.action, Action::Create(_))),
        count(|s| matches!(s.action, Action::Rename(_))),
        count(|s| matches!(s.action, Action::Update { .. })),
        count(|s| matches!(s.action, Action::Delete { .. })),
        count(|s| !matches!(s.action, Action::Create(_) | Action::Update { .. } | Action::Delete { .. })
            && !s.after.is_empty()),
        count(|s| matches!(s.action, Action::Unchanged) && s.after.is_empty()),
        crate::text::count(plan.problems.len(), "error"),
    ));
    out
}

/// `rename OLD -> NAME (offsets carried)`: a rename in a plan's table.
fn rename_said(rename: &Rename) -> String {
    let (from, name) = (&rename.from, &rename.connector.name);
    match rename.stage {
        Stage::Begin => format!("rename {from} -> {name} (offsets carried)"),
        Stage::Finish { .. } => format!("rename {from} -> {name} (offsets carried unless {name} has its own)"),
    }
}

/// What `apply` did and could not do: a line for each write, with the
/// connector's name and where it is declared, and Connect's message when it
/// failed. A terminal's progress line only counts; this names.
#[must_use]
pub fn results_table(plan: &Plan, results: &[StepResult], cluster: &str, color: bool) -> String {
    let mut out = String::new();
    let mut line = |text: String, code: &str| {
        out.push_str(&paint(&text, code, color));
        out.push('\n');
    };
    for (step, result) in plan.steps.iter().zip(results) {
        for done in result.done() {
            let (mark, code) = match done {
                Done::Applied(Applied::Created) => ("+", "32"),
                Done::Removed(_) => ("-", "31"),
                Done::Renamed(_) => (">", "36"),
                _ => ("~", "33"),
            };
            line(format!("{mark} {}", said(step, done, Some(&step.origin), 0)), code);
        }
        if let StepResult::Failed { message, permanent, .. } = result {
            let what = if *permanent { "failed" } else { "failed (transient)" };
            line(format!("! {what} {} ({}, cluster {cluster}): {message}", step.connector, step.origin), "31");
        }
    }
    for problem in &plan.problems {
        line(format!("! error {problem}"), "31");
    }
    out
}

/// The plans of every cluster: one JSON document (each step and problem
/// names its cluster), or tables with a heading per cluster when there are several.
pub fn print_plans(planned: &[Planned], results: Option<&[Vec<StepResult>]>, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let (mut steps, mut problems) = (Vec::new(), Vec::new());
            for (i, p) in planned.iter().enumerate() {
                let results = results.and_then(|r| r.get(i)).map(Vec::as_slice);
                let (s, e) = plan_json(&p.plan, &p.connected.live, results, &p.connected.cluster);
                steps.extend(s);
                problems.extend(e);
            }
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({"steps": steps, "problems": problems}))?);
        }
        Format::Table => {
            for p in planned {
                if planned.len() > 1 {
                    println!("cluster {}:", p.connected.cluster);
                }
                print!("{}", plan_table(&p.plan, &p.connected.live, colors()));
            }
            if planned.iter().all(|p| p.plan.writes() == 0 && p.plan.problems.is_empty()) {
                println!("No changes: Kafka Connect matches the manifests.");
            }
        }
    }
    Ok(())
}
