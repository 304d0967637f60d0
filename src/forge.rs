//! Pull requests over GitHub's REST API (`GITHUB_API_URL`, so GitHub Enterprise too): one per
//! dependency, found by its head branch, opened or refreshed, never duplicated, and left alone
//! when nothing changed. A branch pushed to a fork is named `forkowner:branch`, as GitHub
//! wants for the listing and the create. Missing labels and reviewers are added on every
//! refresh (never re-asking someone who already reviewed); a reviewer GitHub refuses is named. What a pull request says comes in as text
//! ([`crate::summary::UpdateSummary`] renders it); this module only talks to the forge.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};

use crate::http::{ApiUrl, HttpClient, HttpError};

/// What a pull request should say.
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

/// What happened to the pull request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum PullRequestOutcome {
    Created { number: u64, url: String },
    Refreshed { number: u64, url: String },
    Unchanged { number: u64, url: String },
}

impl PullRequestOutcome {
    pub fn url(&self) -> &str {
        match self {
            Self::Created { url, .. }
            | Self::Refreshed { url, .. }
            | Self::Unchanged { url, .. } => url,
        }
    }
}

/// Why a pull request could not be opened or refreshed.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error("cannot {what} for `{head}` in `{repository}`")]
    Request {
        what: &'static str,
        head: String,
        repository: String,
        #[source]
        source: HttpError,
    },
    #[error("GitHub answered {what} with something unexpected: {detail}")]
    Unexpected { what: &'static str, detail: String },
    #[error("no repository to open pull requests in")]
    NoRepository,
    #[error("pull request #{} is open, but GitHub refused to request a review from {}: {}", .0.number, names(&.0.refused), .0.message)]
    ReviewersRefused(Box<RefusedReviewers>),
}

/// Reviewers GitHub would not ask.
#[derive(Debug)]
pub struct RefusedReviewers {
    pub number: u64,
    /// Those who are not collaborators when that could be told, else all that were asked.
    pub refused: Vec<String>,
    /// Whether `refused` was checked to be non-collaborators.
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
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Request { source, .. } => source.hint().or_else(|| {
                Some("the branch is pushed; the next run opens or refreshes its pull request".into())
            }),
            Self::NoRepository => Some(
                "set `repository` in `[settings]`, or `GITHUB_REPOSITORY`, or push to a GitHub remote".into(),
            ),
            Self::ReviewersRefused(refused) if refused.not_collaborators => Some(format!(
                "they are not collaborators of `{}`: invite them (and have them accept), or remove them from `settings.reviewers`; the next run asks again",
                refused.repository
            )),
            Self::ReviewersRefused(_) => Some(
                "check `settings.reviewers` (GitHub logins of collaborators); the next run asks again".into(),
            ),
            Self::Unexpected { .. } => None,
        }
    }
}

/// A repository's pull requests.
#[derive(Debug, Clone)]
pub struct Forge {
    http: Arc<HttpClient>,
    repository: String,
    /// The owner of the repository branches are pushed to: the repository's own, or a fork's.
    head_owner: String,
}

impl Forge {
    pub fn new(http: Arc<HttpClient>, repository: String) -> Self {
        let head_owner = repository.split('/').next().unwrap_or_default().to_owned();
        Self {
            http,
            repository,
            head_owner,
        }
    }

    /// Branches are pushed to `fork` (`owner/name`), not to the repository itself.
    pub fn with_fork(mut self, fork: &str) -> Self {
        if let Some(owner) = fork.split('/').next() {
            self.head_owner = owner.to_owned();
        }
        self
    }

    /// `branch` as GitHub names a pull request's head: `owner:branch`.
    fn head_label(&self, branch: &str) -> String {
        format!("{}:{branch}", self.head_owner)
    }

    /// Whether branches live in a fork.
    fn is_fork(&self) -> bool {
        self.repository.split('/').next() != Some(self.head_owner.as_str())
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    fn url(&self, segments: &[&str], query: Option<&str>) -> Result<ApiUrl, HttpError> {
        self.http.github_repo_url(&self.repository, segments, query)
    }

    async fn call(
        &self,
        what: &'static str,
        head: &str,
        method: Method,
        url: Result<ApiUrl, HttpError>,
        body: Option<Value>,
    ) -> Result<Value, ForgeError> {
        let result = match url {
            Ok(url) => self.http.github_json(method, &url, body.as_ref()).await,
            Err(error) => Err(error),
        };
        result.map_err(|source| ForgeError::Request {
            what,
            head: head.to_owned(),
            repository: self.repository.clone(),
            source,
        })
    }

    /// The open pull request whose head is `branch` in this repository.
    async fn find_open(&self, branch: &str) -> Result<Option<Value>, ForgeError> {
        let label = self.head_label(branch);
        let head: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("state", "open")
            .append_pair("head", &label)
            .append_pair("per_page", "100")
            .finish();
        let found = self
            .call(
                "list pull requests",
                branch,
                Method::GET,
                self.url(&["pulls"], Some(&head)),
                None,
            )
            .await?;
        let list = found.as_array().ok_or_else(|| ForgeError::Unexpected {
            what: "the pull request list",
            detail: "not a list".into(),
        })?;
        // The query filters by head already; check, so a loose fake or proxy never matters
        // (and a same-named branch of another fork is never taken for ours).
        Ok(list
            .iter()
            .find(|pr| {
                pr["head"]["ref"].as_str() == Some(branch)
                    && pr["head"]["label"]
                        .as_str()
                        .is_none_or(|l| l.eq_ignore_ascii_case(&label))
            })
            .cloned())
    }

    /// Opens the pull request for `spec.head`, or refreshes the open one: title, body and
    /// missing labels. Sends no write when everything already matches.
    pub async fn open_or_refresh(
        &self,
        spec: &PullRequestSpec,
    ) -> Result<PullRequestOutcome, ForgeError> {
        let existing = match self.find_open(&spec.head).await? {
            Some(pr) => Some(pr),
            None => match self.create(spec).await {
                Ok(outcome) => return Ok(outcome),
                // Someone (a parallel run) opened it meanwhile: refresh that one instead.
                Err(ForgeError::Request {
                    source:
                        HttpError::Status {
                            status: 422,
                            ref message,
                            ..
                        },
                    ..
                }) if message.to_ascii_lowercase().contains("already exists") => {
                    self.find_open(&spec.head).await?
                }
                Err(error) => return Err(error),
            },
        };
        let pr = existing.ok_or_else(|| ForgeError::Unexpected {
            what: "creating the pull request",
            detail: "GitHub said it exists, but it cannot be found".into(),
        })?;
        let (number, url) = number_and_url(&pr)?;
        let mut wrote = false;
        if pr["title"].as_str() != Some(spec.title.as_str())
            || pr["body"].as_str().unwrap_or("") != spec.body
        {
            self.call(
                "refresh the pull request",
                &spec.head,
                Method::PATCH,
                self.url(&["pulls", &number.to_string()], None),
                Some(json!({"title": spec.title, "body": spec.body})),
            )
            .await?;
            wrote = true;
        }
        let present: Vec<&str> = pr["labels"]
            .as_array()
            .map(|labels| labels.iter().filter_map(|l| l["name"].as_str()).collect())
            .unwrap_or_default();
        let missing: Vec<&String> = spec
            .labels
            .iter()
            .filter(|l| !present.contains(&l.as_str()))
            .collect();
        if !missing.is_empty() {
            self.add_labels(number, &spec.head, &missing).await?;
            wrote = true;
        }
        if self
            .request_missing_reviewers(&pr, number, spec, false)
            .await?
        {
            wrote = true;
        }
        Ok(if wrote {
            PullRequestOutcome::Refreshed { number, url }
        } else {
            PullRequestOutcome::Unchanged { number, url }
        })
    }

    async fn create(&self, spec: &PullRequestSpec) -> Result<PullRequestOutcome, ForgeError> {
        let created = self
            .call(
                "open a pull request",
                &spec.head,
                Method::POST,
                self.url(&["pulls"], None),
                Some(json!({
                    "title": spec.title,
                    "head": if self.is_fork() { self.head_label(&spec.head) } else { spec.head.clone() },
                    "base": spec.base,
                    "body": spec.body,
                    "draft": spec.draft,
                    "maintainer_can_modify": true,
                })),
            )
            .await?;
        let (number, url) = number_and_url(&created)?;
        if !spec.labels.is_empty() {
            let labels: Vec<&String> = spec.labels.iter().collect();
            self.add_labels(number, &spec.head, &labels).await?;
        }
        self.request_missing_reviewers(&created, number, spec, true)
            .await?;
        Ok(PullRequestOutcome::Created { number, url })
    }

    /// Asks for a review from each of `spec.reviewers` not yet requested, who has not
    /// reviewed already and is not the author; says whether anything was sent.
    async fn request_missing_reviewers(
        &self,
        pr: &Value,
        number: u64,
        spec: &PullRequestSpec,
        fresh: bool,
    ) -> Result<bool, ForgeError> {
        let logins = |list: &Value, at: &str| -> Vec<String> {
            list.as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| item.pointer(at)?.as_str())
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut skip = logins(&pr["requested_reviewers"], "/login");
        skip.extend(pr["user"]["login"].as_str().map(str::to_ascii_lowercase));
        let mut missing: Vec<&String> = spec
            .reviewers
            .iter()
            .filter(|r| !skip.contains(&r.to_ascii_lowercase()))
            .collect();
        if missing.is_empty() {
            return Ok(false);
        }
        // Someone who reviewed leaves `requested_reviewers`; asking again would re-request.
        if !fresh {
            let reviews = self
                .call(
                    "read the reviews",
                    &spec.head,
                    Method::GET,
                    self.url(
                        &["pulls", &number.to_string(), "reviews"],
                        Some("per_page=100"),
                    ),
                    None,
                )
                .await?;
            let reviewed = logins(&reviews, "/user/login");
            missing.retain(|r| !reviewed.contains(&r.to_ascii_lowercase()));
            if missing.is_empty() {
                return Ok(false);
            }
        }
        let asked = self
            .call(
                "request reviewers",
                &spec.head,
                Method::POST,
                self.url(&["pulls", &number.to_string(), "requested_reviewers"], None),
                Some(json!({"reviewers": missing})),
            )
            .await;
        match asked {
            Ok(_) => Ok(true),
            Err(ForgeError::Request {
                source:
                    HttpError::Status {
                        status: 422,
                        message,
                        ..
                    },
                ..
            }) => {
                // GitHub does not say who: ask about each one.
                let mut refused = Vec::new();
                for login in &missing {
                    let check = self
                        .http
                        .github_status(&self.url(&["collaborators", login], None).map_err(
                            |source| ForgeError::Request {
                                what: "check a collaborator",
                                head: spec.head.clone(),
                                repository: self.repository.clone(),
                                source,
                            },
                        )?)
                        .await;
                    if check == Some(404) {
                        refused.push((*login).clone());
                    }
                }
                let not_collaborators = !refused.is_empty();
                if refused.is_empty() {
                    refused = missing.iter().map(|l| (*l).clone()).collect();
                }
                Err(ForgeError::ReviewersRefused(Box::new(RefusedReviewers {
                    number,
                    refused,
                    not_collaborators,
                    repository: self.repository.clone(),
                    message,
                })))
            }
            Err(error) => Err(error),
        }
    }

    async fn add_labels(
        &self,
        number: u64,
        head: &str,
        labels: &[&String],
    ) -> Result<(), ForgeError> {
        self.call(
            "label the pull request",
            head,
            Method::POST,
            self.url(&["issues", &number.to_string(), "labels"], None),
            Some(json!({"labels": labels})),
        )
        .await
        .map(drop)
    }
}

fn number_and_url(pr: &Value) -> Result<(u64, String), ForgeError> {
    let number = pr["number"]
        .as_u64()
        .ok_or_else(|| ForgeError::Unexpected {
            what: "the pull request",
            detail: "no number".into(),
        })?;
    let url = pr["html_url"].as_str().unwrap_or_default().to_owned();
    Ok((number, url))
}

/// `owner/name` of a GitHub remote URL (`https://github.com/owner/name.git`,
/// `git@github.com:owner/name.git`, `ssh://git@host/owner/name`).
pub fn repository_from_remote(url: &str) -> Option<String> {
    let path = if let Some((_, rest)) = url.split_once("://") {
        rest.split_once('/')?.1.to_owned()
    } else {
        url.split_once(':')?.1.to_owned()
    };
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    let mut parts = path.rsplitn(3, '/');
    let (name, owner) = (parts.next()?, parts.next()?);
    (!name.is_empty() && !owner.is_empty()).then(|| format!("{owner}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_from_remotes() {
        for (url, expected) in [
            ("https://github.com/nodejs/node.git", Some("nodejs/node")),
            (
                "https://x-access-token@github.com/nodejs/node",
                Some("nodejs/node"),
            ),
            ("git@github.com:nodejs/node.git", Some("nodejs/node")),
            ("ssh://git@ghe.example.com/org/repo.git", Some("org/repo")),
            ("file:///srv/git/org/repo.git", Some("org/repo")),
            ("nonsense", None),
        ] {
            assert_eq!(repository_from_remote(url).as_deref(), expected, "{url}");
        }
    }
}
