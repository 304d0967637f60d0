//! Publishing an update: push its branch, then open or refresh its change request on the
//! project's forge (`settings.forge`, else the one the push remote names).

use crate::forge::{ChangeTarget, ForgeError, PullRequestOutcome, PullRequestSpec, Site};
use crate::http::HttpClient;
use crate::manifest::{Dependency, Manifest};
use crate::source::SourceContext;
use crate::summary::{BranchState, UpdateSummary};
use crate::vcs::{GitError, PushCredentials, PushOutcome, PushToken, Repo};

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

/// The forge of the project's own repository, where change requests go and whose token
/// pushes: `settings.forge`, else the forge whose web host the push remote names, else GitHub.
pub fn project_site(manifest: &Manifest, context: &SourceContext) -> Result<Site, ForgeError> {
    if let Some(key) = &manifest.settings.forge {
        let forge = crate::forge::by_key(key).ok_or_else(|| ForgeError::UnknownForge {
            value: key.clone(),
            known: crate::forge::FORGES
                .iter()
                .map(|f| format!("`{}`", f.info().key))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        return Ok(context.site(forge));
    }
    let host = remote_url(manifest).as_deref().and_then(host_of);
    let by_host = host.and_then(|host| {
        context.sites.iter().copied().find(|site| {
            url::Url::parse(&site.web(&context.http))
                .ok()
                .and_then(|u| u.host_str().map(|h| h.eq_ignore_ascii_case(&host)))
                .unwrap_or(false)
        })
    });
    Ok(by_host.unwrap_or_else(|| context.site(crate::forge::FORGES[0])))
}

/// Where change requests go: the repository (`settings.repository`, else what the forge's CI
/// says, `GITHUB_REPOSITORY` or `CI_PROJECT_PATH`, else the push remote's path) on the
/// project's forge, knowing where branches are pushed: when the push remote is another
/// repository of the forge, a fork, heads are the fork's.
pub fn change_target(
    manifest: &Manifest,
    context: &SourceContext,
) -> Result<ChangeTarget, ForgeError> {
    let site = project_site(manifest, context)?;
    let info = site.info();
    let remote = remote_url(manifest).filter(|url| on_a_host(url));
    let from_remote = |url: &str| crate::forge::repository_from_remote(url, info.nested_repos);
    let repository = manifest
        .settings
        .repository
        .clone()
        .or_else(|| {
            info.repository_variables
                .iter()
                .find_map(|v| crate::process::env(v).filter(|r| r.contains('/')))
        })
        .or_else(|| remote.as_deref().and_then(from_remote))
        .ok_or(ForgeError::NoRepository {
            noun: info.change_request,
            variables: info.repository_variables,
        })?;
    let target = ChangeTarget::new(site, repository.clone());
    Ok(match remote.as_deref().and_then(from_remote) {
        Some(fork) if !fork.eq_ignore_ascii_case(&repository) => target.with_fork(&fork),
        _ => target,
    })
}

/// The push remote's URL as configured (before `insteadOf`): the address that names the
/// repository on its forge.
fn remote_url(manifest: &Manifest) -> Option<String> {
    let repo = Repo::discover(&manifest.root).ok()?;
    repo.configured_remote_url(&manifest.settings.remote)
}

/// The host of a remote URL (`https://host/…`, `ssh://git@host/…`, `git@host:…`).
fn host_of(url: &str) -> Option<String> {
    match url::Url::parse(url) {
        Ok(parsed) => parsed.host_str().map(str::to_owned),
        Err(_) => {
            let (user_host, _) = url.split_once(':')?;
            Some(user_host.rsplit('@').next()?.to_owned())
        }
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

/// Checks that this run holds a token that may open `noun`s (`pull request`, `issue`) on
/// `site`, before anything is built or pushed: without one, `--pr` would push a branch and
/// only then fail.
pub fn token_that_writes(
    site: &Site,
    http: &HttpClient,
    noun: &'static str,
) -> Result<(), ForgeError> {
    let info = site.info();
    let api = http.api(site.api);
    let token = api
        .credential
        .as_ref()
        .and_then(|c| info.tokens.iter().find(|t| t.variable == c.variable));
    match token {
        Some(token) if token.writes => Ok(()),
        found => Err(ForgeError::NoToken {
            forge: info.name(),
            noun,
            variable: info.tokens[0].variable,
            sent_as: found.map(|t| t.variable),
            withheld: api.withheld.then_some(info.label.url_variable),
        }),
    }
}

/// Where issues are kept (`audit --issues`, `--dashboard`): `repository` on the project's
/// forge, else where change requests go; checked, before anything is done, to be a forge
/// with issues and a token that may write them.
pub fn issue_target(
    manifest: &Manifest,
    context: &SourceContext,
    repository: Option<&str>,
) -> Result<(ChangeTarget, &'static dyn crate::forge::Issues), ForgeError> {
    let target = match repository {
        Some(repository) => ChangeTarget::new(project_site(manifest, context)?, repository.into()),
        None => change_target(manifest, context)?,
    };
    let forge = target.site.forge;
    let issues = forge.issues().ok_or(ForgeError::NoIssues {
        forge: forge.info().name(),
    })?;
    token_that_writes(&target.site, &context.http, "issue")?;
    Ok((target, issues))
}

/// The project forge's token, for https pushes to its web host.
fn push_credentials(site: &Site, context: &SourceContext) -> PushCredentials {
    let token = context
        .http
        .api(site.api)
        .credential
        .as_ref()
        .and_then(|credential| {
            let user = site
                .info()
                .tokens
                .iter()
                .find(|t| t.variable == credential.variable)?
                .push_user;
            let web = site.web(&context.http);
            let host = url::Url::parse(&web).ok()?.host_str()?.to_owned();
            Some(PushToken {
                host,
                user,
                token: credential.secret.expose().to_owned(),
            })
        });
    PushCredentials { token }
}

/// Pushes an update branch and, with a forge, opens or refreshes its pull request: one
/// dependency's, or a group's (`updates` in commit order, `members` for their labels).
pub async fn publish(
    members: &[&Dependency],
    group: Option<&str>,
    updates: &[&UpdateSummary],
    manifest: &Manifest,
    context: &SourceContext,
    site: &Site,
    target: Option<&ChangeTarget>,
) -> Result<Published, PublishError> {
    let credentials = push_credentials(site, context);
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
    let pull_request = match target {
        Some(target) => {
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
                    None => crate::advisory::Security {
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
            let requests = target
                .site
                .forge
                .change_requests()
                .ok_or(ForgeError::Unsupported {
                    forge: target.site.info().name(),
                })?;
            Some(
                requests
                    .open_or_refresh(&context.http, target, &spec)
                    .await?,
            )
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
