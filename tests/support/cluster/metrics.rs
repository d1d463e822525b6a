//! `METRICS_PATH` as shell-operator applies it: groups, expiry, and names Prometheus can serve.

use super::*;

impl Cluster {
    /// Applies a metrics file as shell-operator does after a successful run: a stream of JSON objects; an
    /// operation without `group` is in the group "connect-operator"; an unknown or missing action is dropped;
    /// then every operation is validated (an invalid one applies nothing); then each group of the batch is
    /// expired and its operations applied. Stricter than shell-operator: a metric or label name Prometheus
    /// cannot serve is an error here.
    pub fn apply_metrics_file(&mut self, text: &str) -> Result<(), String> {
        let mut operations = Vec::new();
        for (i, document) in serde_json::Deserializer::from_str(text).into_iter::<Value>().enumerate() {
            let document = document.map_err(|e| format!("got bad metrics: {e}"))?;
            let operation =
                MetricOperation::decode(&document).map_err(|e| format!("got bad metrics: line {}: {e}", i + 1))?;
            if ["set", "add", "observe", "expire"].contains(&operation.action.as_str()) {
                operations.push(operation);
            } else {
                eprintln!("cluster: metrics line {} dropped: unknown action {:?}", i + 1, operation.action);
            }
        }
        let errors: Vec<String> = operations.iter().filter_map(MetricOperation::invalid).collect();
        if !errors.is_empty() {
            return Err(format!("metrics not applied: {}", errors.join("; ")));
        }
        let mut groups: Vec<&str> = Vec::new();
        for operation in &operations {
            if !groups.contains(&operation.group.as_str()) {
                groups.push(&operation.group);
            }
        }
        for group in groups {
            self.series.retain(|_, (g, _)| g != group);
            for operation in operations.iter().filter(|o| o.group == group) {
                self.apply_metric(operation);
            }
        }
        Ok(())
    }

    pub(crate) fn apply_metric(&mut self, operation: &MetricOperation) {
        let (name, group, value) = (&operation.name, &operation.group, operation.value.unwrap_or_default());
        let mut labels = operation.labels.clone();
        labels.insert("hook".into(), HOOK.into());
        let mut bump = |name: String, labels: Labels, by: f64, set: bool| {
            let series = self.series.entry((name, labels)).or_insert((group.clone(), 0.0));
            *series = (group.clone(), if set { by } else { series.1 + by });
        };
        match operation.action.as_str() {
            "set" => bump(name.clone(), labels, value, true),
            "add" => bump(name.clone(), labels, value, false),
            "observe" => {
                let buckets =
                    self.buckets.entry(name.clone()).or_insert_with(|| operation.buckets.clone().unwrap()).clone();
                for bound in buckets.into_iter().chain([f64::INFINITY]) {
                    let mut labels = labels.clone();
                    labels.insert("le".into(), if bound.is_infinite() { "+Inf".into() } else { bound.to_string() });
                    bump(format!("{name}_bucket"), labels, f64::from(u8::from(value <= bound)), false);
                }
                bump(format!("{name}_sum"), labels.clone(), value, false);
                bump(format!("{name}_count"), labels, 1.0, false);
            }
            _ => self.series.retain(|_, (g, _)| g != group),
        }
    }

    /// The value of the series with exactly these labels (besides `hook`, which shell-operator adds to all).
    /// A histogram `h` is served as `h_bucket` (with `le`), `h_sum` and `h_count`.
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut labels: Labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        labels.insert("hook".into(), HOOK.into());
        self.series.get(&(name.to_string(), labels)).map(|(_, value)| *value)
    }

    /// Every series of a metric: its labels (without `hook`) and value.
    pub fn series(&self, name: &str) -> Vec<(Labels, f64)> {
        let series = self.series.iter().filter(|((n, _), _)| n == name);
        series
            .map(|((_, labels), (_, value))| {
                (labels.clone().into_iter().filter(|(k, _)| k != "hook").collect(), *value)
            })
            .collect()
    }

    pub fn metric_names(&self) -> Vec<String> {
        let names: BTreeSet<&String> = self.series.keys().map(|(name, _)| name).collect();
        names.into_iter().cloned().collect()
    }
}

/// One line of a metrics file, decoded as shell-operator's Go struct `MetricOperation`.
pub(crate) struct MetricOperation {
    pub(crate) name: String,
    pub(crate) action: String,
    pub(crate) value: Option<f64>,
    pub(crate) buckets: Option<Vec<f64>>,
    pub(crate) labels: Labels,
    pub(crate) group: String,
}

impl MetricOperation {
    pub(crate) fn decode(document: &Value) -> Result<MetricOperation, String> {
        let map = &go_struct(document, "MetricOperation")?;
        let field = |key: &str| map.get(key).filter(|v| !v.is_null());
        let wrong = |key: &str, go: &str| format!("cannot unmarshal {} into field {key} of type {go}", map[key]);
        let text = |key: &str| match field(key) {
            None => Ok(String::new()),
            Some(value) => value.as_str().map(str::to_string).ok_or_else(|| wrong(key, "string")),
        };
        let number = |key: &str| field(key).map(|v| v.as_f64().ok_or_else(|| wrong(key, "float64"))).transpose();
        let mut operation = MetricOperation {
            name: text("name")?,
            action: text("action")?,
            value: number("value")?,
            buckets: field("buckets")
                .map(|v| {
                    v.as_array()
                        .and_then(|a| a.iter().map(Value::as_f64).collect())
                        .ok_or_else(|| wrong("buckets", "[]float64"))
                })
                .transpose()?,
            labels: field("labels")
                .map(|v| {
                    let labels = v
                        .as_object()
                        .and_then(|m| m.iter().map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect());
                    labels.ok_or_else(|| wrong("labels", "map[string]string"))
                })
                .transpose()?
                .unwrap_or_default(),
            group: text("group")?,
        };
        // The deprecated shortcuts `"set": N` and `"add": N`.
        match (number("set")?, number("add")?) {
            (Some(set), None) => (operation.action, operation.value) = ("set".into(), Some(set)),
            (None, Some(add)) => (operation.action, operation.value) = ("add".into(), Some(add)),
            _ => {}
        }
        if operation.group.is_empty() {
            operation.group = HOOK.into();
        }
        Ok(operation)
    }

    /// The checks of deckhouse's metrics-storage (ValidateMetricOperation), plus Prometheus names.
    pub(crate) fn invalid(&self) -> Option<String> {
        let mut errors = Vec::new();
        if self.name.is_empty() && self.action != "expire" {
            errors.push("'name' is required when action is not 'expire'".to_string());
        }
        if self.value.is_none() && self.action != "expire" {
            errors.push(format!("'value' is required for action '{}'", self.action));
        }
        if self.buckets.is_none() && self.action == "observe" {
            errors.push("'buckets' is required for action 'observe'".into());
        }
        let name_ok = |name: &str, colon: bool| {
            let mut chars = name.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
        };
        if !self.name.is_empty() && !name_ok(&self.name, true) {
            errors.push(format!("{:?} is not a valid Prometheus metric name", self.name));
        }
        for label in self.labels.keys().filter(|label| !name_ok(label, false) || label.starts_with("__")) {
            errors.push(format!("{label:?} is not a valid Prometheus label name"));
        }
        (!errors.is_empty()).then(|| format!("{} (metric {:?}, group {:?})", errors.join(", "), self.name, self.group))
    }
}
