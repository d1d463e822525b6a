//! Config checks as Connect makes them, and the JSON of infos and statuses.
use super::*;

/// PUT /connector-plugins/{plugin}/config/validate (section 3.19): a 200 report even when invalid.
pub(crate) fn validate(call: &Call, definitions: &BTreeMap<String, Vec<(String, String)>>) -> Outcome {
    let raw = read_json(call.body)?.ok_or_else(|| npe("java.util.Map.get(Object)", "connectorConfig"))?;
    let config = config_map(call.body, raw, "")?;
    let class = lookup(&config, "connector.class").flatten();
    let normalized = |s: &str| s.strip_suffix("Connector").unwrap_or(s).to_string();
    if let Some(class) = class.filter(|c| !normalized(c).ends_with(&normalized(&call.name))) {
        return Err(Reply::error(
            400,
            format!("Included connector type {class} does not match request type {}", call.name),
        ));
    }
    // Errors thrown inside validation are not unwrapped by ConnectorPluginsResource: 500 with the class name.
    if let Some(message) = class_error(&config) {
        return Err(Reply::error(
            500,
            format!("org.apache.kafka.connect.runtime.rest.errors.BadRequestException: {message}"),
        ));
    }
    let errors = field_errors(&config);
    let errors_of = |key: &str| errors.iter().filter(|(k, _)| k == key).map(|(_, e)| e.clone()).collect::<Vec<_>>();
    let value = |key: &str, errors: Vec<String>| json!({"name": key, "value": lookup(&config, key).flatten(), "recommended_values": [], "errors": errors, "visible": true});
    let common = [
        ("name", "STRING", true, None, "Connector name"),
        ("connector.class", "STRING", true, None, "Connector class"),
        ("tasks.max", "INT", false, Some("1"), "Tasks max"),
    ];
    let mut configs: Vec<Value> = common
        .iter()
        .enumerate()
        .map(|(order, (key, kind, required, default, display))| {
            let definition = json!({"name": key, "type": kind, "required": required, "default_value": default,
                "importance": "HIGH", "documentation": "", "group": "Common", "order": order + 1, "width": "MEDIUM",
                "display_name": display, "dependents": []});
            json!({"definition": definition, "value": value(key, errors_of(key))})
        })
        .collect();
    // The plugin's own keys, each with its value as ConfigDef.convertToString gives it: a PASSWORD's
    // Password.toString() is `[hidden]`.
    let own = class.and_then(plugin).and_then(|p| definitions.get(p.0)).cloned().unwrap_or_default();
    for (order, (key, kind)) in own.iter().enumerate() {
        let definition = json!({"name": key, "type": kind, "required": false, "default_value": null,
            "importance": "HIGH", "documentation": "", "group": null, "order": order + 1, "width": "NONE",
            "display_name": key, "dependents": []});
        let mut value = value(key, errors_of(key));
        if kind == "PASSWORD" && !value["value"].is_null() {
            value["value"] = json!("[hidden]");
        }
        configs.push(json!({"definition": definition, "value": value}));
    }
    // Null values of keys no ConfigDef defines are reported with a null definition.
    let defined = |k: &str| common.iter().any(|c| c.0 == k) || own.iter().any(|(d, _)| d == k);
    for (key, _) in config.iter().filter(|(k, v)| v.is_none() && !defined(k)) {
        configs.push(json!({"definition": null, "value": value(key, errors_of(key))}));
    }
    let report = json!({"name": class, "error_count": errors.len(), "groups": ["Common"], "configs": configs});
    Ok(Reply::json(200, &report))
}

/// A config as Jackson binds it: keys in document order, last duplicate wins, `None` for JSON null.
pub(crate) type Entries = Vec<(String, Option<String>)>;

pub(crate) fn lookup<'a>(config: &'a Entries, key: &str) -> Option<Option<&'a str>> {
    config.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_deref())
}

/// `checkAndPutConnectorConfigName`: a `name` in the config must equal `name`; absent (or null) gets `name`.
pub(crate) fn put_name(config: &mut Entries, name: &str) -> Result<(), Reply> {
    match config.iter_mut().find(|(k, _)| k == "name") {
        Some((_, Some(included))) if included != name => Err(Reply::error(
            400,
            format!("Connector name configuration ({included}) doesn't match connector name in the URL ({name})"),
        )),
        Some((_, Some(_))) => Ok(()),
        Some((_, value)) => {
            *value = Some(name.into());
            Ok(())
        }
        None => {
            config.push(("name".into(), Some(name.into())));
            Ok(())
        }
    }
}

pub(crate) fn check_config(config: &Entries) -> Result<(), Reply> {
    if let Some(message) = class_error(config) {
        return Err(Reply::error(400, message));
    }
    let errors = field_errors(config);
    if errors.is_empty() {
        return Ok(());
    }
    let lines: Vec<&str> = errors.iter().map(|(_, e)| e.as_str()).collect();
    Err(Reply::error(400, format!(
        "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
        lines.len(),
        lines.join("\n")
    )))
}

/// The connector type is looked up before anything else is validated.
pub(crate) fn class_error(config: &Entries) -> Option<String> {
    let Some(class) = lookup(config, "connector.class").flatten() else {
        // The pre-Aug-2026 text: the whole config, secrets included, as Java's Map.toString prints it.
        let map: Vec<String> = config.iter().map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("null"))).collect();
        return Some(format!("Connector config {{{}}} contains no connector type", map.join(", ")));
    };
    if plugin(class).is_some() {
        return None;
    }
    let available: Vec<String> = PLUGINS
        .iter()
        .map(|(c, kind, version, _)| format!("PluginDesc{{klass=class {c}, name='{c}', version='{version}', encodedVersion={version}, type={kind}, typeName='{kind}', location='classpath'}}"))
        .collect();
    Some(format!(
        "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
        available.join(", ")
    ))
}

/// ConfigException texts, in definition order (name, tasks.max), then the null values.
pub(crate) fn field_errors(config: &Entries) -> Vec<(String, String)> {
    let mut errors = vec![];
    let mut error = |key: &str, message: String| errors.push((key.to_string(), message));
    match lookup(config, "name") {
        None => error("name", "Missing required configuration \"name\" which has no default value.".into()),
        Some(Some(raw)) => {
            // ConfigDef trims STRING values before NonEmptyStringWithoutControlChars sees them.
            let value = java_trim(raw);
            let controls: Vec<String> =
                value.chars().filter(|c| c.is_control()).map(|c| (c as u32).to_string()).collect();
            if value.is_empty() {
                error("name", format!("Invalid value {value} for configuration name: String may not be empty"));
            } else if !controls.is_empty() {
                error("name", format!("Invalid value {value} for configuration name: String may not contain control sequences but had the following ASCII chars: {}", controls.join(", ")));
            }
        }
        Some(None) => {}
    }
    if let Some(Some(raw)) = lookup(config, "tasks.max") {
        match java_trim(raw).parse::<i32>() {
            Err(_) => {
                error("tasks.max", format!("Invalid value {raw} for configuration tasks.max: Not a number of type INT"))
            }
            Ok(n) if n < 1 => {
                error("tasks.max", format!("Invalid value {n} for configuration tasks.max: Value must be at least 1"))
            }
            Ok(_) => {}
        }
    }
    for (key, _) in config.iter().filter(|(_, v)| v.is_none()) {
        error(key, "Null value can not be supplied as the configuration value.".into());
    }
    errors
}

pub(crate) fn stored(config: Entries) -> BTreeMap<String, String> {
    config.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
}

/// Connect resolves the class name, the simple name and the simple name without `Connector`.
pub(crate) fn plugin(
    class: &str,
) -> Option<&'static (&'static str, &'static str, &'static str, &'static [&'static str])> {
    PLUGINS.iter().find(|(full, _, _, aliases)| {
        let simple = full.rsplit('.').next().unwrap_or(full);
        [*full, simple, simple.strip_suffix("Connector").unwrap_or(simple)].contains(&class) || aliases.contains(&class)
    })
}

pub(crate) fn connector_type(class: Option<&str>) -> &'static str {
    if let Some(p) = class.and_then(plugin) {
        return p.1;
    }
    match class {
        Some(c) if c.contains("Sink") => "sink",
        Some(c) if c.contains("Source") => "source",
        _ => "unknown",
    }
}

/// Java's String.trim(): strips every char <= U+0020 at both ends.
pub(crate) fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

pub(crate) fn info_json(name: &str, config: &BTreeMap<String, String>, tasks: usize) -> Value {
    let tasks: Vec<Value> = (0..tasks).map(|i| json!({"connector": name, "task": i})).collect();
    let kind = connector_type(config.get("connector.class").map(String::as_str));
    json!({"name": name, "config": config, "tasks": tasks, "type": kind})
}

pub(crate) fn status_json(name: &str, c: &Connector) -> Value {
    let tasks: Vec<Value> = c.tasks.iter().enumerate().map(|(i, t)| instance_json(t, Some(i as i32))).collect();
    json!({"name": name, "connector": instance_json(&c.state, None), "tasks": tasks, "type": c.kind()})
}

pub(crate) fn instance_json(i: &Instance, id: Option<i32>) -> Value {
    // Kafka 4.1.2, met in the end-to-end suite, also says the plugin's version
    // beside each state (`"version": "4.1.2"`); the hook ignores it.
    let mut v = json!({"state": i.state, "worker_id": WORKER_ID, "version": VERSION});
    if let Some(id) = id {
        v["id"] = id.into();
    }
    if let Some(trace) = &i.trace {
        v["trace"] = trace.as_str().into(); // omitted when empty (@JsonInclude(NON_EMPTY))
    }
    v
}
