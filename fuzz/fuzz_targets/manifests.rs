//! Manifests on disk, as the repository commands read them: multi-document
//! YAML, JSON and `List`s, with the near-miss hints.
#![no_main]

use std::path::Path;

use connect_operator::input::manifests::{read_text, Read};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut read = Read::default();
    let _ = read_text(text, Path::new("fuzz.yaml"), &mut read);
    for manifest in &read.manifests {
        let _ = manifest.configmap.intent();
    }
    let _ = read.counts();
});
