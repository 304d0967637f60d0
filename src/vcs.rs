//! Git plumbing: the only user of `git2`. Synchronous and silent; callers reach it through
//! `spawn_blocking` and decide what to print.
//!
//! - [`list_remote`]: a remote's refs, like `git ls-remote`.
//! - [`branch_history`]: a branch's first-parent commits with their dates, fetched into a
//!   cache repository (shallow where the transport allows it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use git2::Oid;
use git2::{Direction, ErrorClass, FetchOptions, ObjectType, Remote, Repository};
use sha2::{Digest, Sha256};

use crate::retry::RetryPolicy;

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

/// What went wrong talking to git.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("could not list the refs of `{url}` after {attempts} attempt{}", if *attempts == 1 { "" } else { "s" })]
    ListRemote {
        url: String,
        attempts: u32,
        #[source]
        source: git2::Error,
    },
    #[error("could not fetch branch `{branch}` from `{url}`")]
    Fetch {
        url: String,
        branch: String,
        #[source]
        source: git2::Error,
    },
    #[error("the cache repository `{}` is unusable", path.display())]
    Cache {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("could not create a temporary folder")]
    TempDir(#[source] std::io::Error),
    #[error("`{}` is not inside a git repository", path.display())]
    NotARepository {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("cannot find the base `{what}`")]
    Base {
        what: String,
        #[source]
        source: git2::Error,
    },
    #[error("git failed")]
    Object(#[source] git2::Error),
    /// Writing into the object store failed: the machine's fault (disk full, permissions).
    #[error("could not write {what} into `{}`: {reason}", objects.display())]
    WriteObjects {
        what: &'static str,
        objects: PathBuf,
        /// The operating system's reason, found by a test write when libgit2 gave none.
        reason: String,
        cause: Option<std::io::ErrorKind>,
    },
    #[error("commit `{commit}` is not reachable from what `{url}` offers")]
    MissingCommit {
        commit: String,
        url: String,
        #[source]
        source: git2::Error,
    },
    #[error("the exported tree is larger than {} MiB (`settings.max-archive-mib`)", limit >> 20)]
    TooLarge { limit: u64 },
    #[error("cannot write the exported file `{}`", path.display())]
    Export {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no author for the commit: neither `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL` nor `user.name`/`user.email` is set"
    )]
    NoIdentity,
    #[error("no remote `{remote}`")]
    Remote {
        remote: String,
        #[source]
        source: git2::Error,
    },
    #[error("pushing `{branch}` to `{url}` failed")]
    Push {
        branch: String,
        url: String,
        #[source]
        source: git2::Error,
    },
    #[error("`{url}` refused `{branch}`: {status}{}", remote_says.iter().map(|l| format!("\n  remote: {l}")).collect::<String>())]
    PushRefused {
        branch: String,
        url: String,
        status: String,
        /// The remote's own explanation, line by line, made safe to print.
        remote_says: Vec<String>,
    },
    #[error(
        "`{branch}` at `{url}` has a commit deps-update did not make ({tip}); it is never overwritten"
    )]
    NotOurBranch {
        branch: String,
        url: String,
        tip: String,
    },
    #[error("cannot move branch `{branch}`")]
    Branch {
        branch: String,
        #[source]
        source: git2::Error,
    },
    #[error("the git task stopped unexpectedly: {0}")]
    Task(String),
}

impl GitError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::ListRemote { .. } | Self::Fetch { .. } => {
                Some("check `url`, and that this machine can reach the remote".into())
            }
            Self::Cache { path, .. } => Some(format!("delete `{}` and run again", path.display())),
            Self::NotARepository { .. } => Some("run deps-update inside the git repository that vendors the dependencies".into()),
            Self::Base { .. } => Some("check `settings.base`: it must name a branch, tag or commit".into()),
            Self::NoIdentity => Some("run `git config user.name \"Your Name\"` and `git config user.email you@example.com`".into()),
            Self::Branch { .. } => Some("the branch moved while deps-update ran; run it again".into()),
            Self::Remote { .. } => Some("check `settings.remote` (default `origin`)".into()),
            Self::Push { .. } => Some(
                "with `GITHUB_TOKEN` set, https remotes on the forge authenticate with it; otherwise your git credential helper is used".into(),
            ),
            Self::PushRefused { .. } => Some(
                "the remote's own rules (a hook or branch protection) refused the push, for the reason it gives; the branch is kept here for the next run".into(),
            ),
            Self::NotOurBranch { branch, .. } => Some(format!(
                "someone pushed to `{branch}`: merge or close their work, or delete the branch, then run again"
            )),
            Self::MissingCommit { .. } => Some("the recorded commit may have been force-pushed away; check `branch`".into()),
            Self::TooLarge { .. } => Some("raise `max-archive-mib` in `[settings]`, or narrow the tree with `include`".into()),
            Self::Export { source, .. } => Some(crate::report::local_write_hint(source, "the temporary folder")),
            Self::WriteObjects { cause, .. } => Some(crate::report::local_write_hint(
                &std::io::Error::from(cause.unwrap_or(std::io::ErrorKind::Other)),
                "the repository's `.git/objects`",
            ) + "; nothing was committed"),
            Self::TempDir(_) | Self::Task(_) | Self::Object(_) => None,
        }
    }
}

/// Sets libgit2's network timeouts; call once before any network use.
///
/// Only recorded here: libgit2 starts (and, built with OpenSSL, parses the system's whole
/// certificate store, some 25 ms) the first time deps-update needs git, so that a `check` of
/// forge and npm dependencies never pays for it.
pub fn set_timeouts(timeout: Duration) {
    let _ = TIMEOUT.set(timeout);
}

static TIMEOUT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// Starts libgit2 with the network timeouts; every entry point of this module that reaches
/// the network or a repository calls it first.
fn libgit2() {
    static READY: std::sync::Once = std::sync::Once::new();
    READY.call_once(|| {
        let Some(timeout) = TIMEOUT.get() else {
            return;
        };
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: the options are set inside a `Once` that every libgit2 user of this module
        // passes first, so no other thread of ours uses libgit2 while they are written.
        unsafe {
            let _ = git2::opts::set_server_connect_timeout_in_milliseconds(ms);
            let _ = git2::opts::set_server_timeout_in_milliseconds(ms);
        }
    });
}

/// A remote's refs (`git ls-remote`), retrying network failures under `retry`.
pub fn list_remote(url: &str, retry: RetryPolicy) -> Result<Vec<RemoteRef>, GitError> {
    libgit2();
    let attempts = retry.attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match list_remote_once(url) {
            Ok(refs) => return Ok(refs),
            Err(source) if attempt < attempts && is_transient(&source) => {
                std::thread::sleep(retry.delay_after(attempt));
            }
            Err(source) => {
                return Err(GitError::ListRemote {
                    url: shown(url),
                    attempts: attempt,
                    source,
                });
            }
        }
    }
}

fn list_remote_once(url: &str) -> Result<Vec<RemoteRef>, git2::Error> {
    let mut remote = Remote::create_detached(url)?;
    remote.connect(Direction::Fetch)?;
    let refs = remote
        .list()?
        .iter()
        .map(|head| RemoteRef {
            name: head.name().to_owned(),
            id: head.oid().to_string(),
        })
        .collect();
    remote.disconnect()?;
    Ok(refs)
}

/// Network trouble is worth another attempt; a missing repository or a refused login is not.
fn is_transient(error: &git2::Error) -> bool {
    match error.class() {
        ErrorClass::Net => true,
        ErrorClass::Os => {
            let message = error.message().to_ascii_lowercase();
            ["connect", "timed out", "reset", "broken pipe"]
                .iter()
                .any(|m| message.contains(m))
        }
        _ => false,
    }
}

/// A repository under the cache folder (or a temporary one) holding fetched upstream history.
/// While one exists, no other task of this process uses the cache: two dependencies on one
/// remote would otherwise initialise or fetch into the same repository at once.
struct CacheRepo {
    repo: Repository,
    _temp: Option<tempfile::TempDir>,
    _guard: std::sync::MutexGuard<'static, ()>,
}

static CACHE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Fetches `remote_ref` of `url` into `local_ref` of the cache repository for that remote,
/// shallow (`depth`) where the transport allows it.
fn fetch_into_cache(
    cache: Option<&Path>,
    url: &str,
    remote_ref: &str,
    local_ref: &str,
    depth: usize,
) -> Result<CacheRepo, GitError> {
    libgit2();
    // A panic elsewhere cannot leave the cache half-written in a way the next fetch minds.
    let guard = CACHE_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let temp = match cache {
        Some(_) => None,
        None => Some(tempfile::tempdir().map_err(GitError::TempDir)?),
    };
    let dir = match (&temp, cache) {
        (Some(temp), _) => temp.path().join("repo"),
        (None, Some(cache)) => cache.join("git").join(repo_key(url)),
        (None, None) => unreachable!("a cache or a temporary folder"),
    };
    let repo = match Repository::open_bare(&dir) {
        Ok(repo) => repo,
        Err(_) => Repository::init_bare(&dir).map_err(|source| GitError::Cache {
            path: dir.clone(),
            source,
        })?,
    };
    let refspec = format!("+{remote_ref}:{local_ref}");
    let fetch_error = |source| GitError::Fetch {
        url: shown(url),
        branch: remote_ref.to_owned(),
        source,
    };
    {
        let mut remote = repo.remote_anonymous(url).map_err(fetch_error)?;
        let mut options = FetchOptions::new();
        options.depth(i32::try_from(depth).unwrap_or(i32::MAX));
        if let Err(error) = remote.fetch(&[&refspec], Some(&mut options), None) {
            // The local transport cannot fetch shallow; everything else can. Fetch in full then.
            // libgit2's GIT_ENOTSUPPORTED (-39) has no `ErrorCode` variant in git2.
            if error.raw_code() != -39 && !error.message().contains("shallow") {
                return Err(fetch_error(error));
            }
            remote
                .fetch(&[&refspec], Some(&mut FetchOptions::new()), None)
                .map_err(fetch_error)?;
        }
    }
    Ok(CacheRepo {
        repo,
        _temp: temp,
        _guard: guard,
    })
}

/// Up to `depth` first-parent commits of `branch` at `url`, newest first. History is fetched
/// into a repository under `cache` (kept between runs, so later fetches are incremental), or
/// into a temporary one when there is no cache.
pub fn branch_history(
    cache: Option<&Path>,
    url: &str,
    branch: &str,
    depth: usize,
) -> Result<Vec<CommitInfo>, GitError> {
    let local_ref = format!("refs/deps-update/heads/{branch}");
    let cached = fetch_into_cache(
        cache,
        url,
        &format!("refs/heads/{branch}"),
        &local_ref,
        depth,
    )?;
    let repo = &cached.repo;
    let mut id = repo.refname_to_id(&local_ref).map_err(GitError::Object)?;
    let mut commits = Vec::new();
    while commits.len() < depth {
        // A shallow history ends where the parent is missing.
        let Ok(commit) = repo.find_commit(id) else {
            break;
        };
        commits.push(CommitInfo {
            id: id.to_string(),
            time: commit.committer().when().seconds(),
        });
        match commit.parent_id(0) {
            Ok(parent) => id = parent,
            Err(_) => break,
        }
    }
    Ok(commits)
}

/// Writes the tree of `commit` (reached through `remote_ref` of `url`) into `dest`, like an
/// unpacked archive: regular files on disk, links as data, submodules left out.
pub fn export_commit(
    cache: Option<&Path>,
    url: &str,
    remote_ref: &str,
    commit: &str,
    dest: &Path,
    limit: u64,
) -> Result<crate::archive::Unpacked, GitError> {
    let local_ref = format!(
        "refs/deps-update/{}",
        remote_ref.trim_start_matches("refs/")
    );
    let cached = fetch_into_cache(cache, url, remote_ref, &local_ref, 200)?;
    let repo = &cached.repo;
    // An abbreviated id (as `deps.toml` may record) resolves like `git rev-parse` would.
    let tree = repo
        .revparse_single(commit)
        .and_then(|o| o.peel_to_commit())
        .and_then(|c| c.tree())
        .map_err(|source| GitError::MissingCommit {
            commit: commit.to_owned(),
            url: shown(url),
            source,
        })?;
    let mut unpacked = crate::archive::Unpacked::default();
    export_tree(repo, &tree, Path::new(""), dest, limit, &mut unpacked)?;
    Ok(unpacked)
}

/// Writes `tree` (at `prefix` in the export) into `dest`; names are kept as the bytes git
/// stores (the layout refuses ones that are not UTF-8), submodules are left out.
fn export_tree(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    prefix: &Path,
    dest: &Path,
    limit: u64,
    unpacked: &mut crate::archive::Unpacked,
) -> Result<(), GitError> {
    for entry in tree.iter() {
        let path = prefix.join(name_of(entry.name_bytes()));
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let subtree = repo.find_tree(entry.id()).map_err(GitError::Object)?;
                export_tree(repo, &subtree, &path, dest, limit, unpacked)?;
            }
            Some(ObjectType::Blob) => {
                let blob = repo.find_blob(entry.id()).map_err(GitError::Object)?;
                if entry.filemode() == MODE_LINK {
                    unpacked
                        .links
                        .insert(path, PathBuf::from(name_of(blob.content())));
                    continue;
                }
                unpacked.bytes += blob.size() as u64;
                if unpacked.bytes > limit {
                    return Err(GitError::TooLarge { limit });
                }
                let target = dest.join(&path);
                let write = |source| GitError::Export {
                    path: target.clone(),
                    source,
                };
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir).map_err(write)?;
                }
                std::fs::write(&target, blob.content()).map_err(write)?;
                unpacked
                    .files
                    .insert(path, entry.filemode() == MODE_EXECUTABLE);
            }
            // Submodules (commits) are not part of the code.
            _ => {}
        }
    }
    Ok(())
}

/// A file name or link target from git's bytes, exactly (Unix paths are bytes).
fn name_of(bytes: &[u8]) -> &std::ffi::OsStr {
    std::os::unix::ffi::OsStrExt::from_bytes(bytes)
}

/// The git tree id an unpacked archive's files would have (below its single top folder, if
/// it has one), computed without any repository: to compare with a commit's tree.
pub fn tree_id_of(unpacked: &crate::archive::Unpacked, root: &Path) -> std::io::Result<Oid> {
    #[derive(Default)]
    struct Folder {
        /// name -> (mode, id) for files and links.
        entries: BTreeMap<Vec<u8>, (i32, Oid)>,
        folders: BTreeMap<Vec<u8>, Folder>,
    }
    let all = || unpacked.files.keys().chain(unpacked.links.keys());
    let mut tops = all().map(|p| (p.components().next(), p.components().count() > 1));
    let strip = match tops.next() {
        Some((Some(first), true)) if tops.all(|(top, deeper)| top == Some(first) && deeper) => 1,
        _ => 0,
    };
    let io = |e: git2::Error| std::io::Error::other(e.message().to_owned());
    let mut top = Folder::default();
    let mut place = |path: &Path, mode: i32, id: Oid| {
        let parts: Vec<&[u8]> = path
            .iter()
            .skip(strip)
            .map(|p| p.as_encoded_bytes())
            .collect();
        let Some((name, folders)) = parts.split_last() else {
            return;
        };
        let mut here = &mut top;
        for folder in folders {
            here = here.folders.entry(folder.to_vec()).or_default();
        }
        here.entries.insert(name.to_vec(), (mode, id));
    };
    for (path, executable) in &unpacked.files {
        let id = Oid::hash_file(ObjectType::Blob, root.join(path)).map_err(io)?;
        place(
            path,
            if *executable {
                MODE_EXECUTABLE
            } else {
                MODE_FILE
            },
            id,
        );
    }
    for (path, target) in &unpacked.links {
        let id = Oid::hash_object(ObjectType::Blob, target.as_os_str().as_encoded_bytes())
            .map_err(io)?;
        place(path, MODE_LINK, id);
    }
    fn hash(folder: &Folder) -> Result<Option<Oid>, git2::Error> {
        // Git orders entries by name, a folder's name compared as if it ended with `/`.
        let mut entries: Vec<(Vec<u8>, &'static str, Oid)> = Vec::new();
        for (name, (mode, id)) in &folder.entries {
            let mode = match *mode {
                MODE_EXECUTABLE => "100755",
                MODE_LINK => "120000",
                _ => "100644",
            };
            entries.push((name.clone(), mode, *id));
        }
        for (name, sub) in &folder.folders {
            // Git trees hold no empty folders.
            if let Some(id) = hash(sub)? {
                entries.push((name.clone(), "40000", id));
            }
        }
        if entries.is_empty() {
            return Ok(None);
        }
        let key = |(name, mode, _): &(Vec<u8>, &str, Oid)| {
            let mut key = name.clone();
            if *mode == "40000" {
                key.push(b'/');
            }
            key
        };
        entries.sort_by_key(key);
        let mut bytes = Vec::new();
        for (name, mode, id) in &entries {
            bytes.extend_from_slice(mode.as_bytes());
            bytes.push(b' ');
            bytes.extend_from_slice(name);
            bytes.push(0);
            bytes.extend_from_slice(id.as_bytes());
        }
        Oid::hash_object(ObjectType::Tree, &bytes).map(Some)
    }
    match hash(&top).map_err(io)? {
        Some(id) => Ok(id),
        None => Oid::hash_object(ObjectType::Tree, b"").map_err(io),
    }
}

/// A remote URL as it may be shown: without user name or password.
fn shown(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| url.to_owned(), |u| crate::http::redact(&u))
}

/// A stable folder name for a remote's cache repository.
fn repo_key(url: &str) -> String {
    let digest = Sha256::digest(url.as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
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

impl Repo {
    /// The repository holding `path`.
    pub fn discover(path: &Path) -> Result<Self, GitError> {
        libgit2();
        Repository::discover(path)
            .map(|repo| Self { repo })
            .map_err(|source| GitError::NotARepository {
                path: path.to_owned(),
                source,
            })
    }

    /// The working tree's root.
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
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
            let branch = rev.rsplit_once('/').map_or(rev, |(_, b)| b).to_owned();
            return Ok(Base {
                commit: commit.id(),
                described: rev.to_owned(),
                branch: Some(branch),
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

    fn tree_of(&self, commit: Oid) -> Result<git2::Tree<'_>, GitError> {
        self.repo
            .find_commit(commit)
            .and_then(|c| c.tree())
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

    /// The tree of `base` with `folder`'s files, when given, replaced by its map, and each of
    /// `files` (path from the root, written blob) set; returns the new tree's id.
    pub fn updated_tree(
        &self,
        base: Oid,
        folder: Option<(&Path, &BTreeMap<PathBuf, TreeFile>)>,
        files: &[(PathBuf, TreeFile)],
    ) -> Result<Oid, GitError> {
        let mut tree = self.tree_of(base)?.id();
        if let Some((dir, contents)) = folder {
            let subtree = self.build_tree(contents)?;
            tree = self.replace_at(tree, dir, subtree.map(|id| (id, 0o040000)))?;
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
    fn replace_at(
        &self,
        tree: Oid,
        path: &Path,
        entry: Option<(Oid, i32)>,
    ) -> Result<Oid, GitError> {
        let parts: Vec<String> = path
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        self.replace_in(Some(tree), &parts, entry)
            .map(|id| id.unwrap_or_else(|| self.empty_tree().expect("empty tree")))
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

/// The trailer every update commit carries; a branch tip without it was not made by
/// deps-update, and is never overwritten.
pub const TRAILER: &str = "Deps-Update-Dependency";

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The remote branch was created or moved to the local tip.
    Pushed { previous: Option<String> },
    /// The remote branch already points at the local tip: nothing sent.
    UpToDate,
}

/// How to authenticate a push.
#[derive(Clone)]
pub struct PushCredentials {
    /// A token for https remotes on this host (the forge's), sent as `x-access-token`.
    pub token: Option<(String, String)>,
}

impl std::fmt::Debug for PushCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = self.token.as_ref().map(|(host, _)| host.as_str());
        f.debug_struct("PushCredentials")
            .field("token_for", &host)
            .finish()
    }
}

impl Repo {
    /// The URL of a remote, for messages and for finding the forge repository.
    pub fn remote_url(&self, remote: &str) -> Result<String, GitError> {
        Ok(self
            .find_remote(remote)?
            .url()
            .unwrap_or_default()
            .to_owned())
    }

    /// The URL of `remote` as configured (`remote.NAME.url`), before any `insteadOf`
    /// rewriting: the address that names the repository on its forge.
    pub fn configured_remote_url(&self, remote: &str) -> Option<String> {
        self.repo
            .config()
            .ok()?
            .get_string(&format!("remote.{remote}.url"))
            .ok()
    }

    fn find_remote(&self, remote: &str) -> Result<Remote<'_>, GitError> {
        self.repo
            .find_remote(remote)
            .map_err(|source| GitError::Remote {
                remote: remote.to_owned(),
                source,
            })
    }

    /// Pushes `branch` to `remote`, replacing the remote branch only when it is absent or its
    /// tip is an update commit made by deps-update (a lease on the tool's own branches).
    pub fn push_branch(
        &self,
        remote: &str,
        branch: &str,
        credentials: &PushCredentials,
    ) -> Result<PushOutcome, GitError> {
        let refname = format!("refs/heads/{branch}");
        let local = self.branch_tip(branch).ok_or_else(|| GitError::Remote {
            remote: remote.to_owned(),
            source: git2::Error::from_str(&format!("no local branch `{branch}`")),
        })?;
        let mut found = self.find_remote(remote)?;
        let url = shown(found.url().unwrap_or_default());
        let push_error = |source| GitError::Push {
            branch: branch.to_owned(),
            url: url.clone(),
            source,
        };
        // What the remote has now.
        let remote_tip = {
            let connection = found
                .connect_auth(Direction::Push, Some(callbacks(credentials)), None)
                .map_err(push_error)?;
            connection
                .list()
                .map_err(push_error)?
                .iter()
                .find(|head| head.name() == refname)
                .map(|head| head.oid())
        };
        if remote_tip == Some(local) {
            return Ok(PushOutcome::UpToDate);
        }
        if let Some(tip) = remote_tip {
            // Fetch it to see who made it.
            let tracking = format!("refs/remotes/{remote}/{branch}");
            let mut options = FetchOptions::new();
            options.remote_callbacks(callbacks(credentials));
            found
                .fetch(
                    &[&format!("+{refname}:{tracking}")],
                    Some(&mut options),
                    None,
                )
                .map_err(push_error)?;
            let ours = self
                .repo
                .find_commit(tip)
                .ok()
                .and_then(|c| {
                    c.message()
                        .ok()
                        .map(|m| m.contains(&format!("\n{TRAILER}: ")))
                })
                .unwrap_or(false);
            if !ours {
                return Err(GitError::NotOurBranch {
                    branch: branch.to_owned(),
                    url,
                    tip: tip.to_string(),
                });
            }
        }
        let rejected = std::rc::Rc::new(std::cell::RefCell::new(None));
        let said = std::rc::Rc::new(std::cell::RefCell::new(Vec::<u8>::new()));
        let mut push_callbacks = callbacks(credentials);
        let sink = rejected.clone();
        push_callbacks.push_update_reference(move |_, status| {
            if let Some(message) = status {
                *sink.borrow_mut() = Some(message.to_owned());
            }
            Ok(())
        });
        // What the remote's hooks print (`remote: ...`): the reason a push is refused.
        let heard = said.clone();
        push_callbacks.sideband_progress(move |data| {
            let mut heard = heard.borrow_mut();
            if heard.len() < 16 << 10 {
                heard.extend_from_slice(data);
            }
            true
        });
        let mut options = git2::PushOptions::new();
        options.remote_callbacks(push_callbacks);
        found
            .push(&[&format!("+{refname}:{refname}")], Some(&mut options))
            .map_err(push_error)?;
        let rejected = rejected.borrow().clone();
        if let Some(status) = rejected {
            return Err(GitError::PushRefused {
                branch: branch.to_owned(),
                url,
                status: crate::printer::sanitize(&status),
                remote_says: remote_lines(&said.borrow()),
            });
        }
        Ok(PushOutcome::Pushed {
            previous: remote_tip.map(|t| t.to_string()),
        })
    }
}

/// The remote's sideband text as lines, without progress noise, made safe to print.
fn remote_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .take(20)
        .map(crate::printer::sanitize)
        .collect()
}

/// Credentials for git network operations: the token for https remotes on the forge's host,
/// else the user's credential helpers and defaults. Each kind is tried once.
fn callbacks(credentials: &PushCredentials) -> git2::RemoteCallbacks<'static> {
    let credentials = credentials.clone();
    let mut tried = 0;
    let mut callbacks = git2::RemoteCallbacks::new();
    callbacks.credentials(move |url, username, allowed| {
        tried += 1;
        if tried > 3 {
            return Err(git2::Error::from_str("authentication failed"));
        }
        let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned));
        if allowed.is_user_pass_plaintext()
            && tried == 1
            && let Some((token_host, token)) = &credentials.token
            && host.as_deref() == Some(token_host.as_str())
            && url.starts_with("https://")
        {
            return git2::Cred::userpass_plaintext("x-access-token", token);
        }
        if allowed.is_user_pass_plaintext()
            && let Ok(config) = git2::Config::open_default()
            && let Ok(cred) = git2::Cred::credential_helper(&config, url, username)
        {
            return Ok(cred);
        }
        if allowed.is_ssh_key() {
            // The user's SSH setup: keys held by ssh-agent.
            return git2::Cred::ssh_key_from_agent(username.unwrap_or("git"));
        }
        if allowed.is_default() {
            return git2::Cred::default();
        }
        Err(git2::Error::from_str("no credentials for this remote: set `GITHUB_TOKEN`, or configure a git credential helper"))
    });
    callbacks
}
