//! A Synchronization of 1,000 ConfigMaps against the fake Connect: once when
//! no connector exists (1,000 creates) and once when nothing changed (one
//! read, no write). Runs the release binary exactly as shell-operator does.
//!
//! Then the creates against a Connect that answers each request in 10 ms,
//! where a run is bound by `CONNECT_CONCURRENCY` x latency.
//!
//! `cargo bench --bench sync` (optionally `-- ROUNDS`, default 5).

#[path = "../tests/support/fake_connect/mod.rs"]
mod fake_connect;

use std::process::Command;
use std::time::{Duration, Instant};

use fake_connect::FakeConnect;
use serde_json::json;

const CONFIGMAPS: usize = 1000;

fn contexts() -> serde_json::Value {
    let items: Vec<_> = (0..CONFIGMAPS)
        .map(|i| {
            let template = format!(
                r#"{{"name": "bench-{i}", "config": {{"connector.class": "FileStreamSource", "tasks.max": 1,
                    "topic": "topic-{i}", "file": "/data/{i}.txt", "schema.registry.url": $SCHEMA_REGISTRY_URL,
                    "password": env.BENCH_PASSWORD}}}}"#
            );
            let object = json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("cm-{i}"), "namespace": "bench", "labels": {"destination": "connect"}},
                "data": {"connector.json": template}});
            json!({"object": object, "filterResult": {}})
        })
        .collect();
    json!([{"binding": "connectors", "type": "Synchronization", "objects": items, "snapshots": {"connectors": items}}])
}

fn run(fake: &FakeConnect, dir: &std::path::Path) -> Duration {
    run_with(fake, dir, 4)
}

fn run_with(fake: &FakeConnect, dir: &std::path::Path, concurrency: usize) -> Duration {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_connect-operator"))
        .env_clear()
        .env("CONNECT_CONCURRENCY", concurrency.to_string())
        .env("BINDING_CONTEXT_PATH", dir.join("contexts.json"))
        .env("CONNECT_OPERATOR_CONFIG_DIR", dir)
        .env("RENDER_CACHE", dir.join("render-cache.json"))
        .env("CONNECT_URL", fake.url())
        .env("BENCH_PASSWORD", "s3cret")
        .env("RUST_LOG", std::env::var("BENCH_LOG").unwrap_or("warn".into()))
        .output()
        .expect("run the hook");
    let elapsed = started.elapsed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    if let Some(last) = String::from_utf8_lossy(&out.stderr).lines().last() {
        eprintln!("{last}");
    }
    elapsed
}

fn summary(name: &str, times: &mut [Duration], requests: usize, writes: usize) {
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{name:<16} median {median:>10.1?}  min {:>10.1?}  max {:>10.1?}  requests {requests:>5}  writes {writes:>5}",
        times[0],
        times[times.len() - 1]
    );
}

fn main() {
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contexts.json"), contexts().to_string()).unwrap();
    std::fs::write(dir.path().join("sr.properties"), "schema.registry.url=http://sr:8081\n").unwrap();

    println!("Synchronization of {CONFIGMAPS} ConfigMaps, {rounds} rounds, release binary, fake Connect on loopback");
    let (mut create, mut unchanged) = (Vec::new(), Vec::new());
    let (mut create_counts, mut unchanged_counts) = ((0, 0), (0, 0));
    for _ in 0..rounds {
        let fake = FakeConnect::start();
        create.push(run(&fake, dir.path()));
        assert_eq!(fake.names().len(), CONFIGMAPS);
        create_counts = (fake.request_count(), fake.writes().len());
        fake.clear_requests();
        unchanged.push(run(&fake, dir.path()));
        unchanged_counts = (fake.request_count(), fake.writes().len());
    }
    summary("nothing exists", &mut create, create_counts.0, create_counts.1);
    summary("nothing changed", &mut unchanged, unchanged_counts.0, unchanged_counts.1);

    let latency = Duration::from_millis(10);
    for concurrency in [4, 16] {
        let fake = FakeConnect::start();
        fake.set_latency(latency);
        let took = run_with(&fake, dir.path(), concurrency);
        let writes = fake.writes().len();
        let bound = latency * u32::try_from(writes.div_ceil(concurrency)).unwrap();
        println!(
            "create {CONFIGMAPS}, Connect answering in {latency:?}, CONNECT_CONCURRENCY={concurrency}: {took:.2?} \
             ({writes} writes; {writes} x {latency:?} / {concurrency} = {bound:.2?})"
        );
    }
}
