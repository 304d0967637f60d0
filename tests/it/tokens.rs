//! Where tokens go: only with the tool's own requests to a forge API the environment names,
//! never across a redirect to another origin, never to an address an upstream's answer or a
//! registry template gave; and answers too large to be an API document are refused.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Entry, Project, mount_file, tar_gz};

/// Whether any request `server` received carried a credential header.
async fn credentials_seen(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| {
            r.headers.contains_key("authorization") || r.headers.contains_key("private-token")
        })
        .map(|r| r.url.path().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_tokens_are_dropped_on_a_redirect_to_another_origin() {
    let gitlab = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    let tarball = tar_gz(&[Entry::File("lib-v2.0.0-abc/lib.c", b"int v = 2;\n")]);
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Flib/repository/tags"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"name": "v2.0.0"}])))
        .mount(&gitlab)
        .await;
    // The archive moves to another host (a CDN, or a hostile mirror).
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Flib/repository/archive.tar.gz"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/cdn/lib.tar.gz", elsewhere.uri())),
        )
        .mount(&gitlab)
        .await;
    mount_file(&elsewhere, "/cdn/lib.tar.gz", tarball).await;
    let mut project = Project::new();
    project
        .env("GITLAB_API_URL", &format!("{}/api/v4", gitlab.uri()))
        .env("GITLAB_TOKEN", "glpat-secret");
    project
        .manifest(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"gitlab-tag\"\nrepo = \"grp/lib\"\nversion = \"1.0.0\"\n",
        )
        .write("deps/lib/lib.c", "int v = 1;\n");
    project.commit_all("initial");
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        project.git(&["show", "deps-update/lib:deps/lib/lib.c"]),
        "int v = 2;"
    );
    // The API itself got the token; the other origin never did.
    assert!(!credentials_seen(&gitlab).await.is_empty());
    assert_eq!(credentials_seen(&elsewhere).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_goes_only_to_an_api_the_environment_names() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Flib/repository/tags"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"name": "v1.0.0"}])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/corp/lib/git/matching-refs/tags/v"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(&server)
        .await;
    let mut project = Project::new();
    project
        .env("GITLAB_TOKEN", "glpat-secret")
        .env("GH_TOKEN", "ghp-secret");
    project.manifest(&format!(
        "[settings]\ngitlab-api-url = \"{uri}/api/v4\"\ngithub-api-url = \"{uri}\"\n\n\
         [deps.lab]\npath = \"deps/lab\"\nsource = \"gitlab-tag\"\nrepo = \"grp/lib\"\nversion = \"1.0.0\"\n\n\
         [deps.hub]\npath = \"deps/hub\"\nsource = \"github-tag\"\nrepo = \"corp/lib\"\nversion = \"1.0.0\"\n",
        uri = server.uri()
    ));
    // Only `deps.toml` names these APIs: the tokens stay home.
    let mut command = project.command(&["check"]);
    command
        .env_remove("GITHUB_API_URL")
        .env_remove("GITLAB_API_URL");
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(credentials_seen(&server).await, Vec::<String>::new());
    assert!(
        stderr.contains("`GITHUB_TOKEN` is set but was not sent to"),
        "{stderr}"
    );
    assert!(stderr.contains("set `GITHUB_API_URL`"), "{stderr}");
    assert!(!stderr.contains("ghp-secret") && !stderr.contains("glpat-secret"));

    // Named by the environment, the same APIs get their tokens.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Flib/repository/tags"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"name": "v1.0.0"}])))
        .mount(&server)
        .await;
    let mut command = project.command(&["check", "lab"]);
    command.env_remove("GITLAB_API_URL");
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(credentials_seen(&server).await, Vec::<String>::new());
    project.env("GITLAB_API_URL", &format!("{}/api/v4", server.uri()));
    let run = project.run(&["check", "lab"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        credentials_seen(&server).await,
        ["/api/v4/projects/grp%2Flib/repository/tags"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn addresses_from_answers_and_templates_never_carry_the_token() {
    let server = MockServer::start().await;
    let private = tar_gz(&[Entry::File("package/secret.c", b"victim's private code\n")]);
    // npm's answer names a tarball on the GitHub API's own origin.
    let stolen = format!("{}/repos/victim/private/tarball/main", server.uri());
    Mock::given(method("GET"))
        .and(path("/npm/evil"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "dist-tags": {"latest": "2.0.0"},
            "versions": {
                "1.0.0": {"dist": {"tarball": stolen, "integrity": "sha512-x"}},
                "2.0.0": {"dist": {
                    "tarball": stolen,
                    "integrity": crate::support::npm_integrity(&private),
                }},
            }
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/victim/private/tarball/main"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer ghp-secret",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(private))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/victim/private/tarball/main"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(&server)
        .await;
    // A page source pointed at the API's `/user`.
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer ghp-secret",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"login\": \"9.9.9-hunter2\"}"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "Requires authentication"})),
        )
        .mount(&server)
        .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.env("GITHUB_TOKEN", "ghp-secret");
    project
        .manifest(&format!(
            "[deps.evil]\npath = \"deps/evil\"\nsource = \"npm\"\npackage = \"evil\"\nversion = \"1.0.0\"\n\n\
             [deps.who]\npath = \"deps/who\"\nsource = \"url\"\nurl = \"{}/user\"\n\
             regex = '\"login\": \"(?P<version>[0-9.]+)'\nversion = \"1.0.0\"\narchive = \"https://example.com/{{version}}.tgz\"\n",
            server.uri()
        ))
        .write("deps/evil/index.js", "1\n");
    project.commit_all("initial");

    let run = project.run(&["evil"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("was not found (404)"), "{}", run.stderr);
    assert!(
        project
            .git(&["branch", "--list", "deps-update/*"])
            .is_empty(),
        "nothing committed"
    );
    let run = project.run(&["check", "who"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("answered 401") || run.stderr.contains("(401)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2") && !run.stdout.contains("9.9.9"));
    assert_eq!(credentials_seen(&server).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_larger_than_an_api_document_are_refused() {
    let server = MockServer::start().await;
    let page = "x".repeat(2 << 20);
    Mock::given(method("GET"))
        .and(path("/download.html"))
        .respond_with(ResponseTemplate::new(200).set_body_string(page))
        .mount(&server)
        .await;
    let mut project = Project::new();
    project.env("DEPS_UPDATE_MAX_ANSWER_MIB", "1");
    project.manifest(&format!(
        "[deps.big]\npath = \"deps/big\"\nsource = \"url\"\nurl = \"{}/download.html\"\n\
         regex = 'v(?P<version>[0-9.]+)'\nversion = \"1.0.0\"\narchive = \"https://example.com/{{version}}.tgz\"\n",
        server.uri()
    ));
    let run = project.run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "`{}/download.html` sent more than 1 MiB, more than an API answer or a page ever holds",
            server.uri()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("raise `DEPS_UPDATE_MAX_ANSWER_MIB`"),
        "{}",
        run.stderr
    );
}

#[test]
fn after_steps_cannot_read_the_token_or_find_the_repository() {
    let mut project = Project::new();
    let upstream = crate::support::Upstream::new(&project, "lib");
    upstream.release("v1.0.0", &[("lib.c", "int v = 1;\n")]);
    upstream.release("v2.0.0", &[("lib.c", "int v = 2;\n")]);
    project
        .env("GITHUB_TOKEN", "ghp-secret-value")
        .env("GITLAB_TOKEN", "glpat-secret-value")
        .env("NPM_TOKEN", "npm-secret-value");
    // A hostile step, as a compromised release could run: everything it can learn of the
    // process that started it lands in the commit.
    project
        .manifest(&format!(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.0.0\"\n\
             after = ['''{{ cat /proc/$PPID/environ; echo; readlink /proc/$PPID/cwd; ls -l /proc/$PPID/fd; \
             head -c 4000 /proc/$PPID/maps; echo; env; }} > \"$DEPS_UPDATE_PATH/leak.txt\" 2>&1; true''']\n",
            upstream.url()
        ))
        .write("deps/lib/lib.c", "int v = 1;\n");
    project.commit_all("initial");
    let run = project.run_unprivileged(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    let leak = project.git(&["show", "deps-update/lib:deps/lib/leak.txt"]);
    assert!(
        leak.contains("DEPS_UPDATE_NAME=lib"),
        "the step ran: {leak}"
    );
    for secret in ["ghp-secret-value", "glpat-secret-value", "npm-secret-value"] {
        assert!(!leak.contains(secret), "{secret} leaked:\n{leak}");
    }
    let root = std::fs::canonicalize(project.root()).unwrap();
    assert!(
        !leak.contains(&root.display().to_string()),
        "the real repository was found:\n{leak}"
    );
    assert!(
        !leak.contains("target/debug/deps-update"),
        "the process's memory map was read:\n{leak}"
    );
}

#[test]
fn a_link_in_the_repository_never_leads_a_read_out_of_it() {
    let mut project = Project::new();
    project.env("GITHUB_TOKEN", "ghp-secret-value");
    project.manifest(
        "[deps.lib]\npath = \"deps/link\"\nsource = \"npm\"\npackage = \"lib\"\n\
         version-file = { path = \"environ\", regex = '(?s)GITHUB_TOKEN=([^\\x00]+)' }\n",
    );
    std::fs::create_dir_all(project.root().join("deps")).unwrap();
    std::os::unix::fs::symlink("/proc/self", project.root().join("deps/link")).unwrap();
    project.commit_all("a hostile contributor's link");
    for args in [
        &["validate"][..],
        &["check", "--json"],
        &["sbom", "-o", "-"],
    ] {
        let run = project.run(args);
        assert_ne!(run.code, 0, "{args:?}: {run:?}");
        assert!(
            !run.stdout.contains("ghp-secret") && !run.stderr.contains("ghp-secret"),
            "{args:?}: {run:?}"
        );
        assert!(
            run.stderr.contains(
                "`deps/link/environ` leads outside the repository through a symbolic link"
            ),
            "{args:?}: {}",
            run.stderr
        );
    }
}
