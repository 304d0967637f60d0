//! `deps-update update` (and `deps-update NAME...`): vendor new versions on update branches.

use super::{Outcome, for_each_dependency, load_manifest, source_context, table};
use crate::apply::{ApplyOptions, BranchState, Update, UpdateResult, update_dependency};
use crate::check::short;
use crate::cli::{GlobalArgs, UpdateArgs};
use crate::printer::{Printer, sanitize};
use crate::report::hints;

pub async fn run(
    global: &GlobalArgs,
    args: &UpdateArgs,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let manifest = load_manifest(global)?;
    let names = if args.all {
        Vec::new()
    } else {
        args.names.clone()
    };
    let deps = manifest.select(&names)?;
    let context = source_context(global, &manifest, printer)?;
    let options = ApplyOptions {
        dry_run: args.dry_run,
        diff: args.diff,
        color: printer.color_stdout(),
    };
    let now = super::now();
    let results = for_each_dependency(&deps, global.jobs, |dep| {
        update_dependency(dep, &manifest, &context, options, now)
    })
    .await;

    let mut rows = vec![vec![
        "NAME".into(),
        "FROM".into(),
        "TO".into(),
        "RESULT".into(),
    ]];
    for (dep, result) in &results {
        let name = dep.name.clone();
        rows.push(match result {
            Ok(UpdateResult::UpToDate { current, note }) => {
                let result = match note {
                    Some(note) => format!("up to date ({})", sanitize(note)),
                    None => "up to date".into(),
                };
                vec![name, short(current).to_owned(), "-".into(), result]
            }
            Ok(UpdateResult::Updated(update)) => {
                if args.dry_run {
                    printer.data(&preview(update));
                }
                vec![
                    name,
                    short(&update.old_version).to_owned(),
                    sanitize(short(&update.new_version)),
                    outcome_text(update),
                ]
            }
            Err(_) => vec![name, "-".into(), "-".into(), "error (see below)".into()],
        });
    }
    printer.data(&table(&rows));
    let mut failed = 0;
    for (dep, result) in &results {
        if let Err(error) = result {
            failed += 1;
            printer.error(&format!("`{}`", dep.name), error, &hints(error));
        }
    }
    Ok(if failed == 0 {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    })
}

fn outcome_text(update: &Update) -> String {
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
fn preview(update: &Update) -> String {
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
    for kept in &update.kept {
        text.push_str(&format!("  kept: {}\n", kept.display()));
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
