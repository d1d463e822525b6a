//! The whole `BINDING_CONTEXT_PATH` document, as the hook reads it, and what
//! it reads from each ConfigMap's labels and status annotations.
#![no_main]

use connect_operator::input::bindings;
use connect_operator::model::status::{recorded_names, CmStatus};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(work) = bindings::parse_text(text) else { return };
    for seen in work.seen.values() {
        let cm = seen.configmap();
        let _ = cm.intent();
        let _ = CmStatus::recorded(&cm.annotations);
        let _ = recorded_names(&cm.annotations);
    }
});
