//! `init`: a starter registry drafted from the vendored folders.
//!
//! Each folder under the scanned roots (`deps/`, `third_party/`, `vendor/`, `external/`, the
//! parents of the registry's own paths, or the folders named) is matched against the built-in
//! catalog (`catalog.toml`, data kept in the repository). A library lists where its version
//! is stated in each layout it is vendored in (the full tree, a subfolder, flat, an
//! amalgamation or single header, the folder's own name) and how it is written there: a
//! string, MAJOR/MINOR/PATCH macros, a coded number in one of the registry's `version-file`
//! encodings (`FMT_VERSION 110002`, `RD_KAFKA_VERSION 0x020f00ff`) or split by the regex
//! (`MI_MALLOC_VERSION 217`), a `VERSION` file,
//! CMake's `project(... VERSION ...)`, `meson.build`, `configure.ac`, `package.json`. Marker
//! files name a library whose tree states no version (code tracked by commit). A folder's name
//! alone never names a library (Node's `deps/uv` is libuv): a folder-name rule also needs a
//! file of the library. npm packages are recognised by their `package.json`. A folder that
//! matches nothing is looked into one level deeper (Node's `deps/ngtcp2/{ngtcp2,nghttp3}`),
//! and otherwise gets a commented entry saying what to fill in.
//!
//! `keep` is proposed for build files (`*.gyp`, `*.gypi`, `*.gn`, `*.gni`, `BUILD.gn`,
//! `CMakeLists.txt`) that the catalog does not know the upstream to ship (`ships`, by path
//! and, where the catalog says, by content: a project's own `CMakeLists.txt` beside zlib's
//! sources is not zlib's). Without upstream's tree to compare with, it is a guess, and the
//! draft says so above each `keep`.

pub mod content;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use toml_edit::{Array, InlineTable, Item, Table, Value};

use crate::manifest::VersionEncoding;

/// The folders scanned when none are named.
pub const DEFAULT_ROOTS: &[&str] = &["deps", "third_party", "vendor", "external"];

/// One library of the catalog.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Library {
    pub name: String,
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
    /// What the full tree's entry vendors of upstream's archive.
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub license: Option<String>,
    /// Where the version is stated, layout by layout: the first rule that reads one wins.
    #[serde(default)]
    pub version: Vec<VersionRule>,
    /// Files that name the library when no rule reads a version (any one of them).
    #[serde(default)]
    pub markers: Vec<String>,
    /// Build files the upstream ships itself: never proposed as `keep`.
    #[serde(default)]
    pub ships: Vec<Shipped>,
    /// The version is a commit (a tracked branch): the entry is drafted with `version` to
    /// fill in, even when a rule reads a release number.
    #[serde(default)]
    pub version_unknown: bool,
}

/// How a library's files are laid out in the vendored folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Upstream's whole tree (or its release archive).
    Tree,
    /// One folder of upstream's tree (`lib/`, `src/`, `googletest/`).
    Subfolder,
    /// Upstream's files gathered in one folder (`llhttp.h` beside `llhttp.c`).
    Flat,
    /// A generated amalgamation or single header.
    Amalgamation,
    /// Any layout, with the version in the folder's name (`jemalloc-5.3.0`).
    FolderName,
}

impl Layout {
    fn describe(self) -> &'static str {
        match self {
            Self::Tree => "as upstream's tree",
            Self::Subfolder => "as a subfolder of upstream's tree",
            Self::Flat => "flat (upstream's files in one folder)",
            Self::Amalgamation => "as an amalgamation",
            Self::FolderName => "with its version in the folder's name",
        }
    }
}

/// Where one layout states the version, and how it is encoded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VersionRule {
    pub layout: Layout,
    /// The file stating the version, relative to the folder; none: the folder's own name.
    #[serde(default)]
    pub path: Option<String>,
    /// Named groups `version` or `major`/`minor`/`patch`, else the first group (a coded
    /// number that no `encoding` fits is split by the regex's groups).
    pub regex: String,
    /// The number's encoding, as a registry `version-file` names it (`decimal-100`,
    /// `decimal-1000`, `hex`); none: text.
    #[serde(default)]
    pub encoding: Option<String>,
    /// A file that must be there too (beside a folder name or a generic `VERSION`).
    #[serde(default)]
    pub when: Option<String>,
    /// What this layout vendors of upstream's archive, when not the library's `include`.
    #[serde(default)]
    pub include: Option<Vec<String>>,
    /// Where this layout puts upstream's files (a registry `map`).
    #[serde(default)]
    pub map: Option<BTreeMap<String, String>>,
    /// Real text of the file (or a folder name), for the catalog's own tests.
    pub sample: String,
    /// The version `sample` states.
    pub expect: String,
}

/// A build file upstream ships: a glob, or a path with what upstream's copy says (another
/// content is the project's own file in its place).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Shipped {
    Glob(String),
    Checked { path: String, says: String },
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

impl VersionRule {
    /// The version this rule reads in `text` (the file's content, or the folder's name).
    pub fn read(&self, text: &str) -> Option<String> {
        let regex = Regex::new(&self.regex).ok()?;
        let found = crate::check::version_matched(&regex, text)?;
        match &self.encoding {
            None => Some(tidy(&found)),
            Some(name) => encoding(name)?.decode(&found),
        }
    }

    /// The `version-file` the registry can keep reading: the file, its regex and encoding.
    fn registry_file(&self) -> Option<(&str, &str, Option<&str>)> {
        let path = self.path.as_deref()?;
        Some((path, self.regex.as_str(), self.encoding.as_deref()))
    }
}

/// A registry `version-file` encoding, by name.
fn encoding(name: &str) -> Option<VersionEncoding> {
    VersionEncoding::NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, e)| *e)
}

/// `11.00.02` (a coded number split by a regex) as `11.0.2`; what follows the numbers stays.
fn tidy(version: &str) -> String {
    let end = version
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(version.len());
    let (numbers, rest) = version.split_at(end);
    let numbers: Vec<String> = numbers
        .split('.')
        .map(|part| {
            part.parse::<u64>()
                .map_or_else(|_| part.to_owned(), |n| n.to_string())
        })
        .collect();
    format!("{}{rest}", numbers.join("."))
}

/// What a vendored folder turned out to be.
#[derive(Debug, Clone)]
pub enum Found {
    /// A catalog library; `version` is `None` when the tree does not say it, `rule` the rule
    /// that read it (`None`: recognised by a marker file).
    Library {
        folder: PathBuf,
        library: Box<Library>,
        version: Option<String>,
        rule: Option<Box<VersionRule>>,
        keep: Vec<String>,
        /// How the folder compared with upstream's tree at that version, when it was
        /// compared (`keep` is then exactly the files upstream does not have).
        compared: Option<String>,
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
                let keep = project_files(repo, &relative, &[]);
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
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let library_found =
        |library: &Library, version: Option<String>, rule: Option<&VersionRule>| Found::Library {
            folder: folder.to_owned(),
            version: version.filter(|_| !library.version_unknown),
            rule: rule.map(|r| Box::new(r.clone())),
            keep: project_files(repo, folder, &library.ships),
            library: Box::new(library.clone()),
            compared: None,
        };
    let exists = |relative: &str| crate::confine::exists(repo, &folder.join(relative));
    let read = |relative: &str| crate::confine::read_to_string(repo, &folder.join(relative)).ok();
    if let Some(recognised) = recognise(catalog, &name, exists, read) {
        return Some(library_found(
            recognised.library,
            recognised.version,
            recognised.rule,
        ));
    }
    for manifest in ["package.json", "src/package.json"] {
        let Ok(text) = crate::confine::read_to_string(repo, &folder.join(manifest)) else {
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
                keep: project_files(repo, folder, &[]),
            });
        }
    }
    None
}

/// A catalog library recognised in a folder.
#[derive(Debug, Clone)]
pub struct Recognised<'c> {
    pub library: &'c Library,
    /// What the tree states; `None` when only a marker file names the library.
    pub version: Option<String>,
    /// The rule that read the version.
    pub rule: Option<&'c VersionRule>,
}

/// What the catalog recognises a folder as, by the files its rules and markers name and
/// nothing else: `exists` and `read` take paths relative to the folder (on disk or in a
/// commit's tree), `name` is the folder's own name.
pub fn recognise<'c>(
    catalog: &'c [Library],
    name: &str,
    exists: impl Fn(&str) -> bool,
    read: impl Fn(&str) -> Option<String>,
) -> Option<Recognised<'c>> {
    // What the tree states, in any layout the catalog knows.
    for library in catalog {
        for rule in &library.version {
            if rule.when.as_ref().is_some_and(|when| !exists(when)) {
                continue;
            }
            let text = match &rule.path {
                Some(path) => match read(path) {
                    Some(text) => text,
                    None => continue,
                },
                None => name.to_owned(),
            };
            if let Some(version) = rule.read(&text) {
                return Some(Recognised {
                    library,
                    version: Some(version),
                    rule: Some(rule),
                });
            }
        }
    }
    // A library whose tree states no version: by its marker files.
    catalog
        .iter()
        .find(|library| library.markers.iter().any(|marker| exists(marker)))
        .map(|library| Recognised {
            library,
            version: None,
            rule: None,
        })
}

impl Recognised<'_> {
    /// The registry entry the library would have at `folder` (named `name`), validated as
    /// `deps.toml` is: how the audit asks about a library found inside a vendored tree,
    /// exactly as about a registry dependency of that upstream. `None` without a version.
    pub fn entry(&self, folder: &Path) -> Option<crate::manifest::Dependency> {
        let found = Found::Library {
            folder: folder.to_owned(),
            library: Box::new(self.library.clone()),
            version: self
                .version
                .clone()
                .filter(|_| !self.library.version_unknown),
            rule: self.rule.map(|r| Box::new(r.clone())),
            keep: Vec::new(),
            compared: None,
        };
        // An entry without a version is drafted commented out: nothing parses.
        let text = render(&[found], &BTreeSet::new());
        let file = Path::new(crate::manifest::FILE_NAME);
        crate::manifest::Manifest::parse(file, &text)
            .ok()?
            .deps
            .into_iter()
            .next()
    }
}

/// The catalog's knowledge of what build files an upstream ships.
struct Shipping<'a> {
    globs: globset::GlobSet,
    checked: Vec<(globset::GlobMatcher, &'a str)>,
}

impl<'a> Shipping<'a> {
    fn new(ships: &'a [Shipped]) -> Self {
        let glob = |pattern: &str| {
            globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .ok()
        };
        let mut globs = globset::GlobSetBuilder::new();
        let mut checked = Vec::new();
        for shipped in ships {
            match shipped {
                Shipped::Glob(pattern) => {
                    if let Some(g) = glob(pattern) {
                        globs.add(g);
                    }
                }
                Shipped::Checked { path, says } => {
                    if let Some(g) = glob(path) {
                        checked.push((g.compile_matcher(), says.as_str()));
                    }
                }
            }
        }
        Self {
            globs: globs.build().unwrap_or_else(|_| globset::GlobSet::empty()),
            checked,
        }
    }

    /// Whether upstream ships `relative` (a `/`-separated path in the folder `dir`): a checked
    /// path by what the file says, others by their globs.
    fn ships(&self, dir: &Path, relative: &str) -> bool {
        let checked: Vec<&str> = self
            .checked
            .iter()
            .filter(|(glob, _)| glob.is_match(relative))
            .map(|(_, says)| *says)
            .collect();
        if checked.is_empty() {
            return self.globs.is_match(relative);
        }
        let text = std::fs::read_to_string(dir.join(relative)).unwrap_or_default();
        checked
            .iter()
            .any(|says| Regex::new(says).is_ok_and(|r| r.is_match(&text)))
    }
}

fn is_build_file(relative: &str) -> bool {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    name == "BUILD.gn"
        || name == "CMakeLists.txt"
        || [".gyp", ".gypi", ".gn", ".gni"]
            .iter()
            .any(|e| name.ends_with(e))
}

/// The project's own build files in `folder`: `*.gyp`, `*.gypi`, `*.gn`, `*.gni`, `BUILD.gn`
/// and `CMakeLists.txt` that upstream does not ship. A subfolder is one pattern (`config/**`)
/// only when it holds nothing else (a generated tree of build files); otherwise each file is
/// named, so upstream's files beside them (zstd's `build/`) are never frozen.
fn project_files(repo: &Path, folder: &Path, ships: &[Shipped]) -> Vec<String> {
    let Ok(dir) = crate::confine::resolve(repo, folder) else {
        return Vec::new();
    };
    let shipping = Shipping::new(ships);
    let mut files = Vec::new();
    let mut stack = vec![(dir.clone(), 0usize)];
    while let Some((here, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&here) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if depth < 8 && !name.starts_with('.') {
                    stack.push((entry.path(), depth + 1));
                }
            } else if kind.is_file() {
                // Links are not followed: what they point at is not the folder's.
                let path = entry.path();
                if let Ok(relative) = path.strip_prefix(&dir) {
                    let parts: Vec<String> = relative
                        .iter()
                        .map(|p| p.to_string_lossy().into_owned())
                        .collect();
                    files.push(parts.join("/"));
                }
            }
        }
    }
    let own = |relative: &String| is_build_file(relative) && !shipping.ships(&dir, relative);
    let mut keep = BTreeSet::new();
    for file in files.iter().filter(|f| own(f)) {
        match file.split_once('/') {
            None => keep.insert(file.clone()),
            Some((top, _)) => {
                let prefix = format!("{top}/");
                let only_own = files.iter().filter(|f| f.starts_with(&prefix)).all(&own);
                if only_own {
                    keep.insert(format!("{top}/**"))
                } else {
                    keep.insert(file.clone())
                }
            }
        };
    }
    keep.into_iter().collect()
}

/// `deps/jemalloc-5.3.0` as `deps/jemalloc-{version}`, when the last folder names `version`
/// once.
fn versioned_path(path: &str, version: &str) -> Option<String> {
    let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
    if name.matches(version).count() != 1 || name.contains(['{', '}']) {
        return None;
    }
    let name = name.replacen(version, "{version}", 1);
    Some(if parent.is_empty() {
        name
    } else {
        format!("{parent}/{name}")
    })
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

/// The comment drafted above every `keep`: nothing compared it with upstream's tree.
pub const KEEP_GUESS: &str =
    "# `keep` is a guess from file names (not compared with upstream's tree): check it";

/// The `deps.toml` text for what was found: complete entries, then commented drafts.
pub fn render(found: &[Found], taken: &BTreeSet<String>) -> String {
    // (`compared` entries say how they compared; the others' `keep` is a guess.)
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
        // Said above the entry: how it was read, what is left to check.
        let mut remarks = Vec::new();
        let mut compared_line = None;
        let (name, keep, note) = match item {
            Found::Library {
                library,
                version,
                rule,
                keep,
                compared,
                ..
            } => {
                compared_line.clone_from(compared);
                // A version in the folder's name (read there or in a file) goes into
                // `path`, which then moves with each update (`deps/jemalloc-{version}`).
                let named = version
                    .as_deref()
                    .filter(|v| v.contains('.'))
                    .and_then(|v| versioned_path(&path, v));
                let path_names_version = named.is_some();
                set(
                    "path",
                    named.unwrap_or_else(|| path.clone()).as_str().into(),
                );
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
                let rule = rule.as_deref();
                match rule.and_then(VersionRule::registry_file) {
                    Some((file, regex, encoding)) if !library.version_unknown => {
                        let mut vf = InlineTable::new();
                        vf.insert("path", file.into());
                        vf.insert("regex", regex.into());
                        if let Some(encoding) = encoding {
                            vf.insert("encoding", encoding.into());
                        }
                        set("version-file", Value::InlineTable(vf));
                    }
                    _ => {}
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
                let include = rule
                    .and_then(|r| r.include.as_ref())
                    .unwrap_or(&library.include);
                if !include.is_empty() {
                    set(
                        "include",
                        Value::Array(include.iter().map(String::as_str).collect()),
                    );
                }
                if let Some(map) = rule.and_then(|r| r.map.as_ref()) {
                    let mut table = InlineTable::new();
                    for (from, to) in map {
                        table.insert(from, to.as_str().into());
                    }
                    set("map", Value::InlineTable(table));
                }
                if let Some(license) = &library.license {
                    set("license", license.as_str().into());
                }
                if let (Some(rule), Some(version)) = (rule, version) {
                    if rule.path.is_none() && !path_names_version {
                        remarks.push(format!(
                            "`{}` {version}: read from the folder's name, which an update does not rename",
                            library.name
                        ));
                    }
                    if !matches!(rule.layout, Layout::Tree | Layout::FolderName)
                        && rule.include.is_none()
                        && rule.map.is_none()
                    {
                        remarks.push(format!(
                            "`{}` is vendored {}: set `include`/`map` so an update lays out upstream's files the same way",
                            library.name,
                            rule.layout.describe()
                        ));
                    }
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
        let mut text = String::new();
        for line in doc.to_string().lines() {
            if line.starts_with("keep = ") {
                match &compared_line {
                    Some(compared) => text.push_str(&format!(
                        "# `keep`: the files upstream's tree does not have ({})",
                        crate::summary::visible(compared)
                    )),
                    None => text.push_str(KEEP_GUESS),
                }
                text.push('\n');
            }
            text.push_str(line);
            text.push('\n');
        }
        // A folder name holding a line break must not end a comment.
        for remark in note.iter().chain(&remarks) {
            out.push_str(&format!("# {}\n", crate::summary::visible(remark)));
        }
        if note.is_some() {
            for line in text.lines() {
                out.push_str(&format!("# {line}\n"));
            }
        } else {
            out.push_str(&text);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoding_of(name: &str) -> VersionEncoding {
        encoding(name).unwrap_or_else(|| panic!("`{name}` is no registry encoding"))
    }

    fn library(name: &str) -> Library {
        catalog()
            .into_iter()
            .find(|l| l.name == name)
            .unwrap_or_else(|| panic!("`{name}` is not in the catalog"))
    }

    /// The version `library` reads from `text` at `path` (none: a folder's name).
    fn read(name: &str, path: Option<&str>, text: &str) -> Option<String> {
        library(name)
            .version
            .iter()
            .filter(|r| r.path.as_deref() == path)
            .find_map(|r| r.read(text))
    }

    #[test]
    fn one_sample_per_encoding() {
        for (encoding, name, path, text, expected) in [
            (
                "string",
                "nghttp2",
                Some("lib/includes/nghttp2/nghttp2ver.h"),
                "#define NGHTTP2_VERSION \"1.64.0\"\n",
                "1.64.0",
            ),
            (
                "macros",
                "hiredis",
                Some("hiredis.h"),
                "#define HIREDIS_MAJOR 1\n#define HIREDIS_MINOR 2\n#define HIREDIS_PATCH 0\n#define HIREDIS_SONAME 1.1.0\n",
                "1.2.0",
            ),
            (
                "macros in another file",
                "nlohmann_json",
                Some("include/nlohmann/detail/abi_macros.hpp"),
                "#if NLOHMANN_JSON_VERSION_MAJOR != 3 || NLOHMANN_JSON_VERSION_MINOR != 11\n#endif\n#define NLOHMANN_JSON_VERSION_MAJOR 3   // NOLINT\n#define NLOHMANN_JSON_VERSION_MINOR 11  // NOLINT\n#define NLOHMANN_JSON_VERSION_PATCH 3   // NOLINT\n",
                "3.11.3",
            ),
            (
                "coded decimal",
                "fmt",
                Some("include/fmt/base.h"),
                "#define FMT_VERSION 110002\n",
                "11.0.2",
            ),
            (
                "hex",
                "librdkafka",
                Some("src/rdkafka.h"),
                "#define RD_KAFKA_VERSION  0x020f00ff\n",
                "2.15.0",
            ),
            (
                "VERSION file",
                "jemalloc",
                Some("VERSION"),
                "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c\n",
                "5.3.0",
            ),
            (
                "CMake project()",
                "snappy",
                Some("CMakeLists.txt"),
                "cmake_minimum_required(VERSION 3.10)\nproject(Snappy VERSION 1.2.1 LANGUAGES C CXX)\n",
                "1.2.1",
            ),
            (
                "CMake set()",
                "googletest",
                Some("CMakeLists.txt"),
                "project(googletest-distribution)\nset(GOOGLETEST_VERSION 1.15.2)\n",
                "1.15.2",
            ),
            (
                "MODULE.bazel",
                "googletest",
                Some("MODULE.bazel"),
                "module(\n    name = \"googletest\",\n    version = \"1.15.2\",\n",
                "1.15.2",
            ),
            (
                "meson.build",
                "harfbuzz",
                Some("meson.build"),
                "project('harfbuzz', 'c', 'cpp',\n  meson_version: '>= 0.55.0',\n  version: '10.1.0',\n",
                "10.1.0",
            ),
            (
                "configure.ac",
                "jansson",
                Some("configure.ac"),
                "AC_PREREQ([2.60])\nAC_INIT([jansson], [2.14], [https://github.com/akheron/jansson/issues])\n",
                "2.14",
            ),
            (
                "package.json",
                "llhttp",
                Some("package.json"),
                "{\n  \"name\": \"llhttp\",\n  \"version\": \"9.3.0\",\n",
                "9.3.0",
            ),
            ("folder name", "jemalloc", None, "jemalloc-5.3.0", "5.3.0"),
        ] {
            assert_eq!(
                read(name, path, text).as_deref(),
                Some(expected),
                "{encoding}: `{name}` in {path:?}"
            );
        }
    }

    #[test]
    fn split_numbers_are_tidied_and_folder_names_become_templates() {
        assert_eq!(tidy("11.00.02"), "11.0.2");
        assert_eq!(tidy("1.000.009"), "1.0.9");
        assert_eq!(tidy("2.1.0-beta3"), "2.1.0-beta3");
        assert_eq!(
            versioned_path("deps/jemalloc-5.3.0", "5.3.0").as_deref(),
            Some("deps/jemalloc-{version}")
        );
        assert_eq!(
            versioned_path("ripser-1.2.1", "1.2.1").as_deref(),
            Some("ripser-{version}")
        );
        assert_eq!(versioned_path("deps/1.1-1.1", "1.1"), None);
        assert_eq!(versioned_path("deps/jemalloc", "5.3.0"), None);
    }

    #[test]
    fn every_catalog_entry_parses_compiles_and_reads_its_samples() {
        let catalog = catalog();
        assert!(catalog.len() >= 60, "{} libraries", catalog.len());
        let mut names = BTreeMap::<&str, usize>::new();
        for library in &catalog {
            *names.entry(&library.name).or_default() += 1;
            assert!(
                !library.version.is_empty() || !library.markers.is_empty(),
                "`{}` has no way to be recognised",
                library.name
            );
            for rule in &library.version {
                let regex =
                    Regex::new(&rule.regex).unwrap_or_else(|e| panic!("`{}`: {e}", library.name));
                // A folder's name, or a generic file, never names a library alone.
                if rule.path.is_none() || rule.path.as_deref() == Some("VERSION") {
                    assert!(
                        rule.when.is_some(),
                        "`{}`: a rule needs `when`",
                        library.name
                    );
                }
                assert_eq!(
                    rule.read(&rule.sample).as_deref(),
                    Some(rule.expect.as_str()),
                    "`{}`: `{}` on its sample",
                    library.name,
                    rule.regex
                );
                if let Some(name) = &rule.encoding {
                    assert!(encoding(name).is_some(), "`{}`: `{name}`", library.name);
                }
                // What the registry will read agrees with what init read.
                if let Some((_, registry, encoding)) = rule.registry_file() {
                    let found = crate::check::version_matched(&regex, &rule.sample).unwrap();
                    let found = match encoding {
                        Some(name) => encoding_of(name).decode(&found).unwrap(),
                        None => found,
                    };
                    assert_eq!(
                        crate::version::Version::parse(&found).ok(),
                        crate::version::Version::parse(&rule.expect).ok(),
                        "`{}`: `{registry}`",
                        library.name
                    );
                }
                if !library.version_unknown {
                    crate::version::Version::parse(&rule.expect)
                        .unwrap_or_else(|e| panic!("`{}`: {e}", library.name));
                }
            }
            for shipped in &library.ships {
                let (glob, says) = match shipped {
                    Shipped::Glob(glob) => (glob, None),
                    Shipped::Checked { path, says } => (path, Some(says)),
                };
                globset::Glob::new(glob).unwrap_or_else(|e| panic!("`{}`: {e}", library.name));
                if let Some(says) = says {
                    Regex::new(says).unwrap_or_else(|e| panic!("`{}`: {e}", library.name));
                }
            }
            // Each drafted entry, one per rule and one by marker, is a valid registry entry.
            let drafts = library
                .version
                .iter()
                .map(|rule| (Some(rule.expect.clone()), Some(Box::new(rule.clone()))))
                .chain(std::iter::once((None, None)));
            for (version, rule) in drafts {
                // A folder-name rule's draft names the version in `path`.
                let folder = match rule.as_deref() {
                    Some(VersionRule {
                        path: None, sample, ..
                    }) => format!("deps/{sample}"),
                    _ => format!("deps/{}", library.name),
                };
                let found = Found::Library {
                    folder: PathBuf::from(folder),
                    library: Box::new(library.clone()),
                    version: version.filter(|_| !library.version_unknown),
                    rule,
                    keep: vec!["x.gyp".into()],
                    compared: None,
                };
                let complete = found.is_complete();
                let text = render(&[found], &BTreeSet::new());
                let text: String = text
                    .lines()
                    .filter(|l| !l.starts_with("# `") && !l.contains(KEEP_GUESS))
                    .map(|l| {
                        if complete {
                            return l.to_owned();
                        }
                        let filled = if library.branch.is_some() {
                            "0123456789abcdef0123456789abcdef01234567"
                        } else {
                            "1.0.0"
                        };
                        l.trim_start_matches("# ").replace("FILL IN", filled)
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                crate::manifest::Manifest::parse(Path::new("deps.toml"), &text)
                    .unwrap_or_else(|e| panic!("`{}`:\n{text}\n{e}", library.name));
            }
        }
        // One name may have two upstreams (zlib, Chromium's zlib), told apart by content.
        for (name, count) in names {
            assert!(count == 1 || name == "zlib", "`{name}` {count} times");
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

    #[test]
    fn keep_names_only_files_upstream_does_not_ship() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("zlib/zlib.h", "#define ZLIB_VERSION \"1.3.1\"\n");
        write(
            "zlib/CMakeLists.txt",
            "add_library(zlib STATIC adler32.c)\n",
        );
        write("zlib/contrib/minizip/CMakeLists.txt", "project(minizip)\n");
        write("zstd/lib/zstd.h", "");
        write("zstd/build/cmake/CMakeLists.txt", "project(zstd)\n");
        write("zstd/build/meson/meson.build", "project('zstd')\n");
        write("zstd/zstd.gyp", "{}\n");
        write("own/config/archs/x.gypi", "{}\n");
        write("own/config/archs/y.gypi", "{}\n");
        write("own/build/cmake/CMakeLists.txt", "project(x)\n");
        write("own/build/README.md", "upstream's\n");
        let zlib = library("zlib");
        let zlib = catalog()
            .into_iter()
            .filter(|l| l.name == "zlib")
            .find(|l| !l.version_unknown)
            .unwrap_or(zlib);
        assert_eq!(
            project_files(dir.path(), Path::new("zlib"), &zlib.ships),
            ["CMakeLists.txt"]
        );
        write(
            "zlib/CMakeLists.txt",
            "cmake_minimum_required(VERSION 3.5)\nproject(zlib C)\n",
        );
        assert!(project_files(dir.path(), Path::new("zlib"), &zlib.ships).is_empty());
        assert_eq!(
            project_files(dir.path(), Path::new("zstd"), &library("zstd").ships),
            ["zstd.gyp"]
        );
        assert_eq!(
            project_files(dir.path(), Path::new("own"), &[]),
            ["build/cmake/CMakeLists.txt", "config/**"]
        );
    }
}
