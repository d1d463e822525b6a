//! One connector at a time, for incidents: `describe`, `pause`, `resume`,
//! `stop` and `restart`. The connector is found in the manifests when they
//! declare it (its ConfigMap, key, cluster and declared state), and acted
//! on in Connect either way.

use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};

use crate::connect::clusters::DEFAULT;
use crate::connect::{Client, Failure};
use crate::desired::CmState;
use crate::gitops::output::{colors, paint, Format};
use crate::gitops::{source, Reading, Sourced, Verdict};
use crate::model::connector::{Connector, TargetState};
use crate::model::live::{ConnectorState, Status, Unit};
use crate::redact::{is_secret_key, Scrubber, REDACTED};
use crate::settings::{ConnectArgs, Manifests};

/// A connector named on the command line, and where to reach it.
pub struct Named {
    /// Its name.
    pub name: String,
    /// The cluster that runs it.
    pub cluster: String,
    /// The client of that cluster.
    pub client: Client,
    /// Hides every secret value the templates could read.
    pub scrubber: Scrubber,
    /// The manifest that declares it, if one does.
    pub declared: Option<Declaration>,
    /// Why the manifests cannot say whether one declares it, if they cannot.
    pub unknown: Option<Unknown>,
}

/// Why the manifests cannot say whether one declares a connector.
pub enum Unknown {
    /// None was named.
    NoManifests,
    /// This many templates did not render (each said as a warning).
    Unrendered(usize),
}

/// Where a connector is declared, and what it declares.
pub struct Declaration {
    /// `ConfigMap ns/name key k.json`.
    pub by: String,
    /// The rendered connector.
    pub connector: Connector,
    /// `enabled: "false"`: it should not exist.
    pub disabled: bool,
}

impl Named {
    /// Finds `name` in the manifests and connects to its cluster: `cluster`
    /// when given, else the one its ConfigMap names, else `default`.
    pub fn find(name: &str, sources: &Manifests, connect: &ConnectArgs, cluster: Option<&str>) -> Result<Named> {
        let clusters = connect.clusters()?;
        let Sourced { scrubber, declared, .. } = source(sources, &clusters, Reading::Lookup)?;
        let mut unrendered = 0;
        for d in &declared {
            for (key, e) in d.rendered.templates.iter().filter_map(|(key, r)| Some((key, r.as_ref().err()?))) {
                log::warn!("ConfigMap {} key {key} did not render: {}", d.id, scrubber.scrub(&e.to_string()));
                unrendered += 1;
            }
        }
        let mut found = declared.iter().flat_map(|d| {
            d.rendered.templates.iter().filter_map(move |(key, r)| {
                let c = r.as_ref().ok().filter(|c| c.name == name)?;
                let by = format!("ConfigMap {} key {key}", d.id);
                Some((
                    d.cluster.clone(),
                    Declaration { by, connector: c.clone(), disabled: d.state == CmState::Remove },
                ))
            })
        });
        let (declared_on, declaration) = found.next().unzip();
        let unknown = match (&declaration, sources.paths.is_empty(), unrendered) {
            (None, true, _) => Some(Unknown::NoManifests),
            (None, false, n) if n > 0 => Some(Unknown::Unrendered(n)),
            _ => None,
        };
        let cluster = match (cluster, declared_on) {
            (Some(asked), Some(on)) if asked != on => {
                bail!(
                    "connector {name} is declared on cluster {on}, not {asked} (drop --cluster, or name the right one)"
                )
            }
            (Some(asked), _) => asked.to_string(),
            (None, Some(on)) => on,
            (None, None) => DEFAULT.to_string(),
        };
        let client = Client::new(&clusters.get(&cluster)?.settings, &scrubber)?;
        Ok(Named { name: name.to_string(), cluster, client, scrubber, declared: declaration, unknown })
    }

    /// A failure of a request about this connector, as an error that reads well.
    pub fn failed(&self, what: &str, failure: &Failure) -> anyhow::Error {
        anyhow!(
            "cannot {what} connector {} (cluster {}): {}",
            self.name,
            self.cluster,
            failure.scrubbed(&self.scrubber)
        )
    }

    /// Its status; an error when Connect does not know it.
    pub fn status(&self) -> Result<Status> {
        self.client
            .status(&self.name)
            .map_err(|f| self.failed("read the status of", &f))?
            .ok_or_else(|| anyhow!("Kafka Connect (cluster {}) has no connector {}", self.cluster, self.name))
    }

    /// The state it is declared in; `None` when no manifest declares it.
    pub fn declared_state(&self) -> Option<TargetState> {
        self.declared.as_ref().filter(|d| !d.disabled).map(|d| d.connector.state)
    }
}

/// `pause`, `resume` and `stop`: moves the connector, and says when the
/// hook will move it back.
pub fn set_state(named: &Named, state: TargetState) -> Result<Verdict> {
    named.client.set_state(&named.name, state).map_err(|f| named.failed(state.verb(), &f))?;
    println!("connector {} is now {state} (cluster {})", named.name, named.cluster);
    let back = "the hook will put back its declared state at its next run";
    match named.unknown {
        Some(Unknown::NoManifests) => println!(
            "note: no manifests were named, so whether one declares it is not known; if one does, {back} \
             (name them after the connector to find out)"
        ),
        Some(Unknown::Unrendered(n)) => println!(
            "note: {n} {} did not render (said above), so whether one declares it is not known; if one does, {back}",
            if n == 1 { "template" } else { "templates" }
        ),
        None => {}
    }
    if let Some(declaration) = named.declared.as_ref() {
        let back = match declaration.connector.state {
            _ if declaration.disabled => "delete it, as it is disabled",
            declared if declared == state => return Ok(Verdict::Done),
            TargetState::Running => "resume it",
            TargetState::Paused => "pause it",
            TargetState::Stopped => "stop it",
        };
        println!(
            "note: {} declares it {}; the hook will {back} at its next run (change the template's `state` to keep it {state})",
            declaration.by,
            declaration.connector.state
        );
    }
    Ok(Verdict::Done)
}

/// `restart`: the connector and its tasks (only the failed ones with
/// `failed_only`), or one task.
pub fn restart(named: &Named, task: Option<u32>, failed_only: bool) -> Result<Verdict> {
    if let Some(task) = task {
        named.client.restart_task(&named.name, task).map_err(|f| named.failed("restart a task of", &f))?;
        println!("restarted task {task} of connector {} (cluster {})", named.name, named.cluster);
    } else {
        named.client.restart_with(&named.name, true, failed_only).map_err(|f| named.failed("restart", &f))?;
        let which = if failed_only { "its failed tasks" } else { "its tasks" };
        println!("restarted connector {} and {which} (cluster {})", named.name, named.cluster);
    }
    Ok(Verdict::Done)
}

/// `describe`: everything about one connector, secrets redacted, offsets
/// in full (the person asking may see them; they never go to Events).
pub fn describe(named: &Named, format: Format) -> Result<Verdict> {
    let status = named.status()?;
    let config: std::collections::BTreeMap<String, String> = if let Some(d) = &named.declared {
        d.connector.redacted_config().into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    } else {
        // Not declared: Connect's config, with what looks secret hidden.
        let live = named.client.get_config(&named.name).map_err(|f| named.failed("read the config of", &f))?;
        let shown = |(k, v): (String, String)| {
            let v = if is_secret_key(&k) { REDACTED.to_string() } else { named.scrubber.scrub(&v) };
            (k, v)
        };
        live.unwrap_or_default().into_iter().map(shown).collect()
    };
    let offsets = match named.client.offsets(&named.name) {
        Ok(offsets) => Ok(offsets),
        Err(f) => Err(f.scrubbed(&named.scrubber)),
    };
    let value = json!({
        "name": named.name,
        "cluster": named.cluster,
        "declaredBy": named.declared.as_ref().map(|d| &d.by),
        "declaredState": named.declared.as_ref().map(|d| if d.disabled { "DISABLED".to_string() } else { d.connector.state.initial_state().to_string() }),
        "state": status.connector.state,
        "workerId": status.connector.worker_id,
        "trace": status.connector.reason(),
        "tasks": status.tasks.iter().enumerate().map(|(i, t)| json!({"id": i, "state": t.state, "workerId": t.worker_id, "trace": t.reason()})).collect::<Vec<_>>(),
        "config": config,
        "offsets": offsets.as_ref().ok(),
        "offsetsError": offsets.as_ref().err(),
    });
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&value)?),
        Format::Table => print!("{}", describe_table(named, &status, &value, colors())),
    }
    Ok(Verdict::Done)
}

fn describe_table(named: &Named, status: &Status, value: &Value, color: bool) -> String {
    let text = |key: &str| value[key].as_str().unwrap_or("-").to_string();
    let state = |u: &Unit| {
        let code = match u.state {
            ConnectorState::Running => "32",
            ConnectorState::Failed => "31",
            _ => "33",
        };
        paint(u.state.as_str(), code, color)
    };
    let mut out = format!("Name:         {}\nCluster:      {}\n", named.name, named.cluster);
    out.push_str(&format!("Declared by:  {}\n", text("declaredBy")));
    out.push_str(&format!("Declared:     {}\n", text("declaredState")));
    let worker = status.connector.worker_id.as_deref().unwrap_or("-");
    out.push_str(&format!("State:        {} on {worker}\n", state(&status.connector)));
    if let Some(reason) = status.connector.reason() {
        out.push_str(&format!("              {reason}\n"));
    }
    out.push_str(&format!("Tasks:        {}\n", status.tasks.len()));
    for (i, t) in status.tasks.iter().enumerate() {
        out.push_str(&format!("  {i:<3} {} on {}\n", state(t), t.worker_id.as_deref().unwrap_or("-")));
        if let Some(reason) = t.reason() {
            out.push_str(&format!("      {reason}\n"));
        }
    }
    out.push_str("Config:\n");
    for (k, v) in value["config"].as_object().into_iter().flatten() {
        out.push_str(&format!("  {k}: {}\n", v.as_str().unwrap_or_default()));
    }
    match (value["offsets"].as_array(), value["offsetsError"].as_str()) {
        (Some(offsets), _) if offsets.is_empty() => out.push_str("Offsets:      none committed\n"),
        (Some(offsets), _) => {
            out.push_str("Offsets:\n");
            for o in offsets {
                out.push_str(&format!("  {} -> {}\n", o["partition"], o["offset"]));
            }
        }
        (None, Some(error)) => out.push_str(&format!("Offsets:      cannot be read: {error}\n")),
        (None, None) => {}
    }
    out
}
