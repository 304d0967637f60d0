//! GitHub sources: releases (`source = "github-release"`) and tags (`source = "github-tag"`),
//! through the REST API at `GITHUB_API_URL`.
//!
//! Releases come from `GET /repos/{repo}/releases`, tags from
//! `GET /repos/{repo}/git/matching-refs/tags/{prefix}`, where the prefix is what every tag
//! template starts with: one request answers for all of a repository's tags, which the
//! name-sorted, paginated `/tags` listing cannot.

use reqwest::Url;
use serde::Deserialize;

use super::{Discovery, Source, SourceContext, SourceError, candidates_from_tags, scheme_of};
use crate::http::{Accept, HttpClient, HttpError, redact};
use crate::manifest::Tracking;
use crate::select::{ReleaseAsset, ReleaseCandidate};
use crate::tag::TagScheme;

/// Pages followed at most for one listing (100 items each).
const MAX_PAGES: usize = 20;

/// `source = "github-release"`.
#[derive(Debug)]
pub struct GithubReleaseSource<'a> {
    repo: &'a str,
    scheme: TagScheme,
}

/// `source = "github-tag"`.
#[derive(Debug)]
pub struct GithubTagSource<'a> {
    repo: &'a str,
    scheme: TagScheme,
}

#[derive(Debug, Deserialize)]
struct Release {
    tag_name: String,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    prerelease: bool,
    #[serde(default)]
    assets: Vec<Asset>,
}

#[derive(Debug, Deserialize)]
struct Asset {
    name: String,
    browser_download_url: String,
}

#[derive(Debug, Deserialize)]
struct GitRef {
    #[serde(rename = "ref")]
    name: String,
}

impl<'a> GithubReleaseSource<'a> {
    pub fn new(repo: &'a str, tracking: &Tracking) -> Self {
        Self {
            repo,
            scheme: scheme_of(tracking),
        }
    }
}

impl<'a> GithubTagSource<'a> {
    pub fn new(repo: &'a str, tracking: &Tracking) -> Self {
        Self {
            repo,
            scheme: scheme_of(tracking),
        }
    }
}

impl Source for GithubReleaseSource<'_> {
    async fn discover(&self, context: &SourceContext) -> Result<Discovery, SourceError> {
        let url = api_url(&context.http, self.repo, &["releases"])?;
        let releases: Vec<Release> = all_pages(&context.http, self.repo, url).await?;
        Ok(candidates_from_tags(
            &self.scheme,
            releases.iter().map(|r| (r.tag_name.as_str(), r)),
            |candidate, release| ReleaseCandidate {
                upstream_prerelease: release.prerelease,
                draft: release.draft,
                assets: release
                    .assets
                    .iter()
                    .map(|a| ReleaseAsset {
                        name: a.name.clone(),
                        url: a.browser_download_url.clone(),
                    })
                    .collect(),
                ..candidate
            },
        ))
    }
}

impl Source for GithubTagSource<'_> {
    async fn discover(&self, context: &SourceContext) -> Result<Discovery, SourceError> {
        // `tags` alone matches every tag; `tags/release/v` only those under that prefix.
        let prefix = self.scheme.common_prefix();
        let mut segments = vec!["git", "matching-refs", "tags"];
        if !prefix.is_empty() {
            segments.extend(prefix.split('/'));
        }
        let url = api_url(&context.http, self.repo, &segments)?;
        let refs: Vec<GitRef> = all_pages(&context.http, self.repo, url).await?;
        Ok(candidates_from_tags(
            &self.scheme,
            refs.iter()
                .filter_map(|r| r.name.strip_prefix("refs/tags/"))
                .map(|tag| (tag, ())),
            |candidate, ()| candidate,
        ))
    }
}

/// `{api}/repos/{owner}/{name}/{segments...}?per_page=100`, keeping any path prefix of a
/// GitHub Enterprise base (`https://ghe.example.com/api/v3`).
fn api_url(http: &HttpClient, repo: &str, segments: &[&str]) -> Result<Url, SourceError> {
    let mut url = http.github_api().clone();
    let bad = || SourceError::Http {
        location: repo.to_owned(),
        source: HttpError::BadUrl {
            url: redact(http.github_api()),
        },
    };
    url.path_segments_mut()
        .map_err(|()| bad())?
        .pop_if_empty()
        .push("repos")
        .extend(repo.split('/'))
        .extend(segments);
    url.set_query(Some("per_page=100"));
    Ok(url)
}

/// Follows `Link: rel="next"` from `first`, up to [`MAX_PAGES`].
async fn all_pages<T: serde::de::DeserializeOwned>(
    http: &HttpClient,
    repo: &str,
    first: Url,
) -> Result<Vec<T>, SourceError> {
    let mut items = Vec::new();
    let mut next = Some(first);
    let mut pages = 0;
    while let Some(url) = next.take() {
        if pages == MAX_PAGES {
            return Err(SourceError::TooManyPages {
                url: redact(&url),
                pages: MAX_PAGES,
            });
        }
        pages += 1;
        let page = http
            .get_json::<Vec<T>>(&url, Accept::GitHub)
            .await
            .map_err(|source| match source {
                HttpError::NotFound { .. } => SourceError::RepositoryNotFound {
                    repo: repo.to_owned(),
                    api: redact(http.github_api()),
                    authenticated: http.has_github_token(),
                },
                source => SourceError::Http {
                    location: repo.to_owned(),
                    source,
                },
            })?;
        items.extend(page.body);
        next = page.next;
    }
    Ok(items)
}
