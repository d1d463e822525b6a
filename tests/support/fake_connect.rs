//! A fake Kafka Connect REST server for tests and benchmarks.
//!
//! It follows `/work/shared/reference/kafka-connect-rest.md` (Apache Kafka 4.1 behaviour): the same status
//! codes, error bodies (`{"error_code":N,"message":"..."}`) and message texts, the same order of checks, and
//! the same config round-trip (values stored as the text that was sent, `name` added). Anything the tests need
//! to provoke that a healthy worker would not do on its own (409 during rebalances, timeouts, proxies, dropped
//! connections) is injected with [`FakeConnect::inject`].
//!
//! Self-contained on purpose: `benches/sync.rs` includes this file with `#[path]`.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

const VERSION: &str = "4.1.0";
const WORKER_ID: &str = "127.0.0.1:8083";
const JSON: &str = "application/json";
/// What Jersey's Jackson provider names as the source in its parse errors.
const SOURCE: &str = "(org.glassfish.jersey.message.internal.ReaderInterceptorExecutor$UnCloseableInputStream)";
const CREATE_REQUEST: &str = "org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest";
const STRING_MAP: &str = "java.util.Map<java.lang.String,java.lang.String>";
const TRACE: &str = "org.apache.kafka.connect.errors.ConnectException: simulated failure\n\tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:210)\n\tat org.apache.kafka.connect.runtime.WorkerTask.run(WorkerTask.java:263)\n";
/// Installed connector plugins: class, type, version, extra aliases (besides the simple name and the simple
/// name without `Connector`, which Connect accepts for every plugin). Sorted by class, as Connect lists them.
const PLUGINS: &[(&str, &str, &str, &[&str])] = &[
    ("com.wepay.kafka.connect.bigquery.BigQuerySinkConnector", "sink", "2.5.0", &[]),
    ("io.confluent.connect.jdbc.JdbcSourceConnector", "source", "10.8.4", &[]),
    ("io.confluent.kafka.connect.datagen.DatagenConnector", "source", "0.6.6", &["DatagenSource"]),
    ("org.apache.kafka.connect.file.FileStreamSinkConnector", "sink", VERSION, &[]),
    ("org.apache.kafka.connect.file.FileStreamSourceConnector", "source", VERSION, &[]),
];

// ---------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------

/// One request as the fake received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Path with the query string, exactly as sent.
    pub path: String,
    pub body: String,
    pub authorization: Option<String>,
}

/// Which requests a fault applies to: `method` (any if `None`) and a prefix of the path as sent (query included).
#[derive(Clone, Debug)]
pub struct Match {
    pub method: Option<&'static str>,
    pub path_prefix: String,
}

impl Match {
    pub fn any() -> Match {
        Match { method: None, path_prefix: String::new() }
    }
    pub fn method(method: &'static str) -> Match {
        Match { method: Some(method), path_prefix: String::new() }
    }
    pub fn path(method: &'static str, prefix: impl Into<String>) -> Match {
        Match { method: Some(method), path_prefix: prefix.into() }
    }
    fn matches(&self, rq: &Request) -> bool {
        self.method.is_none_or(|m| m == rq.method) && rq.path.starts_with(&self.path_prefix)
    }
}

/// Answers that replace normal handling (reference sections 2 and 4).
#[derive(Clone, Debug)]
pub enum Fault {
    StaleConfig409,
    NoLeader409,
    Conflicting409,
    RebalanceExpected500,
    /// The herder did not answer within 90 s. With `apply: true` the request is still carried out (the herder
    /// request is not cancelled, section 4.3).
    TimedOut500 {
        apply: bool,
    },
    /// What a gateway such as Confluent Cloud sends (section 7): `Retry-After` header, Cloud error shape.
    TooMany429 {
        retry_after_secs: u64,
    },
    /// A reverse proxy's HTML error page with this status (502, 503, 504...).
    Unavailable(u16),
    /// Any status with the Connect error body and this message.
    Status(u16, String),
    /// Close the connection without answering.
    Drop,
}

pub struct FakeConnect {
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    port: u16,
    tls: bool,
}

impl FakeConnect {
    /// One thread per connection with HTTP/1.1 keep-alive, as Jetty serves: a pooling client with several
    /// connections open at once is answered on all of them.
    pub fn start() -> FakeConnect {
        FakeConnect::listen(None)
    }

    /// HTTPS with this certificate chain and key (PEM); with `client_ca`, a
    /// client certificate signed by it is required (mutual TLS).
    pub fn start_tls(cert_chain_pem: &str, key_pem: &str, client_ca_pem: Option<&str>) -> FakeConnect {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("TLS versions");
        let builder = match client_ca_pem {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                    roots.add(cert.expect("client CA PEM")).expect("client CA");
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .expect("client verifier");
                builder.with_client_cert_verifier(verifier)
            }
        };
        let chain = CertificateDer::pem_slice_iter(cert_chain_pem.as_bytes()).collect::<Result<Vec<_>, _>>().unwrap();
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("server key PEM");
        let config = builder.with_single_cert(chain, key).expect("server certificate");
        FakeConnect::listen(Some(Arc::new(config)))
    }

    fn listen(tls: Option<Arc<rustls::ServerConfig>>) -> FakeConnect {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake Connect server");
        let port = listener.local_addr().expect("bound address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let tls_on = tls.is_some();
        let acceptor = {
            let (state, stop) = (state.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (state, tls) = (state.clone(), tls.clone());
                    thread::spawn(move || match tls {
                        None => serve_connection(&state, port, stream),
                        Some(config) => {
                            let Ok(connection) = rustls::ServerConnection::new(config) else { return };
                            serve_connection(&state, port, rustls::StreamOwned::new(connection, stream));
                        }
                    });
                }
            })
        };
        FakeConnect { state, stop, acceptor: Some(acceptor), port, tls: tls_on }
    }

    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS (the name the test certificates carry).
    pub fn url(&self) -> String {
        match self.tls {
            false => format!("http://127.0.0.1:{}", self.port),
            true => format!("https://localhost:{}", self.port),
        }
    }

    /// Seeds a connector that is already running with its status written; replaces any existing one.
    pub fn insert_connector(&self, name: &str, config: &[(&str, &str)]) {
        let mut config: BTreeMap<String, String> = config.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        config.entry("name".into()).or_insert_with(|| name.into());
        self.lock().connectors.insert(name.into(), Connector::new(config, "RUNNING"));
    }

    pub fn config(&self, name: &str) -> Option<BTreeMap<String, String>> {
        self.lock().connectors.get(name).map(|c| c.config.clone())
    }

    pub fn names(&self) -> Vec<String> {
        self.lock().connectors.keys().cloned().collect()
    }

    /// RUNNING, PAUSED and STOPPED also set the target state (as if paused/resumed/stopped through the API);
    /// other states only change what the status shows. FAILED adds a `trace`.
    pub fn set_connector_state(&self, name: &str, state: &str) {
        let mut st = self.lock();
        let c = st.connectors.get_mut(name).unwrap_or_else(|| panic!("no connector {name}"));
        if let Some(target) = ["RUNNING", "PAUSED", "STOPPED"].into_iter().find(|t| *t == state) {
            c.set_target(target);
        }
        c.state = Instance::new(state);
    }

    pub fn set_task_state(&self, name: &str, task: u32, state: &str) {
        let mut st = self.lock();
        let c = st.connectors.get_mut(name).unwrap_or_else(|| panic!("no connector {name}"));
        let t = c.tasks.get_mut(task as usize).unwrap_or_else(|| panic!("no task {name}-{task}"));
        *t = Instance::new(state);
    }

    pub fn connector_state(&self, name: &str) -> Option<String> {
        self.lock().connectors.get(name).map(|c| c.state.state.clone())
    }

    pub fn task_states(&self, name: &str) -> Vec<String> {
        let st = self.lock();
        st.connectors.get(name).map(|c| c.tasks.iter().map(|t| t.state.clone()).collect()).unwrap_or_default()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.lock().requests.clone()
    }

    pub fn request_count(&self) -> usize {
        self.lock().requests.len()
    }

    pub fn writes(&self) -> Vec<Request> {
        self.lock().requests.iter().filter(|r| r.method != "GET").cloned().collect()
    }

    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Return sensitive values as `mask` (`Some("****************")` like Confluent Cloud,
    /// `Some("••••••••")` like recent Confluent Platform), as GET config and `expand=info` do.
    pub fn set_masking(&self, mask: Option<&'static str>) {
        self.lock().vendor.mask = mask;
    }

    /// Server keys added to every config returned (`__internal.config.version`, `cloud.provider`, ...).
    pub fn set_added_keys(&self, pairs: &[(&str, &str)]) {
        self.lock().vendor.added = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    }

    pub fn set_latency(&self, d: Duration) {
        self.lock().latency = d;
    }

    /// `false` models a worker that ignores `expand` (GET /connectors always returns the name array).
    pub fn set_expand(&self, supported: bool) {
        self.lock().expand_ignored = !supported;
    }

    /// Like Connect's BasicAuthSecurityRestExtension: other requests get 401 `User cannot access the resource.`
    pub fn require_basic_auth(&self, user: &str, password: &str) {
        self.lock().auth = Auth::Basic(base64(format!("{user}:{password}").as_bytes()));
    }

    /// Bearer tokens are not built into Connect (an extension or a gateway checks them): others get a JSON 401.
    pub fn require_bearer(&self, token: &str) {
        self.lock().auth = Auth::Bearer(token.into());
    }

    /// Every connector created from now on answers `No status found for connector x` to its first `n` status
    /// reads (GET status, task status, `expand=status`, restart with parameters): section 3.9.
    pub fn set_status_missing_after_create(&self, n: usize) {
        self.lock().status_missing_after_create = n;
    }

    /// The next `times` requests matching `m` get `fault` instead of normal handling (first match wins).
    pub fn inject(&self, m: Match, fault: Fault, times: usize) {
        self.lock().faults.push((m, fault, times));
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

impl Drop for FakeConnect {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor blocked in accept(); open client connections end when their clients close them.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------------------

#[derive(Default)]
struct State {
    connectors: BTreeMap<String, Connector>,
    /// Confluent Platform / Cloud behaviour in what GET returns (reference sections 7 and 8).
    vendor: Vendor,
    requests: Vec<Request>,
    latency: Duration,
    expand_ignored: bool,
    auth: Auth,
    status_missing_after_create: usize,
    faults: Vec<(Match, Fault, usize)>,
}

/// What a Confluent worker changes in the configs it returns.
#[derive(Default, Clone)]
struct Vendor {
    /// Sensitive values are returned as this (`****************`, or bullets).
    mask: Option<&'static str>,
    /// Server keys added to every returned config (`__internal.config.version`, `cloud.provider`, ...).
    added: Vec<(String, String)>,
}

/// A config as a Confluent worker returns it.
fn shown(vendor: &Vendor, config: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let sensitive = |k: &str| {
        let k = k.to_ascii_lowercase();
        k.contains("password") || k.contains("secret") || k.ends_with("api.key") || k.contains("keyfile")
    };
    let mut shown: BTreeMap<String, String> = config
        .iter()
        .map(|(k, v)| match vendor.mask {
            Some(mask) if sensitive(k) => (k.clone(), mask.to_string()),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    shown.extend(vendor.added.iter().cloned());
    shown
}

#[derive(Default)]
enum Auth {
    #[default]
    None,
    /// Expected base64 of `user:password`.
    Basic(String),
    Bearer(String),
}

/// The status of a connector or task instance.
#[derive(Clone, Debug, PartialEq)]
struct Instance {
    state: String,
    trace: Option<String>,
}

impl Instance {
    fn new(state: &str) -> Instance {
        Instance { state: state.into(), trace: (state == "FAILED").then(|| TRACE.into()) }
    }
}

struct Connector {
    config: BTreeMap<String, String>,
    /// RUNNING, PAUSED or STOPPED: what pause/resume/stop asked for, kept across config updates.
    target: &'static str,
    state: Instance,
    tasks: Vec<Instance>,
    /// Status reads left that answer 404 because the connector has not written its status yet.
    status_missing: usize,
    /// A restart with parameters was accepted: RESTARTING instances come back on the next status read.
    restart_pending: bool,
}

impl Connector {
    fn new(config: BTreeMap<String, String>, target: &'static str) -> Connector {
        let mut c = Connector {
            config,
            target,
            state: Instance::new(target),
            tasks: vec![],
            status_missing: 0,
            restart_pending: false,
        };
        c.regenerate_tasks();
        c
    }

    /// Tasks come from `tasks.max` (default 1); a STOPPED connector has none.
    fn regenerate_tasks(&mut self) {
        let n = self.config.get("tasks.max").and_then(|v| v.trim().parse::<usize>().ok()).filter(|n| *n > 0);
        let n = if self.target == "STOPPED" { 0 } else { n.unwrap_or(1) };
        self.tasks = vec![Instance::new(self.target); n];
    }

    fn set_target(&mut self, target: &'static str) {
        let previous = std::mem::replace(&mut self.target, target);
        if target == "STOPPED" || previous == "STOPPED" {
            self.state = Instance::new(target);
            self.regenerate_tasks();
        } else if previous != target {
            // A failed instance is not running, so pausing or resuming does not change it.
            for i in std::iter::once(&mut self.state).chain(self.tasks.iter_mut()) {
                if i.state != "FAILED" {
                    *i = Instance::new(target);
                }
            }
        }
    }

    /// A config write bounces the connector; tasks restart only if the config changed (section 3.7).
    fn reconfigure(&mut self, config: BTreeMap<String, String>) {
        let changed = self.config != config;
        self.config = config;
        self.state = Instance::new(self.target);
        if changed {
            self.regenerate_tasks();
        }
    }

    /// Counts a status read; false while the status is not written yet.
    fn read_status(&mut self) -> bool {
        if self.status_missing > 0 {
            self.status_missing -= 1;
            return false;
        }
        if std::mem::take(&mut self.restart_pending) {
            for i in std::iter::once(&mut self.state).chain(self.tasks.iter_mut()) {
                if i.state == "RESTARTING" {
                    *i = Instance::new(self.target);
                }
            }
        }
        true
    }

    fn kind(&self) -> &'static str {
        connector_type(self.config.get("connector.class").map(String::as_str))
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------------------
// Serving: recording, latency, faults, routing
// ---------------------------------------------------------------------------------------------------------

struct Reply {
    status: u16,
    content_type: Option<&'static str>,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Reply {
    fn new(status: u16, content_type: Option<&'static str>, body: impl Into<String>) -> Reply {
        Reply { status, content_type, headers: vec![], body: body.into() }
    }
    fn json(status: u16, body: &Value) -> Reply {
        Reply::new(status, Some(JSON), body.to_string())
    }
    /// Connect's ErrorMessage, from inside a resource method (so with the method's JSON content type).
    fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply::json(status, &json!({"error_code": status, "message": message.into()}))
    }
    /// Jersey's own 404/405/415, mapped by ConnectExceptionMapper: JSON body but no Content-Type (section 1.1).
    fn unmatched(status: u16) -> Reply {
        let reason = reason(status);
        let body = json!({"error_code": status, "message": format!("HTTP {status} {reason}")});
        Reply::new(status, None, body.to_string())
    }
    fn empty(status: u16) -> Reply {
        Reply::new(status, None, "")
    }
    fn header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}

/// Handler result: `Err` carries the error reply, so handlers can use `?`.
type Outcome = Result<Reply, Reply>;

/// A request as read off the wire.
struct Incoming {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Incoming {
    fn header(&self, name: &str) -> Option<String> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    }
}

/// Serves requests on one connection until the client closes it or asks to.
fn serve_connection(state: &Mutex<State>, port: u16, stream: impl Conn) {
    let mut reader = BufReader::new(stream);
    while let Some(incoming) = read_request(&mut reader) {
        let close = incoming.header("Connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let head = incoming.method == "HEAD";
        let Some(reply) = serve(state, port, incoming) else {
            // Fault::Drop: close without a byte of answer.
            reader.get_mut().close();
            return;
        };
        if write_reply(reader.get_mut(), reply, head).is_err() || close {
            return;
        }
    }
}

/// A client connection, plain or TLS.
trait Conn: Read + Write {
    fn close(&mut self);
}

impl Conn for TcpStream {
    fn close(&mut self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

impl Conn for rustls::StreamOwned<rustls::ServerConnection, TcpStream> {
    fn close(&mut self) {
        let _ = self.sock.shutdown(Shutdown::Both);
    }
}

/// Reads one request; `None` at the end of the connection or on bytes that are not HTTP.
fn read_request(reader: &mut BufReader<impl Read>) -> Option<Incoming> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let n = reader.read_until(b'\n', &mut head).ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    parsed.parse(&head).ok()?;
    let mut incoming = Incoming {
        method: parsed.method?.to_string(),
        target: parsed.path?.to_string(),
        headers: parsed
            .headers
            .iter()
            .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
            .collect(),
        body: Vec::new(),
    };
    if incoming.header("Transfer-Encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        incoming.body = read_chunked(reader)?;
    } else if let Some(length) = incoming.header("Content-Length") {
        let mut body = vec![0; length.trim().parse().ok()?];
        reader.read_exact(&mut body).ok()?;
        incoming.body = body;
    }
    Some(incoming)
}

fn read_chunked(reader: &mut BufReader<impl Read>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line).ok()?;
        let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2]; // the chunk and its CRLF
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

fn write_reply(writer: &mut impl Write, reply: Reply, head: bool) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    out.push_str("Server: Jetty(12.0.36)\r\n");
    let headers = reply.content_type.map(|ct| ("Content-Type", ct.to_string())).into_iter().chain(reply.headers);
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
    let mut bytes = out.into_bytes();
    if !head {
        bytes.extend_from_slice(reply.body.as_bytes());
    }
    writer.write_all(&bytes)?;
    writer.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Records the request, waits the latency, then answers with the injected fault or the normal handling.
/// `None` means: drop the connection.
fn serve(state: &Mutex<State>, port: u16, incoming: Incoming) -> Option<Reply> {
    let (content_type, host) = (incoming.header("Content-Type"), incoming.header("Host"));
    let request = Request {
        method: incoming.method.clone(),
        path: incoming.target.clone(),
        body: String::from_utf8_lossy(&incoming.body).into_owned(),
        authorization: incoming.header("Authorization"),
    };
    let (latency, fault) = {
        let mut st = lock(state);
        st.requests.push(request.clone());
        (st.latency, st.take_fault(&request))
    };
    thread::sleep(latency);
    let host = host.unwrap_or_else(|| format!("127.0.0.1:{port}"));
    let run = || handle(state, &request, content_type.as_deref(), &host);
    Some(match fault {
        None => run(),
        Some(Fault::Drop) => return None,
        Some(fault @ Fault::TimedOut500 { apply }) => {
            if apply {
                run();
            }
            fault.reply()
        }
        Some(fault) => fault.reply(),
    })
}

impl State {
    fn take_fault(&mut self, rq: &Request) -> Option<Fault> {
        let (_, fault, left) = self.faults.iter_mut().find(|(m, _, left)| *left > 0 && m.matches(rq))?;
        *left -= 1;
        Some(fault.clone())
    }
}

impl Fault {
    fn reply(&self) -> Reply {
        match self {
            Fault::StaleConfig409 => Reply::error(409, "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"),
            Fault::NoLeader409 => Reply::error(409, "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."),
            Fault::Conflicting409 => Reply::error(409, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"),
            Fault::RebalanceExpected500 => Reply::error(500, "Request cannot be completed because a rebalance is expected"),
            Fault::TimedOut500 { .. } => Reply::error(500, "Request timed out. The worker is currently ensuring membership in the cluster, which began at 2026-01-05T10:15:30.123Z."),
            Fault::TooMany429 { retry_after_secs } => {
                Reply::json(429, &json!({"error": {"code": 429, "message": "Too Many Requests"}}))
                    .header("Retry-After", retry_after_secs.to_string())
            }
            Fault::Unavailable(status) => {
                let title = format!("{status} {}", reason(*status));
                let page = format!("<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
                Reply::new(*status, Some("text/html"), page)
            }
            Fault::Status(status, message) => Reply::error(*status, message.clone()),
            Fault::Drop => unreachable!("handled by the caller"),
        }
    }
}

/// What Jersey resolved from the path; the connector (or plugin) name and task id travel in `Call`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Root,
    Health,
    Plugins,
    Validate,
    List,
    Create,
    Info,
    Delete,
    GetConfig,
    PutConfig,
    PatchConfig,
    Status,
    Tasks,
    TaskStatus,
    TaskRestart,
    Pause,
    Resume,
    Stop,
    Restart,
    Topics,
    TopicsReset,
    Offsets,
    AlterOffsets,
    ResetOffsets,
}

struct Call<'a> {
    name: String,
    /// Task id on task routes (`resolve` has checked that it is an Integer).
    task: i32,
    query: &'a str,
    body: &'a str,
    host: &'a str,
}

impl Call<'_> {
    /// Location of a created connector: absolute against the request's base URI, name percent-encoded.
    fn location(&self, name: &str) -> String {
        const PATH: &AsciiSet = &CONTROLS
            .add(b' ')
            .add(b'"')
            .add(b'#')
            .add(b'%')
            .add(b'<')
            .add(b'>')
            .add(b'?')
            .add(b'`')
            .add(b'{')
            .add(b'}');
        format!("http://{}/connectors/{}", self.host, utf8_percent_encode(name, PATH))
    }
}

fn handle(state: &Mutex<State>, rq: &Request, content_type: Option<&str>, host: &str) -> Reply {
    let (path, query) = rq.path.split_once('?').unwrap_or((rq.path.as_str(), ""));
    if path.to_ascii_lowercase().contains("%2f") {
        return jetty_ambiguous_separator();
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = path.strip_suffix('/').unwrap_or(path);
    let segs: Vec<String> = match path {
        "" => vec![],
        _ => path.split('/').map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned()).collect(),
    };
    let op = match resolve(&rq.method, &segs) {
        Ok(op) => op,
        Err(reply) => return reply,
    };
    // @Consumes(APPLICATION_JSON) is part of Jersey's method selection: checked before any filter.
    let json_body = content_type.is_none_or(|ct| ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case(JSON));
    if !matches!(op, Op::Root | Op::Health) && !json_body {
        return Reply::unmatched(415);
    }
    let mut st = lock(state);
    if let Some(reply) = st.check_auth(rq.authorization.as_deref()) {
        return reply;
    }
    let task = segs.get(3).and_then(|t| t.parse::<i32>().ok()).unwrap_or_default();
    let call = Call { name: segs.get(1).cloned().unwrap_or_default(), task, query, body: &rq.body, host };
    st.execute(op, &call).unwrap_or_else(|e| e)
}

fn resolve(method: &str, segs: &[String]) -> Result<Op, Reply> {
    use Op::*;
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    if s.iter().any(|seg| seg.is_empty()) {
        return Err(Reply::unmatched(404)); // a {param} never matches an empty segment
    }
    let ops: &[(&str, Op)] = match s.as_slice() {
        [] => &[("GET", Root)],
        ["health"] => &[("GET", Health)],
        ["connector-plugins"] => &[("GET", Plugins)],
        ["connector-plugins", _, "config", "validate"] => &[("PUT", Validate)],
        ["connectors"] => &[("GET", List), ("POST", Create)],
        ["connectors", _] => &[("GET", Info), ("DELETE", Delete)],
        ["connectors", _, "config"] => &[("GET", GetConfig), ("PUT", PutConfig), ("PATCH", PatchConfig)],
        ["connectors", _, "status"] => &[("GET", Status)],
        ["connectors", _, "tasks"] => &[("GET", Tasks)],
        ["connectors", _, "tasks", _, "status"] => &[("GET", TaskStatus)],
        ["connectors", _, "tasks", _, "restart"] => &[("POST", TaskRestart)],
        ["connectors", _, "pause"] => &[("PUT", Pause)],
        ["connectors", _, "resume"] => &[("PUT", Resume)],
        ["connectors", _, "stop"] => &[("PUT", Stop)],
        ["connectors", _, "restart"] => &[("POST", Restart)],
        ["connectors", _, "topics"] => &[("GET", Topics)],
        ["connectors", _, "topics", "reset"] => &[("PUT", TopicsReset)],
        ["connectors", _, "offsets"] => &[("GET", Offsets), ("PATCH", AlterOffsets), ("DELETE", ResetOffsets)],
        _ => return Err(Reply::unmatched(404)),
    };
    let method = if method == "HEAD" { "GET" } else { method }; // Jersey serves HEAD from GET methods
    let op = ops.iter().find(|(m, _)| *m == method).map(|(_, op)| *op).ok_or_else(|| Reply::unmatched(405))?;
    let bad_task = matches!(op, TaskStatus | TaskRestart) && s[3].parse::<i32>().is_err();
    if bad_task {
        return Err(Reply::unmatched(404)); // Integer conversion of the path parameter failed
    }
    Ok(op)
}

/// Jetty 12 (Kafka 4.x) rejects `%2F` in a path before Connect sees it (section 1.6).
fn jetty_ambiguous_separator() -> Reply {
    let page = "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=ISO-8859-1\"/>\n<title>Error 400 Ambiguous URI path separator</title>\n</head>\n<body>\n<h2>HTTP ERROR 400 Ambiguous URI path separator</h2>\n<table>\n<tr><th>URI:</th><td>/badURI</td></tr>\n<tr><th>STATUS:</th><td>400</td></tr>\n<tr><th>MESSAGE:</th><td>Ambiguous URI path separator</td></tr>\n</table>\n\n</body>\n</html>\n";
    Reply::new(400, Some("text/html;charset=iso-8859-1"), page)
}

// ---------------------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------------------

impl State {
    fn check_auth(&self, header: Option<&str>) -> Option<Reply> {
        let (scheme, credentials) = header.and_then(|h| h.split_once(' ')).unwrap_or(("", ""));
        match &self.auth {
            Auth::None => None,
            Auth::Basic(expected) if scheme.eq_ignore_ascii_case("basic") && credentials.trim() == expected => None,
            Auth::Bearer(expected) if scheme.eq_ignore_ascii_case("bearer") && credentials.trim() == expected => None,
            // JaasBasicAuthFilter aborts with a plain String entity; Jersey labels it with the matched method's
            // JSON type (inference), so the body is not JSON despite the Content-Type.
            Auth::Basic(_) => Some(Reply::new(401, Some(JSON), "User cannot access the resource.")),
            Auth::Bearer(_) => Some(Reply::error(401, "Unauthorized").header("WWW-Authenticate", "Bearer".into())),
        }
    }

    fn execute(&mut self, op: Op, call: &Call) -> Outcome {
        let name = call.name.as_str();
        let not_found = || Reply::error(404, format!("Connector {name} not found"));
        let unknown = || Reply::error(404, format!("Unknown connector {name}"));
        match op {
            Op::Root => Ok(Reply::json(
                200,
                &json!({"version": VERSION, "commit": "a1b2c3d4e5f60718", "kafka_cluster_id": "fake-cluster-id"}),
            )),
            Op::Health => Ok(Reply::json(
                200,
                &json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}),
            )),
            Op::Plugins => {
                let list: Vec<Value> = PLUGINS
                    .iter()
                    .map(|(class, kind, version, _)| json!({"class": class, "type": kind, "version": version}))
                    .collect();
                Ok(Reply::json(200, &Value::Array(list)))
            }
            Op::Validate => validate(call),
            Op::List => Ok(self.list(call)),
            Op::Create => self.create(call),
            Op::Info => {
                let c = self.connectors.get(name).ok_or_else(not_found)?;
                Ok(Reply::json(200, &info_json(name, &shown(&self.vendor, &c.config), c.tasks.len())))
            }
            Op::Delete => {
                self.connectors.remove(name).ok_or_else(not_found)?;
                Ok(Reply::empty(204))
            }
            Op::GetConfig => {
                let c = self.connectors.get(name).ok_or_else(not_found)?;
                Ok(Reply::json(200, &json!(shown(&self.vendor, &c.config))))
            }
            Op::PutConfig => self.put_config(call),
            Op::PatchConfig => self.patch_config(call),
            Op::Status => {
                let c = self
                    .readable_status(name)
                    .ok_or_else(|| Reply::error(404, format!("No status found for connector {name}")))?;
                Ok(Reply::json(200, &status_json(name, c)))
            }
            Op::TaskStatus => {
                let id = call.task;
                let task = self
                    .readable_status(name)
                    .and_then(|c| c.tasks.get(usize::try_from(id).ok()?))
                    .ok_or_else(|| Reply::error(404, format!("No status found for task {name}-{id}")))?;
                Ok(Reply::json(200, &instance_json(task, Some(id))))
            }
            Op::Tasks => {
                let c = self.connectors.get(name).ok_or_else(not_found)?;
                let tasks: Vec<Value> = (0..c.tasks.len())
                    .map(|i| json!({"id": {"connector": name, "task": i}, "config": c.config}))
                    .collect();
                Ok(Reply::json(200, &Value::Array(tasks)))
            }
            Op::Pause | Op::Resume | Op::Stop => {
                let c = self.connectors.get_mut(name).ok_or_else(unknown)?;
                let (target, status) = match op {
                    Op::Pause => ("PAUSED", 202),
                    Op::Resume => ("RUNNING", 202),
                    _ => ("STOPPED", 204),
                };
                c.set_target(target);
                Ok(Reply::empty(status))
            }
            Op::Restart => self.restart(call),
            Op::TaskRestart => {
                let c = self
                    .connectors
                    .get_mut(name)
                    .ok_or_else(|| Reply::error(404, format!("Unknown connector: {name}")))?;
                let id = call.task;
                let task = usize::try_from(id).ok().and_then(|i| c.tasks.get_mut(i));
                let task = task.ok_or_else(|| Reply::error(404, format!("Unknown task: {name}-{id}")))?;
                *task = Instance::new(c.target);
                Ok(Reply::empty(204))
            }
            // No existence check in Connect (section 3.12); topic tracking is not modelled.
            Op::Topics => Ok(Reply::json(200, &json!({name: {"topics": []}}))),
            Op::TopicsReset => Ok(Reply::empty(202)),
            Op::Offsets => {
                self.connectors.get(name).ok_or_else(not_found)?;
                Ok(Reply::json(200, &json!({"offsets": []})))
            }
            Op::AlterOffsets | Op::ResetOffsets => {
                if op == Op::AlterOffsets {
                    let body = read_json(call.body)?.map(|raw| serde_json::from_str::<Value>(raw.get()));
                    let offsets = body.and_then(Result::ok).and_then(|v| v.get("offsets").cloned());
                    if offsets.as_ref().and_then(Value::as_array).is_none_or(Vec::is_empty) {
                        return Err(Reply::error(
                            400,
                            "Partitions / offsets need to be provided for an alter offsets request",
                        ));
                    }
                }
                let c = self.connectors.get(name).ok_or_else(not_found)?;
                if c.target != "STOPPED" || !c.tasks.is_empty() {
                    return Err(Reply::error(400, format!("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint")));
                }
                let verb = if op == Op::AlterOffsets { "altered" } else { "reset" };
                Ok(Reply::json(
                    200,
                    &json!({"message": format!("The offsets for this connector have been {verb} successfully")}),
                ))
            }
        }
    }

    /// Section 3.3: the name array, or with `expand` an object keyed by name. Only the repeated-parameter form
    /// works (`expand=status,info` matches nothing), and a connector without status is left out entirely.
    fn list(&mut self, call: &Call) -> Reply {
        let expand = query_values(call.query, "expand");
        if expand.is_empty() || self.expand_ignored {
            return Reply::json(200, &json!(self.connectors.keys().collect::<Vec<_>>()));
        }
        let mut out = Map::new();
        'connectors: for (name, c) in &mut self.connectors {
            let mut entry = Map::new();
            for e in &expand {
                match e.as_str() {
                    "status" if !c.read_status() => continue 'connectors,
                    "status" => entry.insert("status".into(), status_json(name, c)),
                    "info" => {
                        entry.insert("info".into(), info_json(name, &shown(&self.vendor, &c.config), c.tasks.len()))
                    }
                    _ => None, // "Ignoring unknown expansion type"
                };
            }
            out.insert(name.clone(), Value::Object(entry));
        }
        Reply::json(200, &Value::Object(out))
    }

    /// POST /connectors, in Connect's order: body binding (500), name check, validation, exists (409).
    fn create(&mut self, call: &Call) -> Outcome {
        let body = call.body;
        let raw = read_json(body)?.ok_or_else(|| npe(&format!("{CREATE_REQUEST}.name()"), "createRequest"))?;
        let (mut name, mut config, mut initial) = (None, None, "RUNNING");
        for (key, value) in object(body, raw, CREATE_REQUEST, "")? {
            let chain = format!("{CREATE_REQUEST}[\"{key}\"]");
            match key.as_str() {
                "name" => name = string_value(body, value, &chain)?,
                "config" if value.get() == "null" => config = None,
                "config" => config = Some(config_map(body, value, &format!("{chain}->"))?),
                "initial_state" => {
                    if let Some(s) = string_value(body, value, &chain)? {
                        let upper = s.to_uppercase();
                        initial = ["RUNNING", "PAUSED", "STOPPED"].into_iter().find(|t| *t == upper).ok_or_else(|| {
                            let problem = format!("Cannot construct instance of `{CREATE_REQUEST}$InitialState`, problem: No enum constant {CREATE_REQUEST}.InitialState.{upper}");
                            Reply::error(500, format!("{problem}\n{} (through reference chain: {chain})", at(body, value)))
                        })?;
                    }
                }
                _ => {
                    return Err(Reply::error(
                        500,
                        format!(
                            "Unrecognized field \"{key}\" (class {CREATE_REQUEST}), not marked as ignorable (3 known properties: \"name\", \"config\", \"initial_state\"])\n{} (through reference chain: {chain})",
                            at(body, value)
                        ),
                    ))
                }
            }
        }
        let name = java_trim(name.as_deref().unwrap_or("")).to_string();
        let mut config = config.ok_or_else(|| npe("java.util.Map.get(Object)", "connectorConfig"))?;
        put_name(&mut config, &name)?;
        check_config(&config)?;
        if self.connectors.contains_key(&name) {
            return Err(Reply::error(409, format!("Connector {name} already exists")));
        }
        let config = stored(config);
        self.add(&name, config.clone(), initial);
        Ok(Reply::json(201, &info_json(&name, &config, 0)).header("Location", call.location(&name)))
    }

    /// PUT /connectors/{name}/config: create (201) or replace (200), keeping the target state.
    fn put_config(&mut self, call: &Call) -> Outcome {
        let name = call.name.as_str();
        let raw = read_json(call.body)?.ok_or_else(|| npe("java.util.Map.get(Object)", "connectorConfig"))?;
        let mut config = config_map(call.body, raw, "")?;
        put_name(&mut config, name)?;
        check_config(&config)?;
        let config = stored(config);
        let info = |tasks| info_json(name, &config, tasks);
        match self.connectors.get_mut(name) {
            Some(c) => {
                let reply = Reply::json(200, &info(c.tasks.len()));
                c.reconfigure(config.clone());
                Ok(reply)
            }
            None => {
                let reply = Reply::json(201, &info(0)).header("Location", call.location(name));
                self.add(name, config.clone(), "RUNNING");
                Ok(reply)
            }
        }
    }

    /// PATCH /connectors/{name}/config: merge (`null` removes), validate, 200; never creates.
    fn patch_config(&mut self, call: &Call) -> Outcome {
        let name = call.name.as_str();
        let raw = read_json(call.body)?;
        let patch = raw.map(|raw| config_map(call.body, raw, "")).transpose()?;
        let c =
            self.connectors.get_mut(name).ok_or_else(|| Reply::error(404, format!("Connector {name} not found")))?;
        let patch = patch.ok_or_else(|| npe("java.util.Map.entrySet()", "patch"))?;
        let mut merged: BTreeMap<String, String> = c.config.clone();
        for (key, value) in patch {
            match value {
                Some(v) => merged.insert(key, v),
                None => merged.remove(&key),
            };
        }
        let as_entries: Entries = merged.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
        check_config(&as_entries)?;
        let reply = Reply::json(200, &info_json(name, &merged, c.tasks.len()));
        c.reconfigure(merged);
        Ok(reply)
    }

    /// Section 3.16: plain restart is synchronous (204); with parameters the plan comes back (202).
    fn restart(&mut self, call: &Call) -> Outcome {
        let name = call.name.as_str();
        let c = self.connectors.get_mut(name).ok_or_else(|| Reply::error(404, format!("Unknown connector: {name}")))?;
        let (include_tasks, only_failed) =
            (query_flag(call.query, "includeTasks"), query_flag(call.query, "onlyFailed"));
        if !include_tasks && !only_failed {
            c.state = Instance::new(c.target);
            return Ok(Reply::empty(204));
        }
        if !c.read_status() {
            return Err(Reply::error(404, format!("Status for connector {name} not found")));
        }
        let restart = |i: &mut Instance| {
            if !only_failed || i.state == "FAILED" {
                *i = Instance::new("RESTARTING");
            }
        };
        restart(&mut c.state);
        if include_tasks {
            c.tasks.iter_mut().for_each(restart);
        }
        c.restart_pending = true;
        Ok(Reply::json(202, &status_json(name, c)))
    }

    fn add(&mut self, name: &str, config: BTreeMap<String, String>, target: &'static str) {
        let mut c = Connector::new(config, target);
        c.status_missing = self.status_missing_after_create;
        self.connectors.insert(name.into(), c);
    }

    fn readable_status(&mut self, name: &str) -> Option<&Connector> {
        let c = self.connectors.get_mut(name)?;
        c.read_status().then_some(&*c)
    }
}

/// PUT /connector-plugins/{plugin}/config/validate (section 3.19): a 200 report even when invalid.
fn validate(call: &Call) -> Outcome {
    let raw = read_json(call.body)?.ok_or_else(|| npe("java.util.Map.get(Object)", "connectorConfig"))?;
    let config = config_map(call.body, raw, "")?;
    let class = lookup(&config, "connector.class").flatten();
    let normalized = |s: &str| s.strip_suffix("Connector").unwrap_or(s).to_string();
    if let Some(class) = class.filter(|c| !normalized(c).ends_with(&normalized(&call.name))) {
        return Err(Reply::error(
            400,
            format!("Included connector type {class} does not match request type {}", call.name),
        ));
    }
    // Errors thrown inside validation are not unwrapped by ConnectorPluginsResource: 500 with the class name.
    if let Some(message) = class_error(&config) {
        return Err(Reply::error(
            500,
            format!("org.apache.kafka.connect.runtime.rest.errors.BadRequestException: {message}"),
        ));
    }
    let errors = field_errors(&config);
    let errors_of = |key: &str| errors.iter().filter(|(k, _)| k == key).map(|(_, e)| e.clone()).collect::<Vec<_>>();
    let value = |key: &str, errors: Vec<String>| json!({"name": key, "value": lookup(&config, key).flatten(), "recommended_values": [], "errors": errors, "visible": true});
    let common = [
        ("name", "STRING", true, None, "Connector name"),
        ("connector.class", "STRING", true, None, "Connector class"),
        ("tasks.max", "INT", false, Some("1"), "Tasks max"),
    ];
    let mut configs: Vec<Value> = common
        .iter()
        .enumerate()
        .map(|(order, (key, kind, required, default, display))| {
            let definition = json!({"name": key, "type": kind, "required": required, "default_value": default,
                "importance": "HIGH", "documentation": "", "group": "Common", "order": order + 1, "width": "MEDIUM",
                "display_name": display, "dependents": []});
            json!({"definition": definition, "value": value(key, errors_of(key))})
        })
        .collect();
    // Null values of keys no ConfigDef defines are reported with a null definition.
    for (key, _) in config.iter().filter(|(k, v)| v.is_none() && !common.iter().any(|c| c.0 == k.as_str())) {
        configs.push(json!({"definition": null, "value": value(key, errors_of(key))}));
    }
    let report = json!({"name": class, "error_count": errors.len(), "groups": ["Common"], "configs": configs});
    Ok(Reply::json(200, &report))
}

// ---------------------------------------------------------------------------------------------------------
// Connector config checks (AbstractHerder / ConfigDef texts, section 2)
// ---------------------------------------------------------------------------------------------------------

/// A config as Jackson binds it: keys in document order, last duplicate wins, `None` for JSON null.
type Entries = Vec<(String, Option<String>)>;

fn lookup<'a>(config: &'a Entries, key: &str) -> Option<Option<&'a str>> {
    config.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_deref())
}

/// `checkAndPutConnectorConfigName`: a `name` in the config must equal `name`; absent (or null) gets `name`.
fn put_name(config: &mut Entries, name: &str) -> Result<(), Reply> {
    match config.iter_mut().find(|(k, _)| k == "name") {
        Some((_, Some(included))) if included != name => Err(Reply::error(
            400,
            format!("Connector name configuration ({included}) doesn't match connector name in the URL ({name})"),
        )),
        Some((_, Some(_))) => Ok(()),
        Some((_, value)) => {
            *value = Some(name.into());
            Ok(())
        }
        None => {
            config.push(("name".into(), Some(name.into())));
            Ok(())
        }
    }
}

fn check_config(config: &Entries) -> Result<(), Reply> {
    if let Some(message) = class_error(config) {
        return Err(Reply::error(400, message));
    }
    let errors = field_errors(config);
    if errors.is_empty() {
        return Ok(());
    }
    let lines: Vec<&str> = errors.iter().map(|(_, e)| e.as_str()).collect();
    Err(Reply::error(400, format!(
        "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
        lines.len(),
        lines.join("\n")
    )))
}

/// The connector type is looked up before anything else is validated.
fn class_error(config: &Entries) -> Option<String> {
    let Some(class) = lookup(config, "connector.class").flatten() else {
        // The pre-Aug-2026 text: the whole config, secrets included, as Java's Map.toString prints it.
        let map: Vec<String> = config.iter().map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("null"))).collect();
        return Some(format!("Connector config {{{}}} contains no connector type", map.join(", ")));
    };
    if plugin(class).is_some() {
        return None;
    }
    let available: Vec<String> = PLUGINS
        .iter()
        .map(|(c, kind, version, _)| format!("PluginDesc{{klass=class {c}, name='{c}', version='{version}', encodedVersion={version}, type={kind}, typeName='{kind}', location='classpath'}}"))
        .collect();
    Some(format!(
        "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
        available.join(", ")
    ))
}

/// ConfigException texts, in definition order (name, tasks.max), then the null values.
fn field_errors(config: &Entries) -> Vec<(String, String)> {
    let mut errors = vec![];
    let mut error = |key: &str, message: String| errors.push((key.to_string(), message));
    match lookup(config, "name") {
        None => error("name", "Missing required configuration \"name\" which has no default value.".into()),
        Some(Some(raw)) => {
            // ConfigDef trims STRING values before NonEmptyStringWithoutControlChars sees them.
            let value = java_trim(raw);
            let controls: Vec<String> =
                value.chars().filter(|c| c.is_control()).map(|c| (c as u32).to_string()).collect();
            if value.is_empty() {
                error("name", format!("Invalid value {value} for configuration name: String may not be empty"));
            } else if !controls.is_empty() {
                error("name", format!("Invalid value {value} for configuration name: String may not contain control sequences but had the following ASCII chars: {}", controls.join(", ")));
            }
        }
        Some(None) => {}
    }
    if let Some(Some(raw)) = lookup(config, "tasks.max") {
        match java_trim(raw).parse::<i32>() {
            Err(_) => {
                error("tasks.max", format!("Invalid value {raw} for configuration tasks.max: Not a number of type INT"))
            }
            Ok(n) if n < 1 => {
                error("tasks.max", format!("Invalid value {n} for configuration tasks.max: Value must be at least 1"))
            }
            Ok(_) => {}
        }
    }
    for (key, _) in config.iter().filter(|(_, v)| v.is_none()) {
        error(key, "Null value can not be supplied as the configuration value.".into());
    }
    errors
}

fn stored(config: Entries) -> BTreeMap<String, String> {
    config.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
}

/// Connect resolves the class name, the simple name and the simple name without `Connector`.
fn plugin(class: &str) -> Option<&'static (&'static str, &'static str, &'static str, &'static [&'static str])> {
    PLUGINS.iter().find(|(full, _, _, aliases)| {
        let simple = full.rsplit('.').next().unwrap_or(full);
        [*full, simple, simple.strip_suffix("Connector").unwrap_or(simple)].contains(&class) || aliases.contains(&class)
    })
}

fn connector_type(class: Option<&str>) -> &'static str {
    if let Some(p) = class.and_then(plugin) {
        return p.1;
    }
    match class {
        Some(c) if c.contains("Sink") => "sink",
        Some(c) if c.contains("Source") => "source",
        _ => "unknown",
    }
}

/// Java's String.trim(): strips every char <= U+0020 at both ends.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

// ---------------------------------------------------------------------------------------------------------
// Entities
// ---------------------------------------------------------------------------------------------------------

fn info_json(name: &str, config: &BTreeMap<String, String>, tasks: usize) -> Value {
    let tasks: Vec<Value> = (0..tasks).map(|i| json!({"connector": name, "task": i})).collect();
    let kind = connector_type(config.get("connector.class").map(String::as_str));
    json!({"name": name, "config": config, "tasks": tasks, "type": kind})
}

fn status_json(name: &str, c: &Connector) -> Value {
    let tasks: Vec<Value> = c.tasks.iter().enumerate().map(|(i, t)| instance_json(t, Some(i as i32))).collect();
    json!({"name": name, "connector": instance_json(&c.state, None), "tasks": tasks, "type": c.kind()})
}

fn instance_json(i: &Instance, id: Option<i32>) -> Value {
    // Kafka 4.1.2, met in the end-to-end suite, also says the plugin's version
    // beside each state (`"version": "4.1.2"`); the hook ignores it.
    let mut v = json!({"state": i.state, "worker_id": WORKER_ID, "version": VERSION});
    if let Some(id) = id {
        v["id"] = id.into();
    }
    if let Some(trace) = &i.trace {
        v["trace"] = trace.as_str().into(); // omitted when empty (@JsonInclude(NON_EMPTY))
    }
    v
}

// ---------------------------------------------------------------------------------------------------------
// Request bodies the way Jersey's JacksonJsonProvider reads them (section 1.3, 1.4)
// ---------------------------------------------------------------------------------------------------------

/// The first JSON value of the body (Jackson ignores trailing content); `None` for an empty body
/// (ALLOW_EMPTY_INPUT: the resource then gets null and throws an NPE). Syntax errors are 500s.
fn read_json(body: &str) -> Result<Option<&RawValue>, Reply> {
    if body.trim().is_empty() {
        return Ok(None);
    }
    match serde_json::Deserializer::from_str(body).into_iter::<&RawValue>().next() {
        Some(Ok(raw)) => Ok(Some(raw)),
        Some(Err(e)) => Err(syntax_error(body, &e)),
        None => Ok(None),
    }
}

/// The object's members in document order; anything but an object is a MismatchedInputException.
fn object<'a>(
    body: &'a str,
    raw: &'a RawValue,
    target: &str,
    chain: &str,
) -> Result<Vec<(String, &'a RawValue)>, Reply> {
    if !raw.get().starts_with('{') {
        return Err(mismatch(body, raw, target, chain));
    }
    // Borrowed RawValues point into `body`, which gives their position (and the document order).
    let members: HashMap<String, &RawValue> = serde_json::from_str(raw.get()).map_err(|e| syntax_error(body, &e))?;
    let mut members: Vec<_> = members.into_iter().collect();
    members.sort_by_key(|(_, v)| offset(body, v));
    Ok(members)
}

/// A `Map<String,String>`: strings as they are, numbers and booleans as their source text, null kept as
/// `None` (validation rejects it later), objects and arrays rejected.
fn config_map(body: &str, raw: &RawValue, chain: &str) -> Result<Entries, Reply> {
    object(body, raw, STRING_MAP, chain.trim_end_matches("->"))?
        .into_iter()
        .map(|(key, value)| {
            let value = string_value(body, value, &format!("{chain}java.util.LinkedHashMap[\"{key}\"]"))?;
            Ok((key, value))
        })
        .collect()
}

/// Jackson's StringDeserializer: scalar tokens keep their text (`1.50` stays `"1.50"`).
fn string_value(body: &str, raw: &RawValue, chain: &str) -> Result<Option<String>, Reply> {
    let text = raw.get();
    match text.as_bytes()[0] {
        b'n' => Ok(None),
        b'"' => Ok(Some(serde_json::from_str(text).expect("a valid JSON string"))),
        b'{' | b'[' => Err(mismatch(body, raw, "java.lang.String", chain)),
        _ => Ok(Some(text.to_string())),
    }
}

fn mismatch(body: &str, raw: &RawValue, target: &str, chain: &str) -> Reply {
    let text = raw.get();
    let (kind, token) = match text.as_bytes()[0] {
        b'{' => ("Object", "START_OBJECT"),
        b'[' => ("Array", "START_ARRAY"),
        b'"' => ("String", "VALUE_STRING"),
        b't' => ("Boolean", "VALUE_TRUE"),
        b'f' => ("Boolean", "VALUE_FALSE"),
        _ if text.contains(['.', 'e', 'E']) => ("Floating-point", "VALUE_NUMBER_FLOAT"),
        _ => ("Integer", "VALUE_NUMBER_INT"),
    };
    let chain = if chain.is_empty() { String::new() } else { format!(" (through reference chain: {chain})") };
    Reply::error(
        500,
        format!(
            "Cannot deserialize value of type `{target}` from {kind} value (token `JsonToken.{token}`)\n{}{chain}",
            at(body, raw)
        ),
    )
}

/// Jackson's wording for the common syntax errors serde_json reports.
fn syntax_error(body: &str, e: &serde_json::Error) -> Reply {
    // serde_json points at the offending character, Jackson just past it.
    let location = format!(" at [Source: {SOURCE}; line: {}, column: {}]", e.line(), e.column() + 1);
    if e.is_eof() {
        return Reply::error(500, format!("Unexpected end-of-input within/between Object entries\n{location}"));
    }
    let text = e.to_string();
    let expecting = if text.contains("expected `,` or `}`") {
        "was expecting comma to separate Object entries"
    } else if text.contains("expected `,` or `]`") {
        "was expecting comma to separate Array entries"
    } else if text.contains("key must be a string") || text.contains("trailing comma") {
        "was expecting double-quote to start field name"
    } else if text.contains("expected `:`") {
        "was expecting a colon to separate field name and value"
    } else {
        "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
    };
    let found = body.lines().nth(e.line().saturating_sub(1)).and_then(|l| l.chars().nth(e.column().saturating_sub(1)));
    let message = match found {
        Some(c) => format!("Unexpected character ('{c}' (code {})): {expecting}\n{location}", c as u32),
        None => format!("Unexpected character: {expecting}\n{location}"),
    };
    Reply::error(500, message)
}

fn offset(body: &str, raw: &RawValue) -> usize {
    raw.get().as_ptr() as usize - body.as_ptr() as usize
}

/// Jackson's location, just after the first character of the token `raw` starts with.
fn at(body: &str, raw: &RawValue) -> String {
    let before = &body[..offset(body, raw)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 2;
    format!(" at [Source: {SOURCE}; line: {line}, column: {column}]")
}

fn npe(method: &str, variable: &str) -> Reply {
    Reply::error(500, format!("Cannot invoke \"{method}\" because \"{variable}\" is null"))
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------

/// Decoded values of every `key` parameter, in order (JAX-RS does not split on commas).
fn query_values(query: &str, key: &str) -> Vec<String> {
    let decode = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .filter(|(k, _)| decode(k) == key)
        .map(|(_, v)| decode(v))
        .collect()
}

/// `Boolean.valueOf` of the first value: only `true` (any case) is true, never an error.
fn query_flag(query: &str, key: &str) -> bool {
    query_values(query, key).first().is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    input
        .chunks(3)
        .flat_map(|chunk| {
            let n = chunk.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
            (0..4)
                .map(move |i| if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char } else { '=' })
        })
        .collect()
}
