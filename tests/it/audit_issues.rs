//! `audit` over release lines (branches read from git, not checked out), with a package
//! nested under `node_modules`, and its findings kept as issues and a dashboard on a fake
//! GitHub that keeps state, against a fake OSV.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{Project, mount_json};

/// OSV: acorn 8.0.0 and minimatch 3.0.4 are vulnerable, nothing else.
#[derive(Clone)]
struct FakeOsv;

impl Respond for FakeOsv {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let results: Vec<Value> = body["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                let asks = |name: &str, version: &str| {
                    q["package"]["name"] == name
                        && q["package"]["ecosystem"] == "npm"
                        && q["version"] == version
                };
                if asks("acorn", "8.0.0") {
                    json!({"vulns": [{"id": "GHSA-acrn-0000-0001"}]})
                } else if asks("minimatch", "3.0.4") {
                    json!({"vulns": [{"id": "GHSA-mini-0000-0001"}]})
                } else {
                    json!({})
                }
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"results": results}))
    }
}

/// Issues as GitHub keeps them, and every write received.
#[derive(Default)]
struct Tracker {
    issues: Vec<Value>,
    writes: Vec<String>,
}

#[derive(Clone, Default)]
struct FakeIssues(Arc<Mutex<Tracker>>);

impl FakeIssues {
    fn writes(&self) -> Vec<String> {
        self.0.lock().unwrap().writes.clone()
    }

    fn issues(&self) -> Vec<Value> {
        self.0.lock().unwrap().issues.clone()
    }

    fn open_titles(&self) -> Vec<String> {
        let mut titles: Vec<String> = self
            .issues()
            .iter()
            .filter(|i| i["state"] == "open")
            .map(|i| i["title"].as_str().unwrap().to_owned())
            .collect();
        titles.sort();
        titles
    }

    /// Someone closes issue `number` by hand.
    fn close_by_hand(&self, number: u64) {
        let mut tracker = self.0.lock().unwrap();
        let issue = tracker
            .issues
            .iter_mut()
            .find(|i| i["number"] == number)
            .unwrap();
        issue["state"] = json!("closed");
    }
}

impl Respond for FakeIssues {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut tracker = self.0.lock().unwrap();
        let path = request.url.path().to_owned();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let method = request.method.as_str().to_owned();
        if method != "GET" {
            tracker.writes.push(format!("{method} {path}"));
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let find = |issues: &mut Vec<Value>, number: &str| -> usize {
            issues
                .iter()
                .position(|i| i["number"].as_u64() == number.parse().ok())
                .unwrap()
        };
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["repos", _, _, "issues"]) => {
                let query = |key: &str| {
                    request
                        .url
                        .query_pairs()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.into_owned())
                };
                let state = query("state").unwrap_or_else(|| "open".into());
                let label = query("labels");
                let listed: Vec<Value> = tracker
                    .issues
                    .iter()
                    .filter(|i| state == "all" || i["state"] == state.as_str())
                    .filter(|i| {
                        label.as_ref().is_none_or(|l| {
                            i["labels"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .any(|x| x["name"] == l.as_str())
                        })
                    })
                    .cloned()
                    .collect();
                ResponseTemplate::new(200).set_body_json(listed)
            }
            ("POST", ["repos", owner, name, "issues"]) => {
                let number = tracker.issues.len() as u64 + 1;
                let labels: Vec<Value> = body["labels"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| json!({"name": l}))
                    .collect();
                let issue = json!({
                    "number": number,
                    "html_url": format!("https://github.example/{owner}/{name}/issues/{number}"),
                    "state": "open", "title": body["title"], "body": body["body"],
                    "labels": labels, "comments": []
                });
                tracker.issues.push(issue.clone());
                ResponseTemplate::new(201).set_body_json(issue)
            }
            ("PATCH", ["repos", _, _, "issues", number]) => {
                let at = find(&mut tracker.issues, number);
                let issue = &mut tracker.issues[at];
                for key in ["title", "body", "state", "state_reason"] {
                    if !body[key].is_null() {
                        issue[key] = body[key].clone();
                    }
                }
                ResponseTemplate::new(200).set_body_json(issue.clone())
            }
            ("POST", ["repos", _, _, "issues", number, "comments"]) => {
                let at = find(&mut tracker.issues, number);
                let issue = &mut tracker.issues[at];
                issue["comments"]
                    .as_array_mut()
                    .unwrap()
                    .push(body["body"].clone());
                ResponseTemplate::new(201).set_body_json(json!({"id": 1}))
            }
            ("POST", ["repos", _, _, "issues", number, "labels"]) => {
                let at = find(&mut tracker.issues, number);
                let issue = &mut tracker.issues[at];
                let labels = issue["labels"].as_array_mut().unwrap();
                for label in body["labels"].as_array().unwrap() {
                    if !labels.iter().any(|l| l["name"] == *label) {
                        labels.push(json!({"name": label}));
                    }
                }
                ResponseTemplate::new(200).set_body_json(labels.clone())
            }
            _ => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
        }
    }
}

fn registry(acorn: &str, extra: &str) -> String {
    format!(
        "[settings]\nrelease-lines = [\"v22.x\", \"v20.x\"]\nrepository = \"node/tracker\"\n\n[deps.acorn]\npath = \"deps/acorn\"\nsource = \"npm\"\npackage = \"acorn\"\nversion = \"{acorn}\"\n{extra}\n"
    )
}

/// Two lines: `v20.x` with acorn 8.1.0 (fixed), `v22.x` with acorn 8.0.0 and a nested
/// minimatch 3.0.4 (both vulnerable). The working copy is `main`, as `v20.x`.
async fn two_lines() -> (Project, MockServer, FakeIssues) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/osv/v1/querybatch"))
        .respond_with(FakeOsv)
        .mount(&server)
        .await;
    mount_json(
        &server,
        "/osv/v1/vulns/GHSA-acrn-0000-0001",
        json!({
            "id": "GHSA-acrn-0000-0001", "aliases": ["CVE-2099-0001"],
            "summary": "Regular expression denial of service",
            "affected": [{"package": {"ecosystem": "npm", "name": "acorn"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "8.1.0"}]}]}],
            "database_specific": {"severity": "HIGH"}
        }),
    )
    .await;
    mount_json(
        &server,
        "/osv/v1/vulns/GHSA-mini-0000-0001",
        json!({
            "id": "GHSA-mini-0000-0001", "aliases": ["CVE-2022-3517"],
            "summary": "minimatch ReDoS vulnerability",
            "affected": [{"package": {"ecosystem": "npm", "name": "minimatch"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "3.0.5"}]}]}],
            "database_specific": {"severity": "MODERATE"}
        }),
    )
    .await;
    mount_json(
        &server,
        "/npm/acorn",
        json!({"dist-tags": {"latest": "8.1.0"}, "versions": {"8.0.0": {}, "8.1.0": {}}}),
    )
    .await;
    let tracker = FakeIssues::default();
    Mock::given(path_regex("^/repos/node/tracker/issues"))
        .respond_with(tracker.clone())
        .mount(&server)
        .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.env("OSV_API_URL", &format!("{}/osv", server.uri()));
    project.env("GITHUB_TOKEN", "ghp_not_shown_anywhere");
    project.manifest(&registry("8.1.0", ""));
    project.write("deps/acorn/package.json", "{\"name\": \"acorn\"}\n");
    project.commit_all("v20.x");
    project.git(&["branch", "v20.x"]);
    project.manifest(&registry("8.0.0", ""));
    project.write(
        "deps/acorn/node_modules/minimatch/package.json",
        "{\"name\": \"minimatch\", \"version\": \"3.0.4\"}\n",
    );
    project.commit_all("v22.x");
    project.git(&["branch", "v22.x"]);
    project.git(&["reset", "-q", "--hard", "v20.x"]);
    (project, server, tracker)
}

/// Commits `registry` (and `files`) on `line`, and comes back to `main`.
fn commit_on(project: &mut Project, line: &str, registry: &str, files: &[(&str, &str)]) {
    project.git(&["checkout", "-q", line]);
    project.manifest(registry);
    for (file, text) in files {
        project.write(file, text);
    }
    project.commit_all(&format!("change {line}"));
    project.git(&["checkout", "-q", "main"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_release_line_is_audited_as_git_holds_it_nested_packages_too() {
    let (project, _server, _tracker) = two_lines().await;
    let run = project.run(&["audit", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let reports = run.json();
    let reports = reports.as_array().unwrap();
    let on = |line: &str, name: &str| {
        reports
            .iter()
            .find(|r| r["line"] == line && r["name"] == name)
            .unwrap_or_else(|| panic!("no {name} on {line}: {reports:?}"))
    };
    let acorn22 = on("v22.x", "acorn");
    assert_eq!(acorn22["version"], "8.0.0");
    assert_eq!(acorn22["advisories"][0]["id"], "GHSA-acrn-0000-0001");
    assert_eq!(acorn22["advisories"][0]["fixed_by_update"], true);
    let minimatch = on("v22.x", "minimatch");
    assert_eq!(minimatch["version"], "3.0.4");
    assert_eq!(minimatch["path"], "deps/acorn/node_modules/minimatch");
    assert_eq!(minimatch["via"], "acorn");
    assert_eq!(minimatch["advisories"][0]["id"], "GHSA-mini-0000-0001");
    assert_eq!(minimatch["advisories"][0]["fixed_in"], json!(["3.0.5"]));
    let acorn20 = on("v20.x", "acorn");
    assert_eq!(acorn20["version"], "8.1.0");
    assert_eq!(acorn20["advisories"], json!([]));
    assert_eq!(reports.len(), 3, "{reports:?}");

    // The table names the line and the nested package's path.
    let run = project.run(&["audit"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("v22.x  deps/acorn/node_modules/minimatch  3.0.4"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("v20.x  acorn"), "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "audited 2 dependencies and 1 nested package on 2 release lines: 2 advisories affect what is vendored"
        ),
        "{}",
        run.stderr
    );
    // `--ref` picks lines; the fixed one alone passes.
    let run = project.run(&["audit", "--ref", "v20.x"]);
    assert_eq!(run.code, 0, "{run:?}");
    // A pattern stands for every branch it matches, newest first.
    let run = project.run(&["audit", "--ref", "v2*.x", "--json"]);
    let lines: Vec<String> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(lines, ["v22.x", "v22.x", "v20.x"], "{run:?}");
    // A line git does not know is an error that names it.
    let run = project.run(&["audit", "--ref", "v18.x"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("cannot read release line `v18.x`"),
        "{}",
        run.stderr
    );
    // `release-lines` holds branch or tag names, or patterns.
    project.manifest("[settings]\nrelease-lines = [\"v22.x\", \"\"]\n");
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("expected a branch or tag name, found ``"),
        "{}",
        run.stderr
    );
    project.manifest("[settings]\nrelease-lines = [\"v[2.x\"]\n");
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("`release-lines`: not a valid pattern"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_issue_per_finding_kept_without_needless_writes() {
    let (mut project, server, tracker) = two_lines().await;
    // v22.x's update of acorn is open (`update --base v22.x --pr` names its branch so).
    Mock::given(method("GET"))
        .and(path("/repos/node/tracker/pulls"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{
            "number": 9,
            "html_url": "https://github.example/node/tracker/pull/9",
            "head": {"ref": "deps-update/acorn-v22.x", "label": "node:deps-update/acorn-v22.x"}
        }])))
        .mount(&server)
        .await;
    let run = project.run(&["audit", "--issues"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        tracker.open_titles(),
        [
            "CVE-2022-3517 (minimatch, via acorn) found on v22.x",
            "CVE-2099-0001 (acorn) found on v22.x"
        ],
        "{run:?}"
    );
    let issues = tracker.issues();
    let acorn = issues
        .iter()
        .find(|i| i["title"] == "CVE-2099-0001 (acorn) found on v22.x")
        .unwrap();
    let labels: Vec<&str> = acorn["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["vulnerability", "v22.x", "severity:high"]);
    let body = acorn["body"].as_str().unwrap();
    assert!(
        body.contains("**Regular expression denial of service**"),
        "{body}"
    );
    assert!(
        body.contains("| Update | fixed by the update to `8.1.0`, open in [#9](<https://github.example/node/tracker/pull/9>) |"),
        "{body}"
    );
    assert!(body.contains("| Release line | `v22.x` |"), "{body}");
    assert!(
        tracker.issues()[0]["body"]
            .as_str()
            .unwrap()
            .contains("`deps/acorn/node_modules/minimatch@3.0.4`")
            || tracker.issues()[1]["body"]
                .as_str()
                .unwrap()
                .contains("`deps/acorn/node_modules/minimatch@3.0.4`")
    );
    assert_eq!(tracker.writes().len(), 2, "{:?}", tracker.writes());
    assert!(
        run.stderr
            .contains("issues in `node/tracker`: 2 opened, 0 refreshed, 0 closed, 0 unchanged"),
        "{}",
        run.stderr
    );

    // Nothing changed: nothing written.
    let run = project.run(&["audit", "--issues"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(tracker.writes().len(), 2, "{:?}", tracker.writes());
    assert!(
        run.stderr
            .contains("0 opened, 0 refreshed, 0 closed, 2 unchanged"),
        "{}",
        run.stderr
    );

    // Closed by hand while it still applies: raised again, as a new issue.
    let number = acorn["number"].as_u64().unwrap();
    tracker.close_by_hand(number);
    let run = project.run(&["audit", "--issues"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(tracker.issues().len(), 3);
    assert_eq!(tracker.open_titles().len(), 2);
    assert_eq!(
        tracker.writes()[2],
        "POST /repos/node/tracker/issues",
        "{:?}",
        tracker.writes()
    );
    assert_eq!(tracker.writes().len(), 3, "{:?}", tracker.writes());

    // Ignored with a reason on the line: its issue is closed, the reason given.
    commit_on(
        &mut project,
        "v22.x",
        &registry(
            "8.0.0",
            "ignore-advisories = [{ id = \"CVE-2022-3517\", reason = \"npm never globs untrusted input\" }]",
        ),
        &[],
    );
    let run = project.run(&["audit", "--issues"]);
    assert_eq!(run.code, 1, "{run:?}");
    let minimatch = tracker
        .issues()
        .into_iter()
        .find(|i| i["title"] == "CVE-2022-3517 (minimatch, via acorn) found on v22.x")
        .unwrap();
    assert_eq!(minimatch["state"], "closed");
    assert_eq!(minimatch["state_reason"], "not_planned");
    assert!(
        minimatch["comments"][0]
            .as_str()
            .unwrap()
            .contains("npm never globs untrusted input"),
        "{minimatch}"
    );
    assert_eq!(
        tracker.open_titles(),
        ["CVE-2099-0001 (acorn) found on v22.x"]
    );

    // Updated away: closed with a comment saying so.
    commit_on(
        &mut project,
        "v22.x",
        &registry(
            "8.1.0",
            "ignore-advisories = [{ id = \"CVE-2022-3517\", reason = \"npm never globs untrusted input\" }]",
        ),
        &[],
    );
    let run = project.run(&["audit", "--issues"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(tracker.open_titles().is_empty(), "{:?}", tracker.issues());
    let acorn = tracker.issues().pop().unwrap();
    assert_eq!(acorn["state"], "closed");
    assert_eq!(acorn["state_reason"], "completed");
    assert_eq!(
        acorn["comments"][0],
        "No longer found on `v22.x`: `acorn` `8.1.0` is not affected."
    );
    // And then nothing more to do.
    let before = tracker.writes().len();
    let run = project.run(&["audit", "--issues"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(tracker.writes().len(), before, "{:?}", tracker.writes());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_is_one_issue_edited_only_when_it_changes() {
    let (mut project, _server, tracker) = two_lines().await;
    let run = project.run(&["audit", "--dashboard", "--repository", "node/tracker"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(tracker.writes(), ["POST /repos/node/tracker/issues"]);
    let dashboard = tracker.issues()[0].clone();
    assert_eq!(dashboard["title"], "Dependency dashboard");
    assert_eq!(
        dashboard["labels"],
        json!([{"name": "dependency-dashboard"}])
    );
    let body = dashboard["body"].as_str().unwrap();
    assert!(body.contains("### `v22.x`"), "{body}");
    assert!(
        body.contains(
            "| `acorn` | `8.0.0` | `8.1.0` | update to `8.1.0` available | [CVE\\-2099\\-0001](<https://osv.dev/vulnerability/GHSA-acrn-0000-0001>) (HIGH) |"
        ),
        "{body}"
    );
    assert!(
        body.contains(
            "| `deps/acorn/node_modules/minimatch` (via `acorn`) | `3.0.4` | – | nested |"
        ),
        "{body}"
    );
    assert!(
        body.contains("| `acorn` | `8.1.0` | `8.1.0` | up to date | none known |"),
        "{body}"
    );
    assert!(
        run.stderr
            .contains("dashboard in `node/tracker`: #1 opened"),
        "{}",
        run.stderr
    );

    // Nothing changed: no write, no notification.
    let run = project.run(&["audit", "--dashboard"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(tracker.writes().len(), 1, "{:?}", tracker.writes());
    assert!(run.stderr.contains("#1 unchanged"), "{}", run.stderr);

    // A line changes: the same issue is edited in place.
    commit_on(&mut project, "v22.x", &registry("8.1.0", ""), &[]);
    let run = project.run(&["audit", "--dashboard"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        tracker.writes(),
        [
            "POST /repos/node/tracker/issues",
            "PATCH /repos/node/tracker/issues/1"
        ]
    );
    assert_eq!(tracker.issues().len(), 1);
    let body = tracker.issues()[0]["body"].as_str().unwrap().to_owned();
    assert!(!body.contains("| `acorn` | `8.0.0`"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn update_keeps_its_own_section_of_the_dashboard() {
    let (mut project, server, tracker) = two_lines().await;
    // delta 1.0.0 -> 2.0.0 is committed; beta's 1.1.0 is a day old under `min-age-days = 7`;
    // gamma's upstream is not there.
    let tarball = crate::support::tar_gz(&[crate::support::Entry::File(
        "package/package.json",
        b"{\"name\": \"delta\", \"version\": \"2.0.0\"}\n",
    )]);
    mount_json(
        &server,
        "/npm/delta",
        json!({"dist-tags": {"latest": "2.0.0"}, "versions": {
            "1.0.0": {},
            "2.0.0": {"dist": {"tarball": format!("{}/t/delta-2.0.0.tgz", server.uri()),
                "integrity": crate::support::npm_integrity(&tarball)}}
        }}),
    )
    .await;
    crate::support::mount_file(&server, "/t/delta-2.0.0.tgz", tarball).await;
    let yesterday = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24);
    mount_json(
        &server,
        "/npm/beta",
        json!({"dist-tags": {"latest": "1.1.0"}, "versions": {"1.0.0": {}, "1.1.0": {}},
            "time": {"1.0.0": "2020-01-01T00:00:00Z", "1.1.0": yesterday.to_string()}}),
    )
    .await;
    let npm = |name: &str, extra: &str| {
        format!(
            "[deps.{name}]\npath = \"deps/{name}\"\nsource = \"npm\"\npackage = \"{name}\"\nversion = \"1.0.0\"\n{extra}\n"
        )
    };
    let extra = [
        npm("delta", ""),
        npm("beta", "min-age-days = 7"),
        "[deps.gamma]\npath = \"deps/gamma\"\nsource = \"github-release\"\nrepo = \"o/gamma\"\nversion = \"1.0.0\"\n".into(),
    ]
    .join("\n");
    project.manifest(&registry("8.1.0", &extra));
    for name in ["delta", "beta", "gamma"] {
        project.write(&format!("deps/{name}/package.json"), "{}\n");
    }
    project.commit_all("more dependencies");

    let run = project.run(&["audit", "--dashboard"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(tracker.writes(), ["POST /repos/node/tracker/issues"]);

    let run = project.run(&["update", "--all", "--dashboard"]);
    assert_eq!(run.code, 1, "gamma fails: {run:?}");
    assert!(
        run.stderr
            .contains("dashboard in `node/tracker`: #1 refreshed"),
        "{}",
        run.stderr
    );
    assert_eq!(tracker.writes().len(), 2, "{:?}", tracker.writes());
    let body = tracker.issues()[0]["body"].as_str().unwrap().to_owned();
    let updates = body.find("## Updates").expect(&body);
    let advisories = body.find("## Advisories").expect(&body);
    assert!(updates < advisories, "{body}");
    for row in [
        "| `acorn` | `8.1.0` | – | up to date |",
        "| `delta` | `1.0.0` | `2.0.0` | committed on `deps-update/delta`, not published |",
        "| `beta` | `1.0.0` | – | waiting for `min-age-days` until 20",
        "| `gamma` | `1.0.0` | – | failed: ",
    ] {
        assert!(body.contains(row), "{row}:\n{body}");
    }
    // The advisories `audit` wrote are kept.
    assert!(body.contains("### `v22.x`"), "{body}");

    // Nothing changed: neither command writes.
    let run = project.run(&["update", "--all", "--dashboard"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("#1 unchanged"), "{}", run.stderr);
    let run = project.run(&["audit", "--dashboard"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(tracker.writes().len(), 2, "{:?}", tracker.writes());
    let after = tracker.issues()[0]["body"].as_str().unwrap().to_owned();
    assert_eq!(after, body);

    // A release line's updates get a section of their own; main's stays.
    let run = project.run(&["update", "--all", "--base", "v20.x", "--dashboard"]);
    assert_eq!(run.code, 0, "{run:?}");
    let body = tracker.issues()[0]["body"].as_str().unwrap().to_owned();
    let main = body.find("On `main`").expect(&body);
    let line = body.find("On `v20.x`").expect(&body);
    assert!(
        main < line && line < body.find("## Advisories").unwrap(),
        "{body}"
    );
    assert_eq!(body.matches("## Updates").count(), 2, "{body}");

    // `--dashboard` covers every dependency, so it needs --all.
    let run = project.run(&["update", "delta", "--dashboard"]);
    assert_eq!(run.code, 2, "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_actions_audit_step_keeps_issues_and_passes_on_findings() {
    let (project, _server, tracker) = two_lines().await;
    let step = "Audit every release line for known vulnerabilities";
    let run = project.run_action_step(
        step,
        &[
            ("AUDIT", "issues"),
            ("MANIFEST", ""),
            ("DASHBOARD", "true"),
            ("REPOSITORY", "node/tracker"),
        ],
    );
    // Findings are recorded as issues for review: the step passes.
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        tracker.open_titles(),
        [
            "CVE-2022-3517 (minimatch, via acorn) found on v22.x",
            "CVE-2099-0001 (acorn) found on v22.x",
            "Dependency dashboard",
        ]
    );
    // Only reporting: the findings fail the step, as `audit` does.
    let run = project.run_action_step(
        step,
        &[
            ("AUDIT", "report"),
            ("MANIFEST", ""),
            ("DASHBOARD", "false"),
            ("REPOSITORY", ""),
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("v22.x"), "{run:?}");
    // A mistyped input is said as such.
    let run = project.run_action_step(
        step,
        &[
            ("AUDIT", "yes"),
            ("MANIFEST", ""),
            ("DASHBOARD", "false"),
            ("REPOSITORY", ""),
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout
            .contains("input audit: expected \"issues\", \"report\" or empty"),
        "{run:?}"
    );
}
