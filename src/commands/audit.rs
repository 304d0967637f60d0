//! `deps-update audit`: known vulnerabilities of what is vendored, in the working copy or on
//! each release line, and (`--issues`, `--dashboard`) kept in a tracking repository's issues.

use super::{Outcome, load_manifest, source_context, table};
use crate::audit::dashboard::sync_dashboard;
use crate::audit::issues::{LineAudit, sync_findings};
use crate::audit::lines::{ReleaseLine, at_ref, working_copy, working_name};
use crate::audit::{AuditError, DependencyAudit, audit, osv_api};
use crate::cli::{AuditArgs, GlobalArgs};
use crate::commands::report::CommandError;
use crate::printer::Printer;
use crate::publish::change_target;
use crate::summary::visible;

pub async fn run(
    global: &GlobalArgs,
    args: &AuditArgs,
    printer: &Printer,
) -> Result<Outcome, CommandError> {
    let manifest = load_manifest(global)?;
    let refs = super::release_lines(
        &manifest,
        if args.refs.is_empty() {
            &manifest.settings.release_lines
        } else {
            &args.refs
        },
    )?;
    let refs = &refs;
    // Each line as git holds it (`--ref`, `release-lines`), else the working copy.
    let lines: Vec<ReleaseLine> = if refs.is_empty() {
        manifest.select(&args.names)?;
        vec![crate::blocking::blocking(|| {
            working_copy(&manifest, &args.names)
        })]
    } else {
        let mut lines = Vec::new();
        for (rev, by_pattern) in refs {
            match crate::blocking::blocking(|| at_ref(&manifest, rev, &args.names)) {
                Ok(line) => lines.push(line),
                Err(crate::audit::lines::LineError::NoRegistry { .. }) if *by_pattern => {
                    printer.status(&format!(
                        "`{}` has no `{}`: left out",
                        visible(rev),
                        manifest.file.display()
                    ));
                }
                Err(error) => return Err(CommandError::Audit(AuditError::Line(error))),
            }
        }
        if lines.is_empty() {
            return Err(CommandError::Base(Box::new(
                crate::apply::ApplyError::NoLines {
                    refs: refs
                        .iter()
                        .map(|(r, _)| r.as_str())
                        .collect::<Vec<_>>()
                        .join("`, `"),
                },
            )));
        }
        lines
    };
    // A name no line has is a typo, not a dependency newer than some line.
    if let Some(name) = args.names.iter().find(|n| {
        lines
            .iter()
            .all(|l| l.selected(std::slice::from_ref(n)).is_empty())
    }) {
        lines[0].manifest.select(std::slice::from_ref(name))?;
    }
    let context = source_context(global, &manifest, printer, super::Answers::Fresh)?;
    let osv = osv_api()?;
    let mut reports: Vec<DependencyAudit> = Vec::new();
    for line in &lines {
        let mut found = audit(
            &line.selected(&args.names),
            &line.nested,
            &line.tree,
            &context,
            &osv,
            super::now(),
            usize::from(global.jobs),
        )
        .await
        .map_err(CommandError::Audit)?;
        for report in &mut found {
            report.line.clone_from(&line.name);
        }
        reports.extend(found);
    }
    let on_lines = lines.iter().any(|l| l.name.is_some());
    let open: usize = reports.iter().map(|r| r.open().count()).sum();
    let ignored: usize = reports
        .iter()
        .map(|r| r.advisories.len() - r.open().count())
        .sum();
    for report in &reports {
        for note in &report.notes {
            printer.warn(&format!("`{}`: {}", report.name, visible(note)));
        }
    }
    if args.json {
        printer.data(&format!(
            "{}\n",
            serde_json::to_string(&reports).expect("reports serialize")
        ));
    } else {
        let mut rows = vec![vec![
            "LINE".into(),
            "NAME".into(),
            "VERSION".into(),
            "ADVISORY".into(),
            "SEVERITY".into(),
            "FIXED IN".into(),
            "STATUS".into(),
        ]];
        for report in &reports {
            let line = visible(report.line.as_deref().unwrap_or("-"));
            let name = visible(report.path.as_deref().unwrap_or(&report.name));
            if report.advisories.is_empty() {
                rows.push(vec![
                    line.clone(),
                    name.clone(),
                    visible(&report.version),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "none known".into(),
                ]);
            }
            for found in &report.advisories {
                let advisory = &found.advisory;
                let mut names = vec![advisory.id.clone()];
                names.extend(
                    advisory
                        .aliases
                        .iter()
                        .filter(|a| a.starts_with("CVE-"))
                        .cloned(),
                );
                let status = match (&found.ignored, found.fixed_by_update, &report.latest) {
                    (Some(reason), _, _) => format!("ignored: {reason}"),
                    (None, Some(true), Some(latest)) => format!("fixed by the update to {latest}"),
                    (None, Some(false), Some(latest)) => format!("still in {latest}"),
                    _ => match &report.via {
                        Some(via) => format!("nested, via {via}"),
                        None => "no newer version allowed".into(),
                    },
                };
                rows.push(vec![
                    line.clone(),
                    name.clone(),
                    visible(&report.version),
                    visible(&names.join(" ")),
                    visible(advisory.severity.as_deref().unwrap_or("-")),
                    visible(&if advisory.fixed_in.is_empty() {
                        "-".to_owned()
                    } else {
                        advisory.fixed_in.join(", ")
                    }),
                    visible(&status),
                ]);
            }
        }
        // The line column only when lines were audited.
        if !on_lines {
            for row in &mut rows {
                row.remove(0);
            }
        }
        printer.data(&table(&rows));
        for report in &reports {
            for found in &report.advisories {
                printer.status(&format!(
                    "{}{} {}: {} ({})",
                    report
                        .line
                        .as_deref()
                        .map(|l| format!("{}: ", visible(l)))
                        .unwrap_or_default(),
                    visible(report.path.as_deref().unwrap_or(&report.name)),
                    visible(&found.advisory.id),
                    visible(&found.advisory.summary),
                    visible(&found.advisory.url)
                ));
            }
        }
    }
    let nested = reports.iter().filter(|r| !r.entry).count();
    printer.status(&format!(
        "audited {}{}{}: {open} advisor{} affect{} what is vendored{}",
        crate::suggest::count(reports.len() - nested, "dependency", "dependencies"),
        if nested > 0 {
            format!(
                " and {}",
                crate::suggest::count(nested, "nested package", "nested packages")
            )
        } else {
            String::new()
        },
        if on_lines {
            format!(" on {} release lines", lines.len())
        } else {
            String::new()
        },
        if open == 1 { "y" } else { "ies" },
        if open == 1 { "s" } else { "" },
        if ignored > 0 {
            format!(" ({ignored} more ignored, with reasons)")
        } else {
            String::new()
        }
    ));
    if args.issues || args.dashboard {
        keep_issues(args, &manifest, &context, &lines, reports, printer).await?;
    }
    Ok(if open > 0 {
        Outcome::SomeFailed
    } else {
        Outcome::Success
    })
}

/// `--issues` and `--dashboard`: the findings and the dashboard in the tracking repository.
async fn keep_issues(
    args: &AuditArgs,
    manifest: &crate::manifest::Manifest,
    context: &crate::source::SourceContext,
    lines: &[ReleaseLine],
    reports: Vec<DependencyAudit>,
    printer: &Printer,
) -> Result<(), CommandError> {
    let (target, issues) =
        crate::publish::issue_target(manifest, context, args.repository.as_deref())?;
    let working = lines
        .iter()
        .any(|l| l.name.is_none())
        .then(|| working_name(manifest));
    let mut audits: Vec<LineAudit> = lines
        .iter()
        .map(|l| LineAudit {
            proposed: Default::default(),
            line: l
                .name
                .clone()
                .or_else(|| working.clone())
                .unwrap_or_default(),
            reports: Vec::new(),
        })
        .collect();
    for report in reports {
        let line = report
            .line
            .clone()
            .or_else(|| working.clone())
            .unwrap_or_default();
        if let Some(audit) = audits.iter_mut().find(|a| a.line == line) {
            audit.reports.push(report);
        }
    }
    let http = &context.http;
    if args.issues {
        proposed_updates(manifest, context, lines, &mut audits, printer).await;
    }
    let repository = visible(&target.repository);
    if args.issues {
        let changes = sync_findings(issues, http, &target, &audits, &args.names).await?;
        for issue in &changes.opened {
            printer.status(&format!(
                "opened issue #{} {}: {}",
                issue.number,
                visible(&issue.url),
                visible(&issue.title)
            ));
        }
        for issue in &changes.edited {
            printer.status(&format!(
                "refreshed issue #{}: {}",
                issue.number,
                visible(&issue.title)
            ));
        }
        for (issue, _) in &changes.closed {
            printer.status(&format!(
                "closed issue #{}: {}",
                issue.number,
                visible(&issue.title)
            ));
        }
        printer.status(&format!(
            "issues in `{repository}`: {} opened, {} refreshed, {} closed, {} unchanged",
            changes.opened.len(),
            changes.edited.len(),
            changes.closed.len(),
            changes.unchanged
        ));
    }
    if args.dashboard {
        let outcome = sync_dashboard(issues, http, &target, &audits).await?;
        printer.status(&outcome.said(&target.repository));
    }
    Ok(())
}

/// The open pull (merge) requests of the updates that would fix a finding, for the finding
/// issues to link: looked up by the update branch each line's updates go on (the working
/// copy's plain `deps-update/NAME`, a release line's `deps-update/NAME-LINE`). A lookup that
/// fails is said and left out; it never stops the issues.
async fn proposed_updates(
    manifest: &crate::manifest::Manifest,
    context: &crate::source::SourceContext,
    lines: &[ReleaseLine],
    audits: &mut [LineAudit],
    printer: &Printer,
) {
    // Pull requests live in the project's repository, which may not be the tracking one.
    let Ok(target) = change_target(manifest, context) else {
        return;
    };
    let target = &target;
    let Some(requests) = target.site.forge.change_requests() else {
        return;
    };
    // The branch the project's own updates are built on: its updates need no `--base`.
    let own = working_name(manifest);
    for (line, audit) in lines.iter().zip(audits.iter_mut()) {
        let settings = &line.manifest.settings;
        let fixable: Vec<(String, Option<String>)> = audit
            .reports
            .iter()
            .filter(|r| r.entry && r.open().any(|a| a.fixed_by_update == Some(true)))
            .map(|r| {
                let group = line
                    .manifest
                    .deps
                    .iter()
                    .find(|d| d.name == r.name)
                    .and_then(|d| d.group.clone());
                (r.name.clone(), group)
            })
            .collect();
        for (name, group) in fixable {
            let unit = group.as_deref().unwrap_or(&name);
            // A line is updated with `--base LINE`; the working copy (or the line that is the
            // project's own base) without.
            let mut branches =
                vec![settings.update_branch(unit, &audit.line, line.name.as_deref())];
            if line.name.is_none() || line.name.as_deref() == Some(own.as_str()) {
                branches.push(settings.update_branch(unit, &audit.line, None));
            }
            for branch in branches {
                match requests.open_for(&context.http, target, &branch).await {
                    Ok(Some(found)) => {
                        audit.proposed.insert(name.clone(), found);
                        break;
                    }
                    Ok(None) => {}
                    Err(error) => {
                        printer.warn(&format!(
                            "`{}`: cannot tell whether `{}` has an open {}: {}",
                            name,
                            visible(&branch),
                            target.noun(),
                            visible(&error.to_string())
                        ));
                        break;
                    }
                }
            }
        }
    }
}
