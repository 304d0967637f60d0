//! The git side of an update: the new tree, built from the base commit (or, in a group, the
//! previous member's commits) in the object database (the checkout is never touched), the
//! patch queue, the `after` steps, and the commits on the update branch.
//!
//! The tree is the parent's, with the dependency's files replaced by the staged ones (patched,
//! `keep` files carried over) and `deps.toml`'s `version` and `sha256` rewritten. `after`
//! steps run in a temporary worktree holding that tree; what a plain step changes joins the
//! update commit, and a step with `commit` gets a commit of its own after it (when it changes
//! anything). [`Plan::build`] only writes objects; [`settle`] moves the branch, by
//! compare-and-swap, never while it is checked out, and not at all when it already holds the
//! very same commits' trees.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::base::in_repo;
use super::fetch::Fetched;
use super::layout::{Placement, Staged};
use super::merge::{self, Carried, Outcome, Which};
use super::patches::{apply_queue, queue_at};
use super::review::{is_build_file, needs_look};
use super::{ApplyError, ApplyOptions};
use crate::check::{Current, DependencyError, Finding};
use crate::diff::{self, ChangeKind, ChangeSummary, FileChange};
use crate::manifest::edit::record_update;
use crate::manifest::{Dependency, Manifest};
use crate::printer::Printer;
use crate::summary::{BranchState, Links, SeparateCommit, UpdateSummary};
use crate::template::Vars;
use crate::vcs::{self, MODE_EXECUTABLE, MODE_FILE, MODE_LINK, Repo, TreeFile};

/// Everything the synchronous, git-side half of an update needs.
pub struct Plan {
    dep: Dependency,
    manifest_file: PathBuf,
    root: PathBuf,
    /// The commit the update is built on, as the whole run resolved it.
    base: vcs::Base,
    branch: String,
    /// The commit message's first line.
    headline: String,
    old_version: Current,
    new_version: String,
    tag: Option<String>,
    old_tag: Option<String>,
    links: Links,
    fetched: Fetched,
    /// The vendored version as upstream has it: the base of the three-way update.
    baseline: super::Baseline,
    /// The folder after the update: `path`, or a versioned `path`'s new folder.
    new_path: PathBuf,
    /// Whether the archive is the tagged source.
    provenance: super::provenance::Checked,
    options: ApplyOptions,
}

/// The dependency's new files, the `keep` paths among them, and the project's changes
/// carried over.
type Laid = (BTreeMap<PathBuf, TreeFile>, Vec<PathBuf>, Vec<Carried>);

/// A file's content in the old tree (from git) or the new one (staged).
enum Side {
    Old,
    New,
}

/// Reads a file of either side.
type Content<'a> = dyn Fn(&Path, Side) -> Result<Vec<u8>, ApplyError> + 'a;

impl Plan {
    pub fn new(
        dep: &Dependency,
        manifest: &Manifest,
        finding: &Finding,
        (fetched, baseline): (Fetched, super::Baseline),
        links: Links,
        options: ApplyOptions,
        basis: &super::base::Basis,
    ) -> Self {
        let settings = &manifest.settings;
        let base = &basis.base;
        Self {
            dep: dep.clone(),
            manifest_file: manifest.file.clone(),
            root: manifest.root.clone(),
            base: base.clone(),
            branch: settings.update_branch(
                dep.group.as_deref().unwrap_or(&dep.name),
                &basis.base.branch_name(),
                basis.line.as_deref(),
            ),
            headline: settings.commit_message.render(&Vars::from([
                ("name", dep.name.clone()),
                ("version", finding.latest.clone()),
                ("old-version", finding.current.to_string()),
            ])),
            old_version: finding.current.clone(),
            new_version: finding.latest.clone(),
            tag: finding.tag.clone(),
            old_tag: finding.current_tag().map(str::to_owned),
            links,
            fetched,
            baseline,
            new_path: dep.path_at(&finding.latest),
            provenance: super::provenance::Checked::TaggedSource,
            options,
        }
    }

    /// With what the provenance check found.
    pub fn with_provenance(mut self, provenance: super::provenance::Checked) -> Self {
        self.provenance = provenance;
        self
    }

    /// The update branch this plan commits for.
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// Builds the tree and its commits on `parent` (the base when `None`), or with
    /// `--dry-run` only describes them; moves no branch. Removes the staging folder when done.
    pub fn build(self, printer: &Printer, parent: Option<vcs::Oid>) -> Result<Built, ApplyError> {
        let started = std::time::Instant::now();
        let name = self.dep.name.clone();
        let (result, staging) = self.build_staged(printer, parent);
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
    }

    fn build_staged(
        mut self,
        printer: &Printer,
        parent: Option<vcs::Oid>,
    ) -> (Result<Built, ApplyError>, tempfile::TempDir) {
        let mut staged = std::mem::take(&mut self.fetched.staged);
        let base = match &mut self.baseline {
            super::Baseline::Fetched(fetched) => Ok(std::mem::take(&mut fetched.staged)),
            super::Baseline::Unavailable(why) => Err(why.clone()),
        };
        let result = self.build_with(&mut staged, base, printer, parent);
        (result, self.fetched.staging)
    }

    fn build_with(
        &self,
        staged: &mut BTreeMap<PathBuf, Staged>,
        base_staged: Result<BTreeMap<PathBuf, Staged>, String>,
        printer: &Printer,
        parent: Option<vcs::Oid>,
    ) -> Result<Built, ApplyError> {
        let repo = Repo::discover(&self.root)?;
        let placement = Placement::of(&self.dep);
        let folder = in_repo(&repo, &self.root.join(&placement.folder))?;
        let manifest_path = in_repo(&repo, &self.manifest_file)?;
        let base = &self.base;
        let parent = parent.unwrap_or(base.commit);

        let (patches, base_staged) = match &self.dep.apply.patches {
            Some(spec) => {
                let queue = queue_at(&repo, parent, spec, &base.described)?;
                let applied = apply_queue(
                    &self.dep,
                    &self.new_version,
                    &queue,
                    staged,
                    self.fetched.staging.path(),
                );
                let (outcomes, base_staged) = match (applied, base_staged) {
                    // The base gets the same queue, so only unrecorded edits are the project's.
                    (Ok(outcomes), Ok(mut base_files)) => {
                        let on_base = match &self.baseline {
                            super::Baseline::Fetched(fetched) => apply_queue(
                                &self.dep,
                                &self.old_version.to_string(),
                                &queue,
                                &mut base_files,
                                fetched.staging.path(),
                            ),
                            super::Baseline::Unavailable(_) => unreachable!("a base was fetched"),
                        };
                        let base_staged = on_base.map(|_| base_files).map_err(|e| {
                            format!("the patch queue does not apply to the vendored version: {e}")
                        });
                        (outcomes, base_staged)
                    }
                    (Ok(outcomes), Err(why)) => (outcomes, Err(why)),
                    // No exact fit: the committed folder holds the queue's changes, so
                    // merging upstream's changes into it (base to new) carries them over.
                    (Err(ApplyError::PatchConflict { path, .. }), Ok(base_files)) => {
                        printer.status(&format!(
                            "`{}`: patch `{}` does not apply exactly to {}: merging the queue three-way (refresh it with `deps-update patch` after the update)",
                            self.dep.name,
                            path.display(),
                            self.new_version
                        ));
                        let outcomes = queue
                            .iter()
                            .map(|queued| crate::patch::PatchOutcome {
                                patch: queued.path.to_string_lossy().replace('\\', "/"),
                                state: crate::patch::PatchState::Merged,
                            })
                            .collect();
                        (outcomes, Ok(base_files))
                    }
                    (Err(e), _) => return Err(e),
                };
                // A queue merged three-way was announced above.
                for outcome in outcomes
                    .iter()
                    .filter(|o| o.state != crate::patch::PatchState::Merged)
                {
                    printer.status(&format!(
                        "`{}`: patch `{}` {}",
                        self.dep.name,
                        outcome.patch,
                        match outcome.state {
                            crate::patch::PatchState::Applied => "applied",
                            crate::patch::PatchState::AlreadyUpstream =>
                                "is already upstream: it can be deleted",
                            crate::patch::PatchState::Merged => "merged three-way",
                        }
                    ));
                }
                (outcomes, base_staged)
            }
            None => (Vec::new(), base_staged),
        };
        let staged = &*staged;

        let old_files: BTreeMap<PathBuf, TreeFile> = match &placement.only {
            None => repo.files_under(parent, &folder)?,
            Some(name) => repo
                .entry_at(parent, &folder.join(name))?
                .map(|file| (name.clone(), file))
                .into_iter()
                .collect(),
        };
        let (new_files, kept, carried) = match &base_staged {
            Ok(base_files) => self.merge_files(&repo, staged, base_files, &old_files)?,
            Err(why) => {
                if old_files.keys().any(|p| !self.dep.apply.keep.matches(p)) {
                    printer.warn(&format!(
                        "`{}`: no three-way update ({why}): the folder is replaced by the new version, and only `keep` protects the project's own files and edits",
                        self.dep.name
                    ));
                }
                let (files, kept) = self.lay_files(&repo, staged, &old_files)?;
                (files, kept, Vec::new())
            }
        };
        let content = |path: &Path, side: Side| -> Result<Vec<u8>, ApplyError> {
            let file = match side {
                Side::New => match staged.get(path) {
                    Some(Staged::File { source, .. }) => {
                        return std::fs::read(source).map_err(|e| staged_error(source, e));
                    }
                    Some(Staged::Link { target }) => {
                        return Ok(target.as_os_str().as_encoded_bytes().to_vec());
                    }
                    None => new_files.get(path),
                },
                Side::Old => old_files.get(path),
            };
            match file {
                Some(file) => Ok(repo.read_blob(file.id)?),
                None => Ok(Vec::new()),
            }
        };
        let (changes, diff_text) = self.describe(&folder, &old_files, &new_files, &content)?;

        // The build files of the new tree, to see whether they follow upstream's file list.
        let mut build_files = Vec::new();
        for path in new_files.keys().filter(|p| is_build_file(p)) {
            let bytes = content(path, Side::New)?;
            build_files.push(String::from_utf8_lossy(&bytes).into_owned());
        }
        let manifest_text = repo.file_at(parent, &manifest_path)?.ok_or_else(|| {
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
            self.fetched.verification.sha256.as_deref(),
            self.fetched.archive_commit.as_deref(),
        )?;

        let mut update = UpdateSummary {
            name: self.dep.name.clone(),
            path: self.new_path.display().to_string(),
            old_version: self.old_version.to_string(),
            new_version: self.new_version.clone(),
            tag: self.tag.clone(),
            old_tag: self.old_tag.clone(),
            branch: self.branch.clone(),
            base_branch: base.branch_name(),
            source: self.fetched.source.clone(),
            links: self.links.clone(),
            verification: self.fetched.verification.clone(),
            needs_look: needs_look(&changes, &build_files),
            security: None,
            changes,
            kept,
            carried,
            provenance: match &self.provenance {
                super::provenance::Checked::Compared(found) => Some(found.clone()),
                _ => None,
            },
            patches,
            after: self
                .dep
                .apply
                .after
                .iter()
                .take_while(|step| step.commit.is_none())
                .map(|step| step.run.clone())
                .collect(),
            separate: self.separate_commits(),
            state: BranchState::Previewed,
            diff: self.options.diff.then_some(diff_text),
        };
        if self.options.dry_run {
            // The preview reads the laid-out tree (before `after` steps, which it does not run).
            if let Some(vf) = &self.dep.version_file {
                let present = staged.contains_key(&vf.path) || new_files.contains_key(&vf.path);
                let bytes = present.then(|| content(&vf.path, Side::New)).transpose()?;
                self.check_version_file(bytes)?;
            }
            return Ok(Built {
                update,
                base: base.commit,
                commits: Vec::new(),
            });
        }

        let (tree, regenerated) = self.tree(
            &repo,
            parent,
            &placement,
            &folder,
            manifest_path,
            &new_manifest,
            &new_files,
            printer,
        )?;
        let mut tip = repo.commit(parent, tree, &update.commit_message(&self.headline))?;
        let mut commits = vec![(tip, tree)];
        for (separate, regenerated) in update.separate.iter_mut().zip(regenerated) {
            if regenerated == commits.last().expect("the update commit").1 {
                continue;
            }
            let message = regenerate_message(&self.dep.name, &self.new_version, separate);
            tip = repo.commit(tip, regenerated, &message)?;
            separate.commit = Some(tip.to_string());
            commits.push((tip, regenerated));
        }
        // The tree as it will be committed (patches and `after` steps included) must say the
        // version the registry is about to record, or the next `check` contradicts it.
        if let Some(vf) = &self.dep.version_file {
            self.check_version_file(repo.file_at(tip, &self.new_path.join(&vf.path))?)?;
        }
        Ok(Built {
            update,
            base: base.commit,
            commits,
        })
    }

    /// Stops the update when the new tree's `version-file` (its bytes, `None` when the file
    /// is gone) does not say the new version.
    fn check_version_file(&self, bytes: Option<Vec<u8>>) -> Result<(), ApplyError> {
        let Some(vf) = &self.dep.version_file else {
            return Ok(());
        };
        let path = self.new_path.join(&vf.path);
        let Some(bytes) = bytes else {
            return Err(ApplyError::VersionFileAfter(
                DependencyError::VersionFileRead {
                    path,
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "the new tree has no such file",
                    ),
                },
            ));
        };
        let found = crate::check::version_in(vf, &String::from_utf8_lossy(&bytes), &path)
            .map_err(ApplyError::VersionFileAfter)?;
        if crate::check::version_file_agrees(&self.dep, &found, &self.new_version) {
            return Ok(());
        }
        Err(ApplyError::VersionFileDisagrees {
            path,
            found: crate::printer::sanitize(&found),
            version: self.new_version.clone(),
        })
    }

    /// The `after` steps with a `commit` of their own, each with the plain steps after it.
    fn separate_commits(&self) -> Vec<SeparateCommit> {
        let vars = Vars::from([
            ("name", self.dep.name.clone()),
            ("version", self.new_version.clone()),
            ("old-version", self.old_version.to_string()),
        ]);
        let mut separate: Vec<SeparateCommit> = Vec::new();
        for step in &self.dep.apply.after {
            match (&step.commit, separate.last_mut()) {
                (Some(message), _) => separate.push(SeparateCommit {
                    headline: message.render(&vars),
                    commands: vec![step.run.clone()],
                    commit: None,
                }),
                (None, Some(last)) => last.commands.push(step.run.clone()),
                (None, None) => {}
            }
        }
        separate
    }

    /// The dependency's new files: `keep` files from the old tree, then the staged ones,
    /// hashed (and written, unless previewing) as blobs; and the kept paths.
    fn lay_files(
        &self,
        repo: &Repo,
        staged: &BTreeMap<PathBuf, Staged>,
        old_files: &BTreeMap<PathBuf, TreeFile>,
    ) -> Result<(BTreeMap<PathBuf, TreeFile>, Vec<PathBuf>), ApplyError> {
        let write = !self.options.dry_run;
        let mut new_files = BTreeMap::new();
        let mut kept = Vec::new();
        for (path, file) in old_files {
            if self.dep.apply.keep.matches(path) {
                kept.push(path.clone());
                new_files.insert(path.clone(), *file);
            }
        }
        for (path, file) in staged {
            let file = match file {
                Staged::File { source, executable } => {
                    // Most files are unchanged between versions: hash in memory, and write
                    // only what the base tree does not already hold at that path.
                    let bytes = std::fs::read(source).map_err(|e| staged_error(source, e))?;
                    let id = repo.blob_from_bytes(&bytes, false)?;
                    if write && old_files.get(path).map(|f| f.id) != Some(id) {
                        repo.blob_from_bytes(&bytes, true)?;
                    }
                    let mode = if *executable {
                        MODE_EXECUTABLE
                    } else {
                        MODE_FILE
                    };
                    TreeFile { id, mode }
                }
                Staged::Link { target } => TreeFile {
                    id: repo.blob_from_bytes(target.as_os_str().as_encoded_bytes(), write)?,
                    mode: MODE_LINK,
                },
            };
            new_files.insert(path.clone(), file);
        }
        Ok((new_files, kept))
    }

    /// The dependency's new files by a three-way merge of the committed folder (`old_files`),
    /// the vendored version as upstream has it (`base_files`) and the new one (`staged`);
    /// `keep` files are the committed ones whatever upstream did.
    fn merge_files(
        &self,
        repo: &Repo,
        staged: &BTreeMap<PathBuf, Staged>,
        base_files: &BTreeMap<PathBuf, Staged>,
        old_files: &BTreeMap<PathBuf, TreeFile>,
    ) -> Result<Laid, ApplyError> {
        // Upstream's new files (with the committed `keep` files, which the merge leaves out).
        let (theirs, _) = self.lay_files(repo, staged, old_files)?;
        let hashed = |files: &BTreeMap<PathBuf, Staged>| -> Result<_, ApplyError> {
            let mut ids = BTreeMap::new();
            for (path, file) in files {
                let (bytes, mode) = staged_bytes(file)?;
                ids.insert(path.clone(), (repo.blob_from_bytes(&bytes, false)?, mode));
            }
            Ok(ids)
        };
        let base = hashed(base_files)?;
        let side = |files: &BTreeMap<PathBuf, TreeFile>| -> BTreeMap<PathBuf, (vcs::Oid, i32)> {
            files
                .iter()
                .filter(|(path, _)| !self.dep.apply.keep.matches(path))
                .map(|(path, file)| (path.clone(), (file.id, file.mode)))
                .collect()
        };
        let (ours, theirs_ids) = (side(old_files), side(&theirs));
        let mut git_error = None;
        let mut read = |path: &Path, which: Which| -> std::io::Result<Vec<u8>> {
            let id = match which {
                Which::Ours => ours[path].0,
                Which::Theirs => theirs_ids[path].0,
                Which::Base => {
                    return staged_bytes(&base_files[path])
                        .map(|(b, _)| b)
                        .map_err(std::io::Error::other);
                }
            };
            repo.read_blob(id).map_err(|e| {
                let shown = e.to_string();
                git_error = Some(e);
                std::io::Error::other(shown)
            })
        };
        let labels = [
            format!("{} as committed", self.dep.name),
            format!("{} {}", self.dep.name, self.old_version),
            format!("{} {}", self.dep.name, self.new_version),
        ];
        let merged = merge::merge(
            &ours,
            &base,
            &theirs_ids,
            &mut read,
            &|path| self.dep.apply.exclude.matches(path),
            [&labels[0], &labels[1], &labels[2]],
        );
        if let Some(error) = git_error {
            return Err(error.into());
        }
        let merged = merged.map_err(|source| ApplyError::ReadVendored {
            path: self.dep.path.clone(),
            source,
        })?;
        if !merged.conflicts.is_empty() {
            let folder = self.write_conflicted(repo, &merged, old_files, &theirs);
            return Err(ApplyError::MergeConflict {
                name: self.dep.name.clone(),
                version: self.new_version.clone(),
                files: merged.conflicts,
                folder,
                path: self.new_path.clone(),
            });
        }
        let mut files = BTreeMap::new();
        let mut kept = Vec::new();
        for (path, file) in old_files {
            if self.dep.apply.keep.matches(path) {
                kept.push(path.clone());
                files.insert(path.clone(), *file);
            }
        }
        for (path, outcome) in merged.files {
            let file = match outcome {
                Outcome::Ours => old_files[&path],
                Outcome::Theirs => theirs[&path],
                Outcome::New(side) => TreeFile {
                    // Written even for a preview: its diff reads it back.
                    id: repo.blob_from_bytes(&side.bytes, true)?,
                    mode: side.mode,
                },
            };
            files.insert(path, file);
        }
        Ok((files, kept, merged.carried))
    }

    /// Each of `references` with the new version in place of what it names, as a blob to
    /// set; unchanged ones are left out.
    fn rewritten_references(
        &self,
        repo: &Repo,
        parent: vcs::Oid,
        manifest_path: &Path,
    ) -> Result<Vec<(PathBuf, TreeFile)>, ApplyError> {
        let prefix = manifest_path.parent().unwrap_or(Path::new(""));
        let mut files = Vec::new();
        for reference in &self.dep.references {
            let at = prefix.join(&reference.path);
            let (bytes, mode) = match repo.entry_at(parent, &at)? {
                Some(file) => (repo.read_blob(file.id)?, file.mode),
                None => {
                    return Err(ApplyError::ReferenceMissing {
                        path: reference.path.clone(),
                    });
                }
            };
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let spans = reference.spans(&text);
            if spans.is_empty() {
                return Err(ApplyError::ReferenceNoMatch {
                    path: reference.path.clone(),
                    regex: reference.regex.as_str().to_owned(),
                    nearest: crate::check::nearest_line(&reference.regex, &text),
                });
            }
            let mut rewritten = text.clone();
            for span in spans.into_iter().rev() {
                rewritten.replace_range(span, &self.new_version);
            }
            if rewritten != text {
                let id = repo.blob_from_bytes(rewritten.as_bytes(), true)?;
                files.push((at, TreeFile { id, mode }));
            }
        }
        Ok(files)
    }

    /// The merged folder with conflict markers, outside the repository, for finishing by
    /// hand: `None` when it cannot be written (the error still names every conflict).
    fn write_conflicted(
        &self,
        repo: &Repo,
        merged: &merge::Merged,
        ours: &BTreeMap<PathBuf, TreeFile>,
        theirs: &BTreeMap<PathBuf, TreeFile>,
    ) -> Option<PathBuf> {
        let dir = tempfile::Builder::new()
            .prefix(&format!(
                "deps-update-{}-{}-",
                self.dep.name, self.new_version
            ))
            // The system's temporary folder, not this run's scratch folder: it outlives the run.
            .tempdir_in(std::env::temp_dir())
            .ok()?
            .keep();
        let write = |path: &Path, bytes: &[u8], mode: i32| -> Option<()> {
            use std::os::unix::fs::PermissionsExt;
            let at = dir.join(path);
            std::fs::create_dir_all(at.parent()?).ok()?;
            if mode == MODE_LINK {
                let target = std::ffi::OsStr::new(std::str::from_utf8(bytes).ok()?);
                return std::os::unix::fs::symlink(target, at).ok();
            }
            std::fs::write(&at, bytes).ok()?;
            let bits = if mode == MODE_EXECUTABLE {
                0o755
            } else {
                0o644
            };
            std::fs::set_permissions(at, std::fs::Permissions::from_mode(bits)).ok()
        };
        let blob = |file: &TreeFile| repo.read_blob(file.id).ok().map(|b| (b, file.mode));
        for (path, outcome) in &merged.files {
            let (bytes, mode) = match outcome {
                Outcome::Ours => blob(ours.get(path)?)?,
                Outcome::Theirs => blob(theirs.get(path)?)?,
                Outcome::New(side) => (side.bytes.clone(), side.mode),
            };
            write(path, &bytes, mode)?;
        }
        for (path, bytes) in &merged.marked {
            let mode = ours.get(path).map_or(MODE_FILE, |f| f.mode);
            write(path, bytes, mode)?;
        }
        Some(dir)
    }

    /// The new root tree: the parent's with the dependency's files and `deps.toml` replaced,
    /// then what the plain `after` steps change; and the tree after each step with a commit.
    #[allow(clippy::too_many_arguments)]
    fn tree(
        &self,
        repo: &Repo,
        parent: vcs::Oid,
        placement: &Placement,
        folder: &Path,
        manifest_path: PathBuf,
        new_manifest: &str,
        new_files: &BTreeMap<PathBuf, TreeFile>,
        printer: &Printer,
    ) -> Result<(vcs::Oid, Vec<vcs::Oid>), ApplyError> {
        if repo.current_branch().as_deref() == Some(self.branch.as_str()) {
            return Err(ApplyError::BranchCheckedOut {
                branch: self.branch.clone(),
            });
        }
        let manifest_blob = TreeFile {
            id: repo.blob_from_bytes(new_manifest.as_bytes(), true)?,
            mode: MODE_FILE,
        };
        let mut files = vec![(manifest_path.clone(), manifest_blob)];
        files.extend(self.rewritten_references(repo, parent, &manifest_path)?);
        // A single file (`format = "file"`) stays where it is; a folder may move.
        let new_folder = match &placement.only {
            Some(_) => folder.to_owned(),
            None => in_repo(repo, &self.root.join(&self.new_path))?,
        };
        if new_folder != folder
            && (repo.entry_at(parent, &new_folder)?.is_some()
                || !repo.files_under(parent, &new_folder)?.is_empty())
        {
            return Err(ApplyError::FolderTaken {
                name: self.dep.name.clone(),
                path: self.new_path.clone(),
            });
        }
        let contents = match &placement.only {
            None => Some((folder, new_folder.as_path(), new_files)),
            Some(name) => {
                if let Some(file) = new_files.get(name) {
                    files.push((folder.join(name), *file));
                }
                None
            }
        };
        let tree = repo.updated_tree(parent, contents, &files)?;
        if self.dep.apply.after.is_empty() {
            return Ok((tree, Vec::new()));
        }
        let dep_path = in_repo(repo, &self.root.join(&self.new_path))?;
        let (update_tree, separate) =
            self.run_after(repo, tree, &dep_path, &manifest_path, printer)?;
        // What the steps changed must be the dependency's, the registry's, or declared.
        let prefix = manifest_path.parent().unwrap_or(Path::new(""));
        let mut outside = Vec::new();
        let mut before = tree;
        for after in std::iter::once(update_tree).chain(separate.iter().copied()) {
            for path in repo.changed_paths(before, after)? {
                let declared = path
                    .strip_prefix(prefix)
                    .is_ok_and(|p| self.dep.apply.after_writes.matches(p));
                let allowed = path.starts_with(&dep_path) || path == manifest_path || declared;
                if !(allowed || outside.contains(&path)) {
                    outside.push(path);
                }
            }
            before = after;
        }
        if !outside.is_empty() {
            return Err(ApplyError::AfterWroteOutside {
                folder: dep_path,
                paths: outside,
            });
        }
        Ok((update_tree, separate))
    }

    /// The file-by-file change from `old` to `new`, and with `--diff` the unified diff.
    fn describe(
        &self,
        folder: &Path,
        old: &BTreeMap<PathBuf, TreeFile>,
        new: &BTreeMap<PathBuf, TreeFile>,
        content: &Content<'_>,
    ) -> Result<(ChangeSummary, String), ApplyError> {
        let mut changes = ChangeSummary::default();
        let mut diff_text = String::new();
        let paths: BTreeSet<&PathBuf> = old.keys().chain(new.keys()).collect();
        for path in paths {
            let kind = match (old.get(path), new.get(path)) {
                (Some(o), Some(n)) if o == n => continue,
                (Some(_), Some(_)) => ChangeKind::Modified,
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (None, None) => continue,
            };
            let old_bytes = content(path, Side::Old)?;
            let new_bytes = if new.contains_key(path) {
                content(path, Side::New)?
            } else {
                Vec::new()
            };
            let lines = diff::line_changes(&old_bytes, &new_bytes);
            if self.options.diff {
                let shown = folder.join(path).to_string_lossy().replace('\\', "/");
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
        Ok((changes, diff_text))
    }

    /// The `after` steps on `tree`: see [`run_steps`].
    fn run_after(
        &self,
        repo: &Repo,
        tree: vcs::Oid,
        dep_path: &Path,
        manifest_path: &Path,
        printer: &Printer,
    ) -> Result<(vcs::Oid, Vec<vcs::Oid>), ApplyError> {
        super::steps::run_steps(
            &self.dep,
            (&self.old_version.to_string(), &self.new_version),
            repo,
            tree,
            dep_path,
            manifest_path,
            printer,
        )
    }
}

/// An update's commits, written but not yet on any branch.
#[derive(Debug)]
pub struct Built {
    pub update: UpdateSummary,
    /// The base commit the first commit builds on (directly, or through a group's members).
    pub base: vcs::Oid,
    /// `(commit, tree)`, oldest first: the update commit, then its separate `after` commits.
    /// Empty when previewed.
    pub commits: Vec<(vcs::Oid, vcs::Oid)>,
}

/// Moves `branch` to the last of `commits` (built on `base`), unless it already holds
/// commits with the same trees on the same base.
pub fn settle(
    root: &Path,
    branch: &str,
    base: vcs::Oid,
    commits: &[(vcs::Oid, vcs::Oid)],
    reflog: &str,
) -> Result<BranchState, ApplyError> {
    let repo = Repo::discover(root)?;
    let Some(&(new_tip, _)) = commits.last() else {
        return Ok(BranchState::Previewed);
    };
    let tip = repo.branch_tip(branch);
    if let Some(tip) = tip
        && holds(&repo, tip, base, commits)?
    {
        return Ok(BranchState::Unchanged(tip.to_string()));
    }
    // The local branch is treated like the remote one: never moved over a person's commit.
    if let Some(tip) = tip
        && !repo.made_by_deps_update(tip)
    {
        return Err(ApplyError::Git(crate::vcs::GitError::NotOurLocalBranch {
            branch: branch.to_owned(),
            tip: tip.to_string(),
        }));
    }
    crate::process::critical(|| repo.set_branch(branch, new_tip, tip, reflog))?;
    Ok(BranchState::Committed(new_tip.to_string()))
}

/// Whether the history ending at `tip` is `commits`' trees, one commit each, on `base`.
fn holds(
    repo: &Repo,
    tip: vcs::Oid,
    base: vcs::Oid,
    commits: &[(vcs::Oid, vcs::Oid)],
) -> Result<bool, ApplyError> {
    let mut commit = tip;
    for (_, tree) in commits.iter().rev() {
        if repo.tree_id(commit)? != *tree {
            return Ok(false);
        }
        match repo.parent_of(commit) {
            Some(parent) => commit = parent,
            None => return Ok(false),
        }
    }
    Ok(commit == base)
}

/// The message of a separate `after` commit.
fn regenerate_message(name: &str, version: &str, separate: &SeparateCommit) -> String {
    let commands: Vec<String> = separate
        .commands
        .iter()
        .map(|c| format!("- {c}\n"))
        .collect();
    format!(
        "{}\n\nRegenerated after updating {name} to {version}, by:\n{}\n{}: {name} {version}\n",
        separate.headline,
        commands.concat(),
        crate::vcs::TRAILER
    )
}

/// A staged file's bytes (a link's target for links) and git mode.
pub(super) fn staged_bytes(file: &Staged) -> Result<(Vec<u8>, i32), ApplyError> {
    match file {
        Staged::File { source, executable } => {
            let bytes = std::fs::read(source).map_err(|e| staged_error(source, e))?;
            Ok((
                bytes,
                if *executable {
                    MODE_EXECUTABLE
                } else {
                    MODE_FILE
                },
            ))
        }
        Staged::Link { target } => Ok((target.as_os_str().as_encoded_bytes().to_vec(), MODE_LINK)),
    }
}

fn staged_error(path: &Path, source: std::io::Error) -> ApplyError {
    ApplyError::Staged {
        path: path.to_owned(),
        source,
    }
}
