//! Change requests (GitHub's and Gitea's pull requests, GitLab's merge requests): what one
//! should say ([`PullRequestSpec`], rendered elsewhere from a plain update summary), where it
//! goes ([`ChangeTarget`]), what became of it, and why it failed. Each forge that can open
//! them implements [`ChangeRequests`] with the same guarantees: one per branch, found by its
//! head, opened or refreshed, never duplicated, no write when nothing changed.
//!
//! Issues ([`Issues`]) are the other thing deps-update writes on a forge: `audit --issues`
//! keeps one per finding and `--dashboard` one for every dependency. A forge lists the open
//! ones with a label, opens, edits, comments on and closes them; which to write is decided
//! by the caller, so that a run with nothing new sends no write.

use futures::future::BoxFuture;

use super::Site;
use crate::http::{HttpClient, HttpError};

/// What a change request should say.
#[derive(Debug, Clone)]
pub struct PullRequestSpec {
    pub title: String,
    pub body: String,
    /// The update branch.
    pub head: String,
    pub base: String,
    pub labels: Vec<String>,
    pub draft: bool,
    pub reviewers: Vec<String>,
}

/// What happened to the change request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum PullRequestOutcome {
    Created { number: u64, url: String },
    Refreshed { number: u64, url: String },
    Unchanged { number: u64, url: String },
}

impl PullRequestOutcome {
    pub fn number(&self) -> u64 {
        match self {
            Self::Created { number, .. }
            | Self::Refreshed { number, .. }
            | Self::Unchanged { number, .. } => *number,
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Created { url, .. }
            | Self::Refreshed { url, .. }
            | Self::Unchanged { url, .. } => url,
        }
    }
}

/// Where change requests go: a repository on a forge, and the repository branches are pushed
/// to (the same one, or a fork of it).
#[derive(Debug, Clone)]
pub struct ChangeTarget {
    pub site: Site,
    /// `owner/name` (GitLab: `group/subgroup/name`) that receives them.
    pub repository: String,
    /// Where the update branches are pushed: `repository` itself, or a fork.
    pub pushed_to: String,
}

impl ChangeTarget {
    pub fn new(site: Site, repository: String) -> Self {
        Self {
            site,
            pushed_to: repository.clone(),
            repository,
        }
    }

    /// Branches are pushed to `fork`, not to the repository itself.
    pub fn with_fork(mut self, fork: &str) -> Self {
        self.pushed_to = fork.to_owned();
        self
    }

    /// Whether branches live in a fork.
    pub fn is_fork(&self) -> bool {
        !self.pushed_to.eq_ignore_ascii_case(&self.repository)
    }

    /// The owner of the repository branches are pushed to.
    pub fn head_owner(&self) -> &str {
        self.pushed_to.split('/').next().unwrap_or_default()
    }

    /// Sends one API request on behalf of `head`'s change request; a failure says what was
    /// tried, for which branch, in which repository.
    pub async fn call(
        &self,
        http: &HttpClient,
        what: &'static str,
        head: &str,
        method: reqwest::Method,
        url: Result<crate::http::ApiUrl, HttpError>,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, ForgeError> {
        let result = match url {
            Ok(url) => http.api_json(method, &url, body).await,
            Err(error) => Err(error),
        };
        result.map_err(|source| self.failed(what, head, source))
    }

    /// A request for `head`'s change request failed.
    pub fn failed(&self, what: &'static str, head: &str, source: HttpError) -> ForgeError {
        ForgeError::Request {
            what,
            head: head.to_owned(),
            repository: self.repository.clone(),
            source: Box::new(source),
        }
    }

    /// Sends one API request about the issue (or label) `about` in this repository; a failure
    /// says what was tried, on what, where.
    pub async fn issue_call(
        &self,
        http: &HttpClient,
        what: &'static str,
        about: &str,
        method: reqwest::Method,
        url: Result<crate::http::ApiUrl, HttpError>,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, ForgeError> {
        let result = match url {
            Ok(url) => http.api_json(method, &url, Some(&body)).await,
            Err(error) => Err(error),
        };
        result.map_err(|source| self.issue_failed(what, about, source))
    }

    /// A request about the issue (or label) `about` failed.
    pub fn issue_failed(&self, what: &'static str, about: &str, source: HttpError) -> ForgeError {
        ForgeError::IssueRequest {
            what,
            about: about.to_owned(),
            repository: self.repository.clone(),
            source: Box::new(source),
        }
    }

    /// What the forge calls them: `pull request`, `merge request`.
    pub fn noun(&self) -> &'static str {
        self.site.info().change_request
    }
}

/// A forge's change requests.
pub trait ChangeRequests: Send + Sync {
    /// Opens the change request for `spec.head`, or refreshes the open one (title, body,
    /// missing labels and reviewers); sends no write when everything already matches.
    fn open_or_refresh<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        spec: &'a PullRequestSpec,
    ) -> BoxFuture<'a, Result<PullRequestOutcome, ForgeError>>;

    /// The open change request whose head is `branch`, as `(number, url)`; no write.
    fn open_for<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        branch: &'a str,
    ) -> BoxFuture<'a, Result<Option<(u64, String)>, ForgeError>>;
}

/// What an issue should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueSpec {
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
}

/// An issue as the forge lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    pub number: u64,
    pub url: String,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
}

/// A forge's issues, in the repository a [`ChangeTarget`] names.
pub trait Issues: Send + Sync {
    /// The open issues carrying `label` (pull requests left out).
    fn open_issues<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        label: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Issue>, ForgeError>>;

    /// Opens an issue.
    fn create<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        spec: &'a IssueSpec,
    ) -> BoxFuture<'a, Result<Issue, ForgeError>>;

    /// Sets an open issue's title and body, and adds the labels it lacks.
    fn edit<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        issue: &'a Issue,
        spec: &'a IssueSpec,
    ) -> BoxFuture<'a, Result<(), ForgeError>>;

    /// Comments on an issue, then closes it (`resolved`: completed, else not planned).
    fn close<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        issue: &'a Issue,
        comment: &'a str,
        resolved: bool,
    ) -> BoxFuture<'a, Result<(), ForgeError>>;
}

/// Why a change request could not be opened or refreshed.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error("cannot {what} for `{head}` in `{repository}`")]
    Request {
        what: &'static str,
        head: String,
        repository: String,
        #[source]
        source: Box<HttpError>,
    },
    #[error("cannot {what} `{about}` in `{repository}`")]
    IssueRequest {
        what: &'static str,
        /// The issue's title, or the label listed.
        about: String,
        repository: String,
        #[source]
        source: Box<HttpError>,
    },
    #[error("{forge} answered {what} with something unexpected: {detail}")]
    Unexpected {
        forge: &'static str,
        what: &'static str,
        detail: String,
    },
    #[error("no repository to open {noun}s in")]
    NoRepository {
        noun: &'static str,
        /// The variables a CI job sets with the repository (`GITHUB_REPOSITORY`).
        variables: &'static [&'static str],
    },
    #[error("opening {noun}s on {forge} needs a token, and none that may is set{}", match .sent_as { Some(v) => format!(" (`{v}` may not)"), None => String::new() })]
    NoToken {
        forge: &'static str,
        noun: &'static str,
        /// The variable to set (`GITHUB_TOKEN`).
        variable: &'static str,
        /// The variable whose token was found but cannot open them (`CI_JOB_TOKEN`).
        sent_as: Option<&'static str>,
        /// The token is set but withheld: only `deps.toml` names the API.
        withheld: Option<&'static str>,
    },
    #[error("deps-update cannot open change requests on {forge}")]
    Unsupported { forge: &'static str },
    #[error("deps-update cannot keep issues on {forge}")]
    NoIssues { forge: &'static str },
    #[error("`{value}` is not a forge deps-update knows (`settings.forge`); it knows {known}")]
    UnknownForge { value: String, known: String },
    #[error("{} #{} is open, but {} refused to request a review from {}: {}", .0.noun, .0.number, .0.forge, names(&.0.refused), .0.message)]
    ReviewersRefused(Box<RefusedReviewers>),
}

/// Reviewers a forge would not ask.
#[derive(Debug)]
pub struct RefusedReviewers {
    pub forge: &'static str,
    pub noun: &'static str,
    /// Who may review on the forge: `collaborators` (GitHub, Gitea), `members` (GitLab).
    pub reviewers_are: &'static str,
    pub number: u64,
    /// Those who are not collaborators when that could be told, else all that were asked.
    pub refused: Vec<String>,
    /// Whether `refused` was checked to be non-collaborators (or unknown users).
    pub not_collaborators: bool,
    pub repository: String,
    pub message: String,
}

fn names(list: &[String]) -> String {
    list.iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ForgeError {
    /// A request the forge answered with one of `statuses`: what it said.
    pub fn rejected(&self, statuses: &[u16]) -> Option<String> {
        match self {
            Self::Request { source, .. } => match &**source {
                HttpError::Status {
                    status, message, ..
                } if statuses.contains(status) => Some(message.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Request { source, .. } => source.hint().or_else(|| {
                Some(
                    "the branch is pushed; the next run opens or refreshes its change request"
                        .into(),
                )
            }),
            Self::IssueRequest { source, .. } => source.hint().or_else(|| {
                Some(
                    "what was written stays and is recognised: the next run carries on from it"
                        .into(),
                )
            }),
            Self::NoRepository { variables, .. } => Some(format!(
                "set `repository` in `[settings]`{}, or push to a forge remote",
                variables
                    .iter()
                    .map(|v| format!(", or `{v}`"))
                    .collect::<String>()
            )),
            Self::NoToken {
                variable,
                withheld: Some(url_variable),
                ..
            } => Some(format!(
                "`{variable}` is set but not sent to an API only `deps.toml` names: set `{url_variable}` to the API's address; nothing was changed"
            )),
            Self::NoToken {
                variable, noun, ..
            } => Some(format!(
                "set `{variable}` (a token that may open {noun}s); nothing was changed"
            )),
            Self::Unsupported { .. } => None,
            Self::NoIssues { .. } => Some(
                "`--issues` and `--dashboard` need a forge with issues: set `--repository` and `settings.forge`"
                    .into(),
            ),
            Self::UnknownForge { .. } => Some(
                "set `settings.forge` to one of them, or leave it out to infer it from the remote"
                    .into(),
            ),
            Self::ReviewersRefused(refused) if refused.not_collaborators => Some(format!(
                "they are not {} of `{}`: invite them (and have them accept), or remove them from `settings.reviewers`; the next run asks again",
                refused.reviewers_are, refused.repository
            )),
            Self::ReviewersRefused(refused) => Some(format!(
                "check `settings.reviewers` (user names of {}); the next run asks again",
                refused.reviewers_are
            )),
            Self::Unexpected { .. } => None,
        }
    }
}

/// The repository path of a remote URL (`https://github.com/owner/name.git`,
/// `git@github.com:owner/name.git`, `ssh://git@host/group/sub/name`), as many segments as
/// the forge's repositories have: two, or all of them where repositories nest.
pub fn repository_from_remote(url: &str, nested: bool) -> Option<String> {
    let path = if let Some((_, rest)) = url.split_once("://") {
        rest.split_once('/')?.1.to_owned()
    } else {
        url.split_once(':')?.1.to_owned()
    };
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() < 2 {
        return None;
    }
    let take = if nested { parts.len() } else { 2 };
    Some(parts[parts.len() - take..].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_from_remotes() {
        for (url, nested, expected) in [
            (
                "https://github.com/nodejs/node.git",
                false,
                Some("nodejs/node"),
            ),
            (
                "https://x-access-token@github.com/nodejs/node",
                false,
                Some("nodejs/node"),
            ),
            ("git@github.com:nodejs/node.git", false, Some("nodejs/node")),
            (
                "ssh://git@ghe.example.com/org/repo.git",
                false,
                Some("org/repo"),
            ),
            ("file:///srv/git/org/repo.git", false, Some("org/repo")),
            (
                "https://gitlab.gnome.org/GNOME/sub/libxml2.git",
                true,
                Some("GNOME/sub/libxml2"),
            ),
            ("nonsense", false, None),
        ] {
            assert_eq!(
                repository_from_remote(url, nested).as_deref(),
                expected,
                "{url}"
            );
        }
    }
}
