//! `deps-update verify`: is the vendored tree exactly what upstream's archive gives?

use super::{Outcome, for_each_dependency, load_manifest, source_context};
use crate::apply::{LocalEditKind, verify_dependency};
use crate::cli::{GlobalArgs, VerifyArgs};
use crate::commands::report::hints;
use crate::printer::Printer;

pub async fn run(
    global: &GlobalArgs,
    args: &VerifyArgs,
    printer: &Printer,
) -> Result<Outcome, crate::commands::report::CommandError> {
    let manifest = load_manifest(global)?;
    let deps = manifest.select(&args.names)?;
    let context = source_context(global, &manifest, printer, super::Answers::Fresh)?;
    let results = for_each_dependency(&deps, global.jobs, |dep| {
        verify_dependency(dep, &manifest, &context, args.rebuild)
    })
    .await;
    if args.json {
        return Ok(print_json(&results, printer));
    }
    let (mut failed, mut edited) = (0, 0);
    for (dep, result) in &results {
        match result {
            Ok((report, _)) if report.edits.is_empty() => {
                let checks = report.verification.checks.join("; ");
                printer.data(&format!(
                    "{}: {} matches {}{} ({checks})\n",
                    dep.name,
                    report.version,
                    report.source,
                    patches_text(&report.patches)
                ));
            }
            Ok((report, _)) => {
                failed += 1;
                edited += 1;
                let mut text = format!(
                    "{}: {} differs from {}{} in {} file{}:\n",
                    dep.name,
                    report.version,
                    report.source,
                    patches_text(&report.patches),
                    report.edits.len(),
                    if report.edits.len() == 1 { "" } else { "s" }
                );
                for edit in &report.edits {
                    let what = match &edit.kind {
                        LocalEditKind::Modified(Some((added, removed))) => {
                            format!("modified locally (+{added} -{removed} lines)")
                        }
                        LocalEditKind::Modified(None) => "modified locally (binary)".into(),
                        LocalEditKind::ModeChanged => "mode changed locally".into(),
                        LocalEditKind::Added => {
                            "added locally (not upstream, not in `keep`)".into()
                        }
                        LocalEditKind::Missing => "missing locally".into(),
                    };
                    text.push_str(&format!(
                        "  {}: {what}\n",
                        dep.path.join(&edit.path).display()
                    ));
                }
                printer.data(&text);
            }
            Err(error) => {
                failed += 1;
                printer.error(&format!("`{}`", dep.name), error, &hints(error));
            }
        }
        // `--rebuild`: whether the `after` steps made the same bytes twice.
        if let Ok((report, _)) = result
            && let Some(differ) = &report.unreproducible
        {
            if differ.is_empty() {
                printer.data(&format!(
                    "{}: the `after` steps are reproducible (two runs, the same bytes)\n",
                    dep.name
                ));
            } else {
                failed += 1;
                let mut text = format!(
                    "{}: the `after` steps are not reproducible: two runs made {} differently:\n",
                    dep.name,
                    crate::suggest::count(differ.len(), "file", "files")
                );
                for path in differ {
                    text.push_str(&format!("  {}\n", dep.path.join(path).display()));
                }
                printer.data(&text);
            }
        }
    }
    if edited > 0 {
        printer.status(
            "hint: local edits are listed above: an update would replace them; name the project's own files in `keep`, and save changes to upstream code as patches with `deps-update patch NAME`",
        );
    }
    Ok(if failed == 0 {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    })
}

/// One dependency's verification, as `verify_dependency` returns it.
type Verified<T> = Result<(crate::apply::VerifyReport, T), crate::apply::ApplyError>;

/// `verify --json`: `{"dependencies": [{name, version, status, source, edits}], "failures"}`.
fn print_json<T>(
    results: &[(&crate::manifest::Dependency, Verified<T>)],
    printer: &Printer,
) -> Outcome {
    let (mut entries, mut failures) = (Vec::new(), Vec::new());
    for (dep, result) in results {
        entries.push(match result {
            Ok((report, _)) => {
                let edits: Vec<serde_json::Value> = report
                    .edits
                    .iter()
                    .map(|edit| {
                        let kind = match &edit.kind {
                            LocalEditKind::Modified(_) => "modified",
                            LocalEditKind::ModeChanged => "mode-changed",
                            LocalEditKind::Added => "added",
                            LocalEditKind::Missing => "missing",
                        };
                        serde_json::json!({"path": dep.path.join(&edit.path), "kind": kind})
                    })
                    .collect();
                serde_json::json!({
                    "name": dep.name,
                    "version": report.version,
                    "status": if edits.is_empty() { "matches" } else { "differs" },
                    "source": report.source,
                    "edits": edits,
                    "reproducible": report.unreproducible.as_ref().map(Vec::is_empty),
                    "unreproducible": report.unreproducible,
                })
            }
            Err(error) => {
                failures.push(super::failures::json(Some(&dep.name), error, &hints(error)));
                printer.error(&format!("`{}`", dep.name), error, &hints(error));
                serde_json::json!({
                    "name": dep.name,
                    "version": dep.tracking.recorded(),
                    "status": "failed",
                    "source": null,
                    "edits": [],
                })
            }
        });
    }
    let clean = entries.iter().all(|e| e["status"] == "matches");
    printer.data(&format!(
        "{}\n",
        serde_json::json!({"dependencies": entries, "failures": failures})
    ));
    if clean {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    }
}

/// ` with 2 queued patches` (one already upstream).
fn patches_text(patches: &[crate::patch::PatchOutcome]) -> String {
    use crate::patch::PatchState;
    if patches.is_empty() {
        return String::new();
    }
    let upstream = patches
        .iter()
        .filter(|p| p.state == PatchState::AlreadyUpstream)
        .count();
    let mut text = format!(
        " with {} queued patch{}",
        patches.len(),
        if patches.len() == 1 { "" } else { "es" }
    );
    if upstream > 0 {
        text.push_str(&format!(" ({upstream} already upstream)"));
    }
    text
}
