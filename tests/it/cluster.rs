//! The fake cluster of `tests/support/cluster/`: it must do what shell-operator and the API server do, or the
//! end-to-end tests built on it prove nothing.

use std::process::Command;

use crate::support::cluster::Cluster;
use crate::support::repo::BIN;
use serde_json::{json, Value};

/// The hook's bindings, as shell-operator reads them with `--config`.
fn config(env: &[(&str, &str)]) -> Value {
    let out = Command::new(BIN).arg("--config").env_clear().envs(env.iter().copied()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_yaml_ng::from_slice(&out.stdout).unwrap()
}

const ORDERS: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: orders
  namespace: streaming
  labels: {destination: connect}
  annotations: {team: data, old: x}
data:
  orders.json: '{"name": "orders", "config": {}}'
"#;

fn cluster() -> Cluster {
    let mut cluster = Cluster::new();
    cluster.apply_yaml(ORDERS);
    cluster
}

fn orders(cluster: &Cluster) -> Value {
    cluster.get("ConfigMap", "streaming", "orders").expect("orders exists").clone()
}

/// A patch file: one JSON object a line, as the hook writes it.
fn file(operations: &[Value]) -> String {
    operations.iter().map(|operation| format!("{operation}\n")).collect()
}

fn merge(patch: Value) -> Value {
    json!({"operation": "MergePatch", "apiVersion": "v1", "kind": "ConfigMap", "namespace": "streaming",
           "name": "orders", "mergePatch": patch})
}

fn create(operation: &str, object: Value) -> Value {
    json!({"operation": operation, "object": object})
}

fn configmap(namespace: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
           "data": {"k": "v"}})
}

fn names(items: &Value) -> Vec<String> {
    let meta = |item: &Value| item["object"]["metadata"].clone();
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("{}/{}", meta(i)["namespace"], meta(i)["name"]).replace('"', ""))
        .collect()
}

/// Every binding named in includeSnapshotsFrom, sorted: the keys of `snapshots`, whatever else the config has.
fn snapshot_names(binding: &Value) -> Vec<&str> {
    let mut names: Vec<&str> =
        binding["includeSnapshotsFrom"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    names.sort();
    names
}

fn keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    keys
}

#[test]
fn objects_get_their_metadata_from_the_server_and_merge_patches_follow_rfc_7386() {
    let mut cluster = cluster();
    cluster.apply_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n");
    assert!(cluster.get("cm", "default", "plain").is_some(), "the namespace defaults to default");
    let before = orders(&cluster);
    assert!(before["metadata"]["uid"].as_str().is_some_and(|uid| uid.len() == 36));
    assert!(before["metadata"]["creationTimestamp"].as_str().unwrap().ends_with('Z'));

    let patch = merge(json!({"metadata": {"annotations": {"old": null, "new": "y"}}, "data": {"extra.json": "{}"}}));
    cluster.apply_patch_file(&file(std::slice::from_ref(&patch))).unwrap();
    let after = orders(&cluster);
    assert_eq!(after["metadata"]["annotations"], json!({"team": "data", "new": "y"}));
    assert_eq!(keys(&after["data"]), ["extra.json", "orders.json"]);
    assert_eq!(after["metadata"]["labels"], before["metadata"]["labels"]);
    assert_eq!(after["metadata"]["uid"], before["metadata"]["uid"]);
    assert_ne!(after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);

    // The same patch again changes nothing, so the object keeps its resourceVersion.
    cluster.apply_patch_file(&file(&[patch])).unwrap();
    assert_eq!(orders(&cluster), after);

    // Removing the last annotations drops the map, as Go's omitempty does; a patch may be YAML text.
    let patch = merge(json!("metadata:\n  annotations: {team: null, new: null}\ndata:\n  extra.json: null\n"));
    cluster.apply_patch_file(&file(&[patch])).unwrap();
    let object = orders(&cluster);
    assert!(object["metadata"].get("annotations").is_none(), "{object}");
    assert_eq!(keys(&object["data"]), ["orders.json"]);

    // The whole file may be multi-document YAML instead of JSON lines; `kind` is case-insensitive.
    let yaml = "operation: MergePatch\nkind: configmaps\nnamespace: streaming\nname: orders\n\
                mergePatch: {metadata: {annotations: {via: yaml}}}\n---\n\
                operation: MergePatch\nkind: CM\nnamespace: streaming\nname: orders\n\
                mergePatch: '{\"data\": {\"y\": \"1\"}}'\n";
    cluster.apply_patch_file(yaml).unwrap();
    assert_eq!(orders(&cluster)["metadata"]["annotations"], json!({"via": "yaml"}));
    assert_eq!(orders(&cluster)["data"]["y"], "1");
}

#[test]
fn json_patches_add_replace_remove_and_test() {
    let mut cluster = cluster();
    let patch = |ops: Value| {
        json!({"operation": "JSONPatch", "kind": "ConfigMap", "namespace": "streaming", "name": "orders",
               "jsonPatch": ops})
    };
    let ops = json!([
        {"op": "add", "path": "/metadata/annotations/status.connect-operator.io~1orders", "value": "RUNNING"},
        {"op": "replace", "path": "/data/orders.json", "value": "{}"},
        {"op": "remove", "path": "/metadata/annotations/old"},
        {"op": "test", "path": "/metadata/annotations/team", "value": "data"},
    ]);
    cluster.apply_patch_file(&file(&[patch(ops)])).unwrap();
    let object = orders(&cluster);
    assert_eq!(
        object["metadata"]["annotations"],
        json!({"team": "data", "status.connect-operator.io/orders": "RUNNING"})
    );
    assert_eq!(object["data"]["orders.json"], "{}");

    let failing =
        json!([{"op": "add", "path": "/data/z", "value": "1"}, {"op": "test", "path": "/data/z", "value": "2"}]);
    assert!(cluster.apply_patch_file(&file(&[patch(failing)])).unwrap_err().contains("test failed"));
    let missing = json!([{"op": "replace", "path": "/data/nope", "value": "1"}]);
    assert!(cluster.apply_patch_file(&file(&[patch(missing)])).is_err());
    assert_eq!(orders(&cluster), object, "a failed patch changes nothing");

    // The schema's tuple-form `items` wants a value in the first operation: a leading remove needs the string form.
    let remove = json!([{"op": "remove", "path": "/data/orders.json"}]);
    assert!(cluster.apply_patch_file(&file(&[patch(remove.clone())])).unwrap_err().contains("not valid"));
    cluster.apply_patch_file(&file(&[patch(json!(remove.to_string()))])).unwrap();
    assert!(orders(&cluster).get("data").is_none());
}

#[test]
fn create_fails_when_the_object_exists_and_failures_do_not_undo_the_other_operations() {
    let mut cluster = cluster();
    let error = cluster.apply_patch_file(&file(&[create("Create", configmap("streaming", "orders"))])).unwrap_err();
    assert!(error.contains(r#"configmaps "orders" already exists"#), "{error}");
    assert_eq!(
        cluster.apply_patch_file(&file(&[create("CreateIfNotExists", configmap("streaming", "orders"))])),
        Ok(vec![])
    );
    assert_eq!(orders(&cluster)["metadata"]["labels"]["destination"], "connect", "left alone");

    // CreateOrUpdate PUTs the given object: what it does not mention is gone.
    let events =
        cluster.apply_patch_file(&file(&[create("CreateOrUpdate", configmap("streaming", "orders"))])).unwrap();
    assert_eq!(events, ["Modified streaming/orders"]);
    assert!(orders(&cluster)["metadata"].get("labels").is_none());
    assert_eq!(orders(&cluster)["data"], json!({"k": "v"}));

    // An object may be YAML text.
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\n  namespace: streaming\n";
    assert_eq!(
        cluster.apply_patch_file(&file(&[create("Create", json!(yaml))])),
        Ok(vec!["Added streaming/new".into()])
    );

    // shell-operator attempts every operation and fails the run if any failed.
    let error = cluster
        .apply_patch_file(&file(&[
            create("Create", configmap("streaming", "first")),
            create("Create", configmap("streaming", "orders")),
            create("Create", configmap("nowhere", "third")),
            create("Create", configmap("streaming", "fourth")),
        ]))
        .unwrap_err();
    assert!(error.contains("document 2 (Create ConfigMap streaming/orders)"), "{error}");
    assert!(
        error.contains(r#"document 3 (Create ConfigMap nowhere/third): namespaces "nowhere" not found"#),
        "{error}"
    );
    assert!(cluster.get("ConfigMap", "streaming", "first").is_some());
    assert!(cluster.get("ConfigMap", "streaming", "fourth").is_some());
}

#[test]
fn events_are_validated_and_listed_in_creation_order() {
    let mut cluster = cluster();
    let event = |reason: &str, namespace: &str| {
        json!({"apiVersion": "v1", "kind": "Event",
               "metadata": {"generateName": "orders.", "namespace": "streaming"},
               "involvedObject": {"apiVersion": "v1", "kind": "ConfigMap", "namespace": namespace, "name": "orders"},
               "reason": reason, "message": "m", "type": "Normal", "source": {"component": "connect-operator"}})
    };
    // Events are not ConfigMaps: the binding sees nothing.
    let created = cluster.apply_patch_file(&file(&[create("Create", event("Zeta", "streaming"))])).unwrap();
    assert_eq!(created, Vec::<String>::new());
    cluster.apply_patch_file(&file(&[create("Create", event("Alpha", "streaming"))])).unwrap();
    let events = cluster.events();
    let reasons: Vec<&Value> = events.iter().map(|e| &e["reason"]).collect();
    assert_eq!(reasons, ["Zeta", "Alpha"], "creation order, not name order");
    assert!(events.iter().all(|e| e["metadata"]["name"].as_str().unwrap().starts_with("orders.")));
    assert_ne!(events[0]["metadata"]["name"], events[1]["metadata"]["name"]);

    let error = cluster.apply_patch_file(&file(&[create("Create", event("Other", "default"))])).unwrap_err();
    assert!(error.contains("does not match event.namespace"), "{error}");
    let mut stale = event("Stale", "streaming");
    stale["metadata"]["resourceVersion"] = json!("7");
    let error = cluster.apply_patch_file(&file(&[create("Create", stale)])).unwrap_err();
    assert!(error.contains("resourceVersion should not be set"), "{error}");
    assert_eq!(cluster.events().len(), 2);
}

#[test]
fn an_invalid_document_fails_the_whole_file_and_applies_nothing() {
    let mut cluster = cluster();
    let good = merge(json!({"metadata": {"annotations": {"applied": "yes"}}}));
    let mut nameless = merge(json!({"data": {"k": "v"}}));
    nameless.as_object_mut().unwrap().remove("name");
    let error = cluster.apply_patch_file(&file(&[good.clone(), nameless])).unwrap_err();
    assert!(error.contains("document 2"), "{error}");
    assert!(!error.contains("document 1"), "{error}");
    assert!(orders(&cluster)["metadata"]["annotations"].get("applied").is_none(), "nothing applied");

    for bad in [
        json!({"operation": "Patch", "kind": "ConfigMap", "name": "orders", "mergePatch": {"a": 1}}),
        json!({"operation": "Create"}),
        json!({"operation": "MergePatch", "kind": "ConfigMap", "name": "orders", "mergePatch": {}}),
        json!({"operation": "Delete", "kind": "ConfigMap"}),
    ] {
        assert!(cluster.apply_patch_file(&file(&[good.clone(), bad.clone()])).is_err(), "{bad}");
    }
    assert!(cluster.apply_patch_file("{not json\n").is_err());
    // shell-operator decodes into a Go struct first, so unknown keys are dropped rather than refused.
    let mut commented = good;
    commented["comment"] = json!("ignored");
    cluster.apply_patch_file(&file(&[commented])).unwrap();
    assert_eq!(orders(&cluster)["metadata"]["annotations"]["applied"], "yes");
}

#[test]
fn patches_of_a_missing_object_fail_unless_ignored_and_deletes_ignore_them() {
    let mut cluster = cluster();
    let mut ghost = merge(json!({"data": {"k": "v"}}));
    ghost["name"] = json!("ghost");
    let error = cluster.apply_patch_file(&file(&[ghost.clone()])).unwrap_err();
    assert!(error.contains(r#"configmaps "ghost" not found"#), "{error}");
    ghost["ignoreMissingObject"] = json!(true);
    assert_eq!(cluster.apply_patch_file(&file(&[ghost])), Ok(vec![]));

    let delete =
        |name: &str| json!({"operation": "Delete", "kind": "ConfigMap", "namespace": "streaming", "name": name});
    assert_eq!(cluster.apply_patch_file(&file(&[delete("ghost")])), Ok(vec![]));
    assert_eq!(cluster.apply_patch_file(&file(&[delete("orders")])), Ok(vec!["Deleted streaming/orders".into()]));
    assert!(cluster.get("ConfigMap", "streaming", "orders").is_none());
}

#[test]
fn the_api_server_refuses_what_it_would_refuse() {
    let mut cluster = cluster();
    let before = orders(&cluster);
    for (patch, message) in [
        (json!({"metadata": {"annotations": {"status.connect-operator.io/jdbc orders": "x"}}}), "not a qualified name"),
        (json!({"metadata": {"annotations": {"count": 3}}}), "cannot unmarshal 3"),
        (json!({"metadata": {"labels": {"enabled": "x".repeat(64)}}}), "not a valid label value"),
        (json!({"data": {"a/b": "x"}}), "a valid config key"),
        (json!({"metadata": {"name": "renamed"}}), "differs"),
        (json!({"metadata": {"resourceVersion": "0"}}), "the object has been modified"),
    ] {
        let error = cluster.apply_patch_file(&file(&[merge(patch.clone())])).unwrap_err();
        assert!(error.contains(message), "{patch}: {error}");
    }
    assert_eq!(orders(&cluster), before);
    // Fields a ConfigMap does not have are dropped, as the API server does.
    cluster.apply_patch_file(&file(&[merge(json!({"status": {"phase": "Ready"}}))])).unwrap();
    assert_eq!(orders(&cluster), before);
}

#[test]
fn modified_fires_only_when_the_jq_filter_result_changes() {
    let mut cluster = cluster();
    cluster.configure(&config(&[]));
    let mut apply = |patch: Value| {
        let version = orders(&cluster)["metadata"]["resourceVersion"].clone();
        let events = cluster.apply_patch_file(&file(&[merge(patch)])).unwrap();
        assert_ne!(
            cluster.get("ConfigMap", "streaming", "orders").map(|o| &o["metadata"]["resourceVersion"]),
            Some(&version)
        );
        events
    };
    let status = json!({"metadata": {"annotations": {"status.connect-operator.io/orders": "RUNNING"}}});
    assert_eq!(apply(status), Vec::<String>::new(), "the hook's own annotations do not trigger it");
    assert_eq!(apply(json!({"metadata": {"annotations": {"team": "platform"}}})), ["Modified streaming/orders"]);
    assert_eq!(apply(json!({"data": {"orders.json": "{}"}})), ["Modified streaming/orders"]);
    assert_eq!(apply(json!({"metadata": {"labels": {"destination": null}}})), ["Deleted streaming/orders"]);
    assert_eq!(apply(json!({"metadata": {"labels": {"destination": "connect"}}})), ["Added streaming/orders"]);

    // Without the binding's jqFilter the same kind of change is Modified: the check above can fail.
    cluster.configure(&json!({"kubernetes": [{"kind": "ConfigMap"}]}));
    let status = json!({"metadata": {"annotations": {"status.connect-operator.io/orders": "FAILED"}}});
    assert_eq!(cluster.apply_patch_file(&file(&[merge(status)])).unwrap(), ["Modified streaming/orders"]);
}

const MANY: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: zeta, namespace: streaming, labels: {destination: connect}}
data: {k: "{}"}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: beta, namespace: alpha, labels: {destination: connect}}
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: alpha
    namespace: streaming
    labels: {destination: connect}
    annotations: {status.connect-operator.io/x: "1"}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: unlabelled, namespace: streaming}
"#;

#[test]
fn contexts_have_the_documented_keys_and_sorted_snapshots() {
    let bindings = config(&[]);
    let (binding, resync) = (&bindings["kubernetes"][0], &bindings["schedule"][0]);
    let mut cluster = Cluster::new();
    cluster.configure(&bindings);
    cluster.apply_yaml(MANY);
    let sorted = ["alpha/beta", "streaming/alpha", "streaming/zeta"];

    let sync = cluster.synchronization(binding);
    assert_eq!(sync.as_array().unwrap().len(), 1);
    let sync = &sync[0];
    assert_eq!(keys(sync), ["binding", "objects", "snapshots", "type"]);
    assert_eq!((&sync["binding"], &sync["type"]), (&json!("connectors"), &json!("Synchronization")));
    assert_eq!(names(&sync["objects"]), sorted);
    assert_eq!(keys(&sync["snapshots"]), snapshot_names(binding));
    assert_eq!(sync["snapshots"]["connectors"], sync["objects"]);
    let item = &sync["objects"][1];
    assert_eq!(keys(item), ["filterResult", "object"]);
    assert_eq!(
        item["filterResult"],
        json!({"data": null, "binaryData": null, "labels": {"destination": "connect"}, "annotations": {}}),
        "the jqFilter's output, parsed"
    );

    let zeta = cluster.get("ConfigMap", "streaming", "zeta").unwrap().clone();
    let event = cluster.event(binding, "Modified", &zeta);
    assert_eq!(keys(&event), ["binding", "filterResult", "object", "snapshots", "type", "watchEvent"]);
    assert_eq!((&event["type"], &event["watchEvent"], &event["object"]), (&json!("Event"), &json!("Modified"), &zeta));
    assert_eq!(event["filterResult"]["data"], json!({"k": "{}"}));
    assert_eq!(names(&event["snapshots"]["connectors"]), sorted);

    let gone = cluster.delete("ConfigMap", "streaming", "zeta").unwrap();
    let deleted = cluster.event(binding, "Deleted", &gone);
    assert_eq!(deleted["object"], gone, "the last known state");
    assert_eq!(
        names(&deleted["snapshots"]["connectors"]),
        ["alpha/beta", "streaming/alpha"],
        "snapshots are taken now"
    );

    let schedule = cluster.schedule(resync, binding);
    assert_eq!(keys(&schedule[0]), ["binding", "snapshots", "type"]);
    assert_eq!((&schedule[0]["binding"], &schedule[0]["type"]), (&json!("resync"), &json!("Schedule")));
    assert_eq!(keys(&schedule[0]["snapshots"]), snapshot_names(resync));
    assert_eq!(names(&schedule[0]["snapshots"]["connectors"]), ["alpha/beta", "streaming/alpha"]);

    let only_alpha = config(&[("WATCH_NAMESPACES", "alpha")]);
    assert_eq!(names(&cluster.synchronization(&only_alpha["kubernetes"][0])[0]["objects"]), ["alpha/beta"]);
}

#[test]
fn snapshot_only_bindings_and_groups() {
    let config = json!({"configVersion": "v1", "kubernetes": [
        {"name": "main", "kind": "ConfigMap", "labelSelector": {"matchLabels": {"destination": "connect"}},
         "includeSnapshotsFrom": ["main", "state"]},
        {"name": "state", "kind": "ConfigMap", "executeHookOnEvent": [], "executeHookOnSynchronization": false,
         "nameSelector": {"matchNames": ["state"]}, "namespace": {"nameSelector": {"matchNames": ["default"]}},
         "keepFullObjectsInMemory": false, "jqFilter": ".data"},
        {"name": "grouped", "kind": "ConfigMap", "group": "g", "fieldSelector":
         {"matchExpressions": [{"field": "metadata.name", "operator": "=", "value": "zeta"}]}},
    ], "schedule": [{"name": "tick", "crontab": "* * * * *", "group": "g"}]});
    let mut cluster = Cluster::new();
    cluster.configure(&config);
    cluster.apply_yaml(MANY);
    let (main, state, grouped) = (&config["kubernetes"][0], &config["kubernetes"][1], &config["kubernetes"][2]);

    assert_eq!(cluster.synchronization(state), json!([]), "shell-operator does not run it");
    // The hook writes its state: the state binding sees it, but does not run the hook on it.
    let state_map = json!({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "state", "namespace": "default"},
                           "data": {"owned": "a"}});
    assert_eq!(cluster.apply_patch_file(&file(&[create("CreateOrUpdate", state_map)])), Ok(vec![]));
    let snapshots = &cluster.synchronization(main)[0]["snapshots"];
    assert_eq!(keys(snapshots), ["main", "state"]);
    assert_eq!(snapshots["state"], json!([{"filterResult": {"owned": "a"}}]), "no object kept, only the filter result");

    // A grouped binding runs as a Group context with every binding of the group in the snapshots.
    let group = &cluster.synchronization(grouped)[0];
    assert_eq!(
        group,
        &json!({"binding": "grouped", "type": "Group", "groupName": "g",
                "snapshots": {"grouped": group["snapshots"]["grouped"]}})
    );
    assert_eq!(names(&group["snapshots"]["grouped"]), ["streaming/zeta"]);
    let tick = &cluster.schedule(&config["schedule"][0], grouped)[0];
    assert_eq!(tick, &json!({"binding": "tick", "type": "Group", "groupName": "g", "snapshots": group["snapshots"]}));
    let zeta = cluster.get("ConfigMap", "streaming", "zeta").unwrap().clone();
    assert_eq!(cluster.event(grouped, "Added", &zeta), *group);
}

#[test]
fn metric_groups_expire_as_shell_operator_expires_them() {
    let mut cluster = Cluster::new();
    cluster
        .apply_metrics_file(concat!(
            r#"{"name":"connectors","action":"set","value":3,"labels":{"state":"running"}}"#,
            "\n",
            r#"{"name":"connectors","action":"set","value":1,"labels":{"state":"failed"}}"#,
            "\n",
            r#"{"name":"writes_total","action":"add","value":2}"#,
            "\n",
            r#"{"name":"writes_total","action":"add","value":1}"#,
            "\n",
            r#"{"name":"other","action":"set","value":5,"group":"elsewhere"}"#,
            "\n",
        ))
        .unwrap();
    assert_eq!(cluster.metric("connectors", &[("state", "running")]), Some(3.0));
    assert_eq!(cluster.metric("connectors", &[]), None, "labels match exactly");
    assert_eq!(cluster.metric("writes_total", &[]), Some(3.0));
    assert_eq!(cluster.metric_names(), ["connectors", "other", "writes_total"]);

    // The next run's ungrouped metrics replace all the previous ones; another group is left alone.
    cluster
        .apply_metrics_file(r#"{"name":"connectors","action":"set","value":4,"labels":{"state":"running"}}"#)
        .unwrap();
    assert_eq!(cluster.metric("connectors", &[("state", "failed")]), None);
    assert_eq!(cluster.metric("writes_total", &[]), None, "a counter restarts");
    assert_eq!(cluster.metric("other", &[]), Some(5.0));
    // A run that writes nothing leaves everything.
    cluster.apply_metrics_file("").unwrap();
    assert_eq!(cluster.metric("connectors", &[("state", "running")]), Some(4.0));

    cluster.apply_metrics_file(r#"{"group":"elsewhere","action":"expire"}"#).unwrap();
    assert_eq!(cluster.metric("other", &[]), None);
    assert_eq!(cluster.metric("connectors", &[("state", "running")]), Some(4.0), "its group was not mentioned");

    // The deprecated shortcut; an unknown action is dropped, the rest applied.
    cluster.apply_metrics_file("{\"name\":\"x\",\"set\":7}\n{\"name\":\"y\",\"action\":\"bump\",\"value\":1}").unwrap();
    assert_eq!(cluster.metric("x", &[]), Some(7.0));
    assert_eq!(cluster.metric_names(), ["x"]);

    // An invalid operation applies nothing.
    for bad in [
        "{\"name\":\"z\",\"action\":\"set\",\"value\":1}\n{\"name\":\"y\",\"action\":\"set\"}",
        r#"{"name":"z","action":"set","value":1,"labels":{"n":1}}"#,
        r#"{"name":"h","action":"observe","value":0.3}"#,
        r#"{"name":"bad-name","action":"set","value":1}"#,
        "{\"name\":\"z\"",
    ] {
        assert!(cluster.apply_metrics_file(bad).is_err(), "{bad}");
        assert_eq!(cluster.metric_names(), ["x"], "{bad}");
    }

    cluster.apply_metrics_file(r#"{"name":"h","action":"observe","value":0.3,"buckets":[0.1,0.5,1]}"#).unwrap();
    assert_eq!(cluster.metric("h_count", &[]), Some(1.0));
    assert_eq!(cluster.metric("h_sum", &[]), Some(0.3));
    assert_eq!(cluster.metric("h_bucket", &[("le", "0.1")]), Some(0.0));
    assert_eq!(cluster.metric("h_bucket", &[("le", "0.5")]), Some(1.0));
    assert_eq!(cluster.metric("h_bucket", &[("le", "+Inf")]), Some(1.0));
}
