//! `check` against local git repositories: tags, branch heads, quiet periods.

use std::path::{Path, PathBuf};

use crate::support::{GitDaemon, Project, git, git_at, now};

/// An upstream repository with one commit per `(tag, seconds-ago)`, then a bare clone of
/// it as the remote; returns the remote's `file://` URL and the commit ids, oldest first.
fn upstream(project: &Project, commits: &[(Option<&str>, i64)]) -> (String, Vec<String>) {
    let work = project.scratch("upstream-work");
    git(&work, &["init", "-q", "-b", "main"]);
    let mut ids = Vec::new();
    for (i, (tag, ago)) in commits.iter().enumerate() {
        std::fs::write(work.join("lib.c"), format!("int version = {i};\n")).unwrap();
        git(&work, &["add", "-A"]);
        let date = format!("@{} +0000", now() - ago);
        git_at(
            &work,
            &["commit", "-q", "-m", &format!("change {i}")],
            Some(&date),
        );
        if let Some(tag) = tag {
            git(&work, &["tag", tag]);
        }
        ids.push(git(&work, &["rev-parse", "HEAD"]));
    }
    let bare: PathBuf = project.scratch("upstream.git");
    git(
        Path::new("."),
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    (format!("file://{}", bare.display()), ids)
}

#[test]
fn reads_tags_of_any_git_remote() {
    let project = Project::new();
    let (url, _) = upstream(
        &project,
        &[
            (Some("v1.0.0"), 500),
            (Some("node-v0.5.0"), 400),
            (Some("v1.1.0"), 300),
            (Some("v1.2.0-rc1"), 200),
            (Some("junk"), 100),
        ],
    );
    project.manifest(&format!(
        "[deps.lib]\npath = \"deps/lib\"\nsource = \"git\"\nurl = \"{url}\"\nversion = \"1.0.0\"\ntag = \"v{{version}}\"\n"
    ));
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()[0]["latest"], "1.1.0");
    assert_eq!(run.json()[0]["tag"], "v1.1.0");
    assert_eq!(run.json()[0]["status"], "update-available");
}

#[test]
fn tracks_a_branch_head() {
    let project = Project::new();
    let (url, ids) = upstream(&project, &[(None, 100), (None, 50)]);
    let dep = |version: &str| {
        format!(
            "[deps.gtest]\npath = \"deps/gtest\"\nsource = \"git\"\nurl = \"{url}\"\nbranch = \"main\"\nversion = \"{version}\"\n"
        )
    };
    project.manifest(&dep(&ids[0][..7]));
    let run = project.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "NAME   CURRENT  LATEST        STATUS\ngtest  {}  {}  update available\n",
            &ids[0][..7],
            &ids[1][..12]
        )
    );
    project.manifest(&dep(&ids[1]));
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.json()[0]["status"], "up-to-date", "{run:?}");
    assert_eq!(run.json()[0]["latest"], ids[1].as_str());
}

#[test]
fn quiet_days_skip_a_head_that_is_too_young() {
    let project = Project::new();
    let day = 86_400;
    let (url, ids) = upstream(&project, &[(None, 10 * day), (None, 5 * day), (None, day)]);
    let manifest = |version: &str| {
        format!(
            "[deps.zlib]\npath = \"deps/zlib\"\nsource = \"git\"\nurl = \"{url}\"\nbranch = \"main\"\nquiet-days = 2\nversion = \"{version}\"\n"
        )
    };
    // The head is a day old: the newest commit at least two days old is proposed instead.
    project.manifest(&manifest(&ids[0]));
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let result = &run.json()[0];
    assert_eq!(result["status"], "update-available");
    assert_eq!(result["latest"], ids[1].as_str());
    let note = result["note"].as_str().unwrap();
    assert!(
        note.starts_with(&format!(
            "the branch head {} is younger than `quiet-days = 2`; waiting until 20",
            &ids[2][..12]
        )),
        "{note}"
    );
    // Already at that commit: nothing to do until the head settles.
    project.manifest(&manifest(&ids[1]));
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.json()[0]["status"], "up-to-date", "{run:?}");
    // The history was kept in the cache for the next run.
    assert!(
        project
            .cache()
            .join("deps-update/git")
            .read_dir()
            .unwrap()
            .next()
            .is_some()
    );
}

#[test]
fn a_missing_branch_lists_the_ones_that_exist() {
    let project = Project::new();
    let (url, _) = upstream(&project, &[(None, 100)]);
    project.manifest(&format!(
        "[deps.x]\npath = \"deps/x\"\nsource = \"git\"\nurl = \"{url}\"\nbranch = \"master\"\nversion = \"abcdef0\"\n"
    ));
    let run = project.run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "error: `x`: branch `master` does not exist at `{url}`; it has: `main`"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unreachable_remote_fails_that_dependency() {
    let project = Project::new();
    project.manifest(
        "[deps.gone]\npath = \"deps/gone\"\nsource = \"git\"\nurl = \"file:///nonexistent/repo.git\"\nversion = \"1.0\"\n",
    );
    let run = project.run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("error: `gone`: asking `file:///nonexistent/repo.git` for its refs failed\nCaused by:\n  could not list the refs of `file:///nonexistent/repo.git` after 1 attempt"),
        "{}",
        run.stderr
    );
}

#[test]
fn reads_a_git_daemon_on_loopback_and_its_branch_history() {
    let project = Project::new();
    let day = 86_400;
    let (file_url, ids) = upstream(
        &project,
        &[
            (Some("v2.0.0"), 9 * day),
            (Some("v2.1.0"), 4 * day),
            (None, 0),
        ],
    );
    let bare = PathBuf::from(file_url.strip_prefix("file://").unwrap());
    let daemon = GitDaemon::serve(bare.parent().unwrap(), false);
    let url = format!("git://127.0.0.1:{}/upstream.git", daemon.port);
    project.manifest(&format!(
        "[deps.tags]\npath = \"deps/tags\"\nsource = \"git\"\nurl = \"{url}\"\nversion = \"2.0.0\"\n\n\
         [deps.head]\npath = \"deps/head\"\nsource = \"git\"\nurl = \"{url}\"\nbranch = \"main\"\nquiet-days = 3\nversion = \"{}\"\n",
        &ids[0][..10]
    ));
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let results = run.json();
    assert_eq!(results[0]["latest"], "2.1.0");
    // Over the smart protocol the history is fetched shallow; the settled commit is the
    // one four days old.
    assert_eq!(results[1]["latest"], ids[1].as_str(), "{results}");
    assert_eq!(results[1]["status"], "update-available");
}

#[test]
fn plain_git_urls_off_loopback_are_refused() {
    let project = Project::new();
    project.manifest("[deps.x]\npath = \"deps/x\"\nsource = \"git\"\nurl = \"git://git.example.com/x.git\"\nversion = \"1.0\"\n");
    let run = project.run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("refusing plain-text `git://git.example.com/x.git`: only loopback addresses may use `http://` or `git://`"),
        "{}",
        run.stderr
    );
}
