//! What a reviewer should look at beyond the diff: upstream source files that the
//! project's build files (`*.gyp`, `*.gn`, `CMakeLists.txt`, ...) do not follow, and license
//! changes.

use std::path::Path;

use crate::diff::{ChangeKind, ChangeSummary};
use crate::summary::code;

/// Files that list sources for a build system.
pub fn is_build_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name == "CMakeLists.txt"
        || [".gyp", ".gypi", ".gn", ".gni"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

fn is_source_file(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    [
        "c", "cc", "cpp", "cxx", "h", "hh", "hpp", "hxx", "s", "asm", "inc",
    ]
    .contains(&ext.as_str())
}

/// What a reviewer should look at beyond the diff.
pub fn needs_look(changes: &ChangeSummary, build_files: &[String]) -> Vec<String> {
    let mentioned = |path: &Path| {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        build_files.iter().any(|text| text.contains(&name))
    };
    let listed = |kind: ChangeKind, want_mentioned: bool| -> Vec<String> {
        changes
            .files
            .iter()
            .filter(|f| {
                f.kind == kind && is_source_file(&f.path) && mentioned(&f.path) == want_mentioned
            })
            .map(|f| format!("`{}`", code(&f.path.display().to_string())))
            .collect()
    };
    let mut items = Vec::new();
    if !build_files.is_empty() {
        let added = listed(ChangeKind::Added, false);
        if !added.is_empty() {
            items.push(format!(
                "new upstream source files that no build file mentions: {}",
                added.join(", ")
            ));
        }
        let removed = listed(ChangeKind::Removed, true);
        if !removed.is_empty() {
            items.push(format!(
                "source files removed upstream that a build file still mentions: {}",
                removed.join(", ")
            ));
        }
    }
    for file in &changes.files {
        let name = file
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_uppercase())
            .unwrap_or_default();
        if ["LICENSE", "LICENCE", "COPYING", "NOTICE"]
            .iter()
            .any(|l| name.starts_with(l))
        {
            let how = match file.kind {
                ChangeKind::Added => "added",
                ChangeKind::Removed => "removed",
                ChangeKind::Modified => "changed",
            };
            items.push(format!(
                "license file `{}` {how} (+{} -{} lines)",
                code(&file.path.display().to_string()),
                file.lines_added,
                file.lines_removed
            ));
        }
    }
    items
}
