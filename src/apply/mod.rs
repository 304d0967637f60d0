//! Applying an update: from a check's finding to a verified commit on the dependency's update
//! branch, or, with `--dry-run`, to a description of what would change. One file per stage:
//!
//! 1. [`fetch`]: where the new code is (`archive`, else the source's own
//!    [`crate::source::Source::origin`]), downloaded and hashed, then verified (npm integrity,
//!    `checksums`, `signature`) before anything is unpacked; a git commit is exported from the
//!    cache instead.
//! 2. [`layout`]: the files that will be vendored (`strip`, `include`, `exclude`, `map`, `keep`,
//!    or one file with `format = "file"`).
//! 3. [`patches`]: the dependency's patch queue applied to the laid-out tree.
//! 4. [`commit`]: the new tree from the base commit (or the previous group member's), with
//!    `keep` files carried over and `deps.toml` rewritten, the `after` steps run in a
//!    temporary worktree, and the commits (the update's, then one per `after` step with a
//!    `commit` message); [`commit::settle`] moves the branch once for the whole unit (a
//!    dependency, or a `group`); [`review`] describes the change for reviewers. Only the update
//!    branch's ref moves: the user's checkout, index and other branches are never touched,
//!    and any failure leaves the repository as it was.
//! 5. [`drift`]: `verify`'s comparison of the vendored tree with what upstream gives.
//!
//! Beside them: [`merge`] (the three-way merge of the committed folder, the vendored version
//! and the new one), [`steps`] (`after` steps in a checkout of only what they touch), and
//! [`provenance`] (release archives against the tagged source).
//!
//! What an update did is an [`UpdateSummary`], plain data for the printer, the commit message
//! and the pull request.

pub mod base;
pub mod commit;
pub mod drift;
pub mod fetch;
pub mod layout;
pub mod merge;
pub mod patches;
pub mod provenance;
pub mod review;
pub mod steps;

use std::path::PathBuf;

use crate::archive::ArchiveError;
use crate::check::{DependencyError, check_dependency};
use crate::manifest::Dependency;
use crate::manifest::edit::EditError;
use crate::signature::SignatureError;
use crate::source::{self, Source, SourceContext, SourceError, Target};
use crate::summary::UpdateSummary;
use crate::template::Vars;
use crate::vcs::GitError;

pub use base::Basis;
pub use drift::{
    LocalEdit, LocalEditKind, LocalPatchError, VerifyReport, local_patch, verify_dependency,
};
pub use layout::LayoutError;

/// What the user asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    pub dry_run: bool,
    /// With `dry_run`: include unified diffs.
    pub diff: bool,
    pub color: bool,
    /// Vendor into a registered folder that does not exist (else that is an error: the path
    /// may be wrong, and a second copy would land beside the real one).
    pub create_missing: bool,
}

/// The outcome for one dependency.
#[derive(Debug)]
pub enum UpdateResult {
    /// Already at the newest allowed version.
    UpToDate {
        current: String,
        note: Option<String>,
    },
    Updated(Box<UpdateSummary>),
}

/// Why an update failed. The repository is as it was.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Check(#[from] DependencyError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("downloading the {what} failed")]
    Download {
        what: &'static str,
        #[source]
        source: crate::http::HttpError,
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
    #[error(
        "the archive's sha256 does not match `sha256` in the registry, and its files are not those of the recorded commit {commit}\n  expected: {expected}\n  actual:   {actual}"
    )]
    ArchiveChanged {
        expected: String,
        actual: String,
        commit: String,
    },
    #[error("cannot read the keyring `{}`", path.display())]
    Keyring {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("{what}; nothing else checks this archive, so it is not vendored")]
    Unverifiable { what: String },
    #[error("the upstream's answer would move a download elsewhere: {0}")]
    UnsafeUrl(#[from] crate::template::UrlError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("cannot rewrite the registry")]
    Edit(#[from] EditError),
    #[error("`{}` is not committed on the base {base}; updates are built from committed files", path.display())]
    ManifestNotCommitted { path: PathBuf, base: String },
    #[error("`deps.toml` as committed on the base {base} is not a valid registry")]
    BaseRegistry {
        base: String,
        #[source]
        source: Box<crate::manifest::ManifestError>,
    },
    #[error("no dependency named `{name}` in `deps.toml` as committed on the base {base}")]
    NotAtBase { name: String, base: String },
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
    #[error("the `after` steps changed files outside `{}` and the registry: {}", folder.display(), paths.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", "))]
    AfterWroteOutside {
        folder: PathBuf,
        paths: Vec<PathBuf>,
    },
    #[error("cannot run the `after` command `{command}`")]
    AfterSpawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not committed on the base `{base}`; updates apply the committed patch queue", path.display())]
    PatchNotCommitted { path: PathBuf, base: String },
    #[error("cannot read the patch `{}`", path.display())]
    PatchRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the patch `{}`: {reason}", path.display())]
    PatchUnreadable { path: PathBuf, reason: String },
    #[error("the patch `{}` does not apply to {name} {version}: {conflict}", path.display())]
    PatchConflict {
        name: String,
        version: String,
        path: PathBuf,
        conflict: Box<crate::patch::Conflict>,
    },
    #[error("the project's changes to {name} conflict with upstream's in {version}:\n{}{}", files.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n"), folder.as_ref().map(|f| format!("\nthe merged folder, with conflict markers, is in `{}`", f.display())).unwrap_or_default())]
    MergeConflict {
        name: String,
        version: String,
        files: Vec<merge::ConflictFile>,
        /// The merged folder with conflict markers, outside the repository.
        folder: Option<PathBuf>,
        /// The dependency's folder for the new version.
        path: PathBuf,
    },
    #[error("the release archive of {name} {version} is not its tagged source: {found}")]
    Provenance {
        name: String,
        version: String,
        found: String,
    },
    #[error("`{}` does not exist, though the registry records version {version} vendored there", path.display())]
    FolderMissing { path: PathBuf, version: String },
    #[error("no release line matches `{refs}`")]
    NoLines { refs: String },
    #[error("`{name}` would move to `{}`, which already exists", path.display())]
    FolderTaken { name: String, path: PathBuf },
    #[error("the reference `{}` does not exist", path.display())]
    ReferenceMissing { path: PathBuf },
    #[error("the reference regex `{regex}` matches nothing in `{}`{}", path.display(), nearest.as_ref().map(|(n, l)| format!("; the nearest line is {n}: `{l}`")).unwrap_or_default())]
    ReferenceNoMatch {
        path: PathBuf,
        regex: String,
        nearest: Option<(usize, String)>,
    },
    #[error("after the update, `{}` says {found}, not {version}: the new code contradicts its own version", path.display())]
    VersionFileDisagrees {
        path: PathBuf,
        found: String,
        version: String,
    },
    #[error("after the update, the version file cannot be read")]
    VersionFileAfter(#[source] DependencyError),
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
    #[error("not committed: `{failed}`, in the same group `{group}`, failed (see its error)")]
    GroupFailed { group: String, failed: String },
    #[error("cannot move the update branch: {0}")]
    Settle(String),
    #[error("an update task stopped unexpectedly: {0}")]
    Task(String),
}

impl ApplyError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Check(e) => e.hint(),
            Self::Source(e) => e.hint(),
            Self::Download { source, .. } => source.hint(),
            Self::IntegrityMismatch { .. } | Self::ChecksumMismatch { .. } | Self::Sha256Mismatch { .. } | Self::ArchiveChanged { .. } => Some(
                "do not vendor this archive: it is not what upstream published; report it upstream if it persists".into(),
            ),
            Self::ChecksumMissing { .. } => Some("check `checksums` and the archive's name".into()),
            Self::Keyring { .. } => Some("check `keyring`: a path in the repository".into()),
            Self::Signature(e) => e.hint(),
            Self::Unverifiable { .. } => Some("add `checksums` or `signature` (with `keyring`) to the entry so the archive is checked another way, or vendor this version by hand after checking it".into()),
            Self::UnsafeUrl(_) => Some("nothing was downloaded: the values come from the upstream's page or answer; check `regex` (a narrower group) and the template, and report the page if it changed".into()),
            Self::Archive(e) => e.hint(),
            Self::Layout(e) => e.hint(),
            Self::Git(e) => e.hint(),
            Self::ManifestNotCommitted { .. } => Some("commit `deps.toml` first".into()),
            Self::BaseRegistry { .. } => Some("updates are built from the committed registry: fix it there (commit the fix) and run again".into()),
            Self::NotAtBase { .. } => Some("it is only in the working copy: commit `deps.toml` (and push it, when the base is a remote branch), then run again".into()),
            Self::BranchCheckedOut { .. } => Some("switch to another branch and run again".into()),
            Self::AfterWroteOutside { .. } => Some("nothing was committed; if a step is meant to write them (a version header, generated build files), list them in `after-writes` (paths or globs, relative to the folder holding `deps.toml`)".into()),
            Self::After { .. } | Self::AfterSpawn { .. } => Some("fix the command, or the tree it runs in; nothing was committed".into()),
            Self::PatchNotCommitted { .. } => Some("commit the patch queue first (or fix `patches`)".into()),
            Self::PatchRead { .. } => Some("check `patches`: a folder of `*.patch` files or a list of files, relative to the repository root".into()),
            Self::PatchUnreadable { .. } => Some("write patches with `git diff` or `git format-patch`, paths relative to the dependency's `path`; `deps-update patch NAME` writes one from your edits".into()),
            Self::PatchConflict { name, .. } => Some(format!(
                "rework the patch for the new version (apply it by hand to a checkout of the new code and save it with `git diff`), or delete it if upstream fixed the problem another way; nothing of `{name}` was committed"
            )),
            Self::MergeConflict { name, version, folder: Some(_), path, .. } => Some(format!(
                "nothing of `{name}` was committed; to finish by hand, resolve the markers in that folder (line numbers are its files'), put it in place of `{}`, set `version = \"{version}\"` in deps.toml and commit; `deps-update patch {name}` then records the project's edits as patches", path.display()
            )),
            Self::MergeConflict { name, .. } => Some(format!(
                "nothing of `{name}` was committed; apply the new version by hand where the lines meet, then record the project's remaining edits with `deps-update patch {name}`"
            )),
            Self::Provenance { .. } => Some("nothing was committed (`provenance = \"strict\"`): compare the release archive with the tag upstream before vendoring it; list files the archive holds by design in the dependency's `generated`".into()),
            Self::NoLines { .. } => Some("name branches git knows (`git fetch` the release branches first); a pattern matches local branches and those of `settings.remote`, and only lines whose `deps.toml` is committed count".into()),
            Self::FolderMissing { .. } => Some("if it is vendored elsewhere, fix `path`; to vendor it there for the first time, run again with `--create-missing`; nothing was changed".into()),
            Self::FolderTaken { .. } => Some("move or delete that folder (or fix `path`), then run again; nothing was committed".into()),
            Self::ReferenceMissing { .. } | Self::ReferenceNoMatch { .. } => Some("fix `references` (paths are relative to the folder holding `deps.toml`; the regex's `version` group, else its first group, holds the version); nothing was committed".into()),
            Self::GroupFailed { group, .. } => Some(format!(
                "a group's members are committed and published together; fix the failing one and run again (the branch of `{group}` was left as it was)"
            )),
            Self::VersionFileDisagrees { .. } => Some(
                "nothing was committed: upstream's release may be mis-tagged (ask upstream), or `version-file.regex` reads the wrong line".into(),
            ),
            Self::VersionFileAfter(e) => Some(format!(
                "{}; nothing was committed",
                e.hint().unwrap_or_else(|| "the new code may have moved or changed its version file: fix `version-file`".into())
            )),
            Self::VersionNotOffered { .. } => Some("update the dependency, or check `tag` and `ignore`".into()),
            Self::Temp(e) => Some(crate::write_hint::local_write_hint(e, crate::write_hint::WritePlace::Temporary)),
            Self::ReadVendored { .. }
            | Self::Edit(_)
            | Self::OutsideRepository { .. }
            | Self::Staged { .. }
            | Self::CurrentDir(_)
            | Self::Settle(_)
            | Self::Task(_) => None,
        }
    }
}

/// Placeholder values for `archive`, `asset`, `checksums` and `signature`: the version's,
/// the source's (`repo`) and what the source found beside the version (a page's groups).
pub fn archive_vars(dep: &Dependency, target: &Target<'_>) -> Vars {
    let mut vars = crate::manifest::version_vars(target.version);
    vars.insert("name", dep.name.clone());
    vars.insert("tag", target.tag.unwrap_or(target.version));
    dep.source.add_vars(&mut vars);
    for (name, value) in target
        .candidate
        .map(|c| c.vars.as_slice())
        .unwrap_or_default()
    {
        vars.insert(name.clone(), value.clone());
    }
    vars
}

/// Updates one dependency: check, fetch, verify, lay out, patch, commit (or preview).
pub async fn update_dependency(
    dep: &Dependency,
    basis: &Basis,
    context: &SourceContext,
    options: ApplyOptions,
    now: i64,
) -> Result<UpdateResult, ApplyError> {
    update_group(&[dep], basis, context, options, now)
        .await
        .pop()
        .expect("one result per member")
}

/// Updates dependencies that share a branch (a `group`, or one dependency alone): one commit
/// each, stacked in registry order, and the branch moved once when every member succeeded.
/// When one fails, the branch is left as it was and each other member says why it was not
/// committed: a group is never published half-done. One result per member, in order.
pub async fn update_group(
    members: &[&Dependency],
    basis: &Basis,
    context: &SourceContext,
    options: ApplyOptions,
    now: i64,
) -> Vec<Result<UpdateResult, ApplyError>> {
    let manifest = &basis.manifest;
    let prepared = futures::future::join_all(
        members
            .iter()
            .map(|dep| prepare(dep, basis, context, options, now)),
    )
    .await;
    let names: Vec<String> = members.iter().map(|d| d.name.clone()).collect();
    let group = members[0].group.clone().unwrap_or_default();
    if prepared.iter().any(Result::is_err) {
        let failed: Vec<String> = names
            .iter()
            .zip(&prepared)
            .filter(|(_, p)| p.is_err())
            .map(|(n, _)| n.clone())
            .collect();
        return prepared
            .into_iter()
            .map(|p| match p {
                Err(e) => Err(e),
                Ok(_) => Err(ApplyError::GroupFailed {
                    group: group.clone(),
                    failed: failed.join("`, `"),
                }),
            })
            .collect();
    }
    let printer = context.printer.clone();
    let root = manifest.root.clone();
    let task =
        tokio::task::spawn_blocking(move || build_group(prepared, &names, &group, &root, &printer));
    match task.await {
        Ok(results) => results,
        Err(e) => members
            .iter()
            .map(|_| Err(ApplyError::Task(e.to_string())))
            .collect(),
    }
}

/// A member's update, checked and fetched, ready to build.
enum Prepared {
    UpToDate(UpdateResult),
    Plan(Box<commit::Plan>),
}

async fn prepare(
    dep: &Dependency,
    basis: &Basis,
    context: &SourceContext,
    options: ApplyOptions,
    now: i64,
) -> Result<Prepared, ApplyError> {
    let manifest = &basis.manifest;
    let finding = check_dependency(dep, &basis.tree, context, now).await?;
    if !finding.update_available {
        return Ok(Prepared::UpToDate(UpdateResult::UpToDate {
            current: finding.current.to_string(),
            note: finding.note,
        }));
    }
    if !options.create_missing && !basis.tree.exists(&dep.path) {
        return Err(ApplyError::FolderMissing {
            path: dep.path.clone(),
            version: finding.current.to_string(),
        });
    }
    let target = Target {
        version: &finding.latest,
        tag: finding.tag.as_deref(),
        candidate: finding.chosen.as_ref(),
    };
    let source = source::for_dependency(dep);
    let (fetched, baseline) = tokio::join!(
        fetch::fetch_tree(dep, manifest, context, &source, &target, None),
        baseline(dep, manifest, context, &source, &finding)
    );
    let fetched = fetched?;
    // Is what lands in the folder the tagged source? Before anything is committed.
    let previous = match &baseline {
        Baseline::Fetched(base) => Some(&base.staged),
        Baseline::Unavailable(_) => None,
    };
    let provenance = provenance::check(dep, context, &target, &fetched.staged, previous).await;
    match &provenance {
        provenance::Checked::Compared(found) if found.flagged() => {
            context
                .printer
                .warn(&format!("`{}`: provenance: {}", dep.name, found.line()))
        }
        provenance::Checked::Compared(found) => {
            context
                .printer
                .status(&format!("`{}`: provenance: {}", dep.name, found.line()))
        }
        provenance::Checked::Unchecked(why) => context
            .printer
            .verbose(&format!("`{}`: provenance not checked: {why}", dep.name)),
        provenance::Checked::TaggedSource => {}
    }
    if let provenance::Checked::Compared(found) = &provenance
        && found.flagged()
        && manifest.settings.provenance_strict
    {
        return Err(ApplyError::Provenance {
            name: dep.name.clone(),
            version: finding.latest.clone(),
            found: found.line(),
        });
    }
    let links = source.links(context, finding.current_tag(), target.tag);
    let plan = commit::Plan::new(
        dep,
        manifest,
        &finding,
        (fetched, baseline),
        links,
        options,
        basis,
    );
    Ok(Prepared::Plan(Box::new(plan.with_provenance(provenance))))
}

/// The vendored version as upstream published it, checked against the registry's record
/// (`sha256`, `archive-commit`) as `verify` checks it: the base of a three-way update. When it
/// cannot be had, why (the update then replaces the folder, keeping only `keep`).
async fn baseline(
    dep: &Dependency,
    manifest: &crate::manifest::Manifest,
    context: &SourceContext,
    source: &source::AnySource<'_>,
    finding: &crate::check::Finding,
) -> Baseline {
    let version = finding.current.to_string();
    if matches!(finding.current, crate::check::Current::Version(_))
        && finding.current_candidate.is_none()
    {
        return Baseline::Unavailable(format!(
            "upstream no longer offers the vendored version {version}"
        ));
    }
    let target = Target {
        version: &version,
        tag: finding.current_tag(),
        candidate: finding.current_candidate.as_ref(),
    };
    match fetch::fetch_tree(
        dep,
        manifest,
        context,
        source,
        &target,
        dep.apply.sha256.as_deref(),
    )
    .await
    {
        Ok(fetched) => Baseline::Fetched(Box::new(fetched)),
        Err(error) => Baseline::Unavailable(format!(
            "the vendored version {version} could not be fetched and checked: {error}"
        )),
    }
}

/// The base of a three-way update.
pub enum Baseline {
    Fetched(Box<fetch::Fetched>),
    /// Why there is none.
    Unavailable(String),
}

/// Builds each member's commits on the previous member's, then moves the branch once.
fn build_group(
    prepared: Vec<Result<Prepared, ApplyError>>,
    names: &[String],
    group: &str,
    root: &std::path::Path,
    printer: &crate::printer::Printer,
) -> Vec<Result<UpdateResult, ApplyError>> {
    let not_committed = |failed: &str| ApplyError::GroupFailed {
        group: group.to_owned(),
        failed: failed.to_owned(),
    };
    let mut results: Vec<Result<UpdateResult, ApplyError>> = Vec::new();
    let mut commits = Vec::new();
    let (mut base, mut branch) = (None, String::new());
    for (index, member) in prepared.into_iter().enumerate() {
        let plan = match member {
            Ok(Prepared::UpToDate(result)) => {
                results.push(Ok(result));
                continue;
            }
            Ok(Prepared::Plan(plan)) => plan,
            Err(e) => {
                results.push(Err(e));
                continue;
            }
        };
        branch = plan.branch().to_owned();
        let parent = commits.last().map(|(commit, _)| *commit);
        match plan.build(printer, parent) {
            Ok(built) => {
                base.get_or_insert(built.base);
                commits.extend(built.commits);
                results.push(Ok(UpdateResult::Updated(Box::new(built.update))));
            }
            Err(e) => {
                // Nothing moves: the members before and after say why.
                let failed = names[index].clone();
                let mut all: Vec<_> = results
                    .into_iter()
                    .map(|r| match r {
                        Ok(UpdateResult::Updated(_)) => Err(not_committed(&failed)),
                        other => other,
                    })
                    .collect();
                all.push(Err(e));
                all.extend((index + 1..names.len()).map(|_| Err(not_committed(&failed))));
                return all;
            }
        }
    }
    let Some(base) = base else {
        return results;
    };
    let updated: Vec<String> = results
        .iter()
        .filter_map(|r| match r {
            Ok(UpdateResult::Updated(u)) => Some(format!("{} {}", u.name, u.new_version)),
            _ => None,
        })
        .collect();
    let reflog = format!("deps-update: {}", updated.join(", "));
    match commit::settle(root, &branch, base, &commits, &reflog) {
        Ok(state) => {
            for result in &mut results {
                if let Ok(UpdateResult::Updated(update)) = result {
                    update.state = state.clone();
                }
            }
            results
        }
        Err(e) => {
            // The first member carries the error itself; the others point at it.
            let shown = e.to_string();
            let mut error = Some(e);
            results
                .into_iter()
                .map(|r| match r {
                    Ok(UpdateResult::Updated(_)) => Err(error
                        .take()
                        .unwrap_or_else(|| ApplyError::Settle(shown.clone()))),
                    other => other,
                })
                .collect()
        }
    }
}
