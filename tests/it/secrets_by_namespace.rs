//! Secrets by namespace: properties files under `namespaces/<namespace>/`
//! of the config directory are variables for that namespace's ConfigMaps
//! alone, and `TEMPLATE_ENV` limits the environment templates read. An
//! install with no `namespaces/` folder renders exactly as before.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::hook::Hook;
use crate::root;
use crate::support::build::{annotated, sync};
use crate::support::fake_connect::FakeConnect;
use crate::support::repo::{stderr, stdout, Repo, BIN};

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

/// A ConfigMap in `namespace`, one data key per template.
fn in_namespace(namespace: &str, name: &str, data: &[(&str, &str)]) -> Value {
    annotated(namespace, name, json!({}), json!({}), data)
}

const TEAM_A_SECRET: &str = "team-a-s3cret";

/// A hook whose config directory has shared properties and team-a's own.
fn tenanted_hook(fake: &FakeConnect) -> Hook {
    Hook::new(fake)
        .properties("shared.properties", "topic.prefix=shared\n")
        .properties("namespaces/team-a/db.properties", &format!("db.password={TEAM_A_SECRET}\n"))
}

#[test]
fn a_namespace_never_reads_another_namespaces_properties_through_the_hook() {
    let fake = FakeConnect::start();
    let hook = tenanted_hook(&fake);
    let reads = r#"{"name": "NAME", "config": {"connector.class": "FileStreamSource", "topic": $TOPIC_PREFIX, "password": $DB_PASSWORD}}"#;
    let team_a = in_namespace("team-a", "a", &[("a.json", &reads.replace("NAME", "a"))]);
    let team_b = in_namespace(
        "team-b",
        "b",
        &[
            ("b.json", &reads.replace("NAME", "b")),
            (
                "whole.json",
                r#"{"name": "b-whole", "config": {"connector.class": "FileStreamSource", "env": ($ENV | tostring), "e": (env | tostring), "pw": ($ENV.DB_PASSWORD | tostring)}}"#,
            ),
            ("quotes.json", r#"{"name": "b-quotes", "config": {"x": ("team-a-s3cret" | error)}}"#),
            (
                "prefix.json",
                r#"{"name": "b-prefix", "config": {"connector.class": "FileStreamSource", "topic": $TOPIC_PREFIX}}"#,
            ),
        ],
    );
    let run = hook.run(sync(&[team_a.clone(), team_b.clone()]));
    let log = run.log();
    let a = fake.config("a").unwrap();
    assert_eq!((a["topic"].as_str(), a["password"].as_str()), ("shared", TEAM_A_SECRET), "{log}");
    assert!(fake.config("b").is_none(), "team-b read team-a's $DB_PASSWORD: {log}");
    assert!(log.contains("ConfigMap team-b/b key b.json: 1:"), "{log}");
    assert!(log.contains("undefined variable `$DB_PASSWORD` (defined from properties files: $TOPIC_PREFIX;"), "{log}");
    let whole = fake.config("b-whole").unwrap_or_else(|| panic!("{log}"));
    assert!(!whole.values().any(|v| v.contains(TEAM_A_SECRET)), "{whole:?}");
    assert_eq!(whole["pw"], "null");
    assert_eq!(fake.config("b-prefix").unwrap()["topic"], "shared");
    assert!(!log.contains(TEAM_A_SECRET), "every namespace's secrets are scrubbed from every message: {log}");
    assert!(log.contains("ConfigMap team-b/b key quotes.json: error: [redacted]"), "{log}");

    // team-b gets a folder of its own: its kept renders are not reused.
    let hook = hook.properties("namespaces/team-b/own.properties", "topic.prefix=b-own\ndb.password=b-s3cret\n");
    let run = hook.run(sync(&[team_a, team_b])).ok();
    let b = fake.config("b").unwrap_or_else(|| panic!("{}", run.log()));
    assert_eq!((b["topic"].as_str(), b["password"].as_str()), ("b-own", "b-s3cret"));
    assert_eq!(fake.config("a").unwrap()["topic"], "shared");
    assert_eq!(fake.config("b-prefix").unwrap()["topic"], "b-own", "kept with the shared variables, not reused");
}

#[test]
fn template_env_gives_null_for_the_rest_of_the_environment_and_says_so_once_without_the_value() {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake)
        .env("TEMPLATE_ENV", "ALLOWED_USER")
        .env("ALLOWED_USER", "app")
        .env("OTHER_SECRET", "other-s3cret-value");
    let reads = r#"{"name": "NAME", "config": {"connector.class": "FileStreamSource", "user": env.ALLOWED_USER, "other": (env.OTHER_SECRET | tostring), "also": ($ENV.OTHER_SECRET | tostring), "all": ($ENV | keys | join(","))}}"#;
    let cms = [
        in_namespace("team-a", "one", &[("one.json", &reads.replace("NAME", "one"))]),
        in_namespace("team-b", "two", &[("two.json", &reads.replace("NAME", "two"))]),
        in_namespace(
            "team-b",
            "three",
            &[("three.json", r#"{"name": "three", "config": {"password": env.OTHER_SECRET}}"#)],
        ),
    ];
    let run = hook.run(sync(&cms));
    let log = run.log();
    for name in ["one", "two"] {
        let c = fake.config(name).unwrap_or_else(|| panic!("{log}"));
        assert_eq!((c["user"].as_str(), c["other"].as_str(), c["also"].as_str()), ("app", "null", "null"), "{log}");
        assert!(!c["all"].contains("OTHER_SECRET"), "{c:?}");
    }
    let warnings: Vec<&str> =
        log.lines().filter(|l| l.contains("env.OTHER_SECRET, which TEMPLATE_ENV does not list")).collect();
    assert_eq!(warnings.len(), 1, "once per run: {log}");
    assert!(warnings[0].starts_with("warning: "), "{log}");
    assert!(log.contains("config key `password` is null (env.OTHER_SECRET is not in TEMPLATE_ENV)"), "{log}");
    assert!(!log.contains("other-s3cret-value"), "{log}");
}

/// A manifest in `namespace` (none when empty) whose template `code` declares connector `name`.
fn manifest_in(namespace: &str, name: &str, code: &str) -> String {
    let namespace = if namespace.is_empty() { String::new() } else { format!("\n  namespace: {namespace}") };
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}{namespace}\n  labels: {{destination: connect}}\ndata:\n  {name}.json: '{code}'\n"
    )
}

#[test]
fn render_reads_each_manifests_namespace_folder_and_no_other() {
    let repo = Repo::new();
    let own = repo.file("config/namespaces/team-a");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(own.join("team.properties"), format!("team.password={TEAM_A_SECRET}\n")).unwrap();
    let code =
        |name: &str| format!(r#"{{"name": "{name}", "config": {{"shared": $DB_PASSWORD, "team": $TEAM_PASSWORD}}}}"#);
    repo.write("a.yaml", &manifest_in("team-a", "a", &code("a")));
    repo.write("b.yaml", &manifest_in("team-b", "b", &code("b")));
    let out = repo.command(&["render", "a.yaml", "--show-secrets"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let a: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(a[0]["config"]["shared"], "pr0perty-s3cret");
    assert_eq!(a[0]["config"]["team"], TEAM_A_SECRET);

    let out = repo.command(&["render", "a.yaml", "b.yaml"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("ConfigMap team-b/b (b.yaml) key b.json: 1:"), "{err}");
    assert!(err.contains("undefined variable `$TEAM_PASSWORD`"), "{err}");
    assert!(!err.contains(TEAM_A_SECRET), "{err}");

    // Without metadata.namespace, a manifest is in `default`, where kubectl puts it, as
    // the clusters' `namespaces` take it too: the operator's own namespace changes nothing.
    repo.write("plain.yaml", &manifest_in("", "plain", &code("plain")));
    let out = repo.command(&["render", "plain.yaml"]).env("OPERATOR_NAMESPACE", "team-a").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("undefined variable `$TEAM_PASSWORD`"), "{}", stderr(&out));
}
