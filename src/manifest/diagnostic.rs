//! Registry errors, located: the file, line and column, the dependency and key, and the
//! line itself, so a mistake is shown where it is.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::FILE_NAME;

/// Why `deps.toml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("no `{FILE_NAME}` in `{}` or any folder above it", start.display())]
    NotFound { start: PathBuf },
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl ManifestError {
    /// The located errors this one holds (none for a file that could not be found or read).
    fn into_diagnostics(self) -> Result<Vec<Diagnostic>, Self> {
        match self {
            Self::Invalid(all) => Ok(all.0),
            other => Err(other),
        }
    }

    /// One error holding every located error of `errors`, in file order; `None` when there
    /// are none. An error that is not located (cannot read) wins.
    pub(super) fn all(errors: Vec<Self>) -> Option<Self> {
        let mut located = Vec::new();
        for error in errors {
            match error.into_diagnostics() {
                Ok(diagnostics) => located.extend(diagnostics),
                Err(unlocated) => return Some(unlocated),
            }
        }
        located.sort_by_key(|d| (d.line, d.column));
        located.dedup_by(|a, b| (a.line, a.column, &a.message) == (b.line, b.column, &b.message));
        (!located.is_empty()).then_some(Self::Invalid(Diagnostics(located)))
    }
}

/// Every mistake found in one pass over the registry, in file order (at least one), so a file
/// is fixed in one go rather than one run per mistake.
#[derive(Debug)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        if self.0.len() > 1 {
            let file = self.0[0].file.display();
            write!(f, "\n\n{} mistakes in `{file}`", self.0.len())?;
        }
        Ok(())
    }
}

/// A registry error located in the file: what, where, and the line it is on.
#[derive(Debug)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub dependency: Option<String>,
    pub key: Option<String>,
    pub message: String,
    source_line: String,
    underline: Range<usize>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if let Some(dep) = &self.dependency {
            write!(f, "dependency `{dep}`: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        writeln!(f, "{}", self.message)?;
        let gutter = self.line.to_string().len();
        let width = self.underline.len().max(1);
        writeln!(f, "{:gutter$} |", "")?;
        writeln!(f, "{} | {}", self.line, self.source_line)?;
        write!(
            f,
            "{:gutter$} | {:pad$}{}",
            "",
            "",
            "^".repeat(width),
            pad = self.underline.start
        )
    }
}

/// Builds diagnostics against one file's text.
pub(super) struct Locator<'a> {
    pub(super) file: &'a Path,
    pub(super) text: &'a str,
}

impl Locator<'_> {
    pub(super) fn diagnostic(
        &self,
        span: Range<usize>,
        dependency: Option<&str>,
        key: Option<&str>,
        message: impl Into<String>,
    ) -> ManifestError {
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let source_line = self.text[line_start..line_end].trim_end_matches('\r');
        let line = self.text[..start].matches('\n').count() + 1;
        let column = self.text[line_start..start].chars().count() + 1;
        let underline_end = span.end.clamp(start, line_end);
        let underline =
            (column - 1)..(column - 1 + self.text[start..underline_end].chars().count());
        ManifestError::Invalid(Diagnostics(vec![Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            dependency: dependency.map(str::to_owned),
            key: key.map(str::to_owned),
            message: message.into(),
            source_line: source_line.to_owned(),
            underline,
        }]))
    }

    /// `first`, the error reading the whole file, and every other mistake that reading
    /// `[settings]` and each `[deps.NAME]` on its own finds: one unknown key does not hide the
    /// next dependency's. A file that is not TOML at all has its first error only.
    pub(super) fn every_toml_error(&self, first: &toml::de::Error) -> ManifestError {
        use serde::Deserialize;
        use toml::de::{DeTable, ValueDeserializer};

        let whole = || self.toml_error(first);
        let Ok(root) = DeTable::parse(self.text) else {
            return whole();
        };
        let mut errors = vec![whole()];
        for (key, value) in root.into_inner() {
            match key.get_ref().as_ref() {
                "settings" => {
                    if let Err(e) =
                        super::raw::RawSettings::deserialize(ValueDeserializer::from(value))
                    {
                        errors.push(self.toml_error(&e));
                    }
                }
                "deps" => {
                    let toml::de::DeValue::Table(deps) = value.into_inner() else {
                        continue;
                    };
                    for (_, dep) in deps {
                        if let Err(e) =
                            super::raw::RawDependency::deserialize(ValueDeserializer::from(dep))
                        {
                            errors.push(self.toml_error(&e));
                        }
                    }
                }
                _ => {}
            }
        }
        ManifestError::all(errors).unwrap_or_else(whole)
    }

    /// Turns a serde error from the toml crate into a diagnostic naming the dependency and
    /// key it concerns.
    pub(super) fn toml_error(&self, error: &toml::de::Error) -> ManifestError {
        let span = error.span().unwrap_or(0..0);
        let before = &self.text[..span.start.min(self.text.len())];
        // The header the error is on counts too: a duplicate `[deps.alpha]` is alpha's.
        let line_end = self.text[before.len()..]
            .find('\n')
            .map_or(self.text.len(), |i| before.len() + i);
        let dependency = self.text[..line_end]
            .lines()
            .rev()
            .find_map(dependency_header);
        let line = before.rsplit('\n').next().unwrap_or("");
        let key = line
            .split_once('=')
            .map(|(k, _)| k.trim())
            .filter(|k| {
                !k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .or_else(|| {
                // The span starts at the key itself for unknown fields.
                let rest = &self.text[span.start.min(self.text.len())..];
                let word: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                (!word.is_empty() && rest[word.len()..].trim_start().starts_with('='))
                    .then(|| &rest[..word.len()])
            });
        let mut message = unknown_key_text(error.message().trim())
            .unwrap_or_else(|| error.message().trim().to_owned());
        if message == "duplicate key" && line.trim_start().starts_with('[') {
            message = "this table appears twice; merge the two into one".into();
        }
        self.diagnostic(span, dependency.as_deref(), key, message)
    }
}

/// serde's "unknown field `sha265`, expected one of `path`, …" as "unknown key `sha265`; did
/// you mean `sha256`?": the nearest key, not all of them.
fn unknown_key_text(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let keys: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    Some(match crate::suggest::nearest(field, keys.iter().copied()) {
        Some(nearest) => format!("unknown key `{field}`; did you mean `{nearest}`?"),
        None if keys.len() <= 4 => format!(
            "unknown key `{field}`; the keys here are {}",
            keys.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!(
            "unknown key `{field}` (every key is described in the `deps.toml` reference of deps-update's README)"
        ),
    })
}

/// `[deps.nghttp2]` or `[deps."c-ares"]` -> the name.
fn dependency_header(line: &str) -> Option<String> {
    let inner = line.trim().strip_prefix('[')?.strip_suffix(']')?.trim();
    let name = inner
        .strip_prefix("deps")?
        .trim_start()
        .strip_prefix('.')?
        .trim();
    Some(name.trim_matches(|c| c == '"' || c == '\'').to_owned())
}
