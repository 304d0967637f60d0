//! Gitea's and Forgejo's pull requests: one per branch, found by its head among the open
//! ones (`owner:branch` from a fork), opened or refreshed, never duplicated, and left alone
//! when nothing changed. A draft is a title starting `WIP: `; labels are set by id (a label
//! the repository lacks is created); reviewers are asked for by login.
//!
//! - list: `GET /repos/{repo}/pulls?state=open`
//! - open: `POST /repos/{repo}/pulls`; `409` (or `422`, by version) when one is open already,
//!   which is then found and refreshed
//! - refresh: `PATCH /repos/{repo}/pulls/{index}`; labels `POST /repos/{repo}/issues/{index}/labels`;
//!   reviewers `POST /repos/{repo}/pulls/{index}/requested_reviewers`

use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::{Value, json};

use super::{listing, repo_url};
use crate::forge::{
    ChangeRequests, ChangeTarget, ForgeError, PullRequestOutcome, PullRequestSpec, RefusedReviewers,
};
use crate::http::{ApiUrl, HttpClient, HttpError};

/// The prefix that marks a draft pull request.
const DRAFT: &str = "WIP: ";

/// Gitea's pull requests.
#[derive(Debug)]
pub(super) struct Pulls;

impl ChangeRequests for Pulls {
    fn open_or_refresh<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        spec: &'a PullRequestSpec,
    ) -> BoxFuture<'a, Result<PullRequestOutcome, ForgeError>> {
        Box::pin(async move { At { http, target }.open_or_refresh(spec).await })
    }

    fn open_for<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        branch: &'a str,
    ) -> BoxFuture<'a, Result<Option<(u64, String)>, ForgeError>> {
        Box::pin(async move {
            let found = At { http, target }.find_open(branch).await?;
            match found {
                Some(pr) => number_and_url(&pr).map(Some),
                None => Ok(None),
            }
        })
    }
}

struct At<'a> {
    http: &'a HttpClient,
    target: &'a ChangeTarget,
}

impl At<'_> {
    fn url(&self, segments: &[&str], query: Option<&str>) -> Result<ApiUrl, HttpError> {
        repo_url(
            self.http,
            &self.target.site,
            &self.target.repository,
            segments,
            query,
        )
    }

    /// Every item of one of the repository's listings.
    async fn listing(
        &self,
        segments: &[&str],
        filter: Option<&str>,
    ) -> Result<Vec<Value>, HttpError> {
        listing(
            self.http,
            &self.target.site,
            &self.target.repository,
            segments,
            filter,
        )
        .await
    }

    async fn call(
        &self,
        what: &'static str,
        head: &str,
        method: Method,
        url: Result<ApiUrl, HttpError>,
        body: Option<Value>,
    ) -> Result<Value, ForgeError> {
        self.target
            .call(self.http, what, head, method, url, body.as_ref())
            .await
    }

    fn unexpected(what: &'static str, detail: &str) -> ForgeError {
        ForgeError::Unexpected {
            forge: "Gitea",
            what,
            detail: detail.to_owned(),
        }
    }

    /// The open pull request whose head is `branch` of the repository branches go to.
    async fn find_open(&self, branch: &str) -> Result<Option<Value>, ForgeError> {
        let open: Vec<Value> = self
            .listing(&["pulls"], Some("state=open"))
            .await
            .map_err(|e| self.target.failed("list pull requests", branch, e))?;
        let owner = self.target.head_owner();
        Ok(open.into_iter().find(|pr| {
            pr["head"]["ref"].as_str() == Some(branch)
                && pr["head"]["repo"]["owner"]["login"]
                    .as_str()
                    .is_none_or(|o| o.eq_ignore_ascii_case(owner))
        }))
    }

    async fn open_or_refresh(
        &self,
        spec: &PullRequestSpec,
    ) -> Result<PullRequestOutcome, ForgeError> {
        let existing = match self.find_open(&spec.head).await? {
            Some(pr) => Some(pr),
            None => match self.create(spec).await {
                Ok(outcome) => return Ok(outcome),
                // Opened meanwhile (a parallel run): refresh that one instead.
                Err(error)
                    if error.rejected(&[409]).is_some()
                        || error
                            .rejected(&[422])
                            .is_some_and(|m| m.to_ascii_lowercase().contains("already exists")) =>
                {
                    self.find_open(&spec.head).await?
                }
                Err(error) => return Err(error),
            },
        };
        let pr = existing.ok_or_else(|| {
            Self::unexpected(
                "opening the pull request",
                "Gitea said one is open, but it cannot be found",
            )
        })?;
        let (number, url) = number_and_url(&pr)?;
        let mut wrote = false;
        let title = pr["title"].as_str().unwrap_or_default();
        let (prefix, shown) = match title.strip_prefix(DRAFT) {
            Some(rest) => (DRAFT, rest),
            None => ("", title),
        };
        if shown != spec.title || pr["body"].as_str().unwrap_or_default() != spec.body {
            self.call(
                "refresh the pull request",
                &spec.head,
                Method::PATCH,
                self.url(&["pulls", &number.to_string()], None),
                Some(json!({"title": format!("{prefix}{}", spec.title), "body": spec.body})),
            )
            .await?;
            wrote = true;
        }
        let present: Vec<&str> = pr["labels"]
            .as_array()
            .map(|l| l.iter().filter_map(|l| l["name"].as_str()).collect())
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
        if self.request_reviewers(&pr, number, spec).await? {
            wrote = true;
        }
        Ok(if wrote {
            PullRequestOutcome::Refreshed { number, url }
        } else {
            PullRequestOutcome::Unchanged { number, url }
        })
    }

    async fn create(&self, spec: &PullRequestSpec) -> Result<PullRequestOutcome, ForgeError> {
        let head = if self.target.is_fork() {
            format!("{}:{}", self.target.head_owner(), spec.head)
        } else {
            spec.head.clone()
        };
        let title = if spec.draft {
            format!("{DRAFT}{}", spec.title)
        } else {
            spec.title.clone()
        };
        let created = self
            .call(
                "open a pull request",
                &spec.head,
                Method::POST,
                self.url(&["pulls"], None),
                Some(json!({"head": head, "base": spec.base, "title": title, "body": spec.body})),
            )
            .await?;
        let (number, url) = number_and_url(&created)?;
        if !spec.labels.is_empty() {
            let labels: Vec<&String> = spec.labels.iter().collect();
            self.add_labels(number, &spec.head, &labels).await?;
        }
        self.request_reviewers(&created, number, spec).await?;
        Ok(PullRequestOutcome::Created { number, url })
    }

    /// Adds labels by id, creating those the repository lacks.
    async fn add_labels(
        &self,
        number: u64,
        head: &str,
        names: &[&String],
    ) -> Result<(), ForgeError> {
        let known: Vec<Value> = self
            .listing(&["labels"], None)
            .await
            .map_err(|e| self.target.failed("read the labels", head, e))?;
        let mut ids = Vec::new();
        for name in names {
            let id = match known
                .iter()
                .find(|l| l["name"].as_str() == Some(name.as_str()))
            {
                Some(label) => label["id"].as_u64(),
                None => self
                    .call(
                        "create a label",
                        head,
                        Method::POST,
                        self.url(&["labels"], None),
                        Some(json!({"name": name, "color": "#ededed"})),
                    )
                    .await?["id"]
                    .as_u64(),
            };
            ids.push(id.ok_or_else(|| Self::unexpected("a label", "no id"))?);
        }
        self.call(
            "label the pull request",
            head,
            Method::POST,
            self.url(&["issues", &number.to_string(), "labels"], None),
            Some(json!({"labels": ids})),
        )
        .await
        .map(drop)
    }

    /// Asks for a review from each of `spec.reviewers` not yet asked and not the author;
    /// says whether anything was sent.
    async fn request_reviewers(
        &self,
        pr: &Value,
        number: u64,
        spec: &PullRequestSpec,
    ) -> Result<bool, ForgeError> {
        let mut skip: Vec<String> = pr["requested_reviewers"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|u| u["login"].as_str().map(str::to_ascii_lowercase))
                    .collect()
            })
            .unwrap_or_default();
        skip.extend(pr["user"]["login"].as_str().map(str::to_ascii_lowercase));
        let missing: Vec<&String> = spec
            .reviewers
            .iter()
            .filter(|r| !skip.contains(&r.to_ascii_lowercase()))
            .collect();
        if missing.is_empty() {
            return Ok(false);
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
            Err(error) => match error.rejected(&[404, 422]) {
                None => Err(error),
                Some(message) => Err(ForgeError::ReviewersRefused(Box::new(RefusedReviewers {
                    forge: "Gitea",
                    noun: "pull request",
                    reviewers_are: "collaborators",
                    number,
                    refused: missing.iter().map(|l| (*l).clone()).collect(),
                    not_collaborators: false,
                    repository: self.target.repository.clone(),
                    message,
                }))),
            },
        }
    }
}

fn number_and_url(pr: &Value) -> Result<(u64, String), ForgeError> {
    let number = pr["number"]
        .as_u64()
        .ok_or_else(|| At::unexpected("the pull request", "no number"))?;
    Ok((
        number,
        pr["html_url"].as_str().unwrap_or_default().to_owned(),
    ))
}
