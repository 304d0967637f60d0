//! Git plumbing: the only user of `git2`. Synchronous and silent; callers reach it through
//! `spawn_blocking` and decide what to print.
//!
//! - [`list_remote`]: a remote's refs, like `git ls-remote`.
//! - [`branch_history`]: a branch's first-parent commits with their dates, fetched into a
//!   cache repository (shallow where the transport allows it).

use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{Direction, ErrorClass, FetchOptions, Remote, Repository};
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
            Self::TempDir(_) | Self::Task(_) => None,
        }
    }
}

/// Sets libgit2's network timeouts; call once before any network use.
pub fn set_timeouts(timeout: Duration) {
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: called at start-up, before any other thread uses libgit2.
    unsafe {
        let _ = git2::opts::set_server_connect_timeout_in_milliseconds(ms);
        let _ = git2::opts::set_server_timeout_in_milliseconds(ms);
    }
}

/// A remote's refs (`git ls-remote`), retrying network failures under `retry`.
pub fn list_remote(url: &str, retry: RetryPolicy) -> Result<Vec<RemoteRef>, GitError> {
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

/// Up to `depth` first-parent commits of `branch` at `url`, newest first. History is fetched
/// into a repository under `cache` (kept between runs, so later fetches are incremental), or
/// into a temporary one when there is no cache.
pub fn branch_history(
    cache: Option<&Path>,
    url: &str,
    branch: &str,
    depth: usize,
) -> Result<Vec<CommitInfo>, GitError> {
    let temp;
    let dir = match cache {
        Some(cache) => cache.join("git").join(repo_key(url)),
        None => {
            temp = tempfile::tempdir().map_err(GitError::TempDir)?;
            temp.path().join("repo")
        }
    };
    let cache_error = |source| GitError::Cache {
        path: dir.clone(),
        source,
    };
    let repo = match Repository::open_bare(&dir) {
        Ok(repo) => repo,
        Err(_) => Repository::init_bare(&dir).map_err(cache_error)?,
    };
    let local_ref = format!("refs/deps-update/{branch}");
    let refspec = format!("+refs/heads/{branch}:{local_ref}");
    let fetch_error = |source| GitError::Fetch {
        url: shown(url),
        branch: branch.to_owned(),
        source,
    };
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
    let mut id = repo.refname_to_id(&local_ref).map_err(cache_error)?;
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

/// A remote URL as it may be shown: without user name or password.
fn shown(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| url.to_owned(), |u| crate::http::redact(&u))
}

/// A stable folder name for a remote's cache repository.
fn repo_key(url: &str) -> String {
    let digest = Sha256::digest(url.as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}
