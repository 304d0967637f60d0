//! What went wrong with a request, said without credentials, with what to do about it.

use std::time::{Duration, SystemTime};

use super::ApiLabel;

/// Redirects followed at most for one request.
pub(super) const MAX_REDIRECTS: usize = 5;

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
        api: Option<&'static ApiLabel>,
    },
    #[error("`{url}` refused the credentials ({status})")]
    Unauthorized {
        url: String,
        status: u16,
        /// The forge API the URL belongs to, if any.
        api: Option<&'static ApiLabel>,
        authenticated: bool,
        /// The forge whose token is set but was not sent: only `deps.toml` names its API.
        withheld: Option<&'static ApiLabel>,
    },
    #[error("rate limit reached at `{url}`{}", reset_text(*reset))]
    RateLimited {
        url: String,
        reset: Option<SystemTime>,
        api: Option<&'static ApiLabel>,
        authenticated: bool,
    },
    #[error("{forge}'s secondary rate limit was hit at `{url}` (too many requests at once, or content created too fast); it asks for a wait of at least {}, more than the {} allowed (`DEPS_UPDATE_MAX_RATE_LIMIT_WAIT`)", human_duration(Duration::from_secs(*wait_secs)), human_duration(Duration::from_secs(*allowed_secs)))]
    SecondaryRateLimited {
        forge: &'static str,
        url: String,
        wait_secs: u64,
        allowed_secs: u64,
    },
    #[error("`{url}` is larger than the limit of {} MiB (`settings.max-archive-mib`)", limit >> 20)]
    TooLarge { url: String, limit: u64 },
    #[error("`{url}` sent more than {} MiB, more than an API answer or a page ever holds (`DEPS_UPDATE_MAX_ANSWER_MIB`)", limit >> 20)]
    AnswerTooLarge { url: String, limit: u64 },
    #[error("cannot write what `{url}` sent")]
    Write {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("more than {pages} pages of results at `{url}`; stopped following them")]
    TooManyPages { url: String, pages: usize },
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("`{url}` sent a response that is not the JSON expected")]
    Malformed {
        url: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Why no answer came back from a host at all: the same for every request to it, so a run
/// that meets it for many dependencies can say it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unreachable {
    /// Nothing listens there (or a firewall says so).
    Refused,
    /// The host's name could not be resolved (no network, or no DNS).
    NameNotResolved,
    /// No answer within the timeout.
    TimedOut,
    /// The connection could not be made for another reason.
    NoConnection,
}

impl Unreachable {
    /// What happened, as a cause line.
    pub fn describe(self, host: &str) -> String {
        match self {
            Self::Refused => format!("the connection to `{host}` was refused"),
            Self::NameNotResolved => format!("the name `{host}` could not be resolved (DNS)"),
            Self::TimedOut => format!("`{host}` did not answer in time"),
            Self::NoConnection => format!("no connection could be made to `{host}`"),
        }
    }
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
        0..=89 => plural_unit(secs, "second"),
        90..=5399 => plural_unit((secs + 30) / 60, "minute"),
        _ => match (secs / 3600, (secs % 3600) / 60) {
            (hours, 0) => plural_unit(hours, "hour"),
            (hours, minutes) => format!(
                "{} {}",
                plural_unit(hours, "hour"),
                plural_unit(minutes, "minute")
            ),
        },
    }
}

/// `1 hour`, `2 hours`.
fn plural_unit(n: u64, unit: &str) -> String {
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

impl HttpError {
    /// The host (`api.github.com`, `127.0.0.1:9`) and why, when no answer came back from it
    /// at all: a refused connection, an unresolved name, a timeout.
    pub fn unreachable(&self) -> Option<(String, Unreachable)> {
        let Self::Transport { url, source, .. } = self else {
            return None;
        };
        let parsed = url::Url::parse(url).ok()?;
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return None,
        };
        let chain: Vec<String> =
            std::iter::successors(Some(source as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .map(|e| e.to_string().to_lowercase())
            .collect();
        let says = |words: &[&str]| chain.iter().any(|c| words.iter().any(|w| c.contains(w)));
        let why = if source.is_timeout() || says(&["timed out"]) {
            Unreachable::TimedOut
        } else if says(&[
            "dns error",
            "failed to lookup address",
            "name or service not known",
        ]) {
            Unreachable::NameNotResolved
        } else if says(&["connection refused"]) {
            Unreachable::Refused
        } else if source.is_connect() {
            Unreachable::NoConnection
        } else {
            return None;
        };
        Some((host, why))
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::RateLimited { authenticated: false, api: Some(api), .. } => {
                Some(api.unauthenticated_limit_hint.to_owned())
            }
            Self::RateLimited { .. } => {
                Some("wait until the limit resets, or run fewer dependencies at once (`--jobs`)".into())
            }
            Self::SecondaryRateLimited { .. } => Some(
                "run again in a few minutes (what was done is kept; the next run picks up from there), or raise `DEPS_UPDATE_MAX_RATE_LIMIT_WAIT` to let this run wait".into(),
            ),
            Self::Unauthorized { withheld: Some(api), .. } => Some(format!(
                "`{}` is set but was not sent to this API, which only `deps.toml` names: a registry never decides where tokens go; set `{}` to the API's address to send it",
                api.token_variable, api.url_variable
            )),
            Self::Unauthorized { authenticated: true, api: Some(api), .. } => Some(format!(
                "check that `{}` is valid and not expired",
                api.token_variable
            )),
            Self::Unauthorized { authenticated: false, api: Some(api), .. } => Some(format!(
                "this upstream needs credentials: set `{}`",
                api.token_variable
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
            Self::Gone { api: Some(ApiLabel { gone_hint: Some(hint), .. }), .. } => {
                Some((*hint).to_owned())
            }
            Self::Gone { .. } => Some("the server removed this address for good: point the registry at where it moved".into()),
            Self::TooLarge { .. } => Some("raise `max-archive-mib` in `[settings]` if the archive is expected to be this large".into()),
            Self::AnswerTooLarge { .. } => Some("check that the address is an API or a page, not a download; raise `DEPS_UPDATE_MAX_ANSWER_MIB` if it really is this large".into()),
            Self::Write { source, .. } => Some(crate::write_hint::local_write_hint(
                source,
                crate::write_hint::WritePlace::Temporary,
            )),
            Self::TooManyPages { .. } => {
                Some("narrow the tags with a more specific `tag` template".into())
            }
            Self::BadUrl { .. }
            | Self::Client(_)
            | Self::Status { .. }
            | Self::NotFound { .. }
            | Self::Malformed { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(30)), "30 seconds");
        assert_eq!(human_duration(Duration::from_secs(41 * 60)), "41 minutes");
        assert_eq!(
            human_duration(Duration::from_secs(7500)),
            "2 hours 5 minutes"
        );
        assert_eq!(
            human_duration(Duration::from_secs(5460)),
            "1 hour 31 minutes"
        );
        assert_eq!(
            human_duration(Duration::from_secs(7260)),
            "2 hours 1 minute"
        );
        assert_eq!(human_duration(Duration::from_secs(7200)), "2 hours");
        assert_eq!(human_duration(Duration::from_secs(1)), "1 second");
    }
}
