//! What each operation does to the state, with Connect's status codes and texts.
use super::*;

// Handlers
// ---------------------------------------------------------------------------------------------------------

impl State {
    pub(crate) fn check_auth(&self, header: Option<&str>) -> Option<Reply> {
        let (scheme, credentials) = header.and_then(|h| h.split_once(' ')).unwrap_or(("", ""));
        match &self.auth {
            Auth::None => None,
            Auth::Basic(expected) if scheme.eq_ignore_ascii_case("basic") && credentials.trim() == expected => None,
            Auth::Bearer(expected) if scheme.eq_ignore_ascii_case("bearer") && credentials.trim() == expected => None,
            // JaasBasicAuthFilter aborts with a plain String entity; Jersey labels it with the matched method's
            // JSON type (inference), so the body is not JSON despite the Content-Type.
            Auth::Basic(_) => Some(Reply::new(401, Some(JSON), "User cannot access the resource.")),
            Auth::Bearer(_) => Some(Reply::error(401, "Unauthorized").header("WWW-Authenticate", "Bearer".into())),
        }
    }

    pub(crate) fn execute(&mut self, op: Op, call: &Call) -> Outcome {
        let name = call.name.as_str();
        let not_found = || Reply::error(404, format!("Connector {name} not found"));
        let unknown = || Reply::error(404, format!("Unknown connector {name}"));
        match op {
            Op::Plugins => {
                // KIP-769 (Kafka 3.2): `connectorsOnly=false` lists every kind; the default is true.
                let all =
                    !self.legacy && query_values(call.query, "connectorsOnly").first().is_some_and(|v| v == "false");
                let list: Vec<Value> = PLUGINS
                    .iter()
                    .chain(if all { OTHER_PLUGINS } else { &[] })
                    .map(|(class, kind, version, _)| json!({"class": class, "type": kind, "version": version}))
                    .collect();
                Ok(Reply::json(200, &Value::Array(list)))
            }
            Op::Validate => validate(call, &self.definitions),
            Op::List => Ok(self.list(call)),
            Op::Create => self.create(call),
            Op::Delete => {
                self.connectors.remove(name).ok_or_else(not_found)?;
                Ok(Reply::empty(204))
            }
            Op::GetConfig => {
                let c = self.connectors.get(name).ok_or_else(not_found)?;
                Ok(Reply::json(200, &json!(shown(&self.vendor, &c.config))))
            }
            Op::PutConfig => self.put_config(call),
            Op::Status => {
                let c = self
                    .readable_status(name)
                    .ok_or_else(|| Reply::error(404, format!("No status found for connector {name}")))?;
                Ok(Reply::json(200, &status_json(name, c)))
            }
            Op::Pause | Op::Resume | Op::Stop => {
                let c = self.connectors.get_mut(name).ok_or_else(unknown)?;
                let (target, status) = match op {
                    Op::Pause => ("PAUSED", 202),
                    Op::Resume => ("RUNNING", 202),
                    _ => ("STOPPED", 204),
                };
                c.set_target(target);
                Ok(Reply::empty(status))
            }
            Op::Restart => self.restart(call),
            Op::TaskRestart => {
                let c = self
                    .connectors
                    .get_mut(name)
                    .ok_or_else(|| Reply::error(404, format!("Unknown connector: {name}")))?;
                let id = call.task;
                let task = usize::try_from(id).ok().and_then(|i| c.tasks.get_mut(i));
                let task = task.ok_or_else(|| Reply::error(404, format!("Unknown task: {name}-{id}")))?;
                *task = Instance::new(c.target);
                Ok(Reply::empty(204))
            }
            // Before Kafka 3.5 the offsets routes do not exist.
            Op::Offsets | Op::AlterOffsets | Op::ResetOffsets if self.legacy => Err(Reply::unmatched(404)),
            Op::Offsets => {
                let c = self.connectors.get(name).ok_or_else(not_found)?;
                Ok(Reply::json(200, &json!({"offsets": c.offsets})))
            }
            Op::AlterOffsets | Op::ResetOffsets => {
                let mut wanted = Vec::new();
                if op == Op::AlterOffsets {
                    let body = read_json(call.body)?.map(|raw| serde_json::from_str::<Value>(raw.get()));
                    let offsets = body.and_then(Result::ok).and_then(|v| v.get("offsets").cloned());
                    match offsets.as_ref().and_then(Value::as_array) {
                        Some(list) if !list.is_empty() => wanted.clone_from(list),
                        _ => {
                            return Err(Reply::error(
                                400,
                                "Partitions / offsets need to be provided for an alter offsets request",
                            ))
                        }
                    }
                }
                let c = self.connectors.get_mut(name).ok_or_else(not_found)?;
                if c.target != "STOPPED" || !c.tasks.is_empty() {
                    return Err(Reply::error(400, format!("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint")));
                }
                if op == Op::ResetOffsets {
                    c.offsets.clear();
                }
                for entry in wanted {
                    // A null offset removes the partition; another replaces it.
                    c.offsets.retain(|o| o["partition"] != entry["partition"]);
                    if !entry["offset"].is_null() {
                        c.offsets.push(entry);
                    }
                }
                let verb = if op == Op::AlterOffsets { "altered" } else { "reset" };
                Ok(Reply::json(
                    200,
                    &json!({"message": format!("The offsets for this connector have been {verb} successfully")}),
                ))
            }
        }
    }

    /// Section 3.3: the name array, or with `expand` an object keyed by name. Only the repeated-parameter form
    /// works (`expand=status,info` matches nothing), and a connector without status is left out entirely.
    pub(crate) fn list(&mut self, call: &Call) -> Reply {
        let expand = query_values(call.query, "expand");
        if expand.is_empty() || self.expand_ignored {
            return Reply::json(200, &json!(self.connectors.keys().collect::<Vec<_>>()));
        }
        let mut out = Map::new();
        'connectors: for (name, c) in &mut self.connectors {
            let mut entry = Map::new();
            for e in &expand {
                match e.as_str() {
                    "status" if !c.read_status() => continue 'connectors,
                    "status" => entry.insert("status".into(), status_json(name, c)),
                    "info" => {
                        entry.insert("info".into(), info_json(name, &shown(&self.vendor, &c.config), c.tasks.len()))
                    }
                    _ => None, // "Ignoring unknown expansion type"
                };
            }
            out.insert(name.clone(), Value::Object(entry));
        }
        Reply::json(200, &Value::Object(out))
    }

    /// POST /connectors, in Connect's order: body binding (500), name check, validation, exists (409).
    pub(crate) fn create(&mut self, call: &Call) -> Outcome {
        let body = call.body;
        let raw = read_json(body)?.ok_or_else(|| npe(&format!("{CREATE_REQUEST}.name()"), "createRequest"))?;
        let (mut name, mut config, mut initial) = (None, None, "RUNNING");
        for (key, value) in object(body, raw, CREATE_REQUEST, "")? {
            let chain = format!("{CREATE_REQUEST}[\"{key}\"]");
            match key.as_str() {
                "name" => name = string_value(body, value, &chain)?,
                "config" if value.get() == "null" => config = None,
                "config" => config = Some(config_map(body, value, &format!("{chain}->"))?),
                "initial_state" => {
                    if let Some(s) = string_value(body, value, &chain)? {
                        let upper = s.to_uppercase();
                        initial = ["RUNNING", "PAUSED", "STOPPED"].into_iter().find(|t| *t == upper).ok_or_else(|| {
                            let problem = format!("Cannot construct instance of `{CREATE_REQUEST}$InitialState`, problem: No enum constant {CREATE_REQUEST}.InitialState.{upper}");
                            Reply::error(500, format!("{problem}\n{} (through reference chain: {chain})", at(body, value)))
                        })?;
                    }
                }
                _ => {
                    return Err(Reply::error(
                        500,
                        format!(
                            "Unrecognized field \"{key}\" (class {CREATE_REQUEST}), not marked as ignorable (3 known properties: \"name\", \"config\", \"initial_state\"])\n{} (through reference chain: {chain})",
                            at(body, value)
                        ),
                    ))
                }
            }
        }
        let name = java_trim(name.as_deref().unwrap_or("")).to_string();
        let mut config = config.ok_or_else(|| npe("java.util.Map.get(Object)", "connectorConfig"))?;
        put_name(&mut config, &name)?;
        check_config(&config)?;
        if self.connectors.contains_key(&name) {
            return Err(Reply::error(409, format!("Connector {name} already exists")));
        }
        let config = stored(config);
        self.add(&name, config.clone(), initial);
        Ok(Reply::json(201, &info_json(&name, &config, 0)).header("Location", call.location(&name)))
    }

    /// PUT /connectors/{name}/config: create (201) or replace (200), keeping the target state.
    pub(crate) fn put_config(&mut self, call: &Call) -> Outcome {
        let name = call.name.as_str();
        let raw = read_json(call.body)?.ok_or_else(|| npe("java.util.Map.get(Object)", "connectorConfig"))?;
        let mut config = config_map(call.body, raw, "")?;
        put_name(&mut config, name)?;
        check_config(&config)?;
        let config = stored(config);
        let info = |tasks| info_json(name, &config, tasks);
        match self.connectors.get_mut(name) {
            Some(c) => {
                let reply = Reply::json(200, &info(c.tasks.len()));
                c.reconfigure(config.clone());
                Ok(reply)
            }
            None => {
                let reply = Reply::json(201, &info(0)).header("Location", call.location(name));
                self.add(name, config.clone(), "RUNNING");
                Ok(reply)
            }
        }
    }

    /// Section 3.16: plain restart is synchronous (204); with parameters the plan comes back (202).
    pub(crate) fn restart(&mut self, call: &Call) -> Outcome {
        let name = call.name.as_str();
        let c = self.connectors.get_mut(name).ok_or_else(|| Reply::error(404, format!("Unknown connector: {name}")))?;
        let (include_tasks, only_failed) =
            (query_flag(call.query, "includeTasks"), query_flag(call.query, "onlyFailed"));
        if !include_tasks && !only_failed {
            c.state = Instance::new(c.target);
            return Ok(Reply::empty(204));
        }
        if !c.read_status() {
            return Err(Reply::error(404, format!("Status for connector {name} not found")));
        }
        let restart = |i: &mut Instance| {
            if !only_failed || i.state == "FAILED" {
                *i = Instance::new("RESTARTING");
            }
        };
        restart(&mut c.state);
        if include_tasks {
            c.tasks.iter_mut().for_each(restart);
        }
        c.restart_pending = true;
        Ok(Reply::json(202, &status_json(name, c)))
    }

    pub(crate) fn add(&mut self, name: &str, config: BTreeMap<String, String>, target: &'static str) {
        let mut c = Connector::new(config, target);
        c.status_missing = self.status_missing_after_create;
        self.connectors.insert(name.into(), c);
    }

    pub(crate) fn readable_status(&mut self, name: &str) -> Option<&Connector> {
        let c = self.connectors.get_mut(name)?;
        c.read_status().then_some(&*c)
    }
}
