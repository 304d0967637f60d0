//! `check` against a fake GitHub: tag schemes, failures, rate limits, tokens, caching.

use std::io::{Read, Write};
use std::net::TcpListener;

use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Project, github_dep, mount_releases, mount_tags};

#[tokio::test(flavor = "multi_thread")]
async fn reports_updates_for_real_tag_schemes() {
    let server = MockServer::start().await;
    mount_releases(
        &server,
        "nghttp2/nghttp2",
        &[
            ("v1.65.0", true, false),
            ("v1.64.1-rc1", false, true),
            ("v1.64.0", false, false),
            ("v1.63.0", false, false),
        ],
    )
    .await;
    mount_releases(
        &server,
        "c-ares/c-ares",
        &[
            ("v1.34.5", false, false),
            ("cares-1_19_1", false, false),
            ("cares-1_9_1", false, false),
        ],
    )
    .await;
    mount_tags(
        &server,
        "nodejs/llhttp",
        "release/v",
        &["release/v9.2.1", "release/v9.3.0"],
    )
    .await;
    mount_tags(
        &server,
        "libuv/libuv",
        "v",
        &["v1.51.0", "v1.50.0", "v1.52.0-rc1"],
    )
    .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.manifest(
        &[
            github_dep("nghttp2", "github-release", "nghttp2/nghttp2", "1.63.0", ""),
            github_dep(
                "cares",
                "github-release",
                "c-ares/c-ares",
                "1.19.1",
                "tag = [\"v{version}\", \"cares-{major}_{minor}_{patch}\"]",
            ),
            github_dep(
                "llhttp",
                "github-tag",
                "nodejs/llhttp",
                "9.3.0",
                "tag = \"release/v{version}\"",
            ),
            github_dep(
                "uv",
                "github-tag",
                "libuv/libuv",
                "1.50.0",
                "tag = \"v{version}\"",
            ),
        ]
        .concat(),
    );

    let run = project.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "NAME     CURRENT  LATEST  STATUS\n\
         nghttp2  1.63.0   1.64.0  update available\n\
         cares    1.19.1   1.34.5  update available\n\
         llhttp   9.3.0    9.3.0   up to date\n\
         uv       1.50.0   1.51.0  update available\n"
    );
    assert!(
        run.stderr
            .contains("checked 4 dependencies: 3 with updates, 0 failed"),
        "{}",
        run.stderr
    );

    let run = project.run(&["check", "--json", "cares"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.json(),
        serde_json::json!([{
            "name": "cares", "source": "github-release", "current": "1.19.1", "latest": "1.34.5",
            "tag": "v1.34.5", "status": "update-available", "note": null, "error": null,
            "failure": null, "group": null
        }])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_failure_never_hides_the_others() {
    let server = MockServer::start().await;
    mount_releases(&server, "good/one", &[("v2.0.0", false, false)]).await;
    Mock::given(method("GET"))
        .and(path("/repos/broken/json/releases"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"tag_name\": oops"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/no/such/releases"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(serde_json::json!({"message": "Not Found"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/always/down/releases"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream overloaded"))
        .expect(6)
        .mount(&server)
        .await;
    let mut project = Project::new();
    project
        .fake_upstreams(&server)
        .env("DEPS_UPDATE_HTTP_ATTEMPTS", "3");
    project.manifest(
        &[
            github_dep("malformed", "github-release", "broken/json", "1.0.0", ""),
            github_dep("good", "github-release", "good/one", "1.0.0", ""),
            github_dep("missing", "github-release", "no/such", "1.0.0", ""),
            github_dep("down", "github-release", "always/down", "1.0.0", ""),
        ]
        .concat(),
    );

    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let results = run.json();
    let status: Vec<&str> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["error", "update-available", "error", "error"]);
    let error = |i: usize| results[i]["error"].as_str().unwrap().to_owned();
    assert!(
        error(0).contains("sent a response that is not the JSON expected"),
        "{}",
        error(0)
    );
    assert_eq!(
        error(2),
        format!(
            "GitHub repository `no/such` was not found at `{}/`",
            server.uri()
        )
    );
    assert!(
        error(3).contains(&format!("`{}/repos/always/down/releases?per_page=100` answered 503 after 3 attempts: upstream overloaded", server.uri())),
        "{}",
        error(3)
    );
    assert!(
        run.stderr
            .contains("error: `missing`: GitHub repository `no/such` was not found"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: check `repo`; if the repository is private, set `GITHUB_TOKEN`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: the upstream may be down; run the command again later"),
        "{}",
        run.stderr
    );

    // The table form says the same, with the details below it.
    let run = project.run(&["check"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("good       1.0.0    2.0.0   update available\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("malformed  1.0.0    -       error (see below)\n"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_a_server_error_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/flaky/repo/releases"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_releases(&server, "flaky/repo", &[("v1.1.0", false, false)]).await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.manifest(&github_dep(
        "flaky",
        "github-release",
        "flaky/repo",
        "1.0.0",
        "",
    ));
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()[0]["latest"], "1.1.0");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

/// A server whose first connection is reset (closed with the request unread) and whose
/// second answers; returns its address.
fn resetting_server(body: &'static str) -> (String, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut accepted = 0;
        for stream in listener.incoming().take(2) {
            let mut stream = stream.unwrap();
            accepted += 1;
            if accepted == 1 {
                // Wait for the request, leave it unread, close: the kernel answers with RST.
                std::thread::sleep(std::time::Duration::from_millis(50));
                drop(stream);
                continue;
            }
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).unwrap();
        }
        accepted
    });
    (address, handle)
}

#[test]
fn retries_a_connection_reset() {
    let (address, server) =
        resetting_server(r#"[{"tag_name": "v3.1.0", "draft": false, "prerelease": false}]"#);
    let mut project = Project::new();
    project.env("GITHUB_API_URL", &address);
    project.manifest(&github_dep(
        "reset",
        "github-release",
        "reset/repo",
        "3.0.0",
        "",
    ));
    let run = project.run(&["check", "--json", "--verbose"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()[0]["latest"], "3.1.0");
    assert!(run.stderr.contains("retrying"), "{}", run.stderr);
    assert_eq!(server.join().unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_rate_limit_fails_saying_when_it_resets() {
    let server = MockServer::start().await;
    let reset = super::support::now() + 41 * 60;
    Mock::given(method("GET"))
        .and(path("/repos/limited/repo/releases"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-limit", "60")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(
                    serde_json::json!({"message": "API rate limit exceeded for 127.0.0.1."}),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.manifest(&github_dep(
        "limited",
        "github-release",
        "limited/repo",
        "1.0.0",
        "",
    ));
    let started = std::time::Instant::now();
    let run = project.run(&["check"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "it must not wait 41 minutes"
    );
    assert_eq!(run.code, 1, "{run:?}");
    let reset_date = httpdate::fmt_http_date(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(reset as u64),
    );
    assert!(
        run.stderr.contains(&format!("rate limit reached at `{}/repos/limited/repo/releases?per_page=100`; it resets at {reset_date} (in 41 minutes)", server.uri())),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: set `GITHUB_TOKEN` (or `GH_TOKEN`)"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_rate_limit_is_waited_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/busy/repo/releases"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_releases(&server, "busy/repo", &[("v1.0.1", false, false)]).await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.manifest(&github_dep(
        "busy",
        "github-release",
        "busy/repo",
        "1.0.0",
        "",
    ));
    let started = std::time::Instant::now();
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "it waited for Retry-After"
    );
    assert_eq!(run.json()[0]["latest"], "1.0.1");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_is_sent_to_github_only_and_never_shown() {
    const TOKEN: &str = "ghp_s3cr3tT0k3nValue";
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/private/repo/releases"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"message": "Bad credentials"})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let npm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/acorn"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&npm)
        .await;
    Mock::given(method("GET"))
        .and(path("/acorn"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"dist-tags": {"latest": "8.15.0"}, "versions": {"8.15.0": {}}}),
        ))
        .mount(&npm)
        .await;
    let mut project = Project::new();
    project
        .env("GITHUB_API_URL", &server.uri())
        .env("npm_config_registry", &npm.uri())
        .env("GITHUB_TOKEN", TOKEN);
    project.manifest(&[
        github_dep("private", "github-release", "private/repo", "1.0.0", ""),
        "[deps.acorn]\npath = \"deps/acorn\"\nsource = \"npm\"\npackage = \"acorn\"\nversion = \"8.14.0\"\n".into(),
    ].concat());
    for args in [
        &["check", "--verbose"][..],
        &["check", "--json", "--verbose"][..],
    ] {
        let run = project.run(args);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
            "the token leaked: {run:?}"
        );
        assert!(
            run.stderr.contains("refused the credentials (401)"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("hint: check that `GITHUB_TOKEN` is valid and not expired"),
            "{}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn follows_pagination_links() {
    let server = MockServer::start().await;
    let next = format!(
        "<{}/repos/big/repo/releases?per_page=100&page=2>; rel=\"next\"",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/repos/big/repo/releases"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!([{"tag_name": "v2.0.0"}])),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/big/repo/releases"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", next.as_str())
                .set_body_json(serde_json::json!([{"tag_name": "v1.9.0"}])),
        )
        .mount(&server)
        .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.manifest(&github_dep(
        "big",
        "github-release",
        "big/repo",
        "1.0.0",
        "",
    ));
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.json()[0]["latest"],
        "2.0.0",
        "the highest version is on page 2"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_upstream_answers_304_from_the_cache() {
    let server = MockServer::start().await;
    let body = serde_json::json!([{"tag_name": "v1.2.0"}]);
    Mock::given(method("GET"))
        .and(path("/repos/cached/repo/releases"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"v1\""))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/cached/repo/releases"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .set_body_json(body),
        )
        .mount(&server)
        .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.manifest(&github_dep(
        "cached",
        "github-release",
        "cached/repo",
        "1.0.0",
        "",
    ));
    let cold = project.run(&["check", "--verbose"]);
    let warm = project.run(&["check", "--verbose"]);
    assert_eq!(cold.code, 0, "{cold:?}");
    assert_eq!(warm.stdout, cold.stdout);
    assert!(
        cold.stderr
            .contains("1 HTTP requests, 0 answered 304 Not Modified"),
        "{}",
        cold.stderr
    );
    assert!(
        warm.stderr
            .contains("1 HTTP requests, 1 answered 304 Not Modified"),
        "{}",
        warm.stderr
    );
    let requests = server.received_requests().await.unwrap();
    assert!(requests[0].headers.get("if-none-match").is_none());
    assert_eq!(requests[1].headers.get("if-none-match").unwrap(), "\"v1\"");

    // --no-cache neither reads nor writes it.
    let uncached = project.run(&["check", "--no-cache", "--verbose"]);
    assert!(
        uncached.stderr.contains("1 HTTP requests, 0 answered 304"),
        "{}",
        uncached.stderr
    );
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let mut project = Project::new();
    project.env("GITHUB_API_URL", "http://api.github.example.com");
    project.manifest(&github_dep("x", "github-release", "a/b", "1.0.0", ""));
    let run = project.run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("refusing plain-text `http://api.github.example.com/repos/a/b/releases?per_page=100`: only loopback addresses may use `http://` or `git://`"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retired_api_is_reported_as_gone_not_as_missing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/old/api/releases"))
        .respond_with(ResponseTemplate::new(410).set_body_json(
            serde_json::json!({"message": "This API version is no longer supported."}),
        ))
        .mount(&server)
        .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.manifest(&github_dep("old", "github-release", "old/api", "1.0.0", ""));
    let run = project.run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "`{}/repos/old/api/releases?per_page=100` is gone (410): This API version is no longer supported.",
            server.uri()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: GitHub retired this endpoint or the API version"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("not found"), "{}", run.stderr);
}
