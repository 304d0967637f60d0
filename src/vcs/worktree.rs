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
    /// Files of the tree that were not checked out.
    skipped: BTreeMap<PathBuf, TreeFile>,
    /// The tree checked out.
    tree: Oid,
}

impl Repo {
    /// Checks the files of `tree` that `wanted` names out into a new temporary folder; the
    /// others stay in the object database, and [`TempWorktree::snapshot`] keeps them as
    /// they are. The cost follows what is wanted, not the repository's size.
    pub fn temporary_worktree(
        &self,
        tree: Oid,
        wanted: &dyn Fn(&Path) -> bool,
    ) -> Result<TempWorktree<'_>, GitError> {
        let dir = tempfile::tempdir().map_err(GitError::TempDir)?;
        let object = self.repo.find_tree(tree).map_err(GitError::Object)?;
        let mut skipped = BTreeMap::new();
        let mut paths = Vec::new();
        object
            .walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
                if entry.kind() != Some(ObjectType::Tree)
                    && let Ok(name) = entry.name()
                {
                    let path = Path::new(parent).join(name);
                    if wanted(&path) {
                        paths.push(path);
                    } else {
                        let file = TreeFile {
                            id: entry.id(),
                            mode: entry.filemode(),
                        };
                        skipped.insert(path, file);
                    }
                }
                git2::TreeWalkResult::Ok
            })
            .map_err(GitError::Object)?;
        let mut checkout = git2::build::CheckoutBuilder::new();
        checkout
            .target_dir(dir.path())
            .force()
            .update_index(false)
            .recreate_missing(true)
            .disable_pathspec_match(true);
        if paths.is_empty() {
            // No pathspec would mean everything.
            checkout.path("\0nothing");
        }
        for path in &paths {
            checkout.path(path.as_os_str());
        }
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
            skipped,
            tree,
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
        // The changes against the checked-out tree; what was never checked out stays as it
        // was, unless a step wrote it.
        let mut changes: BTreeMap<PathBuf, Option<TreeFile>> = BTreeMap::new();
        let mut seen = std::collections::BTreeSet::new();
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
                seen.insert(relative.clone());
                if let Some((_, size, time)) = self.original.get(&relative)
                    && *size == meta.len()
                    && *time == modified
                {
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
                let before = self
                    .original
                    .get(&relative)
                    .map(|(f, _, _)| *f)
                    .or_else(|| self.skipped.get(&relative).copied());
                if before != Some(file) {
                    changes.insert(relative, Some(file));
                }
            }
        }
        for path in self.original.keys().filter(|p| !seen.contains(*p)) {
            changes.insert(path.clone(), None);
        }
        // A few changes edit the tree in place (the usual step: a header or two); many
        // rebuild it from its file list once.
        if changes.len() <= 256 {
            let mut tree = self.tree;
            for (path, file) in &changes {
                tree = self
                    .repo
                    .replace_at(tree, path, file.map(|f| (f.id, f.mode)))?;
            }
            return Ok(tree);
        }
        let mut files = self.skipped.clone();
        files.extend(self.original.iter().map(|(p, (f, _, _))| (p.clone(), *f)));
        for (path, file) in changes {
            match file {
                Some(file) => files.insert(path, file),
                None => files.remove(&path),
            };
        }
        match self.repo.build_tree(&files)? {
            Some(tree) => Ok(tree),
            None => self.repo.empty_tree(),
        }
    }
}
