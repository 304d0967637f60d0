//! The patch stage: a dependency's `patches`, applied in order to the laid-out upstream tree
//! before `after` runs ([`crate::patch`] does the applying).
//!
//! An update reads the queue from the base commit, like `deps.toml`: the branch must hold
//! the patches that shaped it. `verify` and `deps-update patch` read it from the working tree,
//! which is what they compare. Patched files are written beside the unpacked ones in the
//! staging folder, so every later stage (the commit, `verify`'s comparison) sees them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ApplyError;
use super::layout::Staged;
use crate::manifest::{Dependency, Patches};
use crate::patch::{self, Content, Failure, PatchOutcome, Workspace};
use crate::vcs::{Oid, Repo};

/// A patch file of the queue.
#[derive(Debug, Clone)]
pub struct Queued {
    /// Relative to the repository root.
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// The queue as committed in `commit`; `described` names the commit in messages.
pub fn queue_at(
    repo: &Repo,
    commit: Oid,
    spec: &Patches,
    described: &str,
) -> Result<Vec<Queued>, ApplyError> {
    let missing = |path: &Path| ApplyError::PatchNotCommitted {
        path: path.to_owned(),
        base: described.to_owned(),
    };
    match spec {
        Patches::Folder(folder) => {
            let files = repo.files_under(commit, folder)?;
            if files.is_empty() {
                return Err(missing(folder));
            }
            let mut queue = Vec::new();
            for (name, file) in files {
                if is_patch_file(&name) {
                    queue.push(Queued {
                        path: folder.join(name),
                        bytes: repo.read_blob(file.id)?,
                    });
                }
            }
            Ok(queue)
        }
        Patches::Files(files) => files
            .iter()
            .map(|path| {
                let bytes = repo.file_at(commit, path)?.ok_or_else(|| missing(path))?;
                Ok(Queued {
                    path: path.clone(),
                    bytes,
                })
            })
            .collect(),
    }
}

/// The queue as it is in the working tree under `root`.
pub fn queue_on_disk(root: &Path, spec: &Patches) -> Result<Vec<Queued>, ApplyError> {
    let read = |path: &Path| {
        crate::confine::read(root, path).map_err(|source| ApplyError::PatchRead {
            path: path.to_owned(),
            source,
        })
    };
    match spec {
        Patches::Folder(folder) => {
            let entries = crate::confine::resolve(root, folder)
                .and_then(std::fs::read_dir)
                .map_err(|source| ApplyError::PatchRead {
                    path: folder.clone(),
                    source,
                })?;
            let mut names = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|source| ApplyError::PatchRead {
                    path: folder.clone(),
                    source,
                })?;
                let name = PathBuf::from(entry.file_name());
                if is_patch_file(&name) && entry.path().is_file() {
                    names.push(name);
                }
            }
            names.sort();
            names
                .into_iter()
                .map(|name| {
                    let path = folder.join(name);
                    Ok(Queued {
                        bytes: read(&path)?,
                        path,
                    })
                })
                .collect()
        }
        Patches::Files(files) => files
            .iter()
            .map(|path| {
                Ok(Queued {
                    bytes: read(path)?,
                    path: path.clone(),
                })
            })
            .collect(),
    }
}

fn is_patch_file(name: &Path) -> bool {
    name.components().count() == 1 && name.extension().is_some_and(|e| e == "patch")
}

/// Applies `queue` to `staged` (the tree of `dep` at `version`), writing patched files under
/// `staging`. A conflict stops the dependency: nothing of the queue is kept.
pub fn apply_queue(
    dep: &Dependency,
    version: &str,
    queue: &[Queued],
    staged: &mut BTreeMap<PathBuf, Staged>,
    staging: &Path,
) -> Result<Vec<PatchOutcome>, ApplyError> {
    let base = |path: &Path| -> Result<Option<Content>, ApplyError> {
        match staged.get(path) {
            Some(Staged::File { source, executable }) => Ok(Some(Content {
                bytes: std::fs::read(source).map_err(|e| ApplyError::Staged {
                    path: source.clone(),
                    source: e,
                })?,
                executable: *executable,
            })),
            Some(Staged::Link { .. }) | None => Ok(None),
        }
    };
    let mut workspace = Workspace::new(&base);
    let mut outcomes = Vec::new();
    for queued in queue {
        let parsed = patch::parse(&queued.bytes).map_err(|e| ApplyError::PatchUnreadable {
            path: queued.path.clone(),
            reason: e.to_string(),
        })?;
        if let Some(bad) = parsed.paths().find(|p| {
            !p.components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
        }) {
            return Err(ApplyError::PatchUnreadable {
                path: queued.path.clone(),
                reason: format!(
                    "it names `{}`, outside the dependency's folder",
                    bad.display()
                ),
            });
        }
        let state = workspace.apply(&parsed).map_err(|failure| match failure {
            Failure::Read(e) => e,
            Failure::Conflict(conflict) => ApplyError::PatchConflict {
                name: dep.name.clone(),
                version: version.to_owned(),
                path: queued.path.clone(),
                conflict: Box::new(conflict),
            },
        })?;
        outcomes.push(PatchOutcome {
            patch: queued.path.to_string_lossy().replace('\\', "/"),
            state,
        });
    }
    let edits = workspace.into_edits();
    if edits.is_empty() {
        return Ok(outcomes);
    }
    let folder = staging.join("patched");
    std::fs::create_dir_all(&folder).map_err(ApplyError::Temp)?;
    for (index, (path, content)) in edits.into_iter().enumerate() {
        match content {
            None => {
                staged.remove(&path);
            }
            Some(content) => {
                let source = folder.join(index.to_string());
                std::fs::write(&source, &content.bytes).map_err(ApplyError::Temp)?;
                staged.insert(
                    path,
                    Staged::File {
                        source,
                        executable: content.executable,
                    },
                );
            }
        }
    }
    Ok(outcomes)
}
