//! `offsets get`, `offsets reset` and `offsets alter` (KIP-875). A change
//! needs the connector STOPPED: it is stopped, Connect is followed until it
//! says STOPPED with no tasks, the offsets change, and the connector goes
//! back to its declared state (or the one it had), each step said.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use crate::deadline::from_now;
use crate::gitops::one::Named;
use crate::gitops::output::Format;
use crate::gitops::Verdict;
use crate::input::files;
use crate::model::connector::TargetState;
use crate::model::live::ConnectorState;

/// How long a stop may take before the change is given up.
const STOP_TIMEOUT: Duration = Duration::from_secs(120);
/// Between two status reads while waiting.
const POLL: Duration = Duration::from_millis(500);

/// What to do to the offsets.
pub enum Change {
    /// `DELETE .../offsets`.
    Reset,
    /// `PATCH .../offsets` with these.
    Alter(Value),
}

/// Prints the committed offsets: the JSON `GET .../offsets` gives, or one
/// line per partition.
pub fn get(named: &Named, format: Format) -> Result<Verdict> {
    let offsets = named.client.offsets(&named.name).map_err(|f| named.failed("read the offsets of", &f))?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&json!({ "offsets": offsets }))?),
        Format::Table => {
            let list = offsets.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("connector {} has no committed offsets", named.name);
            }
            println!("{:<50}  OFFSET", "PARTITION");
            for o in list {
                let part = |key: &str| o.get(key).map_or_else(|| "-".to_string(), Value::to_string);
                println!("{:<50}  {}", part("partition"), part("offset"));
            }
        }
    }
    Ok(Verdict::Done)
}

/// Reads an `--file` of offsets: `{"offsets": [...]}` as `GET` prints it, or
/// the bare array.
pub fn read_file(path: &Path) -> Result<Value> {
    let text = files::read_capped(path, files::SMALL_MAX, "the offsets file")?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("the offsets file {} is not JSON", path.display()))?;
    let offsets = value.get("offsets").cloned().unwrap_or(value);
    match offsets.as_array() {
        Some(list) if !list.is_empty() && list.iter().all(|o| o.get("partition").is_some()) => Ok(offsets),
        _ => bail!(
            "the offsets file {} must hold {{\"offsets\": [{{\"partition\": {{...}}, \"offset\": {{...}}}}]}}, as `offsets get -o json` prints",
            path.display()
        ),
    }
}

/// Stops the connector, changes its offsets, and brings it back.
pub fn change(named: &Named, change: &Change) -> Result<Verdict> {
    let before = named.status()?.connector.state;
    let back = named.declared_state().unwrap_or_else(|| TargetState::of_live(before));
    if before == ConnectorState::Stopped {
        println!("connector {} is already STOPPED", named.name);
    } else {
        println!("stopping connector {} (it is {before})", named.name);
        named.client.set_state(&named.name, TargetState::Stopped).map_err(|f| named.failed("stop", &f))?;
        wait_stopped(named)?;
    }
    let changed = match change {
        Change::Reset => named.client.reset_offsets(&named.name),
        Change::Alter(offsets) => named.client.alter_offsets(&named.name, offsets),
    };
    let result = match &changed {
        Ok(changed) => {
            println!("{} (connector {})", changed.message, named.name);
            Ok(Verdict::Done)
        }
        Err(f) => Err(named
            .failed(if matches!(change, Change::Reset) { "reset the offsets of" } else { "alter the offsets of" }, f)),
    };
    if back != TargetState::Stopped {
        let why = if named.declared_state().is_some() { "its declared state" } else { "the state it had" };
        println!("bringing connector {} back to {} ({why})", named.name, back.initial_state());
        named.client.set_state(&named.name, back).map_err(|f| named.failed(back.verb(), &f))?;
    }
    result
}

/// Follows the status until Connect reports the connector STOPPED with no
/// tasks: only then does it accept an offsets change.
fn wait_stopped(named: &Named) -> Result<()> {
    let deadline = from_now(STOP_TIMEOUT);
    loop {
        let status = named.status()?;
        if status.connector.state == ConnectorState::Stopped && status.tasks.is_empty() {
            println!("connector {} is STOPPED", named.name);
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(anyhow!(
                "connector {} did not stop within {} (it is {} with {} tasks); its offsets were not changed",
                named.name,
                humantime::format_duration(STOP_TIMEOUT),
                status.connector.state,
                status.tasks.len()
            ));
        }
        std::thread::sleep(POLL);
    }
}
