//! Log lines on stderr: plain text for people, or one JSON object per line
//! with `LOG_TYPE=json`, which shell-operator merges into its own log.

use std::io::Write;

use log::LevelFilter;

/// Sends log lines to stderr, as JSON with `json`; debug lines with `debug`.
pub fn init(json: bool, debug: bool) {
    let default = if debug { "debug" } else { "info" };
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().filter_or("RUST_LOG", default));
    // HTTP and TLS internals can print request headers (credentials), and
    // jaq's `debug` prints template values (secrets): never, at any level.
    for noisy in ["ureq", "ureq_proto", "rustls", "jaq_std", "jaq_core"] {
        builder.filter_module(noisy, LevelFilter::Warn);
    }
    builder.filter_module("jaq_std", LevelFilter::Off);
    if json {
        builder.format(|buf, record| {
            let line = serde_json::json!({
                "level": record.level().as_str().to_ascii_lowercase(),
                "msg": record.args().to_string(),
                "time": humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            });
            writeln!(buf, "{line}")
        });
    } else {
        // One format for everything said, clap's usage errors included:
        // `error: ...`, `warning: ...`. No time: a terminal has its own,
        // CI and shell-operator stamp each line they keep.
        builder.format(|buf, record| writeln!(buf, "{}: {}", word(record.level()), record.args()));
    }
    builder.target(env_logger::Target::Stderr).init();
}

/// A level as clap and cargo say it.
fn word(level: log::Level) -> &'static str {
    match level {
        log::Level::Error => "error",
        log::Level::Warn => "warning",
        log::Level::Info => "info",
        log::Level::Debug => "debug",
        log::Level::Trace => "trace",
    }
}
