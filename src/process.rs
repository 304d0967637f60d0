//! This process's own protections, for the commands it runs (`after` steps: upstream's code).
//!
//! - [`protect`], first thing in `main`: the process is made non-dumpable, so that no other
//!   process of the same (non-root) user can read its environment, memory, open files or
//!   working folder through `/proc/<pid>/` (the kernel then treats those as root's), and the
//!   credential variables are taken out of its environment into a store only [`env()`] reads,
//!   so that no child (an `after` step, a git credential helper) ever inherits one.
//! - [`scrub`]: the environment an `after` step gets: no credential-looking variable, nothing
//!   that names the real repository (`PWD` is the step's own folder; `GIT_DIR` and the
//!   like are gone).
//! - [`Scratch`]: one folder of this process under the system's temporary folder, where
//!   every temporary file and folder goes (downloads, unpacked archives, `after` checkouts,
//!   the steps' own `TMPDIR`), removed when the process ends, interrupted or not.
//! - [`run_child`]: a child in its own process group, so that an interrupt stops it and
//!   everything it started; [`critical`] marks what must finish once begun (moving a
//!   branch, replacing a file); [`interrupted`] stops the children, waits for a critical
//!   step to finish, removes the scratch folder and exits with 130.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The credentials taken out of the environment at start.
static SECRETS: OnceLock<BTreeMap<String, String>> = OnceLock::new();

/// What [`protect`] could not do, for a warning.
#[derive(Debug)]
pub struct Unprotected(pub std::io::Error);

/// Makes the process non-dumpable and moves the variables named in `secrets` from the
/// environment into a private store. Call it first in `main`, before any thread starts.
pub fn protect(secrets: &[&str]) -> Result<(), Unprotected> {
    let mut taken = BTreeMap::new();
    for name in secrets {
        if let Some(value) = std::env::var_os(name) {
            taken.insert((*name).to_owned(), value.to_string_lossy().into_owned());
            // SAFETY: called at the start of `main`, before the runtime or any other thread
            // exists, so nothing reads the environment concurrently.
            unsafe { std::env::remove_var(name) };
        }
    }
    let _ = SECRETS.set(taken);
    not_dumpable().map_err(Unprotected)
}

#[cfg(target_os = "linux")]
fn not_dumpable() -> std::io::Result<()> {
    // SAFETY: `prctl(PR_SET_DUMPABLE, 0)` takes no pointers and only changes this process's
    // dumpable flag.
    let result = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn not_dumpable() -> std::io::Result<()> {
    Ok(())
}

/// An environment variable, the credentials [`protect`] took included.
pub fn env(name: &str) -> Option<String> {
    SECRETS
        .get()
        .and_then(|secrets| secrets.get(name).cloned())
        .or_else(|| std::env::var(name).ok())
}

/// Variables an `after` step never gets, beyond the credentials [`protect`] took: the CI
/// runtime's own tokens and anything that points git at the real repository.
const NEVER_PASSED: &[&str] = &[
    "OLDPWD",
    "GITHUB_WORKSPACE",
    "RUNNER_WORKSPACE",
    "CI_PROJECT_DIR",
    "CI_BUILDS_DIR",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
];

/// Whether a variable's name says it holds a credential (`ACTIONS_RUNTIME_TOKEN`,
/// `NPM_TOKEN`, `AWS_SECRET_ACCESS_KEY`, `DB_PASSWORD`, ...).
fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "PRIVATE_KEY",
        "API_KEY",
    ]
    .iter()
    .any(|word| upper.contains(word))
}

/// Sets up `command`'s environment for an `after` step running in `folder`: the process's
/// environment without credentials or pointers to the real repository, `PWD` set to `folder`.
pub fn scrub(command: &mut std::process::Command, folder: &std::path::Path) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if looks_secret(&name) || NEVER_PASSED.contains(&name.as_ref()) {
            command.env_remove(name.as_ref());
        }
    }
    if let Some(secrets) = SECRETS.get() {
        for name in secrets.keys() {
            command.env_remove(name);
        }
    }
    command.env("PWD", folder);
}

/// This process's scratch folder, once made.
static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

/// The process groups of running children.
static CHILDREN: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Held for what must not be cut short by an interrupt.
static CRITICAL: Mutex<()> = Mutex::new(());

/// The scratch folder; removed when dropped.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// Makes the scratch folder and sends every later temporary file into it.
    pub fn start() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("deps-update-")
            .tempdir()?
            .keep();
        let _ = tempfile::env::override_temp_dir(&dir);
        let _ = SCRATCH.set(dir.clone());
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `command` to its end in its own process group (and with the scratch folder as its
/// `TMPDIR`), so that an interrupt can stop it and all it started.
pub fn run_child(command: &mut std::process::Command) -> std::io::Result<std::process::Output> {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
    if let Some(scratch) = SCRATCH.get() {
        command.env("TMPDIR", scratch);
    }
    let child = command.spawn()?;
    let group = i32::try_from(child.id()).unwrap_or(i32::MAX);
    children().insert(group);
    let output = child.wait_with_output();
    children().remove(&group);
    output
}

fn children() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    CHILDREN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `step` to its end even if an interrupt comes meanwhile: the interrupt waits.
pub fn critical<R>(step: impl FnOnce() -> R) -> R {
    let _held = CRITICAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    step()
}

/// An interrupt (SIGINT, SIGTERM) arrived: stops the children (SIGTERM, then SIGKILL after
/// two seconds), lets a critical step finish, removes the scratch folder, and exits with
/// 130. The repository is as it was: branches move only inside critical steps.
pub fn interrupted(signal: &str) -> ! {
    let groups: Vec<i32> = children().iter().copied().collect();
    for group in &groups {
        // SAFETY: `kill` takes no pointers; a negative pid names a process group.
        unsafe { libc::kill(-group, libc::SIGTERM) };
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    // SAFETY: signal 0 only asks whether the group still exists.
    let alive = |group: &i32| unsafe { libc::kill(-group, 0) } == 0;
    while groups.iter().any(alive) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for group in groups.iter().filter(|g| alive(g)) {
        // SAFETY: as above.
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }
    let _held = CRITICAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(scratch) = SCRATCH.get() {
        let _ = std::fs::remove_dir_all(scratch);
    }
    eprintln!(
        "interrupted ({signal}): stopped, temporary files removed; nothing was committed that was not already"
    );
    std::process::exit(130)
}

/// Waits for SIGINT or SIGTERM; its name.
pub async fn interrupt() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        },
        _ => std::future::pending().await,
    }
}

/// The scratch folder, when one was made.
pub fn scratch() -> Option<&'static Path> {
    SCRATCH.get().map(PathBuf::as_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names_are_recognised() {
        for name in [
            "GITHUB_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "npm_token",
            "AWS_SECRET_ACCESS_KEY",
            "PGPASSWORD",
            "GOOGLE_APPLICATION_CREDENTIALS",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["PATH", "HOME", "CC", "CFLAGS", "LANG", "SSH_AUTH_SOCK"] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}
