//! Packages nested inside a vendored dependency: npm packages under any `node_modules` of its
//! folder (the vendored npm's own `minimatch`), with the name and version each package's
//! `package.json` gives, and those a `package-lock.json` at the folder's top lists where no
//! `package.json` says otherwise. Found in the working copy or in a commit's tree; the
//! audit asks OSV about each as an npm package.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::manifest::Dependency;
use crate::vcs::{GitError, Oid, Repo};

/// A package found inside a vendored dependency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NestedPackage {
    /// The vendored dependency it came with.
    pub parent: String,
    /// Its folder, relative to the registry's folder: `deps/npm/node_modules/minimatch`.
    pub path: String,
    /// The npm package name (`minimatch`, `@npmcli/arborist`).
    pub name: String,
    pub version: String,
}

/// The nested packages of `deps` in the working copy under `root`.
pub fn on_disk(root: &Path, deps: &[&Dependency]) -> Vec<NestedPackage> {
    let mut found = Vec::new();
    for dep in deps {
        let folder = root.join(&dep.path);
        let mut files = Vec::new();
        list_files(&folder, Path::new(""), &mut files);
        found.extend(packages_of(dep, &files, |path| {
            std::fs::read(folder.join(path)).ok()
        }));
    }
    found
}

/// The nested packages of `deps` as `commit` holds them (`prefix`: the registry's folder in
/// the repository).
pub fn at_commit(
    repo: &Repo,
    commit: Oid,
    prefix: &Path,
    deps: &[&Dependency],
) -> Result<Vec<NestedPackage>, GitError> {
    let mut found = Vec::new();
    for dep in deps {
        let listed = repo.files_under(commit, &prefix.join(&dep.path))?;
        let files: Vec<PathBuf> = listed.keys().cloned().collect();
        found.extend(packages_of(dep, &files, |path| {
            repo.read_blob(listed.get(path)?.id).ok()
        }));
    }
    Ok(found)
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
        })
        .collect()
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
        let found: Vec<(String, String, String)> = on_disk(root.path(), &deps)
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
}
