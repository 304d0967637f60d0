//! Publishing an update: push its branch, then open or refresh its pull request.

use crate::forge::{self, Forge, ForgeError, PullRequestOutcome, PullRequestSpec};
use crate::manifest::{Dependency, Manifest};
use crate::source::SourceContext;
use crate::summary::{BranchState, UpdateSummary};
use crate::vcs::{GitError, PushCredentials, PushOutcome, Repo};

/// What publishing did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Published {
    pub pushed: bool,
    pub pull_request: Option<PullRequestOutcome>,
}

/// Why publishing failed; the local branch is kept for the next run.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Forge(#[from] ForgeError),
    #[error("the push task stopped unexpectedly: {0}")]
    Task(String),
}

impl PublishError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Git(e) => e.hint(),
            Self::Forge(e) => e.hint(),
            Self::Task(_) => None,
        }
    }
}

/// The repository that receives pull requests: `settings.repository`, else
/// `GITHUB_REPOSITORY`, else the push remote's path.
pub fn pull_request_repository(manifest: &Manifest) -> Result<String, ForgeError> {
    if let Some(repository) = &manifest.settings.repository {
        return Ok(repository.clone());
    }
    if let Ok(repository) = std::env::var("GITHUB_REPOSITORY")
        && repository.contains('/')
    {
        return Ok(repository);
    }
    Repo::discover(&manifest.root)
        .and_then(|repo| repo.remote_url(&manifest.settings.remote))
        .ok()
        .and_then(|url| forge::repository_from_remote(&url))
        .ok_or(ForgeError::NoRepository)
}

/// The forge for `repository`'s pull requests, knowing where branches are pushed: when the
/// push remote (`settings.remote`) is a forge repository other than `repository`, a fork,
/// heads are `forkowner:branch`.
pub fn forge_for(
    manifest: &Manifest,
    http: std::sync::Arc<crate::http::HttpClient>,
    repository: String,
) -> Forge {
    let pushed_to = Repo::discover(&manifest.root)
        .ok()
        .and_then(|repo| repo.configured_remote_url(&manifest.settings.remote))
        .filter(|url| on_a_host(url))
        .and_then(|url| forge::repository_from_remote(&url));
    let forge = Forge::new(http, repository.clone());
    match pushed_to {
        Some(fork) if !fork.eq_ignore_ascii_case(&repository) => forge.with_fork(&fork),
        _ => forge,
    }
}

/// Whether a remote URL names a host (`https://host/…`, `ssh://…`, `git@host:…`), as a
/// forge repository's does, rather than a local path.
fn on_a_host(url: &str) -> bool {
    match url.split_once("://") {
        Some((scheme, _)) => scheme != "file",
        None => {
            // scp-like `user@host:path`; a local path has no colon before its first slash.
            url.split('/')
                .next()
                .is_some_and(|first| first.contains(':'))
        }
    }
}

/// Pushes an update branch and, with a forge, opens or refreshes its pull request: one
/// dependency's, or a group's (`updates` in commit order, `members` for their labels).
pub async fn publish(
    members: &[&Dependency],
    group: Option<&str>,
    updates: &[&UpdateSummary],
    manifest: &Manifest,
    context: &SourceContext,
    forge: Option<&Forge>,
) -> Result<Published, PublishError> {
    let credentials = PushCredentials {
        token: context.http.github_token().and_then(|token| {
            let web = context.http.github_web();
            let host = url::Url::parse(&web).ok()?.host_str()?.to_owned();
            Some((host, token.to_owned()))
        }),
    };
    let update = updates[0];
    let (root, remote, branch) = (
        manifest.root.clone(),
        manifest.settings.remote.clone(),
        update.branch.clone(),
    );
    let pushed = tokio::task::spawn_blocking(move || {
        Repo::discover(&root)?.push_branch(&remote, &branch, &credentials)
    })
    .await
    .map_err(|e| PublishError::Task(e.to_string()))??;
    let pull_request = match forge {
        Some(forge) => {
            // The pull request says what the update does to known vulnerabilities; a lookup
            // that fails is said in the body and never stops the pull request.
            let osv = crate::audit::osv_api().ok();
            let mut described: Vec<UpdateSummary> = updates.iter().map(|u| (*u).clone()).collect();
            for update in &mut described {
                let Some(dep) = members.iter().find(|d| d.name == update.name) else {
                    continue;
                };
                update.security = Some(match &osv {
                    Some(osv) => {
                        crate::audit::for_update(
                            dep,
                            (&update.old_version, update.old_tag.as_deref()),
                            (&update.new_version, update.tag.as_deref()),
                            context,
                            osv,
                        )
                        .await
                    }
                    None => crate::audit::Security {
                        unavailable: true,
                        ..Default::default()
                    },
                });
            }
            let updates: Vec<&UpdateSummary> = described.iter().collect();
            let updates = updates.as_slice();
            let mut labels = manifest.settings.labels.clone();
            for label in members.iter().flat_map(|dep| &dep.apply.labels) {
                if !labels.contains(label) {
                    labels.push(label.clone());
                }
            }
            let spec = PullRequestSpec {
                title: crate::summary::pr_title(group, updates),
                body: crate::summary::pr_body(group, updates),
                head: update.branch.clone(),
                base: update.base_branch.clone(),
                labels,
                draft: manifest.settings.draft,
                reviewers: manifest.settings.reviewers.clone(),
            };
            Some(forge.open_or_refresh(&spec).await?)
        }
        None => None,
    };
    Ok(Published {
        pushed: matches!(pushed, PushOutcome::Pushed { .. }),
        pull_request,
    })
}

/// Whether an update is worth publishing: a commit exists on its branch.
pub fn publishable(update: &UpdateSummary) -> bool {
    matches!(
        update.state,
        BranchState::Committed(_) | BranchState::Unchanged(_)
    )
}
