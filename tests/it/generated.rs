//! Generated files: `verify` runs the `after` steps as an update does before it compares,
//! and `patch` never saves what the steps generate.

use crate::support::{Project, Upstream};

/// A library whose `after` step amalgamates its sources, vendored at 1.0.0 with the
/// amalgamation committed, as the step made it.
fn amalgamated() -> (Project, Upstream) {
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "amalg");
    upstream.release(
        "v1.0.0",
        &[("src/a.c", "int a;\n"), ("src/b.c", "int b;\n")],
    );
    project
        .manifest(&format!(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.0.0\"\n\
             patches = \"deps/patches/lib\"\n\
             after = [\"cd \\\"$DEPS_UPDATE_PATH\\\" && cat src/a.c src/b.c > lib.c\"]\n",
            upstream.url()
        ))
        .write("deps/lib/src/a.c", "int a;\n")
        .write("deps/lib/src/b.c", "int b;\n")
        .write("deps/lib/lib.c", "int a;\nint b;\n")
        .write("deps/patches/lib/README", "patches\n");
    project.commit_all("vendor lib 1.0.0");
    (project, upstream)
}

#[test]
fn verify_runs_the_after_steps_before_it_compares() {
    let (project, _upstream) = amalgamated();
    let run = project.run(&["verify", "lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("lib: 1.0.0 matches "), "{}", run.stdout);
    assert!(!run.stdout.contains("lib.c"), "{}", run.stdout);

    // A hand edit to the generated file is drift all the same.
    project.write("deps/lib/lib.c", "int a;\nint b;\nint hand_made;\n");
    let run = project.run(&["verify", "lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("deps/lib/lib.c"), "{}", run.stdout);
}

#[test]
fn patch_leaves_generated_files_out_and_says_so() {
    let (project, _upstream) = amalgamated();
    project
        .write("deps/lib/src/a.c", "int a = 1;\n")
        .write("deps/lib/lib.c", "int a = 1;\nint b;\n");
    let run = project.run(&["patch", "lib", "--file-name", "init-a"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "`lib`: left `deps/lib/lib.c` out of the patch: the `after` steps generate it"
        ),
        "{}",
        run.stderr
    );
    let patch =
        std::fs::read_to_string(project.root().join("deps/patches/lib/0001-init-a.patch")).unwrap();
    assert!(patch.contains("+int a = 1;"), "{patch}");
    assert!(!patch.contains("lib.c\n"), "{patch}");
}

#[test]
fn rebuild_says_whether_the_steps_make_the_same_bytes_twice() {
    let (project, _upstream) = amalgamated();
    let run = project.run(&["verify", "lib", "--rebuild"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("lib: the `after` steps are reproducible (two runs, the same bytes)"),
        "{}",
        run.stdout
    );

    // A step that stamps the time is not.
    let registry = std::fs::read_to_string(project.root().join("deps.toml"))
        .unwrap()
        .replace(
            "cat src/a.c src/b.c > lib.c",
            "cat src/a.c src/b.c > lib.c && date +%s%N > stamp.txt",
        );
    project.write("deps.toml", &registry);
    let run = project.run(&["verify", "lib", "--rebuild", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let doc = run.json();
    assert_eq!(doc["dependencies"][0]["reproducible"], false);
    assert_eq!(
        doc["dependencies"][0]["unreproducible"],
        serde_json::json!(["stamp.txt"])
    );
}
