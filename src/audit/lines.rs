//! Release lines: the branches or tags a project supports (`main`, `v22.x`, `v20.x`), each
//! audited as git holds it. The line's `deps.toml`, the version files it reads and the
//! packages nested in its vendored folders come from the commit's tree, never from a
//! checkout, so one run covers every line whatever the working copy holds.

use std::path::{Path, PathBuf};

use super::nested::{self, NestedPackage};
use crate::manifest::{Dependency, Manifest, ManifestError};
use crate::vcs::{GitError, Repo};
use crate::vendored::VendoredTree;

/// One line, ready to audit.
#[derive(Debug)]
pub struct ReleaseLine {
    /// The branch or tag (`v22.x`); `None`: the working copy.
    pub name: Option<String>,
    /// The registry as the line holds it.
    pub manifest: Manifest,
    /// Its version files, as the line holds them.
    pub tree: VendoredTree,
    /// The packages nested in the selected dependencies.
    pub nested: Vec<NestedPackage>,
}

impl ReleaseLine {
    /// The dependencies of the line named `names` (all when empty); a name the line does not
    /// have is left out (a dependency newer than the line).
    pub fn selected(&self, names: &[String]) -> Vec<&Dependency> {
        self.manifest
            .deps
            .iter()
            .filter(|d| names.is_empty() || names.contains(&d.name))
            .collect()
    }
}

/// Why a release line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("cannot read release line `{line}`")]
    Git {
        line: String,
        #[source]
        source: GitError,
    },
    #[error("release line `{line}` has no `{}`", path.display())]
    NoRegistry { line: String, path: PathBuf },
    #[error("the registry of release line `{line}` is not valid")]
    Registry {
        line: String,
        #[source]
        source: Box<ManifestError>,
    },
    #[error("`{}` is not inside the git repository at `{}`", path.display(), repo.display())]
    OutsideRepository { path: PathBuf, repo: PathBuf },
}

impl LineError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Git { source, .. } => source.hint().or_else(|| {
                Some(
                    "name a branch or tag git knows (`git fetch` the release branches first)"
                        .into(),
                )
            }),
            Self::NoRegistry { .. } => {
                Some("leave the line out of `--ref` and `release-lines` until it has one".into())
            }
            Self::Registry { .. } | Self::OutsideRepository { .. } => None,
        }
    }
}

/// The working copy as a line: its registry, files and nested packages on disk.
pub fn working_copy(manifest: &Manifest, names: &[String]) -> ReleaseLine {
    let mut line = ReleaseLine {
        name: None,
        manifest: manifest.clone(),
        tree: VendoredTree::disk(&manifest.root),
        nested: Vec::new(),
    };
    line.nested = nested::on_disk(&manifest.root, &manifest.deps, &line.selected(names));
    line
}

/// The name issues and the dashboard give the working copy: its branch, else `HEAD`.
pub fn working_name(manifest: &Manifest) -> String {
    Repo::discover(&manifest.root)
        .ok()
        .and_then(|repo| repo.current_branch())
        .unwrap_or_else(|| "HEAD".into())
}

/// Release line `rev` (a branch, tag or any revision git can name) as its commit holds it:
/// the registry at the same place as `working`'s, its version files, and the packages nested
/// in the dependencies named `names` (all when empty).
pub fn at_ref(working: &Manifest, rev: &str, names: &[String]) -> Result<ReleaseLine, LineError> {
    let git = |source| LineError::Git {
        line: rev.to_owned(),
        source,
    };
    let repo = Repo::discover(&working.root).map_err(git)?;
    let base = repo.line(rev, &working.settings.remote).map_err(git)?;
    let workdir = repo.workdir().map(Path::to_owned).unwrap_or_default();
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let prefix = canonical(&working.root)
        .strip_prefix(canonical(&workdir))
        .map(Path::to_owned)
        .map_err(|_| LineError::OutsideRepository {
            path: working.root.clone(),
            repo: workdir.clone(),
        })?;
    let file_name = working.file.file_name().unwrap_or("deps.toml".as_ref());
    let registry = prefix.join(file_name);
    let text = repo
        .file_at(base.commit, &registry)
        .map_err(git)?
        .ok_or_else(|| LineError::NoRegistry {
            line: rev.to_owned(),
            path: registry.clone(),
        })?;
    let manifest =
        Manifest::parse(&working.file, &String::from_utf8_lossy(&text)).map_err(|source| {
            LineError::Registry {
                line: rev.to_owned(),
                source: Box::new(source),
            }
        })?;
    let files = manifest.deps.iter().flat_map(|dep| {
        dep.version_file
            .iter()
            .map(|vf| dep.path.join(&vf.path))
            .chain(dep.references.iter().map(|r| r.path.clone()))
            .collect::<Vec<_>>()
    });
    let folders = manifest.deps.iter().map(|dep| dep.path.clone());
    let tree = VendoredTree::at_commit(&repo, base.commit, rev.to_owned(), &prefix, files, folders)
        .map_err(git)?;
    let mut line = ReleaseLine {
        name: Some(rev.to_owned()),
        manifest,
        tree,
        nested: Vec::new(),
    };
    line.nested = nested::at_commit(
        &repo,
        base.commit,
        &prefix,
        &line.manifest.deps,
        &line.selected(names),
    )
    .map_err(git)?;
    Ok(line)
}
