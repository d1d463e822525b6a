//! The benchmark table: per case, instructions (callgrind, which does not
//! depend on the machine's load), wall time (median) and peak RSS, with every
//! ConfigMap already carrying the status annotations a first run wrote, so a
//! run writes nothing; resyncs with the render cache earlier runs filled, and
//! without one, as the first resync after the pod starts.
//!
//! `cargo bench --bench table` (optionally `-- 1000` for one size; `-- ROUNDS=5`;
//! `CONNECT_OPERATOR_BIN=PATH` measures another build of the binary;
//! `-- KEEP=DIR` keeps each case's callgrind profiles in `DIR/<case>/` for
//! `callgrind_annotate`).
//! Needs valgrind and GNU time (`/usr/bin/time`). Instructions are summed over
//! the hook and its template workers (`--trace-children=yes`).

#[path = "../tests/support/fake_connect/mod.rs"]
mod fake_connect;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fake_connect::FakeConnect;
use serde_json::{json, Value};

/// The binary measured: this build's, or `CONNECT_OPERATOR_BIN` (the image's
/// static musl build, `target/x86_64-unknown-linux-musl/release/connect-operator`).
fn bin() -> String {
    std::env::var("CONNECT_OPERATOR_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_connect-operator").to_string())
}

fn configmap(i: usize) -> Value {
    let template = format!(
        r#"{{"name": "bench-{i}", "config": {{"connector.class": "FileStreamSource", "tasks.max": 1,
            "topic": "topic-{i}", "file": "/data/{i}.txt", "schema.registry.url": $SCHEMA_REGISTRY_URL,
            "password": env.BENCH_PASSWORD}}}}"#
    );
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("cm-{i}"), "namespace": "bench", "uid": format!("uid-{i}"),
                     "labels": {"destination": "connect"}, "annotations": {}},
        "data": {"connector.json": template}})
}

fn items(objects: &[Value]) -> Vec<Value> {
    objects.iter().map(|o| json!({"object": o, "filterResult": {}})).collect()
}

/// The operator's state ConfigMap (its record of owned connectors), as the
/// `state` snapshot holds it.
fn state(owned: &Value) -> Value {
    json!([{"object": {"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "connect-operator-state", "namespace": "default"}, "data": owned}}])
}

fn sync(objects: &[Value], owned: &Value) -> Value {
    let items = items(objects);
    json!([{"binding": "connectors", "type": "Synchronization", "objects": items,
            "snapshots": {"connectors": items, "state": state(owned)}}])
}

fn event(objects: &[Value], owned: &Value) -> Value {
    json!([{"binding": "connectors", "type": "Event", "watchEvent": "Modified", "object": objects[0],
            "filterResult": {}, "snapshots": {"connectors": items(objects), "state": state(owned)}}])
}

/// What a measured run is given.
struct Case<'a> {
    fake: &'a FakeConnect,
    dir: &'a Path,
    contexts: Value,
    /// `RENDER_CACHE`: the file earlier runs filled, or `off` for a resync
    /// right after the pod started.
    cache: String,
}

/// The hook on the case's contexts, as shell-operator runs it; optionally under a wrapper.
fn hook(case: &Case, wrapper: &[&str]) -> (Duration, String) {
    let Case { fake, dir, contexts, cache } = case;
    let path = dir.join("contexts.json");
    std::fs::write(&path, contexts.to_string()).unwrap();
    let patch = dir.join("patch.jsonl");
    std::fs::write(&patch, "").unwrap();
    let bin = bin();
    let mut command = Command::new(wrapper.first().copied().unwrap_or(&bin));
    command.args(wrapper.iter().skip(1)).args(if wrapper.is_empty() { vec![] } else { vec![bin.as_str()] });
    let started = Instant::now();
    let out = command
        .env_clear()
        .env("BINDING_CONTEXT_PATH", &path)
        .env("KUBERNETES_PATCH_PATH", &patch)
        .env("CONNECT_OPERATOR_CONFIG_DIR", dir)
        .env("RENDER_CACHE", cache)
        .env("CONNECT_URL", fake.url())
        .env("BENCH_PASSWORD", "s3cret")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the hook");
    let elapsed = started.elapsed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (elapsed, std::fs::read_to_string(&patch).unwrap())
}

/// The ConfigMaps with the annotations a run wrote back, and the owned record.
fn annotated(mut objects: Vec<Value>, owned: &mut Value, patches: &str) -> Vec<Value> {
    for line in patches.lines() {
        let op: Value = serde_json::from_str(line).unwrap();
        if op["operation"] != "MergePatch" || op["kind"] != "ConfigMap" {
            continue;
        }
        if op["name"] == "connect-operator-state" {
            *owned = op["mergePatch"]["data"].clone();
            continue;
        }
        let Some(i) = op["name"].as_str().and_then(|n| n.strip_prefix("cm-")).and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        objects[i]["metadata"]["annotations"] = op["mergePatch"]["metadata"]["annotations"].clone();
    }
    objects
}

/// Instructions of the hook and its children, from callgrind's totals. The
/// run is made twice and the second counted: valgrind adds to the
/// environment, which the render cache's inputs include, and a pod's
/// environment is the same from run to run.
fn instructions(case: &Case, out_dir: &Path) -> u64 {
    let file = format!("--callgrind-out-file={}/cg.%p", out_dir.display());
    for _ in 0..2 {
        let _ = std::fs::remove_dir_all(out_dir);
        std::fs::create_dir_all(out_dir).unwrap();
        hook(case, &["valgrind", "--tool=callgrind", "--trace-children=yes", "--quiet", &file]);
    }
    let files: Vec<PathBuf> = std::fs::read_dir(out_dir).unwrap().map(|e| e.unwrap().path()).collect();
    files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).ok()?;
            text.lines()
                .find_map(|l| l.strip_prefix("totals: ").or_else(|| l.strip_prefix("summary: ")))?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// Peak RSS of the hook process, in MB (GNU time's %M is KiB).
fn peak_rss(case: &Case) -> f64 {
    let report = case.dir.join("time.txt");
    let output = format!("--output={}", report.display());
    hook(case, &["/usr/bin/time", "-f", "%M", &output]);
    let kib: f64 = std::fs::read_to_string(report).unwrap().trim().lines().last().unwrap().parse().unwrap();
    kib / 1024.0
}

fn median(case: &Case, rounds: usize) -> Duration {
    let mut times: Vec<Duration> = (0..rounds).map(|_| hook(case, &[]).0).collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes: Vec<usize> = match args.iter().filter_map(|a| a.parse().ok()).collect::<Vec<_>>() {
        sizes if sizes.is_empty() => vec![1_000, 10_000],
        sizes => sizes,
    };
    let rounds = args.iter().find_map(|a| a.strip_prefix("ROUNDS=")?.parse().ok()).unwrap_or(5);
    let keep: Option<PathBuf> = args.iter().find_map(|a| Some(PathBuf::from(a.strip_prefix("KEEP=")?)));
    println!("| case | instructions | wall (median of {rounds}) | peak RSS |");
    println!("|---|---|---|---|");
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sr.properties"), "schema.registry.url=http://sr:8081\n").unwrap();
        let fake = FakeConnect::start();
        let objects: Vec<Value> = (0..n).map(configmap).collect();
        let cache = dir.path().join("render-cache.json").display().to_string();
        let case = |contexts: Value, cache: &str| Case { fake: &fake, dir: dir.path(), contexts, cache: cache.into() };
        // Created, then observed RUNNING: the annotations settle by the third run.
        let (mut objects, mut owned) = (objects, json!({}));
        for _ in 0..3 {
            let (_, patches) = hook(&case(sync(&objects, &owned), &cache), &[]);
            objects = annotated(objects, &mut owned, &patches);
        }
        let (_, again) = hook(&case(sync(&objects, &owned), &cache), &[]);
        assert!(
            !again.contains("MergePatch"),
            "the annotations did not settle: {}",
            again.lines().find(|l| l.contains("MergePatch")).unwrap_or_default()
        );
        for (name, run) in [
            (format!("Synchronization {n}, nothing changed"), case(sync(&objects, &owned), &cache)),
            (
                format!("Synchronization {n}, first after a start (no render cache)"),
                case(sync(&objects, &owned), "off"),
            ),
            (format!("one Modified event, snapshot of {n}"), case(event(&objects, &owned), &cache)),
        ] {
            fake.clear_requests();
            let wall = median(&run, rounds);
            assert!(fake.writes().is_empty(), "{name}: a run wrote {:?}", fake.writes());
            let rss = peak_rss(&run);
            let profiles = match &keep {
                Some(keep) => keep.join(name.replace([' ', ',', '(', ')'], "-")),
                None => dir.path().join("callgrind"),
            };
            let instructions = instructions(&run, &profiles);
            println!(
                "| {name} | {:.0} M | {:.0} ms | {rss:.0} MB |",
                instructions as f64 / 1e6,
                wall.as_secs_f64() * 1000.0
            );
        }
    }
}
