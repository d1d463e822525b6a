//! A fake Kubernetes API server, as far as the init container
//! (`wait-for-predecessors`) sees it: `GET .../pods?labelSelector=` over TLS
//! with a CA of the test's own, behind a ServiceAccount directory laid out
//! as kubelet mounts it (token, ca.crt, namespace).

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::fake_connect::http::{tls_config, Listener, Reply};

/// The namespace and token of the ServiceAccount directory.
pub const NAMESPACE: &str = "connect-operator";
const TOKEN: &str = "the-token";

#[derive(Default)]
struct State {
    pods: Vec<Value>,
    /// Every request answered with this status and Status body instead.
    refusal: Option<(u16, Value)>,
    requests: Vec<String>,
}

pub struct FakeApi {
    state: Arc<Mutex<State>>,
    listener: Listener,
    /// The ServiceAccount directory (`--service-account-dir`).
    pub service_account: tempfile::TempDir,
}

impl FakeApi {
    /// Listens on 127.0.0.1 with a certificate for that address, as the
    /// API server's names its Service address.
    pub fn start() -> FakeApi {
        let ca = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        let service_account = tempfile::tempdir().unwrap();
        for (file, text) in
            [("ca.crt", ca.cert.pem()), ("token", format!("{TOKEN}\n")), ("namespace", NAMESPACE.into())]
        {
            std::fs::write(service_account.path().join(file), text).unwrap();
        }
        let state = Arc::new(Mutex::new(State::default()));
        let served = state.clone();
        let tls = tls_config(&ca.cert.pem(), &ca.signing_key.serialize_pem(), None);
        let listener = Listener::start(Some(tls), move |_, incoming| {
            let mut state = served.lock().unwrap();
            state.requests.push(format!("{} {}", incoming.method, incoming.target));
            let bearer = incoming.header("Authorization") == Some(format!("Bearer {TOKEN}"));
            Some(match &state.refusal {
                Some((status, body)) => Reply::json(*status, body),
                None if !bearer => Reply::json(401, &status(401, "Unauthorized")),
                None => Reply::json(200, &json!({"kind": "PodList", "apiVersion": "v1", "items": state.pods})),
            })
        });
        FakeApi { state, listener, service_account }
    }

    /// The Service variables kubelet gives every Pod, for this server.
    pub fn env(&self) -> [(&'static str, String); 2] {
        [("KUBERNETES_SERVICE_HOST", "127.0.0.1".into()), ("KUBERNETES_SERVICE_PORT", self.listener.port.to_string())]
    }

    pub fn service_account(&self) -> &Path {
        self.service_account.path()
    }

    pub fn set_pods(&self, pods: Vec<Value>) {
        self.state.lock().unwrap().pods = pods;
    }

    /// Answers every request with `status` and a Status saying `message`.
    pub fn refuse(&self, code: u16, message: &str) {
        self.state.lock().unwrap().refusal = Some((code, status(code, message)));
    }

    /// `METHOD PATH?QUERY` of each request.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }
}

/// A Kubernetes Status.
fn status(code: u16, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "code": code})
}

/// A Pod as the API server lists it.
pub fn pod(name: &str, created: &str, phase: &str, deleting: bool) -> Value {
    let mut pod = json!({
        "metadata": {"name": name, "namespace": NAMESPACE, "creationTimestamp": created,
                     "labels": {"app.kubernetes.io/name": "connect-operator"}},
        "status": {"phase": phase},
    });
    if deleting {
        pod["metadata"]["deletionTimestamp"] = json!("2026-12-07T13:32:00Z");
    }
    pod
}
