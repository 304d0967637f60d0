//! `deps-update update` (and `deps-update NAME...`): vendor new versions on update branches.

use super::failures::Failure;
use super::{Outcome, for_each_dependency, load_manifest, source_context, table};
use crate::apply::{ApplyOptions, UpdateResult, update_group};
use crate::audit::dashboard::{Section, UpdateRow, UpdateState, sync_section, updates_section};
use crate::check::short;
use crate::cli::{GlobalArgs, UpdateArgs};
use crate::commands::report::{CommandError, hints};
use crate::forge::PullRequestOutcome;
use crate::manifest::Dependency;
use crate::printer::{Printer, sanitize};
use crate::publish::{change_target, project_site, publish, publishable};
use crate::summary::{BranchState, UpdateSummary};

pub async fn run(
    global: &GlobalArgs,
    args: &UpdateArgs,
    printer: &Printer,
) -> Result<Outcome, crate::commands::report::CommandError> {
    if args.short_form {
        short_form(global, &args.names)?;
    }
    let working = load_manifest(global)?;
    let names = if args.all {
        Vec::new()
    } else {
        args.names.clone()
    };
    working.select(&names)?;
    // Everything comes from the base commit: the rules, the recorded versions, the patches,
    // and the registry the update commits.
    let basis = crate::apply::base::committed(&working, args.base.as_deref())
        .map_err(|e| CommandError::Base(Box::new(e)))?;
    if basis.working_copy_differs {
        printer.warn(&format!(
            "`{}` in the working copy differs from the one committed on {}: the update is built from the committed one (commit your change, and push it when the base is a remote branch, to use it)",
            working.file.display(),
            basis.described()
        ));
    }
    printer.status(&format!("building on {}", basis.described()));
    let manifest = &basis.manifest;
    if let Some(name) = names
        .iter()
        .find(|n| !manifest.deps.iter().any(|d| &d.name == *n))
    {
        return Err(CommandError::Base(Box::new(
            crate::apply::ApplyError::NotAtBase {
                name: name.clone(),
                base: basis.described(),
            },
        )));
    }
    let deps = manifest.select(&names)?;
    let context = source_context(global, manifest, printer, super::Answers::Fresh)?;
    let options = ApplyOptions {
        dry_run: args.dry_run,
        diff: args.diff,
        color: printer.color_stdout(),
        create_missing: args.create_missing,
    };
    let now = super::now();
    let publishing = args.push || args.pr;
    // The project's forge: its token pushes, and with `--pr` its change requests go there.
    let site = project_site(manifest, &context)?;
    let target = if args.pr {
        let target = change_target(manifest, &context)?;
        crate::publish::token_that_writes(
            &target.site,
            &context.http,
            target.site.info().change_request,
        )?;
        Some(target)
    } else {
        None
    };
    // The dashboard's repository, and a token that may write there, before anything is done.
    let dashboard = if args.dashboard {
        Some(crate::publish::issue_target(
            manifest,
            &context,
            args.repository.as_deref(),
        )?)
    } else {
        None
    };
    // Each dependency (or group) is updated, then published, on its own: one failure stops
    // only itself.
    let units = manifest.units(&deps);
    for unit in units.iter().filter(|u| u.len() > 1) {
        printer.status(&format!(
            "group `{}`: {} on one branch",
            unit[0].group.as_deref().unwrap_or_default(),
            unit.iter()
                .map(|d| format!("`{}`", d.name))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let units: Vec<&[&Dependency]> = units.iter().map(Vec::as_slice).collect();
    let results = for_each_dependency(&units, global.jobs, |members| {
        let (basis, manifest, context, site, target) =
            (&basis, manifest, &context, &site, target.as_ref());
        async move {
            let results = update_group(members, basis, context, options, now).await;
            let updates: Vec<&UpdateSummary> = results
                .iter()
                .filter_map(|r| match r {
                    Ok(UpdateResult::Updated(update)) => Some(update.as_ref()),
                    _ => None,
                })
                .collect();
            let complete = results.iter().all(Result::is_ok);
            let published = if publishing
                && complete
                && !updates.is_empty()
                && updates.iter().all(|u| publishable(u))
            {
                let group = members[0].group.as_deref();
                Some(publish(members, group, &updates, manifest, context, site, target).await)
            } else {
                None
            };
            (results, published)
        }
    })
    .await;

    let mut rows = vec![vec![
        "NAME".into(),
        "FROM".into(),
        "TO".into(),
        "RESULT".into(),
    ]];
    let mut summary = Summary::default();
    let mut entries = Vec::new();
    for (members, (results, published)) in &results {
        for (dep, result) in members.iter().zip(results) {
            let name = dep.name.clone();
            entries.push(json_entry(dep, result, published.as_ref()));
            rows.push(match result {
                Ok(UpdateResult::UpToDate { current, note }) => {
                    let result = match note {
                        Some(note) => format!("up to date ({})", sanitize(note)),
                        None => "up to date".into(),
                    };
                    summary.rows.push((
                        name.clone(),
                        short(current).to_owned(),
                        "-".into(),
                        result.clone(),
                    ));
                    vec![name, short(current).to_owned(), "-".into(), result]
                }
                Ok(UpdateResult::Updated(update)) => {
                    if args.dry_run && !args.json {
                        printer.data(&preview(update));
                    }
                    let mut text = outcome_text(update);
                    match published {
                        Some(Ok(published)) => {
                            if published.pushed {
                                text.push_str("; pushed");
                            }
                            if let Some(pr) = &published.pull_request {
                                summary
                                    .pull_requests
                                    .push((name.clone(), pr.url().to_owned()));
                                text.push_str(&format!("; {}", pr_text(pr)));
                            }
                        }
                        Some(Err(_)) => {
                            text.push_str("; publishing failed (see below)");
                            summary.failed.push(name.clone());
                        }
                        None => {}
                    }
                    if matches!(
                        update.state,
                        BranchState::Committed(_) | BranchState::Unchanged(_)
                    ) {
                        summary.updated.push(name.clone());
                    }
                    let (from, to) = (
                        short(&update.old_version).to_owned(),
                        sanitize(short(&update.new_version)),
                    );
                    summary
                        .rows
                        .push((name.clone(), from.clone(), to.clone(), text.clone()));
                    vec![name, from, to, text]
                }
                Err(_) => {
                    summary.failed.push(name.clone());
                    let from = dep
                        .tracking
                        .recorded()
                        .map_or_else(|| "-".to_owned(), |v| short(&v).to_owned());
                    summary
                        .rows
                        .push((name.clone(), from.clone(), "-".into(), "failed".into()));
                    vec![name, from, "-".into(), "error (see below)".into()]
                }
            });
        }
    }
    if !args.json {
        printer.data(&table(&rows));
    }
    let mut failures = Vec::new();
    for (members, (results, published)) in &results {
        for (dep, result) in members.iter().zip(results) {
            if let Err(error) = result {
                failures.push(Failure {
                    label: format!("`{}`", dep.name),
                    name: dep.name.clone(),
                    error,
                    hints: hints(error),
                });
            }
        }
        if let Some(Err(error)) = published {
            let (label, name) = match &members[0].group {
                Some(group) => (format!("group `{group}`"), group.clone()),
                None => (format!("`{}`", members[0].name), members[0].name.clone()),
            };
            failures.push(Failure {
                label,
                name,
                error,
                hints: hints(error),
            });
        }
    }
    let failed = failures.len();
    super::failures::print(printer, &failures);
    if args.json {
        let failures: Vec<serde_json::Value> = failures
            .iter()
            .map(|f| super::failures::json(Some(&f.name), f.error, &f.hints))
            .collect();
        printer.data(&format!(
            "{}\n",
            serde_json::json!({"dependencies": entries, "failures": failures})
        ));
    }
    let committed: Vec<&UpdateSummary> = results
        .iter()
        .flat_map(|(_, (results, _))| results)
        .filter_map(|r| match r {
            Ok(UpdateResult::Updated(u)) if matches!(u.state, BranchState::Committed(_)) => {
                Some(u.as_ref())
            }
            _ => None,
        })
        .collect();
    if !committed.is_empty() && !publishing {
        let branches: Vec<String> = committed
            .iter()
            .map(|u| format!("`{}`", u.branch))
            .collect();
        let names: Vec<&str> = committed.iter().map(|u| u.name.as_str()).collect();
        printer.status(&format!(
            "next: review {} ({}, e.g. `git log -p {}`), then publish with `deps-update update {} --push`, or `--pr` to also open {}",
            if committed.len() == 1 { "the branch" } else { "the branches" },
            branches.join(", "),
            committed[0].branch,
            names.join(" "),
            if committed.len() == 1 { "a pull request" } else { "pull requests" }
        ));
    }
    summary.write_github_files(printer);
    if let Some((dashboard, issues)) = &dashboard {
        let base = args
            .base
            .clone()
            .unwrap_or_else(|| basis.base.branch_name());
        let text = updates_section(&base, &dashboard_rows(&results), run_page().as_deref());
        let outcome = sync_section(
            *issues,
            &context.http,
            dashboard,
            &Section::Updates(base),
            &text,
        )
        .await?;
        printer.status(&outcome.said(&dashboard.repository));
    }
    Ok(if failed == 0 {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    })
}

type UnitResults<'a> = (
    &'a [&'a Dependency],
    (
        Vec<Result<UpdateResult, crate::apply::ApplyError>>,
        Option<Result<crate::publish::Published, crate::publish::PublishError>>,
    ),
);

/// Each dependency's state after the run, for the dashboard.
fn dashboard_rows(results: &[UnitResults<'_>]) -> Vec<UpdateRow> {
    let first_line = |error: &dyn std::error::Error| {
        sanitize(error.to_string().lines().next().unwrap_or_default())
    };
    let mut rows = Vec::new();
    for (members, (results, published)) in results {
        for (dep, result) in members.iter().zip(results) {
            let recorded = dep.tracking.recorded().unwrap_or_default();
            rows.push(match result {
                Ok(UpdateResult::UpToDate { current, note }) => UpdateRow {
                    name: dep.name.clone(),
                    vendored: current.clone(),
                    newest: None,
                    state: UpdateState::UpToDate { note: note.clone() },
                },
                Ok(UpdateResult::Updated(update)) => UpdateRow {
                    name: dep.name.clone(),
                    vendored: update.old_version.to_string(),
                    newest: Some(update.new_version.clone()),
                    state: match published {
                        Some(Ok(published)) => match &published.pull_request {
                            Some(pr) => UpdateState::Proposed {
                                number: pr.number(),
                                url: pr.url().to_owned(),
                            },
                            None => UpdateState::Committed {
                                branch: update.branch.clone(),
                            },
                        },
                        Some(Err(error)) => UpdateState::Failed {
                            reason: first_line(error),
                        },
                        None => UpdateState::Committed {
                            branch: update.branch.clone(),
                        },
                    },
                },
                Err(error) => UpdateRow {
                    name: dep.name.clone(),
                    vendored: recorded,
                    newest: None,
                    state: UpdateState::Failed {
                        reason: first_line(error),
                    },
                },
            });
        }
    }
    rows
}

/// The page of the CI run this is, when a CI says: GitHub Actions (and Gitea's, which sets
/// the same variables), GitLab CI.
fn run_page() -> Option<String> {
    let env = crate::process::env;
    if let (Some(server), Some(repository), Some(run)) = (
        env("GITHUB_SERVER_URL"),
        env("GITHUB_REPOSITORY"),
        env("GITHUB_RUN_ID"),
    ) {
        return Some(format!(
            "{}/{repository}/actions/runs/{run}",
            server.trim_end_matches('/')
        ));
    }
    env("CI_JOB_URL")
}

/// `deps-update NAME...`: a first word that is neither a subcommand nor a dependency is a
/// typo of one of them (`chekc`), said as such with the nearest of both, not as an unknown
/// dependency.
pub(super) fn short_form(global: &GlobalArgs, names: &[String]) -> Result<(), CommandError> {
    let Some(first) = names.first() else {
        return Ok(());
    };
    let cli = crate::cli::command();
    let commands: Vec<String> = cli
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_owned())
        .collect();
    let manifest = load_manifest(global).ok();
    let deps: Vec<String> = manifest
        .iter()
        .flat_map(|m| m.deps.iter().map(|d| d.name.clone()))
        .collect();
    if deps.contains(first) {
        return Ok(());
    }
    let nearest_command = crate::suggest::nearest(first, commands.iter().map(String::as_str));
    if manifest.is_none() && nearest_command.is_none() {
        // Most likely a dependency of a registry that cannot be read: say why not.
        return Ok(());
    }
    let nearest = crate::suggest::nearest(first, commands.iter().chain(&deps).map(String::as_str));
    Err(CommandError::UnknownWord {
        name: first.clone(),
        nearest: nearest.map(str::to_owned),
        registry: manifest.is_some(),
    })
}

/// What the run did, for `GITHUB_STEP_SUMMARY` (markdown) and `GITHUB_OUTPUT` (JSON values).
#[derive(Debug, Default)]
struct Summary {
    rows: Vec<(String, String, String, String)>,
    updated: Vec<String>,
    pull_requests: Vec<(String, String)>,
    failed: Vec<String>,
}

impl Summary {
    fn write_github_files(&self, printer: &Printer) {
        let append = |variable: &str, text: &str| {
            let Some(path) = std::env::var_os(variable) else {
                return;
            };
            let written = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()));
            if let Err(error) = written {
                printer.warn(&format!(
                    "cannot write `{variable}` ({}): {error}",
                    path.to_string_lossy()
                ));
            }
        };
        let mut markdown = String::from(
            "## deps-update\n\n| Dependency | From | To | Result |\n| --- | --- | --- | --- |\n",
        );
        for (name, from, to, result) in &self.rows {
            let cell = |t: &str| t.replace('|', "\\|");
            markdown.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                cell(name),
                cell(from),
                cell(to),
                cell(result)
            ));
        }
        append("GITHUB_STEP_SUMMARY", &format!("{markdown}\n"));
        let pull_requests: serde_json::Map<String, serde_json::Value> = self
            .pull_requests
            .iter()
            .map(|(name, url)| (name.clone(), serde_json::Value::String(url.clone())))
            .collect();
        append(
            "GITHUB_OUTPUT",
            &format!(
                "updated={}\npull-requests={}\nfailed={}\n",
                serde_json::json!(self.updated),
                serde_json::Value::Object(pull_requests),
                serde_json::json!(self.failed)
            ),
        );
    }
}

/// One dependency's result in `update --json`.
fn json_entry(
    dep: &Dependency,
    result: &Result<UpdateResult, crate::apply::ApplyError>,
    published: Option<&Result<crate::publish::Published, crate::publish::PublishError>>,
) -> serde_json::Value {
    let (pushed, pull_request) = match published {
        Some(Ok(published)) => (
            published.pushed,
            published
                .pull_request
                .as_ref()
                .map(|pr| pr.url().to_owned()),
        ),
        _ => (false, None),
    };
    match result {
        Ok(UpdateResult::UpToDate { current, note }) => serde_json::json!({
            "name": dep.name,
            "from": current,
            "to": null,
            "result": "up-to-date",
            "branch": null,
            "commit": null,
            "pushed": false,
            "pull_request": null,
            "note": note,
        }),
        Ok(UpdateResult::Updated(update)) => {
            let (result, commit) = match &update.state {
                BranchState::Committed(commit) => ("committed", Some(commit)),
                BranchState::Unchanged(commit) => ("unchanged", Some(commit)),
                BranchState::Previewed => ("previewed", None),
            };
            serde_json::json!({
                "name": dep.name,
                "from": update.old_version,
                "to": update.new_version,
                "result": result,
                "branch": update.branch,
                "commit": commit,
                "pushed": pushed,
                "pull_request": pull_request,
                "note": null,
            })
        }
        Err(_) => serde_json::json!({
            "name": dep.name,
            "from": dep.tracking.recorded(),
            "to": null,
            "result": "failed",
            "branch": null,
            "commit": null,
            "pushed": false,
            "pull_request": null,
            "note": null,
        }),
    }
}

fn pr_text(pr: &PullRequestOutcome) -> String {
    match pr {
        PullRequestOutcome::Created { number, .. } => format!("opened #{number}"),
        PullRequestOutcome::Refreshed { number, .. } => format!("refreshed #{number}"),
        PullRequestOutcome::Unchanged { number, .. } => format!("#{number} unchanged"),
    }
}

fn outcome_text(update: &UpdateSummary) -> String {
    match &update.state {
        BranchState::Committed(commit) => {
            format!("committed {} on {}", short(commit), update.branch)
        }
        BranchState::Unchanged(commit) => {
            format!("already on {} ({})", update.branch, short(commit))
        }
        BranchState::Previewed => "dry run: nothing written".into(),
    }
}

/// What `--dry-run` shows for one dependency.
fn preview(update: &UpdateSummary) -> String {
    let mut text = format!(
        "{}: {} -> {} (dry run, nothing written)\n  from: {}\n",
        update.name,
        update.old_version,
        sanitize(&update.new_version),
        update.source
    );
    if let Some(sha256) = &update.verification.sha256 {
        text.push_str(&format!("  sha256: {sha256}\n"));
    }
    for check in &update.verification.checks {
        text.push_str(&format!("  verified: {check}\n"));
    }
    // Paths come from upstream's archive too: no control characters reach the terminal.
    for kept in &update.kept {
        text.push_str(&format!(
            "  kept: {}\n",
            sanitize(&kept.display().to_string())
        ));
    }
    for carried in &update.carried {
        text.push_str(&format!(
            "  carried over: {} ({})\n",
            sanitize(&carried.path.display().to_string()),
            carried.kind.as_str()
        ));
    }
    for patch in &update.patches {
        let state = match patch.state {
            crate::patch::PatchState::Applied => "applied",
            crate::patch::PatchState::AlreadyUpstream => "already upstream (can be deleted)",
            crate::patch::PatchState::Merged => "merged three-way (refresh it)",
        };
        text.push_str(&format!("  patch: {} {state}\n", patch.patch));
    }
    for line in update.changes.table().lines() {
        text.push_str(&format!("  {}\n", sanitize(line)));
    }
    text.push_str(&format!("  {}\n", update.changes.totals()));
    if let Some(diff) = &update.diff {
        text.push_str(diff);
    }
    text.push('\n');
    text
}
