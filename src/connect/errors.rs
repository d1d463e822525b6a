//! How a failed request is sorted and said: transient or permanent, with
//! Connect's own message and the request it answers.

use std::time::Duration;

use log::warn;
use serde::Deserialize;

use crate::redact::Scrubber;
use crate::text::truncate;

/// An answer, with the request it answers (for messages).
pub struct Reply {
    /// `GET http://connect:8083/connectors`, without credentials.
    pub request: String,
    /// Whether the request listed the connectors: a 404 there means the URL is not Connect.
    pub listing: bool,
    /// The HTTP status.
    pub status: u16,
    /// The Content-Type, to tell an HTML page from Connect's JSON.
    pub html: bool,
    /// The answer, read up to the cap.
    pub body: String,
    /// The server's `Retry-After`, in seconds.
    pub retry_after: Option<Duration>,
}

/// One try of an operation.
pub enum Attempt<T> {
    /// It succeeded with this.
    Done(T),
    /// It failed; a server may say when to try again.
    Fail(Failure, Option<Duration>),
}

/// Why a request did not succeed. Transient failures are left for the next
/// run (the hook exits non-zero so shell-operator retries); permanent ones
/// are reported and never retried.
///
/// It has no `Display`: Connect's messages quote config values, so every
/// place that prints one goes through [`Failure::scrubbed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Whether retrying can help.
    pub kind: FailureKind,
    /// The request, as it may be printed: `PUT http://connect:8083/connectors/a/config`,
    /// never with credentials. Not secret, so never scrubbed.
    pub request: String,
    /// What went wrong: Connect's message, or the transport's.
    pub detail: String,
}

/// Whether retrying a failed request can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The next attempt may succeed.
    Transient,
    /// Nothing answered: the host name did not resolve, or the connection
    /// was refused. Transient, but at a terminal final on the first attempt.
    Unreachable,
    /// Retrying cannot help.
    Permanent,
}

impl Failure {
    /// A failure that retrying cannot help.
    pub fn permanent(request: &str, detail: impl Into<String>) -> Failure {
        Failure { kind: FailureKind::Permanent, request: request.to_string(), detail: detail.into() }
    }

    /// A failure the next attempt may not have.
    pub fn transient(request: &str, detail: impl Into<String>) -> Failure {
        Failure { kind: FailureKind::Transient, request: request.to_string(), detail: detail.into() }
    }

    /// Whether retrying cannot help.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        self.kind == FailureKind::Permanent
    }

    /// `request: detail`, with the secrets `scrubber` knows hidden from the detail.
    #[must_use]
    pub fn scrubbed(&self, scrubber: &Scrubber) -> String {
        format!("{}: {}", self.request, scrubber.scrub(&self.detail))
    }

    /// Why the bulk read of a cluster failed, for the run's error.
    #[must_use]
    pub fn reading(&self, cluster: &str, scrubber: &Scrubber) -> String {
        self.asking("read the connectors from", cluster, scrubber)
    }

    /// `cannot {what} Kafka Connect (cluster ..): ...`, and what to check
    /// when nothing answered.
    #[must_use]
    pub fn asking(&self, what: &str, cluster: &str, scrubber: &Scrubber) -> String {
        let hint = if self.kind == FailureKind::Unreachable {
            "; nothing answers there: check the URL (--connect-url or CONNECT_URL for the default cluster, \
             its `url` in the clusters file for the others)"
        } else {
            ""
        };
        format!("cannot {what} Kafka Connect (cluster {cluster}): {}{hint}", self.scrubbed(scrubber))
    }
}

/// A request that got no answer. Connection errors are transient; a
/// certificate the server presents (or refuses) will not change by retrying.
pub(super) fn transport_failure(request: &str, e: &ureq::Error) -> Failure {
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
        let refused = matches!(e, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused);
        let unknown_host = matches!(e, ureq::Error::HostNotFound) || text.contains("failed to lookup address");
        let kind = if refused || unknown_host { FailureKind::Unreachable } else { FailureKind::Transient };
        Failure { kind, ..Failure::transient(request, text) }
    }
}

/// Sorts a non-success answer into transient or permanent, keeping Connect's
/// message and naming the request.
pub(super) fn classify<T>(r: &Reply) -> Attempt<T> {
    let starting = r.status == 404 && !from_connect(r);
    let foreign = r.html || looks_like_html(&r.body) || (r.listing && r.status == 404);
    let message = error_message(&r.body);
    let transient = match r.status {
        404 => starting,
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
    let detail = if starting {
        format!(
            "HTTP 404 without Kafka Connect's error: a worker answers so while it starts; if it lasts, {NOT_CONNECT}"
        )
    } else if foreign && !transient {
        not_connect(r)
    } else {
        format!("HTTP {}: {message}", r.status)
    };
    if r.status == 401 || r.status == 403 {
        warn!(
            "Connect refused our credentials ({}: HTTP {}); check CONNECT_USERNAME / CONNECT_PASSWORD / CONNECT_TOKEN",
            r.request, r.status
        );
    }
    let kind = if transient { FailureKind::Transient } else { FailureKind::Permanent };
    let failure = Failure { kind, request: r.request.clone(), detail };
    Attempt::Fail(failure, if r.status == 429 { r.retry_after } else { None })
}

/// Whether Connect's own REST resources gave the answer: an error of theirs
/// is JSON with `error_code` (Confluent Cloud: `error`). While a worker
/// starts, Jetty answers every path with 404 before the resources are
/// registered (Kafka Connect 4.1: its own `{"message":"Not Found","url":..,
/// "status":"404"}` for GET, no body for PUT), which says nothing about a
/// connector.
pub(super) fn from_connect(r: &Reply) -> bool {
    let body: Option<serde_json::Value> = serde_json::from_str(&r.body).ok();
    !r.html && body.is_some_and(|b| b.get("error_code").is_some() || b.get("error").is_some())
}

/// `Retry-After` in seconds (the HTTP-date form is not used by Connect's gateways).
pub(super) fn retry_after_of(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

pub(super) fn is_html(content_type: &str) -> bool {
    content_type.to_ascii_lowercase().contains("html")
}

/// An answer no Kafka Connect gives: an HTML page, a 404 for the connector
/// list, or a body that is not JSON.
pub(super) fn not_connect(r: &Reply) -> String {
    let what = if r.html || looks_like_html(&r.body) { "an HTML page".to_string() } else { short(&r.body) };
    format!("HTTP {}: {what}; {NOT_CONNECT}", r.status)
}

/// What an answer no Kafka Connect gives says about the URL.
const NOT_CONNECT: &str = "this URL does not look like a Kafka Connect REST API (check CONNECT_URL: the worker's \
     REST listener, e.g. http://connect:8083, with no path unless a proxy adds one)";

fn looks_like_html(body: &str) -> bool {
    let start = body.trim_start().get(..15).unwrap_or(body.trim_start()).to_ascii_lowercase();
    start.starts_with("<!doctype") || start.starts_with("<html") || start.starts_with("<?xml")
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

pub(super) fn short(text: &str) -> String {
    truncate(text.trim(), 200)
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
            Attempt::Fail(f, _) => !f.is_permanent(),
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
}
