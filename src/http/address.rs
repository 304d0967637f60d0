//! Addresses: shown without credentials, refused over plain text off loopback, and built for
//! forge APIs. A forge's credential goes only with an [`ApiUrl`]: an address the tool itself
//! built on that forge's configured API, never one taken from an upstream's answer or a
//! registry template.

use reqwest::Url;

use super::{ApiId, HttpError};

/// A URL the tool built on a forge's API base; the only kind of request that may carry the
/// forge's credential (and only while it stays on the API's origin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUrl {
    url: Url,
    api: ApiId,
}

impl ApiUrl {
    pub(super) fn new(url: Url, api: ApiId) -> Self {
        Self { url, api }
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn api(&self) -> ApiId {
        self.api
    }

    /// A page link the API's answer gave (`Link: rel="next"`): still the API's own address,
    /// with its credential, when it stays on the API's origin; a plain address otherwise.
    pub fn continuation(&self, next: Url) -> Address {
        if next.origin() == self.url.origin() {
            Address::Api(Self::new(next, self.api))
        } else {
            Address::Plain(next)
        }
    }
}

impl std::fmt::Display for ApiUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.url))
    }
}

/// Where a request goes: the tool's own request to a forge API, or any other address (pages,
/// archives, registry answers), which never carries a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Api(ApiUrl),
    Plain(Url),
}

impl Address {
    pub fn url(&self) -> &Url {
        match self {
            Self::Api(api) => api.url(),
            Self::Plain(url) => url,
        }
    }

    /// The API whose credential this request may carry.
    pub fn credential_of(&self) -> Option<ApiId> {
        match self {
            Self::Api(api) => Some(api.api()),
            Self::Plain(_) => None,
        }
    }
}

impl From<&Address> for Address {
    fn from(address: &Address) -> Self {
        address.clone()
    }
}

impl From<&Url> for Address {
    fn from(url: &Url) -> Self {
        Self::Plain(url.clone())
    }
}

impl From<Url> for Address {
    fn from(url: Url) -> Self {
        Self::Plain(url)
    }
}

impl From<&ApiUrl> for Address {
    fn from(url: &ApiUrl) -> Self {
        Self::Api(url.clone())
    }
}

impl From<ApiUrl> for Address {
    fn from(url: ApiUrl) -> Self {
        Self::Api(url)
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
}
