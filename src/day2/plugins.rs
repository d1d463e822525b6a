//! `plugins`: what a cluster has installed, by type (KIP-769).

use anyhow::{anyhow, Result};

use crate::connect::Client;
use crate::gitops::output::Format;
use crate::gitops::Verdict;
use crate::redact::Scrubber;
use crate::settings::ConnectArgs;

/// Prints every plugin of `cluster`, by type then class.
pub fn run(connect: &ConnectArgs, cluster: &str, format: Format) -> Result<Verdict> {
    let clusters = connect.clusters()?;
    let scrubber = Scrubber::default();
    let client = Client::new(&clusters.get(cluster)?.settings, &scrubber)?;
    let plugins = client
        .all_plugins()
        .map_err(|f| anyhow!("cannot list the plugins of cluster {cluster}: {}", f.scrubbed(&scrubber)))?;
    let mut all = plugins.all;
    all.sort_by(|a, b| (a.kind.as_str(), &a.class).cmp(&(b.kind.as_str(), &b.class)));
    match format {
        Format::Json => {
            let list: Vec<_> = all
                .iter()
                .map(|p| serde_json::json!({"class": p.class, "type": p.kind.as_str(), "version": p.version}))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"plugins": list, "complete": plugins.complete}))?
            );
        }
        Format::Table => {
            let width = all.iter().map(|p| p.class.len()).max().unwrap_or(5).max(5);
            println!("{:<16}  {:<width$}  VERSION", "TYPE", "CLASS");
            for p in &all {
                println!("{:<16}  {:<width$}  {}", p.kind.as_str(), p.class, p.version.as_deref().unwrap_or("-"));
            }
            if !plugins.complete {
                println!(
                    "note: this worker lists connectors only (Kafka before 3.2); its converters, transformations and predicates cannot be listed"
                );
            }
        }
    }
    Ok(Verdict::Done)
}
