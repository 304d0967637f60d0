//! `check` against a fake npm registry.

use serde_json::json;
use wiremock::matchers::{header_regex, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::Project;

fn npm_dep(name: &str, package: &str, version: &str, extra: &str) -> String {
    format!(
        "[deps.{name}]\npath = \"deps/{name}\"\nsource = \"npm\"\npackage = \"{package}\"\nversion = \"{version}\"\n{extra}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn picks_the_newest_published_version_up_to_latest() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/npm/undici"))
        .and(header_regex(
            "accept",
            r"^application/vnd\.npm\.install-v1\+json",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "name": "undici",
            "dist-tags": {"latest": "7.16.0", "next": "8.0.0-alpha.1"},
            "versions": {
                "6.21.3": {}, "7.15.0": {}, "7.16.0": {},
                "7.16.1": {"deprecated": "published by mistake"},
                "8.0.0": {}, "8.0.0-alpha.1": {}
            }
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/npm/@types%2Fnode"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "dist-tags": {"latest": "24.3.0"}, "versions": {"24.3.0": {}, "24.2.0": {}}
        })))
        .mount(&server)
        .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.manifest(
        &[
            npm_dep("undici", "undici", "7.15.0", ""),
            npm_dep("undici-next", "undici", "7.15.0", "prerelease = true"),
            npm_dep("undici-6", "undici", "6.0.0", "allow = \"<7\""),
            npm_dep("types", "@types/node", "24.3.0", ""),
        ]
        .concat(),
    );
    let run = project.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "NAME         CURRENT  LATEST  STATUS\n\
         undici       7.15.0   7.16.0  update available\n\
         undici-next  7.15.0   8.0.0   update available\n\
         undici-6     6.0.0    6.21.3  update available\n\
         types        24.3.0   24.3.0  up to date\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_package_is_named() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/npm/no-such-package"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "Not found"})))
        .mount(&server)
        .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.manifest(&npm_dep("ghost", "no-such-package", "1.0.0", ""));
    let run = project.run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "error: `ghost`: npm package `no-such-package` was not found in `{}/npm/`",
            server.uri()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: check `package`"),
        "{}",
        run.stderr
    );
}
