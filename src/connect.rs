//! The Kafka Connect REST client: one bulk read of live state, create-or-update
//! and delete, with retries of what Connect says is transient.
//!
//! Behaviour follows the Kafka Connect REST reference: error bodies are
//! `{"error_code", "message"}` (parsed whatever the Content-Type), a 409 is
//! transient unless the connector "already exists", a 500 is transient when
//! a rebalance is expected or the herder timed out (a timed-out write may
//! still be applied, so writes re-read before they are retried).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use base64::Engine as _;
use log::{debug, warn};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

use crate::connector::{Connector, TargetState};
use crate::redact::Scrubber;

/// Everything but the unreserved characters of RFC 3986 is encoded, so a
/// name can never change the path.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Connect answers a request within 90 s or gives up with a 500 itself.
pub const READ_TIMEOUT: Duration = Duration::from_secs(100);

/// The largest answer read: the bulk read of 10,000 connectors is about
/// 5 MB; a runaway body is cut off here.
const MAX_ANSWER_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone)]
pub struct Settings {
    pub url: String,
    pub auth: Auth,
    pub ca_file: Option<std::path::PathBuf>,
    /// PEM certificate chain and private key for mutual TLS.
    pub client_cert: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// Only when a clusters file spells it out for one cluster.
    pub insecure_skip_verify: bool,
    pub concurrency: usize,
    pub retry_budget: Duration,
    /// Time to wait for an answer, and again for all of its body: a server
    /// that sends a byte a second is cut off.
    pub read_timeout: Duration,
    /// Confluent Cloud documents `?expand=info,status`; Apache only matches
    /// the repeated form.
    pub comma_expand: bool,
}

#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: String,
        password: String,
    },
    Bearer(String),
}

impl Default for Settings {
    /// A cluster at http://connect with the default limits.
    fn default() -> Settings {
        Settings {
            url: "http://connect".into(),
            auth: Auth::None,
            ca_file: None,
            client_cert: None,
            insecure_skip_verify: false,
            concurrency: 4,
            retry_budget: Duration::from_secs(60),
            read_timeout: READ_TIMEOUT,
            comma_expand: false,
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "none",
            Auth::Basic { .. } => "basic",
            Auth::Bearer(_) => "bearer",
        })
    }
}

/// Why a request did not succeed. Transient failures are left for the next
/// run (the hook exits non-zero so shell-operator retries); permanent ones
/// are reported and never retried.
///
/// It has no `Display`: Connect's messages quote config values, so every
/// place that prints one goes through [`Failure::scrubbed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub permanent: bool,
    /// The request, as it may be printed: `PUT http://connect:8083/connectors/a/config`,
    /// never with credentials. Not secret, so never scrubbed.
    pub request: String,
    /// What went wrong: Connect's message, or the transport's.
    pub detail: String,
}

impl Failure {
    pub fn permanent(request: &str, detail: impl Into<String>) -> Failure {
        Failure { permanent: true, request: request.to_string(), detail: detail.into() }
    }

    pub fn transient(request: &str, detail: impl Into<String>) -> Failure {
        Failure { permanent: false, request: request.to_string(), detail: detail.into() }
    }

    /// `request: detail`, with the secrets `scrubber` knows hidden from the detail.
    pub fn scrubbed(&self, scrubber: &Scrubber) -> String {
        format!("{}: {}", self.request, scrubber.scrub(&self.detail))
    }
}

/// What Connect runs now, for the connectors the run cares about.
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// Every connector name on the cluster.
    pub names: BTreeSet<String>,
    /// Stored config of each connector in `names` that was asked for (and of
    /// every connector when the server expands).
    pub configs: BTreeMap<String, BTreeMap<String, String>>,
    /// Connector and task states, where Connect reported them.
    pub status: BTreeMap<String, Status>,
}

/// A connector's state and its tasks', as `GET .../status` reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Status {
    pub connector: Unit,
    #[serde(default)]
    pub tasks: Vec<Unit>,
}

/// The connector itself or one task: its state, the worker running it, and
/// the stack trace Connect keeps for a FAILED one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Unit {
    pub state: String,
    #[serde(default)]
    pub worker_id: Option<String>,
    #[serde(default)]
    pub trace: Option<String>,
}

impl Unit {
    /// A unit in `state` on no particular worker.
    #[cfg(test)]
    pub fn new(state: &str) -> Unit {
        Unit { state: state.to_string(), ..Unit::default() }
    }

    /// The first line of the trace: the exception and its message.
    pub fn reason(&self) -> Option<&str> {
        self.trace.as_deref().and_then(|t| t.lines().map(str::trim).find(|l| !l.is_empty()))
    }
}

/// An installed plugin, from `GET /connector-plugins`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Plugin {
    pub class: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Created,
    Updated,
    /// A retried write found the config already in place.
    FoundOnRetry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    Deleted,
    AlreadyGone,
}

pub struct Client {
    agent: ureq::Agent,
    base: String,
    /// `base` without user info, for messages.
    shown_base: String,
    authorization: Option<String>,
    /// The end of the retry budget, which starts with the first request.
    deadline: OnceLock<Instant>,
    budget: Duration,
    concurrency: usize,
    /// Requests sent, for the run summary.
    sent: AtomicUsize,
    /// The query that expands the connector list.
    expand: &'static str,
    /// Hides secrets in the retry messages it logs.
    scrubber: Scrubber,
}

/// The HTTP methods the Connect REST API is spoken with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        })
    }
}

/// An answer, with the request it answers (for messages).
struct Reply {
    /// `GET http://connect:8083/connectors`, without credentials.
    request: String,
    /// Whether the request listed the connectors: a 404 there means the URL is not Connect.
    listing: bool,
    status: u16,
    /// The Content-Type, to tell an HTML page from Connect's JSON.
    html: bool,
    body: String,
    retry_after: Option<Duration>,
}

/// One try of an operation.
enum Attempt<T> {
    Done(T),
    Fail(Failure, Option<Duration>),
}

impl Client {
    pub fn new(settings: &Settings) -> Result<Client> {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(settings.read_timeout))
            .timeout_recv_body(Some(settings.read_timeout))
            .max_idle_connections_per_host(settings.concurrency.max(1) + 1)
            .user_agent(concat!("connect-operator/", env!("CARGO_PKG_VERSION")));
        if settings.ca_file.is_some() || settings.client_cert.is_some() || settings.insecure_skip_verify {
            let tls = tls(settings.ca_file.as_deref(), settings.client_cert.as_ref(), settings.insecure_skip_verify)?;
            config = config.tls_config(tls);
        }
        let authorization = match &settings.auth {
            Auth::None => None,
            Auth::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Auth::Bearer(token) => Some(format!("Bearer {token}")),
        };
        Ok(Client {
            agent: config.build().into(),
            base: settings.url.trim_end_matches('/').to_string(),
            shown_base: without_userinfo(settings.url.trim_end_matches('/')),
            authorization,
            deadline: OnceLock::new(),
            budget: settings.retry_budget,
            concurrency: settings.concurrency.max(1),
            sent: AtomicUsize::new(0),
            expand: if settings.comma_expand { "expand=info,status" } else { "expand=info&expand=status" },
            scrubber: Scrubber::default(),
        })
    }

    /// The client, logging its retries through `scrubber`.
    pub fn scrubbing(self, scrubber: &Scrubber) -> Client {
        Client { scrubber: scrubber.clone(), ..self }
    }

    pub fn requests_sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Reads the live state with one request, `GET
    /// /connectors?expand=info&expand=status`. Connect leaves out a connector
    /// whose status is not written yet, and old workers do not expand: only
    /// then are the names listed and the configs of `wanted` connectors read
    /// one by one.
    pub fn read_live(&self, wanted: &BTreeSet<String>) -> Result<Live, Failure> {
        let path = format!("/connectors?{}", self.expand);
        let body = self.retrying("list connectors", || self.get_json(&path))?;
        let mut live = Live::default();
        let missing: BTreeSet<&String> = match body {
            serde_json::Value::Object(map) => {
                live = expanded(map);
                let missing: BTreeSet<&String> = wanted.iter().filter(|n| !live.configs.contains_key(*n)).collect();
                if !missing.is_empty() {
                    debug!("{} wanted connectors not in the expanded list; listing names", missing.len());
                    let names = self.retrying("list connector names", || self.get_json("/connectors"))?;
                    live.names.extend(name_list(&names, &format!("GET {}/connectors", self.shown_base))?);
                }
                missing
            }
            names => {
                debug!("Connect did not expand the connector list; reading configs one by one");
                live.names = name_list(&names, &format!("GET {}/connectors", self.shown_base))?;
                wanted.iter().collect()
            }
        };
        let to_read: Vec<&String> =
            missing.into_iter().filter(|n| live.names.contains(*n) && !live.configs.contains_key(*n)).collect();
        let read = crate::parallel::map(&to_read, self.concurrency, |name| (name.to_string(), self.get_config(name)));
        for (name, config) in read {
            match config? {
                Some(config) => {
                    live.configs.insert(name, config);
                }
                None => {
                    live.names.remove(&name);
                }
            }
        }
        Ok(live)
    }

    /// What the client makes of one answer, without sending anything: how it
    /// sorts an error, and what it reads from a success (a connector list,
    /// expanded or not, a config, the plugin list). The fuzz target's entry.
    pub fn read_answer(status: u16, content_type: Option<&str>, retry_after: Option<&str>, body: &str) -> String {
        let reply = Reply {
            request: "GET http://connect/connectors".into(),
            listing: true,
            status,
            html: content_type.is_some_and(is_html),
            body: body.to_string(),
            retry_after: retry_after.and_then(retry_after_of),
        };
        if !(200..300).contains(&status) {
            return match classify::<()>(&reply) {
                Attempt::Fail(f, wait) => format!("{} {} {wait:?}", f.permanent, f.detail),
                Attempt::Done(()) => String::new(),
            };
        }
        match parse_json(body) {
            Some(serde_json::Value::Object(map)) => {
                let config = string_map(&serde_json::Value::Object(map.clone()));
                format!("{:?} {config:?}", expanded(map))
            }
            Some(list @ serde_json::Value::Array(_)) => {
                let plugins = serde_json::from_value::<Vec<Plugin>>(list.clone()).map_err(|e| e.to_string());
                format!("{:?} {plugins:?}", name_list(&list, &reply.request).map_err(|f| f.detail))
            }
            _ => not_connect(&reply),
        }
    }

    /// `GET /connectors/{name}/config`; `None` when there is no such connector.
    pub fn get_config(&self, name: &str) -> Result<Option<BTreeMap<String, String>>, Failure> {
        let path = format!("/connectors/{}/config", encode(name));
        self.retrying(&format!("read connector {name}"), || match self.request(Method::Get, &path, None) {
            Ok(r) if r.status == 200 => match parse_json(&r.body).as_ref().and_then(string_map) {
                Some(config) => Attempt::Done(Some(config)),
                None => Attempt::Fail(
                    Failure::permanent(&r.request, format!("unexpected config: {}", short(&r.body))),
                    None,
                ),
            },
            Ok(r) if r.status == 404 => Attempt::Done(None),
            Ok(r) => classify(&r),
            Err(e) => Attempt::Fail(e, None),
        })
    }

    /// `PUT /connectors/{name}/config`, which creates or replaces. Before a
    /// retry the config is read back: a write that timed out may have been
    /// applied after all.
    pub fn put_config(&self, connector: &Connector) -> Result<Applied, Failure> {
        let path = format!("/connectors/{}/config", encode(&connector.name));
        let body = json_object(&connector.config);
        let mut first = true;
        self.retrying(&format!("apply connector {}", connector.name), || {
            if !std::mem::take(&mut first) {
                if let Ok(Some(live)) = self.get_config(&connector.name) {
                    if live == connector.config {
                        return Attempt::Done(Applied::FoundOnRetry);
                    }
                }
            }
            match self.request(Method::Put, &path, Some(&body)) {
                Ok(r) if r.status == 201 => Attempt::Done(Applied::Created),
                Ok(r) if r.status == 200 => Attempt::Done(Applied::Updated),
                Ok(r) => classify(&r),
                Err(e) => Attempt::Fail(e, None),
            }
        })
    }

    /// `POST /connectors` with `initial_state`, so a paused or stopped
    /// connector never runs (Kafka 3.7+). Workers that do not know the field
    /// answer 500 "Unrecognized field": then it is created with `PUT` and
    /// moved at once. A connector that appeared meanwhile is updated.
    pub fn create(&self, connector: &Connector) -> Result<Applied, Failure> {
        if connector.state == TargetState::Running {
            return self.put_config(connector);
        }
        let body = serde_json::json!({
            "name": connector.name,
            "config": connector.config,
            "initial_state": connector.state.initial_state(),
        });
        let created = self.retrying(&format!("create connector {}", connector.name), || {
            match self.request(Method::Post, "/connectors", Some(&body)) {
                Ok(r) if r.status == 201 || r.status == 200 => Attempt::Done(true),
                Ok(r)
                    if (r.status == 500 && r.body.contains("Unrecognized field"))
                        || r.status == 409 && r.body.contains("already exists") =>
                {
                    Attempt::Done(false)
                }
                Ok(r) => classify(&r),
                Err(e) => Attempt::Fail(e, None),
            }
        })?;
        if created {
            return Ok(Applied::Created);
        }
        let applied = self.put_config(connector)?;
        self.set_state(&connector.name, connector.state)?;
        Ok(applied)
    }

    /// `PUT /connectors/{name}/pause`, `/resume` or `/stop`.
    pub fn set_state(&self, name: &str, state: TargetState) -> Result<(), Failure> {
        let path = format!("/connectors/{}/{}", encode(name), state.verb());
        self.retrying(&format!("{} connector {name}", state.verb()), || self.expect_success(Method::Put, &path))
    }

    /// `POST /connectors/{name}/restart?includeTasks=true&onlyFailed=...`.
    pub fn restart(&self, name: &str, only_failed: bool) -> Result<(), Failure> {
        let path = format!("/connectors/{}/restart?includeTasks=true&onlyFailed={only_failed}", encode(name));
        self.retrying(&format!("restart connector {name}"), || self.expect_success(Method::Post, &path))
    }

    fn expect_success(&self, method: Method, path: &str) -> Attempt<()> {
        match self.request(method, path, None) {
            Ok(r) if (200..300).contains(&r.status) => Attempt::Done(()),
            Ok(r) => classify(&r),
            Err(e) => Attempt::Fail(e, None),
        }
    }

    /// `GET /connector-plugins`: the installed connector classes.
    pub fn plugins(&self) -> Result<Vec<Plugin>, Failure> {
        let body = self.retrying("list connector plugins", || self.get_json("/connector-plugins"))?;
        serde_json::from_value(body).map_err(|e| {
            Failure::permanent(
                &format!("GET {}/connector-plugins", self.shown_base),
                format!("unexpected plugin list: {e}"),
            )
        })
    }

    /// `PUT /connector-plugins/{plugin}/config/validate`: Connect's verdict on
    /// a config (its `ConfigInfos`), which is a report, not a rejection.
    pub fn validate(&self, plugin: &str, config: &BTreeMap<String, String>) -> Result<serde_json::Value, Failure> {
        let path = format!("/connector-plugins/{}/config/validate", encode(plugin));
        let body = json_object(config);
        self.retrying(&format!("validate {plugin}"), || match self.request(Method::Put, &path, Some(&body)) {
            Ok(r) if r.status == 200 => match parse_json(&r.body) {
                Some(v) => Attempt::Done(v),
                None => Attempt::Fail(Failure::permanent(&r.request, not_connect(&r)), None),
            },
            Ok(r) => classify(&r),
            Err(e) => Attempt::Fail(e, None),
        })
    }

    /// `DELETE /connectors/{name}`; a 404 means it is already gone.
    pub fn delete(&self, name: &str) -> Result<Removed, Failure> {
        let path = format!("/connectors/{}", encode(name));
        let mut first = true;
        self.retrying(&format!("delete connector {name}"), || {
            if !std::mem::take(&mut first) && matches!(self.get_config(name), Ok(None)) {
                return Attempt::Done(Removed::AlreadyGone);
            }
            match self.request(Method::Delete, &path, None) {
                Ok(r) if r.status == 204 || r.status == 200 => Attempt::Done(Removed::Deleted),
                Ok(r) if r.status == 404 => Attempt::Done(Removed::AlreadyGone),
                Ok(r) => classify(&r),
                Err(e) => Attempt::Fail(e, None),
            }
        })
    }

    fn get_json(&self, path: &str) -> Attempt<serde_json::Value> {
        match self.request(Method::Get, path, None) {
            // Connect always answers JSON: anything else is another server.
            Ok(r) if r.status == 200 => match parse_json(&r.body) {
                Some(v) => Attempt::Done(v),
                None => Attempt::Fail(Failure::permanent(&r.request, not_connect(&r)), None),
            },
            Ok(r) => classify(&r),
            Err(e) => Attempt::Fail(e, None),
        }
    }

    /// Retries transient failures with exponential backoff and full jitter
    /// until the run's retry budget is spent.
    fn retrying<T>(&self, what: &str, mut attempt: impl FnMut() -> Attempt<T>) -> Result<T, Failure> {
        let mut n: u32 = 0;
        loop {
            let (failure, retry_after) = match attempt() {
                Attempt::Done(v) => return Ok(v),
                Attempt::Fail(f, _) if f.permanent => return Err(f),
                Attempt::Fail(f, retry_after) => (f, retry_after),
            };
            let backoff = Duration::from_millis(200u64.saturating_mul(1 << n.min(6))).min(Duration::from_secs(10));
            let jittered = backoff.mul_f64(0.5 + fastrand::f64() / 2.0);
            // Retry-After comes from the server: never wait past the budget for it.
            let wait = retry_after.unwrap_or(jittered).min(self.budget);
            let deadline = *self.deadline.get_or_init(|| later(Instant::now(), self.budget));
            let now = Instant::now();
            if later(now, wait) > deadline {
                let detail = format!(
                    "{} (gave up after {} attempts within the {} retry budget)",
                    failure.detail,
                    n.saturating_add(1),
                    humantime::format_duration(self.budget)
                );
                return Err(Failure { detail, ..failure });
            }
            // Said at once, so a person waiting on a terminal knows why.
            let left = deadline.saturating_duration_since(later(now, wait));
            warn!(
                "cannot {what} (attempt {}): {}; next attempt in {:.1}s, {:.0}s of the {} retry budget left after it",
                n.saturating_add(1),
                failure.scrubbed(&self.scrubber),
                wait.as_secs_f64(),
                left.as_secs_f64(),
                humantime::format_duration(self.budget)
            );
            std::thread::sleep(wait);
            n = n.saturating_add(1);
        }
    }

    fn request(&self, method: Method, path: &str, body: Option<&serde_json::Value>) -> Result<Reply, Failure> {
        let url = format!("{}{path}", self.base);
        let shown = format!("{method} {}{path}", self.shown_base);
        self.deadline.get_or_init(|| later(Instant::now(), self.budget));
        self.sent.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let result = match (method, body) {
            (Method::Put, Some(body)) => self.with_auth(self.agent.put(&url)).send_json(body),
            (Method::Put, None) => self.with_auth(self.agent.put(&url)).send_empty(),
            (Method::Post, Some(body)) => self.with_auth(self.agent.post(&url)).send_json(body),
            (Method::Post, None) => self.with_auth(self.agent.post(&url)).send_empty(),
            (Method::Delete, _) => self.with_auth(self.agent.delete(&url)).call(),
            (Method::Get, _) => self.with_auth(self.agent.get(&url)).call(),
        };
        let mut response = result.map_err(|e| transport_failure(&shown, &e))?;
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let retry_after = header("retry-after").as_deref().and_then(retry_after_of);
        let html = header("content-type").as_deref().is_some_and(is_html);
        let body = response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_string().map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                let limit = crate::sandbox::format_size(MAX_ANSWER_BYTES);
                Failure::permanent(&shown, format!("the answer is larger than {limit}, the most that is read"))
            }
            e => Failure::transient(&shown, format!("cannot read the answer: {e}")),
        })?;
        debug!("{shown} -> {status} in {:?}", started.elapsed());
        let listing = method == Method::Get && path.split('?').next() == Some("/connectors");
        Ok(Reply { request: shown, listing, status, html, body, retry_after })
    }

    fn with_auth<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let request = request.header("Accept", "application/json");
        match &self.authorization {
            Some(value) => request.header("Authorization", value),
            None => request,
        }
    }
}

/// A request that got no answer. Connection errors are transient; a
/// certificate the server presents (or refuses) will not change by retrying.
fn transport_failure(request: &str, e: &ureq::Error) -> Failure {
    let text = e.to_string();
    let tls = matches!(e, ureq::Error::Tls(_) | ureq::Error::Pem(_) | ureq::Error::Rustls(_))
        || text.to_ascii_lowercase().contains("certificate");
    if tls {
        Failure::permanent(
            request,
            format!(
                "{text} (check CONNECT_CA_FILE, CONNECT_CLIENT_CERT_FILE / CONNECT_CLIENT_KEY_FILE and the host name in CONNECT_URL)"
            ),
        )
    } else {
        Failure::transient(request, text)
    }
}

/// Sorts a non-success answer into transient or permanent, keeping Connect's
/// message and naming the request.
fn classify<T>(r: &Reply) -> Attempt<T> {
    let foreign = r.html || looks_like_html(&r.body) || (r.listing && r.status == 404);
    let message = error_message(&r.body);
    let transient = match r.status {
        409 => !message.ends_with("already exists"),
        // A proxy in front of a restarting Connect answers these in HTML too.
        429 | 502 | 503 | 504 => true,
        500 => {
            message.contains("rebalance is expected")
                || message.starts_with("Request timed out")
                || message.starts_with("IO Error trying to forward REST request")
        }
        _ => false,
    };
    let detail = if foreign && !transient { not_connect(r) } else { format!("HTTP {}: {message}", r.status) };
    if r.status == 401 || r.status == 403 {
        warn!(
            "Connect refused our credentials ({}: HTTP {}); check CONNECT_USERNAME / CONNECT_PASSWORD / CONNECT_TOKEN",
            r.request, r.status
        );
    }
    let failure = Failure { permanent: !transient, request: r.request.clone(), detail };
    Attempt::Fail(failure, if r.status == 429 { r.retry_after } else { None })
}

/// The connectors of an expanded list (`?expand=info&expand=status`), with
/// the config and status of each that has them.
fn expanded(map: serde_json::Map<String, serde_json::Value>) -> Live {
    let mut live = Live::default();
    for (name, entry) in map {
        if let Some(config) = entry.pointer("/info/config").and_then(string_map) {
            live.configs.insert(name.clone(), config);
        }
        if let Some(Ok(status)) = entry.get("status").map(Status::deserialize) {
            live.status.insert(name.clone(), status);
        }
        live.names.insert(name);
    }
    live
}

/// `Retry-After` in seconds (the HTTP-date form is not used by Connect's gateways).
fn retry_after_of(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn is_html(content_type: &str) -> bool {
    content_type.to_ascii_lowercase().contains("html")
}

/// An answer no Kafka Connect gives: an HTML page, a 404 for the connector
/// list, or a body that is not JSON.
fn not_connect(r: &Reply) -> String {
    let what = if r.html || looks_like_html(&r.body) { "an HTML page".to_string() } else { short(&r.body) };
    format!(
        "HTTP {}: {what}; this URL does not look like a Kafka Connect REST API (check CONNECT_URL: the worker's \
         REST listener, e.g. http://connect:8083, with no path unless a proxy adds one)",
        r.status
    )
}

fn looks_like_html(body: &str) -> bool {
    let start = body.trim_start().get(..15).unwrap_or(body.trim_start()).to_ascii_lowercase();
    start.starts_with("<!doctype") || start.starts_with("<html") || start.starts_with("<?xml")
}

/// A URL as it may be printed: user info (`user:password@`) left out.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Connect's `{"error_code", "message"}`, Confluent Cloud's `{"error":
/// {"code", "message"}}`, or the start of whatever else came back (a proxy's
/// HTML page, say).
fn error_message(body: &str) -> String {
    #[derive(Deserialize)]
    struct Apache {
        message: Option<String>,
    }
    #[derive(Deserialize)]
    struct Cloud {
        error: Apache,
    }
    if let Ok(Cloud { error: Apache { message: Some(m) } }) = serde_json::from_str(body) {
        return m;
    }
    if let Ok(Apache { message: Some(m) }) = serde_json::from_str(body) {
        return one_line(&m);
    }
    match body.trim() {
        "" => "(no message)".to_string(),
        other => short(other),
    }
}

/// Connect's validation errors come one per line, followed by a pointer to
/// the validate endpoint; a log line reads better with them joined.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("You can also find the above list of errors"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn short(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// `at + duration`, or far in the future when a setting (RETRY_BUDGET) or
/// a server (Retry-After) asks for more than an `Instant` holds.
fn later(at: Instant, duration: Duration) -> Instant {
    at.checked_add(duration).unwrap_or_else(|| at + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// A string map as a JSON object, as Connect takes configs.
pub fn json_object(map: &BTreeMap<String, String>) -> serde_json::Value {
    serde_json::Value::Object(map.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect())
}

fn parse_json(body: &str) -> Option<serde_json::Value> {
    serde_json::from_str(body).ok()
}

fn string_map(value: &serde_json::Value) -> Option<BTreeMap<String, String>> {
    value.as_object()?.iter().map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()
}

fn name_list(value: &serde_json::Value, request: &str) -> Result<BTreeSet<String>, Failure> {
    value
        .as_array()
        .and_then(|names| names.iter().map(|n| n.as_str().map(str::to_string)).collect())
        .ok_or_else(|| Failure::transient(request, format!("unexpected answer {}", short(&value.to_string()))))
}

pub fn encode(name: &str) -> String {
    utf8_percent_encode(name, PATH_SEGMENT).to_string()
}

/// TLS with a private CA and/or a client certificate. Certificates and host
/// names are verified unless a clusters file says `insecureSkipVerify` for
/// that one cluster (with a warning).
fn tls(
    ca: Option<&std::path::Path>,
    client: Option<&(std::path::PathBuf, std::path::PathBuf)>,
    insecure_skip_verify: bool,
) -> Result<ureq::tls::TlsConfig> {
    let mut builder = ureq::tls::TlsConfig::builder().disable_verification(insecure_skip_verify);
    if let Some(ca) = ca {
        builder = builder.root_certs(ureq::tls::RootCerts::new_with_certs(&certificates(ca, "CONNECT_CA_FILE")?));
    }
    if let Some((cert, key)) = client {
        let chain = certificates(cert, "CONNECT_CLIENT_CERT_FILE")?;
        let pem =
            std::fs::read(key).with_context(|| format!("cannot read CONNECT_CLIENT_KEY_FILE {}", key.display()))?;
        let key = ureq::tls::PrivateKey::from_pem(&pem)
            .with_context(|| format!("CONNECT_CLIENT_KEY_FILE {} holds no PEM private key", key.display()))?;
        builder = builder.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&chain, key)));
    }
    Ok(builder.build())
}

/// The certificates of a PEM file, named after the variable that gave it.
fn certificates(path: &std::path::Path, variable: &str) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read {variable} {}", path.display()))?;
    let certs = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{variable} {} is not valid PEM", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "{variable} {} holds no certificate", path.display());
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, message: &str) -> Reply {
        Reply {
            request: "PUT http://connect/connectors/a/config".into(),
            listing: false,
            html: false,
            status,
            body: serde_json::json!({"error_code": status, "message": message}).to_string(),
            retry_after: None,
        }
    }

    fn is_transient(r: Reply) -> bool {
        match classify::<()>(&r) {
            Attempt::Fail(f, _) => !f.permanent,
            Attempt::Done(_) => unreachable!(),
        }
    }

    #[test]
    fn classification_follows_the_reference() {
        assert!(is_transient(reply(409, "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)")));
        assert!(is_transient(reply(
            409,
            "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
        )));
        assert!(!is_transient(reply(409, "Connector x already exists")));
        assert!(is_transient(reply(500, "Request cannot be completed because a rebalance is expected")));
        assert!(is_transient(reply(500, "Request timed out. The worker is currently ensuring membership in the cluster, which began at 2024-01-01T00:00:00Z")));
        assert!(!is_transient(reply(
            500,
            "Failed to find any class that implements Connector and which name matches X"
        )));
        assert!(!is_transient(reply(400, "Connector configuration is invalid")));
        assert!(is_transient(Reply { status: 503, body: "<html>busy</html>".into(), ..reply(503, "") }));
        assert!(is_transient(reply(429, "slow down")));
    }

    #[test]
    fn error_bodies() {
        assert_eq!(error_message(r#"{"error_code":404,"message":"Connector x not found"}"#), "Connector x not found");
        assert_eq!(error_message(r#"{"error":{"code":404,"message":"not here"}}"#), "not here");
        assert_eq!(error_message(r#"{"error_code":500,"message":null}"#), r#"{"error_code":500,"message":null}"#);
        assert_eq!(error_message(""), "(no message)");
        let invalid = "Connector configuration is invalid and contains the following 2 error(s):\nInvalid value abc for configuration tasks.max: Not a number of type INT\nMissing required configuration \"topic\" which has no default value.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`";
        assert_eq!(
            error_message(&serde_json::json!({"error_code": 400, "message": invalid}).to_string()),
            "Connector configuration is invalid and contains the following 2 error(s):; Invalid value abc for configuration tasks.max: Not a number of type INT; Missing required configuration \"topic\" which has no default value."
        );
    }

    #[test]
    fn ca_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["connect.example".into()]).unwrap();
        let good = dir.path().join("ca.pem");
        std::fs::write(&good, ca.cert.pem()).unwrap();
        assert!(tls(Some(&good), None, false).is_ok());
        let key_only = dir.path().join("key.pem");
        std::fs::write(&key_only, ca.signing_key.serialize_pem()).unwrap();
        assert!(format!("{:#}", tls(Some(&key_only), None, false).unwrap_err()).contains("holds no certificate"));
        let missing = format!("{:#}", tls(Some(&dir.path().join("nope.pem")), None, false).unwrap_err());
        assert!(missing.contains("cannot read CONNECT_CA_FILE"), "{missing}");
        assert!(tls(None, Some(&(good.clone(), key_only.clone())), false).is_ok());
        let no_key = format!("{:#}", tls(None, Some(&(good.clone(), good.clone())), false).unwrap_err());
        assert!(no_key.contains("CONNECT_CLIENT_KEY_FILE"), "{no_key}");
    }

    #[test]
    fn names_are_percent_encoded() {
        assert_eq!(encode("a b/c?d#e%"), "a%20b%2Fc%3Fd%23e%25");
        assert_eq!(encode("jdbc-customers.v1_x~"), "jdbc-customers.v1_x~");
    }

    /// A server on loopback that answers every connection with `head`, then
    /// `body` in pieces of `piece` bytes, `pause` apart.
    fn server(head: String, body: Vec<u8>, piece: usize, pause: Duration) -> String {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(head.as_bytes());
                for chunk in body.chunks(piece) {
                    if stream.write_all(chunk).is_err() {
                        break;
                    }
                    std::thread::sleep(pause);
                }
            }
        });
        url
    }

    fn impatient(url: String) -> Client {
        let settings =
            Settings { url, retry_budget: Duration::ZERO, read_timeout: Duration::from_secs(1), ..Settings::default() };
        Client::new(&settings).unwrap()
    }

    #[test]
    fn a_server_that_sends_a_byte_a_second_is_cut_off() {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n".to_string();
        let url = server(head, vec![b' '; 60], 1, Duration::from_millis(500));
        let started = Instant::now();
        let failure = impatient(url).read_live(&BTreeSet::new()).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        assert!(!failure.permanent, "a slow server may be faster next run: {failure:?}");
        assert!(failure.detail.contains("cannot read the answer"), "{failure:?}");
    }

    #[test]
    fn a_runaway_answer_is_cut_off_at_the_cap() {
        let size = MAX_ANSWER_BYTES as usize + 1024;
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n");
        let url = server(head, vec![b' '; size], 1 << 20, Duration::ZERO);
        let failure = impatient(url).read_live(&BTreeSet::new()).unwrap_err();
        assert!(failure.permanent, "{failure:?}");
        assert!(failure.detail.contains("larger than 64 MiB"), "{failure:?}");
    }

    #[test]
    fn urls_are_shown_without_user_info() {
        assert_eq!(without_userinfo("http://u:p@connect:8083/x"), "http://connect:8083/x");
        assert_eq!(without_userinfo("https://connect:8083"), "https://connect:8083");
        assert_eq!(without_userinfo("http://connect/a@b"), "http://connect/a@b");
        assert_eq!(without_userinfo("not a url"), "not a url");
    }
}
