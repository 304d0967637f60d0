//! Upstream sources: where a dependency's versions are discovered, and where each version's
//! code lives.
//!
//! Every kind implements [`Source`]: [`Source::discover`] lists what upstream offers,
//! [`Source::origin`] says where the chosen version's code is (an archive or single file to
//! download, npm's tarball with its integrity, a git commit), and [`Source::links`] gives the
//! pages a reviewer wants (project, release notes, compare view). The registry validates a
//! kind's keys into its [`SourceSpec`] variant (`crate::manifest::source_spec`), and
//! [`for_dependency`] is the one factory from a spec to its source. Nothing outside this folder
//! matches on the kind: the rest of the tool asks a spec what it supports
//! ([`SourceSpec::downloads`], [`SourceSpec::takes_tags`], ...). Choosing among candidates is
//! [`crate::select`]'s job. The kinds:
//!
//! - [`forge::ForgeReleaseSource`]: a forge repository's releases (`source = "github-release"`,
//!   `"gitlab-release"`, `"gitea-release"`: every forge of [`crate::forge::FORGES`]).
//! - [`forge::ForgeTagSource`]: its tags (`"github-tag"`, ...).
//! - [`git::GitSource`]: `source = "git"`, any git remote's tags, or the head of a branch.
//! - [`npm::NpmSource`]: `source = "npm"`, a package's published versions.
//! - [`page::PageSource`]: `source = "url"`, versions read by a regex from a page.
//!
//! Adding a kind: one file here, one [`SourceSpec`] variant (with its keys' parser), one arm
//! in [`for_dependency`] (and in [`AnySource`]'s dispatch), one integration test file. Adding
//! a forge needs no new source: see [`crate::forge`].

pub mod forge;
pub mod git;
pub mod npm;
pub mod page;

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::Url;

use crate::http::{HttpClient, HttpError, redact};
pub use crate::manifest::SourceSpec;
use crate::manifest::{Dependency, Tracking};
use crate::printer::Printer;
use crate::select::{CommitCandidate, ReleaseCandidate};
use crate::template::{Template, Vars};
use crate::vcs::GitError;

/// The upstream's pages a reviewer wants.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Links {
    /// The project's name and its web page.
    pub project: Option<(String, String)>,
    /// The new version's release notes.
    pub release_notes: Option<String>,
    /// The compare view from the old version to the new: `(label, url)`.
    pub compare: Option<(String, String)>,
}

/// What a source found upstream.
#[derive(Debug)]
pub enum Discovery {
    /// Released versions, in the order upstream listed them.
    Releases {
        candidates: Vec<ReleaseCandidate>,
        /// How many tags or versions were seen in all, matched or not, and a few of them:
        /// for the message when no tag fits the dependency's templates.
        seen: usize,
        examples: Vec<String>,
    },
    /// A branch's commits, newest first (just the head when no quiet period applies).
    Commits(Vec<CommitCandidate>),
}

/// What every source may use.
#[derive(Debug, Clone)]
pub struct SourceContext {
    pub http: Arc<HttpClient>,
    /// Each forge of [`crate::forge::FORGES`] as configured, in that order.
    pub sites: Vec<crate::forge::Site>,
    /// npm registry base (`npm_config_registry`, else `settings.npm-registry`, else npmjs).
    pub npm_registry: Url,
    /// Where git sources keep fetched history; `None` uses a temporary folder.
    pub cache_dir: Option<PathBuf>,
    pub printer: Printer,
}

impl SourceContext {
    /// `forge` as configured for this run.
    pub fn site(&self, forge: &'static dyn crate::forge::Forge) -> crate::forge::Site {
        self.sites
            .iter()
            .copied()
            .find(|site| site.forge.info().key == forge.info().key)
            .expect("every forge of the table is configured")
    }
}

/// The version chosen for an update (or re-fetched by `verify`).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// A version, or a commit id for a branch-tracked dependency.
    pub version: &'a str,
    pub tag: Option<&'a str>,
    /// What the source said of it when it was discovered.
    pub candidate: Option<&'a ReleaseCandidate>,
}

/// Where a version's code is.
#[derive(Debug, Clone)]
pub enum Origin {
    /// An archive, or a single file with `format = "file"`.
    Download {
        /// A forge API address the tool built carries the forge's credential; any other
        /// (npm's tarball, an `archive` template) none.
        url: crate::http::Address,
        /// What the source published to check it against.
        published: Published,
        /// The file's name, when the URL does not end with it (GitHub's asset API): for
        /// messages and the `checksums` lookup.
        name: Option<String>,
    },
    /// A commit of a git remote, exported as it is.
    Commit {
        url: String,
        /// The ref to fetch that leads to the commit.
        remote_ref: String,
        commit: String,
    },
}

/// What a source published to check a download against, besides what the registry asks for
/// (`checksums`, `signature`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    /// The source publishes no digest (a forge's archive, an `archive` template).
    Nothing,
    /// npm's `integrity`: `sha512-<base64>`.
    Integrity(String),
    /// The source publishes digests, but none strong enough for this one: what it gave.
    Missing(String),
}

/// Why discovery failed, or a version's code cannot be found.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{forge} repository `{repo}` was not found at `{api}`")]
    RepositoryNotFound {
        forge: &'static str,
        repo: String,
        api: String,
        token: &'static str,
        authenticated: bool,
        /// The variable that would let the token go to this API, when the token is set but
        /// only `deps.toml` names the API.
        withheld: Option<&'static str>,
    },
    #[error("npm package `{package}` was not found in `{registry}`")]
    PackageNotFound { package: String, registry: String },
    #[error(
        "branch `{branch}` does not exist at `{url}`{}",
        available_text(available)
    )]
    BranchNotFound {
        branch: String,
        url: String,
        available: Vec<String>,
    },
    #[error("asking `{location}` for its versions failed")]
    Http {
        location: String,
        #[source]
        source: HttpError,
    },
    #[error("asking `{location}` for its refs failed")]
    Git {
        location: String,
        #[source]
        source: GitError,
    },
    #[error(
        "no version matched: the regex `{regex}` finds no version in `{url}`{}",
        excerpt_text(excerpt)
    )]
    NoVersionMatched {
        url: String,
        regex: String,
        excerpt: String,
    },
    #[error(
        "release `{tag}` has no asset named `{asset}`{}",
        assets_text(available)
    )]
    AssetNotFound {
        asset: String,
        tag: String,
        available: Vec<String>,
    },
    #[error("npm published no tarball for `{package}@{version}`")]
    NoTarball { package: String, version: String },
    #[error("the git remote offers no ref for `{version}`")]
    NoCommit { version: String },
    #[error("`source = \"{kind}\"` does not say where version {version}'s code is")]
    NoOrigin { kind: &'static str, version: String },
    #[error("`{url}` is not a usable URL")]
    BadUrl { url: String },
}

fn available_text(available: &[String]) -> String {
    if available.is_empty() {
        return String::new();
    }
    format!("; it has: {}", available.join(", "))
}

fn assets_text(available: &[String]) -> String {
    if available.is_empty() {
        return "; it has no assets".into();
    }
    let quoted: Vec<String> = available.iter().map(|a| format!("`{a}`")).collect();
    format!("; it has {}", quoted.join(", "))
}

fn excerpt_text(excerpt: &str) -> String {
    if excerpt.is_empty() {
        return " (the page is empty)".into();
    }
    format!(
        "; the page starts:\n  | {}",
        excerpt.replace('\n', "\n  | ")
    )
}

impl SourceError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::RepositoryNotFound {
                withheld: Some(variable),
                token,
                api,
                ..
            } => Some(format!(
                "check `repo`; `{token}` is set but was not sent to `{api}`, which only `deps.toml` names: a registry never decides where tokens go; set `{variable}` to that address to send it"
            )),
            Self::RepositoryNotFound {
                authenticated: false,
                token,
                ..
            } => Some(format!(
                "check `repo`; if the repository is private, set `{token}`"
            )),
            Self::RepositoryNotFound {
                authenticated: true,
                token,
                ..
            } => Some(format!(
                "check `repo`, and that `{token}` can read that repository"
            )),
            Self::PackageNotFound { .. } => {
                Some("check `package` (scoped names look like `@scope/name`)".into())
            }
            Self::BranchNotFound { .. } => Some("check `branch`".into()),
            Self::Http { source, .. } => source.hint(),
            Self::Git { source, .. } => source.hint(),
            Self::NoVersionMatched { .. } => Some(
                "the page may have changed its layout: fix `regex` (named groups `version`, or `major`/`minor`/`patch`)".into(),
            ),
            Self::AssetNotFound { .. } => {
                Some("fix `asset`, e.g. `{name}-{version}.tar.xz`".into())
            }
            Self::NoOrigin { .. } => Some("set `archive` to the download's URL".into()),
            Self::NoTarball { .. } | Self::NoCommit { .. } | Self::BadUrl { .. } => None,
        }
    }
}

/// One kind of upstream.
// Sources are used through `AnySource` (static dispatch, on one runtime), so the futures'
// auto traits never need naming.
#[allow(async_fn_in_trait)]
pub trait Source {
    /// Lists what upstream offers for this dependency.
    async fn discover(&self, context: &SourceContext) -> Result<Discovery, SourceError>;

    /// Where the code of `target` is, when `archive` does not say; `vars` holds the rendered
    /// placeholders (for `asset`).
    fn origin(
        &self,
        target: &Target<'_>,
        vars: &Vars,
        context: &SourceContext,
    ) -> Result<Origin, SourceError>;

    /// The pages a reviewer wants for an update from `old_tag` to `new_tag`.
    fn links(&self, context: &SourceContext, old_tag: Option<&str>, new_tag: Option<&str>)
    -> Links;
}

/// The source of a dependency, whichever its kind.
#[derive(Debug)]
pub enum AnySource<'a> {
    Release(forge::ForgeReleaseSource<'a>),
    Tag(forge::ForgeTagSource<'a>),
    Git(git::GitSource<'a>),
    Npm(npm::NpmSource<'a>),
    Url(page::PageSource<'a>),
}

/// The one factory from a dependency's spec to its source.
pub fn for_dependency(dep: &Dependency) -> AnySource<'_> {
    let (tracking, asset) = (&dep.tracking, dep.apply.asset.as_ref());
    match &dep.source {
        SourceSpec::Release { forge, repo } => AnySource::Release(forge::ForgeReleaseSource::new(
            *forge, repo, tracking, asset,
        )),
        SourceSpec::Tag { forge, repo } => {
            AnySource::Tag(forge::ForgeTagSource::new(*forge, repo, tracking))
        }
        SourceSpec::Git { url } => AnySource::Git(git::GitSource::new(url, tracking)),
        SourceSpec::Npm { package } => {
            let dated = matches!(
                tracking,
                Tracking::Releases {
                    policy: crate::select::Policy {
                        cooldown: crate::select::Cooldown::Days(_),
                        ..
                    },
                    ..
                }
            );
            AnySource::Npm(npm::NpmSource::new(package, dated))
        }
        SourceSpec::Url { url, regex } => {
            AnySource::Url(page::PageSource::new(&dep.name, url, regex))
        }
    }
}

/// Calls the same method on whichever source this is.
macro_rules! dispatch {
    ($self:ident, $source:ident => $call:expr) => {
        match $self {
            Self::Release($source) => $call,
            Self::Tag($source) => $call,
            Self::Git($source) => $call,
            Self::Npm($source) => $call,
            Self::Url($source) => $call,
        }
    };
}

impl Source for AnySource<'_> {
    async fn discover(&self, context: &SourceContext) -> Result<Discovery, SourceError> {
        dispatch!(self, s => s.discover(context).await)
    }

    fn origin(
        &self,
        target: &Target<'_>,
        vars: &Vars,
        context: &SourceContext,
    ) -> Result<Origin, SourceError> {
        dispatch!(self, s => s.origin(target, vars, context))
    }

    fn links(
        &self,
        context: &SourceContext,
        old_tag: Option<&str>,
        new_tag: Option<&str>,
    ) -> Links {
        dispatch!(self, s => s.links(context, old_tag, new_tag))
    }
}

/// The tag scheme of a release-tracked dependency (the defaults for a branch-tracked one,
/// which never reads tags).
fn scheme_of(tracking: &Tracking) -> crate::tag::TagScheme {
    match tracking {
        Tracking::Releases { scheme, .. } => scheme.clone(),
        Tracking::Branch { .. } => crate::tag::TagScheme::default(),
    }
}

/// Maps tag names to candidates under a scheme, keeping a few examples for messages.
/// `describe` fills in what else the source knows of the tag.
fn candidates_from_tags<'t, T: 't>(
    scheme: &crate::tag::TagScheme,
    tags: impl IntoIterator<Item = (&'t str, T)>,
    describe: impl Fn(ReleaseCandidate, T) -> ReleaseCandidate,
) -> Discovery {
    let mut candidates = Vec::new();
    let mut seen = 0;
    let mut examples = Vec::new();
    for (tag, extra) in tags {
        seen += 1;
        if examples.len() < 5 {
            examples.push(tag.to_owned());
        }
        if let Some(version) = scheme.version_of(tag) {
            candidates.push(describe(
                ReleaseCandidate::new(version, Some(tag.to_owned())),
                extra,
            ));
        }
    }
    Discovery::Releases {
        candidates,
        seen,
        examples,
    }
}

/// The asset named by the rendered `asset` template among a release's assets.
fn release_asset<'t>(
    asset: &Template,
    target: &Target<'t>,
    vars: &Vars,
) -> Result<&'t crate::select::ReleaseAsset, SourceError> {
    let wanted = asset.render(vars);
    let assets = target
        .candidate
        .map(|c| c.assets.as_slice())
        .unwrap_or_default();
    let found =
        assets
            .iter()
            .find(|a| a.name == wanted)
            .ok_or_else(|| SourceError::AssetNotFound {
                asset: wanted,
                tag: target.tag.unwrap_or(target.version).to_owned(),
                available: assets.iter().map(|a| a.name.clone()).collect(),
            })?;
    Ok(found)
}

/// Parses a URL an upstream gave.
fn parse_url(text: &str) -> Result<Url, SourceError> {
    Url::parse(text).map_err(|_| SourceError::BadUrl {
        url: text.to_owned(),
    })
}

/// Project, release notes and compare links on a forge's web pages.
fn forge_links(
    repo: &str,
    project: String,
    release_path: &str,
    compare_path: &str,
    old_tag: Option<&str>,
    new_tag: Option<&str>,
) -> Links {
    // Tags come from upstream: escaped, so none can end the link or add markdown.
    let url_path = crate::forge::url_path;
    let (old_tag, new_tag) = (old_tag.map(url_path), new_tag.map(url_path));
    Links {
        release_notes: new_tag
            .as_ref()
            .map(|tag| format!("{project}/{release_path}/{tag}")),
        compare: old_tag.zip(new_tag).map(|(old, new)| {
            (
                format!("{old}...{new}"),
                format!("{project}/{compare_path}/{old}...{new}"),
            )
        }),
        project: Some((repo.to_owned(), project)),
    }
}

/// A link to a page that is the project's home, for sources that have no forge: only a web
/// (`https://`) address is worth one.
fn page_link(url: &str) -> Links {
    let shown = shown(url);
    Links {
        project: shown
            .starts_with("https://")
            .then(|| (shown.clone(), shown)),
        ..Links::default()
    }
}

/// `redact`, for a URL that may not parse.
pub fn shown(url: &str) -> String {
    Url::parse(url).map_or_else(|_| url.to_owned(), |u| redact(&u))
}

pub(crate) use crate::forge::seconds_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_tags_cannot_break_out_of_links() {
        let links = forge_links(
            "a/b",
            "https://github.com/a/b".into(),
            "releases/tag",
            "compare",
            Some("v1.0"),
            Some("v2) [Verified](https://evil.example"),
        );
        assert_eq!(
            links.release_notes.as_deref(),
            Some(
                "https://github.com/a/b/releases/tag/v2%29%20%5BVerified%5D%28https%3A//evil.example"
            )
        );
        let links = forge_links(
            "a/b",
            "https://x/a/b".into(),
            "-/releases",
            "-/compare",
            Some("release/v9.2.0"),
            Some("release/v9.2.1"),
        );
        assert_eq!(
            links.compare.map(|c| c.1).as_deref(),
            Some("https://x/a/b/-/compare/release/v9.2.0...release/v9.2.1")
        );
    }
}
