//! Laying a new upstream tree into a dependency's `path`.
//!
//! [`stage`] maps an unpacked archive (or exported git tree) to the files that will be
//! vendored: leading components dropped by `strip`, then `include` and `exclude` applied
//! (to upstream's paths), then upstream folders moved by `map`. Files matching `keep` are the
//! project's own: they always come from the current tree, never from upstream. Everything
//! else under `path` is replaced, so files deleted upstream disappear. With
//! `format = "file"`, [`single_file`] makes the download the one file `path` names, and
//! [`Placement`] says that nothing beside it is touched. The result is a plan;
//! [`super::commit`] turns it into a tree and a commit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::archive::{ArchiveError, Unpacked, check_links, shown_path};
use crate::manifest::{ApplySpec, Dependency, Format};

/// One file of the new vendored tree, relative to the dependency's `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staged {
    /// A regular file unpacked at this absolute path.
    File { source: PathBuf, executable: bool },
    /// A symbolic link with this relative target.
    Link { target: PathBuf },
}

/// Why the new tree could not be laid out.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("nothing would be vendored: {0}")]
    Empty(String),
    #[error("`map` puts two upstream files at `{}`: `{}` and `{}`", path.display(), first.display(), second.display())]
    MapCollision {
        path: PathBuf,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

impl LayoutError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Empty(_) => {
                Some("check `strip`, `include` and `exclude` against the archive's layout".into())
            }
            Self::MapCollision { .. } => {
                Some("map the folders elsewhere, or `exclude` one of the two files".into())
            }
            Self::Archive(e) => e.hint(),
        }
    }
}

/// Where a dependency's files live in the repository: the folder whose files the staged
/// tree replaces, and, for a single file, the one name in it that is the dependency's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Relative to the repository root.
    pub folder: PathBuf,
    /// `format = "file"`: the file's name; every other file of `folder` is left alone.
    pub only: Option<PathBuf>,
}

impl Placement {
    pub fn of(dep: &Dependency) -> Self {
        match dep.apply.format {
            Format::Archive => Self {
                folder: dep.path.clone(),
                only: None,
            },
            Format::File => Self {
                folder: dep.path.parent().map(Path::to_owned).unwrap_or_default(),
                only: dep.path.file_name().map(PathBuf::from),
            },
        }
    }

    /// Whether a file of `folder` (relative to it) belongs to the dependency.
    pub fn owns(&self, path: &Path) -> bool {
        self.only.as_deref().is_none_or(|only| path == only)
    }
}

/// `format = "file"`: the downloaded file is the dependency, named as `path` says.
pub fn single_file(path: &Path, file: &Path) -> BTreeMap<PathBuf, Staged> {
    let name = path.file_name().map(PathBuf::from).unwrap_or_default();
    BTreeMap::from([(
        name,
        Staged::File {
            source: file.to_owned(),
            executable: false,
        },
    )])
}

/// The files upstream provides, under `root` (where the archive was unpacked), after
/// `strip`, `include`, `exclude` and `keep`. Without `strip`, an archive's single top folder
/// is dropped; a git tree (`from_archive = false`) is taken as it is.
pub fn stage(
    unpacked: &Unpacked,
    root: &Path,
    spec: &ApplySpec,
    from_archive: bool,
) -> Result<BTreeMap<PathBuf, Staged>, LayoutError> {
    let all = || unpacked.files.keys().chain(unpacked.links.keys());
    let strip = spec.strip.unwrap_or_else(|| {
        if !from_archive {
            return 0;
        }
        // By default a single top folder (`nghttp2-1.64.0/`) is dropped.
        let mut tops = all().map(|p| (p.components().next(), p.components().count() > 1));
        match tops.next() {
            Some((Some(first), true)) if tops.all(|(top, deeper)| top == Some(first) && deeper) => {
                1
            }
            _ => 0,
        }
    });
    let mapped = |path: &Path| -> Option<PathBuf> {
        let rest: PathBuf = path.components().skip(strip).collect();
        let wanted = !rest.as_os_str().is_empty()
            && (spec.include.is_empty() || spec.include.matches(&rest))
            && !spec.exclude.matches(&rest);
        if !wanted {
            return None;
        }
        let rest = moved(&spec.map, rest);
        (!spec.keep.matches(&rest)).then_some(rest)
    };
    let mut staged: BTreeMap<PathBuf, Staged> = BTreeMap::new();
    let mut place = |rel: PathBuf, from: &Path, file: Staged| {
        // Git trees store bytes, but renaming or merging names silently would be worse than
        // refusing: every later step (diff, summary, patches) shows names as text.
        if rel.to_str().is_none() {
            return Err(LayoutError::Archive(ArchiveError::NotUtf8 {
                entry: shown_path(from),
            }));
        }
        match staged.entry(rel) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(file);
                Ok(())
            }
            // Where the first one came from is in its source path (no per-file map of
            // origins is kept: memory stays one entry per file).
            std::collections::btree_map::Entry::Occupied(taken) => {
                let first = match taken.get() {
                    Staged::File { source, .. } => {
                        source.strip_prefix(root).unwrap_or(source).to_owned()
                    }
                    Staged::Link { .. } => taken.key().clone(),
                };
                Err(LayoutError::MapCollision {
                    path: taken.key().clone(),
                    first,
                    second: from.to_owned(),
                })
            }
        }
    };
    for (path, executable) in &unpacked.files {
        if let Some(rel) = mapped(path) {
            let file = Staged::File {
                source: root.join(path),
                executable: *executable,
            };
            place(rel, path, file)?;
        }
    }
    for (path, target) in &unpacked.links {
        if let Some(rel) = mapped(path) {
            let link = Staged::Link {
                target: target.clone(),
            };
            place(rel, path, link)?;
        }
    }
    // Links are checked on the tree as laid out: `strip` and `map` change where they point.
    check_links(staged.iter().filter_map(|(path, file)| match file {
        Staged::Link { target } => Some((path.as_path(), target.as_path())),
        Staged::File { .. } => None,
    }))?;
    if staged.is_empty() {
        let total = unpacked.files.len() + unpacked.links.len();
        return Err(LayoutError::Empty(format!(
            "of the archive's {total} entries, none is left after `strip = {strip}`{}{}",
            patterns(" and `include`", spec.include.patterns()),
            patterns(" and `exclude`", spec.exclude.patterns()),
        )));
    }
    Ok(staged)
}

/// `path` with the first `map` folder it lies in replaced by that folder's target.
fn moved(map: &[(PathBuf, PathBuf)], path: PathBuf) -> PathBuf {
    map.iter()
        .find_map(|(from, to)| {
            let rest = path.strip_prefix(from).ok()?;
            // A file mapped by its own name has no rest to join (onto the root: its name).
            Some(
                match (rest.as_os_str().is_empty(), to.as_os_str().is_empty()) {
                    (true, true) => PathBuf::from(path.file_name().unwrap_or_default()),
                    (true, false) => to.clone(),
                    (false, _) => to.join(rest),
                },
            )
        })
        .unwrap_or(path)
}

fn patterns(label: &str, patterns: &[String]) -> String {
    if patterns.is_empty() {
        return String::new();
    }
    format!(
        "{label} {}",
        patterns
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unpacked(files: &[&str]) -> Unpacked {
        Unpacked {
            files: files.iter().map(|f| (PathBuf::from(f), false)).collect(),
            ..Unpacked::default()
        }
    }

    fn spec(toml: &str) -> ApplySpec {
        let text = format!(
            "[deps.x]\npath = \"x\"\nsource = \"npm\"\npackage = \"x\"\nversion = \"1\"\n{toml}\n"
        );
        crate::manifest::Manifest::parse(Path::new("deps.toml"), &text)
            .unwrap()
            .deps
            .remove(0)
            .apply
    }

    fn stage_archive(
        unpacked: &Unpacked,
        spec: &ApplySpec,
    ) -> Result<BTreeMap<PathBuf, Staged>, LayoutError> {
        stage(unpacked, Path::new("/u"), spec, true)
    }

    fn names(staged: &BTreeMap<PathBuf, Staged>) -> Vec<String> {
        staged.keys().map(|p| p.display().to_string()).collect()
    }

    #[test]
    fn strips_a_single_top_folder_by_default() {
        let archive = unpacked(&[
            "nghttp2-1.64.0/COPYING",
            "nghttp2-1.64.0/lib/a.c",
            "nghttp2-1.64.0/src/app.cc",
        ]);
        let staged = stage_archive(&archive, &spec("include = [\"lib/**\", \"COPYING\"]")).unwrap();
        assert_eq!(names(&staged), ["COPYING", "lib/a.c"]);
        // Two top-level entries: nothing is stripped.
        let flat = unpacked(&["simdutf.h", "simdutf.cpp"]);
        assert_eq!(
            names(&stage_archive(&flat, &ApplySpec::default()).unwrap()),
            ["simdutf.cpp", "simdutf.h"]
        );
        // A single top-level file is not a folder to strip.
        let single = unpacked(&["ada.h"]);
        assert_eq!(
            names(&stage_archive(&single, &ApplySpec::default()).unwrap()),
            ["ada.h"]
        );
    }

    #[test]
    fn exclude_and_keep_win_over_upstream() {
        let archive = unpacked(&["p/lib/a.c", "p/test/t.c", "p/BUILD.gn"]);
        let staged = stage_archive(
            &archive,
            &spec("exclude = [\"test\"]\nkeep = [\"BUILD.gn\"]"),
        )
        .unwrap();
        assert_eq!(names(&staged), ["lib/a.c"]);
    }

    #[test]
    fn an_empty_result_is_an_error() {
        let archive = unpacked(&["p/src/a.c"]);
        let error =
            stage_archive(&archive, &spec("strip = 1\ninclude = [\"lib/**\"]")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "nothing would be vendored: of the archive's 1 entries, none is left after `strip = 1` and `include` `lib/**`"
        );
    }
}
