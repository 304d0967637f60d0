//! Forges: the hosts of git repositories with an API, GitHub, GitLab, and Gitea or Forgejo
//! (Codeberg). Each is one file implementing [`Forge`] and listed once in [`FORGES`].
//!
//! A forge says, as data ([`ForgeInfo`]), what configuration, the registry and the HTTP client
//! need: its key (`source = "github-release"`, `settings.forge = "github"`), its default API,
//! the variables naming its API and holding its tokens (and how a token is sent), how its
//! repositories are named, the user a push authenticates as, and how its API wants to be
//! asked. As behaviour ([`Forge`]) it lists releases and tags, builds archive and asset
//! addresses and a reviewer's links, and may offer capabilities: the commit of a tag, the
//! tree of a commit, repository advisories, a package URL for SBOMs, change requests
//! ([`ChangeRequests`]) and issues ([`Issues`]). The HTTP client knows only origins and their
//! credentials; the token variables an `after` step must not see come from this one table.
//!
//! - [`github::GitHub`]: GitHub and GitHub Enterprise (`GITHUB_API_URL`).
//! - [`gitlab::GitLab`]: gitlab.com and self-hosted GitLab (`GITLAB_API_URL`, `CI_API_V4_URL`).
//! - [`gitea::Gitea`]: Gitea and Forgejo, Codeberg by default (`GITEA_API_URL`).
//!
//! Adding a forge: one file here and one line in [`FORGES`] (and its `*-api-url` setting in
//! the registry's raw schema).

pub mod gitea;
pub mod github;
pub mod gitlab;
mod requests;

use futures::future::BoxFuture;
use reqwest::Url;
use serde::de::DeserializeOwned;

use crate::advisory::RepoAdvisory;
use crate::http::{
    Accept, Address, ApiId, ApiLabel, ApiPolicy, ApiUrl, CredentialHeader, HttpClient, HttpError,
};

pub use requests::{
    ChangeRequests, ChangeTarget, ForgeError, Issue, IssueSpec, Issues, PullRequestOutcome,
    PullRequestSpec, RefusedReviewers, repository_from_remote,
};

/// Every forge, in the order messages list them.
pub static FORGES: &[&dyn Forge] = &[&github::GitHub, &gitlab::GitLab, &gitea::Gitea];

/// The forge with this key (`github`), if any.
pub fn by_key(key: &str) -> Option<&'static dyn Forge> {
    FORGES.iter().copied().find(|f| f.info().key == key)
}

/// Every variable a forge token is read from: taken out of the environment at start, so no
/// child process inherits one.
pub fn token_variables() -> Vec<&'static str> {
    FORGES
        .iter()
        .flat_map(|f| f.info().tokens.iter().map(|t| t.variable))
        .collect()
}

/// A variable a forge token may be read from, and how the token is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub variable: &'static str,
    pub header: CredentialHeader,
    /// The user name a git push over https gives with this token.
    pub push_user: &'static str,
    /// Whether it may open change requests and issues (GitLab's CI job token may not).
    pub writes: bool,
}

/// What configuration, the registry and the HTTP client know of a forge: data only.
#[derive(Debug)]
pub struct ForgeInfo {
    /// `github`: `source = "github-release"`, `settings.forge = "github"`,
    /// `settings.github-api-url`.
    pub key: &'static str,
    /// `source` values of its releases and tags.
    pub release_kind: &'static str,
    pub tag_kind: &'static str,
    /// The `[settings]` key of its API base.
    pub api_setting: &'static str,
    /// Its public API.
    pub default_api: &'static str,
    /// Variables naming its API base, first set wins (over `api_setting`).
    pub api_variables: &'static [&'static str],
    /// Variables holding a token, first set wins.
    pub tokens: &'static [Token],
    /// Variables naming the repository a CI job runs for (`owner/name`).
    pub repository_variables: &'static [&'static str],
    /// Whether repositories nest (`group/subgroup/name`), or are always `owner/name`.
    pub nested_repos: bool,
    /// For messages: `owner/name`, or `group/name` or `group/subgroup/name`.
    pub repo_example: &'static str,
    /// How messages speak of its API.
    pub label: &'static ApiLabel,
    /// How its API wants to be asked.
    pub policy: ApiPolicy,
    /// What its change requests are called: `pull request`, `merge request`.
    pub change_request: &'static str,
}

/// A release, as a forge lists it.
#[derive(Debug, Clone)]
pub struct Release {
    pub tag: String,
    /// Seconds since the Unix epoch.
    pub published_at: Option<i64>,
    pub draft: bool,
    /// A pre-release, or one whose date is still to come.
    pub prerelease: bool,
    pub assets: Vec<crate::select::ReleaseAsset>,
}

/// A forge as configured for this run: its API in the client's table and its web address.
#[derive(Debug, Clone, Copy)]
pub struct Site {
    pub forge: &'static dyn Forge,
    pub api: ApiId,
}

impl Site {
    pub fn info(&self) -> &'static ForgeInfo {
        self.forge.info()
    }

    /// The forge's web address (`https://github.com`, `https://ghe.example.com`).
    pub fn web(&self, http: &HttpClient) -> String {
        self.forge.web_of(&http.api(self.api).base)
    }

    /// A repository's web page.
    pub fn repo_page(&self, http: &HttpClient, repo: &str) -> String {
        format!("{}/{repo}", self.web(http))
    }

    /// An address on the forge's API, built by the tool: it carries the forge's token.
    pub fn url(
        &self,
        http: &HttpClient,
        segments: &[&str],
        query: Option<&str>,
    ) -> Result<ApiUrl, HttpError> {
        http.api_url(self.api, segments, query)
    }
}

impl std::fmt::Debug for dyn Forge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.info().name())
    }
}

impl ForgeInfo {
    /// `GitHub`.
    pub fn name(&self) -> &'static str {
        self.label.name
    }
}

/// One forge's API. Methods that ask the network return boxed futures, so the forges can
/// sit in one table.
pub trait Forge: Send + Sync {
    fn info(&self) -> &'static ForgeInfo;

    /// The web address of the forge whose API is `api`.
    fn web_of(&self, api: &Url) -> String;

    /// The repository's releases, newest first as the forge lists them.
    fn releases<'a>(
        &'a self,
        http: &'a HttpClient,
        site: &'a Site,
        repo: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Release>, HttpError>>;

    /// The repository's tag names, those starting with `prefix` at least.
    fn tags<'a>(
        &'a self,
        http: &'a HttpClient,
        site: &'a Site,
        repo: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, HttpError>>;

    /// The API's archive of `tag` (a `.tar.gz`).
    fn archive(
        &self,
        http: &HttpClient,
        site: &Site,
        repo: &str,
        tag: &str,
    ) -> Result<ApiUrl, HttpError>;

    /// Where a release asset is downloaded from: its public address, unless the forge
    /// serves it through the API (private repositories' assets, with the token).
    fn asset(
        &self,
        _http: &HttpClient,
        _site: &Site,
        _repo: &str,
        asset: &crate::select::ReleaseAsset,
    ) -> Result<Address, HttpError> {
        Url::parse(&asset.url)
            .map(Address::Plain)
            .map_err(|_| HttpError::BadUrl {
                url: asset.url.clone(),
            })
    }

    /// The web page of a tag's release notes, and of the comparison of two tags, as paths
    /// under the repository's page: `releases/tag`, `compare`.
    fn link_paths(&self) -> (&'static str, &'static str);

    /// The commit a tag names (annotated tags followed), when the forge can say.
    fn tag_commit<'a>(
        &'a self,
        _http: &'a HttpClient,
        _site: &'a Site,
        _repo: &'a str,
        _tag: &'a str,
    ) -> BoxFuture<'a, Option<String>> {
        Box::pin(async { None })
    }

    /// The tree id of a commit, when the forge can say (`Ok(None)`: it cannot).
    fn commit_tree<'a>(
        &'a self,
        _http: &'a HttpClient,
        _site: &'a Site,
        _repo: &'a str,
        _commit: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, HttpError>> {
        Box::pin(async { Ok(None) })
    }

    /// Every file of a commit's tree, by path, with its git blob id (`Ok(None)`: the forge
    /// cannot list it, or the listing came back truncated).
    fn tree_files<'a>(
        &'a self,
        _http: &'a HttpClient,
        _site: &'a Site,
        _repo: &'a str,
        _commit: &'a str,
    ) -> BoxFuture<'a, Result<Option<std::collections::BTreeMap<String, String>>, HttpError>> {
        Box::pin(async { Ok(None) })
    }

    /// Whether a generated archive of a tag holds exactly the tag's tree (`git archive`),
    /// so that its files can be checked against the commit's tree.
    fn archives_are_git_archives(&self) -> bool {
        false
    }

    /// The repository's own published advisories (`Ok(None)`: the forge has none to give).
    fn advisories<'a>(
        &'a self,
        _http: &'a HttpClient,
        _site: &'a Site,
        _repo: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<RepoAdvisory>>, HttpError>> {
        Box::pin(async { Ok(None) })
    }

    /// The package URL (purl) of a repository's tag on the forge at `web` (its web address),
    /// when the purl specification has a type for the forge (`pkg:github/...`).
    fn package_url(&self, _web: &str, _repo: &str, _tag: &str) -> Option<String> {
        None
    }

    /// The public address of a tag's release asset, or of the forge's archive of the tag,
    /// under the repository's web `page`, when it follows from the names alone.
    fn public_download(&self, _page: &str, _tag: &str, _asset: Option<&str>) -> Option<String> {
        None
    }

    /// Its change requests, when deps-update can open them there.
    fn change_requests(&self) -> Option<&dyn ChangeRequests> {
        None
    }

    /// Its issues, when deps-update can keep them there (`audit --issues`, `--dashboard`).
    fn issues(&self) -> Option<&dyn Issues> {
        None
    }
}

/// `https://api.HOST` -> `https://HOST`, else the API address without `suffix` (`/api/v4`).
pub(crate) fn web_base(api: &Url, suffix: &str) -> String {
    let shown = crate::http::redact(api);
    let trimmed = shown.trim_end_matches('/');
    if let Some(rest) = trimmed.strip_prefix("https://api.") {
        return format!("https://{rest}");
    }
    trimmed.trim_end_matches(suffix).to_owned()
}

/// An RFC 3339 time an upstream gave (`2023-10-10T12:00:00Z`) as seconds since the Unix
/// epoch; `None` when it is not one.
pub(crate) fn seconds_of(text: &str) -> Option<i64> {
    text.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// Pages followed at most for one listing (100 items each).
pub const MAX_PAGES: usize = 20;

/// Every page of a listing, following `Link: rel="next"` up to [`MAX_PAGES`].
pub(crate) async fn all_pages<T: DeserializeOwned>(
    http: &HttpClient,
    first: ApiUrl,
) -> Result<Vec<T>, HttpError> {
    let mut items = Vec::new();
    let mut next = Some(Address::Api(first));
    let mut pages = 0;
    while let Some(address) = next.take() {
        if pages == MAX_PAGES {
            return Err(HttpError::TooManyPages {
                url: crate::http::redact(address.url()),
                pages: MAX_PAGES,
            });
        }
        pages += 1;
        let page = http.get_json::<Vec<T>>(address, Accept::Api).await?;
        items.extend(page.body);
        next = page.next;
    }
    Ok(items)
}

/// `text` percent-encoded for a URL path, keeping `/` (tags such as `release/v9.2.1`).
pub(crate) fn url_path(text: &str) -> String {
    crate::template::percent_encode(text, b"/+")
}
