//! The fake's state: connectors with their configs, target states and tasks, and what a vendor adds.
use super::*;

#[derive(Default)]
pub(crate) struct State {
    pub(crate) connectors: BTreeMap<String, Connector>,
    /// Confluent Platform / Cloud behaviour in what GET returns (reference sections 7 and 8).
    pub(crate) vendor: Vendor,
    pub(crate) requests: Vec<Request>,
    pub(crate) latency: Duration,
    pub(crate) expand_ignored: bool,
    pub(crate) auth: Auth,
    pub(crate) status_missing_after_create: usize,
    pub(crate) faults: Vec<(Match, Fault, usize)>,
    /// A worker before Kafka 3.5: no offsets endpoints, and `connectorsOnly` ignored.
    pub(crate) legacy: bool,
    /// Keys each plugin's ConfigDef defines beyond the common ones, by full class: key and type
    /// (`STRING`, `PASSWORD`, ...), as `config/validate` reports them.
    pub(crate) definitions: BTreeMap<String, Vec<(String, String)>>,
}

/// What a Confluent worker changes in the configs it returns.
#[derive(Default, Clone)]
pub(crate) struct Vendor {
    /// Sensitive values are returned as this (`****************`, or bullets).
    pub(crate) mask: Option<&'static str>,
    /// Server keys added to every returned config (`__internal.config.version`, `cloud.provider`, ...).
    pub(crate) added: Vec<(String, String)>,
}

/// A config as a Confluent worker returns it.
pub(crate) fn shown(vendor: &Vendor, config: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let sensitive = |k: &str| {
        let k = k.to_ascii_lowercase();
        k.contains("password") || k.contains("secret") || k.ends_with("api.key") || k.contains("keyfile")
    };
    let mut shown: BTreeMap<String, String> = config
        .iter()
        .map(|(k, v)| match vendor.mask {
            Some(mask) if sensitive(k) => (k.clone(), mask.to_string()),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    shown.extend(vendor.added.iter().cloned());
    shown
}

#[derive(Default)]
pub(crate) enum Auth {
    #[default]
    None,
    /// Expected base64 of `user:password`.
    Basic(String),
    Bearer(String),
}

/// The status of a connector or task instance.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Instance {
    pub(crate) state: String,
    pub(crate) trace: Option<String>,
}

impl Instance {
    pub(crate) fn new(state: &str) -> Instance {
        Instance { state: state.into(), trace: (state == "FAILED").then(|| TRACE.into()) }
    }
}

pub(crate) struct Connector {
    pub(crate) config: BTreeMap<String, String>,
    /// RUNNING, PAUSED or STOPPED: what pause/resume/stop asked for, kept across config updates.
    pub(crate) target: &'static str,
    pub(crate) state: Instance,
    pub(crate) tasks: Vec<Instance>,
    /// Status reads left that answer 404 because the connector has not written its status yet.
    pub(crate) status_missing: usize,
    /// A restart with parameters was accepted: RESTARTING instances come back on the next status read.
    pub(crate) restart_pending: bool,
    /// The `offsets` array `GET .../offsets` returns, in partition order.
    pub(crate) offsets: Vec<Value>,
}

impl Connector {
    pub(crate) fn new(config: BTreeMap<String, String>, target: &'static str) -> Connector {
        let mut c = Connector {
            config,
            target,
            state: Instance::new(target),
            tasks: vec![],
            status_missing: 0,
            restart_pending: false,
            offsets: Vec::new(),
        };
        c.regenerate_tasks();
        c
    }

    /// Tasks come from `tasks.max` (default 1); a STOPPED connector has none.
    pub(crate) fn regenerate_tasks(&mut self) {
        let n = self.config.get("tasks.max").and_then(|v| v.trim().parse::<usize>().ok()).filter(|n| *n > 0);
        let n = if self.target == "STOPPED" { 0 } else { n.unwrap_or(1) };
        self.tasks = vec![Instance::new(self.target); n];
    }

    pub(crate) fn set_target(&mut self, target: &'static str) {
        let previous = std::mem::replace(&mut self.target, target);
        if target == "STOPPED" || previous == "STOPPED" {
            self.state = Instance::new(target);
            self.regenerate_tasks();
        } else if previous != target {
            // A failed instance is not running, so pausing or resuming does not change it.
            for i in std::iter::once(&mut self.state).chain(self.tasks.iter_mut()) {
                if i.state != "FAILED" {
                    *i = Instance::new(target);
                }
            }
        }
    }

    /// A config write bounces the connector; tasks restart only if the config changed (section 3.7).
    pub(crate) fn reconfigure(&mut self, config: BTreeMap<String, String>) {
        let changed = self.config != config;
        self.config = config;
        self.state = Instance::new(self.target);
        if changed {
            self.regenerate_tasks();
        }
    }

    /// Counts a status read; false while the status is not written yet.
    pub(crate) fn read_status(&mut self) -> bool {
        if self.status_missing > 0 {
            self.status_missing -= 1;
            return false;
        }
        if std::mem::take(&mut self.restart_pending) {
            for i in std::iter::once(&mut self.state).chain(self.tasks.iter_mut()) {
                if i.state == "RESTARTING" {
                    *i = Instance::new(self.target);
                }
            }
        }
        true
    }

    pub(crate) fn kind(&self) -> &'static str {
        connector_type(self.config.get("connector.class").map(String::as_str))
    }
}

pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}
