//! Confirming by content: a recognised library's folder compared, file by file (git blob
//! ids), with upstream's tree at the version the folder states, so the draft can say how close
//! it is ("412 of 415 files identical to v1.65.0") and `keep` can name exactly the files
//! upstream does not have. A few requests per library (the tag's commit, then its tree, for
//! each tag spelling until one answers); when upstreams cannot be reached, the draft keeps
//! what the tree alone says, and the run says so once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Found;
use crate::forge::FORGES;
use crate::printer::Printer;
use crate::source::SourceContext;

/// Compares every recognised forge library of `found` with its tag's tree.
pub async fn confirm(repo: &Path, found: &mut [Found], context: &SourceContext, printer: &Printer) {
    for item in found.iter_mut() {
        let Found::Library {
            folder,
            library,
            version,
            keep,
            compared,
            ..
        } = item
        else {
            continue;
        };
        if library.version_unknown {
            continue;
        }
        let Some(forge) = FORGES.iter().copied().find(|f| {
            let info = f.info();
            library.source == info.release_kind || library.source == info.tag_kind
        }) else {
            continue;
        };
        let Some(upstream) = library.repo.as_deref() else {
            continue;
        };
        let site = context.site(forge);
        // One cheap request says whether the forge answers at all (offline, a closed port).
        let reachable = match site.url(&context.http, &[], None) {
            Ok(root) => context.http.api_status(&root).await.is_some(),
            Err(_) => false,
        };
        if !reachable {
            printer.warn(&format!(
                "{} cannot be reached: the drafts say what the tree states, and `keep` is a guess",
                forge.info().name()
            ));
            return;
        }
        let local = crate::blocking::blocking(|| local_files(repo, folder));
        // The stated version's tag; with none stated, the closest of the newest tags.
        let candidates: Vec<(String, String)> = match version.as_deref() {
            Some(stated) => {
                let vars = crate::manifest::version_vars(stated);
                tag_templates(library.tag.as_ref())
                    .into_iter()
                    .map(|template| {
                        let tag = crate::template::Template::parse(
                            &template,
                            &["version", "major", "minor", "patch"],
                        )
                        .map(|t| t.render(&vars))
                        .unwrap_or(template);
                        (tag, stated.to_owned())
                    })
                    .collect()
            }
            None => newest_tags(forge, context, &site, upstream, library.tag.as_ref()).await,
        };
        let mut tree: Option<(String, String, BTreeMap<String, String>, usize)> = None;
        for (tag, named) in candidates {
            let Some(commit) = forge.tag_commit(&context.http, &site, upstream, &tag).await else {
                continue;
            };
            let Ok(Some(files)) = forge
                .tree_files(&context.http, &site, upstream, &commit)
                .await
            else {
                continue;
            };
            let same = identical(&local, &files);
            let better = tree.as_ref().is_none_or(|(_, _, _, best)| same > *best);
            if better {
                tree = Some((tag, named, files, same));
            }
            if version.is_some() {
                break;
            }
        }
        let tree = tree.map(|(tag, named, files, _)| {
            if version.is_none() {
                *version = Some(named);
            }
            (tag, files)
        });
        let Some((tag, files)) = tree else {
            printer.verbose(&format!(
                "`{}`: {upstream}'s tree could not be listed; `keep` is a guess",
                folder.display()
            ));
            continue;
        };
        let (mut identical, mut differ, mut own) = (0, 0, Vec::new());
        for (path, id) in &local {
            let shown = path.to_string_lossy().replace('\\', "/");
            match crate::apply::provenance::tag_file(&files, &shown) {
                Some(theirs) if theirs == id => identical += 1,
                Some(_) => differ += 1,
                None => own.push(shown),
            }
        }
        let line = format!(
            "{identical} of {} files identical to `{tag}`; {differ} differ; {} only here",
            local.len(),
            own.len()
        );
        printer.status(&format!("`{}`: {line}", folder.display()));
        *keep = own;
        *compared = Some(line);
    }
}

/// How many of `local`'s files are identical to the tree's.
fn identical(local: &BTreeMap<PathBuf, String>, files: &BTreeMap<String, String>) -> usize {
    local
        .iter()
        .filter(|(path, id)| {
            let shown = path.to_string_lossy().replace('\\', "/");
            crate::apply::provenance::tag_file(files, &shown) == Some(*id)
        })
        .count()
}

/// Tags compared when the tree states no version: the newest few the library's tag
/// spellings read as releases, with their versions.
const NEWEST_TAGS: usize = 8;

async fn newest_tags(
    forge: &'static dyn crate::forge::Forge,
    context: &SourceContext,
    site: &crate::forge::Site,
    upstream: &str,
    tag: Option<&toml::Value>,
) -> Vec<(String, String)> {
    let templates: Vec<crate::tag::TagTemplate> = tag_templates(tag)
        .iter()
        .filter_map(|t| crate::tag::TagTemplate::parse(t).ok())
        .collect();
    let scheme = crate::tag::TagScheme::new(templates);
    let Ok(tags) = forge
        .tags(&context.http, site, upstream, scheme.common_prefix())
        .await
    else {
        return Vec::new();
    };
    let mut versions: Vec<(crate::version::Version, String)> = tags
        .into_iter()
        .filter_map(|t| scheme.version_of(&t).map(|v| (v, t)))
        .filter(|(v, _)| !v.is_prerelease())
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions
        .into_iter()
        .take(NEWEST_TAGS)
        .map(|(v, t)| (t, v.to_string()))
        .collect()
}

/// The library's tag spellings (`tag` as a string or a list), `v{version}` when it has none.
fn tag_templates(tag: Option<&toml::Value>) -> Vec<String> {
    match tag {
        Some(toml::Value::String(one)) => vec![one.clone()],
        Some(toml::Value::Array(many)) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => vec!["v{version}".into()],
    }
}

/// The folder's files (links left out) by path relative to it, with their blob ids.
fn local_files(repo: &Path, folder: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let root = repo.join(folder);
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
                continue;
            };
            if meta.is_dir() {
                pending.push(entry.path());
            } else if meta.is_file()
                && let Ok(bytes) = std::fs::read(entry.path())
                && let Ok(relative) = entry.path().strip_prefix(&root)
            {
                files.insert(relative.to_owned(), crate::vcs::blob_id(&bytes));
            }
        }
    }
    files
}
