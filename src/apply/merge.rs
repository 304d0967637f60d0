//! Three-way updates: the vendored folder as committed (**ours**) against the vendored version
//! as upstream published it, laid out and patched by the same rules (**base**), and the new
//! version laid out (**theirs**), file by file, the way `git subtree pull` and `git am -3`
//! merge:
//!
//! - what only upstream changed (ours equals base) is taken as upstream has it;
//! - what only the project changed (theirs equals base) stays as the project has it: a file
//!   the project added survives (unless `exclude` names it), one it deleted stays deleted, one
//!   it edited keeps the edit;
//! - a file both changed is merged line by line by git's own merge (libgit2's xdiff, what
//!   `git merge-file` does); overlapping
//!   changes, a file upstream deleted that the project edited, or binary files changed on both
//!   sides are conflicts, named with their line ranges, and nothing is committed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use crate::summary::{Carried, CarriedKind};

/// A file of one side: its content (a link's target for links) and git mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    pub bytes: Vec<u8>,
    pub mode: i32,
}

/// A file the merge could not settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictFile {
    pub path: PathBuf,
    pub what: ConflictKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictKind {
    /// Overlapping edits: the line ranges (1-based, inclusive) of the conflict markers in the
    /// merged text.
    Lines(Vec<(usize, usize)>),
    /// Upstream deleted the file; the project edited it.
    DeletedUpstream,
    /// Both sides changed a binary file or a link differently.
    Binary,
}

impl std::fmt::Display for ConflictFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        match &self.what {
            ConflictKind::Lines(ranges) => {
                let ranges: Vec<String> = ranges
                    .iter()
                    .map(|(a, b)| {
                        if a == b {
                            format!("{a}")
                        } else {
                            format!("{a}-{b}")
                        }
                    })
                    .collect();
                write!(
                    f,
                    "`{path}`: both changed lines {} (of the merged file)",
                    ranges.join(", ")
                )
            }
            ConflictKind::DeletedUpstream => {
                write!(f, "`{path}`: upstream deleted it, the project edited it")
            }
            ConflictKind::Binary => write!(f, "`{path}`: both changed it, and it is not text"),
        }
    }
}

/// What the merge decided.
#[derive(Debug, Default)]
pub struct Merged {
    /// The new folder's files.
    pub files: BTreeMap<PathBuf, Outcome>,
    pub carried: Vec<Carried>,
    pub conflicts: Vec<ConflictFile>,
    /// With conflicts: each conflicting text file with its markers, for finishing by hand.
    pub marked: BTreeMap<PathBuf, Vec<u8>>,
}

/// Where a file of the result comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ours,
    Theirs,
    /// Merged content, with its mode.
    New(Side),
}

/// Merges three versions of a folder. `ours`, `base` and `theirs` give each side's files
/// (relative paths) by a cheap identity (a blob id); `read` loads a file of a side when its
/// content is needed; `dropped` says whether a file the project added is to go anyway
/// (`exclude`).
pub fn merge<Id: PartialEq + Copy>(
    ours: &BTreeMap<PathBuf, (Id, i32)>,
    base: &BTreeMap<PathBuf, (Id, i32)>,
    theirs: &BTreeMap<PathBuf, (Id, i32)>,
    read: &mut dyn FnMut(&Path, Which) -> std::io::Result<Vec<u8>>,
    dropped: &dyn Fn(&Path) -> bool,
    labels: [&str; 3],
) -> std::io::Result<Merged> {
    let mut merged = Merged::default();
    let paths: BTreeSet<&PathBuf> = ours
        .keys()
        .chain(base.keys())
        .chain(theirs.keys())
        .collect();
    for path in paths {
        let (o, b, t) = (ours.get(path), base.get(path), theirs.get(path));
        let carried = |kind| Carried {
            path: path.clone(),
            kind,
        };
        if o == b {
            // Only upstream changed it (or nobody did).
            if t.is_some() {
                merged.files.insert(path.clone(), Outcome::Theirs);
            }
            continue;
        }
        if t == b {
            // Only the project changed it.
            match (o, b) {
                (Some(_), None) if dropped(path) => {}
                (Some(_), None) => {
                    merged.files.insert(path.clone(), Outcome::Ours);
                    merged.carried.push(carried(CarriedKind::Added));
                }
                (Some(_), Some(_)) => {
                    merged.files.insert(path.clone(), Outcome::Ours);
                    merged.carried.push(carried(CarriedKind::Edited));
                }
                (None, _) => merged.carried.push(carried(CarriedKind::Deleted)),
            }
            continue;
        }
        if o == t {
            // Both made the same change.
            if o.is_some() {
                merged.files.insert(path.clone(), Outcome::Ours);
            }
            continue;
        }
        match (o, b, t) {
            (None, Some(_), Some(_)) => {
                // The project deleted it; upstream changed it: it stays deleted.
                merged.carried.push(carried(CarriedKind::Deleted));
            }
            (Some(_), Some(_), None) => merged.conflicts.push(ConflictFile {
                path: path.clone(),
                what: ConflictKind::DeletedUpstream,
            }),
            (Some(&(_, our_mode)), b, Some(&(_, their_mode))) => {
                let base_mode = b.map(|&(_, mode)| mode);
                let links = [Some(our_mode), base_mode, Some(their_mode)]
                    .contains(&Some(crate::vcs::MODE_LINK));
                let our_bytes = read(path, Which::Ours)?;
                let their_bytes = read(path, Which::Theirs)?;
                let base_bytes = match b {
                    Some(_) => read(path, Which::Base)?,
                    None => Vec::new(),
                };
                let binary = [&our_bytes, &base_bytes, &their_bytes]
                    .iter()
                    .any(|bytes| bytes.contains(&0));
                if links || binary {
                    merged.conflicts.push(ConflictFile {
                        path: path.clone(),
                        what: ConflictKind::Binary,
                    });
                    continue;
                }
                // The project's mode change wins, as git's merge would have it.
                let mode = if Some(our_mode) != base_mode {
                    our_mode
                } else {
                    their_mode
                };
                let merged_text =
                    crate::vcs::merge_text(&base_bytes, &our_bytes, &their_bytes, labels)
                        .map_err(std::io::Error::other)?;
                match merged_text {
                    Ok(bytes) => {
                        merged
                            .files
                            .insert(path.clone(), Outcome::New(Side { bytes, mode }));
                        merged.carried.push(carried(if b.is_some() {
                            CarriedKind::Merged
                        } else {
                            CarriedKind::Added
                        }));
                    }
                    Err(marked) => {
                        merged.conflicts.push(ConflictFile {
                            path: path.clone(),
                            what: ConflictKind::Lines(marker_ranges(&marked)),
                        });
                        merged.marked.insert(path.clone(), marked);
                    }
                }
            }
            // `o == b` and `t == b` were handled above, so one of o, t is present.
            (None, None, _) | (_, None, None) | (None, Some(_), None) => {
                unreachable!("handled above")
            }
        }
    }
    Ok(merged)
}

/// Which side to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Ours,
    Base,
    Theirs,
}

/// The line ranges between `<<<<<<<` and `>>>>>>>` markers, 1-based and inclusive.
fn marker_ranges(marked: &[u8]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut start = None;
    for (index, line) in marked.split(|&b| b == b'\n').enumerate() {
        if line.starts_with(b"<<<<<<<") {
            start = Some(index + 1);
        } else if line.starts_with(b">>>>>>>")
            && let Some(first) = start.take()
        {
            ranges.push((first, index + 1));
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    type Tree = BTreeMap<PathBuf, (u64, i32)>;

    /// Three sides from `(path, content)` lists; a file's id is its content's hash.
    fn run(
        ours: &[(&str, &str)],
        base: &[(&str, &str)],
        theirs: &[(&str, &str)],
    ) -> (Merged, [BTreeMap<PathBuf, String>; 3]) {
        use std::hash::{Hash, Hasher};
        let side = |files: &[(&str, &str)]| -> (Tree, BTreeMap<PathBuf, String>) {
            let mut ids = Tree::new();
            let mut texts = BTreeMap::new();
            for (path, text) in files {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                text.hash(&mut h);
                ids.insert(PathBuf::from(path), (h.finish(), crate::vcs::MODE_FILE));
                texts.insert(PathBuf::from(path), (*text).to_owned());
            }
            (ids, texts)
        };
        let (o, ot) = side(ours);
        let (b, bt) = side(base);
        let (t, tt) = side(theirs);
        let texts = [ot, bt, tt];
        let mut read = |path: &Path, which: Which| {
            let index = match which {
                Which::Ours => 0,
                Which::Base => 1,
                Which::Theirs => 2,
            };
            Ok(texts[index][path].clone().into_bytes())
        };
        let merged = merge(
            &o,
            &b,
            &t,
            &mut read,
            &|p| p.ends_with("drop.me"),
            ["ours", "base", "theirs"],
        )
        .unwrap();
        (merged, texts)
    }

    #[test]
    fn each_side_keeps_what_only_it_changed() {
        let (merged, _) = run(
            &[
                ("a.c", "a1"),
                ("edited.c", "mine"),
                ("BUILD.gn", "gn"),
                ("drop.me", "x"),
            ],
            &[("a.c", "a1"), ("edited.c", "old"), ("gone.c", "g")],
            &[
                ("a.c", "a2"),
                ("edited.c", "old"),
                ("gone.c", "g"),
                ("new.c", "n"),
            ],
        );
        let files: Vec<(&str, &Outcome)> = merged
            .files
            .iter()
            .map(|(p, o)| (p.to_str().unwrap(), o))
            .collect();
        assert_eq!(
            files,
            [
                ("BUILD.gn", &Outcome::Ours),
                ("a.c", &Outcome::Theirs),
                ("edited.c", &Outcome::Ours),
                ("new.c", &Outcome::Theirs),
            ]
        );
        let carried: Vec<(&str, CarriedKind)> = merged
            .carried
            .iter()
            .map(|c| (c.path.to_str().unwrap(), c.kind))
            .collect();
        assert_eq!(
            carried,
            [
                ("BUILD.gn", CarriedKind::Added),
                ("edited.c", CarriedKind::Edited),
                ("gone.c", CarriedKind::Deleted),
            ]
        );
        assert!(merged.conflicts.is_empty());
    }

    #[test]
    fn edits_on_both_sides_merge_line_by_line_or_conflict_with_their_lines() {
        let base = "one\ntwo\nthree\nfour\nfive\n";
        let ours = "one\nTWO (ours)\nthree\nfour\nfive\n";
        let theirs = "one\ntwo\nthree\nfour\nFIVE (upstream)\n";
        let (merged, _) = run(&[("f.c", ours)], &[("f.c", base)], &[("f.c", theirs)]);
        assert_eq!(
            merged.files[Path::new("f.c")],
            Outcome::New(Side {
                bytes: b"one\nTWO (ours)\nthree\nfour\nFIVE (upstream)\n".to_vec(),
                mode: crate::vcs::MODE_FILE
            })
        );
        assert_eq!(merged.carried[0].kind, CarriedKind::Merged);

        let theirs = "one\nTWO (upstream)\nthree\nfour\nfive\n";
        let (merged, _) = run(&[("f.c", ours)], &[("f.c", base)], &[("f.c", theirs)]);
        assert_eq!(
            merged.conflicts,
            [ConflictFile {
                path: "f.c".into(),
                what: ConflictKind::Lines(vec![(2, 8)]),
            }]
        );
        assert!(
            String::from_utf8_lossy(&merged.marked[Path::new("f.c")]).contains("TWO (upstream)")
        );

        let (merged, _) = run(&[("f.c", ours)], &[("f.c", base)], &[]);
        assert_eq!(merged.conflicts[0].what, ConflictKind::DeletedUpstream);
    }
}
