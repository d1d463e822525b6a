//! connect-operator: parse, run, and the one place that prints the error
//! and maps the outcome to an exit status. See the library for how a run works.

// As the library (see lib.rs), with its commented exceptions.
#![warn(clippy::pedantic)]
#![allow(clippy::doc_markdown, clippy::missing_errors_doc)]

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use log::{error, info};

use connect_operator::cli::{Cli, Command, OffsetsCommand, OneArgs};
use connect_operator::day2::offsets;
use connect_operator::day2::one::{self, Named};
use connect_operator::gitops::apply;
use connect_operator::gitops::{self, Verdict};
use connect_operator::model::connector::TargetState;
use connect_operator::model::requests::OffsetsChange;
use connect_operator::settings::HookArgs;
use connect_operator::{completions, day2, hook, input, logging, metrics_port, predecessors, render};

fn main() -> ExitCode {
    let json_logs = std::env::var("LOG_TYPE").is_ok_and(|t| t.eq_ignore_ascii_case("json"));
    // streaming-ops' DEBUG=true, the same switch; unlike its debug output, no secret is printed.
    let debug = std::env::var("DEBUG").is_ok_and(|d| d == "true");
    logging::init(json_logs, debug);
    // The renderer's child is no command of the command line: never listed, suggested or completed.
    if std::env::args_os().nth(1).is_some_and(|a| a == render::worker::WORKER_COMMAND) {
        return match render::worker::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                error!("{e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let cli = Cli::parse_args();
    match run(&cli) {
        Ok(Verdict::Done) => ExitCode::SUCCESS,
        Ok(Verdict::Failed) => ExitCode::FAILURE,
        Ok(Verdict::Changes) => ExitCode::from(2),
        Ok(Verdict::NotAsDeclared) => ExitCode::from(3),
        Err(e) => {
            error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<Verdict> {
    if cli.config {
        let (hook, namespace) = (&cli.hook, input::operator_namespace());
        let config = input::hook_config::config(
            hook.config.watch_namespaces.as_deref(),
            &hook.config.resync_schedule,
            &namespace,
        );
        print!("{}", serde_yaml_ng::to_string(&config)?);
        return Ok(Verdict::Done);
    }
    match (&cli.command, &cli.hook.binding_context) {
        (Some(Command::Render(args)), _) => {
            gitops::render::run(&args.sources, &args.clusters, args.show_secrets, args.output)
        }
        (Some(Command::Diff(args)), _) => apply::diff(&args.request()),
        (Some(Command::Apply(args)), _) => {
            let request = apply::Request {
                concurrency: args.concurrency.connect_concurrency.into(),
                delete_limit: args.delete_limit,
                ..args.plan.request()
            };
            apply::apply(&request, args.dry_run, args.restart_failed, args.wait)
        }
        (Some(Command::Describe(args)), _) => one::describe(&named(args)?, args.output),
        (Some(Command::Pause(args)), _) => one::set_state(&named(args)?, TargetState::Paused),
        (Some(Command::Resume(args)), _) => one::set_state(&named(args)?, TargetState::Running),
        (Some(Command::Stop(args)), _) => one::set_state(&named(args)?, TargetState::Stopped),
        (Some(Command::Restart(args)), _) => one::restart(&named(&args.one)?, args.task, args.failed_only),
        (Some(Command::Offsets(OffsetsCommand::Get(args))), _) => offsets::get(&named(args)?, args.output),
        (Some(Command::Offsets(OffsetsCommand::Reset(args))), _) => {
            offsets::change(&named(args)?, &OffsetsChange::Reset)
        }
        (Some(Command::Offsets(OffsetsCommand::Alter(args))), _) => {
            let wanted = offsets::read_file(&args.file)?;
            offsets::change(&named(&args.one)?, &OffsetsChange::Alter(wanted))
        }
        (Some(Command::Plugins(args)), _) => day2::plugins::run(&args.connect, &args.cluster, args.output),
        (Some(Command::Export(args)), _) => day2::export::run(args),
        (Some(Command::Status(args)), _) => gitops::status::run(&args.sources, &args.connect, args.output),
        (Some(Command::Validate(args)), _) => {
            gitops::validate::run(&args.read.sources, &args.read.connect, args.read.output, args.strict)
        }
        (Some(Command::ServeMetrics(args)), _) => {
            metrics_port::serve(&args.listen, &args.shell_operator_url).map(|()| Verdict::Done)
        }
        (Some(Command::WaitForPredecessors(request)), _) => predecessors::wait(request).map(|()| Verdict::Done),
        (Some(Command::Completions { shell }), _) => {
            match std::io::Write::write_all(&mut std::io::stdout(), completions::script(*shell).as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(Verdict::Done),
            }
        }
        (None, Some(path)) => run_hook(path, &cli.hook),
        (None, None) => anyhow::bail!(
            "BINDING_CONTEXT_PATH is not set: connect-operator runs as a shell-operator hook, or with a command \
             (connect-operator --help lists them)"
        ),
    }
}

/// The connector a one-connector command names.
fn named(args: &OneArgs) -> Result<Named> {
    Named::find(&args.name, &args.sources, &args.connect, args.cluster.as_deref())
}

/// The hook: 0 when nothing is left to retry, 1 when shell-operator should
/// run it again.
fn run_hook(path: &Path, args: &HookArgs) -> Result<Verdict> {
    let work = input::bindings::read(path)?;
    if !args.templates.config_dir.exists() {
        info!("no properties directory at {}: templates see only the environment", args.templates.config_dir.display());
    }
    let renderer = args.templates.renderer(args.templates.variables(std::env::vars()))?;
    let clusters = args.connect.hook_clusters(args.concurrency.connect_concurrency.into())?;
    let report = hook::run(&work, &renderer, &clusters, &args.options());
    // The process ends now: freeing every ConfigMap string by string would
    // cost a quiet event run at 10,000 ConfigMaps a tenth of its work
    // (clang's -disable-free, for the same reason).
    std::mem::forget(work);
    Ok(if report.success() { Verdict::Done } else { Verdict::Failed })
}
