//! Command line: `--config`, the hook run, and the commands that run the
//! hook's engine on manifests in a repository.
//!
//! Each subcommand takes exactly the flags (and environment variables) that
//! mean something to it; the hook's own settings (`DRY_RUN`, `PRUNE`, ...)
//! are read only when the hook runs, so a bad value there never breaks
//! `render`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use log::{error, warn};

use crate::clusters::{self, Clusters, Resolve};
use crate::configmap::Read;
use crate::connect::{Auth, Client, Settings};
use crate::gitops::{self, Format, Health};
use crate::ownership::Prune;
use crate::plan::{CmState, Declared, Restarts};
use crate::properties::{self, Variables};
use crate::reconcile;
use crate::redact::Scrubber;
use crate::sandbox::{Limits, Renderer};

/// Manages Kafka Connect connectors declared in ConfigMaps labelled
/// destination=connect, as a shell-operator hook.
///
/// Run by shell-operator: with --config it prints its bindings; with no
/// arguments it reads the binding contexts in $BINDING_CONTEXT_PATH and
/// reconciles. Exit status: 0 when every connector is as declared or has a
/// reported permanent error, 1 when something is left to retry, 2 on usage
/// errors.
#[derive(Parser, Debug)]
#[command(
    name = "connect-operator",
    version,
    about,
    long_about,
    max_term_width = 100,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Print the shell-operator binding configuration (YAML) and exit
    #[arg(long)]
    config: bool,

    #[command(flatten)]
    hook: HookArgs,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Render the connectors of ConfigMap manifests (files or directories) as
    /// JSON, with secret values redacted; exit 1 if any template fails
    Render(RenderArgs),
    /// Show what applying the manifests would do to the cluster; exit 0 when
    /// nothing would change, 2 when something would, 1 on errors
    Diff(PlanArgs),
    /// Apply the manifests to the cluster, as the hook would; exit 1 when
    /// anything could not be applied
    Apply(ApplyArgs),
    /// The declared connectors' state, tasks and failures; exit 0 when all
    /// are as declared, 3 when some are not, 1 on errors
    Status(StatusArgs),
    /// Check that each connector's plugin is installed and ask Connect to
    /// validate its config; exit 1 on any error
    Validate(StatusArgs),
    /// Internal: renders templates in a child process for the others
    #[command(name = crate::sandbox::WORKER_COMMAND, hide = true)]
    RenderWorker,
}

/// Where the ConfigMaps come from.
#[derive(Args, Debug)]
struct Sources {
    /// ConfigMap manifests: files or directories (YAML, multi-document, JSON, Lists)
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,

    /// Extra environment for the templates, as KEY=VALUE lines (properties syntax); repeatable
    #[arg(long, value_name = "FILE")]
    env_file: Vec<PathBuf>,

    /// Succeed when the paths hold no ConfigMap labelled destination=connect
    #[arg(long)]
    allow_empty: bool,

    #[command(flatten)]
    templates: TemplateArgs,
}

#[derive(Args, Debug)]
struct PlanArgs {
    #[command(flatten)]
    sources: Sources,

    #[command(flatten)]
    connect: ConnectArgs,

    /// Also delete connectors no manifest declares (refused when none declares anything)
    #[arg(long)]
    prune: bool,

    #[arg(long, short, value_enum, default_value = "table")]
    output: Format,
}

#[derive(Args, Debug)]
struct ApplyArgs {
    #[command(flatten)]
    plan: PlanArgs,

    /// Print the plan, change nothing (exit as `diff` does)
    #[arg(long, env = "DRY_RUN")]
    dry_run: bool,

    /// Also restart connectors and tasks that Connect reports FAILED
    #[arg(long)]
    restart_failed: bool,
}

#[derive(Args, Debug)]
struct StatusArgs {
    #[command(flatten)]
    sources: Sources,

    #[command(flatten)]
    connect: ConnectArgs,

    #[arg(long, short, value_enum, default_value = "table")]
    output: Format,
}

#[derive(Args, Debug)]
struct RenderArgs {
    #[command(flatten)]
    sources: Sources,

    #[command(flatten)]
    clusters: ClustersArg,

    /// Print secret values instead of [redacted]
    #[arg(long)]
    show_secrets: bool,
}

/// The hook's settings. Read only when the hook runs (see [`parse`]).
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
    #[arg(long, env = "PRUNE", default_value = "off", value_parser = Prune::parse)]
    prune: Prune,

    /// Namespaces to watch, comma-separated (for --config; empty = all)
    #[arg(long, env = "WATCH_NAMESPACES", value_name = "NS,...")]
    watch_namespaces: Option<String>,

    /// Crontab of the periodic full resync (for --config), or `off`
    #[arg(long, env = "RESYNC_SCHEDULE", default_value = "*/5 * * * *", value_name = "CRONTAB")]
    resync_schedule: String,

    #[command(flatten)]
    templates: TemplateArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

#[derive(Args, Debug)]
struct TemplateArgs {
    /// Directory of *.properties files whose keys become $VARIABLES
    #[arg(long, env = "CONNECT_OPERATOR_CONFIG_DIR", default_value = "/etc/config/connect-operator")]
    config_dir: PathBuf,

    /// Time a template may run before it counts as failed
    #[arg(long, env = "TEMPLATE_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    template_timeout: Duration,

    /// Memory a batch of templates may use (in its own process), e.g. 128Mi; 0 for no cap
    #[arg(long, env = "TEMPLATE_MEMORY_LIMIT", default_value = "128Mi", value_parser = crate::sandbox::parse_size)]
    template_memory_limit: u64,
}

impl TemplateArgs {
    fn renderer(&self, variables: Arc<Variables>) -> Result<Renderer> {
        let limits = Limits { timeout: self.template_timeout, memory: self.template_memory_limit };
        Renderer::new(variables, limits)
    }
}

#[derive(Args, Debug)]
struct ClustersArg {
    /// Named Connect clusters (YAML or JSON), beside the default one of CONNECT_URL
    #[arg(long, env = "CONNECT_CLUSTERS_FILE", value_name = "FILE")]
    clusters_file: Option<PathBuf>,
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

    #[command(flatten)]
    clusters: ClustersArg,

    /// File holding the bearer token, read at every run so a rotated token is used
    #[arg(long, env = "CONNECT_TOKEN_FILE", value_name = "FILE")]
    connect_token_file: Option<PathBuf>,

    /// PEM certificate chain for mutual TLS (with --connect-client-key)
    #[arg(long, env = "CONNECT_CLIENT_CERT_FILE", value_name = "FILE")]
    connect_client_cert: Option<PathBuf>,

    /// PEM private key for mutual TLS
    #[arg(long, env = "CONNECT_CLIENT_KEY_FILE", value_name = "FILE")]
    connect_client_key: Option<PathBuf>,

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

/// Parses the command line. A subcommand reads only its own environment
/// variables: the top-level ones are the hook's, and its settings must not
/// be parsed (nor fail) when the hook does not run.
fn parse() -> Cli {
    let mut command = Cli::command();
    let first = std::env::args_os().nth(1);
    let subcommand = first.as_ref().and_then(|a| a.to_str()).filter(|a| !a.starts_with('-'));
    if subcommand.is_some() {
        let ids: Vec<clap::Id> = command.get_arguments().map(|a| a.get_id().clone()).collect();
        for id in ids {
            command = command.mut_arg(id, |arg| arg.env(None));
        }
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

pub fn main() -> ExitCode {
    let cli = parse();
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
        (Some(Command::Render(args)), _) => render(args),
        (Some(Command::Diff(args)), _) => diff(args),
        (Some(Command::Apply(args)), _) => apply(args),
        (Some(Command::Status(args)), _) => status(args),
        (Some(Command::Validate(args)), _) => validate(args),
        (Some(Command::RenderWorker), _) => Ok(crate::sandbox::serve()),
        (None, Some(path)) => hook(path, &cli.hook),
        (None, None) => {
            eprintln!("BINDING_CONTEXT_PATH is not set: connect-operator runs as a shell-operator hook.\n");
            Cli::command().write_help(&mut std::io::stderr())?;
            Ok(ExitCode::from(2))
        }
    }
}

fn hook(path: &Path, args: &HookArgs) -> Result<ExitCode> {
    let work = crate::bindings::read(path)?;
    let variables = Arc::new(Variables::load(&args.templates.config_dir, std::env::vars()));
    let renderer = args.templates.renderer(variables)?;
    let scrubber = renderer.scrubber().clone();
    let clusters = clusters(&args.connect, Resolve::All)?;
    let options = reconcile::Options {
        dry_run: args.dry_run,
        restarts: Restarts::Automatic(args.auto_restart_max),
        prune: args.prune,
        namespace: crate::ownership::namespace(),
        digest_key: digest_key(),
    };
    let report = reconcile::run(&work, &renderer, &clusters, &scrubber, &options);
    Ok(if report.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// CONNECT_OPERATOR_DIGEST_KEY, from a Secret: only from the environment,
/// never a flag, so it stays out of process listings.
fn digest_key() -> Option<Vec<u8>> {
    std::env::var("CONNECT_OPERATOR_DIGEST_KEY").ok().filter(|k| !k.is_empty()).map(String::into_bytes)
}

/// The default cluster's settings. streaming-ops' CONNECT_REST_KEY /
/// CONNECT_REST_SECRET stand in for CONNECT_USERNAME / CONNECT_PASSWORD only
/// when no cluster of the clusters file `claimed` them: a Confluent Cloud key
/// must never be sent to another cluster.
fn connect_settings(args: &ConnectArgs, claimed: &BTreeSet<&str>) -> Result<Settings> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let fallback = |name: &str| if claimed.contains(name) { None } else { env(name) };
    let url = args.connect_url.clone().or_else(|| env("BASE_URL")).unwrap_or_else(|| "http://connect".into());
    let username = args.connect_username.clone().or_else(|| fallback("CONNECT_REST_KEY"));
    let password = args.connect_password.clone().or_else(|| fallback("CONNECT_REST_SECRET"));
    let token = match (&args.connect_token, &args.connect_token_file) {
        (Some(_), Some(_)) => bail!("set either CONNECT_TOKEN or CONNECT_TOKEN_FILE, not both"),
        (Some(token), None) => Some(token.clone()).filter(|t| !t.is_empty()),
        (None, Some(file)) => {
            let token = crate::files::read_capped(file, crate::files::SMALL_MAX, "CONNECT_TOKEN_FILE")?;
            Some(token.trim().to_string()).filter(|t| !t.is_empty())
        }
        (None, None) => None,
    };
    let client_cert = match (&args.connect_client_cert, &args.connect_client_key) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        (None, None) => None,
        _ => bail!("mutual TLS needs both CONNECT_CLIENT_CERT_FILE and CONNECT_CLIENT_KEY_FILE"),
    };
    let auth = match (username, password, token) {
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
        client_cert,
        insecure_skip_verify: false,
        comma_expand: false,
        concurrency: args.connect_concurrency.into(),
        retry_budget: args.retry_budget,
        read_timeout: crate::connect::READ_TIMEOUT,
    })
}

/// The default cluster from CONNECT_URL and friends, plus the clusters file.
fn clusters(args: &ConnectArgs, resolve: Resolve) -> Result<Clusters> {
    let file = args.clusters.clusters_file.as_deref().map(clusters::File::read).transpose()?;
    let claimed = file.as_ref().map(clusters::File::env_names).unwrap_or_default();
    let default = connect_settings(args, &claimed)?;
    Clusters::new(file, default, resolve)
}

/// Everything read from the manifests: declared connectors, rendered, and
/// the file each came from.
struct Sourced {
    scrubber: Scrubber,
    declared: Vec<Declared>,
    files: Vec<PathBuf>,
}

/// Reads the manifests and renders them as the hook does. Refuses input
/// that holds no selected ConfigMap unless `--allow-empty`, and says which
/// documents were probably meant to be selected.
fn source(sources: &Sources, clusters: &Clusters) -> Result<Sourced> {
    let mut env: Vec<(String, String)> = std::env::vars().collect();
    for file in &sources.env_file {
        env.extend(properties::read_properties(file).with_context(|| format!("--env-file {}", file.display()))?);
    }
    let variables = Arc::new(Variables::load(&sources.templates.config_dir, env));
    let renderer = sources.templates.renderer(variables)?;
    let scrubber = renderer.scrubber().clone();
    let read = crate::configmap::read_manifests(&sources.paths);
    for miss in &read.near_misses {
        warn!("{miss}");
    }
    if let Some(first) = read.errors.first() {
        for e in &read.errors {
            error!("{e:#}");
        }
        bail!("{} manifest files could not be read (first: {first:#})", read.errors.len());
    }
    check_not_empty(&read, sources)?;
    let declared = gitops::declare(&read.manifests, &renderer, clusters);
    let files = read.manifests.into_iter().map(|m| m.file).collect();
    Ok(Sourced { scrubber, declared, files })
}

fn check_not_empty(read: &Read, sources: &Sources) -> Result<()> {
    if !read.manifests.is_empty() || sources.allow_empty {
        return Ok(());
    }
    let paths: Vec<String> = sources.paths.iter().map(|p| p.display().to_string()).collect();
    let hint = if read.near_misses.is_empty() { "" } else { " (see the warnings above)" };
    bail!(
        "no ConfigMap labelled destination=connect in {} ({} read){hint}; pass --allow-empty if that is intended",
        paths.join(", "),
        read.counts()
    )
}

fn render(args: &RenderArgs) -> Result<ExitCode> {
    let clusters = Clusters::new(
        args.clusters.clusters_file.as_deref().map(clusters::File::read).transpose()?,
        Settings::default(),
        Resolve::Names,
    )?;
    let Sourced { scrubber, declared, files } = source(&args.sources, &clusters)?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (d, file) in declared.iter().zip(&files) {
        let place = format!("ConfigMap {} ({})", d.id, file.display());
        if let CmState::Invalid(message) = &d.state {
            errors.push(format!("{place}: {message}"));
            continue;
        }
        for (key, result) in &d.templates {
            match result {
                Ok(c) => {
                    let config = match args.show_secrets {
                        true => serde_json::to_value(&c.config)?,
                        false => serde_json::to_value(c.redacted_config())?,
                    };
                    let source = serde_json::json!({
                        "configmap": d.id.to_string(), "key": key, "file": file, "enabled": d.state == CmState::Apply,
                    });
                    let mut connector = serde_json::Map::new();
                    connector.insert("name".into(), serde_json::json!(c.name));
                    connector.insert("cluster".into(), serde_json::json!(d.cluster));
                    if c.state != crate::connector::TargetState::Running {
                        connector.insert("state".into(), serde_json::json!(c.state.to_string()));
                    }
                    connector.insert("config".into(), config);
                    connector.insert("source".into(), source);
                    out.push(serde_json::Value::Object(connector));
                }
                Err(e) => errors.push(format!("{place} key {key}: {}", scrubber.scrub(e))),
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    for e in &errors {
        eprintln!("error: {e}");
    }
    Ok(if errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// What `diff` and `apply` share, for one cluster: Connect, and the plan
/// made by the hook's engine.
struct Planned {
    cluster: String,
    client: Client,
    live: crate::connect::Live,
    plan: crate::plan::Plan,
}

fn by_cluster(declared: Vec<Declared>) -> BTreeMap<String, Vec<Declared>> {
    let mut by_cluster: BTreeMap<String, Vec<Declared>> = BTreeMap::new();
    for d in declared {
        by_cluster.entry(d.cluster.clone()).or_default().push(d);
    }
    by_cluster
}

/// The live state of one cluster, read once.
fn read_live(name: &str, client: &Client, declared: &[Declared], scrubber: &Scrubber) -> Result<crate::connect::Live> {
    client.read_live(&crate::plan::wanted(declared)).map_err(|f| {
        anyhow::anyhow!("cannot read the connectors from Kafka Connect (cluster {name}): {}", f.scrubbed(scrubber))
    })
}

fn planned(args: &PlanArgs, restarts: Restarts) -> Result<(Scrubber, Vec<Planned>)> {
    let clusters = clusters(&args.connect, Resolve::All)?;
    let Sourced { scrubber, declared, .. } = source(&args.sources, &clusters)?;
    let mut by_cluster = by_cluster(declared);
    if args.prune {
        for name in clusters.all.keys() {
            by_cluster.entry(name.clone()).or_default();
        }
    }
    let options = reconcile::Options {
        dry_run: true,
        restarts,
        prune: if args.prune { Prune::All } else { Prune::Off },
        namespace: crate::ownership::namespace(),
        digest_key: digest_key(),
    };
    let mut planned = Vec::new();
    for (name, declared) in by_cluster {
        let client = Client::new(&clusters.get(&name)?.settings)?.scrubbing(&scrubber);
        let live = read_live(&name, &client, &declared, &scrubber)?;
        // The manifests are everything declared: a full run, as the hook's resync.
        let plan = reconcile::plan_run(&declared, &live, &BTreeSet::new(), true, &options);
        planned.push(Planned { cluster: name, client, live, plan });
    }
    Ok((scrubber, planned))
}

/// `diff`'s exit status: 1 on errors, 2 when something would change, else 0.
fn diff_status(planned: &[Planned]) -> ExitCode {
    let problems = planned.iter().any(|p| !p.plan.problems.is_empty());
    let writes: usize = planned.iter().map(|p| p.plan.writes()).sum();
    ExitCode::from(match (problems, writes) {
        (true, _) => 1,
        (false, 0) => 0,
        (false, _) => 2,
    })
}

fn diff(args: &PlanArgs) -> Result<ExitCode> {
    let (_, planned) = planned(args, Restarts::Automatic(0))?;
    print_plans(&planned, None, args.output)?;
    Ok(diff_status(&planned))
}

fn apply(args: &ApplyArgs) -> Result<ExitCode> {
    let restarts = if args.restart_failed { Restarts::Now } else { Restarts::Automatic(0) };
    let (scrubber, planned) = planned(&args.plan, restarts)?;
    if args.dry_run {
        print_plans(&planned, None, args.plan.output)?;
        return Ok(diff_status(&planned));
    }
    // On a terminal, a progress line instead of a log line per connector.
    let writes: usize = planned.iter().map(|p| p.plan.writes()).sum();
    let show_progress = std::io::stderr().is_terminal() && writes > 10;
    let level = log::max_level();
    if show_progress {
        log::set_max_level(log::LevelFilter::Warn);
    }
    let mut total = reconcile::Report::default();
    let mut all_results = Vec::new();
    for p in &planned {
        let progress = |sent: usize, total: usize| eprint!("\rapplying to {}: {sent}/{total}", p.cluster);
        let (report, results) = reconcile::execute(
            &p.plan,
            &p.client,
            &scrubber,
            false,
            show_progress.then_some(&progress as &reconcile::Progress<'_>),
        );
        total.add(&report);
        all_results.push(results);
    }
    if show_progress {
        eprintln!();
        log::set_max_level(level);
    }
    match args.plan.output {
        Format::Json => print_plans(&planned, Some(&all_results), Format::Json)?,
        Format::Table => {
            for (p, results) in planned.iter().zip(&all_results) {
                print!("{}", gitops::failures_table(&p.plan, results, &p.cluster, gitops::colors()));
            }
            println!("{}", total.summary());
        }
    }
    // Like `terraform apply`: anything declared but not applied fails the command.
    Ok(if total.failed == 0 && total.unfinished == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The plans of every cluster: one JSON document (each step and problem
/// names its cluster), or tables with a heading per cluster when there are several.
fn print_plans(planned: &[Planned], results: Option<&[Vec<reconcile::StepResult>]>, format: Format) -> Result<()> {
    match format {
        Format::Json => {
            let (mut steps, mut problems) = (Vec::new(), Vec::new());
            for (i, p) in planned.iter().enumerate() {
                let results = results.and_then(|r| r.get(i)).map(Vec::as_slice);
                let (s, e) = gitops::plan_json(&p.plan, &p.live, results, &p.cluster);
                steps.extend(s);
                problems.extend(e);
            }
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({"steps": steps, "problems": problems}))?);
        }
        Format::Table => {
            for p in planned {
                if planned.len() > 1 {
                    println!("cluster {}:", p.cluster);
                }
                print!("{}", gitops::plan_table(&p.plan, &p.live, gitops::colors()));
            }
            if planned.iter().all(|p| p.plan.writes() == 0 && p.plan.problems.is_empty()) {
                println!("No changes: Kafka Connect matches the manifests.");
            }
        }
    }
    Ok(())
}

fn status(args: &StatusArgs) -> Result<ExitCode> {
    let clusters = clusters(&args.connect, Resolve::All)?;
    let Sourced { scrubber, declared, .. } = source(&args.sources, &clusters)?;
    let (invalid, valid): (Vec<Declared>, Vec<Declared>) =
        declared.into_iter().partition(|d| matches!(d.state, CmState::Invalid(_)));
    let mut rows = gitops::invalid_rows(&invalid);
    let by_cluster = by_cluster(valid);
    for (name, cluster) in &clusters.all {
        let declared = by_cluster.get(name).map(Vec::as_slice).unwrap_or_default();
        if declared.is_empty() && name != clusters::DEFAULT && clusters.all.len() > 1 {
            continue;
        }
        let client = Client::new(&cluster.settings)?.scrubbing(&scrubber);
        let live = read_live(name, &client, declared, &scrubber)?;
        rows.extend(gitops::status_rows(name, declared, &live, &scrubber));
    }
    match args.output {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Table => print!("{}", gitops::status_table(&rows, gitops::colors())),
    }
    let worst = rows.iter().map(|r| r.health).max();
    Ok(match worst {
        Some(Health::Error) => ExitCode::FAILURE,
        Some(Health::Unhealthy) => ExitCode::from(3),
        _ => ExitCode::SUCCESS,
    })
}

fn validate(args: &StatusArgs) -> Result<ExitCode> {
    let clusters = clusters(&args.connect, Resolve::All)?;
    let Sourced { scrubber, declared, .. } = source(&args.sources, &clusters)?;
    let mut findings = Vec::new();
    let mut checked = 0;
    for (name, declared) in &by_cluster(declared) {
        let mut targets = Vec::new();
        for d in declared {
            if let CmState::Invalid(message) = &d.state {
                findings.push(crate::validate::Finding {
                    connector: String::new(),
                    origin: format!("ConfigMap {}", d.id),
                    key: None,
                    message: message.clone(),
                });
                continue;
            }
            for (key, rendered) in &d.templates {
                let origin = format!("ConfigMap {} key {key}", d.id);
                match rendered {
                    Ok(connector) => targets.push(crate::validate::Target { origin, connector }),
                    Err(message) => findings.push(crate::validate::Finding {
                        connector: String::new(),
                        origin,
                        key: None,
                        message: message.clone(),
                    }),
                }
            }
        }
        if targets.is_empty() {
            continue;
        }
        let client = Client::new(&clusters.get(name)?.settings)?.scrubbing(&scrubber);
        findings
            .extend(crate::validate::validate(&client, &targets, &scrubber).map_err(|f| {
                anyhow::anyhow!("cannot ask Kafka Connect (cluster {name}): {}", f.scrubbed(&scrubber))
            })?);
        checked += targets.len();
    }
    match args.output {
        Format::Json => println!("{}", serde_json::to_string_pretty(&findings)?),
        Format::Table => {
            for f in &findings {
                let key = f.key.as_ref().map(|k| format!(" {k}:")).unwrap_or_default();
                let connector =
                    if f.connector.is_empty() { String::new() } else { format!("connector {} ", f.connector) };
                println!("{connector}({}){key} {}", f.origin, f.message);
            }
            println!("{checked} connectors checked, {} errors", findings.len());
        }
    }
    Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
