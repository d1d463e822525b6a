//! The real programs `e2e/up` started: Kafka Connect's REST API and its
//! workers, and the Kubernetes API server (through kubectl). The operator's
//! Pod, where shell-operator runs the hook, is in [`super::shell_operator`].

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
    /// The metrics Service's port (`serve-metrics` in the Pod), as Prometheus
    /// reaches shell-operator: the Service's address, through kube-proxy.
    pub metrics_url: String,
    /// The node's containerd, for what only the node can do to a container.
    pub containerd_socket: String,
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
            metrics_url: var("E2E_METRICS_URL"),
            containerd_socket: var("E2E_CONTAINERD_SOCKET"),
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

    /// Merge-patches a ConfigMap's data straight through the API server with
    /// the suite's own token, as fast as a controller writes: a kubectl
    /// process per edit takes 100 ms or more.
    pub fn patch_data(&self, name: &str, data: &Value) {
        let api = Api::get(self);
        let url = format!("{}/api/v1/namespaces/{}/configmaps/{name}", api.server, self.namespace);
        let response = api
            .agent
            .patch(&url)
            .header("Authorization", &api.bearer)
            .header("Content-Type", "application/merge-patch+json")
            .send(json!({"data": data}).to_string());
        assert!(response.is_ok(), "PATCH {url}: {response:?}");
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

    /// `method path` with a JSON body (or none) straight to Connect, as a
    /// person with curl would; panics unless it succeeds.
    pub fn connect_send(&self, method: &str, path: &str, body: Option<Value>) {
        let url = format!("{}{path}", self.connect);
        let response = match (method, body) {
            ("POST", Some(body)) => ureq::post(&url).send_json(body),
            ("PATCH", Some(body)) => ureq::patch(&url).send_json(body),
            ("PUT", None) => ureq::put(&url).send_empty(),
            other => panic!("connect_send: {other:?}"),
        };
        assert!(response.is_ok(), "{method} {path}: {response:?}");
    }

    pub fn create_connector(&self, name: &str, config: Value) {
        let response = ureq::put(&format!("{}/connectors/{name}/config", self.connect)).send_json(config);
        assert!(response.is_ok(), "{response:?}");
    }

    /// What a program `e2e/up` started has logged, across its restarts.
    pub fn program_log(&self, name: &str) -> String {
        let read = |file: String| std::fs::read_to_string(self.run_dir.join(file)).unwrap_or_default();
        read(format!("{name}.history.log")) + &read(format!("{name}.log"))
    }

    /// The pid `e2e/up` recorded for a program, which leads its own process group.
    pub fn pid(&self, name: &str) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.run_dir.join(format!("{name}.pid"))).ok()?.trim().parse().ok()?;
        // -0 and -1 would name this process's own group and every process.
        assert!(pid > 1, "{name}.pid holds {pid}");
        Some(pid)
    }

    /// Sends `signal` to a program's whole process group and waits until it
    /// is gone. kill(2) itself, not /usr/bin/kill: procps-ng 4.0.2's `kill
    /// -KILL -12345` sends to process group -1 (it reads only the first
    /// digit), which kills every process of the user, CI's run among them.
    pub fn stop_program(&self, name: &str, signal: i32) {
        let Some(pid) = self.pid(name) else { return };
        // SAFETY: kill(2) takes plain integers; the group is the program's own.
        let sent = unsafe { libc::kill(-pid, signal) };
        assert!(sent == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH));
        // SAFETY: signal 0 only asks whether the process exists.
        let gone = wait_until(Duration::from_secs(30), || unsafe { libc::kill(pid, 0) } != 0);
        assert!(gone, "{name} ({pid}) did not stop on signal {signal}");
    }

    /// `e2e/up COMPONENT`: starts again what a test stopped.
    pub fn up(&self, component: &str, vars: &[(&str, String)]) {
        let out = Command::new("bash")
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/up"))
            .arg(component)
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        assert!(out.status.success(), "e2e/up {component}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Requests the hook sent to either worker, as their REST logs say
    /// (`METHOD path status`), in the order of their log times, so that a
    /// count taken earlier marks where the later ones start.
    pub fn hook_requests(&self) -> Vec<String> {
        let mut requests = Vec::new();
        for worker in ["connect-1", "connect-2"] {
            for line in self.program_log(worker).lines().filter(|l| l.contains("\"connect-operator/")) {
                let Some(start) = line.find("] \"") else { continue };
                let rest = &line[start + 3..];
                let mut parts = rest.splitn(2, "\" ");
                let (Some(request), Some(after)) = (parts.next(), parts.next()) else { continue };
                let status = after.split(' ').next().unwrap_or("");
                let mut words = request.split(' ');
                let said = format!("{} {} {status}", words.next().unwrap_or(""), words.next().unwrap_or(""));
                // `[2026-12-03 07:40:00,123] INFO ...`: the time sorts as text.
                requests.push((line.get(..25).unwrap_or("").to_string(), said));
            }
        }
        requests.sort_by(|a, b| a.0.cmp(&b.0));
        requests.into_iter().map(|(_, said)| said).collect()
    }

    /// The writes (not GETs) among the hook's requests after the first `from`.
    pub fn hook_writes_since(&self, from: usize) -> Vec<String> {
        self.hook_requests().into_iter().skip(from).filter(|r| !r.starts_with("GET ")).collect()
    }
}

/// The API server with the suite's own token, read once: one agent, its
/// connections kept. Its certificate is signed by the CA `e2e/up` made,
/// which the kubeconfig names; this agent does not check it.
struct Api {
    agent: ureq::Agent,
    server: String,
    bearer: String,
}

impl Api {
    fn get(env: &Env) -> &'static Api {
        static API: std::sync::OnceLock<Api> = std::sync::OnceLock::new();
        API.get_or_init(|| {
            let kubeconfig = std::fs::read_to_string(&env.admin_kubeconfig).unwrap();
            let server = kubeconfig.split("server: \"").nth(1).and_then(|s| s.split('"').next()).unwrap();
            let token = std::fs::read_to_string(env.run_dir.join("kube/admin.token")).unwrap();
            let tls = ureq::tls::TlsConfig::builder().disable_verification(true).build();
            Api {
                agent: ureq::Agent::config_builder().tls_config(tls).build().into(),
                server: server.to_string(),
                bearer: format!("Bearer {}", token.trim()),
            }
        })
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
