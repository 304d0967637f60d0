//! Three-way updates: the project's own edits, added files and deletions in a vendored
//! folder survive upstream releases that change the lines around them, as `git subtree pull`
//! would merge them; a true conflict stops the dependency and names the lines.

use std::path::Path;

use crate::support::{Project, Upstream, git};

/// Twenty numbered lines, with `changes` (line number, new text) applied.
fn lines(changes: &[(usize, &str)]) -> String {
    (1..=20)
        .map(|n| {
            let text = changes
                .iter()
                .find(|(at, _)| *at == n)
                .map_or_else(|| format!("line {n}"), |(_, t)| (*t).to_owned());
            format!("{text}\n")
        })
        .collect()
}

/// What `git merge-file` makes of the three versions: the reference a three-way update must
/// equal.
fn git_merge_file(project: &Project, ours: &str, base: &str, theirs: &str) -> String {
    let dir = project.scratch("merge-file");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in [("ours", ours), ("base", base), ("theirs", theirs)] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let output = std::process::Command::new("git")
        .args(["merge-file", "-p", "ours", "base", "theirs"])
        .current_dir(&dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(output.status.success(), "git merge-file found a conflict");
    String::from_utf8(output.stdout).unwrap()
}

fn show(project: &Project, rev: &str, path: &str) -> String {
    let output = std::process::Command::new("git")
        .args(["show", &format!("{rev}:{path}")])
        .current_dir(project.root())
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

fn exists(project: &Project, rev: &str, path: &str) -> bool {
    std::process::Command::new("git")
        .args(["cat-file", "-e", &format!("{rev}:{path}")])
        .current_dir(project.root())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// A project vendoring `lib` 1.0.0 at `deps/lib` with two edits to `src/lib.c`, a build file
/// of its own (not in `keep`), a stray `.orig` file (`exclude`d) and upstream's `docs/old.txt`
/// deleted.
fn project_with_edits() -> (Project, Upstream) {
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "lib");
    upstream.release(
        "v1.0.0",
        &[
            ("src/lib.c", &lines(&[])),
            ("include/lib.h", "#define LIB_VERSION \"1.0.0\"\n"),
            ("docs/old.txt", "old\n"),
        ],
    );
    project
        .manifest(&format!(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.0.0\"\n\
             exclude = [\"**/*.orig\"]\n\
             version-file = {{ path = \"include/lib.h\", regex = 'LIB_VERSION \"([^\"]+)\"' }}\n",
            upstream.url()
        ))
        .write(
            "deps/lib/src/lib.c",
            &lines(&[
                (5, "line 5 /* project: renamed symbol */"),
                (15, "line 15 /* project: malloc hook */"),
            ]),
        )
        .write("deps/lib/include/lib.h", "#define LIB_VERSION \"1.0.0\"\n")
        .write("deps/lib/BUILD.gn", "source_set(\"lib\") {}\n")
        .write("deps/lib/src/lib.c.orig", "a leftover\n");
    project.commit_all("vendor lib 1.0.0 with the project's edits");
    (project, upstream)
}

#[test]
fn local_edits_and_files_survive_three_upstream_releases_as_git_merge_file_merges_them() {
    let (project, upstream) = project_with_edits();
    let ours_edits = [
        (5, "line 5 /* project: renamed symbol */"),
        (15, "line 15 /* project: malloc hook */"),
    ];
    let mut upstream_changes: Vec<(usize, &str)> = Vec::new();
    let releases: [(&str, &[(usize, &str)]); 3] = [
        ("1.1.0", &[(3, "line 3 (1.1.0)"), (17, "line 17 (1.1.0)")]),
        ("1.2.0", &[(7, "line 7 (1.2.0)"), (13, "line 13 (1.2.0)")]),
        ("1.3.0", &[(1, "line 1 (1.3.0)"), (20, "line 20 (1.3.0)")]),
    ];
    let mut previous = "1.0.0";
    for (version, changes) in releases {
        let base = lines(&upstream_changes);
        upstream_changes.extend_from_slice(changes);
        let theirs = lines(&upstream_changes);
        upstream.release(
            &format!("v{version}"),
            &[
                ("src/lib.c", &theirs),
                (
                    "include/lib.h",
                    &format!("#define LIB_VERSION \"{version}\"\n"),
                ),
                ("src/new.c", &format!("new in {version}\n")),
            ],
        );
        let ours = show(&project, "HEAD", "deps/lib/src/lib.c");
        let expected = git_merge_file(&project, &ours, &base, &theirs);

        let run = project.run(&["update", "lib"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout
                .contains(&format!("lib   {previous}  {version}  committed")),
            "{}",
            run.stdout
        );
        let merged = show(&project, "deps-update/lib", "deps/lib/src/lib.c");
        assert_eq!(merged, expected, "after {version}");
        for (_, edit) in ours_edits {
            assert!(merged.contains(edit), "{edit} lost in {version}: {merged}");
        }
        for (_, change) in &upstream_changes {
            assert!(merged.contains(change), "{change} missing in {version}");
        }
        assert_eq!(
            show(&project, "deps-update/lib", "deps/lib/BUILD.gn"),
            "source_set(\"lib\") {}\n"
        );
        assert!(exists(&project, "deps-update/lib", "deps/lib/src/new.c"));
        assert!(!exists(
            &project,
            "deps-update/lib",
            "deps/lib/docs/old.txt"
        ));
        assert!(!exists(
            &project,
            "deps-update/lib",
            "deps/lib/src/lib.c.orig"
        ));
        let message = project.git(&["log", "-1", "--format=%B", "deps-update/lib"]);
        assert!(
            message.contains(
                "Carried over: BUILD.gn (added by the project), docs/old.txt (deleted by the project), src/lib.c (edited by the project, merged with upstream's changes)"
            ),
            "{message}"
        );
        // The maintainers merge the update.
        project.git(&["merge", "-q", "--ff-only", "deps-update/lib"]);
        previous = version;
    }
}

#[test]
fn an_edit_upstream_also_changed_stops_the_update_and_names_the_lines() {
    let (project, upstream) = project_with_edits();
    upstream.release(
        "v1.1.0",
        &[
            ("src/lib.c", &lines(&[(15, "line 15 (upstream's own fix)")])),
            ("include/lib.h", "#define LIB_VERSION \"1.1.0\"\n"),
        ],
    );
    let before = project.checkout_state();
    let run = project.run(&["update", "lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: `lib`: the project's changes to lib conflict with upstream's in 1.1.0:\n  `src/lib.c`: both changed lines 15-21 (of the merged file)\n"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: nothing of `lib` was committed; to finish by hand, resolve the markers in that folder"),
        "{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before);
    // The merged folder is outside the repository, markers where the lines meet, the rest
    // merged: what finishing by hand starts from.
    let folder = run
        .stderr
        .split("the merged folder, with conflict markers, is in `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("the folder is named");
    let folder = Path::new(folder);
    assert!(!folder.starts_with(project.root()));
    let marked = std::fs::read_to_string(folder.join("src/lib.c")).unwrap();
    let lines: Vec<&str> = marked.lines().collect();
    assert!(
        lines[14].starts_with("<<<<<<< lib as committed"),
        "{marked}"
    );
    assert!(lines[20].starts_with(">>>>>>> lib 1.1.0"), "{marked}");
    assert!(marked.contains("line 5 /* project: renamed symbol */"));
    assert_eq!(
        std::fs::read_to_string(folder.join("BUILD.gn")).unwrap(),
        "source_set(\"lib\") {}\n"
    );
    std::fs::remove_dir_all(folder).unwrap();
}

#[test]
fn without_the_vendored_version_upstream_the_update_says_so_and_replaces_the_folder() {
    let (project, upstream) = project_with_edits();
    upstream.release(
        "v1.1.0",
        &[
            ("src/lib.c", &lines(&[(3, "line 3 (1.1.0)")])),
            ("include/lib.h", "#define LIB_VERSION \"1.1.0\"\n"),
        ],
    );
    // Upstream deleted the vendored version's tag.
    let bare = upstream.url().trim_start_matches("file://").to_owned();
    git(Path::new(&bare), &["tag", "-d", "v1.0.0"]);

    let run = project.run(&["update", "lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "warning: `lib`: no three-way update (upstream no longer offers the vendored version 1.0.0): the folder is replaced by the new version, and only `keep` protects the project's own files and edits"
        ),
        "{}",
        run.stderr
    );
    assert!(!exists(&project, "deps-update/lib", "deps/lib/BUILD.gn"));
    assert_eq!(
        show(&project, "deps-update/lib", "deps/lib/src/lib.c"),
        lines(&[(3, "line 3 (1.1.0)")])
    );
}

/// A change next to the project's edit that diff3 implementations other than git's call a
/// conflict (found replaying hiredis updates of a real project): git merges it, and so must
/// an update.
#[test]
fn a_merge_git_makes_cleanly_is_clean() {
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "x");
    let base = "void f(void) {\n    if (c == NULL)\n        return;\n    redisNetClose(c);\n\n    sdsfree(c->obuf);\n    free(c);\n}\n";
    let ours = base.replace("    sdsfree", "    hi_sdsfree");
    let theirs = "void f(void) {\n    if (c == NULL)\n        return;\n\n    if (c->funcs && c->funcs->close) {\n        c->funcs->close(c);\n    }\n\n    sdsfree(c->obuf);\n    free(c);\n}\n";
    upstream.release("v1.0.0", &[("x.c", base)]);
    upstream.release("v1.1.0", &[("x.c", theirs)]);
    project
        .manifest(&format!(
            "[deps.x]\npath = \"vendor/x\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.0.0\"\n",
            upstream.url()
        ))
        .write("vendor/x/x.c", &ours);
    project.commit_all("vendor x with a rename");
    let expected = git_merge_file(&project, &ours, base, theirs);
    let run = project.run(&["update", "x"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(show(&project, "deps-update/x", "vendor/x/x.c"), expected);
    assert!(expected.contains("hi_sdsfree") && expected.contains("c->funcs->close(c);"));
}
