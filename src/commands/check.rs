//! `deps-update check`: is there a newer upstream version of each dependency?

use serde_json::json;

use super::{Outcome, for_each_dependency, load_manifest, source_context, table};
use crate::check::{DependencyError, Finding, check_dependency, short};
use crate::cli::{CheckArgs, GlobalArgs};
use crate::commands::report::hints;
use crate::manifest::Dependency;
use crate::printer::{Printer, sanitize};

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
    let results = for_each_dependency(&deps, global.jobs, |dep| {
        check_dependency(dep, &tree, &context, now)
    })
    .await;

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
                    "-".into(),
                    "-".into(),
                    "error (see below)".into(),
                ],
            });
        }
        printer.data(&table(&rows));
    }
    for (dep, result) in &results {
        if let Err(error) = result {
            printer.error(&format!("`{}`", dep.name), error, &hints(error));
        }
    }
    let stats = context.http.stats();
    printer.verbose(&format!(
        "{} HTTP requests, {} answered 304 Not Modified",
        stats.sent, stats.not_modified
    ));
    printer.status(&format!(
        "checked {} dependencies: {updates} with updates, {failed} failed",
        deps.len()
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
            })
        }
    }
}
