//! What went wrong talking to git, and what to do about it.

use std::path::PathBuf;

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
    #[error("could not fetch {} from `{url}`", fetched_ref(branch))]
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
    #[error(
        "git refuses the repository holding `{}`: another user owns it (git's `safe.directory` check)",
        path.display()
    )]
    NotOwned {
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
    #[error(
        "the local branch `{branch}` has a commit deps-update did not make ({tip}); it is never moved over"
    )]
    NotOurLocalBranch { branch: String, tip: String },
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
    /// The host and reason when listing or fetching a remote got no answer at all, so a run
    /// that meets it for many dependencies can say it once (as for HTTP requests).
    pub fn unreachable(&self) -> Option<(String, crate::http::Unreachable)> {
        use crate::http::Unreachable;
        let (Self::ListRemote { url, source, .. } | Self::Fetch { url, source, .. }) = self else {
            return None;
        };
        let message = source.message().to_lowercase();
        let says = |words: &[&str]| words.iter().any(|w| message.contains(w));
        let why = if says(&["timed out", "timeout"]) {
            Unreachable::TimedOut
        } else if says(&[
            "failed to resolve address",
            "could not resolve host",
            "name or service not known",
        ]) {
            Unreachable::NameNotResolved
        } else if says(&["connection refused"]) {
            Unreachable::Refused
        } else if says(&["failed to connect", "network is unreachable"]) {
            Unreachable::NoConnection
        } else {
            return None;
        };
        Some((remote_host(url)?, why))
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Self::ListRemote { .. } | Self::Fetch { .. } => {
                Some("check `url`, and that this machine can reach the remote".into())
            }
            // A folder that is there is damaged; one that is not could not be made.
            Self::Cache { path, .. } if path.exists() => {
                Some(format!("delete `{}` and run again", path.display()))
            }
            Self::Cache { path, .. } => Some(format!(
                "the cache folder `{}` cannot be created: check that the folder above it is writable, or choose another with `--cache-dir DIR` (or run with `--no-cache`)",
                path.display()
            )),
            Self::NotOwned { path, .. } => Some(format!(
                "if you trust that repository and whoever owns it, allow it: `git config --global --add safe.directory {}` (or run deps-update as its owner)",
                path.display()
            )),
            Self::NotARepository { .. } => Some("run deps-update inside the git repository that vendors the dependencies".into()),
            Self::Base { source, .. } if source.code() == git2::ErrorCode::UnbornBranch => Some(
                "the repository has no commits yet: commit `deps.toml` (and the vendored folders), then run again".into(),
            ),
            Self::Base { what, .. } if what == "HEAD" => Some(
                "`HEAD` names no commit: check out a branch with commits, or set `settings.base`".into(),
            ),
            Self::Base { .. } => Some("check `settings.base`: it must name a branch, tag or commit".into()),
            Self::NoIdentity => Some("run `git config user.name \"Your Name\"` and `git config user.email you@example.com`".into()),
            Self::Branch { .. } => Some("the branch moved while deps-update ran; run it again".into()),
            Self::Remote { .. } => Some("check `settings.remote` (default `origin`)".into()),
            Self::Push { .. } => Some(
                "with the forge's token set (`GITHUB_TOKEN`, `GITLAB_TOKEN`, `GITEA_TOKEN`), https remotes on the forge authenticate with it; otherwise your git credential helper is used".into(),
            ),
            Self::PushRefused { .. } => Some(
                "the remote's own rules (a hook or branch protection) refused the push, for the reason it gives; the branch is kept here for the next run".into(),
            ),
            Self::NotOurBranch { branch, .. } => Some(format!(
                "someone pushed to `{branch}`: merge or close their work, or delete the branch, then run again"
            )),
            Self::NotOurLocalBranch { branch, .. } => Some(format!(
                "if it is your fix-up, push it or cherry-pick it where it belongs; then delete the branch (`git branch -D {branch}`) and run again. A branch that `settings.branch` names and deps-update did not create is never used"
            )),
            Self::MissingCommit { .. } => Some("the recorded commit may have been force-pushed away; check `branch`".into()),
            Self::TooLarge { .. } => Some("raise `max-archive-mib` in `[settings]`, or narrow the tree with `include`".into()),
            Self::Export { source, .. } => Some(crate::write_hint::local_write_hint(source, crate::write_hint::WritePlace::Temporary)),
            Self::WriteObjects { cause, .. } => Some(crate::write_hint::local_write_hint(
                &std::io::Error::from(cause.unwrap_or(std::io::ErrorKind::Other)),
                crate::write_hint::WritePlace::GitObjects,
            ) + "; nothing was committed"),
            Self::TempDir(_) | Self::Task(_) | Self::Object(_) => None,
        }
    }
}

/// `tag `v1.2.0``, `branch `main``: what a fetched ref is, for messages.
fn fetched_ref(name: &str) -> String {
    match name.strip_prefix("refs/tags/") {
        Some(tag) => format!("tag `{tag}`"),
        None => format!(
            "branch `{}`",
            name.strip_prefix("refs/heads/").unwrap_or(name)
        ),
    }
}

/// `host[:port]` of a remote: `https://host:8443/x.git`, `ssh://git@host/x`, `git@host:x.git`.
fn remote_host(url: &str) -> Option<String> {
    if let Ok(parsed) = url::Url::parse(url) {
        let host = parsed.host_str()?;
        return Some(match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        });
    }
    // scp-like: `[user@]host:path`.
    let (head, _) = url.split_once(':')?;
    let host = head.rsplit('@').next()?;
    (!host.is_empty() && !host.contains('/')).then(|| host.to_owned())
}
