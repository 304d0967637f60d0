//! `after` steps: run over a tree in a temporary checkout that holds only what they may
//! touch (the dependency's folder, the registry, `after-writes` and `after-reads`), for an
//! update (`run_steps`) and for `verify` (`steps_on_layout`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ApplyError;
use super::base::in_repo;
use super::commit::staged_bytes;
use super::layout::{Placement, Staged};
use crate::manifest::Dependency;
use crate::printer::Printer;
use crate::vcs::{self, MODE_EXECUTABLE, MODE_LINK, Repo, TreeFile};

/// Runs the `after` steps in a temporary worktree holding `tree`; returns the tree with
/// what the plain steps before the first `commit` step changed, then the tree after each
/// `commit` step (and the plain steps that follow it).
pub(super) fn run_steps(
    dep: &Dependency,
    (old_version, new_version): (&str, &str),
    repo: &Repo,
    tree: vcs::Oid,
    dep_path: &Path,
    manifest_path: &Path,
    printer: &Printer,
) -> Result<(vcs::Oid, Vec<vcs::Oid>), ApplyError> {
    // Only what the steps may touch is checked out: the dependency's folder, the
    // registry, and what `after-writes` and `after-reads` declare.
    let prefix = manifest_path.parent().unwrap_or(Path::new(""));
    let apply = &dep.apply;
    let wanted = |path: &Path| {
        path.starts_with(dep_path)
            || path == manifest_path
            || path
                .strip_prefix(prefix)
                .is_ok_and(|p| apply.after_writes.matches(p) || apply.after_reads.matches(p))
    };
    let worktree = repo.temporary_worktree(tree, &wanted)?;
    let mut trees = Vec::new();
    for step in &dep.apply.after {
        if step.commit.is_some() {
            trees.push(worktree.snapshot()?);
        }
        let command = &step.run;
        printer.status(&format!("`{}`: running `{command}`", dep.name));
        let mut child = std::process::Command::new("sh");
        crate::process::scrub(&mut child, worktree.path());
        child
            .arg("-c")
            .arg(command)
            .current_dir(worktree.path())
            .env("DEPS_UPDATE_NAME", &dep.name)
            .env("DEPS_UPDATE_OLD_VERSION", old_version)
            .env("DEPS_UPDATE_NEW_VERSION", new_version)
            .env("DEPS_UPDATE_PATH", dep_path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let output =
            crate::process::run_child(&mut child).map_err(|source| ApplyError::AfterSpawn {
                command: command.clone(),
                source,
            })?;
        if !output.status.success() {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            let text: Vec<&str> = text.lines().rev().take(40).collect();
            let text: Vec<String> = text.into_iter().rev().map(|l| format!("  | {l}")).collect();
            return Err(ApplyError::After {
                command: command.clone(),
                status: output.status.to_string(),
                output: text.join("\n"),
            });
        }
    }
    trees.push(worktree.snapshot()?);
    let update_tree = trees.remove(0);
    Ok((update_tree, trees))
}

/// `verify`'s view of what the `after` steps make of the laid-out tree: the steps run on
/// HEAD's tree with the dependency's folder replaced by `staged`, and `staged` becomes the
/// folder they leave (written under `staging`). Returns the files the steps created or
/// changed, which are the steps' output, not upstream's code.
pub(super) fn steps_on_layout(
    root: &Path,
    manifest_file: &Path,
    dep: &Dependency,
    version: &str,
    staged: &mut BTreeMap<PathBuf, Staged>,
    staging: &Path,
    printer: &Printer,
) -> Result<Vec<PathBuf>, ApplyError> {
    let placement = Placement::of(dep);
    if dep.apply.after.is_empty() || placement.only.is_some() {
        return Ok(Vec::new());
    }
    let repo = Repo::discover(root)?;
    let head = repo.base(Some("HEAD"))?.commit;
    let folder = in_repo(&repo, &root.join(&placement.folder))?;
    let manifest_path = in_repo(&repo, manifest_file)?;
    let mut files = BTreeMap::new();
    for (path, file) in staged.iter() {
        let (bytes, mode) = staged_bytes(file)?;
        let id = repo.blob_from_bytes(&bytes, true)?;
        files.insert(path.clone(), TreeFile { id, mode });
    }
    for (path, file) in repo.files_under(head, &folder)? {
        if dep.apply.keep.matches(&path) {
            files.insert(path, file);
        }
    }
    let tree = repo.updated_tree(head, Some((&folder, &folder, &files)), &[])?;
    let (first, separate) = run_steps(
        dep,
        (version, version),
        &repo,
        tree,
        &folder,
        &manifest_path,
        printer,
    )?;
    let last = separate.last().copied().unwrap_or(first);
    let after = repo.files_under(last, &folder)?;
    let out = staging.join("after");
    let mut generated = Vec::new();
    for (path, file) in &after {
        if files.get(path) == Some(file) {
            continue;
        }
        generated.push(path.clone());
        let bytes = repo.read_blob(file.id)?;
        let staged_file = if file.mode == MODE_LINK {
            Staged::Link {
                target: PathBuf::from(String::from_utf8_lossy(&bytes).into_owned()),
            }
        } else {
            let at = out.join(path);
            std::fs::create_dir_all(at.parent().unwrap_or(&out)).map_err(ApplyError::Temp)?;
            std::fs::write(&at, &bytes).map_err(ApplyError::Temp)?;
            Staged::File {
                source: at,
                executable: file.mode == MODE_EXECUTABLE,
            }
        };
        staged.insert(path.clone(), staged_file);
    }
    staged.retain(|path, _| after.contains_key(path));
    Ok(generated)
}
