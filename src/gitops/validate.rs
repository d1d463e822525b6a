//! Asking Connect whether rendered connectors are valid, before they are
//! applied: one `GET /connector-plugins`, then one `PUT
//! /connector-plugins/{class}/config/validate` per connector whose class is
//! installed (reference section 3.19).
//!
//! The validate endpoint answers 200 with a `ConfigInfos` report even when
//! the config is invalid; every error of every `configs[].value` becomes a
//! [`Finding`] on that key. A class that is not installed is caught here
//! first, with a suggestion, because Connect would only answer with a 500
//! listing every plugin (`Failed to find any class that implements Connector
//! ...`).

use anyhow::Result;
use serde::Deserialize;

use crate::connect::{Client, Failure, Plugin};
use crate::desired::{CmState, Declared};
use crate::gitops::classes::{quoted, resolve, unknown_class, Resolved, CONNECTOR_CLASS};
use crate::gitops::output::Format;
use crate::gitops::{by_cluster, classes, secrets, source, Sourced, Verdict};
use crate::model::connector::Connector;
use crate::parallel;
use crate::redact::Scrubber;
use crate::settings::{ConnectArgs, Sources};
use crate::text::{self, truncate, Invalid};

/// How a finding about a connector that could not be checked (Connect kept
/// failing transiently) begins. Such a finding has no key; the caller decides
/// whether it fails the run.
pub const NOT_CHECKED: &str = "could not be checked";

/// A connector to check and where it was declared (e.g. "ConfigMap team/orders key orders.json").
pub struct Target<'a> {
    /// Where it is declared.
    pub origin: String,
    /// The rendered connector.
    pub connector: &'a Connector,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
/// Something Connect (or the plugin list) says is wrong with a connector,
/// or a secret the template writes out.
pub struct Finding {
    /// Whether it fails `validate` (a warning does with `--strict`).
    pub severity: Severity,
    /// The connector's name; empty for a ConfigMap that rendered none.
    pub connector: String,
    /// Where it is declared.
    pub origin: String,
    /// The config key Connect complains about, if any.
    pub key: Option<String>,
    /// What is wrong, scrubbed of secret values.
    pub message: String,
}

/// How much a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Connect would refuse it, or it cannot be checked.
    Error,
    /// It works, but should not be so: a literal secret.
    Warning,
}

impl Finding {
    /// An error about `connector`, declared at `origin`.
    fn error(connector: &str, origin: &str, key: Option<&str>, message: String) -> Finding {
        Finding {
            severity: Severity::Error,
            connector: connector.to_string(),
            origin: origin.to_string(),
            key: key.map(str::to_string),
            message,
        }
    }

    /// A literal secret at `key` of `target`'s connector.
    fn literal(target: &Target, key: &str) -> Finding {
        let message = crate::gitops::secrets::literal();
        Finding {
            severity: Severity::Warning,
            ..Finding::error(&target.connector.name, &target.origin, Some(key), message)
        }
    }
}

/// One `GET /connector-plugins`, then one `PUT
/// /connector-plugins/{class}/config/validate` per connector whose class is
/// installed (in parallel, at most `client.concurrency()` at a time).
///
/// Returns every finding, sorted by origin, connector and key; no finding
/// means Connect accepts every connector. Err only when Connect cannot be
/// asked at all (the plugin list fails); no request is sent when `targets` is
/// empty.
///
/// - A missing (or empty) `connector.class`, or one that no installed
///   connector plugin answers to, is a finding on `connector.class`, and that
///   connector is not sent to Connect.
/// - Each error Connect reports on a key is a finding on that key.
/// - When the validate call fails for good (a 4xx, or a 500 Connect raised
///   while validating), the finding carries Connect's message, without key.
/// - When it fails transiently even after the client's retries, the finding
///   has no key and its message starts with [`NOT_CHECKED`]: the connector was
///   not checked, which is not the same as invalid.
///
/// Every message is scrubbed of the connector's secret values (and of those
/// `scrubber` already knows), because Connect echoes values in its errors.
pub fn validate(client: &Client, targets: &[Target], scrubber: &Scrubber) -> Result<Validation, Failure> {
    if targets.is_empty() {
        return Ok(Validation { findings: Vec::new(), every_class: true });
    }
    let listed = client.all_plugins()?;
    let plugins: Vec<Plugin> = listed.all.iter().filter(|p| p.kind.is_connector()).cloned().collect();
    let mut findings = Vec::new();
    let mut to_check: Vec<(&Target, &Plugin)> = Vec::new();
    for target in targets {
        let hidden = |message: String| scrubber.for_connector(target.connector).scrub(&message);
        let finding = |message: String| {
            Finding::error(&target.connector.name, &target.origin, Some(CONNECTOR_CLASS), hidden(message))
        };
        findings.extend(target.connector.literal_secrets.iter().map(|k| Finding::literal(target, k)));
        if listed.complete {
            for named in classes::named(&target.connector.config) {
                if let Some(why) = classes::missing(&named, &listed.all) {
                    findings.push(Finding { key: Some(named.key.clone()), ..finding(why) });
                }
            }
        }
        let class = target.connector.config.get(CONNECTOR_CLASS).map_or("", String::as_str);
        if class.is_empty() {
            findings.push(finding(format!("no {CONNECTOR_CLASS}")));
            continue;
        }
        match resolve(class, &plugins) {
            Resolved::Plugin(plugin) => to_check.push((target, plugin)),
            Resolved::Ambiguous(classes) => findings.push(finding(format!(
                "{CONNECTOR_CLASS} `{class}` names more than one installed connector ({}); use the full class name",
                quoted(&classes)
            ))),
            Resolved::Unknown => findings.push(finding(unknown_class(class, &plugins))),
        }
    }
    let checked =
        parallel::map(&to_check, client.concurrency(), |(target, plugin)| check(client, target, plugin, scrubber));
    findings.extend(checked.into_iter().flatten());
    findings.sort_by(|a, b| {
        (&a.origin, &a.connector, &a.key, &a.message).cmp(&(&b.origin, &b.connector, &b.key, &b.message))
    });
    Ok(Validation { findings, every_class: listed.complete })
}

/// What `validate` found, and whether it could check every class.
#[derive(Debug)]
pub struct Validation {
    /// Sorted by origin, connector and key.
    pub findings: Vec<Finding>,
    /// Whether converters, transformations and predicates were checked
    /// too: workers before Kafka 3.2 list connectors only.
    pub every_class: bool,
}

/// Validates one connector whose class is installed. The path names the
/// plugin's full class, and so does the body's `connector.class`: Connect
/// refuses a body class that does not end with the path's (`Included
/// connector type FileStreamSink does not match request type
/// org...FileStreamSinkConnector`), and an alias resolves to that class
/// anyway. Everything else is sent as it would be applied, `name` included.
fn check(client: &Client, target: &Target, plugin: &Plugin, scrubber: &Scrubber) -> Vec<Finding> {
    let connector = target.connector;
    let scrubber = scrubber.for_connector(connector);
    let finding = |key: Option<&str>, message: &str| {
        Finding::error(&connector.name, &target.origin, key, scrubber.scrub(message))
    };
    let mut config = connector.config.clone();
    config.insert(CONNECTOR_CLASS.to_string(), plugin.class.clone());
    let report = match client.validate(&plugin.class, &config) {
        Ok(report) => report,
        Err(f) if f.is_permanent() => {
            return vec![finding(None, &format!("Connect could not validate it: {}: {}", f.request, f.detail))];
        }
        Err(f) => return vec![finding(None, &format!("{NOT_CHECKED}: {}: {}", f.request, f.detail))],
    };
    let passwords = passwords_of(&report).unwrap_or_default();
    let literal = secrets::literal_passwords(connector, &passwords).into_iter().map(|k| Finding::literal(target, k));
    match errors_of(&report) {
        Ok(errors) => errors.iter().map(|(key, message)| finding(key.as_deref(), message)).chain(literal).collect(),
        Err(unexpected) => vec![finding(None, &unexpected.0)],
    }
}

/// A `ConfigInfos` report, as far as it is read: each key's definition
/// (its type) and value (its errors).
#[derive(Deserialize)]
struct ConfigInfos {
    #[serde(default)]
    error_count: u64,
    configs: Vec<ConfigInfo>,
}

#[derive(Deserialize)]
struct ConfigInfo {
    #[serde(default)]
    definition: Option<ConfigKeyInfo>,
    #[serde(default)]
    value: Option<ConfigValueInfo>,
}

/// A key as the plugin's `ConfigDef` defines it.
#[derive(Deserialize)]
struct ConfigKeyInfo {
    name: String,
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize)]
struct ConfigValueInfo {
    name: String,
    #[serde(default)]
    errors: Option<Vec<String>>,
}

/// The report read, or why it cannot be.
fn infos_of(report: &serde_json::Value) -> Result<ConfigInfos, Invalid> {
    let unexpected = |why: &dyn std::fmt::Display| {
        Invalid(format!("unexpected validation report from Connect ({why}): {}", short(&report.to_string())))
    };
    if !report.is_object() {
        return Err(unexpected(&"not an object"));
    }
    ConfigInfos::deserialize(report).map_err(|e| unexpected(&e))
}

/// The keys a `ConfigInfos` report defines as `PASSWORD`: the values
/// Connect itself treats as secret (it shows them as `[hidden]`).
pub fn passwords_of(report: &serde_json::Value) -> Result<std::collections::BTreeSet<String>, Invalid> {
    let infos = infos_of(report)?;
    Ok(infos
        .configs
        .into_iter()
        .filter_map(|c| c.definition)
        .filter(|d| d.kind == "PASSWORD")
        .map(|d| d.name)
        .collect())
}

/// The errors of a `ConfigInfos` report, one per error, with the key it is about.
pub fn errors_of(report: &serde_json::Value) -> Result<Vec<(Option<String>, String)>, Invalid> {
    let infos = infos_of(report)?;
    let errors: Vec<(Option<String>, String)> = infos
        .configs
        .into_iter()
        .filter_map(|c| c.value)
        .flat_map(|v| {
            let key = v.name;
            v.errors.unwrap_or_default().into_iter().map(move |e| (Some(key.clone()), e))
        })
        .collect();
    if errors.is_empty() && infos.error_count > 0 {
        return Ok(vec![(
            None,
            format!("Connect counts {} error(s) but names no key with an error", infos.error_count),
        )]);
    }
    Ok(errors)
}

fn short(text: &str) -> String {
    truncate(text, 200)
}

/// Asks Connect whether the manifests' connectors are valid, and prints
/// every finding; `strict` fails on warnings too.
pub fn run(sources: &Sources, connect: &ConnectArgs, format: Format, strict: bool) -> Result<Verdict> {
    let clusters = connect.clusters()?;
    let Sourced { scrubber, declared, .. } = source(&sources.manifests, &clusters, sources.reading())?;
    let mut checked = Checked::default();
    for (name, declared) in &by_cluster(declared) {
        let targets = checked.targets(declared);
        if targets.is_empty() {
            continue;
        }
        let client = Client::new(&clusters.get(name)?.settings, &scrubber)?;
        let asked =
            validate(&client, &targets, &scrubber).map_err(|f| anyhow::anyhow!(f.asking("ask", name, &scrubber)))?;
        if !asked.every_class {
            checked.unchecked.push(name.clone());
        }
        checked.findings.extend(asked.findings);
        checked.connectors += targets.len();
    }
    checked.print(format)?;
    let count = |severity| checked.findings.iter().filter(|f| f.severity == severity).count();
    let failed = count(Severity::Error) > 0 || (strict && count(Severity::Warning) > 0);
    Ok(if failed { Verdict::Failed } else { Verdict::Done })
}

/// What `validate` found over the clusters so far.
#[derive(Default)]
struct Checked {
    findings: Vec<Finding>,
    connectors: usize,
    disabled: usize,
    /// Clusters whose converters, transformations and predicates were not checked.
    unchecked: Vec<String>,
}

impl Checked {
    /// The connectors of one cluster to ask Connect about; what cannot be
    /// asked (a refused or broken ConfigMap, a failed template) is a finding.
    fn targets<'d>(&mut self, declared: &'d [Declared]) -> Vec<Target<'d>> {
        let mut targets = Vec::new();
        for d in declared {
            if let Some(message) = d.state.refusal() {
                self.findings.push(Finding::error("", &format!("ConfigMap {}", d.id), None, message.to_string()));
                continue;
            }
            for (key, rendered) in &d.rendered.templates {
                let origin = format!("ConfigMap {} key {key}", d.id);
                match rendered {
                    // Disabled: never created, so what it names need not be installed.
                    Ok(_) if d.state == CmState::Remove => self.disabled += 1,
                    Ok(connector) => targets.push(Target { origin, connector }),
                    Err(message) => self.findings.push(Finding::error("", &origin, None, message.to_string())),
                }
            }
        }
        targets
    }

    fn print(&self, format: Format) -> Result<()> {
        if format == Format::Json {
            println!("{}", serde_json::to_string_pretty(&self.findings)?);
            return Ok(());
        }
        for f in &self.findings {
            let key = f.key.as_ref().map(|k| format!(" {k}:")).unwrap_or_default();
            let connector = if f.connector.is_empty() { String::new() } else { format!("connector {} ", f.connector) };
            let warning = if f.severity == Severity::Warning { "warning: " } else { "" };
            println!("{warning}{connector}({}){key} {}", f.origin, f.message);
        }
        let errors = self.findings.iter().filter(|f| f.severity == Severity::Error).count();
        let warnings = self.findings.len() - errors;
        let warnings = if warnings > 0 { format!(", {}", text::count(warnings, "warning")) } else { String::new() };
        println!(
            "{} checked, {}{warnings}, {} disabled (not checked: they are never created)",
            text::count(self.connectors, "connector"),
            text::count(errors, "error"),
            self.disabled
        );
        for cluster in &self.unchecked {
            println!(
                "note: cluster {cluster} lists connectors only (Kafka before 3.2): converters, transformations and predicates were not checked"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::PluginKind;
    use crate::gitops::classes::closest;

    const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
    const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

    fn plugins(classes: &[&str]) -> Vec<Plugin> {
        classes.iter().map(|c| Plugin { class: c.to_string(), kind: PluginKind::Sink, version: None }).collect()
    }

    #[test]
    fn closest_match() {
        let installed = plugins(&[
            "io.confluent.connect.jdbc.JdbcSourceConnector",
            FILE_SINK,
            FILE_SOURCE,
            "io.confluent.connect.s3.S3SinkConnector",
        ]);
        assert_eq!(closest("FileStreamSinc", &installed), Some(FILE_SINK));
        assert_eq!(closest("filestreamsink", &installed), Some(FILE_SINK), "case is ignored");
        assert_eq!(closest("org.example.FileStreamSourceConector", &installed), Some(FILE_SOURCE));
        assert_eq!(closest("JdbcSource", &installed), Some("io.confluent.connect.jdbc.JdbcSourceConnector"));
        // By edit distance alone, S3Sink is nearer to JdbcSink (4) than JdbcSource is (5).
        assert_eq!(closest("JdbcSinkConnector", &installed), Some("io.confluent.connect.s3.S3SinkConnector"));
        let tied = plugins(&["com.b.AbcConnector", "com.a.AbdConnector"]);
        assert_eq!(closest("Abx", &tied), Some("com.a.AbdConnector"), "ties go to the first class");
        assert_eq!(closest("S3Sinc", &installed), Some("io.confluent.connect.s3.S3SinkConnector"));
        assert_eq!(closest("Mainframe", &installed), None, "nothing within half the name's length");
        assert_eq!(closest("FileStreamSink", &[]), None);
    }

    #[test]
    fn passwords_are_the_keys_defined_as_password() {
        let report = serde_json::json!({"name": FILE_SINK, "error_count": 0, "groups": [], "configs": [
            {"definition": {"name": "connection.url", "type": "PASSWORD"}, "value": {"name": "connection.url", "value": "[hidden]", "errors": []}},
            {"definition": {"name": "topics", "type": "LIST"}, "value": {"name": "topics", "value": "t", "errors": []}},
            {"definition": null, "value": {"name": "x", "value": null, "errors": ["Null value"]}},
        ]});
        assert_eq!(passwords_of(&report).unwrap(), std::collections::BTreeSet::from(["connection.url".to_string()]));
        assert!(passwords_of(&serde_json::json!([])).is_err());
    }

    #[test]
    fn alias_rules() {
        let installed = plugins(&[FILE_SINK, "com.a.Sink", "com.b.Sink", "com.c.Connector"]);
        for name in [FILE_SINK, "FileStreamSinkConnector", "FileStreamSink"] {
            assert!(matches!(resolve(name, &installed), Resolved::Plugin(p) if p.class == FILE_SINK), "{name}");
        }
        for name in
            ["filestreamsink", "FileStream", "file.FileStreamSink", "org.apache.kafka.connect.file.FileStreamSink", ""]
        {
            assert!(matches!(resolve(name, &installed), Resolved::Unknown), "{name}");
        }
        assert!(matches!(resolve("Sink", &installed), Resolved::Ambiguous(c) if c == ["com.a.Sink", "com.b.Sink"]));
        assert!(matches!(resolve("com.a.Sink", &installed), Resolved::Plugin(p) if p.class == "com.a.Sink"));
        assert!(matches!(resolve("Connector", &installed), Resolved::Plugin(p) if p.class == "com.c.Connector"));
    }
}
