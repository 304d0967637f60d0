//! A source's validated spec ([`SourceSpec`]): what each kind reads from `deps.toml`
//! ([`KINDS`], [`parse_spec`]) and what each kind supports, asked by the rest of the tool
//! instead of matching on the kind.

use std::ops::Range;

use regex::Regex;
use toml::Spanned;

use super::{git, github, gitlab, npm, page};
use crate::template::{Template, Vars};

/// Where a dependency's upstream lives: the `source` key and its companions, validated.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    GithubRelease { repo: String },
    GithubTag { repo: String },
    GitlabRelease { repo: String },
    GitlabTag { repo: String },
    Git { url: String },
    Npm { package: String },
    Url { url: Template, regex: Regex },
}

impl SourceSpec {
    /// Whether the source's listing dates each release (for `min-age-days`).
    pub fn dates_releases(&self) -> bool {
        matches!(
            self,
            Self::GithubRelease { .. } | Self::GitlabRelease { .. } | Self::Npm { .. }
        )
    }

    /// The `source` value, as written in `deps.toml`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::GithubRelease { .. } => "github-release",
            Self::GithubTag { .. } => "github-tag",
            Self::GitlabRelease { .. } => "gitlab-release",
            Self::GitlabTag { .. } => "gitlab-tag",
            Self::Git { .. } => "git",
            Self::Npm { .. } => "npm",
            Self::Url { .. } => "url",
        }
    }

    /// Where it points: `owner/name`, the remote or page URL, or the package name.
    pub fn location(&self) -> &str {
        match self {
            Self::GithubRelease { repo }
            | Self::GithubTag { repo }
            | Self::GitlabRelease { repo }
            | Self::GitlabTag { repo } => repo,
            Self::Git { url } => url,
            Self::Npm { package } => package,
            Self::Url { url, .. } => url.as_str(),
        }
    }

    /// Whether versions come from tag names, so `tag` templates apply.
    pub fn takes_tags(&self) -> bool {
        match self {
            Self::GithubRelease { .. }
            | Self::GithubTag { .. }
            | Self::GitlabRelease { .. }
            | Self::GitlabTag { .. }
            | Self::Git { .. } => true,
            Self::Npm { .. } | Self::Url { .. } => false,
        }
    }

    /// Whether a new version is downloaded (an archive or a file), so `archive`, `checksums`,
    /// `sha256`, `signature` and `format` apply; a git source exports a commit instead.
    pub fn downloads(&self) -> bool {
        !matches!(self, Self::Git { .. })
    }

    /// Whether releases carry files, so `asset` applies.
    pub fn has_assets(&self) -> bool {
        matches!(
            self,
            Self::GithubRelease { .. } | Self::GitlabRelease { .. }
        )
    }

    /// Whether the source knows where a version's code is without `archive`.
    pub fn has_default_origin(&self) -> bool {
        !matches!(self, Self::Url { .. })
    }

    /// Whether it can follow a branch head (`branch`).
    pub fn tracks_branches(&self) -> bool {
        matches!(self, Self::Git { .. })
    }

    /// Placeholders this source adds to `archive`, `asset`, `checksums` and `signature`.
    pub fn placeholders(&self) -> Vec<String> {
        match self {
            Self::GithubRelease { .. }
            | Self::GithubTag { .. }
            | Self::GitlabRelease { .. }
            | Self::GitlabTag { .. } => vec!["repo".into()],
            Self::Url { regex, .. } => regex.capture_names().flatten().map(String::from).collect(),
            Self::Git { .. } | Self::Npm { .. } => Vec::new(),
        }
    }

    /// Adds this source's placeholder values (those that do not depend on the version).
    pub fn add_vars(&self, vars: &mut Vars) {
        match self {
            Self::GithubRelease { repo }
            | Self::GithubTag { repo }
            | Self::GitlabRelease { repo }
            | Self::GitlabTag { repo } => vars.insert("repo", repo.clone()),
            Self::Git { .. } | Self::Npm { .. } | Self::Url { .. } => {}
        }
    }
}

/// The keys of a `[deps.<name>]` table that say where its upstream is, as written.
#[derive(Debug, Default, Clone, Copy)]
pub struct SourceKeys<'a> {
    pub repo: Option<&'a Spanned<String>>,
    pub url: Option<&'a Spanned<String>>,
    pub branch: Option<&'a Spanned<String>>,
    pub package: Option<&'a Spanned<String>>,
    pub regex: Option<&'a Spanned<String>>,
}

impl<'a> SourceKeys<'a> {
    fn all(&self) -> [(&'static str, Option<&'a Spanned<String>>); 5] {
        [
            ("repo", self.repo),
            ("url", self.url),
            ("branch", self.branch),
            ("package", self.package),
            ("regex", self.regex),
        ]
    }
}

/// A mistake in a source's keys: which key, where (`None`: the whole table), and what.
#[derive(Debug)]
pub struct KeyError {
    pub key: &'static str,
    pub span: Option<Range<usize>>,
    pub message: String,
}

impl KeyError {
    pub(super) fn at(key: &'static str, value: &Spanned<String>, message: String) -> Self {
        Self {
            key,
            span: Some(value.span()),
            message,
        }
    }

    pub(super) fn missing(key: &'static str, kind: &str) -> Self {
        Self {
            key,
            span: None,
            message: format!("`{key}` is required when `source = \"{kind}\"`"),
        }
    }
}

/// One kind of source: its `source` value, the keys it reads, and its parser.
pub struct Kind {
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub parse: fn(&SourceKeys<'_>) -> Result<SourceSpec, KeyError>,
}

/// Every kind, in the order the reference lists them.
pub const KINDS: &[Kind] = &[
    github::RELEASE_KIND,
    github::TAG_KIND,
    gitlab::RELEASE_KIND,
    gitlab::TAG_KIND,
    git::KIND,
    npm::KIND,
    page::KIND,
];

/// `` `a`, `b` or `c` ``: the kinds, for messages.
pub fn kind_names() -> String {
    let names: Vec<String> = KINDS.iter().map(|k| format!("`{}`", k.name)).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// Validates the keys of `source = kind`; a key that belongs to another kind is an error, so
/// a misplaced key is seen. `None` when the kind is unknown.
pub fn parse_spec(kind: &str, keys: &SourceKeys<'_>) -> Option<Result<SourceSpec, KeyError>> {
    let entry = KINDS.iter().find(|k| k.name == kind)?;
    for (key, value) in keys.all() {
        if let Some(value) = value
            && !entry.keys.contains(&key)
        {
            return Some(Err(KeyError::at(
                key,
                value,
                format!("`{key}` does not apply to `source = \"{kind}\"`"),
            )));
        }
    }
    Some((entry.parse)(keys))
}

/// `owner/name` (GitHub) or `group/subgroup/name` (GitLab, with `nested`).
pub(super) fn parse_repo(
    keys: &SourceKeys<'_>,
    kind: &str,
    nested: bool,
    example: &str,
) -> Result<String, KeyError> {
    let repo = keys.repo.ok_or_else(|| KeyError::missing("repo", kind))?;
    let text = repo.get_ref();
    let parts: Vec<&str> = text.split('/').collect();
    let valid = parts.len() >= 2
        && (nested || parts.len() == 2)
        && parts
            .iter()
            .all(|p| !p.is_empty() && *p != "." && *p != "..")
        && !text.contains(char::is_whitespace);
    if !valid {
        return Err(KeyError::at(
            "repo",
            repo,
            format!("expected `{example}`, found `{text}`"),
        ));
    }
    Ok(text.clone())
}
