//! The import graph of the crate's top-level modules has no circle, and nothing below the
//! face (`cli`, `commands`, `main`) imports it: checked on the source, so a change that opens
//! a circle fails here and not in a review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `crate::NAME` references of each top-level module, outside comments and `#[cfg(test)]`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let first = relative.components().next().unwrap();
            let module = first
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned();
            if module == "lib" || module == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            let targets = edges.entry(module.clone()).or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                let mut rest = line;
                while let Some(at) = rest.find("crate::") {
                    rest = &rest[at + "crate::".len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != module {
                        targets.insert(name);
                    }
                }
                // `use crate::{a, b::c}`.
                if let Some(group) = line.split("use crate::{").nth(1) {
                    for part in group.split(',') {
                        let name: String = part
                            .trim()
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        if !name.is_empty() && name != module && name != "self" {
                            targets.insert(name);
                        }
                    }
                }
            }
        }
    }
    edges
}

#[test]
fn no_module_below_the_face_imports_it_and_there_is_no_circle() {
    let edges = graph();
    for (module, targets) in &edges {
        if module == "commands" || module == "cli" {
            continue;
        }
        assert!(
            !targets.contains("commands"),
            "`{module}` imports the command layer"
        );
    }
    // A circle exists when a module reaches itself.
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut pending: Vec<&String> = edges[start].iter().collect();
        while let Some(next) = pending.pop() {
            assert!(
                next != start,
                "`{start}` reaches itself through its imports: {edges:?}"
            );
            if seen.insert(next.clone())
                && let Some(more) = edges.get(next)
            {
                pending.extend(more.iter());
            }
        }
    }
}
