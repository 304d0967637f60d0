//! `deps-update provenance`: what each vendored dependency is made of, by the team's
//! classes: a plain copy of the tagged source, a release archive whose extra files are all
//! expected, a release archive with unexpected files (or files that differ from the tag), or
//! not checked; and the build steps that run over it.

use super::{Outcome, for_each_dependency, load_manifest, source_context, table};
use crate::apply::provenance::{Classified, of_vendored};
use crate::cli::{GlobalArgs, ProvenanceArgs};
use crate::commands::report::hints;
use crate::printer::Printer;

pub async fn run(
    global: &GlobalArgs,
    args: &ProvenanceArgs,
    printer: &Printer,
) -> Result<Outcome, crate::commands::report::CommandError> {
    let manifest = load_manifest(global)?;
    let deps = manifest.select(&args.names)?;
    let context = source_context(global, &manifest, printer, super::Answers::Fresh)?;
    let results = for_each_dependency(&deps, global.jobs, |dep| {
        of_vendored(dep, &manifest, &context)
    })
    .await;
    let flagged = |c: &Classified| c.class == "release-archive-unexpected";
    let mut failed = false;
    let mut entries = Vec::new();
    let mut failures = Vec::new();
    let mut rows = vec![vec![
        "NAME".into(),
        "VERSION".into(),
        "PROVENANCE".into(),
        "BUILD STEPS".into(),
    ]];
    for (dep, result) in &results {
        match result {
            Ok(classified) => {
                failed |= flagged(classified);
                rows.push(vec![
                    dep.name.clone(),
                    classified.version.clone(),
                    crate::summary::visible(&classified.detail),
                    match classified.steps.len() {
                        0 => "-".into(),
                        n => format!("{n} (reproducibility not checked)"),
                    },
                ]);
                let mut entry = serde_json::to_value(classified).unwrap_or_default();
                entry["name"] = serde_json::json!(dep.name);
                entries.push(entry);
            }
            Err(error) => {
                failed = true;
                rows.push(vec![
                    dep.name.clone(),
                    dep.tracking.recorded().unwrap_or_else(|| "-".into()),
                    "error (see below)".into(),
                    "-".into(),
                ]);
                failures.push(super::failures::json(Some(&dep.name), error, &hints(error)));
                printer.error(&format!("`{}`", dep.name), error, &hints(error));
            }
        }
    }
    if args.json {
        printer.data(&format!(
            "{}\n",
            serde_json::json!({"dependencies": entries, "failures": failures})
        ));
    } else {
        printer.data(&table(&rows));
    }
    Ok(if failed {
        Outcome::SomeFailed
    } else {
        Outcome::Success
    })
}
