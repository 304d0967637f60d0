//! How the client is set up: the APIs it knows (their origins, credentials, labels for
//! messages and limits), and its patience. The client knows origins, never a forge by name:
//! the forge table (`crate::forge`) fills these in.

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

/// How a token is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialHeader {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: token <token>` (Gitea, Forgejo).
    Token,
    /// A header of its own: `PRIVATE-TOKEN`, `JOB-TOKEN` (GitLab).
    Named(&'static str),
}

/// A token, and how it is sent.
#[derive(Debug, Clone)]
pub struct Credential {
    pub header: CredentialHeader,
    pub secret: Secret,
    /// The variable it came from, for messages.
    pub variable: &'static str,
}

/// What messages say about an API: whose it is, and how to give it a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLabel {
    /// `GitHub`, `GitLab`, `Gitea`.
    pub name: &'static str,
    /// The variable a token for it is read from first (`GITHUB_TOKEN`).
    pub token_variable: &'static str,
    /// The variable that names the API's base (`GITHUB_API_URL`), and so where a token goes.
    pub url_variable: &'static str,
    /// The hint for a rate limit met without a token.
    pub unauthenticated_limit_hint: &'static str,
    /// The hint for a `410 Gone` (an API version retired), if the API has one.
    pub gone_hint: Option<&'static str>,
}

/// How an API wants to be asked, beyond its credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiPolicy {
    /// The `Accept` header of JSON requests.
    pub accept: &'static str,
    /// The `Accept` header that makes it send a file's bytes (GitHub's release assets).
    pub download_accept: Option<&'static str>,
    /// Headers sent with every request (`X-GitHub-Api-Version`).
    pub headers: &'static [(&'static str, &'static str)],
    /// Requests in flight at most.
    pub max_concurrent: Option<usize>,
    /// Writes (anything but `GET`) per minute at most, one at a time.
    pub writes_per_minute: Option<usize>,
    /// Whether a `429`, or a `403` saying so, with requests remaining is a secondary limit to
    /// wait out for a minute or more (GitHub's).
    pub secondary_limits: bool,
}

impl ApiPolicy {
    /// Plain JSON, no limits of its own.
    pub const JSON: Self = Self {
        accept: "application/json",
        download_accept: None,
        headers: &[],
        max_concurrent: None,
        writes_per_minute: None,
        secondary_limits: false,
    };
}

/// One API the client knows.
#[derive(Debug, Clone)]
pub struct ApiOrigin {
    /// The API base (`https://api.github.com`, `https://gitlab.example.com/api/v4`).
    pub base: Url,
    pub label: &'static ApiLabel,
    pub policy: ApiPolicy,
    /// Sent with the tool's own requests to this API, on its origin only.
    pub credential: Option<Credential>,
    /// A token is set but not sent: only `deps.toml` names this base.
    pub withheld: bool,
}

/// Which API of the client's table: an index into [`HttpSettings::apis`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiId(pub usize);

/// How the client behaves; every field has a documented environment override.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The forge APIs, in the forge table's order.
    pub apis: Vec<ApiOrigin>,
    /// Where conditional-request answers are kept; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Attempts and backoff for transient failures (`DEPS_UPDATE_HTTP_ATTEMPTS`,
    /// `DEPS_UPDATE_RETRY_DELAY_MS`).
    pub retry: RetryPolicy,
    /// The longest rate-limit wait taken instead of failing (`DEPS_UPDATE_MAX_RATE_LIMIT_WAIT`).
    pub max_rate_limit_wait: Duration,
    /// Per-request timeout (`DEPS_UPDATE_HTTP_TIMEOUT`).
    pub timeout: Duration,
    /// Whether cached answers may stand in for a fresh one (`304 Not Modified`). Off for
    /// what decides what is downloaded and what it is verified against.
    pub use_cached_answers: bool,
    /// The largest text answer (API document, page) read (`DEPS_UPDATE_MAX_ANSWER_MIB`).
    pub max_answer_bytes: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            apis: Vec::new(),
            cache_dir: None,
            retry: RetryPolicy::default(),
            max_rate_limit_wait: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
            use_cached_answers: true,
            max_answer_bytes: 64 << 20,
        }
    }
}
