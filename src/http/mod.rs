//! The only HTTP client: authentication, user agent, timeouts, retries, rate limits and the
//! conditional-request cache.
//!
//! - The client knows API origins ([`ApiOrigin`]), not forges: each with its label, its
//!   policy (headers, `Accept`, limits) and perhaps a credential, sent in the header the
//!   origin's policy names (a bearer token, `Authorization: token`, `PRIVATE-TOKEN`) and held
//!   in a [`Secret`] that never prints. A credential goes only with an [`ApiUrl`], an address
//!   the tool built on that API (never one an upstream's answer or a registry template gave),
//!   only while the request stays on the API's origin (redirects are followed here, by hand,
//!   and a hop that leaves the origin drops the credential for good), and only to an API the
//!   environment names.
//! - Text answers (API documents, pages) larger than `DEPS_UPDATE_MAX_ANSWER_MIB` are refused.
//! - Transient failures (5xx, 408, connection errors, timeouts) are retried with exponential
//!   backoff; the final error says how many attempts were made.
//! - A rate-limit answer (403 or 429 with rate-limit headers or `Retry-After`) is waited out
//!   when the wait is short, and otherwise reported with the time the limit resets. GitHub's
//!   secondary limits (a 429, or a 403 saying so, with requests remaining and no
//!   `Retry-After`) are waited out for at least a minute, doubling, within the same bound.
//! - Each API's limits come from its policy: for GitHub, writes (pull requests, labels,
//!   reviewers) go one at a time and at most 80 a minute, and at most 100 requests are in
//!   flight: its documented limits.
//! - Every `GET` carries `If-None-Match` when a cached copy exists, so an unchanged upstream
//!   answers `304 Not Modified` and costs no API budget.
//! - Plain-text URLs (`http://`, `git://`) are refused unless they point at a loopback address,
//!   on every request and every redirect.
//!
//! Here the client and its request loop; apart: `settings` (tokens, addresses, patience),
//! `address` (redaction, the plain-text rule, API URLs), `limits` (rate limits and the write
//! pace), `cache` (the conditional-request cache) and `error` ([`HttpError`] and its hints).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::printer::Printer;
use crate::retry::RetryPolicy;

mod address;
mod cache;
mod error;
mod limits;
mod settings;

pub use address::{Address, ApiUrl, api_url, ensure_secure, redact};
use cache::CacheEntry;
use error::MAX_REDIRECTS;
pub use error::{HttpError, RefusedRedirect, Unreachable, human_duration};
pub use limits::Pacer;
use limits::{RateLimit, rate_limit, secondary_wait};
pub use settings::{
    ApiId, ApiLabel, ApiOrigin, ApiPolicy, Credential, CredentialHeader, HttpSettings, Secret,
};

/// A JSON response and the next page's address from its `Link` header.
#[derive(Debug)]
pub struct Page<T> {
    pub body: T,
    pub next: Option<Address>,
}

/// Which kind of answer to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// A forge API's JSON, as the API's policy asks for it.
    Api,
    /// npm's abbreviated package document.
    NpmPackument,
    /// Plain JSON (OSV, pages that answer JSON).
    Json,
    /// A page for a person or a program: HTML, text or JSON.
    Page,
    /// Any file: archives, checksum lists, signatures.
    Archive,
}

impl Accept {
    /// The header, given the policy of the API the request goes to (if any).
    fn header(self, policy: Option<&ApiPolicy>) -> &'static str {
        match self {
            Self::Api => policy.map_or("application/json", |p| p.accept),
            Self::Archive => policy
                .and_then(|p| p.download_accept)
                .unwrap_or("application/octet-stream, */*;q=0.8"),
            Self::NpmPackument => {
                "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8"
            }
            Self::Json => "application/json",
            Self::Page => "text/html, text/plain, application/json;q=0.9, */*;q=0.8",
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
    /// Per API of the table: its concurrency slots and its write pace, where its policy
    /// sets them.
    limits: Vec<ApiLimits>,
}

/// An API's own limits, as its policy sets them.
#[derive(Debug)]
struct ApiLimits {
    /// Requests in flight to it.
    slots: Option<tokio::sync::Semaphore>,
    /// Held for the whole of each write: writes go one at a time, paced.
    pacer: Option<tokio::sync::Mutex<Pacer>>,
}

/// Requests made so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestStats {
    pub sent: u64,
    pub not_modified: u64,
}

/// Why one attempt failed: worth retrying (after the wait the server asked for, if any),
/// or not.
enum Failure {
    Retry(HttpError, Option<Duration>),
    /// A rate limit: the server did nothing, so even a `POST` may be sent again after `wait`.
    Limited(HttpError, Duration),
    Fail(HttpError),
}

/// Where a download's bytes go; restarted when an attempt fails half-way.
pub trait DownloadSink {
    fn restart(&mut self) -> std::io::Result<()>;
    fn write_chunk(&mut self, chunk: &[u8]) -> std::io::Result<()>;
}

/// An answer, with the concurrency slot it holds until its body has been read (so a large
/// download counts against GitHub's limit on requests in flight for as long as it runs).
struct Answer<'c> {
    response: reqwest::Response,
    /// The address that answered, after redirects.
    url: Url,
    _slot: Option<tokio::sync::SemaphorePermit<'c>>,
}

impl HttpClient {
    pub fn new(settings: HttpSettings, printer: Printer) -> Result<Self, HttpError> {
        // Redirects are followed by hand (`send_with`), so that credentials are dropped on any
        // hop that leaves the origin they belong to: reqwest strips only the headers it knows.
        let client = reqwest::Client::builder()
            .user_agent(concat!("deps-update/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(HttpError::Client)?;
        Ok(Self {
            client,
            printer,
            sent: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            limits: settings
                .apis
                .iter()
                .map(|api| ApiLimits {
                    slots: api.policy.max_concurrent.map(tokio::sync::Semaphore::new),
                    pacer: api
                        .policy
                        .writes_per_minute
                        .map(|n| tokio::sync::Mutex::new(Pacer::new(n, Duration::from_secs(60)))),
                })
                .collect(),
            settings,
        })
    }

    /// The retry policy, for other transports to share.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.settings.retry
    }

    /// An API of the table.
    pub fn api(&self, id: ApiId) -> &ApiOrigin {
        &self.settings.apis[id.0]
    }

    /// `{base}/{segments...}` on API `id`: an address the tool built, which carries that
    /// API's credential. Each segment is escaped, so GitLab's `group%2Fname` stays one.
    pub fn api_url(
        &self,
        id: ApiId,
        segments: &[&str],
        query: Option<&str>,
    ) -> Result<ApiUrl, HttpError> {
        Ok(ApiUrl::new(
            api_url(&self.api(id).base, segments, query)?,
            id,
        ))
    }

    /// Whether a token is sent to API `id`.
    pub fn has_credential(&self, id: ApiId) -> bool {
        self.api(id).credential.is_some()
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
        address: impl Into<Address>,
        accept: Accept,
    ) -> Result<Page<T>, HttpError> {
        let address = address.into();
        let (text, next) = self.get_text(address.clone(), accept).await?;
        let body = serde_json::from_str(&text).map_err(|source| HttpError::Malformed {
            url: redact(address.url()),
            source,
        })?;
        Ok(Page { body, next })
    }

    /// `GET` a text document (a page, or JSON to parse), with retries, rate-limit handling
    /// and the conditional cache; returns it with the next page's address, if any. Answers
    /// larger than `DEPS_UPDATE_MAX_ANSWER_MIB` are refused.
    pub async fn get_text(
        &self,
        address: impl Into<Address>,
        accept: Accept,
    ) -> Result<(String, Option<Address>), HttpError> {
        let address = address.into();
        let url = address.url();
        ensure_secure(url)?;
        let authenticated = self.credential(&address).is_some();
        let cached: Option<CacheEntry> = self
            .settings
            .use_cached_answers
            .then(|| self.cache_file(url, accept, authenticated))
            .flatten()
            .and_then(|f| crate::blocking::blocking(|| std::fs::read(f)).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .filter(|e: &CacheEntry| e.url == url.as_str());
        let cached = cached.as_ref();
        let limit = self.settings.max_answer_bytes;
        let continuation = |next: Url| match &address {
            Address::Api(api) => api.continuation(next),
            Address::Plain(_) => Address::Plain(next),
        };
        let address = &address;
        self.with_retries(url, |attempt| async move {
            let answer = self.send(address, accept, cached, attempt).await?;
            if answer.response.status() == StatusCode::NOT_MODIFIED {
                let entry = cached.ok_or_else(|| {
                    Failure::Fail(HttpError::Status {
                        url: redact(url),
                        status: 304,
                        message: "304 Not Modified for a request that was not conditional".into(),
                    })
                })?;
                self.not_modified.fetch_add(1, Ordering::Relaxed);
                let next = entry.next.as_deref().and_then(|n| Url::parse(n).ok());
                return Ok((entry.body.clone(), next.map(continuation)));
            }
            let headers = answer.response.headers().clone();
            let body = self.read_limited(answer, limit, attempt).await?;
            let next = next_link(&headers);
            self.store(url, accept, authenticated, &headers, &body, next.as_ref());
            Ok((body, next.map(continuation)))
        })
        .await
    }

    /// Reads a text answer, refusing more than `limit` bytes.
    async fn read_limited(
        &self,
        answer: Answer<'_>,
        limit: u64,
        attempt: u32,
    ) -> Result<String, Failure> {
        let Answer {
            mut response, url, ..
        } = answer;
        let too_large = || {
            Failure::Fail(HttpError::AnswerTooLarge {
                url: redact(&url),
                limit,
            })
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Failure::Retry(self.transport_error(&url, attempt, e), None))?
        {
            if bytes.len() as u64 + chunk.len() as u64 > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Streams a file into `sink`, refusing more than `limit` bytes. `progress` hears the bytes
    /// received so far and the total, when the server says it. A failed attempt restarts the
    /// sink and the download.
    pub async fn download(
        &self,
        address: impl Into<Address>,
        sink: &mut dyn DownloadSink,
        limit: u64,
        progress: &(dyn Fn(u64, Option<u64>) + Sync),
    ) -> Result<u64, HttpError> {
        let address = address.into();
        let url = address.url();
        ensure_secure(url)?;
        // Each attempt borrows the sink in turn; an async mutex hands it over.
        let sink = tokio::sync::Mutex::new(sink);
        let accept = Accept::Archive;
        let address = &address;
        self.with_retries(url, |attempt| {
            let sink = &sink;
            async move {
                let Answer {
                    mut response,
                    url: answered,
                    _slot,
                } = self.send(address, accept, None, attempt).await?;
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
                while let Some(chunk) = response.chunk().await.map_err(|e| {
                    Failure::Retry(self.transport_error(&answered, attempt, e), None)
                })? {
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

    /// Sends a JSON request to a forge API and parses the JSON answer (`null` for an empty
    /// one). Only idempotent methods are retried: a `POST` that fails is reported, never sent
    /// twice. Writes go one at a time, within the API's pace when it sets one.
    pub async fn api_json(
        &self,
        method: reqwest::Method,
        url: &ApiUrl,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, HttpError> {
        let address = Address::Api(url.clone());
        let pacer = self.limits[url.api().0].pacer.as_ref();
        let url = url.url();
        ensure_secure(url)?;
        // Writes go one at a time and within the API's pace, for the whole of their retries.
        let _turn = match (method == reqwest::Method::GET, pacer) {
            (true, _) => None,
            (false, pacer) => {
                self.writes.fetch_add(1, Ordering::Relaxed);
                match pacer {
                    Some(pacer) => {
                        let mut pacer = pacer.lock().await;
                        pacer.turn().await;
                        Some(pacer)
                    }
                    None => None,
                }
            }
        };
        let idempotent = method != reqwest::Method::POST;
        let limit = self.settings.max_answer_bytes;
        let address = &address;
        let attempt = |attempt: u32| {
            let method = method.clone();
            async move {
                let answer = self
                    .send_with(method, address, Accept::Api, None, body, attempt)
                    .await?;
                let text = self.read_limited(answer, limit, attempt).await?;
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

    /// `POST`s a JSON query that only reads (OSV's batch query) and parses the answer; retried
    /// like a `GET`, never cached, never with a credential.
    pub async fn post_query<T: DeserializeOwned>(
        &self,
        url: &Url,
        body: &serde_json::Value,
    ) -> Result<T, HttpError> {
        ensure_secure(url)?;
        let limit = self.settings.max_answer_bytes;
        let address = &Address::Plain(url.clone());
        self.with_retries(url, |attempt| async move {
            let answer = self
                .send_with(
                    reqwest::Method::POST,
                    address,
                    Accept::Json,
                    None,
                    Some(body),
                    attempt,
                )
                .await?;
            let text = self.read_limited(answer, limit, attempt).await?;
            serde_json::from_str(&text).map_err(|source| {
                Failure::Fail(HttpError::Malformed {
                    url: redact(url),
                    source,
                })
            })
        })
        .await
    }

    /// The status of one `GET` to a forge API (`204`, `404`, ...), or `None` when no answer
    /// came: for yes-or-no questions such as "is this user a collaborator?".
    pub async fn api_status(&self, url: &ApiUrl) -> Option<u16> {
        let address = Address::Api(url.clone());
        match self
            .send_with(reqwest::Method::GET, &address, Accept::Api, None, None, 1)
            .await
        {
            Ok(answer) => Some(answer.response.status().as_u16()),
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

    /// Sends one `GET`; a success or `304` comes back as the answer, anything else as a
    /// failure classified for retrying.
    async fn send(
        &self,
        address: &Address,
        accept: Accept,
        cached: Option<&CacheEntry>,
        attempt: u32,
    ) -> Result<Answer<'_>, Failure> {
        self.send_with(reqwest::Method::GET, address, accept, cached, None, attempt)
            .await
    }

    /// Sends one request with an optional JSON body, following redirects by hand: each hop
    /// must be `https://` (or loopback), at most [`MAX_REDIRECTS`] of them, and a credential
    /// goes only to the API origin it belongs to, never to a hop that left it.
    async fn send_with(
        &self,
        method: reqwest::Method,
        address: &Address,
        accept: Accept,
        cached: Option<&CacheEntry>,
        body: Option<&serde_json::Value>,
        attempt: u32,
    ) -> Result<Answer<'_>, Failure> {
        let first = address.url();
        let mut credential = self.credential(address);
        let authenticated = credential.is_some();
        let (mut url, mut method, mut body) = (first.clone(), method, body);
        let mut hops = 0;
        loop {
            let answer = self
                .send_once(&method, &url, accept, cached, body, credential, attempt)
                .await?;
            let status = answer.response.status();
            let location = answer
                .response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned);
            let redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
            let Some(location) = location.filter(|_| redirect) else {
                return self.classify(answer, first, authenticated, attempt).await;
            };
            let shown = redact(first);
            let next = url
                .join(&location)
                .map_err(|_| Failure::Fail(HttpError::BadUrl { url: location }))?;
            if ensure_secure(&next).is_err() {
                let to = redact(&next);
                return Err(Failure::Fail(HttpError::Redirect {
                    url: shown,
                    reason: RefusedRedirect::PlainText { to },
                }));
            }
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Err(Failure::Fail(HttpError::Redirect {
                    url: shown,
                    reason: RefusedRedirect::TooMany,
                }));
            }
            // A hop that leaves the origin loses the credential for good, even if a later hop
            // comes back.
            if next.origin() != url.origin() {
                credential = None;
            }
            if status == StatusCode::SEE_OTHER
                || (matches!(status.as_u16(), 301 | 302) && method == reqwest::Method::POST)
            {
                method = reqwest::Method::GET;
                body = None;
            }
            url = next;
        }
    }

    /// One request to one address, without following redirects.
    #[allow(clippy::too_many_arguments)]
    async fn send_once(
        &self,
        method: &reqwest::Method,
        url: &Url,
        accept: Accept,
        cached: Option<&CacheEntry>,
        body: Option<&serde_json::Value>,
        credential: Option<&Credential>,
        attempt: u32,
    ) -> Result<Answer<'_>, Failure> {
        let api = self.api_of(url);
        let policy = api.map(|id| &self.api(id).policy);
        let mut request = self
            .client
            .request(method.clone(), url.clone())
            .header(header::ACCEPT, accept.header(policy));
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in policy.map_or(&[][..], |p| p.headers) {
            request = request.header(*name, *value);
        }
        if let Some(credential) = credential {
            let token = credential.secret.expose();
            let (name, text) = match credential.header {
                CredentialHeader::Bearer => (header::AUTHORIZATION, format!("Bearer {token}")),
                CredentialHeader::Token => (header::AUTHORIZATION, format!("token {token}")),
                CredentialHeader::Named(name) => (
                    header::HeaderName::from_bytes(name.as_bytes())
                        .unwrap_or(header::AUTHORIZATION),
                    token.to_owned(),
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
        let slot = match api.and_then(|id| self.limits[id.0].slots.as_ref()) {
            Some(slots) => Some(
                slots
                    .acquire()
                    .await
                    .expect("the semaphore is never closed"),
            ),
            None => None,
        };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_builder() => {
                return Err(Failure::Fail(self.transport_error(url, attempt, e)));
            }
            Err(e) => return Err(Failure::Retry(self.transport_error(url, attempt, e), None)),
        };
        self.printer.verbose(&format!(
            "{method} {} -> {}",
            redact(url),
            response.status().as_u16()
        ));
        Ok(Answer {
            response,
            url: url.clone(),
            _slot: slot,
        })
    }

    /// A success or `304` as it is; anything else as a failure classified for retrying.
    async fn classify<'c>(
        &self,
        answer: Answer<'c>,
        first: &Url,
        authenticated: bool,
        attempt: u32,
    ) -> Result<Answer<'c>, Failure> {
        let status = answer.response.status();
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(answer);
        }
        let shown = redact(first);
        let api = self.api_of(first).map(|id| self.api(id));
        let label = api.map(|a| a.label);
        let secondary = api.is_some_and(|a| a.policy.secondary_limits);
        let headers = answer.response.headers().clone();
        // An error's body is read for its message only: a little of it is enough.
        let body = self
            .read_limited(answer, 64 << 10, attempt)
            .await
            .unwrap_or_default();
        match rate_limit(status, &headers, &body, secondary) {
            Some(RateLimit::Until(reset)) => {
                let wait = reset.duration_since(SystemTime::now()).unwrap_or_default();
                let error = HttpError::RateLimited {
                    url: shown,
                    reset: Some(reset),
                    api: label,
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
                let forge = label.map_or("the server", |l| l.name);
                let error = HttpError::SecondaryRateLimited {
                    forge,
                    url: shown,
                    wait_secs: wait.as_secs(),
                    allowed_secs: allowed.as_secs(),
                };
                if wait <= allowed {
                    self.printer.warn(&format!(
                        "{forge}'s secondary rate limit: waiting {} before trying again",
                        human_duration(wait)
                    ));
                    return Err(Failure::Limited(error, wait));
                }
                return Err(Failure::Fail(error));
            }
            None => {}
        }
        let message = api_message(&body);
        let withheld = api.filter(|a| a.withheld).map(|a| a.label);
        Err(match status.as_u16() {
            404 => Failure::Fail(HttpError::NotFound { url: shown }),
            410 => Failure::Fail(HttpError::Gone {
                url: shown,
                message,
                api: label,
            }),
            401 => Failure::Fail(HttpError::Unauthorized {
                url: shown,
                status: 401,
                api: label,
                authenticated,
                withheld,
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

    /// The API whose origin `url` is on, if any.
    fn api_of(&self, url: &Url) -> Option<ApiId> {
        self.settings
            .apis
            .iter()
            .position(|api| api.base.origin() == url.origin())
            .map(ApiId)
    }

    /// The credential a request to `address` carries: an API's token goes only with an
    /// address the tool built on that API, and only on that API's origin.
    fn credential(&self, address: &Address) -> Option<&Credential> {
        let id = address.credential_of()?;
        let api = self.settings.apis.get(id.0)?;
        (api.base.origin() == address.url().origin())
            .then_some(api.credential.as_ref())
            .flatten()
    }
}

/// GitHub's `{"message": "...", "errors": [{"message": "..."}]}`, or the start of whatever
/// else the body holds.
pub(super) fn api_message(body: &str) -> String {
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
}
