//! The keys about fetching, verifying and laying out a new version (`archive` to `after`),
//! validated into an [`ApplySpec`]: split from the dependency's other keys, which say where
//! it is and how its versions are tracked.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::SourceSpec;
use super::raw::{OneOrMany, RawStep};
use super::{
    ARCHIVE_VARS, AfterStep, ApplySpec, Format, Globs, Locator, MESSAGE_VARS, ManifestError,
    Patches, relative_path,
};
use crate::template::Template;

/// The keys about fetching and laying out a new version, taken out of the raw table.
pub(super) struct RawApply {
    pub(super) archive: Option<Spanned<String>>,
    pub(super) asset: Option<Spanned<String>>,
    pub(super) checksums: Option<Spanned<String>>,
    pub(super) sha256: Option<Spanned<String>>,
    pub(super) archive_commit: Option<Spanned<String>>,
    pub(super) signature: Option<Spanned<String>>,
    pub(super) keyring: Option<Spanned<String>>,
    pub(super) format: Option<Spanned<String>>,
    pub(super) strip: Option<Spanned<i64>>,
    pub(super) map: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    pub(super) include: Option<Spanned<Vec<String>>>,
    pub(super) exclude: Option<Spanned<Vec<String>>>,
    pub(super) keep: Option<Spanned<Vec<String>>>,
    pub(super) patches: Option<Spanned<OneOrMany>>,
    pub(super) after: Option<Spanned<Vec<RawStep>>>,
    pub(super) after_writes: Option<Spanned<Vec<String>>>,
    pub(super) after_reads: Option<Spanned<Vec<String>>>,
    pub(super) generated: Option<Spanned<Vec<String>>>,
    pub(super) labels: Option<Spanned<Vec<String>>>,
}

pub(super) fn validate_apply(
    locator: &Locator<'_>,
    dep: Option<&str>,
    spec: &SourceSpec,
    raw: RawApply,
    table_span: Range<usize>,
) -> Result<ApplySpec, ManifestError> {
    let fail = |span: Range<usize>, key: &str, message: String| {
        locator.diagnostic(span, dep, Some(key), message)
    };
    let kind = spec.kind();
    // A git source exports the commit's tree: there is no archive to name, hash or sign.
    let format_span = raw.format.as_ref().map(Spanned::span);
    for (key, span) in [
        ("archive", raw.archive.as_ref().map(Spanned::span)),
        ("checksums", raw.checksums.as_ref().map(Spanned::span)),
        ("sha256", raw.sha256.as_ref().map(Spanned::span)),
        (
            "archive-commit",
            raw.archive_commit.as_ref().map(Spanned::span),
        ),
        ("signature", raw.signature.as_ref().map(Spanned::span)),
        ("format", format_span.clone()),
    ] {
        if !spec.downloads()
            && let Some(span) = span
        {
            return Err(fail(
                span,
                key,
                format!(
                    "`{key}` does not apply to `source = \"{kind}\"`: the commit's tree is exported, and its id is the record"
                ),
            ));
        }
    }
    if let Some(asset) = &raw.asset
        && !spec.has_assets()
    {
        return Err(fail(
            asset.span(),
            "asset",
            format!(
                "`asset` applies only to sources with release files ({}), not `{kind}`",
                super::source_spec::release_kind_names(&[])
            ),
        ));
    }
    if raw.archive.is_none() && !spec.has_default_origin() {
        return Err(locator.diagnostic(
            table_span,
            dep,
            Some("archive"),
            format!(
                "`archive` is required when `source = \"{kind}\"`: the page gives versions, not downloads"
            ),
        ));
    }
    let mut placeholders: Vec<String> = ARCHIVE_VARS.iter().map(|v| (*v).to_owned()).collect();
    placeholders.extend(spec.placeholders());
    let placeholders: Vec<&str> = placeholders.iter().map(String::as_str).collect();
    let template = |value: &Option<Spanned<String>>, key: &str| {
        value
            .as_ref()
            .map(|v| {
                Template::parse(v.get_ref(), &placeholders)
                    .map_err(|e| fail(v.span(), key, e.to_string()))
            })
            .transpose()
    };
    let archive = template(&raw.archive, "archive")?;
    if let (Some(asset), Some(_)) = (&raw.asset, &raw.archive) {
        return Err(fail(
            asset.span(),
            "asset",
            "give `archive` or `asset`, not both".into(),
        ));
    }
    let asset = template(&raw.asset, "asset")?;
    let checksums = template(&raw.checksums, "checksums")?;
    let signature = match (template(&raw.signature, "signature")?, &raw.keyring) {
        (Some(t), Some(k)) => {
            let path = relative_path(k).map_err(|m| fail(k.span(), "keyring", m))?;
            Some((t, path))
        }
        (None, None) => None,
        (Some(_), None) => {
            let span = raw
                .signature
                .as_ref()
                .map(Spanned::span)
                .unwrap_or_default();
            return Err(fail(
                span,
                "keyring",
                "`signature` needs `keyring`: the keys whose signatures to trust".into(),
            ));
        }
        (None, Some(k)) => {
            return Err(fail(
                k.span(),
                "keyring",
                "`keyring` needs `signature`: where the signature is".into(),
            ));
        }
    };
    let sha256 = raw
        .sha256
        .map(|s| {
            let text = s.get_ref().trim().to_ascii_lowercase();
            if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(text)
            } else {
                Err(fail(
                    s.span(),
                    "sha256",
                    format!("expected 64 hex digits, found `{}`", s.get_ref()),
                ))
            }
        })
        .transpose()?;
    let archive_commit = raw
        .archive_commit
        .map(|s| {
            let text = s.get_ref().trim().to_ascii_lowercase();
            if text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(text)
            } else {
                Err(fail(
                    s.span(),
                    "archive-commit",
                    format!("expected a 40-hex-digit commit id, found `{}`", s.get_ref()),
                ))
            }
        })
        .transpose()?;
    let format = match &raw.format {
        None => Format::Archive,
        Some(f) => match f.get_ref().as_str() {
            "archive" => Format::Archive,
            "file" => Format::File,
            other => {
                return Err(fail(
                    f.span(),
                    "format",
                    format!("expected `archive` or `file`, found `{other}`"),
                ));
            }
        },
    };
    if format == Format::File {
        for (key, span) in [
            ("strip", raw.strip.as_ref().map(Spanned::span)),
            ("include", raw.include.as_ref().map(Spanned::span)),
            ("exclude", raw.exclude.as_ref().map(Spanned::span)),
            ("keep", raw.keep.as_ref().map(Spanned::span)),
            ("map", raw.map.as_ref().map(Spanned::span)),
            ("patches", raw.patches.as_ref().map(Spanned::span)),
        ] {
            if let Some(span) = span {
                return Err(fail(
                    span,
                    key,
                    format!(
                        "`{key}` does not apply with `format = \"file\"`: `path` is the file itself"
                    ),
                ));
            }
        }
    }
    let strip = raw
        .strip
        .map(|s| {
            usize::try_from(*s.get_ref())
                .ok()
                .filter(|n| *n <= 32)
                .ok_or_else(|| {
                    fail(
                        s.span(),
                        "strip",
                        format!("expected a number from 0 to 32, found {}", s.get_ref()),
                    )
                })
        })
        .transpose()?;
    let globs = |value: Option<Spanned<Vec<String>>>, key: &str| {
        value
            .map(|v| {
                let span = v.span();
                Globs::new(v.into_inner()).map_err(|m| fail(span, key, m))
            })
            .transpose()
            .map(Option::unwrap_or_default)
    };
    if let (Some(writes), true) = (&raw.after_writes, raw.after.is_none()) {
        return Err(fail(
            writes.span(),
            "after-writes",
            "`after-writes` says what `after` steps may change: there are none".into(),
        ));
    }
    if let (Some(reads), true) = (&raw.after_reads, raw.after.is_none()) {
        return Err(fail(
            reads.span(),
            "after-reads",
            "`after-reads` says what `after` steps read: there are none".into(),
        ));
    }
    let after = match raw.after {
        Some(list) => {
            let span = list.span();
            let mut steps = Vec::new();
            for step in list.into_inner() {
                if step.run.trim().is_empty() {
                    return Err(fail(
                        span,
                        "after",
                        "expected commands, found an empty one".into(),
                    ));
                }
                let commit = step
                    .commit
                    .map(|message| {
                        if message.trim().is_empty() {
                            return Err(fail(
                                span.clone(),
                                "after",
                                "`commit` is the message of the step's own commit: it cannot be empty".into(),
                            ));
                        }
                        Template::parse(&message, MESSAGE_VARS)
                            .map_err(|e| fail(span.clone(), "after", e.to_string()))
                    })
                    .transpose()?;
                steps.push(AfterStep {
                    run: step.run,
                    commit,
                });
            }
            steps
        }
        None => Vec::new(),
    };
    let patches = match raw.patches {
        Some(patches) => {
            let span = patches.span();
            let relative = |path: String| {
                relative_path(&Spanned::new(span.clone(), path))
                    .map_err(|m| fail(span.clone(), "patches", m))
            };
            Some(match patches.into_inner() {
                OneOrMany::One(folder) => Patches::Folder(relative(folder)?),
                OneOrMany::Many(files) if files.is_empty() => {
                    return Err(fail(
                        span,
                        "patches",
                        "expected patch files, found an empty list (remove `patches` instead)"
                            .into(),
                    ));
                }
                OneOrMany::Many(files) => {
                    Patches::Files(files.into_iter().map(relative).collect::<Result<_, _>>()?)
                }
            })
        }
        None => None,
    };
    let map = match raw.map {
        Some(map) => validate_map(map).map_err(|(span, m)| fail(span, "map", m))?,
        None => Vec::new(),
    };
    Ok(ApplySpec {
        archive,
        asset,
        checksums,
        sha256,
        archive_commit,
        signature,
        format,
        strip,
        map,
        include: globs(raw.include, "include")?,
        exclude: globs(raw.exclude, "exclude")?,
        keep: globs(raw.keep, "keep")?,
        patches,
        after,
        after_writes: globs(raw.after_writes, "after-writes")?,
        after_reads: globs(raw.after_reads, "after-reads")?,
        generated: globs(raw.generated, "generated")?,
        labels: raw.labels.map(Spanned::into_inner).unwrap_or_default(),
    })
}

/// `map = { "googletest/include" = "include" }`: relative paths on both sides, no folder
/// mapped twice, and no target inside another (two folders would land on one place).
#[allow(clippy::type_complexity)]
fn validate_map(
    map: Spanned<BTreeMap<String, Spanned<String>>>,
) -> Result<Vec<(PathBuf, PathBuf)>, (Range<usize>, String)> {
    let span = map.span();
    let mut pairs: Vec<(PathBuf, PathBuf, Range<usize>)> = Vec::new();
    for (from, to) in map.into_inner() {
        let from_path = relative_path(&Spanned::new(span.clone(), from.clone()))
            .map_err(|m| (span.clone(), format!("`{from}`: {m}")))?;
        let to_path = relative_path(&to).map_err(|m| (to.span(), m))?;
        if from_path.as_os_str() == "." {
            return Err((
                span.clone(),
                format!(
                    "map upstream's folders, not `.` (`{from}` = `{}`): `strip` takes off a top folder",
                    to.get_ref()
                ),
            ));
        }
        // `.`: onto the dependency's root (a flattened copy of upstream's `src/`), kept as
        // the empty path so that joining a file's rest gives the file itself.
        let to_path = if to_path.as_os_str() == "." {
            PathBuf::new()
        } else {
            to_path
        };
        pairs.push((from_path, to_path, to.span()));
    }
    let inside = |a: &Path, b: &Path| a.starts_with(b) || b.starts_with(a);
    for (i, (from, to, to_span)) in pairs.iter().enumerate() {
        for (other_from, other_to, _) in &pairs[i + 1..] {
            // Onto the root, anything can land beside it: two files on one place are caught
            // file by file when the tree is laid out.
            let at_root = to.as_os_str().is_empty() || other_to.as_os_str().is_empty();
            if !at_root && inside(to, other_to) {
                return Err((
                    to_span.clone(),
                    format!(
                        "targets overlap: `{}` and `{}` would land in one place",
                        to.display(),
                        other_to.display()
                    ),
                ));
            }
            if inside(from, other_from) {
                return Err((
                    span.clone(),
                    format!(
                        "sources overlap: `{}` and `{}`; map each upstream folder once",
                        from.display(),
                        other_from.display()
                    ),
                ));
            }
        }
    }
    Ok(pairs.into_iter().map(|(from, to, _)| (from, to)).collect())
}
