//! `init`: a starter registry drafted from the vendored folders.
//!
//! Each folder under the scanned roots (`deps/`, `third_party/`, `vendor/`, `external/`, or
//! those named) is matched against the built-in catalog (`catalog.toml`, data kept in the
//! repository) by a version file's presence and content, never by the folder's name; npm
//! packages are recognised by their `package.json`. A folder that matches nothing is looked
//! into one level deeper (Node's `deps/ngtcp2/{ngtcp2,nghttp3}`), and otherwise gets a
//! commented entry saying what to fill in. Build files the project added (`*.gyp`, `*.gn`,
//! `BUILD.gn`, a `CMakeLists.txt` the upstream does not ship) are proposed as `keep`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use toml_edit::{Array, InlineTable, Item, Table, Value};

/// The folders scanned when none are named.
pub const DEFAULT_ROOTS: &[&str] = &["deps", "third_party", "vendor", "external"];

/// One library of the catalog.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Library {
    pub name: String,
    pub version_file: CatalogVersionFile,
    /// A line of the real version file, for the catalog's own tests.
    pub sample: String,
    pub source: String,
    #[serde(default)]
    pub repo: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub regex: Option<String>,
    #[serde(default)]
    pub archive: Option<String>,
    #[serde(default)]
    pub tag: Option<toml::Value>,
    #[serde(default)]
    pub asset: Option<String>,
    #[serde(default)]
    pub checksums: Option<String>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub license: Option<String>,
    /// Build files the upstream ships itself: never proposed as `keep`.
    #[serde(default)]
    pub upstream_build: Vec<String>,
    /// The version cannot be read from the tree (a tracked branch, a coded number): the
    /// entry is drafted with `version` to fill in.
    #[serde(default)]
    pub version_unknown: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogVersionFile {
    pub path: String,
    pub regex: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalog {
    library: Vec<Library>,
}

/// The built-in catalog.
pub fn catalog() -> Vec<Library> {
    toml::from_str::<Catalog>(include_str!("catalog.toml"))
        .expect("the catalog is checked by its unit tests")
        .library
}

/// What a vendored folder turned out to be.
#[derive(Debug, Clone)]
pub enum Found {
    /// A catalog library; `version` is `None` when the tree does not say it.
    Library {
        folder: PathBuf,
        library: Box<Library>,
        version: Option<String>,
        keep: Vec<String>,
    },
    /// An npm package, by its `package.json` (at `manifest`, relative to the folder).
    Npm {
        folder: PathBuf,
        package: String,
        version: String,
        manifest: String,
        keep: Vec<String>,
    },
    /// Nothing recognised.
    Unknown { folder: PathBuf, keep: Vec<String> },
}

impl Found {
    pub fn folder(&self) -> &Path {
        match self {
            Self::Library { folder, .. }
            | Self::Npm { folder, .. }
            | Self::Unknown { folder, .. } => folder,
        }
    }

    /// Whether the drafted entry is complete (it validates as is).
    pub fn is_complete(&self) -> bool {
        matches!(
            self,
            Self::Library {
                version: Some(_),
                ..
            } | Self::Npm { .. }
        )
    }
}

/// Scans `roots` (relative to `repo`) and says what each vendored folder is.
pub fn scan(repo: &Path, roots: &[PathBuf], catalog: &[Library]) -> Vec<Found> {
    let mut found = Vec::new();
    for root in roots {
        for folder in subfolders(&repo.join(root)) {
            let relative = root.join(folder.file_name().unwrap_or_default());
            if let Some(what) = identify(repo, &relative, catalog) {
                found.push(what);
                continue;
            }
            // One level deeper: a folder holding several libraries.
            let inner: Vec<Found> = subfolders(&folder)
                .iter()
                .filter_map(|sub| {
                    identify(
                        repo,
                        &relative.join(sub.file_name().unwrap_or_default()),
                        catalog,
                    )
                })
                .collect();
            if inner.is_empty() {
                let keep = project_files(&repo.join(&relative), &[]);
                found.push(Found::Unknown {
                    folder: relative,
                    keep,
                });
            } else {
                found.extend(inner);
            }
        }
    }
    found
}

fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .filter(|p| {
                    !p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn identify(repo: &Path, folder: &Path, catalog: &[Library]) -> Option<Found> {
    if crate::confine::leads_out(repo, folder).is_some() {
        return None;
    }
    let dir = repo.join(folder);
    for library in catalog {
        let Ok(text) = std::fs::read_to_string(dir.join(&library.version_file.path)) else {
            continue;
        };
        let Ok(regex) = Regex::new(&library.version_file.regex) else {
            continue;
        };
        // A library whose version the tree does not say is recognised by the match alone.
        let version = crate::check::version_matched(&regex, &text);
        if version.is_none() && !(library.version_unknown && regex.is_match(&text)) {
            continue;
        }
        return Some(Found::Library {
            folder: folder.to_owned(),
            version: version.filter(|_| !library.version_unknown),
            keep: project_files(&dir, &library.upstream_build),
            library: Box::new(library.clone()),
        });
    }
    for manifest in ["package.json", "src/package.json"] {
        let Ok(text) = std::fs::read_to_string(dir.join(manifest)) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let (Some(name), Some(version)) = (json["name"].as_str(), json["version"].as_str()) {
            return Some(Found::Npm {
                folder: folder.to_owned(),
                package: name.to_owned(),
                version: version.to_owned(),
                manifest: manifest.to_owned(),
                keep: project_files(&dir, &[]),
            });
        }
    }
    None
}

/// Build files the project added: `*.gyp`, `*.gypi`, `*.gn`, `*.gni`, `BUILD.gn` and
/// `CMakeLists.txt`, unless upstream ships them. Top-level ones by name; deeper ones by their
/// top folder (`config/**`), so a generated tree of build files is one pattern.
fn project_files(dir: &Path, upstream: &[String]) -> Vec<String> {
    let mut keep = BTreeSet::new();
    let is_build = |name: &str| {
        !upstream.iter().any(|u| u == name)
            && (name == "BUILD.gn"
                || name == "CMakeLists.txt"
                || [".gyp", ".gypi", ".gn", ".gni"]
                    .iter()
                    .any(|e| name.ends_with(e)))
    };
    let mut stack = vec![(dir.to_owned(), 0usize)];
    while let Some((here, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&here) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if depth < 8 && !name.starts_with('.') {
                    stack.push((path, depth + 1));
                }
                continue;
            }
            if !is_build(&name) {
                continue;
            }
            let Ok(relative) = path.strip_prefix(dir) else {
                continue;
            };
            let mut parts = relative.iter();
            let first = parts.next().map(|p| p.to_string_lossy().into_owned());
            match (first, parts.next()) {
                (Some(file), None) => keep.insert(file),
                (Some(folder), Some(_)) => keep.insert(format!("{folder}/**")),
                (None, _) => false,
            };
        }
    }
    keep.into_iter().collect()
}

/// A name `deps.toml` accepts, from a library, package or folder name.
fn entry_name(text: &str) -> String {
    let name: String = text
        .trim_start_matches('@')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if name.is_empty() {
        "dependency".into()
    } else {
        name
    }
}

/// The `deps.toml` text for what was found: complete entries, then commented drafts.
pub fn render(found: &[Found], taken: &BTreeSet<String>) -> String {
    let mut names = taken.clone();
    let mut unique = |wanted: String| {
        let mut name = wanted.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{wanted}-{n}");
            n += 1;
        }
        names.insert(name.clone());
        name
    };
    let mut out = String::new();
    for item in found {
        let path = item.folder().display().to_string().replace('\\', "/");
        let mut table = Table::new();
        let mut set = |key: &str, value: Value| {
            table.insert(key, Item::Value(value));
        };
        let (name, keep, note) = match item {
            Found::Library {
                library,
                version,
                keep,
                ..
            } => {
                set("path", path.as_str().into());
                set("source", library.source.as_str().into());
                for (key, value) in [
                    ("repo", &library.repo),
                    ("url", &library.url),
                    ("branch", &library.branch),
                    ("regex", &library.regex),
                ] {
                    if let Some(value) = value {
                        set(key, value.as_str().into());
                    }
                }
                match &library.tag {
                    Some(toml::Value::String(tag)) => set("tag", tag.as_str().into()),
                    Some(toml::Value::Array(tags)) => set(
                        "tag",
                        Value::Array(tags.iter().filter_map(|t| t.as_str()).collect::<Array>()),
                    ),
                    _ => {}
                }
                set("version", version.as_deref().unwrap_or("FILL IN").into());
                if !library.version_unknown {
                    let mut vf = InlineTable::new();
                    vf.insert("path", library.version_file.path.as_str().into());
                    vf.insert("regex", library.version_file.regex.as_str().into());
                    set("version-file", Value::InlineTable(vf));
                }
                for (key, value) in [
                    ("archive", &library.archive),
                    ("asset", &library.asset),
                    ("checksums", &library.checksums),
                ] {
                    if let Some(value) = value {
                        set(key, value.as_str().into());
                    }
                }
                if !library.include.is_empty() {
                    set(
                        "include",
                        Value::Array(library.include.iter().map(String::as_str).collect()),
                    );
                }
                if let Some(license) = &library.license {
                    set("license", license.as_str().into());
                }
                let note = version.is_none().then(|| {
                    format!(
                        "`{}` recognised, but its version cannot be read from the tree: fill in `version`{}, then uncomment",
                        library.name,
                        if library.branch.is_some() { " (the vendored commit)" } else { "" }
                    )
                });
                (library.name.clone(), keep, note)
            }
            Found::Npm {
                package,
                version,
                manifest,
                keep,
                ..
            } => {
                set("path", path.as_str().into());
                set("source", "npm".into());
                set("package", package.as_str().into());
                set("version", version.as_str().into());
                let mut vf = InlineTable::new();
                vf.insert("path", manifest.as_str().into());
                vf.insert("regex", r#""version":\s*"([^"]+)""#.into());
                set("version-file", Value::InlineTable(vf));
                (package.clone(), keep, None)
            }
            Found::Unknown { folder, keep } => {
                set("path", path.as_str().into());
                set("source", "github-release".into());
                set("repo", "OWNER/NAME".into());
                set("version", "FILL IN".into());
                let name = folder
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let note = format!(
                    "`{path}` matches no library deps-update knows: fill in `source` ({}), its coordinates and `version`, then uncomment",
                    crate::manifest::source_spec::kind_names()
                );
                (name, keep, Some(note))
            }
        };
        if !keep.is_empty() {
            table.insert(
                "keep",
                Item::Value(Value::Array(keep.iter().map(String::as_str).collect())),
            );
        }
        let name = unique(entry_name(&name));
        let mut doc = toml_edit::DocumentMut::new();
        let mut deps = Table::new();
        deps.set_implicit(true);
        deps.insert(&name, Item::Table(table));
        doc.insert("deps", Item::Table(deps));
        let text = doc.to_string();
        match note {
            None => out.push_str(&text),
            Some(note) => {
                // A folder name holding a line break must not end the comment.
                out.push_str(&format!("# {}\n", crate::summary::visible(&note)));
                for line in text.lines() {
                    out.push_str(&format!("# {line}\n"));
                }
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_entry_parses_compiles_and_reads_its_sample() {
        let catalog = catalog();
        assert!(catalog.len() >= 30, "{} libraries", catalog.len());
        let mut names = BTreeSet::new();
        for library in &catalog {
            // One name may have two upstreams (zlib, Chromium's zlib), told apart by content.
            assert!(
                names.insert((&library.name, &library.version_file.regex)),
                "`{}` twice",
                library.name
            );
            let regex = Regex::new(&library.version_file.regex)
                .unwrap_or_else(|e| panic!("`{}`: {e}", library.name));
            assert!(
                regex.is_match(&library.sample),
                "`{}`: the regex misses its sample",
                library.name
            );
            let version =
                crate::check::version_matched(&regex, &library.sample).unwrap_or_default();
            if !library.version_unknown {
                crate::version::Version::parse(&version)
                    .unwrap_or_else(|e| panic!("`{}`: `{version}`: {e}", library.name));
            }
            // The drafted entry is a valid registry entry.
            let found = Found::Library {
                folder: PathBuf::from(format!("deps/{}", library.name)),
                library: Box::new(library.clone()),
                version: (!library.version_unknown).then_some(version),
                keep: vec!["x.gyp".into()],
            };
            let text = render(&[found], &BTreeSet::new());
            let text: String = if library.version_unknown {
                text.lines()
                    .filter(|l| !l.starts_with("# `"))
                    .map(|l| {
                        let filled = if library.branch.is_some() {
                            "0123456789abcdef0123456789abcdef01234567"
                        } else {
                            "1.0.0"
                        };
                        l.trim_start_matches("# ").replace("FILL IN", filled)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                text
            };
            crate::manifest::Manifest::parse(Path::new("deps.toml"), &text)
                .unwrap_or_else(|e| panic!("`{}`:\n{text}\n{e}", library.name));
        }
    }

    #[test]
    fn a_folder_name_cannot_end_a_commented_draft() {
        let found = Found::Unknown {
            folder: PathBuf::from("deps/x\n[deps.evil]\npath = \"/\""),
            keep: Vec::new(),
        };
        let text = render(&[found], &BTreeSet::new());
        assert!(
            text.lines().all(|l| l.starts_with('#') || l.is_empty()),
            "{text}"
        );
    }
}
