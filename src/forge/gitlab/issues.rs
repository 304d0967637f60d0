//! GitLab's issues (`GITLAB_API_URL`, with `GITLAB_TOKEN`: a job token cannot reach them): the
//! open ones with a label, opened with their labels (GitLab creates a label it does not know),
//! edited only where they differ (title, description and missing labels in one `PUT`), and
//! closed after a comment saying why. An issue is named by its `iid`, its number within the
//! project; GitLab has no reason for closing, so the comment alone says it.
//!
//! - list: `GET /projects/{id}/issues?state=opened&labels={label}`, paginated by `Link` headers
//! - open: `POST /projects/{id}/issues` (`title`, `description`, `labels`)
//! - edit: `PUT /projects/{id}/issues/{iid}` (`title`, `description`, `add_labels`)
//! - close: `POST /projects/{id}/issues/{iid}/notes`, then `PUT /projects/{id}/issues/{iid}`
//!   (`state_event=close`)

use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::{Value, json};

use super::project_url;
use crate::forge::{ChangeTarget, ForgeError, Issue, IssueSpec, Issues};
use crate::http::{ApiUrl, HttpClient, HttpError};

/// GitLab's issues.
#[derive(Debug)]
pub(super) struct GitlabIssues;

impl Issues for GitlabIssues {
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
        _resolved: bool,
    ) -> BoxFuture<'a, Result<(), ForgeError>> {
        Box::pin(async move { At { http, target }.close(issue, comment).await })
    }
}

/// One project's issues.
struct At<'a> {
    http: &'a HttpClient,
    target: &'a ChangeTarget,
}

impl At<'_> {
    fn url(&self, segments: &[&str], query: Option<&str>) -> Result<ApiUrl, HttpError> {
        project_url(
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
            .append_pair("state", "opened")
            .append_pair("labels", label)
            .append_pair("per_page", "100")
            .finish();
        let listed: Vec<Value> = match self.url(&["issues"], Some(&query)) {
            Ok(url) => crate::forge::all_pages(self.http, url).await,
            Err(error) => Err(error),
        }
        .map_err(|source| self.failed("list issues", label, source))?;
        // A loose fake or proxy may ignore the filters, so they are checked here as well.
        listed
            .iter()
            .filter(|item| item["state"].as_str().is_none_or(|s| s == "opened"))
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
                json!({
                    "title": spec.title,
                    "description": spec.body,
                    "labels": spec.labels.join(","),
                }),
            )
            .await?;
        issue_of(&created)
    }

    async fn edit(&self, issue: &Issue, spec: &IssueSpec) -> Result<(), ForgeError> {
        let mut changes = serde_json::Map::new();
        if issue.title != spec.title || issue.body != spec.body {
            changes.insert("title".into(), json!(spec.title));
            changes.insert("description".into(), json!(spec.body));
        }
        let missing: Vec<&str> = spec
            .labels
            .iter()
            .filter(|l| !issue.labels.contains(l))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            changes.insert("add_labels".into(), json!(missing.join(",")));
        }
        if changes.is_empty() {
            return Ok(());
        }
        self.call(
            "edit the issue",
            &spec.title,
            Method::PUT,
            self.url(&["issues", &issue.number.to_string()], None),
            Value::Object(changes),
        )
        .await
        .map(drop)
    }

    async fn close(&self, issue: &Issue, comment: &str) -> Result<(), ForgeError> {
        let iid = issue.number.to_string();
        self.call(
            "comment on the issue",
            &issue.title,
            Method::POST,
            self.url(&["issues", &iid, "notes"], None),
            json!({"body": comment}),
        )
        .await?;
        self.call(
            "close the issue",
            &issue.title,
            Method::PUT,
            self.url(&["issues", &iid], None),
            json!({"state_event": "close"}),
        )
        .await
        .map(drop)
    }
}

fn issue_of(item: &Value) -> Result<Issue, ForgeError> {
    let number = item["iid"].as_u64().ok_or_else(|| ForgeError::Unexpected {
        forge: "GitLab",
        what: "the issue",
        detail: "no iid".into(),
    })?;
    Ok(Issue {
        number,
        url: item["web_url"].as_str().unwrap_or_default().to_owned(),
        title: item["title"].as_str().unwrap_or_default().to_owned(),
        body: item["description"].as_str().unwrap_or_default().to_owned(),
        // Names; objects with `name` when asked `with_labels_details`.
        labels: item["labels"]
            .as_array()
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|l| l.as_str().or_else(|| l["name"].as_str()))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
}
