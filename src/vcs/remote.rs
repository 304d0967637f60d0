//! Remotes: listing refs, fetching into the cache, exporting a commit's tree, and starting
//! libgit2 with the network timeouts.

use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{Direction, ErrorClass, FetchOptions, ObjectType, Remote, Repository};
use sha2::{Digest, Sha256};

use super::{CommitInfo, GitError, MODE_EXECUTABLE, MODE_LINK, RemoteRef, shown};
use crate::retry::RetryPolicy;

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
pub(super) fn libgit2() {
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

/// A stable folder name for a remote's cache repository.
fn repo_key(url: &str) -> String {
    let digest = Sha256::digest(url.as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}
