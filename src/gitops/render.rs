//! `render`: the connectors of the manifests as JSON, as the hook would
//! render them, with secret values redacted.

use anyhow::Result;

use crate::desired::CmState;
use crate::gitops::output::RenderFormat;
use crate::gitops::{source, Sourced, Verdict};
use crate::model::connector::TargetState;
use crate::settings::{ClustersArg, Sources};

/// Prints the connectors of the manifests as JSON, secrets redacted unless
/// `show_secrets`; every template error goes to stderr.
pub fn run(sources: &Sources, clusters: &ClustersArg, show_secrets: bool, format: RenderFormat) -> Result<Verdict> {
    let clusters = clusters.names()?;
    let Sourced { scrubber, declared, files } = source(&sources.manifests, &clusters, sources.reading())?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (d, file) in declared.iter().zip(&files) {
        let place = format!("ConfigMap {} ({})", d.id, file.display());
        if let Some(message) = d.state.refusal() {
            errors.push(format!("{place}: {message}"));
            continue;
        }
        for (key, result) in &d.rendered.templates {
            match result {
                Ok(c) => {
                    let config = if show_secrets {
                        serde_json::to_value(&c.config)?
                    } else {
                        serde_json::to_value(c.redacted_config())?
                    };
                    let source = serde_json::json!({
                        "configmap": d.id.to_string(), "key": key, "file": file, "enabled": d.state == CmState::Apply,
                    });
                    let mut connector = serde_json::Map::new();
                    connector.insert("name".into(), serde_json::json!(c.name));
                    connector.insert("cluster".into(), serde_json::json!(d.cluster));
                    if c.state != TargetState::Running {
                        connector.insert("state".into(), serde_json::json!(c.state.to_string()));
                    }
                    if let Some(old) = &c.renamed_from {
                        connector.insert("renamedFrom".into(), serde_json::json!(old));
                    }
                    connector.insert("config".into(), config);
                    connector.insert("source".into(), source);
                    out.push(serde_json::Value::Object(connector));
                }
                // One line per error: each says where, and none reads as a line of another.
                Err(e) => errors
                    .extend(scrubber.scrub(&e.to_string()).lines().map(|line| format!("{place} key {key}: {line}"))),
            }
        }
    }
    // Nothing rendered and something failed: nothing on stdout, so a pipe gets no `[]` to act on.
    if !out.is_empty() || errors.is_empty() {
        match format {
            RenderFormat::Json => println!("{}", serde_json::to_string_pretty(&out)?),
            RenderFormat::Yaml => print!("{}", serde_yaml_ng::to_string(&out)?),
        }
    }
    for e in &errors {
        eprintln!("error: {e}");
    }
    Ok(if errors.is_empty() { Verdict::Done } else { Verdict::Failed })
}
