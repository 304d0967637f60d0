//! Fetching a version's code and verifying it before anything is unpacked.
//!
//! The origin is `archive` when the registry gives one, else what the source says
//! ([`crate::source::Source::origin`]). A download streams to a temporary file while it is
//! hashed (sha256 and sha512), then is checked against the registry's `sha256`, npm's
//! `integrity`, the `checksums` file and the OpenPGP `signature`; only then is it unpacked
//! ([`crate::archive`]) or, with `format = "file"`, taken as the one file. A git commit is
//! exported from the cache instead: its id is its checksum. Either way the result is laid out
//! by [`super::layout`].
//!
//! An archive made by `git archive` (GitHub's generated tag archives) names its commit; for a
//! GitHub dependency, its files are hashed into a tree and compared with that commit's tree
//! through the API. When they match, the commit is recorded (`archive-commit`), so that when
//! GitHub re-compresses its archives (new bytes, same files) `verify` can tell that apart from
//! a changed archive.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use reqwest::Url;

use super::layout::{self, Staged};
use super::{ApplyError, archive_vars};
use crate::archive;
use crate::download::{self, Downloaded};
use crate::http::{DownloadSink, HttpClient, redact};
use crate::manifest::{Dependency, Format, Manifest};
use crate::signature::verify_detached;
use crate::source::{AnySource, Origin, Source, SourceContext, Target};
use crate::summary::Verification;
use crate::template::Vars;
use crate::vcs;

/// Checksum and signature files are small; anything larger is not one.
const SMALL_FILE_LIMIT: u64 = 1 << 20;

/// A version's files, laid out and verified, in a staging folder that lives as long as this.
#[derive(Debug)]
pub struct Fetched {
    /// The files to vendor, relative to the dependency's folder.
    pub staged: BTreeMap<PathBuf, Staged>,
    pub verification: Verification,
    /// Where the code came from, for messages: the archive's URL, or remote and commit.
    pub source: String,
    /// Holds the staged files; dropped when they are no longer needed.
    pub staging: tempfile::TempDir,
    /// The commit whose tree the archive's files were checked to be (`archive-commit`).
    pub archive_commit: Option<String>,
}

/// Where the code of `target` is: `archive` when given, else the source's own answer.
pub fn origin(
    dep: &Dependency,
    source: &AnySource<'_>,
    target: &Target<'_>,
    vars: &Vars,
    context: &SourceContext,
) -> Result<Origin, ApplyError> {
    if let Some(template) = &dep.apply.archive {
        return Ok(Origin::Download {
            url: template.render_url(vars, &[])?.into(),
            published: crate::source::Published::Nothing,
            name: None,
        });
    }
    Ok(source.origin(target, vars, context)?)
}

/// Fetches, verifies and lays out `target`'s code. `expected_sha256` is the archive hash the
/// registry records (`verify` checks it; an update records a new one).
pub async fn fetch_tree(
    dep: &Dependency,
    manifest: &Manifest,
    context: &SourceContext,
    source: &AnySource<'_>,
    target: &Target<'_>,
    expected_sha256: Option<&str>,
) -> Result<Fetched, ApplyError> {
    let mut vars = archive_vars(dep, target);
    let origin = origin(dep, source, target, &vars, context)?;
    let staging = tempfile::tempdir().map_err(ApplyError::Temp)?;
    let unpack_dir = staging.path().join("tree");
    std::fs::create_dir(&unpack_dir).map_err(ApplyError::Temp)?;
    let limit = manifest.settings.max_archive_bytes;
    // A forge whose tag archives are `git archive`s of the tag: their files can be checked
    // against the commit's tree.
    let forge_repo = dep
        .source
        .forge()
        .filter(|(forge, _)| forge.archives_are_git_archives());
    let mut archive_commit = None;
    let (staged, verification, shown) = match origin {
        Origin::Download {
            url,
            published,
            name,
        } => {
            // A recorded commit lets a changed sha256 be checked against that commit's tree.
            let recorded_commit = dep
                .apply
                .archive_commit
                .as_deref()
                .filter(|_| forge_repo.is_some());
            let (downloaded, mut verification, mismatch) = download_verified(
                (dep, manifest, context),
                (&url, name.as_deref()),
                &published,
                &mut vars,
                staging.path(),
                (expected_sha256, recorded_commit.is_some()),
            )
            .await?;
            let (staged, tree) = match dep.apply.format {
                Format::File => {
                    // The download is the file: keep it past the download's own lifetime.
                    let file = unpack_dir.join("file");
                    downloaded
                        .file
                        .persist(&file)
                        .map_err(|e| ApplyError::Temp(e.error))?;
                    (layout::single_file(&dep.path, &file), None)
                }
                Format::Archive => {
                    let (dest, apply) = (unpack_dir.clone(), dep.apply.clone());
                    let hash_tree = forge_repo.is_some();
                    let claimed = mismatch
                        .as_ref()
                        .map(|_| recorded_commit.map(str::to_owned));
                    tokio::task::spawn_blocking(move || {
                        let unpacked = archive::unpack(
                            downloaded.file.path(),
                            &downloaded.name,
                            &dest,
                            limit,
                        )?;
                        // The commit to check against: the recorded one when the bytes
                        // changed, else the one the archive names.
                        let commit = claimed.unwrap_or_else(|| unpacked.commit.clone());
                        let tree = match commit {
                            Some(commit) if hash_tree => Some((
                                commit,
                                vcs::tree_id_of(&unpacked, &dest)
                                    .map_err(|e| ApplyError::Staged {
                                        path: dest.clone(),
                                        source: e,
                                    })?
                                    .to_string(),
                            )),
                            _ => None,
                        };
                        let staged = layout::stage(&unpacked, &dest, &apply, true)?;
                        Ok::<_, ApplyError>((staged, tree))
                    })
                    .await
                    .map_err(|e| ApplyError::Task(e.to_string()))??
                }
            };
            let matched = match (forge_repo, tree) {
                (Some((forge, repo)), Some((commit, tree))) => {
                    let site = context.site(forge);
                    match forge.commit_tree(&context.http, &site, repo, &commit).await {
                        Ok(Some(expected)) if expected == tree => Some(commit),
                        Ok(_) => None,
                        Err(error) => {
                            context.printer.verbose(&format!(
                                "`{}`: the tree of commit {commit} could not be read: {error}",
                                dep.name
                            ));
                            None
                        }
                    }
                }
                _ => None,
            };
            let forge_name = forge_repo.map_or("the forge", |(f, _)| f.info().name());
            match (mismatch, matched) {
                (Some((expected, actual)), Some(commit)) => {
                    let note = format!(
                        "the archive's bytes changed since they were recorded (sha256 {actual}, recorded {expected}): {forge_name} generated it anew, and its files are identical to the tree of the recorded commit {commit}"
                    );
                    context.printer.warn(&format!("`{}`: {note}", dep.name));
                    verification.checks.push(note);
                    archive_commit = Some(commit);
                }
                (Some((expected, actual)), None) => {
                    return Err(ApplyError::ArchiveChanged {
                        expected,
                        actual,
                        commit: recorded_commit.unwrap_or_default().to_owned(),
                    });
                }
                (None, Some(commit)) => {
                    verification.checks.push(format!(
                        "files identical to the tree of commit {commit} (checked through {forge_name}'s API)"
                    ));
                    archive_commit = Some(commit);
                }
                (None, None) => {}
            }
            (staged, verification, redact(url.url()))
        }
        Origin::Commit {
            url,
            remote_ref,
            commit,
        } => {
            let shown = format!("{} at {commit}", crate::source::shown(&url));
            let (cache, dest, apply) = (
                context.cache_dir.clone(),
                unpack_dir.clone(),
                dep.apply.clone(),
            );
            let checks = vec![format!("git commit {commit} (content-addressed by its id)")];
            let staged = tokio::task::spawn_blocking(move || {
                let unpacked =
                    vcs::export_commit(cache.as_deref(), &url, &remote_ref, &commit, &dest, limit)?;
                Ok::<_, ApplyError>(layout::stage(&unpacked, &dest, &apply, false)?)
            })
            .await
            .map_err(|e| ApplyError::Task(e.to_string()))??;
            let verification = Verification {
                sha256: None,
                checks,
            };
            (staged, verification, shown)
        }
    };
    Ok(Fetched {
        staged,
        verification,
        source: shown,
        staging,
        archive_commit,
    })
}

/// Downloads the archive and runs every verification the registry asks for, before anything
/// is unpacked.
async fn download_verified(
    (dep, manifest, context): (&Dependency, &Manifest, &SourceContext),
    (url, name): (&crate::http::Address, Option<&str>),
    published: &crate::source::Published,
    vars: &mut Vars,
    dir: &Path,
    (expected_sha256, tolerate_regenerated): (Option<&str>, bool),
) -> Result<(Downloaded, Verification, Option<(String, String)>), ApplyError> {
    let http = &context.http;
    let limit = manifest.settings.max_archive_bytes;
    let downloaded = download::download(http, url, name, dir, limit, &context.printer)
        .await
        .map_err(|source| ApplyError::Download {
            what: "archive",
            source,
        })?;
    let mut verification = Verification {
        sha256: Some(downloaded.sha256.clone()),
        checks: Vec::new(),
    };
    vars.insert("archive", url.url().to_string());
    vars.insert("archive-name", downloaded.name.clone());
    // With a recorded commit the mismatch is decided once the files are hashed.
    let mut mismatch = None;
    if let Some(expected) = expected_sha256 {
        if expected == downloaded.sha256 {
            verification
                .checks
                .push("sha256 matches `sha256` in the registry".into());
        } else if tolerate_regenerated {
            mismatch = Some((expected.to_owned(), downloaded.sha256.clone()));
        } else {
            return Err(ApplyError::Sha256Mismatch {
                expected: expected.to_owned(),
                actual: downloaded.sha256.clone(),
            });
        }
    }
    if let crate::source::Published::Integrity(expected) = published {
        if expected != &downloaded.sha512_integrity {
            return Err(ApplyError::IntegrityMismatch {
                expected: expected.clone(),
                actual: downloaded.sha512_integrity.clone(),
            });
        }
        verification
            .checks
            .push("sha512 matches the integrity npm published".into());
    }
    if let Some(template) = &dep.apply.checksums {
        let checksums_url = template.render_url(vars, &["archive"])?;
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
        let signature_url = template.render_url(vars, &["archive"])?;
        let signature = fetch_small(http, &signature_url, "signature").await?;
        let keys = crate::confine::read(&manifest.root, keyring).map_err(|source| {
            ApplyError::Keyring {
                path: keyring.clone(),
                source,
            }
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
    // A registry that publishes digests but gave none for this one: vendored only when
    // another check covers it.
    if let crate::source::Published::Missing(what) = published {
        let pinned = expected_sha256.is_some_and(|e| e == downloaded.sha256);
        let covered: Vec<&str> = [
            (dep.apply.checksums.is_some(), "the `checksums` file"),
            (dep.apply.signature.is_some(), "the OpenPGP `signature`"),
            (pinned, "`sha256` in the registry"),
        ]
        .into_iter()
        .filter_map(|(yes, by)| yes.then_some(by))
        .collect();
        if covered.is_empty() {
            return Err(ApplyError::Unverifiable { what: what.clone() });
        }
        verification.checks.push(format!(
            "{what}; checked by {} instead",
            covered.join(" and ")
        ));
    }
    Ok((downloaded, verification, mismatch))
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
