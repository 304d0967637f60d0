//! Any git remote (`source = "git"`): its tags, or the head of a branch (`branch`).
//!
//! Refs are listed with one connection (like `git ls-remote`). A branch tracked with
//! `quiet-days` also needs commit dates: its history is fetched into a cache repository
//! (shallow where the transport allows), and only when the head differs from the vendored
//! commit. A version's code is its commit, exported from the remote as it is.

use super::Links;
use super::{
    Discovery, Origin, Source, SourceContext, SourceError, Target, candidates_from_tags, page_link,
    scheme_of, shown,
};
use crate::http::{HttpError, ensure_secure, redact};
use crate::manifest::Tracking;
use crate::select::{CommitCandidate, ReleaseCandidate, same_commit};
use crate::tag::TagScheme;
use crate::template::Vars;
use crate::vcs::{self, GitError};

/// Commits read from a branch's history at most, for a quiet period.
const HISTORY_DEPTH: usize = 200;

/// `source = "git"`.
#[derive(Debug)]
pub struct GitSource<'a> {
    url: &'a str,
    follows: Follows<'a>,
}

#[derive(Debug)]
enum Follows<'a> {
    Tags(TagScheme),
    Branch {
        name: &'a str,
        current: Option<&'a str>,
        quiet_days: u32,
    },
}

impl<'a> GitSource<'a> {
    pub fn new(url: &'a str, tracking: &'a Tracking) -> Self {
        let follows = match tracking {
            Tracking::Releases { .. } => Follows::Tags(scheme_of(tracking)),
            Tracking::Branch {
                branch,
                commit,
                quiet_days,
            } => Follows::Branch {
                name: branch,
                current: commit.as_deref(),
                quiet_days: *quiet_days,
            },
        };
        Self { url, follows }
    }

    fn error(&self, source: GitError) -> SourceError {
        SourceError::Git {
            location: self.shown_url(),
            source,
        }
    }

    /// The remote as it may be shown: without user name or password.
    fn shown_url(&self) -> String {
        shown(self.url)
    }
}

impl Source for GitSource<'_> {
    async fn discover(&self, context: &SourceContext) -> Result<Discovery, SourceError> {
        let parsed = reqwest::Url::parse(self.url).map_err(|_| SourceError::Http {
            location: self.url.to_owned(),
            source: HttpError::BadUrl {
                url: self.url.to_owned(),
            },
        })?;
        ensure_secure(&parsed).map_err(|source| SourceError::Http {
            location: redact(&parsed),
            source,
        })?;
        let url = self.url.to_owned();
        let retry = context.http.retry_policy();
        let refs = tokio::task::spawn_blocking(move || vcs::list_remote(&url, retry))
            .await
            .map_err(|e| self.error(GitError::Task(e.to_string())))?
            .map_err(|e| self.error(e))?;
        match &self.follows {
            Follows::Tags(scheme) => {
                // An annotated tag is advertised twice: the tag object, and `^{}` peeled to
                // its commit. The commit is what gets exported.
                let commit_of = |name: &str| {
                    let peeled = format!("{name}^{{}}");
                    refs.iter()
                        .find(|r| r.name == peeled)
                        .or_else(|| refs.iter().find(|r| r.name == name))
                        .map(|r| r.id.clone())
                };
                Ok(candidates_from_tags(
                    scheme,
                    refs.iter()
                        .filter(|r| !r.name.ends_with("^{}"))
                        .filter_map(|r| {
                            r.name
                                .strip_prefix("refs/tags/")
                                .map(|tag| (tag, r.name.as_str()))
                        }),
                    |candidate, name| ReleaseCandidate {
                        commit: commit_of(name),
                        ..candidate
                    },
                ))
            }
            Follows::Branch {
                name,
                current,
                quiet_days,
            } => {
                let wanted = format!("refs/heads/{name}");
                let Some(head) = refs.iter().find(|r| r.name == wanted) else {
                    return Err(SourceError::BranchNotFound {
                        branch: (*name).to_owned(),
                        url: self.shown_url(),
                        available: refs
                            .iter()
                            .filter_map(|r| r.name.strip_prefix("refs/heads/"))
                            .take(10)
                            .map(|b| format!("`{b}`"))
                            .collect(),
                    });
                };
                let unchanged = current.is_some_and(|c| same_commit(c, &head.id));
                if *quiet_days == 0 || unchanged {
                    return Ok(Discovery::Commits(vec![CommitCandidate {
                        id: head.id.clone(),
                        time: None,
                    }]));
                }
                let (url, branch, cache) = (
                    self.url.to_owned(),
                    (*name).to_owned(),
                    context.cache_dir.clone(),
                );
                let history = tokio::task::spawn_blocking(move || {
                    vcs::branch_history(cache.as_deref(), &url, &branch, HISTORY_DEPTH)
                })
                .await
                .map_err(|e| self.error(GitError::Task(e.to_string())))?
                .map_err(|e| self.error(e))?;
                Ok(Discovery::Commits(
                    history
                        .into_iter()
                        .map(|c| CommitCandidate {
                            id: c.id,
                            time: Some(c.time),
                        })
                        .collect(),
                ))
            }
        }
    }

    fn origin(
        &self,
        target: &Target<'_>,
        _vars: &Vars,
        _context: &SourceContext,
    ) -> Result<Origin, SourceError> {
        let (remote_ref, commit) = match &self.follows {
            Follows::Branch { name, .. } => {
                (format!("refs/heads/{name}"), target.version.to_owned())
            }
            Follows::Tags(_) => {
                let candidate = target.candidate;
                let (Some(tag), Some(commit)) = (
                    candidate.and_then(|c| c.tag.as_deref()),
                    candidate.and_then(|c| c.commit.clone()),
                ) else {
                    return Err(SourceError::NoCommit {
                        version: target.version.to_owned(),
                    });
                };
                (format!("refs/tags/{tag}"), commit)
            }
        };
        Ok(Origin::Commit {
            url: self.url.to_owned(),
            remote_ref,
            commit,
        })
    }

    fn links(&self, _context: &SourceContext, _old: Option<&str>, _new: Option<&str>) -> Links {
        page_link(self.url)
    }
}
