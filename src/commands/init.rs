//! `deps-update init`: draft `deps.toml` from the vendored folders.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::Outcome;
use crate::cli::{GlobalArgs, InitArgs};
use crate::commands::report::CommandError;
use crate::init::{DEFAULT_ROOTS, Found, catalog, render, scan};
use crate::manifest::{FILE_NAME, Manifest};
use crate::printer::Printer;

pub async fn run(
    global: &GlobalArgs,
    args: &InitArgs,
    printer: &Printer,
) -> Result<Outcome, CommandError> {
    let repo = std::env::current_dir().map_err(CommandError::CurrentDir)?;
    let file = global
        .manifest
        .clone()
        .unwrap_or_else(|| PathBuf::from(FILE_NAME));
    let existing = if repo.join(&file).exists() {
        Some(Manifest::load(&file)?)
    } else {
        None
    };
    let roots: Vec<PathBuf> = if args.folders.is_empty() {
        let mut roots: Vec<PathBuf> = DEFAULT_ROOTS
            .iter()
            .map(PathBuf::from)
            .filter(|r| repo.join(r).is_dir())
            .collect();
        // The folders holding the registry's own vendored folders (`lib/` for `lib/jansson`),
        // unless a default one holds them already; never the repository itself.
        for dep in existing.iter().flat_map(|m| &m.deps) {
            let Some(parent) = dep.path.parent().filter(|p| !p.as_os_str().is_empty()) else {
                continue;
            };
            if repo.join(&dep.path).is_dir() && !roots.iter().any(|r| parent.starts_with(r)) {
                roots.push(parent.to_owned());
            }
        }
        roots
    } else {
        args.folders.clone()
    };
    if roots.is_empty() {
        printer.warn(&format!(
            "none of {} is here: name the folders that hold vendored code",
            DEFAULT_ROOTS
                .iter()
                .map(|r| format!("`{r}/`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return Ok(Outcome::SomeFailed);
    }
    let found = scan(&repo, &roots, &catalog());
    // A folder is covered when an entry's path is it, inside it, or holds it; `not-vendored`
    // folders (and what they hold) are the project's own.
    let covered = |folder: &Path| {
        existing.as_ref().is_some_and(|m| {
            m.deps
                .iter()
                .any(|d| d.path.starts_with(folder) || folder.starts_with(&d.path))
                || m.settings
                    .not_vendored
                    .iter()
                    .any(|own| folder.starts_with(own))
        })
    };
    let missing: Vec<&Found> = found.iter().filter(|f| !covered(f.folder())).collect();

    let folders = |items: &[&Found]| -> Vec<String> {
        items
            .iter()
            .map(|f| f.folder().to_string_lossy().into_owned())
            .collect()
    };
    if args.check && args.json {
        // `{"vendored": N, "missing": [folder...]}`; exit 1 when `missing` is not empty.
        printer.data(&format!(
            "{}\n",
            serde_json::json!({"vendored": found.len(), "missing": folders(&missing)})
        ));
        return Ok(if missing.is_empty() {
            Outcome::Success
        } else {
            Outcome::SomeFailed
        });
    }
    if args.check {
        for item in &missing {
            printer.status(&format!(
                "`{}` has no entry in `{}`",
                crate::summary::visible(&item.folder().display().to_string()),
                file.display()
            ));
        }
        if missing.is_empty() {
            printer.status(&format!(
                "every vendored folder ({}) has an entry in `{}` or is marked `not-vendored`",
                found.len(),
                file.display()
            ));
            return Ok(Outcome::Success);
        }
        printer.status(&format!(
            "{} vendored folder{} without an updater: run `deps-update init` to draft {}, or list {} in `[settings] not-vendored` if {} the project's own",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            if missing.len() == 1 { "its entry" } else { "their entries" },
            if missing.len() == 1 { "it" } else { "them" },
            if missing.len() == 1 { "it is" } else { "they are" },
        ));
        return Ok(Outcome::SomeFailed);
    }

    let mut missing: Vec<Found> = missing.into_iter().cloned().collect();
    // Confirmed by content where upstream can be asked: how close, and exactly what to keep.
    let settings = existing
        .as_ref()
        .map(|m| m.settings.clone())
        .unwrap_or_default();
    let scratch = Manifest {
        file: file.clone(),
        root: repo.clone(),
        settings,
        deps: Vec::new(),
    };
    let context = super::source_context(global, &scratch, printer, super::Answers::Cached)?;
    crate::init::content::confirm(&repo, &mut missing, &context, printer).await;
    let taken: BTreeSet<String> = existing
        .as_ref()
        .map(|m| m.deps.iter().map(|d| d.name.clone()).collect())
        .unwrap_or_default();
    let complete = missing.iter().filter(|f| f.is_complete()).count();
    let drafts = missing.len() - complete;
    let entries = render(&missing, &taken);
    if args.json {
        // `{"missing", "complete", "to-fill-in", "written", "entries"}`: `written` is the
        // registry's path when it was written, else null (the entries are then to add).
        let written = existing
            .is_none()
            .then(|| file.to_string_lossy().into_owned());
        let missing_folders = folders(&missing.iter().collect::<Vec<_>>());
        printer.data(&format!(
            "{}\n",
            serde_json::json!({"missing": missing_folders, "complete": complete, "to-fill-in": drafts, "written": written, "entries": entries})
        ));
    }
    match existing {
        Some(_) if missing.is_empty() => {
            printer.status(&format!(
                "every vendored folder already has an entry in `{}`",
                file.display()
            ));
        }
        // Never overwritten: the entries are printed, to add by hand.
        Some(_) => {
            if !args.json {
                printer.data(&entries);
            }
            printer.status(&format!(
                "{} folder{} not in `{}`: the entries above ({complete} complete, {drafts} to fill in) can be added to it; nothing was changed",
                missing.len(),
                if missing.len() == 1 { " is" } else { "s are" },
                file.display()
            ));
        }
        None => {
            let text = format!(
                "# The registry of vendored dependencies: drafted by `deps-update init`.\n\
                 # Commented entries need filling in; every key is described in deps-update's README.\n\n{entries}"
            );
            std::fs::write(&file, text).map_err(|source| CommandError::Write {
                path: file.clone(),
                source,
            })?;
            printer.status(&format!(
                "wrote `{}`: {complete} {} recognised, {drafts} to fill in; run `deps-update validate`, then `deps-update check`",
                file.display(),
                if complete == 1 { "dependency" } else { "dependencies" }
            ));
        }
    }
    Ok(Outcome::Success)
}
