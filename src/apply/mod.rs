//! Applying an update: from a check's finding to a verified commit on the dependency's update
//! branch, or, with `--dry-run`, to a description of what would change. One file per stage:
//!
//! 1. [`fetch`]: where the new code is (`archive`, else the source's own
//!    [`crate::source::Source::origin`]), downloaded and hashed, then verified (npm integrity,
//!    `checksums`, `signature`) before anything is unpacked; a git commit is exported from the
//!    cache instead.
//! 2. [`layout`]: the files that will be vendored (`strip`, `include`, `exclude`, `map`, `keep`,
//!    or one file with `format = "file"`).
//! 3. [`commit`]: the new tree from the base commit, with `keep` files carried over and
//!    `deps.toml` rewritten, the `after` commands run in a temporary worktree, and the commit
//!    on the update branch; [`review`] describes the change for reviewers. Only the update
//!    branch's ref moves: the user's checkout, index and other branches are never touched,
//!    and any failure leaves the repository as it was.
//! 4. [`drift`]: `verify`'s comparison of the vendored tree with what upstream gives.
//!
//! What an update did is an [`UpdateSummary`], plain data for the printer, the commit message
//! and the pull request.

pub mod commit;
pub mod drift;
pub mod fetch;
pub mod layout;
pub mod patches;
pub mod review;

use std::path::PathBuf;

use crate::archive::ArchiveError;
use crate::check::{DependencyError, check_dependency};
use crate::manifest::edit::EditError;
use crate::manifest::{Dependency, Manifest};
use crate::signature::SignatureError;
use crate::source::{self, Source, SourceContext, SourceError, Target};
use crate::summary::UpdateSummary;
use crate::template::Vars;
use crate::vcs::GitError;

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
    Layout(#[from] LayoutError),
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

impl ApplyError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Check(e) => e.hint(),
            Self::Source(e) => e.hint(),
            Self::Download { source, .. } => source.hint(),
            Self::IntegrityMismatch { .. } | Self::ChecksumMismatch { .. } | Self::Sha256Mismatch { .. } => Some(
                "do not vendor this archive: it is not what upstream published; report it upstream if it persists".into(),
            ),
            Self::ChecksumMissing { .. } => Some("check `checksums` and the archive's name".into()),
            Self::Keyring { .. } => Some("check `keyring`: a path in the repository".into()),
            Self::Signature(e) => e.hint(),
            Self::Archive(e) => e.hint(),
            Self::Layout(e) => e.hint(),
            Self::Git(e) => e.hint(),
            Self::ManifestNotCommitted { .. } => Some("commit `deps.toml` first".into()),
            Self::BranchCheckedOut { .. } => Some("switch to another branch and run again".into()),
            Self::After { .. } | Self::AfterSpawn { .. } => Some("fix the command, or the tree it runs in; nothing was committed".into()),
            Self::PatchNotCommitted { .. } => Some("commit the patch queue first (or fix `patches`)".into()),
            Self::PatchRead { .. } => Some("check `patches`: a folder of `*.patch` files or a list of files, relative to the repository root".into()),
            Self::PatchUnreadable { .. } => Some("write patches with `git diff` or `git format-patch`, paths relative to the dependency's `path`; `deps-update patch NAME` writes one from your edits".into()),
            Self::PatchConflict { name, .. } => Some(format!(
                "rework the patch for the new version (apply it by hand to a checkout of the new code and save it with `git diff`), or delete it if upstream fixed the problem another way; nothing of `{name}` was committed"
            )),
            Self::VersionNotOffered { .. } => Some("update the dependency, or check `tag` and `ignore`".into()),
            Self::Temp(_) => Some("check the free space and permissions of the temporary folder (`TMPDIR`)".into()),
            Self::ReadVendored { .. }
            | Self::Edit(_)
            | Self::OutsideRepository { .. }
            | Self::Staged { .. }
            | Self::CurrentDir(_)
            | Self::Task(_) => None,
        }
    }
}

/// Placeholder values for `archive`, `asset`, `checksums` and `signature`: the version's,
/// the source's (`repo`) and what the source found beside the version (a page's groups).
pub fn archive_vars(dep: &Dependency, target: &Target<'_>) -> Vars {
    let mut vars = Vars::new();
    vars.insert("name", dep.name.clone());
    vars.insert("version", target.version);
    vars.insert("tag", target.tag.unwrap_or(target.version));
    if let Ok(parsed) = crate::version::Version::parse(target.version) {
        for (i, key) in ["major", "minor", "patch"].into_iter().enumerate() {
            vars.insert(
                key,
                parsed.release().get(i).copied().unwrap_or(0).to_string(),
            );
        }
    }
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
    let target = Target {
        version: &finding.latest,
        tag: finding.tag.as_deref(),
        candidate: finding.chosen.as_ref(),
    };
    let source = source::for_dependency(dep);
    let fetched = fetch::fetch_tree(dep, manifest, context, &source, &target, None).await?;
    let links = source.links(context, finding.current_tag.as_deref(), target.tag);
    let plan = commit::Plan::new(dep, manifest, &finding, fetched, links, options);
    let printer = context.printer.clone();
    let root = manifest.root.clone();
    let reflog = format!("deps-update: {} {}", dep.name, finding.latest);
    let update = tokio::task::spawn_blocking(move || {
        let branch = plan.branch().to_owned();
        let mut built = plan.build(&printer, None)?;
        built.update.state = commit::settle(&root, &branch, built.base, &built.commits, &reflog)?;
        Ok::<_, ApplyError>(built.update)
    })
    .await
    .map_err(|e| ApplyError::Task(e.to_string()))??;
    Ok(UpdateResult::Updated(Box::new(update)))
}
