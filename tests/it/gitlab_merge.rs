//! GitLab merge requests: `update --pr` pushes to a local bare `origin` and opens or refreshes
//! merge requests on a fake GitLab (REST API v4) that keeps state as GitLab would. The
//! upstream is a `gitlab-release` on the same fake, so every request goes to one GitLab.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{Entry, Project, git, mount_file, tar_gz};

/// The token: never shown, anywhere.
const TOKEN: &str = "glpat-never-shown-anywhere";

/// `(id, path, forked from)`: the upstream, our project, the bot's fork, a stranger's fork.
const PROJECTS: &[(u64, &str, Option<u64>)] = &[
    (1, "up/lib", None),
    (7, "group/project", None),
    (9, "bot/project", Some(7)),
    (11, "someone/project", Some(7)),
];

/// A user of the fake GitLab: id, name, and whether they can see `group/project` (GitLab
/// drops, without a word, reviewers who cannot).
#[derive(Clone, Copy)]
struct User {
    id: u64,
    username: &'static str,
    member: bool,
}

/// Merge requests as GitLab keeps them, and what it was sent.
struct Lab {
    /// The fake's web address (`web_url`s).
    web: String,
    /// Where pushed branches are (a merge request needs its source branch).
    origin: PathBuf,
    /// Upstream `up/lib`'s release tags, newest first.
    releases: Vec<&'static str>,
    merges: Vec<Value>,
    /// Every write: `METHOD /path`, and its body.
    writes: Vec<(String, Value)>,
    /// The token header each merge request call carried: `PRIVATE-TOKEN=...` or `JOB-TOKEN=...`.
    credentials: Vec<String>,
    /// Queries of the merge request listings.
    listings: Vec<Vec<(String, String)>>,
    users: Vec<User>,
    /// Merge request calls with this method get this answer instead, this many times.
    failing: Option<(&'static str, ResponseTemplate, u32)>,
    /// This many listings come back empty (one that lags behind a parallel run).
    stale_lists: u32,
}

#[derive(Clone)]
struct FakeGitlab(Arc<Mutex<Lab>>);

fn project_by_path(encoded: &str) -> Option<(u64, &'static str, Option<u64>)> {
    // GitLab takes a path as one URL-encoded segment: `group%2Fproject`.
    let path = encoded.replace("%2F", "/").replace("%2f", "/");
    PROJECTS.iter().copied().find(|(_, p, _)| *p == path)
}

fn path_of(id: u64) -> &'static str {
    PROJECTS.iter().find(|(i, _, _)| *i == id).unwrap().1
}

fn not_found(what: &str) -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({ "message": format!("404 {what} Not Found") }))
}

/// Labels as GitLab takes them: a comma-separated string, or a list.
fn label_list(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => text
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        Value::Array(list) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

impl Lab {
    /// Reviewers by id, keeping those who can see the project, as GitLab does.
    fn reviewers(&self, ids: &Value) -> Value {
        let ids = ids.as_array().cloned().unwrap_or_default();
        Value::Array(
            ids.iter()
                .filter_map(|id| {
                    let user = self.users.iter().find(|u| Some(u.id) == id.as_u64())?;
                    user.member
                        .then(|| json!({"id": user.id, "username": user.username}))
                })
                .collect(),
        )
    }

    fn branch_exists(&self, branch: &str) -> bool {
        std::process::Command::new("git")
            .args([
                "rev-parse",
                "-q",
                "--verify",
                &format!("refs/heads/{branch}"),
            ])
            .current_dir(&self.origin)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap()
            .status
            .success()
    }

    /// A merge request as it is listed, with the ids GitLab gives.
    fn merge_request(&self, source: u64, target: u64, branch: &str, fields: &Value) -> Value {
        let iid = self
            .merges
            .iter()
            .filter(|m| m["project_id"] == target)
            .count() as u64
            + 1;
        let title = fields["title"].as_str().unwrap_or_default();
        json!({
            "id": 1000 + self.merges.len() as u64,
            "iid": iid,
            "project_id": target,
            "source_project_id": source,
            "target_project_id": target,
            "source_branch": branch,
            "target_branch": fields["target_branch"],
            "title": title,
            "description": fields["description"],
            "state": "opened",
            "draft": title.starts_with("Draft:"),
            "labels": label_list(&fields["labels"]),
            "reviewers": self.reviewers(&fields["reviewer_ids"]),
            "author": {"id": 30, "username": "deps-bot"},
            "web_url": format!("{}/{}/-/merge_requests/{iid}", self.web, path_of(target)),
        })
    }

    fn merge_requests(
        &mut self,
        request: &Request,
        method: &str,
        project: (u64, &'static str, Option<u64>),
        rest: &[&str],
        body: Value,
    ) -> ResponseTemplate {
        let (id, _, forked_from) = project;
        match (method, rest) {
            ("GET", []) => {
                let query: Vec<(String, String)> = request
                    .url
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                self.listings.push(query.clone());
                if self.stale_lists > 0 {
                    self.stale_lists -= 1;
                    return ResponseTemplate::new(200).set_body_json(json!([]));
                }
                let param = |name: &str| {
                    query
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                };
                let (state, branch) = (param("state"), param("source_branch"));
                let listed: Vec<Value> = self
                    .merges
                    .iter()
                    .filter(|m| m["project_id"] == id)
                    .filter(|m| state.as_ref().is_none_or(|s| m["state"] == s.as_str()))
                    .filter(|m| {
                        branch
                            .as_ref()
                            .is_none_or(|b| m["source_branch"] == b.as_str())
                    })
                    .cloned()
                    .collect();
                ResponseTemplate::new(200).set_body_json(listed)
            }
            ("POST", []) => {
                for required in ["source_branch", "target_branch", "title"] {
                    if !body[required].is_string() {
                        return ResponseTemplate::new(400)
                            .set_body_json(json!({"error": format!("{required} is missing")}));
                    }
                }
                // Opened on the source project; from a fork, aimed at the project it forks.
                let target = match &body["target_project_id"] {
                    Value::Null => id,
                    Value::Number(n) => n.as_u64().unwrap(),
                    _ => {
                        return ResponseTemplate::new(400)
                            .set_body_json(json!({"error": "target_project_id is invalid"}));
                    }
                };
                if target != id && forked_from != Some(target) {
                    return ResponseTemplate::new(422).set_body_json(
                        json!({"message": ["Source project is not a fork of the target project"]}),
                    );
                }
                let branch = body["source_branch"].as_str().unwrap().to_owned();
                if let Some(open) = self.merges.iter().find(|m| {
                    m["project_id"] == target
                        && m["source_project_id"] == id
                        && m["source_branch"] == branch.as_str()
                        && m["target_branch"] == body["target_branch"]
                        && m["state"] == "opened"
                }) {
                    return ResponseTemplate::new(409).set_body_json(json!({"message": [format!(
                        "Another open merge request already exists for this source branch: !{}",
                        open["iid"]
                    )]}));
                }
                if !self.branch_exists(&branch) {
                    return ResponseTemplate::new(422).set_body_json(
                        json!({"message": [format!("Source branch \"{branch}\" does not exist")]}),
                    );
                }
                let merge = self.merge_request(id, target, &branch, &body);
                self.merges.push(merge.clone());
                ResponseTemplate::new(201).set_body_json(merge)
            }
            ("PUT", [iid]) => {
                let known = [
                    "title",
                    "description",
                    "labels",
                    "add_labels",
                    "remove_labels",
                    "reviewer_ids",
                    "target_branch",
                    "state_event",
                ];
                if !known.iter().any(|k| !body[*k].is_null()) {
                    return ResponseTemplate::new(400).set_body_json(json!({
                        "error": format!("{} are missing, at least one parameter must be provided", known.join(", "))
                    }));
                }
                let reviewers = (!body["reviewer_ids"].is_null())
                    .then(|| self.reviewers(&body["reviewer_ids"]));
                let iid: u64 = iid.parse().unwrap_or_default();
                let Some(merge) = self
                    .merges
                    .iter_mut()
                    .find(|m| m["project_id"] == id && m["iid"] == iid)
                else {
                    return not_found("");
                };
                for field in ["title", "description", "target_branch"] {
                    if !body[field].is_null() {
                        merge[field] = body[field].clone();
                    }
                }
                if !body["labels"].is_null() {
                    merge["labels"] = json!(label_list(&body["labels"]));
                }
                let mut labels = label_list(&merge["labels"]);
                for label in label_list(&body["add_labels"]) {
                    if !labels.contains(&label) {
                        labels.push(label);
                    }
                }
                merge["labels"] = json!(labels);
                if let Some(reviewers) = reviewers {
                    merge["reviewers"] = reviewers;
                }
                let draft = merge["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Draft:"));
                merge["draft"] = json!(draft);
                ResponseTemplate::new(200).set_body_json(merge.clone())
            }
            _ => not_found(""),
        }
    }
}

impl Respond for FakeGitlab {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut lab = self.0.lock().unwrap();
        let path = request.url.path().to_owned();
        let method = request.method.as_str().to_owned();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let Some(route) = path.strip_prefix("/api/v4/") else {
            return not_found("");
        };
        let segments: Vec<&str> = route.split('/').collect();
        if method != "GET" {
            lab.writes.push((format!("{method} {path}"), body.clone()));
        }
        if path.contains("/merge_requests") {
            for header in ["private-token", "job-token"] {
                if let Some(value) = request.headers.get(header) {
                    let value = value.to_str().unwrap_or_default();
                    lab.credentials
                        .push(format!("{}={value}", header.to_ascii_uppercase()));
                }
            }
            if let Some((failing, answer, times)) = &mut lab.failing
                && *failing == method
                && *times > 0
            {
                *times -= 1;
                return answer.clone();
            }
        }
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["users"]) => {
                let name = request
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "username")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let found: Vec<Value> = lab
                    .users
                    .iter()
                    .filter(|u| u.username.eq_ignore_ascii_case(&name))
                    .map(|u| json!({"id": u.id, "username": u.username, "state": "active"}))
                    .collect();
                ResponseTemplate::new(200).set_body_json(found)
            }
            (_, ["projects", encoded, rest @ ..]) => {
                let Some(project) = project_by_path(encoded) else {
                    return not_found("Project");
                };
                match (method.as_str(), rest) {
                    ("GET", []) => ResponseTemplate::new(200).set_body_json(json!({
                        "id": project.0,
                        "path_with_namespace": project.1,
                        "forked_from_project": project.2.map(|id| json!({"id": id})),
                    })),
                    ("GET", ["releases"]) if project.1 == "up/lib" => {
                        let releases: Vec<Value> = lab
                            .releases
                            .iter()
                            .map(|tag| {
                                let version = tag.trim_start_matches('v');
                                let name = format!("lib-{version}.tar.gz");
                                json!({
                                    "tag_name": tag,
                                    "released_at": "2020-01-01T00:00:00Z",
                                    "upcoming_release": false,
                                    "assets": {"links": [{
                                        "name": name,
                                        "url": format!("{}/dl/{name}", lab.web),
                                    }]},
                                })
                            })
                            .collect();
                        ResponseTemplate::new(200).set_body_json(releases)
                    }
                    (_, ["merge_requests", rest @ ..]) => {
                        lab.merge_requests(request, &method, project, rest, body)
                    }
                    _ => not_found(""),
                }
            }
            _ => not_found(""),
        }
    }
}

impl FakeGitlab {
    fn lab(&self) -> std::sync::MutexGuard<'_, Lab> {
        self.0.lock().unwrap()
    }

    /// The writes so far, as `METHOD /path`.
    fn writes(&self) -> Vec<String> {
        self.lab().writes.iter().map(|(w, _)| w.clone()).collect()
    }

    /// Merge requests in `group/project` (7).
    fn ours(&self) -> Vec<Value> {
        self.lab()
            .merges
            .iter()
            .filter(|m| m["project_id"] == 7)
            .cloned()
            .collect()
    }

    /// Puts a merge request in place, as a person or a parallel run would have opened it.
    fn opened_elsewhere(&self, source: u64, title: &str) {
        let mut lab = self.lab();
        let merge = lab.merge_request(
            source,
            7,
            "deps-update/lib",
            &json!({"title": title, "description": "theirs", "target_branch": "main", "labels": ""}),
        );
        lab.merges.push(merge);
    }
}

/// `lib` 1.0.0 vendored, upstream `up/lib` at 1.1.0 (1.2.0 to come), a bare `origin`, and a
/// fake GitLab for the releases and the merge requests; `settings` goes in `[settings]`.
async fn outdated_lib(settings: &str) -> (Project, MockServer, FakeGitlab) {
    let server = MockServer::start().await;
    let mut project = Project::new();
    let origin = project.scratch("origin.git");
    let lab = FakeGitlab(Arc::new(Mutex::new(Lab {
        web: server.uri(),
        origin: origin.clone(),
        releases: vec!["v1.1.0"],
        merges: Vec::new(),
        writes: Vec::new(),
        credentials: Vec::new(),
        listings: Vec::new(),
        users: vec![User {
            id: 30,
            username: "deps-bot",
            member: true,
        }],
        failing: None,
        stale_lists: 0,
    })));
    Mock::given(path_regex(r"^/api/v4/"))
        .respond_with(lab.clone())
        .mount(&server)
        .await;
    for version in ["1.1.0", "1.2.0"] {
        let archive = tar_gz(&[
            Entry::File(
                &format!("lib-{version}/src/lib.c"),
                format!("// lib {version}\n").as_bytes(),
            ),
            Entry::File(&format!("lib-{version}/LICENSE"), b"MIT\n"),
        ]);
        mount_file(&server, &format!("/dl/lib-{version}.tar.gz"), archive).await;
    }
    project
        .env("GITLAB_API_URL", &format!("{}/api/v4", server.uri()))
        .env("GITLAB_TOKEN", TOKEN);
    project.manifest(&format!(
        "[settings]\n{settings}labels = [\"dependencies\"]\n\n\
         [deps.lib]\npath = \"deps/lib\"\nsource = \"gitlab-release\"\nrepo = \"up/lib\"\n\
         version = \"1.0.0\"\nasset = \"lib-{{version}}.tar.gz\"\nlabels = [\"lib\"]\n"
    ));
    project
        .write("deps/lib/src/lib.c", "// lib 1.0.0\n")
        .write("deps/lib/LICENSE", "MIT\n");
    project.commit_all("initial");
    git(&origin, &["init", "-q", "--bare", "-b", "main"]);
    project.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    project.git(&["push", "-q", "origin", "main"]);
    project.git(&["branch", "-q", "--set-upstream-to", "origin/main"]);
    (project, server, lab)
}

const OURS: &str = "forge = \"gitlab\"\nrepository = \"group/project\"\n";

fn remote_branches(project: &Project) -> Vec<String> {
    git(
        &project.scratch("origin.git"),
        &["for-each-ref", "--format=%(refname:short)", "refs/heads"],
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

fn labels(merge: &Value) -> Vec<&str> {
    merge["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect()
}

fn reviewers(merge: &Value) -> Vec<&str> {
    merge["reviewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["username"].as_str().unwrap())
        .collect()
}

fn assert_token_hidden(run: &crate::support::Run) {
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn update_pr_opens_one_merge_request_in_the_project() {
    let (mut project, server, lab) = outdated_lib(OURS).await;
    let outputs = project.scratch("outputs");
    project.env("GITHUB_OUTPUT", outputs.join("output").to_str().unwrap());
    let run = project.run(&["update", "lib", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.lines().any(|l| l.starts_with("lib ")
            && l.contains("1.0.0  1.1.0  committed ")
            && l.ends_with("on deps-update/lib; pushed; opened #1")),
        "{}",
        run.stdout
    );
    assert_token_hidden(&run);
    assert_eq!(remote_branches(&project), ["deps-update/lib", "main"]);
    assert_eq!(
        project.git(&["show", "deps-update/lib:deps/lib/src/lib.c"]),
        "// lib 1.1.0"
    );

    let ours = lab.ours();
    assert_eq!(ours.len(), 1, "{ours:?}");
    let merge = &ours[0];
    assert_eq!(merge["title"], "deps: update lib to 1.1.0");
    assert_eq!(merge["source_branch"], "deps-update/lib");
    assert_eq!(merge["target_branch"], "main");
    assert_eq!(merge["source_project_id"], 7);
    assert_eq!(labels(merge), ["dependencies", "lib"]);
    let description = merge["description"].as_str().unwrap();
    for expected in [
        "Updates **lib** from `1.0.0` to `1.1.0`.",
        "| Version | `1.0.0` → `1.1.0` |",
        &format!("[release notes]({}/up/lib/-/releases/v1.1.0)", server.uri()),
        "### Verified\n\n- SHA-256 of the archive: `",
    ] {
        assert!(
            description.contains(expected),
            "expected {expected:?} in:\n{description}"
        );
    }

    let lab = lab.lab();
    // One write: the merge request, opened on the project by its URL-encoded path, with
    // GitLab's comma-separated labels.
    assert_eq!(lab.writes.len(), 1, "{:?}", lab.writes);
    let (write, body) = &lab.writes[0];
    assert_eq!(
        write,
        "POST /api/v4/projects/group%2Fproject/merge_requests"
    );
    assert_eq!(body["labels"], "dependencies,lib");
    assert!(body["target_project_id"].is_null(), "{body}");
    // The open one was looked for first, by its source branch.
    let listing = &lab.listings[0];
    for expected in [("state", "opened"), ("source_branch", "deps-update/lib")] {
        assert!(
            listing
                .iter()
                .any(|(k, v)| k == expected.0 && v == expected.1),
            "{listing:?}"
        );
    }
    assert!(
        lab.credentials
            .iter()
            .all(|c| *c == format!("PRIVATE-TOKEN={TOKEN}")),
        "{:?}",
        lab.credentials
    );
    let output = std::fs::read_to_string(outputs.join("output")).unwrap();
    assert!(
        output.contains(&format!(
            "pull-requests={{\"lib\":\"{}/group/project/-/merge_requests/1\"}}",
            server.uri()
        )),
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_release_moves_the_branch_and_refreshes_the_same_merge_request() {
    let (project, _server, lab) = outdated_lib(&format!("{OURS}draft = true\n")).await;
    assert_eq!(project.run(&["update", "lib", "--pr"]).code, 0);
    let first_tip = git(
        &project.scratch("origin.git"),
        &["rev-parse", "deps-update/lib"],
    );
    assert_eq!(lab.ours()[0]["title"], "Draft: deps: update lib to 1.1.0");
    assert_eq!(lab.ours()[0]["draft"], true);
    // A maintainer marks it ready; upstream publishes 1.2.0.
    {
        let mut state = lab.lab();
        state.merges[0]["title"] = json!("deps: update lib to 1.1.0");
        state.merges[0]["draft"] = json!(false);
        state.releases = vec!["v1.2.0", "v1.1.0"];
    }

    let run = project.run(&["update", "lib", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("1.0.0  1.2.0  committed ")
            && run.stdout.contains("; pushed; refreshed #1"),
        "{}",
        run.stdout
    );
    let ours = lab.ours();
    assert_eq!(ours.len(), 1, "the same merge request, never a second one");
    // Refreshed, and still ready: marking it ready was the maintainer's call.
    assert_eq!(ours[0]["title"], "deps: update lib to 1.2.0");
    assert!(
        ours[0]["description"]
            .as_str()
            .unwrap()
            .contains("Updates **lib** from `1.0.0` to `1.2.0`."),
        "{}",
        ours[0]["description"]
    );
    assert_eq!(
        lab.writes(),
        [
            "POST /api/v4/projects/group%2Fproject/merge_requests",
            "PUT /api/v4/projects/group%2Fproject/merge_requests/1"
        ]
    );
    // Labels were all there: the refresh does not send them.
    let put = lab.lab().writes[1].1.clone();
    assert!(put["add_labels"].is_null(), "{put}");
    let origin = project.scratch("origin.git");
    assert_ne!(git(&origin, &["rev-parse", "deps-update/lib"]), first_tip);
    assert_eq!(
        git(&origin, &["rev-parse", "deps-update/lib^"]),
        git(&origin, &["rev-parse", "main"])
    );
    assert_eq!(
        git(&origin, &["show", "deps-update/lib:deps/lib/src/lib.c"]),
        "// lib 1.2.0"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rerun_with_nothing_new_sends_no_write() {
    let (project, _server, lab) = outdated_lib(OURS).await;
    assert_eq!(project.run(&["update", "lib", "--pr"]).code, 0);
    // A maintainer adds a label of their own: the merge request still matches.
    lab.lab().merges[0]["labels"] = json!(["dependencies", "lib", "needs-ci"]);
    let writes = lab.writes();
    let refs = git(&project.scratch("origin.git"), &["for-each-ref"]);
    let run = project.run(&["update", "lib", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("already on deps-update/lib") && run.stdout.contains("#1 unchanged"),
        "{}",
        run.stdout
    );
    assert_eq!(lab.writes(), writes, "no API writes");
    assert_eq!(
        git(&project.scratch("origin.git"), &["for-each-ref"]),
        refs,
        "no pushes either"
    );
    assert_eq!(labels(&lab.ours()[0]), ["dependencies", "lib", "needs-ci"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_merge_request_a_parallel_run_opened_is_refreshed_not_duplicated() {
    let (project, _server, lab) = outdated_lib(OURS).await;
    // A parallel run opened one (from this project's branch) that the listing does not show
    // yet: GitLab answers the POST with 409.
    lab.opened_elsewhere(7, "deps: update lib to 1.0.5");
    lab.lab().stale_lists = 1;
    let run = project.run(&["update", "lib", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("; pushed; refreshed #1"),
        "{}",
        run.stdout
    );
    let ours = lab.ours();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0]["title"], "deps: update lib to 1.1.0");
    assert_eq!(labels(&ours[0]), ["dependencies", "lib"]);
    assert_eq!(
        lab.writes(),
        [
            "POST /api/v4/projects/group%2Fproject/merge_requests",
            "PUT /api/v4/projects/group%2Fproject/merge_requests/1"
        ]
    );
    assert_eq!(lab.lab().listings.len(), 2, "listed again after the 409");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_same_named_branch_of_someone_elses_fork_is_not_ours() {
    let (project, _server, lab) = outdated_lib(OURS).await;
    // Someone opened a merge request from their fork's `deps-update/lib`.
    lab.opened_elsewhere(11, "my own work");
    for expected in ["; pushed; opened #2", "#2 unchanged"] {
        let run = project.run(&["update", "lib", "--pr"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains(expected), "{}", run.stdout);
    }
    let ours = lab.ours();
    assert_eq!(ours.len(), 2);
    assert_eq!(ours[0]["title"], "my own work", "theirs is left alone");
    assert_eq!(ours[0]["description"], "theirs");
    assert_eq!(ours[1]["source_project_id"], 7);
    assert_eq!(
        lab.writes(),
        ["POST /api/v4/projects/group%2Fproject/merge_requests"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn from_a_fork_the_merge_request_is_opened_on_the_fork_aimed_at_the_project() {
    let (project, _server, lab) = outdated_lib(OURS).await;
    // The bot pushes to its fork `bot/project`; `insteadOf` sends the push to the local bare
    // repository.
    let origin = project.scratch("origin.git");
    let fork = "https://gitlab.example/bot/project.git";
    project.git(&["remote", "set-url", "origin", fork]);
    project.git(&[
        "config",
        &format!("url.{}.insteadOf", origin.display()),
        fork,
    ]);
    // A stranger's fork has a branch of the same name, with a merge request open.
    lab.opened_elsewhere(11, "my own work");
    for expected in ["; pushed; opened #2", "#2 unchanged"] {
        let run = project.run(&["update", "lib", "--pr"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains(expected), "{}", run.stdout);
        assert_token_hidden(&run);
    }
    assert!(remote_branches(&project).contains(&"deps-update/lib".to_owned()));
    let ours = lab.ours();
    assert_eq!(ours.len(), 2);
    assert_eq!(ours[0]["title"], "my own work");
    let merge = &ours[1];
    assert_eq!(merge["source_project_id"], 9);
    assert_eq!(merge["target_project_id"], 7);
    assert_eq!(merge["title"], "deps: update lib to 1.1.0");
    let lab = lab.lab();
    assert_eq!(lab.writes.len(), 1, "{:?}", lab.writes);
    let (write, body) = &lab.writes[0];
    assert_eq!(write, "POST /api/v4/projects/bot%2Fproject/merge_requests");
    assert_eq!(body["target_project_id"], 7);
    assert_eq!(body["target_branch"], "main");
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_clear_name_the_dependency_and_keep_the_pushed_branch() {
    let (mut project, server, lab) = outdated_lib(OURS).await;
    project.env("DEPS_UPDATE_MAX_RATE_LIMIT_WAIT", "0");
    let api = format!("{}/api/v4", server.uri());
    let merge_requests = format!("`{api}/projects/group%2Fproject/merge_requests`");
    let pushed_hint =
        "hint: the branch is pushed; the next run opens or refreshes its change request";
    let cases: Vec<(ResponseTemplate, Vec<String>)> = vec![
        (
            ResponseTemplate::new(401).set_body_json(json!({"message": "401 Unauthorized"})),
            vec![
                format!("{merge_requests} refused the credentials (401)"),
                "hint: check that `GITLAB_TOKEN` is valid and not expired".into(),
            ],
        ),
        (
            ResponseTemplate::new(403).set_body_json(json!({"message": "403 Forbidden"})),
            vec![
                format!("{merge_requests} answered 403: 403 Forbidden"),
                pushed_hint.into(),
            ],
        ),
        (
            ResponseTemplate::new(404).set_body_json(json!({"message": "404 Project Not Found"})),
            vec![
                format!("{merge_requests} was not found (404)"),
                pushed_hint.into(),
            ],
        ),
        (
            ResponseTemplate::new(422).set_body_json(
                json!({"message": ["Source project is not a fork of the target project"]}),
            ),
            vec![
                format!("{merge_requests} answered 422"),
                "Source project is not a fork of the target project".into(),
                pushed_hint.into(),
            ],
        ),
        (
            // Longer than the wait allowed: reported, never waited out.
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3600")
                .insert_header("ratelimit-remaining", "0")
                .set_body_string("Retry later"),
            vec![
                format!("rate limit reached at {merge_requests}; it resets at "),
                "hint: wait until the limit resets, or run fewer dependencies at once (`--jobs`)"
                    .into(),
            ],
        ),
    ];
    for (answer, expected) in cases {
        lab.lab().failing = Some(("POST", answer, u32::MAX));
        let started = std::time::Instant::now();
        let run = project.run(&["update", "lib", "--pr"]);
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(
                "error: `lib`: cannot open a merge request for `deps-update/lib` in `group/project`"
            ),
            "{}",
            run.stderr
        );
        for expected in expected {
            assert!(
                run.stderr.contains(&expected),
                "expected {expected:?} in:\n{}",
                run.stderr
            );
        }
        assert!(
            run.stdout.contains("; publishing failed (see below)"),
            "{}",
            run.stdout
        );
        assert_token_hidden(&run);
        assert!(remote_branches(&project).contains(&"deps-update/lib".to_owned()));
        assert!(lab.ours().is_empty());
    }

    // A rate limit that asks for no wait is waited out: the POST is sent again, once.
    lab.lab().failing = Some((
        "POST",
        ResponseTemplate::new(429).insert_header("retry-after", "0"),
        1,
    ));
    let run = project.run(&["update", "lib", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("already on deps-update/lib") && run.stdout.contains("opened #1"),
        "{}",
        run.stdout
    );
    assert_eq!(lab.ours().len(), 1);
    assert_eq!(
        lab.writes()
            .iter()
            .filter(|w| w.starts_with("POST"))
            .count(),
        7,
        "five refused, then one limited and its one retry"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reviewers_unknown_or_unable_to_see_the_project_are_named() {
    let settings = format!("{OURS}reviewers = [\"alice\", \"carol\", \"mallory\"]\n");
    let (project, _server, lab) = outdated_lib(&settings).await;
    {
        let mut state = lab.lab();
        state.users.push(User {
            id: 21,
            username: "alice",
            member: true,
        });
        // Carol has an account, but cannot see the project: GitLab drops her silently.
        state.users.push(User {
            id: 24,
            username: "carol",
            member: false,
        });
    }
    let refused = "merge request #1 is open, but GitLab refused to request a review from `mallory`, `carol`: no such user, or one who cannot see the project";
    let hint = "hint: they are not members of `group/project`: invite them (and have them accept), or remove them from `settings.reviewers`; the next run asks again";
    let run = project.run(&["update", "lib", "--pr"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!("error: `lib`: {refused}")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(hint), "{}", run.stderr);
    assert_eq!(lab.ours().len(), 1);
    assert_eq!(reviewers(&lab.ours()[0]), ["alice"]);
    assert_eq!(lab.lab().writes[0].1["reviewer_ids"], json!([21, 24]));

    // Upstream moves on: the merge request follows, though the reviewers are still refused.
    lab.lab().releases = vec!["v1.2.0", "v1.1.0"];
    let run = project.run(&["update", "lib", "--pr"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains(refused), "{}", run.stderr);
    let ours = lab.ours();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0]["title"], "deps: update lib to 1.2.0");
    assert_eq!(reviewers(&ours[0]), ["alice"]);

    // Mallory signs up and Carol joins: the next run asks them, keeping Alice.
    {
        let mut state = lab.lab();
        state.users.push(User {
            id: 23,
            username: "mallory",
            member: true,
        });
        state.users.iter_mut().for_each(|u| u.member = true);
    }
    let run = project.run(&["update", "lib", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("refreshed #1"), "{}", run.stdout);
    assert_eq!(reviewers(&lab.ours()[0]), ["alice", "carol", "mallory"]);
    let writes = lab.writes();
    let run = project.run(&["update", "lib", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("#1 unchanged"), "{}", run.stdout);
    assert_eq!(lab.writes(), writes);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_reviewer_is_named_on_every_run_without_empty_writes() {
    let settings = format!("{OURS}reviewers = [\"nobody-here\"]\n");
    let (project, _server, lab) = outdated_lib(&settings).await;
    for _ in 0..2 {
        let run = project.run(&["update", "lib", "--pr"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(
                "merge request #1 is open, but GitLab refused to request a review from `nobody-here`: no such user"
            ),
            "{}",
            run.stderr
        );
    }
    assert_eq!(lab.ours().len(), 1);
    assert_eq!(
        lab.writes(),
        ["POST /api/v4/projects/group%2Fproject/merge_requests"],
        "the second run has nothing to change, and sends nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn in_gitlab_ci_the_api_and_project_come_from_its_variables() {
    let (mut project, server, lab) = outdated_lib("forge = \"gitlab\"\n").await;
    // What a GitLab CI job sets; the job token cannot reach merge requests, so the
    // `GITLAB_TOKEN` set beside it is the one sent.
    project
        .env("GITLAB_API_URL", "")
        .env("CI_API_V4_URL", &format!("{}/api/v4", server.uri()))
        .env("CI_PROJECT_PATH", "group/project")
        .env("CI_JOB_TOKEN", "job-token-secret");
    // The job token alone cannot open merge requests: said before anything is pushed.
    project.env("GITLAB_TOKEN", "");
    let run = project.run(&["update", "lib", "--pr"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("error: opening merge requests on GitLab needs a token, and none that may is set (`CI_JOB_TOKEN` may not)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: set `GITLAB_TOKEN`"),
        "{}",
        run.stderr
    );
    assert!(lab.writes().is_empty());
    project.env("GITLAB_TOKEN", TOKEN);
    let run = project.run(&["update", "lib", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("opened #1"), "{}", run.stdout);
    assert!(!run.stderr.contains("job-token-secret"), "{}", run.stderr);
    assert_eq!(lab.ours().len(), 1);
    let state = lab.lab();
    assert!(!state.credentials.is_empty());
    assert!(
        state
            .credentials
            .iter()
            .all(|c| *c == format!("PRIVATE-TOKEN={TOKEN}")),
        "{:?}",
        state.credentials
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_forge_and_project_are_inferred_from_the_push_remote() {
    let (mut project, server, lab) = outdated_lib("").await;
    // The remote names the fake GitLab's host; GitHub is elsewhere.
    project.env("GITHUB_API_URL", "http://localhost:9");
    let origin = project.scratch("origin.git");
    let remote = format!("{}/group/project.git", server.uri());
    project.git(&["remote", "set-url", "origin", &remote]);
    project.git(&[
        "config",
        &format!("url.{}.insteadOf", origin.display()),
        &remote,
    ]);
    let run = project.run(&["update", "lib", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("; pushed; opened #1"), "{}", run.stdout);
    assert_eq!(lab.ours().len(), 1);
    assert_eq!(
        lab.writes(),
        ["POST /api/v4/projects/group%2Fproject/merge_requests"]
    );
}
