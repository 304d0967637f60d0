//! `deps-update check`: is there a newer upstream version of each dependency?

use serde_json::json;

use super::failures::Failure;
use super::{Outcome, for_each_dependency, load_manifest, source_context, table};
use crate::check::{DependencyError, Finding, check_dependency, short};
use crate::cli::{CheckArgs, GlobalArgs};
use crate::commands::report::hints;
use crate::manifest::Dependency;
use crate::printer::{Printer, sanitize};
use crate::suggest::count;

pub async fn run(
    global: &GlobalArgs,
    args: &CheckArgs,
    printer: &Printer,
) -> Result<Outcome, crate::commands::report::CommandError> {
    let manifest = load_manifest(global)?;
    let deps = manifest.select(&args.names)?;
    let context = source_context(global, &manifest, printer, super::Answers::Cached)?;
    let now = super::now();

    let tree = crate::vendored::VendoredTree::disk(&manifest.root);
    let tally = printer.tally("checking", deps.len());
    let results = for_each_dependency(&deps, global.jobs, |dep| {
        let (tree, context, tally) = (&tree, &context, &tally);
        async move {
            let result = check_dependency(dep, tree, context, now).await;
            tally.advance();
            result
        }
    })
    .await;
    drop(tally);

    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    let updates = results
        .iter()
        .filter(|(_, r)| matches!(r, Ok(f) if f.update_available))
        .count();
    if args.json {
        let entries: Vec<_> = results
            .iter()
            .map(|(dep, result)| json_entry(dep, result))
            .collect();
        printer.data(&format!("{}\n", serde_json::Value::Array(entries)));
    } else {
        let mut rows = vec![vec![
            "NAME".into(),
            "CURRENT".into(),
            "LATEST".into(),
            "STATUS".into(),
        ]];
        for (dep, result) in &results {
            rows.push(match result {
                Ok(finding) => vec![
                    dep.name.clone(),
                    short(&finding.current.to_string()).to_owned(),
                    sanitize(short(&finding.latest)),
                    match &dep.group {
                        Some(group) => format!("{}; group {group}", status_text(finding)),
                        None => status_text(finding),
                    },
                ],
                Err(_) => vec![
                    dep.name.clone(),
                    dep.tracking
                        .recorded()
                        .map_or_else(|| "-".to_owned(), |v| short(&v).to_owned()),
                    "-".into(),
                    "error (see below)".into(),
                ],
            });
        }
        printer.data(&table(&rows));
    }
    let failures: Vec<Failure<'_>> = results
        .iter()
        .filter_map(|(dep, result)| {
            let error = result.as_ref().err()?;
            Some(Failure {
                label: format!("`{}`", dep.name),
                name: dep.name.clone(),
                error,
                hints: hints(error),
            })
        })
        .collect();
    super::failures::print(printer, &failures);
    let stats = context.http.stats();
    printer.verbose(&format!(
        "{} HTTP requests, {} answered 304 Not Modified",
        stats.sent, stats.not_modified
    ));
    printer.status(&format!(
        "checked {}: {updates} with updates, {failed} failed",
        count(deps.len(), "dependency", "dependencies")
    ));
    Ok(if failed == 0 {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    })
}

fn status_text(finding: &Finding) -> String {
    let status = if finding.update_available {
        "update available"
    } else {
        "up to date"
    };
    match &finding.note {
        Some(note) => format!("{status} ({})", sanitize(note)),
        None => status.to_owned(),
    }
}

fn json_entry(dep: &Dependency, result: &Result<Finding, DependencyError>) -> serde_json::Value {
    match result {
        Ok(finding) => json!({
            "name": dep.name,
            "source": dep.source.kind(),
            "current": finding.current.to_string(),
            "latest": finding.latest,
            "tag": finding.tag,
            "status": if finding.update_available { "update-available" } else { "up-to-date" },
            "note": finding.note,
            "group": dep.group,
            "error": null,
            "failure": null,
        }),
        Err(error) => {
            let mut message = error.to_string();
            let mut cause = std::error::Error::source(error);
            while let Some(c) = cause {
                message.push_str(&format!(": {c}"));
                cause = c.source();
            }
            json!({
                "name": dep.name,
                "source": dep.source.kind(),
                "current": dep.tracking.recorded(),
                "latest": null,
                "tag": null,
                "status": "error",
                "note": null,
                "group": dep.group,
                "error": message,
                "failure": super::failures::json(Some(&dep.name), error, &hints(error)),
            })
        }
    }
}
