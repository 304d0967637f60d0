//! GitLab's merge requests: one per branch, found by its source branch (and, when branches are
//! pushed to a fork, the fork's project), opened or refreshed, never duplicated, and left
//! alone when nothing changed. A draft is a title starting `Draft: `; labels are names;
//! reviewers are users, asked for by id.
//!
//! - list: `GET /projects/{target}/merge_requests?state=opened&source_branch={branch}`
//! - open: `POST /projects/{source}/merge_requests` (with `target_project_id` from a fork);
//!   `409` when one is open already, which is then found and refreshed
//! - refresh: `PUT /projects/{target}/merge_requests/{iid}` (`title`, `description`,
//!   `add_labels`, `reviewer_ids`)
//! - users: `GET /users?username={name}`

use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::{Value, json};

use super::project_url;
use crate::forge::{
    ChangeRequests, ChangeTarget, ForgeError, PullRequestOutcome, PullRequestSpec, RefusedReviewers,
};
use crate::http::{ApiUrl, HttpClient, HttpError};

/// The prefix that marks a draft merge request.
const DRAFT: &str = "Draft: ";

/// GitLab's merge requests.
#[derive(Debug)]
pub(super) struct Merges;

impl ChangeRequests for Merges {
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
            let at = At { http, target };
            let source_id = match target.is_fork() {
                true => Some(at.project_id(&target.pushed_to, branch).await?),
                false => None,
            };
            match at.find_open(branch, source_id).await? {
                Some(mr) => iid_and_url(&mr).map(Some),
                None => Ok(None),
            }
        })
    }
}

/// One project's merge requests.
struct At<'a> {
    http: &'a HttpClient,
    target: &'a ChangeTarget,
}

impl At<'_> {
    fn url(
        &self,
        project: &str,
        segments: &[&str],
        query: Option<&str>,
    ) -> Result<ApiUrl, HttpError> {
        project_url(self.http, &self.target.site, project, segments, query)
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
            forge: "GitLab",
            what,
            detail: detail.to_owned(),
        }
    }

    /// A project's numeric id.
    async fn project_id(&self, project: &str, head: &str) -> Result<u64, ForgeError> {
        let found = self
            .call(
                "read the project",
                head,
                Method::GET,
                self.url(project, &[], None),
                None,
            )
            .await?;
        found["id"]
            .as_u64()
            .ok_or_else(|| Self::unexpected("the project", "no id"))
    }

    /// The open merge request from `branch` (of the fork, when branches are pushed to one).
    async fn find_open(
        &self,
        branch: &str,
        source_id: Option<u64>,
    ) -> Result<Option<Value>, ForgeError> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("state", "opened")
            .append_pair("source_branch", branch)
            .append_pair("per_page", "100")
            .finish();
        let found = self
            .call(
                "list merge requests",
                branch,
                Method::GET,
                self.url(&self.target.repository, &["merge_requests"], Some(&query)),
                None,
            )
            .await?;
        let list = found
            .as_array()
            .ok_or_else(|| Self::unexpected("the merge request list", "not a list"))?;
        // The query filters already; check, so a loose proxy never matters. The source
        // project is checked too: a same-named branch of someone else's fork is never taken
        // for ours (ours comes from the fork, or from the project itself).
        Ok(list
            .iter()
            .find(|mr| {
                let source = mr["source_project_id"].as_u64();
                mr["source_branch"].as_str() == Some(branch)
                    && mr["state"].as_str().is_none_or(|s| s == "opened")
                    && match source_id {
                        Some(id) => source == Some(id),
                        None => source.is_none_or(|s| Some(s) == mr["target_project_id"].as_u64()),
                    }
            })
            .cloned())
    }

    async fn open_or_refresh(
        &self,
        spec: &PullRequestSpec,
    ) -> Result<PullRequestOutcome, ForgeError> {
        // From a fork, the merge request is opened on the fork's project, aimed at ours.
        let fork = if self.target.is_fork() {
            Some((
                self.project_id(&self.target.pushed_to, &spec.head).await?,
                self.project_id(&self.target.repository, &spec.head).await?,
            ))
        } else {
            None
        };
        let source_id = fork.map(|(source, _)| source);
        let existing = match self.find_open(&spec.head, source_id).await? {
            Some(mr) => Some(mr),
            None => match self.create(spec, fork).await {
                Ok(outcome) => return Ok(outcome),
                // Opened meanwhile (a parallel run): refresh that one instead.
                Err(error) if error.rejected(&[409]).is_some() => {
                    self.find_open(&spec.head, source_id).await?
                }
                Err(error) => return Err(error),
            },
        };
        let mr = existing.ok_or_else(|| {
            Self::unexpected(
                "opening the merge request",
                "GitLab said one is open, but it cannot be found",
            )
        })?;
        let (iid, url) = iid_and_url(&mr)?;
        let mut changes = serde_json::Map::new();
        // A person may mark the draft ready (or make it a draft): that is theirs to keep.
        let title = mr["title"].as_str().unwrap_or_default();
        let (prefix, shown) = match title.strip_prefix(DRAFT) {
            Some(rest) => (DRAFT, rest),
            None => ("", title),
        };
        if shown != spec.title {
            changes.insert("title".into(), json!(format!("{prefix}{}", spec.title)));
        }
        if mr["description"].as_str().unwrap_or_default() != spec.body {
            changes.insert("description".into(), json!(spec.body));
        }
        let present: Vec<&str> = mr["labels"]
            .as_array()
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let missing: Vec<&str> = spec
            .labels
            .iter()
            .map(String::as_str)
            .filter(|l| !present.contains(l))
            .collect();
        if !missing.is_empty() {
            changes.insert("add_labels".into(), json!(missing.join(",")));
        }
        let asked: Vec<(String, u64)> = mr["reviewers"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|u| {
                        Some((
                            u["username"].as_str()?.to_ascii_lowercase(),
                            u["id"].as_u64()?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let author = mr["author"]["username"]
            .as_str()
            .map(str::to_ascii_lowercase);
        let new_reviewers: Vec<&String> = spec
            .reviewers
            .iter()
            .filter(|r| {
                let r = r.to_ascii_lowercase();
                !asked.iter().any(|(name, _)| *name == r) && author.as_deref() != Some(&r)
            })
            .collect();
        // Unknown reviewers are refused only after the refresh: the title and description
        // follow the branch whoever is asked to review it.
        let mut unknown = Vec::new();
        let mut found = Vec::new();
        if !new_reviewers.is_empty() {
            (found, unknown) = self.user_ids(&new_reviewers, &spec.head).await?;
            if !found.is_empty() {
                // `reviewer_ids` replaces the list: those asked before stay on it.
                let mut ids: Vec<u64> = asked.iter().map(|(_, id)| *id).collect();
                ids.extend(found.iter().map(|(_, id)| *id));
                changes.insert("reviewer_ids".into(), json!(ids));
            }
        }
        if changes.is_empty() {
            self.refuse(iid, unknown, Vec::new())?;
            return Ok(PullRequestOutcome::Unchanged { number: iid, url });
        }
        let refreshed = self
            .call(
                "refresh the merge request",
                &spec.head,
                Method::PUT,
                self.url(
                    &self.target.repository,
                    &["merge_requests", &iid.to_string()],
                    None,
                ),
                Some(Value::Object(changes)),
            )
            .await?;
        self.refuse(iid, unknown, left_out(&refreshed, found))?;
        Ok(PullRequestOutcome::Refreshed { number: iid, url })
    }

    async fn create(
        &self,
        spec: &PullRequestSpec,
        fork: Option<(u64, u64)>,
    ) -> Result<PullRequestOutcome, ForgeError> {
        let names: Vec<&String> = spec.reviewers.iter().collect();
        let (found, unknown) = self.user_ids(&names, &spec.head).await?;
        let reviewer_ids: Vec<u64> = found.iter().map(|(_, id)| *id).collect();
        let mut body = json!({
            "source_branch": spec.head,
            "target_branch": spec.base,
            "title": if spec.draft { format!("{DRAFT}{}", spec.title) } else { spec.title.clone() },
            "description": spec.body,
            "labels": spec.labels.join(","),
            "remove_source_branch": true,
        });
        if !reviewer_ids.is_empty() {
            body["reviewer_ids"] = json!(reviewer_ids);
        }
        let project = match fork {
            Some((_, target)) => {
                body["target_project_id"] = json!(target);
                &self.target.pushed_to
            }
            None => &self.target.repository,
        };
        let created = self
            .call(
                "open a merge request",
                &spec.head,
                Method::POST,
                self.url(project, &["merge_requests"], None),
                Some(body),
            )
            .await?;
        let (number, url) = iid_and_url(&created)?;
        self.refuse(number, unknown, left_out(&created, found))?;
        Ok(PullRequestOutcome::Created { number, url })
    }

    /// Reviewers GitLab does not know, and those it left out (it drops, without a word,
    /// users who cannot see the project), refused by name (the merge request `iid` is open).
    fn refuse(
        &self,
        iid: u64,
        unknown: Vec<String>,
        left_out: Vec<String>,
    ) -> Result<(), ForgeError> {
        let message = match (unknown.is_empty(), left_out.is_empty()) {
            (true, true) => return Ok(()),
            (false, true) => "no such user",
            (true, false) => "GitLab left them out: they cannot see the project",
            (false, false) => "no such user, or one who cannot see the project",
        };
        let mut refused = unknown;
        refused.extend(left_out);
        Err(ForgeError::ReviewersRefused(Box::new(RefusedReviewers {
            forge: "GitLab",
            noun: "merge request",
            reviewers_are: "members",
            number: iid,
            refused,
            not_collaborators: true,
            repository: self.target.repository.clone(),
            message: message.into(),
        })))
    }

    /// The users GitLab knows by name, with their ids, and the names it does not know.
    async fn user_ids(
        &self,
        names: &[&String],
        head: &str,
    ) -> Result<(Vec<(String, u64)>, Vec<String>), ForgeError> {
        let mut ids = Vec::new();
        let mut unknown = Vec::new();
        for name in names {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("username", name)
                .finish();
            let url = self.target.site.url(self.http, &["users"], Some(&query));
            let found = self
                .call("look up a reviewer", head, Method::GET, url, None)
                .await?;
            match found
                .as_array()
                .and_then(|a| a.first())
                .and_then(|u| u["id"].as_u64())
            {
                Some(id) => ids.push(((*name).clone(), id)),
                None => unknown.push((*name).clone()),
            }
        }
        Ok((ids, unknown))
    }
}

/// The reviewers asked for that a merge request, as GitLab answered with it, does not list.
fn left_out(mr: &Value, asked: Vec<(String, u64)>) -> Vec<String> {
    let Some(listed) = mr["reviewers"].as_array() else {
        return Vec::new();
    };
    asked
        .into_iter()
        .filter(|(_, id)| !listed.iter().any(|r| r["id"].as_u64() == Some(*id)))
        .map(|(name, _)| name)
        .collect()
}

fn iid_and_url(mr: &Value) -> Result<(u64, String), ForgeError> {
    let iid = mr["iid"]
        .as_u64()
        .ok_or_else(|| At::unexpected("the merge request", "no iid"))?;
    Ok((iid, mr["web_url"].as_str().unwrap_or_default().to_owned()))
}
