//! The patch queue end to end: a libuv-like dependency carrying a security fix across
//! upstream versions, patches already upstream, conflicts, `verify`, and `deps-update patch`.

use crate::support::{Project, Upstream};

/// libuv's `core.c` at some version: `above` lines before the copy routine, `tail` after.
fn core_c(above: &[&str], fixed: bool, tail: &str) -> String {
    let mut text = String::from("/* core.c */\n#include \"uv.h\"\n");
    for line in above {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str("int uv__copy(char* dst, const char* src, size_t len, size_t max) {\n");
    if fixed {
        text.push_str("  if (len > max) return UV_EINVAL;\n");
    }
    text.push_str("  memcpy(dst, src, len);\n  return 0;\n}\n\n");
    text.push_str(tail);
    text
}

/// The security fix, as `git format-patch` writes it, against 1.0.0's `core.c`.
const FIX: &str = "From 8d3e5c7 Mon Sep 17 00:00:00 2001\nFrom: Node Security <security@example.com>\n\
Subject: [PATCH] deps: uv: check the length before copying\n\n---\n src/core.c | 1 +\n\n\
diff --git a/src/core.c b/src/core.c\nindex 3b18e51..a5c1966 100644\n--- a/src/core.c\n+++ b/src/core.c\n\
@@ -3,5 +3,6 @@\n int uv__copy(char* dst, const char* src, size_t len, size_t max) {\n\
+  if (len > max) return UV_EINVAL;\n   memcpy(dst, src, len);\n   return 0;\n }\n \n-- \n2.43.0\n";

/// A repository vendoring uv 1.0.0 with the fix applied and queued, at `deps/uv`.
fn libuv_project(extra: &str) -> (Project, Upstream) {
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "libuv");
    let v1 = core_c(&[], false, "int uv_run(void) { return 0; }\n");
    upstream.release("v1.0.0", &[("src/core.c", &v1), ("LICENSE", "MIT\n")]);
    project
        .manifest(&format!(
            "[deps.uv]\npath = \"deps/uv\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.0.0\"\n\
             patches = \"deps/patches/uv\"\n{extra}",
            upstream.url()
        ))
        .write(
            "deps/uv/src/core.c",
            &core_c(&[], true, "int uv_run(void) { return 0; }\n"),
        )
        .write("deps/uv/LICENSE", "MIT\n")
        .write("deps/patches/uv/0001-check-length.patch", FIX);
    project.commit_all("vendor uv 1.0.0 with the fix");
    (project, upstream)
}

fn branch_file(project: &Project, branch: &str, path: &str) -> String {
    project.git(&["show", &format!("{branch}:{path}")])
}

#[test]
fn a_security_patch_survives_two_upstream_updates_until_upstream_has_it() {
    let (project, upstream) = libuv_project("");
    let verify = project.run(&["verify", "uv"]);
    assert_eq!(verify.code, 0, "{verify:?}");
    assert!(
        verify.stdout.contains("uv: 1.0.0 matches ")
            && verify.stdout.contains(" with 1 queued patch "),
        "{verify:?}"
    );

    // 1.1.0 moves the routine down and changes other code: the patch applies at an offset.
    let moved = [
        "#include \"internal.h\"",
        "static int loops;",
        "",
        "/* copying */",
    ];
    upstream.release(
        "v1.1.0",
        &[(
            "src/core.c",
            &core_c(&moved, false, "int uv_run(void) { return loops; }\n"),
        )],
    );
    let run = project.run(&["update", "uv"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("`uv`: patch `deps/patches/uv/0001-check-length.patch` applied"),
        "{run:?}"
    );
    assert_eq!(
        branch_file(&project, "deps-update/uv", "deps/uv/src/core.c"),
        core_c(&moved, true, "int uv_run(void) { return loops; }\n").trim_end()
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/uv"]);
    assert!(
        message.contains("Patch applied: deps/patches/uv/0001-check-length.patch"),
        "{message}"
    );
    // The queue itself is the project's: the update leaves it in place.
    assert_eq!(
        branch_file(
            &project,
            "deps-update/uv",
            "deps/patches/uv/0001-check-length.patch"
        ),
        FIX.trim_end()
    );

    // The pull request merges; 1.2.0 comes; the fix is carried again.
    project.git(&["merge", "-q", "--ff-only", "deps-update/uv"]);
    let more = [
        "#include \"internal.h\"",
        "#include \"queue.h\"",
        "static int loops;",
        "static int depth;",
        "",
        "/* copying */",
    ];
    upstream.release(
        "v1.2.0",
        &[(
            "src/core.c",
            &core_c(&more, false, "int uv_run(void) { return loops + depth; }\n"),
        )],
    );
    let run = project.run(&["update", "uv"]);
    assert_eq!(run.code, 0, "{run:?}");
    let vendored = branch_file(&project, "deps-update/uv", "deps/uv/src/core.c");
    assert!(vendored.contains("static int depth;"), "{vendored}");
    assert!(
        vendored.contains("  if (len > max) return UV_EINVAL;\n  memcpy"),
        "{vendored}"
    );
    assert!(branch_file(&project, "deps-update/uv", "deps.toml").contains("version = \"1.2.0\""));

    // 1.3.0 ships the fix itself: the update goes ahead and says the patch can go.
    project.git(&["merge", "-q", "--ff-only", "deps-update/uv"]);
    upstream.release(
        "v1.3.0",
        &[(
            "src/core.c",
            &core_c(&more, true, "int uv_run(void) { return 1; }\n"),
        )],
    );
    let run = project.run(&["update", "uv"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "`uv`: patch `deps/patches/uv/0001-check-length.patch` is already upstream: it can be deleted"
        ),
        "{run:?}"
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/uv"]);
    assert!(
        message.contains(
            "Patch already upstream (can be deleted): deps/patches/uv/0001-check-length.patch"
        ),
        "{message}"
    );
    assert_eq!(
        branch_file(&project, "deps-update/uv", "deps/uv/src/core.c"),
        core_c(&more, true, "int uv_run(void) { return 1; }\n").trim_end()
    );
}

#[test]
fn a_conflicting_patch_stops_only_its_dependency() {
    let other = "\n[deps.other]\npath = \"deps/other\"\nsource = \"git\"\nurl = \"OTHER\"\nversion = \"1.0.0\"\n";
    let (mut project, upstream) = libuv_project(other);
    let second = Upstream::new(&project, "other");
    second.release("v1.0.0", &[("a.c", "one\n")]);
    second.release("v2.0.0", &[("a.c", "two\n")]);
    let registry = std::fs::read_to_string(project.root().join("deps.toml"))
        .unwrap()
        .replace("OTHER", &second.url());
    project
        .write("deps.toml", &registry)
        .write("deps/other/a.c", "one\n");
    project.commit_all("vendor other");
    // Upstream rewrote the routine: the fix no longer fits.
    let rewritten =
        core_c(&[], false, "").replace("  memcpy(dst, src, len);\n", "  memmove(dst, src, len);\n");
    upstream.release("v1.1.0", &[("src/core.c", &rewritten)]);
    let before = project.checkout_state();

    let run = project.run(&["update", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
    // Not exactly, and not three-way either: the fix's line meets upstream's changed line.
    assert!(
        run.stderr.contains(
            "`uv`: patch `deps/patches/uv/0001-check-length.patch` does not apply exactly to 1.1.0: merging the queue three-way"
        ),
        "{run:?}"
    );
    assert!(
        run.stderr.contains(
            "error: `uv`: the project's changes to uv conflict with upstream's in 1.1.0:\n  `src/core.c`: both changed lines 4-11 (of the merged file)\n"
        ),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("nothing of `uv` was committed"),
        "{run:?}"
    );
    assert!(
        project
            .git(&["branch", "--list", "deps-update/uv"])
            .is_empty()
    );
    assert_eq!(
        branch_file(&project, "deps-update/other", "deps/other/a.c"),
        "two"
    );
    // Apart from the other dependency's new branch, the repository is as it was.
    let after = project.checkout_state();
    let without_other: Vec<&str> = after
        .lines()
        .filter(|l| !l.starts_with("refs/heads/deps-update/other "))
        .collect();
    assert_eq!(without_other.join("\n"), before.trim_end());
}

#[test]
fn a_patch_whose_context_changed_is_merged_three_way() {
    let (project, upstream) = libuv_project("");
    // Upstream changed a line of the fix's context, not the lines the fix touches.
    let changed = core_c(&[], false, "int uv_run(void) { return 0; }\n").replace(
        "  return 0;\n}\n\nint uv_run",
        "  return (int)len;\n}\n\nint uv_run",
    );
    upstream.release("v1.1.0", &[("src/core.c", &changed)]);

    let run = project.run(&["update", "uv"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "`uv`: patch `deps/patches/uv/0001-check-length.patch` does not apply exactly to 1.1.0: merging the queue three-way (refresh it with `deps-update patch` after the update)"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        branch_file(&project, "deps-update/uv", "deps/uv/src/core.c"),
        core_c(&[], true, "int uv_run(void) { return 0; }\n")
            .replace(
                "  return 0;\n}\n\nint uv_run",
                "  return (int)len;\n}\n\nint uv_run"
            )
            .trim_end()
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/uv"]);
    assert!(
        message.contains("Patch merged three-way: deps/patches/uv/0001-check-length.patch"),
        "{message}"
    );
}

#[test]
fn verify_explains_queued_patches_and_patch_saves_the_rest() {
    let (mut project, upstream) = libuv_project("");
    // A maintainer's hand fix, not yet in the queue.
    let edited = core_c(&[], true, "int uv_run(void) { return 0; }\n").replace(
        "  return 0;\n}\n\nint uv_run",
        "  return 1;\n}\n\nint uv_run",
    );
    project.write("deps/uv/src/core.c", &edited);
    let verify = project.run(&["verify", "uv"]);
    assert_eq!(verify.code, 1, "{verify:?}");
    assert!(
        verify.stdout.contains(
            "with 1 queued patch in 1 file:\n  deps/uv/src/core.c: modified locally (+1 -1 lines)\n"
        ),
        "{verify:?}"
    );
    assert!(
        verify.stderr.contains("`deps-update patch NAME`"),
        "{verify:?}"
    );

    let saved = project.run(&["patch", "uv", "--file-name", "return-one"]);
    assert_eq!(saved.code, 0, "{saved:?}");
    assert_eq!(
        saved.stdout,
        "uv: wrote deps/patches/uv/0002-return-one.patch (1 file); the next update applies it to the new version\n"
    );
    let written =
        std::fs::read_to_string(project.root().join("deps/patches/uv/0002-return-one.patch"))
            .unwrap();
    assert!(
        written.starts_with("Local changes to uv 1.0.0 in deps/uv, saved by `deps-update patch uv`.\n\ndiff --git a/src/core.c b/src/core.c\n--- a/src/core.c\n+++ b/src/core.c\n@@ "),
        "{written}"
    );
    let verify = project.run(&["verify", "uv"]);
    assert_eq!(verify.code, 0, "{verify:?}");
    assert!(
        verify.stdout.contains(" with 2 queued patches "),
        "{verify:?}"
    );
    let again = project.run(&["patch", "uv"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("nothing written"), "{again:?}");

    project.commit_all("save the hand fix as a patch");
    upstream.release(
        "v1.1.0",
        &[(
            "src/core.c",
            &core_c(&["/* new */"], false, "int uv_run(void) { return 0; }\n"),
        )],
    );
    let run = project.run(&["update", "uv"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("patch `deps/patches/uv/0002-return-one.patch` applied"),
        "{run:?}"
    );
    let vendored = branch_file(&project, "deps-update/uv", "deps/uv/src/core.c");
    assert!(
        vendored.contains("/* new */")
            && vendored.contains("UV_EINVAL")
            && vendored.contains("  return 1;\n}"),
        "{vendored}"
    );
}

#[test]
fn patch_needs_a_queue_and_uncommitted_patches_are_not_applied() {
    let (mut project, upstream) = libuv_project("");
    let registry = std::fs::read_to_string(project.root().join("deps.toml"))
        .unwrap()
        .replace("patches = \"deps/patches/uv\"\n", "");
    project.write("deps.toml", &registry);
    project.commit_all("no queue");
    let run = project.run(&["patch", "uv"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: `uv`: `uv` has no patch queue\nhint: add `patches = \"deps/patches/uv\"`"
        ),
        "{run:?}"
    );

    // A queue the committed registry names, whose patch is not committed on the base.
    project.write(
        "deps.toml",
        &format!("{registry}patches = [\"deps/patches/uv/0002-new.patch\"]\n"),
    );
    project.git(&["commit", "-q", "-am", "name a patch, forget to add it"]);
    upstream.release("v1.1.0", &[("README", "hi\n")]);
    let before = project.checkout_state();
    let run = project.run(&["update", "uv"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: `uv`: `deps/patches/uv/0002-new.patch` is not committed on the base `HEAD`; updates apply the committed patch queue"
        ),
        "{run:?}"
    );
    assert_eq!(project.checkout_state(), before);
}

#[test]
fn patch_adds_to_a_listed_queue_and_keeps_the_registry_as_written() {
    let (mut project, _upstream) = libuv_project("");
    let registry = std::fs::read_to_string(project.root().join("deps.toml"))
        .unwrap()
        .replace(
            "patches = \"deps/patches/uv\"\n",
            "patches = [\"deps/patches/uv/0001-check-length.patch\"] # security fixes\n",
        );
    project.write("deps.toml", &registry);
    project.commit_all("list the queue");
    let edited = core_c(&[], true, "int uv_run(void) { return 7; }\n");
    project.write("deps/uv/src/core.c", &edited);

    let run = project.run(&["patch", "uv"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("wrote deps/patches/uv/0002-local-changes.patch"),
        "{run:?}"
    );
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    assert!(
        registry.contains(
            "patches = [\"deps/patches/uv/0001-check-length.patch\", \"deps/patches/uv/0002-local-changes.patch\"] # security fixes\n"
        ),
        "{registry}"
    );
    let verify = project.run(&["verify", "uv"]);
    assert_eq!(verify.code, 0, "{verify:?}");
}
