//! TLS done right against a fake Connect served over HTTPS, with a CA made
//! in the test: the private CA is trusted, host names are verified, client
//! certificates work, and a bearer token can come from a file.

use crate::support;

use std::path::Path;
use std::process::Output;

use crate::support::build::{self, log};
use crate::support::fake_connect::FakeConnect;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use serde_json::json;

struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM.
struct Leaf {
    cert: String,
    key: String,
}

impl Pki {
    fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        Pki { ca: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap() }
    }

    fn leaf(&self, name: &str) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec![name.to_string()]).unwrap().signed_by(&key, &self.ca).unwrap();
        Leaf { cert: cert.pem(), key: key.serialize_pem() }
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// One Synchronization with one connector, run as shell-operator would.
fn run(fake: &FakeConnect, dir: &Path, env: &[(&str, &str)]) -> Output {
    let template = r#"{"name": "a", "config": {"connector.class": "FileStreamSource"}}"#;
    let contexts = build::sync(&[build::annotated("ns", "c", json!({}), json!({}), &[("a.json", template)])]);
    let url = fake.url();
    let mut env = env.to_vec();
    env.extend([("CONNECT_URL", url.as_str()), ("RETRY_BUDGET", "1s")]);
    support::run::hook(dir, &contexts, &env)
}

#[test]
fn a_private_ca_is_trusted_and_nothing_else_is() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let server = pki.leaf("localhost");
    let fake = FakeConnect::start_tls(&server.cert, &server.key, None);
    assert!(fake.url().starts_with("https://localhost:"));
    let ca = write(dir.path(), "ca.pem", &pki.ca.pem());

    let out = run(&fake, dir.path(), &[]);
    assert!(support::run::reported_unreachable(&out), "the public roots do not know this CA: {}", log(&out));
    assert!(fake.names().is_empty());

    let out = run(&fake, dir.path(), &[("CONNECT_CA_FILE", &ca)]);
    assert_eq!(out.status.code(), Some(0), "{}", log(&out));
    assert_eq!(fake.names(), ["a"]);
}

#[test]
fn host_names_are_verified() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let elsewhere = pki.leaf("connect.example.com");
    let fake = FakeConnect::start_tls(&elsewhere.cert, &elsewhere.key, None);
    let ca = write(dir.path(), "ca.pem", &pki.ca.pem());
    let out = run(&fake, dir.path(), &[("CONNECT_CA_FILE", &ca)]);
    assert!(support::run::reported_unreachable(&out), "{}", log(&out));
    assert!(log(&out).contains(r#"certificate not valid for name "localhost""#), "{}", log(&out));
    assert!(!log(&out).contains("gave up after"), "a certificate is not retried: {}", log(&out));
    assert!(fake.requests().is_empty(), "no request got through the handshake");
}

#[test]
fn mutual_tls_with_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let server = pki.leaf("localhost");
    let client = pki.leaf("connect-operator");
    let fake = FakeConnect::start_tls(&server.cert, &server.key, Some(&pki.ca.pem()));
    let ca = write(dir.path(), "ca.pem", &pki.ca.pem());
    let cert = write(dir.path(), "client.pem", &client.cert);
    let key = write(dir.path(), "client-key.pem", &client.key);

    let out = run(&fake, dir.path(), &[("CONNECT_CA_FILE", &ca)]);
    assert!(support::run::reported_unreachable(&out), "no client certificate, no entry: {}", log(&out));
    let out = run(
        &fake,
        dir.path(),
        &[("CONNECT_CA_FILE", &ca), ("CONNECT_CLIENT_CERT_FILE", &cert), ("CONNECT_CLIENT_KEY_FILE", &key)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", log(&out));
    assert_eq!(fake.names(), ["a"]);

    let out = run(&fake, dir.path(), &[("CONNECT_CA_FILE", &ca), ("CONNECT_CLIENT_CERT_FILE", &cert)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(log(&out).contains("needs both CONNECT_CLIENT_CERT_FILE and CONNECT_CLIENT_KEY_FILE"), "{}", log(&out));
}

#[test]
fn a_bearer_token_from_a_file_is_read_at_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeConnect::start();
    fake.require_bearer("t0ken-1");
    let file = write(dir.path(), "token", "t0ken-1\n");
    let out = run(&fake, dir.path(), &[("CONNECT_TOKEN_FILE", &file)]);
    assert_eq!(out.status.code(), Some(0), "{}", log(&out));
    // Rotated: the next run uses the new token.
    fake.require_bearer("t0ken-2");
    write(dir.path(), "token", "t0ken-2\n");
    let out = run(&fake, dir.path(), &[("CONNECT_TOKEN_FILE", &file)]);
    assert_eq!(out.status.code(), Some(0), "{}", log(&out));
    assert!(!log(&out).contains("t0ken"), "{}", log(&out));
    assert_eq!(fake.requests().last().unwrap().authorization.as_deref(), Some("Bearer t0ken-2"));
}
