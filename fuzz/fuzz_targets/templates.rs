//! Any program text as a template, with the real kinds of variables:
//! compiled, run twice (real values and markers) and checked into a
//! connector, in this process.
//!
//! The hook runs templates in a child process that bounds time, memory and
//! stack (`sandbox`), so templates that loop, allocate or recurse without end
//! are handled there, not here: the template is run on a thread with a large
//! stack, so that unbounded recursion becomes memory use, and `.ci/fuzz` runs
//! this target with `-fork`, `-ignore_timeouts` and `-ignore_ooms`. What is
//! left to find is a panic.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use connect_operator::render::template::{render_each, Event, Job};
use connect_operator::render::variables::Variables;
use libfuzzer_sys::fuzz_target;

fn variables() -> &'static Variables {
    static VARIABLES: OnceLock<Variables> = OnceLock::new();
    VARIABLES.get_or_init(|| {
        let vars = BTreeMap::from([
            ("SCHEMA_REGISTRY_URL".to_string(), "https://sr.example:8081".to_string()),
            ("SASL_JAAS_CONFIG".to_string(), r#"m required username="KEY" password="s3cr=t";"#.to_string()),
            ("TASKS".to_string(), "3".to_string()),
        ]);
        let env = BTreeMap::from([
            ("DB_PASSWORD".to_string(), "GoKafka".to_string()),
            ("CONNECT_OPERATOR_PUBLIC_VARIABLES".to_string(), "SCHEMA_REGISTRY_URL".to_string()),
        ]);
        Variables::from_parts(vars, env)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let jobs = vec![Job { set: 0, code: text.to_string() }];
    let worker = std::thread::Builder::new().stack_size(1 << 30).spawn(move || {
        let _ = render_each(&[variables()], &jobs, |event| {
            if let Event::Rendered(Ok(connector)) = event {
                let _ = connector.redacted_config();
            }
            Ok::<(), ()>(())
        });
    });
    if let Ok(worker) = worker {
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic);
        }
    }
});
