//! `offsets get`, `offsets reset` and `offsets alter` (KIP-875). A change
//! needs the connector STOPPED: it is stopped, Connect is followed until it
//! says STOPPED with no tasks, the offsets change, and the connector goes
//! back to its declared state (or the one it had), each step said.

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use serde_json::{json, Value};

use crate::day2::one::Named;
use crate::files;
use crate::gitops::output::Format;
use crate::gitops::Verdict;
use crate::model::requests::{offsets_list, OffsetsChange};

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
                return Ok(Verdict::Done);
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

/// Reads an `--file` of offsets: `{"offsets": [...]}` as `get -o json`
/// prints it, or the bare array.
pub fn read_file(path: &Path) -> Result<Value> {
    let text = files::read_capped(path, files::SMALL_MAX, "the offsets file")?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("the offsets file {} is not JSON", path.display()))?;
    offsets_list(value).map_err(|e| anyhow!("the offsets file {}: {e}", path.display()))
}

/// Stops the connector, changes its offsets, and brings it back to its
/// declared state (or the one it had), saying each step.
pub fn change(named: &Named, change: &OffsetsChange) -> Result<Verdict> {
    let say = |line: String| println!("{line}");
    match named.client.change_offsets_stopped(&named.name, change, named.declared_state(), &say) {
        Ok(_) => Ok(Verdict::Done),
        Err(f) => Err(named.failed("change the offsets of", &f)),
    }
}
