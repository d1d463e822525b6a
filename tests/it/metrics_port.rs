//! `connect-operator serve-metrics`, the Pod's metrics port, between a
//! client and a stand-in for shell-operator's HTTP server that, like the real
//! one, also serves Go's profiler under `/debug/pprof/`.
//! The end-to-end suite checks the same against the real shell-operator.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::support::repo::BIN;

/// shell-operator's HTTP server as far as the metrics port sees it; the
/// paths it was asked for are kept.
struct Upstream {
    url: String,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Upstream {
    fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let asked = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&asked);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut head = Vec::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                    head.push(line.trim_end().to_string());
                }
                let path = head[0].split(' ').nth(1).unwrap().to_string();
                let accept =
                    head.iter().find_map(|h| h.strip_prefix("accept: ").or_else(|| h.strip_prefix("Accept: ")));
                kept.lock().unwrap().push(path.clone());
                let (status, kind, body) = match path.as_str() {
                    "/metrics" | "/metrics/hooks" => (
                        "200 OK",
                        "text/plain; version=0.0.4; charset=utf-8",
                        format!("# asked {path} accepting {}\nshell_operator_live_ticks 1\n", accept.unwrap_or("-")),
                    ),
                    "/" => ("200 OK", "text/html", "<html>Shell operator</html>".to_string()),
                    p if p.starts_with("/debug/pprof/") => ("200 OK", "text/html", "goroutine profile".to_string()),
                    _ => ("404 Not Found", "text/plain", "404 page not found".to_string()),
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).unwrap();
            }
        });
        Upstream { url, asked }
    }
}

/// A running `serve-metrics`, stopped when dropped.
struct Port {
    child: Child,
    url: String,
}

impl Port {
    fn start(upstream: &str) -> Port {
        let mut child = Command::new(BIN)
            .args(["serve-metrics", "--listen", "127.0.0.1:0", "--shell-operator-url", upstream])
            .env_clear()
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut said = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        said.read_line(&mut line).unwrap();
        let address = line.split(" on ").nth(1).and_then(|rest| rest.split(';').next()).expect(&line).to_string();
        // The rest of its log, read so that it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut said, &mut std::io::sink()));
        Port { child, url: format!("http://{address}") }
    }

    /// Status, Content-Type and body of a request.
    fn ask(&self, method: &str, path: &str) -> (u16, String, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let url = format!("{}{path}", self.url);
        let mut response = match method {
            "GET" => agent.get(&url).header("Accept", "application/openmetrics-text;version=1.0.0").call(),
            "HEAD" => agent.head(&url).call(),
            "POST" => agent.post(&url).send(""),
            _ => unreachable!(),
        }
        .unwrap();
        let kind = response.headers().get("content-type").map_or("", |v| v.to_str().unwrap()).to_string();
        let mut body = String::new();
        response.body_mut().as_reader().read_to_string(&mut body).unwrap();
        (response.status().as_u16(), kind, body)
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Before, shell-operator's port was the Service's: `/debug/pprof/` (a CPU
/// profile on demand, goroutine stacks) answered whoever reached it.
#[test]
fn only_the_metrics_pass_and_the_profiler_never() {
    let upstream = Upstream::start();
    let port = Port::start(&upstream.url);

    let (status, kind, body) = port.ask("GET", "/metrics");
    assert_eq!(status, 200);
    assert_eq!(kind, "text/plain; version=0.0.4; charset=utf-8", "shell-operator's Content-Type passes");
    assert!(body.contains("asked /metrics accepting application/openmetrics-text;version=1.0.0"), "{body}");
    assert!(body.contains("shell_operator_live_ticks 1"), "{body}");
    assert!(port.ask("GET", "/metrics/hooks?ignored=1").2.contains("asked /metrics/hooks "));
    assert_eq!(port.ask("HEAD", "/metrics").0, 200);
    assert_eq!(port.ask("GET", "/healthz"), (200, "text/plain; charset=utf-8".to_string(), "ok\n".to_string()));

    for path in ["/debug/pprof/", "/debug/pprof/goroutine?debug=2", "/", "/discovery", "/metrics/../debug/pprof/"] {
        let (status, _, body) = port.ask("GET", path);
        assert_eq!(status, 404, "{path}: {body}");
        assert!(body.contains("this port serves /metrics, /metrics/hooks and /healthz"), "{body}");
    }
    assert_eq!(port.ask("POST", "/metrics").0, 405);
    let asked = upstream.asked.lock().unwrap().clone();
    assert!(asked.iter().all(|p| ["/metrics", "/metrics/hooks", "/"].contains(&p.as_str())), "{asked:?}");
}

/// A shell-operator that does not answer is said, with its URL, and fails
/// the probes.
#[test]
fn a_silent_shell_operator_fails_the_probes() {
    let nobody = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let port = Port::start(&format!("http://{nobody}"));
    for path in ["/metrics", "/healthz"] {
        let (status, _, body) = port.ask("GET", path);
        assert_eq!(status, 502, "{path}");
        assert!(body.starts_with(&format!("shell-operator did not answer GET http://{nobody}/")), "{body}");
    }
}

/// In the Pod this process is its container's PID 1, which the kernel gives
/// no default action for SIGTERM: unless it handles the signal, kubelet's
/// stop is ignored and every Pod deletion and rollout waits out the 30 s
/// grace period before SIGKILL. It exits 0 on SIGTERM, at once.
#[test]
fn sigterm_stops_it_at_once() {
    let upstream = Upstream::start();
    let mut port = Port::start(&upstream.url);
    assert_eq!(port.ask("GET", "/healthz").0, 200);
    // SAFETY: kill(2) with the child's own pid.
    assert_eq!(unsafe { libc::kill(port.child.id() as i32, libc::SIGTERM) }, 0);
    let asked = std::time::Instant::now();
    let status = loop {
        if let Some(status) = port.child.try_wait().unwrap() {
            break status;
        }
        assert!(asked.elapsed() < std::time::Duration::from_secs(5), "still running 5 s after SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{status:?}");
}
