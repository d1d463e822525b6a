//! The Pod's metrics port (`connect-operator serve-metrics`, a second
//! container of the Deployment): shell-operator's `/metrics` and
//! `/metrics/hooks`, passed on from its HTTP server, which listens on
//! 127.0.0.1 only. That server also mounts Go's profiler under `/debug/`
//! (shell-operator v1.20.3 has no setting to turn it off): CPU profiles on
//! demand, goroutine stacks, the process's command line. Whoever reaches a
//! Service's port reaches all of it, so nothing but the metrics passes.

use std::time::Duration;

use anyhow::{anyhow, Result};
use log::{info, warn};

/// What passes, as shell-operator serves it.
const PASSED: [&str; 2] = ["/metrics", "/metrics/hooks"];

/// Answers 200 when shell-operator's own `/` does: kubelet's probes reach
/// the Pod's IP, never shell-operator's 127.0.0.1.
const HEALTH: &str = "/healthz";

/// Requests answered at once: Prometheus scrapes both paths, kubelet probes.
const WORKERS: usize = 4;

/// shell-operator answers from memory; a scrape that waits longer than this
/// would only pile up behind a stuck process.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound on what is passed on, far above 10,000 connectors' series.
const MAX_BODY: u64 = 256 << 20;

/// Serves until the process is stopped (SIGTERM or SIGINT: it exits 0).
pub fn serve(listen: &str, upstream: &str) -> Result<()> {
    exit_when_stopped();
    let server = tiny_http::Server::http(listen).map_err(|e| anyhow!("cannot listen on {listen}: {e}"))?;
    let upstream = upstream.trim_end_matches('/');
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(UPSTREAM_TIMEOUT))
        // Only ever 127.0.0.1: an HTTP_PROXY in the environment is not for this.
        .proxy(None)
        .build()
        .into();
    // The address bound, not the one asked for: port 0 is any free port.
    let bound = server.server_addr().to_ip().map_or_else(|| listen.to_string(), |a| a.to_string());
    info!("serving {} and {HEALTH} of shell-operator at {upstream} on {bound}; nothing else passes", PASSED.join(", "));
    std::thread::scope(|threads| {
        for _ in 0..WORKERS {
            threads.spawn(|| loop {
                match server.recv() {
                    Ok(request) => answer(request, &agent, upstream),
                    Err(e) => {
                        // Not in a tight loop: were the listener gone, kubelet's
                        // probe of the port restarts the container.
                        warn!("metrics port {listen}: {e}");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            });
        }
    });
    Ok(())
}

/// What a request gets: passed on, a health answer, or refused.
#[derive(Debug, PartialEq)]
enum Route<'a> {
    Pass(&'a str),
    Health,
    NotAllowed,
    NotFound,
}

type Answer = tiny_http::Response<std::io::Cursor<Vec<u8>>>;

/// This process is its container's PID 1, to which the kernel gives no
/// default action for SIGTERM: unhandled, kubelet's stop would wait out the
/// Pod's grace period (30 s, every rollout) and then kill it. Nothing is
/// left to finish: a request cut short is a scrape Prometheus repeats.
fn exit_when_stopped() {
    extern "C" fn exit(_signal: libc::c_int) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(0) }
    }
    for signal in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: the handler calls only _exit.
        unsafe { libc::signal(signal, exit as extern "C" fn(libc::c_int) as libc::sighandler_t) };
    }
}

fn route<'a>(method: &tiny_http::Method, url: &'a str) -> Route<'a> {
    let path = url.split_once('?').map_or(url, |(path, _)| path);
    if !matches!(method, tiny_http::Method::Get | tiny_http::Method::Head) {
        return Route::NotAllowed;
    }
    match PASSED.iter().find(|p| **p == path) {
        Some(passed) => Route::Pass(passed),
        None if path == HEALTH => Route::Health,
        None => Route::NotFound,
    }
}

fn answer(request: tiny_http::Request, agent: &ureq::Agent, upstream: &str) {
    let response = match route(request.method(), request.url()) {
        Route::Pass(path) => {
            let accept = request.headers().iter().find(|h| h.field.equiv("Accept")).map(|h| h.value.to_string());
            pass(agent, &format!("{upstream}{path}"), accept.as_deref())
        }
        Route::Health => match pass(agent, &format!("{upstream}/"), None) {
            ok if ok.status_code().0 == 200 => text(200, "ok\n"),
            failed => failed,
        },
        Route::NotAllowed => with_header(text(405, "only GET and HEAD\n"), "Allow", "GET, HEAD"),
        Route::NotFound => {
            text(404, &format!("not served here: this port serves {} and {HEALTH}\n", PASSED.join(", ")))
        }
    };
    // A client gone before its answer is its own affair.
    let _ = request.respond(response);
}

/// shell-operator's answer, or 502 naming what failed.
fn pass(agent: &ureq::Agent, url: &str, accept: Option<&str>) -> Answer {
    let mut get = agent.get(url);
    if let Some(accept) = accept {
        // Prometheus asks for OpenMetrics or text; shell-operator chooses.
        get = get.header("Accept", accept);
    }
    let read = get.call().and_then(|mut response| {
        let kind = response.headers().get("Content-Type").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = response.body_mut().with_config().limit(MAX_BODY).read_to_vec()?;
        Ok((response.status().as_u16(), kind, body))
    });
    match read {
        Ok((status, kind, body)) => {
            let response = tiny_http::Response::from_data(body).with_status_code(status);
            match kind {
                Some(kind) => with_header(response, "Content-Type", &kind),
                None => response,
            }
        }
        Err(e) => {
            warn!("shell-operator did not answer GET {url}: {e}");
            text(502, &format!("shell-operator did not answer GET {url}: {e}\n"))
        }
    }
}

fn text(status: u16, body: &str) -> Answer {
    let response = tiny_http::Response::from_data(body.as_bytes().to_vec()).with_status_code(status);
    with_header(response, "Content-Type", "text/plain; charset=utf-8")
}

/// The response with the header, when it is one: ours are constants, and
/// a Content-Type that shell-operator sent parsed as a header there.
fn with_header(response: Answer, name: &str, value: &str) -> Answer {
    match tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
        Ok(header) => response.with_header(header),
        Err(()) => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiny_http::Method;

    #[test]
    fn only_the_metrics_and_the_health_answer_pass() {
        assert_eq!(route(&Method::Get, "/metrics"), Route::Pass("/metrics"));
        assert_eq!(route(&Method::Head, "/metrics/hooks?x=1"), Route::Pass("/metrics/hooks"));
        assert_eq!(route(&Method::Get, "/healthz"), Route::Health);
        for path in ["/", "/debug/pprof/", "/debug/pprof/profile?seconds=30", "/discovery", "/metrics/", "//metrics"] {
            assert_eq!(route(&Method::Get, path), Route::NotFound, "{path}");
        }
        assert_eq!(route(&Method::Get, "/metrics/../debug/pprof/"), Route::NotFound);
        assert_eq!(route(&Method::Post, "/metrics"), Route::NotAllowed);
    }
}
