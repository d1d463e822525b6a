//! Command line: `--config`, the hook run, and `render`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand};
use log::{error, warn};

use crate::configmap::ConfigMap;
use crate::connect::{Auth, Client, Settings};
use crate::properties::{self, Variables};
use crate::reconcile;
use crate::redact::Scrubber;
use crate::template::Renderer;

/// Manages Kafka Connect connectors declared in ConfigMaps labelled
/// destination=connect, as a shell-operator hook.
///
/// Run by shell-operator: with --config it prints its bindings; with no
/// arguments it reads the binding contexts in $BINDING_CONTEXT_PATH and
/// reconciles. Exit status: 0 when every connector is as declared or has a
/// reported permanent error, 1 when something is left to retry, 2 on usage
/// errors.
#[derive(Parser, Debug)]
#[command(name = "connect-operator", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    /// Print the shell-operator binding configuration (YAML) and exit
    #[arg(long)]
    config: bool,

    #[command(flatten)]
    hook: HookArgs,

    #[command(flatten)]
    templates: TemplateArgs,

    #[command(flatten)]
    connect: ConnectArgs,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Render the connectors of ConfigMap manifests (files or directories) as
    /// JSON, with secret values redacted; exit 1 if any template fails
    Render(RenderArgs),
}

#[derive(Args, Debug)]
struct HookArgs {
    /// Binding contexts written by shell-operator
    #[arg(long, env = "BINDING_CONTEXT_PATH", value_name = "FILE", hide_env_values = true)]
    binding_context: Option<PathBuf>,

    /// Plan and log, change nothing
    #[arg(long, env = "DRY_RUN")]
    dry_run: bool,

    /// Automatic restarts of a failed connector or task before giving up (0 = off)
    #[arg(long, env = "AUTO_RESTART_MAX", default_value_t = 10)]
    auto_restart_max: u32,

    /// Connectors no ConfigMap declares: off (list them at each resync), owned
    /// (delete those this operator applied), all (delete them all)
    #[arg(long, env = "PRUNE", default_value = "off", value_parser = crate::ownership::Prune::parse)]
    prune: crate::ownership::Prune,

    /// Namespaces to watch, comma-separated (for --config; empty = all)
    #[arg(long, env = "WATCH_NAMESPACES", value_name = "NS,...")]
    watch_namespaces: Option<String>,

    /// Crontab of the periodic full resync (for --config), or `off`
    #[arg(long, env = "RESYNC_SCHEDULE", default_value = "*/5 * * * *", value_name = "CRONTAB")]
    resync_schedule: String,
}

#[derive(Args, Debug)]
struct TemplateArgs {
    /// Directory of *.properties files whose keys become $VARIABLES
    #[arg(long, global = true, env = "CONNECT_OPERATOR_CONFIG_DIR", default_value = "/etc/config/connect-operator")]
    config_dir: PathBuf,

    /// Time a template may run before it counts as failed
    #[arg(long, global = true, env = "TEMPLATE_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    template_timeout: Duration,
}

#[derive(Args, Debug)]
struct ConnectArgs {
    /// Kafka Connect REST URL (BASE_URL is read too, as streaming-ops named it) [default: http://connect]
    #[arg(long, env = "CONNECT_URL", value_name = "URL")]
    connect_url: Option<String>,

    /// Basic auth user (also read from CONNECT_REST_KEY)
    #[arg(long, env = "CONNECT_USERNAME", hide_env_values = true)]
    connect_username: Option<String>,

    /// Basic auth password (also read from CONNECT_REST_SECRET); prefer the environment
    #[arg(long, env = "CONNECT_PASSWORD", hide_env_values = true)]
    connect_password: Option<String>,

    /// Bearer token; prefer the environment
    #[arg(long, env = "CONNECT_TOKEN", hide_env_values = true)]
    connect_token: Option<String>,

    /// PEM file of the CA that signed Connect's certificate
    #[arg(long, env = "CONNECT_CA_FILE", value_name = "FILE")]
    connect_ca_file: Option<PathBuf>,

    /// Writes sent to Connect at once
    #[arg(long, env = "CONNECT_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    connect_concurrency: u16,

    /// Time a run may spend retrying transient Connect errors
    #[arg(long, env = "RETRY_BUDGET", default_value = "60s", value_parser = humantime::parse_duration)]
    retry_budget: Duration,
}

#[derive(Args, Debug)]
struct RenderArgs {
    /// ConfigMap manifests: files or directories (YAML, multi-document, JSON, Lists)
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,

    /// Print secret values instead of [redacted]
    #[arg(long)]
    show_secrets: bool,

    /// Extra environment for the templates, as KEY=VALUE lines (properties syntax); repeatable
    #[arg(long, value_name = "FILE")]
    env_file: Vec<PathBuf>,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json_logs = std::env::var("LOG_TYPE").is_ok_and(|t| t.eq_ignore_ascii_case("json"));
    // streaming-ops' DEBUG=true, minus the secrets it used to print.
    let debug = std::env::var("DEBUG").is_ok_and(|d| d == "true");
    crate::logging::init(json_logs, debug);
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    if cli.config {
        let namespace = crate::ownership::namespace();
        let config =
            crate::hook_config::config(cli.hook.watch_namespaces.as_deref(), &cli.hook.resync_schedule, &namespace)?;
        print!("{}", serde_yaml_ng::to_string(&config)?);
        return Ok(ExitCode::SUCCESS);
    }
    match (&cli.command, &cli.hook.binding_context) {
        (Some(Command::Render(args)), _) => render(args, &cli.templates),
        (None, Some(path)) => hook(path, &cli),
        (None, None) => {
            eprintln!("BINDING_CONTEXT_PATH is not set: connect-operator runs as a shell-operator hook.\n");
            Cli::command().write_help(&mut std::io::stderr())?;
            Ok(ExitCode::from(2))
        }
    }
}

fn hook(path: &Path, cli: &Cli) -> Result<ExitCode> {
    let work = crate::bindings::read(path)?;
    let variables = Arc::new(Variables::load(&cli.templates.config_dir, std::env::vars()));
    let scrubber = Scrubber::new(variables.secret_values());
    let renderer = Renderer::new(variables, cli.templates.template_timeout);
    let client = Client::new(&connect_settings(&cli.connect)?)?;
    let options = reconcile::Options {
        dry_run: cli.hook.dry_run,
        auto_restart_max: cli.hook.auto_restart_max,
        prune: cli.hook.prune,
        namespace: crate::ownership::namespace(),
    };
    let report = reconcile::run(&work, &renderer, &client, &scrubber, options);
    Ok(if report.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn connect_settings(args: &ConnectArgs) -> Result<Settings> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let url = args.connect_url.clone().or_else(|| env("BASE_URL")).unwrap_or_else(|| "http://connect".into());
    let username = args.connect_username.clone().or_else(|| env("CONNECT_REST_KEY"));
    let password = args.connect_password.clone().or_else(|| env("CONNECT_REST_SECRET"));
    let auth = match (username, password, args.connect_token.clone().filter(|t| !t.is_empty())) {
        (None, None, None) => Auth::None,
        (None, None, Some(token)) => Auth::Bearer(token),
        (Some(username), Some(password), None) => Auth::Basic { username, password },
        (Some(_), Some(_), Some(_)) => bail!("set either CONNECT_TOKEN or CONNECT_USERNAME/CONNECT_PASSWORD, not both"),
        _ => bail!(
            "basic auth needs both CONNECT_USERNAME and CONNECT_PASSWORD (or CONNECT_REST_KEY and CONNECT_REST_SECRET)"
        ),
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("CONNECT_URL {url:?} must start with http:// or https://");
    }
    if url.starts_with("http://") && !matches!(auth, Auth::None) {
        warn!("credentials are sent to {url} without TLS");
    }
    Ok(Settings {
        url,
        auth,
        ca_file: args.connect_ca_file.clone(),
        concurrency: args.connect_concurrency.into(),
        retry_budget: args.retry_budget,
    })
}

fn render(args: &RenderArgs, templates: &TemplateArgs) -> Result<ExitCode> {
    let mut env: Vec<(String, String)> = std::env::vars().collect();
    for file in &args.env_file {
        env.extend(properties::read_properties(file).with_context(|| format!("--env-file {}", file.display()))?);
    }
    let variables = Arc::new(Variables::load(&templates.config_dir, env));
    let scrubber = Scrubber::new(variables.secret_values());
    let renderer = Renderer::new(variables, templates.template_timeout);
    let (manifests, mut errors) = crate::configmap::read_manifests(&args.paths);
    // Labels first: a ConfigMap with a bad `enabled` label is an error, not rendered.
    let mut valid = Vec::new();
    for manifest in &manifests {
        match manifest.configmap.intent() {
            Ok(intent) => valid.push((manifest, intent == crate::configmap::Intent::Apply)),
            Err(e) => errors.push(anyhow::anyhow!("{}: {e:#}", place(manifest))),
        }
    }
    let configmaps: Vec<&ConfigMap> = valid.iter().map(|(m, _)| &m.configmap).collect();
    let rendered = reconcile::render_configmaps(&configmaps, &renderer);
    let mut out = Vec::new();
    for ((manifest, enabled), templates) in valid.iter().zip(rendered) {
        for (key, result) in templates {
            match result {
                Ok(c) => {
                    let config = match args.show_secrets {
                        true => serde_json::to_value(&c.config)?,
                        false => serde_json::to_value(c.redacted_config())?,
                    };
                    let source = serde_json::json!({
                        "configmap": manifest.configmap.id.to_string(), "key": key, "file": manifest.file, "enabled": enabled,
                    });
                    let mut connector = serde_json::json!({"name": c.name, "config": config, "source": source});
                    if c.state != crate::connector::TargetState::Running {
                        connector["state"] = serde_json::json!(c.state.to_string());
                    }
                    out.push(connector);
                }
                Err(e) => errors.push(anyhow::anyhow!("{} key {key}: {}", place(manifest), scrubber.scrub(&e))),
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    for e in &errors {
        eprintln!("error: {e:#}");
    }
    Ok(if errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn place(manifest: &crate::configmap::Manifest) -> String {
    format!("ConfigMap {} ({})", manifest.configmap.id, manifest.file.display())
}
