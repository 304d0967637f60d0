//! Upstream sources: where a dependency's versions are discovered.
//!
//! Every kind implements [`Source`]; [`for_dependency`] is the one factory that turns a
//! dependency's validated [`SourceSpec`] into its source. Sources only discover candidates
//! (tags, releases, package versions, branch commits); choosing among them is
//! [`crate::select`]'s job. The kinds:
//!
//! - [`github::GithubReleaseSource`]: `source = "github-release"`, the repository's releases
//!   (drafts and pre-releases flagged as GitHub flags them).
//! - [`github::GithubTagSource`]: `source = "github-tag"`, the repository's tags.
//! - [`git::GitSource`]: `source = "git"`, any git remote's tags, or the head of a branch.
//! - [`npm::NpmSource`]: `source = "npm"`, a package's published versions.

pub mod git;
pub mod github;
pub mod npm;

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::Url;

use crate::http::{HttpClient, HttpError};
use crate::manifest::{Dependency, SourceSpec, Tracking};
use crate::printer::Printer;
use crate::select::{CommitCandidate, ReleaseCandidate};
use crate::vcs::GitError;

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
    /// npm registry base (`npm_config_registry`, else `settings.npm-registry`, else npmjs).
    pub npm_registry: Url,
    /// Where git sources keep fetched history; `None` uses a temporary folder.
    pub cache_dir: Option<PathBuf>,
    pub printer: Printer,
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("GitHub repository `{repo}` was not found at `{api}`")]
    RepositoryNotFound {
        repo: String,
        api: String,
        authenticated: bool,
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
    #[error("more than {pages} pages of results at `{url}`; stopped following them")]
    TooManyPages { url: String, pages: usize },
}

fn available_text(available: &[String]) -> String {
    if available.is_empty() {
        return String::new();
    }
    format!("; it has: {}", available.join(", "))
}

impl SourceError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::RepositoryNotFound {
                authenticated: false,
                ..
            } => Some("check `repo`; if the repository is private, set `GITHUB_TOKEN`".into()),
            Self::RepositoryNotFound {
                authenticated: true,
                ..
            } => Some("check `repo`, and that `GITHUB_TOKEN` can read that repository".into()),
            Self::PackageNotFound { .. } => {
                Some("check `package` (scoped names look like `@scope/name`)".into())
            }
            Self::BranchNotFound { .. } => Some("check `branch`".into()),
            Self::Http { source, .. } => source.hint(),
            Self::Git { source, .. } => source.hint(),
            Self::TooManyPages { .. } => {
                Some("narrow the tags with a more specific `tag` template".into())
            }
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
}

/// The source of a dependency, whichever its kind.
#[derive(Debug)]
pub enum AnySource<'a> {
    GithubRelease(github::GithubReleaseSource<'a>),
    GithubTag(github::GithubTagSource<'a>),
    Git(git::GitSource<'a>),
    Npm(npm::NpmSource<'a>),
}

/// The one factory from a dependency's spec to its source.
pub fn for_dependency(dep: &Dependency) -> AnySource<'_> {
    match (&dep.source, &dep.tracking) {
        (SourceSpec::GithubRelease { repo }, tracking) => {
            AnySource::GithubRelease(github::GithubReleaseSource::new(repo, tracking))
        }
        (SourceSpec::GithubTag { repo }, tracking) => {
            AnySource::GithubTag(github::GithubTagSource::new(repo, tracking))
        }
        (SourceSpec::Git { url }, tracking) => AnySource::Git(git::GitSource::new(url, tracking)),
        (SourceSpec::Npm { package }, _) => AnySource::Npm(npm::NpmSource::new(package)),
    }
}

impl Source for AnySource<'_> {
    async fn discover(&self, context: &SourceContext) -> Result<Discovery, SourceError> {
        match self {
            Self::GithubRelease(s) => s.discover(context).await,
            Self::GithubTag(s) => s.discover(context).await,
            Self::Git(s) => s.discover(context).await,
            Self::Npm(s) => s.discover(context).await,
        }
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
