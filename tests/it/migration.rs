//! Moving from streaming-ops' connect-operator: its ConfigMaps and Pod
//! (tests/fixtures/streaming-ops, as its users have them), rendered as the
//! upgrade guide (docs/upgrading.md) says, and the errors of a first try without it.

use std::path::Path;
use std::process::Command;

use crate::root;
use crate::support::repo::{stderr, stdout, BIN};
use serde_json::Value;

fn fixtures() -> std::path::PathBuf {
    root().join("tests/fixtures/streaming-ops")
}

#[test]
fn a_first_render_without_the_properties_says_what_is_missing_and_how_to_fix_it() {
    let out = Command::new(BIN).arg("render").arg(fixtures()).env_clear().output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("undefined variable `$SCHEMA_REGISTRY_URL`"), "{err}");
    assert!(err.contains("no properties directory at /etc/config/connect-operator"), "{err}");
    assert!(err.contains("--config-dir"), "{err}");
    assert!(err.contains("env.KAFKA_API_KEY and env.KAFKA_API_SECRET come from the username and password of a `sasl.jaas.config` property"), "{err}");
    assert!(!err.contains("is deleted"), "a read-only command deletes nothing: {err}");
    for line in err.lines() {
        assert!(line.starts_with("error: ") || line.starts_with("warning: "), "a line without its level: {line}");
    }
}

/// The upgrade guide's local render recipe, its `render` line run verbatim in a
/// folder laid out as it says: the properties files of the old Pod's mounts
/// in `props/`, its environment in `secrets.env`, a clusters file.
#[test]
fn the_upgrade_guides_render_recipe_renders_every_streaming_ops_connector() {
    let guide = std::fs::read_to_string(root().join("docs/upgrading.md")).unwrap();
    let line = guide.lines().find(|l| l.starts_with("connect-operator render ")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let connect = dir.path().join("environments/base/connect");
    std::fs::create_dir_all(&connect).unwrap();
    for f in ["customers-jdbc-source-config.yaml", "datagen-source-config.yaml", "orders-bigquery-sink-config.yaml"] {
        std::fs::copy(fixtures().join(f), connect.join(f)).unwrap();
    }
    // The five files the old Pod mounted by subPath, shaped as the fixtures' README says.
    std::fs::create_dir(dir.path().join("props")).unwrap();
    for f in std::fs::read_dir(root().join("config/example")).unwrap() {
        let path = f.unwrap().path();
        if path.extension().is_some_and(|e| e == "properties") {
            std::fs::copy(&path, dir.path().join("props").join(path.file_name().unwrap())).unwrap();
        }
    }
    let mut env = std::fs::read_to_string(fixtures().join("example-connect-operator-secrets.props")).unwrap();
    env.push_str("ORDERS_BQ_SINK_KEYFILE={\"type\": \"service_account\"}\n");
    std::fs::write(dir.path().join("secrets.env"), env).unwrap();
    std::fs::copy(root().join("config/example/clusters.yaml"), dir.path().join("clusters.yaml")).unwrap();

    let bin_dir = Path::new(BIN).parent().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{line}: {}", stderr(&out));
    let rendered: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let names: Vec<&str> = rendered.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["jdbc-customers", "pageviews-datagen", "orders-bq-sink"]);
    let datagen = &rendered[1];
    assert_eq!(datagen["cluster"], "cc.env.streaming-ops-dev.kafka.microservices-orders");
    assert_eq!(datagen["config"]["kafka.api.key"], "[redacted]", "derived from sasl.jaas.config, and secret");
}
