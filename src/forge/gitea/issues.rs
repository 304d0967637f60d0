//! Gitea's and Forgejo's issues (`GITEA_API_URL`): the open ones with a label (pull requests
//! left out), opened with their labels, edited only where they differ (title and body in one
//! `PATCH`, missing labels added), and closed after a comment saying why. Labels are set by
//! id: a repository's labels are read once a run, and one it lacks is created.
//!
//! - list: `GET /repos/{repo}/issues?state=open&type=issues&labels={label}`, page by page
//!   (`listing`)
//! - labels: `GET /repos/{repo}/labels`; a missing one `POST /repos/{repo}/labels`
//! - open: `POST /repos/{repo}/issues` (`title`, `body`, `labels` as ids)
//! - edit: `PATCH /repos/{repo}/issues/{number}` (`title`, `body`); labels
//!   `POST /repos/{repo}/issues/{number}/labels`
//! - close: `POST /repos/{repo}/issues/{number}/comments`, then
//!   `PATCH /repos/{repo}/issues/{number}` (`state=closed`)

use std::collections::BTreeMap;
use std::sync::Mutex;

use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::{Value, json};

use super::{listing, repo_url};
use crate::forge::{ChangeTarget, ForgeError, Issue, IssueSpec, Issues};
use crate::http::{ApiUrl, HttpClient, HttpError};

/// The colour of a label deps-update creates: red, as findings are.
const LABEL_COLOR: &str = "#e11d21";

/// Label ids by name, per API and repository (`{api} {owner/name}`).
type KnownLabels = BTreeMap<String, BTreeMap<String, u64>>;

/// Gitea's issues, with each repository's label ids as read or created this run.
#[derive(Debug)]
pub(super) struct GiteaIssues {
    labels: Mutex<KnownLabels>,
}

impl GiteaIssues {
    pub(super) const fn new() -> Self {
        Self {
            labels: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Issues for GiteaIssues {
    fn open_issues<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        label: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Issue>, ForgeError>> {
        Box::pin(async move { self.at(http, target).open_issues(label).await })
    }

    fn create<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        spec: &'a IssueSpec,
    ) -> BoxFuture<'a, Result<Issue, ForgeError>> {
        Box::pin(async move { self.at(http, target).create(spec).await })
    }

    fn edit<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        issue: &'a Issue,
        spec: &'a IssueSpec,
    ) -> BoxFuture<'a, Result<(), ForgeError>> {
        Box::pin(async move { self.at(http, target).edit(issue, spec).await })
    }

    fn close<'a>(
        &'a self,
        http: &'a HttpClient,
        target: &'a ChangeTarget,
        issue: &'a Issue,
        comment: &'a str,
        _resolved: bool,
    ) -> BoxFuture<'a, Result<(), ForgeError>> {
        Box::pin(async move { self.at(http, target).close(issue, comment).await })
    }
}

impl GiteaIssues {
    fn at<'a>(&'a self, http: &'a HttpClient, target: &'a ChangeTarget) -> At<'a> {
        At {
            http,
            target,
            known: &self.labels,
        }
    }
}

/// One repository's issues.
struct At<'a> {
    http: &'a HttpClient,
    target: &'a ChangeTarget,
    known: &'a Mutex<KnownLabels>,
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

    async fn open_issues(&self, label: &str) -> Result<Vec<Issue>, ForgeError> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("state", "open")
            .append_pair("type", "issues")
            .append_pair("labels", label)
            .finish();
        let listed = self
            .listing(&["issues"], Some(&query))
            .await
            .map_err(|source| self.failed("list issues", label, source))?;
        // Pull requests are issues too without `type=issues`; a loose fake or proxy may ignore
        // the filters, so they are checked here as well.
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

    /// The key of this repository's labels among those known this run.
    fn repository_key(&self) -> String {
        format!(
            "{} {}",
            self.http.api(self.target.site.api).base,
            self.target.repository.to_ascii_lowercase()
        )
    }

    /// The ids of the labels `names`, creating those the repository lacks. The repository's
    /// labels are read the first time a run needs one.
    async fn label_ids(&self, names: &[&String], about: &str) -> Result<Vec<u64>, ForgeError> {
        let key = self.repository_key();
        let read = self.known.lock().expect("labels lock").contains_key(&key);
        if !read {
            let listed = self
                .listing(&["labels"], None)
                .await
                .map_err(|source| self.failed("read the labels", about, source))?;
            let labels: BTreeMap<String, u64> = listed
                .iter()
                .filter_map(|l| Some((l["name"].as_str()?.to_owned(), l["id"].as_u64()?)))
                .collect();
            self.known
                .lock()
                .expect("labels lock")
                .insert(key.clone(), labels);
        }
        let mut ids = Vec::new();
        for name in names {
            let known = self
                .known
                .lock()
                .expect("labels lock")
                .get(&key)
                .and_then(|labels| labels.get(name.as_str()).copied());
            let id = match known {
                Some(id) => id,
                None => {
                    let created = self
                        .call(
                            "create a label",
                            about,
                            Method::POST,
                            self.url(&["labels"], None),
                            json!({"name": name, "color": LABEL_COLOR}),
                        )
                        .await?;
                    let id = created["id"]
                        .as_u64()
                        .ok_or_else(|| unexpected("a label", "no id"))?;
                    self.known
                        .lock()
                        .expect("labels lock")
                        .entry(key.clone())
                        .or_default()
                        .insert((*name).clone(), id);
                    id
                }
            };
            ids.push(id);
        }
        Ok(ids)
    }

    async fn create(&self, spec: &IssueSpec) -> Result<Issue, ForgeError> {
        let names: Vec<&String> = spec.labels.iter().collect();
        let labels = self.label_ids(&names, &spec.title).await?;
        let created = self
            .call(
                "open an issue",
                &spec.title,
                Method::POST,
                self.url(&["issues"], None),
                json!({"title": spec.title, "body": spec.body, "labels": labels}),
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
            let labels = self.label_ids(&missing, &spec.title).await?;
            self.call(
                "label the issue",
                &spec.title,
                Method::POST,
                self.url(&["issues", &number, "labels"], None),
                json!({"labels": labels}),
            )
            .await?;
        }
        Ok(())
    }

    async fn close(&self, issue: &Issue, comment: &str) -> Result<(), ForgeError> {
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
            json!({"state": "closed"}),
        )
        .await
        .map(drop)
    }
}

fn unexpected(what: &'static str, detail: &str) -> ForgeError {
    ForgeError::Unexpected {
        forge: "Gitea",
        what,
        detail: detail.to_owned(),
    }
}

fn issue_of(item: &Value) -> Result<Issue, ForgeError> {
    let number = item["number"]
        .as_u64()
        .ok_or_else(|| unexpected("the issue", "no number"))?;
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
                    .filter_map(|l| l["name"].as_str())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
}
