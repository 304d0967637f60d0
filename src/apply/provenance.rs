//! Provenance: whether what an update vendors from a release archive is the upstream's tagged
//! source. Each file that lands in the folder is **identical to the tag**, **differs from the
//! tag**, or is **only in the archive**; archive-only files the registry expects (`generated`:
//! autotools output, a `version.h` made from `version.h.in`) are fine, any other is flagged,
//! and those the previous version's archive did not have are named first: that is where an
//! xz-utils-like change shows.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::ApplyError;
use super::layout::Staged;
use crate::manifest::{Dependency, SourceSpec};
use crate::source::{SourceContext, Target};
pub use crate::summary::Provenance;

/// Whether and how provenance is checked for an update.
#[derive(Debug, Clone)]
pub enum Checked {
    /// The code is the forge's or the remote's own archive of the tag: it is the tagged
    /// source by construction.
    TaggedSource,
    Compared(Provenance),
    /// It could not be compared, and why.
    Unchecked(String),
}

/// Compares the files about to be vendored with the tag's tree, for code downloaded from a
/// release asset or an `archive` template of a forge release or tag; `previous` is the
/// vendored version's archive, laid out the same way, when it was fetched.
pub async fn check(
    dep: &Dependency,
    context: &SourceContext,
    target: &Target<'_>,
    staged: &BTreeMap<PathBuf, Staged>,
    previous: Option<&BTreeMap<PathBuf, Staged>>,
) -> Checked {
    let (forge, repo) = match &dep.source {
        SourceSpec::Release { forge, repo } | SourceSpec::Tag { forge, repo } => (*forge, repo),
        SourceSpec::Git { .. } => return Checked::TaggedSource,
        SourceSpec::Npm { .. } | SourceSpec::Url { .. } => {
            return Checked::Unchecked("the source names no tagged source tree".into());
        }
    };
    if dep.apply.asset.is_none() && dep.apply.archive.is_none() {
        return Checked::TaggedSource;
    }
    let Some(tag) = target.tag else {
        return Checked::Unchecked("the version has no tag".into());
    };
    let site = context.site(forge);
    let Some(commit) = forge.tag_commit(&context.http, &site, repo, tag).await else {
        return Checked::Unchecked(format!(
            "{} did not say which commit `{tag}` names",
            forge.info().name()
        ));
    };
    let files = match forge.tree_files(&context.http, &site, repo, &commit).await {
        Ok(Some(files)) => files,
        Ok(None) => {
            return Checked::Unchecked(format!(
                "{} did not list the tag's files",
                forge.info().name()
            ));
        }
        Err(error) => {
            return Checked::Unchecked(format!("listing the tag's files failed: {error}"));
        }
    };
    let compared = crate::blocking::blocking(|| compare(dep, staged, &files, previous));
    match compared {
        Ok(mut provenance) => {
            provenance.tag = tag.to_owned();
            provenance.commit = commit;
            Checked::Compared(provenance)
        }
        Err(error) => Checked::Unchecked(error.to_string()),
    }
}

/// The tag's file for a vendored path: the same path, else the one path that ends with it
/// (a `strip`ped or `map`ped folder).
pub(crate) fn tag_file<'a>(files: &'a BTreeMap<String, String>, path: &str) -> Option<&'a String> {
    if let Some(id) = files.get(path) {
        return Some(id);
    }
    let suffix = format!("/{path}");
    let mut matches = files.iter().filter(|(p, _)| p.ends_with(&suffix));
    match (matches.next(), matches.next()) {
        (Some((_, id)), None) => Some(id),
        _ => None,
    }
}

fn compare(
    dep: &Dependency,
    staged: &BTreeMap<PathBuf, Staged>,
    files: &BTreeMap<String, String>,
    previous: Option<&BTreeMap<PathBuf, Staged>>,
) -> Result<Provenance, ApplyError> {
    let mut provenance = Provenance::default();
    for (path, file) in staged {
        let Staged::File { source, .. } = file else {
            continue;
        };
        let shown = path.to_string_lossy().replace('\\', "/");
        match tag_file(files, &shown) {
            Some(id) => {
                let bytes = std::fs::read(source).map_err(|e| ApplyError::Staged {
                    path: source.clone(),
                    source: e,
                })?;
                if &crate::vcs::blob_id(&bytes) == id {
                    provenance.identical += 1;
                } else {
                    provenance.differs.push(path.clone());
                }
            }
            None if dep.apply.generated.matches(path) => provenance.expected.push(path.clone()),
            None => {
                if previous.is_some_and(|p| !p.contains_key(path)) {
                    provenance.new_unexpected.push(path.clone());
                }
                provenance.unexpected.push(path.clone());
            }
        }
    }
    Ok(provenance)
}

/// What `deps-update provenance` says of one dependency as it is vendored now.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Classified {
    pub version: String,
    /// `tagged-source`, `release-archive`, `release-archive-unexpected`, `not-checked`.
    pub class: &'static str,
    /// For people: what was found.
    pub detail: String,
    /// The comparison, when there was one.
    pub provenance: Option<Provenance>,
    /// The `after` steps that build on the upstream code (their reproducibility is not
    /// checked).
    pub steps: Vec<String>,
}

/// The vendored version's archive, fetched and checked as `verify` does, compared with its
/// tag's tree.
pub async fn of_vendored(
    dep: &Dependency,
    manifest: &crate::manifest::Manifest,
    context: &SourceContext,
) -> Result<Classified, ApplyError> {
    let (version, tag, fetched) = super::drift::fetch_vendored(dep, manifest, context).await?;
    let target = Target {
        version: &version,
        tag: tag.as_deref(),
        candidate: None,
    };
    let (class, detail, provenance) =
        match check(dep, context, &target, &fetched.staged, None).await {
            Checked::TaggedSource => (
                "tagged-source",
                format!("a plain copy of the tagged source ({})", fetched.source),
                None,
            ),
            Checked::Compared(found) if found.flagged() => {
                ("release-archive-unexpected", found.line(), Some(found))
            }
            Checked::Compared(found) => ("release-archive", found.line(), Some(found)),
            Checked::Unchecked(why) => ("not-checked", why, None),
        };
    Ok(Classified {
        version,
        class,
        detail,
        provenance,
        steps: dep.apply.after.iter().map(|s| s.run.clone()).collect(),
    })
}
