//! What `export` makes of one live connector, without I/O: its template
//! (values literal, or `env.NAME` where they are secret), its ConfigMap
//! manifest, and the Secret manifest of the values kept out.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use log::warn;
use serde_json::{json, Map, Value};

use crate::connect::clusters::{Flavour, CLUSTER_ANNOTATION, DEFAULT};
use crate::model::configmap::{ENABLED_LABEL, SELECTOR_LABEL, SELECTOR_VALUE};
use crate::model::connector::TargetState;
use crate::plan::compare::{is_masked, is_server_key};
use crate::redact::{is_provider_reference, is_public_env, is_secret_key};

/// The Secret the Deployment takes its environment from (`envFrom`).
pub const ENV_SECRET: &str = "connect-operator-env";
/// What the Secret holds where the value is not exported.
pub const PLACEHOLDER: &str = "<set me>";
/// The key that names the connector's plugin.
pub const CONNECTOR_CLASS: &str = "connector.class";
/// How `Password.toString()` shows a value, as the validate report does.
const HIDDEN: &str = "[hidden]";

/// Where a config value goes in the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// Written as it is.
    Literal(String),
    /// Read from this environment variable, which the Secret sets.
    Env(String),
}

/// What the Secret holds for one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretValue {
    /// The live value (`--include-secrets`).
    Real(String),
    /// [`PLACEHOLDER`]: not asked for, or masked by Connect.
    Placeholder,
}

/// One connector, as its template declares it.
#[derive(Debug)]
pub struct Adopted {
    /// The connector's name.
    pub name: String,
    /// The state it is declared in.
    pub state: TargetState,
    /// Each config key and where its value goes.
    pub config: BTreeMap<String, Kept>,
}

/// The keys a class defines as `PASSWORD`, when Connect could say.
pub enum Passwords {
    /// Connect's definitions: these keys are `PASSWORD`s.
    Declared(BTreeSet<String>),
    /// Connect could not say.
    Unknown,
}

/// What the Secret gets of the values kept out of the templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Include {
    /// The live values (`--include-secrets`).
    Values,
    /// [`PLACEHOLDER`]s, for people to set.
    Placeholders,
}

/// How one connector's values are kept: what its class defines, what its
/// cluster adds, what the Secret gets, and the variables no template may set.
pub struct Rules<'a> {
    /// The keys its class defines as passwords.
    pub passwords: &'a Passwords,
    /// What the cluster runs: a Confluent worker adds keys of its own.
    pub flavour: Flavour,
    /// Values or placeholders.
    pub include: Include,
    /// The operator's own settings (`CONNECT_URL`, `PRUNE`, ...): a Secret
    /// the Deployment reads its environment from must never set them.
    pub reserved: &'a BTreeSet<String>,
}

/// Whether a value is one Connect masked: Confluent's stars or bullets, or
/// what `Password.toString()` gives.
fn masked(value: &str) -> bool {
    is_masked(value) || value == HIDDEN
}

/// One connector's template: each value literal, or from the environment
/// when it is secret; `env` gets what the Secret holds.
pub fn adopt(
    name: &str,
    state: TargetState,
    config: &BTreeMap<String, String>,
    rules: &Rules,
    env: &mut BTreeMap<String, SecretValue>,
) -> Adopted {
    let mut kept = BTreeMap::new();
    for (key, value) in config {
        // `name` is the template's own; a vendor's added keys are not the connector's.
        if (key == "name" && value == name) || (rules.flavour != Flavour::Apache && is_server_key(key)) {
            continue;
        }
        // The name rule applies whatever Connect defines: Connect defines no
        // `producer.override.sasl.jaas.config`, and a leaked secret cannot be taken back.
        let declared = matches!(rules.passwords, Passwords::Declared(p) if p.contains(key));
        let secret = (declared || is_secret_key(key)) && !is_provider_reference(value);
        if !secret && !masked(value) {
            kept.insert(key.clone(), Kept::Literal(value.clone()));
            continue;
        }
        let taken = |n: &str| env.contains_key(n) || rules.reserved.contains(n) || is_public_env(n);
        let variable = env_name(name, key, taken);
        let held = if masked(value) {
            warn!("connector {name} key {key}: Connect masks its value; the Secret holds a placeholder for env.{variable}");
            SecretValue::Placeholder
        } else {
            match rules.include {
                Include::Values => SecretValue::Real(value.clone()),
                Include::Placeholders => SecretValue::Placeholder,
            }
        };
        env.insert(variable.clone(), held);
        kept.insert(key.clone(), Kept::Env(variable));
    }
    Adopted { name: name.to_string(), state, config: kept }
}

/// `ORDERS_SINK_CONNECTION_PASSWORD` for key `connection.password` of
/// connector `orders-sink`: a jq identifier, so `env.NAME` reads it, and
/// not one `taken`.
fn env_name(connector: &str, key: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = String::new();
    for c in format!("{connector}_{key}").chars() {
        let c = if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' };
        if !(c == '_' && name.ends_with('_')) {
            name.push(c);
        }
    }
    let name = name.trim_matches('_').to_string();
    let name =
        if name.starts_with(|c: char| c.is_ascii_digit()) || name.is_empty() { format!("C_{name}") } else { name };
    let mut candidate = name.clone();
    let mut n = 1;
    while taken(&candidate) {
        n += 1;
        candidate = format!("{name}_{n}");
    }
    candidate
}

/// A ConfigMap name (DNS-1123 subdomain) from a connector name.
#[must_use]
pub fn dns_name(connector: &str) -> String {
    let mapped: String = connector
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .take(240)
        .collect();
    let trimmed = mapped.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if trimmed.is_empty() {
        "connector".to_string()
    } else {
        trimmed.to_string()
    }
}

/// `stem`, or `stem-2`, `stem-3`... when another connector took it.
pub fn unique(stem: &str, taken: &mut BTreeSet<String>, separator: &str) -> String {
    let mut candidate = stem.to_string();
    let mut n = 1;
    while taken.contains(&candidate) {
        n += 1;
        candidate = format!("{stem}{separator}{n}");
    }
    taken.insert(candidate.clone());
    candidate
}

/// The template: JSON as the examples write it, `env.NAME` for secrets.
#[must_use]
pub fn template(adopted: &Adopted) -> String {
    let quote = |text: &str| Value::String(text.to_string()).to_string();
    let mut out = format!("{{\n  \"name\": {},\n", quote(&adopted.name));
    if adopted.state != TargetState::Running {
        out.push_str(&format!("  \"state\": {},\n", quote(&adopted.state.to_string())));
    }
    // The class first, as people write them; the rest in key order.
    let (class, rest): (Vec<_>, Vec<_>) = adopted.config.iter().partition(|(key, _)| *key == CONNECTOR_CLASS);
    let lines: Vec<String> = class
        .into_iter()
        .chain(rest)
        .map(|(key, kept)| match kept {
            Kept::Literal(value) => format!("    {}: {}", quote(key), quote(value)),
            Kept::Env(variable) => format!("    {}: env.{variable}", quote(key)),
        })
        .collect();
    if lines.is_empty() {
        out.push_str("  \"config\": {}\n}");
    } else {
        out.push_str(&format!("  \"config\": {{\n{}\n  }}\n}}", lines.join(",\n")));
    }
    out
}

/// The ConfigMap manifest of one connector.
pub fn configmap(adopted: &Adopted, stem: &str, namespace: Option<&str>, cluster: &str) -> Result<String> {
    let data_key: String = adopted
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(stem));
    if let Some(namespace) = namespace {
        metadata.insert("namespace".into(), json!(namespace));
    }
    metadata.insert("labels".into(), json!({SELECTOR_LABEL: SELECTOR_VALUE, ENABLED_LABEL: "true"}));
    if cluster != DEFAULT {
        metadata.insert("annotations".into(), json!({CLUSTER_ANNOTATION: cluster}));
    }
    let manifest = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": {format!("{data_key}.json"): template(adopted)},
    });
    serde_yaml_ng::to_string(&manifest)
        .with_context(|| format!("cannot write the manifest of connector {}", adopted.name))
}

/// The Secret manifest of the variables the templates read.
pub fn secret(env: &BTreeMap<String, SecretValue>, namespace: Option<&str>) -> Result<String> {
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(ENV_SECRET));
    if let Some(namespace) = namespace {
        metadata.insert("namespace".into(), json!(namespace));
    }
    let data: Map<String, Value> = env
        .iter()
        .map(|(name, value)| {
            let value = match value {
                SecretValue::Real(value) => value.as_str(),
                SecretValue::Placeholder => PLACEHOLDER,
            };
            (name.clone(), json!(value))
        })
        .collect();
    let manifest =
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque", "stringData": data});
    serde_yaml_ng::to_string(&manifest).context("cannot write the Secret manifest")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_names_are_jq_identifiers_and_never_shared() {
        let free = |_: &str| false;
        assert_eq!(env_name("orders-sink", "connection.password", free), "ORDERS_SINK_CONNECTION_PASSWORD");
        assert_eq!(env_name("9lives", "db..pw", free), "C_9LIVES_DB_PW");
        assert_eq!(env_name("ünï", "-", free), "N");
        let taken = |n: &str| n == "A_B_C";
        assert_eq!(env_name("a-b", "c", taken), "A_B_C_2", "a.b's c and a's b.c must not share a variable");
    }

    #[test]
    fn configmap_names_are_dns_subdomains() {
        assert_eq!(dns_name("Orders_Sink"), "orders-sink");
        assert_eq!(dns_name("-a b."), "a-b");
        assert_eq!(dns_name("__"), "connector");
        let mut taken = BTreeSet::from(["a".to_string()]);
        assert_eq!(unique("a", &mut taken, "-"), "a-2");
        assert_eq!(unique("a", &mut taken, "-"), "a-3");
    }

    #[test]
    fn provider_references_and_masks() {
        for reference in ["${file:/etc/s.properties:pw}", " ${vault:secret/db:pw}${env:X} "] {
            assert!(is_provider_reference(reference), "{reference}");
        }
        for value in ["pw", "${file:/x:pw}tail", "${nocolon}", "${file:/x", "", "$x"] {
            assert!(!is_provider_reference(value), "{value}");
        }
        for value in ["****", "••••", "[hidden]"] {
            assert!(masked(value), "{value}");
        }
        assert!(!masked("hunter2") && !masked(""));
    }

    #[test]
    fn a_template_declares_its_state_secrets_from_the_environment() {
        let config = BTreeMap::from([
            ("name".to_string(), "a".to_string()),
            ("tasks.max".to_string(), "1".to_string()),
            ("connector.class".to_string(), "FileStreamSink".to_string()),
            ("db.password".to_string(), "hunter2".to_string()),
            ("__internal.config.version".to_string(), "3".to_string()),
        ]);
        let mut env = BTreeMap::new();
        let passwords = Passwords::Declared(BTreeSet::new());
        let reserved = BTreeSet::new();
        let rules = Rules {
            passwords: &passwords,
            flavour: Flavour::ConfluentPlatform,
            include: Include::Values,
            reserved: &reserved,
        };
        let adopted = adopt("a", TargetState::Stopped, &config, &rules, &mut env);
        assert_eq!(
            template(&adopted),
            "{\n  \"name\": \"a\",\n  \"state\": \"stopped\",\n  \"config\": {\n    \"connector.class\": \"FileStreamSink\",\n    \"db.password\": env.A_DB_PASSWORD,\n    \"tasks.max\": \"1\"\n  }\n}"
        );
        assert_eq!(env, BTreeMap::from([("A_DB_PASSWORD".to_string(), SecretValue::Real("hunter2".to_string()))]));
    }

    #[test]
    fn no_variable_is_one_of_the_operators_settings() {
        let config =
            BTreeMap::from([("password".to_string(), "pw".to_string()), ("home".to_string(), "x".to_string())]);
        let reserved = BTreeSet::from(["CONNECT_PASSWORD".to_string()]);
        let rules = Rules {
            passwords: &Passwords::Unknown,
            flavour: Flavour::Apache,
            include: Include::Placeholders,
            reserved: &reserved,
        };
        let mut env = BTreeMap::new();
        let adopted = adopt("connect", TargetState::Running, &config, &rules, &mut env);
        assert_eq!(adopted.config["password"], Kept::Env("CONNECT_PASSWORD_2".to_string()));
        assert_eq!(adopted.config["home"], Kept::Literal("x".to_string()));
    }
}
