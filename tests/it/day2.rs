//! Day-2 commands against the fake Connect: offsets, one connector at a
//! time, every plugin, and `apply --wait`. The end-to-end suite runs the
//! same against the real Kafka Connect.

use crate::methods;
use crate::support::fake_connect::FakeConnect;
use crate::support::repo::{manifest, stderr, stdout, Repo, BIN};
use serde_json::{json, Value};

const SOURCE: &str = r#"{"name": "a", "config": {"connector.class": "FileStreamSource", "file": "/tmp/in", "topic": "t", "db.password": $PW}}"#;

/// A repository declaring connector `a` (with a secret from properties),
/// and a fake Connect running it.
fn setup(state: &str) -> (FakeConnect, Repo) {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    let template = SOURCE.replace(r#""config""#, &format!(r#""state": "{state}", "config""#));
    repo.write("a.yaml", &manifest("a", "", &[("a.json", &template)]));
    repo.write("config/db.properties", "pw=hunter2-secret\n");
    assert_eq!(repo.cli(&fake, &["apply", "."]).status.code(), Some(0));
    (fake, repo)
}

fn offsets() -> Value {
    json!([{"partition": {"filename": "/tmp/in"}, "offset": {"position": 42}}])
}

#[test]
fn offsets_are_read_in_full_for_the_person_who_asks() {
    let (fake, repo) = setup("running");
    fake.set_offsets("a", offsets());
    let out = repo.cli(&fake, &["offsets", "get", "a", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(printed, json!({"offsets": offsets()}));
    let table = stdout(&repo.cli(&fake, &["offsets", "get", "a"]));
    assert!(table.contains(r#"{"filename":"/tmp/in"}"#) && table.contains(r#"{"position":42}"#), "{table}");
}

#[test]
fn a_reset_stops_waits_resets_and_brings_the_connector_back_saying_each_step() {
    let (fake, repo) = setup("running");
    fake.set_offsets("a", offsets());
    fake.clear_requests();
    let out = repo.cli(&fake, &["offsets", "reset", "a", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    for step in [
        "stopping connector a (it is RUNNING)",
        "connector a is STOPPED",
        "The offsets for this connector have been reset successfully (connector a)",
        "bringing connector a back to RUNNING (its declared state)",
    ] {
        assert!(said.contains(step), "{step:?} not in:\n{said}");
    }
    assert_eq!(fake.offsets("a"), Some(json!([])));
    assert_eq!(fake.connector_state("a").as_deref(), Some("RUNNING"));
    let writes: Vec<String> = methods(&fake).into_iter().filter(|m| !m.starts_with("GET")).collect();
    assert_eq!(writes, ["PUT /connectors/a/stop", "DELETE /connectors/a/offsets", "PUT /connectors/a/resume"]);
}

#[test]
fn an_alter_returns_an_undeclared_connector_to_the_state_it_had() {
    let fake = FakeConnect::start();
    fake.insert_connector("loose", &[("connector.class", "FileStreamSource"), ("topic", "t")]);
    fake.set_connector_state("loose", "PAUSED");
    let repo = Repo::new();
    std::fs::create_dir(repo.file("empty")).unwrap();
    repo.write("offsets.json", &json!({"offsets": offsets()}).to_string());
    let out = repo.cli(&fake, &["offsets", "alter", "loose", "empty", "--file", "offsets.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("bringing connector loose back to PAUSED (the state it had)"), "{}", stdout(&out));
    assert_eq!(fake.offsets("loose"), Some(offsets()));
    assert_eq!(fake.connector_state("loose").as_deref(), Some("PAUSED"));
    // A file that is not offsets is refused before anything is stopped.
    repo.write("bad.json", r#"{"offsets": [{"position": 1}]}"#);
    let out = repo.cli(&fake, &["offsets", "alter", "loose", "empty", "--file", "bad.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("must hold {\"offsets\""), "{}", stderr(&out));
}

#[test]
fn a_worker_without_the_offsets_api_is_named_as_too_old() {
    let (fake, repo) = setup("running");
    fake.set_legacy(true);
    let out = repo.cli(&fake, &["offsets", "get", "a"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("reading offsets needs Kafka 3.5 or later"), "{}", stderr(&out));
    let out = repo.cli(&fake, &["offsets", "reset", "a"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("changing offsets needs Kafka 3.6 or later"), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("bringing connector a back to RUNNING"),
        "a failed change still restores: {}",
        stdout(&out)
    );
    assert_eq!(fake.connector_state("a").as_deref(), Some("RUNNING"));
}

#[test]
fn describe_shows_where_it_is_declared_its_tasks_and_offsets_and_no_secret() {
    let (fake, repo) = setup("running");
    fake.set_offsets("a", offsets());
    fake.set_task_state("a", 0, "FAILED");
    let out = repo.cli(&fake, &["describe", "a", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for part in [
        "Declared by:  ConfigMap team/a key a.json",
        "Declared:     RUNNING",
        "State:        RUNNING on 127.0.0.1:8083",
        "FAILED on 127.0.0.1:8083",
        "org.apache.kafka.connect.errors.ConnectException: simulated failure",
        "db.password: [redacted]",
        "topic: t",
        r#"{"filename":"/tmp/in"} -> {"position":42}"#,
    ] {
        assert!(text.contains(part), "{part:?} not in:\n{text}");
    }
    assert!(!text.contains("hunter2"), "{text}");
    let json: Value = serde_json::from_str(&stdout(&repo.cli(&fake, &["describe", "a", ".", "-o", "json"]))).unwrap();
    assert_eq!(json["tasks"][0]["state"], "FAILED");
    assert_eq!(json["config"]["db.password"], "[redacted]");
}

#[test]
fn pausing_against_the_declared_state_says_the_hook_will_put_it_back() {
    let (fake, repo) = setup("running");
    let out = repo.cli(&fake, &["pause", "a", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fake.connector_state("a").as_deref(), Some("PAUSED"));
    assert!(
        stdout(&out)
            .contains("note: ConfigMap team/a key a.json declares it running; the hook will resume it at its next run"),
        "{}",
        stdout(&out)
    );
    let out = repo.cli(&fake, &["resume", "a", "."]);
    assert!(!stdout(&out).contains("note:"), "resuming agrees with the declaration: {}", stdout(&out));
    let out = repo.cli(&fake, &["stop", "nobody", "--cluster", "default"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Unknown connector nobody"), "{}", stderr(&out));
}

#[test]
fn restarts_of_one_task_or_of_the_failed_ones() {
    let (fake, repo) = setup("running");
    fake.clear_requests();
    assert_eq!(repo.cli(&fake, &["restart", "a", "--task", "0"]).status.code(), Some(0));
    assert_eq!(repo.cli(&fake, &["restart", "a", "--failed-only"]).status.code(), Some(0));
    let posts: Vec<String> = methods(&fake).into_iter().filter(|m| m.starts_with("POST")).collect();
    assert_eq!(
        posts,
        ["POST /connectors/a/tasks/0/restart", "POST /connectors/a/restart?includeTasks=true&onlyFailed=true"]
    );
}

fn plugins(fake: &FakeConnect) -> std::process::Output {
    std::process::Command::new(BIN).args(["plugins"]).env_clear().env("CONNECT_URL", fake.url()).output().unwrap()
}

#[test]
fn plugins_are_listed_by_type_and_an_old_worker_is_said() {
    let fake = FakeConnect::start();
    let text = stdout(&plugins(&fake));
    assert!(text.contains("converter         org.apache.kafka.connect.json.JsonConverter"), "{text}");
    assert!(text.contains("transformation    org.apache.kafka.connect.transforms.RegexRouter"), "{text}");
    assert!(!text.contains("note:"), "{text}");
    fake.set_legacy(true);
    let text = stdout(&plugins(&fake));
    assert!(text.contains("note: this worker lists connectors only"), "{text}");
}

#[test]
fn apply_wait_follows_what_it_touched_until_it_is_as_declared() {
    let (fake, repo) = setup("running");
    repo.write("b.yaml", &manifest("b", "", &[("b.json", &SOURCE.replace(r#""a""#, r#""b""#))]));
    let out = repo.cli(&fake, &["apply", ".", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("waiting for cluster default: 1/1 connectors as declared"), "{}", stderr(&out));

    // Paused with a failed task: resumed, but the task stays FAILED.
    fake.set_connector_state("a", "PAUSED");
    fake.set_task_state("a", 0, "FAILED");
    let out = repo.cli(&fake, &["apply", ".", "--wait=10s"]);
    assert_eq!(out.status.code(), Some(1), "{}\n{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("! connector a (cluster default): task 0 FAILED: org.apache.kafka.connect.errors.ConnectException: simulated failure"),
        "{}",
        stdout(&out)
    );

    // A connector whose status never comes: named once the time is up.
    fake.set_status_missing_after_create(1000);
    repo.write("c.yaml", &manifest("c", "", &[("c.json", &SOURCE.replace(r#""a""#, r#""c""#))]));
    let out = repo.cli(&fake, &["apply", "c.yaml", "--wait=2s"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("connector c (cluster default) is not RUNNING after 2s: no status yet"),
        "{}",
        stdout(&out)
    );
}

/// `contrib/kubectl-connectors` against what `kubectl get -o json` prints
/// (a stand-in kubectl here; the end-to-end suite runs the real one).
#[test]
fn the_kubectl_plugin_prints_a_line_per_connector_from_the_status_annotation() {
    let dir = tempfile::tempdir().unwrap();
    let status = json!({"connectors": {"orders-sink": {"key": "a.json", "state": "FAILED", "tasks": "0/1 tasks RUNNING, 1 FAILED", "appliedAt": "2026-12-02T01:00:00Z", "error": "x"}}, "errors": {"b.json": "1:3: expected value"}});
    let list = json!({"items": [
        {"metadata": {"namespace": "team", "name": "orders", "annotations": {"status.connect-operator.io/status": status.to_string()}}},
        {"metadata": {"namespace": "team", "name": "fresh"}},
    ]});
    let kubectl = dir.path().join("kubectl");
    std::fs::write(&kubectl, format!("#!/bin/sh\ncat <<'JSON'\n{list}\nJSON\n")).unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&kubectl).status().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/kubectl-connectors");
    let path = format!("{}:{}", dir.path().display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new("bash").arg(script).env("PATH", path).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<Vec<String>> = stdout(&out)
        .lines()
        .map(|l| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect())
        .collect();
    assert_eq!(rows[0], ["NAMESPACE", "CONFIGMAP", "CONNECTOR", "STATE", "TASKS", "APPLIED", "ERROR"]);
    assert_eq!(
        rows[1],
        ["team", "orders", "orders-sink", "FAILED", "0/1 tasks RUNNING, 1 FAILED", "2026-12-02T01:00:00Z", "x"]
    );
    assert_eq!(rows[2], ["team", "orders", "-", "ERROR", "-", "-", "b.json: 1:3: expected value"]);
    assert_eq!(rows[3], ["team", "fresh", "-", "NOT YET RECONCILED", "-", "-", "-"]);
}

#[test]
fn pause_says_when_the_manifests_cannot_tell_whether_the_hook_will_move_it_back() {
    let (fake, repo) = setup("running");
    // A template that needs a variable this run lacks: whether it declares `a` is unknown.
    repo.write("b.yaml", &manifest("b", "", &[("b.json", r#"{"name": env.NAME, "config": {}}"#)]));
    repo.write("a.yaml", &manifest("a", "", &[("a.json", &SOURCE.replace(r#""a""#, "env.NAME"))]));
    let out = repo.cli(&fake, &["pause", "a", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("connector a is now paused"), "{}", stdout(&out));
    assert!(stderr(&out).contains("warning: ConfigMap team/a key a.json did not render"), "{}", stderr(&out));
    assert!(stdout(&out).contains("note: 2 templates did not render (said above)"), "{}", stdout(&out));
    assert!(stdout(&out).contains("the hook will put back its declared state at its next run"), "{}", stdout(&out));
    assert!(!stderr(&out).contains("pw=") && !stdout(&out).contains("hunter2"));
}

#[test]
fn without_a_path_the_one_connector_commands_read_no_manifests_and_say_so() {
    let (fake, repo) = setup("running");
    // Files that are no manifests of this deployment, as a clone holds (fuzz seeds, fixtures).
    std::fs::create_dir_all(repo.file("fuzz/seeds")).unwrap();
    repo.write(
        "fuzz/seeds/x.yaml",
        &manifest("x", ", enabled: 'false'", &[("x.json", r#"{"name": env.X, "config": {}}"#)]),
    );
    repo.write("fuzz/seeds/y.yaml", &manifest("a", "", &[("a.json", SOURCE)]));
    for command in ["describe", "resume"] {
        let out = repo.cli(&fake, &[command, "a"]);
        assert_eq!(out.status.code(), Some(0), "{command}: {}", stderr(&out));
        assert!(!stderr(&out).contains("warning") && !stderr(&out).contains("error"), "{command}: {}", stderr(&out));
    }
    let out = repo.cli(&fake, &["pause", "a"]);
    assert!(stdout(&out).contains("note: no manifests were named"), "{}", stdout(&out));
}
