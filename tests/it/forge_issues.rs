//! `audit --issues --dashboard` on GitLab and on Gitea/Forgejo: finding issues and the
//! dashboard kept on a fake of each forge's issue API that keeps state as the forge would,
//! against a fake OSV. One release line, `v22.x`, vendors acorn 8.0.0, which two advisories
//! affect; then it is updated to 8.1.0, which neither does.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{Project, Run, mount_json};

const ACORN_1: &str = "CVE-2099-0001 (acorn) found on v22.x";
const ACORN_2: &str = "CVE-2099-0002 (acorn) found on v22.x";
const GONE: &str = "No longer found on `v22.x`: `acorn` `8.1.0` is not affected.";
const DASHBOARD_KEY: &str = "<!-- deps-update dashboard -->";

/// OSV: acorn 8.0.0 has two advisories, nothing else has any.
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
                if q["package"]["name"] == "acorn"
                    && q["package"]["ecosystem"] == "npm"
                    && q["version"] == "8.0.0"
                {
                    json!({"vulns": [{"id": "GHSA-acrn-0000-0001"}, {"id": "GHSA-acrn-0000-0002"}]})
                } else {
                    json!({})
                }
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"results": results}))
    }
}

/// OSV and npm on `server`.
async fn upstreams(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/osv/v1/querybatch"))
        .respond_with(FakeOsv)
        .mount(server)
        .await;
    for n in [1, 2] {
        mount_json(
            server,
            &format!("/osv/v1/vulns/GHSA-acrn-0000-000{n}"),
            json!({
                "id": format!("GHSA-acrn-0000-000{n}"), "aliases": [format!("CVE-2099-000{n}")],
                "summary": format!("acorn flaw {n}"),
                "affected": [{"package": {"ecosystem": "npm", "name": "acorn"},
                    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "8.1.0"}]}]}],
                "database_specific": {"severity": "HIGH"}
            }),
        )
        .await;
    }
    mount_json(
        server,
        "/npm/acorn",
        json!({"dist-tags": {"latest": "8.1.0"}, "versions": {"8.0.0": {}, "8.1.0": {}}}),
    )
    .await;
}

fn registry(settings: &str, acorn: &str) -> String {
    format!(
        "[settings]\n{settings}release-lines = [\"v22.x\"]\n\n[deps.acorn]\npath = \"deps/acorn\"\n\
         source = \"npm\"\npackage = \"acorn\"\nversion = \"{acorn}\"\n"
    )
}

/// A project whose line `v22.x` vendors acorn 8.0.0, on `main`, its issues kept as
/// `settings` say.
fn vulnerable(server: &MockServer, settings: &str) -> Project {
    let mut project = Project::new();
    project.env("npm_config_registry", &format!("{}/npm/", server.uri()));
    project.env("OSV_API_URL", &format!("{}/osv", server.uri()));
    project.manifest(&registry(settings, "8.0.0"));
    project.write("deps/acorn/package.json", "{\"name\": \"acorn\"}\n");
    project.commit_all("acorn 8.0.0");
    project.git(&["branch", "v22.x"]);
    project
}

/// `v22.x` updated to acorn 8.1.0, committed.
fn fix(project: &mut Project, settings: &str) {
    project.git(&["checkout", "-q", "v22.x"]);
    project.manifest(&registry(settings, "8.1.0"));
    project.commit_all("acorn 8.1.0");
    project.git(&["checkout", "-q", "main"]);
}

fn param(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn names(labels: &Value) -> Vec<String> {
    labels
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l.as_str()
                .or_else(|| l["name"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn shows(run: &Run, secret: &str) -> bool {
    run.stdout.contains(secret) || run.stderr.contains(secret)
}

/// Issues as a forge keeps them, and every write it received (`METHOD /path` and body).
#[derive(Default)]
struct Tracker {
    web: String,
    issues: Vec<Value>,
    labels: Vec<Value>,
    writes: Vec<(String, Value)>,
    /// Every request: `METHOD /path`.
    seen: Vec<String>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<Tracker>>);

impl Fake {
    fn tracker(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.0.lock().unwrap()
    }

    fn writes(&self) -> Vec<String> {
        self.tracker()
            .writes
            .iter()
            .map(|(w, _)| w.clone())
            .collect()
    }

    fn body_of_write(&self, index: usize) -> Value {
        self.tracker().writes[index].1.clone()
    }

    fn seen(&self, what: &str) -> usize {
        self.tracker().seen.iter().filter(|s| *s == what).count()
    }

    fn issue(&self, number: u64) -> Value {
        self.tracker()
            .issues
            .iter()
            .find(|i| i["number"] == number || i["iid"] == number)
            .unwrap()
            .clone()
    }

    fn number_titled(&self, title: &str) -> u64 {
        let tracker = self.tracker();
        let issue = tracker
            .issues
            .iter()
            .find(|i| i["title"] == title)
            .unwrap_or_else(|| panic!("no issue `{title}`: {:?}", tracker.issues));
        issue["iid"].as_u64().or(issue["number"].as_u64()).unwrap()
    }

    /// Someone edits issue `number` by hand.
    fn edit_by_hand(&self, number: u64, edit: impl FnOnce(&mut Value)) {
        let mut tracker = self.tracker();
        let issue = tracker
            .issues
            .iter_mut()
            .find(|i| i["number"] == number || i["iid"] == number)
            .unwrap();
        edit(issue);
    }

    /// Records the request; the path and body, or an answer when the token is not `expected`.
    fn receive(
        &self,
        request: &Request,
        credential: (&str, &str),
    ) -> Result<(String, String, Value), Box<ResponseTemplate>> {
        let (header, expected) = credential;
        let method = request.method.as_str().to_owned();
        let path = request.url.path().to_owned();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let mut tracker = self.tracker();
        tracker.seen.push(format!("{method} {path}"));
        if request.headers.get(header).and_then(|v| v.to_str().ok()) != Some(expected) {
            return Err(Box::new(
                ResponseTemplate::new(401).set_body_json(json!({"message": "401 Unauthorized"})),
            ));
        }
        if method != "GET" {
            tracker
                .writes
                .push((format!("{method} {path}"), body.clone()));
        }
        Ok((method, path, body))
    }
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not Found"}))
}

// GitLab.

const GITLAB_TOKEN: &str = "glpat-issues-never-shown";
const GITLAB_PROJECT: &str = "group/sub/tracker";
const GITLAB_ISSUES: &str = "/api/v4/projects/group%2Fsub%2Ftracker/issues";

/// Labels as GitLab takes them: a comma-separated string.
fn label_list(value: &Value) -> Vec<String> {
    value
        .as_str()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// GitLab's issues of `group/sub/tracker` (REST API v4), which needs `PRIVATE-TOKEN`.
#[derive(Clone, Default)]
struct FakeGitlab(Fake);

impl Respond for FakeGitlab {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let (method, path, body) = match self.0.receive(request, ("private-token", GITLAB_TOKEN)) {
            Ok(received) => received,
            Err(answer) => return *answer,
        };
        let mut tracker = self.0.tracker();
        // GitLab takes a project's path as one URL-encoded segment.
        let Some(rest) = path.strip_prefix("/api/v4/projects/") else {
            return not_found();
        };
        let segments: Vec<&str> = rest.split('/').collect();
        let [project, "issues", rest @ ..] = segments.as_slice() else {
            return not_found();
        };
        if project.replace("%2F", "/") != GITLAB_PROJECT {
            return not_found();
        }
        let at = |tracker: &Tracker, iid: &str| {
            tracker
                .issues
                .iter()
                .position(|i| i["iid"].as_u64() == iid.parse().ok())
        };
        match (method.as_str(), rest) {
            ("GET", []) => {
                let state = param(request, "state").unwrap_or_else(|| "all".into());
                let wanted = param(request, "labels").map(|l| label_list(&json!(l)));
                let listed: Vec<Value> = tracker
                    .issues
                    .iter()
                    .filter(|i| state == "all" || i["state"] == state.as_str())
                    .filter(|i| {
                        wanted
                            .iter()
                            .flatten()
                            .all(|l| names(&i["labels"]).contains(l))
                    })
                    .cloned()
                    .collect();
                ResponseTemplate::new(200).set_body_json(listed)
            }
            ("POST", []) => {
                if !body["title"].is_string() {
                    return ResponseTemplate::new(400)
                        .set_body_json(json!({"error": "title is missing"}));
                }
                let iid = tracker.issues.len() as u64 + 1;
                let issue = json!({
                    "id": 500 + iid, "iid": iid, "project_id": 5,
                    "title": body["title"], "description": body["description"],
                    "state": "opened", "labels": label_list(&body["labels"]),
                    "web_url": format!("{}/{GITLAB_PROJECT}/-/issues/{iid}", tracker.web),
                    "notes": [],
                });
                tracker.issues.push(issue.clone());
                ResponseTemplate::new(201).set_body_json(issue)
            }
            ("PUT", [iid]) => {
                let Some(at) = at(&tracker, iid) else {
                    return not_found();
                };
                let issue = &mut tracker.issues[at];
                for key in ["title", "description"] {
                    if body[key].is_string() {
                        issue[key] = body[key].clone();
                    }
                }
                for label in label_list(&body["add_labels"]) {
                    let labels = issue["labels"].as_array_mut().unwrap();
                    if !labels.contains(&json!(label)) {
                        labels.push(json!(label));
                    }
                }
                match body["state_event"].as_str() {
                    Some("close") => issue["state"] = json!("closed"),
                    Some("reopen") => issue["state"] = json!("opened"),
                    _ => {}
                }
                ResponseTemplate::new(200).set_body_json(issue.clone())
            }
            ("POST", [iid, "notes"]) => {
                let Some(at) = at(&tracker, iid) else {
                    return not_found();
                };
                if !body["body"].is_string() {
                    return ResponseTemplate::new(400)
                        .set_body_json(json!({"error": "body is missing"}));
                }
                let notes = tracker.issues[at]["notes"].as_array_mut().unwrap();
                notes.push(body["body"].clone());
                ResponseTemplate::new(201).set_body_json(json!({"id": 900, "body": body["body"]}))
            }
            _ => not_found(),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_issues_are_opened_left_alone_refreshed_and_closed() {
    let server = MockServer::start().await;
    upstreams(&server).await;
    let lab = FakeGitlab::default();
    lab.0.tracker().web = server.uri();
    // A dashboard closed by hand: only open issues count, so a new one is opened.
    lab.0.tracker().issues.push(json!({
        "id": 501, "iid": 1, "project_id": 5, "title": "Dependency dashboard",
        "description": format!("old\n\n{DASHBOARD_KEY}\n"), "state": "closed",
        "labels": ["dependency-dashboard"], "notes": [],
        "web_url": format!("{}/{GITLAB_PROJECT}/-/issues/1", server.uri()),
    }));
    Mock::given(path_regex("^/api/v4/"))
        .respond_with(lab.clone())
        .mount(&server)
        .await;
    let settings = format!("forge = \"gitlab\"\nrepository = \"{GITLAB_PROJECT}\"\n");
    let mut project = vulnerable(&server, &settings);
    project
        .env("GITLAB_API_URL", &format!("{}/api/v4", server.uri()))
        .env("GITLAB_TOKEN", GITLAB_TOKEN);

    let run = project.run(&["audit", "--issues", "--dashboard"]);
    assert_eq!(run.code, 1, "{run:?}");
    let post = format!("POST {GITLAB_ISSUES}");
    assert_eq!(lab.0.writes(), [post.as_str(); 3], "{run:?}");
    for title in [ACORN_1, ACORN_2] {
        let issue = lab.0.issue(lab.0.number_titled(title));
        assert_eq!(issue["state"], "opened");
        assert_eq!(
            names(&issue["labels"]),
            ["vulnerability", "v22.x", "severity:high"]
        );
        let description = issue["description"].as_str().unwrap();
        assert!(
            description.contains("| Release line | `v22.x` |"),
            "{description}"
        );
        assert!(
            description.contains("<!-- deps-update finding: "),
            "{description}"
        );
    }
    assert_eq!(
        lab.0.body_of_write(0)["labels"],
        "vulnerability,v22.x,severity:high"
    );
    let dashboard = lab.0.issue(4);
    assert_eq!(dashboard["title"], "Dependency dashboard");
    assert_eq!(dashboard["state"], "opened");
    assert_eq!(names(&dashboard["labels"]), ["dependency-dashboard"]);
    let description = dashboard["description"].as_str().unwrap();
    assert!(
        description.contains("| `acorn` | `8.0.0` | `8.1.0` | update to `8.1.0` available |"),
        "{description}"
    );
    assert_eq!(
        lab.0.issue(1)["description"],
        format!("old\n\n{DASHBOARD_KEY}\n")
    );
    assert!(
        run.stderr.contains(&format!(
            "opened issue #2 {}/{GITLAB_PROJECT}/-/issues/2: {ACORN_1}",
            server.uri()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "issues in `group/sub/tracker`: 2 opened, 0 refreshed, 0 closed, 0 unchanged"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("dashboard in `group/sub/tracker`: #4 opened"),
        "{}",
        run.stderr
    );
    assert!(!shows(&run, GITLAB_TOKEN), "{run:?}");

    // Nothing changed: nothing written.
    let run = project.run(&["audit", "--issues", "--dashboard"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(lab.0.writes().len(), 3, "{:?}", lab.0.writes());
    assert!(
        run.stderr
            .contains("0 opened, 0 refreshed, 0 closed, 2 unchanged"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("#4 unchanged"), "{}", run.stderr);

    // A title changed and a label taken off by hand: both put back in one edit.
    let number = lab.0.number_titled(ACORN_1);
    lab.0.edit_by_hand(number, |issue| {
        issue["title"] = json!("acorn thing");
        issue["labels"] = json!(["vulnerability", "v22.x"]);
    });
    let run = project.run(&["audit", "--issues"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        lab.0.writes()[3..],
        [format!("PUT {GITLAB_ISSUES}/{number}")],
        "{run:?}"
    );
    let edit = lab.0.body_of_write(3);
    assert_eq!(edit["title"], ACORN_1);
    assert_eq!(edit["add_labels"], "severity:high");
    assert!(edit["description"].is_string(), "{edit}");
    assert_eq!(
        names(&lab.0.issue(number)["labels"]),
        ["vulnerability", "v22.x", "severity:high"]
    );
    assert!(
        run.stderr
            .contains("0 opened, 1 refreshed, 0 closed, 1 unchanged"),
        "{}",
        run.stderr
    );

    // Updated away: each finding's issue gets a comment, then is closed; the dashboard says so.
    fix(&mut project, &settings);
    let run = project.run(&["audit", "--issues", "--dashboard"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        lab.0.writes()[4..],
        [
            format!("POST {GITLAB_ISSUES}/2/notes"),
            format!("PUT {GITLAB_ISSUES}/2"),
            format!("POST {GITLAB_ISSUES}/3/notes"),
            format!("PUT {GITLAB_ISSUES}/3"),
            format!("PUT {GITLAB_ISSUES}/4"),
        ],
        "{run:?}"
    );
    assert_eq!(lab.0.body_of_write(5), json!({"state_event": "close"}));
    for number in [2, 3] {
        let issue = lab.0.issue(number);
        assert_eq!(issue["state"], "closed", "{issue}");
        assert_eq!(issue["notes"], json!([GONE]), "{issue}");
    }
    let dashboard = lab.0.issue(4);
    assert_eq!(dashboard["state"], "opened");
    assert!(
        dashboard["description"]
            .as_str()
            .unwrap()
            .contains("| `acorn` | `8.1.0` | `8.1.0` | up to date | none known |"),
        "{dashboard}"
    );
    assert!(
        run.stderr
            .contains("0 opened, 0 refreshed, 2 closed, 0 unchanged"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("#4 refreshed"), "{}", run.stderr);

    // And then nothing more to do.
    let run = project.run(&["audit", "--issues", "--dashboard"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(lab.0.writes().len(), 9, "{:?}", lab.0.writes());
}

// Gitea and Forgejo.

const GITEA_TOKEN: &str = "gitea-issues-secret";
const GITEA_REPO: &str = "/api/v1/repos/org/tracker";

/// One page of `items`, as Gitea answers a listing (`page`, `limit`, at most 50 a page).
fn page(request: &Request, items: Vec<Value>) -> ResponseTemplate {
    let number = |name: &str| param(request, name).and_then(|v| v.parse::<usize>().ok());
    let limit = number("limit").unwrap_or(30).clamp(1, 50);
    let page = number("page").unwrap_or(1).max(1);
    let total = items.len();
    let shown: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect();
    ResponseTemplate::new(200)
        .insert_header("x-total-count", total.to_string().as_str())
        .set_body_json(shown)
}

/// Gitea's issues and labels of `org/tracker` (API v1), which needs `Authorization: token`.
/// Issues and pull requests share numbers and the listing; labels are set by id.
#[derive(Clone, Default)]
struct FakeGitea(Fake);

impl FakeGitea {
    /// The labels with these ids; Gitea's 422 when one is not the repository's.
    fn labels(tracker: &Tracker, ids: &Value) -> Result<Vec<Value>, Box<ResponseTemplate>> {
        ids.as_array()
            .into_iter()
            .flatten()
            .map(|id| {
                tracker
                    .labels
                    .iter()
                    .find(|l| id.is_u64() && l["id"] == *id)
                    .cloned()
                    .ok_or_else(|| {
                        Box::new(ResponseTemplate::new(422).set_body_json(
                            json!({"message": format!("label does not exist [id: {id}]")}),
                        ))
                    })
            })
            .collect()
    }
}

impl Respond for FakeGitea {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let token = format!("token {GITEA_TOKEN}");
        let (method, path, body) = match self.0.receive(request, ("authorization", &token)) {
            Ok(received) => received,
            Err(answer) => return *answer,
        };
        let mut tracker = self.0.tracker();
        let Some(rest) = path.strip_prefix(GITEA_REPO) else {
            return not_found();
        };
        let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        let at = |tracker: &Tracker, number: &str| {
            tracker
                .issues
                .iter()
                .position(|i| i["number"].as_u64() == number.parse().ok())
        };
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["labels"]) => page(request, tracker.labels.clone()),
            ("POST", ["labels"]) => {
                let color = body["color"].as_str().unwrap_or_default();
                let hex = color.trim_start_matches('#');
                if !body["name"].is_string()
                    || hex.len() != 6
                    || !hex.chars().all(|c| c.is_ascii_hexdigit())
                {
                    return ResponseTemplate::new(422)
                        .set_body_json(json!({"message": "invalid name or color"}));
                }
                let label = json!({
                    "id": tracker.labels.len() as u64 + 1, "name": body["name"], "color": hex,
                });
                tracker.labels.push(label.clone());
                ResponseTemplate::new(201).set_body_json(label)
            }
            ("GET", ["issues"]) => {
                let state = param(request, "state").unwrap_or_else(|| "open".into());
                let kind = param(request, "type");
                let wanted: Vec<String> = param(request, "labels")
                    .map(|l| l.split(',').map(str::to_owned).collect())
                    .unwrap_or_default();
                let listed: Vec<Value> = tracker
                    .issues
                    .iter()
                    .filter(|i| state == "all" || i["state"] == state.as_str())
                    .filter(|i| match kind.as_deref() {
                        Some("issues") => i["pull_request"].is_null(),
                        Some("pulls") => !i["pull_request"].is_null(),
                        _ => true,
                    })
                    .filter(|i| wanted.iter().all(|l| names(&i["labels"]).contains(l)))
                    .cloned()
                    .collect();
                page(request, listed)
            }
            ("POST", ["issues"]) => {
                if !body["title"].is_string() {
                    return ResponseTemplate::new(422)
                        .set_body_json(json!({"message": "title is required"}));
                }
                let labels = match Self::labels(&tracker, &body["labels"]) {
                    Ok(labels) => labels,
                    Err(answer) => return *answer,
                };
                let number = tracker.issues.len() as u64 + 1;
                let issue = json!({
                    "id": 700 + number, "number": number,
                    "html_url": format!("{}/org/tracker/issues/{number}", tracker.web),
                    "title": body["title"], "body": body["body"], "state": "open",
                    "labels": labels, "pull_request": null, "comments": [],
                });
                tracker.issues.push(issue.clone());
                ResponseTemplate::new(201).set_body_json(issue)
            }
            ("PATCH", ["issues", number]) => {
                let Some(at) = at(&tracker, number) else {
                    return not_found();
                };
                let issue = &mut tracker.issues[at];
                for key in ["title", "body", "state"] {
                    if body[key].is_string() {
                        issue[key] = body[key].clone();
                    }
                }
                ResponseTemplate::new(201).set_body_json(issue.clone())
            }
            ("POST", ["issues", number, "labels"]) => {
                let Some(at) = at(&tracker, number) else {
                    return not_found();
                };
                let added = match Self::labels(&tracker, &body["labels"]) {
                    Ok(labels) => labels,
                    Err(answer) => return *answer,
                };
                let labels = tracker.issues[at]["labels"].as_array_mut().unwrap();
                for label in added {
                    if !labels.contains(&label) {
                        labels.push(label);
                    }
                }
                ResponseTemplate::new(200).set_body_json(labels.clone())
            }
            ("POST", ["issues", number, "comments"]) => {
                let Some(at) = at(&tracker, number) else {
                    return not_found();
                };
                let comments = tracker.issues[at]["comments"].as_array_mut().unwrap();
                comments.push(body["body"].clone());
                ResponseTemplate::new(201).set_body_json(json!({"id": 1, "body": body["body"]}))
            }
            _ => not_found(),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn gitea_issues_are_labelled_by_id_and_kept_like_githubs() {
    let server = MockServer::start().await;
    upstreams(&server).await;
    let tea = FakeGitea::default();
    {
        let mut tracker = tea.0.tracker();
        tracker.web = server.uri();
        tracker.labels = vec![
            json!({"id": 1, "name": "vulnerability", "color": "ee0701"}),
            json!({"id": 2, "name": "dependency-dashboard", "color": "0075ca"}),
        ];
        // A pull request that looks like the dashboard: not an issue, so never taken for it.
        tracker.issues.push(json!({
            "id": 701, "number": 1, "title": "Dependency dashboard",
            "body": DASHBOARD_KEY, "state": "open",
            "labels": [{"id": 2, "name": "dependency-dashboard", "color": "0075ca"}],
            "pull_request": {"merged": false}, "comments": [],
            "html_url": format!("{}/org/tracker/pulls/1", server.uri()),
        }));
    }
    Mock::given(path_regex("^/api/v1/"))
        .respond_with(tea.clone())
        .mount(&server)
        .await;
    let settings = "forge = \"gitea\"\nrepository = \"org/tracker\"\n";
    let mut project = vulnerable(&server, settings);
    project
        .env("GITEA_API_URL", &format!("{}/api/v1", server.uri()))
        .env("GITEA_TOKEN", GITEA_TOKEN);

    let run = project.run(&["audit", "--issues", "--dashboard"]);
    assert_eq!(run.code, 1, "{run:?}");
    let issues = format!("POST {GITEA_REPO}/issues");
    let label = format!("POST {GITEA_REPO}/labels");
    // The labels the repository lacked were created once each, the repository's labels read
    // once, and every issue opened with label ids.
    assert_eq!(
        tea.0.writes(),
        [label.as_str(), &label, &issues, &issues, &issues],
        "{run:?}"
    );
    assert_eq!(
        tea.0.body_of_write(0),
        json!({"name": "v22.x", "color": "#e11d21"})
    );
    assert_eq!(tea.0.body_of_write(1)["name"], "severity:high");
    assert_eq!(tea.0.seen(&format!("GET {GITEA_REPO}/labels")), 1);
    assert_eq!(tea.0.body_of_write(2)["labels"], json!([1, 3, 4]));
    assert_eq!(tea.0.body_of_write(3)["labels"], json!([1, 3, 4]));
    assert_eq!(tea.0.body_of_write(4)["labels"], json!([2]));
    for title in [ACORN_1, ACORN_2] {
        let issue = tea.0.issue(tea.0.number_titled(title));
        assert_eq!(issue["state"], "open");
        assert_eq!(
            names(&issue["labels"]),
            ["vulnerability", "v22.x", "severity:high"]
        );
        let body = issue["body"].as_str().unwrap();
        assert!(body.contains("**acorn flaw "), "{body}");
        assert!(body.contains("<!-- deps-update finding: "), "{body}");
    }
    let dashboard = tea.0.issue(4);
    assert_eq!(dashboard["title"], "Dependency dashboard");
    assert!(dashboard["pull_request"].is_null());
    assert_eq!(names(&dashboard["labels"]), ["dependency-dashboard"]);
    assert!(
        run.stderr.contains(&format!(
            "opened issue #2 {}/org/tracker/issues/2: {ACORN_1}",
            server.uri()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("issues in `org/tracker`: 2 opened, 0 refreshed, 0 closed, 0 unchanged"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("dashboard in `org/tracker`: #4 opened"),
        "{}",
        run.stderr
    );
    assert!(!shows(&run, GITEA_TOKEN), "{run:?}");

    // Nothing changed: nothing written.
    let run = project.run(&["audit", "--issues", "--dashboard"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(tea.0.writes().len(), 5, "{:?}", tea.0.writes());
    assert!(
        run.stderr
            .contains("0 opened, 0 refreshed, 0 closed, 2 unchanged"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("#4 unchanged"), "{}", run.stderr);

    // A label taken off by hand is put back by id; it exists now, so none is created.
    let number = tea.0.number_titled(ACORN_2);
    tea.0.edit_by_hand(number, |issue| {
        issue["labels"].as_array_mut().unwrap().pop();
    });
    let run = project.run(&["audit", "--issues"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        tea.0.writes()[5..],
        [format!("POST {GITEA_REPO}/issues/{number}/labels")],
        "{run:?}"
    );
    assert_eq!(tea.0.body_of_write(5), json!({"labels": [4]}));
    assert_eq!(
        names(&tea.0.issue(number)["labels"]),
        ["vulnerability", "v22.x", "severity:high"]
    );

    // Updated away: each finding's issue gets a comment, then is closed; the dashboard says so.
    fix(&mut project, settings);
    let run = project.run(&["audit", "--issues", "--dashboard"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        tea.0.writes()[6..],
        [
            format!("POST {GITEA_REPO}/issues/2/comments"),
            format!("PATCH {GITEA_REPO}/issues/2"),
            format!("POST {GITEA_REPO}/issues/3/comments"),
            format!("PATCH {GITEA_REPO}/issues/3"),
            format!("PATCH {GITEA_REPO}/issues/4"),
        ],
        "{run:?}"
    );
    assert_eq!(tea.0.body_of_write(7), json!({"state": "closed"}));
    for number in [2, 3] {
        let issue = tea.0.issue(number);
        assert_eq!(issue["state"], "closed", "{issue}");
        assert_eq!(issue["comments"], json!([GONE]), "{issue}");
    }
    let dashboard = tea.0.issue(4);
    assert_eq!(dashboard["state"], "open");
    assert!(
        dashboard["body"]
            .as_str()
            .unwrap()
            .contains("| `acorn` | `8.1.0` | `8.1.0` | up to date | none known |"),
        "{dashboard}"
    );
    assert_eq!(
        tea.0.issue(1)["state"],
        "open",
        "the pull request is left alone"
    );
    assert!(
        run.stderr
            .contains("0 opened, 0 refreshed, 2 closed, 0 unchanged"),
        "{}",
        run.stderr
    );

    // And then nothing more to do.
    let run = project.run(&["audit", "--issues", "--dashboard"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(tea.0.writes().len(), 11, "{:?}", tea.0.writes());
}
