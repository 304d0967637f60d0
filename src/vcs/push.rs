//! Pushing update branches, with a lease on the tool's own branches.

use git2::{Direction, FetchOptions, Remote};

use super::{GitError, Repo, shown};

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
    /// For https remotes on this host (the forge's): the user name and the token sent.
    pub token: Option<PushToken>,
}

/// A forge token for pushes to its host.
#[derive(Clone)]
pub struct PushToken {
    pub host: String,
    /// `x-access-token` (GitHub), `oauth2` (GitLab, Gitea), `gitlab-ci-token`.
    pub user: &'static str,
    pub token: String,
}

impl std::fmt::Debug for PushCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = self.token.as_ref().map(|t| t.host.as_str());
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
            if !self.made_by_deps_update(tip) {
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
            && let Some(token) = &credentials.token
            && host.as_deref() == Some(token.host.as_str())
            && url.starts_with("https://")
        {
            return git2::Cred::userpass_plaintext(token.user, &token.token);
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
        Err(git2::Error::from_str("no credentials for this remote: set the forge's token (`GITHUB_TOKEN`, `GITLAB_TOKEN`, `GITEA_TOKEN`), or configure a git credential helper"))
    });
    callbacks
}
