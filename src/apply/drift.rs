//! `verify`'s comparison: re-fetch the vendored version, verify it like an update would (and
//! against the registry's `sha256`), lay it out with the same rules, apply the patch queue,
//! and compare it with the files on disk, file by file, outside `keep`. What the queue
//! explains is expected; what is left are local edits, which `deps-update patch` can turn
//! into a patch ([`local_patch`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::ApplyError;
use super::fetch::fetch_tree;
use super::layout::{Placement, Staged};
use super::patches::{apply_queue, queue_on_disk};
use crate::check::{Current, current_version};
use crate::diff;
use crate::manifest::{Dependency, Globs, Manifest};
use crate::patch::PatchOutcome;
use crate::patch::{self, Content, FileDiff};
use crate::source::{self, Discovery, Source, SourceContext, Target};
use crate::summary::Verification;

/// How the vendored tree differs from what upstream's archive and the registry's rules give.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LocalEdit {
    pub path: PathBuf,
    pub kind: LocalEditKind,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocalEditKind {
    /// Content differs: lines added and removed locally (`None` for binary files).
    Modified(Option<(usize, usize)>),
    /// Only the executable bit or link-ness differs.
    ModeChanged,
    /// Present in the vendored tree, not upstream (and not matched by `keep`).
    Added,
    /// Upstream has it; the vendored tree does not.
    Missing,
}

/// What `verify` found for one dependency.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub version: String,
    pub source: String,
    pub verification: Verification,
    /// The patch queue applied to upstream's tree before comparing.
    pub patches: Vec<PatchOutcome>,
    pub edits: Vec<LocalEdit>,
    /// Files the `after` steps create or change: compared as the steps make them, and never
    /// written into a patch.
    pub generated: Vec<PathBuf>,
    /// With `--rebuild`: the files two runs of the `after` steps made differently (empty:
    /// reproducible); `None` when not checked.
    pub unreproducible: Option<Vec<PathBuf>>,
}

/// The vendored version as upstream has it: found among upstream's versions (the exact
/// spelling first), fetched and checked against the registry's record as an update's would
/// be, and laid out; with its version text and tag.
pub async fn fetch_vendored(
    dep: &Dependency,
    manifest: &Manifest,
    context: &SourceContext,
) -> Result<(String, Option<String>, super::fetch::Fetched), ApplyError> {
    let (current, _) = current_version(dep, &crate::vendored::VendoredTree::disk(&manifest.root))?;
    let source = source::for_dependency(dep);
    let discovery = source
        .discover(context)
        .await
        .map_err(|e| ApplyError::Check(e.into()))?;
    let (version, candidate) = match (&current, discovery) {
        (Current::Version(version), Discovery::Releases { candidates, .. }) => {
            // The exact spelling first (`v1.2` and `v1.2.0` are equal versions).
            let chosen = candidates
                .iter()
                .filter(|c| &c.version == version)
                .max_by_key(|c| c.version.as_str() == version.as_str())
                .cloned()
                .ok_or_else(|| ApplyError::VersionNotOffered {
                    version: version.to_string(),
                })?;
            (version.to_string(), Some(chosen))
        }
        (Current::Commit(commit), _) => (commit.clone(), None),
        (Current::Version(version), Discovery::Commits(_)) => {
            return Err(ApplyError::VersionNotOffered {
                version: version.to_string(),
            });
        }
    };
    let target = Target {
        version: &version,
        tag: candidate.as_ref().and_then(|c| c.tag.as_deref()),
        candidate: candidate.as_ref(),
    };
    let fetched = fetch_tree(
        dep,
        manifest,
        context,
        &source,
        &target,
        dep.apply.sha256.as_deref(),
    )
    .await?;
    let tag = target.tag.map(str::to_owned);
    Ok((version, tag, fetched))
}

/// Re-fetches the vendored version and compares it with the vendored tree on disk; also
/// returns what each edited file was expected to hold.
pub async fn verify_dependency(
    dep: &Dependency,
    manifest: &Manifest,
    context: &SourceContext,
    rebuild: bool,
) -> Result<(VerifyReport, Expected), ApplyError> {
    let (version, _, fetched) = fetch_vendored(dep, manifest, context).await?;
    let placement = Placement::of(dep);
    // The vendored folder itself may be a link: it must stay in the repository.
    if let Some(source) = crate::confine::leads_out(&manifest.root, &placement.folder) {
        return Err(ApplyError::ReadVendored {
            path: placement.folder.clone(),
            source,
        });
    }
    let folder = manifest.root.join(&placement.folder);
    let (mut staged, staging) = (fetched.staged, fetched.staging);
    let (dep, root, shown) = (dep.clone(), manifest.root.clone(), version.clone());
    let (manifest_file, printer) = (manifest.file.clone(), context.printer.clone());
    let (patches, edits, expected, generated, unreproducible) =
        tokio::task::spawn_blocking(move || {
            let result = (|| {
                let patches = match &dep.apply.patches {
                    Some(spec) => {
                        let queue = queue_on_disk(&root, spec)?;
                        apply_queue(&dep, &shown, &queue, &mut staged, staging.path())?
                    }
                    None => Vec::new(),
                };
                // `--rebuild`: the steps once more on the same layout, in a folder of their own.
                let again = match rebuild && !dep.apply.after.is_empty() {
                    true => {
                        let mut copy = staged.clone();
                        let folder = staging.path().join("again");
                        std::fs::create_dir_all(&folder).map_err(ApplyError::Temp)?;
                        super::steps::steps_on_layout(
                            &root,
                            &manifest_file,
                            &dep,
                            &shown,
                            &mut copy,
                            &folder,
                            &printer,
                        )?;
                        Some(copy)
                    }
                    false => None,
                };
                // Generated files compare clean when they are what the steps make.
                let generated = super::steps::steps_on_layout(
                    &root,
                    &manifest_file,
                    &dep,
                    &shown,
                    &mut staged,
                    staging.path(),
                    &printer,
                )?;
                let unreproducible = again.map(|again| differing(&staged, &again)).transpose()?;
                let edits = compare_with_disk(&staged, &folder, &placement, &dep.apply.keep)?;
                let expected = expected_contents(&staged, &edits)?;
                Ok::<_, ApplyError>((patches, edits, expected, generated, unreproducible))
            })();
            drop(staging);
            result
        })
        .await
        .map_err(|e| ApplyError::Task(e.to_string()))??;
    Ok((
        VerifyReport {
            version,
            source: fetched.source,
            verification: fetched.verification,
            patches,
            edits,
            generated,
            unreproducible,
        },
        expected,
    ))
}

/// The paths whose content differs between two laid-out trees.
fn differing(
    one: &BTreeMap<PathBuf, Staged>,
    other: &BTreeMap<PathBuf, Staged>,
) -> Result<Vec<PathBuf>, ApplyError> {
    let read = |file: Option<&Staged>| -> Result<Option<Vec<u8>>, ApplyError> {
        match file {
            Some(Staged::File { source, .. }) => {
                std::fs::read(source)
                    .map(Some)
                    .map_err(|e| ApplyError::Staged {
                        path: source.clone(),
                        source: e,
                    })
            }
            Some(Staged::Link { target }) => {
                Ok(Some(target.as_os_str().as_encoded_bytes().to_vec()))
            }
            None => Ok(None),
        }
    };
    let paths: BTreeSet<&PathBuf> = one.keys().chain(other.keys()).collect();
    let mut differ = Vec::new();
    for path in paths {
        if read(one.get(path))? != read(other.get(path))? {
            differ.push(path.clone());
        }
    }
    Ok(differ)
}

/// The expected content (upstream's, patched) of each locally edited file, for
/// [`local_patch`]; `None` where the file is not expected at all.
pub type Expected = BTreeMap<PathBuf, Option<Content>>;

fn expected_contents(
    staged: &BTreeMap<PathBuf, Staged>,
    edits: &[LocalEdit],
) -> Result<Expected, ApplyError> {
    let mut expected = BTreeMap::new();
    for edit in edits {
        let content = match staged.get(&edit.path) {
            Some(Staged::File { source, executable }) => Some(Content {
                bytes: std::fs::read(source).map_err(|e| ApplyError::Staged {
                    path: source.clone(),
                    source: e,
                })?,
                executable: *executable,
            }),
            Some(Staged::Link { .. }) | None => None,
        };
        expected.insert(edit.path.clone(), content);
    }
    Ok(expected)
}

/// Why the local edits cannot become a patch.
#[derive(Debug, thiserror::Error)]
pub enum LocalPatchError {
    #[error("`{0}` is not a text file (or is a symbolic link): a patch cannot hold it")]
    NotText(String),
    #[error("cannot read the vendored file `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The local edits as a unified diff from the expected tree to the files under `dir`.
pub fn local_patch(
    dir: &Path,
    edits: &[LocalEdit],
    expected: &Expected,
) -> Result<String, LocalPatchError> {
    use std::os::unix::fs::PermissionsExt;
    let mut sides = Vec::new();
    for edit in edits {
        let shown = edit.path.to_string_lossy().replace('\\', "/");
        let local = match edit.kind {
            LocalEditKind::Missing => None,
            _ => {
                let path = dir.join(&edit.path);
                let meta =
                    std::fs::symlink_metadata(&path).map_err(|source| LocalPatchError::Read {
                        path: path.clone(),
                        source,
                    })?;
                if meta.file_type().is_symlink() {
                    return Err(LocalPatchError::NotText(shown));
                }
                let bytes = std::fs::read(&path)
                    .map_err(|source| LocalPatchError::Read { path, source })?;
                Some(Content {
                    bytes,
                    executable: meta.permissions().mode() & 0o111 != 0,
                })
            }
        };
        let upstream = expected.get(&edit.path).cloned().flatten();
        if upstream.is_none() && !matches!(edit.kind, LocalEditKind::Added) {
            return Err(LocalPatchError::NotText(shown));
        }
        sides.push((shown, upstream, local));
    }
    let files: Vec<FileDiff<'_>> = sides
        .iter()
        .map(|(path, old, new)| FileDiff {
            path: path.clone(),
            old: old.as_ref(),
            new: new.as_ref(),
        })
        .collect();
    patch::write(&files).map_err(LocalPatchError::NotText)
}

/// Differences between the staged upstream tree and the dependency's files under `dir`,
/// outside `keep`.
fn compare_with_disk(
    staged: &BTreeMap<PathBuf, Staged>,
    dir: &Path,
    placement: &Placement,
    keep: &Globs,
) -> Result<Vec<LocalEdit>, ApplyError> {
    use std::os::unix::fs::PermissionsExt;
    let read_error = |path: &Path, source| ApplyError::ReadVendored {
        path: path.to_owned(),
        source,
    };
    let on_disk = files_on_disk(dir, placement)?;
    let mut edits = Vec::new();
    let paths: BTreeSet<&PathBuf> = staged.keys().chain(on_disk.keys()).collect();
    for path in paths {
        if keep.matches(path) {
            continue;
        }
        let kind = match (staged.get(path), on_disk.get(path)) {
            (None, Some(_)) => LocalEditKind::Added,
            (Some(_), None) => LocalEditKind::Missing,
            (Some(Staged::File { source, executable }), Some(meta)) => {
                if meta.file_type().is_symlink() {
                    LocalEditKind::ModeChanged
                } else {
                    let local = std::fs::read(dir.join(path)).map_err(|e| read_error(path, e))?;
                    let upstream = std::fs::read(source).map_err(|e| ApplyError::Staged {
                        path: source.clone(),
                        source: e,
                    })?;
                    if local != upstream {
                        LocalEditKind::Modified(diff::line_changes(&upstream, &local))
                    } else if (meta.permissions().mode() & 0o111 != 0) != *executable {
                        LocalEditKind::ModeChanged
                    } else {
                        continue;
                    }
                }
            }
            (Some(Staged::Link { target }), Some(meta)) => {
                let same = meta.file_type().is_symlink()
                    && std::fs::read_link(dir.join(path)).ok().as_ref() == Some(target);
                if same {
                    continue;
                }
                LocalEditKind::ModeChanged
            }
            (None, None) => continue,
        };
        edits.push(LocalEdit {
            path: path.clone(),
            kind,
        });
    }
    Ok(edits)
}

/// The dependency's files under `dir` (just the one for a single-file dependency), by path
/// relative to `dir`.
fn files_on_disk(
    dir: &Path,
    placement: &Placement,
) -> Result<BTreeMap<PathBuf, std::fs::Metadata>, ApplyError> {
    let read_error = |path: &Path, source| ApplyError::ReadVendored {
        path: path.to_owned(),
        source,
    };
    let mut on_disk = BTreeMap::new();
    if let Some(name) = &placement.only {
        match std::fs::symlink_metadata(dir.join(name)) {
            Ok(meta) => {
                on_disk.insert(name.clone(), meta);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(read_error(&dir.join(name), e)),
        }
        return Ok(on_disk);
    }
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && folder == dir => break,
            Err(e) => return Err(read_error(&folder, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| read_error(&folder, e))?;
            let meta = std::fs::symlink_metadata(entry.path())
                .map_err(|e| read_error(&entry.path(), e))?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                let relative = entry
                    .path()
                    .strip_prefix(dir)
                    .expect("under the folder")
                    .to_owned();
                on_disk.insert(relative, meta);
            }
        }
    }
    Ok(on_disk)
}
