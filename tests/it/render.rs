//! `connect-operator render`: the same rendering as the hook, for people
//! who commit ConfigMaps to Git.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::root;
use crate::support::repo::BIN;

fn render(args: &[&str], dir: &Path) -> Output {
    Command::new(BIN).arg("render").args(args).current_dir(dir).env_clear().output().unwrap()
}

const EXAMPLES: &[&str] = &[
    "manifests/examples",
    "--config-dir",
    "config/example",
    "--env-file",
    "config/example/connect-operator-secrets.env",
    "--clusters-file",
    "config/example/clusters.yaml",
];

#[test]
fn the_bundled_examples_render_with_secrets_redacted() {
    let out = render(EXAMPLES, root());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let rendered: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> = rendered.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["jdbc-customers", "pageviews-datagen", "orders-bq-sink"]);
    let jdbc = &rendered[0]["config"];
    assert_eq!(jdbc["connection.url"], "jdbc:mysql://mysql:3306");
    assert_eq!(jdbc["tasks.max"], "1");
    assert_eq!(jdbc["connection.password"], "[redacted]");
    assert_eq!(jdbc["value.converter.schema.registry.url"], "[redacted]", "properties values are secrets");
    // A setting about a secret is shown even though a properties file gave it, as docs/templates.md says:
    // its value names a mechanism, not a secret.
    assert_eq!(jdbc["value.converter.basic.auth.credentials.source"], "USER_INFO");
    assert_eq!(jdbc["value.converter.schema.registry.basic.auth.user.info"], "[redacted]");
    assert_eq!(rendered[0]["source"]["key"], "customers-jdbc-source-connector.json");
    assert_eq!(rendered[0]["cluster"], "default");
    assert_eq!(rendered[1]["cluster"], "cc.env.streaming-ops-dev.kafka.microservices-orders");
    assert_eq!(rendered[1]["source"]["enabled"], false);
    for secret in ["GoKafka", "KAFKA_SECRET", "KAFKA_KEY", "SR_SECRET", "service_account"] {
        assert!(!stdout.contains(secret), "{secret} printed");
    }
}

#[test]
fn show_secrets_prints_them() {
    let mut args = EXAMPLES.to_vec();
    args.push("--show-secrets");
    let out = render(&args, root());
    let rendered: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rendered[0]["config"]["connection.password"], "GoKafka");
    assert_eq!(rendered[1]["config"]["kafka.api.key"], "KAFKA_KEY", "derived from sasl.jaas.config");
    assert_eq!(rendered[1]["config"]["kafka.api.secret"], "KAFKA_SECRET");
}

#[test]
fn errors_name_file_configmap_key_and_position_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cms.yaml"),
        r#"apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: mixed, namespace: team, labels: {destination: connect}}
  data:
    good.json: '{"name": "good", "config": {"connector.class": "FileStreamSource", "tasks.max": 1}}'
    bad.json: |
      {"name": "bad",
       "config": {"x": [1,}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: typo, labels: {destination: connect, enabled: "yes"}}
data: {k: '{"name": "t", "config": {}}'}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-ours}
data: {k: 'not even jq'}
"#,
    )
    .unwrap();
    let out = render(&["cms.yaml", "--config-dir", "none"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let rendered: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rendered.len(), 1, "the good template is still printed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: ConfigMap team/mixed (cms.yaml) key bad.json: 2:"), "{stderr}");
    assert!(stderr.contains("error: ConfigMap typo (cms.yaml): label `enabled` is \"yes\""), "{stderr}");
    assert!(!stderr.contains("not-ours"), "{stderr}");
}

/// A short or constant-like secret value (`USER_INFO`, `root`) is not
/// scrubbed out of names, keys and paths: the hint below must not read
/// `$SCHEMA_REGISTRY_BASIC_AUTH_[redacted]`.
#[test]
fn redaction_leaves_names_keys_and_paths_whole() {
    let dir = tempfile::tempdir().unwrap();
    let cm = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typo", "namespace": "team",
        "labels": {"destination": "connect"}}, "data": {"a.json": "{\"name\": \"a\", \"config\": {\"x\": $SCHEMA_REGISTRY_BASIC_AUTH_USERINFO}}",
        "b.json": "{\"name\": \"b\", \"config\": {\"u\": env.MYSQL_CONNECTION_USER, \"p\": (\"/root/.cache\" | error)}}"}}"#;
    std::fs::write(dir.path().join("cm.yaml"), cm).unwrap();
    let config = root().join("config/example");
    let out = Command::new(BIN)
        .args(["render", "cm.yaml", "--config-dir"])
        .arg(&config)
        .current_dir(dir.path())
        .env_clear()
        .env("MYSQL_CONNECTION_USER", "root")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("$SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"), "{stderr}");
    assert!(stderr.contains("error: /root/.cache"), "{stderr}");
    assert!(!stderr.contains("SR_SECRET"), "{stderr}");
}

/// The streaming-ops ConfigMaps render without the BigQuery keyfile: the
/// sink's ConfigMap is disabled, so its name is all it needs, and a null
/// `env.NAME` is named in the message rather than as `config key 'keyfile'
/// is null (an undefined 'env.NAME' or a missing field?)`.
#[test]
fn a_disabled_configmap_needs_only_its_names_and_a_null_names_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    let env = std::fs::read_to_string(root().join("config/example/connect-operator-secrets.env")).unwrap();
    let env: String =
        env.lines().filter(|l| !l.starts_with("ORDERS_BQ_SINK_KEYFILE")).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("secrets.env"), env).unwrap();
    let secrets = dir.path().join("secrets.env");
    let mut args = EXAMPLES.to_vec();
    args[4] = secrets.to_str().unwrap();
    let out = render(&args, root());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let rendered: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let sink = rendered.iter().find(|c| c["name"] == "orders-bq-sink").expect("the disabled sink is declared");
    assert_eq!(sink["source"]["enabled"], false);
    assert!(
        stderr.contains(
            "disabled, so the hook deletes its connector orders-bq-sink by name although its template failed: \
             config key `keyfile` is null (env.ORDERS_BQ_SINK_KEYFILE is not set)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_missing_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = render(&["nowhere"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere: no such file or directory"));
}
