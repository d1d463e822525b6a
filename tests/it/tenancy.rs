//! Secrets by namespace: properties files under `namespaces/<namespace>/`
//! of the config directory are variables for that namespace's ConfigMaps
//! alone, and `TEMPLATE_ENV` limits the environment templates read. An
//! install with no `namespaces/` folder renders exactly as before.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::hook::Hook;
use crate::root;
use crate::support::build::sync;
use crate::support::fake_connect::FakeConnect;
use crate::support::repo::{stderr, stdout, BIN};

const STREAMING_OPS: [&str; 3] =
    ["customers-jdbc-source-config.yaml", "datagen-source-config.yaml", "orders-bigquery-sink-config.yaml"];

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/streaming-ops")
}

/// What the build before namespaces rendered from the streaming-ops
/// fixtures (`render --show-secrets`, and without it), kept as it printed it.
fn rendered_before(file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/rendered").join(file)).unwrap()).unwrap()
}

/// A copy of `config/example` in `dir`, plus the given files.
fn config_dir(dir: &Path, extra: &[(&str, &str)]) -> PathBuf {
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    for f in std::fs::read_dir(root().join("config/example")).unwrap() {
        let path = f.unwrap().path();
        if path.extension().is_some_and(|e| e == "properties") {
            std::fs::copy(&path, config.join(path.file_name().unwrap())).unwrap();
        }
    }
    for (file, text) in extra {
        let path = config.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    config
}

/// `render` of the streaming-ops fixtures, as the upgrade guide runs it.
fn render_streaming_ops(config: &Path, show_secrets: bool) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let mut env = std::fs::read_to_string(fixtures().join("example-connect-operator-secrets.props")).unwrap();
    env.push_str("ORDERS_BQ_SINK_KEYFILE={\"type\": \"service_account\"}\n");
    let env_file = dir.path().join("secrets.env");
    std::fs::write(&env_file, env).unwrap();
    let mut command = Command::new(BIN);
    // Relative, as the golden files name them.
    command.current_dir(root()).arg("render").args(STREAMING_OPS.map(|f| format!("tests/fixtures/streaming-ops/{f}")));
    command.arg("--config-dir").arg(config).arg("--env-file").arg(&env_file);
    command.arg("--clusters-file").arg(root().join("config/example/clusters.yaml"));
    if show_secrets {
        command.arg("--show-secrets");
    }
    let out = command.env_clear().output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn the_streaming_ops_fixtures_render_as_before_with_or_without_other_namespaces_folders() {
    let dir = tempfile::tempdir().unwrap();
    let plain = config_dir(&dir.path().join("plain"), &[]);
    assert_eq!(render_streaming_ops(&plain, true), rendered_before("streaming-ops.json"));
    assert_eq!(render_streaming_ops(&plain, false), rendered_before("streaming-ops-redacted.json"));
    // Another namespace's folder changes nothing for manifests outside it.
    let other = "schema.registry.url=https://other.example\nmysql.connection.password=n0t-y0urs\n";
    let tenanted = config_dir(&dir.path().join("tenanted"), &[("namespaces/team-b/team-b.properties", other)]);
    assert_eq!(render_streaming_ops(&tenanted, true), rendered_before("streaming-ops.json"));
}

/// The streaming-ops ConfigMaps through the hook in namespace `default`,
/// with `extra` files in the config directory: the config Connect gets and
/// the status written on the JDBC ConfigMap.
fn hook_streaming_ops(extra: &[(&str, &str)]) -> (Value, Value) {
    let fake = FakeConnect::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_dir(dir.path(), extra);
    let patch = dir.path().join("patch.jsonl");
    let mut hook = Hook::new(&fake)
        .env("CONNECT_OPERATOR_CONFIG_DIR", &config.display().to_string())
        .env("KUBERNETES_PATCH_PATH", &patch.display().to_string());
    for line in std::fs::read_to_string(fixtures().join("example-connect-operator-secrets.props")).unwrap().lines() {
        if let Some((k, v)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
            hook = hook.env(k, v);
        }
    }
    let objects: Vec<Value> = STREAMING_OPS
        .iter()
        .map(|f| {
            let mut v: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(fixtures().join(f)).unwrap()).unwrap();
            v["metadata"]["namespace"] = json!("default");
            v
        })
        .collect();
    hook.run(sync(&objects)).ok();
    let patches = std::fs::read_to_string(&patch).unwrap();
    let source = patches
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|p| p["operation"] == "MergePatch" && p["name"] == "customers-jdbc-source-connector")
        .map(|p| p["mergePatch"]["metadata"]["annotations"]["status.connect-operator.io/source"].clone())
        .unwrap_or_else(|| panic!("no status patch: {patches}"));
    (json!(fake.config("jdbc-customers").unwrap()), source)
}

/// The source digest the build before namespaces wrote on the JDBC
/// ConfigMap: the same digest means the upgrade re-renders nothing.
const SOURCE_BEFORE: &str = "41e7a9b5d6ed8fa8374d34572cd9257f";

#[test]
fn a_single_namespace_install_applies_and_records_what_it_did_before() {
    let before = rendered_before("streaming-ops.json");
    let (config, source) = hook_streaming_ops(&[]);
    assert_eq!(config, before[0]["config"]);
    assert_eq!(source, SOURCE_BEFORE);
    let other = "schema.registry.url=https://other.example\nmysql.connection.password=n0t-y0urs\n";
    let (config, source) = hook_streaming_ops(&[("namespaces/team-b/team-b.properties", other)]);
    assert_eq!(config, before[0]["config"], "team-b's folder is not default's");
    assert_eq!(source, SOURCE_BEFORE);
}
