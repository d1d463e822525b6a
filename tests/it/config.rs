//! `connect-operator --config`: what shell-operator reads at start-up.

use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::support::repo::BIN;

fn config(env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .env_clear()
        // Neither Connect nor the properties directory exist: --config must not care.
        .env("CONNECT_URL", "http://127.0.0.1:9")
        .env("CONNECT_OPERATOR_CONFIG_DIR", "/nonexistent")
        .env("OPERATOR_NAMESPACE", "ops")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn parsed(env: &[(&str, &str)]) -> Value {
    let out = config(env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "nothing but the config: {}", String::from_utf8_lossy(&out.stderr));
    serde_yaml_ng::from_slice(&out.stdout).expect("stdout is YAML and nothing else")
}

fn schema() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shell-operator-config-v1-schema.yaml");
    let schema: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft4::new(&schema).unwrap()
}

#[test]
fn every_variant_validates_against_the_shell_operator_schema() {
    let validator = schema();
    for env in [
        &[][..],
        &[("WATCH_NAMESPACES", "team-a, team-b")],
        &[("WATCH_NAMESPACES", ""), ("RESYNC_SCHEDULE", "off")],
        &[("RESYNC_SCHEDULE", "@every 30m")],
    ] {
        let config = parsed(env);
        let errors: Vec<String> =
            validator.iter_errors(&config).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{env:?}: {errors:?}\n{config:#}");
        // shell-operator's Go-side check: every includeSnapshotsFrom name is a kubernetes binding.
        let names: Vec<&Value> = config["kubernetes"].as_array().unwrap().iter().map(|b| &b["name"]).collect();
        for binding in
            config["kubernetes"].as_array().unwrap().iter().chain(config["schedule"].as_array().into_iter().flatten())
        {
            for name in binding["includeSnapshotsFrom"].as_array().into_iter().flatten() {
                assert!(names.contains(&name), "{name} is not a kubernetes binding");
            }
        }
    }
}

#[test]
fn the_schema_check_can_fail() {
    let mut config = parsed(&[]);
    config["kubernetes"][0]["executeHookOnEvent"] = json!(["Created"]);
    assert!(!schema().is_valid(&config));
}

#[test]
fn bindings_follow_the_environment() {
    let config = parsed(&[("WATCH_NAMESPACES", "team-a,team-b")]);
    let binding = &config["kubernetes"][0];
    assert_eq!(binding["kind"], "ConfigMap");
    assert_eq!(binding["apiVersion"], "v1");
    assert_eq!(binding["labelSelector"], json!({"matchLabels": {"destination": "connect"}}));
    assert_eq!(binding["executeHookOnEvent"], json!(["Added", "Modified", "Deleted"]));
    assert_eq!(binding["namespace"], json!({"nameSelector": {"matchNames": ["team-a", "team-b"]}}));
    assert_eq!(binding["includeSnapshotsFrom"], json!(["connectors", "state"]));
    assert_eq!(config["schedule"][0]["crontab"], "*/5 * * * *");
    assert_eq!(config["schedule"][0]["includeSnapshotsFrom"], json!(["connectors", "state"]));
    // The operator's own record of owned connectors: a snapshot, never a run.
    let state = &config["kubernetes"][1];
    assert_eq!(state["name"], "state");
    assert_eq!(state["executeHookOnEvent"], json!([]));
    assert_eq!(state["executeHookOnSynchronization"], json!(false));
    assert_eq!(state["nameSelector"], json!({"matchNames": ["connect-operator-state"]}));
    assert_eq!(state["namespace"], json!({"nameSelector": {"matchNames": ["ops"]}}));

    let config = parsed(&[("RESYNC_SCHEDULE", "off")]);
    assert!(config.get("schedule").is_none());
    assert!(config["kubernetes"][0].get("namespace").is_none(), "all namespaces");
}

#[test]
fn a_bad_crontab_is_refused_with_the_variable_named() {
    let out = config(&[("RESYNC_SCHEDULE", "5 minutes")]);
    // An error, as the exit-status table of docs/cli.md says of a hook setting with a bad value.
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: RESYNC_SCHEDULE=5 minutes: not a crontab"));
}

/// Runs the binding's jqFilter with jq, standing in for shell-operator's gojq.
fn filtered(object: &Value) -> Value {
    let filter = parsed(&[])["kubernetes"][0]["jqFilter"].as_str().unwrap().to_string();
    let out = Command::new("jq")
        .args(["-c", &filter])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(object.to_string().as_bytes())?;
            child.wait_with_output()
        })
        .expect("jq is installed");
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn modified_fires_for_data_labels_and_user_annotations_but_not_for_the_hooks_own_annotations() {
    let base = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "ns", "resourceVersion": "1", "labels": {"destination": "connect"},
                     "annotations": {"team": "data"}},
        "data": {"k": "{}"}
    });
    let with = |path: &str, value: Value| {
        let mut v = base.clone();
        *v.pointer_mut(path).unwrap() = value;
        v
    };
    let same = [
        with("/metadata/resourceVersion", json!("2")),
        with("/metadata/annotations", json!({"team": "data", "status.connect-operator.io/jdbc": "RUNNING"})),
    ];
    for object in same {
        assert_eq!(filtered(&object), filtered(&base), "{object}");
    }
    let different = [
        with("/data", json!({"k": "{\"x\": 1}"})),
        with("/metadata/labels", json!({"destination": "connect", "enabled": "false"})),
        with("/metadata/annotations", json!({"team": "platform"})),
        with("/metadata/annotations", json!({"team": "data", "connect-operator.io/restart": "1"})),
    ];
    for object in different {
        assert_ne!(filtered(&object), filtered(&base), "{object}");
    }
}
