//! The operator end to end: a fake cluster applies the patch and metrics
//! files each run writes, as shell-operator does, and builds the next run's
//! binding contexts from what it holds; a fake Kafka Connect plays Connect.

use crate::support;

use std::process::Command;

use crate::support::build::template;
use crate::support::cluster::Cluster;
use crate::support::fake_connect::{FakeConnect, Fault, Match};
use serde_json::{json, Value};

use crate::support::repo::BIN;
const NS: &str = "streaming";

struct Operator {
    fake: FakeConnect,
    cluster: Cluster,
    config: Value,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

/// What one run did.
struct Run {
    log: String,
    /// The watch events the run's own patches caused.
    events: Vec<String>,
    patches: Vec<Value>,
}

impl Operator {
    fn new(env: &[(&str, &str)]) -> Operator {
        let mut env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.push(("OPERATOR_NAMESPACE".into(), NS.into()));
        let out = Command::new(BIN).arg("--config").env_clear().envs(env.clone()).output().unwrap();
        assert!(out.status.success());
        let config: Value = serde_yaml_ng::from_slice(&out.stdout).unwrap();
        let mut cluster = Cluster::new();
        cluster.configure(&config);
        let fake = FakeConnect::start();
        env.push(("CONNECT_URL".into(), fake.url()));
        env.push(("RETRY_BUDGET".into(), "3s".into()));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret.properties"), "db.password=pr0perty-s3cret\n").unwrap();
        env.push(("CONNECT_OPERATOR_CONFIG_DIR".into(), dir.path().display().to_string()));
        Operator { fake, cluster, config, dir, env }
    }

    fn binding(&self) -> &Value {
        &self.config["kubernetes"][0]
    }

    fn apply(&mut self, name: &str, labels: Value, annotations: Value, data: &[(&str, String)]) -> Value {
        self.apply_in(NS, name, labels, annotations, data)
    }

    /// [`Operator::apply`] in namespace `ns`.
    fn apply_in(&mut self, ns: &str, name: &str, labels: Value, annotations: Value, data: &[(&str, String)]) -> Value {
        let mut labels = labels;
        labels["destination"] = json!("connect");
        let data: serde_json::Map<String, Value> = data.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        let mut object = self.cluster.get("ConfigMap", ns, name).cloned().unwrap_or_else(
            || json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}}),
        );
        object["metadata"]["labels"] = labels;
        let mut merged = object["metadata"]["annotations"].as_object().cloned().unwrap_or_default();
        merged.extend(annotations.as_object().cloned().unwrap_or_default());
        object["metadata"]["annotations"] = Value::Object(merged);
        object["data"] = Value::Object(data);
        self.cluster.put(object);
        self.cluster.get("ConfigMap", ns, name).unwrap().clone()
    }

    /// The hook run on `contexts`: its output, and the patch file it wrote,
    /// which nothing applies.
    fn hook(&self, contexts: &Value) -> (std::process::Output, String) {
        let [bc, patch, metrics] = ["contexts.json", "patch.jsonl", "metrics.jsonl"].map(|f| self.dir.path().join(f));
        std::fs::write(&bc, contexts.to_string()).unwrap();
        std::fs::write(&patch, "").unwrap();
        std::fs::write(&metrics, "").unwrap();
        let out = Command::new(BIN)
            .env_clear()
            .env("RENDER_CACHE", self.dir.path().join("render-cache.json"))
            .envs(self.env.clone())
            .env("BINDING_CONTEXT_PATH", &bc)
            .env("KUBERNETES_PATCH_PATH", &patch)
            .env("METRICS_PATH", &metrics)
            .output()
            .unwrap();
        let text = std::fs::read_to_string(&patch).unwrap();
        (out, text)
    }

    /// A run, as shell-operator makes it: contexts in, and the output files
    /// applied when the run succeeds.
    fn run(&mut self, contexts: Value) -> Run {
        let (out, text) = self.hook(&contexts);
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "the run failed:\n{log}");
        let metrics = self.dir.path().join("metrics.jsonl");
        let patches = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let events = self.cluster.apply_patch_file(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        self.cluster.apply_metrics_file(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
        Run { log, events, patches }
    }

    fn sync(&mut self) -> Run {
        let contexts = self.cluster.synchronization(&self.config["kubernetes"][0].clone());
        self.run(contexts)
    }

    fn resync(&mut self) -> Run {
        let contexts =
            self.cluster.schedule(&self.config["schedule"][0].clone(), &self.config["kubernetes"][0].clone());
        self.run(contexts)
    }

    fn event(&mut self, watch: &str, object: &Value) -> Run {
        let context = self.cluster.event(&self.binding().clone(), watch, object);
        self.run(json!([context]))
    }

    fn status(&self, name: &str) -> Value {
        self.status_in(NS, name)
    }

    fn status_in(&self, ns: &str, name: &str) -> Value {
        let cm = self.cluster.get("ConfigMap", ns, name).expect("the ConfigMap exists");
        let text = cm["metadata"]["annotations"]["status.connect-operator.io/status"].as_str().expect("a status");
        serde_json::from_str(text).unwrap()
    }

    fn reasons(&self) -> Vec<String> {
        self.cluster.events().iter().map(|e| e["reason"].as_str().unwrap().to_string()).collect()
    }
}

#[test]
fn status_is_written_back_and_never_triggers_a_run() {
    let mut op = Operator::new(&[]);
    op.apply("orders", json!({}), json!({}), &[("a.json", template("a", "")), ("bad.json", "{".into())]);
    let run = op.sync();
    assert!(run.events.is_empty(), "the hook's own annotations fire no Modified event: {:?}", run.events);
    let status = op.status("orders");
    // The run followed what it created (READY_WAIT), so the status is already current.
    assert_eq!(status["connectors"]["a"]["state"], "RUNNING", "{status}");
    assert_eq!(
        (&status["ready"]["status"], &status["ready"]["reason"]),
        (&json!("False"), &json!("Error")),
        "bad.json: {status}"
    );
    assert_eq!(status["connectors"]["a"]["key"], "a.json");
    assert!(status["connectors"]["a"]["appliedAt"].is_string());
    assert!(status["errors"]["bad.json"].as_str().unwrap().starts_with("1:"), "{status}");
    let cm = op.cluster.get("ConfigMap", NS, "orders").unwrap();
    assert_eq!(cm["metadata"]["annotations"]["status.connect-operator.io/connectors"], r#"["a"]"#);

    // The resync reads the status Connect reports.
    op.resync();
    let status = op.status("orders");
    assert_eq!(status["connectors"]["a"]["state"], "RUNNING");
    assert_eq!(status["connectors"]["a"]["tasks"], "1/1 tasks RUNNING");
    // Nothing changed: no patch of the ConfigMap at all.
    let run = op.resync();
    assert!(run.patches.iter().all(|p| p["operation"] != "MergePatch" || p["name"] != "orders"), "{:?}", run.patches);
}

#[test]
fn events_say_what_changed_and_failures_do_not_flood() {
    let mut op = Operator::new(&[]);
    let cm = op.apply("orders", json!({}), json!({}), &[("a.json", template("a", ""))]);
    op.event("Added", &cm);
    let cm = op.apply("orders", json!({}), json!({}), &[("a.json", template("a", r#", "tasks.max": 2"#))]);
    op.event("Modified", &cm);
    let bad = r#"{"name": "bad", "config": {"connector.class": "NoSuch", "connection.password": $DB_PASSWORD}}"#;
    let cm = op.apply(
        "orders",
        json!({}),
        json!({}),
        &[("a.json", template("a", r#", "tasks.max": 2"#)), ("bad.json", bad.into())],
    );
    op.event("Modified", &cm);
    op.resync();
    op.resync();
    assert_eq!(op.reasons(), ["ConnectorCreated", "ConnectorUpdated", "ApplyFailed"]);
    let events = op.cluster.events();
    assert_eq!(events[1]["message"], "updated connector a: changed tasks.max");
    assert_eq!(events[1]["involvedObject"]["name"], "orders");
    assert_eq!(events[2]["type"], "Warning");
    let all = serde_json::to_string(&events).unwrap();
    assert!(!all.contains("pr0perty-s3cret"), "{all}");
    assert!(op.status("orders")["connectors"]["bad"]["error"].as_str().unwrap().contains("Failed to find any class"));

    let cm = op.cluster.delete("ConfigMap", NS, "orders").unwrap();
    op.event("Deleted", &cm);
    assert_eq!(op.reasons().last().unwrap(), "ConnectorDeleted");
    assert!(op.fake.names().is_empty());
}

#[test]
fn renamed_and_removed_connectors_are_deleted() {
    let mut op = Operator::new(&[]);
    let cm = op.apply("orders", json!({}), json!({}), &[("a.json", template("a", "")), ("b.json", template("b", ""))]);
    op.event("Added", &cm);
    assert_eq!(op.fake.names(), ["a", "b"]);
    let cm = op.apply("orders", json!({}), json!({}), &[("a.json", template("a2", ""))]);
    op.event("Modified", &cm);
    assert_eq!(op.fake.names(), ["a2"], "a was renamed, b's key removed");
    let cm = op.cluster.get("ConfigMap", NS, "orders").unwrap();
    assert_eq!(cm["metadata"]["annotations"]["status.connect-operator.io/connectors"], r#"["a2"]"#);

    // Deleted, and its template no longer renders: the recorded names are used.
    let cm = op.apply("orders", json!({}), json!({}), &[("a.json", template("a2", r#", "x": $GONE"#))]);
    let cm = op.cluster.delete("ConfigMap", NS, "orders").map(|_| cm).unwrap();
    let run = op.event("Deleted", &cm);
    assert!(op.fake.names().is_empty(), "{}", run.log);
}

#[test]
fn resync_repairs_drift_and_reports_metrics() {
    let mut op = Operator::new(&[]);
    op.apply("orders", json!({}), json!({}), &[("a.json", template("a", "")), ("b.json", template("b", ""))]);
    op.sync();
    op.resync();
    assert_eq!(
        op.cluster.metric("connect_operator_connectors", &[("state", "RUNNING"), ("cluster", "default")]),
        Some(2.0)
    );
    assert_eq!(op.cluster.metric("connect_operator_drift_repaired", &[("cluster", "default")]), Some(0.0));
    // Someone edits one connector and deletes the other through the REST API.
    op.fake.insert_connector("a", &[("connector.class", "FileStreamSource"), ("topic", "changed")]);
    let client: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    client.delete(format!("{}/connectors/b", op.fake.url())).call().unwrap();
    op.resync();
    assert_eq!(op.fake.config("a").unwrap()["topic"], "t-a");
    assert_eq!(op.fake.names(), ["a", "b"]);
    assert_eq!(op.cluster.metric("connect_operator_drift_repaired", &[("cluster", "default")]), Some(2.0));
    assert_eq!(op.cluster.metric("connect_operator_run_applied", &[("cluster", "default")]), Some(2.0));
    // A task fails: the series by state follow, stale ones expire.
    op.fake.set_task_state("a", 0, "FAILED");
    op.fake.set_connector_state("b", "PAUSED");
    op.run(json!([{"binding": "onStartup"}, op.cluster.schedule(&op.config["schedule"][0].clone(), &op.binding().clone())[0].clone()]));
    assert_eq!(op.cluster.metric("connect_operator_tasks", &[("state", "FAILED"), ("cluster", "default")]), Some(1.0));
}

#[test]
fn declared_state_is_created_and_kept() {
    let mut op = Operator::new(&[]);
    let paused = r#"{"name": "p", "state": "paused", "config": {"connector.class": "FileStreamSource"}}"#;
    op.apply("orders", json!({}), json!({}), &[("p.json", paused.into())]);
    op.sync();
    assert_eq!(op.fake.connector_state("p").as_deref(), Some("PAUSED"));
    let create = op.fake.writes().into_iter().find(|r| r.method == "POST").expect("created with POST");
    let body: Value = serde_json::from_str(&create.body).unwrap();
    assert_eq!(body["initial_state"], "PAUSED", "{body}");
    assert_eq!(op.status("orders")["connectors"]["p"]["state"], "PAUSED");

    let stopped = paused.replace("paused", "stopped");
    let cm = op.apply("orders", json!({}), json!({}), &[("p.json", stopped)]);
    op.event("Modified", &cm);
    assert_eq!(op.fake.connector_state("p").as_deref(), Some("STOPPED"));
    // Someone resumes it by hand: the resync puts it back.
    op.fake.set_connector_state("p", "RUNNING");
    op.resync();
    assert_eq!(op.fake.connector_state("p").as_deref(), Some("STOPPED"));
    assert!(op.reasons().contains(&"ConnectorStopped".to_string()), "{:?}", op.reasons());
}

#[test]
fn failed_tasks_restart_with_backoff_and_give_up() {
    let mut op = Operator::new(&[("AUTO_RESTART_MAX", "1")]);
    op.apply("orders", json!({}), json!({}), &[("a.json", template("a", ""))]);
    op.sync();
    op.fake.set_task_state("a", 0, "FAILED");
    op.fake.clear_requests();
    op.resync();
    let restarts: Vec<String> = op.fake.writes().iter().map(|r| r.path.clone()).collect();
    assert_eq!(restarts, ["/connectors/a/restart?includeTasks=true&onlyFailed=true"]);
    assert_eq!(op.status("orders")["connectors"]["a"]["restarts"], 1);
    assert!(op.reasons().contains(&"TaskFailed".to_string()));
    assert!(op.reasons().contains(&"ConnectorRestarted".to_string()));

    // Still failing, and the one allowed attempt is spent.
    op.fake.set_task_state("a", 0, "FAILED");
    op.fake.clear_requests();
    op.resync();
    assert!(op.fake.writes().is_empty());
    assert_eq!(op.reasons().iter().filter(|r| *r == "RestartsExhausted").count(), 1);
    op.resync();
    assert_eq!(op.reasons().iter().filter(|r| *r == "RestartsExhausted").count(), 1, "said once");

    // Healthy again: the count starts over.
    op.fake.set_task_state("a", 0, "RUNNING");
    op.resync();
    assert!(op.status("orders")["connectors"]["a"].get("restarts").is_none());
}

#[test]
fn restart_on_demand_happens_once() {
    let mut op = Operator::new(&[]);
    op.apply("orders", json!({}), json!({}), &[("a.json", template("a", ""))]);
    op.sync();
    let cm =
        op.apply("orders", json!({}), json!({"connect-operator.io/restart": "1"}), &[("a.json", template("a", ""))]);
    op.fake.clear_requests();
    op.event("Modified", &cm);
    let writes: Vec<String> = op.fake.writes().iter().map(|r| r.path.clone()).collect();
    assert_eq!(writes, ["/connectors/a/restart?includeTasks=true&onlyFailed=false"]);
    assert_eq!(op.status("orders")["restartHandled"], "1");
    op.fake.clear_requests();
    op.resync();
    assert!(op.fake.writes().is_empty());
}

#[test]
fn pruning_deletes_only_what_it_may() {
    // PRUNE=owned: a ConfigMap deleted while the operator was down.
    let mut op = Operator::new(&[("PRUNE", "owned")]);
    op.fake.insert_connector("manual", &[("connector.class", "FileStreamSource")]);
    op.apply("orders", json!({}), json!({}), &[("a.json", template("a", ""))]);
    op.apply("keep", json!({}), json!({}), &[("k.json", template("k", ""))]);
    op.sync();
    let state = op.cluster.get("ConfigMap", NS, "connect-operator-state").expect("the state ConfigMap").clone();
    assert_eq!(state["data"]["owned"], r#"{"a":"streaming/orders","k":"streaming/keep"}"#);
    op.cluster.delete("ConfigMap", NS, "orders");
    let run = op.sync();
    assert_eq!(op.fake.names(), ["k", "manual"], "{}", run.log);
    let state = op.cluster.get("ConfigMap", NS, "connect-operator-state").unwrap();
    assert_eq!(state["data"]["owned"], r#"{"k":"streaming/keep"}"#);

    // PRUNE=all deletes the rest, but never everything because of an empty snapshot.
    let mut op = Operator::new(&[("PRUNE", "all")]);
    op.fake.insert_connector("manual", &[("connector.class", "FileStreamSource")]);
    let run = op.sync();
    assert!(run.log.contains("PRUNE=all refused"), "{}", run.log);
    assert_eq!(op.fake.names(), ["manual"]);
    op.apply("keep", json!({}), json!({}), &[("k.json", template("k", ""))]);
    op.sync();
    assert_eq!(op.fake.names(), ["k"]);

    // Default: listed, left alone.
    let mut op = Operator::new(&[]);
    op.fake.insert_connector("manual", &[("connector.class", "FileStreamSource")]);
    op.apply("keep", json!({}), json!({}), &[("k.json", template("k", ""))]);
    let run = op.sync();
    assert!(run.log.contains("connectors no ConfigMap declares, left alone"), "{}", run.log);
    assert_eq!(op.fake.names(), ["k", "manual"]);
}

#[test]
fn a_failed_run_reports_nothing() {
    let mut op = Operator::new(&[("RETRY_BUDGET", "1s")]);
    op.fake.inject(Match::path("PUT", "/connectors/a/config"), Fault::Unavailable(503), 1000);
    op.apply("orders", json!({}), json!({}), &[("a.json", template("a", ""))]);
    let contexts = op.cluster.synchronization(&op.binding().clone());
    let (out, patches) = op.hook(&contexts);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(patches, "");
}

/// Confluent masks secrets in what it returns and adds keys of its own: an
/// unchanged connector is not PUT again, and a rotated secret is PUT once.
#[test]
fn masked_secrets_are_tracked_by_digest() {
    let mut op = Operator::new(&[("CONNECT_OPERATOR_DIGEST_KEY", "k3y-from-a-secret")]);
    op.fake.set_masking(Some("••••••••"));
    op.fake.set_added_keys(&[("__internal.config.version", "2"), ("cloud.provider", "aws")]);
    let tpl =
        r#"{"name": "db", "config": {"connector.class": "FileStreamSource", "connection.password": $DB_PASSWORD}}"#;
    op.apply("orders", json!({}), json!({}), &[("db.json", tpl.into())]);
    op.sync();
    let digest = op.status("orders")["connectors"]["db"]["digest"].as_str().unwrap().to_string();
    assert_eq!(digest.len(), 64);
    assert!(!serde_json::to_string(&op.status("orders")).unwrap().contains("pr0perty-s3cret"));

    let puts = |op: &Operator| op.fake.writes().iter().filter(|r| r.method == "PUT").count();
    op.fake.clear_requests();
    op.resync();
    op.resync();
    assert_eq!(puts(&op), 0, "unchanged, masked: not PUT again");

    // The secret rotates in the properties Secret: one PUT, then quiet again.
    std::fs::write(op.dir.path().join("secret.properties"), "db.password=r0tated\n").unwrap();
    op.resync();
    assert_eq!(puts(&op), 1);
    assert_eq!(op.fake.config("db").unwrap()["connection.password"], "r0tated");
    op.resync();
    assert_eq!(puts(&op), 1);
    assert_ne!(op.status("orders")["connectors"]["db"]["digest"], digest);
}

#[test]
fn without_a_digest_key_masked_values_are_left_alone_and_said() {
    let mut op = Operator::new(&[]);
    op.fake.set_masking(Some("****************"));
    let tpl =
        r#"{"name": "db", "config": {"connector.class": "FileStreamSource", "connection.password": $DB_PASSWORD}}"#;
    op.apply("orders", json!({}), json!({}), &[("db.json", tpl.into())]);
    op.sync();
    op.fake.clear_requests();
    let run = op.resync();
    assert!(op.fake.writes().is_empty());
    assert!(
        run.log.contains("without CONNECT_OPERATOR_DIGEST_KEY a change to a masked value cannot be detected"),
        "{}",
        run.log
    );
}

/// `connect-operator.io/offsets` resets, alters or lists the
/// offsets of a ConfigMap's connectors once per value, recorded in the
/// status and announced by an Event that never holds the offsets; a listing
/// goes into `<configmap>-offsets`; a failure leaves the connector in its
/// declared state and says why.
#[test]
fn the_offsets_annotation_resets_alters_and_lists_once_per_value() {
    let mut op = Operator::new(&[]);
    let data = [("a.json", template("a", ""))];
    let cm = op.apply("orders", json!({}), json!({}), &data);
    op.event("Added", &cm);
    let offsets = json!([{"partition": {"filename": "/secret/table-path"}, "offset": {"position": 42}}]);
    op.fake.set_offsets("a", offsets.clone());

    let cm = op.apply("orders", json!({}), json!({"connect-operator.io/offsets": "list"}), &data);
    op.event("Modified", &cm);
    let listing = op.cluster.get("ConfigMap", NS, "orders-offsets").expect("the listing ConfigMap").clone();
    let listed: Value = serde_json::from_str(listing["data"]["a.json"].as_str().unwrap()).unwrap();
    assert_eq!(listed, json!({"offsets": offsets}));
    assert_eq!(op.status("orders")["offsetsHandled"], "list");
    assert_eq!(op.reasons().last().unwrap(), "OffsetsListed");
    op.resync();
    assert_eq!(op.reasons().iter().filter(|r| *r == "OffsetsListed").count(), 1, "done once per value");

    let cm = op.apply("orders", json!({}), json!({"connect-operator.io/offsets": "reset"}), &data);
    let run = op.event("Modified", &cm);
    assert!(run.log.contains("stopping connector a (it is RUNNING)"), "{}", run.log);
    assert!(
        run.log.contains("reset the offsets of connector a (ConfigMap streaming/orders key a.json, as requested)"),
        "{}",
        run.log
    );
    assert_eq!(op.fake.offsets("a"), Some(json!([])));
    assert_eq!(op.fake.connector_state("a").as_deref(), Some("RUNNING"), "back to its declared state");
    assert_eq!(op.reasons().last().unwrap(), "OffsetsReset");

    let wanted = json!({"offsets": [{"partition": {"filename": "/f"}, "offset": {"position": 7}}]});
    let annotations =
        json!({"connect-operator.io/offsets": "alter", "connect-operator.io/offsets-alter": wanted.to_string()});
    let cm = op.apply("orders", json!({}), annotations, &data);
    op.event("Modified", &cm);
    assert_eq!(op.fake.offsets("a"), Some(wanted["offsets"].clone()));
    assert_eq!(op.reasons().last().unwrap(), "OffsetsAltered");

    // A worker without the offsets API: said, not retried, and the connector keeps running.
    op.fake.set_legacy(true);
    let cm = op.apply("orders", json!({}), json!({"connect-operator.io/offsets": "reset again"}), &data);
    op.event("Modified", &cm);
    assert_eq!(op.reasons().last().unwrap(), "OffsetsFailed");
    assert_eq!(op.fake.connector_state("a").as_deref(), Some("RUNNING"));
    assert_eq!(op.status("orders")["offsetsHandled"], "reset again");
    let events = serde_json::to_string(&op.cluster.events()).unwrap();
    assert!(events.contains("changing offsets needs Kafka 3.6 or later"), "{events}");
    assert!(
        !events.contains("/secret/table-path") && !events.contains("position"),
        "offsets never in Events: {events}"
    );

    let cm = op.apply("orders", json!({}), json!({"connect-operator.io/offsets": "rest"}), &data);
    op.event("Modified", &cm);
    let error = op.status("orders")["errors"]["connect-operator.io/offsets"].as_str().unwrap_or_default().to_string();
    assert!(error.contains("must start with reset, alter or list"), "{}", op.status("orders"));
}

#[test]
fn an_event_renders_what_it_touches_and_still_finds_a_name_declared_twice() {
    let mut op = Operator::new(&[("RUST_LOG", "connect_operator=debug")]);
    op.apply("one", json!({}), json!({}), &[("a.json", template("dup", ""))]);
    op.apply("other", json!({}), json!({}), &[("o.json", template("o", ""))]);
    op.sync();
    assert_eq!(op.fake.names(), ["dup", "o"]);

    // `one` and `other` are not rendered: their status says what they declare.
    op.fake.clear_requests();
    let two = op.apply("two", json!({}), json!({}), &[("t.json", template("dup", r#", "tasks.max": 9"#))]);
    let run = op.event("Added", &two);
    assert!(run.log.contains("rendering 1 of 3 ConfigMaps"), "{}", run.log);
    assert!(run.log.contains("connector dup belongs to ConfigMap streaming/one, which applied it"), "{}", run.log);
    assert!(op.fake.writes().is_empty(), "`one` applied it, `two` is refused: {:?}", op.fake.writes());

    // `other` changed and its event is still queued: what it records is no
    // longer what it declares, so it is rendered, and the new name it
    // declares now, which `two` declares too, is found twice.
    let mut other = op.cluster.get("ConfigMap", NS, "other").unwrap().clone();
    other["data"]["o.json"] = json!(template("new", ""));
    op.cluster.put(other);
    let two = op.apply("two", json!({}), json!({}), &[("t.json", template("new", ""))]);
    let run = op.event("Modified", &two);
    assert!(op.fake.writes().is_empty(), "neither declaration is applied: {:?}", op.fake.writes());
    assert!(run.log.contains("rendering 2 of 3 ConfigMaps"), "{}", run.log);
    assert!(run.log.contains("streaming/other key o.json"), "{}", run.log);
}

#[test]
fn an_event_reads_the_connectors_it_acts_on_and_keeps_the_cluster_gauges() {
    // What an event reads, without the reads that follow its writes.
    let mut op = Operator::new(&[("READY_WAIT", "0s")]);
    op.apply("one", json!({}), json!({}), &[("a.json", template("a", ""))]);
    op.apply("other", json!({}), json!({}), &[("o.json", template("o", ""))]);
    op.sync();
    op.resync();
    let running = [("state", "RUNNING"), ("cluster", "default")];
    assert_eq!(op.cluster.metric("connect_operator_connectors", &running), Some(2.0));

    // One connector changes: its config and status are read, not the cluster's list.
    op.fake.clear_requests();
    let one = op.apply("one", json!({}), json!({}), &[("a.json", template("a", r#", "tasks.max": 3"#))]);
    op.event("Modified", &one);
    assert_eq!(op.fake.config("a").unwrap()["tasks.max"], "3");
    let sent: Vec<String> = op.fake.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(sent.iter().all(|r| !r.starts_with("GET /connectors?")), "{sent:?}");
    for request in ["GET /connectors/a/config", "GET /connectors/a/status", "PUT /connectors/a/config"] {
        assert!(sent.iter().any(|r| r == request), "{request} not in {sent:?}");
    }
    // The gauges of the whole cluster stay as the last list set them; the run's own are this run's.
    assert_eq!(op.cluster.metric("connect_operator_connectors", &running), Some(2.0));
    assert_eq!(op.cluster.metric("connect_operator_run_applied", &[("cluster", "default")]), Some(1.0));

    // Deleted through the REST API: the event reads it as absent and creates it again.
    let client: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    client.delete(format!("{}/connectors/a", op.fake.url())).call().unwrap();
    let one = op.apply("one", json!({}), json!({}), &[("a.json", template("a", r#", "tasks.max": 4"#))]);
    op.event("Modified", &one);
    assert_eq!(op.fake.config("a").unwrap()["tasks.max"], "4");
    assert_eq!(op.status("one")["connectors"]["a"]["state"], "PENDING", "{}", op.status("one"));

    // An event that acts on more connectors than it is worth reading one by one lists the cluster.
    op.fake.clear_requests();
    let many: Vec<(String, String)> = (0..9).map(|i| (format!("m{i}.json"), template(&format!("m{i}"), ""))).collect();
    let many: Vec<(&str, String)> = many.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let object = op.apply("many", json!({}), json!({}), &many);
    op.event("Added", &object);
    assert_eq!(op.fake.names().len(), 11);
    let sent: Vec<String> = op.fake.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(sent.iter().any(|r| r.starts_with("GET /connectors?")), "{sent:?}");
    assert!(!sent.iter().any(|r| r.starts_with("GET /connectors/m")), "{sent:?}");
}

#[test]
fn a_resync_renders_only_what_may_have_changed() {
    let mut op = Operator::new(&[("RUST_LOG", "connect_operator=debug"), ("DB_USER", "env-s3cret")]);
    let secret = r#", "user": env.DB_USER, "password": $DB_PASSWORD"#;
    op.apply("one", json!({}), json!({}), &[("a.json", template("a", secret)), ("b.json", template("b", ""))]);
    op.apply("other", json!({}), json!({}), &[("c.json", template("c", ""))]);
    op.sync();
    let cache = std::fs::read_to_string(op.dir.path().join("render-cache.json")).unwrap();
    for value in ["env-s3cret", "pr0perty-s3cret", "t-a"] {
        assert!(!cache.contains(value), "{value} in the render cache: {cache}");
    }

    // Nothing changed: nothing is rendered, nothing written.
    op.fake.clear_requests();
    let run = op.resync();
    assert!(run.log.contains("3 templates render what they rendered before (see the render cache); rendering 0"));
    assert!(op.fake.writes().is_empty(), "{:?}", op.fake.writes());

    // Changed through the REST API, and a ConfigMap edited: those two are rendered, and put right.
    op.fake.insert_connector("a", &[("connector.class", "FileStreamSource"), ("topic", "changed")]);
    op.apply("other", json!({}), json!({}), &[("c.json", template("c", r#", "tasks.max": 2"#))]);
    let run = op.resync();
    assert!(run.log.contains("1 templates render what they rendered before (see the render cache); rendering 2"));
    assert_eq!(op.fake.config("a").unwrap()["user"], "env-s3cret");
    assert_eq!(op.fake.config("c").unwrap()["tasks.max"], "2");

    // A secret in the environment changes: every template is rendered again.
    op.env.retain(|(k, _)| k != "DB_USER");
    op.env.push(("DB_USER".into(), "rotated".into()));
    let run = op.resync();
    assert!(!run.log.contains("render what they rendered before"), "{}", run.log);
    assert_eq!(op.fake.config("a").unwrap()["user"], "rotated");
    assert!(!run.log.contains("rotated"), "a secret in the log: {}", run.log);
    let run = op.resync();
    assert!(run.log.contains("3 templates render what they rendered before (see the render cache); rendering 0"));

    // Off: every template renders every time.
    op.env.push(("RENDER_CACHE".into(), "off".into()));
    let run = op.resync();
    assert!(!run.log.contains("render what they rendered before"), "{}", run.log);
}

/// Argo CD, Flux and `kubectl wait` can tell whether the latest edit is
/// applied and running, and a Connect that does not answer leaves no stale
/// RUNNING: the status counts, says `Ready` with a reason, names the
/// ConfigMap version it describes, and says when Connect is unreachable.
#[test]
fn the_status_says_ready_counts_and_which_version_it_describes() {
    // Not followed after the create, to see the status between.
    let mut op = Operator::new(&[("RETRY_BUDGET", "1s"), ("READY_WAIT", "0s")]);
    let cm = op.apply("orders", json!({}), json!({}), &[("a.json", template("a", ""))]);
    let applied = cm["metadata"]["resourceVersion"].clone();
    let annotation = |op: &Operator, key: &str| {
        let cm = op.cluster.get("ConfigMap", NS, "orders").unwrap().clone();
        cm["metadata"]["annotations"][key].clone()
    };
    op.sync();
    assert_eq!(annotation(&op, "status.connect-operator.io/ready"), "False", "just created");
    assert_eq!(annotation(&op, "status.connect-operator.io/reason"), "Progressing");
    assert_eq!(annotation(&op, "status.connect-operator.io/observed-resource-version"), applied);

    op.resync();
    assert_eq!(annotation(&op, "status.connect-operator.io/ready"), "True");
    assert_eq!(annotation(&op, "status.connect-operator.io/reason"), "AsDeclared");
    let status = op.status("orders");
    assert_eq!(status["counts"], json!({"connectors": {"RUNNING": 1}, "tasks": {"RUNNING": 1}}));
    assert_eq!(status["connectors"]["a"]["taskCounts"], json!({"RUNNING": 1}));
    assert_eq!(status["ready"]["message"], "1 connector as declared");
    let argo = |op: &Operator| support::argocd::health(op.cluster.get("ConfigMap", NS, "orders").unwrap()).0;
    assert_eq!(argo(&op), "Healthy");
    // The hook's own patches moved the resourceVersion; the status still describes the version applied,
    // and a run that changes nothing writes nothing.
    assert_ne!(op.cluster.get("ConfigMap", NS, "orders").unwrap()["metadata"]["resourceVersion"], applied);
    let run = op.resync();
    assert!(run.patches.iter().all(|p| p["name"] != "orders"), "{:?}", run.patches);
    assert_eq!(annotation(&op, "status.connect-operator.io/observed-resource-version"), applied);

    op.fake.set_task_state("a", 0, "FAILED");
    op.env.push(("AUTO_RESTART_MAX".into(), "0".into()));
    op.resync();
    assert_eq!(annotation(&op, "status.connect-operator.io/reason"), "Failed");
    assert_eq!(op.status("orders")["counts"]["tasks"], json!({"FAILED": 1}));
    assert_eq!(argo(&op), "Degraded");

    // Connect stops answering: the status says so (and is not a stale state), and the
    // annotation that says since when makes shell-operator run the hook again...
    let url = op.fake.url();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    op.env.retain(|(k, _)| k != "CONNECT_URL");
    op.env.push(("CONNECT_URL".into(), format!("http://127.0.0.1:{closed}")));
    let run = op.resync();
    assert_eq!(annotation(&op, "status.connect-operator.io/ready"), "Unknown");
    assert_eq!(annotation(&op, "status.connect-operator.io/reason"), "ConnectUnreachable");
    let summary = annotation(&op, "status.connect-operator.io/summary");
    assert!(summary.as_str().unwrap().starts_with("Connect unreachable since "), "{summary}");
    assert!(annotation(&op, "connect-operator.io/connect-unreachable-since").is_string());
    assert_eq!(argo(&op), "Unknown");
    assert_eq!(run.events.len(), 1, "one Modified event, so the hook runs again: {:?}", run.events);
    // ...which, finding it said, fails so shell-operator retries with backoff, writing nothing.
    let contexts = op.cluster.schedule(&op.config["schedule"][0].clone(), &op.config["kubernetes"][0].clone());
    let (out, patches) = op.hook(&contexts);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(patches.is_empty());

    // Connect answers again: the status is current, and the flag is gone.
    op.env.retain(|(k, _)| k != "CONNECT_URL");
    op.env.push(("CONNECT_URL".into(), url));
    op.fake.set_task_state("a", 0, "RUNNING");
    let run = op.resync();
    assert_eq!(annotation(&op, "status.connect-operator.io/ready"), "True");
    assert!(annotation(&op, "connect-operator.io/connect-unreachable-since").is_null());
    // Both in one patch: one write to the API server, one Modified event.
    let patched = run.patches.iter().filter(|p| p["operation"] == "MergePatch" && p["name"] == "orders").count();
    assert_eq!(patched, 1, "{:?}", run.patches);
}

/// An alert can say which connector failed: one series per declared
/// connector names it, its ConfigMap and cluster, with its state and its
/// failed tasks; a deleted ConfigMap's series go.
#[test]
fn each_declared_connector_has_its_series_and_only_those() {
    let mut op = Operator::new(&[("AUTO_RESTART_MAX", "0")]);
    op.fake.insert_connector("undeclared", &[("connector.class", "FileStreamSource")]);
    let orders = op.apply("orders", json!({}), json!({}), &[("a.json", template("a", ""))]);
    op.sync();
    let labels = |state: &'static str| {
        vec![("namespace", NS), ("configmap", "orders"), ("connector", "a"), ("cluster", "default"), ("state", state)]
    };
    assert_eq!(op.cluster.metric("connect_operator_connector_state", &labels("RUNNING")), Some(1.0));
    let no_state = &labels("")[..4];
    assert_eq!(op.cluster.metric("connect_operator_connector_failed_tasks", no_state), Some(0.0));
    op.fake.set_task_state("a", 0, "FAILED");
    op.resync();
    assert_eq!(op.cluster.metric("connect_operator_connector_failed_tasks", no_state), Some(1.0));
    let series = op.cluster.series("connect_operator_connector_state");
    assert!(series.iter().all(|(l, _)| l.get("connector").map(String::as_str) != Some("undeclared")), "{series:?}");
    op.event("Deleted", &orders);
    assert!(op.cluster.series("connect_operator_connector_state").is_empty(), "expired with its ConfigMap");
}

/// The metrics table of docs/operate.md lists exactly the series the hook writes.
#[test]
fn the_docs_list_every_metric_the_hook_writes() {
    let mut op = Operator::new(&[]);
    op.apply("orders", json!({}), json!({}), &[("a.json", template("a", ""))]);
    op.sync();
    op.resync();
    let written: std::collections::BTreeSet<String> =
        op.cluster.metric_names().into_iter().filter(|n| n.starts_with("connect_operator_")).collect();
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/operate.md")).unwrap();
    let listed: std::collections::BTreeSet<String> = page
        .lines()
        .filter_map(|l| l.strip_prefix("| `connect_operator_"))
        .filter_map(|l| l.split('`').next())
        .map(|name| format!("connect_operator_{name}"))
        .collect();
    assert_eq!(written, listed);
}

/// A password written into a template is in the ConfigMap and in Git: the
/// hook says so, in the log and in one Warning Event per version of the
/// ConfigMap, naming the connector and key and never the value. One that a
/// variable or a config provider gives is not.
#[test]
fn a_literal_secret_is_warned_of_once_per_version() {
    let mut op = Operator::new(&[("RENDER_CACHE", "off")]);
    let literal = template("a", r#", "connection.password": "hunter2", "db.password": $DB_PASSWORD"#);
    let provided = template("b", r#", "connection.password": "${file:/mnt/secrets/db.properties:password}""#);
    op.apply("orders", json!({}), json!({}), &[("a.json", literal), ("b.json", provided)]);
    let run = op.sync();
    let warned =
        |r: &Run| r.patches.iter().filter(|p| p["object"]["reason"] == "LiteralSecret").cloned().collect::<Vec<_>>();
    let events = warned(&run);
    assert_eq!(events.len(), 1, "{:?}", run.patches);
    let message = events[0]["object"]["message"].as_str().unwrap();
    assert!(message.contains("connection.password of connector a (a.json)"), "{message}");
    assert!(!message.contains("db.password") && !message.contains("connector b"), "{message}");
    assert!(run.log.contains("connection.password of connector a"), "{}", run.log);
    for said in [message, run.log.as_str()] {
        assert!(!said.contains("hunter2") && !said.contains("pr0perty-s3cret"), "{said}");
    }
    // The same version again: the same Event, which shell-operator creates only once.
    let again = warned(&op.resync());
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["object"]["metadata"]["name"], events[0]["object"]["metadata"]["name"]);
    assert_eq!(op.reasons().iter().filter(|r| *r == "LiteralSecret").count(), 1, "{:?}", op.reasons());
}

/// The owned connectors of the default cluster, as the state ConfigMap records them.
fn owned(op: &Operator) -> Value {
    let state = op.cluster.get("ConfigMap", NS, "connect-operator-state").expect("the state ConfigMap");
    serde_json::from_str(state["data"]["owned"].as_str().unwrap()).unwrap()
}

const BELONGS: &str =
    "connector x belongs to ConfigMap team-a/owner, which applied it; this declaration is not applied";

/// One `kubectl apply` in the wrong namespace is no outage for the team
/// whose connector it names: the ConfigMap that applied a connector keeps
/// it, and its edits apply, whatever another ConfigMap declares.
#[test]
fn the_configmap_that_applied_a_connector_keeps_it() {
    let mut op = Operator::new(&[]);
    // The operator's own namespace, where its record goes.
    op.cluster
        .put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unrelated", "namespace": NS}}));
    let x = |extra: &str| [("x.json", template("x", extra))];
    op.apply_in("team-a", "owner", json!({}), json!({}), &x(""));
    op.sync();

    // team-b declares the same name: x is not touched.
    op.fake.clear_requests();
    let intruder = op.apply_in("team-b", "intruder", json!({}), json!({}), &x(r#", "topic": "stolen""#));
    let added = op.event("Added", &intruder);
    assert!(op.fake.writes().is_empty(), "{:?}", op.fake.writes());

    // The owner's edits apply: in a resync, and in an event for its ConfigMap.
    op.apply_in("team-a", "owner", json!({}), json!({}), &x(r#", "tasks.max": 2"#));
    let run = op.resync();
    assert_eq!(op.fake.config("x").unwrap()["tasks.max"], "2", "{}", run.log);

    // team-b is refused, and told why on its ConfigMap: in the event's run and in the resync.
    assert!(added.log.contains(BELONGS), "{}", added.log);
    assert!(run.log.contains(BELONGS), "{}", run.log);
    let error = op.status_in("team-b", "intruder")["connectors"]["x"]["error"].as_str().unwrap_or("").to_string();
    assert!(error.contains(BELONGS), "{}", op.status_in("team-b", "intruder"));
    let warning = op.cluster.events().into_iter().find(|e| e["involvedObject"]["name"] == "intruder").cloned();
    assert!(warning.is_some_and(|e| e["reason"] == "DuplicateConnector" && e["message"].to_string().contains(BELONGS)));
    assert_eq!(op.status_in("team-a", "owner")["connectors"]["x"]["state"], "RUNNING");
    assert_eq!(owned(&op), json!({"x": "team-a/owner"}));

    let owner = op.apply_in("team-a", "owner", json!({}), json!({}), &x(r#", "tasks.max": 3"#));
    op.event("Modified", &owner);
    assert_eq!(op.fake.config("x").unwrap()["tasks.max"], "3");
    let paused =
        r#"{"name": "x", "state": "paused", "config": {"connector.class": "FileStreamSource", "topic": "t-x"}}"#;
    let owner = op.apply_in("team-a", "owner", json!({}), json!({}), &[("x.json", paused.into())]);
    op.event("Modified", &owner);
    assert_eq!(op.fake.connector_state("x").as_deref(), Some("PAUSED"));
    let owner = op.apply_in("team-a", "owner", json!({}), json!({}), &x(r#", "tasks.max": 3"#));
    op.event("Modified", &owner);
    assert_eq!(op.fake.connector_state("x").as_deref(), Some("RUNNING"));

    // team-b's own edits and deletion leave x alone.
    op.fake.clear_requests();
    let intruder = op.apply_in("team-b", "intruder", json!({}), json!({}), &x(r#", "tasks.max": 8"#));
    op.event("Modified", &intruder);
    let intruder = op.cluster.delete("ConfigMap", "team-b", "intruder").unwrap();
    let run = op.event("Deleted", &intruder);
    assert!(op.fake.writes().is_empty(), "{:?}\n{}", op.fake.writes(), run.log);
    assert_eq!(op.fake.names(), ["x"]);
    assert_eq!(op.fake.config("x").unwrap()["topic"], "t-x");
    assert_eq!(owned(&op), json!({"x": "team-a/owner"}));

    // The owner removes its key: x is deleted, and the name is free for another ConfigMap.
    let owner = op.apply_in("team-a", "owner", json!({}), json!({}), &[("y.json", template("y", ""))]);
    op.event("Modified", &owner);
    assert_eq!(op.fake.names(), ["y"]);
    let taken = op.apply_in("team-b", "intruder", json!({}), json!({}), &x(r#", "topic": "theirs""#));
    op.event("Added", &taken);
    assert_eq!(op.fake.config("x").unwrap()["topic"], "theirs");
    assert_eq!(owned(&op), json!({"x": "team-b/intruder", "y": "team-a/owner"}));
}

/// A record written before owners were (a list of names) is read, its
/// owners unknown: a name declared twice is refused for both, as before;
/// the next change writes the record with owners.
#[test]
fn the_record_of_names_alone_is_read_and_rewritten_with_owners() {
    let mut op = Operator::new(&[]);
    op.apply_in("team-a", "owner", json!({}), json!({}), &[("x.json", template("x", ""))]);
    op.apply_in("team-b", "intruder", json!({}), json!({}), &[("x.json", template("x", r#", "tasks.max": 9"#))]);
    op.fake.insert_connector("x", &[("connector.class", "FileStreamSource"), ("topic", "t-x")]);
    op.cluster.put(json!({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "connect-operator-state", "namespace": NS},
                          "data": {"owned": r#"["x","gone"]"#}}));
    op.fake.clear_requests();
    let run = op.sync();
    assert!(op.fake.writes().is_empty(), "{:?}", op.fake.writes());
    assert!(run.log.contains("connector x is also declared by ConfigMap team-b/intruder key x.json"), "{}", run.log);
    assert!(run.patches.iter().all(|p| p["name"] != "connect-operator-state"), "unchanged: {:?}", run.patches);

    // team-b's declaration goes: team-a's applies, and becomes the known owner.
    let intruder = op.cluster.delete("ConfigMap", "team-b", "intruder").unwrap();
    op.event("Deleted", &intruder);
    op.resync();
    assert_eq!(op.fake.config("x").unwrap()["topic"], "t-x");
    assert_eq!(owned(&op), json!({"gone": "", "x": "team-a/owner"}));
}

const RETAIN: &str = "connect-operator.io/deletion-policy";

/// Names the ConfigMap `connect-operator-state` records as owned, whatever their owners.
fn owned_names(op: &Operator) -> Vec<String> {
    owned(op).as_object().unwrap().keys().cloned().collect()
}

/// `retain`: a removed key, then the deleted ConfigMap, leave their
/// connectors running, said in the log and in a Normal Event, and no longer
/// owned, so that PRUNE=owned never takes them later.
#[test]
fn retain_leaves_the_connectors_of_a_deleted_configmap_or_removed_key_running() {
    let mut op = Operator::new(&[("PRUNE", "owned")]);
    let both = [("a.json", template("a", "")), ("b.json", template("b", ""))];
    let cm = op.apply("orders", json!({}), json!({RETAIN: "retain"}), &both);
    op.event("Added", &cm);
    assert_eq!(op.fake.names(), ["a", "b"]);
    assert_eq!(owned_names(&op), ["a", "b"]);

    let cm = op.apply("orders", json!({}), json!({}), &[("a.json", template("a", ""))]);
    let run = op.event("Modified", &cm);
    assert_eq!(op.fake.names(), ["a", "b"], "{}", run.log);
    assert!(
        run.log.contains("leave connector b running (ConfigMap streaming/orders: its ConfigMap no longer declares it"),
        "{}",
        run.log
    );
    assert_eq!(owned_names(&op), ["a"]);
    assert_eq!(op.reasons().last().unwrap(), "ConnectorRetained");
    let cm = op.cluster.get("ConfigMap", NS, "orders").unwrap().clone();
    assert_eq!(cm["metadata"]["annotations"]["status.connect-operator.io/connectors"], r#"["a"]"#);
    // Said once: the next run no longer counts b as this ConfigMap's.
    let run = op.resync();
    assert!(!run.log.contains("leave connector b"), "{}", run.log);

    op.cluster.delete("ConfigMap", NS, "orders");
    let run = op.event("Deleted", &cm);
    assert_eq!(op.fake.names(), ["a", "b"], "{}", run.log);
    assert!(
        run.log.contains("leave connector a running (ConfigMap streaming/orders key a.json: its ConfigMap was deleted"),
        "{}",
        run.log
    );
    let retained =
        op.cluster.events().into_iter().filter(|e| e["reason"] == "ConnectorRetained").cloned().collect::<Vec<_>>();
    assert_eq!(retained.len(), 2);
    assert_eq!(retained[1]["involvedObject"]["name"], "orders");
    assert_eq!(retained[1]["type"], "Normal");
    assert!(owned_names(&op).is_empty());

    let run = op.sync();
    assert_eq!(op.fake.names(), ["a", "b"], "PRUNE=owned does not take them: {}", run.log);
}

/// `DELETION_POLICY=retain` holds for every ConfigMap whose annotation says
/// nothing; `delete` on a ConfigMap overrides it; a bad value is that
/// ConfigMap's error; `enabled: "false"` deletes under retain.
#[test]
fn the_deletion_policy_setting_and_the_annotation_that_overrides_it() {
    let mut op = Operator::new(&[("DELETION_POLICY", "retain")]);
    let plain = op.apply("plain", json!({}), json!({}), &[("p.json", template("p", ""))]);
    let deleting = op.apply("deleting", json!({}), json!({RETAIN: "delete"}), &[("d.json", template("d", ""))]);
    op.apply("disabled", json!({}), json!({}), &[("x.json", template("x", ""))]);
    op.apply("typo", json!({}), json!({RETAIN: "keep"}), &[("t.json", template("t", ""))]);
    let run = op.sync();
    assert_eq!(op.fake.names(), ["d", "p", "x"], "{}", run.log);
    let error = "annotation `connect-operator.io/deletion-policy` is \"keep\"; it must be \"delete\" or \"retain\"";
    assert!(run.log.contains(error), "{}", run.log);
    assert_eq!(op.status("typo")["errors"]["labels"], error);

    op.cluster.delete("ConfigMap", NS, "plain");
    op.cluster.delete("ConfigMap", NS, "deleting");
    let contexts = [&plain, &deleting].map(|cm| op.cluster.event(&op.binding().clone(), "Deleted", cm));
    let run = op.run(json!(contexts));
    assert_eq!(op.fake.names(), ["p", "x"], "{}", run.log);

    let disabled =
        op.apply("disabled", json!({"enabled": "false"}), json!({RETAIN: "retain"}), &[("x.json", template("x", ""))]);
    let run = op.event("Modified", &disabled);
    assert_eq!(op.fake.names(), ["p"], "enabled=false is an explicit ask: {}", run.log);
}

fn deletes_held(op: &Operator) -> Option<f64> {
    op.cluster.metric("connect_operator_deletes_held", &[("cluster", "default")])
}

/// ConfigMaps `names`, one connector each, applied by a synchronization.
fn synced(op: &mut Operator, names: &[&str]) -> Vec<Value> {
    let cms = names.iter().map(|n| op.apply(n, json!({}), json!({}), &[("c.json", template(n, ""))])).collect();
    op.sync();
    cms
}

/// Deletes the ConfigMaps `cms` (named `names`); the Deleted contexts of them.
fn deleted(op: &mut Operator, names: &[&str], cms: &[Value]) -> Vec<Value> {
    let deleted = names.iter().zip(cms).map(|(name, cm)| {
        op.cluster.delete("ConfigMap", NS, name);
        op.cluster.event(&op.binding().clone(), "Deleted", cm)
    });
    deleted.collect()
}

/// More deletes than DELETE_LIMIT in one run: none is sent, each is named,
/// the run succeeds (nothing to retry) with its other writes done, and the
/// gauge says so; a higher limit or 0 lets them through. The connectors of
/// deleted ConfigMaps stay owned, so that PRUNE=owned takes them once the
/// limit lets it.
#[test]
fn the_brake_holds_mass_deletes_until_the_limit_lets_them_through() {
    let mut op = Operator::new(&[("DELETE_LIMIT", "2"), ("PRUNE", "owned")]);
    let names = ["one", "two", "three"];
    let cms = synced(&mut op, &names);
    assert_eq!(deletes_held(&op), Some(0.0));
    let mut contexts = deleted(&mut op, &names, &cms);
    let new = op.apply("new", json!({}), json!({}), &[("n.json", template("new", ""))]);
    contexts.push(op.cluster.event(&op.binding().clone(), "Added", &new));
    let run = op.run(json!(contexts));
    assert_eq!(op.fake.names(), ["new", "one", "three", "two"], "only the create: {}", run.log);
    assert!(
        run.log.contains("this run would delete 3 connectors at once, more than the delete limit of 2")
            && run.log.contains("one, three, two")
            && run.log.contains("raise DELETE_LIMIT"),
        "{}",
        run.log
    );
    assert_eq!(deletes_held(&op), Some(3.0));
    assert!(op.reasons().iter().any(|r| r == "DeletesHeld"), "{:?}", op.reasons());
    assert_eq!(owned_names(&op), ["new", "one", "three", "two"]);
    // The resync prunes them, held again; then let through.
    let run = op.resync();
    assert_eq!((op.fake.names().len(), deletes_held(&op)), (4, Some(3.0)), "{}", run.log);
    op.env.push(("DELETE_LIMIT".into(), "0".into()));
    let run = op.resync();
    assert_eq!(op.fake.names(), ["new"], "{}", run.log);
    assert_eq!(deletes_held(&op), Some(0.0));

    for limit in ["3", "0"] {
        let mut again = Operator::new(&[("DELETE_LIMIT", limit)]);
        let cms = synced(&mut again, &names);
        let contexts = deleted(&mut again, &names, &cms);
        let run = again.run(json!(contexts));
        assert!(again.fake.names().is_empty(), "DELETE_LIMIT={limit}: {}", run.log);
        assert_eq!(deletes_held(&again), Some(0.0));
    }
}

/// Under `PRUNE=off` (the default) nothing else plans the held deletes of
/// deleted ConfigMaps again: the state ConfigMap records them, and each
/// resync plans them until the limit lets them through; one declared again
/// in the meantime is kept.
#[test]
fn held_deletes_are_planned_again_by_the_resync_without_pruning() {
    let mut op = Operator::new(&[("DELETE_LIMIT", "2")]);
    let names = ["one", "two", "three"];
    let cms = synced(&mut op, &names);
    let contexts = deleted(&mut op, &names, &cms);
    op.run(json!(contexts));
    assert_eq!(op.fake.names(), ["one", "three", "two"]);
    let state = op.cluster.get("ConfigMap", NS, "connect-operator-state").unwrap().clone();
    assert_eq!(state["data"]["held"], r#"["one","three","two"]"#);

    let run = op.resync();
    assert_eq!((op.fake.names().len(), deletes_held(&op)), (3, Some(3.0)), "held again: {}", run.log);
    assert!(!run.log.contains("left alone"), "planned, not left alone: {}", run.log);
    // `three` declared again meanwhile: it stays; the two others now fit the limit.
    op.apply("back", json!({}), json!({}), &[("c.json", template("three", ""))]);
    let run = op.resync();
    assert_eq!(op.fake.names(), ["three"], "{}", run.log);
    assert!(run.log.contains("deleted connector one (ConfigMap streaming/connect-operator-state: its declaration is gone, and the delete limit held its delete earlier)"), "{}", run.log);
    assert_eq!(deletes_held(&op), Some(0.0));
    let state = op.cluster.get("ConfigMap", NS, "connect-operator-state").unwrap().clone();
    assert!(state["data"].get("held").is_none(), "{state}");
    op.fake.clear_requests();
    op.resync();
    assert!(op.fake.writes().is_empty(), "{:?}", op.fake.writes());
}

/// The default limit never stops the delete of one ConfigMap of ordinary size.
#[test]
fn the_default_limit_lets_one_configmap_with_many_keys_go() {
    let mut op = Operator::new(&[]);
    let data: Vec<(String, String)> = (0..20).map(|i| (format!("k{i}.json"), template(&format!("c{i}"), ""))).collect();
    let data: Vec<(&str, String)> = data.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let cm = op.apply("many", json!({}), json!({}), &data);
    op.sync();
    assert_eq!(op.fake.names().len(), 20);
    op.cluster.delete("ConfigMap", NS, "many");
    let run = op.event("Deleted", &cm);
    assert!(op.fake.names().is_empty(), "{}", run.log);
}

/// A template renamed through the hook (`renamedFrom`): the new name takes
/// the old one's offsets, the old one goes, and the status, an Event, the
/// record of names and the ownership record all say so.
#[test]
fn a_renamed_connector_takes_over_its_offsets_through_the_hook() {
    let mut op = Operator::new(&[("PRUNE", "owned")]);
    let cm = op.apply("orders", json!({}), json!({}), &[("src.json", template("orders-src", ""))]);
    op.event("Added", &cm);
    let offsets = json!([{"partition": {"filename": "/in.txt"}, "offset": {"position": 35}}]);
    op.fake.set_offsets("orders-src", offsets.clone());

    let renamed = template("orders-source", "").replacen("{\"name\"", "{\"renamedFrom\": \"orders-src\", \"name\"", 1);
    let cm = op.apply("orders", json!({}), json!({}), &[("src.json", renamed)]);
    let run = op.event("Modified", &cm);
    assert_eq!(op.fake.names(), ["orders-source"], "{}", run.log);
    assert_eq!(op.fake.offsets("orders-source"), Some(offsets));
    assert!(run.log.contains("renamed connector orders-src -> orders-source (ConfigMap streaming/orders key src.json), carrying the offsets of 1 partition"), "{}", run.log);
    assert_eq!(op.reasons().last().unwrap(), "ConnectorRenamed");
    assert_eq!(
        op.status("orders")["connectors"]["orders-source"]["renamed"],
        json!({"from": "orders-src", "partitions": 1})
    );
    let cm = op.cluster.get("ConfigMap", NS, "orders").unwrap().clone();
    assert_eq!(cm["metadata"]["annotations"]["status.connect-operator.io/connectors"], r#"["orders-source"]"#);
    assert_eq!(owned_names(&op), ["orders-source"]);

    // Done once: the resync finds nothing to move, and PRUNE=owned nothing to prune.
    op.fake.clear_requests();
    let run = op.sync();
    assert!(op.fake.writes().is_empty(), "{:?}\n{}", op.fake.writes(), run.log);
}
