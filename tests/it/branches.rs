//! The update branch is built from one place (the base commit: its registry, its version
//! files, its patches), and never moved over a commit a person made, locally or by a branch
//! template that names someone else's branch; registry paths never reach git's or CI's files.

use crate::support::{Project, Upstream};

/// A project vendoring `lib` 1.0.0 from a local upstream that has released 2.0.0.
fn project_with(settings: &str) -> (Project, Upstream) {
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "lib");
    upstream.release("v1.0.0", &[("lib.c", "int v = 1;\n"), ("LICENSE", "MIT\n")]);
    upstream.release("v2.0.0", &[("lib.c", "int v = 2;\n")]);
    project
        .manifest(&format!(
            "{settings}[deps.lib]\npath = \"deps/lib\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.0.0\"\n",
            upstream.url()
        ))
        .write("deps/lib/lib.c", "int v = 1;\n")
        .write("deps/lib/LICENSE", "MIT\n");
    project.commit_all("initial");
    (project, upstream)
}

#[test]
fn the_update_takes_its_rules_from_the_commit_it_builds_on() {
    let (project, _upstream) = project_with("");
    let committed = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    // An edit not committed yet: it must not shape a branch whose registry does not say it.
    project.write(
        "deps.toml",
        &format!("{committed}exclude = [\"LICENSE\"]\n"),
    );
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    let base = project.git(&["rev-parse", "--short=10", "HEAD"]);
    assert!(
        run.stderr.contains(&format!(
            "warning: `deps.toml` in the working copy differs from the one committed on HEAD at {base}: the update is built from the committed one"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("building on HEAD at {base}\n")),
        "{}",
        run.stderr
    );
    assert_eq!(
        project.git(&["show", "deps-update/lib:deps/lib/LICENSE"]),
        "MIT",
        "the committed rules keep LICENSE"
    );
    let registry = project.git(&["show", "deps-update/lib:deps.toml"]);
    assert!(!registry.contains("exclude"), "{registry}");
    assert!(registry.contains("version = \"2.0.0\""), "{registry}");
    // The working copy is left as it was.
    assert!(
        std::fs::read_to_string(project.root().join("deps.toml"))
            .unwrap()
            .contains("exclude")
    );
}

#[test]
fn a_local_fix_up_on_the_update_branch_is_never_replaced() {
    let (project, upstream) = project_with("");
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    project.git(&["checkout", "-q", "deps-update/lib"]);
    project.write("deps/lib/lib.c", "int v = 2; /* fixed by hand */\n");
    project.git(&["commit", "-q", "-am", "fix up the update"]);
    project.git(&["checkout", "-q", "main"]);
    let fixup = project.git(&["rev-parse", "deps-update/lib"]);
    upstream.release("v3.0.0", &[("lib.c", "int v = 3;\n")]);
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "the local branch `deps-update/lib` has a commit deps-update did not make ({fixup}); it is never moved over"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("git branch -D deps-update/lib"),
        "{}",
        run.stderr
    );
    assert_eq!(project.git(&["rev-parse", "deps-update/lib"]), fixup);
}

#[test]
fn a_branch_template_never_takes_over_a_branch_deps_update_did_not_create() {
    // A bare `{name}` is refused outright.
    let project = Project::new();
    project.manifest(
        "[settings]\nbranch = \"{name}\"\n\n[deps.lib]\npath = \"deps/lib\"\nsource = \"npm\"\npackage = \"lib\"\nversion = \"1.0.0\"\n",
    );
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("`branch`: a bare `{name}` names branches such as `main` or `release`"),
        "{}",
        run.stderr
    );
    // A template that happens to name a person's branch finds it and leaves it alone.
    let (project, _upstream) = project_with("[settings]\nbranch = \"release-{name}\"\n\n");
    project.git(&["branch", "release-lib"]);
    let theirs = project.git(&["rev-parse", "release-lib"]);
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("the local branch `release-lib` has a commit deps-update did not make"),
        "{}",
        run.stderr
    );
    assert_eq!(project.git(&["rev-parse", "release-lib"]), theirs);
}

#[test]
fn registry_paths_never_reach_git_or_ci_files() {
    for (path, expected) in [
        (
            ".github/workflows/ci.yml",
            "`.github/workflows/ci.yml` is where a forge or git reads its own configuration",
        ),
        (
            "deps/.git/hooks/post-checkout",
            "is inside git's own folder `.git`",
        ),
        (".", "the repository itself cannot be a vendored folder"),
    ] {
        let project = Project::new();
        project.manifest(&format!(
            "[deps.x]\npath = \"{path}\"\nsource = \"github-tag\"\nrepo = \"a/b\"\nversion = \"1.0.0\"\n\
             format = \"file\"\narchive = \"https://example.com/{{version}}.yml\"\n"
        ));
        let run = project.run(&["validate"]);
        assert_eq!(run.code, 2, "{path}: {run:?}");
        assert!(run.stderr.contains(expected), "{path}: {}", run.stderr);
    }
}

#[test]
fn after_steps_change_only_the_dependency_and_what_it_declares() {
    let step = |extra: &str| {
        format!(
            "after = [\"mkdir -p out src {extra} && echo log > out/build.log && echo 2 > src/lib_version.h\"]\n"
        )
    };
    let (project, _upstream) = project_with("");
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    project.write(".gitignore", "out/\n").write(
        "deps.toml",
        &format!(
            "{registry}{}",
            step("&& mkdir -p .github/workflows && echo 'on: push' > .github/workflows/ci.yml")
        ),
    );
    project.git(&["add", "-A"]);
    project.git(&["commit", "-q", "-m", "a step that writes a workflow"]);
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "the `after` steps changed files outside `deps/lib` and the registry: `.github/workflows/ci.yml`, `src/lib_version.h`"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("list them in `after-writes`"),
        "{}",
        run.stderr
    );
    assert!(
        project
            .git(&["branch", "--list", "deps-update/*"])
            .is_empty()
    );

    // Declared, the version header is committed; ignored build output never is.
    project.write(
        "deps.toml",
        &format!(
            "{registry}{}after-writes = [\"src/lib_version.h\"]\n",
            step("")
        ),
    );
    project.git(&["commit", "-q", "-am", "declare what the step writes"]);
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    let files = project.git(&["ls-tree", "-r", "--name-only", "deps-update/lib"]);
    assert!(files.contains("src/lib_version.h"), "{files}");
    assert!(!files.contains("out/"), "{files}");
}
