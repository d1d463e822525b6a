//! Help and output as a new user reads them: what a command does comes
//! first in its help, a flag is offered only where it means something, and
//! nothing is printed that says nothing (an empty heading, an empty table,
//! a count in the wrong number, a place that is not the cause).

use crate::support;

use std::process::Command;

use crate::support::build::{configmap, schedule, sync, template};
use crate::support::fake_connect::FakeConnect;
use crate::support::repo::{manifest, stderr, stdout, Repo, BIN};
use serde_json::json;

fn help(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).arg("--help").env_clear().output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn the_flags_of_what_a_command_does_come_first_under_options() {
    for (args, flags) in [
        (&["apply"][..], &["--dry-run", "--wait", "--prune", "--restart-failed", "--output"][..]),
        (&["diff"], &["--prune", "--output"]),
        (&["restart"], &["--task", "--failed-only"]),
        (&["offsets", "alter"], &["--file"]),
        (&["status"], &["--output"]),
        (&["render"], &["--show-secrets", "--output"]),
    ] {
        let text = help(args);
        let options = text.split("\nOptions:\n").nth(1).unwrap();
        let first_group = options.find("\nManifests:\n").unwrap_or(options.len());
        for flag in flags {
            let at = options.find(&format!(" {flag}")).unwrap_or(usize::MAX);
            assert!(at < first_group, "{args:?}: {flag} is not under Options: {text}");
        }
    }
}

#[test]
fn allow_empty_is_offered_only_where_it_means_something() {
    for command in ["render", "diff", "apply", "status", "validate"] {
        assert!(help(&[command]).contains("--allow-empty"), "{command}");
    }
    for args in [&["describe"][..], &["pause"], &["resume"], &["stop"], &["restart"], &["offsets", "get"], &["plugins"]]
    {
        assert!(!help(args).contains("--allow-empty"), "{args:?}");
    }
}

#[test]
fn apply_prints_no_heading_for_a_cluster_where_nothing_happened() {
    let default = FakeConnect::start();
    let other = FakeConnect::start();
    let repo = Repo::new();
    declare_sink_a(&repo);
    repo.write("clusters.yaml", &format!("clusters:\n- name: other\n  url: {}\n", other.url()));
    let out = repo.cli(&default, &["apply", ".", "--prune", "--clusters-file", "clusters.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("+ created connector a"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("cluster other:"), "{}", stdout(&out));
}

#[test]
fn offsets_get_without_offsets_says_so_and_prints_no_table() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    declare_sink_a(&repo);
    assert_eq!(repo.cli(&fake, &["apply", "."]).status.code(), Some(0));
    let out = repo.cli(&fake, &["offsets", "get", "a"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "connector a has no committed offsets\n");
}

#[test]
fn diff_prune_on_manifests_that_declare_nothing_names_the_flag_not_the_state_configmap() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    let out = repo.cli(&fake, &["diff", ".", "--prune", "--allow-empty"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--prune refused: the manifests declare no connector"), "{}", stderr(&out));
    assert!(!format!("{}{}", stdout(&out), stderr(&out)).contains("connect-operator-state"));
}

#[test]
fn one_error_is_one_error() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    repo.write("a.yaml", &manifest("a", "", &[("a.json", "{")]));
    let out = repo.cli(&fake, &["diff", ".", "--allow-empty"]);
    assert!(stdout(&out).contains(", 1 error\n"), "{}", stdout(&out));
}

#[test]
fn the_hook_counts_time_waiting_for_connect_apart_from_the_templates() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeConnect::start();
    let cms = [configmap("a", json!({}), &[("a.json", &template("a", ""))])];
    let env = [("CONNECT_URL", fake.url()), ("READY_WAIT", "0s".into())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(support::run::hook(dir.path(), &sync(&cms), &env).status.code(), Some(0));
    // The next resync reuses what templates rendered: it waits for the connector list first.
    fake.set_latency(std::time::Duration::from_millis(1500));
    let out = support::run::hook(dir.path(), &schedule(&cms), &env);
    let log = stderr(&out);
    let line = log.lines().find(|l| l.contains("run finished in")).unwrap();
    let templates = line.split("(templates ").nth(1).and_then(|t| t.split(',').next()).unwrap();
    assert!(templates.ends_with("ms") || templates.ends_with("µs") || templates.ends_with("ns"), "{line}");
}

/// ConfigMap `a` declaring the FileStreamSink connector `a`.
fn declare_sink_a(repo: &Repo) {
    repo.write(
        "a.yaml",
        &manifest(
            "a",
            "",
            &[("a.json", r#"{"name": "a", "config": {"connector.class": "FileStreamSink", "topics": "t"}}"#)],
        ),
    );
}
