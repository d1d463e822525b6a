//! One rule for every setting, as docs/operate.md's Environment section says: a
//! bad value is reported as it was given (`NAME=value: why` from the
//! environment, the flag from the command line), a file's bad content by
//! the file's path, and the run exits 1.

use crate::support::repo::{stderr, Repo};

/// Each setting that takes a value: its variable, its flag, a bad value, and
/// the command line that reads it (empty: the hook).
const SETTINGS: &[(&str, &str, &str, &[&str])] = &[
    ("CONNECT_URL", "--connect-url", "notaurl", &["diff", "."]),
    ("CONNECT_URL", "--connect-url", "notaurl", &[]),
    ("CONNECT_CONCURRENCY", "--connect-concurrency", "0", &["apply", "."]),
    ("RETRY_BUDGET", "--retry-budget", "abc", &["diff", "."]),
    ("RETRY_BUDGET", "--retry-budget", "abc", &[]),
    ("TEMPLATE_TIMEOUT", "--template-timeout", "0s", &["render", "."]),
    ("TEMPLATE_TIMEOUT", "--template-timeout", "abc", &[]),
    ("TEMPLATE_MEMORY_LIMIT", "--template-memory-limit", "lots", &["render", "."]),
    ("TEMPLATE_ENV", "--template-env", "A=1", &["render", "."]),
    ("TEMPLATE_ENV", "--template-env", "A=1", &[]),
    ("AUTO_RESTART_MAX", "--auto-restart-max", "many", &[]),
    ("PRUNE", "--prune", "yes", &[]),
    ("READY_WAIT", "--ready-wait", "soon", &[]),
    ("RESYNC_SCHEDULE", "--resync-schedule", "every 5m", &["--config"]),
];

#[test]
fn a_bad_value_is_named_as_it_was_given_and_exits_1() {
    let repo = Repo::new();
    for (variable, flag, value, args) in SETTINGS {
        let hook = |command: &mut std::process::Command| {
            if args.is_empty() {
                command.env("BINDING_CONTEXT_PATH", repo.file("none.json"));
            }
        };
        let mut command = repo.command(args);
        command.env(variable, value);
        hook(&mut command);
        let out = command.output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{variable}={value} {args:?}: {err}");
        assert!(err.starts_with(&format!("error: {variable}={value}: ")), "{variable}={value} {args:?}: {err}");
        assert!(!err.contains(flag), "{variable}={value} {args:?} names a flag nobody typed: {err}");

        let mut command = repo.command(&[*args, &[*flag, *value]].concat());
        hook(&mut command);
        let out = command.output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{flag} {value} {args:?}: {err}");
        assert!(err.contains(&format!("'{value}' for '{flag}")), "{flag} {value} {args:?}: {err}");
        assert!(!err.contains(&format!("{variable}=")), "{flag} {value} {args:?} names a variable nobody set: {err}");
    }
}

#[test]
fn a_flag_without_a_value_is_refused_as_the_variable() {
    let repo = Repo::new();
    let out = repo.command(&["apply", "."]).env("DRY_RUN", "maybe").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("error: DRY_RUN=maybe: "), "{}", stderr(&out));
}

#[test]
fn a_bad_clusters_file_is_named_by_its_path_whichever_way_it_was_given() {
    let repo = Repo::new();
    repo.write("clusters.yaml", "clusters: 3\n");
    let by_flag = repo.command(&["diff", ".", "--clusters-file", "clusters.yaml"]).output().unwrap();
    let by_variable = repo.command(&["diff", "."]).env("CONNECT_CLUSTERS_FILE", "clusters.yaml").output().unwrap();
    for out in [by_flag, by_variable] {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("the clusters file clusters.yaml is not valid"), "{err}");
        assert!(!err.contains("CONNECT_CLUSTERS_FILE"), "{err}");
    }
}
