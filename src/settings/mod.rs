//! Flags and environment -> validated settings. Each group of flags is read
//! only by the commands that take it, so a bad value of a hook setting
//! (`PRUNE=maybe`) never breaks `render`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use clap::Args;

use crate::connect::clusters::{self, Clusters, Resolve};
use crate::connect::tenancy::Tenancy;
use crate::connect::Settings;
use crate::input::hook_config;
use crate::model::configmap::DeletionPolicy;
use crate::plan::brake::DEFAULT_DELETE_LIMIT;
use crate::plan::{DeleteLimit, Policy, Prune, Restarts};
use crate::render::namespaces::{ByNamespace, VariableSources};
use crate::render::sandbox::{Limits, Renderer};
use crate::render::variables::{self, TemplateEnv};

mod connect;

/// Where Connect is when nothing says: the Deployment's value, Connect's own
/// REST port.
pub const DEFAULT_CONNECT_URL: &str = "http://connect:8083";

/// The hook's settings that shell-operator's configuration (`--config`) says.
#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// Namespaces to watch, comma-separated (for --config; empty = all)
    #[arg(long, env = "WATCH_NAMESPACES", value_name = "NS,...")]
    pub watch_namespaces: Option<String>,

    /// Crontab of the periodic full resync (for --config), or `off`
    #[arg(long, env = "RESYNC_SCHEDULE", default_value = "*/5 * * * *", value_name = "CRONTAB", value_parser = hook_config::check_crontab)]
    pub resync_schedule: String,
}

/// The hook's settings. Read only when the hook runs.
#[derive(Args, Debug)]
pub struct HookArgs {
    /// Binding contexts written by shell-operator
    #[arg(long, env = "BINDING_CONTEXT_PATH", value_name = "FILE", hide_env_values = true)]
    pub binding_context: Option<PathBuf>,

    /// Plan and log, change nothing
    #[arg(long, env = "DRY_RUN")]
    pub dry_run: bool,

    /// Automatic restarts of a failed connector or task before giving up (0 = off)
    #[arg(long, env = "AUTO_RESTART_MAX", default_value_t = 10)]
    pub auto_restart_max: u32,

    #[command(flatten)]
    /// What the hook deletes, and when it does not.
    pub deletes: DeleteArgs,

    #[command(flatten)]
    /// What shell-operator's configuration (`--config`) says.
    pub config: ConfigArgs,

    /// Time a run follows the connectors it changed to their declared state,
    /// so the status it writes is current (RUNNING, not PENDING); 0s does not wait
    #[arg(long, env = "READY_WAIT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub ready_wait: Duration,

    /// File that keeps what templates rendered, so a resync renders only what
    /// may have changed (no values: names, secret keys and keyed digests); `off`
    /// renders every template every time
    #[arg(long, env = "RENDER_CACHE", default_value = "/tmp/connect-operator/render-cache.json", value_name = "FILE")]
    pub render_cache: PathBuf,

    #[command(flatten)]
    /// How templates are rendered.
    pub templates: TemplateArgs,

    #[command(flatten)]
    /// How to reach the clusters.
    pub connect: ConnectArgs,

    #[command(flatten)]
    /// How many writes at once.
    pub concurrency: Concurrency,
}

/// What the hook deletes, and when it does not.
#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Connectors no ConfigMap declares: off (list them at each resync), owned
    /// (delete those this operator applied), all (delete them all)
    #[arg(long, env = "PRUNE", default_value = "off", value_parser = Prune::parse)]
    pub prune: Prune,

    /// What becomes of the connectors of a deleted ConfigMap or a removed key,
    /// unless its connect-operator.io/deletion-policy annotation says: delete,
    /// or retain (left running, no longer owned)
    #[arg(long, env = "DELETION_POLICY", default_value = "delete", value_parser = DeletionPolicy::parse)]
    pub deletion_policy: DeletionPolicy,

    /// A run that would delete more connectors of a cluster at once deletes none
    /// of them, and says so (0 = no limit)
    #[arg(long, env = "DELETE_LIMIT", default_value = DEFAULT_DELETE_LIMIT, value_name = "N", value_parser = DeleteLimit::parse)]
    pub delete_limit: DeleteLimit,
}

/// How templates are rendered.
#[derive(Args, Debug)]
#[command(next_help_heading = "Templates")]
pub struct TemplateArgs {
    /// Directory of *.properties files whose keys become $VARIABLES; those under
    /// namespaces/<namespace>/ are for that namespace's ConfigMaps alone
    #[arg(long, env = "CONNECT_OPERATOR_CONFIG_DIR", default_value = "/etc/config/connect-operator")]
    pub config_dir: PathBuf,

    /// Environment variables templates may read (env.NAME, $ENV.NAME), comma-separated;
    /// others read null, with a warning [default: all]
    #[arg(long, env = "TEMPLATE_ENV", value_name = "NAME,...", value_parser = TemplateEnv::parse)]
    pub template_env: Option<TemplateEnv>,

    /// Time a template may run before it counts as failed
    #[arg(long, env = "TEMPLATE_TIMEOUT", default_value = "2s", value_parser = crate::text::positive_duration)]
    pub template_timeout: Duration,

    /// Memory a batch of templates may use (in its own process), e.g. 128Mi; 0 for no cap
    #[arg(long, env = "TEMPLATE_MEMORY_LIMIT", default_value = "128Mi", value_parser = crate::text::parse_size)]
    pub template_memory_limit: u64,
}

/// Where the ConfigMaps of the repository commands come from.
#[derive(Args, Debug)]
#[command(next_help_heading = "Manifests")]
pub struct Manifests {
    /// ConfigMap manifests: files or directories (YAML, multi-document, JSON, Lists) [default: the current
    /// directory, for the commands that act on every connector; none, for the one-connector commands]
    pub paths: Vec<PathBuf>,

    /// Extra environment for the templates, as KEY=VALUE lines (properties syntax); repeatable
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,

    #[command(flatten)]
    /// How templates are rendered.
    pub templates: TemplateArgs,
}

/// The manifests of a command that acts on every connector they declare.
#[derive(Args, Debug)]
pub struct Sources {
    #[command(flatten)]
    /// Where they are.
    pub manifests: Manifests,

    /// Succeed when the paths hold no ConfigMap labelled destination=connect
    #[arg(long, help_heading = "Manifests")]
    pub allow_empty: bool,
}

/// The clusters file.
#[derive(Args, Debug)]
pub struct ClustersArg {
    /// Named Connect clusters (YAML or JSON), beside the default one of CONNECT_URL
    #[arg(long, env = "CONNECT_CLUSTERS_FILE", value_name = "FILE")]
    pub clusters_file: Option<PathBuf>,

    /// Namespaces whose ConfigMaps may use the default cluster, comma-separated ("*": every namespace)
    #[arg(long, env = "CONNECT_NAMESPACES", value_name = "NAMESPACES", value_delimiter = ',', default_value = "*")]
    pub connect_namespaces: Vec<String>,

    /// What the default cluster's connector names must start with; {namespace} is the ConfigMap's namespace
    #[arg(long, env = "CONNECT_NAME_PREFIX", value_name = "PREFIX")]
    pub connect_name_prefix: Option<String>,
}

/// How many writes go to a cluster at once: for the commands that write
/// many connectors (the hook and `apply`), and no others.
#[derive(Args, Debug)]
#[command(next_help_heading = "Writes")]
pub struct Concurrency {
    /// Writes sent to Connect at once
    #[arg(long, env = "CONNECT_CONCURRENCY", default_value_t = DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub connect_concurrency: u16,
}

/// Requests at once: `--connect-concurrency`'s default, and the number for
/// the commands without it, which only read (`validate` asks Connect to
/// validate each config).
pub const DEFAULT_CONCURRENCY: u16 = 4;

/// How to reach the default cluster, and the others of the clusters file.
#[derive(Args, Debug)]
#[command(next_help_heading = "Connect")]
pub struct ConnectArgs {
    /// Kafka Connect REST URL (BASE_URL is read too, as streaming-ops named it) [default: http://connect:8083]
    #[arg(long, env = "CONNECT_URL", value_name = "URL", value_parser = crate::text::http_url)]
    pub connect_url: Option<String>,

    /// Basic auth user (also read from CONNECT_REST_KEY)
    #[arg(long, env = "CONNECT_USERNAME", hide_env_values = true)]
    pub connect_username: Option<String>,

    /// Basic auth password (also read from CONNECT_REST_SECRET); prefer the environment
    #[arg(long, env = "CONNECT_PASSWORD", hide_env_values = true)]
    pub connect_password: Option<String>,

    /// Bearer token; prefer the environment
    #[arg(long, env = "CONNECT_TOKEN", hide_env_values = true)]
    pub connect_token: Option<String>,

    #[command(flatten)]
    /// The clusters file.
    pub clusters: ClustersArg,

    /// File holding the bearer token, read at every run so a rotated token is used
    #[arg(long, env = "CONNECT_TOKEN_FILE", value_name = "FILE")]
    pub connect_token_file: Option<PathBuf>,

    /// PEM certificate chain for mutual TLS (with --connect-client-key)
    #[arg(long, env = "CONNECT_CLIENT_CERT_FILE", value_name = "FILE")]
    pub connect_client_cert: Option<PathBuf>,

    /// PEM private key for mutual TLS
    #[arg(long, env = "CONNECT_CLIENT_KEY_FILE", value_name = "FILE")]
    pub connect_client_key: Option<PathBuf>,

    /// PEM file of the CA that signed Connect's certificate
    #[arg(long, env = "CONNECT_CA_FILE", value_name = "FILE")]
    pub connect_ca_file: Option<PathBuf>,

    /// Time a run may spend retrying transient Connect errors [default: 60s in the hook, 5s on the command line]
    #[arg(long, env = "RETRY_BUDGET", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub retry_budget: Option<Duration>,
}

/// How a hook run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Plan and log, write nothing.
    pub dry_run: bool,
    /// How to plan.
    pub policy: Policy,
    /// Where what templates rendered is kept between runs (see
    /// [`crate::render::cache`]); `None` renders every template every time.
    pub render_cache: Option<PathBuf>,
    /// How long a run follows what it changed (see [`crate::settle`]).
    pub ready_wait: Duration,
}

impl HookArgs {
    /// The hook's run settings.
    #[must_use]
    pub fn options(&self) -> Options {
        Options {
            dry_run: self.dry_run,
            policy: Policy {
                deletion: self.deletes.deletion_policy,
                delete_limit: self.deletes.delete_limit,
                ..policy(Restarts::Automatic(self.auto_restart_max), self.deletes.prune)
            },
            render_cache: Some(self.render_cache.clone()).filter(|p| p.as_os_str() != "off"),
            ready_wait: self.ready_wait,
        }
    }
}

/// How to plan: `restarts` and `prune` as the command says, the rest from
/// the environment; deletes as declared, and no brake.
#[must_use]
pub fn policy(restarts: Restarts, prune: Prune) -> Policy {
    Policy {
        now: SystemTime::now(),
        restarts,
        digest_key: digest_key(),
        prune,
        namespace: crate::input::operator_namespace(),
        ..Policy::default()
    }
}

impl TemplateArgs {
    /// The renderer of templates that see `variables`.
    pub fn renderer(&self, variables: ByNamespace) -> Result<Renderer> {
        let limits = Limits { timeout: self.template_timeout, memory: self.template_memory_limit };
        Renderer::new(Arc::new(variables), limits)
    }

    /// The variables of the properties files of each namespace, with what
    /// `TEMPLATE_ENV` lets templates read of `env` as the environment.
    pub fn variables(&self, env: impl IntoIterator<Item = (String, String)>) -> ByNamespace {
        let (dir, template_env, env) = (&self.config_dir, self.template_env.as_ref(), env.into_iter().collect());
        ByNamespace::load(VariableSources { dir, env, template_env, settings: public_settings() })
    }
}

/// The environment variables of the settings whose values may be shown:
/// every one the command line reads but those whose values it hides (the
/// credentials, and the per-run path of the binding contexts).
fn public_settings() -> BTreeSet<String> {
    let command = HookArgs::augment_args(clap::Command::new("settings"));
    let public = command.get_arguments().filter(|arg| !arg.is_hide_env_values_set());
    public.filter_map(|arg| arg.get_env()).map(|name| name.to_string_lossy().into_owned()).collect()
}

impl Manifests {
    /// The renderer of the repository commands: the process environment and the
    /// `--env-file`s; a manifest without a namespace is in `default`, as kubectl puts it.
    pub fn renderer(&self) -> Result<Renderer> {
        let mut env: Vec<(String, String)> = std::env::vars().collect();
        for file in &self.env_file {
            env.extend(variables::read_properties(file).with_context(|| format!("--env-file {}", file.display()))?);
        }
        self.templates.renderer(self.templates.variables(env))
    }
}

impl ClustersArg {
    /// The clusters file's names and flavours only, for `render`.
    pub fn names(&self) -> Result<Clusters> {
        let file = self.clusters_file.as_deref().map(clusters::File::read).transpose()?;
        Clusters::new(file, &Settings::default(), &self.tenancy(), Resolve::Names)
    }

    fn tenancy(&self) -> Tenancy {
        Tenancy::from_environment(&self.connect_namespaces, self.connect_name_prefix.as_deref())
    }
}

/// CONNECT_OPERATOR_DIGEST_KEY, from a Secret: only from the environment,
/// never a flag, so it stays out of process listings.
fn digest_key() -> Option<Vec<u8>> {
    std::env::var("CONNECT_OPERATOR_DIGEST_KEY").ok().filter(|k| !k.is_empty()).map(String::into_bytes)
}

#[cfg(test)]
mod tests {
    use super::public_settings;

    /// The list follows the command line: a new setting is shown without
    /// being added anywhere, and a credential never is.
    #[test]
    fn the_public_settings_are_the_command_lines_but_its_hidden_ones() {
        let public = public_settings();
        for shown in [
            "CONNECT_URL",
            "READY_WAIT",
            "TEMPLATE_MEMORY_LIMIT",
            "TEMPLATE_ENV",
            "PRUNE",
            "CONNECT_OPERATOR_CONFIG_DIR",
        ] {
            assert!(public.contains(shown), "{shown}: {public:?}");
        }
        for hidden in ["CONNECT_PASSWORD", "CONNECT_TOKEN", "CONNECT_USERNAME", "BINDING_CONTEXT_PATH"] {
            assert!(!public.contains(hidden), "{hidden}: {public:?}");
        }
    }
}
