//! `KUBERNETES_PATCH_PATH` as shell-operator v1.20.3 applies it: the v0 schema, then each operation.

use super::*;

impl Cluster {
    /// Applies a patch file as shell-operator does after a successful run, and returns the watch events its
    /// changes cause that run the hook (see [`Cluster::configure`] and `watch_event`), in order, e.g.
    /// "Modified streaming/orders". Every document is validated against the v0 schema first, and an invalid
    /// one applies nothing. Then the operations run in order, each is attempted, and any failure is an `Err`
    /// (the run fails) after the others were applied, as shell-operator does.
    pub fn apply_patch_file(&mut self, text: &str) -> Result<Vec<String>, String> {
        let documents = documents(text)?;
        let specs = documents
            .iter()
            .enumerate()
            .map(|(i, d)| operation_spec(d).map_err(|e| format!("document {}: {e}", i + 1)));
        let specs: Vec<Value> = specs.collect::<Result<_, _>>()?;
        let invalid: Vec<String> = specs
            .iter()
            .enumerate()
            .filter_map(|(i, spec)| {
                let errors: Vec<String> =
                    patch_schema().iter_errors(spec).map(|e| format!("{e} at '{}'", e.instance_path())).collect();
                (!errors.is_empty()).then(|| format!("document {}: {spec}: {}", i + 1, errors.join("; ")))
            })
            .collect();
        if !invalid.is_empty() {
            return Err(format!("kubernetes patch spec is not valid, nothing was applied:\n{}", invalid.join("\n")));
        }
        let (mut events, mut errors) = (Vec::new(), Vec::new());
        for (i, spec) in specs.iter().enumerate() {
            match self.execute(spec) {
                Ok(change) => {
                    let mut fired: Vec<String> =
                        change.iter().flat_map(|c| self.bindings.iter().filter_map(|b| watch_event(b, c))).collect();
                    fired.dedup();
                    events.extend(fired);
                }
                Err(e) => errors.push(format!("document {} ({}): {e}", i + 1, describe(spec))),
            }
        }
        if errors.is_empty() {
            Ok(events)
        } else {
            Err(errors.join("\n"))
        }
    }

    pub(crate) fn execute(&mut self, spec: &Value) -> Result<Option<Change>, String> {
        let text = |field: &str| spec[field].as_str().unwrap_or("");
        if !text("subresource").is_empty() {
            // ConfigMaps and Events have no subresources.
            return Err(format!(
                "the server could not find the requested resource (subresource {:?})",
                text("subresource")
            ));
        }
        let operation = text("operation");
        match operation {
            "Create" | "CreateIfNotExists" | "CreateOrUpdate" => {
                let object = parsed(&spec["object"])?;
                match self.create(object.clone()) {
                    Ok(change) => Ok(Some(change)),
                    Err(ApiError::Exists(_)) if operation == "CreateIfNotExists" => Ok(None),
                    Err(ApiError::Exists(_)) if operation == "CreateOrUpdate" => {
                        // GET, then PUT the given object with the current resourceVersion.
                        let key = key_of(&object)?;
                        let mut object = object;
                        object["metadata"]["resourceVersion"] =
                            self.objects[&key].1["metadata"]["resourceVersion"].clone();
                        self.update(&key, object).map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            // NotFound is ignored.
            "Delete" | "DeleteInBackground" | "DeleteNonCascading" => Ok(self.remove(&address(spec)?)),
            _ => {
                let key = address(spec)?;
                let Some((_, old)) = self.objects.get(&key).cloned() else {
                    if spec["ignoreMissingObject"] == true {
                        return Ok(None);
                    }
                    return Err(not_found(&key).to_string());
                };
                let new = match operation {
                    "MergePatch" => {
                        let mut new = old;
                        merge_patch(&mut new, &parsed(&spec["mergePatch"])?);
                        new
                    }
                    "JSONPatch" => {
                        let mut new = old;
                        json_patch(&mut new, &parsed(&spec["jsonPatch"])?)?;
                        new
                    }
                    _ => match jq(text("jqFilter"), &old)?.as_slice() {
                        [one] => one.clone(),
                        other => {
                            return Err(format!("JQPatch: the jqFilter must yield one object, not {}", other.len()))
                        }
                    },
                };
                self.update(&key, new).map_err(|e| e.to_string())
            }
        }
    }

    // The API server.

    pub(crate) fn create(&mut self, mut object: Value) -> Result<Change, ApiError> {
        // generateName: the server picks the name.
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            let unnamed = meta.get("name").and_then(Value::as_str).unwrap_or("").is_empty();
            if let (true, Some(prefix)) = (unnamed, meta.get("generateName").and_then(Value::as_str)) {
                let name = format!("{prefix}{}", suffix(self.serial + 1));
                meta.insert("name".into(), json!(name));
            }
        }
        let mut object = Self::admit(object, None)?;
        let key = key_of(&object).map_err(ApiError::Refused)?;
        if object["metadata"].get("resourceVersion").is_some() {
            return Err(ApiError::Refused("resourceVersion should not be set on objects to be created".into()));
        }
        if !self.namespaces.contains(&key.1) {
            return Err(ApiError::NotFound(format!("namespaces {:?} not found", key.1)));
        }
        if self.objects.contains_key(&key) {
            let resource = kind_named(&key.0).unwrap().resource;
            return Err(ApiError::Exists(format!("{resource} {:?} already exists", key.2)));
        }
        self.serial += 1;
        self.revision += 1;
        let meta = object["metadata"].as_object_mut().unwrap();
        meta.insert("uid".into(), json!(format!("00000000-0000-4000-8000-{:012x}", self.serial)));
        meta.insert("resourceVersion".into(), json!(self.revision.to_string()));
        meta.insert("creationTimestamp".into(), json!(now()));
        self.objects.insert(key.clone(), (self.serial, object.clone()));
        Ok((key, None, Some(object)))
    }

    /// A PUT. `Ok(None)`: nothing changed, so no new resourceVersion and no watch event.
    pub(crate) fn update(&mut self, key: &Key, object: Value) -> Result<Option<Change>, ApiError> {
        let Some((serial, old)) = self.objects.get(key).cloned() else { return Err(not_found(key)) };
        let mut object = Self::admit(object, Some(&old))?;
        if key_of(&object).map_err(ApiError::Refused)? != *key {
            return Err(ApiError::Refused(format!("the object's kind, namespace or name differs from {key:?}")));
        }
        let meta = object["metadata"].as_object_mut().unwrap();
        if meta.get("resourceVersion").is_some_and(|version| *version != old["metadata"]["resourceVersion"]) {
            let resource = kind_named(&key.0).unwrap().resource;
            return Err(ApiError::Refused(format!(
                "Operation cannot be fulfilled on {resource} {:?}: the object has been modified; please apply your \
                 changes to the latest version and try again",
                key.2
            )));
        }
        for field in ["uid", "resourceVersion", "creationTimestamp"] {
            meta.insert(field.into(), old["metadata"][field].clone());
        }
        if object == old {
            return Ok(None);
        }
        self.revision += 1;
        object["metadata"]["resourceVersion"] = json!(self.revision.to_string());
        self.objects.insert(key.clone(), (serial, object.clone()));
        Ok(Some((key.clone(), Some(old), Some(object))))
    }

    pub(crate) fn remove(&mut self, key: &Key) -> Option<Change> {
        let (_, old) = self.objects.remove(key)?;
        self.revision += 1;
        Some((key.clone(), Some(old), None))
    }

    /// What the API server does with a written object: decode it into the Go type (unknown fields and empty
    /// values dropped, wrong types refused), then validate it as k8s.io/kubernetes `pkg/apis/core/validation`.
    pub(crate) fn admit(object: Value, old: Option<&Value>) -> Result<Value, ApiError> {
        let refuse = |message: String| ApiError::Refused(message);
        let Value::Object(mut map) = object else { return Err(refuse(format!("not a JSON object: {object}"))) };
        match map.get("apiVersion") {
            None => return Err(refuse("Object 'apiVersion' is missing".into())),
            Some(version) if version != "v1" => {
                return Err(refuse(format!("the fake cluster serves core/v1 only, not apiVersion {version}")))
            }
            _ => {}
        }
        let Some(kind) = KINDS.iter().find(|kind| map.get("kind").is_some_and(|k| k == kind.name)) else {
            return Err(refuse(format!(
                "no kind {} is registered for version \"v1\"",
                map.get("kind").unwrap_or(&Value::Null)
            )));
        };
        map.retain(|field, value| {
            !value.is_null() && (listed("apiVersion kind metadata", field) || listed(kind.fields, field))
        });
        let Some(Value::Object(meta)) = map.get_mut("metadata") else {
            return Err(refuse(format!("{} is invalid: metadata: Required value", kind.name)));
        };
        meta.retain(|field, value| listed(METADATA, field) && !value.is_null() && *value != "");
        let mut errors = Vec::new();
        for field in ["name", "generateName", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if meta.get(field).is_some_and(|v| !v.is_string()) {
                errors.push(format!("metadata.{field}: must be a string"));
            }
        }
        string_map(&mut errors, "metadata", meta, "labels");
        string_map(&mut errors, "metadata", meta, "annotations");
        drop_empty(meta, &["labels", "annotations"]);
        let text = |field: &str| meta.get(field).and_then(Value::as_str).unwrap_or("").to_string();
        let (name, namespace) = (text("name"), text("namespace"));
        if name.is_empty() {
            errors.push("metadata.name: Required value: name or generateName is required".into());
        } else if !dns_subdomain(&name) {
            errors.push(format!("metadata.name: Invalid value: {name:?}: must be a lowercase RFC 1123 subdomain"));
        }
        if namespace.is_empty() {
            errors.push("metadata.namespace: Required value".into());
        }
        for (key, value) in meta.get("labels").and_then(Value::as_object).into_iter().flatten() {
            if !qualified_name(key) {
                errors.push(format!("metadata.labels: Invalid value: {key:?}: not a qualified name"));
            }
            if !value.as_str().is_some_and(|v| v.is_empty() || name_part(v)) {
                errors.push(format!("metadata.labels: Invalid value: {value}: not a valid label value"));
            }
        }
        let annotations = meta.get("annotations").and_then(Value::as_object);
        let mut size = 0;
        for (key, value) in annotations.into_iter().flatten() {
            size += key.len() + value.as_str().map_or(0, str::len);
            if !qualified_name(&key.to_ascii_lowercase()) {
                errors.push(format!("metadata.annotations: Invalid value: {key:?}: not a qualified name"));
            }
        }
        if size > 256 * 1024 {
            errors.push("metadata.annotations: Too long: must have at most 262144 bytes".into());
        }
        match kind.name {
            "ConfigMap" => validate_configmap(&mut map, old, &mut errors),
            _ => validate_event(&map, &namespace, &mut errors),
        }
        if !errors.is_empty() {
            return Err(refuse(format!("{} {name:?} is invalid: {}", kind.name, errors.join("; "))));
        }
        Ok(Value::Object(map))
    }
}

/// The documents of a patch file: a stream of JSON values, or else multi-document YAML.
pub(crate) fn documents(text: &str) -> Result<Vec<Value>, String> {
    let json = serde_json::Deserializer::from_str(text).into_iter::<Value>().collect::<Result<Vec<_>, _>>();
    json.or_else(|json| {
        let yaml = serde_yaml_ng::Deserializer::from_str(text).map(Value::deserialize);
        let yaml = yaml.filter(|doc| !matches!(doc, Ok(Value::Null))).collect::<Result<Vec<_>, _>>();
        yaml.map_err(|yaml| format!("the patch file is neither a JSON stream ({json}) nor YAML ({yaml})"))
    })
}

/// A JSON document decoded into a Go struct: an object, or `null` (all fields zero).
pub(crate) fn go_struct(document: &Value, go_type: &str) -> Result<Map<String, Value>, String> {
    match document {
        Value::Object(map) => Ok(map.clone()),
        Value::Null => Ok(Map::new()),
        other => Err(format!("cannot unmarshal {other} into Go value of type {go_type}")),
    }
}

/// A document as shell-operator validates it: decoded into its Go struct `OperationSpec` and encoded again,
/// so unknown keys and empty strings are gone and `ignoreMissingObject` and `ignoreHookError` are always there.
pub(crate) fn operation_spec(document: &Value) -> Result<Value, String> {
    let map = &go_struct(document, "OperationSpec")?;
    let field = |key: &str| map.get(key).filter(|v| !v.is_null());
    let mut spec = Map::new();
    for key in ["operation", "apiVersion", "kind", "namespace", "name", "subresource", "object", "jqFilter"] {
        match field(key) {
            Some(Value::String(s)) if s.is_empty() && key != "operation" => {}
            Some(value) if key == "object" || value.is_string() => {
                spec.insert(key.into(), value.clone());
            }
            Some(value) => {
                return Err(format!("cannot unmarshal {value} into field OperationSpec.{key} of type string"))
            }
            None if key == "operation" => {
                spec.insert(key.into(), json!(""));
            }
            None => {}
        }
    }
    for key in ["mergePatch", "jsonPatch"] {
        if let Some(value) = field(key) {
            spec.insert(key.into(), value.clone());
        }
    }
    for key in ["ignoreMissingObject", "ignoreHookError"] {
        let value = field(key).map_or(Some(false), Value::as_bool);
        let value = value
            .ok_or_else(|| format!("cannot unmarshal {} into field OperationSpec.{key} of type bool", map[key]))?;
        spec.insert(key.into(), json!(value));
    }
    Ok(Value::Object(spec))
}

pub(crate) fn patch_schema() -> &'static jsonschema::Validator {
    pub(crate) static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kubernetes-patch-schema-v0.yaml");
        let schema: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::draft4::new(&schema).unwrap()
    })
}

pub(crate) fn describe(spec: &Value) -> String {
    let text = |field: &str| spec[field].as_str().unwrap_or("").to_string();
    let (kind, namespace, name) = match spec.get("object").map(parsed) {
        Some(Ok(object)) => {
            (object["kind"].clone(), object["metadata"]["namespace"].clone(), object["metadata"]["name"].clone())
        }
        _ => (json!(text("kind")), json!(text("namespace")), json!(text("name"))),
    };
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    format!("{} {} {}/{}", text(&spec["operation"]), text(&kind), text(&namespace), text(&name))
}

/// `object`, `mergePatch` and `jsonPatch` may be given as a value or as JSON or YAML text.
pub(crate) fn parsed(value: &Value) -> Result<Value, String> {
    match value {
        Value::String(text) => serde_yaml_ng::from_str(text).map_err(|e| format!("cannot parse {text:?}: {e}")),
        other => Ok(other.clone()),
    }
}

/// The object a patch or delete operation names. An empty namespace addresses a cluster-scoped object, which
/// a namespaced kind has not: the API server answers NotFound.
pub(crate) fn address(spec: &Value) -> Result<Key, String> {
    let text = |field: &str| spec[field].as_str().unwrap_or("").to_string();
    let kind =
        kind_named(&text("kind")).ok_or_else(|| format!("the fake cluster does not serve kind {:?}", text("kind")))?;
    if !matches!(text("apiVersion").as_str(), "" | "v1") {
        return Err(format!("no matches for kind {:?} in version {:?}", text("kind"), text("apiVersion")));
    }
    Ok((kind.name.to_string(), text("namespace"), text("name")))
}

pub(crate) fn key(kind: &str, namespace: &str, name: &str) -> Key {
    let kind = kind_named(kind).unwrap_or_else(|| panic!("the fake cluster does not serve kind {kind:?}"));
    (kind.name.to_string(), namespace.to_string(), name.to_string())
}

pub(crate) fn key_of(object: &Value) -> Result<Key, String> {
    let kind = kind_of(object).ok_or_else(|| format!("the fake cluster does not serve kind {}", object["kind"]))?;
    let text = |field: &str| object["metadata"][field].as_str().unwrap_or("").to_string();
    Ok((kind.name.to_string(), text("namespace"), text("name")))
}
