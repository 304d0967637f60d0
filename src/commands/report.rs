//! The one place that maps errors to exit codes and hints.
//!
//! Every error enum says its own hint through an exhaustive `match` (no `_ =>`), delegating
//! to the error it wraps, so a new variant forces a decision where it is declared. A command
//! fails as a whole with a [`CommandError`], whose [`CommandError::exit_code`] decides between
//! a usage or registry error (2) and a failure (1); one dependency's failure is reported with
//! its [`Diagnose::hint`] and the command goes on (exit 1 at the end).

use crate::apply::ApplyError;
use crate::check::DependencyError;
use crate::config::ConfigError;
use crate::forge::ForgeError;
use crate::http::HttpError;
use crate::manifest::{ManifestError, UnknownDependency};
use crate::publish::PublishError;

/// Exit status for success.
pub const EXIT_OK: u8 = 0;
/// Exit status when a dependency (or the command) failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for a usage, configuration or registry error.
pub const EXIT_USAGE: u8 = 2;

/// Why a command could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    UnknownDependency(#[from] UnknownDependency),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Forge(Box<ForgeError>),
    #[error("cannot read the current folder")]
    CurrentDir(#[source] std::io::Error),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    /// What every update of the run is built from could not be had.
    #[error(transparent)]
    Base(Box<ApplyError>),
    /// `deps-update WORD` where `WORD` is neither a subcommand nor a dependency.
    #[error("{}", unknown_word_text(name, *registry))]
    UnknownWord {
        name: String,
        /// The nearest subcommand or dependency name.
        nearest: Option<String>,
        /// Whether the registry could be read (so `name` is not a dependency either).
        registry: bool,
    },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl CommandError {
    /// 2 for errors in how the tool was called or configured, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Manifest(
                ManifestError::NotFound { .. }
                | ManifestError::Read { .. }
                | ManifestError::Invalid(_),
            )
            | Self::UnknownDependency(_)
            | Self::UnknownWord { .. }
            | Self::Config(ConfigError::InvalidUrl { .. } | ConfigError::InvalidNumber { .. }) => {
                EXIT_USAGE
            }
            Self::Forge(e)
                if matches!(
                    **e,
                    ForgeError::NoRepository { .. }
                        | ForgeError::UnknownForge { .. }
                        | ForgeError::NoToken { .. }
                ) =>
            {
                EXIT_USAGE
            }
            Self::Http(_)
            | Self::Forge(_)
            | Self::CurrentDir(_)
            | Self::Write { .. }
            | Self::Audit(_)
            | Self::Base(_) => EXIT_FAILURE,
        }
    }
}

fn unknown_word_text(name: &str, registry: bool) -> String {
    if registry {
        format!("`{name}` is neither a command nor a dependency in the registry")
    } else {
        format!("`{name}` is not a command")
    }
}

impl From<ForgeError> for CommandError {
    fn from(error: ForgeError) -> Self {
        Self::Forge(Box::new(error))
    }
}

/// An error that knows what the user can do about it.
pub trait Diagnose: std::error::Error + 'static {
    fn hint(&self) -> Option<String>;
}

/// The hints to print under an error.
pub fn hints(error: &impl Diagnose) -> Vec<String> {
    error.hint().into_iter().collect()
}

impl Diagnose for CommandError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::Manifest(ManifestError::NotFound { .. }) => Some(
                "run in the repository that holds `deps.toml`, or name it with `--manifest`".into(),
            ),
            Self::Manifest(ManifestError::Read { .. } | ManifestError::Invalid(_)) => None,
            Self::UnknownDependency(e) => Some(
                match crate::suggest::nearest(&e.name, e.known.iter().map(String::as_str)) {
                    Some(nearest) => format!("did you mean `{nearest}`?"),
                    None => format!("known dependencies: {}", e.known.join(", ")),
                },
            ),
            Self::UnknownWord {
                nearest: Some(nearest),
                ..
            } => Some(format!("did you mean `{nearest}`?")),
            Self::UnknownWord { nearest: None, .. } => Some(
                "`deps-update --help` lists the commands, `deps-update list` the dependencies"
                    .into(),
            ),
            Self::Config(ConfigError::InvalidUrl { .. }) => {
                Some("give a full URL such as `https://api.github.com`".into())
            }
            Self::Config(ConfigError::InvalidNumber { .. }) => None,
            Self::Http(e) => e.hint(),
            Self::Forge(e) => e.hint(),
            Self::CurrentDir(_) => None,
            Self::Write { source, .. } => Some(crate::write_hint::local_write_hint(
                source,
                crate::write_hint::WritePlace::Named,
            )),
            Self::Audit(e) => e.hint(),
            Self::Base(e) => e.hint(),
        }
    }
}

impl Diagnose for DependencyError {
    fn hint(&self) -> Option<String> {
        DependencyError::hint(self)
    }
}

impl Diagnose for ApplyError {
    fn hint(&self) -> Option<String> {
        ApplyError::hint(self)
    }
}

impl Diagnose for PublishError {
    fn hint(&self) -> Option<String> {
        PublishError::hint(self)
    }
}
