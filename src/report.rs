//! The one place that maps errors to exit codes and hints.
//!
//! Each error enum says its own hint through an exhaustive `match`, so a new variant forces a
//! decision; [`hints`] walks an error's chain and collects them, and [`exit_code`] decides
//! between a usage or registry error (2) and a failure (1).

use std::error::Error;

use crate::apply::ApplyError;
use crate::check::DependencyError;
use crate::config::ConfigError;
use crate::http::HttpError;
use crate::manifest::{ManifestError, UnknownDependency};
use crate::source::SourceError;
use crate::vcs::GitError;

/// Exit status for success.
pub const EXIT_OK: u8 = 0;
/// Exit status when a dependency (or the command) failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for a usage, configuration or registry error.
pub const EXIT_USAGE: u8 = 2;

/// Hints for every error in the chain, outermost first, without repeats.
pub fn hints(error: &(dyn Error + 'static)) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    for cause in std::iter::successors(Some(error), |e| (*e).source()) {
        if let Some(hint) = hint_of(cause)
            && !hints.contains(&hint)
        {
            hints.push(hint);
        }
    }
    hints
}

fn hint_of(error: &(dyn Error + 'static)) -> Option<String> {
    if let Some(e) = error.downcast_ref::<ManifestError>() {
        return match e {
            ManifestError::NotFound { .. } => Some(
                "run in the repository that holds `deps.toml`, or name it with `--manifest`".into(),
            ),
            ManifestError::Read { .. } | ManifestError::Invalid(_) => None,
        };
    }
    if let Some(e) = error.downcast_ref::<UnknownDependency>() {
        return Some(format!("known dependencies: {}", e.known.join(", ")));
    }
    if let Some(e) = error.downcast_ref::<ConfigError>() {
        return match e {
            ConfigError::InvalidUrl { .. } => {
                Some("give a full URL such as `https://api.github.com`".into())
            }
            ConfigError::InvalidNumber { .. } => None,
        };
    }
    // Wrapping errors repeat their inner error's hint; `hints` drops the repeats.
    if let Some(e) = error.downcast_ref::<DependencyError>() {
        return e.hint();
    }
    if let Some(e) = error.downcast_ref::<SourceError>() {
        return e.hint();
    }
    if let Some(e) = error.downcast_ref::<ApplyError>() {
        return e.hint();
    }
    if let Some(e) = error.downcast_ref::<crate::publish::PublishError>() {
        return e.hint();
    }
    if let Some(e) = error.downcast_ref::<crate::forge::ForgeError>() {
        return e.hint();
    }
    if let Some(e) = error.downcast_ref::<HttpError>() {
        return e.hint();
    }
    if let Some(e) = error.downcast_ref::<GitError>() {
        return e.hint();
    }
    None
}

/// 2 for errors in how the tool was called or configured, 1 for everything else.
pub fn exit_code(error: &(dyn Error + 'static)) -> u8 {
    if let Some(e) = error.downcast_ref::<ManifestError>() {
        return match e {
            ManifestError::NotFound { .. }
            | ManifestError::Read { .. }
            | ManifestError::Invalid(_) => EXIT_USAGE,
        };
    }
    if error.downcast_ref::<UnknownDependency>().is_some() {
        return EXIT_USAGE;
    }
    if let Some(e) = error.downcast_ref::<ConfigError>() {
        return match e {
            ConfigError::InvalidUrl { .. } | ConfigError::InvalidNumber { .. } => EXIT_USAGE,
        };
    }
    EXIT_FAILURE
}
