//! `source = "url"`: versions read from a page by a regex, its groups in the archive URL, a
//! page that changed its layout, and a single file vendored with `format = "file"`.

use std::io::Write;

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Project, mount_file, sha256};

/// sqlite's download page carries a machine-readable comment for scripts.
fn sqlite_page(version: &str, number: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><title>SQLite Download Page</title></head>\n\
         <!-- Download product data for scripts to read\n\
         PRODUCT,{version},2025/sqlite-amalgamation-{number}.zip,2760527,9f6b2e\n\
         PRODUCT,{version},2025/sqlite-autoconf-{number}.tar.gz,3178474,aa01\n-->\n</html>\n"
    )
}

fn amalgamation(number: &str, version: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let top = format!("sqlite-amalgamation-{number}");
    for (name, text) in [
        ("sqlite3.c", format!("/* sqlite {version} */\n")),
        (
            "sqlite3.h",
            format!("#define SQLITE_VERSION        \"{version}\"\n"),
        ),
        ("sqlite3ext.h", "/* ext */\n".to_owned()),
        ("shell.c", "/* shell */\n".to_owned()),
    ] {
        zip.start_file(format!("{top}/{name}"), options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn sqlite_manifest(server: &MockServer) -> String {
    format!(
        "[deps.sqlite]\npath = \"deps/sqlite\"\nsource = \"url\"\nurl = \"{}/download.html\"\n\
         regex = 'PRODUCT,(?P<version>[0-9.]+),(?P<year>\\d{{4}})/sqlite-amalgamation-(?P<number>\\d{{7}})\\.zip'\n\
         archive = \"{}/{{year}}/sqlite-amalgamation-{{number}}.zip\"\n\
         version = \"3.49.0\"\n\
         version-file = {{ path = \"sqlite3.h\", regex = '#define SQLITE_VERSION\\s+\"([^\"]+)\"' }}\n\
         include = [\"sqlite3.c\", \"sqlite3.h\", \"sqlite3ext.h\"]\nkeep = [\"sqlite.gyp\"]\n",
        server.uri(),
        server.uri()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_download_page_gives_the_version_and_the_archive_url() {
    let server = MockServer::start().await;
    // A conditional request for an unchanged page is answered 304.
    Mock::given(method("GET"))
        .and(path("/download.html"))
        .and(header("if-none-match", "\"page-1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/download.html"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"page-1\"")
                .set_body_string(sqlite_page("3.50.4", "3500400")),
        )
        .mount(&server)
        .await;
    let archive = amalgamation("3500400", "3.50.4");
    mount_file(
        &server,
        "/2025/sqlite-amalgamation-3500400.zip",
        archive.clone(),
    )
    .await;
    let mut project = Project::new();
    project
        .manifest(&sqlite_manifest(&server))
        .write(
            "deps/sqlite/sqlite3.h",
            "#define SQLITE_VERSION        \"3.49.0\"\n",
        )
        .write("deps/sqlite/sqlite3.c", "/* sqlite 3.49.0 */\n")
        .write("deps/sqlite/sqlite.gyp", "{}\n");
    project.commit_all("initial");

    let run = project.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("sqlite  3.49.0   3.50.4  update available"),
        "{}",
        run.stdout
    );
    let run = project.run(&["-v", "check"]);
    assert!(
        run.stderr
            .contains("1 HTTP requests, 1 answered 304 Not Modified"),
        "{}",
        run.stderr
    );

    let run = project.run(&["sqlite"]);
    assert_eq!(run.code, 0, "{run:?}");
    let files = project.git(&[
        "ls-tree",
        "-r",
        "--name-only",
        "deps-update/sqlite",
        "deps/sqlite",
    ]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        [
            "deps/sqlite/sqlite.gyp",
            "deps/sqlite/sqlite3.c",
            "deps/sqlite/sqlite3.h",
            "deps/sqlite/sqlite3ext.h"
        ]
    );
    let registry = project.git(&["show", "deps-update/sqlite:deps.toml"]);
    assert!(registry.contains("version = \"3.50.4\""), "{registry}");
    assert!(
        registry.contains(&format!("sha256 = \"{}\"", sha256(&archive))),
        "{registry}"
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/sqlite"]);
    assert!(
        message.contains(&format!(
            "Source: {}/2025/sqlite-amalgamation-3500400.zip",
            server.uri()
        )),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_that_changed_its_layout_is_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/download.html"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "<html>\n<h1>Downloads moved</h1>\n<p>See the new page.</p>\n</html>\n",
        ))
        .mount(&server)
        .await;
    let mut project = Project::new();
    project.manifest(&sqlite_manifest(&server));
    project.commit_all("initial");
    let before = project.checkout_state();
    let run = project.run(&["sqlite"]);
    assert_eq!(run.code, 1, "{run:?}");
    let expected = format!(
        "error: `sqlite`: no version matched: the regex `PRODUCT,(?P<version>[0-9.]+),(?P<year>\\d{{4}})/sqlite-amalgamation-(?P<number>\\d{{7}})\\.zip` finds no version in `{}/download.html`; the page starts:\n  | <html>\n  | <h1>Downloads moved</h1>\n  | <p>See the new page.</p>\n\
         hint: the page may have changed its layout: fix `regex`",
        server.uri()
    );
    assert!(
        run.stderr.contains(&expected),
        "expected {expected}\nin:\n{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_single_file_from_a_tag_listing_touches_nothing_beside_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/nss/json-tags"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tags": [
            {"tag": "NSS_3_118_BETA1"}, {"tag": "NSS_3_117_RTM"},
            {"tag": "NSS_3_116_1_RTM"}, {"tag": "NSS_3_116_RTM"}
        ]})))
        .mount(&server)
        .await;
    let old = b"# certdata 3.116\nCKA_LABEL \"Old Root\"\n".to_vec();
    let new = b"# certdata 3.117\nCKA_LABEL \"New Root\"\n".to_vec();
    let raw = "/nss/raw-file/{tag}/lib/ckfw/builtins/certdata.txt";
    mount_file(&server, &raw.replace("{tag}", "NSS_3_116_RTM"), old.clone()).await;
    mount_file(&server, &raw.replace("{tag}", "NSS_3_117_RTM"), new.clone()).await;
    let mut project = Project::new();
    project
        .manifest(&format!(
            "[deps.root-certificates]\npath = \"tools/certdata.txt\"\nsource = \"url\"\n\
             url = \"{uri}/nss/json-tags\"\n\
             regex = '(?P<tag>NSS_(?P<major>\\d+)_(?P<minor>\\d+)(?:_(?P<patch>\\d+))?_RTM)'\n\
             archive = \"{uri}{raw}\"\nformat = \"file\"\nversion = \"3.116\"\nsha256 = \"{sha}\"\n",
            uri = server.uri(),
            sha = sha256(&old)
        ))
        .write("tools/certdata.txt", std::str::from_utf8(&old).unwrap())
        .write("tools/mk-ca-bundle.pl", "#!/usr/bin/perl\n")
        .write("tools/README.md", "tools\n");
    project.commit_all("initial");

    // The vendored file is exactly what the recorded version gives.
    let run = project.run(&["verify", "root-certificates"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.starts_with(&format!(
            "root-certificates: 3.116 matches {}/nss/raw-file/NSS_3_116_RTM/lib/ckfw/builtins/certdata.txt (sha256 matches `sha256` in the registry)",
            server.uri()
        )),
        "{}",
        run.stdout
    );

    let run = project.run(&["root-certificates"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("root-certificates  3.116  3.117  committed "),
        "{}",
        run.stdout
    );
    assert_eq!(
        project.git(&["show", "deps-update/root-certificates:tools/certdata.txt"]),
        std::str::from_utf8(&new).unwrap().trim_end()
    );
    let changed = project.git(&[
        "diff",
        "--name-status",
        "main",
        "deps-update/root-certificates",
    ]);
    assert_eq!(changed, "M\tdeps.toml\nM\ttools/certdata.txt");
    let registry = project.git(&["show", "deps-update/root-certificates:deps.toml"]);
    assert!(registry.contains("version = \"3.117\""), "{registry}");
    assert!(
        registry.contains(&format!("sha256 = \"{}\"", sha256(&new))),
        "{registry}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn values_from_a_page_cannot_move_the_download_to_another_host() {
    let server = MockServer::start().await;
    let attacker = MockServer::start().await;
    let port = attacker.address().port();
    // The page's capture is pasted after the host: `https://dl.example.com{path}`.
    Mock::given(method("GET"))
        .and(path("/download.html"))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!(
            "PRODUCT,2.0.0,@127.0.0.1:{port}/lib-2.0.0.tgz\nPRODUCT,1.9.0,/../../admin/lib.tgz\n"
        )))
        .mount(&server)
        .await;
    mount_file(&attacker, "/lib-2.0.0.tgz", b"not upstream's".to_vec()).await;
    let mut project = Project::new();
    project
        .manifest(&format!(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"url\"\nurl = \"{}/download.html\"\n\
             regex = 'PRODUCT,(?P<version>[0-9.]+),(?P<path>\\S+)'\n\
             archive = \"https://dl.example.com{{path}}\"\nversion = \"1.0.0\"\n",
            server.uri()
        ))
        .write("deps/lib/lib.c", "1\n");
    project.commit_all("initial");
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "the upstream's answer would move a download elsewhere: the address template `https://dl.example.com{{path}}` `{{path}}` = `@127.0.0.1:{port}/lib-2.0.0.tgz` would change the address's host"
        )),
        "{}",
        run.stderr
    );
    assert!(attacker.received_requests().await.unwrap().is_empty());
    assert!(
        project
            .git(&["branch", "--list", "deps-update/*"])
            .is_empty()
    );
}
