//! The operator as `e2e/up` deploys it: shell-operator v1.20.3 in the
//! connect-operator Pod on the node's kubelet, seen from outside as a user
//! sees it: `kubectl` on its Deployment and Pod, its log (kept across Pod
//! restarts by `e2e/pod-logs`), `/metrics` and `/metrics/hooks` through the
//! metrics Service, and its debug socket through `kubectl exec`. The hook
//! runs only when shell-operator runs it.
//!
//! A test says how it changes the Deployment ([`ShellOperator::with`]: its
//! environment, and a patch); the Deployment is applied again when that
//! differs from what runs, and the Pod rolls out, as a user's change does.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::real::{wait_until, Env};

/// The hook's name in shell-operator: its path under the hooks directory.
pub const HOOK: &str = "connect-operator";

/// The Pod's container that runs shell-operator and the hook.
pub const CONTAINER: &str = "connect-operator";

/// How long the suite waits for shell-operator to have handled what it was given.
const SETTLE: Duration = Duration::from_secs(120);

/// shell-operator's counters of the hook's runs, from `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Runs {
    pub succeeded: f64,
    pub failed: f64,
}

/// What a test changes of the deployment `e2e/up` made.
#[derive(Default)]
pub struct Deployment<'a> {
    /// Variables of the connect-operator container.
    pub env: &'a [(&'a str, &'a str)],
    /// A strategic merge patch of the Deployment (volumes, say).
    pub patch: &'a str,
    /// The overlay: `e2e/deploy`, or `e2e/deploy-cluster-wide`.
    pub cluster_wide: bool,
}

pub struct ShellOperator<'a> {
    env: &'a Env,
    /// Where this test's part of shell-operator's log starts.
    log_from: usize,
}

impl<'a> ShellOperator<'a> {
    /// The Pod running with these changes to the Deployment's environment
    /// (and no others), its first Synchronization done.
    pub fn with(env: &'a Env, overrides: &[(&str, &str)]) -> ShellOperator<'a> {
        Self::deployed(env, &Deployment { env: overrides, ..Deployment::default() })
    }

    /// The Pod of the Deployment changed so (and no other way), its first
    /// Synchronization done.
    pub fn deployed(env: &'a Env, deployment: &Deployment) -> ShellOperator<'a> {
        let operator = ShellOperator { env, log_from: env.program_log("shell-operator").len() };
        let vars: String = deployment.env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        let request = format!("{vars}\n{}\n{}", deployment.patch, deployment.cluster_wide);
        let file = env.run_dir.join("operator.request");
        let current = std::fs::read_to_string(&file).unwrap_or_default();
        if current != request || operator.ready_pod().is_none() {
            let overlay = if deployment.cluster_wide { "e2e/deploy-cluster-wide" } else { "e2e/deploy" };
            let overlay = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(overlay);
            env.up(
                "operator",
                &[
                    ("E2E_OPERATOR_ENV", vars),
                    ("E2E_OPERATOR_PATCH", deployment.patch.to_string()),
                    ("E2E_DEPLOY", overlay.display().to_string()),
                ],
            );
            std::fs::write(&file, request).unwrap();
            operator.wait_pod("the rolled-out Pod Ready", |_| true);
        }
        operator.synchronized();
        operator
    }

    /// The Pod deleted (`kubectl delete pod`, SIGTERM to its containers): the
    /// Deployment's ReplicaSet makes a new one. Returns once its
    /// Synchronization is done.
    pub fn restart(&self) {
        let old = self.pod_name().expect("a Pod runs");
        let out = self.env.kubectl(&["delete", "pod", &old, "--wait=false"], None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        self.replaced(&old);
    }

    /// Waits until a Pod other than `old` is Ready and its Synchronization done.
    pub fn replaced(&self, old: &str) {
        self.wait_pod("a new Pod Ready", |pod| pod["metadata"]["name"] != old);
        self.synchronized();
    }

    /// Killed as a crashing process is: SIGKILL to every process of the
    /// connect-operator container (shell-operator and the hook it runs),
    /// straight through the node's containerd. kubelet starts the container
    /// again, as `restartPolicy: Always` says. Returns the restart count it
    /// had.
    pub fn kill(&self) -> u64 {
        let pod = self.ready_pod().expect("a Ready Pod");
        let status = container_status(&pod);
        let id = status["containerID"].as_str().unwrap().trim_start_matches("containerd://").to_string();
        let out = Command::new("ctr")
            .args(["--address", &self.env.containerd_socket, "--namespace", "k8s.io"])
            .args(["tasks", "kill", "--all", "--signal", "SIGKILL", &id])
            .output()
            .unwrap();
        assert!(out.status.success(), "ctr tasks kill: {}", String::from_utf8_lossy(&out.stderr));
        status["restartCount"].as_u64().unwrap_or(0)
    }

    /// Waits until kubelet started the container again after [`Self::kill`]
    /// and its Synchronization is done.
    pub fn restarted_by_kubelet(&self, restarts_before: u64) {
        self.wait_pod("the container started again and Ready", |pod| {
            container_status(pod)["restartCount"].as_u64().unwrap_or(0) > restarts_before
        });
        self.synchronized();
    }

    /// `kubectl scale --replicas=N`; with 0, waits until no Pod is left;
    /// with 1, until one is Ready and synchronized.
    pub fn scale(&self, replicas: u32) {
        let out = self.env.kubectl(&["scale", "deployment/connect-operator", &format!("--replicas={replicas}")], None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        if replicas == 0 {
            self.wait("no Pod left", SETTLE, || self.pods().is_empty());
        } else {
            self.wait_pod("a Pod Ready", |_| true);
            self.synchronized();
        }
    }

    /// The connect-operator Pods, terminating ones included.
    pub fn pods(&self) -> Vec<Value> {
        let out =
            self.env.kubectl(&["get", "pods", "-l", "app.kubernetes.io/name=connect-operator", "-o", "json"], None);
        let list: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// The Pod whose containers are all Ready and that is not being deleted.
    pub fn ready_pod(&self) -> Option<Value> {
        self.pods().into_iter().find(|pod| {
            pod["metadata"]["deletionTimestamp"].is_null()
                && pod["status"]["containerStatuses"]
                    .as_array()
                    .is_some_and(|all| !all.is_empty() && all.iter().all(|c| c["ready"] == true))
        })
    }

    pub fn pod_name(&self) -> Option<String> {
        self.ready_pod().and_then(|pod| pod["metadata"]["name"].as_str().map(str::to_string))
    }

    fn wait_pod(&self, what: &str, wanted: impl Fn(&Value) -> bool) {
        self.wait(what, Duration::from_secs(180), || self.ready_pod().is_some_and(|pod| wanted(&pod)));
    }

    /// Waits until the Synchronization of the `connectors` binding succeeded.
    fn synchronized(&self) {
        let done = wait_until(SETTLE, || {
            self.metric("shell_operator_hook_run_success_total", &[("binding", "connectors")]) >= 1.0
                && self.queue_length() == 0.0
        });
        assert!(done, "shell-operator's Synchronization did not succeed:\n{}", self.tail());
    }

    /// shell-operator's own `/metrics`, as Prometheus scrapes it through the Service.
    pub fn metrics(&self) -> String {
        self.get("/metrics")
    }

    /// The hook's metrics, on `/metrics/hooks`.
    pub fn hook_metrics(&self) -> String {
        self.get("/metrics/hooks")
    }

    fn get(&self, path: &str) -> String {
        let url = format!("{}{path}", self.env.metrics_url);
        match ureq::get(&url).config().timeout_global(Some(Duration::from_secs(5))).build().call() {
            Ok(mut response) => response.body_mut().read_to_string().unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The sum of a metric's series of the hook whose labels include `labels`.
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        sum(&self.metrics(), name, &[&[("hook", HOOK)], labels].concat())
    }

    pub fn runs(&self) -> Runs {
        let text = self.metrics();
        Runs {
            succeeded: sum(&text, "shell_operator_hook_run_success_total", &[("hook", HOOK)]),
            failed: sum(&text, "shell_operator_hook_run_errors_total", &[("hook", HOOK)]),
        }
    }

    /// Tasks in shell-operator's queues, the running one included, from the
    /// debug socket: the `shell_operator_tasks_queue_length` gauge is only
    /// sampled every 5 seconds, too late to tell that a queue is empty.
    fn queue_length(&self) -> f64 {
        let Some(said) = self.try_debug(&["queue", "list", "-o", "json"]) else { return f64::MAX };
        let queues: Value = serde_json::from_str(&said).unwrap_or_default();
        queues["summary"]["totalTasks"].as_f64().unwrap_or(f64::MAX)
    }

    /// Waits until a run that started after `before` succeeded and nothing
    /// is left in the queue: what was changed before that has been handled.
    pub fn settled_since(&self, before: Runs) -> Runs {
        let mut now = before;
        let done = wait_until(SETTLE, || {
            now = self.runs();
            now.succeeded > before.succeeded && self.queue_length() == 0.0
        });
        assert!(done, "no successful hook run since {before:?} (now {now:?}):\n{}", self.tail());
        now
    }

    /// Waits until shell-operator's queue is empty: nothing left to run.
    pub fn idle(&self) {
        self.wait("an empty queue", SETTLE, || self.queue_length() == 0.0);
    }

    /// Does `change` (a kubectl apply, say) and waits until shell-operator
    /// ran the hook for it. The informer needs a moment to queue the event;
    /// a run that began before it cannot count, so the queue must also be empty.
    pub fn after(&self, change: impl FnOnce()) -> Runs {
        let before = self.runs();
        change();
        self.settled_since(before)
    }

    /// shell-operator's log since this test began, one JSON object a line.
    pub fn log(&self) -> Vec<Value> {
        self.log_text().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// The running container's own log, from its start, as `kubectl logs`
    /// gives it. Deleting a Pod (SIGTERM) terminates a hook it runs, and the
    /// container being stopped logs that run as failed: those lines belong
    /// to the Pod before.
    pub fn log_since_start(&self) -> Vec<Value> {
        let pod = self.pod_name().expect("a Ready Pod");
        let out = self.env.kubectl(&["logs", &pod, "-c", CONTAINER], None);
        assert!(out.status.success(), "kubectl logs: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// The log's text since this test began.
    pub fn log_text(&self) -> String {
        let text = self.env.program_log("shell-operator");
        text.get(self.log_from..).unwrap_or("").to_string()
    }

    /// The messages of the hook's own log lines (shell-operator proxies
    /// each JSON line the hook writes, its `msg` as the message).
    pub fn hook_messages(&self) -> Vec<String> {
        self.log()
            .iter()
            .filter(|l| l["hook"] == HOOK && l["proxyJsonLog"] == true)
            .filter_map(|l| l["msg"].as_str().map(str::to_string))
            .collect()
    }

    fn tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// A command in the connect-operator container (`kubectl exec`).
    pub fn exec(&self, command: &[&str]) -> Output {
        let pod = self.pod_name().expect("a Ready Pod");
        let args = [&["exec", pod.as_str(), "-c", CONTAINER, "--"][..], command].concat();
        self.env.kubectl(&args, None)
    }

    /// `shell-operator ...` against the debug socket, inside the container.
    pub fn debug(&self, args: &[&str]) -> String {
        self.try_debug(args).unwrap_or_else(|| panic!("shell-operator {args:?} failed in the Pod"))
    }

    fn try_debug(&self, args: &[&str]) -> Option<String> {
        self.ready_pod()?;
        let out = self.exec(&[&["/shell-operator"][..], args].concat());
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Waits for `done`, failing with shell-operator's log if it never is.
    pub fn wait(&self, what: &str, timeout: Duration, done: impl FnMut() -> bool) {
        let started = Instant::now();
        assert!(wait_until(timeout, done), "{what}: not within {:?}:\n{}", started.elapsed(), self.tail());
    }
}

/// The connect-operator container's status in a Pod.
pub fn container_status(pod: &Value) -> Value {
    let statuses = pod["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
    statuses.into_iter().find(|c| c["name"] == CONTAINER).unwrap_or_default()
}

/// Every test ends with this: the object patcher was never refused (RBAC),
/// and the hook never failed in a way shell-operator would not retry.
impl Drop for ShellOperator<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let text = self.log_text();
        let forbidden: Vec<&str> = text.lines().filter(|l| l.contains("forbidden")).collect();
        assert!(forbidden.is_empty(), "forbidden in shell-operator's log: {forbidden:#?}");
    }
}

/// Sums the series of `name` in a Prometheus text exposition whose labels
/// include every one of `labels`.
pub fn sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
