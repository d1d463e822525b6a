//! The real programs `e2e/up` started: Kafka Connect's REST API, the
//! Kubernetes API server (through kubectl), and the hook run the way
//! shell-operator runs it.
//!
//! shell-operator itself cannot be built here (e2e/versions), so [`Hook`]
//! does its part, and only that: it takes the snapshot of labelled
//! ConfigMaps from the real API server with the operator's own token, writes
//! the binding context, runs the release binary through `hooks/connect-operator`
//! with the Deployment's environment, and applies the patch file (MergePatch,
//! CreateIfNotExists) with the operator's token, only after a run that exits 0.
//! Everything it talks to is real: a `forbidden` from RBAC fails the test.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// What `e2e/up` exported.
pub struct Env {
    pub connect: String,
    pub connect_2: String,
    pub admin_kubeconfig: String,
    pub operator_kubeconfig: String,
    pub namespace: String,
    pub run_dir: PathBuf,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run the suite with e2e/test, after e2e/up"))
}

impl Env {
    pub fn get() -> Env {
        Env {
            connect: var("CONNECT_URL"),
            connect_2: var("CONNECT_URL_2"),
            admin_kubeconfig: var("KUBECONFIG"),
            operator_kubeconfig: var("E2E_OPERATOR_KUBECONFIG"),
            namespace: var("E2E_NAMESPACE"),
            run_dir: PathBuf::from(var("E2E_RUN_DIR")),
        }
    }

    pub fn files(&self) -> PathBuf {
        self.run_dir.join("files")
    }

    /// kubectl as the suite's administrator, in the operator's namespace.
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Output {
        kubectl(&self.admin_kubeconfig, &self.namespace, args, stdin)
    }

    pub fn apply(&self, manifest: &Value) {
        let out = self.kubectl(&["apply", "-f", "-"], Some(&manifest.to_string()));
        assert!(out.status.success(), "kubectl apply: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Many objects in one `kubectl apply`, as a List.
    pub fn apply_all(&self, manifests: Vec<Value>) {
        self.apply(&json!({"apiVersion": "v1", "kind": "List", "items": manifests}));
    }

    pub fn delete_configmap(&self, name: &str) {
        let out = self.kubectl(&["delete", "configmap", name, "--ignore-not-found"], None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn configmap(&self, name: &str) -> Option<Value> {
        let out = self.kubectl(&["get", "configmap", name, "-o", "json"], None);
        out.status.success().then(|| serde_json::from_slice(&out.stdout).unwrap())
    }

    /// The Events about one ConfigMap: `reason: message` each.
    pub fn events(&self, configmap: &str) -> Vec<String> {
        let selector = format!("involvedObject.name={configmap}");
        let out = self.kubectl(&["get", "events", "--field-selector", &selector, "-o", "json"], None);
        let list: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let items = list["items"].as_array().cloned().unwrap_or_default();
        items
            .iter()
            .map(|e| format!("{}: {}", e["reason"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")))
            .collect()
    }

    pub fn connect_get(&self, path: &str) -> Option<Value> {
        let mut response = ureq::get(&format!("{}{path}", self.connect)).call().ok()?;
        response.body_mut().read_json().ok()
    }

    pub fn connector_config(&self, name: &str) -> Option<Value> {
        self.connect_get(&format!("/connectors/{name}/config"))
    }

    /// Connector state and task states, `None` until Connect has a status.
    pub fn state(&self, name: &str) -> Option<(String, Vec<String>)> {
        let status = self.connect_get(&format!("/connectors/{name}/status"))?;
        let tasks = status["tasks"].as_array()?.iter().map(|t| t["state"].as_str().unwrap_or("").to_string()).collect();
        Some((status["connector"]["state"].as_str()?.to_string(), tasks))
    }

    pub fn names(&self, prefix: &str) -> Vec<String> {
        let list = self.connect_get("/connectors").unwrap_or_default();
        let mut names: Vec<String> = list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str())
            .filter(|n| n.starts_with(prefix))
            .map(str::to_string)
            .collect();
        names.sort();
        names
    }

    /// A clean start for one test: no labelled ConfigMap, no ownership
    /// record, and no connector of the suite's (`e2e-...`) in Connect. The
    /// hook sees the whole namespace, as shell-operator does, so what one
    /// test leaves would be reconciled by the next.
    pub fn reset(&self) {
        for args in [
            &["delete", "configmaps", "-l", "destination=connect", "--ignore-not-found", "--wait"][..],
            &["delete", "configmap", "connect-operator-state", "--ignore-not-found"],
        ] {
            let out = self.kubectl(args, None);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        self.delete_connectors("e2e-");
    }

    /// Deletes every connector whose name starts with `prefix`, straight through the REST API.
    pub fn delete_connectors(&self, prefix: &str) {
        for name in self.names(prefix) {
            let _ = ureq::delete(&format!("{}/connectors/{name}", self.connect)).call();
        }
        wait_until(Duration::from_secs(30), || self.names(prefix).is_empty());
    }

    pub fn create_connector(&self, name: &str, config: Value) {
        let response = ureq::put(&format!("{}/connectors/{name}/config", self.connect)).send_json(config);
        assert!(response.is_ok(), "{response:?}");
    }

    /// Requests the hook sent to either worker, as their REST logs say
    /// (`METHOD path status`), from `since` on (a count of earlier ones).
    pub fn hook_requests(&self) -> Vec<String> {
        let mut requests = Vec::new();
        for worker in ["connect-1", "connect-2"] {
            let log = std::fs::read_to_string(self.run_dir.join(format!("{worker}.log"))).unwrap_or_default();
            for line in log.lines().filter(|l| l.contains("\"connect-operator/")) {
                let Some(start) = line.find("] \"") else { continue };
                let rest = &line[start + 3..];
                let mut parts = rest.splitn(2, "\" ");
                let (Some(request), Some(after)) = (parts.next(), parts.next()) else { continue };
                let status = after.split(' ').next().unwrap_or("");
                let mut words = request.split(' ');
                requests.push(format!("{} {} {status}", words.next().unwrap_or(""), words.next().unwrap_or("")));
            }
        }
        requests
    }

    /// The writes (not GETs) among the hook's requests after the first `from`.
    pub fn hook_writes_since(&self, from: usize) -> Vec<String> {
        self.hook_requests().into_iter().skip(from).filter(|r| !r.starts_with("GET ")).collect()
    }
}

pub fn kubectl(kubeconfig: &str, namespace: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new("kubectl")
        .args(["--kubeconfig", kubeconfig, "-n", namespace])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    let mut input = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut input, stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    done()
}

/// A labelled ConfigMap in the operator's namespace.
pub fn configmap(name: &str, data: &[(&str, &str)], annotations: Value) -> Value {
    let data: serde_json::Map<String, Value> = data.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "labels": {"destination": "connect"}, "annotations": annotations},
           "data": data})
}

/// One run of the hook, as shell-operator would start it.
pub struct Run {
    pub code: i32,
    pub log: String,
    /// How long the hook process ran (without the snapshot and the patches).
    pub elapsed: Duration,
    /// What kubectl said applying the patch file (empty when all went through).
    pub patch_errors: Vec<String>,
}

/// shell-operator's part, for the hook: see the module's documentation.
pub struct Hook<'a> {
    env: &'a Env,
    vars: Vec<(String, String)>,
}

impl<'a> Hook<'a> {
    pub fn new(env: &'a Env) -> Hook<'a> {
        Hook { env, vars: Vec::new() }
    }

    pub fn env(mut self, key: &str, value: &str) -> Hook<'a> {
        self.vars.push((key.into(), value.into()));
        self
    }

    /// kubectl with the operator's own token, in the operator's namespace.
    fn as_operator(&self, args: &[&str]) -> std::process::Output {
        kubectl(&self.env.operator_kubeconfig, &self.env.namespace, args, None)
    }

    /// The `connectors` snapshot, taken with the operator's own token.
    fn snapshot(&self) -> Vec<Value> {
        let out = self.as_operator(&["get", "configmaps", "-l", "destination=connect", "-o", "json"]);
        assert!(out.status.success(), "the operator cannot list ConfigMaps: {}", String::from_utf8_lossy(&out.stderr));
        let list: Value = serde_json::from_slice(&out.stdout).unwrap();
        list["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|o| json!({"object": o, "filterResult": {}}))
            .collect()
    }

    fn state_snapshot(&self) -> Vec<Value> {
        let out = self.as_operator(&["get", "configmap", "connect-operator-state", "-o", "json", "--ignore-not-found"]);
        match serde_json::from_slice::<Value>(&out.stdout) {
            Ok(object) => vec![json!({"object": object, "filterResult": {}})],
            Err(_) => Vec::new(),
        }
    }

    /// A full run: Synchronization.
    pub fn sync(&self) -> Run {
        let objects = self.snapshot();
        self.run(json!([{"binding": "connectors", "type": "Synchronization", "objects": objects,
                         "snapshots": {"connectors": objects, "state": self.state_snapshot()}}]))
    }

    /// A run for one watch event about `object` (the ConfigMap as it was last seen, for Deleted).
    pub fn event(&self, watch: &str, object: &Value) -> Run {
        let snapshot = self.snapshot();
        self.run(json!([{"binding": "connectors", "type": "Event", "watchEvent": watch,
                         "object": object, "filterResult": {},
                         "snapshots": {"connectors": snapshot, "state": self.state_snapshot()}}]))
    }

    fn run(&self, contexts: Value) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let (contexts_path, patches, metrics) =
            (dir.path().join("contexts.json"), dir.path().join("patches"), dir.path().join("metrics"));
        std::fs::write(&contexts_path, contexts.to_string()).unwrap();
        let started = Instant::now();
        let output = Command::new(self.env.run_dir.join("hooks/connect-operator"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BINDING_CONTEXT_PATH", &contexts_path)
            .env("KUBERNETES_PATCH_PATH", &patches)
            .env("METRICS_PATH", &metrics)
            .env("CONNECT_URL", &self.env.connect)
            .env("OPERATOR_NAMESPACE", &self.env.namespace)
            .env("WATCH_NAMESPACES", &self.env.namespace)
            .env("CONNECT_OPERATOR_CONFIG_DIR", self.env.run_dir.join("config"))
            // Kept between runs, as in the pod's /tmp.
            .env("RENDER_CACHE", self.env.run_dir.join("render-cache.json"))
            .env("E2E_SECRET_FROM_ENV", "env-s3cret value")
            .env("LOG_TYPE", "json")
            .env("RETRY_BUDGET", "20s")
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        let code = output.status.code().unwrap_or(-1);
        let log = String::from_utf8_lossy(&output.stderr).into_owned();
        let mut patch_errors = Vec::new();
        if code == 0 {
            for line in std::fs::read_to_string(&patches).unwrap_or_default().lines() {
                if let Some(error) = self.apply_patch(&serde_json::from_str(line).unwrap()) {
                    patch_errors.push(error);
                }
            }
        }
        Run { code, log, elapsed, patch_errors }
    }

    /// One operation of the patch file, with the operator's token, as shell-operator applies it.
    fn apply_patch(&self, op: &Value) -> Option<String> {
        let kubeconfig = &self.env.operator_kubeconfig;
        let out = match op["operation"].as_str() {
            Some("CreateIfNotExists") => {
                let object = &op["object"];
                let namespace = object["metadata"]["namespace"].as_str().unwrap_or(&self.env.namespace);
                let out = kubectl(kubeconfig, namespace, &["create", "-f", "-"], Some(&object.to_string()));
                let stderr = String::from_utf8_lossy(&out.stderr);
                if !out.status.success() && stderr.contains("AlreadyExists") {
                    return None;
                }
                out
            }
            Some("MergePatch") => {
                let (namespace, name) = (op["namespace"].as_str().unwrap(), op["name"].as_str().unwrap());
                let patch = op["mergePatch"].to_string();
                let out = kubectl(
                    kubeconfig,
                    namespace,
                    &["patch", "configmap", name, "--type", "merge", "-p", &patch],
                    None,
                );
                let stderr = String::from_utf8_lossy(&out.stderr);
                if !out.status.success() && stderr.contains("NotFound") && op["ignoreMissingObject"] == true {
                    return None;
                }
                out
            }
            other => return Some(format!("unknown operation {other:?}")),
        };
        (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

impl Run {
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "the hook failed:\n{}", self.log);
        assert!(self.patch_errors.is_empty(), "patches refused: {:?}", self.patch_errors);
        self
    }
}
