//! How the client is set up: the forges' addresses and tokens, and its patience.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::retry::RetryPolicy;

/// A credential; prints as `****`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a token; `None` for an empty one.
    pub fn new(value: String) -> Option<Self> {
        let value = value.trim().to_owned();
        (!value.is_empty()).then_some(Self(value))
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// How the client behaves; every field has a documented environment override.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// `GITHUB_API_URL`: where GitHub's REST API lives.
    pub github_api: Url,
    /// `GITHUB_TOKEN` or `GH_TOKEN`.
    pub github_token: Option<Secret>,
    /// `GITLAB_API_URL`: where GitLab's REST API lives (`https://gitlab.com/api/v4`).
    pub gitlab_api: Url,
    /// `GITLAB_TOKEN`.
    pub gitlab_token: Option<Secret>,
    /// Where conditional-request answers are kept; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Attempts and backoff for transient failures (`DEPS_UPDATE_HTTP_ATTEMPTS`,
    /// `DEPS_UPDATE_RETRY_DELAY_MS`).
    pub retry: RetryPolicy,
    /// The longest rate-limit wait taken instead of failing (`DEPS_UPDATE_MAX_RATE_LIMIT_WAIT`).
    pub max_rate_limit_wait: Duration,
    /// Per-request timeout (`DEPS_UPDATE_HTTP_TIMEOUT`).
    pub timeout: Duration,
    /// Tokens that are set but not sent: the API base of that forge comes only from
    /// `deps.toml`, which never decides where a token goes.
    pub withheld: Vec<(Api, String)>,
    /// Whether cached answers may stand in for a fresh one (`304 Not Modified`). Off for
    /// what decides what is downloaded and what it is verified against.
    pub use_cached_answers: bool,
    /// The largest text answer (API document, page) read (`DEPS_UPDATE_MAX_ANSWER_MIB`).
    pub max_answer_bytes: u64,
}

/// The public GitHub API.
pub const DEFAULT_GITHUB_API: &str = "https://api.github.com";
/// The public GitLab API.
pub const DEFAULT_GITLAB_API: &str = "https://gitlab.com/api/v4";

/// Every variable a forge token is read from: taken out of the environment at start, so no
/// child process inherits one.
pub const TOKEN_VARIABLES: &[&str] = &["GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN"];

/// A forge API that takes a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    GitHub,
    GitLab,
}

impl Api {
    /// The environment variable that holds its token.
    pub fn token_variable(self) -> &'static str {
        match self {
            Self::GitHub => "GITHUB_TOKEN",
            Self::GitLab => "GITLAB_TOKEN",
        }
    }

    /// The environment variable that names its API base (and so where its token may go).
    pub fn url_variable(self) -> &'static str {
        match self {
            Self::GitHub => "GITHUB_API_URL",
            Self::GitLab => "GITLAB_API_URL",
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            github_api: Url::parse(DEFAULT_GITHUB_API).expect("valid URL"),
            github_token: None,
            gitlab_api: Url::parse(DEFAULT_GITLAB_API).expect("valid URL"),
            gitlab_token: None,
            cache_dir: None,
            retry: RetryPolicy::default(),
            max_rate_limit_wait: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
            withheld: Vec::new(),
            use_cached_answers: true,
            max_answer_bytes: 64 << 20,
        }
    }
}
