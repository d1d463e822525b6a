//! `diff` and `apply`: the hook's plan for the manifests, printed or
//! carried out.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Result;

use crate::connect::Caller;
use crate::execute::{execute, How, Progress, Report};
use crate::gitops::output::{colors, paint, print_plans, results_table, Format};
use crate::gitops::{planned, Planned, Verdict};
use crate::plan::{DeleteLimit, Restarts};
use crate::settings::{ConnectArgs, Sources};
use crate::settle::followed;

/// `diff`'s exit status: 1 on errors, 2 when something would change, else 0.
fn diff_verdict(planned: &[Planned]) -> Verdict {
    let problems = planned.iter().any(|p| !p.plan.problems.is_empty());
    let writes: usize = planned.iter().map(|p| p.plan.writes()).sum();
    match (problems, writes) {
        (true, _) => Verdict::Failed,
        (false, 0) => Verdict::Done,
        (false, _) => Verdict::Changes,
    }
}

/// The plans `request` asks for.
fn planned_for(request: &Request, restarts: Restarts) -> Result<(crate::redact::Scrubber, Vec<Planned>)> {
    planned(request.sources, request.connect, request.prune, request.delete_limit, restarts, request.concurrency)
}

/// Says, for a person at the terminal, which deletes the brake held;
/// whether it held any.
fn braked(planned: &[Planned]) -> bool {
    let mut held = false;
    for p in planned {
        let Some(brake) = p.plan.brake else { continue };
        let names: Vec<&str> = p.plan.held().collect();
        log::error!("cluster {}: deletes held: {brake}: {}", p.connected.cluster, names.join(", "));
        held = true;
    }
    held
}

/// What the flags of `diff` and `apply` say.
pub struct Request<'a> {
    /// Where the manifests are.
    pub sources: &'a Sources,
    /// Where the clusters are.
    pub connect: &'a ConnectArgs,
    /// Also delete what no manifest declares.
    pub prune: bool,
    /// How to print.
    pub format: Format,
    /// Writes at once (`apply --connect-concurrency`).
    pub concurrency: usize,
    /// The brake on mass deletion (`apply --delete-limit`).
    pub delete_limit: DeleteLimit,
}

/// Prints what applying the manifests would do.
pub fn diff(request: &Request) -> Result<Verdict> {
    let (_, planned) = planned_for(request, Restarts::Automatic(0))?;
    print_plans(&planned, None, request.format)?;
    Ok(diff_verdict(&planned))
}

/// Applies the manifests as the hook would; with `dry_run`, prints as `diff`.
pub fn apply(request: &Request, dry_run: bool, restart_failed: bool, wait: Option<Duration>) -> Result<Verdict> {
    let restarts = if restart_failed { Restarts::Now } else { Restarts::Automatic(0) };
    let (scrubber, planned) = planned_for(request, restarts)?;
    if dry_run {
        print_plans(&planned, None, request.format)?;
        return Ok(diff_verdict(&planned));
    }
    // On a terminal, a progress line instead of a log line per write: the
    // table printed after the writes names each.
    let writes: usize = planned.iter().map(|p| p.plan.writes()).sum();
    let show_progress = std::io::stderr().is_terminal() && writes > 0;
    let level = log::max_level();
    if show_progress {
        log::set_max_level(log::LevelFilter::Warn);
    }
    let mut total = Report::default();
    let mut all_results = Vec::new();
    for p in &planned {
        let cluster = &p.connected.cluster;
        let progress = |sent: usize, total: usize| eprint!("\rapplying to {cluster}: {sent}/{total}");
        let how =
            How { dry_run: false, max_restarts: 0, progress: show_progress.then_some(&progress as &Progress<'_>) };
        let (report, results) = execute(&p.plan, &p.connected.client, &scrubber, &how);
        total.add(&report);
        all_results.push(results);
    }
    if show_progress {
        eprintln!();
        log::set_max_level(level);
    }
    match request.format {
        Format::Json => print_plans(&planned, Some(&all_results), Format::Json)?,
        Format::Table => {
            for (p, results) in planned.iter().zip(&all_results) {
                let table = results_table(&p.plan, results, &p.connected.cluster, colors());
                if planned.len() > 1 && !table.is_empty() {
                    println!("cluster {}:", p.connected.cluster);
                }
                print!("{table}");
            }
            println!("{}", total.summary());
        }
    }
    let mut not_there = Vec::new();
    if let Some(timeout) = wait {
        for (p, results) in planned.iter().zip(&all_results) {
            let followed = followed(&p.plan, results, Caller::Terminal);
            let settled = crate::settle::wait(
                &p.connected.client,
                &p.connected.cluster,
                &followed,
                timeout,
                &scrubber,
                Caller::Terminal,
            );
            not_there.extend(settled.not_there);
        }
        for line in &not_there {
            println!("{}", paint(&format!("! {line}"), "31", colors()));
        }
    }
    // Like `terraform apply`: anything declared but not applied fails the command.
    let applied = total.failed == 0 && total.unfinished == 0 && !braked(&planned);
    Ok(if applied && not_there.is_empty() { Verdict::Done } else { Verdict::Failed })
}
