//! GitHub's pull requests (`GITHUB_API_URL`, so GitHub Enterprise too): one per branch,
//! found by its head (`owner:branch`, the owner a fork's when branches are pushed to one),
//! opened or refreshed, never duplicated, and left alone when nothing changed. Missing labels
//! and reviewers are added on every refresh (never re-asking someone who already reviewed);
//! a reviewer GitHub refuses is named.

use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::{Value, json};

use crate::forge::{
    ChangeRequests, ChangeTarget, ForgeError, PullRequestOutcome, PullRequestSpec, RefusedReviewers,
};
use crate::http::{ApiUrl, HttpClient, HttpError};

/// GitHub's pull requests.
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

/// One repository's pull requests.
struct At<'a> {
    http: &'a HttpClient,
    target: &'a ChangeTarget,
}

impl At<'_> {
    /// `branch` as GitHub names a pull request's head: `owner:branch`.
    fn head_label(&self, branch: &str) -> String {
        format!("{}:{branch}", self.target.head_owner())
    }

    fn url(&self, segments: &[&str], query: Option<&str>) -> Result<ApiUrl, HttpError> {
        super::repo_url(
            self.http,
            &self.target.site,
            &self.target.repository,
            segments,
            query,
        )
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
            forge: "GitHub",
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
    async fn open_or_refresh(
        &self,
        spec: &PullRequestSpec,
    ) -> Result<PullRequestOutcome, ForgeError> {
        let existing = match self.find_open(&spec.head).await? {
            Some(pr) => Some(pr),
            None => match self.create(spec).await {
                Ok(outcome) => return Ok(outcome),
                // Someone (a parallel run) opened it meanwhile: refresh that one instead.
                Err(error)
                    if error
                        .rejected(&[422])
                        .is_some_and(|m| m.to_ascii_lowercase().contains("already exists")) =>
                {
                    self.find_open(&spec.head).await?
                }
                Err(error) => return Err(error),
            },
        };
        let pr = existing.ok_or_else(|| ForgeError::Unexpected {
            forge: "GitHub",
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
                    "head": if self.target.is_fork() { self.head_label(&spec.head) } else { spec.head.clone() },
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
            Err(error) => match error.rejected(&[422]) {
                None => Err(error),
                Some(message) => {
                    // GitHub does not say who: ask about each one.
                    let mut refused = Vec::new();
                    for login in &missing {
                        let check = self
                            .http
                            .api_status(&self.url(&["collaborators", login], None).map_err(
                                |source| ForgeError::Request {
                                    what: "check a collaborator",
                                    head: spec.head.clone(),
                                    repository: self.target.repository.clone(),
                                    source: Box::new(source),
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
                        forge: "GitHub",
                        noun: "pull request",
                        reviewers_are: "collaborators",
                        number,
                        refused,
                        not_collaborators,
                        repository: self.target.repository.clone(),
                        message,
                    })))
                }
            },
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
            forge: "GitHub",
            what: "the pull request",
            detail: "no number".into(),
        })?;
    let url = pr["html_url"].as_str().unwrap_or_default().to_owned();
    Ok((number, url))
}
