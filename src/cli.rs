//! The command line, as clap types: the hook (no subcommand), `--config`,
//! and the repository commands. Each subcommand takes exactly the flags (and
//! environment variables) that mean something to it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::gitops::apply::Request;
use crate::gitops::output::{Format, RenderFormat};
use crate::plan::DeleteLimit;
use crate::predecessors;
use crate::settings::{ClustersArg, Concurrency, ConnectArgs, HookArgs, Manifests, Sources};

/// Manages Kafka Connect connectors declared in ConfigMaps labelled
/// destination=connect, as a shell-operator hook.
///
/// Run by shell-operator: with --config it prints its bindings; with no
/// arguments it reads the binding contexts in $BINDING_CONTEXT_PATH and
/// reconciles. Exit status: 0 when every connector is as declared or has a
/// reported permanent error, 1 when something is left to retry or the
/// command line is wrong.
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
    pub config: bool,

    #[command(flatten)]
    /// The hook's settings, when no subcommand is given.
    pub hook: HookArgs,

    #[command(subcommand)]
    /// A repository command, if any.
    pub command: Option<Command>,
}

/// The repository commands, and the renderer's child.
#[derive(Subcommand, Debug)]
pub enum Command {
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
    Status(ReadArgs),
    /// Check that each connector's plugin is installed and ask Connect to
    /// validate its config, and find secrets written as literals; exit 1 on
    /// any error (and with --strict on a literal secret)
    Validate(ValidateArgs),
    /// One connector: its config (secrets redacted), where it is declared,
    /// its state, tasks with workers and traces, and its offsets
    Describe(OneArgs),
    /// Pause one connector (the hook puts back the declared state at its next run)
    Pause(OneArgs),
    /// Resume one connector (the hook puts back the declared state at its next run)
    Resume(OneArgs),
    /// Stop one connector and its tasks (the hook puts back the declared state at its next run)
    Stop(OneArgs),
    /// Restart one connector and its tasks, only its failed ones, or one task
    Restart(RestartArgs),
    /// Read, reset or alter a connector's offsets (KIP-875); a change stops
    /// the connector first and brings it back after
    #[command(subcommand)]
    Offsets(OffsetsCommand),
    /// The plugins a cluster has installed, by type
    Plugins(PluginsArgs),
    /// Write a ConfigMap manifest for each connector a cluster runs (or each
    /// named), and a Secret manifest of the values kept out of them
    Export(crate::day2::export::ExportArgs),
    /// Serve shell-operator's /metrics and /metrics/hooks, and /healthz, on the
    /// Pod's metrics port, and nothing else (not its /debug): the Deployment's
    /// second container
    ServeMetrics(ServeMetricsArgs),
    /// Wait until the Deployment's Pods before this one have stopped (at most
    /// --timeout), so that two hooks never run at once: the Deployment's init
    /// container
    WaitForPredecessors(predecessors::WaitArgs),
    /// Print a completion script for a shell: `source <(connect-operator completions bash)`
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// A connector named on the command line, and where to look for it.
#[derive(Args, Debug)]
pub struct OneArgs {
    /// The connector's name
    pub name: String,

    /// The cluster that runs it [default: the one its ConfigMap names, else `default`]
    #[arg(long)]
    pub cluster: Option<String>,

    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: Format,

    /// Where the manifests are, to find the ConfigMap that declares it.
    #[command(flatten)]
    pub sources: Manifests,

    /// Where the clusters are.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `restart`. In every command the flags that say what it does come first:
/// clap puts a flag declared after a flattened group under that group's
/// heading ("Connect:"), where nobody looks for `--failed-only`.
#[derive(Args, Debug)]
pub struct RestartArgs {
    /// Restart only this task
    #[arg(long, value_name = "N", conflicts_with = "failed_only")]
    pub task: Option<u32>,

    /// Restart only the connector and tasks that FAILED
    #[arg(long)]
    pub failed_only: bool,

    /// Which connector.
    #[command(flatten)]
    pub one: OneArgs,
}

/// `offsets`.
#[derive(Subcommand, Debug)]
pub enum OffsetsCommand {
    /// Print the committed offsets (JSON with -o json, as `alter --file` takes them)
    Get(OneArgs),
    /// Forget the committed offsets, so the connector starts over
    Reset(OneArgs),
    /// Set offsets from a file of {"offsets": [{"partition": ..., "offset": ...}]}; a null offset forgets one
    Alter(AlterArgs),
}

/// `offsets alter`.
#[derive(Args, Debug)]
pub struct AlterArgs {
    /// The offsets, as `offsets get -o json` prints them
    #[arg(long, value_name = "OFFSETS.json")]
    pub file: PathBuf,

    /// Which connector.
    #[command(flatten)]
    pub one: OneArgs,
}

/// `plugins`.
#[derive(Args, Debug)]
pub struct PluginsArgs {
    /// The cluster to ask
    #[arg(long, default_value = "default")]
    pub cluster: String,

    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: Format,

    /// Where the clusters are.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `diff`, and the part of `apply` it shares.
#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Also delete connectors no manifest declares (refused when none declares anything)
    #[arg(long)]
    pub prune: bool,

    #[command(flatten)]
    /// The manifests, the clusters and the output format.
    pub read: ReadArgs,
}

/// `validate`.
#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Exit 1 on warnings too: a secret written as a literal in a template
    #[arg(long)]
    pub strict: bool,

    #[command(flatten)]
    /// The manifests, the clusters and the output format.
    pub read: ReadArgs,
}

/// `apply`.
#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Print the plan, change nothing (exit as `diff` does)
    #[arg(long, env = "DRY_RUN")]
    pub dry_run: bool,

    /// Also restart connectors and tasks that Connect reports FAILED
    #[arg(long)]
    pub restart_failed: bool,

    /// After the writes, wait until every connector they touched and its
    /// tasks are in the declared state; exit 1 naming each that is not
    #[arg(long, value_name = "TIMEOUT", num_args = 0..=1, default_missing_value = "5m", value_parser = humantime::parse_duration)]
    pub wait: Option<Duration>,

    /// Apply none of the deletes when there are more than N on a cluster, and
    /// exit 1 naming them (0 = no limit)
    #[arg(long, value_name = "N", default_value = crate::plan::brake::DEFAULT_DELETE_LIMIT, value_parser = DeleteLimit::parse)]
    pub delete_limit: DeleteLimit,

    #[command(flatten)]
    /// What `diff` takes too.
    pub plan: PlanArgs,

    #[command(flatten)]
    /// How many writes at once.
    pub concurrency: Concurrency,
}

/// What `status`, `validate` and `diff` read, and how they print it.
#[derive(Args, Debug)]
pub struct ReadArgs {
    #[arg(long, short, value_enum, default_value = "table")]
    /// Output format.
    pub output: Format,

    #[command(flatten)]
    /// Where the manifests are.
    pub sources: Sources,

    #[command(flatten)]
    /// Where the clusters are.
    pub connect: ConnectArgs,
}

/// `serve-metrics`.
#[derive(Args, Debug)]
pub struct ServeMetricsArgs {
    /// Address and port to serve on
    #[arg(long, env = "METRICS_LISTEN", default_value = "0.0.0.0:9115", value_name = "ADDR:PORT")]
    pub listen: String,

    /// shell-operator's HTTP server (SHELL_OPERATOR_LISTEN_ADDRESS and _PORT)
    #[arg(long, env = "SHELL_OPERATOR_URL", default_value = "http://127.0.0.1:9114", value_name = "URL")]
    pub shell_operator_url: String,
}

/// `render`.
#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Print secret values instead of [redacted]
    #[arg(long)]
    pub show_secrets: bool,

    /// Output format
    #[arg(long, short, value_enum, default_value = "json")]
    pub output: RenderFormat,

    #[command(flatten)]
    /// Where the manifests are.
    pub sources: Sources,

    #[command(flatten)]
    /// The clusters file, for the cluster each connector is shown with.
    pub clusters: ClustersArg,
}

impl PlanArgs {
    /// What the flags ask of `diff` and `apply`.
    #[must_use]
    pub fn request(&self) -> Request<'_> {
        let concurrency = crate::settings::DEFAULT_CONCURRENCY.into();
        Request {
            sources: &self.read.sources,
            connect: &self.read.connect,
            prune: self.prune,
            format: self.read.output,
            concurrency,
            // `diff` shows every delete; `apply --delete-limit` brakes.
            delete_limit: DeleteLimit::Off,
        }
    }
}

impl Cli {
    /// Parses the command line. A subcommand reads only its own environment
    /// variables: the top-level ones are the hook's, and its settings must
    /// not be parsed (nor fail) when the hook does not run.
    #[must_use]
    pub fn parse_args() -> Cli {
        let mut command = in_the_pod(Cli::command());
        let first = std::env::args_os().nth(1);
        let subcommand = first.as_ref().and_then(|a| a.to_str()).filter(|a| !a.starts_with('-'));
        if subcommand.is_some() {
            let ids: Vec<clap::Id> = command.get_arguments().map(|a| a.get_id().clone()).collect();
            for id in ids {
                command = command.mut_arg(id, |arg| arg.env(None));
            }
        }
        let matches = command.clone().try_get_matches().unwrap_or_else(|e| {
            if let Some(said) = from_environment(&e, &command) {
                eprintln!("error: {said}");
                std::process::exit(USAGE_ERROR);
            }
            exit(&e)
        });
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| exit(&e))
    }
}

/// The commands the Deployment's containers run, which nobody types.
const IN_THE_POD: [&str; 2] = ["serve-metrics", "wait-for-predecessors"];

/// The help lists the Pod's commands apart, under their own heading: clap
/// gives every subcommand the one heading, `Commands:`.
fn in_the_pod(command: clap::Command) -> clap::Command {
    let width = IN_THE_POD.iter().map(|name| name.len()).max().unwrap_or(0);
    let heading = command.get_styles().get_header();
    let mut section = format!("{heading}In the Pod:{heading:#}\n");
    for name in IN_THE_POD {
        let about = command.find_subcommand(name).and_then(clap::Command::get_about).map(ToString::to_string);
        section.push_str(&format!("  {name:width$}  {}\n", about.unwrap_or_default()));
    }
    IN_THE_POD
        .iter()
        .fold(command, |command, name| command.mut_subcommand(name, |pod| pod.hide(true)))
        .after_help(section)
}

/// The exit status of a command line clap refuses: an error like any other
/// (clap's own 2 is `diff`'s "something would change").
const USAGE_ERROR: i32 = 1;

/// Prints clap's message and exits: 0 for `--help` and `--version`, else
/// [`USAGE_ERROR`].
fn exit(e: &clap::Error) -> ! {
    // A closed stdout (`--help | head`) must not turn help into an error.
    let _ = e.print();
    std::process::exit(if e.use_stderr() { USAGE_ERROR } else { 0 })
}

/// A bad value that came from an environment variable, said as that
/// variable (`PRUNE=yes: ...`) rather than as a flag nobody typed.
fn from_environment(e: &clap::Error, command: &clap::Command) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(e.kind(), ErrorKind::InvalidValue | ErrorKind::ValueValidation) {
        return None;
    }
    let value = e.get(ContextKind::InvalidValue)?.to_string();
    let flag = e.get(ContextKind::InvalidArg)?.to_string();
    let long = flag.split_whitespace().next()?.strip_prefix("--")?.to_string();
    let typed = std::env::args().any(|a| a == format!("--{long}") || a.starts_with(&format!("--{long}=")));
    // The hook's copy of a flag a subcommand shares has no variable here: the subcommand's has.
    let env = arguments(command)
        .filter(|a| a.get_long() == Some(long.as_str()))
        .find_map(clap::Arg::get_env)?
        .to_string_lossy()
        .into_owned();
    if typed || std::env::var(&env).ok()? != value {
        return None;
    }
    // clap says "invalid value 'V' for '--flag <X>': CAUSE"; the cause is kept.
    let text = e.to_string();
    let cause = text.lines().next()?.split_once(&format!("'{flag}'"))?.1.trim_start_matches(':').trim();
    let cause = match (cause, e.get(ContextKind::ValidValue)) {
        ("", Some(ContextValue::Strings(valid))) => format!("not one of {}", valid.join(", ")),
        ("", _) => "not a valid value".to_string(),
        (cause, _) => cause.to_string(),
    };
    Some(format!("{env}={value}: {cause}"))
}

/// Every argument of the command and its subcommands.
fn arguments(command: &clap::Command) -> Box<dyn Iterator<Item = &clap::Arg> + '_> {
    Box::new(command.get_arguments().chain(command.get_subcommands().flat_map(arguments)))
}
