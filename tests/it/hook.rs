//! The built binary run as shell-operator runs it: binding-context files in,
//! a fake Kafka Connect on the other side.

use crate::methods;
use crate::support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::build::{configmap, event, schedule, sync, template};
use crate::support::fake_connect::{FakeConnect, Fault, Match};
use serde_json::{json, Value};

use crate::support::repo::BIN;

/// A hook run: its environment starts empty, as a pod's would, plus what
/// shell-operator and the Deployment set.
pub(crate) struct Hook {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) env: Vec<(String, String)>,
}

impl Hook {
    pub(crate) fn new(fake: &FakeConnect) -> Hook {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("config")).unwrap();
        let config_dir = dir.path().join("config").display().to_string();
        let env = vec![
            ("CONNECT_URL".into(), fake.url()),
            ("CONNECT_OPERATOR_CONFIG_DIR".into(), config_dir),
            ("RETRY_BUDGET".into(), "3s".into()),
            ("RESYNC_SCHEDULE".into(), "*/5 * * * *".into()),
        ];
        Hook { dir, env }
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Hook {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
        self
    }

    pub(crate) fn properties(self, file: &str, text: &str) -> Hook {
        let path = self.dir.path().join("config").join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    pub(crate) fn run(&self, contexts: Value) -> Run {
        let path = self.dir.path().join("binding-context.json");
        std::fs::write(&path, serde_json::to_string_pretty(&contexts).unwrap()).unwrap();
        let started = Instant::now();
        let output = Command::new(BIN)
            .env_clear()
            .env("RENDER_CACHE", self.dir.path().join("render-cache.json"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("BINDING_CONTEXT_PATH", &path)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        Run { output, elapsed: started.elapsed() }
    }
}

pub(crate) struct Run {
    pub(crate) output: Output,
    elapsed: Duration,
}

impl Run {
    pub(crate) fn code(&self) -> i32 {
        self.output.status.code().unwrap()
    }
    pub(crate) fn log(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub(crate) fn ok(self) -> Run {
        assert_eq!(self.code(), 0, "the run failed:\n{}", self.log());
        self
    }
}

/// Runs the hook twice on `cm`; the second run must find nothing to write.
fn assert_a_second_run_writes_nothing(hook: &Hook, fake: &FakeConnect, cm: Value) {
    hook.run(sync(std::slice::from_ref(&cm))).ok();
    fake.clear_requests();
    hook.run(sync(&[cm])).ok();
    assert!(fake.writes().is_empty(), "{:?}", methods(fake));
}

#[test]
fn synchronization_creates_every_key_then_a_second_run_sends_one_request() {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake);
    let cms = [
        configmap("one", json!({}), &[("a.json", &template("a", "")), ("b.json", &template("b", ""))]),
        configmap("two", json!({"enabled": "true"}), &[("c.json", &template("c", r#", "ratio": 1.50, "flag": true"#))]),
    ];
    hook.run(sync(&cms)).ok();
    assert_eq!(fake.names(), ["a", "b", "c"]);
    let c = fake.config("c").unwrap();
    assert_eq!(c["name"], "c");
    assert_eq!(c["tasks.max"], "1");
    assert_eq!(c["ratio"], "1.5", "as jq 1.6 writes the number 1.50, so as the streaming-ops hook sent it");
    assert_eq!(c["flag"], "true");

    fake.clear_requests();
    let run = hook.run(sync(&cms)).ok();
    assert_eq!(methods(&fake), ["GET /connectors?expand=info&expand=status"]);
    assert!(
        run.log()
            .contains("0 created, 0 updated, 0 deleted, 0 renamed, 0 paused/resumed/stopped/restarted, 3 unchanged"),
        "{}",
        run.log()
    );
    assert!(!run.log().contains("is unchanged"), "unchanged connectors are said at debug only: {}", run.log());
    let run = Hook { env: hook.env.iter().cloned().chain([("DEBUG".into(), "true".into())]).collect(), ..hook }
        .run(sync(&cms))
        .ok();
    assert!(run.log().contains("connector c is unchanged (ConfigMap streaming/two key c.json)"), "{}", run.log());
}

#[test]
fn every_context_is_handled_and_several_events_come_down_to_the_last_state() {
    let fake = FakeConnect::start();
    fake.insert_connector("old", &[("connector.class", "FileStreamSource")]);
    let hook = Hook::new(&fake);
    let a1 = configmap("a", json!({}), &[("k", &template("a", r#", "v": "1""#))]);
    let a2 = configmap("a", json!({}), &[("k", &template("a", r#", "v": "2""#))]);
    let b = configmap("b", json!({}), &[("k", &template("b", ""))]);
    let old = configmap("old", json!({}), &[("k", &template("old", ""))]);
    hook.run(json!([
        {"binding": "onStartup"},
        event("Added", &a1, &[a2.clone(), b.clone()]),
        event("Modified", &a2, &[a2.clone(), b.clone()]),
        event("Added", &b, &[a2.clone(), b.clone()]),
        event("Deleted", &old, &[a2.clone(), b.clone()]),
    ]))
    .ok();
    assert_eq!(fake.names(), ["a", "b"]);
    assert_eq!(fake.config("a").unwrap()["v"], "2");
    let puts = fake.writes().iter().filter(|r| r.method == "PUT").count();
    assert_eq!(puts, 2, "one PUT per connector, at its last state: {:?}", methods(&fake));
}

#[test]
fn an_event_touches_only_its_configmap() {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake);
    let a = configmap("a", json!({}), &[("k", &template("a", ""))]);
    let z = configmap("z", json!({}), &[("k", &template("z", ""))]);
    hook.run(json!([event("Added", &a, &[a.clone(), z.clone()])])).ok();
    assert_eq!(fake.names(), ["a"]);
    // The schedule's full resync repairs everything, including drift.
    fake.insert_connector("a", &[("connector.class", "FileStreamSource"), ("topic", "changed by hand")]);
    hook.run(schedule(&[a, z])).ok();
    assert_eq!(fake.names(), ["a", "z"]);
    assert_eq!(fake.config("a").unwrap()["topic"], "t-a");
}

#[test]
fn disabled_and_deleted_configmaps_delete_their_connectors() {
    let fake = FakeConnect::start();
    fake.insert_connector("a", &[("connector.class", "FileStreamSource")]);
    fake.insert_connector("b", &[("connector.class", "FileStreamSource")]);
    let hook = Hook::new(&fake);
    let off = configmap("off", json!({"enabled": "false"}), &[("k", &template("a", ""))]);
    let gone = configmap("gone", json!({}), &[("k", &template("b", "")), ("k2", &template("never-created", ""))]);
    let run = hook
        .run(json!([
            event("Modified", &off, std::slice::from_ref(&off)),
            event("Deleted", &gone, std::slice::from_ref(&off))
        ]))
        .ok();
    assert!(fake.names().is_empty());
    let mut deletes: Vec<String> = fake.writes().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    deletes.sort();
    assert_eq!(deletes, ["DELETE /connectors/a", "DELETE /connectors/b"], "no request for what is already absent");
    assert!(run.log().contains("deleted connector a (ConfigMap streaming/off key k: disabled by label enabled=false)"));
    assert!(run.log().contains("connector never-created is already absent"), "{}", run.log());
}

/// A disabled ConfigMap needs only its connector names: its template failing
/// on an `env.NAME` that is not set (the streaming-ops BigQuery sink's
/// keyfile) does not keep its connector alive; the error names the variable,
/// and the connector is deleted by name.
#[test]
fn a_disabled_configmap_whose_template_fails_still_deletes_its_connector() {
    let fake = FakeConnect::start();
    fake.insert_connector("orders-bq-sink", &[("connector.class", "BigQuerySinkConnector")]);
    let hook = Hook::new(&fake);
    let sink = r#"{"name": "orders-bq-sink", "config": {"connector.class": "BigQuerySinkConnector", "keyfile": env.ORDERS_BQ_SINK_KEYFILE}}"#;
    let off = configmap("orders-bq", json!({"enabled": "false"}), &[("orders-bq-sink.json", sink)]);
    let on = configmap("orders-bq-on", json!({}), &[("on.json", &sink.replace("orders-bq-sink", "on"))]);
    let run = hook.run(sync(&[off, on])).ok();
    assert_eq!(fake.names(), Vec::<String>::new(), "{}", run.log());
    assert!(run.log().contains("deleted connector orders-bq-sink"), "{}", run.log());
    assert!(
        run.log().contains("config key `keyfile` is null (env.ORDERS_BQ_SINK_KEYFILE is not set)"),
        "the enabled one's error names the variable: {}",
        run.log()
    );
}

#[test]
fn a_delete_that_finds_nothing_is_fine() {
    let fake = FakeConnect::start();
    fake.insert_connector("a", &[("connector.class", "FileStreamSource")]);
    // Someone deletes it between our read and our write.
    fake.inject(Match::path("DELETE", "/connectors/a"), Fault::Status(404, "Connector a not found".into()), 1);
    let hook = Hook::new(&fake);
    let gone = configmap("gone", json!({}), &[("k", &template("a", ""))]);
    let run = hook.run(json!([event("Deleted", &gone, &[])])).ok();
    assert!(run.log().contains("connector a was already gone"), "{}", run.log());
}

#[test]
fn label_errors_are_reported_and_nothing_is_touched() {
    let fake = FakeConnect::start();
    fake.insert_connector("typo", &[("connector.class", "FileStreamSource")]);
    let hook = Hook::new(&fake);
    let typo = configmap("typo", json!({"enabled": "False"}), &[("k", &template("typo", ""))]);
    let cloud = configmap("cloud", json!({"destination.cc": "cc.env.dev"}), &[("k", &template("cloud", ""))]);
    let fine = configmap("fine", json!({}), &[("k", &template("fine", ""))]);
    let run = hook.run(sync(&[typo, cloud, fine])).ok();
    assert_eq!(fake.names(), ["fine", "typo"]);
    assert!(fake.writes().iter().all(|r| r.path == "/connectors/fine/config"), "{:?}", methods(&fake));
    let log = run.log();
    assert!(log.contains("ConfigMap streaming/typo: label `enabled` is \"False\""), "{log}");
    assert!(
        log.contains(r#"ConfigMap streaming/cloud: cluster "cc.env.dev" is not configured (known: default"#),
        "{log}"
    );
}

#[test]
fn a_name_declared_twice_is_applied_by_neither() {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake);
    let one = configmap("one", json!({}), &[("k", &template("dup", r#", "v": "1""#)), ("ok", &template("ok", ""))]);
    let two = configmap("two", json!({}), &[("k", &template("dup", r#", "v": "2""#))]);
    let run = hook.run(json!([event("Added", &two, &[one.clone(), two.clone()])])).ok();
    assert!(fake.names().is_empty(), "the event's ConfigMap conflicts with one from the snapshot");
    assert!(run.log().contains("connector dup is also declared by ConfigMap streaming/one key k"), "{}", run.log());
    let run = hook.run(sync(&[one, two])).ok();
    assert_eq!(fake.names(), ["ok"]);
    assert_eq!(run.log().matches("neither declaration is applied").count(), 2, "{}", run.log());
}

#[test]
fn moving_a_connector_between_configmaps_keeps_it() {
    let fake = FakeConnect::start();
    fake.insert_connector("a", &[("connector.class", "FileStreamSource")]);
    let hook = Hook::new(&fake);
    let old = configmap("old", json!({}), &[("k", &template("a", ""))]);
    let new = configmap("new", json!({}), &[("k", &template("a", ""))]);
    hook.run(json!([
        event("Deleted", &old, std::slice::from_ref(&new)),
        event("Added", &new, std::slice::from_ref(&new))
    ]))
    .ok();
    assert_eq!(fake.names(), ["a"]);
    assert!(fake.writes().iter().all(|r| r.method != "DELETE"), "{:?}", methods(&fake));
}

#[test]
fn template_errors_name_configmap_key_and_position_and_the_rest_is_applied() {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake).properties("sr.properties", "schema.registry.url=http://sr:8081\n");
    let broken = configmap(
        "broken",
        json!({}),
        &[
            ("bad.json", "{\"name\": \"x\",\n \"config\": {\"a\": $NOPE}}"),
            ("syntax.json", "{\"name\": \"y\", \"config\": {"),
            ("good.json", &template("good", "")),
        ],
    );
    let run = hook.run(sync(&[broken])).ok();
    assert_eq!(fake.names(), ["good"]);
    let log = run.log();
    assert!(
        log.contains("ConfigMap streaming/broken key bad.json: 2:18: undefined variable `$NOPE` (defined from properties files: $SCHEMA_REGISTRY_URL;"),
        "{log}"
    );
    assert!(log.contains("ConfigMap streaming/broken key syntax.json: 1:"), "{log}");
    assert!(!log.contains("http://sr:8081"), "variable values never appear: {log}");
}

#[test]
fn a_runaway_template_times_out_and_the_run_finishes() {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake).env("TEMPLATE_TIMEOUT", "300ms");
    let cm = configmap("slow", json!({}), &[("a-loop", "last(repeat(1))"), ("b-good", &template("good", ""))]);
    let run = hook.run(sync(&[cm])).ok();
    assert_eq!(fake.names(), ["good"]);
    assert!(run.log().contains("ConfigMap streaming/slow key a-loop: did not finish within 300ms"), "{}", run.log());
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
}

#[test]
fn numbers_and_a_missing_config_name_do_not_cause_a_put_every_run() {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake);
    let cm = configmap(
        "n",
        json!({}),
        &[(
            "k",
            r#"{"name": "n", "config": {"connector.class": "FileStreamSource", "tasks.max": 2, "poll.ms": 1.50, "on": false}}"#,
        )],
    );
    assert_a_second_run_writes_nothing(&hook, &fake, cm);
}

#[test]
fn properties_values_with_equals_signs_and_comments_reach_the_template_whole() {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake)
        .properties(
            "jaas/..2024_01_01/sasl-jaas-config.properties",
            "# a comment first\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"KEY\" password=\"p=a=ss\";\n",
        )
        .properties("jaas-link-placeholder.txt", "");
    std::os::unix::fs::symlink("..2024_01_01", hook.dir.path().join("config/jaas/..data")).unwrap();
    std::os::unix::fs::symlink(
        "..data/sasl-jaas-config.properties",
        hook.dir.path().join("config/jaas/sasl-jaas-config.properties"),
    )
    .unwrap();
    let cm = configmap(
        "creds",
        json!({}),
        &[(
            "k",
            r#"{"name": "c", "config": {"connector.class": "FileStreamSource", "jaas": $SASL_JAAS_CONFIG, "kafka.api.key": env.KAFKA_API_KEY, "kafka.api.secret": $KAFKA_API_SECRET}}"#,
        )],
    );
    let run = hook.run(sync(&[cm])).ok();
    let c = fake.config("c").unwrap();
    assert!(c["jaas"].ends_with("password=\"p=a=ss\";"), "{c:?}");
    assert_eq!(c["kafka.api.key"], "KEY");
    assert_eq!(c["kafka.api.secret"], "p=a=ss");
    assert!(!run.log().contains("defined in"), "the ..data link is not read twice: {}", run.log());
}

/// Connect down: the first run writes that into the status (and exits 0,
/// or shell-operator would drop what it writes); a run whose status says it
/// already fails, so shell-operator retries with backoff.
#[test]
fn connect_down_is_said_in_the_status_then_fails_the_run_so_shell_operator_retries() {
    let fake = FakeConnect::start();
    let url = fake.url();
    drop(fake);
    let placeholder = FakeConnect::start();
    let hook = Hook::new(&placeholder).env("CONNECT_URL", &url).env("RETRY_BUDGET", "1s");
    let cm = configmap("a", json!({}), &[("k", &template("a", ""))]);
    let run = hook.run(sync(std::slice::from_ref(&cm)));
    assert!(support::run::reported_unreachable(&run.output), "{}", run.log());
    assert!(run.log().contains("cannot read the connectors from Kafka Connect"), "{}", run.log());
    assert!(run.log().contains(&url), "the URL is named: {}", run.log());
    let said = r#"{"connectors":{},"ready":{"status":"Unknown","reason":"ConnectUnreachable","message":"x","lastTransitionTime":"t"}}"#;
    let mut cm = cm;
    cm["metadata"]["annotations"] = json!({"status.connect-operator.io/status": said});
    let run = hook.run(sync(&[cm]));
    assert_eq!(run.code(), 1, "{}", run.log());
}

#[test]
fn transient_conflicts_are_retried_within_the_run() {
    let fake = FakeConnect::start();
    fake.inject(Match::path("PUT", "/connectors/a/config"), Fault::StaleConfig409, 1);
    fake.inject(Match::path("PUT", "/connectors/b/config"), Fault::RebalanceExpected500, 1);
    fake.inject(Match::path("GET", "/connectors?"), Fault::NoLeader409, 1);
    let hook = Hook::new(&fake);
    let cm = configmap("a", json!({}), &[("a", &template("a", "")), ("b", &template("b", ""))]);
    hook.run(sync(&[cm])).ok();
    assert_eq!(fake.names(), ["a", "b"]);
}

#[test]
fn a_timed_out_write_that_was_applied_is_not_sent_twice() {
    let fake = FakeConnect::start();
    fake.inject(Match::path("PUT", "/connectors/a/config"), Fault::TimedOut500 { apply: true }, 1);
    let hook = Hook::new(&fake);
    let cm = configmap("a", json!({}), &[("a", &template("a", ""))]);
    let run = hook.run(sync(&[cm])).ok();
    let puts = fake.writes().len();
    assert_eq!(puts, 1, "{:?}", methods(&fake));
    assert!(run.log().contains("a retry found it applied"), "{}", run.log());
}

#[test]
fn transient_errors_past_the_budget_fail_the_run_and_permanent_ones_do_not() {
    let fake = FakeConnect::start();
    fake.inject(Match::path("PUT", "/connectors/busy/config"), Fault::Unavailable(503), 1000);
    let hook = Hook::new(&fake).env("RETRY_BUDGET", "1s");
    let cm = configmap("a", json!({}), &[("a", &template("busy", "")), ("b", &template("fine", ""))]);
    let run = hook.run(sync(&[cm]));
    assert_eq!(run.code(), 1, "{}", run.log());
    assert!(
        run.log().contains("could not update connector busy") || run.log().contains("could not create connector busy"),
        "{}",
        run.log()
    );
    assert_eq!(fake.names(), ["fine"]);

    let fake = FakeConnect::start();
    let hook = Hook::new(&fake);
    let cm = configmap(
        "a",
        json!({}),
        &[("a", r#"{"name": "bad", "config": {"connector.class": "NoSuchConnector"}}"#), ("b", &template("fine", ""))],
    );
    let run = hook.run(sync(&[cm])).ok();
    let url = fake.url();
    assert!(
        run.log().contains(&format!(
            "failed to create connector bad (ConfigMap streaming/a key a): PUT {url}/connectors/bad/config: HTTP 400: \
             Failed to find any class"
        )),
        "every Connect error names the method and URL: {}",
        run.log()
    );
    assert_eq!(fake.names(), ["fine"]);
}

#[test]
fn secrets_never_reach_the_log_even_at_trace_level() {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake)
        .properties("secret.properties", "db.password=pr0perty-s3cret\n")
        .env("MYSQL_CONNECTION_PASSWORD", "env-s3cret")
        .env("CONNECT_USERNAME", "admin")
        .env("CONNECT_PASSWORD", "connect-s3cret")
        .env("RUST_LOG", "trace")
        .env("DEBUG", "true");
    fake.require_basic_auth("admin", "connect-s3cret");
    // No connector.class: Connect answers with the whole config, secrets included.
    let cm = configmap(
        "leak",
        json!({}),
        &[
            (
                "a",
                r#"{"name": "a", "config": {"connection.password": env.MYSQL_CONNECTION_PASSWORD, "other": $DB_PASSWORD}}"#,
            ),
            ("b", r#"{"name": "b", "config": {"x": ($DB_PASSWORD | tonumber)}}"#),
            (
                "c",
                r#"{"name": "c", "config": {"connector.class": "FileStreamSource", "connection.password": "literal-s3cret", "v": 1}}"#,
            ),
        ],
    );
    let run = hook.run(sync(std::slice::from_ref(&cm))).ok();
    assert!(run.log().contains("contains no connector type"), "{}", run.log());
    let changed = configmap(
        "leak",
        json!({}),
        &[(
            "c",
            r#"{"name": "c", "config": {"connector.class": "FileStreamSource", "connection.password": "literal-s3cret2", "v": 2}}"#,
        )],
    );
    let run2 = hook.run(sync(&[changed])).ok();
    assert!(run2.log().contains("changed connection.password, v"), "{}", run2.log());
    for log in [run.log(), run2.log()] {
        for secret in ["pr0perty-s3cret", "env-s3cret", "connect-s3cret", "literal-s3cret"] {
            assert!(!log.contains(secret), "{secret} leaked:\n{log}");
        }
    }
}

#[test]
fn basic_auth_from_the_streaming_ops_variables_and_bearer_tokens() {
    let fake = FakeConnect::start();
    fake.require_basic_auth("key", "secret");
    let cm = configmap("a", json!({}), &[("a", &template("a", ""))]);
    let hook = Hook::new(&fake).env("CONNECT_REST_KEY", "key").env("CONNECT_REST_SECRET", "secret");
    hook.run(sync(std::slice::from_ref(&cm))).ok();
    assert_eq!(fake.names(), ["a"]);

    let fake = FakeConnect::start();
    fake.require_bearer("t0ken");
    let hook = Hook::new(&fake).env("CONNECT_TOKEN", "t0ken");
    hook.run(sync(std::slice::from_ref(&cm))).ok();
    assert_eq!(fake.names(), ["a"]);
    let hook = Hook::new(&fake).env("CONNECT_TOKEN", "wrong").env("RETRY_BUDGET", "1s");
    let run = hook.run(sync(&[cm]));
    assert!(support::run::reported_unreachable(&run.output), "a refused read is said: {}", run.log());
    assert!(!run.log().contains("wrong"), "{}", run.log());
}

#[test]
fn old_workers_without_expand_are_read_one_by_one() {
    let fake = FakeConnect::start();
    fake.set_expand(false);
    fake.insert_connector("a", &[("connector.class", "FileStreamSource"), ("tasks.max", "1"), ("topic", "t-a")]);
    fake.insert_connector("unrelated", &[("connector.class", "FileStreamSource")]);
    let hook = Hook::new(&fake);
    let cm = configmap("a", json!({}), &[("a", &template("a", ""))]);
    hook.run(sync(&[cm])).ok();
    assert_eq!(
        methods(&fake),
        ["GET /connectors?expand=info&expand=status", "GET /connectors/a/config"],
        "no write, and no read of connectors nobody declares"
    );
}

#[test]
fn a_connector_without_status_yet_is_not_recreated() {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake);
    let cm = configmap("a", json!({}), &[("a", &template("a", ""))]);
    fake.set_status_missing_after_create(100);
    assert_a_second_run_writes_nothing(&hook, &fake, cm);
}

#[test]
fn dry_run_plans_and_changes_nothing() {
    let fake = FakeConnect::start();
    fake.insert_connector("old", &[("connector.class", "FileStreamSource")]);
    let hook = Hook::new(&fake).env("DRY_RUN", "true");
    let a = configmap("a", json!({}), &[("a", &template("a", ""))]);
    let old = configmap("old", json!({"enabled": "false"}), &[("k", &template("old", ""))]);
    let run = hook.run(sync(&[a, old])).ok();
    assert!(fake.writes().is_empty());
    assert!(run.log().contains("dry run: would create connector a"), "{}", run.log());
    assert!(run.log().contains("dry run: would delete connector old"), "{}", run.log());
}

#[test]
fn writes_are_parallel_and_bounded() {
    let names: Vec<String> = (0..8).map(|i| format!("c{i}")).collect();
    let templates: Vec<(String, String)> = names.iter().map(|n| (n.clone(), template(n, ""))).collect();
    let data: Vec<(&str, &str)> = templates.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let cm = configmap("many", json!({}), &data);
    let latency = Duration::from_millis(150);
    let elapsed = |concurrency: &str| {
        let fake = FakeConnect::start();
        fake.set_latency(latency);
        let hook = Hook::new(&fake).env("CONNECT_CONCURRENCY", concurrency);
        let started = Instant::now();
        hook.run(sync(std::slice::from_ref(&cm))).ok();
        assert_eq!(fake.names().len(), 8);
        started.elapsed()
    };
    // One read, then 8 writes two at a time: at least 5 latencies.
    assert!(elapsed("2") >= latency * 5);
    // Eight at a time: one read and one round of writes, far below 9 latencies.
    assert!(elapsed("8") < latency * 8);
}

#[test]
fn without_binding_context_it_says_so_in_one_line_and_exits_1() {
    let out = Command::new(BIN).env_clear().output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: BINDING_CONTEXT_PATH is not set"), "{stderr}");
    assert!(stderr.contains("--help") && !stderr.contains("Usage:"), "a pointer to the help, not all of it: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake).env("LOG_TYPE", "json");
    let cm = configmap("a", json!({}), &[("a", &template("a", ""))]);
    let run = hook.run(sync(&[cm])).ok();
    let lines: Vec<Value> = run.log().lines().map(|l| serde_json::from_str(l).expect(l)).collect();
    assert!(lines
        .iter()
        .any(|l| l["level"] == "info" && l["msg"] == "created connector a (ConfigMap streaming/a key a)"));
}

#[test]
fn the_streaming_ops_configmaps_work_unchanged() {
    let fake = FakeConnect::start();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut hook =
        Hook::new(&fake).env("CONNECT_OPERATOR_CONFIG_DIR", &root.join("config/example").display().to_string());
    for line in std::fs::read_to_string(root.join("config/example/connect-operator-secrets.env")).unwrap().lines() {
        if let Some((k, v)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
            hook = hook.env(k, v);
        }
    }
    let objects: Vec<Value> =
        ["customers-jdbc-source-config.yaml", "datagen-source-config.yaml", "orders-bigquery-sink-config.yaml"]
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(root.join("manifests/examples").join(f)).unwrap();
                let mut v: Value = serde_yaml_ng::from_str(&text).unwrap();
                v["metadata"]["namespace"] = json!("default");
                v
            })
            .collect();
    let run = hook.run(sync(&objects)).ok();
    assert_eq!(fake.names(), ["jdbc-customers"], "the destination.cc ConfigMaps never go to the default cluster");
    let c = fake.config("jdbc-customers").unwrap();
    assert_eq!(c["connection.password"], "GoKafka");
    assert_eq!(c["value.converter.schema.registry.url"], "https://psrc-xxxxx.us-east-2.aws.confluent.cloud");
    assert_eq!(c["value.converter.schema.registry.basic.auth.user.info"], "SR_KEY:SR_SECRET");
    assert!(
        run.log().contains(r#"ConfigMap default/datagen-source-connector: cluster "cc.env.streaming-ops-dev.kafka.microservices-orders" is not configured"#),
        "{}",
        run.log()
    );
    fake.clear_requests();
    hook.run(sync(&objects)).ok();
    assert_eq!(fake.request_count(), 1);
}

#[test]
fn a_merged_run_as_shell_operator_writes_it() {
    let fake = FakeConnect::start();
    fake.insert_connector("old-source", &[("connector.class", "FileStreamSink")]);
    let payments = [
        ("connector.class", "FileStreamSink"),
        ("topics", "orders"),
        ("file", "/tmp/payments-sink.txt"),
        ("tasks.max", "1"),
    ];
    fake.insert_connector("payments-sink", &payments);
    let hook = Hook::new(&fake);
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/contexts/merged-run.json");
    let contexts: Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    hook.run(contexts).ok();
    assert_eq!(fake.names(), ["audit-sink", "orders-sink", "payments-sink"]);
    assert_eq!(fake.config("orders-sink").unwrap()["batch.size"], "500", "the Modified state wins");
    let mut writes: Vec<String> = fake.writes().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    writes.sort();
    assert_eq!(
        writes,
        ["DELETE /connectors/old-source", "PUT /connectors/audit-sink/config", "PUT /connectors/orders-sink/config"],
        "one write per connector that differs; none for payments-sink"
    );
}

#[test]
fn a_resync_that_cannot_see_connect_fails_even_with_nothing_declared() {
    let fake = FakeConnect::start();
    let url = fake.url();
    drop(fake);
    let placeholder = FakeConnect::start();
    let hook = Hook::new(&placeholder).env("CONNECT_URL", &url).env("RETRY_BUDGET", "1s");
    let run = hook.run(schedule(&[]));
    assert_eq!(run.code(), 1, "{}", run.log());
}

#[test]
fn a_429_is_retried_after_the_time_connect_asks_for() {
    let fake = FakeConnect::start();
    fake.inject(Match::path("PUT", "/connectors/a/config"), Fault::TooMany429 { retry_after_secs: 1 }, 1);
    let hook = Hook::new(&fake);
    let cm = configmap("a", json!({}), &[("a", &template("a", ""))]);
    let run = hook.run(sync(&[cm])).ok();
    assert_eq!(fake.names(), ["a"]);
    assert!(run.elapsed >= Duration::from_secs(1), "Retry-After was honoured: {:?}", run.elapsed);
}

/// Templates that overflow the stack, allocate without end, loop forever or
/// render a config bigger than Connect keeps: each fails alone, in its own
/// child process; the hook finishes the run and applies the others.
///
/// Each limit is met on its own: the memory-hungry templates get a time limit
/// they never reach, even in a debug build on a loaded machine (a short one
/// would let the clock stop a slow `[range(1e9)]` before the memory
/// limit does), and the endless loop is met by the time limit of its own run.
#[test]
fn hostile_templates_fail_alone_and_the_run_goes_on() {
    hostile_templates_fail_alone(
        "60s",
        &[
            ("b-recursion.json", "def f: [f]; f", "stack overflow"),
            ("c-string.json", r#""x" * 1000000000"#, "more than the 64 MiB of memory"),
            ("d-array.json", "[range(1e9)] | tostring", "more than the 64 MiB of memory"),
            (
                "f-huge.json",
                r#"{"name": "huge", "config": {"x": ("y" * 2000000)}}"#,
                "over the 1 MiB a connector config may have",
            ),
        ],
    );
    hostile_templates_fail_alone("1s", &[("e-loop.json", "last(repeat(1))", "did not finish within 1s")]);
}

fn hostile_templates_fail_alone(timeout: &str, hostile: &[(&str, &str, &str)]) {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake).env("TEMPLATE_TIMEOUT", timeout).env("TEMPLATE_MEMORY_LIMIT", "64Mi");
    let mut data: Vec<(&str, &str)> = hostile.iter().map(|(key, code, _)| (*key, *code)).collect();
    let (first, last) = (template("first", ""), template("last", ""));
    data.extend([("a-first.json", first.as_str()), ("z-last.json", last.as_str())]);
    let other = configmap("other", json!({}), &[("o.json", &template("other", ""))]);
    let run = hook.run(sync(&[configmap("hostile", json!({}), &data), other]));
    assert_eq!(run.code(), 0, "template errors are permanent, reported, and never crash the hook:\n{}", run.log());
    assert_eq!(fake.names(), ["first", "last", "other"]);
    for &(key, _, why) in hostile {
        let line = run
            .log()
            .lines()
            .find(|l| l.contains(&format!("ConfigMap streaming/hostile key {key}: ")))
            .map(str::to_string);
        assert!(line.as_deref().is_some_and(|l| l.contains(why)), "{key}: {why} not in {line:?}\n{}", run.log());
    }
}

/// A batch large enough to be split over the cores keeps its order, and a
/// template that kills its child while compiling is found by halving.
#[test]
fn a_large_batch_is_split_and_keeps_its_order() {
    let fake = FakeConnect::start();
    let hook = Hook::new(&fake).env("TEMPLATE_TIMEOUT", "1s");
    let mut codes: Vec<String> = (0..350).map(|i| template(&format!("c{i:03}"), "")).collect();
    codes[120] = "last(repeat(1))".into();
    codes[260] = "{".into();
    codes[300] = "def f: [f]; f".into();
    // Kills the parser, before the batch compiles: found by halving the batch.
    codes[50] = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let data: Vec<(String, &str)> = codes.iter().enumerate().map(|(i, c)| (format!("k{i:03}"), c.as_str())).collect();
    let data: Vec<(&str, &str)> = data.iter().map(|(k, c)| (k.as_str(), *c)).collect();
    let run = hook.run(sync(&[configmap("many", json!({}), &data)])).ok();
    let names = fake.names();
    assert_eq!(names.len(), 346, "{}", run.log());
    for i in [50, 120, 260, 300] {
        assert!(!names.contains(&format!("c{i:03}")));
        assert!(run.log().contains(&format!("key k{i:03}: ")), "k{i:03}: {}", run.log());
    }
}
