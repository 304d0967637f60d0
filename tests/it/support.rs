//! The test context: a temporary project, an isolated environment, fake upstreams.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use tempfile::TempDir;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A throwaway repository root with its own home, cache and git config.
pub struct Project {
    dir: TempDir,
    env: Vec<(String, String)>,
}

/// What a run of the binary showed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl Project {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["repo", "home", "cache"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        std::fs::write(dir.path().join("home/.gitconfig"), "").unwrap();
        Self {
            dir,
            env: Vec::new(),
        }
    }

    /// The repository root, where `deps.toml` lives.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// A scratch folder outside the repository (for upstream git repositories).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// Writes a file under the repository root.
    pub fn write(&self, relative: &str, text: &str) -> &Self {
        let path = self.root().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    pub fn manifest(&self, text: &str) -> &Self {
        self.write("deps.toml", text)
    }

    /// Sets an environment variable for every run.
    pub fn env(&mut self, name: &str, value: &str) -> &mut Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Points GitHub and npm at a fake server.
    pub fn fake_upstreams(&mut self, server: &MockServer) -> &mut Self {
        self.env("GITHUB_API_URL", &server.uri());
        self.env("npm_config_registry", &format!("{}/npm/", server.uri()))
    }

    /// The binary, in the repository root, with nothing of the machine's environment but
    /// `PATH`: no token, no git config, upstreams pointed at a closed port until a test
    /// points them at its fake.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin!("deps-update"));
        let home = self.dir.path().join("home");
        command
            .args(args)
            .current_dir(self.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", self.cache())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", home.join(".gitconfig"))
            .env("NO_COLOR", "1")
            .env("GITHUB_API_URL", "http://127.0.0.1:9")
            .env("npm_config_registry", "http://127.0.0.1:9/")
            .env("DEPS_UPDATE_RETRY_DELAY_MS", "20")
            .env("DEPS_UPDATE_HTTP_TIMEOUT", "10");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("run deps-update");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// A `[deps.NAME]` table for a GitHub dependency.
pub fn github_dep(name: &str, kind: &str, repo: &str, version: &str, extra: &str) -> String {
    format!(
        "[deps.{name}]\npath = \"deps/{name}\"\nsource = \"{kind}\"\nrepo = \"{repo}\"\nversion = \"{version}\"\n{extra}\n"
    )
}

/// Serves `GET /repos/{repo}/releases` with these `(tag, draft, prerelease)` releases.
pub async fn mount_releases(server: &MockServer, repo: &str, releases: &[(&str, bool, bool)]) {
    let body: Vec<Value> = releases
        .iter()
        .map(|(tag, draft, pre)| json!({"tag_name": tag, "draft": draft, "prerelease": pre, "name": tag}))
        .collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/{repo}/releases")))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Serves `GET /repos/{repo}/git/matching-refs/tags{/prefix}` with these tags.
pub async fn mount_tags(server: &MockServer, repo: &str, prefix: &str, tags: &[&str]) {
    let body: Vec<Value> = tags
        .iter()
        .map(|t| json!({"ref": format!("refs/tags/{t}"), "object": {"sha": "0".repeat(40), "type": "commit"}}))
        .collect();
    let route = if prefix.is_empty() {
        format!("/repos/{repo}/git/matching-refs/tags")
    } else {
        format!("/repos/{repo}/git/matching-refs/tags/{prefix}")
    };
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Runs `git` with an isolated configuration in `dir`.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_at(dir, args, None)
}

/// Runs `git` with the author and committer date set (`@SECONDS +0000`).
pub fn git_at(dir: &Path, args: &[&str], date: Option<&str>) -> String {
    let mut command = Command::new("git");
    command
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Upstream")
        .env("GIT_AUTHOR_EMAIL", "upstream@example.com")
        .env("GIT_COMMITTER_NAME", "Upstream")
        .env("GIT_COMMITTER_EMAIL", "upstream@example.com");
    if let Some(date) = date {
        command
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date);
    }
    let output = command.output().expect("run git");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
