//! `export` against the fake Connect: what a cluster runs becomes manifests
//! that `render` turns back into the live configs and `diff` finds as they
//! are; secret values go to the Secret manifest only.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::fake_connect::{FakeConnect, Fault, Match};
use crate::support::repo::{stderr, stdout, Repo, BIN};

const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
const JDBC_SOURCE: &str = "io.confluent.connect.jdbc.JdbcSourceConnector";
const SECRET: &str = "connect-operator-env.secret.yaml";

/// `export ARGS --output-dir DIR` against `fake`, with no other environment.
fn export(fake: &FakeConnect, dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("export")
        .args(args)
        .arg("--output-dir")
        .arg(dir)
        .env_clear()
        .env("CONNECT_URL", fake.url())
        .env("RETRY_BUDGET", "2s")
        .output()
        .unwrap()
}

/// A cluster made by hand: a sink with a password, a provider reference and
/// values that need escaping, a paused one and a stopped one.
fn cluster() -> FakeConnect {
    let fake = FakeConnect::start();
    fake.insert_connector(
        "orders-sink",
        &[
            ("connector.class", FILE_SINK),
            ("topics", "orders"),
            ("file", "/tmp/orders \"quoted\" \\(not jq)\nsecond line ünï"),
            ("connection.password", "hunter2-s3cret"),
            ("sasl.jaas.config", "${file:/etc/kafka/secrets.properties:jaas}"),
            ("tasks.max", "2"),
        ],
    );
    fake.insert_connector("audit", &[("connector.class", FILE_SINK), ("topics", "audit"), ("file", "/tmp/audit")]);
    fake.set_connector_state("audit", "PAUSED");
    fake.insert_connector("archive", &[("connector.class", "FileStreamSource"), ("topic", "a"), ("file", "/tmp/a")]);
    fake.set_connector_state("archive", "STOPPED");
    fake
}

/// The Secret manifest's `stringData`.
fn secret_env(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join(SECRET)).unwrap();
    let secret: Value = serde_yaml_ng::from_str(&text).unwrap();
    assert_eq!(
        (secret["kind"].as_str(), secret["metadata"]["name"].as_str()),
        (Some("Secret"), Some("connect-operator-env"))
    );
    serde_json::from_value(secret["stringData"].clone()).unwrap()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn an_exported_cluster_renders_to_its_live_configs_and_diffs_as_unchanged() {
    let fake = cluster();
    let repo = Repo::new();
    let dir = repo.file("connect");
    let out = export(&fake, &dir, &["--include-secrets", "--namespace", "team"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(files(&dir), ["archive.yaml", "audit.yaml", SECRET, "orders-sink.yaml"]);
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.join(SECRET)).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "the Secret's values are its owner's alone: {mode:o}");
    let env = secret_env(&dir);
    assert_eq!(env, BTreeMap::from([("ORDERS_SINK_CONNECTION_PASSWORD".to_string(), "hunter2-s3cret".to_string())]));
    let orders = read(&dir, "orders-sink.yaml");
    assert!(!orders.contains("hunter2"), "{orders}");
    assert!(orders.contains("env.ORDERS_SINK_CONNECTION_PASSWORD"), "{orders}");
    assert!(orders.contains("${file:/etc/kafka/secrets.properties:jaas}"), "a provider reference is kept: {orders}");
    assert!(orders.contains("namespace: team") && orders.contains("destination: connect"), "{orders}");

    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let rendered = repo.cli_env(&fake, &["render", "connect", "--show-secrets"], &env);
    assert_eq!(rendered.status.code(), Some(0), "{}", stderr(&rendered));
    let rendered: Vec<Value> = serde_json::from_str(&stdout(&rendered)).unwrap();
    assert_eq!(rendered.len(), 3);
    for connector in &rendered {
        let name = connector["name"].as_str().unwrap();
        let config: BTreeMap<String, String> = serde_json::from_value(connector["config"].clone()).unwrap();
        assert_eq!(Some(config), fake.config(name), "{name}");
    }
    let state = |name: &str| rendered.iter().find(|c| c["name"] == name).unwrap()["state"].clone();
    assert_eq!(
        (state("audit"), state("archive"), state("orders-sink")),
        ("paused".into(), "stopped".into(), Value::Null)
    );

    fake.clear_requests();
    let diff = repo.cli_env(&fake, &["diff", "connect"], &env);
    assert_eq!(diff.status.code(), Some(0), "{}{}", stdout(&diff), stderr(&diff));
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());
}

#[test]
fn secrets_become_placeholders_unless_asked_for() {
    let fake = cluster();
    let dir = tempfile::tempdir().unwrap();
    let out = export(&fake, dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(secret_env(dir.path())["ORDERS_SINK_CONNECTION_PASSWORD"], "<set me>");
    for file in files(dir.path()) {
        assert!(!read(dir.path(), &file).contains("hunter2"), "{file}");
    }
    assert!(!stdout(&out).contains("hunter2") && !stderr(&out).contains("hunter2"));
}

#[test]
fn a_key_connect_defines_as_password_goes_to_the_secret_with_one_validate_per_class() {
    let fake = FakeConnect::start();
    // `connection.url` is no secret by its name: only the plugin's definition says it is.
    fake.define(JDBC_SOURCE, &[("connection.url", "PASSWORD"), ("connection.user", "STRING")]);
    for name in ["jdbc-a", "jdbc-b"] {
        let url = format!("jdbc:mysql://db:3306/{name}?password=pw-{name}");
        fake.insert_connector(
            name,
            &[("connector.class", JDBC_SOURCE), ("connection.url", &url), ("connection.user", "app")],
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = export(&fake, dir.path(), &["--include-secrets"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let a = read(dir.path(), "jdbc-a.yaml");
    assert!(a.contains("env.JDBC_A_CONNECTION_URL") && !a.contains("pw-jdbc-a"), "{a}");
    assert!(a.contains(r#""connection.user": "app""#), "{a}");
    assert_eq!(secret_env(dir.path())["JDBC_B_CONNECTION_URL"], "jdbc:mysql://db:3306/jdbc-b?password=pw-jdbc-b");
    let validations: Vec<String> =
        crate::methods(&fake).into_iter().filter(|m| m.contains("/config/validate")).collect();
    assert_eq!(validations, [format!("PUT /connector-plugins/{JDBC_SOURCE}/config/validate")]);
}

#[test]
fn without_definitions_the_name_rule_keeps_secrets_out() {
    let fake = FakeConnect::start();
    fake.define(JDBC_SOURCE, &[("connection.url", "PASSWORD")]);
    fake.insert_connector("jdbc", &[("connector.class", JDBC_SOURCE), ("connection.password", "pw-secret-1")]);
    fake.inject(Match::path("PUT", "/connector-plugins/"), Fault::Status(400, "no validation here".into()), 10);
    let dir = tempfile::tempdir().unwrap();
    let out = export(&fake, dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("class {JDBC_SOURCE}")), "{}", stderr(&out));
    let jdbc = read(dir.path(), "jdbc.yaml");
    assert!(jdbc.contains("env.JDBC_CONNECTION_PASSWORD") && !jdbc.contains("pw-secret-1"), "{jdbc}");
}

#[test]
fn a_masked_value_is_a_placeholder_with_a_warning_even_with_include_secrets() {
    let fake = cluster();
    fake.set_masking(Some("****************"));
    let dir = tempfile::tempdir().unwrap();
    let out = export(&fake, dir.path(), &["--include-secrets", "orders-sink"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(files(dir.path()), [SECRET, "orders-sink.yaml"]);
    assert_eq!(secret_env(dir.path())["ORDERS_SINK_CONNECTION_PASSWORD"], "<set me>");
    let warned = stderr(&out);
    assert!(warned.contains("connector orders-sink key connection.password: Connect masks its value"), "{warned}");
}

#[test]
fn an_existing_file_is_refused_and_nothing_is_written() {
    let fake = cluster();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("audit.yaml"), "mine\n").unwrap();
    let out = export(&fake, dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let said = stderr(&out);
    assert!(said.contains("refusing to overwrite") && said.contains("audit.yaml"), "{said}");
    assert_eq!(files(dir.path()), ["audit.yaml"]);
    assert_eq!(read(dir.path(), "audit.yaml"), "mine\n");
}

#[test]
fn an_unknown_connector_is_named() {
    let fake = cluster();
    let dir = tempfile::tempdir().unwrap();
    let out = export(&fake, dir.path(), &["audit", "nope"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("has no connector nope"), "{}", stderr(&out));
    assert!(files(dir.path()).is_empty());
}

#[test]
fn a_named_cluster_is_annotated() {
    let fake = cluster();
    let repo = Repo::new();
    repo.write("clusters.yaml", &format!("clusters:\n  - name: analytics\n    url: {}\n", fake.url()));
    let dir = repo.file("out");
    let clusters = repo.file("clusters.yaml");
    let out = export(&fake, &dir, &["audit", "--cluster", "analytics", "--clusters-file", clusters.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let audit = read(&dir, "audit.yaml");
    assert!(audit.contains("connect-operator.io/cluster: analytics"), "{audit}");
    assert!(!dir.join(SECRET).exists(), "no secret, no Secret manifest");
}
