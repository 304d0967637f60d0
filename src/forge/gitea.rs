//! Gitea and Forgejo (Codeberg by default), through the API v1 at `GITEA_API_URL`, with
//! `GITEA_TOKEN` (else `FORGEJO_TOKEN`) sent as `Authorization: token …`.
//!
//! Releases come from `GET /repos/{owner}/{repo}/releases`, tags from `…/tags`, both asked
//! for page by page (`listing`); a tag's archive from `…/archive/{tag}.tar.gz`; a tag's
//! commit from `…/tags/{tag}`. Pull requests: `pulls`; issues: `issues`.

mod issues;
mod pulls;

use futures::future::BoxFuture;
use reqwest::Url;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{ChangeRequests, Forge, ForgeInfo, Issues, MAX_PAGES, Release, Site, Token};
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
            writes: true,
        },
        Token {
            variable: "FORGEJO_TOKEN",
            header: CredentialHeader::Token,
            push_user: "oauth2",
            writes: true,
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

/// Issues, with the label ids each repository's were found to have this run.
static ISSUES: issues::GiteaIssues = issues::GiteaIssues::new();

/// Items asked for per page: Gitea's and Forgejo's default `MAX_RESPONSE_ITEMS`.
const PAGE_SIZE: usize = 50;

/// Every item of a repository's listing (`releases`, `tags`, `pulls`, `issues`, `labels`),
/// asked for by page number on the configured API, up to [`MAX_PAGES`] pages. Gitea sends a
/// `Link` header with some listings (releases, pull requests) but only `X-Total-Count` with
/// others (tags, labels), and builds its links on its own `ROOT_URL`, which need not be the
/// address configured (nor carry the token): so a `Link: rel="next"` only says that another
/// page follows, and so does a full page.
pub(super) async fn listing<T: DeserializeOwned>(
    http: &HttpClient,
    site: &Site,
    repo: &str,
    segments: &[&str],
    filter: Option<&str>,
) -> Result<Vec<T>, HttpError> {
    let page_url = |page: usize| {
        let paging = format!("page={page}&limit={PAGE_SIZE}");
        let query = match filter {
            Some(filter) => format!("{filter}&{paging}"),
            None => paging,
        };
        repo_url(http, site, repo, segments, Some(&query))
    };
    let mut items = Vec::new();
    for page in 1..=MAX_PAGES {
        let answer = http
            .get_json::<Vec<T>>(page_url(page)?, Accept::Api)
            .await?;
        let more =
            !answer.body.is_empty() && (answer.next.is_some() || answer.body.len() >= PAGE_SIZE);
        items.extend(answer.body);
        if !more {
            return Ok(items);
        }
    }
    Err(HttpError::TooManyPages {
        url: page_url(MAX_PAGES + 1)?.to_string(),
        pages: MAX_PAGES,
    })
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
            let listed: Vec<ListedRelease> = listing(http, site, repo, &["releases"], None).await?;
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
            let tags: Vec<Tag> = listing(http, site, repo, &["tags"], None).await?;
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

    fn issues(&self) -> Option<&dyn Issues> {
        Some(&ISSUES)
    }
}
