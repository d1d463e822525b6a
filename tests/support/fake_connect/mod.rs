//! A fake Kafka Connect REST server for tests and benchmarks.
//!
//! It follows Kafka Connect's REST API (Apache Kafka 4.1 behaviour): the same status
//! codes, error bodies (`{"error_code":N,"message":"..."}`) and message texts, the same order of checks, and
//! the same config round-trip (values stored as the text that was sent, `name` added). Anything the tests need
//! to provoke that a healthy worker would not do on its own (409 during rebalances, timeouts, proxies, dropped
//! connections) is injected with [`FakeConnect::inject`].
//!
//! Self-contained on purpose: `benches/sync.rs` includes this file with `#[path]`.
#![allow(dead_code)]

mod bodies;
mod configs;
mod handlers;
pub(crate) mod http;
mod routes;
mod state;

use self::bodies::*;
use self::configs::*;
use self::http::*;
use self::routes::*;
use self::state::*;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use base64::Engine as _;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

pub(crate) const VERSION: &str = "4.1.0";
pub(crate) const WORKER_ID: &str = "127.0.0.1:8083";
pub(crate) const JSON: &str = "application/json";
/// What Jersey's Jackson provider names as the source in its parse errors.
pub(crate) const SOURCE: &str =
    "(org.glassfish.jersey.message.internal.ReaderInterceptorExecutor$UnCloseableInputStream)";
pub(crate) const CREATE_REQUEST: &str = "org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest";
pub(crate) const STRING_MAP: &str = "java.util.Map<java.lang.String,java.lang.String>";
pub(crate) const TRACE: &str = "org.apache.kafka.connect.errors.ConnectException: simulated failure\n\tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:210)\n\tat org.apache.kafka.connect.runtime.WorkerTask.run(WorkerTask.java:263)\n";
/// Installed connector plugins: class, type, version, extra aliases (besides the simple name and the simple
/// name without `Connector`, which Connect accepts for every plugin). Sorted by class, as Connect lists them.
pub(crate) const PLUGINS: &[(&str, &str, &str, &[&str])] = &[
    ("com.wepay.kafka.connect.bigquery.BigQuerySinkConnector", "sink", "2.5.0", &[]),
    ("io.confluent.connect.jdbc.JdbcSourceConnector", "source", "10.8.4", &[]),
    ("io.confluent.kafka.connect.datagen.DatagenConnector", "source", "0.6.6", &["DatagenSource"]),
    ("org.apache.kafka.connect.file.FileStreamSinkConnector", "sink", VERSION, &[]),
    ("org.apache.kafka.connect.file.FileStreamSourceConnector", "source", VERSION, &[]),
];
/// What `connectorsOnly=false` adds, as Apache Kafka 4.1 lists them (plus the Avro
/// converter, as on a Confluent image with the JDBC connector), by type.
pub(crate) const OTHER_PLUGINS: &[(&str, &str, &str, &[&str])] = &[
    ("org.apache.kafka.connect.converters.ByteArrayConverter", "converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.ByteArrayConverter", "header_converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.BooleanConverter", "converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.BooleanConverter", "header_converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.DoubleConverter", "converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.DoubleConverter", "header_converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.FloatConverter", "converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.FloatConverter", "header_converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.IntegerConverter", "converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.IntegerConverter", "header_converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.LongConverter", "converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.LongConverter", "header_converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.ShortConverter", "converter", VERSION, &[]),
    ("org.apache.kafka.connect.converters.ShortConverter", "header_converter", VERSION, &[]),
    ("org.apache.kafka.connect.json.JsonConverter", "converter", VERSION, &[]),
    ("org.apache.kafka.connect.json.JsonConverter", "header_converter", VERSION, &[]),
    ("org.apache.kafka.connect.storage.StringConverter", "converter", VERSION, &[]),
    ("org.apache.kafka.connect.storage.StringConverter", "header_converter", VERSION, &[]),
    ("org.apache.kafka.connect.storage.SimpleHeaderConverter", "header_converter", VERSION, &[]),
    ("io.confluent.connect.avro.AvroConverter", "converter", "7.9.0", &[]),
    ("org.apache.kafka.connect.transforms.Cast$Key", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.Cast$Value", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.ExtractField$Key", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.ExtractField$Value", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.Flatten$Key", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.Flatten$Value", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.HeaderFrom$Key", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.HeaderFrom$Value", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.HoistField$Key", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.HoistField$Value", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.InsertField$Key", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.InsertField$Value", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.MaskField$Key", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.MaskField$Value", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.ReplaceField$Key", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.ReplaceField$Value", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.SetSchemaMetadata$Key", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.SetSchemaMetadata$Value", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.TimestampConverter$Key", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.TimestampConverter$Value", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.DropHeaders", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.Filter", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.InsertHeader", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.RegexRouter", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.TimestampRouter", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.ValueToKey", "transformation", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.predicates.HasHeaderKey", "predicate", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.predicates.RecordIsTombstone", "predicate", VERSION, &[]),
    ("org.apache.kafka.connect.transforms.predicates.TopicNameMatches", "predicate", VERSION, &[]),
    ("org.apache.kafka.common.config.provider.DirectoryConfigProvider", "config_provider", VERSION, &[]),
    ("org.apache.kafka.common.config.provider.EnvVarConfigProvider", "config_provider", VERSION, &[]),
    ("org.apache.kafka.common.config.provider.FileConfigProvider", "config_provider", VERSION, &[]),
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
    /// A worker that is starting: its Jetty answers before the REST resources
    /// are registered, 404 to every path, with Jetty's own JSON error for GET
    /// (`{"message":"Not Found","url":...,"status":"404"}`, no `error_code`)
    /// and no body at all for PUT. The real Connect 4.1.2 did so for about a
    /// second after a restart (seen in the end-to-end suite, then polled with
    /// curl while a worker started); the fake knew only Connect's own 404s,
    /// with `error_code`, which say the connector is absent.
    Starting,
    /// Close the connection without answering.
    Drop,
}

pub struct FakeConnect {
    state: Arc<Mutex<State>>,
    listener: Listener,
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
        FakeConnect::listen(Some(tls_config(cert_chain_pem, key_pem, client_ca_pem)))
    }

    fn listen(tls: Option<Arc<rustls::ServerConfig>>) -> FakeConnect {
        let state = Arc::new(Mutex::new(State::default()));
        let tls_on = tls.is_some();
        let served = state.clone();
        let listener = Listener::start(tls, move |port, incoming| serve(&served, port, incoming));
        FakeConnect { state, listener, tls: tls_on }
    }

    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS (the name the test certificates carry).
    pub fn url(&self) -> String {
        match self.tls {
            false => format!("http://127.0.0.1:{}", self.listener.port),
            true => format!("https://localhost:{}", self.listener.port),
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

    /// A worker before Kafka 3.2/3.5: `connectorsOnly` ignored, no offsets endpoints.
    pub fn set_legacy(&self, legacy: bool) {
        self.lock().legacy = legacy;
    }

    /// Keys the ConfigDef of plugin `class` (its full class name) defines, with their types (`STRING`,
    /// `PASSWORD`, ...), as `config/validate` reports them; replaces what was defined before.
    pub fn define(&self, class: &str, keys: &[(&str, &str)]) {
        let keys = keys.iter().map(|(k, t)| (k.to_string(), t.to_string())).collect();
        self.lock().definitions.insert(class.into(), keys);
    }

    /// Stores `offsets` (the array `GET .../offsets` returns) for a connector.
    pub fn set_offsets(&self, name: &str, offsets: Value) {
        if let Some(c) = self.lock().connectors.get_mut(name) {
            c.offsets = offsets.as_array().cloned().unwrap_or_default();
        }
    }

    /// The offsets stored for a connector.
    pub fn offsets(&self, name: &str) -> Option<Value> {
        self.lock().connectors.get(name).map(|c| Value::Array(c.offsets.clone()))
    }

    /// `false` models a worker that ignores `expand` (GET /connectors always returns the name array).
    pub fn set_expand(&self, supported: bool) {
        self.lock().expand_ignored = !supported;
    }

    /// Like Connect's BasicAuthSecurityRestExtension: other requests get 401 `User cannot access the resource.`
    pub fn require_basic_auth(&self, user: &str, password: &str) {
        self.lock().auth = Auth::Basic(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")));
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
