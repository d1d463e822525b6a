//! `connect-operator --config`: the shell-operator binding configuration.

use serde_json::{json, Value};

use crate::input::{KUBERNETES_BINDING, SCHEDULE_BINDING, STATE_BINDING};
use crate::model::configmap::{SELECTOR_LABEL, SELECTOR_VALUE, STATE_CONFIGMAP, STATUS_ANNOTATION_PREFIX};

/// What makes a ConfigMap "modified": its data, labels and the annotations
/// people write. The annotations this hook writes are left out, so writing
/// them never triggers another run.
fn jq_filter() -> String {
    format!(
        "{{data: .data, binaryData: .binaryData, labels: .metadata.labels, \
         annotations: ((.metadata.annotations // {{}}) | with_entries(select(.key | startswith(\"{STATUS_ANNOTATION_PREFIX}\") | not)))}}"
    )
}

/// `namespaces`: comma-separated, empty for all. `schedule`: a crontab
/// [`check_crontab`] accepted, or `off` for no periodic resync.
/// `own_namespace`: where the operator's state ConfigMap lives.
#[must_use]
pub fn config(namespaces: Option<&str>, schedule: &str, own_namespace: &str) -> Value {
    let mut binding = json!({
        "name": KUBERNETES_BINDING,
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "executeHookOnEvent": ["Added", "Modified", "Deleted"],
        "labelSelector": {"matchLabels": {SELECTOR_LABEL: SELECTOR_VALUE}},
        "jqFilter": jq_filter(),
        "includeSnapshotsFrom": [KUBERNETES_BINDING, STATE_BINDING],
    });
    // Snapshot only: the record of owned connectors, for PRUNE=owned.
    let state = json!({
        "name": STATE_BINDING,
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "executeHookOnEvent": [],
        "executeHookOnSynchronization": false,
        "nameSelector": {"matchNames": [STATE_CONFIGMAP]},
        "namespace": {"nameSelector": {"matchNames": [own_namespace]}},
    });
    let names: Vec<&str> = namespaces.unwrap_or("").split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
    if let (false, Some(binding)) = (names.is_empty(), binding.as_object_mut()) {
        binding.insert("namespace".into(), json!({"nameSelector": {"matchNames": names}}));
    }
    let mut config = serde_json::Map::new();
    config.insert("configVersion".into(), json!("v1"));
    config.insert("kubernetes".into(), json!([binding, state]));
    let schedule = schedule.trim();
    if !schedule.eq_ignore_ascii_case("off") {
        let resync = json!({
            "name": SCHEDULE_BINDING,
            "crontab": schedule,
            "includeSnapshotsFrom": [KUBERNETES_BINDING, STATE_BINDING],
        });
        config.insert("schedule".into(), json!([resync]));
    }
    Value::Object(config)
}

/// A resync schedule shell-operator would refuse to start on.
#[derive(Debug)]
pub struct NotCrontab;

impl std::fmt::Display for NotCrontab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "not a crontab: it needs 5 or 6 fields (e.g. \"*/5 * * * *\"), a descriptor like \"@every 10m\", or \"off\"",
        )
    }
}

impl std::error::Error for NotCrontab {}

/// shell-operator refuses to start on a bad crontab; say why here instead,
/// where the setting is named. Accepts what robfig/cron v2 parses: 5 or 6
/// fields, `@every 1h`-style descriptors, an optional `TZ=` prefix, and `off`.
pub fn check_crontab(schedule: &str) -> Result<String, NotCrontab> {
    let schedule = schedule.trim();
    let spec = match schedule.strip_prefix("TZ=").or_else(|| schedule.strip_prefix("CRON_TZ=")) {
        Some(rest) => rest.split_once(' ').map_or("", |(_, s)| s.trim()),
        None => schedule,
    };
    let fields = spec.split_whitespace().count();
    if schedule.eq_ignore_ascii_case("off") || spec.starts_with('@') || fields == 5 || fields == 6 {
        return Ok(schedule.to_string());
    }
    Err(NotCrontab)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_and_schedule() {
        let c = config(Some(" a, b ,"), "*/10 * * * *", "ops");
        assert_eq!(c["kubernetes"][0]["namespace"], json!({"nameSelector": {"matchNames": ["a", "b"]}}));
        assert_eq!(c["schedule"][0]["crontab"], "*/10 * * * *");
        let c = config(Some(""), "off", "ops");
        assert!(c.get("schedule").is_none());
        assert!(c["kubernetes"][0].get("namespace").is_none());
        assert!(check_crontab("@every 1h").is_ok());
        assert!(check_crontab("TZ=Europe/Paris 0 * * * *").is_ok());
        assert!(check_crontab(" off").is_ok());
        assert!(check_crontab("every five minutes please").is_err());
    }
}
