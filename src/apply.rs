//! Applying an update: from a check's finding to a verified commit on the dependency's update
//! branch, or, with `--dry-run`, to a description of what would change.
//!
//! 1. [`locate`] says where the new code is: an archive URL (`archive`, a release `asset`,
//!    GitHub's tag tarball, npm's tarball) or a git commit.
//! 2. The archive is downloaded and hashed, then verified (npm integrity, `checksums`,
//!    `signature`) before anything is unpacked; a git commit is exported from the cache.
//! 3. [`crate::vendor::stage`] lays out the new files; [`crate::vcs`] builds the new tree
//!    from the base commit, with `keep` files carried over and `deps.toml` rewritten, runs the
//!    `after` commands in a temporary worktree, and commits. Only the update branch's ref
//!    moves: the user's checkout, index and other branches are never touched, and any
//!    failure leaves the repository as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use reqwest::Url;

use crate::archive::{self, ArchiveError};
use crate::check::{Current, DependencyError, Finding, check_dependency};
use crate::diff::{self, ChangeKind, ChangeSummary, FileChange};
use crate::download::{self, Downloaded};
use crate::http::{DownloadSink, HttpClient, HttpError, redact};
use crate::manifest::edit::{EditError, record_update};
use crate::manifest::{Dependency, Manifest, SourceSpec, Tracking};
use crate::printer::Printer;
use crate::signature::{SignatureError, verify_detached};
use crate::source::SourceContext;
use crate::template::Vars;
use crate::vcs::{self, GitError, MODE_EXECUTABLE, MODE_FILE, MODE_LINK, Repo, TreeFile};
use crate::vendor::{self, Staged, VendorError};

/// Checksum and signature files are small; anything larger is not one.
const SMALL_FILE_LIMIT: u64 = 1 << 20;

/// What the user asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    pub dry_run: bool,
    /// With `dry_run`: include unified diffs.
    pub diff: bool,
    pub color: bool,
}

/// Where the new version's code is.
#[derive(Debug, Clone)]
pub enum Origin {
    Archive {
        url: Url,
        /// npm's `integrity` for the tarball.
        integrity: Option<String>,
    },
    Commit {
        url: String,
        /// The ref to fetch that leads to the commit.
        remote_ref: String,
        commit: String,
    },
}

/// What was verified about the new code, in words for commit messages and pull requests.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Verification {
    /// The archive's sha256, recorded in `deps.toml`.
    pub sha256: Option<String>,
    pub checks: Vec<String>,
}

/// The outcome for one dependency.
#[derive(Debug)]
pub enum UpdateResult {
    /// Already at the newest allowed version.
    UpToDate {
        current: String,
        note: Option<String>,
    },
    Updated(Box<Update>),
}

/// An update made, or previewed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Update {
    pub name: String,
    pub old_version: String,
    pub new_version: String,
    pub tag: Option<String>,
    pub branch: String,
    /// Where the code came from (archive URL, or remote and commit).
    pub source: String,
    pub verification: Verification,
    pub changes: ChangeSummary,
    /// Files under `path` kept from the current tree (`keep`).
    pub kept: Vec<PathBuf>,
    /// `after` commands that ran.
    pub after: Vec<String>,
    /// What a reviewer should look at: new or removed sources the build files do not follow,
    /// license changes.
    pub needs_look: Vec<String>,
    /// The tag of the old version, when upstream still lists it.
    pub old_tag: Option<String>,
    /// The branch the update is based on (`main`), for the pull request's base.
    pub base_branch: String,
    pub state: BranchState,
    /// With `--dry-run --diff`: the unified diff.
    #[serde(skip)]
    pub diff: Option<String>,
}

/// What happened to the update branch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "commit")]
pub enum BranchState {
    /// The branch was created or moved to this commit.
    Committed(String),
    /// The branch already held this very update.
    Unchanged(String),
    /// `--dry-run`: nothing was written.
    Previewed,
}

/// Why an update failed. The repository is as it was.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Check(#[from] DependencyError),
    #[error("release `{tag}` has no asset named `{asset}`{}", listed(available))]
    AssetNotFound {
        asset: String,
        tag: String,
        available: Vec<String>,
    },
    #[error("npm published no tarball for `{package}@{version}`")]
    NoTarball { package: String, version: String },
    #[error("the git remote offers no ref for `{version}`")]
    NoCommit { version: String },
    #[error("downloading the {what} failed")]
    Download {
        what: &'static str,
        #[source]
        source: HttpError,
    },
    #[error(
        "the archive does not match npm's published integrity\n  expected: {expected}\n  actual:   {actual}"
    )]
    IntegrityMismatch { expected: String, actual: String },
    #[error("`{archive}` is not listed in the checksums file `{url}`")]
    ChecksumMissing { archive: String, url: String },
    #[error(
        "the archive's sha256 does not match the checksums file `{url}`\n  expected: {expected}\n  actual:   {actual}"
    )]
    ChecksumMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error(
        "the archive's sha256 does not match `sha256` in the registry\n  expected: {expected}\n  actual:   {actual}"
    )]
    Sha256Mismatch { expected: String, actual: String },
    #[error("cannot read the keyring `{}`", path.display())]
    Keyring {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Vendor(#[from] VendorError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("cannot rewrite the registry")]
    Edit(#[from] EditError),
    #[error("`{}` is not committed on the base `{base}`; updates are built from committed files", path.display())]
    ManifestNotCommitted { path: PathBuf, base: String },
    #[error("`{}` is outside the git repository `{}`", path.display(), repo.display())]
    OutsideRepository { path: PathBuf, repo: PathBuf },
    #[error(
        "the update branch `{branch}` is checked out; deps-update never moves the branch you are on"
    )]
    BranchCheckedOut { branch: String },
    #[error("the `after` command `{command}` failed ({status})\n{output}")]
    After {
        command: String,
        status: String,
        output: String,
    },
    #[error("cannot run the `after` command `{command}`")]
    AfterSpawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("upstream no longer offers the vendored version {version}")]
    VersionNotOffered { version: String },
    #[error("cannot read the vendored file `{}`", path.display())]
    ReadVendored {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the unpacked file `{}`", path.display())]
    Staged {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the current folder")]
    CurrentDir(#[source] std::io::Error),
    #[error("cannot create a temporary folder")]
    Temp(#[source] std::io::Error),
    #[error("an update task stopped unexpectedly: {0}")]
    Task(String),
}

fn listed(available: &[String]) -> String {
    if available.is_empty() {
        return "; it has no assets".into();
    }
    format!(
        "; it has {}",
        available
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

impl ApplyError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Check(e) => e.hint(),
            Self::AssetNotFound { .. } => Some("fix `asset`, e.g. `{name}-{version}.tar.xz`".into()),
            Self::Download { source, .. } => source.hint(),
            Self::IntegrityMismatch { .. } | Self::ChecksumMismatch { .. } | Self::Sha256Mismatch { .. } => Some(
                "do not vendor this archive: it is not what upstream published; report it upstream if it persists".into(),
            ),
            Self::ChecksumMissing { .. } => Some("check `checksums` and the archive's name".into()),
            Self::Keyring { .. } => Some("check `keyring`: a path in the repository".into()),
            Self::Signature(e) => e.hint(),
            Self::Archive(e) => e.hint(),
            Self::Vendor(e) => e.hint(),
            Self::Git(e) => e.hint(),
            Self::ManifestNotCommitted { .. } => Some("commit `deps.toml` first".into()),
            Self::BranchCheckedOut { .. } => Some("switch to another branch and run again".into()),
            Self::After { .. } | Self::AfterSpawn { .. } => Some("fix the command, or the tree it runs in; nothing was committed".into()),
            Self::VersionNotOffered { .. } => Some("update the dependency, or check `tag` and `ignore`".into()),
            Self::NoTarball { .. }
            | Self::NoCommit { .. }
            | Self::ReadVendored { .. }
            | Self::Edit(_)
            | Self::OutsideRepository { .. }
            | Self::Staged { .. }
            | Self::CurrentDir(_)
            | Self::Temp(_)
            | Self::Task(_) => None,
        }
    }
}

/// Placeholder values for `archive`, `asset`, `checksums` and `signature`.
pub fn archive_vars(dep: &Dependency, version: &str, tag: Option<&str>) -> Vars {
    let mut vars = Vars::new();
    vars.insert("name", dep.name.clone());
    vars.insert("version", version.to_owned());
    vars.insert("tag", tag.unwrap_or(version).to_owned());
    if let Ok(parsed) = crate::version::Version::parse(version) {
        for (i, key) in ["major", "minor", "patch"].into_iter().enumerate() {
            vars.insert(
                key,
                parsed.release().get(i).copied().unwrap_or(0).to_string(),
            );
        }
    }
    if let SourceSpec::GithubRelease { repo } | SourceSpec::GithubTag { repo } = &dep.source {
        vars.insert("repo", repo.clone());
    }
    vars
}

/// Where the code of `finding.latest` is.
pub fn locate(
    dep: &Dependency,
    finding: &Finding,
    http: &HttpClient,
) -> Result<Origin, ApplyError> {
    let tag = finding.tag.as_deref();
    let vars = archive_vars(dep, &finding.latest, tag);
    let archive = |text: String| {
        Ok(Origin::Archive {
            url: parse_url(&text, "archive")?,
            integrity: None,
        })
    };
    if let Some(template) = &dep.apply.archive {
        return archive(template.render(&vars));
    }
    match &dep.source {
        SourceSpec::GithubRelease { repo } | SourceSpec::GithubTag { repo } => {
            let tag = tag.unwrap_or(&finding.latest);
            if let Some(asset) = &dep.apply.asset {
                let wanted = asset.render(&vars);
                let assets = finding
                    .chosen
                    .as_ref()
                    .map(|c| c.assets.as_slice())
                    .unwrap_or_default();
                let found = assets
                    .iter()
                    .find(|a| a.name == wanted)
                    .map(|a| a.url.clone())
                    .ok_or_else(|| ApplyError::AssetNotFound {
                        asset: wanted,
                        tag: tag.to_owned(),
                        available: assets.iter().map(|a| a.name.clone()).collect(),
                    })?;
                return archive(found);
            }
            // GitHub's source tarball of the tag, through the API (GitHub Enterprise too).
            let mut url = http.github_api().clone();
            if let Ok(mut segments) = url.path_segments_mut() {
                segments
                    .pop_if_empty()
                    .push("repos")
                    .extend(repo.split('/'))
                    .push("tarball")
                    .push(tag);
            }
            Ok(Origin::Archive {
                url,
                integrity: None,
            })
        }
        SourceSpec::Npm { package } => {
            let published = finding
                .chosen
                .as_ref()
                .and_then(|c| c.published.clone())
                .ok_or_else(|| ApplyError::NoTarball {
                    package: package.clone(),
                    version: finding.latest.clone(),
                })?;
            Ok(Origin::Archive {
                url: Url::parse(&published.url).map_err(|_| ApplyError::NoTarball {
                    package: package.clone(),
                    version: finding.latest.clone(),
                })?,
                integrity: published.integrity,
            })
        }
        SourceSpec::Git { url } => match &dep.tracking {
            Tracking::Branch { branch, .. } => Ok(Origin::Commit {
                url: url.clone(),
                remote_ref: format!("refs/heads/{branch}"),
                commit: finding.latest.clone(),
            }),
            Tracking::Releases { .. } => {
                let chosen = finding.chosen.as_ref();
                let (Some(tag), Some(commit)) = (
                    chosen.and_then(|c| c.tag.clone()),
                    chosen.and_then(|c| c.commit.clone()),
                ) else {
                    return Err(ApplyError::NoCommit {
                        version: finding.latest.clone(),
                    });
                };
                Ok(Origin::Commit {
                    url: url.clone(),
                    remote_ref: format!("refs/tags/{tag}"),
                    commit,
                })
            }
        },
    }
}

/// A small file (checksums, signature) in memory.
struct Memory(Vec<u8>);

impl DownloadSink for Memory {
    fn restart(&mut self) -> std::io::Result<()> {
        self.0.clear();
        Ok(())
    }
    fn write_chunk(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.0.extend_from_slice(chunk);
        Ok(())
    }
}

async fn fetch_small(
    http: &HttpClient,
    url: &Url,
    what: &'static str,
) -> Result<Vec<u8>, ApplyError> {
    let mut memory = Memory(Vec::new());
    http.download(url, &mut memory, SMALL_FILE_LIMIT, &|_, _| {})
        .await
        .map_err(|source| ApplyError::Download { what, source })?;
    Ok(memory.0)
}

fn parse_url(text: &str, what: &'static str) -> Result<Url, ApplyError> {
    Url::parse(text).map_err(|_| ApplyError::Download {
        what,
        source: HttpError::BadUrl {
            url: text.to_owned(),
        },
    })
}

/// The sha256 listed for `name` in a `sha256sum` (`HASH  name`, `HASH *name`) or BSD
/// (`SHA256 (name) = HASH`) style file.
pub fn listed_sha256(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("SHA256 (") {
            let (file, hash) = rest.split_once(") = ")?;
            return (file == name).then(|| hash.trim().to_ascii_lowercase());
        }
        let (hash, file) = line.split_once(char::is_whitespace)?;
        let file = file.trim_start().trim_start_matches('*');
        let file_name = file.rsplit('/').next().unwrap_or(file);
        (hash.len() == 64 && (file == name || file_name == name)).then(|| hash.to_ascii_lowercase())
    })
}

/// Downloads the archive and runs every verification the registry asks for, before anything
/// is unpacked.
async fn download_verified(
    (dep, manifest, context): (&Dependency, &Manifest, &SourceContext),
    url: &Url,
    integrity: Option<&str>,
    vars: &mut Vars,
    dir: &Path,
    expected_sha256: Option<&str>,
) -> Result<(Downloaded, Verification), ApplyError> {
    let http = &context.http;
    let limit = manifest.settings.max_archive_bytes;
    let downloaded = download::download(http, url, dir, limit, &context.printer)
        .await
        .map_err(|source| ApplyError::Download {
            what: "archive",
            source,
        })?;
    let mut verification = Verification {
        sha256: Some(downloaded.sha256.clone()),
        checks: Vec::new(),
    };
    vars.insert("archive", url.to_string());
    vars.insert("archive-name", downloaded.name.clone());
    if let Some(expected) = expected_sha256 {
        if expected != downloaded.sha256 {
            return Err(ApplyError::Sha256Mismatch {
                expected: expected.to_owned(),
                actual: downloaded.sha256.clone(),
            });
        }
        verification
            .checks
            .push("sha256 matches `sha256` in the registry".into());
    }
    if let Some(expected) = integrity {
        if expected.starts_with("sha512-") {
            if expected != downloaded.sha512_integrity {
                return Err(ApplyError::IntegrityMismatch {
                    expected: expected.to_owned(),
                    actual: downloaded.sha512_integrity.clone(),
                });
            }
            verification
                .checks
                .push("sha512 matches the integrity npm published".into());
        } else {
            context.printer.warn(&format!(
                "`{}`: npm published only a weak integrity hash; it was not checked",
                dep.name
            ));
        }
    }
    if let Some(template) = &dep.apply.checksums {
        let checksums_url = parse_url(&template.render(vars), "checksums file")?;
        let shown = redact(&checksums_url);
        let text = fetch_small(http, &checksums_url, "checksums file").await?;
        let text = String::from_utf8_lossy(&text);
        let expected =
            listed_sha256(&text, &downloaded.name).ok_or_else(|| ApplyError::ChecksumMissing {
                archive: downloaded.name.clone(),
                url: shown.clone(),
            })?;
        if expected != downloaded.sha256 {
            return Err(ApplyError::ChecksumMismatch {
                url: shown,
                expected,
                actual: downloaded.sha256.clone(),
            });
        }
        verification
            .checks
            .push(format!("sha256 listed in {shown}"));
    }
    if let Some((template, keyring)) = &dep.apply.signature {
        let signature_url = parse_url(&template.render(vars), "signature")?;
        let signature = fetch_small(http, &signature_url, "signature").await?;
        let keyring_path = manifest.root.join(keyring);
        let keys = std::fs::read(&keyring_path).map_err(|source| ApplyError::Keyring {
            path: keyring.clone(),
            source,
        })?;
        let (shown, keyring, archive) = (
            redact(&signature_url),
            keyring.clone(),
            downloaded.file.path().to_owned(),
        );
        let fingerprint = tokio::task::spawn_blocking(move || {
            verify_detached(&signature, &shown, &keys, &keyring, &archive)
        })
        .await
        .map_err(|e| ApplyError::Task(e.to_string()))??;
        verification
            .checks
            .push(format!("OpenPGP signature by key {fingerprint}"));
    }
    Ok((downloaded, verification))
}

/// Fetches and lays out the new tree of a dependency at `version`; returns the staged files,
/// what was verified, where the code came from, and the folder holding it all (dropped last).
pub async fn fetch_tree(
    dep: &Dependency,
    manifest: &Manifest,
    context: &SourceContext,
    origin: &Origin,
    version: &str,
    tag: Option<&str>,
    expected_sha256: Option<&str>,
) -> Result<
    (
        BTreeMap<PathBuf, Staged>,
        Verification,
        String,
        tempfile::TempDir,
    ),
    ApplyError,
> {
    let staging = tempfile::tempdir().map_err(ApplyError::Temp)?;
    let unpack_dir = staging.path().join("tree");
    std::fs::create_dir(&unpack_dir).map_err(ApplyError::Temp)?;
    let limit = manifest.settings.max_archive_bytes;
    let (unpacked, verification, source, from_archive) = match origin {
        Origin::Archive { url, integrity } => {
            let mut vars = archive_vars(dep, version, tag);
            let (downloaded, verification) = download_verified(
                (dep, manifest, context),
                url,
                integrity.as_deref(),
                &mut vars,
                staging.path(),
                expected_sha256,
            )
            .await?;
            let dest = unpack_dir.clone();
            let unpacked = tokio::task::spawn_blocking(move || {
                archive::unpack(downloaded.file.path(), &downloaded.name, &dest, limit)
            })
            .await
            .map_err(|e| ApplyError::Task(e.to_string()))??;
            (unpacked, verification, redact(url), true)
        }
        Origin::Commit {
            url,
            remote_ref,
            commit,
        } => {
            let (url, remote_ref, commit, cache, dest) = (
                url.clone(),
                remote_ref.clone(),
                commit.clone(),
                context.cache_dir.clone(),
                unpack_dir.clone(),
            );
            let shown = Url::parse(&url).map_or_else(|_| url.clone(), |u| redact(&u));
            let unpacked = tokio::task::spawn_blocking({
                let commit = commit.clone();
                move || {
                    vcs::export_commit(cache.as_deref(), &url, &remote_ref, &commit, &dest, limit)
                }
            })
            .await
            .map_err(|e| ApplyError::Task(e.to_string()))??;
            let verification = Verification {
                sha256: None,
                checks: vec![format!("git commit {commit} (content-addressed by its id)")],
            };
            (
                unpacked,
                verification,
                format!("{shown} at {commit}"),
                false,
            )
        }
    };
    let staged = vendor::stage(&unpacked, &unpack_dir, &dep.apply, from_archive)?;
    Ok((staged, verification, source, staging))
}

/// Updates one dependency: check, fetch, verify, lay out, commit (or preview).
pub async fn update_dependency(
    dep: &Dependency,
    manifest: &Manifest,
    context: &SourceContext,
    options: ApplyOptions,
    now: i64,
) -> Result<UpdateResult, ApplyError> {
    let finding = check_dependency(dep, &manifest.root, context, now).await?;
    if !finding.update_available {
        return Ok(UpdateResult::UpToDate {
            current: finding.current.to_string(),
            note: finding.note,
        });
    }
    let origin = locate(dep, &finding, &context.http)?;
    let (staged, verification, source, staging) = fetch_tree(
        dep,
        manifest,
        context,
        &origin,
        &finding.latest,
        finding.tag.as_deref(),
        None,
    )
    .await?;
    let plan = Plan {
        dep: dep.clone(),
        manifest_file: manifest.file.clone(),
        root: manifest.root.clone(),
        settings_base: manifest.settings.base.clone(),
        branch: manifest
            .settings
            .branch
            .render(&Vars::from([("name", dep.name.clone())])),
        message: manifest.settings.commit_message.render(&Vars::from([
            ("name", dep.name.clone()),
            ("version", finding.latest.clone()),
            ("old-version", finding.current.to_string()),
        ])),
        old_version: finding.current.clone(),
        new_version: finding.latest.clone(),
        tag: finding.tag.clone(),
        old_tag: finding.current_tag.clone(),
        source,
        verification,
        staged,
        options,
    };
    let printer = context.printer.clone();
    let update = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let name = plan.dep.name.clone();
        let result = plan.apply(&printer);
        printer.verbose(&format!(
            "`{name}`: built the commit in {:.2} s",
            started.elapsed().as_secs_f64()
        ));
        let started = std::time::Instant::now();
        drop(staging);
        printer.verbose(&format!(
            "`{name}`: removed the staging folder in {:.2} s",
            started.elapsed().as_secs_f64()
        ));
        result
    })
    .await
    .map_err(|e| ApplyError::Task(e.to_string()))??;
    Ok(UpdateResult::Updated(Box::new(update)))
}

/// How the vendored tree differs from what upstream's archive and the registry's rules give.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LocalEdit {
    pub path: PathBuf,
    pub kind: LocalEditKind,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocalEditKind {
    /// Content differs: lines added and removed locally (`None` for binary files).
    Modified(Option<(usize, usize)>),
    /// Only the executable bit or link-ness differs.
    ModeChanged,
    /// Present in the vendored tree, not upstream (and not matched by `keep`).
    Added,
    /// Upstream has it; the vendored tree does not.
    Missing,
}

/// What `verify` found for one dependency.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub version: String,
    pub source: String,
    pub verification: Verification,
    pub edits: Vec<LocalEdit>,
}

/// Re-fetches the vendored version, verifies it like an update would (and against `sha256`),
/// and compares it with the vendored tree on disk, file by file, outside `keep`.
pub async fn verify_dependency(
    dep: &Dependency,
    manifest: &Manifest,
    context: &SourceContext,
) -> Result<VerifyReport, ApplyError> {
    use crate::source::{Discovery, Source};
    let current = crate::check::current_version(dep, &manifest.root)?;
    let discovery = crate::source::for_dependency(dep)
        .discover(context)
        .await
        .map_err(|e| ApplyError::Check(e.into()))?;
    let finding = match (&current, discovery) {
        (Current::Version(version), Discovery::Releases { candidates, .. }) => {
            let chosen = candidates
                .iter()
                .filter(|c| &c.version == version)
                .max_by_key(|c| c.version.as_str() == version.as_str())
                .cloned()
                .ok_or_else(|| ApplyError::VersionNotOffered {
                    version: version.to_string(),
                })?;
            Finding {
                current: current.clone(),
                latest: version.to_string(),
                tag: chosen.tag.clone(),
                update_available: false,
                note: None,
                chosen: Some(chosen),
                current_tag: None,
            }
        }
        (Current::Commit(commit), _) => Finding {
            current: current.clone(),
            latest: commit.clone(),
            tag: None,
            update_available: false,
            note: None,
            chosen: None,
            current_tag: None,
        },
        (Current::Version(version), Discovery::Commits(_)) => {
            return Err(ApplyError::VersionNotOffered {
                version: version.to_string(),
            });
        }
    };
    let origin = locate(dep, &finding, &context.http)?;
    let (staged, verification, source, staging) = fetch_tree(
        dep,
        manifest,
        context,
        &origin,
        &finding.latest,
        finding.tag.as_deref(),
        dep.apply.sha256.as_deref(),
    )
    .await?;
    let dep_dir = manifest.root.join(&dep.path);
    let keep = dep.apply.keep.clone();
    let edits = tokio::task::spawn_blocking(move || {
        let result = compare_with_disk(&staged, &dep_dir, &keep);
        drop(staging);
        result
    })
    .await
    .map_err(|e| ApplyError::Task(e.to_string()))??;
    Ok(VerifyReport {
        version: finding.latest,
        source,
        verification,
        edits,
    })
}

/// Differences between the staged upstream tree and the files under `dir`, outside `keep`.
fn compare_with_disk(
    staged: &BTreeMap<PathBuf, Staged>,
    dir: &Path,
    keep: &crate::manifest::Globs,
) -> Result<Vec<LocalEdit>, ApplyError> {
    use std::os::unix::fs::PermissionsExt;
    let read_error = |path: &Path, source| ApplyError::ReadVendored {
        path: path.to_owned(),
        source,
    };
    let mut on_disk: BTreeMap<PathBuf, std::fs::Metadata> = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && folder == dir => break,
            Err(e) => return Err(read_error(&folder, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| read_error(&folder, e))?;
            let meta = std::fs::symlink_metadata(entry.path())
                .map_err(|e| read_error(&entry.path(), e))?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                let relative = entry
                    .path()
                    .strip_prefix(dir)
                    .expect("under the folder")
                    .to_owned();
                on_disk.insert(relative, meta);
            }
        }
    }
    let mut edits = Vec::new();
    let paths: std::collections::BTreeSet<&PathBuf> = staged.keys().chain(on_disk.keys()).collect();
    for path in paths {
        if keep.matches(path) {
            continue;
        }
        let kind = match (staged.get(path), on_disk.get(path)) {
            (None, Some(_)) => LocalEditKind::Added,
            (Some(_), None) => LocalEditKind::Missing,
            (Some(Staged::File { source, executable }), Some(meta)) => {
                if meta.file_type().is_symlink() {
                    LocalEditKind::ModeChanged
                } else {
                    let local = std::fs::read(dir.join(path)).map_err(|e| read_error(path, e))?;
                    let upstream = std::fs::read(source).map_err(|e| staged_error(source, e))?;
                    if local != upstream {
                        LocalEditKind::Modified(diff::line_changes(&upstream, &local))
                    } else if (meta.permissions().mode() & 0o111 != 0) != *executable {
                        LocalEditKind::ModeChanged
                    } else {
                        continue;
                    }
                }
            }
            (Some(Staged::Link { target }), Some(meta)) => {
                let same = meta.file_type().is_symlink()
                    && std::fs::read_link(dir.join(path)).ok().as_ref() == Some(target);
                if same {
                    continue;
                }
                LocalEditKind::ModeChanged
            }
            (None, None) => continue,
        };
        edits.push(LocalEdit {
            path: path.clone(),
            kind,
        });
    }
    Ok(edits)
}

/// Files that list sources for a build system.
fn is_build_file(path: &Path) -> bool {
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
fn needs_look(changes: &ChangeSummary, build_files: &[String]) -> Vec<String> {
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
            .map(|f| format!("`{}`", f.path.display()))
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
                file.path.display(),
                file.lines_added,
                file.lines_removed
            ));
        }
    }
    items
}

/// Everything the synchronous, git-side half of an update needs.
struct Plan {
    dep: Dependency,
    manifest_file: PathBuf,
    root: PathBuf,
    settings_base: Option<String>,
    branch: String,
    message: String,
    old_version: Current,
    new_version: String,
    tag: Option<String>,
    old_tag: Option<String>,
    source: String,
    verification: Verification,
    staged: BTreeMap<PathBuf, Staged>,
    options: ApplyOptions,
}

fn staged_error(path: &Path, source: std::io::Error) -> ApplyError {
    ApplyError::Staged {
        path: path.to_owned(),
        source,
    }
}

/// `path` relative to the repository's working tree.
fn in_repo(repo: &Repo, path: &Path) -> Result<PathBuf, ApplyError> {
    let workdir = repo.workdir().map(Path::to_owned).unwrap_or_default();
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()
            .map_err(ApplyError::CurrentDir)?
            .join(path)
    };
    // The path may not exist yet (a dependency vendored for the first time): resolve its
    // nearest existing ancestor.
    let existing = absolute
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(&absolute);
    let rest = absolute.strip_prefix(existing).unwrap_or(Path::new(""));
    let resolved = canonical(existing).join(rest);
    resolved
        .strip_prefix(canonical(&workdir))
        .map(Path::to_owned)
        .map_err(|_| ApplyError::OutsideRepository {
            path: path.to_owned(),
            repo: workdir,
        })
}

impl Plan {
    fn apply(self, printer: &Printer) -> Result<Update, ApplyError> {
        let repo = Repo::discover(&self.root)?;
        let dep_dir = in_repo(&repo, &self.root.join(&self.dep.path))?;
        let manifest_path = in_repo(&repo, &self.manifest_file)?;
        let base = repo.base(self.settings_base.as_deref())?;
        let write = !self.options.dry_run;

        let old_files = repo.files_under(base.commit, &dep_dir)?;
        let mut new_files = BTreeMap::new();
        let mut kept = Vec::new();
        for (path, file) in &old_files {
            if self.dep.apply.keep.matches(path) {
                kept.push(path.clone());
                new_files.insert(path.clone(), *file);
            }
        }
        for (path, staged) in &self.staged {
            let file = match staged {
                Staged::File { source, executable } => {
                    // Most files are unchanged between versions: hash in memory, and write
                    // only what the base tree does not already hold at that path.
                    let bytes = std::fs::read(source).map_err(|e| staged_error(source, e))?;
                    let id = repo.blob_from_bytes(&bytes, false)?;
                    if write && old_files.get(path).map(|f| f.id) != Some(id) {
                        repo.blob_from_bytes(&bytes, true)?;
                    }
                    TreeFile {
                        id,
                        mode: if *executable {
                            MODE_EXECUTABLE
                        } else {
                            MODE_FILE
                        },
                    }
                }
                Staged::Link { target } => TreeFile {
                    id: repo.blob_from_bytes(target.as_os_str().as_encoded_bytes(), write)?,
                    mode: MODE_LINK,
                },
            };
            new_files.insert(path.clone(), file);
        }
        let content =
            |path: &Path, file: Option<&TreeFile>, staged: bool| -> Result<Vec<u8>, ApplyError> {
                match (file, staged.then(|| self.staged.get(path)).flatten()) {
                    (_, Some(Staged::File { source, .. })) => {
                        std::fs::read(source).map_err(|e| staged_error(source, e))
                    }
                    (_, Some(Staged::Link { target })) => {
                        Ok(target.as_os_str().as_encoded_bytes().to_vec())
                    }
                    (Some(file), None) => Ok(repo.read_blob(file.id)?),
                    (None, None) => Ok(Vec::new()),
                }
            };
        let mut changes = ChangeSummary::default();
        let mut diff_text = String::new();
        let paths: std::collections::BTreeSet<&PathBuf> =
            old_files.keys().chain(new_files.keys()).collect();
        for path in paths {
            let (old, new) = (old_files.get(path), new_files.get(path));
            let kind = match (old, new) {
                (Some(o), Some(n)) if o == n => continue,
                (Some(_), Some(_)) => ChangeKind::Modified,
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (None, None) => continue,
            };
            let old_bytes = content(path, old, false)?;
            let new_bytes = if new.is_some() {
                content(path, new, true)?
            } else {
                Vec::new()
            };
            let lines = diff::line_changes(&old_bytes, &new_bytes);
            if self.options.diff {
                let shown = dep_dir.join(path).to_string_lossy().replace('\\', "/");
                diff_text.push_str(&diff::unified(
                    &shown,
                    &old_bytes,
                    &new_bytes,
                    self.options.color,
                ));
            }
            changes.files.push(FileChange {
                path: path.clone(),
                kind,
                lines_added: lines.map_or(0, |l| l.0),
                lines_removed: lines.map_or(0, |l| l.1),
                binary: lines.is_none(),
            });
        }

        // The build files of the new tree, to see whether they follow upstream's file list.
        let mut build_files = Vec::new();
        for (path, file) in &new_files {
            if is_build_file(path) {
                let bytes = content(path, Some(file), true)?;
                build_files.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        let manifest_text = repo.file_at(base.commit, &manifest_path)?.ok_or_else(|| {
            ApplyError::ManifestNotCommitted {
                path: manifest_path.clone(),
                base: base.described.clone(),
            }
        })?;
        let recorded_version = self
            .dep
            .tracking
            .recorded()
            .map(|_| self.new_version.as_str());
        let new_manifest = record_update(
            &String::from_utf8_lossy(&manifest_text),
            &self.dep.name,
            recorded_version,
            self.verification.sha256.as_deref(),
        )?;

        let mut update = Update {
            name: self.dep.name.clone(),
            old_version: self.old_version.to_string(),
            new_version: self.new_version.clone(),
            tag: self.tag.clone(),
            branch: self.branch.clone(),
            source: self.source.clone(),
            verification: self.verification.clone(),
            needs_look: needs_look(&changes, &build_files),
            changes,
            kept,
            after: self.dep.apply.after.clone(),
            old_tag: self.old_tag.clone(),
            base_branch: base.branch_name(),
            state: BranchState::Previewed,
            diff: self.options.diff.then_some(diff_text),
        };
        if self.options.dry_run {
            return Ok(update);
        }

        if repo.current_branch().as_deref() == Some(self.branch.as_str()) {
            return Err(ApplyError::BranchCheckedOut {
                branch: self.branch,
            });
        }
        let mut tree = repo.updated_tree(
            base.commit,
            &dep_dir,
            &new_files,
            &[(manifest_path, new_manifest.into_bytes())],
        )?;
        if !self.dep.apply.after.is_empty() {
            tree = self.run_after(&repo, tree, &dep_dir, printer)?;
        }
        let tip = repo.branch_tip(&self.branch);
        if let Some(tip) = tip
            && repo.tree_id(tip)? == tree
            && repo.parent_of(tip) == Some(base.commit)
        {
            update.state = BranchState::Unchanged(tip.to_string());
            return Ok(update);
        }
        let message = self.commit_message(&update);
        let commit = repo.commit(base.commit, tree, &message)?;
        repo.set_branch(
            &self.branch,
            commit,
            tip,
            &format!("deps-update: {} {}", self.dep.name, self.new_version),
        )?;
        update.state = BranchState::Committed(commit.to_string());
        Ok(update)
    }

    /// Runs the `after` commands in a temporary worktree holding `tree`, and returns the tree
    /// with what they changed.
    fn run_after(
        &self,
        repo: &Repo,
        tree: vcs::Oid,
        dep_dir: &Path,
        printer: &Printer,
    ) -> Result<vcs::Oid, ApplyError> {
        let worktree = repo.temporary_worktree(tree)?;
        for command in &self.dep.apply.after {
            printer.status(&format!("`{}`: running `{command}`", self.dep.name));
            let output = std::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .current_dir(worktree.path())
                .env_remove("GITHUB_TOKEN")
                .env_remove("GH_TOKEN")
                .env("DEPS_UPDATE_NAME", &self.dep.name)
                .env("DEPS_UPDATE_OLD_VERSION", self.old_version.to_string())
                .env("DEPS_UPDATE_NEW_VERSION", &self.new_version)
                .env("DEPS_UPDATE_PATH", dep_dir)
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|source| ApplyError::AfterSpawn {
                    command: command.clone(),
                    source,
                })?;
            if !output.status.success() {
                let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&output.stderr));
                let text: Vec<&str> = text.lines().rev().take(40).collect();
                let text: Vec<String> =
                    text.into_iter().rev().map(|l| format!("  | {l}")).collect();
                return Err(ApplyError::After {
                    command: command.clone(),
                    status: output.status.to_string(),
                    output: text.join("\n"),
                });
            }
        }
        Ok(worktree.snapshot()?)
    }

    fn commit_message(&self, update: &Update) -> String {
        let mut message = format!(
            "{}\n\nUpdate {} from {} to {}.\n\nSource: {}\n",
            self.message, update.name, update.old_version, update.new_version, update.source
        );
        if let Some(sha256) = &update.verification.sha256 {
            message.push_str(&format!("SHA-256: {sha256}\n"));
        }
        if !update.verification.checks.is_empty() {
            message.push_str("Verified:\n");
            for check in &update.verification.checks {
                message.push_str(&format!("- {check}\n"));
            }
        }
        if !update.kept.is_empty() {
            let kept: Vec<String> = update
                .kept
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            message.push_str(&format!("Kept local files: {}\n", kept.join(", ")));
        }
        if !update.after.is_empty() {
            message.push_str(&format!("Ran after: {}\n", update.after.join("; ")));
        }
        message.push_str(&format!("Changes: {}\n", update.changes.totals()));
        // The trailer marks the commit as the tool's own: only such branch tips are replaced.
        message.push_str(&format!(
            "\n{}: {} {}\n",
            vcs::TRAILER,
            update.name,
            update.new_version
        ));
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_checksum_files() {
        let hash = "a".repeat(64);
        let gnu = format!(
            "{hash}  nghttp2-1.64.0.tar.xz\n{}  other.tar.gz\n",
            "b".repeat(64)
        );
        assert_eq!(
            listed_sha256(&gnu, "nghttp2-1.64.0.tar.xz"),
            Some(hash.clone())
        );
        assert_eq!(
            listed_sha256(&format!("{hash} *dist/x.zip\n"), "x.zip"),
            Some(hash.clone())
        );
        assert_eq!(
            listed_sha256(
                &format!("SHA256 (x.tgz) = {}\n", hash.to_uppercase()),
                "x.tgz"
            ),
            Some(hash)
        );
        assert_eq!(listed_sha256(&gnu, "missing.tar.gz"), None);
    }
}
