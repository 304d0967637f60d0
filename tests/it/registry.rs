//! The registry itself: errors, `list`, `validate`, version files, the shipped `deps.toml`.

use crate::support::{Project, github_dep};

const NGHTTP2_VERSION_H: &str = "#ifndef NGHTTP2VER_H\n#define NGHTTP2VER_H\n\n#define NGHTTP2_VERSION \"1.64.0\"\n#define NGHTTP2_VERSION_NUM 0x014000\n\n#endif\n";
const UV_VERSION_H: &str = "#define UV_VERSION_MAJOR 1\n#define UV_VERSION_MINOR 51\n#define UV_VERSION_PATCH 0\n#define UV_VERSION_IS_RELEASE 1\n";

fn with_version_files(project: &Project, nghttp2_version: &str) {
    project
        .write("deps/nghttp2/lib/includes/nghttp2/nghttp2ver.h", NGHTTP2_VERSION_H)
        .write("deps/uv/include/uv/version.h", UV_VERSION_H)
        .manifest(&format!(
            "# Node's vendored dependencies\n\
             [deps.nghttp2]\npath = \"deps/nghttp2\"\nsource = \"github-release\"\nrepo = \"nghttp2/nghttp2\"\n\
             version = \"{nghttp2_version}\"\n\
             version-file = {{ path = \"lib/includes/nghttp2/nghttp2ver.h\", regex = '#define NGHTTP2_VERSION \"([^\"]+)\"' }}\n\n\
             [deps.uv]\npath = \"deps/uv\"\nsource = \"github-tag\"\nrepo = \"libuv/libuv\"\n\
             version-file = {{ path = \"include/uv/version.h\", regex = '(?s)UV_VERSION_MAJOR (?P<major>\\d+).*UV_VERSION_MINOR (?P<minor>\\d+).*UV_VERSION_PATCH (?P<patch>\\d+)' }}\n"
        ));
}

#[test]
fn validate_reads_every_version_file() {
    let project = Project::new();
    with_version_files(&project, "1.64.0");
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "NAME     VERSION  STATUS\n\
         nghttp2  1.64.0   ok (matches deps/nghttp2/lib/includes/nghttp2/nghttp2ver.h)\n\
         uv       1.51.0   ok (matches deps/uv/include/uv/version.h)\n"
    );
}

#[test]
fn a_disagreeing_version_file_is_an_error_naming_both_values() {
    let project = Project::new();
    with_version_files(&project, "1.63.0");
    for args in [&["validate"][..], &["check"][..]] {
        let run = project.run(args);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(
                "error: `nghttp2`: the registry and the vendored tree disagree about the version\n  \
                 `version` in the registry: 1.63.0\n  `deps/nghttp2/lib/includes/nghttp2/nghttp2ver.h`: 1.64.0\n"
            ),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("hint: set `version` to what is vendored"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_version_file_that_does_not_match_fails_only_its_dependency() {
    let project = Project::new();
    with_version_files(&project, "1.64.0");
    project.write(
        "deps/uv/include/uv/version.h",
        "/* moved to uv-version.h */\n",
    );
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("nghttp2  1.64.0"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("error: `uv`: the `version-file` regex `(?s)UV_VERSION_MAJOR"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: fix `version-file.regex`"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(project.root().join("deps/uv/include/uv/version.h")).unwrap();
    let run = project.run(&["validate", "uv"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("error: `uv`: cannot read the version file `deps/uv/include/uv/version.h`"),
        "{}",
        run.stderr
    );
}

#[test]
fn registry_errors_exit_2_with_file_line_and_column() {
    let project = Project::new();
    project.manifest(&github_dep(
        "nghttp2",
        "github-release",
        "nghttp2/nghttp2",
        "1.64.0",
        "sha265 = \"abc\"",
    ));
    let run = project.run(&["check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.starts_with("error: deps.toml:6:1: dependency `nghttp2`: `sha265`: unknown key `sha265`; did you mean `sha256`?\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("6 | sha265 = \"abc\"\n  | ^^^^^^\n"),
        "{}",
        run.stderr
    );

    project.manifest(&github_dep(
        "cares",
        "github-release",
        "c-ares/c-ares",
        "1.34.5",
        "version-file = { path = \"include/ares_version.h\", regex = '#define ARES_VERSION_STR \"(.+\"' }",
    ));
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("deps.toml:6:59: dependency `cares`: `version-file.regex`: invalid regular expression: unclosed group"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_registry_mistake_is_reported_in_one_run() {
    let project = Project::new();
    // An unknown key in two dependencies and in the settings, and a bad value in a third.
    project.write(
        "deps.toml",
        r#"[settings]
basee = "main"

[deps.alpha]
source = "github-release"
repo = "o/alpha"
version = "1.0.0"
path = "deps/alpha"
sha265 = "abc"

[deps.beta]
source = "github-tag"
repo = "o/beta"
version = "2.0.0"
path = "deps/beta"
inclde = ["src/**"]

[deps.gamma]
source = "github-tag"
repo = "o/gamma"
version = "3.0.0"
path = "../outside"
"#,
    );
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    let stderr = &run.stderr;
    let at = |needle: &str| {
        stderr
            .find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{stderr}"))
    };
    let settings = at("deps.toml:2:1: `basee`: unknown key `basee`; did you mean `base`?");
    let alpha = at(
        "deps.toml:9:1: dependency `alpha`: `sha265`: unknown key `sha265`; did you mean `sha256`?",
    );
    let beta = at(
        "deps.toml:16:1: dependency `beta`: `inclde`: unknown key `inclde`; did you mean `include`?",
    );
    assert!(settings < alpha && alpha < beta, "{stderr}");
    assert!(stderr.contains("3 mistakes in `deps.toml`"), "{stderr}");
    assert_eq!(stderr.matches("error: ").count(), 1, "{stderr}");

    // With the keys fixed, the value mistakes of several dependencies come together too.
    project.write(
        "deps.toml",
        r#"[deps.alpha]
source = "github-release"
repo = "o/alpha"
version = "1.0.0"
path = "/abs/alpha"

[deps.gamma]
source = "github-tag"
repo = "o/gamma"
version = "3.0.0"
path = "../outside"
"#,
    );
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    let stderr = &run.stderr;
    assert!(
        stderr.contains("deps.toml:5:8: dependency `alpha`: `path`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("deps.toml:11:8: dependency `gamma`: `path`"),
        "{stderr}"
    );
    assert!(stderr.contains("2 mistakes in `deps.toml`"), "{stderr}");
    // Scripts get each mistake located.
    let run = project.run(&["validate", "--json"]);
    assert_eq!(run.code, 2, "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["error"]["kind"], "invalid-registry", "{json}");
    let mistakes: Vec<(u64, u64, &str)> = json["error"]["mistakes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert_eq!(m["key"], "path");
            (
                m["line"].as_u64().unwrap(),
                m["column"].as_u64().unwrap(),
                m["dependency"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(mistakes, [(5, 8, "alpha"), (11, 8, "gamma")]);
}

#[test]
fn unknown_names_are_a_usage_error_listing_known_ones() {
    let project = Project::new();
    project.manifest(
        &[
            github_dep("nghttp2", "github-release", "nghttp2/nghttp2", "1.64.0", ""),
            github_dep("ngtcp2", "github-release", "ngtcp2/ngtcp2", "1.11.0", ""),
        ]
        .concat(),
    );
    let run = project.run(&["check", "zlib"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        "error: no dependency named `zlib` in the registry\nhint: known dependencies: nghttp2, ngtcp2\n"
    );
    // A near miss names the one meant.
    let run = project.run(&["check", "nghttp3"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        "error: no dependency named `nghttp3` in the registry\nhint: did you mean `nghttp2`?\n"
    );
}

#[test]
fn a_missing_registry_says_where_it_looked() {
    let project = Project::new();
    let run = project.run(&["list"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("error: no `deps.toml` in "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "hint: run in the repository that holds `deps.toml`, or name it with `--manifest`"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn list_json_feeds_a_matrix() {
    let project = Project::new();
    project.manifest(&format!(
        "{}[deps.googletest]\npath = \"deps/googletest\"\nsource = \"git\"\nurl = \"https://github.com/google/googletest.git\"\nbranch = \"main\"\nversion = \"7260682388d493f155be62c3ce2efc7c7a9a3dcf\"\n",
        github_dep("nghttp2", "github-release", "nghttp2/nghttp2", "1.64.0", "")
    ));
    let run = project.run(&["list", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "one line, for $GITHUB_OUTPUT"
    );
    assert_eq!(
        run.json(),
        serde_json::json!([
            {"name": "nghttp2", "path": "deps/nghttp2", "source": "github-release", "upstream": "nghttp2/nghttp2", "version": "1.64.0", "group": null},
            {"name": "googletest", "path": "deps/googletest", "source": "git", "upstream": "https://github.com/google/googletest.git",
             "branch": "main", "version": "7260682388d493f155be62c3ce2efc7c7a9a3dcf", "group": null}
        ])
    );
    let run = project.run(&["list"]);
    assert_eq!(
        run.stdout,
        "NAME        SOURCE          UPSTREAM                                         VERSION                                   PATH\n\
         nghttp2     github-release  nghttp2/nghttp2                                  1.64.0                                    deps/nghttp2\n\
         googletest  git             https://github.com/google/googletest.git (main)  7260682388d493f155be62c3ce2efc7c7a9a3dcf  deps/googletest\n"
    );
}

/// The example registry in the repository root is valid and names Node's dependencies.
#[test]
fn the_shipped_registry_is_valid() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deps.toml");
    let project = Project::new();
    let run = project.run(&["--manifest", shipped.to_str().unwrap(), "list", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let names: Vec<String> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 32, "{names:?}");
    for expected in [
        "openssl",
        "sqlite",
        "root-certificates",
        "amaro",
        "acorn-walk",
        "postject",
        "gyp-next",
        "nbytes",
        "ncrypto",
        "libffi",
        "nghttp2",
        "ngtcp2",
        "nghttp3",
        "c-ares",
        "libuv",
        "llhttp",
        "ada",
        "simdutf",
        "simdjson",
        "brotli",
        "zstd",
        "uvwasi",
        "histogram",
        "googletest",
        "zlib",
        "acorn",
        "undici",
        "cjs-module-lexer",
        "minimatch",
        "icu",
        "merve",
        "base64",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from deps.toml: {names:?}"
        );
    }
}

/// A fresh clone of a registry (no vendored folders): the recorded versions stand, with a
/// note; a folder that is there still has its version file read.
#[tokio::test(flavor = "multi_thread")]
async fn absent_folders_use_the_recorded_version_with_a_note() {
    let server = wiremock::MockServer::start().await;
    crate::support::mount_releases(&server, "nghttp2/nghttp2", &[("v1.64.0", false, false)]).await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.manifest(
        "[deps.nghttp2]\npath = \"deps/nghttp2\"\nsource = \"github-release\"\nrepo = \"nghttp2/nghttp2\"\n\
         version = \"1.53.0\"\n\
         version-file = { path = \"lib/includes/nghttp2/nghttp2ver.h\", regex = '#define NGHTTP2_VERSION \"([^\"]+)\"' }\n\n\
         [deps.uv]\npath = \"deps/uv\"\nsource = \"github-tag\"\nrepo = \"libuv/libuv\"\nversion = \"1.44.2\"\n\
         version-file = { path = \"include/uv/version.h\", regex = '(?s)UV_VERSION_MAJOR (?P<major>\\d+).*UV_VERSION_MINOR (?P<minor>\\d+).*UV_VERSION_PATCH (?P<patch>\\d+)' }\n",
    );
    // `deps/uv` exists but holds no version file: that is still an error.
    project.write("deps/uv/README.md", "libuv\n");
    let run = project.run(&["check", "nghttp2"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "NAME     CURRENT  LATEST  STATUS\n\
         nghttp2  1.53.0   1.64.0  update available (`deps/nghttp2` is not here: using the registry's `version = \"1.53.0\"`)\n"
    );
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "nghttp2  1.53.0   ok (`deps/nghttp2` is not here: using the registry's `version = \"1.53.0\"`)"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("error: `uv`: cannot read the version file `deps/uv/include/uv/version.h`"),
        "{}",
        run.stderr
    );
}

/// Every entry of the shipped registry, checked against fakes of each kind it uses: GitHub
/// releases and tags offer a newer version spelled by the entry's own tag template, npm a
/// newer package, the git remotes (made local) a new commit, sqlite's page a newer product
/// line. Every entry must find the update: templates, keys and sources all work together.
#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_registry_checks_against_fakes_of_every_kind() {
    use serde_json::json;
    use wiremock::matchers::{method, path, path_regex};
    use wiremock::{Mock, ResponseTemplate};

    let server = wiremock::MockServer::start().await;
    let shipped =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deps.toml"))
            .unwrap();
    let registry: toml::Table = toml::from_str(&shipped).unwrap();
    let mut project = Project::new();
    project.fake_upstreams(&server);

    // One local remote stands in for every git upstream.
    let work = project.scratch("upstream");
    crate::support::git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(work.join("README"), "head\n").unwrap();
    crate::support::git(&work, &["add", "-A"]);
    // Older than the entries' `quiet-days`.
    let date = format!("@{} +0000", crate::support::now() - 10 * 86_400);
    crate::support::git_at(&work, &["commit", "-q", "-m", "head"], Some(&date));
    let head = crate::support::git(&work, &["rev-parse", "HEAD"]);
    let remote = format!("file://{}", work.display());

    let mut manifest = shipped.clone();
    let mut expected = Vec::new();
    for (name, dep) in registry["deps"].as_table().unwrap() {
        let kind = dep["source"].as_str().unwrap();
        // A newer version inside the entry's `allow`.
        let (major, minor, patch) = match dep.get("allow").and_then(|a| a.as_str()) {
            Some(allow) => {
                let mut parts = allow.trim_start_matches('~').split('.');
                (
                    parts.next().unwrap().to_owned(),
                    parts.next().unwrap().to_owned(),
                    "99".to_owned(),
                )
            }
            None => ("99".to_owned(), "1".to_owned(), "2".to_owned()),
        };
        let templates: Vec<String> = match dep.get("tag") {
            Some(toml::Value::String(t)) => vec![t.clone()],
            Some(toml::Value::Array(list)) => list
                .iter()
                .map(|t| t.as_str().unwrap().to_owned())
                .collect(),
            _ => vec!["v{version}".into()],
        };
        let template = &templates[0];
        let version = if template.contains("{patch}") || template.contains("{version}") {
            format!("{major}.{minor}.{patch}")
        } else {
            format!("{major}.{minor}")
        };
        let tag = template
            .replace("{version}", &version)
            .replace("{major}", &major)
            .replace("{minor}", &minor)
            .replace("{patch}", &patch);
        let latest = match kind {
            "github-release" => {
                let repo = dep["repo"].as_str().unwrap();
                crate::support::mount_releases(&server, repo, &[(&tag, false, false)]).await;
                version
            }
            "github-tag" => {
                let repo = dep["repo"].as_str().unwrap();
                Mock::given(method("GET"))
                    .and(path_regex(format!("^/repos/{repo}/git/matching-refs/tags")))
                    .respond_with(ResponseTemplate::new(200).set_body_json(json!([
                        {"ref": format!("refs/tags/{tag}"), "object": {"sha": "0".repeat(40)}}
                    ])))
                    .mount(&server)
                    .await;
                version
            }
            "npm" => {
                let package = dep["package"].as_str().unwrap();
                Mock::given(method("GET"))
                    .and(path(format!("/npm/{package}")))
                    .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                        "dist-tags": {"latest": version},
                        "versions": {version.clone(): {"dist": {"tarball": "https://example.invalid/x.tgz"}}}
                    })))
                    .mount(&server)
                    .await;
                version
            }
            "git" => {
                let url = dep["url"].as_str().unwrap();
                manifest =
                    manifest.replace(&format!("url = \"{url}\""), &format!("url = \"{remote}\""));
                head.clone()
            }
            "url" => {
                let url = dep["url"].as_str().unwrap();
                let page = format!("/pages/{name}");
                manifest = manifest.replace(
                    &format!("url = \"{url}\""),
                    &format!("url = \"{}{page}\"", server.uri()),
                );
                Mock::given(method("GET"))
                    .and(path(page))
                    .respond_with(ResponseTemplate::new(200).set_body_string(format!(
                        "<!--\nPRODUCT,{version},2099/sqlite-amalgamation-9901020.zip,1,ab\n-->"
                    )))
                    .mount(&server)
                    .await;
                version
            }
            other => panic!("the shipped registry uses a kind this test does not fake: {other}"),
        };
        expected.push((name.clone(), latest));
    }
    project.manifest(&manifest);
    let run = project.run(&["check", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let found: Vec<(String, String, String)> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["latest"].as_str().unwrap_or_default().to_owned(),
                d["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 32, "{expected:?}");
    for (name, latest) in &expected {
        assert!(
            found.contains(&(name.clone(), latest.clone(), "update-available".into())),
            "`{name}` should find {latest}: {found:?}"
        );
    }

    // `audit` over the same registry: a fake OSV seeds one advisory on nghttp2's vendored tag
    // (a GIT-range record) and one on acorn's vendored npm version.
    let nghttp2_tag = format!(
        "v{}",
        registry["deps"]["nghttp2"]["version"].as_str().unwrap()
    );
    let acorn_version = registry["deps"]["acorn"]["version"]
        .as_str()
        .unwrap()
        .to_owned();
    // The fake stands in for github.com: OSV names nghttp2 by the fake's address.
    let nghttp2_page = format!("{}/nghttp2/nghttp2", server.uri());
    let seeded = move |query: &serde_json::Value| -> Option<&'static str> {
        let asks = |name: &str, version: &str| {
            query["package"]["name"] == name && query["version"] == version
        };
        if asks(&nghttp2_page, &nghttp2_tag) {
            Some("OSV-SEED-NGHTTP2")
        } else if asks("acorn", &acorn_version) {
            Some("GHSA-seed-acrn-0001")
        } else {
            None
        }
    };
    Mock::given(method("POST"))
        .and(path("/osv/v1/querybatch"))
        .respond_with(move |request: &wiremock::Request| {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            let results: Vec<serde_json::Value> = body["queries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| match seeded(q) {
                    Some(id) => json!({"vulns": [{"id": id}]}),
                    None => json!({}),
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({"results": results}))
        })
        .mount(&server)
        .await;
    for (id, alias) in [
        ("OSV-SEED-NGHTTP2", "CVE-2099-1111"),
        ("GHSA-seed-acrn-0001", "CVE-2099-2222"),
    ] {
        crate::support::mount_json(
            &server,
            &format!("/osv/v1/vulns/{id}"),
            json!({"id": id, "aliases": [alias], "summary": "seeded"}),
        )
        .await;
    }
    project.env("OSV_API_URL", &format!("{}/osv", server.uri()));
    let run = project.run(&["audit", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let reports = run.json();
    let affected: Vec<(String, String, bool)> = reports
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["advisories"].as_array().unwrap().iter().map(move |a| {
                (
                    r["name"].as_str().unwrap().to_owned(),
                    a["id"].as_str().unwrap().to_owned(),
                    a["fixed_by_update"] == true,
                )
            })
        })
        .collect();
    assert_eq!(
        affected,
        [
            ("nghttp2".to_owned(), "OSV-SEED-NGHTTP2".to_owned(), true),
            ("acorn".to_owned(), "GHSA-seed-acrn-0001".to_owned(), true)
        ]
    );
    // Reviewed and ignored with reasons: still listed, and the audit passes.
    let manifest = manifest
        .replacen(
            "[deps.nghttp2]\n",
            "[deps.nghttp2]\nignore-advisories = [{ id = \"CVE-2099-1111\", reason = \"not reachable from Node\" }]\n",
            1,
        )
        .replacen(
            "[deps.acorn]\n",
            "[deps.acorn]\nignore-advisories = [{ id = \"GHSA-seed-acrn-0001\", reason = \"trusted input only\" }]\n",
            1,
        );
    project.manifest(&manifest);
    let run = project.run(&["audit"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("ignored: not reachable from Node"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("ignored: trusted input only"),
        "{}",
        run.stdout
    );
}
