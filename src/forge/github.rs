//! GitHub and GitHub Enterprise, through the REST API at `GITHUB_API_URL`.
//!
//! Releases come from `GET /repos/{repo}/releases`, tags from
//! `GET /repos/{repo}/git/matching-refs/tags/{prefix}` (one request for all of a repository's
//! tags, which the name-sorted, paginated `/tags` listing cannot give), a tag's archive from
//! `/tarball/{tag}` (GitHub's `git archive` of the tag), a private asset from
//! `/releases/assets/{id}`. Beyond those: a tag's commit, a commit's tree, the repository's
//! security advisories, `pkg:github` package URLs, pull requests (`pulls`) and issues
//! (`issues`).

mod issues;
mod pulls;

use futures::future::BoxFuture;
use reqwest::Url;
use serde::Deserialize;

use super::{ChangeRequests, Forge, ForgeInfo, Issues, Release, Site, Token, all_pages};
use crate::advisory::{Advisory, RepoAdvisory};
use crate::http::{
    Accept, Address, ApiLabel, ApiPolicy, ApiUrl, CredentialHeader, HttpClient, HttpError,
};
use crate::select::ReleaseAsset;
use crate::template::percent_encode;

/// GitHub.
#[derive(Debug)]
pub struct GitHub;

static LABEL: ApiLabel = ApiLabel {
    name: "GitHub",
    token_variable: "GITHUB_TOKEN",
    url_variable: "GITHUB_API_URL",
    unauthenticated_limit_hint: "set `GITHUB_TOKEN` (or `GH_TOKEN`): authenticated requests get 5,000 an hour instead of 60",
    gone_hint: Some(
        "GitHub retired this endpoint or the API version deps-update asks for (`X-GitHub-Api-Version: 2022-11-28`): upgrade deps-update",
    ),
};

static INFO: ForgeInfo = ForgeInfo {
    key: "github",
    release_kind: "github-release",
    tag_kind: "github-tag",
    api_setting: "github-api-url",
    default_api: "https://api.github.com",
    api_variables: &["GITHUB_API_URL"],
    tokens: &[
        Token {
            variable: "GITHUB_TOKEN",
            header: CredentialHeader::Bearer,
            push_user: "x-access-token",
            writes: true,
        },
        Token {
            variable: "GH_TOKEN",
            header: CredentialHeader::Bearer,
            push_user: "x-access-token",
            writes: true,
        },
    ],
    repository_variables: &["GITHUB_REPOSITORY"],
    nested_repos: false,
    repo_example: "owner/name",
    label: &LABEL,
    // GitHub's documented limits: at most 100 requests in flight, 80 content-creating
    // requests a minute, one at a time.
    policy: ApiPolicy {
        accept: "application/vnd.github+json",
        download_accept: Some("application/octet-stream"),
        headers: &[("X-GitHub-Api-Version", "2022-11-28")],
        max_concurrent: Some(100),
        writes_per_minute: Some(80),
        secondary_limits: true,
    },
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

impl Forge for GitHub {
    fn info(&self) -> &'static ForgeInfo {
        &INFO
    }

    fn web_of(&self, api: &Url) -> String {
        super::web_base(api, "/api/v3")
    }

    fn releases<'a>(
        &'a self,
        http: &'a HttpClient,
        site: &'a Site,
        repo: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Release>, HttpError>> {
        Box::pin(async move {
            let url = repo_url(http, site, repo, &["releases"], Some("per_page=100"))?;
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
                            name: a.name,
                            url: a.browser_download_url,
                            id: a.id,
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
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, HttpError>> {
        Box::pin(async move {
            // `tags` alone matches every tag; `tags/release/v` only those under that prefix.
            let mut segments = vec!["git", "matching-refs", "tags"];
            if !prefix.is_empty() {
                segments.extend(prefix.split('/'));
            }
            let url = repo_url(http, site, repo, &segments, Some("per_page=100"))?;
            let refs: Vec<GitRef> = all_pages(http, url).await?;
            Ok(refs
                .into_iter()
                .filter_map(|r| r.name.strip_prefix("refs/tags/").map(str::to_owned))
                .collect())
        })
    }

    fn archive(
        &self,
        http: &HttpClient,
        site: &Site,
        repo: &str,
        tag: &str,
    ) -> Result<ApiUrl, HttpError> {
        repo_url(http, site, repo, &["tarball", tag], None)
    }

    fn asset(
        &self,
        http: &HttpClient,
        site: &Site,
        repo: &str,
        asset: &ReleaseAsset,
    ) -> Result<Address, HttpError> {
        // With a token, assets come through the API: `browser_download_url` serves only
        // public repositories' assets.
        match asset.id {
            Some(id) if http.has_credential(site.api) => Ok(Address::Api(repo_url(
                http,
                site,
                repo,
                &["releases", "assets", &id.to_string()],
                None,
            )?)),
            _ => Url::parse(&asset.url)
                .map(Address::Plain)
                .map_err(|_| HttpError::BadUrl {
                    url: asset.url.clone(),
                }),
        }
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
        #[derive(Deserialize)]
        struct Ref {
            object: Object,
        }
        #[derive(Deserialize)]
        struct Object {
            #[serde(rename = "type")]
            kind: String,
            sha: String,
        }
        Box::pin(async move {
            // `git/ref/tags/release/v9`: a tag's slashes stay path separators.
            let mut segments = vec!["git", "ref", "tags"];
            segments.extend(tag.split('/'));
            let url = repo_url(http, site, repo, &segments, None).ok()?;
            let mut object = http
                .get_json::<Ref>(&url, Accept::Api)
                .await
                .ok()?
                .body
                .object;
            for _ in 0..3 {
                if object.kind != "tag" {
                    break;
                }
                let url = repo_url(http, site, repo, &["git", "tags", &object.sha], None).ok()?;
                object = http
                    .get_json::<Ref>(&url, Accept::Api)
                    .await
                    .ok()?
                    .body
                    .object;
            }
            (object.kind == "commit").then_some(object.sha)
        })
    }

    fn commit_tree<'a>(
        &'a self,
        http: &'a HttpClient,
        site: &'a Site,
        repo: &'a str,
        commit: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, HttpError>> {
        #[derive(Deserialize)]
        struct Commit {
            tree: Tree,
        }
        #[derive(Deserialize)]
        struct Tree {
            sha: String,
        }
        Box::pin(async move {
            let url = repo_url(http, site, repo, &["git", "commits", commit], None)?;
            let page = http.get_json::<Commit>(&url, Accept::Api).await?;
            Ok(Some(page.body.tree.sha.to_ascii_lowercase()))
        })
    }

    fn tree_files<'a>(
        &'a self,
        http: &'a HttpClient,
        site: &'a Site,
        repo: &'a str,
        commit: &'a str,
    ) -> BoxFuture<'a, Result<Option<std::collections::BTreeMap<String, String>>, HttpError>> {
        #[derive(Deserialize)]
        struct Listing {
            tree: Vec<Entry>,
            #[serde(default)]
            truncated: bool,
        }
        #[derive(Deserialize)]
        struct Entry {
            path: String,
            #[serde(rename = "type")]
            kind: String,
            sha: String,
        }
        Box::pin(async move {
            let url = repo_url(
                http,
                site,
                repo,
                &["git", "trees", commit],
                Some("recursive=1"),
            )?;
            let listing = http.get_json::<Listing>(&url, Accept::Api).await?.body;
            if listing.truncated {
                return Ok(None);
            }
            Ok(Some(
                listing
                    .tree
                    .into_iter()
                    .filter(|e| e.kind == "blob")
                    .map(|e| (e.path, e.sha.to_ascii_lowercase()))
                    .collect(),
            ))
        })
    }

    fn archives_are_git_archives(&self) -> bool {
        true
    }

    fn advisories<'a>(
        &'a self,
        http: &'a HttpClient,
        site: &'a Site,
        repo: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<RepoAdvisory>>, HttpError>> {
        #[derive(Deserialize)]
        struct Listed {
            ghsa_id: String,
            cve_id: Option<String>,
            #[serde(default)]
            summary: String,
            severity: Option<String>,
            html_url: Option<String>,
            #[serde(default)]
            vulnerabilities: Option<Vec<Vulnerability>>,
        }
        #[derive(Deserialize)]
        struct Vulnerability {
            vulnerable_version_range: Option<String>,
            patched_versions: Option<String>,
        }
        Box::pin(async move {
            let url = repo_url(
                http,
                site,
                repo,
                &["security-advisories"],
                Some("state=published&per_page=100"),
            )?;
            let page = site.repo_page(http, repo);
            let listed: Vec<Listed> = all_pages(http, url).await?;
            Ok(Some(
                listed
                    .into_iter()
                    .map(|listed| {
                        let vulnerabilities = listed.vulnerabilities.unwrap_or_default();
                        RepoAdvisory {
                            ranges: vulnerabilities
                                .iter()
                                .filter_map(|v| v.vulnerable_version_range.clone())
                                .collect(),
                            advisory: Advisory {
                                url: listed.html_url.unwrap_or_else(|| {
                                    format!("{page}/security/advisories/{}", listed.ghsa_id)
                                }),
                                aliases: listed.cve_id.into_iter().collect(),
                                id: listed.ghsa_id,
                                summary: listed.summary,
                                severity: listed.severity,
                                fixed_in: vulnerabilities
                                    .iter()
                                    .filter_map(|v| v.patched_versions.clone())
                                    .filter(|p| !p.is_empty())
                                    .collect(),
                            },
                        }
                    })
                    .collect(),
            ))
        })
    }

    fn package_url(&self, web: &str, repo: &str, tag: &str) -> Option<String> {
        // `pkg:github` means github.com; GitHub Enterprise names its host as the purl
        // specification's `repository_url` qualifier.
        let purl = format!(
            "pkg:github/{}@{}",
            repo.to_ascii_lowercase(),
            percent_encode(tag, b"")
        );
        Some(match web.trim_end_matches('/') {
            "https://github.com" => purl,
            other => format!("{purl}?repository_url={}", percent_encode(other, b"")),
        })
    }

    fn public_download(&self, page: &str, tag: &str, asset: Option<&str>) -> Option<String> {
        let tag = percent_encode(tag, b"");
        Some(match asset {
            Some(asset) => format!(
                "{page}/releases/download/{tag}/{}",
                percent_encode(asset, b"")
            ),
            None => format!("{page}/archive/refs/tags/{tag}.tar.gz"),
        })
    }

    fn change_requests(&self) -> Option<&dyn ChangeRequests> {
        Some(&pulls::Pulls)
    }

    fn issues(&self) -> Option<&dyn Issues> {
        Some(&issues::GithubIssues)
    }
}
