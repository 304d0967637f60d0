//! `audit` against a fake OSV (batch, details, a token-only page, a 500 then success, a 400)
//! and the fake GitHub (tags, security advisories).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{Project, github_dep, mount_json, mount_releases};

const C56: &str = "5656565656565656565656565656565656565656";
const C57: &str = "5757575757575757575757575757575757575757";

/// OSV's batch endpoint: answers each query by what it asks, pages acorn's answer behind a
/// token-only page, fails the first call with a 500, and records every call.
#[derive(Clone)]
struct FakeOsv(Arc<Mutex<Vec<Value>>>, String);

impl Respond for FakeOsv {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let mut calls = self.0.lock().unwrap();
        calls.push(body.clone());
        if calls.len() == 1 {
            return ResponseTemplate::new(500).set_body_string("overloaded");
        }
        let results: Vec<Value> = body["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                let asks = |name: &str, version: &str| {
                    q["package"]["name"] == name && q["version"] == version
                };
                if q["commit"] == C56 || asks(&self.1, "v1.56.0") {
                    json!({"vulns": [{"id": "OSV-2023-1", "modified": "2023-10-10T00:00:00Z"}]})
                } else if asks("acorn", "8.0.0") && q["page_token"].is_null() {
                    json!({"next_page_token": "page-2"})
                } else if asks("acorn", "8.0.0") && q["page_token"] == "page-2" {
                    json!({"vulns": [{"id": "GHSA-acrn-0000-0001"}]})
                } else {
                    json!({})
                }
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"results": results}))
    }
}

async fn setup(extra_nghttp2: &str, extra_acorn: &str) -> (Project, MockServer, FakeOsv) {
    let server = MockServer::start().await;
    // The fake GitHub stands in for github.com: OSV names nghttp2 by its address.
    let nghttp2 = format!("{}/nghttp2/nghttp2", server.uri());
    let osv = FakeOsv(Arc::default(), nghttp2.clone());
    Mock::given(method("POST"))
        .and(path("/osv/v1/querybatch"))
        .respond_with(osv.clone())
        .mount(&server)
        .await;
    mount_json(
        &server,
        "/osv/v1/vulns/OSV-2023-1",
        json!({
            "id": "OSV-2023-1", "aliases": ["CVE-2023-44487"],
            "summary": "HTTP/2 rapid reset exhausts the server",
            // One record, several projects (as OSV has it for CVE-2023-44487): each its
            // own fix; nghttp2's is the one that matters here.
            "affected": [
                {"ranges": [{"type": "GIT", "repo": "https://github.com/envoyproxy/envoy",
                    "events": [{"introduced": "0"}, {"fixed": "1.27.1"}]}]},
                {"ranges": [{"type": "GIT", "repo": format!("{nghttp2}.git"),
                    "events": [{"introduced": "0"}, {"fixed": C57}]}]}
            ],
            "database_specific": {"severity": "HIGH"}
        }),
    )
    .await;
    mount_json(
        &server,
        "/osv/v1/vulns/GHSA-acrn-0000-0001",
        json!({
            "id": "GHSA-acrn-0000-0001", "aliases": ["CVE-2099-0001"],
            "summary": "Regular expression denial of service",
            "affected": [{"package": {"ecosystem": "npm", "name": "acorn"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "8.1.0"}]}]}]
        }),
    )
    .await;
    // GitHub: releases, tags (1.56.0 annotated), and the repository's own advisories: one
    // that OSV has under a CVE alias, one that states no versions.
    mount_releases(
        &server,
        "nghttp2/nghttp2",
        &[("v1.57.0", false, false), ("v1.56.0", false, false)],
    )
    .await;
    mount_json(
        &server,
        "/repos/nghttp2/nghttp2/git/ref/tags/v1.56.0",
        json!({"object": {"type": "tag", "sha": "a".repeat(40)}}),
    )
    .await;
    mount_json(
        &server,
        &format!("/repos/nghttp2/nghttp2/git/tags/{}", "a".repeat(40)),
        json!({"object": {"type": "commit", "sha": C56}}),
    )
    .await;
    mount_json(
        &server,
        "/repos/nghttp2/nghttp2/git/ref/tags/v1.57.0",
        json!({"object": {"type": "commit", "sha": C57}}),
    )
    .await;
    mount_json(
        &server,
        "/repos/nghttp2/nghttp2/security-advisories",
        json!([
            {"ghsa_id": "GHSA-vx74-f528-fxqg", "cve_id": "CVE-2023-44487", "summary": "rapid reset",
             "severity": "high", "html_url": "https://github.com/nghttp2/nghttp2/security/advisories/GHSA-vx74-f528-fxqg",
             "vulnerabilities": [{"package": null, "vulnerable_version_range": "< 1.57.0", "patched_versions": "1.57.0"}]},
            {"ghsa_id": "GHSA-xxxx-nove-rsns", "cve_id": null, "summary": "no versions given",
             "severity": "low", "html_url": "https://github.com/nghttp2/nghttp2/security/advisories/GHSA-xxxx-nove-rsns",
             "vulnerabilities": null}
        ]),
    )
    .await;
    mount_json(
        &server,
        "/npm/acorn",
        json!({"dist-tags": {"latest": "8.1.0"}, "versions": {"8.0.0": {}, "8.1.0": {}}}),
    )
    .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.env("OSV_API_URL", &format!("{}/osv", server.uri()));
    project.manifest(&format!(
        "{}\n[deps.acorn]\npath = \"deps/acorn\"\nsource = \"npm\"\npackage = \"acorn\"\nversion = \"8.0.0\"\n{extra_acorn}\n",
        github_dep("nghttp2", "github-release", "nghttp2/nghttp2", "1.56.0", extra_nghttp2)
    ));
    (project, server, osv)
}

#[tokio::test(flavor = "multi_thread")]
async fn finds_what_osv_and_github_know_and_what_the_update_fixes() {
    let (project, _server, osv) = setup("", "").await;
    let run = project.run(&["audit", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let reports = run.json();
    let nghttp2 = &reports[0];
    assert_eq!(nghttp2["version"], "1.56.0");
    assert_eq!(nghttp2["latest"], "1.57.0");
    let advisories = nghttp2["advisories"].as_array().unwrap();
    assert_eq!(
        advisories.len(),
        1,
        "one advisory under two names: {advisories:?}"
    );
    assert_eq!(advisories[0]["id"], "OSV-2023-1");
    assert_eq!(
        advisories[0]["aliases"],
        json!(["CVE-2023-44487", "GHSA-vx74-f528-fxqg"])
    );
    assert_eq!(advisories[0]["severity"], "HIGH");
    assert_eq!(advisories[0]["fixed_in"], json!(["575757575757"]));
    assert_eq!(advisories[0]["fixed_by_update"], true);
    assert!(
        nghttp2["notes"][0]
            .as_str()
            .unwrap()
            .contains("GitHub advisory GHSA-xxxx-nove-rsns states no affected versions"),
        "{nghttp2}"
    );
    let acorn = &reports[1];
    assert_eq!(acorn["advisories"][0]["id"], "GHSA-acrn-0000-0001");
    assert_eq!(acorn["advisories"][0]["fixed_in"], json!(["8.1.0"]));
    assert_eq!(acorn["advisories"][0]["fixed_by_update"], true);

    // One batch (after the 500), then one page for acorn's token; commits and GIT tags asked.
    let calls = osv.0.lock().unwrap().clone();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(calls[1], calls[0]);
    let first: Vec<&Value> = calls[1]["queries"].as_array().unwrap().iter().collect();
    assert!(first.contains(&&json!({"commit": C56})));
    assert!(first.contains(&&json!({"commit": C57})));
    assert!(
        first.contains(
            &&json!({"package": {"name": osv.1, "ecosystem": "GIT"}, "version": "v1.56.0"})
        )
    );
    assert!(
        first.contains(
            &&json!({"package": {"name": "acorn", "ecosystem": "npm"}, "version": "8.0.0"})
        )
    );
    assert_eq!(
        calls[2]["queries"],
        json!([{"package": {"name": "acorn", "ecosystem": "npm"}, "version": "8.0.0", "page_token": "page-2"}])
    );

    // The table says the same for people.
    let run = project.run(&["audit"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains(
            "nghttp2  1.56.0   OSV-2023-1 CVE-2023-44487          HIGH      575757575757  fixed by the update to 1.57.0\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("audited 2 dependencies: 2 advisories affect what is vendored"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ignored_advisories_are_listed_with_their_reason_and_pass() {
    let (project, _server, _osv) = setup(
        "ignore-advisories = [{ id = \"CVE-2023-44487\", reason = \"Node limits streams itself\" }]",
        "ignore-advisories = [{ id = \"GHSA-acrn-0000-0001\", reason = \"only used on trusted input\" }]",
    )
    .await;
    let run = project.run(&["audit"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("ignored: Node limits streams itself"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("ignored: only used on trusted input"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("0 advisories affect what is vendored (2 more ignored, with reasons)"),
        "{}",
        run.stderr
    );
    // A reason is required.
    let project = Project::new();
    project.manifest(
        "[deps.a]\npath = \"a\"\nsource = \"npm\"\npackage = \"a\"\nversion = \"1.0.0\"\nignore-advisories = [{ id = \"CVE-1\" }]\n",
    );
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("each ignored advisory needs an `id` and a `reason`"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_osv_that_refuses_the_query_is_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/querybatch"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"code": 3, "message": "Invalid query."})),
        )
        .mount(&server)
        .await;
    mount_json(
        &server,
        "/npm/acorn",
        json!({"dist-tags": {"latest": "8.0.0"}, "versions": {"8.0.0": {}}}),
    )
    .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.env("OSV_API_URL", &server.uri());
    project.manifest(
        "[deps.acorn]\npath = \"deps/acorn\"\nsource = \"npm\"\npackage = \"acorn\"\nversion = \"8.0.0\"\n",
    );
    let run = project.run(&["audit"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("error: OSV could not be asked"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("/v1/querybatch` answered 400: Invalid query."),
        "{}",
        run.stderr
    );

    // No answer at all: the cause in one line, and what to do about being offline.
    project.env("OSV_API_URL", "http://127.0.0.1:9");
    let run = project.run(&["audit"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stderr,
        "error: OSV could not be asked\nCaused by:\n  the connection to `127.0.0.1:9` was refused\nhint: check the network connection, and that the API addresses (`GITHUB_API_URL`, `npm_config_registry`, `OSV_API_URL`, `settings` in `deps.toml`) point where they should, and the remotes' `url`s; then run the command again\n"
    );
    // `--json` gives the same hint, and the kind scripts group by.
    let run = project.run(&["audit", "--json"]);
    let error = &run.json()["error"];
    assert_eq!(error["kind"], "unreachable", "{error}");
    assert!(
        error["hint"]
            .as_str()
            .unwrap()
            .starts_with("check the network connection, and that the API addresses"),
        "{error}"
    );
}

/// Records the pull requests created on `node/node`.
#[derive(Clone, Default)]
struct Pulls(Arc<Mutex<Vec<Value>>>);

impl Respond for Pulls {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if request.method.as_str() == "GET" || !request.url.path().ends_with("/pulls") {
            return ResponseTemplate::new(200).set_body_json(json!([]));
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        self.0.lock().unwrap().push(body);
        ResponseTemplate::new(201).set_body_json(
            json!({"number": 1, "html_url": "https://github.example/node/node/pull/1"}),
        )
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pull_request_of_an_update_says_which_advisories_it_fixes() {
    let server_archive = MockServer::start().await;
    let archive = crate::support::tar_gz(&[crate::support::Entry::File(
        "nghttp2-1.57.0/lib/session.c",
        b"int fixed;\n",
    )]);
    crate::support::mount_file(&server_archive, "/nghttp2-1.57.0.tar.gz", archive).await;
    let (mut project, server, _osv) = setup(
        &format!(
            "archive = \"{}/nghttp2-{{version}}.tar.gz\"",
            server_archive.uri()
        ),
        "",
    )
    .await;
    let pulls = Pulls::default();
    Mock::given(wiremock::matchers::path_regex(
        "^/repos/node/node/(pulls|issues)",
    ))
    .respond_with(pulls.clone())
    .mount(&server)
    .await;
    project.write("deps/nghttp2/lib/session.c", "int old;\n");
    project.commit_all("initial");
    let origin = project.scratch("origin.git");
    crate::support::git(&origin, &["init", "-q", "--bare", "-b", "main"]);
    project.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    project.git(&["push", "-q", "origin", "main"]);
    project.env("GITHUB_REPOSITORY", "node/node");
    project.env("GITHUB_TOKEN", "ghp_token_of_the_tests");
    let run = project.run(&["update", "nghttp2", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    let body = pulls.0.lock().unwrap()[0]["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        body.contains(
            "### Security\n\n**Fixed by this update**\n\n- [OSV\\-2023\\-1](<https://osv.dev/vulnerability/OSV-2023-1>) (CVE\\-2023\\-44487, GHSA\\-vx74\\-f528\\-fxqg), HIGH: HTTP/2 rapid reset exhausts the server\n"
        ),
        "{body}"
    );
    assert!(!body.contains("could not be looked up"), "{body}");
}
