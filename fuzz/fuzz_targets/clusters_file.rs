//! The clusters file (`CONNECT_CLUSTERS_FILE`): its shape, names, URLs and
//! flavours; credentials are not resolved (they would read the environment
//! and files the fuzzer names).
#![no_main]

use std::path::Path;

use connect_operator::connect::clusters::{Clusters, File, Resolve};
use connect_operator::connect::tenancy::Tenancy;
use connect_operator::connect::Settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(file) = File::parse(text, Path::new("clusters.yaml")) else { return };
    let _ = file.env_names();
    let _ = Clusters::new(Some(file), &Settings::default(), &Tenancy::default(), Resolve::Names);
});
