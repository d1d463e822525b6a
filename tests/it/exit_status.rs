//! Exit statuses as `terraform plan` has them: 0 nothing to do, 1 any error
//! (a mistyped flag or a bad setting included), 2 `diff` would change
//! something, 3 `status` found connectors not as declared. A CI step that
//! reads 2 as "changes" must never see it for a typo.

use crate::support::fake_connect::FakeConnect;
use crate::support::repo::{manifest, stderr, Repo, BIN};

const ORDERS: &str = r#"{"name": "orders", "config": {"connector.class": "FileStreamSource", "topic": "orders"}}"#;

#[test]
fn a_mistyped_flag_or_a_bad_setting_exits_1_never_as_diff_with_changes() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    repo.write("orders.yaml", &manifest("orders", "", &[("orders.json", ORDERS)]));
    assert_eq!(repo.cli(&fake, &["diff", "."]).status.code(), Some(2), "the manifests would change something");

    for args in [
        &["diff", ".", "--env-fle", "x"][..],
        &["diff", ".", "--output=jsn"],
        &["apply", ".", "--dry-run", "--nope"],
        &["status", ".", "-o", "yml"],
        &["validate", ".", "--prune"],
        &["render", ".", "--show-secret"],
        &["describe"],
        &["offsets"],
        &["completions", "tcsh"],
        &["no-such-command"],
        &["--no-such-flag"],
    ] {
        let out = repo.cli(&fake, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).starts_with("error:"), "{args:?}: {}", stderr(&out));
    }
    for (name, value, command) in [
        ("TEMPLATE_TIMEOUT", "abc", "diff"),
        ("RETRY_BUDGET", "abc", "diff"),
        ("DRY_RUN", "maybe", "apply"),
        ("CONNECT_CONCURRENCY", "0", "apply"),
    ] {
        let out = repo.cli_env(&fake, &[command, "."], &[(name, value)]);
        assert_eq!(out.status.code(), Some(1), "{name}={value} {command}: {}", stderr(&out));
    }
    assert!(fake.writes().is_empty());
}

#[test]
fn help_and_version_exit_0() {
    for args in [&["--help"][..], &["--version"], &["diff", "--help"], &["help", "apply"]] {
        let out = std::process::Command::new(BIN).args(args).env_clear().output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn the_hook_with_a_bad_setting_exits_1() {
    let repo = Repo::new();
    for (name, value) in [("PRUNE", "yes"), ("CONNECT_URL", "notaurl"), ("READY_WAIT", "soon")] {
        let out =
            repo.command(&[]).env("BINDING_CONTEXT_PATH", repo.file("none.json")).env(name, value).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}={value}: {}", stderr(&out));
    }
}
