//! `update` end to end: a Node-like repository vendoring nghttp2, a fake GitHub serving the
//! release, its asset and checksums; the branch, the commit, and the untouched checkout.

use wiremock::MockServer;

use crate::support::{Entry, Project, mount_file, mount_releases_with_assets, sha256, tar_gz};

const OLD_VERSION_H: &str = "#define NGHTTP2_VERSION \"1.63.0\"\n";
const NEW_VERSION_H: &str = "#define NGHTTP2_VERSION \"1.64.0\"\n";
const LOCAL_CONFIG_H: &str = "/* Node's own config.h */\n#define HAVE_CONFIG 1\n";
const GYP: &str = "{ 'targets': [ { 'target_name': 'nghttp2' } ] }\n";

/// The release archive of nghttp2 1.64.0, as upstream lays it out.
fn release_archive() -> Vec<u8> {
    tar_gz(&[
        Entry::Dir("nghttp2-1.64.0/"),
        Entry::File("nghttp2-1.64.0/COPYING", b"The MIT License\n"),
        Entry::File(
            "nghttp2-1.64.0/lib/nghttp2_session.c",
            b"int session(void) { return 2; }\nint more(void) { return 3; }\n",
        ),
        Entry::File(
            "nghttp2-1.64.0/lib/nghttp2_new.c",
            b"int fresh(void) { return 1; }\n",
        ),
        Entry::File(
            "nghttp2-1.64.0/lib/includes/nghttp2/nghttp2ver.h",
            NEW_VERSION_H.as_bytes(),
        ),
        Entry::File(
            "nghttp2-1.64.0/lib/includes/config.h",
            b"/* upstream's template: must not replace Node's */\n",
        ),
        Entry::File("nghttp2-1.64.0/src/nghttpx.cc", b"int main() {}\n"),
        Entry::Executable("nghttp2-1.64.0/lib/gen.sh", b"#!/bin/sh\necho generated\n"),
    ])
}

/// A Node-like repository vendoring nghttp2 1.63.0, and a fake GitHub offering 1.64.0.
async fn node_like(checksums_body: Option<String>) -> (Project, MockServer, Vec<u8>) {
    let server = MockServer::start().await;
    let archive = release_archive();
    let download = |name: &str| format!("{}/download/v1.64.0/{name}", server.uri());
    mount_releases_with_assets(
        &server,
        "nghttp2/nghttp2",
        &[
            (
                "v1.64.0",
                &[
                    ("nghttp2-1.64.0.tar.gz", download("nghttp2-1.64.0.tar.gz")),
                    ("checksums.txt", download("checksums.txt")),
                ][..],
            ),
            ("v1.63.0", &[][..]),
        ],
    )
    .await;
    mount_file(
        &server,
        "/download/v1.64.0/nghttp2-1.64.0.tar.gz",
        archive.clone(),
    )
    .await;
    let checksums = checksums_body.unwrap_or_else(|| {
        format!(
            "{}  nghttp2-1.64.0.tar.gz\n{}  nghttp2-1.64.0.tar.xz\n",
            sha256(&archive),
            "0".repeat(64)
        )
    });
    mount_file(
        &server,
        "/download/v1.64.0/checksums.txt",
        checksums.into_bytes(),
    )
    .await;

    let mut project = Project::new();
    project.fake_upstreams(&server);
    project
        .manifest(&format!(
            "# Node.js vendored dependencies\n\n\
             [deps.nghttp2]\n\
             path = \"deps/nghttp2\"\n\
             source = \"github-release\"\n\
             repo = \"nghttp2/nghttp2\"\n\
             version = \"1.63.0\"  # updated by deps-update\n\
             version-file = {{ path = \"lib/includes/nghttp2/nghttp2ver.h\", regex = '#define NGHTTP2_VERSION \"([^\"]+)\"' }}\n\
             asset = \"nghttp2-{{version}}.tar.gz\"\n\
             checksums = \"{}/download/{{tag}}/checksums.txt\"\n\
             include = [\"lib/**\", \"COPYING\"]\n\
             keep = [\"nghttp2.gyp\", \"BUILD.gn\", \"unofficial.gni\", \"lib/includes/config.h\"]\n",
            server.uri()
        ))
        .write("deps/nghttp2/COPYING", "The MIT License\n")
        .write("deps/nghttp2/lib/nghttp2_session.c", "int session(void) { return 1; }\n")
        .write("deps/nghttp2/lib/nghttp2_removed_upstream.c", "int gone(void) { return 0; }\n")
        .write("deps/nghttp2/lib/includes/nghttp2/nghttp2ver.h", OLD_VERSION_H)
        .write("deps/nghttp2/lib/includes/config.h", LOCAL_CONFIG_H)
        .write("deps/nghttp2/nghttp2.gyp", GYP)
        .write("deps/nghttp2/BUILD.gn", "source_set(\"nghttp2\") {}\n")
        .write("src/node.cc", "int main() {}\n");
    project.commit_all("initial");
    (project, server, archive)
}

#[tokio::test(flavor = "multi_thread")]
async fn vendors_the_new_release_on_a_branch_without_touching_the_checkout() {
    let (project, _server, archive) = node_like(None).await;
    // Work in progress that must survive: a modified file, a staged file, an untracked file.
    project.write("src/node.cc", "int main() { return 1; }\n");
    project.write("src/staged.cc", "staged\n");
    project.git(&["add", "src/staged.cc"]);
    project.write("notes.txt", "untracked\n");
    let before = project.checkout_state();

    let run = project.run(&["nghttp2"]);
    assert_eq!(run.code, 0, "{run:?}");
    let commit = project.git(&["rev-parse", "deps-update/nghttp2"]);
    assert_eq!(
        run.stdout,
        format!(
            "NAME     FROM    TO      RESULT\nnghttp2  1.63.0  1.64.0  committed {} on deps-update/nghttp2\n",
            &commit[..12]
        )
    );

    // The checkout is exactly as it was; only the new branch exists besides.
    let after = project.checkout_state();
    let without_branch: String = after
        .lines()
        .filter(|l| !l.starts_with("refs/heads/deps-update/nghttp2 "))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(without_branch, before);
    assert_eq!(
        std::fs::read_to_string(project.root().join("src/node.cc")).unwrap(),
        "int main() { return 1; }\n"
    );

    // The branch's tree: upstream's files, the project's own files byte for byte, nothing else.
    let show = |path: &str| project.git(&["show", &format!("deps-update/nghttp2:{path}")]);
    let files = project.git(&[
        "ls-tree",
        "-r",
        "--name-only",
        "deps-update/nghttp2",
        "deps/nghttp2",
    ]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        [
            "deps/nghttp2/BUILD.gn",
            "deps/nghttp2/COPYING",
            "deps/nghttp2/lib/gen.sh",
            "deps/nghttp2/lib/includes/config.h",
            "deps/nghttp2/lib/includes/nghttp2/nghttp2ver.h",
            "deps/nghttp2/lib/nghttp2_new.c",
            "deps/nghttp2/lib/nghttp2_session.c",
            "deps/nghttp2/nghttp2.gyp",
        ]
    );
    assert_eq!(
        show("deps/nghttp2/lib/includes/config.h") + "\n",
        LOCAL_CONFIG_H
    );
    assert_eq!(show("deps/nghttp2/nghttp2.gyp") + "\n", GYP);
    assert_eq!(
        show("deps/nghttp2/lib/includes/nghttp2/nghttp2ver.h") + "\n",
        NEW_VERSION_H
    );
    assert_eq!(
        show("src/node.cc"),
        "int main() {}",
        "the branch holds the committed file, not the work in progress"
    );
    let modes = project.git(&["ls-tree", "deps-update/nghttp2", "deps/nghttp2/lib/gen.sh"]);
    assert!(modes.starts_with("100755 "), "{modes}");
    // deps.toml: version and sha256 recorded, comments and layout kept.
    let registry = show("deps.toml");
    assert!(
        registry.starts_with("# Node.js vendored dependencies\n"),
        "{registry}"
    );
    assert!(
        registry.contains("version = \"1.64.0\"  # updated by deps-update\n"),
        "{registry}"
    );
    assert!(
        registry.contains(&format!("sha256 = \"{}\"", sha256(&archive))),
        "{registry}"
    );

    // The commit: one, on top of main, with a message that says what was verified.
    assert_eq!(
        project.git(&["rev-parse", "deps-update/nghttp2^"]),
        project.git(&["rev-parse", "main"])
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/nghttp2"]);
    assert!(
        message.starts_with(
            "deps: update nghttp2 to 1.64.0\n\nUpdate nghttp2 from 1.63.0 to 1.64.0.\n"
        ),
        "{message}"
    );
    assert!(
        message.contains(&format!("SHA-256: {}\n", sha256(&archive))),
        "{message}"
    );
    assert!(
        message.contains("- sha256 listed in http://127.0.0.1:"),
        "{message}"
    );
    assert!(
        message.contains("Kept local files: BUILD.gn, lib/includes/config.h, nghttp2.gyp\n"),
        "{message}"
    );
    assert!(
        message.contains("Changes: 2 added, 1 removed, 2 modified (+6 -3 lines)"),
        "{message}"
    );
    assert_eq!(
        project.git(&["log", "-1", "--format=%an <%ae>", "deps-update/nghttp2"]),
        "Dependency Bot <bot@example.com>"
    );

    // Running again makes no new commit.
    let again = project.run(&["update", "nghttp2"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again.stdout.contains(&format!(
            "already on deps-update/nghttp2 ({})",
            &commit[..12]
        )),
        "{}",
        again.stdout
    );
    assert_eq!(project.git(&["rev-parse", "deps-update/nghttp2"]), commit);
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_shows_the_changes_and_writes_nothing() {
    let (project, _server, archive) = node_like(None).await;
    let before = project.checkout_state();
    let objects_before = project.git(&["count-objects"]);
    let run = project.run(&["update", "nghttp2", "--dry-run", "--diff"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(project.checkout_state(), before, "no branch, nothing else");
    assert_eq!(
        project.git(&["count-objects"]),
        objects_before,
        "no objects written"
    );
    let expected_head = format!(
        "nghttp2: 1.63.0 -> 1.64.0 (dry run, nothing written)\n  from: {uri}/download/v1.64.0/nghttp2-1.64.0.tar.gz\n  sha256: {}\n  verified: sha256 listed in {uri}/download/v1.64.0/checksums.txt\n",
        sha256(&archive),
        uri = _server.uri(),
    );
    assert!(run.stdout.starts_with(&expected_head), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "  kept: BUILD.gn\n  kept: lib/includes/config.h\n  kept: nghttp2.gyp\n\
             \x20 A lib/gen.sh                         +2 -0\n\
             \x20 M lib/includes/nghttp2/nghttp2ver.h  +1 -1\n\
             \x20 A lib/nghttp2_new.c                  +1 -0\n\
             \x20 D lib/nghttp2_removed_upstream.c     +0 -1\n\
             \x20 M lib/nghttp2_session.c              +2 -1\n\
             \x20 2 added, 1 removed, 2 modified (+6 -3 lines)\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--- a/deps/nghttp2/lib/nghttp2_session.c\n+++ b/deps/nghttp2/lib/nghttp2_session.c\n@@ -1 +1,2 @@\n-int session(void) { return 1; }\n+int session(void) { return 2; }\n+int more(void) { return 3; }\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("--- a/deps/nghttp2/lib/nghttp2_removed_upstream.c\n+++ /dev/null\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .ends_with("nghttp2  1.63.0  1.64.0  dry run: nothing written\n"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_short_form_takes_every_update_flag() {
    let (project, _server, _) = node_like(None).await;
    let before = project.checkout_state();
    let run = project.run(&["-q", "nghttp2", "--dry-run"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("nghttp2: 1.63.0 -> 1.64.0 (dry run, nothing written)"),
        "{}",
        run.stdout
    );
    assert_eq!(project.checkout_state(), before);
    let run = project.run(&["nghttp2", "--bogus"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("unexpected argument '--bogus'"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checksum_mismatch_changes_nothing() {
    let (project, _server, archive) =
        node_like(Some(format!("{}  nghttp2-1.64.0.tar.gz\n", "f".repeat(64)))).await;
    let before = project.checkout_state();
    let run = project.run(&["nghttp2"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "error: `nghttp2`: the archive's sha256 does not match the checksums file `{}/download/v1.64.0/checksums.txt`\n  expected: {}\n  actual:   {}\n",
            _server.uri(),
            "f".repeat(64),
            sha256(&archive)
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: do not vendor this archive"),
        "{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archive_missing_from_the_checksums_file_changes_nothing() {
    let (project, _server, _) =
        node_like(Some(format!("{}  nghttp2-1.64.0.tar.xz\n", "0".repeat(64)))).await;
    let before = project.checkout_state();
    let run = project.run(&["nghttp2"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("`nghttp2-1.64.0.tar.gz` is not listed in the checksums file"),
        "{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_up_to_date_dependency_does_nothing() {
    let (mut project, _server, _) = node_like(None).await;
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    project.manifest(&registry.replace("version = \"1.63.0\"", "version = \"1.64.0\""));
    project.write(
        "deps/nghttp2/lib/includes/nghttp2/nghttp2ver.h",
        NEW_VERSION_H,
    );
    project.commit_all("at 1.64.0");
    let before = project.checkout_state();
    let run = project.run(&["nghttp2"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "NAME     FROM    TO  RESULT\nnghttp2  1.64.0  -   up to date\n"
    );
    assert_eq!(project.checkout_state(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_folder_is_not_vendored_again_without_create_missing() {
    let (mut project, _server, _) = node_like(None).await;
    // The registry says 1.63.0 is vendored at `deps/nghttp2`, but the folder moved.
    project.git(&["mv", "deps/nghttp2", "deps/nghttp2-moved"]);
    project.commit_all("moved");
    let before = project.checkout_state();
    let run = project.run(&["update", "nghttp2"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: `nghttp2`: `deps/nghttp2` does not exist, though the registry records version 1.63.0 vendored there\n"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: if it is vendored elsewhere, fix `path`; to vendor it there for the first time, run again with `--create-missing`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("nghttp2  1.63.0  -   error (see below)"),
        "{}",
        run.stdout
    );
    assert_eq!(project.checkout_state(), before);
    assert!(
        !project
            .git(&["branch", "--list"])
            .contains("deps-update/nghttp2")
    );
    // `--json` says the same.
    let run = project.run(&["update", "nghttp2", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["failures"][0]["kind"], "folder-missing", "{json}");

    // Confirmed: vendored there afresh.
    let run = project.run(&["update", "nghttp2", "--create-missing"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("committed"), "{}", run.stdout);
    let files = project.git(&["ls-tree", "-r", "--name-only", "deps-update/nghttp2"]);
    assert!(files.contains("deps/nghttp2/lib/nghttp2_new.c"), "{files}");
    assert!(
        files.contains("deps/nghttp2-moved/lib/nghttp2_session.c"),
        "{files}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_to_move_the_checked_out_branch() {
    let (project, _server, _) = node_like(None).await;
    project.git(&["checkout", "-q", "-b", "deps-update/nghttp2"]);
    let before = project.checkout_state();
    let run = project.run(&["nghttp2"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("the update branch `deps-update/nghttp2` is checked out"),
        "{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before);
}

#[test]
fn update_needs_names_or_all() {
    let project = Project::new();
    project.manifest("");
    let run = project.run(&["update"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("<NAME|--all>"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_lists_local_edits_file_by_file() {
    let (project, _server, archive) = node_like(None).await;
    let run = project.run(&["nghttp2"]);
    assert_eq!(run.code, 0, "{run:?}");
    // Land the update, as a maintainer would after review.
    project.git(&["merge", "-q", "--ff-only", "deps-update/nghttp2"]);

    let run = project.run(&["verify"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "nghttp2: 1.64.0 matches {}/download/v1.64.0/nghttp2-1.64.0.tar.gz (sha256 matches `sha256` in the registry; sha256 listed in {}/download/v1.64.0/checksums.txt)\n",
            _server.uri(),
            _server.uri()
        )
    );

    // A security patch applied to the vendored copy, a stray file, a deleted one.
    project.write(
        "deps/nghttp2/lib/nghttp2_session.c",
        "int session(void) { return 2; }\nint more(void) { return 3; }\n/* CVE fix */\n",
    );
    project.write("deps/nghttp2/lib/local_patch.c", "int patched;\n");
    std::fs::remove_file(project.root().join("deps/nghttp2/COPYING")).unwrap();
    let run = project.run(&["verify", "nghttp2"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "nghttp2: 1.64.0 differs from {}/download/v1.64.0/nghttp2-1.64.0.tar.gz in 3 files:\n  \
             deps/nghttp2/COPYING: missing locally\n  \
             deps/nghttp2/lib/local_patch.c: added locally (not upstream, not in `keep`)\n  \
             deps/nghttp2/lib/nghttp2_session.c: modified locally (+1 -0 lines)\n",
            _server.uri()
        )
    );
    assert!(
        run.stderr.contains("hint: local edits are listed above"),
        "{}",
        run.stderr
    );

    // A registry hash that does not match the archive is a verification failure.
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    project.manifest(&registry.replace(&sha256(&archive), &"0".repeat(64)));
    let run = project.run(&["verify", "nghttp2"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "the archive's sha256 does not match `sha256` in the registry\n  expected: {}\n  actual:   {}",
            "0".repeat(64),
            sha256(&archive)
        )),
        "{}",
        run.stderr
    );
}
