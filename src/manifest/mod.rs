//! `deps.toml`, the registry: loading, validation into domain types, and diagnostics.
//!
//! Parsing happens in two stages. `raw` deserializes exactly what is written, refusing
//! unknown keys and wrong types; [`Manifest::parse`] then validates it into a [`Dependency`]
//! per `[deps.<name>]` table, so that a mistake is reported as "`repo` is required when
//! `source = \"github-release\"`" with the file, line and column, never silently ignored.
//!
//! Here the registry's types and one dependency's validation; apart: `settings`
//! (`[settings]`), `tracking_keys` (which versions a dependency follows), `apply_keys` (how a
//! new version is fetched and laid out), `supply_keys` (`license`, `ignore-advisories`),
//! `parent_keys` (an entry vendored inside another's folder), `diagnostic` (errors located in
//! the file), `raw` (the serde schema) and `edit` (rewriting
//! the file without losing its formatting).

mod apply_keys;
mod diagnostic;
pub mod edit;
mod parent_keys;
mod raw;
mod settings;
pub mod source_spec;
mod supply_keys;
mod tracking_keys;

use diagnostic::Locator;
pub use diagnostic::{Diagnostic, Diagnostics, ManifestError};
pub use settings::Settings;
use settings::validate_settings;

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use regex::Regex;
use toml::Spanned;

use crate::select::Policy;
use crate::tag::TagScheme;
use crate::template::Template;
use crate::version::Version;
use apply_keys::{RawApply, validate_apply};
use raw::{RawDependency, RawManifest, RawVersionFile};
pub use source_spec::SourceSpec;
use source_spec::{SourceKeys, kind_names, parse_spec};

/// The file name looked for when no `--manifest` is given.
pub const FILE_NAME: &str = "deps.toml";

/// A validated registry.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The file it was read from.
    pub file: PathBuf,
    /// The repository root: the folder holding the file; dependency paths are relative to it.
    pub root: PathBuf,
    pub settings: Settings,
    /// In the order the file lists them.
    pub deps: Vec<Dependency>,
}

/// Placeholders of `settings.branch`.
pub const BRANCH_VARS: &[&str] = &["name", "base"];
/// Placeholders of `settings.commit-message`.
pub const MESSAGE_VARS: &[&str] = &["name", "version", "old-version"];
/// Placeholders of `archive`, `asset`, `checksums` and `signature`.
pub const ARCHIVE_VARS: &[&str] = &[
    "name",
    "version",
    "tag",
    "major",
    "minor",
    "patch",
    "repo",
    "archive",
    "archive-name",
];

/// One `[deps.<name>]` table.
#[derive(Debug, Clone)]
pub struct Dependency {
    pub name: String,
    /// The vendored folder, relative to the repository root: for a `path` that names the
    /// version (`lib/c-ares-{version}`), the recorded version's folder.
    pub path: PathBuf,
    /// `path` as written, when it names the version: the folder moves with each update.
    pub path_template: Option<Template>,
    /// `references`: files outside the folder that name the version.
    pub references: Vec<Reference>,
    pub source: SourceSpec,
    pub tracking: Tracking,
    pub version_file: Option<VersionFile>,
    pub apply: ApplySpec,
    /// `group`: dependencies updated together, on one branch with one pull request.
    pub group: Option<String>,
    /// `parent`: the dependency whose folder this one is vendored inside (`v8` for
    /// `deps/v8/third_party/zlib`).
    pub parent: Option<String>,
    /// `license`: the upstream's license, an SPDX expression (for SBOMs).
    pub license: Option<String>,
    /// `ignore-advisories`: advisories reviewed and found not to apply, each with its reason.
    pub ignore_advisories: Vec<IgnoredAdvisory>,
}

/// `references = [{ path, regex }]`: a file outside the vendored folder whose matches of
/// `regex` name the version (its `version` group, else its first group), rewritten by every
/// update and checked by `check` and `validate`.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Relative to the folder holding `deps.toml`.
    pub path: PathBuf,
    pub regex: Regex,
}

impl Reference {
    /// The byte ranges of `text` that name the version: each match's `version` group, else
    /// its first group.
    pub fn spans(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        self.regex
            .captures_iter(text)
            .filter_map(|c| c.name("version").or_else(|| c.get(1)))
            .map(|m| m.range())
            .collect()
    }
}

/// The placeholders a versioned `path` may hold.
pub const PATH_PLACEHOLDERS: &[&str] = &["version", "major", "minor", "patch"];

/// `{version}`, `{major}`, `{minor}`, `{patch}` of a version.
pub fn version_vars(version: &str) -> crate::template::Vars {
    let mut vars = crate::template::Vars::new();
    vars.insert("version", version);
    if let Ok(parsed) = Version::parse(version) {
        for (i, key) in ["major", "minor", "patch"].into_iter().enumerate() {
            vars.insert(
                key,
                parsed.release().get(i).copied().unwrap_or(0).to_string(),
            );
        }
    }
    vars
}

impl Dependency {
    /// The vendored folder of `version`: `path`, or with a versioned `path`, that version's.
    pub fn path_at(&self, version: &str) -> PathBuf {
        match &self.path_template {
            Some(template) => PathBuf::from(template.render(&version_vars(version))),
            None => self.path.clone(),
        }
    }

    /// The tag upstream most likely gives `version` (a release version, under the first tag
    /// template); `None` for a commit of a tracked branch, or text that is not a version.
    pub fn tag_of(&self, version: &str) -> Option<String> {
        match &self.tracking {
            Tracking::Releases { scheme, .. } => {
                Version::parse(version).ok().map(|v| scheme.tag_for(&v))
            }
            Tracking::Branch { .. } => None,
        }
    }
}

/// An advisory the project reviewed and set aside; `audit` still lists it, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredAdvisory {
    /// An id or alias: `CVE-…`, `GHSA-…`, `OSV-…`.
    pub id: String,
    pub reason: String,
}

/// How a new version is fetched, verified and laid into `path`.
#[derive(Debug, Clone, Default)]
pub struct ApplySpec {
    /// `archive`: where the archive is (else the source's default).
    pub archive: Option<Template>,
    /// `asset`: the GitHub release asset to download.
    pub asset: Option<Template>,
    /// `checksums`: a sha256sum-style file that must list the archive.
    pub checksums: Option<Template>,
    /// `sha256`: the archive hash of the vendored version.
    pub sha256: Option<String>,
    /// `archive-commit`: the commit a generated archive (`git archive`, as GitHub makes for
    /// tags) was made from, recorded when its files were checked against that commit's tree;
    /// lets `verify` tell a re-compressed archive from a changed one.
    pub archive_commit: Option<String>,
    /// `signature` and `keyring`: an OpenPGP signature of the archive, and the keys to trust.
    pub signature: Option<(Template, PathBuf)>,
    /// `format`: an archive to unpack, or a single file that is `path` itself.
    pub format: Format,
    /// `strip`: leading path components dropped (`None`: a single top folder is dropped).
    pub strip: Option<usize>,
    /// `map`: upstream folders (after `strip`) moved to other places under `path`, in
    /// upstream order; files outside them keep their place.
    pub map: Vec<(PathBuf, PathBuf)>,
    pub include: Globs,
    pub exclude: Globs,
    pub keep: Globs,
    /// `patches`: the project's own changes, applied to every new upstream tree.
    pub patches: Option<Patches>,
    /// `after`: shell commands run in the updated tree.
    pub after: Vec<AfterStep>,
    /// `after-writes`: files outside the dependency's folder (paths or globs relative to the
    /// registry's folder) that `after` steps may change; anything else they change outside
    /// it stops the update.
    pub after_writes: Globs,
    /// `after-reads`: globs (relative to the registry's folder) of what the `after` steps
    /// read besides the dependency's folder, `deps.toml` and `after-writes`: only these are
    /// checked out for them (`**` for the whole repository).
    pub after_reads: Globs,
    /// `generated`: globs (relative to `path`) of files a release archive holds that are not
    /// in the tagged source by design (autotools output, a `version.h` made from `.in`).
    pub generated: Globs,
    /// `labels`: this dependency's own pull-request labels.
    pub labels: Vec<String>,
}

/// Where a dependency's patch queue is, relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patches {
    /// A folder whose `*.patch` files are applied in name order.
    Folder(PathBuf),
    /// These files, in this order.
    Files(Vec<PathBuf>),
}

/// One `after` step: a shell command, and the message of its own commit when its changes
/// are kept apart from the update's.
#[derive(Debug, Clone)]
pub struct AfterStep {
    pub run: String,
    pub commit: Option<Template>,
}

/// What a download is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// An archive (`.tar.gz`, `.tar.xz`, `.tar`, `.zip`, recognised by content), unpacked
    /// into the folder `path`.
    #[default]
    Archive,
    /// One file, vendored as `path` itself; nothing beside it is touched.
    File,
}

/// A list of glob patterns matched against `/`-separated relative paths.
#[derive(Debug, Clone, Default)]
pub struct Globs {
    patterns: Vec<String>,
    set: Option<globset::GlobSet>,
}

impl Globs {
    fn new(patterns: Vec<String>) -> Result<Self, String> {
        let mut builder = globset::GlobSetBuilder::new();
        for pattern in &patterns {
            let glob = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("`{pattern}` is not a glob: {}", e.kind()))?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| e.to_string())?;
        Ok(Self {
            patterns,
            set: Some(set),
        })
    }

    /// These patterns and `path` itself, taken literally (a folder: all it holds).
    fn with_path(&self, path: &Path) -> Self {
        let mut patterns = self.patterns.clone();
        patterns.push(globset::escape(&path.to_string_lossy()));
        Self::new(patterns).unwrap_or_else(|_| self.clone())
    }

    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether a relative path matches a pattern, or lies inside a folder that does
    /// (`lib` matches `lib/a.c`).
    pub fn matches(&self, path: &Path) -> bool {
        let Some(set) = &self.set else { return false };
        path.ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .any(|p| set.is_match(p))
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

/// What "newer" means for a dependency.
#[derive(Debug, Clone)]
pub enum Tracking {
    /// Released versions, found through tags, releases or a package registry.
    Releases {
        /// `version`, when given.
        version: Option<Version>,
        scheme: TagScheme,
        policy: Policy,
    },
    /// The head of a branch of a git remote; `version` holds a commit id.
    Branch {
        branch: String,
        /// `version`, when given: a full or abbreviated commit id.
        commit: Option<String>,
        quiet_days: u32,
    },
}

impl Tracking {
    /// The `version` key as written, if any.
    pub fn recorded(&self) -> Option<String> {
        match self {
            Self::Releases { version, .. } => version.as_ref().map(|v| v.plain().to_owned()),
            Self::Branch { commit, .. } => commit.clone(),
        }
    }
}

/// `version-file = { path, regex }`: where the vendored tree records its own version.
#[derive(Debug, Clone)]
pub struct VersionFile {
    /// Relative to the dependency's `path`.
    pub path: PathBuf,
    pub regex: Regex,
    /// How the matched text spells the version.
    pub encoding: VersionEncoding,
}

/// How a version file spells a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersionEncoding {
    /// As text: `1.34.5`.
    #[default]
    Text,
    /// One decimal number, two digits each for minor and patch: fmt's `110002` is 11.0.2.
    Decimal100,
    /// Three digits each for minor and patch: sqlite's `3050004` is 3.50.4.
    Decimal1000,
    /// A hexadecimal number, one byte each for major, minor and patch, then a byte for the
    /// pre-release: librdkafka's `0x020f00ff` is 2.15.0.
    Hex,
}

impl VersionEncoding {
    pub const NAMES: &[(&str, Self)] = &[
        ("text", Self::Text),
        ("decimal-100", Self::Decimal100),
        ("decimal-1000", Self::Decimal1000),
        ("hex", Self::Hex),
    ];

    /// The version `text` spells, in dotted form; `None` when it is not such a number.
    pub fn decode(self, text: &str) -> Option<String> {
        let text = text.trim();
        let dotted = |major: u64, minor: u64, patch: u64| format!("{major}.{minor}.{patch}");
        match self {
            Self::Text => Some(text.to_owned()),
            Self::Decimal100 => {
                let n: u64 = text.trim_end_matches(['u', 'U', 'l', 'L']).parse().ok()?;
                Some(dotted(n / 10_000, n / 100 % 100, n % 100))
            }
            Self::Decimal1000 => {
                let n: u64 = text.trim_end_matches(['u', 'U', 'l', 'L']).parse().ok()?;
                Some(dotted(n / 1_000_000, n / 1000 % 1000, n % 1000))
            }
            Self::Hex => {
                let digits = text
                    .strip_prefix("0x")
                    .or_else(|| text.strip_prefix("0X"))?
                    .trim_end_matches(['u', 'U', 'l', 'L']);
                let n = u64::from_str_radix(digits, 16).ok()?;
                Some(dotted(n >> 24 & 0xff, n >> 16 & 0xff, n >> 8 & 0xff))
            }
        }
    }
}

impl Manifest {
    /// Finds `deps.toml` in `start` or the nearest folder above it.
    pub fn discover(start: &Path) -> Result<PathBuf, ManifestError> {
        start
            .ancestors()
            .map(|dir| dir.join(FILE_NAME))
            .find(|candidate| candidate.is_file())
            .ok_or_else(|| ManifestError::NotFound {
                start: start.to_owned(),
            })
    }

    /// Reads and validates a registry file.
    pub fn load(file: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(file).map_err(|source| ManifestError::Read {
            path: file.to_owned(),
            source,
        })?;
        Self::parse(file, &text)
    }

    /// Validates registry text read from `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Self, ManifestError> {
        // A byte-order mark (as some Windows editors write) is no part of the TOML.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let locator = Locator { file, text };
        let raw: RawManifest = toml::from_str(text).map_err(|e| locator.every_toml_error(&e))?;
        let settings = validate_settings(&locator, raw.settings.unwrap_or_default())?;
        let mut entries: Vec<_> = raw.deps.into_iter().collect();
        entries.sort_by_key(|(name, _)| name.span().start);
        let names: Vec<String> = entries
            .iter()
            .map(|(name, _)| name.get_ref().clone())
            .collect();
        let mut deps = Vec::with_capacity(entries.len());
        let mut errors = Vec::new();
        let mut parents = Vec::new();
        for (name, mut table) in entries {
            // Checked once every entry is known: it names another one.
            if let Some(parent) = table.get_mut().parent.take() {
                parents.push(parent_keys::RawParent {
                    dependency: name.get_ref().clone(),
                    parent,
                    path: table.get_ref().path.as_ref().map(Spanned::span),
                });
            }
            match validate_dependency(&locator, name, table, &settings) {
                Ok(dep) => deps.push(dep),
                Err(error) => errors.push(error),
            }
        }
        errors.extend(parent_keys::validate_parents(
            &locator, &mut deps, parents, &names,
        ));
        if let Some(error) = ManifestError::all(errors) {
            return Err(error);
        }
        let root = file
            .parent()
            .map(Path::to_owned)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(Self {
            file: file.to_owned(),
            root,
            settings,
            deps,
        })
    }

    /// The dependencies named, in registry order, or all of them when `names` is empty.
    /// An unknown name is an error that lists the known ones.
    pub fn select(&self, names: &[String]) -> Result<Vec<&Dependency>, UnknownDependency> {
        if let Some(unknown) = names
            .iter()
            .find(|n| !self.deps.iter().any(|d| &d.name == *n))
        {
            return Err(UnknownDependency {
                name: unknown.clone(),
                known: self.deps.iter().map(|d| d.name.clone()).collect(),
            });
        }
        Ok(self
            .deps
            .iter()
            .filter(|d| names.is_empty() || names.contains(&d.name))
            .collect())
    }

    /// What `selected` updates as units sharing a branch: a dependency alone, or every member
    /// of a group any selected dependency is in (in registry order), in registry order.
    pub fn units<'a>(&'a self, selected: &[&'a Dependency]) -> Vec<Vec<&'a Dependency>> {
        let mut units: Vec<Vec<&Dependency>> = Vec::new();
        for dep in &self.deps {
            let chosen = selected.iter().any(|s| s.name == dep.name)
                || dep
                    .group
                    .as_ref()
                    .is_some_and(|group| selected.iter().any(|s| s.group.as_ref() == Some(group)));
            if !chosen {
                continue;
            }
            let joined = dep.group.as_ref().and_then(|group| {
                units
                    .iter_mut()
                    .find(|unit| unit[0].group.as_ref() == Some(group))
            });
            match joined {
                Some(unit) => unit.push(dep),
                None => units.push(vec![dep]),
            }
        }
        units
    }
}

/// A dependency named on the command line that the registry does not have.
#[derive(Debug, thiserror::Error)]
#[error("no dependency named `{name}` in the registry")]
pub struct UnknownDependency {
    pub name: String,
    pub known: Vec<String>,
}

/// A `min-age-days` value: 0 to 365 days.
fn days_in(
    locator: &Locator<'_>,
    dep: Option<&str>,
    days: &Spanned<i64>,
) -> Result<u32, ManifestError> {
    u32::try_from(*days.get_ref())
        .ok()
        .filter(|d| *d <= 365)
        .ok_or_else(|| {
            locator.diagnostic(
                days.span(),
                dep,
                Some("min-age-days"),
                format!(
                    "expected a number of days from 0 to 365, found {}",
                    days.get_ref()
                ),
            )
        })
}

fn validate_dependency(
    locator: &Locator<'_>,
    name: Spanned<String>,
    table: Spanned<RawDependency>,
    settings: &Settings,
) -> Result<Dependency, ManifestError> {
    let table_span = table.span();
    let name_span = name.span();
    let name = name.into_inner();
    let mut raw = table.into_inner();
    let raw_apply = RawApply {
        archive: raw.archive.take(),
        asset: raw.asset.take(),
        checksums: raw.checksums.take(),
        sha256: raw.sha256.take(),
        archive_commit: raw.archive_commit.take(),
        signature: raw.signature.take(),
        keyring: raw.keyring.take(),
        format: raw.format.take(),
        strip: raw.strip.take(),
        map: raw.map.take(),
        include: raw.include.take(),
        exclude: raw.exclude.take(),
        keep: raw.keep.take(),
        patches: raw.patches.take(),
        after: raw.after.take(),
        after_writes: raw.after_writes.take(),
        after_reads: raw.after_reads.take(),
        generated: raw.generated.take(),
        labels: raw.labels.take(),
    };
    let dep = Some(name.as_str());
    let fail = |span: Range<usize>, key: &str, message: String| {
        locator.diagnostic(span, dep, Some(key), message)
    };
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(locator.diagnostic(
            name_span,
            dep,
            None,
            "a dependency name may hold only letters, digits, `-`, `_` and `.`",
        ));
    }
    let missing = |key: &str, why: &str| {
        locator.diagnostic(
            table_span.clone(),
            dep,
            Some(key),
            format!("`{key}` is required{why}"),
        )
    };

    let raw_path = raw.path.take().ok_or_else(|| missing("path", ""))?;
    let path_template = raw_path
        .get_ref()
        .contains('{')
        .then(|| {
            Template::parse(raw_path.get_ref(), PATH_PLACEHOLDERS)
                .map_err(|e| fail(raw_path.span(), "path", e.to_string()))
        })
        .transpose()?;

    let source = raw
        .source
        .as_ref()
        .ok_or_else(|| missing("source", &format!(": one of {}", kind_names())))?;
    let kind = source.get_ref().as_str();
    let keys = SourceKeys {
        repo: raw.repo.as_ref(),
        url: raw.url.as_ref(),
        branch: raw.branch.as_ref(),
        package: raw.package.as_ref(),
        regex: raw.regex.as_ref(),
    };
    let spec = match parse_spec(kind, &keys) {
        Some(Ok(spec)) => spec,
        Some(Err(e)) => {
            let span = e.span.unwrap_or_else(|| table_span.clone());
            return Err(locator.diagnostic(span, dep, Some(e.key), e.message));
        }
        None => {
            return Err(fail(
                source.span(),
                "source",
                format!("expected {}, found `{kind}`", kind_names()),
            ));
        }
    };

    let tracking = tracking_keys::validate_tracking(locator, dep, &mut raw, &spec, settings)?;
    // A versioned folder is found by the recorded version.
    let shown_path = match (&path_template, &tracking) {
        (None, _) => raw_path.get_ref().clone(),
        (
            Some(template),
            Tracking::Releases {
                version: Some(_), ..
            },
        ) => template.render(&version_vars(&tracking.recorded().unwrap_or_default())),
        (Some(_), _) => {
            return Err(fail(
                raw_path.span(),
                "path",
                "a `path` that names the version needs the registry's `version` of a released version (not a branch's commit)".into(),
            ));
        }
    };
    let path = relative_path(&toml::Spanned::new(raw_path.span(), shown_path))
        .and_then(|p| vendorable(&p).map(|()| p))
        .map_err(|m| fail(raw_path.span(), "path", m))?;
    let references = raw
        .references
        .take()
        .map(|list| {
            list.into_inner()
                .into_iter()
                .map(|r| validate_reference(locator, dep, r))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();

    let raw_version_file_span = raw.version_file.as_ref().map(Spanned::span);
    let version_file = raw
        .version_file
        .map(|vf| validate_version_file(locator, dep, vf))
        .transpose()?;
    let apply = validate_apply(locator, dep, &spec, raw_apply, table_span.clone())?;
    if let (Format::File, Some(vf)) = (apply.format, &raw_version_file_span) {
        return Err(fail(
            vf.clone(),
            "version-file",
            "`version-file` does not apply with `format = \"file\"`: record `version`".into(),
        ));
    }
    let group = raw
        .group
        .map(|g| {
            let valid = !g.get_ref().is_empty()
                && g.get_ref()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if valid {
                Ok(g.get_ref().clone())
            } else {
                Err(fail(
                    g.span(),
                    "group",
                    "a group name may hold only letters, digits, `-`, `_` and `.`".into(),
                ))
            }
        })
        .transpose()?;
    let (license, ignore_advisories) = (
        supply_keys::license(raw.license, &fail)?,
        supply_keys::ignored_advisories(raw.ignore_advisories, &fail)?,
    );
    if tracking.recorded().is_none() && version_file.is_none() {
        return Err(missing(
            "version",
            ": give `version`, or `version-file` to read it from the vendored tree",
        ));
    }
    Ok(Dependency {
        name,
        path,
        path_template,
        references,
        source: spec,
        tracking,
        version_file,
        apply,
        group,
        parent: None,
        license,
        ignore_advisories,
    })
}

fn validate_reference(
    locator: &Locator<'_>,
    dep: Option<&str>,
    raw: Spanned<raw::RawReference>,
) -> Result<Reference, ManifestError> {
    let raw = raw.into_inner();
    let path = relative_path(&raw.path)
        .and_then(|p| vendorable(&p).map(|()| p))
        .map_err(|m| locator.diagnostic(raw.path.span(), dep, Some("references.path"), m))?;
    let regex = Regex::new(raw.regex.get_ref())
        .ok()
        .filter(|r| r.captures_len() >= 2)
        .ok_or_else(|| {
            locator.diagnostic(
                raw.regex.span(),
                dep,
                Some("references.regex"),
                "expected a regular expression with a capture group around the version, e.g. `c-ares-([0-9.]+)`",
            )
        })?;
    Ok(Reference { path, regex })
}

fn validate_version_file(
    locator: &Locator<'_>,
    dep: Option<&str>,
    raw: Spanned<RawVersionFile>,
) -> Result<VersionFile, ManifestError> {
    let raw = raw.into_inner();
    let path = relative_path(&raw.path)
        .map_err(|m| locator.diagnostic(raw.path.span(), dep, Some("version-file.path"), m))?;
    let fail = |message: String| {
        locator.diagnostic(raw.regex.span(), dep, Some("version-file.regex"), message)
    };
    let regex = Regex::new(raw.regex.get_ref()).map_err(|e| {
        // The regex crate draws its own caret over several lines; its last line says what.
        let text = e.to_string();
        let what = text
            .lines()
            .last()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned();
        fail(format!("invalid regular expression: {what}"))
    })?;
    let names: Vec<&str> = regex.capture_names().flatten().collect();
    let has_parts = names.contains(&"major");
    if !has_parts && regex.captures_len() < 2 {
        return Err(fail(
            "expected a capture group around the version, e.g. `#define VERSION \"([^\"]+)\"`, \
             or named groups `major`, `minor`, `patch`"
                .into(),
        ));
    }
    let encoding = match &raw.encoding {
        None => VersionEncoding::Text,
        Some(name) => VersionEncoding::NAMES
            .iter()
            .find(|(n, _)| n == name.get_ref())
            .map(|(_, e)| *e)
            .ok_or_else(|| {
                let known: Vec<String> = VersionEncoding::NAMES
                    .iter()
                    .map(|(n, _)| format!("`{n}`"))
                    .collect();
                locator.diagnostic(
                    name.span(),
                    dep,
                    Some("version-file.encoding"),
                    format!(
                        "expected one of {}, found `{}`",
                        known.join(", "),
                        name.get_ref()
                    ),
                )
            })?,
    };
    Ok(VersionFile {
        path,
        regex,
        encoding,
    })
}

/// Whether a vendored folder (or file) may be at `path`: never the repository itself, git's
/// own folder, or what CI runs or what decides who reviews (`.github/`, `.gitlab-ci.yml`, ...).
fn vendorable(path: &Path) -> Result<(), String> {
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        return Err(
            "the repository itself cannot be a vendored folder: name a folder in it".into(),
        );
    }
    if parts.iter().any(|p| p.eq_ignore_ascii_case(".git")) {
        return Err(format!(
            "`{}` is inside git's own folder `.git`: deps-update never writes there",
            path.display()
        ));
    }
    let first = parts[0].to_ascii_lowercase();
    const CI: &[&str] = &[
        ".github",
        ".gitlab",
        ".gitea",
        ".forgejo",
        ".circleci",
        ".gitlab-ci.yml",
        ".gitmodules",
        ".gitattributes",
    ];
    if CI.contains(&first.as_str()) {
        return Err(format!(
            "`{}` is where a forge or git reads its own configuration (workflows, who reviews, submodules): deps-update never vendors upstream code there",
            path.display()
        ));
    }
    Ok(())
}

/// A path inside the repository: relative, without `..`.
fn relative_path(value: &Spanned<String>) -> Result<PathBuf, String> {
    let text = value.get_ref();
    let path = Path::new(text);
    if text.trim().is_empty() {
        return Err("expected a path, found an empty string".into());
    }
    if path.is_absolute()
        || path
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "expected a relative path inside the repository (no leading `/`, no `..`), found `{text}`"
        ));
    }
    Ok(path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, String> {
        Manifest::parse(Path::new("deps.toml"), text).map_err(|e| e.to_string())
    }

    const NGHTTP2: &str = r#"
[deps.nghttp2]
path = "deps/nghttp2"
source = "github-release"
repo = "nghttp2/nghttp2"
version = "1.64.0"
"#;

    #[test]
    fn parses_a_minimal_dependency() {
        let manifest = parse(NGHTTP2).unwrap();
        let dep = &manifest.deps[0];
        assert_eq!(dep.name, "nghttp2");
        assert_eq!(dep.source.kind(), "github-release");
        assert_eq!(dep.tracking.recorded().as_deref(), Some("1.64.0"));
    }

    #[test]
    fn keeps_registry_order() {
        let text = "[deps.zlib]\npath='a'\nsource='npm'\npackage='z'\nversion='1'\n\
                    [deps.acorn]\npath='b'\nsource='npm'\npackage='acorn'\nversion='1'\n";
        let names: Vec<_> = parse(text)
            .unwrap()
            .deps
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["zlib", "acorn"]);
    }

    #[test]
    fn errors_name_file_line_column_dependency_and_key() {
        let cases: &[(&str, &str)] = &[
            (
                "[deps.x]\npath = \"x\"\nsource = \"npm\"\npackage = \"x\"\nversion = \"1\"\nafter = [{ run = \"make\", commit = \"deps: {nam}\" }]\n",
                "`after`: template `deps: {nam}` has an unknown placeholder `{nam}`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"npm\"\npackage = \"x\"\nversion = \"1\"\nafter = [{ run = \"make\", message = \"m\" }]\n",
                "unknown key `message`; the keys here are `run`, `commit`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"npm\"\npackage = \"x\"\nversion = \"1\"\npatches = []\n",
                "`patches`: expected patch files, found an empty list",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"npm\"\npackage = \"x\"\nversion = \"1\"\npatches = \"../outside\"\n",
                "dependency `x`: `patches`: ",
            ),
            (
                "[deps.x]\npath = \"x/f.h\"\nsource = \"npm\"\npackage = \"x\"\nversion = \"1\"\nformat = \"file\"\npatches = \"p\"\n",
                "`patches` does not apply with `format = \"file\"`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"npm\"\npackage = \"x\"\nversion = \"1\"\ngroup = \"a b\"\n",
                "`group`: a group name may hold only letters, digits, `-`, `_` and `.`",
            ),
            (
                "[deps.nghttp2]\npath = \"deps/nghttp2\"\nsource = \"github-release\"\nrepo = \"nghttp2/nghttp2\"\nversion = \"1.64.0\"\nsha265 = \"abc\"\n",
                "deps.toml:6:1: dependency `nghttp2`: `sha265`: unknown key `sha265`; did you mean `sha256`?",
            ),
            (
                "[deps.nghttp2]\npath = \"deps/nghttp2\"\nsource = \"github-release\"\nrepo = \"nghttp2\"\nversion = \"1.64.0\"\n",
                "deps.toml:4:8: dependency `nghttp2`: `repo`: expected `owner/name`, found `nghttp2`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-releases\"\nrepo = \"a/b\"\nversion = \"1\"\n",
                "deps.toml:3:10: dependency `x`: `source`: expected `github-release`, `github-tag`, `gitlab-release`, `gitlab-tag`, `gitea-release`, `gitea-tag`, `git`, `npm` or `url`, found `github-releases`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"gitlab-tag\"\nrepo = \"libxml2\"\nversion = \"1\"\n",
                "`repo`: expected `group/name` or `group/subgroup/name`, found `libxml2`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-tag\"\nrepo = \"a/b/c\"\nversion = \"1\"\n",
                "`repo`: expected `owner/name`, found `a/b/c`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"url\"\nurl = \"https://sqlite.org/download.html\"\nversion = \"1\"\narchive = \"https://x/{version}.zip\"\n",
                "`regex`: `regex` is required when `source = \"url\"`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"url\"\nurl = \"https://x\"\nregex = 'v([0-9.]+)'\nversion = \"1\"\narchive = \"https://x/{version}.zip\"\n",
                "`regex`: expected a named group `version`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"url\"\nurl = \"https://x\"\nregex = 'v(?P<version>[0-9.]+)'\nversion = \"1\"\n",
                "`archive`: `archive` is required when `source = \"url\"`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"url\"\nurl = \"https://x\"\nregex = 'v(?P<version>[0-9.]+)/(?P<year>\\d+)'\nversion = \"1\"\narchive = \"https://x/{yaer}/{version}.zip\"\n",
                "unknown placeholder `{yaer}`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"url\"\nurl = \"https://x\"\nregex = 'v(?P<version>[0-9.]+)'\nversion = \"1\"\narchive = \"https://x/{version}.zip\"\ntag = \"v{version}\"\n",
                "`tag`: `tag` does not apply to `source = \"url\"`: its versions are not tags",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-tag\"\nrepo = \"a/b\"\nversion = \"1\"\nasset = \"x.zip\"\n",
                "`asset`: `asset` applies only to sources with release files",
            ),
            (
                "[deps.x]\npath = \"x/certdata.txt\"\nsource = \"github-tag\"\nrepo = \"a/b\"\nversion = \"1\"\nformat = \"file\"\ninclude = [\"a\"]\n",
                "`include`: `include` does not apply with `format = \"file\"`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-tag\"\nrepo = \"a/b\"\nversion = \"1\"\nformat = \"tarball\"\n",
                "`format`: expected `archive` or `file`, found `tarball`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"git\"\nurl = \"https://x\"\nversion = \"1\"\nformat = \"file\"\n",
                "`format`: `format` does not apply to `source = \"git\"`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-tag\"\nrepo = \"a/b\"\nversion = \"1\"\nmap = { \"a/include\" = \"include\", \"a/src\" = \"include/src\" }\n",
                "`map`: targets overlap: `include` and `include/src` would land in one place",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-tag\"\nrepo = \"a/b\"\nversion = \"1\"\nmap = { \"a/include\" = \"../include\" }\n",
                "`map`: expected a relative path inside the repository",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-tag\"\nrepo = \"a/b\"\nversion = \"1\"\nmap = { \"/etc\" = \"etc\" }\n",
                "`map`: `/etc`: expected a relative path",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-tag\"\nrepo = \"a/b\"\nversion = \"1\"\nmap = { \"a\" = \"b\", \"a/c\" = \"d\" }\n",
                "`map`: sources overlap: `a` and `a/c`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"npm\"\nversion = \"1\"\n",
                "dependency `x`: `package`: `package` is required when `source = \"npm\"`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"npm\"\npackage = \"x\"\nversion = 5\n",
                "deps.toml:5:11: dependency `x`: `version`: invalid type: integer `5`, expected a string",
            ),
            (
                "[deps.x]\npath = \"../x\"\nsource = \"npm\"\npackage = \"x\"\nversion = \"1\"\n",
                "`path`: expected a relative path inside the repository",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"npm\"\npackage = \"x\"\nversion = \"1\"\ntag = \"v{version}\"\n",
                "`tag`: `tag` does not apply to `source = \"npm\"`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-tag\"\nrepo = \"a/b\"\nversion = \"1\"\ntag = \"v{vresion}\"\n",
                "unknown placeholder `{vresion}`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-tag\"\nrepo = \"a/b\"\nversion = \"1\"\nallow = \"~>3\"\n",
                "`allow`: expected a version requirement",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-tag\"\nrepo = \"a/b\"\nversion = \"main\"\n",
                "`version`: `main` is not a version",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-tag\"\nrepo = \"a/b\"\n",
                "`version`: `version` is required: give `version`, or `version-file`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"github-tag\"\nrepo = \"a/b\"\nurl = \"https://x\"\nversion = \"1\"\n",
                "`url`: `url` does not apply to `source = \"github-tag\"`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"git\"\nurl = \"https://x\"\nbranch = \"main\"\nversion = \"1.2.3\"\n",
                "records a commit id",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"git\"\nurl = \"https://x\"\nversion = \"1.2.3\"\nquiet-days = 2\n",
                "`quiet-days` applies only when tracking a branch",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"git\"\nurl = \"https://x\"\nbranch = \"main\"\nversion = \"abcdef0\"\nallow = \"1\"\n",
                "`allow` does not apply when tracking a branch",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"git\"\nurl = \"git@github.com:a/b\"\nversion = \"1\"\n",
                "`url`: expected an `https://`",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"npm\"\npackage = \"x\"\nversion-file = { path = \"package.json\", regex = '\"version\": \"(' }\n",
                "deps.toml:5:49: dependency `x`: `version-file.regex`: invalid regular expression: unclosed group",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"npm\"\npackage = \"x\"\nversion-file = { path = \"package.json\", regex = 'version' }\n",
                "`version-file.regex`: expected a capture group",
            ),
            (
                "[settings]\ngithub-api-url = \"api.github.com\"\n",
                "deps.toml:2:18: `github-api-url`: expected an `https://` URL",
            ),
            (
                "[deps.x]\npath = \"x\"\nsource = \"npm\"\npackage = \"x\"\nversion = \"1\"\nprerelease = \"yes\"\n",
                "`prerelease`: invalid type: string \"yes\", expected a boolean",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(text).unwrap_err();
            assert!(
                error.contains(expected),
                "expected {expected:?} in:\n{error}"
            );
        }
    }

    #[test]
    fn diagnostic_underlines_the_value() {
        let error = parse(
            "[deps.nghttp2]\npath = \"deps/nghttp2\"\nsource = \"github-release\"\nrepo = \"nghttp2\"\nversion = \"1\"\n",
        )
        .unwrap_err();
        assert!(
            error.ends_with("  |\n4 | repo = \"nghttp2\"\n  |        ^^^^^^^^^"),
            "{error}"
        );
    }

    #[test]
    fn select_names_unknown_dependencies() {
        let manifest = parse(NGHTTP2).unwrap();
        let error = manifest.select(&["nghttp3".into()]).unwrap_err();
        assert_eq!(error.known, ["nghttp2"]);
        assert_eq!(manifest.select(&[]).unwrap().len(), 1);
    }
}
