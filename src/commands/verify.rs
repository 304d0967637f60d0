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
        verify_dependency(dep, &manifest, &context)
    })
    .await;
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
