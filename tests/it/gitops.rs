//! `diff`, `apply` and `status` from manifests in a repository, against the
//! fake Kafka Connect; and the same plan as the hook for the same input.

use std::process::Command;

use crate::support::fake_connect::FakeConnect;
use crate::support::repo::{manifest, stdout, Repo, BIN};
use serde_json::{json, Value};

const ORDERS: &str = r#"{"name": "orders", "config": {"connector.class": "FileStreamSource", "topic": "orders", "tasks.max": 1, "connection.password": $DB_PASSWORD}}"#;

#[test]
fn diff_exit_codes_follow_diff_and_terraform() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    repo.write("orders.yaml", &manifest("orders", "", &[("orders.json", ORDERS)]));
    let out = repo.cli(&fake, &["diff", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("+ create    orders  ConfigMap team/orders key orders.json"), "{}", stdout(&out));
    assert!(fake.writes().is_empty(), "diff never writes");

    assert_eq!(repo.cli(&fake, &["apply", "."]).status.code(), Some(0));
    assert_eq!(fake.names(), ["orders"]);
    let out = repo.cli(&fake, &["diff", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("0 to create, 0 to rename, 0 to update, 0 to delete"), "{}", stdout(&out));

    repo.write("broken.yaml", &manifest("broken", "", &[("b.json", "{")]));
    assert_eq!(repo.cli(&fake, &["diff", "."]).status.code(), Some(1), "errors win");
}

#[test]
fn diff_shows_changed_keys_with_secrets_redacted() {
    let fake = FakeConnect::start();
    fake.insert_connector(
        "orders",
        &[
            ("connector.class", "FileStreamSource"),
            ("topic", "old-topic"),
            ("tasks.max", "1"),
            ("connection.password", "old-s3cret"),
        ],
    );
    let repo = Repo::new();
    repo.write("orders.yaml", &manifest("orders", "", &[("orders.json", ORDERS)]));
    let out = repo.cli(&fake, &["diff", "."]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(text.contains("~ update    orders"), "{text}");
    assert!(text.contains(r#"topic: "old-topic" -> "orders""#), "{text}");
    assert!(text.contains(r#"connection.password: "[redacted]" -> "[redacted]""#), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    assert!(!text.contains('\x1b'), "no colours when stdout is not a terminal");

    let out = repo.cli(&fake, &["diff", ".", "--output", "json"]);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["steps"][0]["action"], "update");
    assert_eq!(plan["steps"][0]["changes"][1], json!({"key": "topic", "old": "old-topic", "new": "orders"}));
    assert!(!stdout(&out).contains("s3cret"));
}

#[test]
fn disabled_and_pruned_connectors_are_deleted() {
    let fake = FakeConnect::start();
    fake.insert_connector("orders", &[("connector.class", "FileStreamSource")]);
    fake.insert_connector("manual", &[("connector.class", "FileStreamSource")]);
    let repo = Repo::new();
    repo.write("orders.yaml", &manifest("orders", ", enabled: \"false\"", &[("orders.json", ORDERS)]));
    repo.write(
        "keep.yaml",
        &manifest("keep", "", &[("k.json", r#"{"name": "keep", "config": {"connector.class": "FileStreamSource"}}"#)]),
    );
    let text = stdout(&repo.cli(&fake, &["diff", "."]));
    assert!(text.contains("- delete    orders"), "{text}");
    assert!(!text.contains("manual"), "without --prune undeclared connectors are left alone: {text}");
    let text = stdout(&repo.cli(&fake, &["diff", ".", "--prune"]));
    assert!(text.contains("- delete    manual"), "{text}");

    let out = repo.cli(&fake, &["apply", ".", "--prune", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "a dry run exits as diff does");
    assert!(fake.writes().is_empty());
    let out = repo.cli(&fake, &["apply", ".", "--prune", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fake.names(), ["keep"]);
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(result["steps"].as_array().unwrap().iter().all(|s| s["result"] == "done" || s["result"] == "not sent"));
}

/// `apply --delete-limit`: more deletes than the limit, none sent, the
/// rest applied, exit 1 naming them; a higher limit lets them through.
#[test]
fn apply_holds_deletes_over_the_delete_limit() {
    let fake = FakeConnect::start();
    for name in ["a", "b", "c"] {
        fake.insert_connector(name, &[("connector.class", "FileStreamSource")]);
    }
    let repo = Repo::new();
    let keep = r#"{"name": "keep", "config": {"connector.class": "FileStreamSource"}}"#;
    repo.write("keep.yaml", &manifest("keep", "", &[("k.json", keep)]));
    let out = repo.cli(&fake, &["apply", ".", "--prune", "--delete-limit", "2", "--dry-run"]);
    assert!(stdout(&out).contains("! held      a"), "{}", stdout(&out));

    let out = repo.cli(&fake, &["apply", ".", "--prune", "--delete-limit", "2"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cluster default: deletes held: this run would delete 3 connectors at once, more than the delete limit of 2")
            && stderr.contains("--delete-limit")
            && stderr.contains(": a, b, c"),
        "{stderr}"
    );
    assert_eq!(fake.names(), ["a", "b", "c", "keep"], "the create still happened");

    let out = repo.cli(&fake, &["apply", ".", "--prune", "--delete-limit", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fake.names(), ["keep"]);
}

#[test]
fn status_lists_states_and_declaring_configmaps() {
    let fake = FakeConnect::start();
    fake.insert_connector("orders", &[("connector.class", "FileStreamSource"), ("tasks.max", "2")]);
    fake.set_task_state("orders", 1, "FAILED");
    fake.insert_connector("manual", &[("connector.class", "FileStreamSource")]);
    let repo = Repo::new();
    repo.write(
        "orders.yaml",
        &manifest("orders", "", &[("orders.json", ORDERS), ("new.json", r#"{"name": "new", "config": {}}"#)]),
    );
    let out = repo.cli(&fake, &["status", "."]);
    let text = stdout(&out);
    assert!(text.contains("1/2 tasks RUNNING, 1 FAILED"), "{text}");
    assert!(text.contains("(no ConfigMap)"), "{text}");
    let rows: Vec<Value> = serde_json::from_slice(&repo.cli(&fake, &["status", ".", "-o", "json"]).stdout).unwrap();
    let by_name = |n: &str| rows.iter().find(|r| r["connector"] == n).unwrap().clone();
    assert_eq!(by_name("new")["state"], "ABSENT");
    assert_eq!(by_name("orders")["declared_by"], json!(["team/orders key orders.json"]));
    assert_eq!(by_name("manual")["declared_by"], json!([]));
}

/// One engine: the hook on a Synchronization of the same ConfigMaps and
/// `apply` on their manifests send the same writes.
#[test]
fn the_hook_and_apply_make_the_same_plan() {
    let repo = Repo::new();
    let docs = [
        manifest(
            "orders",
            "",
            &[
                ("orders.json", ORDERS),
                (
                    "audit.json",
                    r#"{"name": "audit", "state": "paused", "config": {"connector.class": "FileStreamSink", "topics": "a"}}"#,
                ),
            ],
        ),
        manifest(
            "off",
            ", enabled: \"false\"",
            &[("off.json", r#"{"name": "off", "config": {"connector.class": "FileStreamSource"}}"#)],
        ),
        manifest("bad", "", &[("bad.json", r#"{"name": "x", "config": {"v": $NOPE}}"#)]),
    ];
    repo.write("all.yaml", &docs.join("---\n"));
    let seed = |fake: &FakeConnect| {
        fake.insert_connector("orders", &[("connector.class", "FileStreamSource"), ("topic", "stale")]);
        fake.insert_connector("off", &[("connector.class", "FileStreamSource")]);
    };
    let (by_apply, by_hook) = (FakeConnect::start(), FakeConnect::start());
    seed(&by_apply);
    seed(&by_hook);
    let out = repo.cli(&by_apply, &["apply", "."]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a template that fails fails apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let objects: Vec<Value> = docs
        .iter()
        .map(|d| json!({"object": serde_yaml_ng::from_str::<Value>(d).unwrap(), "filterResult": {}}))
        .collect();
    let contexts = json!([{"binding": "connectors", "type": "Synchronization", "objects": objects, "snapshots": {"connectors": objects}}]);
    let bc = repo.dir.path().join("contexts.json");
    std::fs::write(&bc, contexts.to_string()).unwrap();
    let out = Command::new(BIN)
        .env_clear()
        .env("BINDING_CONTEXT_PATH", &bc)
        .env("CONNECT_URL", by_hook.url())
        .env("CONNECT_OPERATOR_CONFIG_DIR", repo.dir.path().join("config"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let writes = |fake: &FakeConnect| {
        let mut w: Vec<String> = fake.writes().iter().map(|r| format!("{} {} {}", r.method, r.path, r.body)).collect();
        w.sort();
        w
    };
    assert_eq!(writes(&by_apply), writes(&by_hook));
    assert_eq!(writes(&by_apply).len(), 3, "{:?}", writes(&by_apply));
    assert_eq!(by_apply.names(), by_hook.names());
    assert_eq!(by_apply.config("orders"), by_hook.config("orders"));
}

#[test]
fn validate_reports_errors_by_connector_and_key() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    repo.write(
        "good.yaml",
        &manifest(
            "good",
            "",
            &[("g.json", r#"{"name": "g", "config": {"connector.class": "FileStreamSink", "topics": "t"}}"#)],
        ),
    );
    let out = repo.cli(&fake, &["validate", "."]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("1 connector checked, 0 errors"), "{}", stdout(&out));

    repo.write(
        "bad.yaml",
        &manifest(
            "bad",
            "",
            &[
                ("typo.json", r#"{"name": "typo", "config": {"connector.class": "FileStreamSinc"}}"#),
                (
                    "tasks.json",
                    r#"{"name": "tasks", "config": {"connector.class": "FileStreamSource", "tasks.max": "abc"}}"#,
                ),
                ("broken.json", "{"),
            ],
        ),
    );
    repo.write("typo.yaml", &manifest("typo", ", enabled: \"yes\"", &[("t.json", r#"{"name": "t", "config": {}}"#)]));
    let out = repo.cli(&fake, &["validate", "."]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("org.apache.kafka.connect.file.FileStreamSinkConnector"),
        "the closest class is named: {text}"
    );
    assert!(
        text.contains("connector tasks (ConfigMap team/bad key tasks.json) tasks.max: Invalid value abc"),
        "{text}"
    );
    assert!(text.contains("(ConfigMap team/bad key broken.json) 1:"), "{text}");
    assert!(text.contains(r#"(ConfigMap team/typo) label `enabled` is "yes""#), "{text}");

    let findings: Vec<Value> =
        serde_json::from_slice(&repo.cli(&fake, &["validate", ".", "-o", "json"]).stdout).unwrap();
    assert!(findings.iter().any(|f| f["connector"] == "tasks" && f["key"] == "tasks.max"), "{findings:?}");
}

#[test]
fn a_connector_declared_twice_fails_every_command_that_reads_manifests() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    repo.write("a.yaml", &manifest("a", "", &[("one.json", ORDERS), ("two.json", ORDERS)]));
    repo.write("b.yaml", &manifest("b", "", &[("three.json", ORDERS)]));
    for args in [
        &["render", "."][..],
        &["validate", "."],
        &["status", "."],
        &["diff", "."],
        &["apply", "."],
        &["describe", "orders", "."],
        &["pause", "orders", "."],
    ] {
        let out = repo.cli_env(&fake, args, &[("DB_PASSWORD", "x")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}{err}", stdout(&out));
        for place in
            ["ConfigMap team/a key one.json", "ConfigMap team/a key two.json", "ConfigMap team/b key three.json"]
        {
            assert!(err.contains(place), "{args:?} names {place}: {err}");
        }
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
    }
    assert!(fake.writes().is_empty());
}
