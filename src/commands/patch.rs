//! `deps-update patch NAME`: save the vendored tree's local edits as a new queued patch.

use std::path::{Path, PathBuf};

use super::{Outcome, load_manifest, source_context};
use crate::apply::{LocalPatchError, local_patch, verify_dependency};
use crate::cli::{GlobalArgs, PatchArgs};
use crate::commands::report::{CommandError, hints};
use crate::manifest::edit::{EditError, append_patch};
use crate::manifest::{Dependency, Patches};
use crate::printer::Printer;

/// Why the patch was not written; nothing was.
#[derive(Debug, thiserror::Error)]
enum PatchCommandError {
    #[error("`{0}` has no patch queue")]
    NoQueue(String),
    #[error("`--file-name` may hold only letters, digits, `-`, `_` and `.`, found `{0}`")]
    BadFileName(String),
    #[error(transparent)]
    Verify(#[from] crate::apply::ApplyError),
    #[error(transparent)]
    Local(#[from] LocalPatchError),
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot add the patch to `patches`")]
    Edit(#[from] EditError),
}

impl crate::commands::report::Diagnose for PatchCommandError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::NoQueue(name) => Some(format!(
                "add `patches = \"deps/patches/{name}\"` (a folder) to `[deps.{name}]` in `deps.toml`, then run again"
            )),
            Self::BadFileName(_) => Some("for example `--file-name fix-cve-2025-1234`".into()),
            Self::Verify(e) => e.hint(),
            Self::Local(LocalPatchError::NotText(_)) => Some(
                "keep that file with `keep`, or undo the edit; only text edits become patches"
                    .into(),
            ),
            Self::Local(LocalPatchError::Read { .. }) | Self::Write { .. } | Self::Edit(_) => None,
        }
    }
}

pub async fn run(
    global: &GlobalArgs,
    args: &PatchArgs,
    printer: &Printer,
) -> Result<Outcome, CommandError> {
    let manifest = load_manifest(global)?;
    let deps = manifest.select(std::slice::from_ref(&args.name))?;
    let dep = deps[0];
    let context = source_context(global, &manifest, printer, super::Answers::Fresh)?;
    let written = write_patch(dep, &manifest, &context, &args.file_name).await;
    if args.json {
        // `{"dependency", "patch", "files", "failure"}`: `patch` is null when nothing was
        // written.
        let (patch, files, failure) = match &written {
            Ok(Some((path, files))) => (Some(path.clone()), *files, None),
            Ok(None) => (None, 0, None),
            Err(error) => {
                printer.error(&format!("`{}`", dep.name), error, &hints(error));
                let failure = super::failures::json(Some(&dep.name), error, &hints(error));
                (None, 0, Some(failure))
            }
        };
        let failed = failure.is_some();
        printer.data(&format!(
            "{}\n",
            serde_json::json!({"dependency": dep.name, "patch": patch, "files": files, "failure": failure})
        ));
        return Ok(if failed {
            Outcome::SomeFailed
        } else {
            Outcome::Success
        });
    }
    match written {
        Ok(Some((path, files))) => {
            printer.data(&format!(
                "{}: wrote {} ({files} file{}); the next update applies it to the new version\n",
                dep.name,
                path.display(),
                if files == 1 { "" } else { "s" }
            ));
            Ok(Outcome::Success)
        }
        Ok(None) => {
            printer.data(&format!(
                "{}: no local edits beyond the patch queue; nothing written\n",
                dep.name
            ));
            Ok(Outcome::Success)
        }
        Err(error) => {
            printer.error(&format!("`{}`", dep.name), &error, &hints(&error));
            Ok(Outcome::SomeFailed)
        }
    }
}

/// Writes the patch; its path (relative to the repository root) and how many files it
/// changes, or `None` when there is nothing to write.
async fn write_patch(
    dep: &Dependency,
    manifest: &crate::manifest::Manifest,
    context: &crate::source::SourceContext,
    file_name: &str,
) -> Result<Option<(PathBuf, usize)>, PatchCommandError> {
    let Some(spec) = &dep.apply.patches else {
        return Err(PatchCommandError::NoQueue(dep.name.clone()));
    };
    let valid = !file_name.is_empty()
        && file_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !valid {
        return Err(PatchCommandError::BadFileName(file_name.to_owned()));
    }
    let (report, expected) = verify_dependency(dep, manifest, context, false).await?;
    // What the `after` steps make is theirs to make again: never saved in a patch.
    let (generated, edits): (Vec<_>, Vec<_>) = report
        .edits
        .iter()
        .cloned()
        .partition(|edit| report.generated.contains(&edit.path));
    for edit in &generated {
        context.printer.status(&format!(
            "`{}`: left `{}` out of the patch: the `after` steps generate it",
            dep.name,
            dep.path.join(&edit.path).display()
        ));
    }
    if edits.is_empty() {
        return Ok(None);
    }
    let dir = manifest.root.join(&dep.path);
    let diff = local_patch(&dir, &edits, &expected)?;
    let folder = match spec {
        Patches::Folder(folder) => folder.clone(),
        Patches::Files(files) => files
            .last()
            .and_then(|f| f.parent())
            .map(Path::to_owned)
            .unwrap_or_default(),
    };
    let number = next_number(&manifest.root.join(&folder));
    let path = folder.join(format!("{number:04}-{file_name}.patch"));
    let text = format!(
        "Local changes to {} {} in {}, saved by `deps-update patch {}`.\n\n{diff}",
        dep.name,
        report.version,
        dep.path.display(),
        dep.name
    );
    let absolute = manifest.root.join(&path);
    let write_error = |source| PatchCommandError::Write {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(manifest.root.join(&folder)).map_err(write_error)?;
    // The queue's folder may be a link: a patch is never written out of the repository.
    crate::confine::resolve(&manifest.root, &folder).map_err(write_error)?;
    if let Patches::Files(_) = spec {
        // The registry first: a failed edit leaves no stray patch file behind.
        let registry = std::fs::read_to_string(&manifest.file).map_err(write_error)?;
        let shown = path.to_string_lossy().replace('\\', "/");
        let edited = append_patch(&registry, &dep.name, &shown)?;
        // The patch and the registry that lists it, both or neither, even on an interrupt.
        crate::process::critical(|| {
            write_new(&absolute, text.as_bytes()).map_err(|e| (path.clone(), e))?;
            let temporary = manifest.file.with_extension("toml.deps-update");
            std::fs::write(&temporary, edited)
                .and_then(|()| std::fs::rename(&temporary, &manifest.file))
                .map_err(|source| {
                    let _ = std::fs::remove_file(&temporary);
                    let _ = std::fs::remove_file(&absolute);
                    (manifest.file.clone(), source)
                })
        })
        .map_err(|(path, source)| PatchCommandError::Write { path, source })?;
    } else {
        write_new(&absolute, text.as_bytes()).map_err(write_error)?;
    }
    Ok(Some((path, report.edits.len())))
}

/// Creates `path` with `bytes`, never replacing a file.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)
}

/// One more than the highest leading number of the folder's patches (`0003-x.patch` -> 4).
fn next_number(folder: &Path) -> u32 {
    let highest = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        })
        .max()
        .unwrap_or(0);
    highest + 1
}
