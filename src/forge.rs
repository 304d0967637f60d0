//! Pull requests over GitHub's REST API (`GITHUB_API_URL`, so GitHub Enterprise too): one per
//! dependency, found by its head branch, opened or refreshed, never duplicated, and left alone
//! when nothing changed. What a pull request says comes in as text
//! ([`crate::summary::UpdateSummary`] renders it); this module only talks to the forge.

use std::sync::Arc;

use reqwest::{Method, Url};
use serde_json::{Value, json};

use crate::http::{HttpClient, HttpError};

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
            Self::Unexpected { .. } => None,
        }
    }
}

/// A repository's pull requests.
#[derive(Debug, Clone)]
pub struct Forge {
    http: Arc<HttpClient>,
    repository: String,
}

impl Forge {
    pub fn new(http: Arc<HttpClient>, repository: String) -> Self {
        Self { http, repository }
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    fn url(&self, segments: &[&str], query: Option<&str>) -> Result<Url, HttpError> {
        self.http.github_repo_url(&self.repository, segments, query)
    }

    async fn call(
        &self,
        what: &'static str,
        head: &str,
        method: Method,
        url: Result<Url, HttpError>,
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
        let owner = self.repository.split('/').next().unwrap_or_default();
        let head: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("state", "open")
            .append_pair("head", &format!("{owner}:{branch}"))
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
        // The query filters by head already; check, so a loose fake or proxy never matters.
        Ok(list
            .iter()
            .find(|pr| pr["head"]["ref"].as_str() == Some(branch))
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
                    "head": spec.head,
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
        if !spec.reviewers.is_empty() {
            self.call(
                "request reviewers",
                &spec.head,
                Method::POST,
                self.url(&["pulls", &number.to_string(), "requested_reviewers"], None),
                Some(json!({"reviewers": spec.reviewers})),
            )
            .await?;
        }
        Ok(PullRequestOutcome::Created { number, url })
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
