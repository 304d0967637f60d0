//! A dependency's validated source ([`SourceSpec`]): the `source` key and its companions, and
//! what each kind supports, asked by the rest of the tool instead of matching on the kind.
//!
//! The kinds: a forge's releases and tags (`github-release`, `gitlab-tag`, `gitea-release`,
//! ..., one pair per forge of [`crate::forge::FORGES`]), `git`, `npm` and `url`.

use std::ops::Range;

use regex::Regex;
use toml::Spanned;

use crate::forge::{FORGES, Forge};
use crate::template::{Template, Vars};

/// Placeholders of a `url` source's page address.
pub const URL_VARS: &[&str] = &["name"];

/// Where a dependency's upstream lives.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    /// A forge repository's releases.
    Release {
        forge: &'static dyn Forge,
        repo: String,
    },
    /// A forge repository's tags.
    Tag {
        forge: &'static dyn Forge,
        repo: String,
    },
    Git {
        url: String,
    },
    Npm {
        package: String,
    },
    Url {
        url: Template,
        regex: Regex,
    },
}

impl SourceSpec {
    /// The forge and repository, for a forge's releases or tags.
    pub fn forge(&self) -> Option<(&'static dyn Forge, &str)> {
        match self {
            Self::Release { forge, repo } | Self::Tag { forge, repo } => Some((*forge, repo)),
            Self::Git { .. } | Self::Npm { .. } | Self::Url { .. } => None,
        }
    }

    /// Whether the source's listing dates each release (for `min-age-days`).
    pub fn dates_releases(&self) -> bool {
        matches!(self, Self::Release { .. } | Self::Npm { .. })
    }

    /// The `source` value, as written in `deps.toml`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Release { forge, .. } => forge.info().release_kind,
            Self::Tag { forge, .. } => forge.info().tag_kind,
            Self::Git { .. } => "git",
            Self::Npm { .. } => "npm",
            Self::Url { .. } => "url",
        }
    }

    /// Where it points: `owner/name`, the remote or page URL, or the package name.
    pub fn location(&self) -> &str {
        match self {
            Self::Release { repo, .. } | Self::Tag { repo, .. } => repo,
            Self::Git { url } => url,
            Self::Npm { package } => package,
            Self::Url { url, .. } => url.as_str(),
        }
    }

    /// Whether versions come from tag names, so `tag` templates apply.
    pub fn takes_tags(&self) -> bool {
        match self {
            Self::Release { .. } | Self::Tag { .. } | Self::Git { .. } => true,
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
        matches!(self, Self::Release { .. })
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
            Self::Release { .. } | Self::Tag { .. } => vec!["repo".into()],
            Self::Url { regex, .. } => regex.capture_names().flatten().map(String::from).collect(),
            Self::Git { .. } | Self::Npm { .. } => Vec::new(),
        }
    }

    /// Adds this source's placeholder values (those that do not depend on the version).
    pub fn add_vars(&self, vars: &mut Vars) {
        match self {
            Self::Release { repo, .. } | Self::Tag { repo, .. } => {
                vars.insert("repo", repo.clone())
            }
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
    fn at(key: &'static str, value: &Spanned<String>, message: String) -> Self {
        Self {
            key,
            span: Some(value.span()),
            message,
        }
    }

    fn missing(key: &'static str, kind: &str) -> Self {
        Self {
            key,
            span: None,
            message: format!("`{key}` is required when `source = \"{kind}\"`"),
        }
    }
}

/// Every `source` value, in the order the reference lists them: each forge's releases and
/// tags, then `git`, `npm` and `url`.
pub fn kinds() -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = FORGES
        .iter()
        .flat_map(|f| [f.info().release_kind, f.info().tag_kind])
        .collect();
    kinds.extend(["git", "npm", "url"]);
    kinds
}

/// `` `a`, `b` or `c` ``: the kinds, for messages.
pub fn kind_names() -> String {
    listed(&kinds())
}

/// The kinds whose releases carry files and publication dates: each forge's releases.
pub fn release_kind_names(and_also: &[&'static str]) -> String {
    let mut kinds: Vec<&'static str> = FORGES.iter().map(|f| f.info().release_kind).collect();
    kinds.extend(and_also);
    listed(&kinds)
}

fn listed(kinds: &[&'static str]) -> String {
    let names: Vec<String> = kinds.iter().map(|k| format!("`{k}`")).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// The keys a kind reads.
fn keys_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "git" => &["url", "branch"],
        "npm" => &["package"],
        "url" => &["url", "regex"],
        _ => &["repo"],
    }
}

/// Validates the keys of `source = kind`; a key that belongs to another kind is an error, so
/// a misplaced key is seen. `None` when the kind is unknown.
pub fn parse_spec(kind: &str, keys: &SourceKeys<'_>) -> Option<Result<SourceSpec, KeyError>> {
    let forge = FORGES.iter().copied().find_map(|f| {
        let info = f.info();
        if info.release_kind == kind {
            Some((f, true))
        } else if info.tag_kind == kind {
            Some((f, false))
        } else {
            None
        }
    });
    if forge.is_none() && !["git", "npm", "url"].contains(&kind) {
        return None;
    }
    let accepted = keys_of(kind);
    for (key, value) in keys.all() {
        if let Some(value) = value
            && !accepted.contains(&key)
        {
            return Some(Err(KeyError::at(
                key,
                value,
                format!("`{key}` does not apply to `source = \"{kind}\"`"),
            )));
        }
    }
    Some(match (forge, kind) {
        (Some((forge, releases)), _) => parse_repo(keys, kind, forge).map(|repo| {
            if releases {
                SourceSpec::Release { forge, repo }
            } else {
                SourceSpec::Tag { forge, repo }
            }
        }),
        (None, "git") => parse_git(keys),
        (None, "npm") => parse_npm(keys),
        (None, _) => parse_page(keys),
    })
}

/// `owner/name`, or `group/subgroup/name` where the forge's repositories nest.
fn parse_repo(
    keys: &SourceKeys<'_>,
    kind: &str,
    forge: &'static dyn Forge,
) -> Result<String, KeyError> {
    let info = forge.info();
    let repo = keys.repo.ok_or_else(|| KeyError::missing("repo", kind))?;
    let text = repo.get_ref();
    let parts: Vec<&str> = text.split('/').collect();
    let valid = parts.len() >= 2
        && (info.nested_repos || parts.len() == 2)
        && parts
            .iter()
            .all(|p| !p.is_empty() && *p != "." && *p != "..")
        && !text.contains(char::is_whitespace);
    if !valid {
        return Err(KeyError::at(
            "repo",
            repo,
            format!("expected `{}`, found `{text}`", info.repo_example),
        ));
    }
    Ok(text.clone())
}

fn parse_git(keys: &SourceKeys<'_>) -> Result<SourceSpec, KeyError> {
    let url = keys.url.ok_or_else(|| KeyError::missing("url", "git"))?;
    let text = url.get_ref();
    let scheme_ok = ["https://", "http://", "git://", "ssh://", "file://"]
        .iter()
        .any(|s| text.starts_with(s));
    if !scheme_ok {
        return Err(KeyError::at(
            "url",
            url,
            format!("expected an `https://`, `ssh://`, `git://` or `file://` URL, found `{text}`"),
        ));
    }
    Ok(SourceSpec::Git { url: text.clone() })
}

fn parse_npm(keys: &SourceKeys<'_>) -> Result<SourceSpec, KeyError> {
    let package = keys
        .package
        .ok_or_else(|| KeyError::missing("package", "npm"))?;
    let text = package.get_ref();
    if text.is_empty() || text.contains(char::is_whitespace) || text.starts_with('.') {
        return Err(KeyError::at(
            "package",
            package,
            format!("`{text}` is not an npm package name"),
        ));
    }
    Ok(SourceSpec::Npm {
        package: text.clone(),
    })
}

fn parse_page(keys: &SourceKeys<'_>) -> Result<SourceSpec, KeyError> {
    let url = keys.url.ok_or_else(|| KeyError::missing("url", "url"))?;
    let template = Template::parse(url.get_ref(), URL_VARS)
        .map_err(|e| KeyError::at("url", url, e.to_string()))?;
    let probe = template.render(&Vars::from([("name", "x".to_owned())]));
    if !matches!(url::Url::parse(&probe), Ok(u) if matches!(u.scheme(), "https" | "http")) {
        return Err(KeyError::at(
            "url",
            url,
            format!("expected an `https://` URL, found `{}`", url.get_ref()),
        ));
    }
    let raw = keys
        .regex
        .ok_or_else(|| KeyError::missing("regex", "url"))?;
    let regex = Regex::new(raw.get_ref()).map_err(|e| {
        let text = e.to_string();
        let what = text
            .lines()
            .last()
            .unwrap_or_default()
            .trim_start_matches("error: ");
        KeyError::at("regex", raw, format!("invalid regular expression: {what}"))
    })?;
    let names: Vec<&str> = regex.capture_names().flatten().collect();
    if !names.contains(&"version") && !names.contains(&"major") {
        return Err(KeyError::at(
            "regex",
            raw,
            "expected a named group `version`, or `major` (with `minor` and `patch`), e.g. \
             `sqlite-(?P<version>[0-9.]+)`"
                .into(),
        ));
    }
    Ok(SourceSpec::Url {
        url: template,
        regex,
    })
}
