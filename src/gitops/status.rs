//! `status`: each declared connector's state and tasks beside what its
//! manifest declares, the first line of every failure, and whether all is
//! as declared.

use std::collections::BTreeSet;

use anyhow::Result;

use crate::connect::clusters::DEFAULT;
use crate::desired::{CmState, Declared};
use crate::gitops::output::{colors, paint, Format};
use crate::gitops::{by_cluster, connect, source, Sourced, Verdict};
use crate::model::connector::{Connector, TargetState};
use crate::model::live::{ConnectorState, Live, Status, Unit};
use crate::redact::Scrubber;
use crate::settings::{ConnectArgs, Sources};

/// Prints the status of the connectors the manifests declare, and of those
/// no manifest declares.
pub fn run(sources: &Sources, connect_args: &ConnectArgs, format: Format) -> Result<Verdict> {
    let clusters = connect_args.clusters()?;
    let Sourced { scrubber, declared, .. } = source(&sources.manifests, &clusters, sources.reading())?;
    let (invalid, valid): (Vec<Declared>, Vec<Declared>) =
        declared.into_iter().partition(|d| d.state.refusal().is_some());
    let mut rows = invalid_rows(&invalid);
    let by_cluster = by_cluster(valid);
    for name in clusters.all.keys() {
        let declared = by_cluster.get(name).map(Vec::as_slice).unwrap_or_default();
        if declared.is_empty() && name != DEFAULT && clusters.all.len() > 1 {
            continue;
        }
        let connected = connect(name, &clusters, declared, &scrubber)?;
        rows.extend(status_rows(name, declared, &connected.live, &scrubber));
    }
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Table => print!("{}", status_table(&rows, colors())),
    }
    Ok(match rows.iter().map(|r| r.health).max() {
        Some(Health::Error) => Verdict::Failed,
        Some(Health::Unhealthy) => Verdict::NotAsDeclared,
        _ => Verdict::Done,
    })
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
    pub state: ConnectorState,
    /// What the manifests ask for: `RUNNING`, `PAUSED`, `STOPPED` or `DISABLED`.
    pub declared: Option<ConnectorState>,
    /// Task states, e.g. `2/3 tasks RUNNING, 1 FAILED`.
    pub tasks: Option<String>,
    /// The ConfigMaps and keys that declare it.
    pub declared_by: Vec<String>,
    /// Why it is not healthy: first lines of traces with their workers, or errors.
    pub problems: Vec<String>,
    /// Whether it is as declared.
    pub health: Health,
}

/// Rows for ConfigMaps that are wrong as a whole (labels, cluster).
#[must_use]
pub fn invalid_rows(declared: &[Declared]) -> Vec<Row> {
    let mut rows = Vec::new();
    for d in declared {
        let Some(message) = d.state.refusal() else { continue };
        let mut names: Vec<String> = d.names().into_iter().collect();
        if names.is_empty() {
            names.push("-".into());
        }
        rows.extend(names.into_iter().map(|connector| Row {
            cluster: "-".into(),
            connector,
            state: ConnectorState::Error,
            declared: None,
            tasks: None,
            declared_by: vec![format!("{}", d.id)],
            problems: vec![message.to_string()],
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
        for (key, rendered) in &d.rendered.templates {
            let by = vec![format!("{} key {key}", d.id)];
            let row = match rendered {
                Ok(c) => {
                    seen.insert(c.name.clone());
                    declared_row(cluster, c, d.state == CmState::Remove, by, live)
                }
                Err(e) => Row {
                    cluster: cluster.into(),
                    connector: "-".into(),
                    state: ConnectorState::Error,
                    declared: None,
                    tasks: None,
                    declared_by: by,
                    problems: vec![scrubber.scrub(&e.to_string())],
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
            state: status.map_or(ConnectorState::Unknown, |s| s.connector.state),
            declared: None,
            tasks: status.and_then(Status::tasks_summary),
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
            (false, _) => ConnectorState::Absent,
            (true, Some(s)) => s.connector.state,
            (true, None) => ConnectorState::Unknown,
        },
        declared: Some(if disabled { ConnectorState::Disabled } else { c.state.initial_state() }),
        tasks: status.and_then(Status::tasks_summary),
        declared_by,
        problems: status.map(failures).unwrap_or_default(),
        health: Health::Healthy,
    };
    if disabled {
        if exists {
            row.problems.push("disabled, but still on the cluster (apply deletes it)".into());
            row.health = Health::Unhealthy;
        } else {
            row.state = ConnectorState::Disabled;
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
fn failures(status: &Status) -> Vec<String> {
    let unit = |what: String, u: &Unit| {
        (u.state == ConnectorState::Failed).then(|| {
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
    match row.declared.filter(|d| row.health == Health::Unhealthy && *d != row.state) {
        Some(declared) => format!("{} (want {declared})", row.state),
        None => row.state.to_string(),
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
        use ConnectorState::{Absent, Disabled, Error, Failed, Running, Unassigned};
        let code = match (row.health, row.state) {
            (Health::Healthy, Disabled) => "2",
            (Health::Healthy, _) | (Health::Undeclared, Running) => "32",
            (_, Failed | Error | Absent | Unassigned) => "31",
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
        "{} as declared, {} not as declared, {}, {} not declared by any manifest\n",
        count(Health::Healthy),
        count(Health::Unhealthy),
        crate::text::count(count(Health::Error), "error"),
        count(Health::Undeclared)
    ));
    out
}
