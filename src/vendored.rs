//! Where the vendored files are read from: the working tree (`check`, `validate`, `verify`),
//! or a commit (the base an update is built on, a release line's tip), whose files are read
//! once from git, so that everything an update decides comes from the tree it commits on.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use crate::vcs::{GitError, Oid, Repo};

/// A tree of vendored files, paths relative to the registry's folder.
#[derive(Debug, Clone)]
pub enum VendoredTree {
    /// The working tree under this folder; reads never follow a link out of it.
    Disk(PathBuf),
    /// Files of a commit, read ahead.
    Commit(CommitFiles),
}

/// Some files of a commit, read ahead: those asked for, and which asked-for folders exist.
#[derive(Debug, Clone)]
pub struct CommitFiles {
    /// How the commit was named (`origin/main at 1a2b3c4d`), for messages.
    pub described: String,
    files: BTreeMap<PathBuf, Vec<u8>>,
    folders: BTreeSet<PathBuf>,
}

impl VendoredTree {
    /// The working tree under `root`.
    pub fn disk(root: &Path) -> Self {
        Self::Disk(root.to_owned())
    }

    /// `files` and `folders` (relative to `prefix`, the registry's folder inside the
    /// repository) as `commit` holds them.
    pub fn at_commit(
        repo: &Repo,
        commit: Oid,
        described: String,
        prefix: &Path,
        files: impl IntoIterator<Item = PathBuf>,
        folders: impl IntoIterator<Item = PathBuf>,
    ) -> Result<Self, GitError> {
        let mut read = BTreeMap::new();
        for path in files {
            if let Some(bytes) = repo.file_at(commit, &prefix.join(&path))? {
                read.insert(path, bytes);
            }
        }
        let mut present = BTreeSet::new();
        for folder in folders {
            if repo.path_exists_at(commit, &prefix.join(&folder))? {
                present.insert(folder);
            }
        }
        Ok(Self::Commit(CommitFiles {
            described,
            files: read,
            folders: present,
        }))
    }

    /// Whether `path` (a folder or a file) exists.
    pub fn exists(&self, path: &Path) -> bool {
        match self {
            Self::Disk(root) => crate::confine::exists(root, path),
            Self::Commit(commit) => {
                commit.folders.contains(path) || commit.files.contains_key(path)
            }
        }
    }

    /// The bytes of the file at `path`.
    pub fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self {
            Self::Disk(root) => crate::confine::read(root, path),
            Self::Commit(commit) => commit.files.get(path).cloned().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("not in the tree of {}", commit.described),
                )
            }),
        }
    }
}
