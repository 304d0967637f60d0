//! `deps-update init`: draft `deps.toml` from the vendored folders.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::Outcome;
use crate::cli::{GlobalArgs, InitArgs};
use crate::commands::report::CommandError;
use crate::init::{DEFAULT_ROOTS, Found, catalog, render, scan};
use crate::manifest::{FILE_NAME, Manifest};
use crate::printer::Printer;

pub fn run(
    global: &GlobalArgs,
    args: &InitArgs,
    printer: &Printer,
) -> Result<Outcome, CommandError> {
    let repo = std::env::current_dir().map_err(CommandError::CurrentDir)?;
    let file = global
        .manifest
        .clone()
        .unwrap_or_else(|| PathBuf::from(FILE_NAME));
    let roots: Vec<PathBuf> = if args.folders.is_empty() {
        DEFAULT_ROOTS
            .iter()
            .map(PathBuf::from)
            .filter(|r| repo.join(r).is_dir())
            .collect()
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
    let existing = if repo.join(&file).exists() {
        Some(Manifest::load(&file)?)
    } else {
        None
    };
    let found = scan(&repo, &roots, &catalog());
    // A folder is covered when an entry's path is it, inside it, or holds it.
    let covered = |folder: &Path| {
        existing.as_ref().is_some_and(|m| {
            m.deps
                .iter()
                .any(|d| d.path.starts_with(folder) || folder.starts_with(&d.path))
        })
    };
    let missing: Vec<&Found> = found.iter().filter(|f| !covered(f.folder())).collect();

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
                "every vendored folder ({}) has an entry in `{}`",
                found.len(),
                file.display()
            ));
            return Ok(Outcome::Success);
        }
        printer.status(&format!(
            "{} vendored folder{} without an updater: run `deps-update init` to draft their entries",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" }
        ));
        return Ok(Outcome::SomeFailed);
    }

    let missing: Vec<Found> = missing.into_iter().cloned().collect();
    let taken: BTreeSet<String> = existing
        .as_ref()
        .map(|m| m.deps.iter().map(|d| d.name.clone()).collect())
        .unwrap_or_default();
    let complete = missing.iter().filter(|f| f.is_complete()).count();
    let drafts = missing.len() - complete;
    let entries = render(&missing, &taken);
    match existing {
        Some(_) if missing.is_empty() => {
            printer.status(&format!(
                "every vendored folder already has an entry in `{}`",
                file.display()
            ));
        }
        // Never overwritten: the entries are printed, to add by hand.
        Some(_) => {
            printer.data(&entries);
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
                "wrote `{}`: {complete} dependencies recognised, {drafts} to fill in; run `deps-update validate`, then `deps-update check`",
                file.display()
            ));
        }
    }
    Ok(Outcome::Success)
}
