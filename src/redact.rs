//! Keeping secrets out of logs, errors and printed connectors.

use crate::model::connector::Connector;
pub use crate::model::connector::REDACTED;

/// Where a secret's value should come from instead of the template's text:
/// advice given wherever a literal secret is found.
pub const SECRET_SOURCES: &str = "a variable ($NAME or env.NAME) or a Connect config provider (${provider:path:key})";

/// Words that make a config key secret wherever they appear in it.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "credential",
    "credentials",
    "jaas",
    "keyfile",
    "keystore",
    "truststore",
    "apikey",
    "privatekey",
    "auth",
    "sas",
    "signature",
];

/// Last words of a key that make it a setting about a secret (its kind,
/// where it is, how it is used), never the secret itself.
const SETTING_WORDS: &[&str] = &[
    "source",
    "type",
    "class",
    "mechanism",
    "location",
    "enable",
    "enabled",
    "mode",
    "protocol",
    "algorithm",
    "format",
];

/// Whether a config key names a setting about a secret (its kind, where it
/// is, how it is used) rather than the secret: its value is shown even when
/// a variable gave it (`basic.auth.credentials.source: USER_INFO`).
#[must_use]
pub fn is_setting_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    lower.rsplit(['.', '_', '-']).next().is_some_and(|w| SETTING_WORDS.contains(&w))
}

/// Whether a config key names a secret: `connection.password`,
/// `kafka.api.key`, `sasl.jaas.config`, `basic.auth.user.info`, `keyfile`...
/// but not `key.converter` or `transforms.InsertKey.fields`.
#[must_use]
pub fn is_secret_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(['.', '_', '-']).collect();
    // `basic.auth.credentials.source: USER_INFO`, `ssl.keystore.type: PKCS12`:
    // settings about a secret, which a reviewer needs to see.
    if is_setting_key(key) {
        return false;
    }
    words.iter().any(|w| SECRET_WORDS.contains(w) || w.contains("password") || w.contains("secret"))
        || words.last() == Some(&"key")
        || lower.contains("user.info")
        || lower.contains("private.key")
}

/// Whether a config value is nothing but Connect config provider
/// references (`${file:/mnt/secrets/db.properties:password}`,
/// `${vault:path:key}`): the worker resolves them, so the text holds no
/// secret and may be shown and committed as it is.
#[must_use]
pub fn is_provider_reference(value: &str) -> bool {
    let mut rest = value.trim();
    if rest.is_empty() {
        return false;
    }
    while let Some(after) = rest.strip_prefix("${") {
        let Some((inner, tail)) = after.split_once('}') else { return false };
        if !inner.contains(':') {
            return false;
        }
        rest = tail.trim_start();
    }
    rest.is_empty()
}

/// Environment variables that are never secret besides this program's own
/// settings (which [`crate::render::variables::Variables`] takes from the
/// command line's definitions): what the operator reads outside its command
/// line, what shell-operator and Kubernetes set, and the usual process
/// variables. Their values are not scrubbed from messages.
#[must_use]
pub fn is_public_env(name: &str) -> bool {
    const PUBLIC: &[&str] = &[
        "CONNECT_OPERATOR_PUBLIC_VARIABLES",
        "OPERATOR_NAMESPACE",
        "BASE_URL",
        "NO_COLOR",
        "LOG_TYPE",
        "RUST_LOG",
        "DEBUG",
        "PATH",
        "HOME",
        "HOSTNAME",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "TERM",
        "LANG",
        "USER",
        "SHELL",
        "TZ",
        "_",
    ];
    PUBLIC.contains(&name)
        || PER_RUN.contains(&name)
        || name.starts_with("SHELL_OPERATOR_")
        || name.starts_with("LC_")
        || name.starts_with("KUBERNETES_")
}

/// The files shell-operator names anew for every run, in the environment
/// of each: not secret, and not an input of what a template renders (a
/// template that names one is rendered every time, see
/// [`crate::render::cache`]).
pub const PER_RUN: &[&str] = &[
    "BINDING_CONTEXT_PATH",
    "METRICS_PATH",
    "KUBERNETES_PATCH_PATH",
    "VALIDATING_RESPONSE_PATH",
    "ADMISSION_RESPONSE_PATH",
    "CONVERSION_RESPONSE_PATH",
];

/// Replaces known secret values in free text (Connect's error messages,
/// template errors), longest first so a secret containing another is hidden
/// whole.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    secrets: Vec<String>,
}

impl Scrubber {
    /// Values too short or too plain to be secrets (`1`, `true`, `none`) are
    /// left out: replacing them would garble every message and hide nothing.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Scrubber {
        Scrubber::longest_first(values.into_iter().filter(|v| worth_hiding(v)).map(str::to_string).collect())
    }

    /// A scrubber that also hides a connector's own secret values: those of
    /// keys that name a secret whatever their length (`connection.password`
    /// may be short), the others only when [`worth_hiding`] (a `connection.user`
    /// of `root` computed from a variable must not garble `/root/...` in
    /// Connect's messages).
    #[must_use]
    pub fn for_connector(&self, connector: &Connector) -> Scrubber {
        let mut secrets = self.secrets.clone();
        let own = connector.secret_keys.iter().filter_map(|k| Some((k, connector.config.get(k)?)));
        let hidden = own.filter(|(k, v)| !v.is_empty() && (is_secret_key(k) || worth_hiding(v)));
        secrets.extend(hidden.map(|(_, v)| v.clone()));
        Scrubber::longest_first(secrets)
    }

    fn longest_first(mut secrets: Vec<String>) -> Scrubber {
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Scrubber { secrets }
    }

    /// `text` with every known secret replaced by `[redacted]`.
    #[must_use]
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }
}

/// Whether a value is hidden wherever it appears in text. Short values
/// (`root`, `https`, `PLAIN`), numbers and constants written as upper-case
/// words joined by `_` or `-` (`USER_INFO`, `SASL_SSL`, `SCRAM-SHA-512`) are
/// not: they occur in paths, URLs, names and keys that are not secret, and
/// replacing them there garbles what is said and hides nothing. Configs
/// still show such a value as `[redacted]` where it is secret.
#[must_use]
pub fn worth_hiding(value: &str) -> bool {
    let constant = value
        .split(['_', '-'])
        .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
        && value.contains(['_', '-'])
        && value.chars().any(|c| c.is_ascii_uppercase());
    value.chars().count() >= 6
        && !constant
        && !matches!(value.to_ascii_lowercase().as_str(), "true" | "false" | "null" | "none" | "https" | "http")
        && value.parse::<f64>().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        for key in [
            "connection.password",
            "kafka.api.key",
            "kafka.api.secret",
            "sasl.jaas.config",
            "value.converter.schema.registry.basic.auth.user.info",
            "keyfile",
            "ssl.key.password",
            "aws.secret.access.key",
            "CONNECT_TOKEN",
            "gcs.credentials.config",
        ] {
            assert!(is_secret_key(key), "{key} should be secret");
        }
        for key in [
            "key.converter",
            "key.converter.schemas.enable",
            "transforms.InsertKey.fields",
            "connection.user",
            "topics",
            "tasks.max",
            "incrementing.column.name",
            "value.converter.basic.auth.credentials.source",
            "ssl.keystore.location",
            "ssl.keystore.type",
            "sasl.mechanism",
        ] {
            assert!(!is_secret_key(key), "{key} should not be secret");
        }
    }

    #[test]
    fn scrubs_longest_first_and_skips_plain_values() {
        let s = Scrubber::new(["GoKafka", "GoKafka2", "1", "true", "abc"]);
        assert_eq!(
            s.scrub("Invalid value GoKafka2 for configuration x; GoKafka; 1 true abc"),
            "Invalid value [redacted] for configuration x; [redacted]; 1 true abc"
        );
    }

    /// Short and constant-like values would garble names, keys and paths:
    /// `$SCHEMA_REGISTRY_BASIC_AUTH_[redacted]`, `file:/[redacted]/.cache`.
    #[test]
    fn leaves_short_and_constant_values_in_text() {
        let s = Scrubber::new(["USER_INFO", "root", "PLAIN", "https", "SCRAM-SHA-512", "GoKafka-2024_x"]);
        let text =
            "undefined: $SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO; file:/root/.cache; PLAIN over https; SCRAM-SHA-512";
        assert_eq!(s.scrub(text), text);
        assert_eq!(s.scrub("password GoKafka-2024_x"), "password [redacted]");
        let connector = Connector {
            name: "c".into(),
            state: crate::model::connector::TargetState::Running,
            config: [("connection.user", "root"), ("connection.password", "abc")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            secret_keys: ["connection.user".to_string(), "connection.password".to_string()].into_iter().collect(),
            literal_secrets: std::collections::BTreeSet::new(),
            renamed_from: None,
        };
        let own = Scrubber::default().for_connector(&connector);
        assert_eq!(own.scrub("file:/root/.cache: bad password abc"), "file:/root/.cache: bad password [redacted]");
    }
}
