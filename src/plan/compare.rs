//! Comparing a desired config with the live one: keys Connect adds, values
//! it masks, and the digest that tells whether a masked secret changed.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::connector::{config_json, Connector};
use crate::model::live::Live;
use crate::plan::steps::Action;
use crate::text::hex;

/// Create, update or leave alone; and whether masked values went unverified.
#[must_use]
pub fn apply(connector: &Connector, live: &Live, recorded: Option<&str>, digest_key: Option<&[u8]>) -> (Action, bool) {
    let Some(current) = live.configs.get(&connector.name) else {
        return (Action::Create(connector.clone()), false);
    };
    let Comparison { changed, masked } = compare(&connector.config, current);
    let update = |changed| Action::Update { connector: connector.clone(), changed };
    if !changed.is_empty() {
        return (update(changed), false);
    }
    if masked.is_empty() {
        return (Action::Unchanged, false);
    }
    match digest_key {
        // The desired config's digest tells whether a masked secret changed
        // since it was last applied; with none recorded, apply once to know.
        Some(key) if recorded == Some(digest(key, &connector.config).as_str()) => (Action::Unchanged, false),
        Some(_) => (update(masked), false),
        None => (Action::Unchanged, true),
    }
}

/// Keys a Confluent worker adds to the configs it returns: ignored unless
/// the template sets them (reference sections 7 and 8).
const SERVER_KEYS: &[&str] = &[
    "cloud.environment",
    "cloud.provider",
    "connector.crn",
    "kafka.endpoint",
    "kafka.max.partition.validation.disable",
    "kafka.region",
    "kafka.dedicated",
    "kafka.user.id",
    "schema.registry.url",
    "valid.kafka.api.key",
    "confluent.custom.plugin.type",
    "confluent.resource.connector.tier",
];
const SERVER_PREFIXES: &[&str] = &["__internal.", "config.internal."];

/// Whether a Confluent worker adds this key to the configs it returns.
#[must_use]
pub fn is_server_key(key: &str) -> bool {
    SERVER_KEYS.contains(&key) || SERVER_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// A value Confluent masked (`****************`, `••••••••`): never compared
/// as text, and never sent back.
#[must_use]
pub fn is_masked(value: &str) -> bool {
    !value.is_empty() && value.chars().all(|c| c == '*' || c == '•')
}

/// What comparing a desired config with the live one found.
pub struct Comparison {
    /// Keys whose values differ, including keys only one side has.
    pub changed: Vec<String>,
    /// Keys whose live value is masked, so cannot be compared.
    pub masked: Vec<String>,
}

/// Compares a desired config with the live one, key by key.
#[must_use]
pub fn compare(desired: &BTreeMap<String, String>, live: &BTreeMap<String, String>) -> Comparison {
    let mut comparison = Comparison { changed: Vec::new(), masked: Vec::new() };
    // What a resync finds for almost every connector, in one pass.
    if desired == live && !live.values().any(|v| is_masked(v)) {
        return comparison;
    }
    let keys: BTreeSet<&String> = desired.keys().chain(live.keys()).collect();
    for key in keys {
        match (desired.get(key), live.get(key)) {
            (None, Some(_)) if is_server_key(key) => {}
            (Some(_), Some(l)) if is_masked(l) => comparison.masked.push(key.clone()),
            (d, l) if d != l => comparison.changed.push(key.clone()),
            _ => {}
        }
    }
    comparison
}

/// HMAC-SHA256 of a desired config, hex: recorded in the status so that a
/// changed masked secret is noticed, while someone who can read the
/// ConfigMap cannot test password guesses against it (a plain hash would
/// let them).
#[must_use]
pub fn digest(key: &[u8], config: &BTreeMap<String, String>) -> String {
    let text = config_json(config).to_string();
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), text.as_bytes());
    hex(tag.as_ref())
}
