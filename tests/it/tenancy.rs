//! One operator for every namespace, one Connect cluster shared by teams:
//! a ConfigMap reaches only the clusters that list its namespace, and names
//! only connectors with its namespace's prefix.

use crate::support;

use std::path::Path;
use std::process::Output;

use crate::support::build::{self, log};
use crate::support::fake_connect::FakeConnect;
use crate::support::repo::{stderr, stdout, Repo};
use serde_json::{json, Value};

fn configmap(namespace: &str, name: &str, cluster: Option<&str>, connector: &str) -> Value {
    let annotations = cluster.map_or_else(|| json!({}), |c| json!({"connect-operator.io/cluster": c}));
    build::annotated(namespace, name, json!({}), annotations, &[("c.json", &build::template(connector, ""))])
}

/// A clusters file with `shared`, which team-a alone may use, with names
/// that start with the namespace.
fn shared(url: &str) -> String {
    format!("clusters:\n- name: shared\n  url: {url}\n  namespaces: [team-a]\n  namePrefix: \"{{namespace}}-\"\n")
}

/// Runs the hook on `contexts`; with what it asked shell-operator to write.
fn hook(dir: &Path, contexts: &Value, clusters: &str, env: &[(&str, &str)]) -> (Output, Vec<Value>) {
    let file = dir.join("clusters.yaml");
    std::fs::write(&file, clusters).unwrap();
    let patches = dir.join("patches.jsonl");
    let _ = std::fs::remove_file(&patches);
    let (file, patch_path) = (file.display().to_string(), patches.display().to_string());
    let mut env = env.to_vec();
    env.extend([("CONNECT_CLUSTERS_FILE", file.as_str()), ("KUBERNETES_PATCH_PATH", patch_path.as_str())]);
    env.push(("RETRY_BUDGET", "1s"));
    let out = support::run::hook(dir, contexts, &env);
    let written = std::fs::read_to_string(&patches).unwrap_or_default();
    (out, written.lines().map(|l| serde_json::from_str(l).unwrap()).collect())
}

/// What the status and the Events of ConfigMap `name` say.
fn said_of(patches: &[Value], name: &str) -> (String, String) {
    let status = patches
        .iter()
        .filter(|p| p["operation"] == "MergePatch" && p["name"] == name)
        .map(|p| p["mergePatch"]["metadata"]["annotations"].to_string())
        .collect();
    let events = patches
        .iter()
        .filter(|p| p["object"]["kind"] == "Event" && p["object"]["involvedObject"]["name"] == name)
        .map(|p| p["object"]["message"].to_string())
        .collect();
    (status, events)
}

#[test]
fn a_namespace_reaches_only_the_clusters_that_list_it() {
    let dir = tempfile::tempdir().unwrap();
    let (default, shared_connect) = (FakeConnect::start(), FakeConnect::start());
    let objects = [
        configmap("team-a", "orders", Some("shared"), "team-a-orders"),
        configmap("team-b", "intruder", Some("shared"), "team-b-orders"),
        configmap("team-b", "own", None, "team-b-own"),
    ];
    let env = [("CONNECT_URL", default.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (out, patches) = hook(dir.path(), &build::sync(&objects), &shared(&shared_connect.url()), &env);
    assert_eq!(out.status.code(), Some(0), "a refusal is no failure to retry: {}", log(&out));
    assert_eq!(shared_connect.names(), ["team-a-orders"]);
    assert_eq!(default.names(), ["team-b-own"], "the default cluster admits every namespace by default");
    assert!(
        !shared_connect.requests().iter().any(|r| r.path.contains("team-b")),
        "nothing of team-b's was sent to shared: {:?}",
        shared_connect.requests()
    );
    let (status, events) = said_of(&patches, "intruder");
    let refusal = "namespace team-b may not use cluster shared: `namespaces` of cluster shared in ";
    for said in [&status, &events, &log(&out)] {
        assert!(said.contains(refusal) && said.contains("clusters.yaml allows team-a"), "{said}");
    }
}

#[test]
fn names_without_the_namespace_prefix_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (default, shared_connect) = (FakeConnect::start(), FakeConnect::start());
    let objects = [
        configmap("team-a", "bare", Some("shared"), "orders"),
        configmap("team-a", "posing", Some("shared"), "team-b-orders"),
        configmap("team-a", "right", Some("shared"), "team-a-right"),
    ];
    let url = default.url();
    let (out, patches) =
        hook(dir.path(), &build::sync(&objects), &shared(&shared_connect.url()), &[("CONNECT_URL", &url)]);
    assert_eq!(out.status.code(), Some(0), "{}", log(&out));
    assert_eq!(shared_connect.names(), ["team-a-right"]);
    let (status, _) = said_of(&patches, "bare");
    assert!(status.contains(r#"connector name \\\"orders\\\" does not start with \\\"team-a-\\\""#), "{status}");
    let (status, _) = said_of(&patches, "posing");
    assert!(status.contains("does not start with"), "{status}");
}

#[test]
fn the_default_cluster_is_restricted_by_settings() {
    let dir = tempfile::tempdir().unwrap();
    let default = FakeConnect::start();
    let objects =
        [configmap("team-a", "orders", None, "team-a-orders"), configmap("team-b", "orders", None, "team-b-orders")];
    let url = default.url();
    let env =
        [("CONNECT_URL", url.as_str()), ("CONNECT_NAMESPACES", "team-a, ops"), ("CONNECT_NAME_PREFIX", "{namespace}-")];
    let (out, _) = hook(dir.path(), &build::sync(&objects), "clusters: []\n", &env);
    assert_eq!(out.status.code(), Some(0), "{}", log(&out));
    assert_eq!(default.names(), ["team-a-orders"]);
    assert!(
        log(&out).contains("namespace team-b may not use cluster default: CONNECT_NAMESPACES allows ops, team-a"),
        "{}",
        log(&out)
    );
}

/// A refused ConfigMap claims nothing: it cannot keep the owner's
/// connector alive once the owner lets it go.
#[test]
fn a_refused_declaration_does_not_keep_the_owners_connector() {
    let dir = tempfile::tempdir().unwrap();
    let (default, shared_connect) = (FakeConnect::start(), FakeConnect::start());
    let owner = configmap("team-a", "orders", Some("shared"), "team-a-orders");
    let intruder = configmap("team-b", "intruder", Some("shared"), "team-a-orders");
    let url = default.url();
    let clusters = shared(&shared_connect.url());
    let env = [("CONNECT_URL", url.as_str())];
    let (out, _) = hook(dir.path(), &build::sync(&[owner.clone(), intruder.clone()]), &clusters, &env);
    assert_eq!(out.status.code(), Some(0), "{}", log(&out));
    assert_eq!(shared_connect.names(), ["team-a-orders"]);
    let deleted = json!([build::event("Deleted", &owner, std::slice::from_ref(&intruder))]);
    let (out, _) = hook(dir.path(), &deleted, &clusters, &env);
    assert_eq!(out.status.code(), Some(0), "{}", log(&out));
    assert!(shared_connect.names().is_empty(), "{}", log(&out));
}

#[test]
fn the_repository_commands_refuse_the_same() {
    let repo = Repo::new();
    let fake = FakeConnect::start();
    let manifest = |ns: &str, connector: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: {ns}\n  labels: {{destination: connect}}\n\
             data:\n  c.json: '{}'\n",
            build::template(connector, "")
        )
    };
    repo.write("a.yaml", &manifest("team-a", "team-a-c"));
    repo.write("b.yaml", &manifest("team-b", "team-b-c"));
    let env = [("CONNECT_NAMESPACES", "team-a")];
    for command in ["validate", "diff"] {
        let out = repo.cli_env(&fake, &[command, "."], &env);
        let said = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{command}: {said}");
        assert!(said.contains("namespace team-b may not use cluster default: CONNECT_NAMESPACES"), "{command}: {said}");
    }
    let out = repo.cli_env(&fake, &["apply", "."], &env);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(fake.names(), ["team-a-c"], "what is allowed is applied, the rest is refused");
}
