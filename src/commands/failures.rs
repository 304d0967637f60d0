//! How a batch's failures are shown: each in full (what failed, its causes, a hint), except
//! that dependencies that could not reach the same host for the same reason are said once,
//! as one cause (an offline run names the network, not thirty six-line chains); and, for
//! `--json`, each failure as one object of a stable shape.

use std::collections::BTreeMap;
use std::error::Error;

use serde_json::{Value, json};

use crate::http::{HttpError, Unreachable};
use crate::printer::{Printer, sanitize};
use crate::suggest::count;

/// One dependency's (or group's) failure, ready to print.
pub struct Failure<'a> {
    /// What failed: `` `nghttp2` `` or `` group `ngtcp2` ``.
    pub label: String,
    /// The dependency or group name, for grouping and JSON.
    pub name: String,
    pub error: &'a (dyn Error + 'static),
    pub hints: Vec<String>,
}

/// Dependencies grouped in one line at most by name; the rest are counted.
const NAMES_SHOWN: usize = 8;

/// Prints every failure: those that could not reach the same host for the same reason
/// (at least two) as one summary each, the others in full.
pub fn print(printer: &Printer, failures: &[Failure<'_>]) {
    let mut groups: BTreeMap<(String, Unreachable), Vec<&str>> = BTreeMap::new();
    for failure in failures {
        if let Some(key) = unreachable(failure.error) {
            groups.entry(key).or_default().push(&failure.name);
        }
    }
    groups.retain(|_, names| names.len() > 1);
    for failure in failures {
        let grouped = unreachable(failure.error).is_some_and(|key| groups.contains_key(&key));
        if !grouped {
            printer.error(&failure.label, failure.error, &failure.hints);
        }
    }
    for ((host, why), names) in &groups {
        printer.error(
            "",
            &Offline {
                host: host.clone(),
                names: names.iter().map(|n| (*n).to_owned()).collect(),
                cause: Cause(why.describe(host)),
            },
            &[offline_hint(*why)],
        );
    }
}

/// The host and reason when `error` (or a cause of it) is a request that got no answer.
pub fn unreachable(error: &(dyn Error + 'static)) -> Option<(String, Unreachable)> {
    std::iter::successors(Some(error), |e| (*e).source()).find_map(|e| {
        if let Some(http) = e.downcast_ref::<HttpError>() {
            return http.unreachable();
        }
        e.downcast_ref::<crate::vcs::GitError>()
            .and_then(crate::vcs::GitError::unreachable)
    })
}

fn offline_hint(why: Unreachable) -> String {
    match why {
        Unreachable::NameNotResolved | Unreachable::NoConnection | Unreachable::TimedOut => {
            "check the network connection (and `HTTPS_PROXY`, if one is needed), then run the command again; `-v` shows every request".into()
        }
        Unreachable::Refused => "check the network connection, and that the API addresses (`GITHUB_API_URL`, `npm_config_registry`, `OSV_API_URL`, `settings` in `deps.toml`) point where they should, and the remotes' `url`s; then run the command again".into(),
    }
}

/// A whole command's failure (`audit` when OSV gives no answer): in full, except that a host
/// that gave no answer is said in one cause line, with what to do about being offline, not as
/// the transport's chain.
pub fn print_command_error(printer: &Printer, error: &super::report::CommandError) {
    let hints = command_hints(error);
    match unreachable(error) {
        Some((host, why)) => printer.error(
            "",
            &Unanswered {
                message: error.to_string(),
                cause: Cause(why.describe(&host)),
            },
            &hints,
        ),
        None => printer.error("", error, &hints),
    }
}

/// What to do about a whole command's failure: about being offline when its host gave no
/// answer, else its own hints. The same for the terminal and `--json`.
pub fn command_hints(error: &super::report::CommandError) -> Vec<String> {
    match unreachable(error) {
        Some((_, why)) => vec![offline_hint(why)],
        None => super::report::hints(error),
    }
}

/// An error whose cause is a host that gave no answer.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct Unanswered {
    message: String,
    #[source]
    cause: Cause,
}

/// Several dependencies that could not reach one host, for the same reason.
#[derive(Debug)]
struct Offline {
    host: String,
    names: Vec<String>,
    cause: Cause,
}

/// What happened to every request to the host.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Cause(String);

impl std::fmt::Display for Offline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<String> = self
            .names
            .iter()
            .take(NAMES_SHOWN)
            .map(|n| sanitize(n))
            .collect();
        if self.names.len() > NAMES_SHOWN {
            names.push(format!("and {} more", self.names.len() - NAMES_SHOWN));
        }
        write!(
            f,
            "cannot reach `{host}` ({}: {}): you appear to be offline, or `{host}` is down",
            count(self.names.len(), "dependency", "dependencies"),
            names.join(", "),
            host = self.host
        )
    }
}

impl Error for Offline {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.cause)
    }
}

/// One failure as JSON: `{"dependency", "kind", "message", "hint"}`, the shape every
/// `--json` output uses for what failed.
pub fn json(dependency: Option<&str>, error: &(dyn Error + 'static), hints: &[String]) -> Value {
    let message: Vec<String> = std::iter::successors(Some(error), |e| (*e).source())
        .map(|e| sanitize(&e.to_string()))
        .collect();
    let mut value = json!({
        "dependency": dependency,
        "kind": kind(error),
        "message": message.join(": "),
        "hint": (!hints.is_empty()).then(|| hints.join("\n")),
    });
    if let Some(diagnostics) = registry_mistakes(error) {
        value["mistakes"] = diagnostics
            .iter()
            .map(|d| {
                json!({
                    "file": d.file.display().to_string(),
                    "line": d.line,
                    "column": d.column,
                    "dependency": d.dependency,
                    "key": d.key,
                    "message": sanitize(&d.message),
                })
            })
            .collect();
    }
    value
}

/// The located mistakes of an invalid `deps.toml` anywhere in `error`'s chain.
fn registry_mistakes<'e>(
    error: &'e (dyn Error + 'static),
) -> Option<&'e crate::manifest::Diagnostics> {
    use crate::manifest::ManifestError;
    std::iter::successors(Some(error), |e| (*e).source()).find_map(|e| {
        match e.downcast_ref::<ManifestError>().or_else(|| {
            match e.downcast_ref::<super::report::CommandError>() {
                Some(super::report::CommandError::Manifest(m)) => Some(m),
                _ => None,
            }
        }) {
            Some(ManifestError::Invalid(all)) => Some(all),
            _ => None,
        }
    })
}

/// What failed, in kebab-case: `unreachable` for a host that gave no answer,
/// `invalid-registry` for an invalid `deps.toml`, else the name of the error's innermost variant
/// (`checksum-mismatch`, `version-mismatch`, `not-found`, `rate-limited`, …).
pub fn kind(error: &(dyn Error + 'static)) -> String {
    if unreachable(error).is_some() {
        return "unreachable".into();
    }
    if registry_mistakes(error).is_some() {
        return "invalid-registry".into();
    }
    variant_name(&format!("{error:?}"))
}

/// `Check(Source(Http(NotFound { url: .. })))` -> `not-found`: the last of the nested
/// variant names an error's `Debug` starts with.
fn variant_name(debug: &str) -> String {
    let mut rest = debug;
    let mut name = "";
    loop {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        name = &rest[..end];
        let after = &rest[end..];
        match after.strip_prefix('(') {
            Some(inner) if inner.starts_with(|c: char| c.is_ascii_uppercase()) => rest = inner,
            _ => break,
        }
    }
    let mut kebab = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            kebab.push('-');
        }
        kebab.push(c.to_ascii_lowercase());
    }
    if kebab.is_empty() {
        "failed".into()
    } else {
        kebab
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_the_innermost_variant() {
        assert_eq!(
            variant_name("Check(Source(Http(NotFound { url: \"x\" })))"),
            "not-found"
        );
        assert_eq!(
            variant_name("ChecksumMismatch { a: 1 }"),
            "checksum-mismatch"
        );
        assert_eq!(variant_name("NoQueue(\"uv\")"), "no-queue");
        assert_eq!(variant_name(""), "failed");
    }
}
