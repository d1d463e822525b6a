//! The Pod's init container (`connect-operator wait-for-predecessors`):
//! shell-operator starts only once the Pods before this one have stopped.
//!
//! `Recreate` keeps two Pods apart during a rollout only: a deleted, evicted
//! or drained Pod is replaced at once, while it still stops (up to its grace
//! period), and two hooks would write to the same Connect at the same time.
//! So this asks the API server for the Deployment's Pods and waits while any
//! other Pod ranked before this one is not finished. It never blocks for
//! good: an old Pod on a lost node is never finished, so after the timeout
//! (and on any error, once the API server has been asked long enough) it
//! warns and lets shell-operator start.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use log::{info, warn};
use serde::Deserialize;

use crate::connect::tls;
use crate::deadline;
use crate::text::Invalid;

/// `wait-for-predecessors`: what to wait for, and how long.
#[derive(clap::Args, Debug)]
pub struct WaitArgs {
    /// This Pod's name (the Deployment sets it from metadata.name)
    #[arg(long = "pod-name", env = "POD_NAME", value_name = "NAME")]
    pub pod: Option<String>,

    /// The labels of the Deployment's Pods
    #[arg(long, default_value = "app.kubernetes.io/name=connect-operator", value_name = "SELECTOR")]
    pub selector: String,

    /// Time after which shell-operator starts anyway, with a warning: above the
    /// Pod's terminationGracePeriodSeconds, as a Pod on a lost node never stops
    #[arg(long, default_value = "60s", value_parser = crate::text::positive_duration)]
    pub timeout: Duration,

    /// Time between two listings of the Pods
    #[arg(long, default_value = "1s", value_parser = crate::text::positive_duration)]
    pub interval: Duration,

    /// Where kubelet mounts the ServiceAccount's token, CA and namespace
    #[arg(
        long = "service-account-dir",
        default_value = "/var/run/secrets/kubernetes.io/serviceaccount",
        value_name = "DIR"
    )]
    pub service_account: PathBuf,
}

/// The Role that grants the listing, named when the API server refuses it.
const ROLE: &str = "connect-operator-pods";

/// A listing of a few Pods answers in milliseconds; one that takes longer
/// is retried at the next poll rather than eating the whole wait.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Far above a listing of the Pods of one Deployment.
const MAX_BODY: u64 = 16 << 20;

/// Waits until no Pod before this one runs, or gives up; says what it did.
/// Only a missing Pod name fails: past that, nothing fails the container,
/// since a failed init container would keep the operator from starting at all.
pub fn wait(request: &WaitArgs) -> Result<()> {
    let me = request.pod.as_deref().filter(|name| !name.is_empty()).ok_or_else(|| {
        anyhow::anyhow!(
            "POD_NAME is not set: the Deployment sets it from the Pod's metadata.name (the downward API); \
             elsewhere pass --pod-name"
        )
    })?;
    match Api::in_pod(&request.service_account, &request.selector) {
        Ok(api) => poll(&api, request, me),
        Err(e) => warn!("cannot ask the API server which Pods run: {e:#}; shell-operator starts without waiting"),
    }
    Ok(())
}

/// Lists the Pods until none before `me` runs, or the timeout.
fn poll(api: &Api, request: &WaitArgs, me: &str) {
    let mut watch = Watch::new(request.timeout);
    loop {
        match api.pods() {
            Err(e) => watch.failed(&e),
            Ok(pods) => match earlier_running(&pods, me) {
                Ok(running) if running.is_empty() => return watch.clear(),
                Ok(running) => watch.saw(&running),
                Err(NotListed) => {
                    warn!(
                        "this Pod ({me}) is not among the Pods labelled {} in namespace {}: --selector must match \
                         the Deployment's Pod labels; shell-operator starts without waiting",
                        request.selector, api.namespace
                    );
                    return;
                }
            },
        }
        match watch.left() {
            Some(left) => std::thread::sleep(request.interval.min(left)),
            None => return watch.give_up(request.timeout),
        }
    }
}

/// This Pod is not in the listing, so nothing ranks before it: no later
/// listing changes that.
#[derive(Debug)]
struct NotListed;

/// How a listing of the Pods failed: retried until the timeout.
#[derive(Debug)]
enum ApiError {
    /// 403: the ServiceAccount may not list Pods here.
    Forbidden { namespace: String, message: String },
    /// 401: the token is not (or no longer) accepted.
    Unauthorized(String),
    /// Any other status.
    Status(u16, String),
    /// No answer: refused, timed out, TLS.
    Unreachable(String),
    /// An answer that is not a Pod list.
    NotPodList(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Forbidden { namespace, message } => write!(
                f,
                "the API server refused to list Pods (403 Forbidden: {message}): the ServiceAccount needs the verb \
                 `list` on `pods` in namespace {namespace}, which the Role {ROLE} grants (manifests/base/role.yaml) \
                 through its RoleBinding"
            ),
            ApiError::Unauthorized(message) => {
                write!(f, "the API server did not accept the ServiceAccount's token (401 Unauthorized: {message})")
            }
            ApiError::Status(status, message) => write!(f, "the API server answered {status}: {message}"),
            ApiError::Unreachable(e) => write!(f, "cannot reach the API server: {e}"),
            ApiError::NotPodList(e) => write!(f, "the API server's answer is not a list of Pods: {e}"),
        }
    }
}

/// The API server, as the Pod's ServiceAccount reaches it.
struct Api {
    agent: ureq::Agent,
    url: String,
    authorization: String,
    namespace: String,
}

impl Api {
    /// From what kubelet gives every Pod: the Service variables of the API
    /// server, and the ServiceAccount's token, CA and namespace.
    fn in_pod(service_account: &Path, selector: &str) -> Result<Api> {
        let server = |name: &str| std::env::var(name).map_err(|_| anyhow::anyhow!("{name} is not set (not in a Pod?)"));
        let (host, port) = (server("KUBERNETES_SERVICE_HOST")?, server("KUBERNETES_SERVICE_PORT")?);
        let read = |file: &str| {
            let path = service_account.join(file);
            std::fs::read_to_string(&path)
                .map(|text| text.trim().to_string())
                .with_context(|| format!("cannot read the ServiceAccount's {file} ({})", path.display()))
        };
        let (namespace, token) = (read("namespace")?, read("token")?);
        let roots = tls::roots(&service_account.join("ca.crt"), "the ServiceAccount's CA")?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
            // The API server's Service address is the cluster's own: a proxy in the environment is for elsewhere.
            .proxy(None)
            .user_agent(concat!("connect-operator/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        // An IPv6 Service address goes in brackets.
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        let selector = percent_encoding::utf8_percent_encode(selector, percent_encoding::NON_ALPHANUMERIC);
        let url = format!("https://{host}:{port}/api/v1/namespaces/{namespace}/pods?labelSelector={selector}");
        Ok(Api { agent, url, authorization: format!("Bearer {token}"), namespace })
    }

    /// The Pods the selector matches.
    fn pods(&self) -> Result<Vec<Pod>, ApiError> {
        let mut response = self
            .agent
            .get(&self.url)
            .header("Authorization", &self.authorization)
            .header("Accept", "application/json")
            .call()
            .map_err(|e| ApiError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(MAX_BODY).read_to_string();
        let body = body.map_err(|e| ApiError::Unreachable(e.to_string()))?;
        match status {
            200 => serde_json::from_str::<PodList>(&body)
                .map_err(|e| ApiError::NotPodList(e.to_string()))?
                .items
                .into_iter()
                .map(Pod::try_from)
                .collect::<Result<_, Invalid>>()
                .map_err(|e| ApiError::NotPodList(e.to_string())),
            403 => Err(ApiError::Forbidden { namespace: self.namespace.clone(), message: message(&body) }),
            401 => Err(ApiError::Unauthorized(message(&body))),
            _ => Err(ApiError::Status(status, message(&body))),
        }
    }
}

/// The `message` of a Kubernetes Status, else the body, cut short.
fn message(body: &str) -> String {
    #[derive(Deserialize)]
    struct ApiStatus {
        message: String,
    }
    let said = serde_json::from_str::<ApiStatus>(body).map_or_else(|_| body.trim().to_string(), |s| s.message);
    crate::text::truncate(&said, 300)
}

#[derive(Deserialize)]
struct PodList {
    items: Vec<PodItem>,
}

#[derive(Deserialize)]
struct PodItem {
    metadata: PodMetadata,
    #[serde(default)]
    status: PodStatus,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodMetadata {
    name: String,
    creation_timestamp: String,
    deletion_timestamp: Option<String>,
}

#[derive(Deserialize, Default)]
struct PodStatus {
    #[serde(default)]
    phase: Phase,
}

/// A Pod's phase, as the API server reports it.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
enum Phase {
    #[default]
    Pending,
    Running,
    Succeeded,
    Failed,
    #[serde(other)]
    Unknown,
}

impl Phase {
    /// Every container of the Pod has stopped for good.
    fn finished(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }
}

/// Whether a Pod is on its way out. A Pod being deleted ranks before every
/// other: its replacement is often created within the same second, and
/// creation times have whole seconds only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Leaving {
    Deleting,
    Staying,
}

/// What the wait needs of a Pod.
#[derive(Debug)]
struct Pod {
    name: String,
    created: SystemTime,
    leaving: Leaving,
    phase: Phase,
}

impl TryFrom<PodItem> for Pod {
    type Error = Invalid;

    fn try_from(item: PodItem) -> Result<Pod, Invalid> {
        let PodMetadata { name, creation_timestamp, deletion_timestamp } = item.metadata;
        let created = humantime::parse_rfc3339(&creation_timestamp)
            .map_err(|e| Invalid(format!("Pod {name}: creationTimestamp {creation_timestamp:?}: {e}")))?;
        let leaving = if deletion_timestamp.is_some() { Leaving::Deleting } else { Leaving::Staying };
        Ok(Pod { name, created, leaving, phase: item.status.phase })
    }
}

impl Pod {
    /// The order Pods take over in: being deleted first, then the older, and
    /// the name between two of the same second. Names are unique, so the
    /// order is total and two Pods never wait for each other.
    fn rank(&self) -> (Leaving, SystemTime, &str) {
        (self.leaving, self.created, &self.name)
    }
}

/// The Pods before `me` that have not finished.
fn earlier_running<'a>(pods: &'a [Pod], me: &str) -> Result<Vec<&'a Pod>, NotListed> {
    let own = pods.iter().find(|p| p.name == me).ok_or(NotListed)?;
    Ok(pods.iter().filter(|p| p.rank() < own.rank() && !p.phase.finished()).collect())
}

/// The wait so far: what has been said, so each thing is said once.
struct Watch {
    started: Instant,
    deadline: Instant,
    /// The Pods waited for, by name.
    waiting: Vec<String>,
    /// The last error said, so a repeated one is not said every poll.
    failure: Option<String>,
}

impl Watch {
    fn new(timeout: Duration) -> Watch {
        let started = Instant::now();
        Watch { started, deadline: deadline::later(started, timeout), waiting: Vec::new(), failure: None }
    }

    /// Time left before giving up, if any.
    fn left(&self) -> Option<Duration> {
        Some(self.deadline.saturating_duration_since(Instant::now())).filter(|left| !left.is_zero())
    }

    fn saw(&mut self, running: &[&Pod]) {
        self.failure = None;
        self.gone(running);
        let new: Vec<&&Pod> = running.iter().filter(|p| !self.waiting.contains(&p.name)).collect();
        for pod in new {
            let leaving = if pod.leaving == Leaving::Deleting { ", being deleted" } else { "" };
            info!(
                "waiting for Pod {} ({:?}{leaving}, created {}) to stop before shell-operator starts",
                pod.name,
                pod.phase,
                humantime::format_rfc3339_seconds(pod.created)
            );
            self.waiting.push(pod.name.clone());
        }
    }

    /// Says which Pods waited for are no longer running.
    fn gone(&mut self, running: &[&Pod]) {
        let waited = self.started.elapsed();
        self.waiting.retain(|name| {
            let still = running.iter().any(|p| p.name == *name);
            if !still {
                info!("Pod {name} has stopped, after {waited:.1?} of waiting");
            }
            still
        });
    }

    fn clear(&mut self) {
        self.gone(&[]);
        info!("no earlier Pod runs: shell-operator starts (waited {:.1?})", self.started.elapsed());
    }

    fn failed(&mut self, e: &ApiError) {
        let said = e.to_string();
        if self.failure.as_ref() != Some(&said) {
            warn!("{said}; asking again until the timeout");
            self.failure = Some(said);
        }
    }

    fn give_up(&self, timeout: Duration) {
        let limit = humantime::format_duration(timeout);
        match (&self.failure, self.waiting.as_slice()) {
            (Some(failure), _) => warn!(
                "gave up after {limit}: {failure}; shell-operator starts without knowing whether an earlier Pod runs"
            ),
            (None, waiting) => warn!(
                "gave up after {limit}: Pod {} has not stopped (on a lost node?); shell-operator starts anyway",
                waiting.join(", Pod ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, created: &str, leaving: Leaving, phase: Phase) -> Pod {
        Pod { name: name.into(), created: humantime::parse_rfc3339(created).unwrap(), leaving, phase }
    }

    fn waited_for(pods: &[Pod], me: &str) -> Vec<String> {
        match earlier_running(pods, me) {
            Ok(running) => running.iter().map(|p| p.name.clone()).collect(),
            Err(e) => vec![format!("{e:?}")],
        }
    }

    #[test]
    fn an_older_running_pod_is_waited_for_and_a_newer_one_is_not() {
        let pods = [
            pod("old", "2026-12-07T13:31:00Z", Leaving::Staying, Phase::Running),
            pod("new", "2026-12-07T13:31:08Z", Leaving::Staying, Phase::Pending),
            pod("newer", "2026-12-07T13:31:09Z", Leaving::Staying, Phase::Pending),
        ];
        assert_eq!(waited_for(&pods, "new"), ["old"]);
        assert_eq!(waited_for(&pods, "old"), Vec::<String>::new());
        assert_eq!(waited_for(&pods, "newer"), ["old", "new"]);
    }

    #[test]
    fn finished_pods_are_not_waited_for() {
        for phase in [Phase::Succeeded, Phase::Failed] {
            let pods = [
                pod("old", "2026-12-07T13:31:00Z", Leaving::Deleting, phase),
                pod("new", "2026-12-07T13:31:08Z", Leaving::Staying, Phase::Pending),
            ];
            assert_eq!(waited_for(&pods, "new"), Vec::<String>::new(), "{phase:?}");
        }
        let unknown = [
            pod("old", "2026-12-07T13:31:00Z", Leaving::Staying, Phase::Unknown),
            pod("new", "2026-12-07T13:31:08Z", Leaving::Staying, Phase::Pending),
        ];
        assert_eq!(waited_for(&unknown, "new"), ["old"], "a Pod on a node that stopped reporting may still run");
    }

    #[test]
    fn two_pods_of_the_same_second_never_wait_for_each_other() {
        let pods = [
            pod("b", "2026-12-07T13:31:08Z", Leaving::Staying, Phase::Pending),
            pod("a", "2026-12-07T13:31:08Z", Leaving::Staying, Phase::Pending),
        ];
        assert_eq!(waited_for(&pods, "b"), ["a"]);
        assert_eq!(waited_for(&pods, "a"), Vec::<String>::new());
    }

    #[test]
    fn a_pod_being_deleted_is_waited_for_whatever_its_name_and_age() {
        // Its replacement, created in the same second, may sort before it by name.
        let pods = [
            pod("z-old", "2026-12-07T13:31:08Z", Leaving::Deleting, Phase::Running),
            pod("a-new", "2026-12-07T13:31:08Z", Leaving::Staying, Phase::Pending),
        ];
        assert_eq!(waited_for(&pods, "a-new"), ["z-old"]);
        assert_eq!(waited_for(&pods, "z-old"), Vec::<String>::new());
    }

    #[test]
    fn a_pod_the_selector_does_not_list_cannot_rank_itself() {
        let pods = [pod("old", "2026-12-07T13:31:00Z", Leaving::Staying, Phase::Running)];
        assert_eq!(waited_for(&pods, "elsewhere"), ["NotListed"]);
    }

    #[test]
    fn a_pod_list_is_read_as_the_api_server_writes_it() {
        let list = r#"{"kind": "PodList", "items": [
            {"metadata": {"name": "a", "creationTimestamp": "2026-12-07T13:31:08Z",
                          "deletionTimestamp": "2026-12-07T13:32:00Z"}, "status": {"phase": "Running"}},
            {"metadata": {"name": "b", "creationTimestamp": "2026-12-07T13:31:09Z"}, "status": {}},
            {"metadata": {"name": "c", "creationTimestamp": "2026-12-07T13:31:10Z"}, "status": {"phase": "Weird"}}]}"#;
        let items = serde_json::from_str::<PodList>(list).unwrap().items;
        let pods: Vec<Pod> = items.into_iter().map(|i| Pod::try_from(i).unwrap()).collect();
        assert_eq!((pods[0].leaving, pods[0].phase), (Leaving::Deleting, Phase::Running));
        assert_eq!((pods[1].leaving, pods[1].phase), (Leaving::Staying, Phase::Pending));
        assert_eq!(pods[2].phase, Phase::Unknown);
    }

    #[test]
    fn a_refusal_names_the_verb_and_the_role() {
        let body = r#"{"kind": "Status", "message": "pods is forbidden: User \"system:serviceaccount:ns:sa\" cannot list resource \"pods\"", "code": 403}"#;
        let said = ApiError::Forbidden { namespace: "ns".into(), message: message(body) }.to_string();
        assert!(said.contains("(403 Forbidden: pods is forbidden: User"), "the API server's own words: {said}");
        assert!(said.contains("`list` on `pods` in namespace ns") && said.contains(ROLE), "{said}");
    }
}
