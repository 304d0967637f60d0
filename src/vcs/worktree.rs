//! Temporary checkouts of a tree, for `after` commands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::ObjectType;

use super::{GitError, MODE_EXECUTABLE, MODE_FILE, MODE_LINK, Oid, Repo, TreeFile};

/// A throwaway checkout of a tree outside the repository, for `after` commands. The
/// repository's index, HEAD and working tree are not involved.
pub struct TempWorktree<'r> {
    repo: &'r Repo,
    dir: tempfile::TempDir,
    /// Files as checked out: blob, mode, and the size and mtime seen right after checkout.
    original: BTreeMap<PathBuf, (TreeFile, u64, std::time::SystemTime)>,
}

impl Repo {
    /// Checks `tree` out into a new temporary folder.
    pub fn temporary_worktree(&self, tree: Oid) -> Result<TempWorktree<'_>, GitError> {
        let dir = tempfile::tempdir().map_err(GitError::TempDir)?;
        let object = self.repo.find_tree(tree).map_err(GitError::Object)?;
        let mut checkout = git2::build::CheckoutBuilder::new();
        checkout
            .target_dir(dir.path())
            .force()
            .update_index(false)
            .recreate_missing(true);
        self.repo
            .checkout_tree(object.as_object(), Some(&mut checkout))
            .map_err(GitError::Object)?;
        let mut original = BTreeMap::new();
        object
            .walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
                if entry.kind() == Some(ObjectType::Blob)
                    && let Ok(name) = entry.name()
                {
                    let path = Path::new(parent).join(name);
                    if let Ok(meta) = std::fs::symlink_metadata(dir.path().join(&path)) {
                        let file = TreeFile {
                            id: entry.id(),
                            mode: entry.filemode(),
                        };
                        let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                        original.insert(path, (file, meta.len(), modified));
                    }
                }
                git2::TreeWalkResult::Ok
            })
            .map_err(GitError::Object)?;
        Ok(TempWorktree {
            repo: self,
            dir,
            original,
        })
    }
}

impl TempWorktree<'_> {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The tree as the folder holds it now: unchanged files keep their blobs, changed and new
    /// ones are stored, deleted ones are gone.
    pub fn snapshot(&self) -> Result<Oid, GitError> {
        let mut files = BTreeMap::new();
        let mut pending = vec![self.dir.path().to_owned()];
        let io = |path: &Path, source| GitError::Export {
            path: path.to_owned(),
            source,
        };
        while let Some(folder) = pending.pop() {
            for entry in std::fs::read_dir(&folder).map_err(|e| io(&folder, e))? {
                let entry = entry.map_err(|e| io(&folder, e))?;
                let path = entry.path();
                let meta = std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
                let relative = path
                    .strip_prefix(self.dir.path())
                    .expect("under the folder")
                    .to_owned();
                if meta.is_dir() {
                    if relative != Path::new(".git") {
                        pending.push(path);
                    }
                    continue;
                }
                // A new file the repository's ignore rules ignore (build output, a configure
                // log) stays out, as `git add -A` would leave it.
                if !self.original.contains_key(&relative)
                    && self.repo.repo.is_path_ignored(&relative).unwrap_or(false)
                {
                    continue;
                }
                let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                if let Some((file, size, time)) = self.original.get(&relative)
                    && *size == meta.len()
                    && *time == modified
                {
                    files.insert(relative, *file);
                    continue;
                }
                let file = if meta.file_type().is_symlink() {
                    let target = std::fs::read_link(&path).map_err(|e| io(&path, e))?;
                    TreeFile {
                        id: self
                            .repo
                            .blob_from_bytes(target.as_os_str().as_encoded_bytes(), true)?,
                        mode: MODE_LINK,
                    }
                } else {
                    use std::os::unix::fs::PermissionsExt;
                    TreeFile {
                        id: self.repo.blob_from_file(&path)?,
                        mode: if meta.permissions().mode() & 0o111 != 0 {
                            MODE_EXECUTABLE
                        } else {
                            MODE_FILE
                        },
                    }
                };
                files.insert(relative, file);
            }
        }
        match self.repo.build_tree(&files)? {
            Some(tree) => Ok(tree),
            None => self.repo.empty_tree(),
        }
    }
}
