//! The end-to-end suite: the hook and the command line against a real Apache
//! Kafka Connect (two workers) and a real Kubernetes API server, as
//! `e2e/up` starts them. Run by `e2e/test` (`--ignored`, one test at a
//! time); under a plain `cargo test` these are ignored, never skipped
//! silently: without `e2e/up`'s environment each one fails.
//!
//! What the real programs taught us is written beside the test it came from.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::real::{configmap, wait_until, Env, Hook};

const BIN: &str = env!("CARGO_BIN_EXE_connect-operator");

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

fn running(env: &Env, name: &str) -> bool {
    env.state(name)
        .is_some_and(|(c, tasks)| c == "RUNNING" && !tasks.is_empty() && tasks.iter().all(|t| t == "RUNNING"))
}

fn status_annotation(env: &Env, cm: &str) -> Value {
    let cm = env.configmap(cm).expect("the ConfigMap exists");
    let text = cm["metadata"]["annotations"]["status.connect-operator.io/status"].as_str().unwrap_or("{}").to_string();
    serde_json::from_str(&text).unwrap()
}

/// Points 2, 3 and 4: ConfigMaps that exist before the first run are
/// reconciled at Synchronization; changes and deletes follow within
/// seconds; an edit that renders the same config sends no write; values
/// from the mounted properties files and the environment arrive exactly,
/// and no secret reaches the log, Events or annotations.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn configmaps_are_reconciled_with_exact_values_status_and_events() {
    let env = Env::get();
    env.reset();
    let secret_extra =
        r#", "producer.override.client.id": $E2E_SECRET, "consumer.override.client.id": env.E2E_SECRET_FROM_ENV"#;
    let cm = configmap("e2e-rec", &[("a.json", &source(&env, "e2e-rec-a", secret_extra))], json!({}));
    env.apply(&cm);

    // The environment is an input of every template (the render cache's too):
    // both resyncs run with the same, as a pod's runs do.
    let run = Hook::new(&env).env("RUST_LOG", "connect_operator=debug").sync().ok();
    assert!(run.log.contains("created connector e2e-rec-a"), "{}", run.log);
    let config = env.connector_config("e2e-rec-a").expect("created in Connect");
    assert_eq!(config["producer.override.client.id"], "pr0p s3cret=with # hash", "a properties value, exactly");
    assert_eq!(config["consumer.override.client.id"], "env-s3cret value", "an environment value, exactly");
    assert_eq!(config["topic"], "e2e-e2e-rec-a");
    assert!(wait_until(Duration::from_secs(60), || running(&env, "e2e-rec-a")), "{:?}", env.state("e2e-rec-a"));

    // The next resync records what Connect reports. It renders nothing new:
    // the config the real Connect returns has the digest the render cache kept.
    let run = Hook::new(&env).env("RUST_LOG", "connect_operator=debug").sync().ok();
    assert!(run.log.contains("templates render what they rendered before"), "{}", run.log);
    let cache = std::fs::read_to_string(env.run_dir.join("render-cache.json")).unwrap();
    assert!(cache.contains("e2e-rec-a"), "{cache}");
    let status = status_annotation(&env, "e2e-rec");
    assert_eq!(status["connectors"]["e2e-rec-a"]["state"], "RUNNING", "{status}");
    assert_eq!(status["connectors"]["e2e-rec-a"]["tasks"], "1/1 tasks RUNNING", "{status}");
    let events = env.events("e2e-rec");
    assert!(events.iter().any(|e| e.starts_with("ConnectorCreated: created connector e2e-rec-a")), "{events:?}");
    let cm_text = env.configmap("e2e-rec").unwrap().to_string();
    for secret in ["pr0p s3cret", "env-s3cret"] {
        assert!(!run.log.contains(secret), "secret in the hook's log: {}", run.log);
        assert!(!cm_text.contains(secret), "secret in the annotations: {cm_text}");
        assert!(!cache.contains(secret), "secret in the render cache: {cache}");
        assert!(!events.iter().any(|e| e.contains(secret)), "secret in Events: {events:?}");
    }

    // An edit: one PUT, within the run.
    let before = env.hook_requests().len();
    let edited = configmap(
        "e2e-rec",
        &[("a.json", &source(&env, "e2e-rec-a", &format!("{secret_extra}, \"batch.size\": 100")))],
        json!({}),
    );
    env.apply(&edited);
    let started = Instant::now();
    Hook::new(&env).event("Modified", &env.configmap("e2e-rec").unwrap()).ok();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(env.connector_config("e2e-rec-a").unwrap()["batch.size"], "100");
    assert_eq!(env.hook_writes_since(before), ["PUT /connectors/e2e-rec-a/config 200"]);
    // An event reads the connector it acts on, not the list of the cluster.
    let read: Vec<String> = env.hook_requests().split_off(before);
    assert!(read.iter().all(|r| !r.starts_with("GET /connectors?")), "{read:?}");
    for request in ["GET /connectors/e2e-rec-a/config 200", "GET /connectors/e2e-rec-a/status 200"] {
        assert!(read.iter().any(|r| r == request), "{request} not in {read:?}");
    }

    // An edit that renders the same config (whitespace): no write at all.
    let before = env.hook_requests().len();
    let same = source(&env, "e2e-rec-a", &format!("{secret_extra}, \"batch.size\": 100")).replace(", ", ",  ");
    env.apply(&configmap("e2e-rec", &[("a.json", &same)], json!({})));
    Hook::new(&env).event("Modified", &env.configmap("e2e-rec").unwrap()).ok();
    assert_eq!(env.hook_writes_since(before), Vec::<String>::new());

    // Deleted: the connector goes.
    let last = env.configmap("e2e-rec").unwrap();
    env.delete_configmap("e2e-rec");
    Hook::new(&env).event("Deleted", &last).ok();
    assert!(env.names("e2e-rec").is_empty());
}

/// Point 5: declared `paused` and `stopped` reach PAUSED and STOPPED in
/// Connect, and back to RUNNING.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn declared_states_are_reached_and_left() {
    let env = Env::get();
    env.reset();
    let declare = |state: &str| {
        let template =
            source(&env, "e2e-state-a", "").replacen("{\"name\"", &format!("{{\"state\": \"{state}\", \"name\""), 1);
        env.apply(&configmap("e2e-state", &[("a.json", &template)], json!({})));
    };
    for state in ["paused", "stopped", "running", "stopped"] {
        declare(state);
        Hook::new(&env).sync().ok();
        let want = state.to_uppercase();
        assert!(
            wait_until(Duration::from_secs(60), || env.state("e2e-state-a").is_some_and(|(c, _)| c == want)),
            "{state}: {:?}",
            env.state("e2e-state-a")
        );
    }
    // Real Connect: a STOPPED connector has no tasks at all (they are torn down, not paused), but the
    // state says STOPPED a moment before the last task's status is gone: `status` may briefly call it
    // not as declared.
    assert!(
        wait_until(Duration::from_secs(30), || env.state("e2e-state-a").is_some_and(|(_, tasks)| tasks.is_empty())),
        "{:?}",
        env.state("e2e-state-a")
    );
    env.delete_configmap("e2e-state");
    env.delete_connectors("e2e-state");
}

/// Point 6: a task that really fails (its file cannot be opened) is
/// restarted automatically, with Events and annotations; the restart
/// annotation restarts once.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn a_failed_task_is_restarted_and_the_annotation_restarts_once() {
    let env = Env::get();
    env.reset();
    let sink = r#"{"name": "e2e-fail-sink", "config": {"connector.class": "FileStreamSink", "topics": "e2e-fail", "file": "/proc/e2e/cannot-exist"}}"#;
    env.apply(&configmap("e2e-fail", &[("s.json", sink)], json!({})));
    Hook::new(&env).sync().ok();
    let failed = || env.state("e2e-fail-sink").is_some_and(|(_, tasks)| tasks.iter().any(|t| t == "FAILED"));
    assert!(wait_until(Duration::from_secs(60), failed), "{:?}", env.state("e2e-fail-sink"));

    let before = env.hook_requests().len();
    Hook::new(&env).sync().ok();
    let writes = env.hook_writes_since(before);
    assert_eq!(
        writes,
        ["POST /connectors/e2e-fail-sink/restart?includeTasks=true&onlyFailed=true 202"],
        "real Connect answers 202 with a body"
    );
    let status = status_annotation(&env, "e2e-fail");
    assert_eq!(status["connectors"]["e2e-fail-sink"]["restarts"], 1, "{status}");
    let events = env.events("e2e-fail");
    assert!(events.iter().any(|e| e.starts_with("TaskFailed: connector e2e-fail-sink")), "{events:?}");
    assert!(events.iter().any(|e| e.contains("automatic attempt 1 of 10")), "{events:?}");

    // The next attempt waits for its backoff (2 minutes): no restart now.
    wait_until(Duration::from_secs(30), failed);
    let before = env.hook_requests().len();
    Hook::new(&env).sync().ok();
    assert_eq!(env.hook_writes_since(before), Vec::<String>::new());

    // On demand: once per value of the annotation.
    env.apply(&configmap("e2e-fail", &[("s.json", sink)], json!({"connect-operator.io/restart": "1"})));
    let before = env.hook_requests().len();
    Hook::new(&env).event("Modified", &env.configmap("e2e-fail").unwrap()).ok();
    assert_eq!(
        env.hook_writes_since(before),
        ["POST /connectors/e2e-fail-sink/restart?includeTasks=true&onlyFailed=false 202"]
    );
    let before = env.hook_requests().len();
    Hook::new(&env).event("Modified", &env.configmap("e2e-fail").unwrap()).ok();
    assert!(!env.hook_writes_since(before).iter().any(|w| w.contains("onlyFailed=false")), "restarted twice");
    env.delete_configmap("e2e-fail");
    env.delete_connectors("e2e-fail");
}

/// Point 9: with PRUNE=owned, a connector this operator applied and no
/// ConfigMap declares any more is deleted, its ownership read back from the
/// state ConfigMap on the real API server; one made by hand is left alone.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn prune_owned_uses_the_record_on_the_api_server() {
    let env = Env::get();
    env.reset();
    env.apply(&configmap("e2e-prune", &[("a.json", &source(&env, "e2e-prune-mine", ""))], json!({})));
    Hook::new(&env).env("PRUNE", "owned").sync().ok();
    let state = env.configmap("connect-operator-state").expect("the ownership record is on the API server");
    assert!(state["data"]["owned"].as_str().unwrap_or("").contains("e2e-prune-mine"), "{state}");
    env.create_connector(
        "e2e-prune-manual",
        json!({"connector.class": "FileStreamSource", "file": "/dev/null", "topic": "m"}),
    );
    // Deleted while no hook ran: only the next resync can notice.
    env.delete_configmap("e2e-prune");
    Hook::new(&env).env("PRUNE", "owned").sync().ok();
    assert_eq!(env.names("e2e-prune"), ["e2e-prune-manual"]);
    env.delete_connectors("e2e-prune");
}

/// Point 8: with Connect down entirely the hook fails (so shell-operator
/// retries) and deletes nothing; when Connect is back, everything converges.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn connect_down_deletes_nothing_and_converges_when_back() {
    let env = Env::get();
    env.reset();
    env.apply(&configmap("e2e-down", &[("a.json", &source(&env, "e2e-down-a", ""))], json!({})));
    Hook::new(&env).sync().ok();
    let closed = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    let run = Hook::new(&env).env("CONNECT_URL", &closed).env("RETRY_BUDGET", "2s").env("PRUNE", "all").sync();
    assert_eq!(run.code, 1, "{}", run.log);
    assert!(run.log.contains("next attempt in"), "{}", run.log);
    assert_eq!(env.names("e2e-down"), ["e2e-down-a"]);
    env.apply(&configmap("e2e-down", &[("a.json", &source(&env, "e2e-down-a", ", \"batch.size\": 7"))], json!({})));
    Hook::new(&env).sync().ok();
    assert_eq!(env.connector_config("e2e-down-a").unwrap()["batch.size"], "7");
    env.delete_configmap("e2e-down");
    env.delete_connectors("e2e-down");
}

/// Point 10: the project's Role allows every patch and Event the hook asks
/// for (the runs above apply them with the operator's token and fail on a
/// refusal), and the real API server accepts the manifests.
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

/// Point 11: the GitOps commands against the real Connect: `validate` shows
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
    let codes: Vec<Option<i32>> = ["diff", "apply", "diff"].iter().map(|c| cli(&[c]).status.code()).collect();
    assert_eq!(codes, [Some(2), Some(0), Some(0)]);
    assert!(wait_until(Duration::from_secs(60), || running(&env, "e2e-cli-src")));
    let out = cli(&["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    env.delete_connectors("e2e-cli");
}

/// Point 12: 200 connectors declared at once all run; the next
/// Synchronization sends no write.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn two_hundred_connectors_at_once() {
    let env = Env::get();
    env.reset();
    let names: Vec<String> = (0..200).map(|i| format!("e2e-many-{i:03}")).collect();
    env.apply_all(names.iter().map(|n| configmap(n, &[("c.json", &source(&env, n, ""))], json!({}))).collect());
    let before = env.hook_requests().len();
    let first = Hook::new(&env).sync().ok().elapsed;
    let writes = env.hook_writes_since(before);
    assert_eq!(writes.len(), 200, "{writes:?}");
    assert!(wait_until(Duration::from_secs(240), || names.iter().all(|n| running(&env, n))), "not all RUNNING");
    let before = env.hook_requests().len();
    let second = Hook::new(&env).sync().ok().elapsed;
    let requests = env.hook_requests().len() - before;
    assert_eq!(env.hook_writes_since(before), Vec::<String>::new());
    // The hook's own time; applying its patch file with kubectl, one process per patch, takes longer.
    eprintln!("e2e: 200 connectors: first Synchronization {first:?} (200 writes), next {second:?} ({requests} request, no write)");
    assert_eq!(requests, 1, "one bulk read");
    env.reset();
}

/// Point 7: a worker killed in the middle of applying 50 connectors, then
/// started again: once the retries settle, every connector is there once,
/// as declared.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn a_worker_killed_mid_apply_loses_and_duplicates_nothing() {
    let env = Env::get();
    env.reset();
    let names: Vec<String> = (0..50).map(|i| format!("e2e-kill-{i:02}")).collect();
    env.apply_all(
        names.iter().map(|n| configmap(n, &[("c.json", &source(&env, n, ", \"batch.size\": 3"))], json!({}))).collect(),
    );
    let pid: i32 = std::fs::read_to_string(env.run_dir.join("connect-2.pid")).unwrap().trim().parse().unwrap();
    // -0 and -1 would name this process's own group and every process.
    assert!(pid > 1, "connect-2.pid holds {pid}");
    let hook = std::thread::scope(|scope| {
        let run = scope.spawn(|| Hook::new(&env).env("CONNECT_CONCURRENCY", "2").sync());
        wait_until(Duration::from_secs(30), || env.names("e2e-kill").len() >= 10);
        // SIGKILL, as a node dying would: no graceful leave of the group.
        // kill(2) itself, not /usr/bin/kill: procps-ng 4.0.2's `kill -KILL
        // -12345` sends to process group -1 (it reads only the first digit),
        // which kills every process of the user, CI's run among them.
        // SAFETY: kill(2) takes plain integers; the group is connect-2's own.
        let killed = unsafe { libc::kill(-pid, libc::SIGKILL) };
        assert_eq!(killed, 0, "kill -KILL -{pid}: {}", std::io::Error::last_os_error());
        run.join().unwrap()
    });
    eprintln!("the run during the kill exited {}", hook.code);
    // shell-operator retries a failed run until it succeeds.
    let settled = wait_until(Duration::from_secs(180), || Hook::new(&env).sync().code == 0);
    assert!(settled, "the runs never settled");
    let up = std::process::Command::new("bash")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/up"))
        .output()
        .unwrap();
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    Hook::new(&env).sync().ok();
    assert_eq!(env.names("e2e-kill"), names);
    for name in &names {
        assert_eq!(env.connector_config(name).unwrap()["batch.size"], "3", "{name}");
    }
    env.reset();
}

/// Issue 12, against the real Kafka Connect 4.1: offsets (KIP-875) read,
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
            && text.contains("State:        RUNNING on 127.0.0.1:808"),
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

/// Issue 12: the status columns people read with kubectl, from the status
/// annotation, against the real API server: the `-o custom-columns` recipe
/// of the README and `contrib/kubectl-connectors`.
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn the_status_columns_read_the_annotation_on_the_real_api_server() {
    let env = Env::get();
    env.reset();
    env.apply(&configmap("e2e-cols", &[("a.json", &source(&env, "e2e-cols-a", ""))], json!({})));
    Hook::new(&env).sync().ok();
    assert!(wait_until(Duration::from_secs(60), || running(&env, "e2e-cols-a")));
    Hook::new(&env).sync().ok();
    let columns =
        "custom-columns=NAME:.metadata.name,CONNECTORS:.metadata.annotations.status\\.connect-operator\\.io/summary";
    let out = env.kubectl(&["get", "configmaps", "-l", "destination=connect", "-o", columns], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.lines().any(|l| l.starts_with("e2e-cols") && l.contains("e2e-cols-a: RUNNING (1/1 tasks RUNNING)")),
        "{text}"
    );

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
    env.delete_connectors("e2e-cols");
}

/// Issue 12: the offsets annotation, with the real Connect and the real API
/// server: the hook stops the connector, alters its offsets, brings it back,
/// and writes a listing into `<configmap>-offsets` with the operator's own
/// token (the Role's create and patch on ConfigMaps are enough).
#[test]
#[ignore = "needs e2e/up; run by e2e/test"]
fn the_offsets_annotation_against_the_real_programs() {
    let env = Env::get();
    env.reset();
    let data = [("a.json", source(&env, "e2e-off-a", ""))];
    let data: Vec<(&str, &str)> = data.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.apply(&configmap("e2e-off", &data, json!({})));
    Hook::new(&env).sync().ok();
    assert!(wait_until(Duration::from_secs(60), || running(&env, "e2e-off-a")), "{:?}", env.state("e2e-off-a"));

    let file = env.files().join("e2e-off-a.txt").display().to_string();
    // Past the end of the 14-byte file: the source reads nothing more, so the
    // offset stays what was set (offset.flush.interval.ms is 1 s here).
    let wanted = json!({"offsets": [{"partition": {"filename": file}, "offset": {"position": 1000}}]});
    let annotations =
        json!({"connect-operator.io/offsets": "alter", "connect-operator.io/offsets-alter": wanted.to_string()});
    env.apply(&configmap("e2e-off", &data, annotations));
    let run = Hook::new(&env).sync().ok();
    assert!(run.log.contains("altered the offsets of connector e2e-off-a"), "{}", run.log);
    let offsets = env.connect_get("/connectors/e2e-off-a/offsets").unwrap_or_default();
    assert_eq!(offsets["offsets"][0]["offset"]["position"], 1000, "{offsets}");
    assert!(
        wait_until(Duration::from_secs(60), || running(&env, "e2e-off-a")),
        "back to RUNNING: {:?}",
        env.state("e2e-off-a")
    );

    env.apply(&configmap("e2e-off", &data, json!({"connect-operator.io/offsets": "list"})));
    Hook::new(&env).sync().ok();
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
    env.delete_connectors("e2e-off");
}
