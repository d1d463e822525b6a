//! The command line as a new user meets it: each test is one of the
//! surprises found by trying it (dry runs that wrote, exit codes that hid
//! failures, empty input that passed, a status that misreported, credentials
//! sent to the wrong cluster, silent retries, over-eager redaction, examples
//! that failed out of the box), run on the built binary.

use crate::support;

use crate::support::fake_connect::{FakeConnect, Fault, Match};
use crate::support::repo::{manifest, stderr, stdout, Repo};
use serde_json::Value;

const ORDERS: &str = r#"{"name": "orders", "config": {"connector.class": "FileStreamSource", "topic": "orders", "tasks.max": 1, "connection.password": $DB_PASSWORD}}"#;

/// A repository declaring one FileStreamSink connector, applied to `fake`.
fn applied_sink(fake: &FakeConnect, name: &str) -> Repo {
    let repo = Repo::new();
    repo.write(&format!("{name}.yaml"), &manifest(name, "", &[(&format!("{name}.json"), &sink(name))]));
    assert_eq!(repo.cli(fake, &["apply", "."]).status.code(), Some(0));
    repo
}

fn sink(name: &str) -> String {
    format!(r#"{{"name": "{name}", "config": {{"connector.class": "FileStreamSink", "topics": "t"}}}}"#)
}

/// `DRY_RUN=true apply` writes nothing to Connect, and `--dry-run apply`, a flag that would mean nothing, is refused.
#[test]
fn a_dry_run_never_writes_and_flags_that_mean_nothing_are_refused() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    repo.write("orders.yaml", &manifest("orders", "", &[("orders.json", ORDERS)]));

    let out = repo.cli_env(&fake, &["apply", "."], &[("DRY_RUN", "true")]);
    assert_eq!(out.status.code(), Some(2), "a dry run exits as diff does: {}", stderr(&out));
    assert!(fake.writes().is_empty(), "DRY_RUN=true apply wrote: {:?}", fake.writes());
    assert!(stdout(&out).contains("+ create    orders"), "{}", stdout(&out));

    // The hook's flag before a subcommand, a Connect flag on render, a hook flag on apply: usage errors.
    for args in [
        &["--dry-run", "apply", "."][..],
        &["render", ".", "--connect-url", "http://x"],
        &["apply", ".", "--auto-restart-max", "3"],
    ] {
        let out = repo.cli(&fake, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("error:"), "{args:?}: {}", stderr(&out));
    }
    assert!(fake.writes().is_empty());

    // The hook's settings with bad values mean nothing to render.
    for (name, value) in [("PRUNE", "yes"), ("AUTO_RESTART_MAX", "many"), ("DRY_RUN", "maybe")] {
        let out = repo.cli_env(&fake, &["render", "."], &[(name, value)]);
        assert_eq!(out.status.code(), Some(0), "{name}={value}: {}", stderr(&out));
    }
    // And where they do mean something, a bad one is a usage error.
    let out =
        repo.command(&[]).env("BINDING_CONTEXT_PATH", repo.file("none.json")).env("PRUNE", "yes").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("yes"), "{}", stderr(&out));

    let out = repo.cli_env(&fake, &["apply", "."], &[("DRY_RUN", "false")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fake.names(), ["orders"]);
}

/// `apply` that fails exits 1, naming each failure; its dry run exits as `diff` does.
#[test]
fn apply_exits_1_naming_each_failure_and_its_dry_run_exits_as_diff() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    let data: Vec<(String, String)> = ["a", "b", "c", "good"].iter().map(|n| (format!("{n}.json"), sink(n))).collect();
    let data: Vec<(&str, &str)> = data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    repo.write("all.yaml", &manifest("all", "", &data));
    let invalid = "Connector configuration is invalid and contains the following 1 error(s):\nMissing required configuration \"file\"";
    for name in ["a", "b", "c"] {
        fake.inject(Match::path("PUT", format!("/connectors/{name}/")), Fault::Status(400, invalid.into()), 1);
    }
    let out = repo.cli(&fake, &["apply", "."]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    for name in ["a", "b", "c"] {
        let line = format!(
            "! failed {name} (ConfigMap team/all key {name}.json, cluster default): PUT {}/connectors/{name}/config: HTTP 400: \
             Connector configuration is invalid",
            fake.url()
        );
        assert!(text.contains(&line), "{line}\nnot in\n{text}");
    }
    assert!(
        text.contains(
            "1 created, 0 updated, 0 deleted, 0 renamed, 0 paused/resumed/stopped/restarted, 0 unchanged, 3 failed, 0 to retry"
        ),
        "{text}"
    );
    assert_eq!(fake.names(), ["good"]);

    assert_eq!(repo.cli(&fake, &["apply", ".", "--dry-run"]).status.code(), Some(2), "three still to create");
    repo.write("all.yaml", &manifest("all", "", &[("good.json", &sink("good"))]));
    let out = repo.cli(&fake, &["apply", ".", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    repo.write("broken.yaml", &manifest("broken", "", &[("b.json", "{")]));
    assert_eq!(repo.cli(&fake, &["apply", ".", "--dry-run"]).status.code(), Some(1), "errors win");
    assert_eq!(repo.cli(&fake, &["apply", "."]).status.code(), Some(1), "a template error fails apply");
}

/// An empty folder, `destnation: connect` and `kind: Configmap` are errors that name the near misses.
#[test]
fn input_without_a_selected_configmap_is_an_error_naming_near_misses() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    std::fs::create_dir(repo.file("empty")).unwrap();
    for command in ["render", "diff", "apply", "validate", "status"] {
        let out = repo.cli(&fake, &[command, "empty"]);
        assert_eq!(out.status.code(), Some(1), "{command}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(
                "no ConfigMap labelled destination=connect in empty (0 files, 0 documents, 0 ConfigMaps read)"
            ),
            "{command}: {}",
            stderr(&out)
        );
    }
    assert_eq!(fake.request_count(), 0, "Connect is never asked about nothing");

    repo.write(
        "typos.yaml",
        &[
            manifest("orders", "", &[("orders.json", ORDERS)]).replace("destination: connect", "destnation: connect"),
            manifest("audit", "", &[("a.json", &sink("audit"))]).replace("kind: ConfigMap", "kind: Configmap"),
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n".to_string(),
        ]
        .join("---\n"),
    );
    let out = repo.cli(&fake, &["diff", "typos.yaml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("(1 file, 3 documents, 1 ConfigMap read) (see the warnings above)"), "{err}");
    assert!(
        err.contains("typos.yaml document 1: ConfigMap team/orders skipped: it has label `destnation: connect`; did you mean `destination: connect`?"),
        "{err}"
    );
    assert!(err.contains("typos.yaml document 2: kind `Configmap` skipped; did you mean `ConfigMap`?"), "{err}");

    let out = repo.cli(&fake, &["diff", "empty", "--allow-empty"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).trim_end().ends_with("No changes: Kafka Connect matches the manifests."), "{}", stdout(&out));
    let out = repo.cli(&fake, &["render", "empty", "--allow-empty"]);
    assert_eq!((out.status.code(), stdout(&out).trim()), (Some(0), "[]"));
}

/// `status` shows disabled connectors and unknown clusters as such (not
/// ABSENT on `default`), a connector whose only task FAILED as failed, with
/// the reason, and exits by health.
#[test]
fn status_tells_the_truth_and_exits_by_health() {
    let fake = FakeConnect::start();
    let repo = applied_sink(&fake, "good");
    let out = repo.cli(&fake, &["status", "."]);
    assert_eq!(out.status.code(), Some(0), "all as declared: {}", stdout(&out));
    assert!(stdout(&out).contains("1 as declared, 0 not as declared, 0 errors"), "{}", stdout(&out));

    repo.write("off.yaml", &manifest("off", ", enabled: \"false\"", &[("off.json", &sink("off"))]));
    let out = repo.cli(&fake, &["status", "."]);
    assert_eq!(out.status.code(), Some(0), "disabled and gone is as declared: {}", stdout(&out));
    let rows: Vec<Value> = serde_json::from_slice(&repo.cli(&fake, &["status", ".", "-o", "json"]).stdout).unwrap();
    let row = |name: &str| rows.iter().find(|r| r["connector"] == name).unwrap().clone();
    assert_eq!((row("off")["state"].as_str(), row("off")["health"].as_str()), (Some("DISABLED"), Some("healthy")));

    fake.set_task_state("good", 0, "FAILED");
    let out = repo.cli(&fake, &["status", "."]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "a failed task is not healthy: {text}");
    assert!(
        text.contains(
            "task 0 FAILED on 127.0.0.1:8083: org.apache.kafka.connect.errors.ConnectException: simulated failure"
        ),
        "the first line of the trace and the worker: {text}"
    );
    assert!(!text.contains("WorkerTask.doRun"), "only the first line: {text}");

    repo.write(
        "elsewhere.yaml",
        &manifest("elsewhere", "", &[("e.json", &sink("elsewhere"))])
            .replace("labels:", "annotations: {connect-operator.io/cluster: nowhere}\n  labels:"),
    );
    repo.write("broken.yaml", &manifest("broken", "", &[("b.json", "{")]));
    let out = repo.cli(&fake, &["status", "."]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "errors win: {text}");
    assert!(text.contains("cluster \"nowhere\" is not configured"), "{text}");
    assert!(!text.contains("ABSENT"), "{text}");
    let rows: Vec<Value> = serde_json::from_slice(&repo.cli(&fake, &["status", ".", "-o", "json"]).stdout).unwrap();
    let elsewhere = rows.iter().find(|r| r["connector"] == "elsewhere").unwrap();
    assert_eq!((elsewhere["state"].as_str(), elsewhere["cluster"].as_str()), (Some("ERROR"), Some("-")));
    let broken = rows.iter().find(|r| r["declared_by"][0] == "team/broken key b.json").unwrap();
    assert_eq!(broken["state"], "ERROR");
    assert!(broken["problems"][0].as_str().unwrap().starts_with("1:"), "{broken}");
}

/// `apply` restarts no FAILED connector unless asked, and `diff` counts no
/// restart as a change.
#[test]
fn the_command_line_restarts_nothing_unless_asked() {
    let fake = FakeConnect::start();
    let repo = applied_sink(&fake, "good");
    fake.set_task_state("good", 0, "FAILED");
    fake.clear_requests();

    let out = repo.cli(&fake, &["diff", "."]);
    assert_eq!(out.status.code(), Some(0), "a failed task is not a change to the manifests: {}", stdout(&out));
    let out = repo.cli(&fake, &["apply", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());

    let out = repo.cli(&fake, &["apply", ".", "--restart-failed"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let writes: Vec<String> = fake.writes().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(writes, ["POST /connectors/good/restart?includeTasks=true&onlyFailed=true"]);
    assert!(
        stderr(&out).contains(
            "restarted connector good and its failed tasks (ConfigMap team/good key good.json, --restart-failed)"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("automatic"), "{}", stderr(&out));
}

/// CONNECT_REST_KEY / CONNECT_REST_SECRET set for a confluent-cloud entry
/// go to that cluster only, never to the default one over plain HTTP.
#[test]
fn each_credential_goes_only_to_its_own_cluster() {
    let (default, cloud) = (FakeConnect::start(), FakeConnect::start());
    let repo = Repo::new();
    repo.write(
        "clusters.yaml",
        &format!(
            "clusters:\n- name: cc.dev\n  flavour: confluent-cloud\n  url: {}\n  auth:\n    basic:\n      username: {{env: CONNECT_REST_KEY}}\n      password: {{env: CONNECT_REST_SECRET}}\n",
            cloud.url()
        ),
    );
    repo.write("local.yaml", &manifest("local", "", &[("l.json", &sink("local"))]));
    repo.write("cloud.yaml", &manifest("cloud", ", destination.cc: cc.dev", &[("c.json", &sink("in-cloud"))]));
    let env = [
        ("CONNECT_CLUSTERS_FILE", "clusters.yaml"),
        ("CONNECT_REST_KEY", "CLOUDKEY"),
        ("CONNECT_REST_SECRET", "cl0ud-s3cret"),
    ];
    let out = repo.cli_env(&default, &["apply", "."], &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!((default.names(), cloud.names()), (vec!["local".to_string()], vec!["in-cloud".to_string()]));
    assert!(default.request_count() > 0);
    for r in default.requests() {
        assert_eq!(r.authorization, None, "the default cluster got credentials: {r:?}");
    }
    let expected = format!("Basic {}", base64_of("CLOUDKEY:cl0ud-s3cret"));
    assert!(cloud.requests().iter().all(|r| r.authorization.as_deref() == Some(expected.as_str())));
    assert!(!stderr(&out).contains("without TLS"), "no credentials go over plain HTTP: {}", stderr(&out));

    // Without a clusters file claiming them, they remain streaming-ops' names for the default cluster's.
    let out =
        repo.cli_env(&default, &["status", "local.yaml"], &[("CONNECT_REST_KEY", "K"), ("CONNECT_REST_SECRET", "S")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        default.requests().last().unwrap().authorization.as_deref(),
        Some(format!("Basic {}", base64_of("K:S")).as_str())
    );
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Retries against an unreachable Connect are said as they happen; errors
/// name the request; an HTML server's page is not printed as if Connect had
/// said it.
#[test]
fn retries_are_said_and_errors_name_the_request() {
    let repo = Repo::new();
    repo.write("orders.yaml", &manifest("orders", "", &[("orders.json", ORDERS)]));
    let busy = FakeConnect::start();
    busy.inject(Match::any(), Fault::Unavailable(503), 100);
    let url = busy.url().replacen("http://", "http://operator:pa55word@", 1);
    let out = repo.command(&["diff", "."]).env("CONNECT_URL", &url).env("RETRY_BUDGET", "2s").output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let retry =
        format!("cannot list connectors (attempt 1): GET {}/connectors?expand=info&expand=status: ", busy.url());
    assert!(err.contains(&retry), "{retry}\nnot in\n{err}");
    assert!(err.contains("; next attempt in ") && err.contains("s of the 2s retry budget left after it"), "{err}");
    assert!(err.contains("gave up after") && err.contains(" attempts within the 2s retry budget"), "{err}");
    assert!(!err.contains("pa55word") && !err.contains("operator:"), "no credentials from the URL: {err}");

    let web = FakeConnect::start();
    web.inject(Match::any(), Fault::Unavailable(404), 100);
    let out = repo.cli(&web, &["diff", "."]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "GET {}/connectors?expand=info&expand=status: HTTP 404 without Kafka Connect's error: a worker \
             answers so while it starts; if it lasts, this URL does not look like a Kafka Connect REST API",
            web.url()
        )),
        "{err}"
    );
    assert!(!err.contains("<html>"), "{err}");
}

/// With a Connect URL where nothing answers, `diff`, `status`, `validate`
/// and `apply` fail at once: at the command line a refused connection or an
/// unknown host on the first attempt is final (an unknown host is not
/// temporary), said once with what to check.
#[test]
fn a_url_where_nothing_answers_fails_at_once_at_the_command_line() {
    let repo = Repo::new();
    repo.write("orders.yaml", &manifest("orders", "", &[("orders.json", ORDERS)]));
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for url in [format!("http://127.0.0.1:{port}"), "http://connect.invalid:8083".to_string()] {
        for args in [&["diff", "."][..], &["status"], &["validate", "."], &["apply", "."]] {
            let started = std::time::Instant::now();
            let mut child = repo
                .command(args)
                .env("CONNECT_URL", &url)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            while child.try_wait().unwrap().is_none() && started.elapsed() < std::time::Duration::from_secs(10) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap();
                panic!("{args:?} against {url} still running after 10 s");
            }
            let out = child.wait_with_output().unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{args:?} {url}: {err}");
            assert!(started.elapsed() < std::time::Duration::from_secs(5), "{args:?} {url}: {:?}", started.elapsed());
            assert!(err.contains("(after 1 attempt)"), "{args:?} {url}: {err}");
            assert!(!err.contains("WARN"), "{args:?} {url}: {err}");
            assert!(err.contains("(cluster default): GET "), "{args:?} {url}: {err}");
            assert!(
                err.contains("nothing answers there: check the URL (--connect-url or CONNECT_URL"),
                "{args:?} {url}: {err}"
            );
        }
    }
}

/// The operator's namespace and non-secret settings are shown, not
/// `[redacted]`, so a reviewer can see a URL change; secrets stay hidden.
#[test]
fn what_is_not_secret_is_shown_and_what_is_stays_hidden() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    repo.write(
        "config/sr.properties",
        "schema.registry.url=https://sr-new.example:8081\nbasic.auth.credentials.source=USER_INFO\nsr.user.info=u:sr-s3cret\n",
    );
    let template = r#"{"name": "orders", "config": {"connector.class": "FileStreamSource", "value.converter.schema.registry.url": $SCHEMA_REGISTRY_URL, "value.converter.basic.auth.credentials.source": $BASIC_AUTH_CREDENTIALS_SOURCE, "value.converter.basic.auth.user.info": $SR_USER_INFO, "key.converter.basic.auth.credentials.source": "URL"}}"#;
    repo.write(
        "orders.yaml",
        &manifest("orders", "", &[("orders.json", template)]).replace("namespace: team", "namespace: connect-operator"),
    );
    fake.insert_connector(
        "orders",
        &[
            ("connector.class", "FileStreamSource"),
            ("value.converter.schema.registry.url", "https://sr-old.example:8081"),
            ("value.converter.basic.auth.credentials.source", "URL"),
            ("value.converter.basic.auth.user.info", "u:old-s3cret"),
            ("key.converter.basic.auth.credentials.source", "USER_INFO"),
        ],
    );
    let env = [
        ("OPERATOR_NAMESPACE", "connect-operator"),
        ("CONNECT_OPERATOR_PUBLIC_VARIABLES", "SCHEMA_REGISTRY_URL, $BASIC_AUTH_CREDENTIALS_SOURCE"),
    ];
    let out = repo.cli_env(&fake, &["diff", "."], &env);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}{}", stderr(&out));
    assert!(text.contains("ConfigMap connect-operator/orders key orders.json"), "{text}");
    assert!(
        text.contains(
            r#"value.converter.schema.registry.url: "https://sr-old.example:8081" -> "https://sr-new.example:8081""#
        ),
        "{text}"
    );
    assert!(text.contains(r#"value.converter.basic.auth.credentials.source: "URL" -> "USER_INFO""#), "{text}");
    assert!(
        text.contains(r#"key.converter.basic.auth.credentials.source: "USER_INFO" -> "URL""#),
        "a setting, not a secret: {text}"
    );
    assert!(text.contains(r#"value.converter.basic.auth.user.info: "[redacted]" -> "[redacted]""#), "{text}");
    assert!(!text.contains("s3cret"), "{text}");

    // Without the list, values from properties files stay secret.
    let out = repo.cli_env(&fake, &["diff", "."], &env[..1]);
    assert!(
        stdout(&out).contains(r#"value.converter.schema.registry.url: "[redacted]" -> "[redacted]""#),
        "{}",
        stdout(&out)
    );

    // The hook's errors name the namespace, which equals a (public) setting's value.
    repo.write(
        "broken.yaml",
        &manifest("broken", "", &[("b.json", "{")]).replace("namespace: team", "namespace: connect-operator"),
    );
    let contexts = serde_json::json!([{"binding": "connectors", "type": "Synchronization", "objects": [
        {"object": serde_yaml_ng::from_str::<Value>(&std::fs::read_to_string(repo.file("broken.yaml")).unwrap()).unwrap()}
    ]}]);
    repo.write("contexts.json", &contexts.to_string());
    let out = repo
        .command(&[])
        .env("BINDING_CONTEXT_PATH", repo.file("contexts.json"))
        .env("CONNECT_URL", fake.url())
        .env("CONNECT_OPERATOR_CONFIG_DIR", repo.file("config"))
        .envs(env)
        .output();
    let err = stderr(&out.unwrap());
    assert!(err.contains("ConfigMap connect-operator/broken key b.json: 1:"), "{err}");
}

/// `diff manifests/examples` works as the README says, including the two
/// ConfigMaps naming the `destination.cc` cluster.
#[test]
fn the_bundled_examples_work_as_the_readme_says() {
    let fake = FakeConnect::start();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let run = |args: &[&str]| {
        std::process::Command::new(support::repo::BIN)
            .args(args)
            .args(["--config-dir", "config/example", "--env-file", "config/example/connect-operator-secrets.env"])
            .args(["--clusters-file", "config/example/clusters.yaml"])
            .current_dir(&root)
            .env_clear()
            .env("CONNECT_URL", fake.url())
            .env("EXAMPLE_CLOUD_CONNECT_URL", fake.url())
            .env("RETRY_BUDGET", "2s")
            .output()
            .unwrap()
    };
    let out = run(&["validate", "manifests/examples/customers-jdbc-source-config.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("1 connector checked, 0 errors"), "{}", stdout(&out));
    // The two Confluent Cloud examples are disabled: never created, so their classes need not be installed.
    let out = run(&["validate", "manifests/examples"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("1 connector checked, 0 errors, 2 disabled (not checked: they are never created)"),
        "{}",
        stdout(&out)
    );
    let out = run(&["diff", "manifests/examples"]);
    assert_eq!(out.status.code(), Some(2), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("+ create    jdbc-customers"), "{}", stdout(&out));
    assert!(stdout(&out).contains("absent    pageviews-datagen"), "disabled examples stay absent: {}", stdout(&out));
    let out = run(&["apply", "manifests/examples"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(fake.names(), ["jdbc-customers"]);
    let out = run(&["diff", "manifests/examples"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let out = run(&["status", "manifests/examples"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(!stdout(&out).contains("GoKafka") && !stderr(&out).contains("GoKafka"));
}

/// The command line's surface: completions exist; a typo is never answered
/// with the hidden renderer child (`tip: ... '__render-worker'`); `PRUNE=yes`
/// is reported as the variable, not a flag nobody typed (`--prune <PRUNE>`);
/// `render` fails when every template failed, and writes YAML too; it says
/// nothing of an absent properties directory (/etc/config/connect-operator).
#[test]
fn the_command_line_surface() {
    let repo = Repo::new();
    let bin = |args: &[&str], env: &[(&str, &str)]| {
        std::process::Command::new(support::repo::BIN)
            .args(args)
            .current_dir(repo.path())
            .env_clear()
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    for shell in ["bash", "zsh", "fish"] {
        let out = bin(&["completions", shell], &[]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for command in ["render", "diff", "apply", "status", "validate", "offsets", "completions"] {
            assert!(script.contains(command), "{shell} completes {command}");
        }
        assert!(!script.contains("__render-worker"), "{shell} completes the hidden worker");
    }
    let out = bin(&["render-worker"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr(&out).contains("__render-worker"), "{}", stderr(&out));

    let out = bin(&[], &[("PRUNE", "yes"), ("BINDING_CONTEXT_PATH", "/nonexistent")]);
    assert_eq!(out.status.code(), Some(1), "the exit-status table of docs/cli.md: {}", stderr(&out));
    assert!(stderr(&out).starts_with("error: PRUNE=yes: "), "{}", stderr(&out));
    assert!(!stderr(&out).contains("--prune"), "{}", stderr(&out));

    repo.write("broken.yaml", &manifest("broken", "", &[("a.json", "{")]));
    let out = bin(&["render", "broken.yaml"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "", "nothing rendered, nothing on stdout");
    assert!(!stderr(&out).contains("no properties directory"), "{}", stderr(&out));

    repo.write("good.yaml", &manifest("good", "", &[("a.json", &sink("good"))]));
    let out = bin(&["render", "good.yaml", "-o", "yaml"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rendered: Vec<Value> = serde_yaml_ng::from_str(&stdout(&out)).unwrap();
    assert_eq!(rendered[0]["name"], "good");

    // Each subcommand shows only the flags it uses, grouped; --connect-concurrency only where writes are parallel.
    for (command, has) in [("apply", true), ("diff", false), ("validate", false), ("pause", false), ("status", false)] {
        let help = stdout(&bin(&[command, "--help"], &[]));
        assert_eq!(help.contains("--connect-concurrency"), has, "{command}: {help}");
        assert!(help.contains("Connect:") && help.contains("Templates:"), "{command} groups its flags: {help}");
    }
    // A bad hook setting with --config is an error, as the exit-status table of docs/cli.md says.
    let out = bin(&["--config"], &[("RESYNC_SCHEDULE", "every 5m")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// The command's stderr on a terminal (a pseudo-terminal), stdout piped:
/// the exit status, stdout, and what the terminal showed.
fn on_a_terminal(mut command: std::process::Command) -> (Option<i32>, String, String) {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    let (mut leader, mut follower) = (0, 0);
    // SAFETY: openpty writes two descriptors; no name, termios or size asked.
    let opened =
        unsafe { libc::openpty(&mut leader, &mut follower, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned here alone.
    let (mut leader, follower) = unsafe { (std::fs::File::from_raw_fd(leader), std::fs::File::from_raw_fd(follower)) };
    command.stderr(follower).stdout(std::process::Stdio::piped());
    let child = command.spawn().unwrap();
    // The terminal's other end closes only when no process holds it.
    drop(command);
    let shown = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        // EIO once the child is gone: the end of what the terminal shows.
        let _ = leader.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    });
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stdout(&out), shown.join().unwrap())
}

/// `apply` at a terminal showed `applying to default: 12/12` and a count,
/// and named no connector it created, updated or deleted.
#[test]
fn apply_at_a_terminal_names_every_connector_it_changed() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    let names: Vec<String> = (1..=12).map(|i| format!("sink-{i:02}")).collect();
    let data: Vec<(String, String)> = names.iter().map(|n| (format!("{n}.json"), sink(n))).collect();
    let data: Vec<(&str, &str)> = data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    repo.write("all.yaml", &manifest("all", "", &data));
    fake.insert_connector("sink-00", &[("connector.class", "FileStreamSink"), ("topics", "t")]);
    fake.insert_connector("sink-01", &[("connector.class", "FileStreamSink"), ("topics", "old")]);
    let mut apply = repo.command(&["apply", ".", "--prune"]);
    apply.env("CONNECT_URL", fake.url()).env("RETRY_BUDGET", "2s");
    let (status, out, shown) = on_a_terminal(apply);
    assert_eq!(status, Some(0), "{out}{shown}");
    assert!(shown.contains("applying to default: 13/13"), "the progress line: {shown:?}");
    assert!(!shown.contains("created connector"), "no log line per write on a terminal: {shown:?}");
    for name in &names[1..] {
        let line = format!("+ created connector {name} (ConfigMap team/all key {name}.json)");
        assert!(out.contains(&line), "{line}\nnot in\n{out}");
    }
    assert!(out.contains("~ updated connector sink-01 (ConfigMap team/all key sink-01.json): changed topics"), "{out}");
    assert!(out.contains("- deleted connector sink-00 ("), "{out}");
    assert!(
        out.ends_with(
            "11 created, 1 updated, 1 deleted, 0 renamed, 0 paused/resumed/stopped/restarted, 0 unchanged, 0 failed, 0 to retry\n"
        ),
        "{out}"
    );
}

/// Errors came in two formats: `2026-12-03T14:12:32Z ERROR ...` from the
/// program and `error: ...` from the command line's parser.
#[test]
fn every_error_has_one_format() {
    let repo = Repo::new();
    repo.write("broken.yaml", &manifest("broken", "", &[("a.json", "{")]));
    let bin = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = repo.command(args);
        command.envs(env.iter().copied()).output().unwrap()
    };
    for (args, env) in [
        (&["render", "nonexistent.yaml"][..], &[][..]),
        (&["render", "broken.yaml"], &[]),
        (&["apply", "--bogus"], &[]),
        (&["status"], &[("CONNECT_URL", "http://127.0.0.1:9")]),
        (&["status"], &[("CONNECT_URL", "not a url")]),
        (&["offsets", "alter", "x", "--file", "nope.json"], &[]),
        (&["apply", "."], &[("CONNECT_CONCURRENCY", "many")]),
    ] {
        let out = bin(args, env);
        let said = stderr(&out);
        assert_ne!(out.status.code(), Some(0), "{args:?}: {said}");
        let errors: Vec<&str> = said.lines().filter(|l| l.to_lowercase().contains("error")).collect();
        assert!(!errors.is_empty(), "{args:?} {env:?}: {said}");
        for line in errors {
            assert!(line.starts_with("error: "), "{args:?} {env:?}: {line}\nin\n{said}");
        }
    }
}

/// The real Connect (4.1.2, in the end-to-end suite) answers 404 to every
/// path for a moment after a restart, before its REST resources are
/// registered: Jetty's own JSON error for GET (no `error_code`), no body at
/// all for PUT. Read as a permanent failure, the PUT's 404 would leave the
/// connector waiting for the next resync, and a DELETE's would read as
/// "already gone". So a 404 without Connect's own JSON error is retried,
/// and never read as "no such connector".
#[test]
fn a_worker_that_is_starting_is_waited_for() {
    let fake = FakeConnect::start();
    fake.insert_connector("old", &[("connector.class", "FileStreamSink"), ("topics", "t")]);
    let repo = Repo::new();
    repo.write("a.yaml", &manifest("a", "", &[("a.json", &sink("a"))]));
    fake.inject(Match::path("PUT", "/connectors/a/config"), Fault::Starting, 2);
    fake.inject(Match::path("DELETE", "/connectors/old"), Fault::Starting, 1);
    fake.inject(Match::path("GET", "/connectors/old/config"), Fault::Starting, 1);
    let out = repo.cli(&fake, &["apply", ".", "--prune"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(fake.names(), ["a"], "created, and the undeclared one deleted: {}", stderr(&out));
    assert!(stderr(&out).contains("HTTP 404 without Kafka Connect's error: a worker answers so while it starts"));
}
