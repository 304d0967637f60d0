//! Gitea and Forgejo: sources and pull requests against a fake Gitea API.
//!
//! The fake keeps state and answers as Gitea's API v1 does: listings by `page` and `limit`
//! (at most 50 items), with `X-Total-Count` always and a `Link` header only where Gitea sends
//! one (releases and pull requests, not tags or labels), built on its own `ROOT_URL`; private
//! repositories hidden behind a 404; `Authorization: token …`; pull requests with labels by
//! id, `409` for a second one on the same head, and reviewers asked by login.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{Entry, Project, git, sha256, tar_gz};

/// Gitea's `MAX_RESPONSE_ITEMS` and `DEFAULT_PAGING_NUM`.
const MAX_ITEMS: usize = 50;
const DEFAULT_LIMIT: usize = 30;

/// What a fake Gitea holds, and what it was asked.
#[derive(Default)]
struct State {
    /// `http://127.0.0.1:PORT`: where the fake answers.
    uri: String,
    /// Its `ROOT_URL`, on which it builds `Link` headers and web addresses (`uri/` unless set).
    root_url: Option<String>,
    /// Releases per repository (`owner/name`), newest first, as Gitea lists them.
    releases: HashMap<String, Vec<Value>>,
    /// Tag names per repository, newest first.
    tags: HashMap<String, Vec<String>>,
    /// Bytes served at a path: API archives and release downloads.
    files: HashMap<String, Vec<u8>>,
    /// Repositories only the token may see: without it Gitea answers 404.
    private: Vec<String>,
    /// The token Gitea knows; any other one is refused with 401.
    token: Option<String>,
    /// An answer per repository, whatever is asked of it (a rate limit, a refused token).
    answers: HashMap<String, ResponseTemplate>,
    /// Every request: `METHOD /path?query`, and its `Authorization` header.
    seen: Vec<(String, Option<String>)>,
    /// Every write: `METHOD /path`, and its JSON body.
    writes: Vec<(String, Value)>,
    /// The project's repository: its pull requests and labels.
    pulls: Vec<Value>,
    labels: Vec<Value>,
    /// Who may be asked for a review.
    collaborators: Vec<&'static str>,
    /// The local bare repository branches are pushed to: a pull request's head must exist.
    origin: Option<PathBuf>,
    /// While set, a request with this method on a path ending so gets this answer instead.
    failing: Option<(&'static str, &'static str, ResponseTemplate)>,
    /// This many pull request listings come back empty (a listing that lags behind).
    stale_lists: u32,
    /// The status of a second pull request on the same head: 409 (422 before Gitea 1.17).
    conflict_status: u16,
}

#[derive(Clone)]
struct FakeGitea(Arc<Mutex<State>>);

impl FakeGitea {
    async fn start() -> (MockServer, Self) {
        let server = MockServer::start().await;
        let fake = Self(Arc::new(Mutex::new(State {
            uri: server.uri(),
            conflict_status: 409,
            ..State::default()
        })));
        Mock::given(path_regex("^/"))
            .respond_with(fake.clone())
            .mount(&server)
            .await;
        (server, fake)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }

    /// Publishes a release; `assets` are `(name, bytes)`, downloaded from the web host.
    fn release(&self, repo: &str, tag: &str, assets: &[(&str, &[u8])]) {
        let mut state = self.state();
        let web = state.web();
        let assets: Vec<Value> = assets
            .iter()
            .enumerate()
            .map(|(i, (name, bytes))| {
                let path = format!("/{repo}/releases/download/{tag}/{name}");
                state.files.insert(path.clone(), bytes.to_vec());
                json!({
                    "id": i + 1, "name": name, "size": bytes.len(), "download_count": 0,
                    "uuid": format!("uuid-{i}"),
                    "browser_download_url": format!("{}{}", web.trim_end_matches('/'), path),
                })
            })
            .collect();
        let list = state.releases.entry(repo.to_owned()).or_default();
        let id = list.len() + 1;
        list.insert(
            0,
            json!({
                "id": id, "tag_name": tag, "target_commitish": "main", "name": tag, "body": "",
                "url": format!("{}/api/v1/repos/{repo}/releases/{id}", web.trim_end_matches('/')),
                "html_url": format!("{web}{repo}/releases/tag/{tag}"),
                "tarball_url": format!("{web}{repo}/archive/{tag}.tar.gz"),
                "draft": false, "prerelease": false,
                "created_at": "2025-01-10T12:00:00+01:00",
                "published_at": "2025-01-10T12:00:00+01:00",
                "author": {"login": "upstream"}, "assets": assets,
            }),
        );
        state
            .tags
            .entry(repo.to_owned())
            .or_default()
            .insert(0, tag.to_owned());
    }

    /// Serves `bytes` as the API's archive of `tag`.
    fn archive(&self, repo: &str, tag: &str, bytes: Vec<u8>) {
        self.state()
            .files
            .insert(format!("/api/v1/repos/{repo}/archive/{tag}.tar.gz"), bytes);
    }

    /// The requests seen whose path starts with `prefix`.
    fn seen(&self, prefix: &str) -> Vec<(String, Option<String>)> {
        self.state()
            .seen
            .iter()
            .filter(|(what, _)| what.split_once(' ').unwrap().1.starts_with(prefix))
            .cloned()
            .collect()
    }

    fn writes(&self) -> Vec<String> {
        self.state().writes.iter().map(|(w, _)| w.clone()).collect()
    }
}

/// Gitea's error document.
fn error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "message": message, "url": "https://gitea.example/api/swagger"
    }))
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({
        "errors": ["user redirect does not exist [name: gone]"],
        "message": "The target couldn't be found.",
        "url": "https://gitea.example/api/swagger"
    }))
}

impl State {
    /// `ROOT_URL`, with its trailing slash, as Gitea keeps it.
    fn web(&self) -> String {
        self.root_url.clone().unwrap_or(format!("{}/", self.uri))
    }

    /// One page of `items`, as Gitea answers a listing: `X-Total-Count`, and a `Link` header
    /// built on `ROOT_URL` when `link` (Gitea sends none for tags and labels).
    fn page(&self, request: &Request, items: &[Value], link: bool) -> ResponseTemplate {
        let number = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .filter(|n| *n > 0)
        };
        let limit = number("limit").unwrap_or(DEFAULT_LIMIT).min(MAX_ITEMS);
        let page = number("page").unwrap_or(1);
        let shown: Vec<Value> = items
            .iter()
            .skip((page - 1) * limit)
            .take(limit)
            .cloned()
            .collect();
        let mut answer = ResponseTemplate::new(200)
            .insert_header("x-total-count", items.len().to_string().as_str())
            .set_body_json(shown);
        let last = items.len().div_ceil(limit).max(1);
        if link && page < last {
            let at = |n: usize| {
                let mut query: Vec<(String, String)> = request
                    .url
                    .query_pairs()
                    .filter(|(k, _)| k != "page")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                query.push(("page".into(), n.to_string()));
                let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!(
                    "{}{}?{}",
                    self.web(),
                    request.url.path().trim_start_matches('/'),
                    query.join("&")
                )
            };
            answer = answer.insert_header(
                "link",
                format!(
                    "<{}>; rel=\"next\",<{}>; rel=\"last\"",
                    at(page + 1),
                    at(last)
                )
                .as_str(),
            );
        }
        answer
    }

    fn pull_mut(&mut self, number: &str) -> Option<&mut Value> {
        let number: u64 = number.parse().ok()?;
        self.pulls.iter_mut().find(|pr| pr["number"] == number)
    }

    /// The labels with these ids; Gitea's 422 when one is not the repository's.
    fn label_values(&self, ids: &[Value]) -> Result<Vec<Value>, Box<ResponseTemplate>> {
        ids.iter()
            .map(|id| {
                self.labels
                    .iter()
                    .find(|l| id.is_u64() && l["id"] == *id)
                    .cloned()
                    .ok_or_else(|| {
                        Box::new(error(422, &format!("label does not exist [id: {id}]")))
                    })
            })
            .collect()
    }

    fn branch_exists(&self, branch: &str) -> bool {
        self.origin.as_ref().is_some_and(|origin| {
            std::process::Command::new("git")
                .args([
                    "rev-parse",
                    "--verify",
                    "-q",
                    &format!("refs/heads/{branch}"),
                ])
                .current_dir(origin)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .unwrap()
                .status
                .success()
        })
    }

    /// Pull requests, labels and reviewers of `owner/name`.
    fn pulls_api(
        &mut self,
        method: &str,
        rest: &[&str],
        owner: &str,
        name: &str,
        request: &Request,
        body: Value,
    ) -> ResponseTemplate {
        match (method, rest) {
            ("GET", ["pulls"]) if self.stale_lists > 0 => {
                self.stale_lists -= 1;
                self.page(request, &[], true)
            }
            ("GET", ["pulls"]) => {
                let state = request
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "state")
                    .map_or("open".to_owned(), |(_, v)| v.into_owned());
                let listed: Vec<Value> = self
                    .pulls
                    .iter()
                    .filter(|pr| state == "all" || pr["state"] == state.as_str())
                    .cloned()
                    .collect();
                self.page(request, &listed, true)
            }
            ("POST", ["pulls"]) => {
                let (Some(head), Some(base), Some(title)) = (
                    body["head"].as_str(),
                    body["base"].as_str(),
                    body["title"].as_str().filter(|t| !t.is_empty()),
                ) else {
                    return error(422, "[Head]: Required [Base]: Required [Title]: Required");
                };
                let (head_owner, branch) = match head.split_once(':') {
                    Some((fork, branch)) => (fork.to_owned(), branch.to_owned()),
                    None => (owner.to_owned(), head.to_owned()),
                };
                if let Some(pr) = self.pulls.iter().find(|pr| {
                    pr["state"] == "open"
                        && pr["head"]["label"] == branch.as_str()
                        && pr["head"]["repo"]["owner"]["login"] == head_owner.as_str()
                        && pr["base"]["ref"] == base
                }) {
                    return error(
                        self.conflict_status,
                        &format!(
                            "pull request already exists for these targets [id: {0}, issue_id: {0}, head_repo_id: 1, base_repo_id: 1, head_branch: {branch}, base_branch: {base}]",
                            pr["number"]
                        ),
                    );
                }
                if !self.branch_exists(&branch) {
                    return error(404, &format!("branch does not exist [name: {branch}]"));
                }
                let labels = match self
                    .label_values(body["labels"].as_array().map_or(&[][..], |l| l.as_slice()))
                {
                    Ok(labels) => labels,
                    Err(answer) => return *answer,
                };
                let number = self.pulls.len() as u64 + 1;
                let web = self.web();
                let pr = json!({
                    "id": 100 + number, "number": number, "state": "open",
                    "url": format!("{web}{owner}/{name}/pulls/{number}"),
                    "html_url": format!("{web}{owner}/{name}/pulls/{number}"),
                    "title": title, "body": body["body"].as_str().unwrap_or_default(),
                    "draft": title.starts_with("WIP:"),
                    "user": {"login": "deps-bot"},
                    "labels": labels,
                    // Go's empty slice: `null` until someone is asked.
                    "requested_reviewers": null,
                    "head": {"label": branch, "ref": branch, "sha": "0".repeat(40),
                             "repo": {"full_name": format!("{head_owner}/{name}"),
                                      "owner": {"login": head_owner}}},
                    "base": {"label": base, "ref": base, "sha": "1".repeat(40),
                             "repo": {"full_name": format!("{owner}/{name}"),
                                      "owner": {"login": owner}}},
                });
                self.pulls.push(pr.clone());
                ResponseTemplate::new(201).set_body_json(pr)
            }
            ("PATCH", ["pulls", number]) => {
                let labels = match body["labels"].as_array() {
                    Some(ids) => match self.label_values(ids) {
                        Ok(labels) => Some(labels),
                        Err(answer) => return *answer,
                    },
                    None => None,
                };
                let Some(pr) = self.pull_mut(number) else {
                    return not_found();
                };
                for field in ["title", "body"] {
                    if let Some(text) = body[field].as_str() {
                        pr[field] = json!(text);
                    }
                }
                if let Some(labels) = labels {
                    pr["labels"] = Value::Array(labels);
                }
                ResponseTemplate::new(201).set_body_json(pr.clone())
            }
            ("GET", ["labels"]) => {
                let labels = self.labels.clone();
                self.page(request, &labels, false)
            }
            ("POST", ["labels"]) => {
                let color = body["color"].as_str().unwrap_or_default();
                let hex = color.trim_start_matches('#');
                if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return error(422, "invalid color");
                }
                let id = self
                    .labels
                    .iter()
                    .filter_map(|l| l["id"].as_u64())
                    .max()
                    .unwrap_or(0)
                    + 1;
                let label = json!({"id": id, "name": body["name"], "color": hex,
                                   "description": "", "exclusive": false});
                self.labels.push(label.clone());
                ResponseTemplate::new(201).set_body_json(label)
            }
            ("POST", ["issues", number, "labels"]) => {
                let ids = body["labels"].as_array().cloned().unwrap_or_default();
                let added = match self.label_values(&ids) {
                    Ok(labels) => labels,
                    Err(answer) => return *answer,
                };
                let Some(pr) = self.pull_mut(number) else {
                    return not_found();
                };
                let mut labels = pr["labels"].as_array().cloned().unwrap_or_default();
                for label in added {
                    if !labels.iter().any(|l| l["id"] == label["id"]) {
                        labels.push(label);
                    }
                }
                pr["labels"] = Value::Array(labels.clone());
                ResponseTemplate::new(200).set_body_json(labels)
            }
            ("POST", ["pulls", number, "requested_reviewers"]) => {
                let wanted: Vec<String> = body["reviewers"]
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .filter_map(|l| l.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some(stranger) = wanted
                    .iter()
                    .find(|r| !self.collaborators.contains(&r.as_str()))
                {
                    return error(
                        422,
                        &format!("reviewer is not a valid reviewer [user_id: 0, name: {stranger}]"),
                    );
                }
                let Some(pr) = self.pull_mut(number) else {
                    return not_found();
                };
                let mut requested = pr["requested_reviewers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                for login in &wanted {
                    if !requested.iter().any(|r| r["login"] == login.as_str()) {
                        requested.push(json!({"login": login}));
                    }
                }
                pr["requested_reviewers"] = Value::Array(requested);
                let reviews: Vec<Value> = wanted
                    .iter()
                    .map(|login| json!({"user": {"login": login}, "state": "REQUEST_REVIEW"}))
                    .collect();
                ResponseTemplate::new(201).set_body_json(reviews)
            }
            _ => not_found(),
        }
    }
}

impl Respond for FakeGitea {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state();
        let method = request.method.as_str().to_owned();
        let path = request.url.path().to_owned();
        let shown = match request.url.query() {
            Some(query) => format!("{method} {path}?{query}"),
            None => format!("{method} {path}"),
        };
        let authorization = request
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        state.seen.push((shown, authorization.clone()));
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        if method != "GET" {
            state
                .writes
                .push((format!("{method} {path}"), body.clone()));
        }
        if let Some((failing, suffix, answer)) = &state.failing
            && *failing == method
            && path.ends_with(suffix)
        {
            return answer.clone();
        }
        // Web routes: release downloads.
        let Some(api) = path.strip_prefix("/api/v1/") else {
            return match state.files.get(&path) {
                Some(bytes) => ResponseTemplate::new(200).set_body_bytes(bytes.clone()),
                None => not_found(),
            };
        };
        let authenticated = match (authorization.as_deref(), &state.token) {
            (None, _) => false,
            (Some(given), Some(token)) if given == format!("token {token}") => true,
            (Some(_), _) => return error(401, "user does not exist [uid: 0, name: ]"),
        };
        let segments: Vec<&str> = api.split('/').collect();
        let ["repos", owner, name, rest @ ..] = segments.as_slice() else {
            return not_found();
        };
        let repo = format!("{owner}/{name}");
        if let Some(answer) = state.answers.get(&repo) {
            return answer.clone();
        }
        if state.private.contains(&repo) && !authenticated {
            return not_found();
        }
        match (method.as_str(), rest) {
            ("GET", ["releases"]) => match state.releases.get(&repo) {
                Some(releases) => state.page(request, releases, true),
                None => not_found(),
            },
            ("GET", ["tags"]) => match state.tags.get(&repo) {
                Some(tags) => {
                    let tags: Vec<Value> = tags
                        .iter()
                        .map(|t| {
                            json!({"name": t, "id": "2".repeat(40),
                                        "commit": {"sha": "3".repeat(40)}})
                        })
                        .collect();
                    state.page(request, &tags, false)
                }
                None => not_found(),
            },
            ("GET", ["archive", ..]) => match state.files.get(&path) {
                Some(bytes) => ResponseTemplate::new(200).set_body_bytes(bytes.clone()),
                None => not_found(),
            },
            _ if !authenticated => error(401, "token is required"),
            _ => state.pulls_api(&method, rest, owner, name, request, body),
        }
    }
}

/// A project whose Gitea is the fake (`GITEA_API_URL`).
fn project(server: &MockServer, manifest: &str) -> Project {
    let mut project = Project::new();
    project.env("GITEA_API_URL", &format!("{}/api/v1", server.uri()));
    project.manifest(manifest);
    project
}

fn dep(name: &str, kind: &str, repo: &str, version: &str, extra: &str) -> String {
    format!(
        "[deps.{name}]\npath = \"deps/{name}\"\nsource = \"{kind}\"\nrepo = \"{repo}\"\nversion = \"{version}\"\n{extra}\n"
    )
}

/// Whether any output shows `secret`.
fn shows(run: &crate::support::Run, secret: &str) -> bool {
    run.stdout.contains(secret) || run.stderr.contains(secret)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_release_asset_updates_end_to_end_and_the_token_goes_to_the_api_only() {
    let (server, gitea) = FakeGitea::start().await;
    let tarball = tar_gz(&[
        Entry::File("libfoo-1.4.0/src/foo.c", b"// 1.4.0\n"),
        Entry::File("libfoo-1.4.0/LICENSE", b"MIT\n"),
    ]);
    gitea.release("up/libfoo", "v1.3.0", &[("libfoo-1.3.0.tar.gz", b"old")]);
    gitea.release("up/libfoo", "v1.4.0", &[("libfoo-1.4.0.tar.gz", &tarball)]);
    gitea.release("up/libfoo", "v1.5.0-rc.1", &[]);
    {
        let mut state = gitea.state();
        state.releases.get_mut("up/libfoo").unwrap()[0]["prerelease"] = json!(true);
        state.private.push("up/libfoo".into());
        state.token = Some("gitea-secret".into());
    }
    let mut project = project(
        &server,
        &dep(
            "libfoo",
            "gitea-release",
            "up/libfoo",
            "1.3.0",
            "tag = \"v{version}\"\nasset = \"libfoo-{version}.tar.gz\"",
        ),
    );
    project.env("GITEA_TOKEN", "gitea-secret");
    project
        .write("deps/libfoo/src/foo.c", "// 1.3.0\n")
        .write("deps/libfoo/src/gone.c", "// removed upstream\n");
    project.commit_all("initial");

    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let entry = &run.json()[0];
    // The pre-release is not proposed.
    assert_eq!(entry["latest"], "1.4.0", "{entry}");
    assert_eq!(entry["tag"], "v1.4.0", "{entry}");
    assert!(!shows(&run, "gitea-secret"), "{run:?}");

    let run = project.run(&["update", "libfoo"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("libfoo  1.3.0  1.4.0  committed "),
        "{}",
        run.stdout
    );
    assert!(!shows(&run, "gitea-secret"), "{run:?}");
    assert_eq!(
        project.git(&["show", "deps-update/libfoo:deps/libfoo/src/foo.c"]),
        "// 1.4.0"
    );
    assert_eq!(
        project.git(&[
            "ls-tree",
            "-r",
            "--name-only",
            "deps-update/libfoo",
            "deps/libfoo"
        ]),
        "deps/libfoo/LICENSE\ndeps/libfoo/src/foo.c"
    );
    let registry = project.git(&["show", "deps-update/libfoo:deps.toml"]);
    assert!(registry.contains("version = \"1.4.0\""), "{registry}");
    assert!(
        registry.contains(&format!("sha256 = \"{}\"", sha256(&tarball))),
        "{registry}"
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/libfoo"]);
    assert!(
        message.contains(&format!(
            "Source: {}/up/libfoo/releases/download/v1.4.0/libfoo-1.4.0.tar.gz",
            server.uri()
        )),
        "{message}"
    );

    // The API got the token, as Gitea wants it; the download, a web address on the same
    // host, did not.
    let listings = gitea.seen("/api/v1/repos/up/libfoo/releases");
    assert!(!listings.is_empty());
    for (what, authorization) in &listings {
        assert!(what.contains("page=1&limit=50"), "{what}");
        assert_eq!(
            authorization.as_deref(),
            Some("token gitea-secret"),
            "{what}"
        );
    }
    // (The old version's asset too, for a three-way update.)
    let downloads = gitea.seen("/up/libfoo/releases/download/");
    assert!(
        downloads
            .iter()
            .any(|(what, _)| what == "GET /up/libfoo/releases/download/v1.4.0/libfoo-1.4.0.tar.gz"),
        "{downloads:?}"
    );
    assert!(downloads.iter().all(|(_, a)| a.is_none()), "{downloads:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_are_read_across_pages_and_archived_by_the_api() {
    let (server, gitea) = FakeGitea::start().await;
    // A monorepo: the newest 50 tags are another component's; libfoo's are on page 2.
    {
        let mut state = gitea.state();
        let mut tags: Vec<String> = (0..50).rev().map(|i| format!("bar-v1.{i}.0")).collect();
        tags.extend(["libfoo-v2.1.0", "libfoo-v2.0.0", "libfoo-v1.9.0"].map(String::from));
        state.tags.insert("mono/repo".into(), tags);
    }
    gitea.archive(
        "mono/repo",
        "libfoo-v2.1.0",
        tar_gz(&[Entry::File("repo/foo.c", b"// 2.1.0\n")]),
    );
    let mut project = project(
        &server,
        &dep(
            "libfoo",
            "gitea-tag",
            "mono/repo",
            "2.0.0",
            "tag = \"libfoo-v{version}\"",
        ),
    );
    project.write("deps/libfoo/foo.c", "// 2.0.0\n");
    project.commit_all("initial");

    let run = project.run(&["update", "libfoo"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("libfoo  2.0.0  2.1.0  committed "),
        "{}",
        run.stdout
    );
    assert_eq!(
        project.git(&["show", "deps-update/libfoo:deps/libfoo/foo.c"]),
        "// 2.1.0"
    );
    // Gitea sends no `Link` with tags: page 2 is asked for because page 1 was full, and
    // nothing after the short page 2.
    let pages: Vec<String> = gitea
        .seen("/api/v1/repos/mono/repo/tags")
        .into_iter()
        .map(|(what, _)| what)
        .collect();
    assert_eq!(
        pages,
        [
            "GET /api/v1/repos/mono/repo/tags?page=1&limit=50",
            "GET /api/v1/repos/mono/repo/tags?page=2&limit=50"
        ]
    );
    // The new version's archive, from the API (and the old one's, for a three-way update).
    let archives: Vec<String> = gitea
        .seen("/api/v1/repos/mono/repo/archive/")
        .into_iter()
        .map(|(what, _)| what)
        .collect();
    assert!(
        archives.contains(&"GET /api/v1/repos/mono/repo/archive/libfoo-v2.1.0.tar.gz".to_owned()),
        "{archives:?}"
    );
    assert_eq!(
        gitea.state().seen.len(),
        2 + archives.len(),
        "nothing else was asked"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn release_pages_are_asked_of_the_configured_api_not_of_gitea_root_url() {
    let (server, gitea) = FakeGitea::start().await;
    for minor in 0..60 {
        gitea.release("up/big", &format!("v1.{minor}.0"), &[]);
    }
    {
        let mut state = gitea.state();
        // The newest releases list first; the one installed is the oldest, on page 2.
        state
            .releases
            .get_mut("up/big")
            .unwrap()
            .iter_mut()
            .for_each(|r| {
                r["prerelease"] = json!(r["tag_name"] != "v1.0.0" && r["tag_name"] != "v1.59.0");
            });
        // Gitea is reached at an internal address; its `ROOT_URL` is its public one.
        state.root_url = Some("https://gitea.invalid/".into());
        state.private.push("up/big".into());
        state.token = Some("gitea-secret".into());
    }
    let mut project = project(
        &server,
        &dep(
            "big",
            "gitea-release",
            "up/big",
            "1.0.0",
            "tag = \"v{version}\"",
        ),
    );
    project.env("GITEA_TOKEN", "gitea-secret");
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()[0]["latest"], "1.59.0", "{}", run.stdout);
    let pages = gitea.seen("/api/v1/repos/up/big/releases");
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(pages[1].0.ends_with("page=2&limit=50"), "{pages:?}");
    assert_eq!(pages[1].1.as_deref(), Some("token gitea-secret"));
}

#[tokio::test(flavor = "multi_thread")]
async fn forgejo_token_is_used_when_gitea_token_is_unset() {
    let (server, gitea) = FakeGitea::start().await;
    gitea.release("up/libfoo", "v1.1.0", &[]);
    {
        let mut state = gitea.state();
        state.private.push("up/libfoo".into());
        state.token = Some("forgejo-secret".into());
    }
    let mut project = project(
        &server,
        &dep(
            "libfoo",
            "gitea-release",
            "up/libfoo",
            "1.0.0",
            "tag = \"v{version}\"",
        ),
    );
    project.env("FORGEJO_TOKEN", "forgejo-secret");
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()[0]["latest"], "1.1.0", "{}", run.stdout);
    assert!(!shows(&run, "forgejo-secret"), "{run:?}");
    let seen = gitea.seen("/api/v1/repos/up/libfoo/releases");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].1.as_deref(), Some("token forgejo-secret"));

    // Both set: `GITEA_TOKEN` wins.
    gitea.state().token = Some("gitea-secret".into());
    project.env("GITEA_TOKEN", "gitea-secret");
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let seen = gitea.seen("/api/v1/repos/up/libfoo/releases");
    assert_eq!(
        seen.last().unwrap().1.as_deref(),
        Some("token gitea-secret")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_only_the_registry_names_works_but_gets_no_token() {
    let (server, gitea) = FakeGitea::start().await;
    gitea.release("up/public", "v1.1.0", &[]);
    gitea.release("up/private", "v1.1.0", &[]);
    {
        let mut state = gitea.state();
        state.private.push("up/private".into());
        state.token = Some("gitea-secret".into());
    }
    let api = format!("{}/api/v1", server.uri());
    let mut project = Project::new();
    project.env("GITEA_TOKEN", "gitea-secret");
    project.manifest(&format!(
        "[settings]\ngitea-api-url = \"{api}\"\n\n{}{}",
        dep(
            "public",
            "gitea-release",
            "up/public",
            "1.0.0",
            "tag = \"v{version}\""
        ),
        dep(
            "private",
            "gitea-release",
            "up/private",
            "1.0.0",
            "tag = \"v{version}\""
        ),
    ));
    let mut command = project.command(&["check"]);
    command.env_remove("GITEA_API_URL");
    let output = command.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    // The public repository is read from the API `deps.toml` names ...
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("public") && l.contains("1.1.0")),
        "{stdout}"
    );
    // ... without the token; the private one says why it was not found.
    assert!(gitea.state().seen.iter().all(|(_, a)| a.is_none()));
    for expected in [
        format!("error: `private`: Gitea repository `up/private` was not found at `{api}`"),
        format!(
            "hint: check `repo`; `GITEA_TOKEN` is set but was not sent to `{api}`, which only `deps.toml` names: a registry never decides where tokens go; set `GITEA_API_URL` to that address to send it"
        ),
    ] {
        assert!(
            stderr.contains(&expected),
            "expected {expected:?} in:\n{stderr}"
        );
    }
    assert!(!stdout.contains("gitea-secret") && !stderr.contains("gitea-secret"));

    // Named by the environment, the same API gets the token.
    project.env("GITEA_API_URL", &api);
    let run = project.run(&["check", "private"]);
    assert_eq!(run.code, 0, "{run:?}");
    let seen = gitea.seen("/api/v1/repos/up/private/releases");
    assert_eq!(
        seen.last().unwrap().1.as_deref(),
        Some("token gitea-secret")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn not_found_unauthorized_and_rate_limits_say_what_to_do() {
    let (server, gitea) = FakeGitea::start().await;
    {
        let mut state = gitea.state();
        state.token = Some("gitea-secret".into());
        state.answers.insert(
            "private/project".into(),
            error(401, "user does not exist [uid: 0, name: ]"),
        );
        state.answers.insert(
            "busy/project".into(),
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7200")
                .set_body_string("Too Many Requests"),
        );
    }
    let manifest = [
        dep("gone", "gitea-release", "gone/project", "1.0.0", ""),
        dep("private", "gitea-release", "private/project", "1.0.0", ""),
        dep("busy", "gitea-tag", "busy/project", "1.0.0", ""),
    ]
    .concat();
    let mut project = project(&server, &manifest);
    project.env("GITEA_TOKEN", "gitea-secret");
    let run = project.run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    let api = format!("{}/api/v1", server.uri());
    for expected in [
        format!("error: `gone`: Gitea repository `gone/project` was not found at `{api}`"),
        "hint: check `repo`, and that `GITEA_TOKEN` can read that repository".to_owned(),
        format!(
            "error: `private`: asking `private/project` for its versions failed\nCaused by:\n  `{api}/repos/private/project/releases?page=1&limit=50` refused the credentials (401)"
        ),
        "hint: check that `GITEA_TOKEN` is valid and not expired".to_owned(),
        format!(
            "error: `busy`: asking `busy/project` for its versions failed\nCaused by:\n  rate limit reached at `{api}/repos/busy/project/tags?page=1&limit=50`; it resets at "
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
    assert!(!shows(&run, "gitea-secret"), "{run:?}");
}

// Pull requests.

/// `libfoo` 1.0.0 from `up/libfoo` on the fake, which has 1.1.0; the project's own repository
/// is `org/app` on the same Gitea, pushed to a local bare `origin`.
async fn outdated() -> (Project, MockServer, FakeGitea) {
    let (server, gitea) = FakeGitea::start().await;
    release_with_archive(&gitea, "1.1.0");
    let mut project = project(
        &server,
        &format!(
            "[settings]\nforge = \"gitea\"\nrepository = \"org/app\"\nlabels = [\"dependencies\"]\n\
             reviewers = [\"alice\"]\n\n{}",
            dep(
                "libfoo",
                "gitea-release",
                "up/libfoo",
                "1.0.0",
                "tag = \"v{version}\"\nlabels = [\"libfoo\"]"
            )
        ),
    );
    project.env("GITEA_TOKEN", "gitea-secret");
    project.write("deps/libfoo/foo.c", "// 1.0.0\n");
    project.commit_all("initial");
    let origin = project.scratch("origin.git");
    git(&origin, &["init", "-q", "--bare", "-b", "main"]);
    project.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    project.git(&["push", "-q", "origin", "main"]);
    project.git(&["branch", "-q", "--set-upstream-to", "origin/main"]);
    {
        let mut state = gitea.state();
        state.token = Some("gitea-secret".into());
        state.origin = Some(origin);
        state.labels = vec![json!({"id": 7, "name": "dependencies", "color": "0075ca"})];
        state.collaborators = vec!["alice"];
    }
    (project, server, gitea)
}

fn release_with_archive(gitea: &FakeGitea, version: &str) {
    gitea.release("up/libfoo", &format!("v{version}"), &[]);
    gitea.archive(
        "up/libfoo",
        &format!("v{version}"),
        tar_gz(&[Entry::File(
            "libfoo/foo.c",
            format!("// {version}\n").as_bytes(),
        )]),
    );
}

fn remote_ref(project: &Project, branch: &str) -> Option<String> {
    let origin = project.scratch("origin.git");
    let refs = git(
        &origin,
        &["for-each-ref", "--format=%(refname:short) %(objectname)"],
    );
    refs.lines()
        .find_map(|l| l.strip_prefix(&format!("{branch} ")).map(str::to_owned))
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .map(|v| v[key].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_opens_one_pull_request_with_labels_and_reviewers() {
    let (project, server, gitea) = outdated().await;
    // A repository with many labels: `dependencies` is on the second page of the listing,
    // which Gitea pages without a `Link` header.
    {
        let mut state = gitea.state();
        state.labels = (1..=55)
            .map(|id| json!({"id": id, "name": format!("area/{id:02}"), "color": "ededed"}))
            .collect();
        state
            .labels
            .push(json!({"id": 60, "name": "dependencies", "color": "0075ca"}));
    }
    let run = project.run(&["update", "libfoo", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("libfoo  1.0.0  1.1.0  committed ")
            && run.stdout.contains("; pushed; opened #1"),
        "{}",
        run.stdout
    );
    assert!(!shows(&run, "gitea-secret"), "{run:?}");
    assert!(remote_ref(&project, "deps-update/libfoo").is_some());

    let state = gitea.state();
    assert_eq!(state.pulls.len(), 1);
    let pr = &state.pulls[0];
    assert_eq!(pr["title"], "deps: update libfoo to 1.1.0");
    assert_eq!(pr["head"]["ref"], "deps-update/libfoo");
    assert_eq!(pr["head"]["repo"]["owner"]["login"], "org");
    assert_eq!(pr["base"]["ref"], "main");
    let body = pr["body"].as_str().unwrap();
    for expected in [
        "Updates **libfoo** from `1.0.0` to `1.1.0`.",
        &format!("{}/up/libfoo/releases/tag/v1.1.0", server.uri()),
    ] {
        assert!(body.contains(expected), "expected {expected:?} in:\n{body}");
    }
    // The label the repository lacked was created, and both set by id.
    assert_eq!(names(&pr["labels"], "name"), ["dependencies", "libfoo"]);
    let labels = names(&json!(state.labels), "name");
    assert_eq!(
        labels[55..],
        ["dependencies", "libfoo"],
        "never a second `dependencies`"
    );
    assert_eq!(names(&pr["requested_reviewers"], "login"), ["alice"]);
    let writes: Vec<&str> = state.writes.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(
        writes,
        [
            "POST /api/v1/repos/org/app/pulls",
            "POST /api/v1/repos/org/app/labels",
            "POST /api/v1/repos/org/app/issues/1/labels",
            "POST /api/v1/repos/org/app/pulls/1/requested_reviewers",
        ]
    );
    assert_eq!(state.writes[1].1["name"], "libfoo");
    assert_eq!(state.writes[2].1, json!({"labels": [60, 61]}));
    assert_eq!(state.writes[3].1, json!({"reviewers": ["alice"]}));
    let created = &state.writes[0].1;
    assert_eq!(created["head"], "deps-update/libfoo");
    assert_eq!(created["base"], "main");
    assert!(
        state
            .seen
            .iter()
            .filter(|(w, _)| w.contains("/org/app/"))
            .all(|(_, a)| a.as_deref() == Some("token gitea-secret")),
        "every pull request request carries the token"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_release_refreshes_the_same_pull_request() {
    let (project, _server, gitea) = outdated().await;
    assert_eq!(project.run(&["update", "libfoo", "--pr"]).code, 0);
    let first_tip = remote_ref(&project, "deps-update/libfoo").unwrap();
    release_with_archive(&gitea, "1.2.0");
    gitea.state().writes.clear();

    let run = project.run(&["update", "libfoo", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("; pushed; refreshed #1"),
        "{}",
        run.stdout
    );
    assert_ne!(
        remote_ref(&project, "deps-update/libfoo").unwrap(),
        first_tip
    );
    let state = gitea.state();
    assert_eq!(
        state.pulls.len(),
        1,
        "the same pull request, never a second one"
    );
    assert_eq!(state.pulls[0]["title"], "deps: update libfoo to 1.2.0");
    assert!(
        state.pulls[0]["body"]
            .as_str()
            .unwrap()
            .contains("Updates **libfoo** from `1.0.0` to `1.2.0`."),
        "{}",
        state.pulls[0]["body"]
    );
    // Labels and reviewers are there already: only the title and body are written.
    let writes: Vec<&str> = state.writes.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(writes, ["PATCH /api/v1/repos/org/app/pulls/1"]);
    assert_eq!(
        state.writes[0].1["title"], "deps: update libfoo to 1.2.0",
        "{}",
        state.writes[0].1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_changed_means_no_write_at_all() {
    let (project, _server, gitea) = outdated().await;
    assert_eq!(project.run(&["update", "libfoo", "--pr"]).code, 0);
    let origin = project.scratch("origin.git");
    let refs_before = git(&origin, &["for-each-ref"]);
    gitea.state().writes.clear();

    let run = project.run(&["update", "libfoo", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("#1 unchanged"), "{}", run.stdout);
    assert_eq!(gitea.writes(), Vec::<String>::new());
    assert_eq!(git(&origin, &["for-each-ref"]), refs_before);
    // It did look.
    assert!(!gitea.seen("/api/v1/repos/org/app/pulls").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_request_a_parallel_run_opened_is_refreshed_not_duplicated() {
    // 409 as Gitea answers now; 422 "already exists" as older versions did.
    for status in [409, 422] {
        let (project, _server, gitea) = outdated().await;
        // Another run pushed the branch and opened its pull request a moment ago; this
        // run's listing does not show it yet.
        let pushed = project.run(&["update", "libfoo", "--push"]);
        assert_eq!(pushed.code, 0, "{pushed:?}");
        {
            let mut state = gitea.state();
            state.conflict_status = status;
            state.pulls.push(json!({
                "number": 1, "state": "open", "html_url": "http://gitea.example/org/app/pulls/1",
                "title": "deps: update libfoo to 1.1.0", "body": "written by the other run",
                "user": {"login": "deps-bot"},
                "labels": [{"id": 7, "name": "dependencies"}, {"id": 9, "name": "libfoo"}],
                "requested_reviewers": [{"login": "alice"}],
                "head": {"label": "deps-update/libfoo", "ref": "deps-update/libfoo",
                         "repo": {"owner": {"login": "org"}}},
                "base": {"label": "main", "ref": "main"},
            }));
            state.labels.push(json!({"id": 9, "name": "libfoo"}));
            state.stale_lists = 1;
        }
        let run = project.run(&["update", "libfoo", "--pr"]);
        assert_eq!(run.code, 0, "{status}: {run:?}");
        assert!(
            run.stdout.contains("refreshed #1"),
            "{status}: {}",
            run.stdout
        );
        let state = gitea.state();
        assert_eq!(state.pulls.len(), 1, "{status}");
        assert!(
            state.pulls[0]["body"]
                .as_str()
                .unwrap()
                .contains("Updates **libfoo** from `1.0.0` to `1.1.0`."),
            "{status}"
        );
        let writes: Vec<&str> = state.writes.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(
            writes,
            [
                "POST /api/v1/repos/org/app/pulls",
                "PATCH /api/v1/repos/org/app/pulls/1"
            ],
            "{status}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_clear_and_the_pushed_branch_waits_for_the_next_run() {
    let (project, _server, gitea) = outdated().await;
    for (status, message) in [
        (
            403,
            "token does not have at least one of required scope(s): [write:repository]",
        ),
        (
            422,
            "Invalid PullRequest: There are no changes between the head and the base",
        ),
    ] {
        gitea.state().failing = Some(("POST", "/repos/org/app/pulls", error(status, message)));
        let run = project.run(&["update", "libfoo", "--pr"]);
        assert_eq!(run.code, 1, "{status}: {run:?}");
        for expected in [
            "error: `libfoo`: cannot open a pull request for `deps-update/libfoo` in `org/app`"
                .to_owned(),
            format!("answered {status}: {message}"),
            "hint: the branch is pushed; the next run opens or refreshes its change request"
                .to_owned(),
        ] {
            assert!(
                run.stderr.contains(&expected),
                "{status}: expected {expected:?} in:\n{}",
                run.stderr
            );
        }
        assert!(!shows(&run, "gitea-secret"), "{run:?}");
        assert!(remote_ref(&project, "deps-update/libfoo").is_some());
        assert!(gitea.state().pulls.is_empty());
    }

    // The next run opens it; a reviewer Gitea will not ask is named, and the pull request
    // stays open.
    {
        let mut state = gitea.state();
        state.failing = None;
        state.collaborators.clear();
    }
    let run = project.run(&["update", "libfoo", "--pr"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("already on deps-update/libfoo"),
        "{}",
        run.stdout
    );
    for expected in [
        "pull request #1 is open, but Gitea refused to request a review from `alice`: reviewer is not a valid reviewer",
        "hint: check `settings.reviewers` (user names of collaborators); the next run asks again",
    ] {
        assert!(
            run.stderr.contains(expected),
            "expected {expected:?} in:\n{}",
            run.stderr
        );
    }
    assert_eq!(gitea.state().pulls.len(), 1);

    // Alice becomes a collaborator: the next run asks her, on the same pull request.
    gitea.state().collaborators = vec!["alice"];
    let run = project.run(&["update", "libfoo", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("refreshed #1"), "{}", run.stdout);
    let state = gitea.state();
    assert_eq!(state.pulls.len(), 1);
    assert_eq!(
        names(&state.pulls[0]["requested_reviewers"], "login"),
        ["alice"]
    );
}
