//! `validate` against the fake Connect: what is asked, and what each answer
//! becomes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::support::fake_connect::{self, FakeConnect, Fault, Match};
use connect_operator::connect::{Client, Endpoint, RequestLimits, Settings};
use connect_operator::gitops::validate::{errors_of, validate, Finding, Severity, Target, NOT_CHECKED};
use connect_operator::model::connector::{Connector, TargetState};
use connect_operator::redact::Scrubber;

const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

fn client(fake: &FakeConnect, retry_budget: Duration) -> Client {
    let settings = Settings {
        endpoint: Endpoint { url: fake.url(), ..Endpoint::default() },
        limits: RequestLimits { retry_budget, ..RequestLimits::default() },
    };
    Client::new(&settings, &Scrubber::default()).unwrap()
}

fn connector(name: &str, config: &[(&str, &str)], secret_keys: &[&str]) -> Connector {
    let mut config: BTreeMap<String, String> = config.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    config.insert("name".into(), name.into());
    Connector {
        name: name.into(),
        state: TargetState::Running,
        config,
        secret_keys: secret_keys.iter().map(|k| k.to_string()).collect(),
        literal_secrets: Default::default(),
        renamed_from: None,
    }
}

fn target(connector: &Connector) -> Target<'_> {
    Target { origin: format!("ConfigMap team/{0} key {0}.json", connector.name), connector }
}

/// Validates `connectors` against a fresh fake Connect; also returns the requests it received.
fn run(connectors: &[Connector]) -> (Vec<Finding>, Vec<fake_connect::Request>) {
    let fake = FakeConnect::start();
    let targets: Vec<Target> = connectors.iter().map(target).collect();
    let findings = validate(&client(&fake, Duration::from_secs(2)), &targets, &Scrubber::default()).unwrap().findings;
    (findings, fake.requests())
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
            severity: Severity::Error,
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
    assert_eq!(findings[0].message, "Invalid value [redacted] for configuration tasks.max: Not a number of type INT");
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
    let findings = validate(&client, &targets, &Scrubber::default()).unwrap().findings;
    assert_eq!(findings.len(), 2, "{findings:?}");
    let requests = fake.requests();
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("GET", "/connector-plugins?connectorsOnly=false")
    );
    assert!(requests[1..].iter().all(|r| r.method == "PUT" && r.path.ends_with("/config/validate")));
    let names: BTreeSet<String> = requests[1..]
        .iter()
        .map(|r| serde_json::from_str::<BTreeMap<String, String>>(&r.body).unwrap()["name"].clone())
        .collect();
    assert_eq!(names.len(), 6);
    assert_eq!((requests.len(), client.requests_sent()), (7, 7));
    assert!(validate(&client, &[], &Scrubber::default()).unwrap().findings.is_empty());
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
    let findings = validate(&client, &targets, &Scrubber::default()).unwrap().findings;
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
    assert!(err.is_permanent());
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
    let findings = validate(&client(&fake, Duration::from_secs(2)), &targets, &Scrubber::default()).unwrap().findings;
    let order: Vec<(&str, Option<&str>)> = findings.iter().map(|f| (f.connector.as_str(), f.key.as_deref())).collect();
    assert_eq!(
        order,
        vec![("b", Some("tasks.max")), ("c", Some("name")), ("c", Some("tasks.max")), ("a", Some("connector.class")),]
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
        errors_of(&report).unwrap(),
        vec![
            (Some("name".into()), "Missing required configuration \"name\" which has no default value.".into()),
            (Some("x".into()), "Null value can not be supplied as the configuration value.".into()),
        ]
    );
    let counted = serde_json::json!({"name": FILE_SINK, "error_count": 1, "groups": [], "configs": []});
    assert_eq!(
        errors_of(&counted).unwrap(),
        vec![(None, "Connect counts 1 error(s) but names no key with an error".into())]
    );
    for odd in
        [serde_json::json!([]), serde_json::json!({}), serde_json::json!("ok"), serde_json::json!({"configs": {}})]
    {
        assert!(errors_of(&odd).unwrap_err().to_string().starts_with("unexpected validation report"), "{odd}");
    }
}

#[test]
fn every_class_a_config_names_is_checked_and_an_old_worker_says_what_it_could_not() {
    let fake = FakeConnect::start();
    let routed = connector(
        "routed",
        &[
            ("connector.class", FILE_SINK),
            ("topics", "t"),
            ("file", "/tmp/out"),
            ("value.converter", "org.apache.kafka.connect.json.JsonConvertr"),
            ("transforms", "route"),
            ("transforms.route.type", "org.apache.kafka.connect.transforms.RegexRouter"),
        ],
        &[],
    );
    let targets = [target(&routed)];
    let checked = validate(&client(&fake, Duration::from_secs(2)), &targets, &Scrubber::default()).unwrap();
    assert!(checked.every_class);
    let class_findings: Vec<(&str, &str)> =
        checked.findings.iter().filter_map(|f| Some((f.key.as_deref()?, f.message.as_str()))).collect();
    assert!(
        class_findings.contains(&(
            "value.converter",
            "`org.apache.kafka.connect.json.JsonConvertr` is not an installed converter; did you mean `org.apache.kafka.connect.json.JsonConverter`?"
        )),
        "{class_findings:?}"
    );
    assert!(!class_findings.iter().any(|(k, _)| k.starts_with("transforms")), "{class_findings:?}");
    fake.set_legacy(true);
    let checked = validate(&client(&fake, Duration::from_secs(2)), &targets, &Scrubber::default()).unwrap();
    assert!(!checked.every_class);
    assert!(!checked.findings.iter().any(|f| f.key.as_deref() == Some("value.converter")));
}

/// `validate` names each secret written as a literal, by connector and key
/// and never by value: a warning, which `--strict` makes an error. A
/// variable or a config provider reference is no literal.
#[test]
fn literal_secrets_are_warnings_and_strict_makes_them_errors() {
    use crate::support::repo::{manifest, stdout, Repo};
    let repo = Repo::new();
    let fake = FakeConnect::start();
    let literal = r#"{"name": "orders", "config": {"connector.class": "FileStreamSink", "topics": "t", "sasl.password": "hunter2"}}"#;
    let provided = r#"{"name": "audit", "config": {"connector.class": "FileStreamSink", "topics": "t", "sasl.password": "${file:/s:p}"}}"#;
    repo.write("orders.yaml", &manifest("orders", "", &[("orders.json", literal), ("audit.json", provided)]));
    let out = repo.cli(&fake, &["validate", "."]);
    let said = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "a warning alone passes: {said}");
    assert!(
        said.contains("warning: connector orders (ConfigMap team/orders key orders.json) sasl.password: is a secret written as a literal"),
        "{said}"
    );
    assert!(said.contains("2 connectors checked, 0 errors, 1 warning,"), "{said}");
    assert!(!said.contains("hunter2") && !said.contains("connector audit"), "{said}");
    let strict = repo.cli(&fake, &["validate", "--strict", "."]);
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
}
