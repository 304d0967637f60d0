//! `update` through every kind of source and archive format, `after` commands, and OpenPGP
//! signatures.

use std::io::Write;
use std::path::Path;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    Entry, Project, git, mount_file, mount_releases, mount_tags, npm_integrity, sha256, tar_gz,
};

async fn npm_project(integrity: Option<String>) -> (Project, MockServer, Vec<u8>) {
    let server = MockServer::start().await;
    let tarball = tar_gz(&[
        Entry::File(
            "package/package.json",
            b"{\n  \"name\": \"acorn\",\n  \"version\": \"8.15.0\"\n}\n",
        ),
        Entry::File(
            "package/dist/acorn.js",
            b"export const version = '8.15.0';\n",
        ),
    ]);
    let integrity = integrity.unwrap_or_else(|| npm_integrity(&tarball));
    // An empty integrity stands for none published.
    let mut dist = json!({"tarball": format!("{}/tarballs/acorn-8.15.0.tgz", server.uri())});
    if !integrity.is_empty() {
        dist["integrity"] = json!(integrity);
    }
    Mock::given(method("GET"))
        .and(path("/npm/acorn"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "dist-tags": {"latest": "8.15.0"},
            "versions": {
                "8.14.0": {"dist": {"tarball": format!("{}/tarballs/acorn-8.14.0.tgz", server.uri())}},
                "8.15.0": {"dist": dist}
            }
        })))
        .mount(&server)
        .await;
    mount_file(&server, "/tarballs/acorn-8.15.0.tgz", tarball.clone()).await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project
        .manifest(
            "[deps.acorn]\npath = \"deps/acorn/acorn\"\nsource = \"npm\"\npackage = \"acorn\"\n\
             version-file = { path = \"package.json\", regex = '\"version\":\\s*\"([^\"]+)\"' }\n",
        )
        .write(
            "deps/acorn/acorn/package.json",
            "{\n  \"name\": \"acorn\",\n  \"version\": \"8.14.0\"\n}\n",
        )
        .write(
            "deps/acorn/acorn/dist/acorn.js",
            "export const version = '8.14.0';\n",
        );
    project.commit_all("initial");
    (project, server, tarball)
}

#[tokio::test(flavor = "multi_thread")]
async fn npm_tarballs_are_checked_against_their_integrity() {
    let (project, _server, tarball) = npm_project(None).await;
    let run = project.run(&["acorn"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        project.git(&["show", "deps-update/acorn:deps/acorn/acorn/dist/acorn.js"]),
        "export const version = '8.15.0';"
    );
    let registry = project.git(&["show", "deps-update/acorn:deps.toml"]);
    assert!(
        !registry.contains("version = "),
        "a version-file dependency records no `version`:\n{registry}"
    );
    assert!(
        registry.contains(&format!("sha256 = \"{}\"", sha256(&tarball))),
        "{registry}"
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/acorn"]);
    assert!(
        message.contains("- sha512 matches the integrity npm published\n"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_npm_integrity_mismatch_changes_nothing() {
    let forged = npm_integrity(b"something else");
    let (project, _server, tarball) = npm_project(Some(forged.clone())).await;
    let before = project.checkout_state();
    let run = project.run(&["acorn"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "the archive does not match npm's published integrity\n  expected: {forged}\n  actual:   {}\n",
            npm_integrity(&tarball)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_npm_tarball_without_integrity_is_vendored_only_when_another_check_covers_it() {
    let (mut project, server, tarball) = npm_project(Some(String::new())).await;
    let before = project.checkout_state();
    let run = project.run(&["acorn"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: `acorn`: npm published no integrity for `acorn@8.15.0`; nothing else checks this archive, so it is not vendored\n\
             hint: add `checksums` or `signature`"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before);

    // A checksums file covers it.
    mount_file(
        &server,
        "/tarballs/SHA256SUMS",
        format!("{}  acorn-8.15.0.tgz\n", sha256(&tarball)).into_bytes(),
    )
    .await;
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    project.manifest(&format!(
        "{registry}checksums = \"{}/tarballs/SHA256SUMS\"\n",
        server.uri()
    ));
    project.commit_all("checksums");
    let run = project.run(&["acorn"]);
    assert_eq!(run.code, 0, "{run:?}");
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/acorn"]);
    assert!(
        message.contains(
            "- npm published no integrity for `acorn@8.15.0`; checked by the `checksums` file instead\n"
        ),
        "{message}"
    );
}

/// An upstream git repository with a tag and a newer main, and a bare clone to fetch from.
fn git_upstream(project: &Project) -> (String, String, String) {
    let work = project.scratch("gtest-work");
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(work.join("googletest/src")).unwrap();
    std::fs::write(work.join("googletest/src/gtest.cc"), "// v1\n").unwrap();
    std::fs::write(work.join("LICENSE"), "BSD\n").unwrap();
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "one"]);
    git(&work, &["tag", "-a", "-m", "release", "v1.17.0"]);
    let tagged = git(&work, &["rev-parse", "HEAD"]);
    std::fs::write(work.join("googletest/src/gtest.cc"), "// v2\n").unwrap();
    std::fs::write(work.join("googletest/src/new.cc"), "// new\n").unwrap();
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "two"]);
    let head = git(&work, &["rev-parse", "HEAD"]);
    let bare = project.scratch("gtest.git");
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
    (format!("file://{}", bare.display()), tagged, head)
}

#[test]
fn git_branches_and_tags_are_exported_from_the_commit() {
    let mut project = Project::new();
    let (url, tagged, head) = git_upstream(&project);
    project
        .manifest(&format!(
            "[deps.googletest]\npath = \"deps/googletest\"\nsource = \"git\"\nurl = \"{url}\"\nbranch = \"main\"\n\
             version = \"{}\"\ninclude = [\"googletest/src\", \"LICENSE\"]\nkeep = [\"googletest.gyp\"]\n\n\
             [deps.tagged]\npath = \"deps/tagged\"\nsource = \"git\"\nurl = \"{url}\"\nversion = \"1.16.0\"\n",
            &tagged[..10]
        ))
        .write("deps/googletest/googletest.gyp", "{}\n")
        .write("deps/googletest/googletest/src/gtest.cc", "// v1\n")
        .write("deps/googletest/LICENSE", "BSD\n")
        .write("deps/tagged/README", "old\n");
    project.commit_all("initial");
    let run = project.run(&["update", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    let files = project.git(&[
        "ls-tree",
        "-r",
        "--name-only",
        "deps-update/googletest",
        "deps/googletest",
    ]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        [
            "deps/googletest/LICENSE",
            "deps/googletest/googletest.gyp",
            "deps/googletest/googletest/src/gtest.cc",
            "deps/googletest/googletest/src/new.cc"
        ]
    );
    let registry = project.git(&["show", "deps-update/googletest:deps.toml"]);
    assert!(
        registry.contains(&format!("version = \"{head}\"")),
        "{registry}"
    );
    assert!(
        !registry.contains("sha256"),
        "a commit id is the record:\n{registry}"
    );
    // The tag-tracked dependency gets the tagged commit's tree, not main's.
    assert_eq!(
        project.git(&[
            "show",
            "deps-update/tagged:deps/tagged/googletest/src/gtest.cc"
        ]),
        "// v1"
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/tagged"]);
    assert!(
        message.contains(&format!(
            "- git commit {tagged} (content-addressed by its id)"
        )),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tag_tarballs_zips_and_xz_archives() {
    let server = MockServer::start().await;
    mount_tags(&server, "libuv/libuv", "", &["v1.51.0"]).await;
    // GitHub's tag tarball has a `owner-repo-sha/` top folder.
    mount_file(
        &server,
        "/repos/libuv/libuv/tarball/v1.51.0",
        tar_gz(&[Entry::File("libuv-libuv-abc123/src/uv.c", b"uv 1.51\n")]),
    )
    .await;
    mount_releases(&server, "ada-url/ada", &[("v3.2.4", false, false)]).await;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("ada.h", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"#define ADA_VERSION \"3.2.4\"\n").unwrap();
    zip.start_file("ada.cpp", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"// ada\n").unwrap();
    mount_file(
        &server,
        "/ada/singleheader.zip",
        zip.finish().unwrap().into_inner(),
    )
    .await;
    mount_releases(&server, "nghttp2/nghttp2", &[("v1.64.0", false, false)]).await;
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
    let tar = {
        let gz = tar_gz(&[Entry::File("nghttp2-1.64.0/lib/a.c", b"xz\n")]);
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).unwrap();
        plain
    };
    xz.write_all(&tar).unwrap();
    mount_file(&server, "/nghttp2-1.64.0.tar.xz", xz.finish().unwrap()).await;

    let mut project = Project::new();
    project.fake_upstreams(&server);
    project
        .manifest(&format!(
            "[deps.libuv]\npath = \"deps/uv\"\nsource = \"github-tag\"\nrepo = \"libuv/libuv\"\nversion = \"1.50.0\"\n\n\
             [deps.ada]\npath = \"deps/ada\"\nsource = \"github-release\"\nrepo = \"ada-url/ada\"\nversion = \"3.2.3\"\n\
             archive = \"{uri}/ada/singleheader.zip\"\n\n\
             [deps.nghttp2]\npath = \"deps/nghttp2\"\nsource = \"github-release\"\nrepo = \"nghttp2/nghttp2\"\nversion = \"1.63.0\"\n\
             archive = \"{uri}/nghttp2-{{version}}.tar.xz\"\n",
            uri = server.uri()
        ))
        .write("deps/uv/src/uv.c", "uv 1.50\n")
        .write("deps/ada/ada.h", "old\n")
        .write("deps/nghttp2/lib/a.c", "old\n");
    project.commit_all("initial");
    let run = project.run(&["update", "--all"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        project.git(&["show", "deps-update/libuv:deps/uv/src/uv.c"]),
        "uv 1.51"
    );
    assert_eq!(
        project.git(&["show", "deps-update/ada:deps/ada/ada.cpp"]),
        "// ada"
    );
    assert_eq!(
        project.git(&["show", "deps-update/nghttp2:deps/nghttp2/lib/a.c"]),
        "xz"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_commands_run_in_the_updated_tree_and_join_the_commit() {
    let server = MockServer::start().await;
    mount_releases(&server, "up/lib", &[("v2.0.0", false, false)]).await;
    mount_file(
        &server,
        "/lib-2.0.0.tar.gz",
        tar_gz(&[Entry::File("lib-2.0.0/lib.c", b"int v = 2;\n")]),
    )
    .await;
    let mut project = Project::new();
    project
        .fake_upstreams(&server)
        .env("GITHUB_TOKEN", "ghp_secretvalue");
    let manifest = |after: &str| {
        format!(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"github-release\"\nrepo = \"up/lib\"\nversion = \"1.0.0\"\n\
             archive = \"{}/lib-{{version}}.tar.gz\"\nafter = {after}\nafter-writes = [\"src/lib_version.h\", \"src/obsolete.txt\"]\n",
            server.uri()
        )
    };
    project
        .manifest(&manifest(
            r#"["echo \"$DEPS_UPDATE_NAME $DEPS_UPDATE_OLD_VERSION -> $DEPS_UPDATE_NEW_VERSION in $DEPS_UPDATE_PATH\" > src/lib_version.h", "test -z \"$GITHUB_TOKEN\" && test -f deps/lib/lib.c && rm src/obsolete.txt"]"#,
        ))
        .write("deps/lib/lib.c", "int v = 1;\n")
        .write("src/obsolete.txt", "x\n")
        .write("src/lib_version.h", "old\n");
    project.commit_all("initial");
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        project.git(&["show", "deps-update/lib:src/lib_version.h"]),
        "lib 1.0.0 -> 2.0.0 in deps/lib"
    );
    let files = project.git(&["ls-tree", "-r", "--name-only", "deps-update/lib"]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        ["deps.toml", "deps/lib/lib.c", "src/lib_version.h"]
    );
    assert_eq!(
        project.git(&["rev-list", "--count", "main..deps-update/lib"]),
        "1",
        "one commit"
    );

    // A failing command aborts that dependency, shows its output, and changes nothing.
    project.manifest(&manifest(
        r#"["echo regenerating; echo 'gyp: missing file' >&2; exit 3"]"#,
    ));
    project.git(&["branch", "-D", "deps-update/lib"]);
    project.commit_all("failing after");
    let before = project.checkout_state();
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("the `after` command `echo regenerating; echo 'gyp: missing file' >&2; exit 3` failed (exit status: 3)\n  | regenerating\n  | gyp: missing file"),
        "{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn after_steps_see_only_the_folder_the_registry_and_what_they_declare() {
    let server = MockServer::start().await;
    mount_releases(&server, "up/lib", &[("v2.0.0", false, false)]).await;
    mount_file(
        &server,
        "/lib-2.0.0.tar.gz",
        tar_gz(&[Entry::File("lib-2.0.0/lib.c", b"int v = 2;\n")]),
    )
    .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    let manifest = |reads: &str| {
        format!(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"github-release\"\nrepo = \"up/lib\"\nversion = \"1.0.0\"\n\
             archive = \"{}/lib-{{version}}.tar.gz\"\n\
             after = [\"test ! -e other/big.c && test -f deps.toml && sh tools/gen.sh > deps/lib/generated.h\"]\n{reads}",
            server.uri()
        )
    };
    project
        .manifest(&manifest(""))
        .write("deps/lib/lib.c", "int v = 1;\n")
        .write("tools/gen.sh", "cat tools/header.txt\n")
        .write("tools/header.txt", "/* generated */\n")
        .write("other/big.c", "the rest of a large repository\n")
        .write("README.md", "readme\n");
    project.commit_all("initial");

    // The script is not checked out unless declared: the step fails, nothing is committed.
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("tools/gen.sh"), "{}", run.stderr);

    project.manifest(&manifest("after-reads = [\"tools/**\"]\n"));
    project.commit_all("declare what the step reads");
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        project.git(&["show", "deps-update/lib:deps/lib/generated.h"]),
        "/* generated */"
    );
    // What was never checked out is in the commit as it was.
    let files = project.git(&["ls-tree", "-r", "--name-only", "deps-update/lib"]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        [
            "README.md",
            "deps.toml",
            "deps/lib/generated.h",
            "deps/lib/lib.c",
            "other/big.c",
            "tools/gen.sh",
            "tools/header.txt"
        ]
    );
    assert_eq!(
        project.git(&[
            "diff",
            "--stat",
            "main",
            "deps-update/lib",
            "--",
            "other",
            "tools",
            "README.md"
        ]),
        ""
    );
}

/// `gpg` with a throwaway home; returns (keyring, detached signature over `data`).
fn gpg_sign(project: &Project, who: &str, data: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let home = project.scratch(&format!("gnupg-{who}"));
    let gpg = |args: &[&str]| {
        let output = std::process::Command::new("gpg")
            .args([
                "--batch",
                "--quiet",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args(args)
            .env("GNUPGHOME", &home)
            .output()
            .expect("gpg is installed (.ci/run installs it)");
        assert!(
            output.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    gpg(&[
        "--quick-gen-key",
        &format!("{who} <{who}@example.com>"),
        "ed25519",
        "sign",
        "never",
    ]);
    let data_file = home.join("data");
    std::fs::write(&data_file, data).unwrap();
    let keyring = gpg(&["--armor", "--export", &format!("{who}@example.com")]);
    let signature = gpg(&[
        "--armor",
        "--detach-sign",
        "--output",
        "-",
        data_file.to_str().unwrap(),
    ]);
    let _ = std::process::Command::new("gpgconf")
        .args(["--kill", "gpg-agent"])
        .env("GNUPGHOME", &home)
        .output();
    (keyring, signature)
}

#[tokio::test(flavor = "multi_thread")]
async fn openpgp_signatures_are_checked_in_process() {
    let server = MockServer::start().await;
    let archive = tar_gz(&[Entry::File("cares-1.34.5/src/ares.c", b"ares\n")]);
    mount_releases(&server, "c-ares/c-ares", &[("v1.34.5", false, false)]).await;
    mount_file(&server, "/c-ares-1.34.5.tar.gz", archive.clone()).await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    let (keyring, signature) = gpg_sign(&project, "maintainer", &archive);
    let (other_keyring, forged_for_other) = gpg_sign(&project, "stranger", &archive);
    let (_, signature_over_other_bytes) = gpg_sign(&project, "maintainer2", b"not the archive");
    project
        .manifest(&format!(
            "[deps.c-ares]\npath = \"deps/cares\"\nsource = \"github-release\"\nrepo = \"c-ares/c-ares\"\nversion = \"1.34.4\"\n\
             archive = \"{}/c-ares-{{version}}.tar.gz\"\nsignature = \"{{archive}}.asc\"\nkeyring = \"tools/keys/c-ares.asc\"\n",
            server.uri()
        ))
        .write("deps/cares/src/ares.c", "old\n")
        .write("tools/keys/c-ares.asc", &String::from_utf8(keyring).unwrap());
    project.commit_all("initial");

    // Signed by a key that is not in the keyring.
    serve_signature(&server, forged_for_other, true).await;
    let before = project.checkout_state();
    let run = project.run(&["c-ares"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("the archive is signed by key "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("which is not in the keyring `tools/keys/c-ares.asc`"),
        "{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before);
    drop(other_keyring);

    // Signed by a key of the keyring, but over other bytes: refused.
    let mixed = format!(
        "{}{}",
        String::from_utf8_lossy(
            &std::fs::read(project.root().join("tools/keys/c-ares.asc")).unwrap()
        ),
        String::from_utf8_lossy(&gpg_export(&project, "maintainer2"))
    );
    project.write("tools/keys/c-ares.asc", &mixed);
    project.git(&["commit", "-q", "-am", "add a second key"]);
    serve_signature(&server, signature_over_other_bytes, true).await;
    let before = project.checkout_state();
    let run = project.run(&["c-ares"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("does not match the archive: its bytes are not the ones that were signed\n"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Caused by"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: do not vendor this archive: it is not what the key holder signed"),
        "{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before);

    // The real signature.
    serve_signature(&server, signature, false).await;
    let run = project.run(&["c-ares"]);
    assert_eq!(run.code, 0, "{run:?}");
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/c-ares"]);
    assert!(message.contains("- OpenPGP signature by key "), "{message}");
}

/// Serves the c-ares archive's signature, once or for good.
async fn serve_signature(server: &MockServer, signature: Vec<u8>, once: bool) {
    let mock = Mock::given(method("GET"))
        .and(path("/c-ares-1.34.5.tar.gz.asc"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(signature));
    let mock = if once { mock.up_to_n_times(1) } else { mock };
    mock.mount(server).await;
}

/// The public key of a key made by [`gpg_sign`] for `who`.
fn gpg_export(project: &Project, who: &str) -> Vec<u8> {
    let home = project.scratch(&format!("gnupg-{who}"));
    let output = std::process::Command::new("gpg")
        .args([
            "--batch",
            "--armor",
            "--export",
            &format!("{who}@example.com"),
        ])
        .env("GNUPGHOME", &home)
        .output()
        .unwrap();
    output.stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_release_asset_comes_through_the_api_with_the_token() {
    let server = MockServer::start().await;
    let archive = crate::support::tar_gz(&[crate::support::Entry::File(
        "lib-2.0.0/lib.c",
        b"int v = 2;\n",
    )]);
    let uri = server.uri();
    crate::support::mount_json(
        &server,
        "/repos/corp/lib/releases",
        serde_json::json!([{
            "tag_name": "v2.0.0", "draft": false, "prerelease": false,
            "assets": [{
                "name": "lib-2.0.0.tar.gz",
                // Private: the public address answers 404 to everyone.
                "browser_download_url": format!("{uri}/corp/lib/releases/download/v2.0.0/lib-2.0.0.tar.gz"),
                "url": format!("{uri}/repos/corp/lib/releases/assets/7"),
                "id": 7,
            }]
        }]),
    )
    .await;
    // The API sends the bytes only for `Accept: application/octet-stream` with the token, by
    // redirecting to a signed address.
    Mock::given(method("GET"))
        .and(path("/repos/corp/lib/releases/assets/7"))
        .and(wiremock::matchers::header(
            "accept",
            "application/octet-stream",
        ))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer ghs_private",
        ))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{uri}/signed/lib-2.0.0.tar.gz?sig=1").as_str(),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/signed/lib-2.0.0.tar.gz"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(archive))
        .mount(&server)
        .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.env("GITHUB_TOKEN", "ghs_private");
    project
        .manifest(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"github-release\"\nrepo = \"corp/lib\"\n\
             version = \"1.0.0\"\nasset = \"lib-{version}.tar.gz\"\n",
        )
        .write("deps/lib/lib.c", "int v = 1;\n");
    project.commit_all("initial");
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        project.git(&["show", "deps-update/lib:deps/lib/lib.c"]),
        "int v = 2;"
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/lib"]);
    assert!(
        message.contains(&format!("Source: {uri}/repos/corp/lib/releases/assets/7\n")),
        "{message}"
    );
}

/// A GitHub tag dependency whose code is GitHub's generated archive of the tag.
async fn generated_archive_project() -> (Project, MockServer, crate::support::Upstream) {
    let server = MockServer::start().await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    let upstream = crate::support::Upstream::new(&project, "lib");
    upstream.release(
        "v2.0.0",
        &[
            ("lib.c", "int v = 2;\n"),
            ("include/lib.h", "#pragma once\n"),
        ],
    );
    mount_tags(&server, "up/lib", "v", &["v2.0.0"]).await;
    let commit = upstream.rev_parse("v2.0.0");
    let tree = upstream.rev_parse("v2.0.0^{tree}");
    crate::support::mount_json(
        &server,
        &format!("/repos/up/lib/git/commits/{commit}"),
        json!({"sha": commit, "tree": {"sha": tree}}),
    )
    .await;
    project
        .manifest(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"github-tag\"\nrepo = \"up/lib\"\ntag = \"v{version}\"\nversion = \"1.0.0\"\n",
        )
        .write("deps/lib/lib.c", "int v = 1;\n");
    project.commit_all("initial");
    (project, server, upstream)
}

/// Serves `bytes` as GitHub's tarball of v2.0.0, replacing what was served before.
async fn serve_tarball(server: &MockServer, bytes: Vec<u8>, priority: u8) {
    Mock::given(method("GET"))
        .and(path("/repos/up/lib/tarball/v2.0.0"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes))
        .with_priority(priority)
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_regenerated_github_archive_is_told_apart_from_a_changed_one() {
    let (project, server, upstream) = generated_archive_project().await;
    let commit = upstream.rev_parse("v2.0.0");
    let tar = upstream.git_archive("v2.0.0", "up-lib-abc1234");
    serve_tarball(&server, crate::support::gzip(&tar), 5).await;
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    let registry = project.git(&["show", "deps-update/lib:deps.toml"]);
    assert!(
        registry.contains(&format!("archive-commit = \"{commit}\"")),
        "{registry}"
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/lib"]);
    assert!(
        message.contains(&format!(
            "files identical to the tree of commit {commit} (checked through GitHub's API)"
        )),
        "{message}"
    );
    // The update lands.
    project.git(&["merge", "-q", "--ff-only", "deps-update/lib"]);

    // GitHub re-compresses its archives: new bytes, same files.
    let mut best = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    best.write_all(&tar).unwrap();
    serve_tarball(&server, best.finish().unwrap(), 4).await;
    let run = project.run(&["verify", "lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "GitHub generated it anew, and its files are identical to the tree of the recorded commit {commit}"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("warning: `lib`: the archive's bytes changed"),
        "{}",
        run.stderr
    );

    // Other files under the same name: a real mismatch.
    let changed = crate::support::tar_gz(&[
        Entry::File("up-lib-abc1234/lib.c", b"int v = 666;\n"),
        Entry::File("up-lib-abc1234/include/lib.h", b"#pragma once\n"),
    ]);
    serve_tarball(&server, changed, 3).await;
    let run = project.run(&["verify", "lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "the archive's sha256 does not match `sha256` in the registry, and its files are not those of the recorded commit {commit}"
        )),
        "{}",
        run.stderr
    );
}
