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

use serde::Deserialize;

use crate::connect::{Client, Failure, Plugin};
use crate::connector::Connector;
use crate::redact::Scrubber;

const CONNECTOR_CLASS: &str = "connector.class";

/// How a finding about a connector that could not be checked (Connect kept
/// failing transiently) begins. Such a finding has no key; the caller decides
/// whether it fails the run.
pub const NOT_CHECKED: &str = "could not be checked";

/// A connector to check and where it was declared (e.g. "ConfigMap team/orders key orders.json").
pub struct Target<'a> {
    pub origin: String,
    pub connector: &'a Connector,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub connector: String,
    pub origin: String,
    /// The config key Connect complains about, if any.
    pub key: Option<String>,
    pub message: String,
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
pub fn validate(client: &Client, targets: &[Target], scrubber: &Scrubber) -> Result<Vec<Finding>, Failure> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let plugins: Vec<Plugin> =
        client.plugins()?.into_iter().filter(|p| matches!(p.kind.as_str(), "source" | "sink" | "")).collect();
    let mut findings = Vec::new();
    let mut to_check: Vec<(&Target, &Plugin)> = Vec::new();
    for target in targets {
        let finding = |message: String| Finding {
            connector: target.connector.name.clone(),
            origin: target.origin.clone(),
            key: Some(CONNECTOR_CLASS.to_string()),
            message: scrubber.with(target.connector.secret_values()).scrub(&message),
        };
        let class = target.connector.config.get(CONNECTOR_CLASS).map(String::as_str).unwrap_or("");
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
    let checked = crate::parallel::map(&to_check, client.concurrency(), |(target, plugin)| {
        check(client, target, plugin, scrubber)
    });
    findings.extend(checked.into_iter().flatten());
    findings.sort_by(|a, b| {
        (&a.origin, &a.connector, &a.key, &a.message).cmp(&(&b.origin, &b.connector, &b.key, &b.message))
    });
    Ok(findings)
}

/// Validates one connector whose class is installed. The path names the
/// plugin's full class, and so does the body's `connector.class`: Connect
/// refuses a body class that does not end with the path's (`Included
/// connector type FileStreamSink does not match request type
/// org...FileStreamSinkConnector`), and an alias resolves to that class
/// anyway. Everything else is sent as it would be applied, `name` included.
fn check(client: &Client, target: &Target, plugin: &Plugin, scrubber: &Scrubber) -> Vec<Finding> {
    let connector = target.connector;
    let scrubber = scrubber.with(connector.secret_values());
    let finding = |key: Option<&str>, message: &str| Finding {
        connector: connector.name.clone(),
        origin: target.origin.clone(),
        key: key.map(str::to_string),
        message: scrubber.scrub(message),
    };
    let mut config = connector.config.clone();
    config.insert(CONNECTOR_CLASS.to_string(), plugin.class.clone());
    let report = match client.validate(&plugin.class, &config) {
        Ok(report) => report,
        Err(f) if f.permanent => {
            return vec![finding(None, &format!("Connect could not validate it: {}: {}", f.request, f.detail))];
        }
        Err(f) => return vec![finding(None, &format!("{NOT_CHECKED}: {}: {}", f.request, f.detail))],
    };
    match errors_of(report) {
        Ok(errors) => errors.iter().map(|(key, message)| finding(key.as_deref(), message)).collect(),
        Err(message) => vec![finding(None, &message)],
    }
}

/// The errors of a `ConfigInfos` report, one per error, with the key it is about.
pub fn errors_of(report: serde_json::Value) -> Result<Vec<(Option<String>, String)>, String> {
    #[derive(Deserialize)]
    struct ConfigInfos {
        #[serde(default)]
        error_count: u64,
        configs: Vec<ConfigInfo>,
    }
    #[derive(Deserialize)]
    struct ConfigInfo {
        #[serde(default)]
        value: Option<ConfigValueInfo>,
    }
    #[derive(Deserialize)]
    struct ConfigValueInfo {
        name: String,
        #[serde(default)]
        errors: Option<Vec<String>>,
    }
    let unexpected = |why: &dyn std::fmt::Display, report: &serde_json::Value| {
        format!("unexpected validation report from Connect ({why}): {}", short(&report.to_string()))
    };
    if !report.is_object() {
        return Err(unexpected(&"not an object", &report));
    }
    let infos = ConfigInfos::deserialize(&report).map_err(|e| unexpected(&e, &report))?;
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

enum Resolved<'p> {
    Plugin(&'p Plugin),
    /// A simple name several plugins share: Connect registers no alias for it.
    Ambiguous(Vec<&'p str>),
    Unknown,
}

/// Connect's alias rules: the full class name, the simple name (after the
/// last `.`), or the simple name without a trailing `Connector`. Case matters.
fn resolve<'p>(class: &str, plugins: &'p [Plugin]) -> Resolved<'p> {
    if let Some(p) = plugins.iter().find(|p| p.class == class) {
        return Resolved::Plugin(p);
    }
    let matching: Vec<&Plugin> = plugins.iter().filter(|p| aliases(&p.class).contains(&class)).collect();
    match matching.as_slice() {
        [] => Resolved::Unknown,
        [one] => Resolved::Plugin(one),
        many => Resolved::Ambiguous(many.iter().map(|p| p.class.as_str()).collect()),
    }
}

/// The simple name and, when it ends with `Connector`, the name without it.
fn aliases(class: &str) -> Vec<&str> {
    let simple = simple_name(class);
    match simple.strip_suffix("Connector") {
        Some(short) if !short.is_empty() => vec![simple, short],
        _ => vec![simple],
    }
}

fn simple_name(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

fn unknown_class(class: &str, plugins: &[Plugin]) -> String {
    let unknown = format!("{CONNECTOR_CLASS} `{class}` is not an installed connector plugin");
    if let Some(suggestion) = closest(class, plugins) {
        return format!("{unknown}; did you mean `{suggestion}`?");
    }
    let mut classes: Vec<&str> = plugins.iter().map(|p| p.class.as_str()).collect();
    classes.sort_unstable();
    match classes.as_slice() {
        [] => format!("{unknown}; Connect lists no connector plugin"),
        classes => format!("{unknown}; installed connector classes: {}", quoted(classes)),
    }
}

/// The installed class whose simple name (or that name without `Connector`)
/// is nearest to the simple name of `class`, by edit distance ignoring case;
/// `None` when even the nearest is more than half the name's length away.
/// Ties go to the first class in name order.
fn closest<'p>(class: &str, plugins: &'p [Plugin]) -> Option<&'p str> {
    let wanted = simple_name(class).to_lowercase();
    let limit = wanted.chars().count() / 2;
    plugins
        .iter()
        .filter_map(|p| {
            let distance = aliases(&p.class).iter().map(|a| strsim::levenshtein(&wanted, &a.to_lowercase())).min()?;
            Some((distance, p.class.as_str()))
        })
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, class)| class)
}

fn quoted(classes: &[&str]) -> String {
    classes.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
}

fn short(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
#[path = "../tests/support/fake_connect.rs"]
mod fake_connect;

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::Duration;

    use super::fake_connect::{FakeConnect, Fault, Match};
    use super::*;
    use crate::connect::Settings;
    use crate::connector::TargetState;

    const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
    const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

    fn client(fake: &FakeConnect, retry_budget: Duration) -> Client {
        Client::new(&Settings { url: fake.url(), retry_budget, ..Settings::default() }).unwrap()
    }

    fn connector(name: &str, config: &[(&str, &str)], secret_keys: &[&str]) -> Connector {
        let mut config: BTreeMap<String, String> = config.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        config.insert("name".into(), name.into());
        Connector {
            name: name.into(),
            state: TargetState::Running,
            config,
            secret_keys: secret_keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    fn target(connector: &Connector) -> Target<'_> {
        Target { origin: format!("ConfigMap team/{0} key {0}.json", connector.name), connector }
    }

    /// Validates `connectors` against a fresh fake Connect; also returns the requests it received.
    fn run(connectors: &[Connector]) -> (Vec<Finding>, Vec<fake_connect::Request>) {
        let fake = FakeConnect::start();
        let targets: Vec<Target> = connectors.iter().map(target).collect();
        let findings = validate(&client(&fake, Duration::from_secs(2)), &targets, &Scrubber::default()).unwrap();
        (findings, fake.requests())
    }

    fn plugins(classes: &[&str]) -> Vec<Plugin> {
        classes.iter().map(|c| Plugin { class: c.to_string(), kind: "sink".into(), version: None }).collect()
    }

    #[test]
    fn a_valid_connector_gives_no_finding() {
        let sink = connector("orders", &[("connector.class", FILE_SINK), ("topics", "t"), ("tasks.max", "2")], &[]);
        let (findings, requests) = run(&[sink]);
        assert_eq!(findings, vec![]);
        let validate = &requests[1];
        assert_eq!(
            (validate.method.as_str(), validate.path.as_str()),
            ("PUT", "/connector-plugins/org.apache.kafka.connect.file.FileStreamSinkConnector/config/validate")
        );
        let body: BTreeMap<String, String> = serde_json::from_str(&validate.body).unwrap();
        assert_eq!(body["name"], "orders", "the full config is sent, name included");
        assert_eq!(body["topics"], "t");
    }

    #[test]
    fn a_key_connect_rejects_is_a_finding_on_that_key() {
        let sink = connector("orders", &[("connector.class", FILE_SINK), ("tasks.max", "abc")], &[]);
        let (findings, _) = run(&[sink]);
        assert_eq!(
            findings,
            vec![Finding {
                connector: "orders".into(),
                origin: "ConfigMap team/orders key orders.json".into(),
                key: Some("tasks.max".into()),
                message: "Invalid value abc for configuration tasks.max: Not a number of type INT".into(),
            }]
        );
    }

    #[test]
    fn an_unknown_class_suggests_the_closest_and_is_not_sent() {
        let typo = connector("orders", &[("connector.class", "FileStreamSinc")], &[]);
        let far = connector("users", &[("connector.class", "com.example.Mainframe")], &[]);
        let (findings, requests) = run(&[typo, far]);
        assert_eq!(requests.len(), 1, "only the plugin list: {requests:?}");
        let messages: Vec<(&str, Option<&str>, &str)> =
            findings.iter().map(|f| (f.connector.as_str(), f.key.as_deref(), f.message.as_str())).collect();
        assert_eq!(
            messages,
            vec![
                (
                    "orders",
                    Some("connector.class"),
                    "connector.class `FileStreamSinc` is not an installed connector plugin; did you mean `org.apache.kafka.connect.file.FileStreamSinkConnector`?"
                ),
                (
                    "users",
                    Some("connector.class"),
                    "connector.class `com.example.Mainframe` is not an installed connector plugin; installed connector classes: `com.wepay.kafka.connect.bigquery.BigQuerySinkConnector`, `io.confluent.connect.jdbc.JdbcSourceConnector`, `io.confluent.kafka.connect.datagen.DatagenConnector`, `org.apache.kafka.connect.file.FileStreamSinkConnector`, `org.apache.kafka.connect.file.FileStreamSourceConnector`"
                ),
            ]
        );
    }

    #[test]
    fn aliases_are_accepted_and_validated_under_the_full_class() {
        let short = connector("a", &[("connector.class", "FileStreamSink"), ("tasks.max", "0")], &[]);
        let simple = connector("b", &[("connector.class", "FileStreamSinkConnector")], &[]);
        let source = connector("c", &[("connector.class", "FileStreamSource")], &[]);
        let (findings, requests) = run(&[short, simple, source]);
        // The fake, like Connect, answers 400 "Included connector type ... does not match request type ..."
        // to an alias in the body under the full class in the path: that would show up as a finding.
        let keys: Vec<(&str, Option<&str>, &str)> =
            findings.iter().map(|f| (f.connector.as_str(), f.key.as_deref(), f.message.as_str())).collect();
        assert_eq!(
            keys,
            vec![("a", Some("tasks.max"), "Invalid value 0 for configuration tasks.max: Value must be at least 1")]
        );
        let mut sent: Vec<(String, String)> = requests[1..]
            .iter()
            .map(|r| {
                let body: BTreeMap<String, String> = serde_json::from_str(&r.body).unwrap();
                (r.path.clone(), body["connector.class"].clone())
            })
            .collect();
        sent.sort();
        let path = |class: &str| format!("/connector-plugins/{class}/config/validate");
        assert_eq!(
            sent,
            vec![
                (path(FILE_SINK), FILE_SINK.to_string()),
                (path(FILE_SINK), FILE_SINK.to_string()),
                (path(FILE_SOURCE), FILE_SOURCE.to_string()),
            ]
        );
    }

    #[test]
    fn a_missing_connector_class_is_a_finding() {
        let none = connector("orders", &[("topics", "t")], &[]);
        let empty = connector("users", &[("connector.class", "")], &[]);
        let (findings, requests) = run(&[none, empty]);
        assert_eq!(requests.len(), 1);
        let found: Vec<(&str, Option<&str>, &str)> =
            findings.iter().map(|f| (f.connector.as_str(), f.key.as_deref(), f.message.as_str())).collect();
        assert_eq!(
            found,
            vec![
                ("orders", Some("connector.class"), "no connector.class"),
                ("users", Some("connector.class"), "no connector.class")
            ]
        );
    }

    #[test]
    fn secret_values_echoed_by_connect_are_scrubbed() {
        // tasks.max stands for any secret key whose value Connect quotes in its error.
        let leaky =
            connector("orders", &[("connector.class", FILE_SINK), ("tasks.max", "hunter2-password")], &["tasks.max"]);
        let (findings, _) = run(&[leaky]);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].message,
            "Invalid value [redacted] for configuration tasks.max: Not a number of type INT"
        );
    }

    #[test]
    fn one_plugin_list_and_one_validate_per_installed_class() {
        let connectors: Vec<Connector> = (0..6)
            .map(|i| connector(&format!("c{i}"), &[("connector.class", FILE_SINK), ("topics", "t")], &[]))
            .chain([connector("typo", &[("connector.class", "FileStreamSinc")], &[])])
            .chain([connector("classless", &[], &[])])
            .collect();
        let fake = FakeConnect::start();
        let client = client(&fake, Duration::from_secs(2));
        let targets: Vec<Target> = connectors.iter().map(target).collect();
        let findings = validate(&client, &targets, &Scrubber::default()).unwrap();
        assert_eq!(findings.len(), 2, "{findings:?}");
        let requests = fake.requests();
        assert_eq!((requests[0].method.as_str(), requests[0].path.as_str()), ("GET", "/connector-plugins"));
        assert!(requests[1..].iter().all(|r| r.method == "PUT" && r.path.ends_with("/config/validate")));
        let names: BTreeSet<String> = requests[1..]
            .iter()
            .map(|r| serde_json::from_str::<BTreeMap<String, String>>(&r.body).unwrap()["name"].clone())
            .collect();
        assert_eq!(names.len(), 6);
        assert_eq!((requests.len(), client.requests_sent()), (7, 7));
        assert_eq!(validate(&client, &[], &Scrubber::default()).unwrap(), vec![]);
        assert_eq!(fake.request_count(), 7, "nothing to check, nothing asked");
    }

    #[test]
    fn failures_of_the_validate_call_are_findings() {
        let fake = FakeConnect::start();
        let client = client(&fake, Duration::from_millis(300));
        let a = connector("a", &[("connector.class", FILE_SINK), ("secret", "s3cr3t-value")], &["secret"]);
        let b = connector("b", &[("connector.class", FILE_SOURCE)], &[]);
        let targets = [target(&a), target(&b)];
        let sink = format!("/connector-plugins/{FILE_SINK}/");
        let source = format!("/connector-plugins/{FILE_SOURCE}/");
        fake.inject(Match::path("PUT", sink), Fault::Status(500, "boom with s3cr3t-value".into()), 1);
        fake.inject(Match::path("PUT", source), Fault::Unavailable(503), 1000);
        let findings = validate(&client, &targets, &Scrubber::default()).unwrap();
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].key, None);
        let message = &findings[0].message;
        assert!(message.starts_with("Connect could not validate it: PUT http://127.0.0.1:"), "{message}");
        assert!(message.ends_with("/config/validate: HTTP 500: boom with [redacted]"), "{message}");
        assert_eq!(findings[1].key, None);
        assert!(findings[1].message.starts_with(NOT_CHECKED), "{}", findings[1].message);
    }

    #[test]
    fn only_a_failing_plugin_list_is_an_error() {
        let fake = FakeConnect::start();
        let client = client(&fake, Duration::from_secs(2));
        fake.inject(
            Match::path("GET", "/connector-plugins"),
            Fault::Status(401, "User cannot access the resource.".into()),
            1,
        );
        let sink = connector("a", &[("connector.class", FILE_SINK)], &[]);
        let err = validate(&client, &[target(&sink)], &Scrubber::default()).unwrap_err();
        assert!(err.permanent);
        assert_eq!(err.detail, "HTTP 401: User cannot access the resource.");
    }

    #[test]
    fn findings_are_sorted_by_origin_connector_and_key() {
        let b = connector("b", &[("connector.class", FILE_SINK), ("tasks.max", "x")], &[]);
        let a = connector("a", &[], &[]);
        let mut name_and_tasks = connector("c", &[("connector.class", FILE_SINK), ("tasks.max", "x")], &[]);
        name_and_tasks.config.insert("name".into(), "".into());
        let fake = FakeConnect::start();
        // Found in this order: a (no class, found before asking Connect), then c and b.
        let mut last = target(&a);
        last.origin = "ConfigMap zz/a key a.json".into();
        let targets = [target(&name_and_tasks), target(&b), last];
        let findings = validate(&client(&fake, Duration::from_secs(2)), &targets, &Scrubber::default()).unwrap();
        let order: Vec<(&str, Option<&str>)> =
            findings.iter().map(|f| (f.connector.as_str(), f.key.as_deref())).collect();
        assert_eq!(
            order,
            vec![
                ("b", Some("tasks.max")),
                ("c", Some("name")),
                ("c", Some("tasks.max")),
                ("a", Some("connector.class")),
            ]
        );
    }

    #[test]
    fn reports_follow_the_reference_shape() {
        let report = serde_json::json!({"name": FILE_SINK, "error_count": 2, "groups": ["Common"], "configs": [
            {"definition": {"name": "name"}, "value": {"name": "name", "value": null, "recommended_values": [], "errors": ["Missing required configuration \"name\" which has no default value."], "visible": true}},
            {"definition": null, "value": {"name": "x", "value": null, "recommended_values": [], "errors": ["Null value can not be supplied as the configuration value."], "visible": true}},
            {"definition": {"name": "topics"}, "value": {"name": "topics", "value": "t", "recommended_values": [], "errors": [], "visible": true}},
        ]});
        assert_eq!(
            errors_of(report).unwrap(),
            vec![
                (Some("name".into()), "Missing required configuration \"name\" which has no default value.".into()),
                (Some("x".into()), "Null value can not be supplied as the configuration value.".into()),
            ]
        );
        let counted = serde_json::json!({"name": FILE_SINK, "error_count": 1, "groups": [], "configs": []});
        assert_eq!(
            errors_of(counted).unwrap(),
            vec![(None, "Connect counts 1 error(s) but names no key with an error".into())]
        );
        for odd in
            [serde_json::json!([]), serde_json::json!({}), serde_json::json!("ok"), serde_json::json!({"configs": {}})]
        {
            assert!(errors_of(odd.clone()).unwrap_err().starts_with("unexpected validation report"), "{odd}");
        }
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
