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
            .env("GITLAB_API_URL", "http://127.0.0.1:9/api/v4")
            .env("GITEA_API_URL", "http://127.0.0.1:9/api/v1")
            .env("npm_config_registry", "http://127.0.0.1:9/")
            .env("OSV_API_URL", "http://127.0.0.1:9/osv")
            .env("DEPS_UPDATE_RETRY_DELAY_MS", "20")
            .env("DEPS_UPDATE_HTTP_TIMEOUT", "10");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Self::output(self.command(args))
    }

    /// Runs the binary with no file allowed to grow past `kib` KiB (`ulimit -f`, with
    /// `SIGXFSZ` ignored): writes past it fail as they would on a full disk.
    pub fn run_with_file_limit(&self, kib: u64, args: &[&str]) -> Run {
        let inner = self.command(args);
        let mut command = Command::new("bash");
        command
            .arg("-c")
            .arg(format!("ulimit -f {kib}; trap '' XFSZ; exec \"$0\" \"$@\""))
            .arg(inner.get_program())
            .args(inner.get_args())
            .current_dir(self.root())
            .env_clear();
        for (name, value) in inner.get_envs() {
            if let Some(value) = value {
                command.env(name, value);
            }
        }
        Self::output(command)
    }

    /// Runs the `run` script of the step named `step` in the repository's `action.yml`, as the
    /// composite action would: in bash, in the repository root, with the test environment,
    /// `env` and `BIN` holding the binary under `bin/`.
    pub fn run_action_step(&self, step: &str, env: &[(&str, &str)]) -> Run {
        let action =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
        let start = action
            .find(&format!("- name: {step}\n"))
            .unwrap_or_else(|| panic!("no step `{step}` in action.yml"));
        let run = action[start..].find("      run: |\n").unwrap() + start;
        let script: String = action[run..]
            .lines()
            .skip(1)
            .take_while(|line| line.is_empty() || line.starts_with("        "))
            .map(|line| format!("{}\n", line.strip_prefix("        ").unwrap_or(line)))
            .collect();
        let bin = self.scratch("action-bin");
        std::fs::create_dir_all(bin.join("bin")).unwrap();
        let linked = bin.join("bin/deps-update");
        if !linked.exists() {
            std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin!("deps-update"), &linked)
                .unwrap();
        }
        let inner = self.command(&[]);
        let mut command = Command::new("bash");
        command
            .args(["-euo", "pipefail", "-c", &script])
            .current_dir(self.root())
            .env_clear();
        for (name, value) in inner.get_envs() {
            if let Some(value) = value {
                command.env(name, value);
            }
        }
        command.env("BIN", &bin);
        for (name, value) in env {
            command.env(name, value);
        }
        Self::output(command)
    }

    /// Runs the binary as an unprivileged user: as `nobody` (with the whole test folder handed
    /// to it for the run) when the tests run as root, else as the current user. For what
    /// root alone could do anyway (read any process's `/proc` files).
    pub fn run_unprivileged(&self, args: &[&str]) -> Run {
        if !is_root() {
            return Self::output(self.command(args));
        }
        let owner = |who: &str| {
            let status = Command::new("chown")
                .args(["-R", who])
                .arg(self.dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        };
        owner("65534:65534");
        let run = self.run_as_nobody(args);
        owner("0:0");
        run
    }

    /// Runs the binary as `nobody` on the test folder as it is (owned by root, opened to
    /// everyone for reading and writing); `None` when the tests do not run as root.
    pub fn run_as_another_user(&self, args: &[&str]) -> Option<Run> {
        if !is_root() {
            return None;
        }
        let status = Command::new("chmod")
            .args(["-R", "a+rwX"])
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        Some(self.run_as_nobody(args))
    }

    fn run_as_nobody(&self, args: &[&str]) -> Run {
        let inner = self.command(args);
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(inner.get_program())
            .args(inner.get_args())
            .current_dir(self.root())
            .env_clear();
        for (name, value) in inner.get_envs() {
            if let Some(value) = value {
                command.env(name, value);
            }
        }
        Self::output(command)
    }

    fn output(mut command: Command) -> Run {
        let output = command.output().expect("run deps-update");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Whether the tests run as root (as CI does).
pub fn is_root() -> bool {
    // SAFETY: `geteuid` has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A `[deps.NAME]` table for a GitHub dependency.
pub fn github_dep(name: &str, kind: &str, repo: &str, version: &str, extra: &str) -> String {
    format!(
        "[deps.{name}]\npath = \"deps/{name}\"\nsource = \"{kind}\"\nrepo = \"{repo}\"\nversion = \"{version}\"\n{extra}\n"
    )
}

/// Serves `body` as JSON at `GET route`.
pub async fn mount_json(server: &MockServer, route: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Serves `GET /repos/{repo}/releases` with these `(tag, draft, prerelease)` releases.
pub async fn mount_releases(server: &MockServer, repo: &str, releases: &[(&str, bool, bool)]) {
    let body: Vec<Value> = releases
        .iter()
        .map(|(tag, draft, pre)| json!({"tag_name": tag, "draft": draft, "prerelease": pre, "name": tag}))
        .collect();
    mount_json(
        server,
        &format!("/repos/{repo}/releases"),
        Value::Array(body),
    )
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
    mount_json(server, &route, Value::Array(body)).await;
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

/// One entry of a test archive.
pub enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Executable(&'a str, &'a [u8]),
    Link(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    CharDevice(&'a str),
    Dir(&'a str),
    /// A regular file whose name is raw bytes (not necessarily UTF-8).
    RawName(&'a [u8], &'a [u8]),
}

/// A `.tar.gz` built from entries; paths are written as given (hostile ones included).
pub fn tar_gz(entries: &[Entry]) -> Vec<u8> {
    gzip(&tar(entries))
}

/// Bytes compressed as one gzip member.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A `.tar.xz` built from entries.
pub fn tar_xz(entries: &[Entry]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = xz2::write::XzEncoder::new(Vec::new(), 9);
    encoder.write_all(&tar(entries)).unwrap();
    encoder.finish().unwrap()
}

/// An uncompressed tar built from entries; paths are written as given.
pub fn tar(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        let (path, data, kind, mode, link): (&[u8], &[u8], tar::EntryType, u32, Option<&str>) =
            match entry {
                Entry::File(p, d) => (p.as_bytes(), d, tar::EntryType::Regular, 0o644, None),
                Entry::Executable(p, d) => (p.as_bytes(), d, tar::EntryType::Regular, 0o755, None),
                Entry::Link(p, t) => (p.as_bytes(), b"", tar::EntryType::Symlink, 0o777, Some(t)),
                Entry::HardLink(p, t) => (p.as_bytes(), b"", tar::EntryType::Link, 0o644, Some(t)),
                Entry::CharDevice(p) => (p.as_bytes(), b"", tar::EntryType::Char, 0o644, None),
                Entry::Dir(p) => (p.as_bytes(), b"", tar::EntryType::Directory, 0o755, None),
                Entry::RawName(p, d) => (p, d, tar::EntryType::Regular, 0o644, None),
            };
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        // Write the name bytes directly: `set_path` would refuse `..` and absolute paths.
        let name = &mut header.as_old_mut().name;
        name[..path.len()].copy_from_slice(path);
        if let Some(target) = link {
            // Write the target bytes directly too: `set_link_name` refuses an empty one.
            let field = &mut header.as_old_mut().linkname;
            field[..target.len()].copy_from_slice(target.as_bytes());
        }
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().unwrap()
}

/// Lowercase hex sha256 of bytes.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// npm's `integrity` for bytes: `sha512-<base64>`.
pub fn npm_integrity(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest;
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))
    )
}

/// Serves `bytes` at `GET route` on the fake server.
pub async fn mount_file(server: &MockServer, route: &str, bytes: Vec<u8>) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes))
        .mount(server)
        .await;
}

impl Project {
    /// Makes the repository root a git repository with everything written so far committed
    /// on `main`, and sets a commit identity for deps-update's own commits.
    pub fn commit_all(&mut self, message: &str) -> String {
        let root = self.root();
        if !root.join(".git").exists() {
            git(&root, &["init", "-q", "-b", "main"]);
        }
        git(&root, &["add", "-A"]);
        git(&root, &["commit", "-q", "-m", message]);
        self.env("GIT_AUTHOR_NAME", "Dependency Bot")
            .env("GIT_AUTHOR_EMAIL", "bot@example.com")
            .env("GIT_COMMITTER_NAME", "Dependency Bot")
            .env("GIT_COMMITTER_EMAIL", "bot@example.com");
        git(&root, &["rev-parse", "HEAD"])
    }

    /// `git` in the repository root.
    pub fn git(&self, args: &[&str]) -> String {
        git(&self.root(), args)
    }

    /// The state a user would notice: HEAD, current branch, status, branches, stash.
    pub fn checkout_state(&self) -> String {
        [
            self.git(&["rev-parse", "HEAD"]),
            self.git(&["symbolic-ref", "-q", "HEAD"]),
            self.git(&["status", "--porcelain=v1", "--untracked-files=all"]),
            self.git(&["for-each-ref", "--format=%(refname) %(objectname)"]),
            self.git(&["diff", "--cached"]),
            self.git(&["diff"]),
        ]
        .join("\n---\n")
    }
}

/// Serves `GET /repos/{repo}/releases` with `(tag, [(asset name, download URL)])` releases.
pub async fn mount_releases_with_assets(
    server: &MockServer,
    repo: &str,
    releases: &[(&str, &[(&str, String)])],
) {
    let body: Vec<Value> = releases
        .iter()
        .map(|(tag, assets)| {
            let assets: Vec<Value> = assets
                .iter()
                .map(|(name, url)| json!({"name": name, "browser_download_url": url}))
                .collect();
            json!({"tag_name": tag, "draft": false, "prerelease": false, "assets": assets})
        })
        .collect();
    mount_json(
        server,
        &format!("/repos/{repo}/releases"),
        Value::Array(body),
    )
    .await;
}

/// An upstream git repository that releases by tagging, with a bare copy to fetch from.
pub struct Upstream {
    work: PathBuf,
    bare: PathBuf,
}

impl Upstream {
    pub fn new(project: &Project, name: &str) -> Self {
        let work = project.scratch(&format!("{name}-work"));
        let bare = project.scratch(&format!("{name}.git"));
        git(&work, &["init", "-q", "-b", "main"]);
        git(&bare, &["init", "-q", "--bare"]);
        Self { work, bare }
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.bare.display())
    }

    /// `git archive` of `tag` as an uncompressed tar under `prefix/`, as GitHub generates it
    /// (with the commit id in the pax global header).
    pub fn git_archive(&self, tag: &str, prefix: &str) -> Vec<u8> {
        let output = std::process::Command::new("git")
            .args([
                "archive",
                "--format=tar",
                &format!("--prefix={prefix}/"),
                tag,
            ])
            .current_dir(&self.work)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(output.status.success());
        output.stdout
    }

    /// `git rev-parse` in the work tree.
    pub fn rev_parse(&self, what: &str) -> String {
        git(&self.work, &["rev-parse", what])
    }

    /// Commits `files` and tags the commit `tag`.
    pub fn release(&self, tag: &str, files: &[(&str, &str)]) {
        for (path, text) in files {
            let path = self.work.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "-q", "-m", tag]);
        git(&self.work, &["tag", tag]);
        let bare = self.bare.to_str().unwrap();
        git(&self.work, &["push", "-q", bare, "main", "--tags"]);
    }
}

/// `git daemon` serving a folder on a free loopback port; stopped on drop.
pub struct GitDaemon {
    child: std::process::Child,
    pub port: u16,
}

impl GitDaemon {
    /// Serves `base`; with `receive`, pushes too (and the repositories' hooks run).
    pub fn serve(base: &Path, receive: bool) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // `git daemon` forks `git-daemon` and would leave it behind when killed: start the
        // daemon itself.
        let exec_path = git(Path::new("."), &["--exec-path"]);
        let child = std::process::Command::new(Path::new(&exec_path).join("git-daemon"))
            .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
            .args(receive.then_some("--enable=receive-pack"))
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start git daemon");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "git daemon did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Self { child, port }
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `git hash-object` of `text`: a file's git blob id.
pub fn blob_id(text: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .args(["hash-object", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned()
}
