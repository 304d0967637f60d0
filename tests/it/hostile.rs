//! Hostile and broken archives: each is refused with a clear error, nothing is written outside
//! the staging folder, and the repository stays exactly as it was.

use wiremock::MockServer;

use crate::support::{Entry, Project, mount_releases, tar_gz};

/// A repository vendoring `lib` 1.0.0, whose upstream serves `archive` as 2.0.0.
async fn project_with_archive(archive: Vec<u8>, extra: &str) -> (Project, MockServer) {
    project_serving(
        "tar.gz",
        wiremock::ResponseTemplate::new(200).set_body_bytes(archive),
        extra,
    )
    .await
}

/// A repository vendoring `lib` 1.0.0, whose upstream answers `lib-2.0.0.{suffix}` with
/// `answer`.
async fn project_serving(
    suffix: &str,
    answer: wiremock::ResponseTemplate,
    extra: &str,
) -> (Project, MockServer) {
    let server = MockServer::start().await;
    mount_releases(&server, "up/lib", &[("v2.0.0", false, false)]).await;
    wiremock::Mock::given(wiremock::matchers::path(format!("/lib-2.0.0.{suffix}")))
        .respond_with(answer)
        .mount(&server)
        .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project
        .manifest(&format!(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"github-release\"\nrepo = \"up/lib\"\nversion = \"1.0.0\"\n\
             archive = \"{}/lib-{{version}}.{suffix}\"\n{extra}\n",
            server.uri()
        ))
        .write("deps/lib/lib.c", "int v = 1;\n");
    project.commit_all("initial");
    (project, server)
}

async fn refused(archive: Vec<u8>, extra: &str, expected: &str) -> Project {
    let (project, _server) = project_with_archive(archive, extra).await;
    let before = project.checkout_state();
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(expected),
        "expected {expected:?} in:\n{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before, "the repository changed");
    project
}

#[tokio::test(flavor = "multi_thread")]
async fn path_traversal() {
    let archive = tar_gz(&[
        Entry::File("lib-2.0.0/lib.c", b"ok\n"),
        Entry::File("lib-2.0.0/../../../escaped.txt", b"evil\n"),
    ]);
    let project = refused(
        archive,
        "",
        "the archive entry `lib-2.0.0/../../../escaped.txt` points outside the target folder",
    )
    .await;
    assert!(
        !project
            .scratch("x")
            .parent()
            .unwrap()
            .join("escaped.txt")
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn absolute_paths() {
    let target = std::env::temp_dir().join(format!("deps-update-absolute-{}", std::process::id()));
    let name = target.to_str().unwrap().to_owned();
    let archive = tar_gz(&[Entry::File(&name, b"evil\n")]);
    refused(
        archive,
        "",
        &format!("the archive entry `{name}` is an absolute path"),
    )
    .await;
    assert!(!target.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn links_that_escape() {
    let archive = tar_gz(&[
        Entry::File("lib-2.0.0/lib.c", b"ok\n"),
        Entry::Link("lib-2.0.0/etc", "../../../etc"),
    ]);
    refused(
        archive,
        "",
        "the archive entry `lib-2.0.0/etc` is a link to `../../../etc`, outside the unpacked tree",
    )
    .await;
    let archive = tar_gz(&[
        Entry::Link("lib-2.0.0/passwd", "/etc/passwd"),
        Entry::File("lib-2.0.0/lib.c", b"ok\n"),
    ]);
    refused(
        archive,
        "",
        "is a link to `/etc/passwd`, outside the unpacked tree",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_that_escapes_only_after_strip() {
    // Inside the archive `top/link -> ../x` stays in the tree; once `top/` is stripped it would not.
    let archive = tar_gz(&[
        Entry::File("top/lib.c", b"ok\n"),
        Entry::Link("top/link", "../x"),
        Entry::File("x", b"x\n"),
    ]);
    refused(
        archive,
        "strip = 1",
        "the archive entry `link` is a link to `../x`, outside the unpacked tree",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hard_links_and_devices() {
    let device = tar_gz(&[Entry::CharDevice("lib-2.0.0/null")]);
    refused(
        device,
        "",
        "the archive entry `lib-2.0.0/null` is a character device, which is not accepted",
    )
    .await;
    let hard = tar_gz(&[Entry::HardLink("lib-2.0.0/shadow", "/etc/shadow")]);
    refused(
        hard,
        "",
        "the archive entry `lib-2.0.0/shadow` is a hard link",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decompression_bomb_stops_at_the_cap() {
    let zeros = vec![0u8; 3 << 20];
    let archive = tar_gz(&[Entry::File("lib-2.0.0/bomb.bin", &zeros)]);
    assert!(archive.len() < 64 << 10, "small when compressed");
    let run_project = refused(
        archive,
        "[settings]\nmax-archive-mib = 1",
        "the archive unpacks to more than 1 MiB (`settings.max-archive-mib`)",
    )
    .await;
    drop(run_project);
}

#[tokio::test(flavor = "multi_thread")]
async fn something_that_is_not_an_archive() {
    refused(
        b"<html>rate limited</html>".to_vec(),
        "",
        "`lib-2.0.0.tar.gz` is not a .tar.gz, .tar.xz, .tar or .zip archive",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_that_leave_nothing_are_refused() {
    let archive = tar_gz(&[Entry::File("lib-2.0.0/src/lib.c", b"ok\n")]);
    refused(
        archive,
        "include = [\"lib/**\"]",
        "nothing would be vendored: of the archive's 1 entries, none is left after `strip = 1` and `include` `lib/**`",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn links_inside_the_tree_are_vendored_as_links() {
    let archive = tar_gz(&[
        Entry::File("lib-2.0.0/include/real.h", b"int real;\n"),
        Entry::Link("lib-2.0.0/include/alias.h", "real.h"),
        Entry::Link("lib-2.0.0/include/up.h", "../lib.c"),
        Entry::File("lib-2.0.0/lib.c", b"int v = 2;\n"),
    ]);
    let (project, _server) = project_with_archive(archive, "").await;
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    let tree = project.git(&["ls-tree", "-r", "deps-update/lib", "deps/lib/include"]);
    assert!(
        tree.lines()
            .any(|l| l.starts_with("120000 ") && l.ends_with("deps/lib/include/alias.h")),
        "{tree}"
    );
    assert_eq!(
        project.git(&["show", "deps-update/lib:deps/lib/include/up.h"]),
        "../lib.c"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn links_that_escape_through_other_links() {
    // Each link alone stays inside; followed through each other they reach the project.
    let archive = tar_gz(&[
        Entry::File("lib-2.0.0/lib.c", b"ok\n"),
        Entry::Link("lib-2.0.0/d/up", ".."),
        Entry::Link("lib-2.0.0/d/up2", "up/.."),
        Entry::Link("lib-2.0.0/d/readme", "up2/../README.md"),
    ]);
    refused(
        archive,
        "",
        "the archive entry `d/readme` is a link to `up2/../README.md`, outside the unpacked tree (through the links `d/up2`, `d/up`)",
    )
    .await;
    let looping = tar_gz(&[
        Entry::File("lib-2.0.0/lib.c", b"ok\n"),
        Entry::Link("lib-2.0.0/a", "b/x"),
        Entry::Link("lib-2.0.0/b", "a/y"),
    ]);
    refused(
        looping,
        "",
        "the archive entry `a` is a link that resolves through more than 40 links",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_link_target() {
    let archive = tar_gz(&[
        Entry::File("lib-2.0.0/lib.c", b"ok\n"),
        Entry::Link("lib-2.0.0/src/empty", ""),
    ]);
    refused(
        archive,
        "",
        "the archive entry `lib-2.0.0/src/empty` is a link with an empty target",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn names_that_are_not_utf8_are_refused_never_merged() {
    let archive = || {
        tar_gz(&[
            Entry::File("lib-2.0.0/lib.c", b"int v = 2;\n"),
            Entry::RawName(b"lib-2.0.0/caf\xe9.c", b"one\n"),
            Entry::RawName(b"lib-2.0.0/caf\xe8.c", b"two\n"),
        ])
    };
    let project = refused(
        archive(),
        "",
        "the archive entry `lib-2.0.0/caf\\xe8.c` has a name that is not UTF-8",
    )
    .await;
    let run = project.run(&["lib"]);
    assert!(
        run.stderr.contains(
            "hint: deps-update keeps file names exactly or not at all: `exclude` the file"
        ),
        "{}",
        run.stderr
    );
    // Excluded, they are no obstacle.
    let (project, _server) = project_with_archive(archive(), "exclude = [\"caf*\"]").await;
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        project.git(&["ls-tree", "-r", "--name-only", "deps-update/lib"]),
        "deps.toml\ndeps/lib/lib.c"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_member_of_a_multi_member_gzip_is_read() {
    let plain = crate::support::tar(&[
        Entry::File("lib-2.0.0/lib.c", b"int v = 2;\n"),
        Entry::File("lib-2.0.0/second.c", b"int second;\n"),
    ]);
    // Cut after the first entry (header + one data block): the second lives in member two.
    let (first, second) = plain.split_at(1024);
    let mut archive = crate::support::gzip(first);
    archive.extend(crate::support::gzip(second));
    let (project, _server) = project_with_archive(archive, "").await;
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        project.git(&[
            "ls-tree",
            "-r",
            "--name-only",
            "deps-update/lib",
            "deps/lib"
        ]),
        "deps/lib/lib.c\ndeps/lib/second.c"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_while_unpacking_blames_the_local_write() {
    // 1 MiB of zeros compresses to about a KiB: the download fits, the unpacked file does not.
    let zeros = vec![0u8; 1 << 20];
    let archive = tar_gz(&[
        Entry::File("lib-2.0.0/lib.c", b"ok\n"),
        Entry::File("lib-2.0.0/big.bin", &zeros),
    ]);
    let (project, _server) = project_with_archive(archive, "").await;
    let before = project.checkout_state();
    let run = project.run_with_file_limit(64, &["lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("cannot write the unpacked file `/")
            && run.stderr.contains("/lib-2.0.0/big.bin`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("File too large"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "hint: the disk holding the temporary folder is full (or a size limit was hit): free space there, or point `TMPDIR` at a larger disk"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("damaged"), "{}", run.stderr);
    assert_eq!(project.checkout_state(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_in_the_object_store_says_so() {
    // 5,000 tiny files: a small download and small files, but a folder listing (tree object)
    // of about 120 KiB, past the 64 KiB limit.
    let names: Vec<(String, String)> = (0..5000)
        .map(|i| (format!("lib-2.0.0/f{i:04}.c"), i.to_string()))
        .collect();
    let entries: Vec<Entry> = names
        .iter()
        .map(|(name, text)| Entry::File(name, text.as_bytes()))
        .collect();
    let archive = crate::support::tar_xz(&entries);
    assert!(archive.len() < 48 << 10, "{}", archive.len());
    let answer = wiremock::ResponseTemplate::new(200).set_body_bytes(archive);
    let (project, _server) = project_serving("tar.xz", answer, "").await;
    let before = project.checkout_state();
    let run = project.run_with_file_limit(64, &["lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("could not write a folder listing (tree) into `")
            && run.stderr.contains(".git/objects`: File too large"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "hint: the disk holding the repository's `.git/objects` is full (or a size limit was hit): free space there; nothing was committed"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("no error"), "{}", run.stderr);
    assert_eq!(project.checkout_state(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_to_plain_text_is_refused_for_what_it_is() {
    let answer = wiremock::ResponseTemplate::new(302)
        .insert_header("location", "http://downloads.example.com/lib-2.0.0.tar.gz");
    let (project, server) = project_serving("tar.gz", answer, "").await;
    let before = project.checkout_state();
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "`{}/lib-2.0.0.tar.gz` was not downloaded: it redirects to plain-text `http://downloads.example.com/lib-2.0.0.tar.gz`, which is refused",
            server.uri()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: the server sends the file over plain HTTP"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("may be down"), "{}", run.stderr);
    assert_eq!(project.checkout_state(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_release_whose_header_says_another_version_is_not_committed() {
    let version_file =
        "version-file = { path = \"lib.h\", regex = '#define LIB_VERSION \"([^\"]+)\"' }";
    let archive = tar_gz(&[
        Entry::File("lib-2.0.0/lib.c", b"int v = 2;\n"),
        Entry::File("lib-2.0.0/lib.h", b"#define LIB_VERSION \"1.9.9\"\n"),
    ]);
    let (mut project, _server) = project_with_archive(archive, version_file).await;
    project.write("deps/lib/lib.h", "#define LIB_VERSION \"1.0.0\"\n");
    project.commit_all("header");
    let before = project.checkout_state();
    for args in [&["lib", "--dry-run"][..], &["lib"][..]] {
        let run = project.run(args);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(
                "after the update, `deps/lib/lib.h` says 1.9.9, not 2.0.0: the new code contradicts its own version"
            ),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("hint: nothing was committed"),
            "{}",
            run.stderr
        );
        assert_eq!(project.checkout_state(), before);
    }
    assert_eq!(project.git(&["branch", "--list", "deps-update/*"]), "");

    // An upstream that drops the file is stopped too.
    let archive = tar_gz(&[Entry::File("lib-2.0.0/lib.c", b"int v = 2;\n")]);
    let (mut project, _server) = project_with_archive(archive, version_file).await;
    project.write("deps/lib/lib.h", "#define LIB_VERSION \"1.0.0\"\n");
    project.commit_all("header");
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("after the update, the version file cannot be read")
            && run.stderr.contains("the new tree has no such file"),
        "{}",
        run.stderr
    );
}
