//! `connect-operator wait-for-predecessors`, the Pod's init container,
//! against a fake API server over TLS: it holds shell-operator back while a
//! Pod before its own still runs, and never for good.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::fake_api::{pod, FakeApi, NAMESPACE};
use crate::support::repo::{stderr, BIN};

/// This Pod, and one created before it.
const ME: &str = "connect-operator-5d8f-new";
const OLD: &str = "connect-operator-5d8f-old";

fn command(api: &FakeApi, timeout: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["wait-for-predecessors", "--interval", "100ms", "--timeout", timeout, "--service-account-dir"])
        .arg(api.service_account())
        .env_clear()
        .env("POD_NAME", ME)
        .envs(api.env());
    command
}

fn run(api: &FakeApi, timeout: &str) -> (Output, Duration) {
    let started = Instant::now();
    let out = command(api, timeout).output().unwrap();
    (out, started.elapsed())
}

fn me() -> serde_json::Value {
    pod(ME, "2026-12-07T13:31:08Z", "Pending", false)
}

#[test]
fn it_waits_while_an_older_pod_runs_and_returns_when_it_is_gone() {
    let api = FakeApi::start();
    api.set_pods(vec![pod(OLD, "2026-12-07T13:30:00Z", "Running", true), me()]);
    let child = command(&api, "20s").stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(800));
    api.set_pods(vec![me()]);
    let out = child.wait_with_output().unwrap();
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains(&format!("waiting for Pod {OLD} (Running, being deleted")), "{log}");
    assert!(log.contains(&format!("Pod {OLD} has stopped, after ")), "{log}");
    assert!(!log.contains("gave up"), "{log}");
    let asked = api.requests();
    assert!(asked.len() >= 3, "polled: {asked:?}");
    let path = format!(
        "GET /api/v1/namespaces/{NAMESPACE}/pods?labelSelector=app%2Ekubernetes%2Eio%2Fname%3Dconnect%2Doperator"
    );
    assert!(asked.iter().all(|r| *r == path), "{asked:?}");
}

#[test]
fn a_finished_pod_is_not_waited_for() {
    let api = FakeApi::start();
    api.set_pods(vec![pod(OLD, "2026-12-07T13:30:00Z", "Succeeded", true), me()]);
    let (out, took) = run(&api, "20s");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("no earlier Pod runs: shell-operator starts ("), "{}", stderr(&out));
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn it_does_not_wait_for_a_newer_pod() {
    let api = FakeApi::start();
    api.set_pods(vec![me(), pod("connect-operator-5d8f-later", "2026-12-07T13:31:09Z", "Running", false)]);
    let (out, took) = run(&api, "20s");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("waiting for"), "{}", stderr(&out));
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn it_gives_up_after_the_timeout_with_a_warning() {
    let api = FakeApi::start();
    api.set_pods(vec![pod(OLD, "2026-12-07T13:30:00Z", "Running", false), me()]);
    let (out, took) = run(&api, "1s");
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains(&format!("warning: gave up after 1s: Pod {OLD} has not stopped")), "{log}");
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_refusal_names_the_verb_and_the_role_and_blocks_only_until_the_timeout() {
    let api = FakeApi::start();
    let said = format!(
        "pods is forbidden: User \"system:serviceaccount:{NAMESPACE}:connect-operator\" cannot list resource \"pods\" \
         in API group \"\" in the namespace \"{NAMESPACE}\""
    );
    api.refuse(403, &said);
    let (out, took) = run(&api, "1s");
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains(&format!("403 Forbidden: {said}")), "{log}");
    assert!(log.contains(&format!("`list` on `pods` in namespace {NAMESPACE}")), "{log}");
    assert!(log.contains("the Role connect-operator-pods"), "{log}");
    assert_eq!(log.matches("asking again until the timeout").count(), 1, "said once: {log}");
    assert!(log.contains("warning: gave up after 1s: the API server refused"), "{log}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn an_unreachable_api_server_blocks_only_until_the_timeout() {
    let api = FakeApi::start();
    let mut command = command(&api, "1s");
    // A port nothing listens on: the fake's, once it is gone.
    command.env("KUBERNETES_SERVICE_PORT", "1");
    let out = command.output().unwrap();
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains("cannot reach the API server"), "{log}");
    assert!(log.contains("warning: gave up after 1s"), "{log}");
}

#[test]
fn only_a_missing_pod_name_fails() {
    let api = FakeApi::start();
    let out = command(&api, "1s").env_remove("POD_NAME").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("POD_NAME is not set"), "{}", stderr(&out));
    // Not in a Pod at all: said, and shell-operator starts.
    let out = Command::new(BIN).args(["wait-for-predecessors", "--pod-name", ME]).env_clear().output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("KUBERNETES_SERVICE_HOST is not set"), "{}", stderr(&out));
}
