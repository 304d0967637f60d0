//! Publishing: push to a local bare `origin`, pull requests on a fake GitHub that keeps state.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{Entry, Project, git, mount_file, mount_releases, sha256, tar_gz};

/// Pull requests as GitHub would keep them, and every write request received.
#[derive(Default)]
struct Forge {
    pulls: Vec<Value>,
    writes: Vec<String>,
    /// While set, requests with this method get this answer instead.
    failing: Option<(&'static str, ResponseTemplate)>,
    /// This many pull request listings come back empty (a listing that lags behind).
    stale_lists: u32,
    /// Who may be asked for a review; anyone else gets GitHub's 422.
    collaborators: Vec<&'static str>,
    /// Reviews submitted, as `(pull request number, login)`.
    reviews: Vec<(u64, &'static str)>,
}

#[derive(Clone)]
struct FakeGithub(Arc<Mutex<Forge>>);

impl FakeGithub {
    /// Answers the pull request and label routes of `node/node` on `server`.
    async fn mount(&self, server: &MockServer) {
        Mock::given(path_regex(
            r"^/repos/node/node/(pulls|issues|collaborators)",
        ))
        .respond_with(self.clone())
        .mount(server)
        .await;
    }
}

impl Respond for FakeGithub {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut forge = self.0.lock().unwrap();
        let path = request.url.path().to_owned();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let method = request.method.as_str().to_owned();
        if let Some((failing, answer)) = &forge.failing
            && *failing == method
        {
            return answer.clone();
        }
        if method != "GET" {
            forge.writes.push(format!("{method} {path}"));
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["repos", _, _, "pulls"]) if forge.stale_lists > 0 => {
                forge.stale_lists -= 1;
                ResponseTemplate::new(200).set_body_json(json!([]))
            }
            ("GET", ["repos", _, _, "pulls"]) => {
                // GitHub filters by `head=owner:branch`, the owner being the fork's.
                let head = request
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "head")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let open: Vec<Value> = forge
                    .pulls
                    .iter()
                    .filter(|pr| pr["state"] == "open" && pr["head"]["label"] == head.as_str())
                    .cloned()
                    .collect();
                ResponseTemplate::new(200).set_body_json(open)
            }
            ("POST", ["repos", owner, name, "pulls"]) => {
                // `head` is `branch` in this repository, or `forkowner:branch`.
                let head = body["head"].as_str().unwrap().to_owned();
                let (head_owner, branch) = match head.split_once(':') {
                    Some((fork, branch)) => (fork.to_owned(), branch.to_owned()),
                    None => ((*owner).to_owned(), head.clone()),
                };
                let label = format!("{head_owner}:{branch}");
                if forge
                    .pulls
                    .iter()
                    .any(|pr| pr["state"] == "open" && pr["head"]["label"] == label.as_str())
                {
                    return ResponseTemplate::new(422).set_body_json(json!({
                        "message": "Validation Failed",
                        "errors": [{"message": format!("A pull request already exists for {label}.")}]
                    }));
                }
                let number = forge.pulls.len() as u64 + 1;
                let pr = json!({
                    "number": number,
                    "html_url": format!("https://github.example/{owner}/{name}/pull/{number}"),
                    "state": "open",
                    "title": body["title"], "body": body["body"], "draft": body["draft"],
                    "head": {"ref": branch, "label": label, "repo": {"owner": {"login": head_owner}}},
                    "base": {"ref": body["base"]}, "labels": [], "requested_reviewers": []
                });
                forge.pulls.push(pr.clone());
                ResponseTemplate::new(201).set_body_json(pr)
            }
            ("GET", ["repos", _, _, "pulls", number, "reviews"]) => {
                let number: u64 = number.parse().unwrap();
                let reviews: Vec<Value> = forge
                    .reviews
                    .iter()
                    .filter(|(n, _)| *n == number)
                    .map(|(_, login)| json!({"user": {"login": login}, "state": "APPROVED"}))
                    .collect();
                ResponseTemplate::new(200).set_body_json(reviews)
            }
            ("GET", ["repos", _, _, "collaborators", login]) => {
                if forge.collaborators.contains(login) {
                    ResponseTemplate::new(204)
                } else {
                    ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}))
                }
            }
            ("POST", ["repos", _, _, "pulls", number, "requested_reviewers"]) => {
                let number: u64 = number.parse().unwrap();
                let wanted: Vec<String> = body["reviewers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_owned())
                    .collect();
                if wanted
                    .iter()
                    .any(|r| !forge.collaborators.contains(&r.as_str()))
                {
                    return ResponseTemplate::new(422).set_body_json(json!({
                        "message": "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the node/node repository."
                    }));
                }
                let pr = forge
                    .pulls
                    .iter_mut()
                    .find(|pr| pr["number"] == number)
                    .unwrap();
                let mut requested = pr["requested_reviewers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                for login in wanted {
                    if !requested.iter().any(|r| r["login"] == login.as_str()) {
                        requested.push(json!({"login": login}));
                    }
                }
                pr["requested_reviewers"] = Value::Array(requested);
                ResponseTemplate::new(201).set_body_json(pr.clone())
            }
            ("PATCH", ["repos", _, _, "pulls", number]) => {
                let number: u64 = number.parse().unwrap();
                let pr = forge
                    .pulls
                    .iter_mut()
                    .find(|pr| pr["number"] == number)
                    .unwrap();
                pr["title"] = body["title"].clone();
                pr["body"] = body["body"].clone();
                ResponseTemplate::new(200).set_body_json(pr.clone())
            }
            ("POST", ["repos", _, _, "issues", number, "labels"]) => {
                let number: u64 = number.parse().unwrap();
                let pr = forge
                    .pulls
                    .iter_mut()
                    .find(|pr| pr["number"] == number)
                    .unwrap();
                let mut labels = pr["labels"].as_array().cloned().unwrap_or_default();
                for label in body["labels"].as_array().unwrap() {
                    if !labels.iter().any(|l| l["name"] == *label) {
                        labels.push(json!({"name": label}));
                    }
                }
                pr["labels"] = Value::Array(labels.clone());
                ResponseTemplate::new(200).set_body_json(labels)
            }
            _ => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
        }
    }
}

/// Three outdated dependencies, a bare `origin`, and a fake GitHub for releases and PRs.
async fn three_outdated() -> (Project, MockServer, FakeGithub) {
    let server = MockServer::start().await;
    let forge = FakeGithub(Arc::new(Mutex::new(Forge::default())));
    forge.mount(&server).await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.env("GITHUB_TOKEN", "ghp_token_of_the_tests");
    let mut manifest = String::from("[settings]\nlabels = [\"dependencies\"]\n");
    for (name, version) in [("ada", "3.2.4"), ("brotli", "1.2.0"), ("zstd", "1.5.7")] {
        let tag = format!("v{version}");
        mount_releases(&server, &format!("up/{name}"), &[(&tag, false, false)]).await;
        let archive = tar_gz(&[
            Entry::File(
                &format!("{name}-{version}/src/{name}.c"),
                format!("// {name} {version}\n").as_bytes(),
            ),
            Entry::File(
                &format!("{name}-{version}/src/new_in_{version}.c"),
                b"// new\n",
            ),
            Entry::File(&format!("{name}-{version}/LICENSE"), b"MIT\n"),
        ]);
        mount_file(&server, &format!("/{name}-{version}.tar.gz"), archive).await;
        manifest.push_str(&format!(
            "\n[deps.{name}]\npath = \"deps/{name}\"\nsource = \"github-release\"\nrepo = \"up/{name}\"\nversion = \"1.0.0\"\n\
             archive = \"{}/{name}-{{version}}.tar.gz\"\nkeep = [\"{name}.gyp\"]\nlabels = [\"{name}\"]\n",
            server.uri()
        ));
        project
            .write(
                &format!("deps/{name}/src/{name}.c"),
                &format!("// {name} 1.0.0\n"),
            )
            .write(&format!("deps/{name}/LICENSE"), "MIT\n")
            .write(
                &format!("deps/{name}/{name}.gyp"),
                &format!("{{ 'sources': [ 'src/{name}.c' ] }}\n"),
            );
    }
    project.manifest(&manifest);
    project.commit_all("initial");
    let origin = project.scratch("origin.git");
    git(&origin, &["init", "-q", "--bare", "-b", "main"]);
    project.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    project.git(&["push", "-q", "origin", "main"]);
    project.git(&["branch", "-q", "--set-upstream-to", "origin/main"]);
    project.env("GITHUB_REPOSITORY", "node/node");
    (project, server, forge)
}

fn remote_branches(project: &Project) -> Vec<String> {
    let origin = project.scratch("origin.git");
    git(
        &origin,
        &["for-each-ref", "--format=%(refname:short)", "refs/heads"],
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nightly_runs_leave_exactly_one_correct_pr_per_dependency() {
    let (mut project, _server, forge) = three_outdated().await;
    let outputs = project.scratch("gh");
    project
        .env("GITHUB_OUTPUT", outputs.join("output").to_str().unwrap())
        .env(
            "GITHUB_STEP_SUMMARY",
            outputs.join("summary.md").to_str().unwrap(),
        );

    let first = project.run(&["update", "--all", "--pr"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(
        remote_branches(&project),
        [
            "deps-update/ada",
            "deps-update/brotli",
            "deps-update/zstd",
            "main"
        ]
    );
    {
        let state = forge.0.lock().unwrap();
        assert_eq!(state.pulls.len(), 3);
        let ada = &state.pulls[state
            .pulls
            .iter()
            .position(|p| p["head"]["ref"] == "deps-update/ada")
            .unwrap()];
        assert_eq!(ada["title"], "deps: update ada to 3.2.4");
        assert_eq!(ada["base"]["ref"], "main");
        let labels: Vec<&str> = ada["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap())
            .collect();
        assert_eq!(labels, ["dependencies", "ada"]);
        let body = ada["body"].as_str().unwrap();
        for expected in [
            "Updates **ada** from `1.0.0` to `3.2.4`.",
            "| Version | `1.0.0` → `3.2.4` |",
            "[release notes](",
            "### Verified\n\n- SHA-256 of the archive: `",
            "### Needs a look\n\n- new upstream source files that no build file mentions: `src/new_in_3.2.4.c`\n",
            "### Changes\n\n1 added, 0 removed, 1 modified (+2 -1 lines)",
            "| added | `src/new_in_3.2.4.c` | +1 −0 |",
            "### Kept local files\n\n- `ada.gyp`",
        ] {
            assert!(
                body.contains(expected),
                "expected {expected:?} in the body:\n{body}"
            );
        }
        assert!(body.len() < 65_536);
    }
    assert!(
        first.stdout.contains("; pushed; opened #"),
        "{}",
        first.stdout
    );
    let output = std::fs::read_to_string(outputs.join("output")).unwrap();
    assert!(output.starts_with("updated=[\"ada\",\"brotli\",\"zstd\"]\npull-requests={\"ada\":\"https://github.example/node/node/pull/"), "{output}");
    assert!(output.ends_with("failed=[]\n"), "{output}");
    let summary = std::fs::read_to_string(outputs.join("summary.md")).unwrap();
    assert!(
        summary.contains("| `ada` | 1.0.0 | 3.2.4 | committed "),
        "{summary}"
    );

    // The second night: same upstreams. Nothing is written, anywhere.
    let writes_before = forge.0.lock().unwrap().writes.len();
    let refs_before = git(&project.scratch("origin.git"), &["for-each-ref"]);
    let second = project.run(&["update", "--all", "--pr"]);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(
        forge.0.lock().unwrap().writes.len(),
        writes_before,
        "no API writes on a quiet night"
    );
    assert_eq!(
        git(&project.scratch("origin.git"), &["for-each-ref"]),
        refs_before,
        "no pushes either"
    );
    assert!(second.stdout.contains("unchanged"), "{}", second.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_release_moves_the_same_branch_and_pr() {
    let (project, server, forge) = three_outdated().await;
    assert_eq!(project.run(&["update", "ada", "--pr"]).code, 0);
    let first_tip = git(
        &project.scratch("origin.git"),
        &["rev-parse", "deps-update/ada"],
    );
    // Upstream publishes 3.3.0.
    server.reset().await;
    forge.mount(&server).await;
    mount_releases(
        &server,
        "up/ada",
        &[("v3.3.0", false, false), ("v3.2.4", false, false)],
    )
    .await;
    mount_file(
        &server,
        "/ada-3.3.0.tar.gz",
        tar_gz(&[Entry::File("ada-3.3.0/src/ada.c", b"// ada 3.3.0\n")]),
    )
    .await;
    let run = project.run(&["update", "ada", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("; pushed; refreshed #1"),
        "{}",
        run.stdout
    );
    let state = forge.0.lock().unwrap();
    assert_eq!(state.pulls.len(), 1, "the same PR, never a second one");
    assert_eq!(state.pulls[0]["title"], "deps: update ada to 3.3.0");
    let new_tip = git(
        &project.scratch("origin.git"),
        &["rev-parse", "deps-update/ada"],
    );
    assert_ne!(new_tip, first_tip);
    assert_eq!(
        git(
            &project.scratch("origin.git"),
            &["rev-parse", "deps-update/ada^"]
        ),
        git(&project.scratch("origin.git"), &["rev-parse", "main"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_merged_update_does_nothing() {
    let (project, _server, forge) = three_outdated().await;
    assert_eq!(project.run(&["update", "zstd", "--pr"]).code, 0);
    // The maintainers merge it.
    project.git(&["merge", "-q", "--ff-only", "deps-update/zstd"]);
    project.git(&["push", "-q", "origin", "main"]);
    forge.0.lock().unwrap().pulls[0]["state"] = json!("closed");
    let writes = forge.0.lock().unwrap().writes.len();
    let run = project.run(&["update", "zstd", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);
    assert_eq!(forge.0.lock().unwrap().writes.len(), writes);
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_clear_and_the_next_run_picks_up_a_pushed_branch() {
    let (mut project, _server, forge) = three_outdated().await;
    // No token at all: said before anything is built or pushed.
    project.env("GITHUB_TOKEN", "");
    let run = project.run(&["update", "brotli", "--pr"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: opening pull requests on GitHub needs a token, and none that may is set\n"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: set `GITHUB_TOKEN` (a token that may open pull requests)"),
        "{}",
        run.stderr
    );
    assert!(!remote_branches(&project).contains(&"deps-update/brotli".to_owned()));
    assert!(
        !project
            .git(&["branch", "--list"])
            .contains("deps-update/brotli")
    );
    assert!(forge.0.lock().unwrap().writes.is_empty());
    // Unauthorized: the branch is pushed, the PR is not opened.
    forge.0.lock().unwrap().failing = Some((
        "POST",
        ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"})),
    ));
    project.env("GITHUB_TOKEN", "ghp_not_shown_anywhere");
    let run = project.run(&["update", "brotli", "--pr"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: `brotli`: cannot open a pull request for `deps-update/brotli` in `node/node`"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("refused the credentials (401)"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("ghp_not_shown_anywhere")
            && !run.stdout.contains("ghp_not_shown_anywhere")
    );
    assert!(remote_branches(&project).contains(&"deps-update/brotli".to_owned()));
    assert!(forge.0.lock().unwrap().pulls.is_empty());

    // A rate limit on the lookup: a clear error, nothing half-done.
    let reset = (crate::support::now() + 3600).to_string();
    forge.0.lock().unwrap().failing = Some((
        "GET",
        ResponseTemplate::new(403)
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", reset.as_str()),
    ));
    let run = project.run(&["update", "brotli", "--pr"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("rate limit reached at"),
        "{}",
        run.stderr
    );
    assert!(forge.0.lock().unwrap().pulls.is_empty());
    forge.0.lock().unwrap().failing = None;

    // The next run finds the pushed branch and opens its PR.
    let run = project.run(&["update", "brotli", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("already on deps-update/brotli"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("opened #1"), "{}", run.stdout);
    // The listing lags and misses the open PR: creating answers 422 "already exists", and the
    // open one is found and kept; never a duplicate.
    forge.0.lock().unwrap().stale_lists = 1;
    let run = project.run(&["update", "brotli", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("#1 unchanged"), "{}", run.stdout);
    let state = forge.0.lock().unwrap();
    assert_eq!(state.pulls.len(), 1);
    assert_eq!(
        state
            .writes
            .iter()
            .filter(|w| w.starts_with("POST /repos/node/node/pulls"))
            .count(),
        2,
        "{:?}",
        state.writes
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_failing_dependency_does_not_stop_the_others() {
    let (project, server, forge) = three_outdated().await;
    // ada's archive disappears.
    server.reset().await;
    forge.mount(&server).await;
    for (name, version) in [("ada", "3.2.4"), ("brotli", "1.2.0"), ("zstd", "1.5.7")] {
        mount_releases(
            &server,
            &format!("up/{name}"),
            &[(&format!("v{version}"), false, false)],
        )
        .await;
        if name != "ada" {
            let archive = tar_gz(&[Entry::File(
                &format!("{name}-{version}/src/{name}.c"),
                b"// new\n",
            )]);
            mount_file(&server, &format!("/{name}-{version}.tar.gz"), archive).await;
        }
    }
    let run = project.run(&["update", "--all", "--pr"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("error: `ada`: downloading the archive failed"),
        "{}",
        run.stderr
    );
    assert_eq!(forge.0.lock().unwrap().pulls.len(), 2);
    assert!(!remote_branches(&project).contains(&"deps-update/ada".to_owned()));
    let _ = sha256(b"");
}

#[tokio::test(flavor = "multi_thread")]
async fn someone_elses_commit_on_the_branch_is_never_overwritten() {
    let (project, _server, _forge) = three_outdated().await;
    assert_eq!(project.run(&["update", "ada", "--push"]).code, 0);
    // A maintainer pushes a fix-up commit onto the update branch.
    let clone = project.scratch("maintainer");
    git(
        &clone,
        &[
            "clone",
            "-q",
            "--branch",
            "deps-update/ada",
            project.scratch("origin.git").to_str().unwrap(),
            ".",
        ],
    );
    std::fs::write(clone.join("deps/ada/fix.c"), "// fix\n").unwrap();
    git(&clone, &["add", "-A"]);
    crate::support::git_at(
        &clone,
        &[
            "-c",
            "user.name=M",
            "-c",
            "user.email=m@example.com",
            "commit",
            "-q",
            "-m",
            "fix build",
        ],
        None,
    );
    git(&clone, &["push", "-q", "origin", "deps-update/ada"]);
    let theirs = git(&clone, &["rev-parse", "HEAD"]);
    // Upstream unchanged, so the local branch differs from the remote only by their commit.
    let run = project.run(&["update", "ada", "--push"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("has a commit deps-update did not make"),
        "{}",
        run.stderr
    );
    assert_eq!(
        git(
            &project.scratch("origin.git"),
            &["rev-parse", "deps-update/ada"]
        ),
        theirs
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_gets_one_branch_one_commit_each_and_one_pull_request() {
    let (mut project, _server, forge) = three_outdated().await;
    let registry = std::fs::read_to_string(project.root().join("deps.toml"))
        .unwrap()
        .replace(
            "labels = [\"brotli\"]\n",
            "labels = [\"brotli\"]\ngroup = \"compression\"\n",
        )
        .replace(
            "labels = [\"zstd\"]\n",
            "labels = [\"zstd\"]\ngroup = \"compression\"\n",
        );
    project.write("deps.toml", &registry);
    project.commit_all("group the compression libraries");
    project.git(&["push", "-q", "origin", "main"]);

    // Naming one member updates its whole group.
    let first = project.run(&["update", "zstd", "ada", "--pr"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(
        first
            .stderr
            .contains("group `compression`: `brotli`, `zstd` on one branch"),
        "{first:?}"
    );
    assert_eq!(
        remote_branches(&project),
        ["deps-update/ada", "deps-update/compression", "main"]
    );
    assert_eq!(
        project
            .git(&["log", "--format=%s", "main..deps-update/compression"])
            .lines()
            .collect::<Vec<_>>(),
        ["deps: update zstd to 1.5.7", "deps: update brotli to 1.2.0"]
    );
    let registry = project.git(&["show", "deps-update/compression:deps.toml"]);
    assert!(
        registry.contains("version = \"1.2.0\"") && registry.contains("version = \"1.5.7\""),
        "{registry}"
    );
    {
        let state = forge.0.lock().unwrap();
        assert_eq!(state.pulls.len(), 2);
        let group = state
            .pulls
            .iter()
            .find(|p| p["head"]["ref"] == "deps-update/compression")
            .unwrap();
        assert_eq!(
            group["title"],
            "deps: update brotli to 1.2.0, zstd to 1.5.7"
        );
        let body = group["body"].as_str().unwrap();
        for expected in [
            "Updates the group **compression**: one commit per dependency, in this order.",
            "| `brotli` | `1.0.0` | `1.2.0` |\n| `zstd` | `1.0.0` | `1.5.7` |",
            "## brotli\n\nUpdates **brotli** from `1.0.0` to `1.2.0`.",
            "## zstd\n\nUpdates **zstd** from `1.0.0` to `1.5.7`.",
        ] {
            assert!(body.contains(expected), "expected {expected:?} in:\n{body}");
        }
        assert_eq!(body.matches("<sub>Opened by deps-update.").count(), 1);
        let labels: Vec<&str> = group["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap())
            .collect();
        assert_eq!(labels, ["dependencies", "brotli", "zstd"]);
    }
    for member in ["brotli", "zstd"] {
        assert!(
            first.stdout.lines().any(|l| l.starts_with(member)
                && l.contains("on deps-update/compression; pushed; opened #")),
            "{first:?}"
        );
    }

    // The next night: the same commits' trees are already there; nothing is written.
    let writes_before = forge.0.lock().unwrap().writes.len();
    let refs_before = git(&project.scratch("origin.git"), &["for-each-ref"]);
    let second = project.run(&["update", "--all", "--pr"]);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(forge.0.lock().unwrap().writes.len(), writes_before);
    assert_eq!(
        git(&project.scratch("origin.git"), &["for-each-ref"]),
        refs_before
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_refused_by_the_remote_shows_the_remotes_reason() {
    let (project, _server, forge) = three_outdated().await;
    // Only a real receive-pack runs hooks (libgit2's local transport does not).
    let origin = project.scratch("origin.git");
    let daemon = crate::support::GitDaemon::serve(origin.parent().unwrap(), true);
    project.git(&[
        "remote",
        "set-url",
        "origin",
        &format!("git://127.0.0.1:{}/origin.git", daemon.port),
    ]);
    let hook = origin.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'branch names must start with bot/ (see CONTRIBUTING.md)' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run = project.run(&["update", "brotli", "--pr"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("refused `deps-update/brotli`: pre-receive hook declined"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("remote: branch names must start with bot/ (see CONTRIBUTING.md)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: the remote's own rules"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("GITHUB_TOKEN"), "{}", run.stderr);
    assert!(forge.0.lock().unwrap().pulls.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn names_from_the_archive_cannot_write_markdown_in_the_pull_request() {
    let (project, server, forge) = three_outdated().await;
    // A tar name holds 100 bytes: enough for a fake section.
    let hostile =
        "brotli-1.2.0/x.c |\n\n### Verified\n\n- OpenPGP signature by key 0 <img src=x>\u{202e}";
    let archive = tar_gz(&[
        Entry::File("brotli-1.2.0/src/brotli.c", b"// brotli 1.2.0\n"),
        Entry::File(hostile, b"evil\n"),
        Entry::File("brotli-1.2.0/LICENSE", b"MIT\n"),
    ]);
    Mock::given(wiremock::matchers::path("/brotli-1.2.0.tar.gz"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(archive))
        .with_priority(1)
        .mount(&server)
        .await;
    let run = project.run(&["update", "brotli", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    let body = forge.0.lock().unwrap().pulls[0]["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(body.matches("### Verified").count(), 2, "{body}");
    assert_eq!(body.matches("\n### Verified\n").count(), 1, "{body}");
    assert!(
        body.contains(
            "| added | `x.c \\|\\n\\n### Verified\\n\\n- OpenPGP signature by key 0 <img src=x>\\u{202e}` | +1 −0 |\n"
        ),
        "{body}"
    );
    assert!(!body.contains('\u{202e}'), "{body}");
    // No OSV here: the lookup's failure is one fixed line, and the pull request still opens.
    assert!(
        body.contains(
            "### Security\n\nKnown vulnerabilities could not be looked up for this update"
        ),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secondary_rate_limit_is_reported_as_one_when_it_cannot_be_waited_out() {
    let (mut project, _server, forge) = three_outdated().await;
    // Requests remain and no Retry-After: GitHub's secondary limit, which asks for a minute.
    forge.0.lock().unwrap().failing = Some((
        "POST",
        ResponseTemplate::new(403)
            .insert_header("x-ratelimit-remaining", "4990")
            .set_body_json(json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."})),
    ));
    project.env("DEPS_UPDATE_MAX_RATE_LIMIT_WAIT", "30");
    let started = std::time::Instant::now();
    let run = project.run(&["update", "brotli", "--pr"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("GitHub's secondary rate limit was hit at `")
            && run.stderr.contains(
                "it asks for a wait of at least 60 seconds, more than the 30 seconds allowed (`DEPS_UPDATE_MAX_RATE_LIMIT_WAIT`)"
            ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: run again in a few minutes"),
        "{}",
        run.stderr
    );
    assert!(remote_branches(&project).contains(&"deps-update/brotli".to_owned()));
    assert!(forge.0.lock().unwrap().pulls.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_branch_pushed_to_a_fork_is_its_owners_head() {
    let (project, _server, forge) = three_outdated().await;
    // The bot pushes to its fork; `insteadOf` sends the push to the local bare repository.
    let origin = project.scratch("origin.git");
    project.git(&[
        "remote",
        "set-url",
        "origin",
        "https://github.com/bot/node.git",
    ]);
    project.git(&[
        "config",
        &format!("url.{}.insteadOf", origin.display()),
        "https://github.com/bot/node.git",
    ]);
    for expected in ["opened #1", "#1 unchanged"] {
        let run = project.run(&["update", "brotli", "--pr"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains(expected), "{}", run.stdout);
    }
    let state = forge.0.lock().unwrap();
    assert_eq!(state.pulls.len(), 1);
    assert_eq!(state.pulls[0]["head"]["label"], "bot:deps-update/brotli");
    assert!(remote_branches(&project).contains(&"deps-update/brotli".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn reviewers_are_requested_on_refresh_and_a_non_collaborator_is_named() {
    let (mut project, _server, forge) = three_outdated().await;
    let registry = std::fs::read_to_string(project.root().join("deps.toml"))
        .unwrap()
        .replace(
            "[settings]\n",
            "[settings]\nreviewers = [\"alice\", \"mallory\"]\n",
        );
    project.write("deps.toml", &registry);
    project.commit_all("reviewers");
    project.git(&["push", "-q", "origin", "main"]);
    forge.0.lock().unwrap().collaborators = vec!["alice"];

    let run = project.run(&["update", "brotli", "--pr"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "pull request #1 is open, but GitHub refused to request a review from `mallory`: Reviews may only be requested from collaborators"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "hint: they are not collaborators of `node/node`: invite them (and have them accept), or remove them from `settings.reviewers`; the next run asks again"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(forge.0.lock().unwrap().pulls.len(), 1);

    // Mallory accepts the invitation: the next run asks both, on the existing pull request.
    forge.0.lock().unwrap().collaborators = vec!["alice", "mallory"];
    let run = project.run(&["update", "brotli", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("refreshed #1"), "{}", run.stdout);
    let requested = |forge: &FakeGithub| -> Vec<String> {
        forge.0.lock().unwrap().pulls[0]["requested_reviewers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["login"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(requested(&forge), ["alice", "mallory"]);

    // Alice reviews (and so leaves the requested list): she is not asked again.
    {
        let mut state = forge.0.lock().unwrap();
        state.reviews.push((1, "alice"));
        state.pulls[0]["requested_reviewers"] = json!([{"login": "mallory"}]);
        state.writes.clear();
    }
    let run = project.run(&["update", "brotli", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("#1 unchanged"), "{}", run.stdout);
    assert!(forge.0.lock().unwrap().writes.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_base_on_a_remote_branch_with_slashes_is_the_pull_requests_base() {
    let (project, _server, forge) = three_outdated().await;
    // A release line: `origin/release/v1.x`, named in the registry.
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    project.write(
        "deps.toml",
        &registry.replace(
            "[settings]\n",
            "[settings]\nbase = \"origin/release/v1.x\"\n",
        ),
    );
    project.git(&["commit", "-q", "-am", "updates start from the release line"]);
    project.git(&["push", "-q", "origin", "HEAD:release/v1.x"]);
    project.git(&["fetch", "-q", "origin"]);
    let run = project.run(&["update", "brotli", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("building on origin/release/v1.x at "),
        "{}",
        run.stderr
    );
    let state = forge.0.lock().unwrap();
    assert_eq!(state.pulls[0]["base"]["ref"], "release/v1.x");
}

#[tokio::test(flavor = "multi_thread")]
async fn update_base_builds_on_a_release_line_and_targets_it() {
    let (project, _server, forge) = three_outdated().await;
    // `v22.x` exists only as `origin/v22.x`, as in a CI clone; it vendors brotli 0.9.0.
    project.git(&["checkout", "-q", "-b", "line"]);
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    let on_line = registry.replace(
        "repo = \"up/brotli\"\nversion = \"1.0.0\"",
        "repo = \"up/brotli\"\nversion = \"0.9.0\"",
    );
    assert_ne!(on_line, registry);
    project.write("deps.toml", &on_line);
    project.git(&["commit", "-q", "-am", "the v22.x line"]);
    project.git(&["push", "-q", "origin", "HEAD:v22.x"]);
    project.git(&["checkout", "-q", "main"]);
    project.git(&["branch", "-q", "-D", "line"]);
    project.git(&["fetch", "-q", "origin"]);

    let run = project.run(&["update", "brotli", "--base", "v22.x", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("building on origin/v22.x at "),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("brotli  0.9.0  1.2.0"),
        "{}",
        run.stdout
    );
    // Its own branch, so main's update of brotli never meets it.
    assert!(remote_branches(&project).contains(&"deps-update/brotli-v22.x".to_owned()));
    let parent = project.git(&["rev-parse", "deps-update/brotli-v22.x^"]);
    assert_eq!(parent, project.git(&["rev-parse", "origin/v22.x"]));
    {
        let state = forge.0.lock().unwrap();
        assert_eq!(state.pulls.len(), 1);
        assert_eq!(state.pulls[0]["base"]["ref"], "v22.x");
        assert_eq!(state.pulls[0]["head"]["ref"], "deps-update/brotli-v22.x");
    }
    // main's update is another branch and another pull request.
    let run = project.run(&["update", "brotli", "--pr"]);
    assert_eq!(run.code, 0, "{run:?}");
    let state = forge.0.lock().unwrap();
    assert_eq!(state.pulls.len(), 2);
    assert_eq!(state.pulls[1]["base"]["ref"], "main");
    assert_eq!(state.pulls[1]["head"]["ref"], "deps-update/brotli");

    // A line git does not know is an error naming it.
    drop(state);
    let run = project.run(&["update", "brotli", "--base", "v99.x"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("`v99.x`"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reads_each_release_line_as_git_holds_it() {
    let (project, _server, _forge) = three_outdated().await;
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    for (line, version) in [("v20.x", "0.8.0"), ("v22.x", "1.2.0")] {
        project.git(&["checkout", "-q", "-b", line]);
        project.write(
            "deps.toml",
            &registry.replace(
                "repo = \"up/brotli\"\nversion = \"1.0.0\"",
                &format!("repo = \"up/brotli\"\nversion = \"{version}\""),
            ),
        );
        project.git(&["commit", "-q", "-am", line]);
        project.git(&["push", "-q", "origin", &format!("HEAD:{line}")]);
        project.git(&["checkout", "-q", "main"]);
        if line == "v20.x" {
            // Only on the remote.
            project.git(&["branch", "-q", "-D", line]);
        }
    }
    // An old line from before the registry.
    project.git(&["checkout", "-q", "--orphan", "v18.x"]);
    project.git(&["rm", "-q", "-rf", "."]);
    project.write("README", "old\n");
    project.git(&["add", "README"]);
    project.git(&["commit", "-q", "-m", "v18.x"]);
    project.git(&["checkout", "-q", "-f", "main"]);
    project.git(&["fetch", "-q", "origin"]);
    // The working copy's registry says something else: the lines' own are read.
    project.write(
        "deps.toml",
        &registry.replace("version = \"1.0.0\"", "version = \"1.1.0\""),
    );

    let run = project.run(&["check", "brotli", "--ref", "v*.x", "--ref", "main"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "LINE   NAME    CURRENT  LATEST  STATUS\n\
         v22.x  brotli  1.2.0    1.2.0   up to date\n\
         v20.x  brotli  0.8.0    1.2.0   update available\n\
         main   brotli  1.0.0    1.2.0   update available\n"
    );
    assert!(
        run.stderr
            .contains("checked 3 dependencies on 3 release lines: 2 with updates, 0 failed"),
        "{}",
        run.stderr
    );
    // A line only a pattern named, without a registry, is left out; named, it is an error.
    assert!(
        run.stderr.contains("`v18.x` has no `deps.toml`: left out"),
        "{}",
        run.stderr
    );
    let run = project.run(&["check", "--ref", "v18.x"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("`deps.toml` is not committed on the base v18.x"),
        "{}",
        run.stderr
    );
    let run = project.run(&["check", "--ref", "v1[0-7].x"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("error: no release line matches `v1[0-7].x`"),
        "{}",
        run.stderr
    );
    let run = project.run(&["check", "--ref", "v20.x", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let brotli = json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "brotli")
        .unwrap();
    assert_eq!(brotli["line"], "v20.x");
    assert_eq!(brotli["current"], "0.8.0");
    // A line git does not know.
    let run = project.run(&["check", "--ref", "v99.x"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("v99.x"), "{}", run.stderr);
}
