//! GitHub sources: releases (`source = "github-release"`) and tags (`source = "github-tag"`),
//! through the REST API at `GITHUB_API_URL`.
//!
//! Releases come from `GET /repos/{repo}/releases`, tags from
//! `GET /repos/{repo}/git/matching-refs/tags/{prefix}`, where the prefix is what every tag
//! template starts with: one request answers for all of a repository's tags, which the
//! name-sorted, paginated `/tags` listing cannot. A version's code is a release `asset`, or
//! GitHub's tarball of the tag through the API (so GitHub Enterprise and private repositories
//! work).

use serde::Deserialize;

use super::Links;
use super::{
    Discovery, KeyError, Kind, Origin, Source, SourceContext, SourceError, SourceKeys, SourceSpec,
    Target, asset_or, candidates_from_tags, forge_links, parse_repo, scheme_of,
};
use crate::http::{Accept, Api, ApiUrl, HttpClient, redact};
use crate::manifest::Tracking;
use crate::select::{ReleaseAsset, ReleaseCandidate};
use crate::tag::TagScheme;
use crate::template::{Template, Vars};

/// `source = "github-release"` in `deps.toml`.
pub const RELEASE_KIND: Kind = Kind {
    name: "github-release",
    keys: &["repo"],
    parse: |keys| parse(keys, "github-release").map(|repo| SourceSpec::GithubRelease { repo }),
};

/// `source = "github-tag"` in `deps.toml`.
pub const TAG_KIND: Kind = Kind {
    name: "github-tag",
    keys: &["repo"],
    parse: |keys| parse(keys, "github-tag").map(|repo| SourceSpec::GithubTag { repo }),
};

fn parse(keys: &SourceKeys<'_>, kind: &str) -> Result<String, KeyError> {
    parse_repo(keys, kind, false, "owner/name")
}

/// `source = "github-release"`.
#[derive(Debug)]
pub struct GithubReleaseSource<'a> {
    repo: &'a str,
    scheme: TagScheme,
    asset: Option<&'a Template>,
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
    published_at: Option<String>,
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
    /// Served at `/repos/{repo}/releases/assets/{id}`: an address the tool builds itself, so
    /// that the token never goes to one an answer named.
    #[serde(default)]
    id: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct GitRef {
    #[serde(rename = "ref")]
    name: String,
}

impl<'a> GithubReleaseSource<'a> {
    pub fn new(repo: &'a str, tracking: &Tracking, asset: Option<&'a Template>) -> Self {
        Self {
            repo,
            scheme: scheme_of(tracking),
            asset,
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
        let url = repo_url(&context.http, self.repo, &["releases"])?;
        let releases: Vec<Release> = all_pages(&context.http, self.repo, url).await?;
        Ok(candidates_from_tags(
            &self.scheme,
            releases.iter().map(|r| (r.tag_name.as_str(), r)),
            |candidate, release| ReleaseCandidate {
                upstream_prerelease: release.prerelease,
                draft: release.draft,
                published_at: release.published_at.as_deref().and_then(super::seconds_of),
                assets: release
                    .assets
                    .iter()
                    .map(|a| ReleaseAsset {
                        name: a.name.clone(),
                        url: a.browser_download_url.clone(),
                        id: a.id,
                    })
                    .collect(),
                ..candidate
            },
        ))
    }

    fn origin(
        &self,
        target: &Target<'_>,
        vars: &Vars,
        context: &SourceContext,
    ) -> Result<Origin, SourceError> {
        // With a token, assets come through the API: `browser_download_url` serves only
        // public repositories' assets.
        let through_api = context.http.has_github_token().then_some(|id: u64| {
            repo_api_url(
                &context.http,
                self.repo,
                &["releases", "assets", &id.to_string()],
                None,
            )
        });
        asset_or(self.asset, target, vars, through_api, || {
            tarball(context, self.repo, target)
        })
    }

    fn links(&self, context: &SourceContext, old: Option<&str>, new: Option<&str>) -> Links {
        links(context, self.repo, old, new)
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
        let url = repo_url(&context.http, self.repo, &segments)?;
        let refs: Vec<GitRef> = all_pages(&context.http, self.repo, url).await?;
        Ok(candidates_from_tags(
            &self.scheme,
            refs.iter()
                .filter_map(|r| r.name.strip_prefix("refs/tags/"))
                .map(|tag| (tag, ())),
            |candidate, ()| candidate,
        ))
    }

    fn origin(
        &self,
        target: &Target<'_>,
        _vars: &Vars,
        context: &SourceContext,
    ) -> Result<Origin, SourceError> {
        tarball(context, self.repo, target)
    }

    fn links(&self, context: &SourceContext, old: Option<&str>, new: Option<&str>) -> Links {
        links(context, self.repo, old, new)
    }
}

/// GitHub's source tarball of the tag, through the API.
fn tarball(
    context: &SourceContext,
    repo: &str,
    target: &Target<'_>,
) -> Result<Origin, SourceError> {
    let tag = target.tag.unwrap_or(target.version);
    Ok(Origin::Download {
        url: repo_api_url(&context.http, repo, &["tarball", tag], None)?.into(),
        published: super::Published::Nothing,
        name: None,
    })
}

fn links(context: &SourceContext, repo: &str, old: Option<&str>, new: Option<&str>) -> Links {
    let project = format!("{}/{repo}", context.http.github_web());
    forge_links(repo, project, "releases/tag", "compare", old, new)
}

/// A repository API URL, as a source error when the base cannot take a path.
fn repo_api_url(
    http: &HttpClient,
    repo: &str,
    segments: &[&str],
    query: Option<&str>,
) -> Result<ApiUrl, SourceError> {
    http.github_repo_url(repo, segments, query)
        .map_err(|source| SourceError::Http {
            location: repo.to_owned(),
            source,
        })
}

/// A listing URL with the largest page size.
fn repo_url(http: &HttpClient, repo: &str, segments: &[&str]) -> Result<ApiUrl, SourceError> {
    repo_api_url(http, repo, segments, Some("per_page=100"))
}

/// Every page of a listing; a 404 means the repository is not there.
async fn all_pages<T: serde::de::DeserializeOwned>(
    http: &HttpClient,
    repo: &str,
    first: ApiUrl,
) -> Result<Vec<T>, SourceError> {
    let not_found = || SourceError::RepositoryNotFound {
        forge: "GitHub",
        repo: repo.to_owned(),
        api: redact(http.github_api()),
        token: "GITHUB_TOKEN",
        authenticated: http.has_github_token(),
        withheld: http
            .withheld(Api::GitHub)
            .map(|_| Api::GitHub.url_variable()),
    };
    super::all_pages(http, first.into(), Accept::GitHub, repo, not_found).await
}
