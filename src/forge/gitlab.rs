//! GitLab, gitlab.com or self-hosted, through the REST API v4 at `GITLAB_API_URL` (in GitLab
//! CI, `CI_API_V4_URL`), with `GITLAB_TOKEN` (a personal or project access token, sent as
//! `PRIVATE-TOKEN`) or a CI job's `CI_JOB_TOKEN` (`JOB-TOKEN`, which reads releases and tags
//! but cannot reach merge requests or issues at all: `--pr` and `audit --issues` need
//! `GITLAB_TOKEN`, which wins when both are set).
//!
//! A project is named by its path, escaped into one segment (`GNOME%2Flibxml2`). Releases come
//! from `GET /projects/{id}/releases`, tags from `GET /projects/{id}/repository/tags`, both
//! paginated by `Link` headers; a tag's archive from `/repository/archive.tar.gz?sha={tag}`.
//! Merge requests: `merges`; issues: `issues`.

mod issues;
mod merges;

use futures::future::BoxFuture;
use reqwest::Url;
use serde::Deserialize;

use super::{ChangeRequests, Forge, ForgeInfo, Issues, Release, Site, Token, all_pages};
use crate::http::{ApiLabel, ApiPolicy, ApiUrl, CredentialHeader, HttpClient, HttpError};
use crate::select::ReleaseAsset;

/// GitLab.
#[derive(Debug)]
pub struct GitLab;

static LABEL: ApiLabel = ApiLabel {
    name: "GitLab",
    token_variable: "GITLAB_TOKEN",
    url_variable: "GITLAB_API_URL",
    unauthenticated_limit_hint: "set `GITLAB_TOKEN`: authenticated requests get a larger allowance",
    gone_hint: None,
};

static INFO: ForgeInfo = ForgeInfo {
    key: "gitlab",
    release_kind: "gitlab-release",
    tag_kind: "gitlab-tag",
    api_setting: "gitlab-api-url",
    default_api: "https://gitlab.com/api/v4",
    api_variables: &["GITLAB_API_URL", "CI_API_V4_URL"],
    tokens: &[
        Token {
            variable: "GITLAB_TOKEN",
            header: CredentialHeader::Named("PRIVATE-TOKEN"),
            push_user: "oauth2",
            writes: true,
        },
        Token {
            variable: "CI_JOB_TOKEN",
            header: CredentialHeader::Named("JOB-TOKEN"),
            push_user: "gitlab-ci-token",
            writes: false,
        },
    ],
    repository_variables: &["CI_PROJECT_PATH"],
    nested_repos: true,
    repo_example: "group/name` or `group/subgroup/name",
    label: &LABEL,
    policy: ApiPolicy::JSON,
    change_request: "merge request",
};

#[derive(Debug, Deserialize)]
struct ListedRelease {
    tag_name: String,
    #[serde(default)]
    released_at: Option<String>,
    /// A release whose date is still to come.
    #[serde(default)]
    upcoming_release: bool,
    #[serde(default)]
    assets: Assets,
}

#[derive(Debug, Default, Deserialize)]
struct Assets {
    #[serde(default)]
    links: Vec<AssetLink>,
}

#[derive(Debug, Deserialize)]
struct AssetLink {
    name: String,
    url: String,
    #[serde(default)]
    direct_asset_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Tag {
    name: String,
}

/// `{api}/projects/{group%2Fname}/{segments...}`.
pub(super) fn project_url(
    http: &HttpClient,
    site: &Site,
    repo: &str,
    segments: &[&str],
    query: Option<&str>,
) -> Result<ApiUrl, HttpError> {
    let mut all = vec!["projects", repo];
    all.extend(segments);
    site.url(http, &all, query)
}

impl Forge for GitLab {
    fn info(&self) -> &'static ForgeInfo {
        &INFO
    }

    fn web_of(&self, api: &Url) -> String {
        super::web_base(api, "/api/v4")
    }

    fn releases<'a>(
        &'a self,
        http: &'a HttpClient,
        site: &'a Site,
        repo: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Release>, HttpError>> {
        Box::pin(async move {
            let url = project_url(http, site, repo, &["releases"], Some("per_page=100"))?;
            let listed: Vec<ListedRelease> = all_pages(http, url).await?;
            Ok(listed
                .into_iter()
                .map(|r| Release {
                    published_at: r.released_at.as_deref().and_then(super::seconds_of),
                    draft: false,
                    prerelease: r.upcoming_release,
                    assets: r
                        .assets
                        .links
                        .into_iter()
                        .map(|a| ReleaseAsset {
                            id: None,
                            name: a.name,
                            url: a.direct_asset_url.unwrap_or(a.url),
                        })
                        .collect(),
                    tag: r.tag_name,
                })
                .collect())
        })
    }

    fn tags<'a>(
        &'a self,
        http: &'a HttpClient,
        site: &'a Site,
        repo: &'a str,
        _prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, HttpError>> {
        Box::pin(async move {
            let url = project_url(
                http,
                site,
                repo,
                &["repository", "tags"],
                Some("per_page=100"),
            )?;
            let tags: Vec<Tag> = all_pages(http, url).await?;
            Ok(tags.into_iter().map(|t| t.name).collect())
        })
    }

    fn archive(
        &self,
        http: &HttpClient,
        site: &Site,
        repo: &str,
        tag: &str,
    ) -> Result<ApiUrl, HttpError> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("sha", tag)
            .finish();
        project_url(
            http,
            site,
            repo,
            &["repository", "archive.tar.gz"],
            Some(&query),
        )
    }

    fn link_paths(&self) -> (&'static str, &'static str) {
        ("-/releases", "-/compare")
    }

    fn change_requests(&self) -> Option<&dyn ChangeRequests> {
        Some(&merges::Merges)
    }

    fn issues(&self) -> Option<&dyn Issues> {
        Some(&issues::GitlabIssues)
    }
}
