//! What an update is built from: the base commit (`settings.base`, else the current branch's
//! upstream, else `HEAD`), and `deps.toml`, the version files and (in [`super::patches`]) the
//! patch queue as that commit holds them. The rules that lay out the new tree, the recorded
//! versions it starts from and the registry committed with it are then one and the same,
//! whatever the working copy holds.

use std::path::{Path, PathBuf};

use super::ApplyError;
use crate::manifest::Manifest;
use crate::vcs::{Base, Repo};
use crate::vendored::VendoredTree;

/// The base of a run's updates, as the commit holds it.
#[derive(Debug, Clone)]
pub struct Basis {
    pub base: Base,
    /// The registry as committed on the base.
    pub manifest: Manifest,
    /// The vendored files the registry reads (version files), as committed on the base.
    pub tree: VendoredTree,
    /// Whether the working copy's `deps.toml` says something else.
    pub working_copy_differs: bool,
    /// The release line asked for (`update --base v22.x`): update branches are its own.
    pub line: Option<String>,
}

impl Basis {
    /// `origin/main at 1a2b3c4d`.
    pub fn described(&self) -> String {
        described(&self.base)
    }
}

fn described(base: &Base) -> String {
    let commit = base.commit.to_string();
    format!("{} at {}", base.described, &commit[..commit.len().min(10)])
}

/// The base `working` (the registry in the working copy) names, or the release `line` when
/// given (`v22.x`, or `settings.remote`'s branch of that name), and the registry and its
/// version files as that commit holds them.
pub fn committed(working: &Manifest, line: Option<&str>) -> Result<Basis, ApplyError> {
    let repo = Repo::discover(&working.root)?;
    let base = match line {
        Some(line) => repo.line(line, &working.settings.remote)?,
        None => repo.base(working.settings.base.as_deref())?,
    };
    let manifest_path = in_repo(&repo, &working.file)?;
    let text = repo.file_at(base.commit, &manifest_path)?.ok_or_else(|| {
        ApplyError::ManifestNotCommitted {
            path: manifest_path.clone(),
            base: described(&base),
        }
    })?;
    let text = String::from_utf8_lossy(&text).into_owned();
    let manifest =
        Manifest::parse(&working.file, &text).map_err(|source| ApplyError::BaseRegistry {
            base: described(&base),
            source: Box::new(source),
        })?;
    let working_copy_differs = std::fs::read_to_string(&working.file).is_ok_and(|w| w != text);
    let prefix = in_repo(&repo, &working.root)?;
    let files = manifest.deps.iter().flat_map(|dep| {
        dep.version_file
            .iter()
            .map(|vf| dep.path.join(&vf.path))
            .chain(dep.references.iter().map(|r| r.path.clone()))
            .collect::<Vec<_>>()
    });
    let folders = manifest.deps.iter().map(|dep| dep.path.clone());
    let tree = VendoredTree::at_commit(
        &repo,
        base.commit,
        described(&base),
        &prefix,
        files,
        folders,
    )?;
    Ok(Basis {
        base,
        manifest,
        tree,
        working_copy_differs,
        line: line.map(str::to_owned),
    })
}

/// `path` relative to the repository's working tree.
pub(super) fn in_repo(repo: &Repo, path: &Path) -> Result<PathBuf, ApplyError> {
    let workdir = repo.workdir().map(Path::to_owned).unwrap_or_default();
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()
            .map_err(ApplyError::CurrentDir)?
            .join(path)
    };
    // The path may not exist yet (a dependency vendored for the first time): resolve its
    // nearest existing ancestor.
    let existing = absolute
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(&absolute);
    let rest = absolute.strip_prefix(existing).unwrap_or(Path::new(""));
    let resolved = canonical(existing).join(rest);
    resolved
        .strip_prefix(canonical(&workdir))
        .map(Path::to_owned)
        .map_err(|_| ApplyError::OutsideRepository {
            path: path.to_owned(),
            repo: workdir,
        })
}
