//! The child side of [`crate::render::sandbox`]: `connect-operator
//! __render-worker` reads the variables and templates on stdin, caps its own
//! memory, and writes one JSON line per rendered template.

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::model::connector::Connector;
use crate::render::error::RenderError;
use crate::render::template::{self, Event, Job};
use crate::render::variables::Variables;
use crate::text::format_size;

/// The hidden subcommand that runs a child.
pub const WORKER_COMMAND: &str = "__render-worker";

/// The largest rendered connector: the JSON of its config. Kafka Connect's
/// configs live in a Kafka topic whose records are 1 MB by default.
pub const MAX_CONNECTOR_BYTES: usize = 1 << 20;

/// A result line is at most a connector and its secret keys, quoted.
pub const MAX_LINE_BYTES: u64 = 4 * MAX_CONNECTOR_BYTES as u64;

/// What a child is sent.
#[derive(Serialize)]
pub struct WorkerRequest<'a> {
    /// What the templates can read: a set for each namespace (or for the
    /// namespaces that share one) whose templates are in the batch.
    pub variables: Vec<&'a Variables>,
    /// `RLIMIT_DATA` for the child; 0 for none.
    pub memory: u64,
    /// The templates, in order, each with the set of variables it reads.
    pub templates: Vec<JobRef<'a>>,
}

/// A [`Job`] as it is sent, borrowed: the parent keeps the templates.
#[derive(Serialize)]
pub struct JobRef<'a> {
    /// Index of its variables in the request's.
    pub set: usize,
    /// The template.
    pub code: &'a str,
}

/// What a child receives.
#[derive(Deserialize)]
struct Received {
    variables: Vec<Variables>,
    memory: u64,
    templates: Vec<Job>,
}

/// What a child says, one JSON line each.
#[derive(Serialize, Deserialize)]
pub enum Line {
    /// The batch compiled; renderings follow.
    Compiled,
    /// One template's result, in order.
    Rendered(Result<Connector, RenderError>),
}

/// The child: reads a request on stdin, caps its memory, renders, and writes
/// a line per result. Its exit status only matters when it did not finish.
pub fn serve() -> anyhow::Result<()> {
    let request: Received = serde_json::from_reader(std::io::stdin().lock())
        .map_err(|e| anyhow::anyhow!("{WORKER_COMMAND}: unreadable request: {e}"))?;
    limit_memory(request.memory).map_err(|e| anyhow::anyhow!("{WORKER_COMMAND}: cannot limit memory: {e}"))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let sets: Vec<&Variables> = request.variables.iter().collect();
    template::render_each(&sets, &request.templates, |event| {
        let line = match event {
            Event::Compiled => Line::Compiled,
            Event::Rendered(result) => Line::Rendered(result.and_then(within_size)),
        };
        serde_json::to_writer(&mut out, &line).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        // Said at once: the parent times each template from the line before.
        out.flush()
    })?;
    Ok(())
}

/// Refuses a connector config larger than Connect stores.
pub fn within_size(connector: Connector) -> Result<Connector, RenderError> {
    let size: usize = connector.config.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_CONNECTOR_BYTES {
        let limit = format_size(MAX_CONNECTOR_BYTES as u64);
        return Err(RenderError::Shape(format!(
            "the config is {size} bytes, over the {limit} a connector config may have"
        )));
    }
    Ok(connector)
}

/// Caps the heap (and every other private writable mapping) of this
/// process; an allocation past it fails, which aborts the child.
fn limit_memory(bytes: u64) -> std::io::Result<()> {
    let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: setrlimit reads the struct it is given and nothing else.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &raw const no_core) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if bytes == 0 {
        return Ok(());
    }
    let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_DATA, &raw const limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
