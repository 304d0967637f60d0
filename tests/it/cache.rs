//! The answers cache speeds up `check`, and never decides what `update` downloads or what it
//! is verified against: an entry written by someone else (a shared CI cache) changes nothing.

use serde_json::json;
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Entry, Project, mount_file, npm_integrity, tar_gz};

#[tokio::test(flavor = "multi_thread")]
async fn a_poisoned_cache_entry_never_chooses_what_is_vendored() {
    let server = MockServer::start().await;
    let real = tar_gz(&[Entry::File(
        "package/index.js",
        b"module.exports = 'real 2.0.0';\n",
    )]);
    let evil = tar_gz(&[Entry::File(
        "package/index.js",
        b"module.exports = 'attacker';\n",
    )]);
    let packument = |tarball: &str, integrity: &str| {
        json!({
            "dist-tags": {"latest": "2.0.0"},
            "versions": {
                "1.0.0": {"dist": {"tarball": format!("{}/t/pkg-1.0.0.tgz", server.uri()), "integrity": "sha512-x"}},
                "2.0.0": {"dist": {"tarball": tarball, "integrity": integrity}},
            }
        })
    };
    // The registry answers a conditional request with 304, as npm does for an unchanged
    // document: whatever the cache holds would then stand.
    Mock::given(method("GET"))
        .and(path("/npm/pkg"))
        .and(header_exists("if-none-match"))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/npm/pkg"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .set_body_json(packument(
                    &format!("{}/t/pkg-2.0.0.tgz", server.uri()),
                    &npm_integrity(&real),
                )),
        )
        .mount(&server)
        .await;
    mount_file(&server, "/t/pkg-2.0.0.tgz", real).await;
    mount_file(&server, "/evil/pkg-2.0.0.tgz", evil.clone()).await;

    let mut project = Project::new();
    project.fake_upstreams(&server);
    project
        .manifest("[deps.pkg]\npath = \"deps/pkg\"\nsource = \"npm\"\npackage = \"pkg\"\nversion = \"1.0.0\"\n")
        .write("deps/pkg/index.js", "module.exports = '1.0.0';\n");
    project.commit_all("initial");
    let run = project.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");

    // Someone who can write the cache rewrites the stored answer: another tarball, with the
    // integrity that matches it.
    let folder = project.cache().join("deps-update/http");
    let mut poisoned = 0;
    for entry in std::fs::read_dir(&folder).unwrap() {
        let file = entry.unwrap().path();
        let mut stored: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        if !stored["url"].as_str().unwrap().ends_with("/npm/pkg") {
            continue;
        }
        stored["body"] = json!(
            packument(
                &format!("{}/evil/pkg-2.0.0.tgz", server.uri()),
                &npm_integrity(&evil)
            )
            .to_string()
        );
        std::fs::write(&file, serde_json::to_vec(&stored).unwrap()).unwrap();
        poisoned += 1;
    }
    assert_eq!(poisoned, 1, "the packument was cached");

    let run = project.run(&["pkg"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        project.git(&["show", "deps-update/pkg:deps/pkg/index.js"]),
        "module.exports = 'real 2.0.0';"
    );
    let requests = server.received_requests().await.unwrap();
    assert!(
        !requests.iter().any(|r| r.url.path().starts_with("/evil/")),
        "the attacker's tarball was never asked for"
    );
}
