//! `parent`: an entry whose code is vendored inside another entry's folder (V8's own zlib,
//! `deps/v8/third_party/zlib`, inside `deps/v8`). Checked once every entry is read, since it
//! names another one: the parent must be another dependency of the registry, the chain of
//! parents must end, and the entry's folder must lie inside its parent's.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::diagnostic::Locator;
use super::{Dependency, ManifestError};

/// One `parent` as written, with where its entry's `path` is.
pub(super) struct RawParent {
    pub dependency: String,
    pub parent: Spanned<String>,
    /// The span of the entry's `path` (none: `path` is missing, already an error).
    pub path: Option<Range<usize>>,
}

/// Checks each `parent` against the registry's entries (`names`, in file order, valid or
/// not) and records the valid ones on `deps`; returns one error per bad `parent`.
pub(super) fn validate_parents(
    locator: &Locator<'_>,
    deps: &mut [Dependency],
    parents: Vec<RawParent>,
    names: &[String],
) -> Vec<ManifestError> {
    let chain: BTreeMap<&str, &str> = parents
        .iter()
        .map(|p| (p.dependency.as_str(), p.parent.get_ref().as_str()))
        .collect();
    let mut errors = Vec::new();
    let mut valid = Vec::new();
    for raw in &parents {
        let name = raw.dependency.as_str();
        let parent = raw.parent.get_ref().as_str();
        let fail = |span: Range<usize>, key: &str, message: String| {
            locator.diagnostic(span, Some(name), Some(key), message)
        };
        if parent == name {
            errors.push(fail(
                raw.parent.span(),
                "parent",
                format!(
                    "`{name}` cannot be nested in itself: name the dependency whose folder holds it"
                ),
            ));
            continue;
        }
        if !names.iter().any(|n| n == parent) {
            let hint = crate::suggest::nearest(parent, names.iter().map(String::as_str))
                .map(|near| format!("; did you mean `{near}`?"))
                .unwrap_or_default();
            errors.push(fail(
                raw.parent.span(),
                "parent",
                format!("no dependency named `{parent}` in the registry{hint}"),
            ));
            continue;
        }
        // Up the chain of parents: back at this entry is a cycle.
        let mut seen = vec![name, parent];
        let mut here = parent;
        let mut cycle = false;
        while let Some(next) = chain.get(here) {
            seen.push(next);
            if *next == name {
                cycle = true;
                break;
            }
            if seen[..seen.len() - 1].contains(next) {
                // A cycle further up, reported on its own entries.
                break;
            }
            here = next;
        }
        if cycle {
            errors.push(fail(
                raw.parent.span(),
                "parent",
                format!(
                    "the parents go round in a cycle: {}",
                    seen.iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(" in ")
                ),
            ));
            continue;
        }
        // Paths of entries that failed are already reported.
        let (Some(child), Some(outer)) = (
            deps.iter().find(|d| d.name == name),
            deps.iter().find(|d| d.name == parent),
        ) else {
            continue;
        };
        if child.path == outer.path || !child.path.starts_with(&outer.path) {
            errors.push(fail(
                raw.path.clone().unwrap_or_else(|| raw.parent.span()),
                "path",
                format!(
                    "`{}` is not inside `{}`, the folder of its parent `{parent}`",
                    child.path.display(),
                    outer.path.display()
                ),
            ));
            continue;
        }
        valid.push((name.to_owned(), parent.to_owned()));
    }
    for (name, parent) in valid {
        let Some(child) = deps.iter().find(|d| d.name == name).map(|d| d.path.clone()) else {
            continue;
        };
        if let Some(dep) = deps.iter_mut().find(|d| d.name == name) {
            dep.parent = Some(parent.clone());
        }
        // The nested folder is its own entry's: the parent's updates (and `verify`) leave it
        // alone, as if the parent kept it.
        if let Some(outer) = deps.iter_mut().find(|d| d.name == parent)
            && let Ok(inside) = child.strip_prefix(&outer.path)
        {
            outer.apply.keep = outer.apply.keep.with_path(inside);
        }
    }
    errors
}
