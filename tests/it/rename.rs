//! `renamedFrom` on the command line against the fake Connect: a rename
//! carries the offsets of a source and a sink, never runs both, finishes a
//! move cut short without writing offsets twice, and changes nothing where
//! it may not happen.

use crate::support::fake_connect::{FakeConnect, Fault, Match};
use crate::support::repo::{manifest, stderr, stdout, Repo};
use serde_json::{json, Value};

const SOURCE: &[(&str, &str)] = &[("connector.class", "FileStreamSource"), ("topic", "orders"), ("file", "/in.txt")];
const SINK: &[(&str, &str)] = &[("connector.class", "FileStreamSink"), ("topics", "orders"), ("file", "/out.txt")];

fn source_offsets() -> Value {
    json!([{"partition": {"filename": "/in.txt"}, "offset": {"position": 35}}])
}

fn sink_offsets() -> Value {
    json!([
        {"partition": {"kafka_topic": "orders", "kafka_partition": 0}, "offset": {"kafka_offset": 5}},
        {"partition": {"kafka_topic": "orders", "kafka_partition": 1}, "offset": {"kafka_offset": 9}},
    ])
}

/// A running `old` with `offsets`, and a repository declaring it as `new`, renamed from `old`.
fn renaming(fake: &FakeConnect, repo: &Repo, (old, new): (&str, &str), config: &[(&str, &str)], offsets: Value) {
    fake.insert_connector(old, config);
    fake.set_offsets(old, offsets);
    let pairs: Vec<String> = config.iter().map(|(k, v)| format!(r#""{k}": "{v}""#)).collect();
    let template = format!(r#"{{"name": "{new}", "renamedFrom": "{old}", "config": {{{}}}}}"#, pairs.join(", "));
    repo.write(&format!("{new}.yaml"), &manifest(new, "", &[(&format!("{new}.json"), &template)]));
}

/// Where the first request `method path` (exactly) is in the fake's log.
fn at(fake: &FakeConnect, method: &str, path: &str) -> usize {
    let requests = fake.requests();
    requests.iter().position(|r| r.method == method && r.path == path).unwrap_or_else(|| {
        panic!(
            "no {method} {path} in {:?}",
            requests.iter().map(|r| format!("{} {}", r.method, r.path)).collect::<Vec<_>>()
        )
    })
}

fn count(fake: &FakeConnect, method: &str, path: &str) -> usize {
    fake.requests().iter().filter(|r| r.method == method && r.path == path).count()
}

#[test]
fn diff_shows_the_rename_and_apply_carries_the_offsets_of_a_source_and_a_sink() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    renaming(&fake, &repo, ("orders-src", "orders-source"), SOURCE, source_offsets());
    renaming(&fake, &repo, ("orders-sink", "orders-archive"), SINK, sink_offsets());

    let out = repo.cli(&fake, &["diff", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    for line in [
        "> rename orders-src -> orders-source (offsets carried)",
        "> rename orders-sink -> orders-archive (offsets carried)",
    ] {
        assert!(stdout(&out).contains(line), "{line}: {}", stdout(&out));
    }
    assert!(stdout(&out).contains("0 to create, 2 to rename, 0 to update, 0 to delete"), "{}", stdout(&out));
    let json = repo.cli(&fake, &["diff", ".", "--output", "json"]);
    let plan: Value = serde_json::from_slice(&json.stdout).unwrap();
    let step = plan["steps"].as_array().unwrap().iter().find(|s| s["connector"] == "orders-source").unwrap().clone();
    assert_eq!((&step["action"], &step["renamedFrom"]), (&json!("rename"), &json!("orders-src")));
    assert!(fake.writes().is_empty());

    fake.clear_requests();
    let out = repo.cli(&fake, &["apply", "."]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(fake.names(), ["orders-archive", "orders-source"]);
    assert_eq!(fake.offsets("orders-source"), Some(source_offsets()));
    assert_eq!(fake.offsets("orders-archive"), Some(sink_offsets()));
    assert_eq!(fake.connector_state("orders-source").as_deref(), Some("RUNNING"));
    assert!(
        stdout(&out).contains("> renamed connector orders-sink -> orders-archive (ConfigMap team/orders-archive key orders-archive.json), carrying the offsets of 2 partitions"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("0 deleted, 2 renamed"), "{}", stdout(&out));

    for (old, new) in [("orders-src", "orders-source"), ("orders-sink", "orders-archive")] {
        // Created STOPPED, so it never runs before its offsets are in place.
        let create = fake.requests().into_iter().find(|r| r.method == "POST" && r.body.contains(new)).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&create.body).unwrap()["initial_state"], "STOPPED");
        let created = at(&fake, "POST", "/connectors");
        let stopped = at(&fake, "PUT", &format!("/connectors/{old}/stop"));
        let written = at(&fake, "PATCH", &format!("/connectors/{new}/offsets"));
        let resumed = at(&fake, "PUT", &format!("/connectors/{new}/resume"));
        let deleted = at(&fake, "DELETE", &format!("/connectors/{old}"));
        assert!(created < stopped && stopped < written && written < resumed && resumed < deleted, "{old} -> {new}");
        assert_eq!(count(&fake, "PATCH", &format!("/connectors/{new}/offsets")), 1);
    }

    // The list (twice: the new names are not in it), then per rename 12: three offsets reads, a config read,
    // the create, the stop between two status reads, a status read of the new one, the offsets write, the
    // resume and the delete.
    let sent: Vec<String> = fake.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(sent.len() <= 2 + 2 * 12, "{} requests: {sent:?}", sent.len());
    let out = repo.cli(&fake, &["diff", "."]);
    assert_eq!(out.status.code(), Some(0), "once renamed, nothing is left to do: {}", stdout(&out));
}

/// A run stopped after the create (the offsets write failed), then one
/// stopped after the offsets were written (the resume failed): each next
/// run finishes from what Connect shows, and writes the offsets once.
#[test]
fn a_rename_cut_short_is_finished_by_the_next_run_with_the_offsets_written_once() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    renaming(&fake, &repo, ("old", "new"), SINK, sink_offsets());
    fake.inject(Match::path("PATCH", "/connectors/new/offsets"), Fault::Status(400, "cut short".into()), 1);
    let out = repo.cli(&fake, &["apply", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("! failed new"), "{}", stdout(&out));
    assert_eq!(fake.names(), ["new", "old"]);
    assert_eq!(fake.connector_state("old").as_deref(), Some("STOPPED"));
    assert_eq!(fake.connector_state("new").as_deref(), Some("STOPPED"), "never running without its offsets");

    let out = repo.cli(&fake, &["diff", "."]);
    assert!(stdout(&out).contains("> rename old -> new (offsets carried unless new has its own)"), "{}", stdout(&out));
    let out = repo.cli(&fake, &["apply", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fake.names(), ["new"]);
    assert_eq!(fake.offsets("new"), Some(sink_offsets()));
    assert_eq!(fake.connector_state("new").as_deref(), Some("RUNNING"));

    // Cut short after the offsets were written: the next run writes none.
    renaming(&fake, &repo, ("old-2", "new-2"), SOURCE, source_offsets());
    fake.inject(Match::path("PUT", "/connectors/new-2/resume"), Fault::Status(400, "cut short".into()), 1);
    assert_eq!(repo.cli(&fake, &["apply", "."]).status.code(), Some(1));
    assert_eq!(fake.offsets("new-2"), Some(source_offsets()));
    fake.clear_requests();
    let out = repo.cli(&fake, &["apply", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(count(&fake, "PATCH", "/connectors/new-2/offsets"), 0, "written once");
    assert!(stdout(&out).contains("new-2 already had offsets"), "{}", stdout(&out));
    assert_eq!(fake.names(), ["new", "new-2"]);
    assert_eq!(fake.connector_state("new-2").as_deref(), Some("RUNNING"));
}

/// `apply` refuses the rename, saying `why`, and `old` alone runs, as before.
fn refused(fake: &FakeConnect, repo: &Repo, why: &str) {
    let out = repo.cli(fake, &["apply", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains(why), "{why}: {}", stdout(&out));
    assert_eq!(fake.names(), ["old"]);
    assert_eq!(fake.connector_state("old").as_deref(), Some("RUNNING"));
}

/// A worker before Kafka 3.5 has no offsets endpoints: the rename is
/// refused, naming why, before anything is sent that changes a connector.
#[test]
fn a_worker_without_the_offsets_endpoints_refuses_the_rename_and_nothing_changes() {
    let fake = FakeConnect::start();
    fake.set_legacy(true);
    let repo = Repo::new();
    renaming(&fake, &repo, ("old", "new"), SOURCE, json!([]));
    fake.clear_requests();
    refused(&fake, &repo, "no such endpoint");
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());

    // Kafka 3.5 and 3.6 read offsets but cannot create a connector STOPPED
    // (Jackson's words for the field 3.7 added): refused before the old one stops.
    fake.set_legacy(false);
    let unknown = "Unrecognized field \"initial_state\" (class org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest), not marked as ignorable";
    fake.inject(Match::path("POST", "/connectors"), Fault::Status(500, unknown.into()), 1);
    fake.clear_requests();
    refused(&fake, &repo, "cannot create a connector STOPPED (initial_state, Kafka 3.7 or later");
    assert_eq!(fake.writes().iter().map(|r| r.method.as_str()).collect::<Vec<_>>(), ["POST"], "no stop, no offsets");
}

/// A name still declared, or renamed by two declarations, is not taken
/// over; an old name that no longer exists leaves a plain create.
#[test]
fn a_rename_that_may_not_happen_is_refused_and_one_with_nothing_to_carry_creates() {
    let fake = FakeConnect::start();
    let repo = Repo::new();
    renaming(&fake, &repo, ("old", "new"), SOURCE, source_offsets());
    let still =
        r#"{"name": "old", "config": {"connector.class": "FileStreamSource", "topic": "orders", "file": "/in.txt"}}"#;
    repo.write("still.yaml", &manifest("still", "", &[("old.json", still)]));
    refused(&fake, &repo, "renamedFrom old: connector old is still declared by ConfigMap team/still key old.json");

    std::fs::remove_file(repo.file("still.yaml")).unwrap();
    let twice =
        r#"{"name": "other", "renamedFrom": "old", "config": {"connector.class": "FileStreamSource", "topic": "o"}}"#;
    repo.write("twice.yaml", &manifest("twice", "", &[("other.json", twice)]));
    // Neither takes it over.
    refused(&fake, &repo, "renames connector old too");

    // Nothing to take over: the template is applied as it would be without `renamedFrom`.
    let fresh = FakeConnect::start();
    let out = repo.cli(&fresh, &["apply", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fresh.names(), ["new", "other"]);
    assert!(fresh.requests().iter().all(|r| r.method != "PATCH"), "{:?}", fresh.writes());
}
