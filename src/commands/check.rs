//! `deps-update check`: is there a newer upstream version of each dependency?

use serde_json::json;

use super::failures::Failure;
use super::{Outcome, for_each_dependency, load_manifest, source_context, table};
use crate::check::{DependencyError, Finding, check_dependency, short};
use crate::cli::{CheckArgs, GlobalArgs};
use crate::commands::report::{CommandError, hints};
use crate::manifest::Dependency;
use crate::printer::{Printer, sanitize};
use crate::suggest::count;

/// What one run checks: the working copy, or each release line as git holds it.
struct View {
    /// `None`: the working copy.
    line: Option<String>,
    manifest: crate::manifest::Manifest,
    tree: crate::vendored::VendoredTree,
}

pub async fn run(
    global: &GlobalArgs,
    args: &CheckArgs,
    printer: &Printer,
) -> Result<Outcome, crate::commands::report::CommandError> {
    let manifest = load_manifest(global)?;
    let views: Vec<View> = if args.refs.is_empty() {
        manifest.select(&args.names)?;
        vec![View {
            line: None,
            tree: crate::vendored::VendoredTree::disk(&manifest.root),
            manifest: manifest.clone(),
        }]
    } else {
        let lines = super::release_lines(&manifest, &args.refs)?;
        let mut views = Vec::new();
        for (line, by_pattern) in &lines {
            match crate::blocking::blocking(|| crate::apply::base::committed(&manifest, Some(line)))
            {
                Ok(basis) => views.push(View {
                    line: Some(line.clone()),
                    manifest: basis.manifest,
                    tree: basis.tree,
                }),
                Err(crate::apply::ApplyError::ManifestNotCommitted { .. }) if *by_pattern => {
                    printer.status(&format!(
                        "`{}` has no `{}`: left out",
                        sanitize(line),
                        manifest.file.display()
                    ));
                }
                Err(error) => return Err(CommandError::Base(Box::new(error))),
            }
        }
        if views.is_empty() {
            return Err(CommandError::Base(Box::new(
                crate::apply::ApplyError::NoLines {
                    refs: args.refs.join("`, `"),
                },
            )));
        }
        views
    };
    // A name no line has is a typo, not a dependency newer than some line.
    if let Some(name) = args.names.iter().find(|n| {
        views
            .iter()
            .all(|v| !v.manifest.deps.iter().any(|d| &d.name == *n))
    }) {
        views[0].manifest.select(std::slice::from_ref(name))?;
    }
    let items: Vec<(&Option<String>, &crate::vendored::VendoredTree, &Dependency)> = views
        .iter()
        .flat_map(|view| {
            view.manifest
                .deps
                .iter()
                .filter(|d| args.names.is_empty() || args.names.contains(&d.name))
                .map(move |dep| (&view.line, &view.tree, dep))
        })
        .collect();
    let on_lines = !args.refs.is_empty();
    let context = source_context(global, &manifest, printer, super::Answers::Cached)?;
    let now = super::now();

    let tally = printer.tally("checking", items.len());
    let results = for_each_dependency(&items, global.jobs, |(_, tree, dep)| {
        let (context, tally) = (&context, &tally);
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
            .map(|((line, _, dep), result)| {
                let mut entry = json_entry(dep, result);
                if on_lines {
                    entry["line"] = serde_json::json!(line);
                }
                entry
            })
            .collect();
        printer.data(&format!("{}\n", serde_json::Value::Array(entries)));
    } else {
        let mut header: Vec<String> = Vec::new();
        if on_lines {
            header.push("LINE".into());
        }
        header.extend(["NAME", "CURRENT", "LATEST", "STATUS"].map(String::from));
        let mut rows = vec![header];
        for ((line, _, dep), result) in &results {
            let mut row: Vec<String> = Vec::new();
            if on_lines {
                row.push(sanitize(line.as_deref().unwrap_or_default()));
            }
            row.extend(match result {
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
            rows.push(row);
        }
        printer.data(&table(&rows));
    }
    let failures: Vec<Failure<'_>> = results
        .iter()
        .filter_map(|((line, _, dep), result)| {
            let error = result.as_ref().err()?;
            Some(Failure {
                label: match line {
                    Some(line) => format!("`{}` on `{}`", dep.name, sanitize(line)),
                    None => format!("`{}`", dep.name),
                },
                name: match line {
                    Some(line) => format!("{} on {line}", dep.name),
                    None => dep.name.clone(),
                },
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
    let lines_said = if on_lines {
        format!(
            " on {}",
            count(views.len(), "release line", "release lines")
        )
    } else {
        String::new()
    };
    printer.status(&format!(
        "checked {}{lines_said}: {updates} with updates, {failed} failed",
        count(items.len(), "dependency", "dependencies")
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
