//! The first minutes with the tool: an offline run that names the cause once, a table that
//! shows whole versions, typos answered with what was meant, counts in the right number.

use wiremock::MockServer;

use crate::support::{Project, github_dep, mount_releases};

/// Three dependencies on GitHub and npm, all pointed at a closed port (the test default).
fn offline_project() -> Project {
    let project = Project::new();
    project.manifest(
        &[
            github_dep("alpha", "github-release", "o/alpha", "1.0.0", ""),
            github_dep("beta", "github-tag", "o/beta", "2.0.0", ""),
            "[deps.gamma]\npath = \"deps/gamma\"\nsource = \"npm\"\npackage = \"gamma\"\nversion = \"3.0.0\"\n".into(),
        ]
        .join("\n"),
    );
    project
}

#[test]
fn an_offline_check_says_so_once() {
    let project = offline_project();
    let run = project.run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: cannot reach `127.0.0.1:9` (3 dependencies: alpha, beta, gamma): you appear to be offline, or `127.0.0.1:9` is down\nCaused by:\n  the connection to `127.0.0.1:9` was refused\nhint: "
        ),
        "{}",
        run.stderr
    );
    // One summary, not three chains.
    assert_eq!(run.stderr.matches("error:").count(), 1, "{}", run.stderr);
    assert!(!run.stderr.contains("tcp connect error"), "{}", run.stderr);
    assert!(!run.stderr.contains("may be down"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("checked 3 dependencies: 0 with updates, 3 failed")
    );
    // The vendored version is known even though upstream could not be asked.
    assert!(
        run.stdout
            .contains("alpha  1.0.0    -       error (see below)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("gamma  3.0.0    -       error (see below)"),
        "{}",
        run.stdout
    );
    // The progress count is for terminals only: nothing of it in captured output.
    assert!(
        !run.stderr.contains('\r') && !run.stderr.contains("checking"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.lines().count() <= 6, "{}", run.stderr);
}

#[test]
fn unreachable_git_remotes_are_grouped_with_the_apis() {
    let project = Project::new();
    let git = |name: &str, url: &str| {
        format!(
            "[deps.{name}]\npath = \"deps/{name}\"\nsource = \"git\"\nurl = \"{url}\"\nversion = \"1.0.0\"\n"
        )
    };
    project.manifest(
        &[
            github_dep("alpha", "github-release", "o/alpha", "1.0.0", ""),
            git("delta", "http://127.0.0.1:9/delta.git"),
            git("epsilon", "https://127.0.0.1:9/epsilon.git"),
        ]
        .join("\n"),
    );
    let run = project.run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: cannot reach `127.0.0.1:9` (3 dependencies: alpha, delta, epsilon): you appear to be offline"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.matches("error:").count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("the remotes' `url`s"), "{}", run.stderr);
}

#[test]
fn one_unreachable_dependency_is_shown_in_full() {
    let project = offline_project();
    let run = project.run(&["check", "alpha"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("error: `alpha`: asking `o/alpha` for its versions failed")
    );
    assert!(run.stderr.contains("Connection refused"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("you appear to be offline"),
        "{}",
        run.stderr
    );
    // One dependency, in the singular.
    assert!(
        run.stderr
            .contains("checked 1 dependency: 0 with updates, 1 failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_offline_check_in_json_names_each_failure() {
    let project = offline_project();
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 1);
    let entries = run.json();
    let failure = &entries[1]["failure"];
    assert_eq!(failure["dependency"], "beta");
    assert_eq!(failure["kind"], "unreachable");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("could not reach")
    );
    assert!(failure["hint"].is_string());
    assert_eq!(entries[1]["current"], "2.0.0");
}

#[test]
fn an_offline_run_shows_progress_on_a_terminal() {
    // `script` gives the binary a terminal; its output is what a user would see.
    let project = offline_project();
    let inner = project.command(&["check"]);
    let mut words = vec![inner.get_program().to_string_lossy().into_owned()];
    words.extend(inner.get_args().map(|a| a.to_string_lossy().into_owned()));
    let mut command = std::process::Command::new("script");
    command
        .args(["-qec", &words.join(" "), "/dev/null"])
        .current_dir(project.root())
        .env_clear();
    for (name, value) in inner.get_envs() {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    let Ok(output) = command.output() else {
        eprintln!("no `script` here: the terminal case is not exercised");
        return;
    };
    let seen = String::from_utf8_lossy(&output.stdout);
    assert!(seen.contains("checking 0/3…"), "{seen}");
    assert!(seen.contains("checking 3/3…"), "{seen}");
    assert!(
        seen.contains("cannot reach `127.0.0.1:9` (3 dependencies"),
        "{seen}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_table_shows_whole_versions() {
    let server = MockServer::start().await;
    mount_releases(
        &server,
        "o/alpha",
        &[
            ("v1.0.0-alpha.6", false, true),
            ("v1.0.0-alpha.5", false, true),
        ],
    )
    .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.manifest(&github_dep(
        "alpha",
        "github-release",
        "o/alpha",
        "1.0.0-alpha.5",
        "prerelease = true",
    ));
    let run = project.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("alpha  1.0.0-alpha.5  1.0.0-alpha.6  update available"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_mistyped_command_is_answered_with_what_was_meant() {
    let project = offline_project();
    let run = project.run(&["chekc"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        "error: `chekc` is neither a command nor a dependency in the registry\nhint: did you mean `check`?\n"
    );
    // A mistyped dependency, in the short form and in a command.
    let run = project.run(&["gamam"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("hint: did you mean `gamma`?"),
        "{}",
        run.stderr
    );
    let run = project.run(&["validate", "alpah"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("no dependency named `alpah` in the registry\nhint: did you mean `alpha`?"),
        "{}",
        run.stderr
    );
    // Neither near a command nor a dependency: where to look.
    let run = project.run(&["zzzzzz"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("`deps-update --help` lists the commands"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_mistyped_command_outside_a_registry_is_still_recognised() {
    let project = Project::new();
    let run = project.run(&["updaet", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: `updaet` is not a command\nhint: did you mean `update`?"),
        "{}",
        run.stderr
    );
    // A dependency name far from every command: the missing registry is the news.
    let run = project.run(&["nghttp2"]);
    assert!(run.stderr.contains("no `deps.toml`"), "{}", run.stderr);
}

#[test]
fn an_unknown_key_suggests_the_nearest() {
    let project = Project::new();
    project.manifest(&github_dep(
        "alpha",
        "github-release",
        "o/alpha",
        "1.0.0",
        "sha265 = \"00\"",
    ));
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("dependency `alpha`: `sha265`: unknown key `sha265`; did you mean `sha256`?"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("expected one of"), "{}", run.stderr);
}

#[test]
fn a_duplicate_table_is_reported_under_its_own_name() {
    let project = Project::new();
    project.manifest(
        &[
            github_dep("alpha", "github-release", "o/alpha", "1.0.0", ""),
            github_dep("beta", "github-release", "o/beta", "1.0.0", ""),
            "[deps.alpha]\npath = \"x\"\n".into(),
        ]
        .join("\n"),
    );
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("dependency `alpha`: this table appears twice"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("`beta`"), "{}", run.stderr);
}

#[test]
fn update_says_what_to_do_next() {
    use crate::support::Upstream;
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "lib");
    upstream.release("v1.0.0", &[("lib.c", "1\n")]);
    upstream.release("v2.0.0-beta.10", &[("lib.c", "2\n")]);
    project
        .manifest(&format!(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.0.0\"\nprerelease = true\n",
            upstream.url()
        ))
        .write("deps/lib/lib.c", "1\n");
    project.commit_all("initial");
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    // Versions whole in the table, and the next step.
    assert!(
        run.stdout.contains("lib   1.0.0  2.0.0-beta.10  committed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(
            "next: review the branch (`deps-update/lib`, e.g. `git log -p deps-update/lib`), then publish with `deps-update update lib --push`, or `--pr` to also open a pull request"
        ),
        "{}",
        run.stderr
    );
    // Nothing committed (already on the branch): no next step to suggest.
    let run = project.run(&["update", "lib", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("next:"), "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["dependencies"][0]["result"], "unchanged");
    assert_eq!(doc["dependencies"][0]["to"], "2.0.0-beta.10");
    assert_eq!(doc["dependencies"][0]["branch"], "deps-update/lib");
    assert_eq!(
        doc["dependencies"][0]["commit"].as_str().map(str::len),
        Some(40)
    );
}

#[test]
fn a_repository_without_commits_is_told_to_commit() {
    let project = offline_project();
    crate::support::git(&project.root(), &["init", "-q", "-b", "main"]);
    let run = project.run(&["update", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("hint: the repository has no commits yet: commit `deps.toml`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("settings.base"), "{}", run.stderr);
}

#[test]
fn a_cache_that_cannot_be_made_is_not_told_to_be_deleted() {
    use crate::support::Upstream;
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "lib");
    upstream.release("v1.0.0", &[("lib.c", "1\n")]);
    upstream.release("v2.0.0", &[("lib.c", "2\n")]);
    project.manifest(&format!(
        "[deps.lib]\npath = \"deps/lib\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.0.0\"\n",
        upstream.url()
    ));
    project.write("deps/lib/lib.c", "1\n");
    project.commit_all("initial");
    // A file where the cache folder's parent should be: nothing can be created there.
    let cache = project.root().join("deps.toml").join("cache");
    let run = project.run(&["--cache-dir", cache.to_str().unwrap(), "lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("cannot be created"), "{}", run.stderr);
    assert!(!run.stderr.contains("hint: delete"), "{}", run.stderr);
}
