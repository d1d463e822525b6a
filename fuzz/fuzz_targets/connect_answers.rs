//! Connect's answers: any status, Content-Type, Retry-After and body, as the
//! client sorts and reads them (bulk read, config, plugin list, errors), and
//! a validation report as `validate` reads it.
#![no_main]

use connect_operator::connect::Client;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [a, b, flags, rest @ ..] = data else { return };
    let status = u16::from_be_bytes([*a, *b]) % 600;
    let text = String::from_utf8_lossy(rest);
    let (retry_after, body) = text.split_once('\n').unwrap_or(("", &text));
    let content_type = match flags % 3 {
        0 => None,
        1 => Some("application/json"),
        _ => Some("text/html; charset=utf-8"),
    };
    let retry_after = (flags & 4 != 0).then_some(retry_after);
    let _ = Client::read_answer(status, content_type, retry_after, body);
    if let Ok(report) = serde_json::from_str(body) {
        let _ = connect_operator::gitops::validate::errors_of(&report);
    }
});
