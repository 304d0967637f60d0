//! `deps-update audit`: known vulnerabilities of what is vendored.

use super::{Outcome, load_manifest, source_context, table};
use crate::audit::{audit, osv_api};
use crate::cli::{AuditArgs, GlobalArgs};
use crate::commands::report::CommandError;
use crate::printer::Printer;
use crate::summary::visible;

pub async fn run(
    global: &GlobalArgs,
    args: &AuditArgs,
    printer: &Printer,
) -> Result<Outcome, CommandError> {
    let manifest = load_manifest(global)?;
    let deps = manifest.select(&args.names)?;
    let context = source_context(global, &manifest, printer, super::Answers::Fresh)?;
    let osv = osv_api()?;
    let reports = audit(
        &deps,
        &crate::vendored::VendoredTree::disk(&manifest.root),
        &context,
        &osv,
        super::now(),
        usize::from(global.jobs),
    )
    .await
    .map_err(CommandError::Audit)?;
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
            "NAME".into(),
            "VERSION".into(),
            "ADVISORY".into(),
            "SEVERITY".into(),
            "FIXED IN".into(),
            "STATUS".into(),
        ]];
        for report in &reports {
            if report.advisories.is_empty() {
                rows.push(vec![
                    report.name.clone(),
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
                    _ => "no newer version allowed".into(),
                };
                rows.push(vec![
                    report.name.clone(),
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
        printer.data(&table(&rows));
        for report in &reports {
            for found in &report.advisories {
                printer.status(&format!(
                    "{} {}: {} ({})",
                    report.name,
                    visible(&found.advisory.id),
                    visible(&found.advisory.summary),
                    visible(&found.advisory.url)
                ));
            }
        }
    }
    printer.status(&format!(
        "audited {} dependencies: {open} advisor{} affect{} what is vendored{}",
        reports.len(),
        if open == 1 { "y" } else { "ies" },
        if open == 1 { "s" } else { "" },
        if ignored > 0 {
            format!(" ({ignored} more ignored, with reasons)")
        } else {
            String::new()
        }
    ));
    Ok(if open > 0 {
        Outcome::SomeFailed
    } else {
        Outcome::Success
    })
}
