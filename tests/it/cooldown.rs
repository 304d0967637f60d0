//! `min-age-days`: a release younger than the cooldown is not proposed yet.

use serde_json::json;
use wiremock::MockServer;
use wiremock::matchers::{header, method, path};

use crate::support::{Project, github_dep, mount_json, mount_tags, now};

/// RFC 3339 for `days` ago.
fn days_ago(days: i64) -> String {
    let seconds = now() - days * 86_400;
    jiff::Timestamp::from_second(seconds).unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_release_waits_and_an_old_one_is_proposed() {
    let server = MockServer::start().await;
    mount_json(
        &server,
        "/repos/up/lib/releases",
        json!([
            {"tag_name": "v1.2.0", "draft": false, "prerelease": false, "published_at": days_ago(1)},
            {"tag_name": "v1.1.0", "draft": false, "prerelease": false, "published_at": days_ago(30)},
            {"tag_name": "v1.0.0", "draft": false, "prerelease": false, "published_at": days_ago(90)}
        ]),
    )
    .await;
    // npm dates versions only in the full document.
    wiremock::Mock::given(method("GET"))
        .and(path("/npm/pkg"))
        .and(header("accept", "application/json"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "dist-tags": {"latest": "3.0.0"},
            "versions": {"2.0.0": {}, "3.0.0": {}},
            "time": {"2.0.0": days_ago(20), "3.0.0": days_ago(2)}
        })))
        .mount(&server)
        .await;
    mount_tags(&server, "up/tagged", "v", &["v2.0.0"]).await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.manifest(&format!(
        "[settings]\nmin-age-days = 7\n\n{}\n{}\n[deps.pkg]\npath = \"deps/pkg\"\nsource = \"npm\"\npackage = \"pkg\"\nversion = \"1.0.0\"\n",
        github_dep("lib", "github-release", "up/lib", "1.0.0", ""),
        github_dep("tagged", "github-tag", "up/tagged", "1.0.0", "tag = \"v{version}\""),
    ));
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let results = run.json();
    assert_eq!(results[0]["latest"], "1.1.0");
    assert_eq!(results[0]["status"], "update-available");
    let waiting = |index: usize, text: &str| {
        let note = results[index]["note"].as_str().unwrap();
        let day = note
            .strip_prefix(&format!("{text}; waiting until "))
            .unwrap_or_else(|| panic!("{note}"));
        assert!(day.len() == 10 && day.starts_with("20"), "{note}");
    };
    waiting(0, "1.2.0 came out 1 day ago, less than `min-age-days = 7`");
    // A source without dates is not silently exempt: it says so.
    assert_eq!(results[1]["latest"], "2.0.0");
    assert_eq!(
        results[1]["note"],
        "`min-age-days = 7` does not apply: `source = \"github-tag\"` gives no publication dates"
    );
    assert_eq!(results[2]["latest"], "2.0.0");
    waiting(2, "3.0.0 came out 2 days ago, less than `min-age-days = 7`");

    // Its own `min-age-days = 0` turns the cooldown off for one dependency.
    project.manifest(&format!(
        "[settings]\nmin-age-days = 7\n\n{}",
        github_dep(
            "lib",
            "github-release",
            "up/lib",
            "1.0.0",
            "min-age-days = 0"
        ),
    ));
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.json()[0]["latest"], "1.2.0", "{run:?}");
}

#[test]
fn a_cooldown_on_a_source_without_dates_is_a_registry_error() {
    let project = Project::new();
    project.manifest(&github_dep(
        "tagged",
        "github-tag",
        "up/tagged",
        "1.0.0",
        "min-age-days = 7",
    ));
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "`min-age-days` needs publication dates, which `source = \"github-tag\"` does not give"
        ),
        "{}",
        run.stderr
    );
}
