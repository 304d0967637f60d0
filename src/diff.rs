//! Change summaries and unified diffs of a dependency's files, with `similar`.

use std::path::PathBuf;

use similar::{ChangeTag, TextDiff};

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Modified,
}

/// One changed file, relative to the dependency's `path`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileChange {
    pub path: PathBuf,
    pub kind: ChangeKind,
    pub lines_added: usize,
    pub lines_removed: usize,
    pub binary: bool,
}

/// All changes of an update, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChangeSummary {
    pub files: Vec<FileChange>,
}

impl ChangeSummary {
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.files.iter().filter(|f| f.kind == kind).count()
    }

    pub fn lines(&self) -> (usize, usize) {
        self.files
            .iter()
            .fold((0, 0), |(a, r), f| (a + f.lines_added, r + f.lines_removed))
    }

    /// `3 added, 1 removed, 12 modified (+420 -97 lines)`.
    pub fn totals(&self) -> String {
        let (added, removed) = self.lines();
        format!(
            "{} added, {} removed, {} modified (+{added} -{removed} lines)",
            self.count(ChangeKind::Added),
            self.count(ChangeKind::Removed),
            self.count(ChangeKind::Modified),
        )
    }

    /// One line per file: `M lib/a.c  +3 -1`.
    pub fn table(&self) -> String {
        let width = self
            .files
            .iter()
            .map(|f| f.path.as_os_str().len())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for file in &self.files {
            let mark = match file.kind {
                ChangeKind::Added => 'A',
                ChangeKind::Removed => 'D',
                ChangeKind::Modified => 'M',
            };
            let lines = if file.binary {
                "binary".to_owned()
            } else {
                format!("+{} -{}", file.lines_added, file.lines_removed)
            };
            out.push_str(&format!("{mark} {:width$}  {lines}\n", file.path.display()));
        }
        out
    }
}

/// Lines added and removed between two versions of a file; `None` when either is binary.
pub fn line_changes(old: &[u8], new: &[u8]) -> Option<(usize, usize)> {
    let (old, new) = (text(old)?, text(new)?);
    let diff = TextDiff::from_lines(old, new);
    Some(
        diff.iter_all_changes()
            .fold((0, 0), |(a, r), change| match change.tag() {
                ChangeTag::Insert => (a + 1, r),
                ChangeTag::Delete => (a, r + 1),
                ChangeTag::Equal => (a, r),
            }),
    )
}

/// A unified diff of one file (`a/` and `b/` prefixed paths), coloured with ANSI when asked.
pub fn unified(path: &str, old: &[u8], new: &[u8], color: bool) -> String {
    let (Some(old_text), Some(new_text)) = (text(old), text(new)) else {
        return format!("Binary files a/{path} and b/{path} differ\n");
    };
    let diff = TextDiff::from_lines(old_text, new_text);
    let old_name = if old.is_empty() {
        "/dev/null".to_owned()
    } else {
        format!("a/{path}")
    };
    let new_name = if new.is_empty() {
        "/dev/null".to_owned()
    } else {
        format!("b/{path}")
    };
    let body = diff
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &new_name)
        .to_string();
    if !color {
        return body;
    }
    body.lines()
        .map(|line| {
            let style = match line.as_bytes().first() {
                Some(b'+') if !line.starts_with("+++") => "32",
                Some(b'-') if !line.starts_with("---") => "31",
                Some(b'@') => "36",
                _ => return format!("{line}\n"),
            };
            format!("\x1b[{style}m{line}\x1b[0m\n")
        })
        .collect()
}

fn text(bytes: &[u8]) -> Option<&str> {
    if bytes.contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_spots_binaries() {
        assert_eq!(line_changes(b"a\nb\nc\n", b"a\nB\nc\nd\n"), Some((2, 1)));
        assert_eq!(line_changes(b"", b"x\n"), Some((1, 0)));
        assert_eq!(line_changes(b"\0\x01", b"x"), None);
    }

    #[test]
    fn unified_diff_has_git_style_headers() {
        let text = unified("lib/a.c", b"one\ntwo\n", b"one\n2\n", false);
        assert_eq!(
            text,
            "--- a/lib/a.c\n+++ b/lib/a.c\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n"
        );
        assert!(unified("new.c", b"", b"x\n", false).starts_with("--- /dev/null\n+++ b/new.c\n"));
    }
}
