//! The only HTTP client: authentication, user agent, timeouts, retries, rate limits and the
//! conditional-request cache.
//!
//! - The GitHub token is sent only to the GitHub API's own origin (as a bearer token), the
//!   GitLab token only to the GitLab API's (as `PRIVATE-TOKEN`); both are held in a
//!   [`Secret`] that never prints.
//! - Transient failures (5xx, 408, connection errors, timeouts) are retried with exponential
//!   backoff; the final error says how many attempts were made.
//! - A rate-limit answer (403 or 429 with rate-limit headers or `Retry-After`) is waited out
//!   when the wait is short, and otherwise reported with the time the limit resets. GitHub's
//!   secondary limits (a 429, or a 403 saying so, with requests remaining and no
//!   `Retry-After`) are waited out for at least a minute, doubling, within the same bound.
//! - GitHub writes (pull requests, labels, reviewers) go one at a time and at most 80 a
//!   minute, and at most 100 requests are in flight to GitHub's API: its documented limits.
//! - Every `GET` carries `If-None-Match` when a cached copy exists, so an unchanged upstream
//!   answers `304 Not Modified` and costs no API budget.
//! - Plain-text URLs (`http://`, `git://`) are refused unless they point at a loopback address,
//!   on every request and every redirect.

use std::error::Error as _;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::printer::Printer;
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
}

/// The public GitHub API.
pub const DEFAULT_GITHUB_API: &str = "https://api.github.com";
/// The public GitLab API.
pub const DEFAULT_GITLAB_API: &str = "https://gitlab.com/api/v4";

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
        }
    }
}

/// Redirects followed at most for one request.
const MAX_REDIRECTS: usize = 5;

/// Why a redirect was not followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefusedRedirect {
    #[error(
        "it redirects to plain-text `{to}`, which is refused: only loopback addresses may use `http://`"
    )]
    PlainText { to: String },
    #[error("it redirects more than {MAX_REDIRECTS} times")]
    TooMany,
}

/// What went wrong with a request. URLs are shown without credentials.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("refusing plain-text `{url}`: only loopback addresses may use `http://` or `git://`")]
    InsecureUrl { url: String },
    #[error("`{url}` is not a usable URL")]
    BadUrl { url: String },
    #[error("`{url}` was not downloaded: {reason}")]
    Redirect {
        url: String,
        reason: RefusedRedirect,
    },
    #[error("could not reach `{url}` after {attempts} attempt{}", plural(*attempts))]
    Transport {
        url: String,
        attempts: u32,
        #[source]
        source: reqwest::Error,
    },
    #[error("`{url}` answered {status} after {attempts} attempt{}{}", plural(*attempts), excerpt(message))]
    ServerError {
        url: String,
        status: u16,
        attempts: u32,
        message: String,
    },
    #[error("`{url}` answered {status}{}", excerpt(message))]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("`{url}` was not found (404)")]
    NotFound { url: String },
    #[error("`{url}` is gone (410){}", excerpt(message))]
    Gone {
        url: String,
        message: String,
        api: Option<Api>,
    },
    #[error("`{url}` refused the credentials ({status})")]
    Unauthorized {
        url: String,
        status: u16,
        /// The forge API the URL belongs to, if any.
        api: Option<Api>,
        authenticated: bool,
    },
    #[error("rate limit reached at `{url}`{}", reset_text(*reset))]
    RateLimited {
        url: String,
        reset: Option<SystemTime>,
        api: Option<Api>,
        authenticated: bool,
    },
    #[error("GitHub's secondary rate limit was hit at `{url}` (too many requests at once, or content created too fast); it asks for a wait of at least {}, more than the {} allowed (`DEPS_UPDATE_MAX_RATE_LIMIT_WAIT`)", human_duration(Duration::from_secs(*wait_secs)), human_duration(Duration::from_secs(*allowed_secs)))]
    SecondaryRateLimited {
        url: String,
        wait_secs: u64,
        allowed_secs: u64,
    },
    #[error("`{url}` is larger than the limit of {} MiB (`settings.max-archive-mib`)", limit >> 20)]
    TooLarge { url: String, limit: u64 },
    #[error("cannot write what `{url}` sent")]
    Write {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("`{url}` sent a response that is not the JSON expected")]
    Malformed {
        url: String,
        #[source]
        source: serde_json::Error,
    },
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn excerpt(message: &str) -> String {
    let message = message.trim();
    if message.is_empty() {
        return String::new();
    }
    let short: String = message.chars().take(200).collect();
    format!(": {}", short.replace('\n', " "))
}

fn reset_text(reset: Option<SystemTime>) -> String {
    let Some(reset) = reset else {
        return String::new();
    };
    let wait = reset.duration_since(SystemTime::now()).unwrap_or_default();
    format!(
        "; it resets at {} (in {})",
        httpdate::fmt_http_date(reset),
        human_duration(wait)
    )
}

/// `41 minutes`, `2 hours 5 minutes`, `30 seconds`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..=89 => format!("{secs} seconds"),
        90..=5399 => format!("{} minutes", (secs + 30) / 60),
        _ => format!("{} hours {} minutes", secs / 3600, (secs % 3600) / 60),
    }
}

impl HttpError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::RateLimited { authenticated: false, api: Some(Api::GitHub), .. } => Some(
                "set `GITHUB_TOKEN` (or `GH_TOKEN`): authenticated requests get 5,000 an hour instead of 60"
                    .into(),
            ),
            Self::RateLimited { authenticated: false, api: Some(Api::GitLab), .. } => Some(
                "set `GITLAB_TOKEN`: authenticated requests get a larger allowance".into(),
            ),
            Self::RateLimited { .. } => {
                Some("wait until the limit resets, or run fewer dependencies at once (`--jobs`)".into())
            }
            Self::SecondaryRateLimited { .. } => Some(
                "run again in a few minutes (what was done is kept; the next run picks up from there), or raise `DEPS_UPDATE_MAX_RATE_LIMIT_WAIT` to let this run wait".into(),
            ),
            Self::Unauthorized { authenticated: true, api: Some(api), .. } => Some(format!(
                "check that `{}` is valid and not expired",
                api.token_variable()
            )),
            Self::Unauthorized { authenticated: false, api: Some(api), .. } => Some(format!(
                "this upstream needs credentials: set `{}`",
                api.token_variable()
            )),
            Self::Unauthorized { .. } => {
                Some("this upstream needs credentials that deps-update cannot send".into())
            }
            Self::InsecureUrl { .. } => Some("use the `https://` address of the upstream".into()),
            Self::Redirect { reason: RefusedRedirect::PlainText { .. }, .. } => Some(
                "the server sends the file over plain HTTP, where it could be altered on the way: ask upstream to serve it over https, or point `archive` at a mirror that does".into(),
            ),
            Self::Redirect { reason: RefusedRedirect::TooMany, .. } => {
                Some("the address may loop; open it in a browser, and point `archive` at where it ends".into())
            }
            Self::Transport { .. } | Self::ServerError { .. } => {
                Some("the upstream may be down; run the command again later".into())
            }
            Self::Gone { api: Some(Api::GitHub), .. } => Some(
                "GitHub retired this endpoint or the API version deps-update asks for (`X-GitHub-Api-Version: 2022-11-28`): upgrade deps-update".into(),
            ),
            Self::Gone { .. } => Some("the server removed this address for good: point the registry at where it moved".into()),
            Self::TooLarge { .. } => Some("raise `max-archive-mib` in `[settings]` if the archive is expected to be this large".into()),
            Self::Write { .. } => Some("check the free space of the temporary folder".into()),
            Self::BadUrl { .. }
            | Self::Client(_)
            | Self::Status { .. }
            | Self::NotFound { .. }
            | Self::Malformed { .. } => None,
        }
    }
}

/// A URL as it may be shown: without user name or password.
pub fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() || shown.password().is_some() {
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
    }
    shown.to_string()
}

/// Refuses plain-text transports to anything but a loopback address.
pub fn ensure_secure(url: &Url) -> Result<(), HttpError> {
    match url.scheme() {
        "https" | "ssh" | "file" => Ok(()),
        "http" | "git" if is_loopback(url) => Ok(()),
        "http" | "git" => Err(HttpError::InsecureUrl { url: redact(url) }),
        _ => Err(HttpError::BadUrl { url: redact(url) }),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        // Hosts of non-special schemes (`git://`) come back as text, addresses included.
        Some(url::Host::Domain(host)) => {
            host.eq_ignore_ascii_case("localhost")
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `base` with `segments` appended as path segments (each one escaped, so GitLab's
/// `group%2Fname` stays one segment) and `query` set: the one builder of API URLs, which
/// keeps a path prefix such as GitHub Enterprise's `/api/v3` or GitLab's `/api/v4`.
pub fn api_url(base: &Url, segments: &[&str], query: Option<&str>) -> Result<Url, HttpError> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| HttpError::BadUrl { url: redact(base) })?
        .pop_if_empty()
        .extend(segments);
    url.set_query(query);
    Ok(url)
}

/// A JSON response and the next page's URL from its `Link` header.
#[derive(Debug)]
pub struct Page<T> {
    pub body: T,
    pub next: Option<Url>,
}

/// Which kind of JSON to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// GitHub's REST API.
    GitHub,
    /// npm's abbreviated package document.
    NpmPackument,
    /// Plain JSON (GitLab's REST API).
    Json,
    /// A page for a person or a program: HTML, text or JSON.
    Page,
    /// Any file: archives, checksum lists, signatures.
    Archive,
    /// A file from GitHub's API (a release asset by id), which sends the bytes only when
    /// asked for exactly this type.
    Binary,
}

impl Accept {
    fn header(self) -> &'static str {
        match self {
            Self::GitHub => "application/vnd.github+json",
            Self::NpmPackument => {
                "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8"
            }
            Self::Json => "application/json",
            Self::Page => "text/html, text/plain, application/json;q=0.9, */*;q=0.8",
            Self::Archive => "application/octet-stream, */*;q=0.8",
            Self::Binary => "application/octet-stream",
        }
    }
}

/// The shared client; one per run.
#[derive(Debug)]
pub struct HttpClient {
    client: reqwest::Client,
    settings: HttpSettings,
    printer: Printer,
    sent: AtomicU64,
    not_modified: AtomicU64,
    writes: AtomicU64,
    /// Held for the whole of each GitHub write: writes go one at a time, paced.
    pacer: tokio::sync::Mutex<Pacer>,
    /// Requests in flight to GitHub's API.
    github_slots: tokio::sync::Semaphore,
}

/// Requests made so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestStats {
    pub sent: u64,
    pub not_modified: u64,
}

/// One cached response.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct CacheEntry {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    next: Option<String>,
    body: String,
}

/// Why one attempt failed: worth retrying (after the wait the server asked for, if any),
/// or not.
enum Failure {
    Retry(HttpError, Option<Duration>),
    /// A rate limit: the server did nothing, so even a `POST` may be sent again after `wait`.
    Limited(HttpError, Duration),
    Fail(HttpError),
}

/// GitHub's documented limits on content-creating requests.
const WRITES_PER_MINUTE: usize = 80;
/// GitHub's documented limit on concurrent requests.
const MAX_CONCURRENT_GITHUB: usize = 100;
/// The least wait after a secondary rate limit without `Retry-After`.
const SECONDARY_WAIT: Duration = Duration::from_secs(60);

/// Paces writes: at most `limit` in any `period` (a sliding window).
#[derive(Debug)]
pub struct Pacer {
    limit: usize,
    period: Duration,
    sent: std::collections::VecDeque<tokio::time::Instant>,
}

impl Pacer {
    pub fn new(limit: usize, period: Duration) -> Self {
        Self {
            limit,
            period,
            sent: std::collections::VecDeque::new(),
        }
    }

    /// Waits until one more request fits in the window, and counts it.
    pub async fn turn(&mut self) {
        loop {
            let now = tokio::time::Instant::now();
            while self
                .sent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.period)
            {
                self.sent.pop_front();
            }
            match self.sent.front() {
                Some(oldest) if self.sent.len() >= self.limit => {
                    tokio::time::sleep_until(*oldest + self.period).await;
                }
                _ => break,
            }
        }
        self.sent.push_back(tokio::time::Instant::now());
    }
}

/// Where a download's bytes go; restarted when an attempt fails half-way.
pub trait DownloadSink {
    fn restart(&mut self) -> std::io::Result<()>;
    fn write_chunk(&mut self, chunk: &[u8]) -> std::io::Result<()>;
}

impl HttpClient {
    pub fn new(settings: HttpSettings, printer: Printer) -> Result<Self, HttpError> {
        let redirects = reqwest::redirect::Policy::custom(|attempt| {
            if ensure_secure(attempt.url()).is_err() {
                let to = redact(attempt.url());
                attempt.error(RefusedRedirect::PlainText { to })
            } else if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error(RefusedRedirect::TooMany)
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(concat!("deps-update/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .timeout(settings.timeout)
            .redirect(redirects)
            .build()
            .map_err(HttpError::Client)?;
        Ok(Self {
            client,
            settings,
            printer,
            sent: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            pacer: tokio::sync::Mutex::new(Pacer::new(WRITES_PER_MINUTE, Duration::from_secs(60))),
            github_slots: tokio::sync::Semaphore::new(MAX_CONCURRENT_GITHUB),
        })
    }

    /// The GitHub API base, without a trailing slash.
    pub fn github_api(&self) -> &Url {
        &self.settings.github_api
    }

    /// The retry policy, for other transports to share.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.settings.retry
    }

    /// The GitHub token, for the one other place that sends it (git pushes to the forge).
    pub fn github_token(&self) -> Option<&str> {
        self.settings.github_token.as_ref().map(Secret::expose)
    }

    /// Whether a GitHub token is configured.
    pub fn has_github_token(&self) -> bool {
        self.settings.github_token.is_some()
    }

    /// `{api}/repos/{owner}/{name}/{segments...}`: the one builder of GitHub repository URLs,
    /// for sources and pull requests alike.
    pub fn github_repo_url(
        &self,
        repo: &str,
        segments: &[&str],
        query: Option<&str>,
    ) -> Result<Url, HttpError> {
        let mut all = vec!["repos"];
        all.extend(repo.split('/'));
        all.extend(segments);
        api_url(&self.settings.github_api, &all, query)
    }

    /// The GitLab API base.
    pub fn gitlab_api(&self) -> &Url {
        &self.settings.gitlab_api
    }

    /// Whether a GitLab token is configured.
    pub fn has_gitlab_token(&self) -> bool {
        self.settings.gitlab_token.is_some()
    }

    /// The web address of the GitHub whose API is configured (`https://api.github.com` ->
    /// `https://github.com`, `https://ghe.example.com/api/v3` -> `https://ghe.example.com`).
    pub fn github_web(&self) -> String {
        web_base(&self.settings.github_api, "/api/v3")
    }

    /// The web address of the configured GitLab (`https://gitlab.com/api/v4` ->
    /// `https://gitlab.com`).
    pub fn gitlab_web(&self) -> String {
        web_base(&self.settings.gitlab_api, "/api/v4")
    }

    /// Counts of requests so far.
    pub fn stats(&self) -> RequestStats {
        RequestStats {
            sent: self.sent.load(Ordering::Relaxed),
            not_modified: self.not_modified.load(Ordering::Relaxed),
        }
    }

    /// `GET` a JSON document, with retries, rate-limit handling and the conditional cache.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        url: &Url,
        accept: Accept,
    ) -> Result<Page<T>, HttpError> {
        let (text, next) = self.get_text(url, accept).await?;
        let body = serde_json::from_str(&text).map_err(|source| HttpError::Malformed {
            url: redact(url),
            source,
        })?;
        Ok(Page { body, next })
    }

    /// `GET` a text document (a page, or JSON to parse), with retries, rate-limit handling
    /// and the conditional cache; returns it with the next page's URL, if any.
    pub async fn get_text(
        &self,
        url: &Url,
        accept: Accept,
    ) -> Result<(String, Option<Url>), HttpError> {
        ensure_secure(url)?;
        let authenticated = self.token_for(url).is_some();
        let cached: Option<CacheEntry> = self
            .cache_file(url, accept, authenticated)
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .filter(|e: &CacheEntry| e.url == url.as_str());
        let cached = cached.as_ref();
        self.with_retries(url, |attempt| async move {
            let response = self.send(url, accept, cached, attempt).await?;
            if response.status() == StatusCode::NOT_MODIFIED {
                let entry = cached.ok_or_else(|| {
                    Failure::Fail(HttpError::Status {
                        url: redact(url),
                        status: 304,
                        message: "304 Not Modified for a request that was not conditional".into(),
                    })
                })?;
                self.not_modified.fetch_add(1, Ordering::Relaxed);
                let next = entry.next.as_deref().and_then(|n| Url::parse(n).ok());
                return Ok((entry.body.clone(), next));
            }
            let headers = response.headers().clone();
            let body = response
                .text()
                .await
                .map_err(|e| Failure::Retry(self.transport_error(url, attempt, e), None))?;
            let next = next_link(&headers);
            self.store(url, accept, authenticated, &headers, &body, next.as_ref());
            Ok((body, next))
        })
        .await
    }

    /// Streams a file into `sink`, refusing more than `limit` bytes. `progress` hears the bytes
    /// received so far and the total, when the server says it. A failed attempt restarts the
    /// sink and the download.
    pub async fn download(
        &self,
        url: &Url,
        sink: &mut dyn DownloadSink,
        limit: u64,
        progress: &(dyn Fn(u64, Option<u64>) + Sync),
    ) -> Result<u64, HttpError> {
        ensure_secure(url)?;
        // Each attempt borrows the sink in turn; an async mutex hands it over.
        let sink = tokio::sync::Mutex::new(sink);
        let accept = match self.api_of(url) {
            Some(Api::GitHub) => Accept::Binary,
            _ => Accept::Archive,
        };
        self.with_retries(url, |attempt| {
            let sink = &sink;
            async move {
                let mut response = self.send(url, accept, None, attempt).await?;
                let total = response.content_length();
                let too_large = || {
                    Failure::Fail(HttpError::TooLarge {
                        url: redact(url),
                        limit,
                    })
                };
                if total.is_some_and(|t| t > limit) {
                    return Err(too_large());
                }
                let write_error = |source| {
                    Failure::Fail(HttpError::Write {
                        url: redact(url),
                        source,
                    })
                };
                let mut sink = sink.lock().await;
                sink.restart().map_err(write_error)?;
                let mut received = 0u64;
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|e| Failure::Retry(self.transport_error(url, attempt, e), None))?
                {
                    received += chunk.len() as u64;
                    if received > limit {
                        return Err(too_large());
                    }
                    sink.write_chunk(&chunk).map_err(write_error)?;
                    progress(received, total);
                }
                Ok(received)
            }
        })
        .await
    }

    /// Sends a JSON request to the GitHub API and parses the JSON answer (`null` for an empty
    /// one). Only idempotent methods are retried: a `POST` that fails is reported, never sent
    /// twice.
    pub async fn github_json(
        &self,
        method: reqwest::Method,
        url: &Url,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, HttpError> {
        ensure_secure(url)?;
        // Writes go one at a time and within GitHub's pace, for the whole of their retries.
        let _turn = if method == reqwest::Method::GET {
            None
        } else {
            self.writes.fetch_add(1, Ordering::Relaxed);
            let mut pacer = self.pacer.lock().await;
            pacer.turn().await;
            Some(pacer)
        };
        let idempotent = method != reqwest::Method::POST;
        let attempt = |attempt: u32| {
            let method = method.clone();
            async move {
                let response = self
                    .send_with(method, url, Accept::GitHub, None, body, attempt)
                    .await?;
                let text = response
                    .text()
                    .await
                    .map_err(|e| Failure::Retry(self.transport_error(url, attempt, e), None))?;
                if text.trim().is_empty() {
                    return Ok(serde_json::Value::Null);
                }
                serde_json::from_str(&text).map_err(|source| {
                    Failure::Fail(HttpError::Malformed {
                        url: redact(url),
                        source,
                    })
                })
            }
        };
        self.with_retries_if(url, idempotent, attempt).await
    }

    /// The status of one `GET` to the GitHub API (`204`, `404`, ...), or `None` when no answer
    /// came: for yes-or-no questions such as "is this user a collaborator?".
    pub async fn github_status(&self, url: &Url) -> Option<u16> {
        match self
            .send_with(reqwest::Method::GET, url, Accept::GitHub, None, None, 1)
            .await
        {
            Ok(response) => Some(response.status().as_u16()),
            Err(Failure::Fail(HttpError::NotFound { .. })) => Some(404),
            Err(_) => None,
        }
    }

    /// Requests that change something (anything but `GET`) sent so far.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Runs `attempt` until it succeeds, fails for good, or the attempts run out.
    async fn with_retries<T, F, Fut>(&self, url: &Url, attempt: F) -> Result<T, HttpError>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        self.with_retries_if(url, true, attempt).await
    }

    /// [`Self::with_retries`]; a request that is not `idempotent` is sent again only after a
    /// rate limit, which the server answered without acting.
    async fn with_retries_if<T, F, Fut>(
        &self,
        url: &Url,
        idempotent: bool,
        mut attempt: F,
    ) -> Result<T, HttpError>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        let attempts = self.settings.retry.attempts.max(1);
        let mut number = 0;
        loop {
            number += 1;
            let (error, wait) = match attempt(number).await {
                Ok(value) => return Ok(value),
                Err(Failure::Fail(error)) => return Err(error),
                Err(Failure::Retry(error, _)) if !idempotent => return Err(error),
                Err(Failure::Retry(error, wait)) => (error, wait),
                Err(Failure::Limited(error, wait)) => (error, Some(wait)),
            };
            if number >= attempts {
                return Err(error);
            }
            let delay = wait.unwrap_or_else(|| self.settings.retry.delay_after(number));
            self.printer.verbose(&format!(
                "retrying `{}` in {} ms (attempt {} of {attempts}): {error}",
                redact(url),
                delay.as_millis(),
                number + 1
            ));
            tokio::time::sleep(delay).await;
        }
    }

    fn transport_error(&self, url: &Url, attempt: u32, source: reqwest::Error) -> HttpError {
        HttpError::Transport {
            url: redact(url),
            attempts: attempt,
            source: source.without_url(),
        }
    }

    /// Sends one `GET`; a success or `304` comes back as the response, anything else as a
    /// failure classified for retrying.
    async fn send(
        &self,
        url: &Url,
        accept: Accept,
        cached: Option<&CacheEntry>,
        attempt: u32,
    ) -> Result<reqwest::Response, Failure> {
        self.send_with(reqwest::Method::GET, url, accept, cached, None, attempt)
            .await
    }

    /// Sends one request with an optional JSON body; see [`HttpClient::send`].
    async fn send_with(
        &self,
        method: reqwest::Method,
        url: &Url,
        accept: Accept,
        cached: Option<&CacheEntry>,
        body: Option<&serde_json::Value>,
        attempt: u32,
    ) -> Result<reqwest::Response, Failure> {
        let shown = redact(url);
        let token = self.token_for(url);
        let authenticated = token.is_some();
        let api = self.api_of(url);
        let mut request = self
            .client
            .request(method.clone(), url.clone())
            .header(header::ACCEPT, accept.header());
        if let Some(body) = body {
            request = request.json(body);
        }
        if accept == Accept::GitHub {
            request = request.header("X-GitHub-Api-Version", "2022-11-28");
        }
        if let Some((api, token)) = token {
            let (name, text) = match api {
                Api::GitHub => (header::AUTHORIZATION, format!("Bearer {}", token.expose())),
                Api::GitLab => (
                    header::HeaderName::from_static("private-token"),
                    token.expose().to_owned(),
                ),
            };
            let mut value =
                HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""));
            value.set_sensitive(true);
            request = request.header(name, value);
        }
        if let Some(entry) = cached {
            if let Some(etag) = &entry.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            } else if let Some(date) = &entry.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, date);
            }
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        let _slot = match api {
            Some(Api::GitHub) => Some(
                self.github_slots
                    .acquire()
                    .await
                    .expect("the semaphore is never closed"),
            ),
            _ => None,
        };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_redirect() => {
                let refused = std::iter::successors(e.source(), |s| (*s).source())
                    .find_map(|s| s.downcast_ref::<RefusedRedirect>())
                    .cloned();
                return Err(Failure::Fail(match refused {
                    Some(reason) => HttpError::Redirect { url: shown, reason },
                    None => self.transport_error(url, attempt, e),
                }));
            }
            Err(e) if e.is_builder() => {
                return Err(Failure::Fail(self.transport_error(url, attempt, e)));
            }
            Err(e) => return Err(Failure::Retry(self.transport_error(url, attempt, e), None)),
        };
        let status = response.status();
        self.printer
            .verbose(&format!("{method} {shown} -> {}", status.as_u16()));
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(response);
        }
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        match rate_limit(status, &headers, &body) {
            Some(RateLimit::Until(reset)) => {
                let wait = reset.duration_since(SystemTime::now()).unwrap_or_default();
                let error = HttpError::RateLimited {
                    url: shown,
                    reset: Some(reset),
                    api,
                    authenticated,
                };
                if wait <= self.settings.max_rate_limit_wait {
                    return Err(Failure::Limited(error, wait + Duration::from_millis(250)));
                }
                return Err(Failure::Fail(error));
            }
            Some(RateLimit::Secondary) => {
                let wait = secondary_wait(attempt);
                let allowed = self.settings.max_rate_limit_wait;
                let error = HttpError::SecondaryRateLimited {
                    url: shown,
                    wait_secs: wait.as_secs(),
                    allowed_secs: allowed.as_secs(),
                };
                if wait <= allowed {
                    self.printer.warn(&format!(
                        "GitHub's secondary rate limit: waiting {} before trying again",
                        human_duration(wait)
                    ));
                    return Err(Failure::Limited(error, wait));
                }
                return Err(Failure::Fail(error));
            }
            None => {}
        }
        let message = api_message(&body);
        Err(match status.as_u16() {
            404 => Failure::Fail(HttpError::NotFound { url: shown }),
            410 => Failure::Fail(HttpError::Gone {
                url: shown,
                message,
                api,
            }),
            401 => Failure::Fail(HttpError::Unauthorized {
                url: shown,
                status: 401,
                api,
                authenticated,
            }),
            408 | 500..=599 => Failure::Retry(
                HttpError::ServerError {
                    url: shown,
                    status: status.as_u16(),
                    attempts: attempt,
                    message,
                },
                None,
            ),
            code => Failure::Fail(HttpError::Status {
                url: shown,
                status: code,
                message,
            }),
        })
    }

    /// The forge API whose origin `url` is on, if any.
    fn api_of(&self, url: &Url) -> Option<Api> {
        if url.origin() == self.settings.github_api.origin() {
            Some(Api::GitHub)
        } else if url.origin() == self.settings.gitlab_api.origin() {
            Some(Api::GitLab)
        } else {
            None
        }
    }

    /// The token for `url`: each forge's token goes to its API's origin and nowhere else.
    fn token_for(&self, url: &Url) -> Option<(Api, &Secret)> {
        let api = self.api_of(url)?;
        let token = match api {
            Api::GitHub => self.settings.github_token.as_ref(),
            Api::GitLab => self.settings.gitlab_token.as_ref(),
        }?;
        Some((api, token))
    }

    fn cache_file(&self, url: &Url, accept: Accept, authenticated: bool) -> Option<PathBuf> {
        let dir = self.settings.cache_dir.as_ref()?;
        let mut hasher = Sha256::new();
        hasher.update(url.as_str());
        hasher.update([0, accept as u8, u8::from(authenticated)]);
        let key: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Some(dir.join("http").join(format!("{key}.json")))
    }

    fn store(
        &self,
        url: &Url,
        accept: Accept,
        authenticated: bool,
        headers: &HeaderMap,
        body: &str,
        next: Option<&Url>,
    ) {
        let Some(file) = self.cache_file(url, accept, authenticated) else {
            return;
        };
        let header_text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let entry = CacheEntry {
            url: url.to_string(),
            etag: header_text(header::ETAG),
            last_modified: header_text(header::LAST_MODIFIED),
            next: next.map(Url::to_string),
            body: body.to_owned(),
        };
        if entry.etag.is_none() && entry.last_modified.is_none() {
            return;
        }
        let write = || -> std::io::Result<()> {
            let dir = file.parent().expect("cache files live in a folder");
            std::fs::create_dir_all(dir)?;
            // One write: serde_json writes token by token, a system call each to a file.
            let bytes = serde_json::to_vec(&entry)?;
            let mut temp = tempfile::NamedTempFile::new_in(dir)?;
            std::io::Write::write_all(&mut temp, &bytes)?;
            temp.persist(&file).map_err(|e| e.error)?;
            Ok(())
        };
        if let Err(error) = write() {
            self.printer.verbose(&format!(
                "could not write the cache file `{}`: {error}",
                file.display()
            ));
        }
    }
}

/// How long a rate-limited answer asks to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RateLimit {
    /// Until this time (`Retry-After`, or the primary limit's reset).
    Until(SystemTime),
    /// A secondary limit with no time given: at least a minute, doubling.
    Secondary,
}

/// Whether an answer is a rate limit, and which; `None` when it is not one.
fn rate_limit(status: StatusCode, headers: &HeaderMap, body: &str) -> Option<RateLimit> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(after) = text("retry-after") {
        if let Ok(secs) = after.parse::<u64>() {
            return Some(RateLimit::Until(
                SystemTime::now() + Duration::from_secs(secs),
            ));
        }
        if let Ok(date) = httpdate::parse_http_date(after) {
            return Some(RateLimit::Until(date));
        }
    }
    // GitHub says `x-ratelimit-*`, GitLab `ratelimit-*`.
    let remaining = text("x-ratelimit-remaining").or_else(|| text("ratelimit-remaining"));
    if remaining == Some("0") {
        let reset = text("x-ratelimit-reset")
            .or_else(|| text("ratelimit-reset"))
            .and_then(|r| r.parse::<u64>().ok())
            .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        return Some(RateLimit::Until(
            reset.unwrap_or_else(|| SystemTime::now() + SECONDARY_WAIT),
        ));
    }
    // Requests remain: a 429 is a secondary limit, and so is a 403 that says it is (a plain
    // 403 is a permission problem).
    let message = api_message(body).to_ascii_lowercase();
    let says_so = message.contains("secondary rate limit") || message.contains("abuse");
    (status == StatusCode::TOO_MANY_REQUESTS || says_so).then_some(RateLimit::Secondary)
}

/// The wait after secondary limit number `attempt` (1-based): a minute, then doubling.
fn secondary_wait(attempt: u32) -> Duration {
    SECONDARY_WAIT.saturating_mul(1 << attempt.saturating_sub(1).min(6))
}

/// The web address of a forge whose API is `api`: `https://api.HOST` -> `https://HOST`, else
/// the API address without its `suffix` (`/api/v3`, `/api/v4`).
fn web_base(api: &Url, suffix: &str) -> String {
    let shown = redact(api);
    let trimmed = shown.trim_end_matches('/');
    if let Some(rest) = trimmed.strip_prefix("https://api.") {
        return format!("https://{rest}");
    }
    trimmed.trim_end_matches(suffix).to_owned()
}

/// GitHub's `{"message": "...", "errors": [{"message": "..."}]}`, or the start of whatever
/// else the body holds.
fn api_message(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct ApiError {
        message: String,
        #[serde(default)]
        errors: Vec<serde_json::Value>,
    }
    match serde_json::from_str::<ApiError>(body) {
        Ok(e) => {
            let details: Vec<&str> = e
                .errors
                .iter()
                .filter_map(|d| d["message"].as_str())
                .collect();
            if details.is_empty() {
                e.message
            } else {
                format!("{}: {}", e.message, details.join("; "))
            }
        }
        Err(_) => body.chars().take(200).collect(),
    }
}

/// The `rel="next"` target of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<Url> {
    let link = headers.get(header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| Url::parse(target).ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_only_on_loopback() {
        let ok = [
            "https://api.github.com",
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://[::1]:9/",
            "git://127.0.0.5/r",
            "file:///tmp/r",
        ];
        for url in ok {
            assert!(ensure_secure(&Url::parse(url).unwrap()).is_ok(), "{url}");
        }
        for url in [
            "http://registry.npmjs.org/x",
            "git://github.com/a/b",
            "http://10.0.0.1/",
            "http://localhost.evil.com/",
        ] {
            let error = ensure_secure(&Url::parse(url).unwrap()).unwrap_err();
            assert!(matches!(error, HttpError::InsecureUrl { .. }), "{url}");
        }
    }

    #[test]
    fn redacts_credentials() {
        let url = Url::parse("https://user:hunter2@registry.example.com/x?a=1").unwrap();
        assert_eq!(redact(&url), "https://registry.example.com/x?a=1");
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("ghp_abc".into()).unwrap();
        assert_eq!(format!("{secret} {secret:?}"), "**** Secret(****)");
        assert!(Secret::new("  ".into()).is_none());
    }

    #[test]
    fn follows_link_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::LINK,
            HeaderValue::from_static(
                "<https://api.github.com/x?page=2>; rel=\"next\", <https://api.github.com/x?page=5>; rel=\"last\"",
            ),
        );
        assert_eq!(
            next_link(&headers).unwrap().as_str(),
            "https://api.github.com/x?page=2"
        );
        headers.insert(
            header::LINK,
            HeaderValue::from_static("<https://a/x?page=1>; rel=\"prev\""),
        );
        assert_eq!(next_link(&headers), None);
    }

    #[test]
    fn recognises_rate_limits() {
        let mut headers = HeaderMap::new();
        let forbidden =
            |headers: &HeaderMap, body: &str| rate_limit(StatusCode::FORBIDDEN, headers, body);
        assert_eq!(
            forbidden(
                &headers,
                r#"{"message": "Resource not accessible by integration"}"#
            ),
            None,
            "a plain 403 is not a rate limit"
        );
        assert_eq!(
            forbidden(
                &headers,
                r#"{"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#
            ),
            Some(RateLimit::Secondary)
        );
        assert_eq!(
            rate_limit(StatusCode::TOO_MANY_REQUESTS, &headers, ""),
            Some(RateLimit::Secondary)
        );
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("4102444800"));
        assert_eq!(
            forbidden(&headers, ""),
            Some(RateLimit::Until(
                SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800)
            ))
        );
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert!(matches!(
            rate_limit(StatusCode::TOO_MANY_REQUESTS, &headers, ""),
            Some(RateLimit::Until(_))
        ));
        assert_eq!(rate_limit(StatusCode::OK, &headers, ""), None);
    }

    #[test]
    fn secondary_limits_wait_a_minute_then_double() {
        assert_eq!(secondary_wait(1), Duration::from_secs(60));
        assert_eq!(secondary_wait(2), Duration::from_secs(120));
        assert_eq!(secondary_wait(3), Duration::from_secs(240));
    }

    #[tokio::test(start_paused = true)]
    async fn writes_are_paced_to_eighty_a_minute() {
        let mut pacer = Pacer::new(WRITES_PER_MINUTE, Duration::from_secs(60));
        let start = tokio::time::Instant::now();
        for _ in 0..WRITES_PER_MINUTE {
            pacer.turn().await;
        }
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "a burst of 80 goes at once"
        );
        pacer.turn().await;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(60),
            "the 81st waits a minute"
        );
        for _ in 0..WRITES_PER_MINUTE - 1 {
            pacer.turn().await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(60));
        pacer.turn().await;
        assert_eq!(start.elapsed(), Duration::from_secs(120));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(30)), "30 seconds");
        assert_eq!(human_duration(Duration::from_secs(41 * 60)), "41 minutes");
        assert_eq!(
            human_duration(Duration::from_secs(7500)),
            "2 hours 5 minutes"
        );
    }
}
