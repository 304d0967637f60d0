//! Reading what the registry points at (version files, keyrings, patch queues, vendored
//! folders) inside the repository only: a symbolic link committed on the way
//! (`deps/x -> /proc/self`) never leads a read out of it.

use std::io;
use std::path::{Path, PathBuf};

/// `root.join(relative)` with every link resolved, when it stays inside `root`. A path that
/// does not exist is `NotFound`, as for any read; one that leads out is `PermissionDenied`,
/// saying so.
pub fn resolve(root: &Path, relative: &Path) -> io::Result<PathBuf> {
    let inside = std::fs::canonicalize(root)?;
    let resolved = std::fs::canonicalize(root.join(relative))?;
    if resolved.starts_with(&inside) {
        Ok(resolved)
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "`{}` leads outside the repository through a symbolic link; deps-update reads nothing there",
                relative.display()
            ),
        ))
    }
}

/// The bytes of `relative` under `root`, refused when a link leads out of `root`.
pub fn read(root: &Path, relative: &Path) -> io::Result<Vec<u8>> {
    std::fs::read(resolve(root, relative)?)
}

/// [`read`], as text.
pub fn read_to_string(root: &Path, relative: &Path) -> io::Result<String> {
    std::fs::read_to_string(resolve(root, relative)?)
}

/// Whether `relative` exists under `root` (through links that stay inside it).
pub fn exists(root: &Path, relative: &Path) -> bool {
    resolve(root, relative).is_ok()
}

/// Whether `relative` under `root` exists but leads out of it: a folder to refuse walking.
pub fn leads_out(root: &Path, relative: &Path) -> Option<io::Error> {
    match resolve(root, relative) {
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => Some(error),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_out_of_the_repository_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("deps/real")).unwrap();
        std::fs::write(root.join("deps/real/v.h"), "1.0").unwrap();
        std::os::unix::fs::symlink("real", root.join("deps/inside")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("deps/outside")).unwrap();
        assert_eq!(read(&root, Path::new("deps/inside/v.h")).unwrap(), b"1.0");
        let error = read(&root, Path::new("deps/outside/hostname")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        assert!(error.to_string().contains("leads outside the repository"));
        assert!(leads_out(&root, Path::new("deps/outside")).is_some());
        assert!(leads_out(&root, Path::new("deps/missing")).is_none());
        assert!(!exists(&root, Path::new("deps/outside")));
    }
}
