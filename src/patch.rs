//! Patch queues: a project's own changes to a vendored dependency, kept as unified diffs
//! (what `git format-patch` and `git diff` write) and applied to every new upstream tree.
//!
//! Parsing is libgit2's (quoted names, renames, modes, `format-patch` mail headers). Applying
//! is ours, with `git apply`'s tolerance: a hunk is found by its context and removed lines,
//! starting at the line its header names and moving outward, so upstream code that moved
//! does not stop it; a hunk at a file's start or end (no leading or trailing context) stays
//! anchored there; there is no fuzz, so every context line must match. A patch applies whole
//! or not at all. A patch whose reverse applies is [`PatchState::AlreadyUpstream`].
//!
//! [`write()`] does the opposite: the unified diff between two versions of some files, in the
//! form [`parse`] reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Lines of context [`write`] puts around each change, as `git diff` does.
const CONTEXT: usize = 3;

/// A file's content and whether it is executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub bytes: Vec<u8>,
    pub executable: bool,
}

/// One parsed patch file.
#[derive(Debug, Clone)]
pub struct Patch {
    files: Vec<FilePatch>,
}

#[derive(Debug, Clone)]
struct FilePatch {
    /// `None` when the patch creates the file.
    old: Option<PathBuf>,
    /// `None` when the patch deletes the file.
    new: Option<PathBuf>,
    /// The new executable bit, when the patch names the mode.
    executable: Option<bool>,
    /// The patch changes a symbolic link or a binary file, which are not applied.
    unsupported: Option<&'static str>,
    hunks: Vec<Hunk>,
}

#[derive(Debug, Clone)]
struct Hunk {
    /// `@@ -12,7 +12,8 @@ context`, for messages.
    header: String,
    old_start: usize,
    new_start: usize,
    /// Context and removed lines, each with its line end (none on a last line without one).
    old: Vec<Vec<u8>>,
    /// Context and added lines.
    new: Vec<Vec<u8>>,
    /// Whether the hunk ends with context: without it, it must match at the file's end.
    trailing_context: bool,
}

/// What happened to one queued patch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PatchOutcome {
    /// The patch file, relative to the repository root, `/`-separated.
    pub patch: String,
    pub state: PatchState,
}

/// How a queued patch met the new tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatchState {
    Applied,
    /// The new tree already holds the patch's change: the patch can be deleted.
    AlreadyUpstream,
    /// It did not apply exactly; the queue's changes were merged three-way from the
    /// committed folder instead: the patch should be refreshed.
    Merged,
}

/// Why a patch does not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The file the patch could not change, relative to the dependency's folder.
    pub file: PathBuf,
    /// The failing hunk: its number in the file's section (from 1) and its header.
    pub hunk: Option<(usize, String)>,
    pub reason: String,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file = crate::printer::sanitize(&self.file.to_string_lossy());
        match &self.hunk {
            Some((number, header)) => write!(
                f,
                "hunk {number} of `{file}` (`{}`) {}",
                crate::printer::sanitize(header),
                self.reason
            ),
            None => write!(f, "`{file}` {}", self.reason),
        }
    }
}

/// A patch file git cannot read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(String);

/// Reads a patch file: one or more `diff --git` sections, with any mail headers before them.
pub fn parse(bytes: &[u8]) -> Result<Patch, ParseError> {
    let text = String::from_utf8_lossy(bytes);
    if !text.lines().any(|l| l.starts_with("diff --git ")) {
        return Err(ParseError(
            "no `diff --git` section: write patches with `git diff` or `git format-patch`".into(),
        ));
    }
    let diff = git2::Diff::from_buffer(bytes).map_err(|e| ParseError(e.message().to_owned()))?;
    let mut files = Vec::new();
    for (index, delta) in diff.deltas().enumerate() {
        let path = |file: git2::DiffFile<'_>| file.path().map(Path::to_owned);
        let (old, new) = match delta.status() {
            git2::Delta::Added => (None, path(delta.new_file())),
            git2::Delta::Deleted => (path(delta.old_file()), None),
            _ => (path(delta.old_file()), path(delta.new_file())),
        };
        let is_link = |mode: git2::FileMode| mode == git2::FileMode::Link;
        let unsupported = if is_link(delta.old_file().mode()) || is_link(delta.new_file().mode()) {
            Some("changes a symbolic link, which patches here cannot")
        } else if delta.flags().is_binary() {
            Some("is a binary change, which patches here cannot apply")
        } else {
            None
        };
        let executable = match (delta.old_file().mode(), delta.new_file().mode()) {
            (_, git2::FileMode::BlobExecutable) => Some(true),
            (git2::FileMode::BlobExecutable, git2::FileMode::Blob) => Some(false),
            _ => None,
        };
        let mut hunks = Vec::new();
        if let Some(patch) =
            git2::Patch::from_diff(&diff, index).map_err(|e| ParseError(e.message().to_owned()))?
        {
            for h in 0..patch.num_hunks() {
                let (hunk, count) = patch
                    .hunk(h)
                    .map_err(|e| ParseError(e.message().to_owned()))?;
                let mut lines: Vec<(char, Vec<u8>)> = Vec::with_capacity(count);
                for l in 0..count {
                    let line = patch
                        .line_in_hunk(h, l)
                        .map_err(|e| ParseError(e.message().to_owned()))?;
                    match line.origin() {
                        // "\ No newline at end of file": the line before it has no line end.
                        '=' | '>' | '<' => {
                            if let Some((_, last)) = lines.last_mut()
                                && last.last() == Some(&b'\n')
                            {
                                last.pop();
                            }
                        }
                        origin => lines.push((origin, line.content().to_vec())),
                    }
                }
                let side = |keep: char| -> Vec<Vec<u8>> {
                    lines
                        .iter()
                        .filter(|(o, _)| *o == ' ' || *o == keep)
                        .map(|(_, l)| l.clone())
                        .collect()
                };
                hunks.push(Hunk {
                    header: String::from_utf8_lossy(hunk.header()).trim_end().to_owned(),
                    old_start: hunk.old_start() as usize,
                    new_start: hunk.new_start() as usize,
                    old: side('-'),
                    new: side('+'),
                    trailing_context: lines.last().is_some_and(|(o, _)| *o == ' '),
                });
            }
        }
        files.push(FilePatch {
            old,
            new,
            executable,
            unsupported,
            hunks,
        });
    }
    if files.is_empty() {
        return Err(ParseError("the patch changes no file".into()));
    }
    Ok(Patch { files })
}

impl Patch {
    /// The patch that undoes this one.
    pub fn reversed(&self) -> Patch {
        let files = self
            .files
            .iter()
            .map(|file| FilePatch {
                old: file.new.clone(),
                new: file.old.clone(),
                executable: file.executable.map(|e| !e),
                unsupported: file.unsupported,
                hunks: file
                    .hunks
                    .iter()
                    .map(|hunk| Hunk {
                        header: hunk.header.clone(),
                        old_start: hunk.new_start,
                        new_start: hunk.old_start,
                        old: hunk.new.clone(),
                        new: hunk.old.clone(),
                        trailing_context: hunk.trailing_context,
                    })
                    .collect(),
            })
            .collect();
        Patch { files }
    }

    /// The files the patch touches.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files
            .iter()
            .flat_map(|f| f.old.iter().chain(f.new.iter()))
            .map(PathBuf::as_path)
    }
}

/// Files being patched: the changes so far over a read-only base.
pub struct Workspace<'a, E> {
    base: &'a dyn Fn(&Path) -> Result<Option<Content>, E>,
    /// Changed files; `None` for a deleted one.
    edits: BTreeMap<PathBuf, Option<Content>>,
}

/// Why a patch did not apply: it conflicts, or a file could not be read.
#[derive(Debug)]
pub enum Failure<E> {
    Conflict(Conflict),
    Read(E),
}

impl<'a, E> Workspace<'a, E> {
    pub fn new(base: &'a dyn Fn(&Path) -> Result<Option<Content>, E>) -> Self {
        Self {
            base,
            edits: BTreeMap::new(),
        }
    }

    fn get(&self, path: &Path) -> Result<Option<Content>, E> {
        match self.edits.get(path) {
            Some(content) => Ok(content.clone()),
            None => (self.base)(path),
        }
    }

    /// Applies `patch`, or says it is already upstream; on a conflict nothing changes.
    pub fn apply(&mut self, patch: &Patch) -> Result<PatchState, Failure<E>> {
        match self.attempt(patch) {
            Ok(changes) => {
                self.edits.extend(changes);
                Ok(PatchState::Applied)
            }
            Err(Failure::Conflict(conflict)) => match self.attempt(&patch.reversed()) {
                Ok(_) => Ok(PatchState::AlreadyUpstream),
                Err(Failure::Read(e)) => Err(Failure::Read(e)),
                Err(Failure::Conflict(_)) => Err(Failure::Conflict(conflict)),
            },
            Err(failure) => Err(failure),
        }
    }

    /// The files changed so far; `None` for deleted ones.
    pub fn into_edits(self) -> BTreeMap<PathBuf, Option<Content>> {
        self.edits
    }

    /// What `patch` would change, file by file, without changing anything.
    fn attempt(&self, patch: &Patch) -> Result<Vec<(PathBuf, Option<Content>)>, Failure<E>> {
        let mut changes: Vec<(PathBuf, Option<Content>)> = Vec::new();
        for file in &patch.files {
            let shown = file.new.as_ref().or(file.old.as_ref()).cloned();
            let conflict = |reason: &str| {
                Failure::Conflict(Conflict {
                    file: shown.clone().unwrap_or_default(),
                    hunk: None,
                    reason: reason.to_owned(),
                })
            };
            if let Some(reason) = file.unsupported {
                return Err(conflict(reason));
            }
            // A later section may change a file an earlier one wrote.
            let read = |path: &Path| -> Result<Option<Content>, Failure<E>> {
                match changes.iter().rev().find(|(p, _)| p == path) {
                    Some((_, content)) => Ok(content.clone()),
                    None => self.get(path).map_err(Failure::Read),
                }
            };
            let original = match &file.old {
                Some(old) => match read(old)? {
                    Some(content) => content,
                    None => return Err(conflict("is not in the tree the patch is applied to")),
                },
                None => {
                    if let Some(new) = &file.new
                        && read(new)?.is_some()
                    {
                        return Err(conflict("already exists, and the patch would create it"));
                    }
                    Content {
                        bytes: Vec::new(),
                        executable: false,
                    }
                }
            };
            if let (Some(old), Some(new)) = (&file.old, &file.new)
                && old != new
                && read(new)?.is_some()
            {
                return Err(conflict(
                    "already exists, and the patch would rename a file to it",
                ));
            }
            let bytes = apply_hunks(&original.bytes, &file.hunks).map_err(|(number, reason)| {
                Failure::Conflict(Conflict {
                    file: shown.clone().unwrap_or_default(),
                    hunk: Some((number + 1, file.hunks[number].header.clone())),
                    reason,
                })
            })?;
            match &file.new {
                None => {
                    if !bytes.is_empty() {
                        return Err(conflict(
                            "differs from the copy the patch deletes (the patch leaves lines behind)",
                        ));
                    }
                    changes.push((file.old.clone().expect("a deleted file has a name"), None));
                }
                Some(new) => {
                    if let Some(old) = &file.old
                        && old != new
                    {
                        changes.push((old.clone(), None));
                    }
                    let executable = file.executable.unwrap_or(original.executable);
                    changes.push((new.clone(), Some(Content { bytes, executable })));
                }
            }
        }
        Ok(changes)
    }
}

/// Applies `hunks` in order; on failure, the failing hunk's index and why.
fn apply_hunks(original: &[u8], hunks: &[Hunk]) -> Result<Vec<u8>, (usize, String)> {
    let mut lines: Vec<&[u8]> = original.split_inclusive(|b| *b == b'\n').collect();
    let mut offset: isize = 0;
    for (index, hunk) in hunks.iter().enumerate() {
        let old: Vec<&[u8]> = hunk.old.iter().map(Vec::as_slice).collect();
        let Some(last_start) = lines.len().checked_sub(old.len()) else {
            return Err((
                index,
                "does not match: the file is shorter than the hunk".into(),
            ));
        };
        let expected =
            (hunk.new_start.max(1) as isize - 1 + offset).clamp(0, last_start as isize) as usize;
        let at_start = hunk.old_start <= 1;
        let at_end = !hunk.trailing_context;
        let fits = |p: usize| lines[p..p + old.len()] == old[..];
        let found = if at_start {
            (fits(0) && (!at_end || last_start == 0)).then_some(0)
        } else if at_end {
            fits(last_start).then_some(last_start)
        } else {
            (0..=last_start.max(expected))
                .flat_map(|d| [expected.checked_sub(d), expected.checked_add(d)])
                .flatten()
                .filter(|p| *p <= last_start)
                .find(|p| fits(*p))
        };
        let Some(position) = found else {
            return Err((
                index,
                "does not match: its context and removed lines are not in the file".into(),
            ));
        };
        offset = position as isize - (hunk.new_start.max(1) as isize - 1);
        lines.splice(
            position..position + old.len(),
            hunk.new.iter().map(Vec::as_slice),
        );
    }
    Ok(lines.concat())
}

/// One file's two sides for [`write()`].
pub struct FileDiff<'a> {
    /// Relative to the dependency's folder, `/`-separated.
    pub path: String,
    pub old: Option<&'a Content>,
    pub new: Option<&'a Content>,
}

/// A unified diff of `files`, as `git diff` writes it (paths `a/…` and `b/…`), that
/// [`parse`] reads back; or the first file that is not text, which a diff cannot hold.
pub fn write(files: &[FileDiff<'_>]) -> Result<String, String> {
    let mut out = String::new();
    for file in files {
        let path = &file.path;
        let mode = |c: &Content| if c.executable { "100755" } else { "100644" };
        out.push_str(&format!("diff --git a/{path} b/{path}\n"));
        match (file.old, file.new) {
            (None, Some(new)) => out.push_str(&format!("new file mode {}\n", mode(new))),
            (Some(old), None) => out.push_str(&format!("deleted file mode {}\n", mode(old))),
            (Some(old), Some(new)) if old.executable != new.executable => {
                out.push_str(&format!("old mode {}\nnew mode {}\n", mode(old), mode(new)));
            }
            _ => {}
        }
        fn text(c: Option<&Content>) -> Option<&str> {
            std::str::from_utf8(c.map(|c| c.bytes.as_slice()).unwrap_or_default())
                .ok()
                .filter(|t| !t.contains('\0'))
        }
        let (Some(old), Some(new)) = (text(file.old), text(file.new)) else {
            return Err(path.clone());
        };
        if old == new {
            continue;
        }
        let (old_name, new_name) = (
            file.old
                .map_or("/dev/null".to_owned(), |_| format!("a/{path}")),
            file.new
                .map_or("/dev/null".to_owned(), |_| format!("b/{path}")),
        );
        let text = similar::TextDiff::from_lines(old, new);
        let diff = text
            .unified_diff()
            .context_radius(CONTEXT)
            .missing_newline_hint(true)
            .header(&old_name, &new_name)
            .to_string();
        out.push_str(&diff);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(text: &str) -> Content {
        Content {
            bytes: text.as_bytes().to_vec(),
            executable: false,
        }
    }

    /// Each changed file and its new text (`None`: deleted).
    type Edits = Vec<(String, Option<String>)>;

    fn apply(files: &[(&str, &str)], patch: &str) -> Result<(PatchState, Edits), String> {
        let files: BTreeMap<PathBuf, Content> = files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), content(t)))
            .collect();
        let base = |path: &Path| -> Result<Option<Content>, ()> { Ok(files.get(path).cloned()) };
        let mut workspace = Workspace::new(&base);
        let patch = parse(patch.as_bytes()).map_err(|e| e.to_string())?;
        let state = workspace.apply(&patch).map_err(|f| match f {
            Failure::Conflict(c) => c.to_string(),
            Failure::Read(()) => "read".into(),
        })?;
        let edits = workspace
            .into_edits()
            .into_iter()
            .map(|(p, c)| {
                (
                    p.display().to_string(),
                    c.map(|c| String::from_utf8(c.bytes).unwrap()),
                )
            })
            .collect();
        Ok((state, edits))
    }

    const FILE: &str = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";
    const PATCH: &str = "From 1 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] fix\n\n---\n\
        diff --git a/src/a.c b/src/a.c\nindex 3b18e51..a5c1966 100644\n--- a/src/a.c\n+++ b/src/a.c\n\
        @@ -3,3 +3,3 @@ two\n three\n-four\n+FOUR\n five\n-- \n2.43.0\n";

    #[test]
    fn applies_at_the_named_line_and_at_an_offset() {
        let (state, edits) = apply(&[("src/a.c", FILE)], PATCH).unwrap();
        assert_eq!(state, PatchState::Applied);
        assert_eq!(
            edits,
            [("src/a.c".to_owned(), Some(FILE.replace("four", "FOUR")))]
        );
        let moved = format!("zero\nzero\nzero\n{FILE}");
        let (_, edits) = apply(&[("src/a.c", &moved)], PATCH).unwrap();
        assert_eq!(
            edits[0].1.as_deref(),
            Some(moved.replace("four", "FOUR").as_str())
        );
    }

    #[test]
    fn tells_already_upstream_from_conflicts() {
        let (state, edits) = apply(&[("src/a.c", &FILE.replace("four", "FOUR"))], PATCH).unwrap();
        assert_eq!(state, PatchState::AlreadyUpstream);
        assert!(edits.is_empty());
        let error = apply(&[("src/a.c", &FILE.replace("five", "FIVE"))], PATCH).unwrap_err();
        assert_eq!(
            error,
            "hunk 1 of `src/a.c` (`@@ -3,3 +3,3 @@ two`) does not match: its context and removed lines are not in the file"
        );
        let error = apply(&[], PATCH).unwrap_err();
        assert_eq!(
            error,
            "`src/a.c` is not in the tree the patch is applied to"
        );
    }

    #[test]
    fn written_diffs_read_back_with_creations_deletions_and_missing_line_ends() {
        let (old_a, new_a) = (
            content(FILE),
            content(&FILE.replace("six\n", "6\n").replace("seven\n", "seven")),
        );
        let gone = content("bye\n");
        let mut born = content("hello");
        born.executable = true;
        let text = write(&[
            FileDiff {
                path: "a.c".into(),
                old: Some(&old_a),
                new: Some(&new_a),
            },
            FileDiff {
                path: "gone.c".into(),
                old: Some(&gone),
                new: None,
            },
            FileDiff {
                path: "new dir/born.sh".into(),
                old: None,
                new: Some(&born),
            },
        ])
        .unwrap();
        let (state, edits) = apply(&[("a.c", FILE), ("gone.c", "bye\n")], &text).unwrap();
        assert_eq!(state, PatchState::Applied, "{text}");
        assert_eq!(
            edits,
            [
                (
                    "a.c".to_owned(),
                    Some(String::from_utf8(new_a.bytes.clone()).unwrap())
                ),
                ("gone.c".to_owned(), None),
                ("new dir/born.sh".to_owned(), Some("hello".to_owned())),
            ]
        );
    }

    #[test]
    fn hunks_without_trailing_context_stay_at_the_end() {
        let patch = "diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -5,3 +5,4 @@ x\n five\n six\n seven\n+eight\n";
        let (_, edits) = apply(&[("a", FILE)], patch).unwrap();
        assert_eq!(
            edits[0].1.as_deref(),
            Some(format!("{FILE}eight\n").as_str())
        );
        let longer = format!("{FILE}five\nsix\nseven\nlast\n");
        assert!(apply(&[("a", &longer)], patch).is_err());
    }

    #[test]
    fn rejects_text_that_is_not_a_git_diff() {
        assert!(parse(b"--- a\n+++ b\n@@ -1 +1 @@\n-a\n+b\n").is_err());
    }
}
