//! Git plumbing: the only user of `git2`. Synchronous and silent; callers reach it through
//! `spawn_blocking` and decide what to print.
//!
//! - here, [`Repo`]: the user's repository, for building update commits in the object
//!   database without touching the checkout, and moving branches;
//! - `remote`: [`list_remote`] (a remote's refs, like `git ls-remote`), [`branch_history`] (a
//!   branch's first-parent commits, fetched into a cache repository) and [`export_commit`];
//! - `push`: [`Repo::push_branch`], with a lease on the tool's own branches;
//! - `worktree`: [`TempWorktree`], a throwaway checkout for `after` commands;
//! - `tree_hash`: [`tree_id_of`], a tree id from files on disk, without a repository;
//! - `error`: [`GitError`], what went wrong, each with its hint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use git2::Oid;
use git2::{ObjectType, Repository};

mod error;
mod push;
mod remote;
mod tree_hash;
mod worktree;

pub use error::GitError;
pub use push::{PushCredentials, PushOutcome, PushToken};
pub use remote::{branch_history, export_commit, list_remote, set_timeouts};
pub use tree_hash::tree_id_of;
pub use worktree::TempWorktree;

/// One ref a remote advertises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// `refs/tags/v1.2.3`, `refs/heads/main`.
    pub name: String,
    /// The object id, in hex.
    pub id: String,
}

/// A commit and its committer time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
}

/// A remote URL as it may be shown: without user name or password.
fn shown(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| url.to_owned(), |u| crate::http::redact(&u))
}

/// A file in a git tree: its blob id and mode (`0o100644`, `0o100755`, `0o120000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeFile {
    pub id: Oid,
    pub mode: i32,
}

/// Modes of the files deps-update writes.
pub const MODE_FILE: i32 = 0o100644;
pub const MODE_EXECUTABLE: i32 = 0o100755;
pub const MODE_LINK: i32 = 0o120000;

/// The user's repository, for building update commits. Nothing here touches the checkout:
/// objects are written to the object database and only the update branch's ref moves.
pub struct Repo {
    repo: Repository,
}

/// Where an update starts from.
#[derive(Debug, Clone)]
pub struct Base {
    pub commit: Oid,
    /// How it was found, for messages (`origin/main`, `HEAD`).
    pub described: String,
    /// The branch it names (`main` for `origin/main`), for pull requests.
    pub branch: Option<String>,
}

impl Base {
    /// The branch a pull request should target.
    pub fn branch_name(&self) -> String {
        self.branch.clone().unwrap_or_else(|| "main".into())
    }
}

/// A three-way merge of one file's text, as `git merge-file --diff3` makes it (libgit2's
/// xdiff, git's own merge): `Ok(merged)`, or `Err(text with conflict markers)`. `labels` name
/// the three sides in the markers: ours, base, theirs.
pub fn merge_text(
    base: &[u8],
    ours: &[u8],
    theirs: &[u8],
    labels: [&str; 3],
) -> Result<Result<Vec<u8>, Vec<u8>>, GitError> {
    // libgit2 is set up by whatever first uses it through git2; merging alone does not.
    drop(git2::Buf::new());
    let input = |bytes| {
        let mut input = git2::MergeFileInput::new();
        input.content(bytes);
        input
    };
    let mut options = git2::MergeFileOptions::new();
    options
        .style_diff3(true)
        .our_label(labels[0])
        .ancestor_label(labels[1])
        .their_label(labels[2]);
    let result = git2::merge_file(
        &input(base),
        &input(ours),
        &input(theirs),
        Some(&mut options),
    )
    .map_err(GitError::Object)?;
    let content = result.content().to_vec();
    Ok(if result.is_automergeable() {
        Ok(content)
    } else {
        Err(content)
    })
}

/// The git blob id of `bytes` (lowercase hex), as `git hash-object` gives it.
pub fn blob_id(bytes: &[u8]) -> String {
    git2::Oid::hash_object(ObjectType::Blob, bytes)
        .map(|id| id.to_string())
        .unwrap_or_default()
}

impl Repo {
    /// The repository holding `path`.
    pub fn discover(path: &Path) -> Result<Self, GitError> {
        remote::libgit2();
        Repository::discover(path)
            .map(|repo| Self { repo })
            .map_err(|source| {
                if source.code() == git2::ErrorCode::Owner {
                    // git found the repository, and refuses it: another user owns it. The
                    // setting names the repository's top folder, the one holding `.git`.
                    let start = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
                    let path = start
                        .ancestors()
                        .find(|dir| dir.join(".git").exists())
                        .map_or(start.clone(), Path::to_owned);
                    GitError::NotOwned { path, source }
                } else {
                    GitError::NotARepository {
                        path: path.to_owned(),
                        source,
                    }
                }
            })
    }

    /// The working tree's root.
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// A release line (`v22.x`): the revision git names so, else `remote`'s branch of that
    /// name (a CI clone often has `origin/v22.x` and no local branch).
    pub fn line(&self, rev: &str, remote: &str) -> Result<Base, GitError> {
        match self.base(Some(rev)) {
            Ok(base) => Ok(base),
            Err(error) => {
                let tracking = format!("{remote}/{rev}");
                if self
                    .repo
                    .find_reference(&format!("refs/remotes/{tracking}"))
                    .is_ok()
                {
                    self.base(Some(&tracking))
                } else {
                    Err(error)
                }
            }
        }
    }

    /// Release lines named by `entries`: a name is kept as it is; a pattern (`v*.x`) stands
    /// for every local branch and every branch of `remote` it matches, newest version first.
    /// A pattern that matches nothing stands for nothing. Each line comes with whether only a
    /// pattern named it.
    pub fn lines(&self, entries: &[String], remote: &str) -> Result<Vec<(String, bool)>, GitError> {
        let mut lines: Vec<(String, bool)> = Vec::new();
        for entry in entries {
            if !entry.contains(['*', '?', '[']) {
                lines.retain(|(l, _)| l != entry);
                lines.push((entry.clone(), false));
                continue;
            }
            let Ok(glob) = globset::GlobBuilder::new(entry)
                .literal_separator(true)
                .build()
                .map(|g| g.compile_matcher())
            else {
                continue;
            };
            let mut found: Vec<String> = Vec::new();
            let references = self.repo.references().map_err(GitError::Object)?;
            for reference in references.flatten() {
                let Ok(name) = reference.name() else {
                    continue;
                };
                let short = name
                    .strip_prefix("refs/heads/")
                    .or_else(|| name.strip_prefix(&format!("refs/remotes/{remote}/")));
                if let Some(short) = short
                    && short != "HEAD"
                    && glob.is_match(short)
                    && !found.iter().any(|f| f == short)
                {
                    found.push(short.to_owned());
                }
            }
            // `v22.x` before `v20.x` before `v9.x`: by the numbers in the names.
            let numbers = |name: &str| -> Vec<u64> {
                name.split(|c: char| !c.is_ascii_digit())
                    .filter_map(|n| n.parse().ok())
                    .collect()
            };
            found.sort_by(|a, b| numbers(b).cmp(&numbers(a)).then_with(|| a.cmp(b)));
            for line in found {
                if !lines.iter().any(|(l, _)| *l == line) {
                    lines.push((line, true));
                }
            }
        }
        Ok(lines)
    }

    /// The commit updates start from: `setting` when given (a branch, tag or commit), else
    /// the current branch's upstream, else `HEAD`.
    pub fn base(&self, setting: Option<&str>) -> Result<Base, GitError> {
        let fail = |what: &str, source| GitError::Base {
            what: what.to_owned(),
            source,
        };
        if let Some(rev) = setting {
            let commit = self
                .repo
                .revparse_single(rev)
                .and_then(|o| o.peel_to_commit())
                .map_err(|e| fail(rev, e))?;
            return Ok(Base {
                commit: commit.id(),
                described: rev.to_owned(),
                branch: self.branch_named_by(rev),
            });
        }
        let head = self.repo.head().map_err(|e| fail("HEAD", e))?;
        if head.is_branch()
            && let Ok(name) = head.shorthand()
            && let Ok(branch) = self.repo.find_branch(name, git2::BranchType::Local)
            && let Ok(upstream) = branch.upstream()
            && let Some(target) = upstream.get().target()
        {
            let described = upstream
                .name()
                .ok()
                .flatten()
                .unwrap_or("upstream")
                .to_owned();
            let branch = upstream
                .get()
                .name()
                .ok()
                .and_then(|n| n.strip_prefix("refs/remotes/"))
                .and_then(|n| n.split_once('/'))
                .map(|(_, b)| b.to_owned());
            return Ok(Base {
                commit: target,
                described,
                branch,
            });
        }
        let commit = head.peel_to_commit().map_err(|e| fail("HEAD", e))?;
        let branch = head
            .is_branch()
            .then(|| head.shorthand().ok().map(str::to_owned))
            .flatten();
        Ok(Base {
            commit: commit.id(),
            described: "HEAD".into(),
            branch,
        })
    }

    /// The branch a revision names, for a pull request's base: `origin/release/v1.x` is the
    /// remote `origin`'s `release/v1.x` (a remote's name is matched whole, never guessed from
    /// the last `/`), `main` a local branch; a tag or a commit names none.
    fn branch_named_by(&self, rev: &str) -> Option<String> {
        let rev = rev.strip_prefix("refs/remotes/").unwrap_or(rev);
        if let Ok(remotes) = self.repo.remotes() {
            let mut names: Vec<&str> = remotes.iter().flatten().flatten().collect();
            // The longest remote name first: `up/stream/main` is `up/stream`'s `main`.
            names.sort_by_key(|n| std::cmp::Reverse(n.len()));
            for remote in names {
                if let Some(branch) = rev.strip_prefix(&format!("{remote}/"))
                    && self
                        .repo
                        .find_reference(&format!("refs/remotes/{rev}"))
                        .is_ok()
                {
                    return Some(branch.to_owned());
                }
            }
        }
        let local = rev.strip_prefix("refs/heads/").unwrap_or(rev);
        self.repo
            .find_branch(local, git2::BranchType::Local)
            .is_ok()
            .then(|| local.to_owned())
    }

    /// Every file under `dir` in `commit`'s tree, by path relative to `dir`.
    pub fn files_under(
        &self,
        commit: Oid,
        dir: &Path,
    ) -> Result<BTreeMap<PathBuf, TreeFile>, GitError> {
        let tree = self.tree_of(commit)?;
        let mut files = BTreeMap::new();
        let sub = match tree.get_path(dir) {
            Ok(entry) if entry.kind() == Some(ObjectType::Tree) => {
                self.repo.find_tree(entry.id()).map_err(GitError::Object)?
            }
            _ => return Ok(files),
        };
        sub.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
            if entry.kind() == Some(ObjectType::Blob)
                && let Ok(name) = entry.name()
            {
                files.insert(
                    Path::new(parent).join(name),
                    TreeFile {
                        id: entry.id(),
                        mode: entry.filemode(),
                    },
                );
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(GitError::Object)?;
        Ok(files)
    }

    /// A file's content at `path` (relative to the root) in `commit`, if it exists.
    pub fn file_at(&self, commit: Oid, path: &Path) -> Result<Option<Vec<u8>>, GitError> {
        let tree = self.tree_of(commit)?;
        match tree.get_path(path) {
            Ok(entry) => Ok(Some(self.read_blob(entry.id())?)),
            Err(_) => Ok(None),
        }
    }

    /// Whether `commit`'s tree has a folder or a file at `path` (relative to the root).
    pub fn path_exists_at(&self, commit: Oid, path: &Path) -> Result<bool, GitError> {
        let tree = self.tree_of(commit)?;
        Ok(tree
            .get_path(path)
            .is_ok_and(|entry| matches!(entry.kind(), Some(ObjectType::Tree | ObjectType::Blob))))
    }

    /// A blob's bytes.
    pub fn read_blob(&self, id: Oid) -> Result<Vec<u8>, GitError> {
        Ok(self
            .repo
            .find_blob(id)
            .map_err(GitError::Object)?
            .content()
            .to_vec())
    }

    /// Stores a file's content as a blob. Reading the file here, rather than `blob_path`,
    /// skips libgit2's per-path canonicalisation and attribute lookups.
    pub fn blob_from_file(&self, path: &Path) -> Result<Oid, GitError> {
        let bytes = std::fs::read(path).map_err(|source| GitError::Export {
            path: path.to_owned(),
            source,
        })?;
        self.blob_from_bytes(&bytes, true)
    }

    /// Stores bytes as a blob, or only computes its id when `write` is false.
    pub fn blob_from_bytes(&self, bytes: &[u8], write: bool) -> Result<Oid, GitError> {
        if write {
            self.repo
                .blob(bytes)
                .map_err(|e| self.write_failed("a file's content", e))
        } else {
            Oid::hash_object(ObjectType::Blob, bytes).map_err(GitError::Object)
        }
    }

    /// The tree of a commit (or a tree itself).
    fn tree_of(&self, commit: Oid) -> Result<git2::Tree<'_>, GitError> {
        self.repo
            .find_object(commit, None)
            .and_then(|o| o.peel_to_tree())
            .map_err(GitError::Object)
    }

    /// The file at `path` (relative to the root) in `commit`'s tree, if there is one.
    pub fn entry_at(&self, commit: Oid, path: &Path) -> Result<Option<TreeFile>, GitError> {
        let tree = self.tree_of(commit)?;
        Ok(tree
            .get_path(path)
            .ok()
            .filter(|e| e.kind() == Some(ObjectType::Blob))
            .map(|e| TreeFile {
                id: e.id(),
                mode: e.filemode(),
            }))
    }

    /// The tree of `base` with a folder's files, when given, replaced by its map (`(old,
    /// new, files)`: the folder moves from `old` to `new` when they differ), and each of
    /// `files` (path from the root, written blob) set; returns the new tree's id.
    pub fn updated_tree(
        &self,
        base: Oid,
        folder: Option<(&Path, &Path, &BTreeMap<PathBuf, TreeFile>)>,
        files: &[(PathBuf, TreeFile)],
    ) -> Result<Oid, GitError> {
        let mut tree = self.tree_of(base)?.id();
        if let Some((old, new, contents)) = folder {
            if old != new {
                tree = self.replace_at(tree, old, None)?;
            }
            let subtree = self.build_tree(contents)?;
            tree = self.replace_at(tree, new, subtree.map(|id| (id, 0o040000)))?;
        }
        for (path, file) in files {
            tree = self.replace_at(tree, path, Some((file.id, file.mode)))?;
        }
        Ok(tree)
    }

    /// Builds nested trees from a flat list of files; `None` when there are none. Works on
    /// the sorted map in place (a folder's files are one run of it), so memory does not grow
    /// with a copy of the paths per level.
    fn build_tree(&self, files: &BTreeMap<PathBuf, TreeFile>) -> Result<Option<Oid>, GitError> {
        let entries: Vec<(&Path, TreeFile)> =
            files.iter().map(|(p, f)| (p.as_path(), *f)).collect();
        self.build_level(&entries, 0)
    }

    /// The tree of `entries` (sorted paths sharing their first `depth` components).
    fn build_level(
        &self,
        entries: &[(&Path, TreeFile)],
        depth: usize,
    ) -> Result<Option<Oid>, GitError> {
        let mut builder = self.repo.treebuilder(None).map_err(GitError::Object)?;
        let mut at = 0;
        while at < entries.len() {
            let mut parts = entries[at].0.iter().skip(depth);
            let Some(name) = parts.next() else {
                at += 1;
                continue;
            };
            if parts.next().is_none() {
                let file = entries[at].1;
                builder
                    .insert(name, file.id, file.mode)
                    .map_err(GitError::Object)?;
                at += 1;
                continue;
            }
            // Paths sort component by component: the folder's files are contiguous.
            let end = at
                + entries[at..]
                    .iter()
                    .take_while(|(path, _)| path.iter().nth(depth) == Some(name))
                    .count();
            if let Some(id) = self.build_level(&entries[at..end], depth + 1)? {
                builder
                    .insert(name, id, 0o040000)
                    .map_err(GitError::Object)?;
            }
            at = end;
        }
        self.write_tree(&builder)
    }

    /// `tree` with the entry at `path` set to `entry` (or removed), creating or pruning
    /// folders on the way.
    pub(super) fn replace_at(
        &self,
        tree: Oid,
        path: &Path,
        entry: Option<(Oid, i32)>,
    ) -> Result<Oid, GitError> {
        let parts: Vec<String> = path
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.is_empty() {
            return Err(GitError::Object(git2::Error::from_str(
                "cannot replace the repository's root tree by one of its entries",
            )));
        }
        match self.replace_in(Some(tree), &parts, entry)? {
            Some(id) => Ok(id),
            // Nothing left at all: the empty tree, whose write can fail like any other.
            None => self.empty_tree(),
        }
    }

    fn replace_in(
        &self,
        tree: Option<Oid>,
        parts: &[String],
        entry: Option<(Oid, i32)>,
    ) -> Result<Option<Oid>, GitError> {
        let existing = tree
            .map(|id| self.repo.find_tree(id))
            .transpose()
            .map_err(GitError::Object)?;
        let mut builder = self
            .repo
            .treebuilder(existing.as_ref())
            .map_err(GitError::Object)?;
        let name = parts[0].as_str();
        let new = if parts.len() == 1 {
            entry
        } else {
            let child = existing
                .as_ref()
                .and_then(|t| t.get_name(name))
                .filter(|e| e.kind() == Some(ObjectType::Tree))
                .map(|e| e.id());
            self.replace_in(child, &parts[1..], entry)?
                .map(|id| (id, 0o040000))
        };
        match new {
            Some((id, mode)) => {
                builder.insert(name, id, mode).map_err(GitError::Object)?;
            }
            None => {
                if builder.get(name).map_err(GitError::Object)?.is_some() {
                    builder.remove(name).map_err(GitError::Object)?;
                }
            }
        }
        self.write_tree(&builder)
    }

    /// Writes a tree being built; `None` for an empty one (git keeps no empty folders).
    fn write_tree(&self, builder: &git2::TreeBuilder<'_>) -> Result<Option<Oid>, GitError> {
        if builder.is_empty() {
            return Ok(None);
        }
        builder
            .write()
            .map(Some)
            .map_err(|e| self.write_failed("a folder listing (tree)", e))
    }

    fn empty_tree(&self) -> Result<Oid, GitError> {
        self.repo
            .treebuilder(None)
            .and_then(|b| b.write())
            .map_err(|e| self.write_failed("the empty tree", e))
    }

    /// The paths (from the root) whose content, mode or presence differs between two trees.
    pub fn changed_paths(&self, old: Oid, new: Oid) -> Result<Vec<PathBuf>, GitError> {
        let old = self.repo.find_tree(old).map_err(GitError::Object)?;
        let new = self.repo.find_tree(new).map_err(GitError::Object)?;
        let diff = self
            .repo
            .diff_tree_to_tree(Some(&old), Some(&new), None)
            .map_err(GitError::Object)?;
        Ok(diff
            .deltas()
            .filter_map(|d| d.new_file().path().or_else(|| d.old_file().path()))
            .map(Path::to_owned)
            .collect())
    }

    /// The tree id of a commit.
    pub fn tree_id(&self, commit: Oid) -> Result<Oid, GitError> {
        Ok(self.tree_of(commit)?.id())
    }

    /// The first parent of a commit.
    pub fn parent_of(&self, commit: Oid) -> Option<Oid> {
        self.repo.find_commit(commit).ok()?.parent_id(0).ok()
    }

    /// Writes a commit with one parent; no ref moves.
    pub fn commit(&self, parent: Oid, tree: Oid, message: &str) -> Result<Oid, GitError> {
        let author = self.identity("AUTHOR")?;
        let committer = self.identity("COMMITTER")?;
        let tree = self.repo.find_tree(tree).map_err(GitError::Object)?;
        let parent = self.repo.find_commit(parent).map_err(GitError::Object)?;
        self.repo
            .commit(None, &author, &committer, message, &tree, &[&parent])
            .map_err(|e| self.write_failed("the commit", e))
    }

    /// The error for a failed object write. libgit2 may lose the operating system's reason
    /// (a full disk shows as "no error"), so a small test write into the object store finds
    /// it again.
    fn write_failed(&self, what: &'static str, error: git2::Error) -> GitError {
        let objects = self.repo.path().join("objects");
        let probe = (|| -> std::io::Result<()> {
            let mut file = tempfile::NamedTempFile::new_in(&objects)?;
            std::io::Write::write_all(&mut file, &[0u8; 256 << 10])?;
            file.as_file().sync_data()
        })();
        let message = error.message().trim();
        let (reason, cause) = match probe {
            Err(io) => (io.to_string(), Some(io.kind())),
            Ok(()) if message.is_empty() || message.eq_ignore_ascii_case("no error") => {
                ("libgit2 gave no reason".to_owned(), None)
            }
            Ok(()) => (message.to_owned(), None),
        };
        GitError::WriteObjects {
            what,
            objects,
            reason,
            cause,
        }
    }

    /// `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL` (or `COMMITTER`), else `user.name`/`user.email`.
    fn identity(&self, role: &str) -> Result<git2::Signature<'static>, GitError> {
        let configured = self.repo.signature().ok();
        let env = |what: &str| {
            std::env::var(format!("GIT_{role}_{what}"))
                .ok()
                .filter(|v| !v.trim().is_empty())
        };
        let name = env("NAME").or_else(|| {
            configured
                .as_ref()
                .and_then(|s| s.name().ok().map(str::to_owned))
        });
        let email = env("EMAIL").or_else(|| {
            configured
                .as_ref()
                .and_then(|s| s.email().ok().map(str::to_owned))
        });
        match (name, email) {
            (Some(name), Some(email)) => {
                git2::Signature::now(&name, &email).map_err(GitError::Object)
            }
            _ => Err(GitError::NoIdentity),
        }
    }

    /// Whether deps-update made `commit` (its message carries the [`TRAILER`]): only such a
    /// branch tip is ever replaced, here or on a remote.
    pub fn made_by_deps_update(&self, commit: Oid) -> bool {
        self.repo
            .find_commit(commit)
            .ok()
            .and_then(|c| {
                c.message()
                    .ok()
                    .map(|m| m.contains(&format!("\n{TRAILER}: ")))
            })
            .unwrap_or(false)
    }

    /// The commit a local branch points at.
    pub fn branch_tip(&self, branch: &str) -> Option<Oid> {
        self.repo
            .refname_to_id(&format!("refs/heads/{branch}"))
            .ok()
    }

    /// The branch checked out now, if any.
    pub fn current_branch(&self) -> Option<String> {
        let head = self.repo.head().ok()?;
        head.is_branch()
            .then(|| head.shorthand().ok().map(str::to_owned))
            .flatten()
    }

    /// Points `branch` at `commit`, if it still points at `expected` (`None`: must not exist).
    pub fn set_branch(
        &self,
        branch: &str,
        commit: Oid,
        expected: Option<Oid>,
        log: &str,
    ) -> Result<(), GitError> {
        let name = format!("refs/heads/{branch}");
        let fail = |source| GitError::Branch {
            branch: branch.to_owned(),
            source,
        };
        match expected {
            Some(old) => self
                .repo
                .reference_matching(&name, commit, true, old, log)
                .map(drop)
                .map_err(fail),
            None => self
                .repo
                .reference(&name, commit, false, log)
                .map(drop)
                .map_err(fail),
        }
    }
}

/// The trailer every update commit carries; a branch tip without it was not made by
/// deps-update, and is never overwritten.
pub const TRAILER: &str = "Deps-Update-Dependency";
