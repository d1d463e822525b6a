//! The end-to-end suite: the hook inside the real shell-operator v1.20.3,
//! against a real Apache Kafka Connect (two workers) and a real Kubernetes
//! API server, as `e2e/up` starts them. Run by `e2e/test` (`--ignored`, one
//! test at a time); under a plain `cargo test` these are ignored, never
//! skipped silently: without `e2e/up`'s environment each one fails.
//!
//! The suite drives only what a user drives: ConfigMaps through the API
//! server, the Deployment's environment (a changed one restarts
//! shell-operator, as it restarts the Pod), Connect workers stopped and
//! started, and the truth read from Connect's REST API, the ConfigMaps,
//! Events, and shell-operator's log, `/metrics` and debug socket. The hook
//! runs only when shell-operator runs it.
//!
//! What the real programs taught us is written beside the test it came from.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::latency::{self, Watch};
use support::real::{configmap, wait_until, Env};
use support::shell_operator::{Deployment, ShellOperator, HOOK};

use support::repo::BIN;

/// A resync every 3 seconds, for the tests that wait for one.
const OFTEN: (&str, &str) = ("RESYNC_SCHEDULE", "*/3 * * * * *");

fn source(env: &Env, name: &str, extra: &str) -> String {
    let file = env.files().join(format!("{name}.txt"));
    std::fs::write(&file, "line 1\nline 2\n").unwrap();
    format!(
        r#"{{"name": "{name}", "config": {{"connector.class": "FileStreamSource", "file": "{}", "topic": ($TOPIC_PREFIX + "{name}"), "tasks.max": 1{extra}}}}}"#,
        file.display()
    )
}

/// The command line against the real Connect, in `dir` (the manifests'
/// folder, the commands' default path), with the e2e properties.
fn command_line(env: &Env, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .args(args)
        .env_clear()
        .env("CONNECT_URL", &env.connect)
        .env("CONNECT_OPERATOR_CONFIG_DIR", env.run_dir.join("config"))
        .current_dir(dir)
        .output()
        .unwrap()
}

/// A worker's id begins with the host it advertises, as CONNECT_URL names it.
fn worker_host(env: &Env) -> String {
    let host = env.connect.trim_start_matches("http://");
    host.rsplit_once(':').map_or(host, |(host, _)| host).to_string()
}

fn running(env: &Env, name: &str) -> bool {
    env.state(name)
        .is_some_and(|(c, tasks)| c == "RUNNING" && !tasks.is_empty() && tasks.iter().all(|t| t == "RUNNING"))
}

fn status_annotation(env: &Env, cm: &str) -> Value {
    let cm = env.configmap(cm).expect("the ConfigMap exists");
    let text = cm["metadata"]["annotations"]["status.connect-operator.io/status"].as_str().unwrap_or("{}").to_string();
    serde_json::from_str(&text).unwrap()
}

/// shell-operator starts with the hook's `--config` and says nothing amiss
/// about it; its debug socket shows the hook, its bindings and the labelled
/// ConfigMaps it holds for the hook.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn shell_operator_takes_the_hook_and_shows_it_on_the_debug_socket() {
    let env = Env::get();
    env.reset();
    env.apply(&configmap("e2e-debug", &[("a.json", &source(&env, "e2e-debug-a", ""))], json!({})));
    let so = ShellOperator::with(&env, &[]);
    so.restart();
    // From its start to the end of the first Synchronization: no warning and
    // no error, and the hook's config was taken. Not the lines of the
    // process the restart stopped: a run the stop ends logs "Hook failed ...
    // signal: terminated", which is the stop's doing, not a fault.
    let amiss: Vec<String> = so
        .log_since_start()
        .iter()
        .filter(|l| matches!(l["level"].as_str(), Some("warn" | "warning" | "error" | "fatal")))
        .map(Value::to_string)
        .collect();
    assert!(amiss.is_empty(), "shell-operator warned or erred at start-up: {amiss:#?}");
    let text = so.log_text();
    assert!(text.contains("\"Hook executed successfully\""), "{text}");

    let hooks = so.debug(&["hook", "list", "-o", "json"]);
    assert!(hooks.contains(HOOK), "hook list: {hooks}");
    let snapshot = so.debug(&["hook", "snapshot", HOOK, "-o", "json"]);
    for wanted in ["connectors", "e2e-debug", "connect-operator-state"] {
        assert!(snapshot.contains(wanted), "{wanted} not in the hook's snapshot: {snapshot}");
    }
    assert!(wait_until(Duration::from_secs(60), || running(&env, "e2e-debug-a")));
    env.delete_configmap("e2e-debug");
    env.delete_connectors("e2e-debug");
}

/// ConfigMaps that exist before shell-operator starts are reconciled at its
/// Synchronization; edits and deletes follow as Events; an edit that renders
/// the same config sends no write; values from the mounted properties files
/// and the environment arrive exactly; no secret reaches shell-operator's
/// log (where the hook's lines go), Events, annotations or the render cache.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn configmaps_are_reconciled_with_exact_values_status_and_events() {
    let env = Env::get();
    env.reset();
    let secret_extra =
        r#", "producer.override.client.id": $E2E_SECRET, "consumer.override.client.id": env.E2E_SECRET_FROM_ENV"#;
    let cm = configmap("e2e-rec", &[("a.json", &source(&env, "e2e-rec-a", secret_extra))], json!({}));
    env.apply(&cm);

    // shell-operator passes the hook's JSON lines on at their own level, and
    // drops them below its LOG_LEVEL: both at debug, for the render cache's line.
    let so = ShellOperator::with(&env, &[("RUST_LOG", "connect_operator=debug"), ("LOG_LEVEL", "debug")]);
    so.restart();
    assert!(so.hook_messages().iter().any(|m| m.contains("created connector e2e-rec-a")), "{:?}", so.hook_messages());
    let config = env.connector_config("e2e-rec-a").expect("created in Connect");
    assert_eq!(config["producer.override.client.id"], "pr0p s3cret=with # hash", "a properties value, exactly");
    assert_eq!(config["consumer.override.client.id"], "env-s3cret value", "an environment value, exactly");
    assert_eq!(config["topic"], "e2e-e2e-rec-a");
    assert!(wait_until(Duration::from_secs(60), || running(&env, "e2e-rec-a")), "{:?}", env.state("e2e-rec-a"));

    // The container restarted by kubelet in the same Pod, its /tmp emptyDir
    // kept: the Synchronization records what Connect reports, and renders
    // nothing new: the config the real Connect returns has the digest the
    // render cache kept.
    let restarts = so.kill();
    so.restarted_by_kubelet(restarts);
    let said = so.hook_messages();
    assert!(said.iter().any(|m| m.contains("templates render what they rendered before")), "{said:?}");
    let cache = so.exec(&["cat", "/tmp/connect-operator/render-cache.json"]);
    let cache = String::from_utf8_lossy(&cache.stdout).into_owned();
    assert!(cache.contains("e2e-rec-a"), "{cache}");
    let status = status_annotation(&env, "e2e-rec");
    assert_eq!(status["connectors"]["e2e-rec-a"]["state"], "RUNNING", "{status}");
    assert_eq!(status["connectors"]["e2e-rec-a"]["tasks"], "1/1 tasks RUNNING", "{status}");
    let events = env.events("e2e-rec");
    assert!(events.iter().any(|e| e.starts_with("ConnectorCreated: created connector e2e-rec-a")), "{events:?}");

    // An edit: one PUT, within seconds.
    let before = env.hook_requests().len();
    let edited = configmap(
        "e2e-rec",
        &[("a.json", &source(&env, "e2e-rec-a", &format!("{secret_extra}, \"batch.size\": 100")))],
        json!({}),
    );
    let started = Instant::now();
    so.after(|| env.apply(&edited));
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(env.connector_config("e2e-rec-a").unwrap()["batch.size"], "100");
    assert_eq!(env.hook_writes_since(before), ["PUT /connectors/e2e-rec-a/config 200"]);
    // An event reads the connector it acts on, not the list of the cluster.
    let read: Vec<String> = env.hook_requests().split_off(before);
    assert!(read.iter().all(|r| !r.starts_with("GET /connectors?")), "{read:?}");
    for request in ["GET /connectors/e2e-rec-a/config 200", "GET /connectors/e2e-rec-a/status 200"] {
        assert!(read.iter().any(|r| r == request), "{request} not in {read:?}");
    }

    // An edit that renders the same config (whitespace): shell-operator runs
    // the hook (the data changed), and the hook writes nothing.
    let before = env.hook_requests().len();
    let same = source(&env, "e2e-rec-a", &format!("{secret_extra}, \"batch.size\": 100")).replace(", ", ",  ");
    so.after(|| env.apply(&configmap("e2e-rec", &[("a.json", &same)], json!({}))));
    assert_eq!(env.hook_writes_since(before), Vec::<String>::new());

    // The hook's own writes (status annotations) trigger no run: the
    // jqFilter leaves them out, and shell-operator fires Modified only when
    // the filter's result changes. The stand-in never ran the jqFilter.
    let runs = so.runs();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(so.runs(), runs, "a run triggered by the hook's own patches");

    // Deleted: the connector goes.
    so.after(|| env.delete_configmap("e2e-rec"));
    assert!(env.names("e2e-rec").is_empty());

    let log = so.log_text();
    let events = env.events("e2e-rec");
    for secret in ["pr0p s3cret", "env-s3cret"] {
        assert!(!log.contains(secret), "secret in shell-operator's log");
        assert!(!cache.contains(secret), "secret in the render cache: {cache}");
        assert!(!events.iter().any(|e| e.contains(secret)), "secret in Events: {events:?}");
    }
}

/// Declared `paused` and `stopped` reach PAUSED and STOPPED in Connect, and
/// back to RUNNING, each through a Modified event.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn declared_states_are_reached_and_left() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[]);
    let declare = |state: &str| {
        let template =
            source(&env, "e2e-state-a", "").replacen("{\"name\"", &format!("{{\"state\": \"{state}\", \"name\""), 1);
        env.apply(&configmap("e2e-state", &[("a.json", &template)], json!({})));
    };
    for state in ["paused", "stopped", "running", "stopped"] {
        so.after(|| declare(state));
        let want = state.to_uppercase();
        so.wait(state, Duration::from_secs(60), || env.state("e2e-state-a").is_some_and(|(c, _)| c == want));
    }
    // Real Connect: a STOPPED connector has no tasks at all (they are torn down, not paused), but the
    // state says STOPPED a moment before the last task's status is gone: `status` may briefly call it
    // not as declared.
    assert!(
        wait_until(Duration::from_secs(30), || env.state("e2e-state-a").is_some_and(|(_, tasks)| tasks.is_empty())),
        "{:?}",
        env.state("e2e-state-a")
    );
    so.after(|| env.delete_configmap("e2e-state"));
    assert!(env.names("e2e-state").is_empty());
}

/// A task that really fails (its file cannot be opened) is restarted by a
/// resync, once, with Events and annotations; the next attempt waits for its
/// backoff; the restart annotation restarts once.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn a_failed_task_is_restarted_and_the_annotation_restarts_once() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[OFTEN]);
    let before = env.hook_requests().len();
    let sink = r#"{"name": "e2e-fail-sink", "config": {"connector.class": "FileStreamSink", "topics": "e2e-fail", "file": "/proc/e2e/cannot-exist"}}"#;
    so.after(|| env.apply(&configmap("e2e-fail", &[("s.json", sink)], json!({}))));
    let restart = "POST /connectors/e2e-fail-sink/restart?includeTasks=true&onlyFailed=true 202";
    // Real Connect answers 202 with a body.
    so.wait("the automatic restart", Duration::from_secs(90), || {
        env.hook_writes_since(before).iter().any(|w| w == restart)
    });
    so.wait("the restart recorded", Duration::from_secs(30), || {
        status_annotation(&env, "e2e-fail")["connectors"]["e2e-fail-sink"]["restarts"] == 1
    });
    let events = env.events("e2e-fail");
    assert!(events.iter().any(|e| e.starts_with("TaskFailed: connector e2e-fail-sink")), "{events:?}");
    assert!(events.iter().any(|e| e.contains("automatic attempt 1 of 10")), "{events:?}");

    // The next attempt waits for its backoff (2 minutes): three more resyncs restart nothing.
    let runs = so.runs();
    so.wait("three resyncs", Duration::from_secs(60), || so.runs().succeeded >= runs.succeeded + 3.0);
    let restarts = env.hook_writes_since(before).iter().filter(|w| w.contains("/restart")).count();
    assert_eq!(restarts, 1, "{:?}", env.hook_writes_since(before));

    // On demand: once per value of the annotation, whatever the resyncs after it.
    let on_demand = "POST /connectors/e2e-fail-sink/restart?includeTasks=true&onlyFailed=false 202";
    env.apply(&configmap("e2e-fail", &[("s.json", sink)], json!({"connect-operator.io/restart": "1"})));
    so.wait("the restart on demand", Duration::from_secs(30), || {
        env.hook_writes_since(before).iter().any(|w| w == on_demand)
    });
    let runs = so.runs();
    so.wait("three resyncs", Duration::from_secs(60), || so.runs().succeeded >= runs.succeeded + 3.0);
    let on_demand_count = env.hook_writes_since(before).iter().filter(|w| *w == on_demand).count();
    assert_eq!(on_demand_count, 1, "restarted twice: {:?}", env.hook_writes_since(before));
    env.delete_configmap("e2e-fail");
    env.delete_connectors("e2e-fail");
}

/// With PRUNE=owned, a connector this operator applied whose ConfigMap was
/// deleted while shell-operator was down is deleted at its next start, its
/// ownership read back from the state ConfigMap on the real API server; one
/// made by hand is left alone.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn prune_owned_uses_the_record_on_the_api_server() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[("PRUNE", "owned")]);
    so.after(|| env.apply(&configmap("e2e-prune", &[("a.json", &source(&env, "e2e-prune-mine", ""))], json!({}))));
    so.wait("the ownership record", Duration::from_secs(30), || {
        env.configmap("connect-operator-state")
            .is_some_and(|state| state["data"]["owned"].as_str().unwrap_or("").contains("e2e-prune-mine"))
    });
    env.create_connector(
        "e2e-prune-manual",
        json!({"connector.class": "FileStreamSource", "file": "/dev/null", "topic": "m"}),
    );
    // Deleted while no Pod runs: only the next Pod's Synchronization can notice.
    so.scale(0);
    env.delete_configmap("e2e-prune");
    so.scale(1);
    assert_eq!(env.names("e2e-prune"), ["e2e-prune-manual"]);
    env.delete_connectors("e2e-prune");
}

/// Both Connect workers down: the hook's run fails, shell-operator retries it
/// (a run that exits 1 stays at the head of the queue, retried after 5 s,
/// then longer, up to 32 s; what that run wrote to the patch file is
/// dropped), nothing is deleted even with PRUNE=all; when the workers are
/// back the edit made meanwhile is applied, once, and nothing is created twice.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn connect_down_is_retried_deletes_nothing_and_converges_when_back() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[("PRUNE", "all"), ("RETRY_BUDGET", "2s")]);
    so.after(|| env.apply(&configmap("e2e-down", &[("a.json", &source(&env, "e2e-down-a", ""))], json!({}))));
    assert_eq!(env.names("e2e-down"), ["e2e-down-a"]);
    let before = env.hook_requests().len();

    for worker in ["connect-1", "connect-2"] {
        env.stop_program(worker, libc::SIGTERM);
    }
    let failed = so.runs().failed;
    env.apply(&configmap("e2e-down", &[("a.json", &source(&env, "e2e-down-a", ", \"batch.size\": 7"))], json!({})));
    so.wait("two failed runs", Duration::from_secs(90), || so.runs().failed >= failed + 2.0);
    // The first run that found Connect down said so in the status (and succeeded, so shell-operator
    // applied it); its annotation outside the status prefix made shell-operator run the hook again.
    let annotations = |env: &Env| env.configmap("e2e-down").unwrap()["metadata"]["annotations"].clone();
    let said = annotations(&env);
    assert_eq!(said["status.connect-operator.io/ready"], "Unknown", "{said}");
    assert_eq!(said["status.connect-operator.io/reason"], "ConnectUnreachable", "{said}");
    assert!(said["connect-operator.io/connect-unreachable-since"].is_string(), "{said}");
    let text = so.log_text();
    assert!(text.contains("Hook failed. Will retry after delay."), "{text}");
    assert!(so.hook_messages().iter().any(|m| m.contains("next attempt in")), "{:?}", so.hook_messages());

    env.up("connect", &[]);
    so.wait("the edit applied", Duration::from_secs(120), || {
        env.connector_config("e2e-down-a").is_some_and(|c| c["batch.size"] == "7")
    });
    so.idle();
    assert_eq!(env.names("e2e-down"), ["e2e-down-a"]);
    let writes = env.hook_writes_since(before);
    assert!(!writes.iter().any(|w| w.starts_with("DELETE ") || w.starts_with("POST /connectors ")), "{writes:?}");
    assert!(wait_until(Duration::from_secs(60), || running(&env, "e2e-down-a")), "{:?}", env.state("e2e-down-a"));
    let current = annotations(&env);
    assert_ne!(current["status.connect-operator.io/ready"], "Unknown", "{current}");
    assert!(current["connect-operator.io/connect-unreachable-since"].is_null(), "{current}");
    env.delete_configmap("e2e-down");
    env.delete_connectors("e2e-down");
}

/// The real API server accepts the manifests, and the Role grants nothing
/// beyond what the hook needs. That it grants enough is checked by every
/// test: shell-operator applies the hook's patches with the operator's token,
/// and a `forbidden` in its log fails the test (`ShellOperator`'s drop).
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn the_manifests_are_accepted_and_the_role_is_enough() {
    let env = Env::get();
    env.reset();
    for dir in ["manifests", "manifests/cluster-wide", "manifests/examples"] {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let out = env.kubectl(&["apply", "--dry-run=server", "-k", root.to_str().unwrap()], None);
        assert!(out.status.success(), "{dir}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // And nothing more than it needs: the operator cannot read Secrets.
    let out = support::real::kubectl(&env.operator_kubeconfig, &env.namespace, &["get", "secrets"], None);
    assert!(String::from_utf8_lossy(&out.stderr).contains("forbidden"));
}

/// The GitOps commands against the real Connect: `validate` shows
/// Connect's own error for a sink without `topics`; diff, apply, diff exit
/// 2, 0, 0.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn the_command_line_against_the_real_connect() {
    let env = Env::get();
    env.reset();
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| command_line(&env, dir.path(), args);
    let write = |template: &str| {
        let cm = configmap("e2e-cli", &[("a.json", template)], json!({}));
        std::fs::write(dir.path().join("cm.json"), cm.to_string()).unwrap();
    };
    write(r#"{"name": "e2e-cli-sink", "config": {"connector.class": "FileStreamSink", "file": "/dev/null"}}"#);
    let out = cli(&["validate"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("connector e2e-cli-sink (ConfigMap e2e-cli key a.json) topics: Must configure one of topics or topics.regex"), "{text}");

    write(&source(&env, "e2e-cli-src", ""));
    assert_eq!(cli(&["diff"]).status.code(), Some(2));
    let out = cli(&["apply"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // Each write named, with where it is declared, so a reviewer can find it.
    assert!(text.contains("+ created connector e2e-cli-src (ConfigMap e2e-cli key a.json)"), "{text}");
    assert_eq!(cli(&["diff"]).status.code(), Some(0));
    assert!(wait_until(Duration::from_secs(60), || running(&env, "e2e-cli-src")));
    let out = cli(&["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    env.delete_connectors("e2e-cli");
}

/// Against the real Kafka Connect 4.1: offsets (KIP-875) read,
/// altered and reset around a stop; describe; pause against the declared
/// state; a task restart; every plugin (KIP-769); validate naming a
/// transformation that is not installed; apply --wait.
///
/// What the real worker answered, kept here: a FileStreamSource's partition
/// is `{"filename": <path>}` and its offset `{"position": <bytes>}`; PATCH
/// and DELETE answer 200 `The offsets for this connector have been altered
/// successfully` / `... reset successfully`; they are refused with 400 until
/// the status says STOPPED with no tasks, which `offsets` waits for.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn day_two_commands_against_the_real_connect() {
    let env = Env::get();
    env.reset();
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| command_line(&env, dir.path(), args);
    let said = |out: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let cm = configmap("e2e-day2", &[("a.json", &source(&env, "e2e-day2-src", ""))], json!({}));
    std::fs::write(dir.path().join("cm.json"), cm.to_string()).unwrap();

    let out = cli(&["apply", ".", "--wait=2m"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(said(&out).contains("1/1 connectors as declared"), "{}", said(&out));
    assert!(running(&env, "e2e-day2-src"));

    let file = env.files().join("e2e-day2-src.txt").display().to_string();
    let offsets = json!({"offsets": [{"partition": {"filename": file}, "offset": {"position": 1000}}]});
    std::fs::write(dir.path().join("offsets.json"), offsets.to_string()).unwrap();
    let out = cli(&["offsets", "alter", "e2e-day2-src", ".", "--file", "offsets.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    for step in [
        "stopping connector e2e-day2-src (it is RUNNING)",
        "connector e2e-day2-src is STOPPED",
        "The offsets for this connector have been altered successfully",
        "bringing connector e2e-day2-src back to RUNNING (its declared state)",
    ] {
        assert!(said(&out).contains(step), "{step:?} not in {}", said(&out));
    }
    let out = cli(&["offsets", "get", "e2e-day2-src", ".", "-o", "json"]);
    let got: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(&out)));
    assert_eq!(got["offsets"][0]["partition"]["filename"], file.as_str(), "{got}");
    assert_eq!(got["offsets"][0]["offset"]["position"], 1000, "{got}");
    let out = cli(&["offsets", "reset", "e2e-day2-src", "."]);
    assert!(said(&out).contains("The offsets for this connector have been reset successfully"), "{}", said(&out));
    assert!(wait_until(Duration::from_secs(60), || running(&env, "e2e-day2-src")), "{:?}", env.state("e2e-day2-src"));

    let out = cli(&["describe", "e2e-day2-src", "."]);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Declared by:  ConfigMap e2e-day2 key a.json")
            && text.contains(&format!("State:        RUNNING on {}", worker_host(&env))),
        "{text}"
    );

    let out = cli(&["pause", "e2e-day2-src", "."]);
    assert!(said(&out).contains("the hook will resume it at its next run"), "{}", said(&out));
    assert!(wait_until(Duration::from_secs(30), || env.state("e2e-day2-src").is_some_and(|(c, _)| c == "PAUSED")));
    assert_eq!(cli(&["resume", "e2e-day2-src", "."]).status.code(), Some(0));
    let out = cli(&["restart", "e2e-day2-src", ".", "--task", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));

    let out = cli(&["plugins"]);
    let text = said(&out);
    assert!(
        text.contains("transformation") && text.contains("org.apache.kafka.connect.transforms.RegexRouter"),
        "{text}"
    );
    assert!(text.contains("converter") && !text.contains("note:"), "a 4.1 worker lists every kind: {text}");

    let routed = source(
        &env,
        "e2e-day2-routed",
        r#", "transforms": "r", "transforms.r.type": "org.apache.kafka.connect.transforms.RegexRoutr", "transforms.r.regex": ".*", "transforms.r.replacement": "x""#,
    );
    let cm = configmap("e2e-day2", &[("a.json", &routed)], json!({}));
    std::fs::write(dir.path().join("cm.json"), cm.to_string()).unwrap();
    let out = cli(&["validate", "."]);
    assert!(
        said(&out).contains("transforms.r.type: `org.apache.kafka.connect.transforms.RegexRoutr` is not an installed transformation; did you mean `org.apache.kafka.connect.transforms.RegexRouter`?"),
        "{}",
        said(&out)
    );
    env.delete_connectors("e2e-day2");
}

/// 200 ConfigMaps applied at once: shell-operator queues 200 Added events
/// and merges them into fewer runs; each connector is created once and all
/// run; shell-operator's next Synchronization (a restart) reads Connect once
/// and writes nothing.
///
/// Learned here: shell-operator applies the patch file one operation at a
/// time through a client limited to 5 a second by default; the run's 400
/// status annotations and Events held its queue for 80 s (the stand-in
/// applied them with kubectl, unthrottled). The Deployment raises the limit
/// (OBJECT_PATCHER_KUBE_CLIENT_QPS), and so does e2e/up.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn two_hundred_connectors_at_once() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[]);
    let names: Vec<String> = (0..200).map(|i| format!("e2e-many-{i:03}")).collect();
    let (before, runs) = (env.hook_requests().len(), so.runs());
    let mut watch = Watch::new(&env);
    let manifests = names.iter().map(|n| configmap(n, &[("c.json", &source(&env, n, ""))], json!({}))).collect();
    env.apply_all(manifests);
    names.iter().for_each(|n| watch.applied(n));
    assert!(watch.until_running(&env, Duration::from_secs(300)), "not all RUNNING");
    so.idle();
    let writes = env.hook_writes_since(before);
    assert_eq!(writes.len(), 200, "one create each: {writes:?}");
    let hook_runs = so.runs().succeeded - runs.succeeded;
    assert!(hook_runs < 200.0, "shell-operator merges queued events: {hook_runs} runs");
    eprintln!("e2e: {}", latency::report(&env, "200 applied at once", &mut watch));
    eprintln!("e2e: 200 ConfigMaps at once took {hook_runs} hook runs ({runs:?} before, {:?} after)", so.runs());

    let before = env.hook_requests().len();
    so.restart();
    let requests: Vec<String> = env.hook_requests().split_off(before);
    assert_eq!(env.hook_writes_since(before), Vec::<String>::new());
    assert_eq!(requests.len(), 1, "one bulk read: {requests:?}");
    env.reset();
}

/// 50 ConfigMaps applied one by one, each once the one before runs: the
/// latency of a single change, with nothing queued before it.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn fifty_connectors_one_by_one() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[]);
    let mut watch = Watch::new(&env);
    for i in 0..50 {
        let name = format!("e2e-one-{i:02}");
        env.apply(&configmap(&name, &[("c.json", &source(&env, &name, ""))], json!({})));
        watch.applied(&name);
        assert!(watch.until_running(&env, Duration::from_secs(60)), "{name} not RUNNING");
    }
    so.idle();
    eprintln!("e2e: {}", latency::report(&env, "50 applied one by one", &mut watch));
    env.reset();
}

/// 50 ConfigMaps `PREFIX-NN` in one kubectl apply, each declaring its
/// connector with `batch.size`; their connectors' names.
fn declare_fifty(env: &Env, prefix: &str, batch: u32) -> Vec<String> {
    let names: Vec<String> = (0..50).map(|i| format!("{prefix}-{i:02}")).collect();
    let extra = format!(", \"batch.size\": {batch}");
    env.apply_all(names.iter().map(|n| configmap(n, &[("c.json", &source(env, n, &extra))], json!({}))).collect());
    names
}

/// Exactly `names` among the connectors named `PREFIX...`, each with its `batch.size`.
fn as_declared(env: &Env, prefix: &str, names: &[String], batch: u32) -> bool {
    let batch = batch.to_string();
    env.names(prefix) == names
        && names.iter().all(|n| env.connector_config(n).is_some_and(|c| c["batch.size"] == *batch))
}

/// A worker killed (SIGKILL) in the middle of applying 50 connectors, then
/// started again: every connector is there once, as declared. The hook talks
/// to connect-1, which forwards creates to the leader: a run that a dying
/// leader fails is retried by shell-operator; mostly none fails (the group
/// rebalances onto connect-1 while the hook retries its 409s).
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn a_worker_killed_mid_apply_loses_and_duplicates_nothing() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[("CONNECT_CONCURRENCY", "2")]);
    let names = declare_fifty(&env, "e2e-kill", 3);
    so.wait("10 created", Duration::from_secs(60), || env.names("e2e-kill").len() >= 10);
    // SIGKILL, as a node dying would: no graceful leave of the group.
    env.stop_program("connect-2", libc::SIGKILL);
    env.up("connect", &[]);
    so.wait("all 50 as declared", Duration::from_secs(240), || as_declared(&env, "e2e-kill", &names, 3));
    so.idle();
    let runs = so.runs();
    eprintln!("e2e: the worker kill: {runs:?} hook runs");
    env.reset();
}

/// shell-operator killed (SIGKILL, with the hook it runs) in the middle of
/// applying 50 connectors and started again by kubelet: its Synchronization
/// converges, nothing lost, nothing created twice.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn shell_operator_killed_mid_apply_loses_and_duplicates_nothing() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[("CONNECT_CONCURRENCY", "1")]);
    let before = env.hook_requests().len();
    let names = declare_fifty(&env, "e2e-sok", 5);
    so.wait("10 created", Duration::from_secs(60), || env.names("e2e-sok").len() >= 10);
    let restarts = so.kill();
    let at_kill = env.names("e2e-sok").len();
    assert!(at_kill < 50, "all 50 were created before the kill");
    so.restarted_by_kubelet(restarts);
    so.wait("all 50 as declared", Duration::from_secs(180), || as_declared(&env, "e2e-sok", &names, 5));
    so.idle();
    // The hook creates with `PUT .../config` (201), which a retry cannot duplicate.
    let creates = env.hook_writes_since(before).into_iter().filter(|w| w.ends_with("/config 201")).count();
    assert_eq!(creates, 50, "{at_kill} created before the kill; one create each in all");
    env.reset();
}

/// The status columns people read with kubectl, from the status annotation
/// shell-operator wrote, on the real API server: the `-o custom-columns`
/// recipe of docs/operate.md and `contrib/kubectl-connectors`.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn the_status_columns_read_the_annotation_on_the_real_api_server() {
    let env = Env::get();
    env.reset();
    // The create's run sees the tasks starting; a resync sees them RUNNING.
    let so = ShellOperator::with(&env, &[OFTEN]);
    env.apply(&configmap("e2e-cols", &[("a.json", &source(&env, "e2e-cols-a", ""))], json!({})));
    let columns =
        "custom-columns=NAME:.metadata.name,CONNECTORS:.metadata.annotations.status\\.connect-operator\\.io/summary";
    let mut text = String::new();
    so.wait("the summary column", Duration::from_secs(90), || {
        let out = env.kubectl(&["get", "configmaps", "-l", "destination=connect", "-o", columns], None);
        text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().any(|l| l.starts_with("e2e-cols") && l.contains("e2e-cols-a: RUNNING (1/1 tasks RUNNING)"))
    });

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/kubectl-connectors");
    let out = std::process::Command::new("bash")
        .args([script, "--kubeconfig", &env.admin_kubeconfig, "-n", &env.namespace])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let row = text.lines().find(|l| l.contains("e2e-cols-a")).unwrap_or_else(|| panic!("{text}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells.get(..4), Some(&[env.namespace.as_str(), "e2e-cols", "e2e-cols-a", "RUNNING"][..]), "{text}");
    env.delete_configmap("e2e-cols");
    env.delete_connectors("e2e-cols");
}

/// The offsets annotation, through shell-operator: the hook stops the
/// connector, alters its offsets, brings it back, and shell-operator writes
/// a listing into `<configmap>-offsets` with the operator's own token (the
/// Role's create and patch on ConfigMaps are enough).
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn the_offsets_annotation_against_the_real_programs() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[]);
    let data = [("a.json", source(&env, "e2e-off-a", ""))];
    let data: Vec<(&str, &str)> = data.iter().map(|(k, v)| (*k, v.as_str())).collect();
    so.after(|| env.apply(&configmap("e2e-off", &data, json!({}))));
    assert!(wait_until(Duration::from_secs(60), || running(&env, "e2e-off-a")), "{:?}", env.state("e2e-off-a"));

    let file = env.files().join("e2e-off-a.txt").display().to_string();
    // Past the end of the 14-byte file: the source reads nothing more, so the
    // offset stays what was set (offset.flush.interval.ms is 1 s here).
    let wanted = json!({"offsets": [{"partition": {"filename": file}, "offset": {"position": 1000}}]});
    let annotations =
        json!({"connect-operator.io/offsets": "alter", "connect-operator.io/offsets-alter": wanted.to_string()});
    so.after(|| env.apply(&configmap("e2e-off", &data, annotations)));
    let said = so.hook_messages();
    assert!(said.iter().any(|m| m.contains("altered the offsets of connector e2e-off-a")), "{said:?}");
    let offsets = env.connect_get("/connectors/e2e-off-a/offsets").unwrap_or_default();
    assert_eq!(offsets["offsets"][0]["offset"]["position"], 1000, "{offsets}");
    assert!(
        wait_until(Duration::from_secs(60), || running(&env, "e2e-off-a")),
        "back to RUNNING: {:?}",
        env.state("e2e-off-a")
    );

    so.after(|| env.apply(&configmap("e2e-off", &data, json!({"connect-operator.io/offsets": "list"}))));
    let listing = env.configmap("e2e-off-offsets").expect("the listing ConfigMap, created with the operator's token");
    assert!(listing["data"]["e2e-off-a.json"].as_str().unwrap_or_default().contains(&file), "{listing}");
    let events = env.events("e2e-off");
    assert!(
        events.iter().any(|e| e.starts_with("OffsetsAltered:"))
            && events.iter().any(|e| e.starts_with("OffsetsListed:")),
        "{events:?}"
    );
    assert!(!events.iter().any(|e| e.contains("position")), "offsets never in Events: {events:?}");
    env.delete_configmap("e2e-off-offsets");
    env.delete_configmap("e2e-off");
    env.delete_connectors("e2e-off");
}

/// The hook's metrics on shell-operator's `/metrics/hooks`, with the names
/// and labels docs/operate.md documents (shell-operator adds `hook`), changing
/// when connectors change, read through the metrics port as Prometheus reads
/// them; the profiler shell-operator serves beside them does not pass.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn the_hook_metrics_are_served_by_shell_operator() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[OFTEN]);
    let status = |url: String| {
        let response = ureq::get(&url).config().http_status_as_error(false).build().call();
        response.map_or(0, |r| r.status().as_u16())
    };
    // shell-operator's own server, on 127.0.0.1 inside the Pod, serves its
    // profiler; the Service's port, outside the Pod, does not pass it on.
    for path in ["/debug/pprof/", "/debug/pprof/cmdline", "/discovery"] {
        let inside =
            so.exec(&["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", &format!("http://127.0.0.1:9114{path}")]);
        assert_eq!(String::from_utf8_lossy(&inside.stdout), "200", "shell-operator serves {path}");
        assert_eq!(status(format!("{}{path}", env.metrics_url)), 404, "{path} passed the metrics port");
    }
    for path in ["/healthz", "/metrics", "/metrics/hooks"] {
        assert_eq!(status(format!("{}{path}", env.metrics_url)), 200, "the Service's port answers {path}");
    }
    let count = |name: &str, state: &str| {
        support::shell_operator::sum(
            &so.hook_metrics(),
            name,
            &[("hook", HOOK), ("cluster", "default"), ("state", state)],
        )
    };
    let (running_before, paused_before) =
        (count("connect_operator_connectors", "RUNNING"), count("connect_operator_connectors", "PAUSED"));
    let data = [("a.json", source(&env, "e2e-met-a", "")), ("b.json", source(&env, "e2e-met-b", ""))];
    let data: Vec<(&str, &str)> = data.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.apply(&configmap("e2e-met", &data, json!({})));
    so.wait("two more RUNNING", Duration::from_secs(90), || {
        count("connect_operator_connectors", "RUNNING") == running_before + 2.0
            && count("connect_operator_tasks", "RUNNING") >= 2.0
    });

    let paused = source(&env, "e2e-met-b", "").replacen("{\"name\"", "{\"state\": \"paused\", \"name\"", 1);
    env.apply(&configmap("e2e-met", &[("a.json", data[0].1), ("b.json", &paused)], json!({})));
    so.wait("one RUNNING fewer, one PAUSED more", Duration::from_secs(90), || {
        count("connect_operator_connectors", "RUNNING") == running_before + 1.0
            && count("connect_operator_connectors", "PAUSED") == paused_before + 1.0
    });
    let text = so.hook_metrics();
    for name in [
        "connect_operator_run_applied",
        "connect_operator_run_deleted",
        "connect_operator_run_restarted",
        "connect_operator_run_state_changes",
        "connect_operator_run_failed",
        "connect_operator_template_errors",
        "connect_operator_drift_repaired",
    ] {
        let labelled = |l: &&str| l.contains("cluster=\"default\"") && l.contains(&format!("hook=\"{HOOK}\""));
        let series: Vec<&str> = text.lines().filter(|l| l.starts_with(&format!("{name}{{"))).collect();
        assert!(!series.is_empty() && series.iter().all(labelled), "{name} with cluster and hook: {text}");
    }
    // shell-operator's own counters of the hook's runs, which the PrometheusRule reads.
    assert!(so.metric("shell_operator_hook_run_success_total", &[("binding", "resync")]) >= 1.0, "{}", so.metrics());
    env.delete_configmap("e2e-met");
    env.delete_connectors("e2e-met");
}

/// 50 edits within two seconds, on one ConfigMap and then across 25:
/// shell-operator merges what queued up into fewer runs (and skips what the
/// jqFilter says did not change), and the end state is the last edit of each.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn fifty_quick_edits_end_at_the_last_of_each() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[]);
    let data = |name: &str, size: usize| json!({"c.json": source(&env, name, &format!(", \"batch.size\": {size}"))});
    let names: Vec<String> = (0..25).map(|i| format!("e2e-burst-{i:02}")).collect();
    let all: Vec<String> = ["e2e-burst-one".to_string()].into_iter().chain(names.iter().cloned()).collect();
    so.after(|| {
        env.apply_all(all.iter().map(|n| configmap(n, &[("c.json", &source(&env, n, ""))], json!({}))).collect());
    });

    // One ConfigMap, 50 updates, each a PATCH of its own.
    let before = so.runs();
    let started = Instant::now();
    (1..=50).for_each(|i| env.patch_data("e2e-burst-one", &data("e2e-burst-one", i)));
    let took = started.elapsed();
    so.wait("the last edit", Duration::from_secs(60), || {
        env.connector_config("e2e-burst-one").is_some_and(|c| c["batch.size"] == "50")
    });
    so.idle();
    let one = so.runs().succeeded - before.succeeded;
    eprintln!("e2e: 50 edits of one ConfigMap in {took:?}: {one} hook runs");
    assert!(took < Duration::from_secs(2), "the edits took {took:?}");
    assert!(one < 50.0, "{one} runs for 50 edits");

    // 25 ConfigMaps, two edits each, interleaved.
    let before = so.runs();
    let started = Instant::now();
    for size in [1, 2] {
        names.iter().for_each(|n| env.patch_data(n, &data(n, size)));
    }
    let took = started.elapsed();
    so.wait("the last edit of each", Duration::from_secs(120), || {
        names.iter().all(|n| env.connector_config(n).is_some_and(|c| c["batch.size"] == "2"))
    });
    so.idle();
    let many = so.runs().succeeded - before.succeeded;
    eprintln!("e2e: 50 edits across 25 ConfigMaps in {took:?}: {many} hook runs");
    assert!(took < Duration::from_secs(2), "the edits took {took:?}");
    assert!(many < 50.0, "{many} runs for 50 edits");
    env.reset();
}

/// Drift made behind the hook's back through the REST API (a config
/// changed with PUT, a connector deleted, one paused) is put back by the
/// resync schedule within its interval.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn drift_is_repaired_by_the_resync_schedule() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[OFTEN]);
    let data: Vec<(String, String)> =
        ["a", "b", "c"].iter().map(|k| (format!("{k}.json"), source(&env, &format!("e2e-drift-{k}"), ""))).collect();
    let data: Vec<(&str, &str)> = data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.apply(&configmap("e2e-drift", &data, json!({})));
    let all = ["e2e-drift-a", "e2e-drift-b", "e2e-drift-c"];
    so.wait("three RUNNING", Duration::from_secs(90), || all.iter().all(|n| running(&env, n)));
    so.idle();

    let mut changed = env.connector_config("e2e-drift-a").unwrap();
    changed["batch.size"] = json!("999");
    env.create_connector("e2e-drift-a", changed);
    assert!(ureq::delete(&format!("{}/connectors/e2e-drift-b", env.connect)).call().is_ok());
    assert!(ureq::put(&format!("{}/connectors/e2e-drift-c/pause", env.connect)).send_empty().is_ok());
    let started = Instant::now();
    so.wait("the drift repaired", Duration::from_secs(60), || {
        env.connector_config("e2e-drift-a").is_some_and(|c| c.get("batch.size").is_none())
            && all.iter().all(|n| running(&env, n))
    });
    eprintln!("e2e: drift repaired {:?} after it was made (resync every 3 s)", started.elapsed());
    env.delete_configmap("e2e-drift");
    env.delete_connectors("e2e-drift");
}

/// The streaming-ops ConfigMaps (`shared/examples/streaming-ops`), applied
/// unchanged but for the classes this Connect does not have, with their
/// properties files mounted one by one as streaming-ops mounted them
/// (subPath) and their Secret's variables in the environment: the values
/// reach Connect as docs/upgrading.md promises.
///
/// What is put in: the FileStream source for the JDBC source, with the
/// `topic` it requires, and the JSON converter for Avro's. Connect 4.1 does
/// not offer connect-runtime's `MockSourceConnector`, which needs no
/// setting: it answers 400 "Failed to find any class that implements
/// Connector", listing only the plugins on `plugin.path`.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn the_streaming_ops_configmaps_work_unchanged() {
    let env = Env::get();
    env.reset();
    // streaming-ops mounted each properties file from a Secret of its own;
    // here one Secret holds the five files, mounted as docs/upgrading.md says to
    // add a Secret: a directory of its own under /etc/config/connect-operator.
    let mut secret = vec!["create", "secret", "generic", "e2e-streaming-ops-properties"];
    let files: Vec<String> = [
        ("bootstrap-servers.properties", "bootstrap.servers=pkc-xxxxx.us-west-2.aws.confluent.cloud:9092"),
        ("schema-registry-url.properties", "schema.registry.url=https://psrc-xxxxx.us-east-2.aws.confluent.cloud"),
        ("schema-registry-basic-auth-user-info.properties", "schema.registry.basic.auth.user.info=SRKEY:SRSECRET"),
        ("shared-client.properties", "basic.auth.credentials.source=USER_INFO"),
        (
            "sasl-jaas-config.properties",
            r#"sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="KEY" password="SECRET";"#,
        ),
    ]
    .iter()
    .map(|(file, line)| format!("--from-literal={file}={line}\n"))
    .collect();
    secret.extend(files.iter().map(String::as_str));
    let _ = env.kubectl(&["delete", "secret", "e2e-streaming-ops-properties", "--ignore-not-found"], None);
    let out = env.kubectl(&secret, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/streaming-ops");
    let secrets = std::fs::read_to_string(examples.join("example-connect-operator-secrets.props")).unwrap();
    let overrides: Vec<(&str, &str)> = secrets.lines().filter_map(|l| l.split_once('=')).collect();
    let patch = r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "connect-operator"},
      "spec": {"template": {"spec": {
        "containers": [{"name": "connect-operator", "volumeMounts": [{"name": "streaming-ops-properties",
            "mountPath": "/etc/config/connect-operator/streaming-ops-properties/", "readOnly": true}]}],
        "volumes": [{"name": "streaming-ops-properties",
            "secret": {"secretName": "e2e-streaming-ops-properties", "defaultMode": 288}}]}}}}"#;
    let so = ShellOperator::deployed(&env, &Deployment { env: &overrides, patch, ..Deployment::default() });
    let _ = ureq::delete(&format!("{}/connectors/jdbc-customers", env.connect)).call();

    let mut manifests = String::new();
    for file in ["customers-jdbc-source-config.yaml", "datagen-source-config.yaml", "orders-bigquery-sink-config.yaml"]
    {
        let text = std::fs::read_to_string(examples.join(file)).unwrap();
        let text = text
            .replace(
                r#""connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector","#,
                r#""connector.class": "FileStreamSource", "topic": "e2e-customers","#,
            )
            .replace("io.confluent.connect.avro.AvroConverter", "org.apache.kafka.connect.json.JsonConverter");
        manifests.push_str(&format!("---\n{text}\n"));
    }
    so.after(|| {
        let out = env.kubectl(&["apply", "-f", "-"], Some(&manifests));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    });
    let config =
        env.connector_config("jdbc-customers").unwrap_or_else(|| panic!("not created: {:?}", so.hook_messages()));
    for (key, value) in [
        ("name", "jdbc-customers"),
        ("connection.user", "root"),
        ("connection.password", "GoKafka"),
        ("value.converter.schema.registry.url", "https://psrc-xxxxx.us-east-2.aws.confluent.cloud"),
        ("value.converter.basic.auth.credentials.source", "USER_INFO"),
        ("value.converter.schema.registry.basic.auth.user.info", "SRKEY:SRSECRET"),
        ("transforms", "InsertKey, ExtractId, CastLong, SetValueSchema"),
        ("transforms.ExtractId.type", "org.apache.kafka.connect.transforms.ExtractField$Key"),
        ("topic.prefix", ""),
        ("tasks.max", "1"),
    ] {
        assert_eq!(config[key], value, "{key}");
    }
    so.wait("jdbc-customers RUNNING", Duration::from_secs(60), || running(&env, "jdbc-customers"));
    // `enabled: "false"` with `destination.cc` and no clusters file: left
    // alone and said, never sent to the default cluster.
    for name in ["pageviews-datagen", "orders-bq-sink"] {
        assert!(env.connector_config(name).is_none(), "{name} reached the default cluster");
    }
    for cm in ["datagen-source-connector", "orders-bigquery-sink-connector"] {
        let status = env.configmap(cm).expect("applied").to_string();
        assert!(status.contains("is not configured"), "{cm}: {status}");
    }
    let log = so.log_text();
    for secret in ["GoKafka", "SRSECRET", "\"SECRET"] {
        assert!(!log.contains(secret), "{secret} in shell-operator's log");
    }
    for cm in ["customers-jdbc-source-connector", "datagen-source-connector", "orders-bigquery-sink-connector"] {
        env.delete_configmap(cm);
    }
    so.idle();
    let _ = ureq::delete(&format!("{}/connectors/jdbc-customers", env.connect)).call();
    let _ = env.kubectl(&["delete", "secret", "e2e-streaming-ops-properties"], None);
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Pod as kubelet runs it: admitted where the restricted Pod Security
/// Standard is enforced, running as UID 65532 with a read-only root file
/// system, Ready through its real probes and still Ready, never restarted,
/// three minutes on, with no probe failure among kubelet's Events; and
/// shell-operator's JSON log, with the hook's lines in it, through
/// `kubectl logs`.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn the_pod_runs_restricted_and_stays_ready_through_its_probes() {
    let env = Env::get();
    env.reset();
    env.apply(&configmap("e2e-pod", &[("a.json", &source(&env, "e2e-pod-a", ""))], json!({})));
    let so = ShellOperator::with(&env, &[]);
    // A new Pod, so that the test sees its whole life.
    so.restart();
    let pod = so.pod_name().expect("a Ready Pod");
    let started = Instant::now();

    let namespace = env.kubectl(&["get", "namespace", &env.namespace, "-o", "json"], None);
    let namespace: Value = serde_json::from_slice(&namespace.stdout).unwrap();
    assert_eq!(namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted");
    // A Pod with no securityContext, which the baseline standard admits.
    let plain = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "e2e-plain"},
        "spec": {"containers": [{"name": "c", "image": "localhost/connect-operator:e2e"}]}});
    let refused = env.kubectl(&["apply", "--dry-run=server", "-f", "-"], Some(&plain.to_string()));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && said.contains("violates PodSecurity \"restricted:latest\""), "{said}");

    assert_eq!(stdout(&so.exec(&["id", "-u"])).trim(), "65532");
    let written = so.exec(&["touch", "/e2e-written"]);
    let said = String::from_utf8_lossy(&written.stderr);
    assert!(!written.status.success() && said.contains("Read-only file system"), "{said}");
    assert!(so.exec(&["touch", "/tmp/e2e-written"]).status.success(), "the /tmp emptyDir is writable");
    assert!(wait_until(Duration::from_secs(60), || running(&env, "e2e-pod-a")), "{:?}", env.state("e2e-pod-a"));

    let logs = env.kubectl(&["logs", "deployment/connect-operator", "-c", "connect-operator"], None);
    assert!(logs.status.success(), "{}", String::from_utf8_lossy(&logs.stderr));
    // shell-operator prints its version as plain text first; every line after is JSON.
    let text = stdout(&logs);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("shell-operator v1.20.3"));
    let lines: Vec<Value> = lines.map(|l| serde_json::from_str(l).unwrap_or_default()).collect();
    assert!(lines.iter().all(|l| l["msg"].is_string()), "not all JSON: {text}");
    assert!(lines.iter().any(|l| l["hook"] == HOOK && l["proxyJsonLog"] == true), "no line of the hook's: {text}");

    let observed = |what: &str| {
        let current = so.pods().into_iter().find(|p| p["metadata"]["name"] == pod.as_str()).expect("the Pod");
        let statuses = current["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
        assert_eq!(statuses.len(), 2, "{what}: {current}");
        for status in statuses {
            assert_eq!(status["ready"], true, "{what}: {status}");
            assert_eq!(status["restartCount"], 0, "{what}: {status}");
        }
    };
    while started.elapsed() < Duration::from_secs(180) {
        observed(&format!("after {:?}", started.elapsed()));
        std::thread::sleep(Duration::from_secs(5));
    }
    observed("after three minutes");
    let events =
        env.kubectl(&["get", "events", "--field-selector", &format!("involvedObject.name={pod}"), "-o", "json"], None);
    let events: Value = serde_json::from_slice(&events.stdout).unwrap();
    let amiss: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "Warning" && e["reason"] != "MissingClusterDNS")
        .collect();
    assert!(amiss.is_empty(), "kubelet warned about the Pod: {amiss:#?}");
    env.delete_configmap("e2e-pod");
    env.delete_connectors("e2e-pod");
}

/// Writes the properties Secret the Deployment mounts: e2e/properties, and
/// `e2e.rotated` when given.
fn properties_secret(env: &Env, rotated: Option<&str>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/properties");
    let mut args = vec![
        "create".to_string(),
        "secret".into(),
        "generic".into(),
        "connect-operator-properties".into(),
        format!("--from-file={}", dir.display()),
        "--dry-run=client".into(),
        "-o".into(),
        "json".into(),
    ];
    if let Some(value) = rotated {
        args.push(format!("--from-literal=rotated.properties=e2e.rotated={value}\n"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let secret = env.kubectl(&args, None);
    assert!(secret.status.success(), "{}", String::from_utf8_lossy(&secret.stderr));
    let out = env.kubectl(&["apply", "-f", "-"], Some(&stdout(&secret)));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The properties Secret as kubelet mounts it (its `..data` layout, which
/// the hook reads once): a value changed in the Secret reaches the next run
/// of the same Pod, never restarted.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn a_changed_secret_reaches_the_next_run_without_a_restart() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[OFTEN]);
    let pod = so.pod_name().expect("a Ready Pod");
    let dir = "/etc/config/connect-operator/connect-operator-properties/";
    let listed = stdout(&so.exec(&["ls", "-a", dir]));
    for entry in ["..data", "e2e.properties"] {
        assert!(listed.lines().any(|l| l == entry), "{entry} not in {listed}");
    }
    let seen = |value: &str| {
        let file = format!("{dir}rotated.properties");
        so.wait(&format!("kubelet's copy of the Secret says {value}"), Duration::from_secs(180), || {
            stdout(&so.exec(&["cat", &file])).contains(value)
        });
    };
    properties_secret(&env, Some("first"));
    seen("first");
    let template = source(&env, "e2e-rot-a", r#", "producer.override.client.id": $E2E_ROTATED"#);
    so.after(|| env.apply(&configmap("e2e-rot", &[("a.json", &template)], json!({}))));
    assert_eq!(env.connector_config("e2e-rot-a").expect("created")["producer.override.client.id"], "first");

    properties_secret(&env, Some("second"));
    seen("second");
    so.wait("the resync after the change applied it", Duration::from_secs(60), || {
        env.connector_config("e2e-rot-a").is_some_and(|c| c["producer.override.client.id"] == "second")
    });
    let now = so.ready_pod().expect("a Ready Pod");
    assert_eq!(now["metadata"]["name"], pod.as_str(), "the same Pod");
    assert_eq!(support::shell_operator::container_status(&now)["restartCount"], 0, "never restarted");
    properties_secret(&env, None);
    env.delete_configmap("e2e-rot");
    env.delete_connectors("e2e-rot");
}

/// The time kubelet gave each line of a Pod's log (RFC 3339, nanoseconds),
/// kept by `e2e/pod-logs`, and the line.
fn pod_log(env: &Env, pod: &str) -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(env.run_dir.join("pods").join(format!("{pod}.log"))).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(at, line)| (at.to_string(), serde_json::from_str(line).unwrap_or_default()))
        .collect()
}

/// `kubectl delete pod` while the hook applies 50 connectors: the container
/// stops on SIGTERM well within terminationGracePeriodSeconds, ending the
/// run it had; the ReplicaSet's new Pod takes over, and its first hook run
/// starts after the old Pod's last line; its Synchronization finishes the
/// work: every connector once, nothing deleted.
///
/// Recreate keeps two Pods from running at once only during a rollout: a
/// deleted (or evicted) Pod is replaced at once, while it still stops, and
/// the new Pod's init container (`wait-for-predecessors`) holds its
/// shell-operator back until the old Pod has stopped.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn a_deleted_pod_hands_over_to_the_next_cleanly() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[("CONNECT_CONCURRENCY", "1")]);
    let before = env.hook_requests().len();
    let names = declare_fifty(&env, "e2e-del", 4);
    so.wait("10 created", Duration::from_secs(60), || env.names("e2e-del").len() >= 10);
    let old = so.pod_name().expect("a Ready Pod");
    let deleted = Instant::now();
    let out = env.kubectl(&["delete", "pod", &old, "--wait=false"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    so.wait("the old Pod gone", Duration::from_secs(60), || {
        so.pods().iter().all(|p| p["metadata"]["name"] != old.as_str())
    });
    let stopped = deleted.elapsed();
    assert!(stopped < Duration::from_secs(20), "the old Pod took {stopped:?} to stop: killed at its grace period?");
    so.replaced(&old);
    so.wait("all 50 as declared", Duration::from_secs(180), || as_declared(&env, "e2e-del", &names, 4));
    so.idle();

    let writes = env.hook_writes_since(before);
    let creates = writes.iter().filter(|w| w.ends_with("/config 201")).count();
    assert_eq!(creates, 50, "one create each: {writes:?}");
    assert!(!writes.iter().any(|w| w.starts_with("DELETE ")), "{writes:?}");

    let new = so.pod_name().expect("the new Pod");
    let last_old = pod_log(&env, &old).last().map(|(at, _)| at.clone()).expect("the old Pod's log");
    let first_run = pod_log(&env, &new)
        .into_iter()
        .find(|(_, line)| line["hook"] == HOOK)
        .map(|(at, _)| at)
        .expect("a hook line in the new Pod's log");
    assert!(last_old < first_run, "the new Pod ran the hook at {first_run}, the old one logged until {last_old}");
    eprintln!(
        "e2e: a deleted Pod stopped in {stopped:?}; its last line {last_old}, the next Pod's first run {first_run}"
    );
    env.reset();
}

/// The status annotation of ConfigMap `name` in namespace `ns`, as text.
fn status_in(env: &Env, ns: &str, name: &str) -> String {
    let out = env.kubectl(&["-n", ns, "get", "configmap", name, "-o", "json"], None);
    let cm: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    cm["metadata"]["annotations"]["status.connect-operator.io/status"].as_str().unwrap_or("").to_string()
}

/// Applies ConfigMap `name` in namespace `ns` declaring `template`, and
/// waits for the operator's first run on it.
fn apply_in(env: &Env, so: &ShellOperator, ns: &str, name: &str, template: &str) {
    let mut cm = configmap(name, &[("c.json", template)], json!({}));
    cm["metadata"]["namespace"] = json!(ns);
    so.after(|| {
        let out = env.kubectl(&["-n", ns, "apply", "-f", "-"], Some(&cm.to_string()));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    });
}

/// Deletes each ConfigMap (namespace, name), waiting for the operator's run on each.
fn delete_in(env: &Env, so: &ShellOperator, configmaps: &[(&str, &str)]) {
    for (ns, name) in configmaps {
        so.after(|| {
            let out = env.kubectl(&["-n", ns, "delete", "configmap", name], None);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        });
    }
}

/// The same operator with every namespace allowed and no prefix: team-a's
/// own properties (namespaces/team-a/, a Secret of its own) are no variables
/// for team-b; TEMPLATE_ENV hides the rest of the Pod's environment; an
/// intruding declaration of team-a's connector leaves it running and
/// team-a's edits applied.
fn teams_share_one_cluster(env: &Env) {
    let secret = [
        "create",
        "secret",
        "generic",
        "connect-operator-team-a",
        "--from-literal=team.properties=team.secret=team-a-only\n",
    ];
    let _ = env.kubectl(&["delete", "secret", "connect-operator-team-a", "--ignore-not-found"], None);
    let out = env.kubectl(&secret, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let patch = r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "connect-operator"},
      "spec": {"template": {"spec": {
        "containers": [{"name": "connect-operator", "volumeMounts": [{"name": "team-a-properties",
            "mountPath": "/etc/config/connect-operator/namespaces/team-a/", "readOnly": true}]}],
        "volumes": [{"name": "team-a-properties", "secret": {"secretName": "connect-operator-team-a", "defaultMode": 288}}]}}}}"#;
    let vars = [
        ("CONNECT_NAMESPACES", "*"),
        ("CONNECT_NAME_PREFIX", ""),
        ("TEMPLATE_ENV", "E2E_VISIBLE"),
        ("E2E_VISIBLE", "seen"),
        ("E2E_HIDDEN", "hidden-v4lue"),
    ];
    let so = ShellOperator::deployed(env, &Deployment { cluster_wide: true, env: &vars, patch });
    let extra = r#", "producer.override.client.id": $TEAM_SECRET, "e2e.visible": env.E2E_VISIBLE, "e2e.hidden": (env.E2E_HIDDEN // "absent")"#;
    apply_in(env, &so, "team-a", "orders", &source(env, "team-a-orders", extra));
    assert!(wait_until(Duration::from_secs(60), || running(env, "team-a-orders")), "{:?}", env.state("team-a-orders"));
    let config = env.connector_config("team-a-orders").expect("created");
    assert_eq!(
        (&config["producer.override.client.id"], &config["e2e.visible"], &config["e2e.hidden"]),
        (&json!("team-a-only"), &json!("seen"), &json!("absent"))
    );
    // team-b reads nothing of team-a's.
    apply_in(
        env,
        &so,
        "team-b",
        "peek",
        &source(env, "team-b-peek", r#", "producer.override.client.id": $TEAM_SECRET"#),
    );
    let said = || status_in(env, "team-b", "peek");
    assert!(wait_until(Duration::from_secs(30), || said().contains("undefined variable `$TEAM_SECRET`")), "{}", said());
    assert!(env.names("team-b-peek").is_empty());
    // An intruder declaring team-a's connector is refused; team-a's edits still apply.
    apply_in(env, &so, "team-b", "intruder", &source(env, "team-a-orders", r#", "e2e.owner": "team-b""#));
    let said = || status_in(env, "team-b", "intruder");
    assert!(
        wait_until(Duration::from_secs(30), || said().contains("belongs to ConfigMap team-a/orders")),
        "{}",
        said()
    );
    assert!(env.connector_config("team-a-orders").is_some_and(|c| c.get("e2e.owner").is_none()));
    apply_in(env, &so, "team-a", "orders", &source(env, "team-a-orders", &format!(r#"{extra}, "e2e.edit": "2""#)));
    let edited = || env.connector_config("team-a-orders").is_some_and(|c| c["e2e.edit"] == "2");
    assert!(wait_until(Duration::from_secs(30), edited), "{:?}", env.connector_config("team-a-orders"));
    assert!(running(env, "team-a-orders"));
    let log = so.log_text();
    assert!(log.contains("E2E_HIDDEN") && !log.contains("hidden-v4lue") && !log.contains("team-a-only"), "{log}");
    delete_in(env, &so, &[("team-b", "intruder"), ("team-b", "peek"), ("team-a", "orders")]);
    assert!(env.names("team-a-").is_empty(), "{:?}", env.names("team-a-"));
    let _ = env.kubectl(&["delete", "secret", "connect-operator-team-a"], None);
}

/// manifests/cluster-wide, deployed as its kustomization says (the
/// namespaced Role and RoleBinding connect-operator deleted by hand; the init
/// container's connect-operator-pods stays): one operator with a
/// ClusterRole serves team-a and team-b on one Connect. As shipped, names
/// go by namespace; with CONNECT_NAMESPACES, a namespace not listed reaches
/// nothing. Then [`teams_share_one_cluster`].
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn the_cluster_wide_variant_keeps_teams_apart() {
    let env = Env::get();
    env.reset();
    let out = env.kubectl(&["delete", "role,rolebinding", "connect-operator"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for team in ["team-a", "team-b"] {
        let _ = env.kubectl(&["create", "namespace", team], None);
    }
    {
        let deployment =
            Deployment { cluster_wide: true, env: &[("CONNECT_NAMESPACES", "team-a")], ..Deployment::default() };
        let so = ShellOperator::deployed(&env, &deployment);
        apply_in(&env, &so, "team-a", "orders", &source(&env, "team-a-orders", ""));
        assert!(
            wait_until(Duration::from_secs(60), || running(&env, "team-a-orders")),
            "{:?}",
            env.state("team-a-orders")
        );
        assert!(status_in(&env, "team-a", "orders").contains("RUNNING"), "{}", status_in(&env, "team-a", "orders"));
        // A name outside the namespace's prefix.
        apply_in(&env, &so, "team-a", "bare", &source(&env, "e2e-bare", ""));
        let said = || status_in(&env, "team-a", "bare");
        assert!(wait_until(Duration::from_secs(30), || said().contains("does not start with")), "{}", said());
        // A namespace the default cluster does not list: nothing reaches Connect.
        apply_in(&env, &so, "team-b", "orders", &source(&env, "team-b-orders", ""));
        let said = || status_in(&env, "team-b", "orders");
        let refused = "namespace team-b may not use cluster default: CONNECT_NAMESPACES allows team-a";
        assert!(wait_until(Duration::from_secs(30), || said().contains(refused)), "{}", said());
        assert!(env.names("team-b-").is_empty() && env.names("e2e-bare").is_empty(), "{:?}", env.names(""));
        delete_in(&env, &so, &[("team-a", "orders"), ("team-a", "bare"), ("team-b", "orders")]);
        assert!(env.names("team-a-").is_empty(), "{:?}", env.names("team-a-"));
    }
    teams_share_one_cluster(&env);
    // Back to manifests/, then its cluster-wide rights go.
    let so = ShellOperator::with(&env, &[]);
    let out = env.kubectl(&["delete", "clusterrole,clusterrolebinding", "connect-operator"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for team in ["team-a", "team-b"] {
        let _ = env.kubectl(&["delete", "namespace", team, "--wait=false"], None);
    }
    so.idle();
}

/// The state ConfigMap's record of what the operator owns on the default cluster.
fn owned_record(env: &Env) -> String {
    let state = env.configmap("connect-operator-state").unwrap_or_default();
    state["data"]["owned"].as_str().unwrap_or("").to_string()
}

/// `connect-operator.io/deletion-policy: retain`: a deleted ConfigMap leaves
/// its connector running on the real workers, said in an Event, and no
/// longer owned. DELETE_LIMIT holds a run's deletes beyond it, recorded so
/// that the run after the limit is raised deletes them. A password written
/// into a template is warned of by an Event, never quoted.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn retained_connectors_stay_and_the_brake_holds_mass_deletes() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[("DELETE_LIMIT", "2")]);
    let literal = source(&env, "e2e-keep-a", r#", "e2e.password": "hunter2-l1teral""#);
    let kept = configmap("e2e-keep", &[("a.json", &literal)], json!({"connect-operator.io/deletion-policy": "retain"}));
    so.after(|| env.apply(&kept));
    assert!(wait_until(Duration::from_secs(60), || running(&env, "e2e-keep-a")), "{:?}", env.state("e2e-keep-a"));
    let literal_said =
        |events: &[String]| events.iter().any(|e| e.starts_with("LiteralSecret: ") && e.contains("e2e.password"));
    assert!(
        wait_until(Duration::from_secs(20), || literal_said(&env.events("e2e-keep"))),
        "{:?}",
        env.events("e2e-keep")
    );
    let warned = env.events("e2e-keep");
    assert!(!warned.iter().any(|e| e.contains("hunter2-l1teral")), "{warned:?}");
    assert!(owned_record(&env).contains("e2e-keep-a"), "{}", owned_record(&env));

    so.after(|| env.delete_configmap("e2e-keep"));
    let retained = || env.events("e2e-keep").iter().any(|e| e.starts_with("ConnectorRetained: "));
    assert!(wait_until(Duration::from_secs(20), retained), "{:?}", env.events("e2e-keep"));
    assert!(running(&env, "e2e-keep-a"), "retained: {:?}", env.state("e2e-keep-a"));
    assert!(!owned_record(&env).contains("e2e-keep-a"), "no longer owned: {}", owned_record(&env));

    // Three deletes at once, over DELETE_LIMIT=2: none is sent.
    let templates: Vec<(String, String)> =
        ["a", "b", "c"].iter().map(|k| (format!("{k}.json"), source(&env, &format!("e2e-brake-{k}"), ""))).collect();
    let data: Vec<(&str, &str)> = templates.iter().map(|(k, t)| (k.as_str(), t.as_str())).collect();
    so.after(|| env.apply(&configmap("e2e-brake", &data, json!({}))));
    assert!(wait_until(Duration::from_secs(60), || env.names("e2e-brake").len() == 3), "{:?}", env.names("e2e-brake"));
    so.after(|| env.delete_configmap("e2e-brake"));
    let held = || env.events("e2e-brake").iter().filter(|e| e.starts_with("DeletesHeld: ")).count() == 3;
    assert!(wait_until(Duration::from_secs(20), held), "{:?}", env.events("e2e-brake"));
    assert_eq!(env.names("e2e-brake").len(), 3, "held, none deleted");
    assert!(so.log_text().contains("deletes held"), "the log names them");
    let held = || env.configmap("connect-operator-state").unwrap_or_default()["data"]["held"].clone();
    assert_eq!(held(), json!(r#"["e2e-brake-a","e2e-brake-b","e2e-brake-c"]"#));
    // The brake let go (the Deployment rolled with DELETE_LIMIT=0): the new
    // Pod's first run deletes them, though no ConfigMap is left to ask.
    let so = ShellOperator::with(&env, &[("DELETE_LIMIT", "0")]);
    so.wait("the held deletes done", Duration::from_secs(60), || env.names("e2e-brake").is_empty());
    so.wait("the record of held deletes gone", Duration::from_secs(20), || held().is_null());
    env.delete_connectors("e2e-keep");
}

/// `export` of connectors made by hand on the real workers (one paused, one
/// with a secret), then `render` of what it wrote, with its Secret as the
/// environment, gives each live config key for key, and `diff` says
/// nothing would change.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn exported_connectors_render_and_diff_as_they_run() {
    let env = Env::get();
    env.reset();
    let file = env.files().join("e2e-adopt.txt");
    std::fs::write(&file, "line\n").unwrap();
    for (name, extra) in [("e2e-adopt-a", json!({})), ("e2e-adopt-b", json!({"e2e.password": "adopt-s3cret"}))] {
        let mut config = json!({"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
                                "tasks.max": "1", "file": file.display().to_string(), "topic": format!("t-{name}")});
        config.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        env.create_connector(name, config);
    }
    let paused = ureq::put(&format!("{}/connectors/e2e-adopt-a/pause", env.connect)).send_empty();
    assert!(paused.is_ok(), "{paused:?}");
    assert!(wait_until(Duration::from_secs(30), || env.state("e2e-adopt-a").is_some_and(|(c, _)| c == "PAUSED")));

    let dir = tempfile::tempdir().unwrap();
    let out = command_line(
        &env,
        dir.path(),
        &["export", "--include-secrets", "--output-dir", "adopted", "e2e-adopt-a", "e2e-adopt-b"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let adopted = dir.path().join("adopted");
    let secret: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(adopted.join("connect-operator-env.secret.yaml")).unwrap())
            .unwrap();
    let vars: Vec<(String, String)> = secret["stringData"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    assert_eq!(vars.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(), ["adopt-s3cret"]);
    for manifest in std::fs::read_dir(&adopted).unwrap() {
        let text = std::fs::read_to_string(manifest.unwrap().path()).unwrap();
        assert!(text.contains("connect-operator-env") || !text.contains("adopt-s3cret"), "{text}");
    }

    let run = |args: &[&str]| {
        std::process::Command::new(BIN)
            .args(args)
            .env_clear()
            .env("CONNECT_URL", &env.connect)
            .env("CONNECT_OPERATOR_CONFIG_DIR", env.run_dir.join("config"))
            .envs(vars.iter().cloned())
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let rendered = run(&["render", "adopted", "--show-secrets"]);
    assert_eq!(rendered.status.code(), Some(0), "{}", String::from_utf8_lossy(&rendered.stderr));
    let rendered: Vec<Value> = serde_json::from_slice(&rendered.stdout).unwrap();
    for connector in &rendered {
        let name = connector["name"].as_str().unwrap();
        assert_eq!(Some(&connector["config"]), env.connector_config(name).as_ref(), "{name}");
    }
    let diff = run(&["diff", "adopted"]);
    assert_eq!(diff.status.code(), Some(0), "{}{}", stdout(&diff), String::from_utf8_lossy(&diff.stderr));
    env.delete_connectors("e2e-adopt");
}

/// `renamedFrom` on the real workers: a FileStream source and sink that
/// have read and written five lines are renamed in their ConfigMap; the new
/// names start with the old ones' offsets (the source's file position, the
/// sink's consumer offset), the old ones are deleted, nothing is read or
/// written twice and nothing is lost, and the rename is said in an Event and
/// the status annotation. The new names are only resumed after the old ones
/// are stopped. Then a second rename, left as a killed run would leave it, is
/// finished by the next run with the offsets written once.
///
/// The names, topic and files are new on every run: Connect keeps a deleted
/// source's offsets (in `connect-offsets`) and a deleted sink's consumer
/// group, and a name that has offsets of its own is not given the old ones.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn renamed_connectors_keep_their_offsets() {
    let env = Env::get();
    env.reset();
    let so = ShellOperator::with(&env, &[]);
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (old_src, old_sink) = (format!("e2e-ren-{run}-src"), format!("e2e-ren-{run}-sink"));
    let (new_src, new_sink) = (format!("e2e-ren-{run}-src-2"), format!("e2e-ren-{run}-sink-2"));
    let topic = format!("e2e-ren-{run}");
    let input = env.files().join(format!("e2e-ren-{run}-in.txt"));
    let output = env.files().join(format!("e2e-ren-{run}-out.txt"));
    let lines = |n: u32| (1..=n).map(|i| format!("line {i}\n")).collect::<String>();
    std::fs::write(&input, lines(5)).unwrap();
    let written = || std::fs::read_to_string(&output).unwrap_or_default();
    let declare = |src: &str, sink: &str, from: Option<(&str, &str)>| {
        let renamed = |old: Option<&str>| old.map(|o| format!(r#", "renamedFrom": "{o}""#)).unwrap_or_default();
        let src = format!(
            r#"{{"name": "{src}"{}, "config": {{"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "file": "{}", "topic": ($TOPIC_PREFIX + "ren-{run}"), "tasks.max": 1}}}}"#,
            renamed(from.map(|f| f.0)),
            input.display()
        );
        let sink = format!(
            r#"{{"name": "{sink}"{}, "config": {{"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "file": "{}", "topics": ($TOPIC_PREFIX + "ren-{run}"), "tasks.max": 1}}}}"#,
            renamed(from.map(|f| f.1)),
            output.display()
        );
        env.apply(&configmap("e2e-ren", &[("src.json", &src), ("sink.json", &sink)], json!({})));
    };
    let offsets =
        |name: &str| env.connect_get(&format!("/connectors/{name}/offsets")).unwrap_or_default()["offsets"].clone();
    // What the real worker answers (KIP-875): a FileStreamSource's partition
    // is its file, its offset the bytes read; a sink's is the topic partition
    // and the next offset its consumer group will read.
    let source_at = |position: usize| json!([{"partition": {"filename": input.display().to_string()}, "offset": {"position": position}}]);
    // The connectors of this run are these two, both RUNNING: the old names are gone.
    let moved_to = |names: [&String; 2]| {
        let mut wanted: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        wanted.sort();
        so.wait("only the new names", Duration::from_secs(60), || env.names(&format!("e2e-ren-{run}")) == wanted);
        for name in names {
            so.wait(&format!("{name} RUNNING"), Duration::from_secs(60), || running(&env, name));
        }
    };
    let append = |text: &[u8]| {
        let mut file = std::fs::OpenOptions::new().append(true).open(&input).unwrap();
        std::io::Write::write_all(&mut file, text).unwrap();
    };
    let sink_at = |offset: u64| json!([{"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": offset}}]);

    so.after(|| declare(&old_src, &old_sink, None));
    for name in [&old_src, &old_sink] {
        assert!(wait_until(Duration::from_secs(60), || running(&env, name)), "{name}: {:?}", env.state(name));
    }
    assert!(wait_until(Duration::from_secs(60), || written() == lines(5)), "{:?}", written());
    // offset.flush.interval.ms is 1 s on the workers.
    let five = lines(5).len();
    assert!(wait_until(Duration::from_secs(30), || offsets(&old_src) == source_at(five)), "{}", offsets(&old_src));
    assert!(wait_until(Duration::from_secs(30), || offsets(&old_sink) == sink_at(5)), "{}", offsets(&old_sink));
    let (src_before, sink_before) = (offsets(&old_src), offsets(&old_sink));

    let before = env.hook_requests().len();
    so.after(|| declare(&new_src, &new_sink, Some((&old_src, &old_sink))));
    moved_to([&new_src, &new_sink]);
    assert_eq!(offsets(&new_src), src_before, "the source's position, carried");
    assert_eq!(offsets(&new_sink), sink_before, "the sink's consumer offset, carried");
    assert_eq!(written(), lines(5), "nothing written again");

    // Created STOPPED (POST /connectors with initial_state), each touched
    // only after its old name is stopped, offsets written once.
    let writes = env.hook_writes_since(before);
    assert_eq!(writes.iter().filter(|w| w.starts_with("POST /connectors ")).count(), 2, "{writes:?}");
    for (old, new) in [(&old_src, &new_src), (&old_sink, &new_sink)] {
        let path = |w: &String| w.split(' ').nth(1).unwrap_or("").to_string();
        let stopped = writes.iter().position(|w| w.starts_with(&format!("PUT /connectors/{old}/stop ")));
        let touched = writes.iter().position(|w| path(w).starts_with(&format!("/connectors/{new}/")));
        assert!(stopped.is_some() && touched.is_some() && stopped < touched, "{old} -> {new}: {writes:?}");
        let patched = writes.iter().filter(|w| w.starts_with(&format!("PATCH /connectors/{new}/offsets "))).count();
        assert_eq!(patched, 1, "{writes:?}");
        assert!(writes.iter().any(|w| w.starts_with(&format!("DELETE /connectors/{old} "))), "{writes:?}");
    }

    // Two more lines: read from where the old source stopped, written once.
    append(b"line 6\nline 7\n");
    assert!(wait_until(Duration::from_secs(60), || written() == lines(7)), "{:?}", written());
    let seven = lines(7).len();
    assert!(wait_until(Duration::from_secs(30), || offsets(&new_src) == source_at(seven)), "{}", offsets(&new_src));
    assert!(wait_until(Duration::from_secs(30), || offsets(&new_sink) == sink_at(7)), "{}", offsets(&new_sink));
    assert_eq!(written(), lines(7), "no duplicate, no loss");

    for (old, new) in [(&old_src, &new_src), (&old_sink, &new_sink)] {
        let said = format!("renamed connector {old} -> {new}");
        let messages = so.hook_messages();
        assert!(messages.iter().any(|m| m.starts_with(&format!("{said} (ConfigMap "))), "{messages:?}");
        let event = format!("ConnectorRenamed: {said}, carrying the offsets of 1 partition");
        so.wait(&format!("the Event of {new}"), Duration::from_secs(20), || {
            env.events("e2e-ren").iter().any(|e| e.starts_with(&event))
        });
        so.wait(&format!("the status of {new}"), Duration::from_secs(20), || {
            status_annotation(&env, "e2e-ren")["connectors"][new.as_str()]["renamed"]
                == json!({"from": old, "partitions": 1})
        });
    }

    // Renamed again, as if a run had been killed midway: the source's after
    // its new name was created STOPPED and the old one stopped (no offsets
    // written yet), the sink's after its offsets were written too. The next
    // run finishes both from what Connect shows, and writes offsets once.
    let (third_src, third_sink) = (format!("e2e-ren-{run}-src-3"), format!("e2e-ren-{run}-sink-3"));
    let config = |name: &str| env.connector_config(name).expect("running");
    for (from, to) in [(&new_src, &third_src), (&new_sink, &third_sink)] {
        let mut stopped = json!({"name": to, "config": config(from), "initial_state": "STOPPED"});
        stopped["config"]["name"] = json!(to);
        env.connect_send("POST", "/connectors", Some(stopped));
        env.connect_send("PUT", &format!("/connectors/{from}/stop"), None);
        let stopped = || env.state(from).is_some_and(|(state, tasks)| state == "STOPPED" && tasks.is_empty());
        assert!(wait_until(Duration::from_secs(30), stopped), "{from}: {:?}", env.state(from));
    }
    let sink_offsets = offsets(&new_sink);
    env.connect_send("PATCH", &format!("/connectors/{third_sink}/offsets"), Some(json!({"offsets": sink_offsets})));
    assert_eq!(offsets(&third_src), json!([]), "a source never run has no offsets");
    assert_eq!(offsets(&third_sink), sink_offsets);

    let before = env.hook_requests().len();
    so.after(|| declare(&third_src, &third_sink, Some((&new_src, &new_sink))));
    moved_to([&third_src, &third_sink]);
    let writes = env.hook_writes_since(before);
    assert!(!writes.iter().any(|w| w.starts_with("POST /connectors ")), "both existed: {writes:?}");
    let patched =
        |name: &str| writes.iter().filter(|w| w.starts_with(&format!("PATCH /connectors/{name}/offsets "))).count();
    assert_eq!((patched(&third_src), patched(&third_sink)), (1, 0), "{writes:?}");
    let messages = so.hook_messages();
    let kept =
        format!("{third_sink} already had offsets (its own, or carried by an earlier run), so none were written");
    assert!(messages.iter().any(|m| m.contains(&kept)), "{messages:?}");
    append(b"line 8\nline 9\n");
    assert!(wait_until(Duration::from_secs(60), || written() == lines(9)), "{:?}", written());
    let nine = lines(9).len();
    assert!(wait_until(Duration::from_secs(30), || offsets(&third_src) == source_at(nine)), "{}", offsets(&third_src));
    assert_eq!(written(), lines(9), "no duplicate, no loss");

    so.after(|| env.delete_configmap("e2e-ren"));
    env.delete_connectors("e2e-ren-");
}
