//! This process's own protections, for the commands it runs (`after` steps: upstream's code).
//!
//! - [`protect`], first thing in `main`: the process is made non-dumpable, so that no other
//!   process of the same (non-root) user can read its environment, memory, open files or
//!   working folder through `/proc/<pid>/` (the kernel then treats those as root's), and the
//!   credential variables are taken out of its environment into a store only [`env`] reads,
//!   so that no child (an `after` step, a git credential helper) ever inherits one.
//! - [`scrub`]: the environment an `after` step gets: no credential-looking variable, nothing
//!   that names the real repository (`PWD` is the step's own folder; `GIT_DIR` and the
//!   like are gone).

use std::collections::BTreeMap;
use std::sync::OnceLock;

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
