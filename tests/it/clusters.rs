//! Several Connect clusters from a clusters file, each a fake Connect.

use crate::support;

use std::path::Path;
use std::process::Output;

use crate::support::build::{self, log};
use crate::support::fake_connect::FakeConnect;
use serde_json::{json, Value};

fn configmap(name: &str, labels: Value, annotations: Value, connector: &str) -> Value {
    let template = format!(r#"{{"name": "{connector}", "config": {{"connector.class": "FileStreamSource"}}}}"#);
    build::annotated("ns", name, labels, annotations, &[("c.json", &template)])
}

fn sync(dir: &Path, default: &str, clusters: &str, objects: &[Value], env: &[(&str, &str)]) -> Output {
    let contexts = build::sync(objects);
    let file = dir.join("clusters.yaml");
    std::fs::write(&file, clusters).unwrap();
    let file = file.display().to_string();
    let mut env = env.to_vec();
    env.extend([("CONNECT_URL", default), ("CONNECT_CLUSTERS_FILE", file.as_str()), ("RETRY_BUDGET", "1s")]);
    support::run::hook(dir, &contexts, &env)
}

#[test]
fn each_configmap_goes_to_the_cluster_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let (default, analytics, cloud) = (FakeConnect::start(), FakeConnect::start(), FakeConnect::start());
    cloud.require_basic_auth("CLOUD_KEY", "CLOUD_SECRET");
    let clusters = format!(
        "clusters:\n- name: analytics\n  url: {}\n  concurrency: 2\n- name: cc.env.dev\n  flavour: confluent-cloud\n  url: {}\n  \
         auth: {{basic: {{username: {{env: CONNECT_REST_KEY}}, password: {{env: CONNECT_REST_SECRET}}}}}}\n",
        analytics.url(),
        cloud.url()
    );
    let objects = [
        configmap("plain", json!({}), json!({}), "a"),
        configmap("annotated", json!({}), json!({"connect-operator.io/cluster": "analytics"}), "b"),
        configmap("streaming-ops", json!({"destination.cc": "cc.env.dev"}), json!({}), "c"),
        configmap("typo", json!({}), json!({"connect-operator.io/cluster": "analytcs"}), "d"),
        // The same name on two clusters is no clash.
        configmap("same-name", json!({}), json!({"connect-operator.io/cluster": "analytics"}), "a"),
    ];
    let env = [("CONNECT_REST_KEY", "CLOUD_KEY"), ("CONNECT_REST_SECRET", "CLOUD_SECRET")];
    let out = sync(dir.path(), &default.url(), &clusters, &objects, &env);
    assert_eq!(out.status.code(), Some(0), "{}", log(&out));
    assert_eq!(default.names(), ["a"]);
    assert_eq!(analytics.names(), ["a", "b"]);
    assert_eq!(cloud.names(), ["c"]);
    assert!(
        log(&out).contains(
            r#"ConfigMap ns/typo: cluster "analytcs" is not configured (known: analytics, cc.env.dev, default"#
        ),
        "{}",
        log(&out)
    );
    assert!(!log(&out).contains("CLOUD_SECRET"), "{}", log(&out));
    // Confluent Cloud is asked with the comma form of expand.
    assert!(cloud.requests().iter().any(|r| r.path == "/connectors?expand=info,status"), "{:?}", cloud.requests());
}

#[test]
fn a_cluster_that_is_down_fails_the_run_but_not_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let default = FakeConnect::start();
    let gone = FakeConnect::start().url();
    let clusters = format!("clusters:\n- name: down\n  url: {gone}\n");
    let objects = [
        configmap("plain", json!({}), json!({}), "a"),
        configmap("lost", json!({}), json!({"connect-operator.io/cluster": "down"}), "b"),
    ];
    let out = sync(dir.path(), &default.url(), &clusters, &objects, &[]);
    assert!(support::run::reported_unreachable(&out), "{}", log(&out));
    assert_eq!(default.names(), ["a"], "the default cluster was written anyway");
    assert!(log(&out).contains("(cluster down)"), "{}", log(&out));
}

#[test]
fn a_bad_clusters_file_stops_the_run_with_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let default = FakeConnect::start();
    let clusters = "clusters:\n- name: x\n  url: http://x\n  auth: {bearer: {env: NOT_SET_ANYWHERE}}\n";
    let out = sync(dir.path(), &default.url(), clusters, &[configmap("plain", json!({}), json!({}), "a")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        log(&out).contains("cluster x: the bearer token comes from $NOT_SET_ANYWHERE, which is not set"),
        "{}",
        log(&out)
    );
    assert!(!log(&out).contains("environment variable not found"), "said twice: {}", log(&out));
    assert!(default.requests().is_empty());
}

#[test]
fn insecure_skip_verify_is_per_cluster_and_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(vec!["not-localhost.example".to_string()]).unwrap().self_signed(&key).unwrap();
    let lab = FakeConnect::start_tls(&cert.pem(), &key.serialize_pem(), None);
    let default = FakeConnect::start();
    let objects = [configmap("lab", json!({}), json!({"connect-operator.io/cluster": "lab"}), "a")];

    let strict = format!("clusters:\n- name: lab\n  url: {}\n", lab.url());
    let out = sync(dir.path(), &default.url(), &strict, &objects, &[]);
    assert!(support::run::reported_unreachable(&out), "{}", log(&out));
    assert!(lab.names().is_empty());

    let insecure = format!("clusters:\n- name: lab\n  url: {}\n  tls: {{insecureSkipVerify: true}}\n", lab.url());
    let out = sync(dir.path(), &default.url(), &insecure, &objects, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", log(&out));
    assert_eq!(lab.names(), ["a"]);
    assert!(log(&out).contains("cluster lab: TLS certificates are NOT verified"), "{}", log(&out));
}
