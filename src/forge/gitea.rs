//! Gitea and Forgejo (Codeberg by default), through the API v1 at `GITEA_API_URL`, with
//! `GITEA_TOKEN` (else `FORGEJO_TOKEN`) sent as `Authorization: token …`.
//!
//! Releases come from `GET /repos/{owner}/{repo}/releases`, tags from `…/tags`, both paged
//! by `Link` headers; a tag's archive from `…/archive/{tag}.tar.gz`; a tag's commit from
//! `…/tags/{tag}`. Pull requests: `pulls`.

mod pulls;

use futures::future::BoxFuture;
use reqwest::Url;
use serde::Deserialize;

use super::{ChangeRequests, Forge, ForgeInfo, Release, Site, Token, all_pages};
use crate::http::{Accept, ApiLabel, ApiPolicy, ApiUrl, CredentialHeader, HttpClient, HttpError};
use crate::select::ReleaseAsset;

/// Gitea and Forgejo.
#[derive(Debug)]
pub struct Gitea;

static LABEL: ApiLabel = ApiLabel {
    name: "Gitea",
    token_variable: "GITEA_TOKEN",
    url_variable: "GITEA_API_URL",
    unauthenticated_limit_hint: "set `GITEA_TOKEN` (or `FORGEJO_TOKEN`): authenticated requests may get a larger allowance",
    gone_hint: None,
};

static INFO: ForgeInfo = ForgeInfo {
    key: "gitea",
    release_kind: "gitea-release",
    tag_kind: "gitea-tag",
    api_setting: "gitea-api-url",
    default_api: "https://codeberg.org/api/v1",
    api_variables: &["GITEA_API_URL"],
    tokens: &[
        Token {
            variable: "GITEA_TOKEN",
            header: CredentialHeader::Token,
            push_user: "oauth2",
        },
        Token {
            variable: "FORGEJO_TOKEN",
            header: CredentialHeader::Token,
            push_user: "oauth2",
        },
    ],
    repository_variables: &["GITEA_REPOSITORY", "FORGEJO_REPOSITORY"],
    nested_repos: false,
    repo_example: "owner/name",
    label: &LABEL,
    policy: ApiPolicy::JSON,
    change_request: "pull request",
};

#[derive(Debug, Deserialize)]
struct ListedRelease {
    tag_name: String,
    #[serde(default)]
    published_at: Option<String>,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    prerelease: bool,
    #[serde(default)]
    assets: Vec<ListedAsset>,
}

#[derive(Debug, Deserialize)]
struct ListedAsset {
    name: String,
    browser_download_url: String,
}

#[derive(Debug, Deserialize)]
struct Tag {
    name: String,
    #[serde(default)]
    commit: Option<TagCommit>,
}

#[derive(Debug, Deserialize)]
struct TagCommit {
    sha: String,
}

/// `{api}/repos/{owner}/{name}/{segments...}`.
pub(super) fn repo_url(
    http: &HttpClient,
    site: &Site,
    repo: &str,
    segments: &[&str],
    query: Option<&str>,
) -> Result<ApiUrl, HttpError> {
    let mut all = vec!["repos"];
    all.extend(repo.split('/'));
    all.extend(segments);
    site.url(http, &all, query)
}

impl Forge for Gitea {
    fn info(&self) -> &'static ForgeInfo {
        &INFO
    }

    fn web_of(&self, api: &Url) -> String {
        super::web_base(api, "/api/v1")
    }

    fn releases<'a>(
        &'a self,
        http: &'a HttpClient,
        site: &'a Site,
        repo: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Release>, HttpError>> {
        Box::pin(async move {
            let url = repo_url(http, site, repo, &["releases"], Some("limit=50"))?;
            let listed: Vec<ListedRelease> = all_pages(http, url).await?;
            Ok(listed
                .into_iter()
                .map(|r| Release {
                    published_at: r.published_at.as_deref().and_then(super::seconds_of),
                    draft: r.draft,
                    prerelease: r.prerelease,
                    assets: r
                        .assets
                        .into_iter()
                        .map(|a| ReleaseAsset {
                            id: None,
                            name: a.name,
                            url: a.browser_download_url,
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
            let url = repo_url(http, site, repo, &["tags"], Some("limit=50"))?;
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
        let file = format!("{tag}.tar.gz");
        repo_url(http, site, repo, &["archive", &file], None)
    }

    fn link_paths(&self) -> (&'static str, &'static str) {
        ("releases/tag", "compare")
    }

    fn tag_commit<'a>(
        &'a self,
        http: &'a HttpClient,
        site: &'a Site,
        repo: &'a str,
        tag: &'a str,
    ) -> BoxFuture<'a, Option<String>> {
        Box::pin(async move {
            let url = repo_url(http, site, repo, &["tags", tag], None).ok()?;
            let found = http.get_json::<Tag>(&url, Accept::Api).await.ok()?.body;
            found.commit.map(|c| c.sha)
        })
    }

    fn public_download(&self, page: &str, tag: &str, asset: Option<&str>) -> Option<String> {
        let encode = |t: &str| crate::template::percent_encode(t, b"");
        Some(match asset {
            Some(asset) => format!("{page}/releases/download/{}/{}", encode(tag), encode(asset)),
            None => format!("{page}/archive/{}.tar.gz", encode(tag)),
        })
    }

    fn change_requests(&self) -> Option<&dyn ChangeRequests> {
        Some(&pulls::Pulls)
    }
}
