//! The HTTP side of the Connect client: settings, one request, retries
//! with backoff within the run's budget, and the counters a run reports.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Result;
use base64::Engine as _;
use log::debug;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::connect::errors::{is_html, retry_after_of, transport_failure, Attempt, Failure, FailureKind, Reply};
use crate::connect::tls::{tls, ClientCert};
use crate::deadline::later;
use crate::redact::Scrubber;
use crate::text::format_size;

/// Everything but the unreserved characters of RFC 3986 is encoded, so a
/// name can never change the path.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Connect answers a request within 90 s or gives up with a 500 itself.
pub const READ_TIMEOUT: Duration = Duration::from_secs(100);

/// The largest answer read: the bulk read of 10,000 connectors is about
/// 5 MB; a runaway body is cut off here.
const MAX_ANSWER_BYTES: u64 = 64 << 20;

/// How to reach one Connect cluster, and how hard to try.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Where the cluster is and who we are to it: each cluster its own.
    pub endpoint: Endpoint,
    /// How hard a run tries: the run's, but for a cluster's own concurrency.
    pub limits: RequestLimits,
}

/// Where one Connect cluster is and who we are to it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The REST listener, e.g. `http://connect:8083`.
    pub url: String,
    /// The credentials sent with every request.
    pub auth: Auth,
    /// PEM file of the CA that signed Connect's certificate.
    pub ca_file: Option<PathBuf>,
    /// The certificate for mutual TLS.
    pub client_cert: Option<ClientCert>,
    /// Only when a clusters file spells it out for one cluster.
    pub insecure_skip_verify: bool,
    /// Confluent Cloud documents `?expand=info,status`; Apache only matches
    /// the repeated form.
    pub comma_expand: bool,
}

/// How hard a run tries with a cluster.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// Writes sent at once.
    pub concurrency: usize,
    /// Time a run may spend retrying transient errors.
    pub retry_budget: Duration,
    /// Time to wait for an answer, and again for all of its body: a server
    /// that sends a byte a second is cut off.
    pub read_timeout: Duration,
    /// Who waits for the answers.
    pub caller: Caller,
}

/// Who runs the requests, which decides how patient they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The hook, which shell-operator runs again anyway: a Connect that is
    /// restarting is waited for.
    Hook,
    /// A command at a terminal or in CI, where a person waits: nothing
    /// answering on the first attempt is final, and retries are said at `info`.
    Terminal,
}

#[derive(Clone, Default)]
/// The credentials sent to Connect; `Debug` never shows them.
pub enum Auth {
    #[default]
    /// No `Authorization` header.
    None,
    /// HTTP basic auth (Confluent Cloud API keys too).
    Basic {
        /// The user name, or API key.
        username: String,
        /// The password, or API secret.
        password: String,
    },
    /// A bearer token.
    Bearer(String),
}

impl Default for Endpoint {
    /// Connect's REST listener as the streaming-ops hook found it.
    fn default() -> Endpoint {
        Endpoint {
            url: "http://connect:8083".into(),
            auth: Auth::None,
            ca_file: None,
            client_cert: None,
            insecure_skip_verify: false,
            comma_expand: false,
        }
    }
}

impl Default for RequestLimits {
    /// The hook's limits.
    fn default() -> RequestLimits {
        RequestLimits {
            concurrency: 4,
            retry_budget: Duration::from_secs(60),
            read_timeout: READ_TIMEOUT,
            caller: Caller::Hook,
        }
    }
}

impl Auth {
    /// The default cluster's credentials, from CONNECT_USERNAME and
    /// CONNECT_PASSWORD, or CONNECT_TOKEN.
    pub fn from_settings(username: Option<String>, password: Option<String>, token: Option<String>) -> Result<Auth> {
        Ok(match (username, password, token) {
            (None, None, None) => Auth::None,
            (None, None, Some(token)) => Auth::Bearer(token),
            (Some(username), Some(password), None) => Auth::Basic { username, password },
            (Some(_), Some(_), Some(_)) => {
                anyhow::bail!("set either CONNECT_TOKEN or CONNECT_USERNAME/CONNECT_PASSWORD, not both")
            }
            _ => anyhow::bail!(
                "basic auth needs both CONNECT_USERNAME and CONNECT_PASSWORD (or CONNECT_REST_KEY and CONNECT_REST_SECRET)"
            ),
        })
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

/// The Connect REST API of one cluster. Cheap to share between threads:
/// writes run in parallel on one client.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    /// `base` without user info, for messages.
    pub(super) shown_base: String,
    authorization: Option<String>,
    budget: RetryBudget,
    pub(super) concurrency: usize,
    /// Requests sent, for the run summary.
    sent: AtomicUsize,
    /// The query that expands the connector list.
    pub(super) expand: &'static str,
    /// Hides secrets in the retry messages it logs.
    scrubber: Scrubber,
    /// See [`Settings::caller`].
    caller: Caller,
}

/// The time a run retries a Connect that does not answer.
struct RetryBudget {
    length: Duration,
    /// Set by the first request: the budget starts when the run first needs Connect.
    end: OnceLock<Instant>,
}

impl RetryBudget {
    /// When the budget is spent; starts it if it has not started.
    fn end(&self) -> Instant {
        *self.end.get_or_init(|| later(Instant::now(), self.length))
    }
}

/// The HTTP methods the Connect REST API is spoken with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Reads.
    Get,
    /// Creates or replaces a config; pauses, resumes, stops.
    Put,
    /// Creates with an initial state; restarts.
    Post,
    /// Alters offsets.
    Patch,
    /// Deletes.
    Delete,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        })
    }
}

impl Client {
    /// A client of the cluster `settings` describe, whose retry messages are
    /// scrubbed of what `scrubber` knows.
    pub fn new(settings: &Settings, scrubber: &Scrubber) -> Result<Client> {
        let Settings { endpoint, limits } = settings;
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(limits.read_timeout))
            .timeout_recv_body(Some(limits.read_timeout))
            .max_idle_connections_per_host(limits.concurrency.max(1) + 1)
            .user_agent(concat!("connect-operator/", env!("CARGO_PKG_VERSION")));
        if endpoint.ca_file.is_some() || endpoint.client_cert.is_some() || endpoint.insecure_skip_verify {
            let tls = tls(endpoint.ca_file.as_deref(), endpoint.client_cert.as_ref(), endpoint.insecure_skip_verify)?;
            config = config.tls_config(tls);
        }
        let authorization = match &endpoint.auth {
            Auth::None => None,
            Auth::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Auth::Bearer(token) => Some(format!("Bearer {token}")),
        };
        Ok(Client {
            agent: config.build().into(),
            base: endpoint.url.trim_end_matches('/').to_string(),
            shown_base: without_userinfo(endpoint.url.trim_end_matches('/')),
            authorization,
            budget: RetryBudget { length: limits.retry_budget, end: OnceLock::new() },
            concurrency: limits.concurrency.max(1),
            sent: AtomicUsize::new(0),
            expand: if endpoint.comma_expand { "expand=info,status" } else { "expand=info&expand=status" },
            scrubber: scrubber.clone(),
            caller: limits.caller,
        })
    }

    /// Requests sent so far, for the run summary.
    pub fn requests_sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    /// Writes sent at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Retries transient failures with exponential backoff and full jitter
    /// until the run's retry budget is spent.
    pub(super) fn retrying<T>(&self, what: &str, mut attempt: impl FnMut() -> Attempt<T>) -> Result<T, Failure> {
        let mut n: u32 = 0;
        loop {
            let (failure, retry_after) = match attempt() {
                Attempt::Done(v) => return Ok(v),
                Attempt::Fail(f, _) if f.is_permanent() => return Err(f),
                // A wrong URL is far likelier than a Connect that is starting.
                Attempt::Fail(f, _)
                    if f.kind == FailureKind::Unreachable && self.caller == Caller::Terminal && n == 0 =>
                {
                    return Err(Failure { detail: format!("{} (after 1 attempt)", f.detail), ..f })
                }
                Attempt::Fail(f, retry_after) => (f, retry_after),
            };
            let backoff = Duration::from_millis(200u64.saturating_mul(1 << n.min(6))).min(Duration::from_secs(10));
            let jittered = backoff.mul_f64(0.5 + fastrand::f64() / 2.0);
            // Retry-After comes from the server: never wait past the budget for it.
            let wait = retry_after.unwrap_or(jittered).min(self.budget.length);
            let deadline = self.budget.end();
            let now = Instant::now();
            if later(now, wait) > deadline {
                let attempts = n.saturating_add(1);
                let detail = format!(
                    "{} (gave up after {attempts} attempt{} within the {} retry budget)",
                    failure.detail,
                    if attempts == 1 { "" } else { "s" },
                    humantime::format_duration(self.budget.length)
                );
                return Err(Failure { detail, ..failure });
            }
            // Said at once, so a person waiting on a terminal knows why.
            let left = deadline.saturating_duration_since(later(now, wait));
            let level = match self.caller {
                Caller::Terminal => log::Level::Info,
                Caller::Hook => log::Level::Warn,
            };
            log::log!(
                level,
                "cannot {what} (attempt {}): {}; next attempt in {:.1}s, {:.0}s of the {} retry budget left after it",
                n.saturating_add(1),
                failure.scrubbed(&self.scrubber),
                wait.as_secs_f64(),
                left.as_secs_f64(),
                humantime::format_duration(self.budget.length)
            );
            std::thread::sleep(wait);
            n = n.saturating_add(1);
        }
    }

    pub(super) fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, Failure> {
        let url = format!("{}{path}", self.base);
        let shown = format!("{method} {}{path}", self.shown_base);
        self.budget.end();
        self.sent.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let result = match (method, body) {
            (Method::Put, Some(body)) => self.with_auth(self.agent.put(&url)).send_json(body),
            (Method::Put, None) => self.with_auth(self.agent.put(&url)).send_empty(),
            (Method::Post, Some(body)) => self.with_auth(self.agent.post(&url)).send_json(body),
            (Method::Post, None) => self.with_auth(self.agent.post(&url)).send_empty(),
            (Method::Patch, Some(body)) => self.with_auth(self.agent.patch(&url)).send_json(body),
            (Method::Patch, None) => self.with_auth(self.agent.patch(&url)).send_empty(),
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
                let limit = format_size(MAX_ANSWER_BYTES);
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

/// A URL as it may be printed: user info (`user:password@`) left out.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// A connector name as one URL path segment.
#[must_use]
pub fn encode(name: &str) -> String {
    utf8_percent_encode(name, PATH_SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

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

    /// A client that never retries and waits `read_timeout` for each read.
    fn no_retries(url: String, read_timeout: Duration) -> Client {
        let settings = Settings {
            endpoint: Endpoint { url, ..Endpoint::default() },
            limits: RequestLimits { retry_budget: Duration::ZERO, read_timeout, ..RequestLimits::default() },
        };
        Client::new(&settings, &Scrubber::default()).unwrap()
    }

    fn impatient(url: String) -> Client {
        no_retries(url, Duration::from_secs(1))
    }

    #[test]
    fn a_server_that_sends_a_byte_a_second_is_cut_off() {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n".to_string();
        let url = server(head, vec![b' '; 60], 1, Duration::from_millis(500));
        let started = Instant::now();
        let failure = impatient(url).read_live(&BTreeSet::new()).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        assert!(!failure.is_permanent(), "a slow server may be faster next run: {failure:?}");
        assert!(failure.detail.contains("cannot read the answer"), "{failure:?}");
    }

    #[test]
    fn a_runaway_answer_is_cut_off_at_the_cap() {
        let size = MAX_ANSWER_BYTES as usize + 1024;
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n");
        let url = server(head, vec![b' '; size], 1 << 20, Duration::ZERO);
        // Patient: 64 MiB through a loaded machine's loopback may pause for a
        // second, and only the cap may end this read.
        let failure = no_retries(url, Duration::from_secs(30)).read_live(&BTreeSet::new()).unwrap_err();
        assert!(failure.is_permanent(), "{failure:?}");
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
