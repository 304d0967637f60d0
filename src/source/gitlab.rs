//! GitLab sources: releases (`source = "gitlab-release"`) and tags (`source = "gitlab-tag"`)
//! of a project (`repo = "group/subgroup/name"`), through the REST API at `GITLAB_API_URL`
//! (else `settings.gitlab-api-url`, else gitlab.com), with `GITLAB_TOKEN` for private ones.
//!
//! Releases come from `GET /projects/{id}/releases`, tags from
//! `GET /projects/{id}/repository/tags`, where `{id}` is the project's path, escaped into one
//! segment; both are paginated by `Link` headers. A version's code is a release `asset` (one of
//! its links), or the API's archive of the tag.

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

/// `source = "gitlab-release"` in `deps.toml`.
pub const RELEASE_KIND: Kind = Kind {
    name: "gitlab-release",
    keys: &["repo"],
    parse: |keys| parse(keys, "gitlab-release").map(|repo| SourceSpec::GitlabRelease { repo }),
};

/// `source = "gitlab-tag"` in `deps.toml`.
pub const TAG_KIND: Kind = Kind {
    name: "gitlab-tag",
    keys: &["repo"],
    parse: |keys| parse(keys, "gitlab-tag").map(|repo| SourceSpec::GitlabTag { repo }),
};

fn parse(keys: &SourceKeys<'_>, kind: &str) -> Result<String, KeyError> {
    parse_repo(keys, kind, true, "group/name` or `group/subgroup/name")
}

/// `source = "gitlab-release"`.
#[derive(Debug)]
pub struct GitlabReleaseSource<'a> {
    repo: &'a str,
    scheme: TagScheme,
    asset: Option<&'a Template>,
}

/// `source = "gitlab-tag"`.
#[derive(Debug)]
pub struct GitlabTagSource<'a> {
    repo: &'a str,
    scheme: TagScheme,
}

#[derive(Debug, Deserialize)]
struct Release {
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

impl<'a> GitlabReleaseSource<'a> {
    pub fn new(repo: &'a str, tracking: &Tracking, asset: Option<&'a Template>) -> Self {
        Self {
            repo,
            scheme: scheme_of(tracking),
            asset,
        }
    }
}

impl<'a> GitlabTagSource<'a> {
    pub fn new(repo: &'a str, tracking: &Tracking) -> Self {
        Self {
            repo,
            scheme: scheme_of(tracking),
        }
    }
}

impl Source for GitlabReleaseSource<'_> {
    async fn discover(&self, context: &SourceContext) -> Result<Discovery, SourceError> {
        let url = project_url(
            &context.http,
            self.repo,
            &["releases"],
            Some("per_page=100"),
        )?;
        let releases: Vec<Release> = all_pages(&context.http, self.repo, url).await?;
        Ok(candidates_from_tags(
            &self.scheme,
            releases.iter().map(|r| (r.tag_name.as_str(), r)),
            |candidate, release| ReleaseCandidate {
                upstream_prerelease: release.upcoming_release,
                published_at: release.released_at.as_deref().and_then(super::seconds_of),
                assets: release
                    .assets
                    .links
                    .iter()
                    .map(|a| ReleaseAsset {
                        id: None,
                        name: a.name.clone(),
                        url: a.direct_asset_url.clone().unwrap_or_else(|| a.url.clone()),
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
        asset_or(
            self.asset,
            target,
            vars,
            None::<fn(u64) -> Result<ApiUrl, SourceError>>,
            || archive(context, self.repo, target),
        )
    }

    fn links(&self, context: &SourceContext, old: Option<&str>, new: Option<&str>) -> Links {
        links(context, self.repo, old, new)
    }
}

impl Source for GitlabTagSource<'_> {
    async fn discover(&self, context: &SourceContext) -> Result<Discovery, SourceError> {
        let url = project_url(
            &context.http,
            self.repo,
            &["repository", "tags"],
            Some("per_page=100"),
        )?;
        let tags: Vec<Tag> = all_pages(&context.http, self.repo, url).await?;
        Ok(candidates_from_tags(
            &self.scheme,
            tags.iter().map(|t| (t.name.as_str(), ())),
            |candidate, ()| candidate,
        ))
    }

    fn origin(
        &self,
        target: &Target<'_>,
        _vars: &Vars,
        context: &SourceContext,
    ) -> Result<Origin, SourceError> {
        archive(context, self.repo, target)
    }

    fn links(&self, context: &SourceContext, old: Option<&str>, new: Option<&str>) -> Links {
        links(context, self.repo, old, new)
    }
}

/// The API's `.tar.gz` of the tag.
fn archive(
    context: &SourceContext,
    repo: &str,
    target: &Target<'_>,
) -> Result<Origin, SourceError> {
    let tag = target.tag.unwrap_or(target.version);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("sha", tag)
        .finish();
    Ok(Origin::Download {
        url: project_url(
            &context.http,
            repo,
            &["repository", "archive.tar.gz"],
            Some(&query),
        )?
        .into(),
        published: super::Published::Nothing,
        name: None,
    })
}

fn links(context: &SourceContext, repo: &str, old: Option<&str>, new: Option<&str>) -> Links {
    let project = format!("{}/{repo}", context.http.gitlab_web());
    forge_links(repo, project, "-/releases", "-/compare", old, new)
}

/// `{api}/projects/{group%2Fname}/{segments...}`.
fn project_url(
    http: &HttpClient,
    repo: &str,
    segments: &[&str],
    query: Option<&str>,
) -> Result<ApiUrl, SourceError> {
    let mut all = vec!["projects", repo];
    all.extend(segments);
    http.forge_url(Api::GitLab, &all, query)
        .map_err(|source| SourceError::Http {
            location: repo.to_owned(),
            source,
        })
}

/// Every page of a listing; a 404 means the project is not there (or is private).
async fn all_pages<T: serde::de::DeserializeOwned>(
    http: &HttpClient,
    repo: &str,
    first: ApiUrl,
) -> Result<Vec<T>, SourceError> {
    let not_found = || SourceError::RepositoryNotFound {
        forge: "GitLab",
        repo: repo.to_owned(),
        api: redact(http.gitlab_api()),
        token: "GITLAB_TOKEN",
        authenticated: http.has_gitlab_token(),
        withheld: http
            .withheld(Api::GitLab)
            .map(|_| Api::GitLab.url_variable()),
    };
    super::all_pages(http, first.into(), Accept::Json, repo, not_found).await
}
