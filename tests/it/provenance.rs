//! Provenance: a release archive compared, file by file, with the tag's source tree before
//! anything is committed.

use serde_json::json;

use crate::support::{
    Entry, Project, blob_id, mount_file, mount_json, mount_releases_with_assets, tar_gz,
};

const COMMIT: &str = "c0ffee0000000000000000000000000000000001";

/// xz-like: the 2.0.0 release archive holds a build macro the tag does not have, a source
/// file that differs from the tag's, and a `configure` the registry expects.
async fn project(strict: bool) -> (Project, wiremock::MockServer) {
    let server = wiremock::MockServer::start().await;
    let old = tar_gz(&[
        Entry::File("lib-1.0.0/src/a.c", b"int a;\n"),
        Entry::File("lib-1.0.0/src/b.c", b"int b;\n"),
        Entry::File("lib-1.0.0/configure", b"#!/bin/sh\n# 1.0.0\n"),
    ]);
    let new = tar_gz(&[
        Entry::File("lib-2.0.0/src/a.c", b"int a = 2;\n"),
        Entry::File("lib-2.0.0/src/b.c", b"int b; /* not in the tag */\n"),
        Entry::File("lib-2.0.0/configure", b"#!/bin/sh\n# 2.0.0\n"),
        Entry::File("lib-2.0.0/m4/build-to-host.m4", b"dnl something extra\n"),
    ]);
    mount_releases_with_assets(
        &server,
        "up/lib",
        &[
            (
                "v2.0.0",
                &[(
                    "lib-2.0.0.tar.gz",
                    format!("{}/dl/lib-2.0.0.tar.gz", server.uri()),
                )],
            ),
            (
                "v1.0.0",
                &[(
                    "lib-1.0.0.tar.gz",
                    format!("{}/dl/lib-1.0.0.tar.gz", server.uri()),
                )],
            ),
        ],
    )
    .await;
    mount_file(&server, "/dl/lib-1.0.0.tar.gz", old).await;
    mount_file(&server, "/dl/lib-2.0.0.tar.gz", new).await;
    mount_json(
        &server,
        "/repos/up/lib/git/ref/tags/v2.0.0",
        json!({"object": {"type": "commit", "sha": COMMIT}}),
    )
    .await;
    mount_json(
        &server,
        &format!("/repos/up/lib/git/trees/{COMMIT}"),
        json!({"truncated": false, "tree": [
            {"path": "src", "type": "tree", "sha": "1".repeat(40)},
            {"path": "src/a.c", "type": "blob", "sha": blob_id("int a = 2;\n")},
            {"path": "src/b.c", "type": "blob", "sha": blob_id("int b;\n")},
            {"path": "configure.ac", "type": "blob", "sha": blob_id("AC_INIT\n")},
        ]}),
    )
    .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    let settings = if strict {
        "[settings]\nprovenance = \"strict\"\n\n"
    } else {
        ""
    };
    project
        .manifest(&format!(
            "{settings}[deps.lib]\npath = \"deps/lib\"\nsource = \"github-release\"\nrepo = \"up/lib\"\nversion = \"1.0.0\"\n\
             asset = \"lib-{{version}}.tar.gz\"\ngenerated = [\"configure\"]\n"
        ))
        .write("deps/lib/src/a.c", "int a;\n")
        .write("deps/lib/src/b.c", "int b;\n")
        .write("deps/lib/configure", "#!/bin/sh\n# 1.0.0\n");
    project.commit_all("vendor lib 1.0.0");
    (project, server)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archive_that_is_not_its_tag_is_flagged_file_by_file() {
    let (project, _server) = project(false).await;
    let run = project.run(&["update", "lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    let line = "`lib`: provenance: 1 files identical to `v2.0.0` (c0ffee000000); 1 only in the archive, as `generated` expects; NEW only in the archive, not in the tag: `m4/build-to-host.m4`; differ from the tag: `src/b.c`";
    assert!(
        run.stderr.contains(&format!("warning: {line}")),
        "{}",
        run.stderr
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/lib"]);
    assert!(
        message.contains("Provenance: 1 files identical"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn strict_provenance_commits_nothing() {
    let (project, _server) = project(true).await;
    let before = project.checkout_state();
    let run = project.run(&["update", "lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: `lib`: the release archive of lib 2.0.0 is not its tagged source: 1 files identical"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`provenance = \"strict\"`"),
        "{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn provenance_classifies_what_is_vendored_now() {
    let (project, server) = project(false).await;
    let old_commit = "c0ffee0000000000000000000000000000000000";
    mount_json(
        &server,
        "/repos/up/lib/git/ref/tags/v1.0.0",
        json!({"object": {"type": "commit", "sha": old_commit}}),
    )
    .await;
    mount_json(
        &server,
        &format!("/repos/up/lib/git/trees/{old_commit}"),
        json!({"truncated": false, "tree": [
            {"path": "src/a.c", "type": "blob", "sha": blob_id("int a;\n")},
            {"path": "src/b.c", "type": "blob", "sha": blob_id("int b;\n")},
        ]}),
    )
    .await;
    let run = project.run(&["provenance", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = run.json();
    let lib = &doc["dependencies"][0];
    assert_eq!(lib["name"], "lib");
    assert_eq!(lib["version"], "1.0.0");
    assert_eq!(lib["class"], "release-archive");
    assert_eq!(lib["provenance"]["identical"], 2);
    assert_eq!(lib["provenance"]["expected"], json!(["configure"]));

    // Seen against a tag that lacks a file the archive has: flagged, exit 1.
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(format!(
            "/repos/up/lib/git/trees/{old_commit}"
        )))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "truncated": false,
            "tree": [{"path": "src/a.c", "type": "blob", "sha": blob_id("int a;\n")}]
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    let run = project.run(&["provenance"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("1 files identical to `v1.0.0` (c0ffee000000); 1 only in the archive, as `generated` expects; only in the archive, not in the tag: `src/b.c`"),
        "{}",
        run.stdout
    );
}
