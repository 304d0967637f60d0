//! GitHub's issues (`GITHUB_API_URL`, so GitHub Enterprise too): the open ones with a label
//! (`GET /repos/{repo}/issues?state=open&labels=...`, pull requests left out), opened with
//! their labels, edited only where they differ (title and body in one `PATCH`, missing labels
//! added), and closed after a comment saying why. Writes are paced by the HTTP client, as
//! every write to GitHub is.

use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::{Value, json};

use crate::forge::{ChangeTarget, ForgeError, Issue, IssueSpec, Issues};
use crate::http::{ApiUrl, HttpClient, HttpError};

/// GitHub's issues.
#[derive(Debug)]
pub(super) struct GithubIssues;

impl Issues for GithubIssues {
    fn open_issues<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        label: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Issue>, ForgeError>> {
        Box::pin(async move { At { http, target }.open_issues(label).await })
    }

    fn create<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        spec: &'a IssueSpec,
    ) -> BoxFuture<'a, Result<Issue, ForgeError>> {
        Box::pin(async move { At { http, target }.create(spec).await })
    }

    fn edit<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        issue: &'a Issue,
        spec: &'a IssueSpec,
    ) -> BoxFuture<'a, Result<(), ForgeError>> {
        Box::pin(async move { At { http, target }.edit(issue, spec).await })
    }

    fn close<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        issue: &'a Issue,
        comment: &'a str,
        resolved: bool,
    ) -> BoxFuture<'a, Result<(), ForgeError>> {
        Box::pin(async move { At { http, target }.close(issue, comment, resolved).await })
    }
}

/// One repository's issues.
struct At<'a> {
    http: &'a HttpClient,
    target: &'a ChangeTarget,
}

impl At<'_> {
    fn url(&self, segments: &[&str], query: Option<&str>) -> Result<ApiUrl, HttpError> {
        super::repo_url(
            self.http,
            &self.target.site,
            &self.target.repository,
            segments,
            query,
        )
    }

    fn failed(&self, what: &'static str, about: &str, source: HttpError) -> ForgeError {
        self.target.issue_failed(what, about, source)
    }

    async fn call(
        &self,
        what: &'static str,
        about: &str,
        method: Method,
        url: Result<ApiUrl, HttpError>,
        body: Value,
    ) -> Result<Value, ForgeError> {
        self.target
            .issue_call(self.http, what, about, method, url, body)
            .await
    }

    async fn open_issues(&self, label: &str) -> Result<Vec<Issue>, ForgeError> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("state", "open")
            .append_pair("labels", label)
            .append_pair("per_page", "100")
            .finish();
        let listed: Vec<Value> = match self.url(&["issues"], Some(&query)) {
            Ok(url) => crate::forge::all_pages(self.http, url).await,
            Err(error) => Err(error),
        }
        .map_err(|source| self.failed("list issues", label, source))?;
        // Pull requests are issues too in this listing; a loose fake or proxy may ignore the
        // filters, so they are checked here as well.
        listed
            .iter()
            .filter(|item| item.get("pull_request").is_none_or(Value::is_null))
            .filter(|item| item["state"].as_str().is_none_or(|s| s == "open"))
            .map(issue_of)
            .filter(|issue| {
                issue
                    .as_ref()
                    .map_or(true, |i| i.labels.iter().any(|l| l == label))
            })
            .collect()
    }

    async fn create(&self, spec: &IssueSpec) -> Result<Issue, ForgeError> {
        let created = self
            .call(
                "open an issue",
                &spec.title,
                Method::POST,
                self.url(&["issues"], None),
                json!({"title": spec.title, "body": spec.body, "labels": spec.labels}),
            )
            .await?;
        issue_of(&created)
    }

    async fn edit(&self, issue: &Issue, spec: &IssueSpec) -> Result<(), ForgeError> {
        let number = issue.number.to_string();
        if issue.title != spec.title || issue.body != spec.body {
            self.call(
                "edit the issue",
                &spec.title,
                Method::PATCH,
                self.url(&["issues", &number], None),
                json!({"title": spec.title, "body": spec.body}),
            )
            .await?;
        }
        let missing: Vec<&String> = spec
            .labels
            .iter()
            .filter(|l| !issue.labels.contains(l))
            .collect();
        if !missing.is_empty() {
            self.call(
                "label the issue",
                &spec.title,
                Method::POST,
                self.url(&["issues", &number, "labels"], None),
                json!({"labels": missing}),
            )
            .await?;
        }
        Ok(())
    }

    async fn close(&self, issue: &Issue, comment: &str, resolved: bool) -> Result<(), ForgeError> {
        let number = issue.number.to_string();
        self.call(
            "comment on the issue",
            &issue.title,
            Method::POST,
            self.url(&["issues", &number, "comments"], None),
            json!({"body": comment}),
        )
        .await?;
        self.call(
            "close the issue",
            &issue.title,
            Method::PATCH,
            self.url(&["issues", &number], None),
            json!({
                "state": "closed",
                "state_reason": if resolved { "completed" } else { "not_planned" },
            }),
        )
        .await
        .map(drop)
    }
}

fn issue_of(item: &Value) -> Result<Issue, ForgeError> {
    let number = item["number"]
        .as_u64()
        .ok_or_else(|| ForgeError::Unexpected {
            forge: "GitHub",
            what: "the issue",
            detail: "no number".into(),
        })?;
    Ok(Issue {
        number,
        url: item["html_url"].as_str().unwrap_or_default().to_owned(),
        title: item["title"].as_str().unwrap_or_default().to_owned(),
        body: item["body"].as_str().unwrap_or_default().to_owned(),
        labels: item["labels"]
            .as_array()
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|l| l["name"].as_str().or_else(|| l.as_str()))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
}
