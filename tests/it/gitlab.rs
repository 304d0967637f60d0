//! `source = "gitlab-release"` and `source = "gitlab-tag"` against a fake GitLab API:
//! releases with assets, tags across pages, the API's tag archive, and its failures.

use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Entry, Project, mount_file, sha256, tar_gz};

/// A project whose GitLab is the fake; `GITLAB_TOKEN` set when `token` is.
fn project(server: &MockServer, manifest: &str, token: Option<&str>) -> Project {
    let mut project = Project::new();
    project.env("GITLAB_API_URL", &format!("{}/api/v4", server.uri()));
    if let Some(token) = token {
        project.env("GITLAB_TOKEN", token);
    }
    project.manifest(manifest);
    project
}

const LIBXML2: &str = "[deps.libxml2]\npath = \"deps/libxml2\"\nsource = \"gitlab-release\"\n\
    repo = \"GNOME/libxml2\"\nversion = \"2.13.0\"\nasset = \"libxml2-{version}.tar.gz\"\n";

#[tokio::test(flavor = "multi_thread")]
async fn releases_with_assets_update_end_to_end() {
    let server = MockServer::start().await;
    // Downloads come from another host, as GitLab's asset links usually do.
    let downloads = MockServer::start().await;
    let tarball = tar_gz(&[
        Entry::File("libxml2-2.14.5/parser.c", b"// 2.14.5\n"),
        Entry::File("libxml2-2.14.5/Copyright", b"MIT\n"),
    ]);
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/GNOME%2Flibxml2/releases"))
        .and(header("private-token", "glpat-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"tag_name": "v2.15.0", "upcoming_release": true, "assets": {"links": []}},
            {"tag_name": "v2.14.5", "upcoming_release": false, "assets": {"links": [
                {"name": "libxml2-2.14.5.tar.gz", "url": "https://elsewhere.invalid/x",
                 "direct_asset_url": format!("{}/dl/libxml2-2.14.5.tar.gz", downloads.uri())}
            ]}},
            {"tag_name": "v2.13.0", "assets": {"links": []}},
        ])))
        .mount(&server)
        .await;
    mount_file(&downloads, "/dl/libxml2-2.14.5.tar.gz", tarball.clone()).await;
    let mut project = project(&server, LIBXML2, Some("glpat-secret"));
    project.write("deps/libxml2/parser.c", "// 2.13.0\n");
    project.commit_all("initial");

    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let entry = &run.json()[0];
    // An upcoming release is not proposed: it counts as a pre-release.
    assert_eq!(entry["latest"], "2.14.5", "{entry}");
    assert_eq!(entry["tag"], "v2.14.5");
    assert!(!run.stderr.contains("glpat-secret"), "{}", run.stderr);

    let run = project.run(&["libxml2"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        project.git(&["show", "deps-update/libxml2:deps/libxml2/parser.c"]),
        "// 2.14.5"
    );
    let registry = project.git(&["show", "deps-update/libxml2:deps.toml"]);
    assert!(
        registry.contains(&format!("sha256 = \"{}\"", sha256(&tarball))),
        "{registry}"
    );
    // The token goes to the GitLab API's origin only, never to the download host.
    let downloaded = downloads.received_requests().await.unwrap();
    assert_eq!(downloaded.len(), 1);
    assert!(downloaded[0].headers.get("private-token").is_none());
    assert!(downloaded[0].headers.get("authorization").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_are_read_across_pages_and_archived_by_the_api() {
    let server = MockServer::start().await;
    let tags = "/api/v4/projects/libtiff%2Flibtiff/repository/tags";
    Mock::given(method("GET"))
        .and(path(tags))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"name": "v4.7.0"}, {"name": "v4.6.0"}])),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(tags))
        .and(query_param("per_page", "100"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!("<{}{tags}?page=2&per_page=100>; rel=\"next\"", server.uri()).as_str(),
                )
                .set_body_json(json!([{"name": "v4.5.1"}, {"name": "Release-v3-9-7"}])),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/api/v4/projects/libtiff%2Flibtiff/repository/archive.tar.gz",
        ))
        .and(query_param("sha", "v4.7.0"))
        .respond_with(
            ResponseTemplate::new(200).set_body_bytes(tar_gz(&[Entry::File(
                "libtiff-v4.7.0-0123abc/libtiff/tif_dir.c",
                b"// 4.7.0\n",
            )])),
        )
        .mount(&server)
        .await;
    let mut project = project(
        &server,
        "[deps.libtiff]\npath = \"deps/libtiff\"\nsource = \"gitlab-tag\"\nrepo = \"libtiff/libtiff\"\n\
         version = \"4.5.1\"\ntag = \"v{version}\"\n",
        None,
    );
    project.write("deps/libtiff/libtiff/tif_dir.c", "// 4.5.1\n");
    project.commit_all("initial");
    let run = project.run(&["update", "libtiff"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("libtiff  4.5.1  4.7.0  committed "),
        "{}",
        run.stdout
    );
    assert_eq!(
        project.git(&["show", "deps-update/libtiff:deps/libtiff/libtiff/tif_dir.c"]),
        "// 4.7.0"
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/libtiff"]);
    assert!(
        message.contains("/api/v4/projects/libtiff%2Flibtiff/repository/archive.tar.gz?sha=v4.7.0"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn not_found_unauthorized_and_rate_limits_say_what_to_do() {
    let server = MockServer::start().await;
    let releases = |project: &str| format!("/api/v4/projects/{project}/releases");
    Mock::given(method("GET"))
        .and(path(releases("gone%2Fproject")))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "404 Project Not Found"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(releases("private%2Fproject")))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "401 Unauthorized"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(releases("busy%2Fproject")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("ratelimit-remaining", "0")
                .insert_header("ratelimit-reset", "4102444800")
                .set_body_string("Retry later"),
        )
        .mount(&server)
        .await;
    let dep = |name: &str, repo: &str| {
        format!(
            "[deps.{name}]\npath = \"deps/{name}\"\nsource = \"gitlab-release\"\nrepo = \"{repo}\"\nversion = \"1.0.0\"\n"
        )
    };
    let manifest = [
        dep("gone", "gone/project"),
        dep("private", "private/project"),
        dep("busy", "busy/project"),
    ]
    .concat();
    let project = project(&server, &manifest, Some("glpat-expired"));
    let run = project.run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    let api = format!("{}/api/v4", server.uri());
    for expected in [
        format!("error: `gone`: GitLab repository `gone/project` was not found at `{api}`"),
        "hint: check `repo`, and that `GITLAB_TOKEN` can read that repository".to_owned(),
        format!(
            "error: `private`: asking `private/project` for its versions failed\nCaused by:\n  `{api}/projects/private%2Fproject/releases?per_page=100` refused the credentials (401)"
        ),
        "hint: check that `GITLAB_TOKEN` is valid and not expired".to_owned(),
        format!(
            "rate limit reached at `{api}/projects/busy%2Fproject/releases?per_page=100`; it resets at Fri, 01 Jan 2100 00:00:00 GMT"
        ),
        "hint: wait until the limit resets, or run fewer dependencies at once (`--jobs`)"
            .to_owned(),
    ] {
        assert!(
            run.stderr.contains(&expected),
            "expected {expected:?} in:\n{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("glpat-expired"), "{}", run.stderr);
}
