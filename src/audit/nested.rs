//! What is nested inside a vendored dependency, found in the working copy or in a commit's
//! tree:
//!
//! - npm packages under any `node_modules` of its folder (the vendored npm's own
//!   `minimatch`), with the name and version each package's `package.json` gives, and those a
//!   `package-lock.json` at the folder's top lists where no `package.json` says otherwise;
//! - libraries of `init`'s catalog in its sub-folders (V8's `third_party/zlib`), recognised
//!   and versioned by the catalog's own rules, reading only the files those rules name, in
//!   folders at most [`MAX_DEPTH`] below the dependency's.
//!
//! The dependency's own top folder is not looked at (it is the dependency), nor the folder of
//! any other registry entry inside it (a `parent` entry: audited on its own). The audit asks
//! OSV about an npm package as an npm package, and about a library as about a registry
//! dependency of that upstream.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::init::{Library, catalog, recognise};
use crate::manifest::Dependency;
use crate::vcs::{GitError, Oid, Repo};

/// How deep below a dependency's folder a nested library is looked for
/// (`third_party/zlib` is 2; `src/third_party/x/y` is 4).
pub const MAX_DEPTH: usize = 4;

/// Something found inside a vendored dependency; each dependency's are in path order.
#[derive(Debug, Clone)]
pub struct NestedPackage {
    /// The vendored dependency it came with.
    pub parent: String,
    /// Its folder, relative to the registry's folder: `deps/npm/node_modules/minimatch`.
    pub path: String,
    /// The npm package name (`minimatch`, `@npmcli/arborist`), or the catalog's library name
    /// (`zlib`).
    pub name: String,
    pub version: String,
    /// What it is, and so how it is asked about.
    pub upstream: Upstream,
}

/// Where a nested package comes from.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// An npm package, asked about by name and version.
    Npm,
    /// A library of the catalog: the registry entry it would have, asked about like one.
    Library(Box<Dependency>),
    /// A library of the catalog by its marker files, whose tree states no version (a
    /// commit-tracked copy): nothing can be asked about it, which the audit says.
    Unstated,
}

impl NestedPackage {
    /// Whether it can be asked about: its version is known.
    pub fn versioned(&self) -> bool {
        !matches!(self.upstream, Upstream::Unstated)
    }
}

impl NestedPackage {
    /// The dependency it is described and asked about as, given `parent`'s entry: an npm
    /// package of that name, or the library's own entry; `parent`'s `ignore-advisories`
    /// hold for it, and nothing of how `parent` is fetched or patched.
    pub fn dependency(&self, parent: &Dependency) -> Dependency {
        let dep = match &self.upstream {
            Upstream::Npm => Dependency {
                source: crate::source::SourceSpec::Npm {
                    package: self.name.clone(),
                },
                path_template: None,
                references: Vec::new(),
                version_file: None,
                apply: crate::manifest::ApplySpec::default(),
                group: None,
                license: None,
                ..parent.clone()
            },
            Upstream::Library(entry) => (**entry).clone(),
            // Never asked about; described as what the parent vendors.
            Upstream::Unstated => Dependency {
                version_file: None,
                references: Vec::new(),
                ..parent.clone()
            },
        };
        Dependency {
            name: self.name.clone(),
            path: PathBuf::from(&self.path),
            parent: Some(parent.name.clone()),
            ignore_advisories: parent.ignore_advisories.clone(),
            ..dep
        }
    }
}

/// The nested packages of `deps` in the working copy under `root`; `registry`: every entry
/// (whose folders inside another's are left to them).
pub fn on_disk(root: &Path, registry: &[Dependency], deps: &[&Dependency]) -> Vec<NestedPackage> {
    let catalog = catalog();
    let mut found = Vec::new();
    for dep in deps {
        let folder = root.join(&dep.path);
        let mut files = Vec::new();
        list_files(&folder, Path::new(""), &mut files);
        let files = own_files(dep, registry, files);
        let read = |path: &Path| std::fs::read(folder.join(path)).ok();
        let mut here = packages_of(dep, &files, read);
        here.extend(libraries_of(dep, &files, read, &catalog));
        here.sort_by(|a, b| a.path.cmp(&b.path));
        found.extend(here);
    }
    found
}

/// The nested packages of `deps` as `commit` holds them (`prefix`: the registry's folder in
/// the repository).
pub fn at_commit(
    repo: &Repo,
    commit: Oid,
    prefix: &Path,
    registry: &[Dependency],
    deps: &[&Dependency],
) -> Result<Vec<NestedPackage>, GitError> {
    let catalog = catalog();
    let mut found = Vec::new();
    for dep in deps {
        let listed = repo.files_under(commit, &prefix.join(&dep.path))?;
        let files = own_files(dep, registry, listed.keys().cloned().collect());
        let read = |path: &Path| repo.read_blob(listed.get(path)?.id).ok();
        let mut here = packages_of(dep, &files, read);
        here.extend(libraries_of(dep, &files, read, &catalog));
        here.sort_by(|a, b| a.path.cmp(&b.path));
        found.extend(here);
    }
    Ok(found)
}

/// `files` (relative to `dep`'s folder) without those in the folder of another registry
/// entry inside it.
fn own_files(dep: &Dependency, registry: &[Dependency], files: Vec<PathBuf>) -> Vec<PathBuf> {
    let inner: Vec<&Path> = registry
        .iter()
        .filter(|other| other.name != dep.name)
        .filter_map(|other| other.path.strip_prefix(&dep.path).ok())
        .filter(|inner| !inner.as_os_str().is_empty())
        .collect();
    files
        .into_iter()
        .filter(|file| !inner.iter().any(|i| file.starts_with(i)))
        .collect()
}

/// Every regular file under `folder` (links not followed), relative to the starting folder.
fn list_files(folder: &Path, relative: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = relative.join(entry.file_name());
        if kind.is_dir() {
            list_files(&entry.path(), &name, out);
        } else if kind.is_file() {
            out.push(name);
        }
    }
}

/// The packages among `files` (relative to the dependency's folder), read with `read`.
fn packages_of(
    dep: &Dependency,
    files: &[PathBuf],
    read: impl Fn(&Path) -> Option<Vec<u8>>,
) -> Vec<NestedPackage> {
    // By folder (relative to the dependency's), so a `package.json` wins over the lock file.
    let mut found: BTreeMap<PathBuf, (String, String)> = BTreeMap::new();
    for file in files {
        let Some(folder) = package_folder(file) else {
            continue;
        };
        let Some(bytes) = read(file) else { continue };
        let Ok(manifest) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        if let (Some(name), Some(version)) =
            (manifest["name"].as_str(), manifest["version"].as_str())
        {
            found.insert(folder, (name.to_owned(), version.to_owned()));
        }
    }
    let lock = Path::new("package-lock.json");
    if files.iter().any(|f| f == lock)
        && let Some(bytes) = read(lock)
        && let Ok(lock) = serde_json::from_slice::<Value>(&bytes)
        && let Some(packages) = lock["packages"].as_object()
    {
        for (key, entry) in packages {
            let folder = PathBuf::from(key);
            let Some(name) = entry["name"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| lock_name(key))
            else {
                continue;
            };
            if package_folder(&folder.join("package.json")).is_none()
                || entry["link"].as_bool() == Some(true)
            {
                continue;
            }
            if let Some(version) = entry["version"].as_str() {
                found
                    .entry(folder)
                    .or_insert_with(|| (name, version.to_owned()));
            }
        }
    }
    found
        .into_iter()
        .map(|(folder, (name, version))| NestedPackage {
            parent: dep.name.clone(),
            path: slashed(&dep.path.join(folder)),
            name,
            version,
            upstream: Upstream::Npm,
        })
        .collect()
}

/// The catalog's libraries among the sub-folders of `files` (relative to the dependency's
/// folder), outermost first; a library's own sub-folders are its, not looked into.
fn libraries_of(
    dep: &Dependency,
    files: &[PathBuf],
    read: impl Fn(&Path) -> Option<Vec<u8>>,
    catalog: &[Library],
) -> Vec<NestedPackage> {
    let present: BTreeSet<&Path> = files.iter().map(PathBuf::as_path).collect();
    let folders: BTreeSet<&Path> = files
        .iter()
        .flat_map(|file| file.ancestors().skip(1))
        .filter(|folder| {
            let parts: Vec<&str> = folder
                .components()
                .filter_map(|c| match c {
                    Component::Normal(part) => part.to_str(),
                    _ => None,
                })
                .collect();
            // npm packages are found by their `package.json`; hidden folders are no code.
            (1..=MAX_DEPTH).contains(&parts.len())
                && !parts
                    .iter()
                    .any(|p| *p == "node_modules" || p.starts_with('.'))
        })
        .collect();
    let mut found: Vec<NestedPackage> = Vec::new();
    let mut taken: Vec<&Path> = Vec::new();
    // Shallow folders first, so a library's insides are never taken for another.
    let mut ordered: Vec<&Path> = folders.into_iter().collect();
    ordered.sort_by_key(|f| (f.components().count(), f.to_path_buf()));
    for folder in ordered {
        if taken.iter().any(|t| folder.starts_with(t)) {
            continue;
        }
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let exists = |relative: &str| present.contains(folder.join(relative).as_path());
        // Only files a rule names, and only when they are there.
        let text = |relative: &str| {
            let path = folder.join(relative);
            present
                .contains(path.as_path())
                .then(|| read(&path))
                .flatten()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        };
        let Some(recognised) = recognise(catalog, &name, exists, text) else {
            continue;
        };
        taken.push(folder);
        let path = dep.path.join(folder);
        let (version, upstream) = match (recognised.version.clone(), recognised.entry(&path)) {
            (Some(version), Some(entry)) => (version, Upstream::Library(Box::new(entry))),
            _ => (String::new(), Upstream::Unstated),
        };
        found.push(NestedPackage {
            parent: dep.name.clone(),
            path: slashed(&path),
            name: recognised.library.name.clone(),
            version,
            upstream,
        });
    }
    found
}

/// The package folder of `…/node_modules/NAME/package.json` or
/// `…/node_modules/@scope/NAME/package.json`; `None` for any other file.
fn package_folder(file: &Path) -> Option<PathBuf> {
    if file.file_name()? != "package.json" {
        return None;
    }
    let parts: Vec<&str> = file
        .components()
        .map(|c| match c {
            Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let n = parts.len();
    let plain = n >= 3 && parts[n - 3] == "node_modules" && !parts[n - 2].starts_with('@');
    let scoped = n >= 4 && parts[n - 4] == "node_modules" && parts[n - 3].starts_with('@');
    (plain || scoped).then(|| file.parent().map(Path::to_owned))?
}

/// The package name a lock file's key implies: what follows its last `node_modules/`.
fn lock_name(key: &str) -> Option<String> {
    let (_, name) = key.rsplit_once("node_modules/")?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// A relative path with `/` between its parts, on every system.
fn slashed(path: &Path) -> String {
    path.components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_folders_are_under_node_modules() {
        for (file, expected) in [
            (
                "node_modules/minimatch/package.json",
                Some("node_modules/minimatch"),
            ),
            (
                "node_modules/@npmcli/arborist/package.json",
                Some("node_modules/@npmcli/arborist"),
            ),
            (
                "node_modules/a/node_modules/b/package.json",
                Some("node_modules/a/node_modules/b"),
            ),
            ("package.json", None),
            ("node_modules/minimatch/lib/package.json", None),
            ("node_modules/@npmcli/package.json", None),
            ("node_modules/minimatch/README.md", None),
        ] {
            assert_eq!(
                package_folder(Path::new(file)),
                expected.map(PathBuf::from),
                "{file}"
            );
        }
        assert_eq!(
            lock_name("node_modules/a/node_modules/@s/b").as_deref(),
            Some("@s/b")
        );
        assert_eq!(lock_name(""), None);
    }

    #[test]
    fn packages_come_from_package_json_then_the_lock_file() {
        let text = "[deps.npm]\npath = \"deps/npm\"\nsource = \"npm\"\npackage = \"npm\"\nversion = \"10.0.0\"\n";
        let manifest = crate::manifest::Manifest::parse(Path::new("deps.toml"), text).unwrap();
        let root = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "deps/npm/package.json",
            r#"{"name": "npm", "version": "10.0.0"}"#,
        );
        write(
            "deps/npm/node_modules/minimatch/package.json",
            r#"{"name": "minimatch", "version": "3.0.4"}"#,
        );
        write(
            "deps/npm/node_modules/@npmcli/arborist/package.json",
            r#"{"name": "@npmcli/arborist", "version": "7.2.1"}"#,
        );
        write("deps/npm/node_modules/broken/package.json", "{");
        write(
            "deps/npm/package-lock.json",
            r#"{"packages": {"": {"name": "npm", "version": "10.0.0"},
                "node_modules/minimatch": {"version": "9.9.9"},
                "node_modules/glob/node_modules/minimatch": {"version": "3.0.8"},
                "node_modules/linked": {"link": true, "resolved": "x"}}}"#,
        );
        let deps: Vec<&Dependency> = manifest.deps.iter().collect();
        let found: Vec<(String, String, String)> = on_disk(root.path(), &manifest.deps, &deps)
            .into_iter()
            .map(|p| (p.path, p.name, p.version))
            .collect();
        let expected = [
            (
                "deps/npm/node_modules/@npmcli/arborist",
                "@npmcli/arborist",
                "7.2.1",
            ),
            (
                "deps/npm/node_modules/glob/node_modules/minimatch",
                "minimatch",
                "3.0.8",
            ),
            ("deps/npm/node_modules/minimatch", "minimatch", "3.0.4"),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
        assert_eq!(found, expected);
    }

    #[test]
    fn libraries_are_found_below_the_top_and_outside_other_entries() {
        let text = "[deps.v8]\npath = \"deps/v8\"\nsource = \"github-tag\"\nrepo = \"v8/v8\"\nversion = \"12.4.254\"\n\
                    [deps.icu]\npath = \"deps/v8/third_party/icu\"\nparent = \"v8\"\nsource = \"github-release\"\nrepo = \"unicode-org/icu\"\nversion = \"74.1\"\n";
        let manifest = crate::manifest::Manifest::parse(Path::new("deps.toml"), text).unwrap();
        let root = tempfile::tempdir().unwrap();
        let zlib = |version: &str| format!("#define ZLIB_VERSION \"{version}\"\n");
        for (path, text) in [
            // The dependency's own top folder is the dependency.
            ("deps/v8/zlib.h", zlib("1.0.0")),
            ("deps/v8/third_party/zlib/zlib.h", zlib("1.2.11")),
            // Inside a recognised library: its own.
            (
                "deps/v8/third_party/zlib/contrib/zlib/zlib.h",
                zlib("1.0.1"),
            ),
            // Another registry entry's folder: audited as that entry.
            ("deps/v8/third_party/icu/zlib/zlib.h", zlib("1.0.2")),
            ("deps/v8/.git-cache/zlib/zlib.h", zlib("1.0.3")),
            ("deps/v8/a/b/c/d/zlib/zlib.h", zlib("1.0.4")),
            ("deps/v8/a/b/c/zlib/zlib.h", zlib("1.2.13")),
        ] {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let deps: Vec<&Dependency> = manifest.deps.iter().take(1).collect();
        let found: Vec<(String, String)> = on_disk(root.path(), &manifest.deps, &deps)
            .into_iter()
            .map(|p| (p.path, p.version))
            .collect();
        assert_eq!(
            found,
            [
                ("deps/v8/a/b/c/zlib".to_owned(), "1.2.13".to_owned()),
                ("deps/v8/third_party/zlib".to_owned(), "1.2.11".to_owned()),
            ]
        );
    }
}
