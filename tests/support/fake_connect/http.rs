//! Serving: one thread per connection, request recording, latency, faults, HTTP/1.1 framing.
use super::*;

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: Option<&'static str>,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn new(status: u16, content_type: Option<&'static str>, body: impl Into<String>) -> Reply {
        Reply { status, content_type, headers: vec![], body: body.into() }
    }
    pub(crate) fn json(status: u16, body: &Value) -> Reply {
        Reply::new(status, Some(JSON), body.to_string())
    }
    /// Connect's ErrorMessage, from inside a resource method (so with the method's JSON content type).
    pub(crate) fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply::json(status, &json!({"error_code": status, "message": message.into()}))
    }
    /// Jersey's own 404/405/415, mapped by ConnectExceptionMapper: JSON body but no Content-Type (section 1.1).
    pub(crate) fn unmatched(status: u16) -> Reply {
        let reason = reason(status);
        let body = json!({"error_code": status, "message": format!("HTTP {status} {reason}")});
        Reply::new(status, None, body.to_string())
    }
    pub(crate) fn empty(status: u16) -> Reply {
        Reply::new(status, None, "")
    }
    pub(crate) fn header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}

/// Handler result: `Err` carries the error reply, so handlers can use `?`.
pub(crate) type Outcome = Result<Reply, Reply>;

/// A request as read off the wire.
pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Incoming {
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    }
}

/// What a listener answers a request with (given its port); `None` drops the connection.
pub(crate) type Answer = dyn Fn(u16, Incoming) -> Option<Reply> + Send + Sync;

/// A server on 127.0.0.1, plain or TLS, with one thread per connection and
/// HTTP/1.1 keep-alive; it stops accepting when dropped.
pub(crate) struct Listener {
    pub(crate) port: u16,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Listener {
    pub(crate) fn start(
        tls: Option<Arc<rustls::ServerConfig>>,
        answer: impl Fn(u16, Incoming) -> Option<Reply> + Send + Sync + 'static,
    ) -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a fake server");
        let port = listener.local_addr().expect("bound address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let answer: Arc<Answer> = Arc::new(answer);
        let acceptor = {
            let stop = stop.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (answer, tls) = (answer.clone(), tls.clone());
                    thread::spawn(move || match tls {
                        None => serve_connection(&*answer, port, stream),
                        Some(config) => {
                            let Ok(connection) = rustls::ServerConnection::new(config) else { return };
                            serve_connection(&*answer, port, rustls::StreamOwned::new(connection, stream));
                        }
                    });
                }
            })
        };
        Listener { port, stop, acceptor: Some(acceptor) }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor blocked in accept(); open client connections end when their clients close them.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// A server's TLS with this certificate chain and key (PEM); with
/// `client_ca_pem`, a client certificate signed by it is required.
pub(crate) fn tls_config(
    cert_chain_pem: &str,
    key_pem: &str,
    client_ca_pem: Option<&str>,
) -> Arc<rustls::ServerConfig> {
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
    Arc::new(builder.with_single_cert(chain, key).expect("server certificate"))
}

/// Serves requests on one connection until the client closes it or asks to.
pub(crate) fn serve_connection(answer: &Answer, port: u16, stream: impl Conn) {
    let mut reader = BufReader::new(stream);
    while let Some(incoming) = read_request(&mut reader) {
        let close = incoming.header("Connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let head = incoming.method == "HEAD";
        let Some(reply) = answer(port, incoming) else {
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
pub(crate) trait Conn: Read + Write {
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
pub(crate) fn read_request(reader: &mut BufReader<impl Read>) -> Option<Incoming> {
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

pub(crate) fn read_chunked(reader: &mut BufReader<impl Read>) -> Option<Vec<u8>> {
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

pub(crate) fn write_reply(writer: &mut impl Write, reply: Reply, head: bool) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
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

pub(crate) fn reason(status: u16) -> &'static str {
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
pub(crate) fn serve(state: &Mutex<State>, port: u16, incoming: Incoming) -> Option<Reply> {
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
    let reply = match fault {
        None => run(),
        Some(Fault::Drop) => return None,
        Some(fault @ Fault::TimedOut500 { apply }) => {
            if apply {
                run();
            }
            fault.reply(&request.method, &host, &request.path)
        }
        Some(fault) => fault.reply(&request.method, &host, &request.path),
    };
    Some(reply.header("Server", "Jetty(12.0.36)".into()))
}

impl State {
    pub(crate) fn take_fault(&mut self, rq: &Request) -> Option<Fault> {
        let (_, fault, left) = self.faults.iter_mut().find(|(m, _, left)| *left > 0 && m.matches(rq))?;
        *left -= 1;
        Some(fault.clone())
    }
}

impl Fault {
    pub(crate) fn reply(&self, method: &str, host: &str, path: &str) -> Reply {
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
            // Jetty 12's own error, as JSON for a client that accepts it (the
            // client always does); a body for GET, POST and HEAD only.
            Fault::Starting if matches!(method, "GET" | "POST" | "HEAD") => {
                let body = format!("{{\n\"message\":\"Not Found\",\n\"url\":\"http://{host}{path}\",\n\"status\":\"404\"\n}}");
                Reply::new(404, Some("application/json"), body)
            }
            Fault::Starting => Reply::new(404, None, String::new()),
            Fault::Drop => unreachable!("handled by the caller"),
        }
    }
}
