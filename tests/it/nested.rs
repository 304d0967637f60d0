//! Code vendored inside other vendored code: a registry entry with `parent = "v8"`, a library
//! `init`'s catalog recognises inside V8's tree (`deps/v8/third_party/zlib`), and an npm
//! package under V8's `node_modules`; the registry's checks of `parent`, `audit` against a
//! fake OSV and GitHub, and `sbom` nesting them under their parents.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{Project, mount_json, mount_releases};

/// OSV: zlib (by its repository and tag, as OSV's C records have it) at `v1.2.11` and
/// `v1.3.1`, and minimatch 3.0.4, are vulnerable; every batch is recorded.
#[derive(Clone)]
struct FakeOsv {
    zlib: String,
    calls: Arc<Mutex<Vec<Value>>>,
}

impl Respond for FakeOsv {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        self.calls.lock().unwrap().push(body.clone());
        let results: Vec<Value> = body["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                let git = q["package"]["ecosystem"] == "GIT" && q["package"]["name"] == self.zlib;
                let npm = q["package"]["ecosystem"] == "npm";
                if git && (q["version"] == "v1.2.11" || q["version"] == "v1.3.1") {
                    json!({"vulns": [{"id": "OSV-2022-zlib"}]})
                } else if npm && q["package"]["name"] == "minimatch" && q["version"] == "3.0.4" {
                    json!({"vulns": [{"id": "GHSA-mini-0000-0001"}]})
                } else {
                    json!({})
                }
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"results": results}))
    }
}

const V8: &str = "[deps.v8]\npath = \"deps/v8\"\nsource = \"github-release\"\nrepo = \"v8/v8\"\nversion = \"12.4.254\"\nlicense = \"BSD-3-Clause\"\n";
const ZLIB_ENTRY: &str = "[deps.zlib]\npath = \"deps/v8/third_party/zlib\"\nparent = \"v8\"\nsource = \"github-release\"\nrepo = \"madler/zlib\"\nversion = \"1.3.1\"\n";

/// V8 vendored with its own zlib (`zlib.h` stating `zlib_version`) and, when `zlib_entry`,
/// that zlib as a registry entry with `parent = "v8"`.
async fn setup(zlib_version: &str, zlib_entry: bool) -> (Project, MockServer, FakeOsv) {
    let server = MockServer::start().await;
    let osv = FakeOsv {
        zlib: format!("{}/madler/zlib", server.uri()),
        calls: Arc::default(),
    };
    Mock::given(method("POST"))
        .and(path("/osv/v1/querybatch"))
        .respond_with(osv.clone())
        .mount(&server)
        .await;
    mount_json(
        &server,
        "/osv/v1/vulns/OSV-2022-zlib",
        json!({
            "id": "OSV-2022-zlib", "aliases": ["CVE-2022-37434"],
            "summary": "inflate heap overflow through a large gzip header extra field",
            "affected": [{"ranges": [{"type": "GIT", "repo": format!("{}.git", osv.zlib),
                "events": [{"introduced": "0"}, {"fixed": "v1.3.2"}]}]}],
            "database_specific": {"severity": "CRITICAL"}
        }),
    )
    .await;
    mount_json(
        &server,
        "/osv/v1/vulns/GHSA-mini-0000-0001",
        json!({
            "id": "GHSA-mini-0000-0001", "aliases": ["CVE-2022-3517"],
            "summary": "minimatch ReDoS",
            "affected": [{"package": {"ecosystem": "npm", "name": "minimatch"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "3.0.5"}]}]}]
        }),
    )
    .await;
    mount_releases(&server, "v8/v8", &[("12.4.254", false, false)]).await;
    mount_releases(&server, "madler/zlib", &[("v1.3.1", false, false)]).await;
    for repo in ["v8/v8", "madler/zlib"] {
        mount_json(
            &server,
            &format!("/repos/{repo}/security-advisories"),
            json!([]),
        )
        .await;
    }
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project.env("OSV_API_URL", &format!("{}/osv", server.uri()));
    let mut manifest = V8.to_owned();
    if zlib_entry {
        manifest.push('\n');
        manifest.push_str(ZLIB_ENTRY);
    }
    project.manifest(&manifest);
    project.write(
        "deps/v8/include/v8-version.h",
        "#define V8_MAJOR_VERSION 12\n",
    );
    // As zlib ships it: the version among the other macros.
    project.write(
        "deps/v8/third_party/zlib/zlib.h",
        &format!(
            "#ifndef ZLIB_H\n#define ZLIB_H\n\n#define ZLIB_VERSION \"{zlib_version}\"\n#define ZLIB_VERNUM 0x12b0\n#define ZLIB_VER_MAJOR 1\n"
        ),
    );
    project.write("deps/v8/third_party/zlib/inflate.c", "int inflate;\n");
    (project, server, osv)
}

/// The GIT queries the batches asked about `repo`.
fn git_queries(osv: &FakeOsv) -> Vec<Value> {
    osv.calls
        .lock()
        .unwrap()
        .iter()
        .flat_map(|b| b["queries"].as_array().unwrap().clone())
        .filter(|q| q["package"]["ecosystem"] == "GIT" && q["package"]["name"] == osv.zlib)
        .collect()
}

#[test]
fn a_bad_parent_is_a_located_registry_error() {
    let project = Project::new();
    project.manifest(&format!(
        "{V8}
[deps.icu]
path = \"deps/v8/third_party/icu\"
parent = \"v9\"
source = \"github-release\"
repo = \"unicode-org/icu\"
version = \"74.1\"

[deps.brotli]
path = \"deps/brotli\"
parent = \"brotli\"
source = \"github-release\"
repo = \"google/brotli\"
version = \"1.1.0\"

[deps.zlib]
path = \"deps/zlib\"
parent = \"v8\"
source = \"github-release\"
repo = \"madler/zlib\"
version = \"1.3.1\"

[deps.a]
path = \"deps/x/a\"
parent = \"b\"
source = \"npm\"
package = \"a\"
version = \"1.0.0\"

[deps.b]
path = \"deps/x\"
parent = \"a\"
source = \"npm\"
package = \"b\"
version = \"1.0.0\"
"
    ));
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    for expected in [
        "deps.toml:10:10: dependency `icu`: `parent`: no dependency named `v9` in the registry; did you mean `v8`?",
        "deps.toml:17:10: dependency `brotli`: `parent`: `brotli` cannot be nested in itself",
        "deps.toml:23:8: dependency `zlib`: `path`: `deps/zlib` is not inside `deps/v8`, the folder of its parent `v8`",
        "deps.toml:31:10: dependency `a`: `parent`: the parents go round in a cycle: `a` in `b` in `a`",
        "deps.toml:38:10: dependency `b`: `parent`: the parents go round in a cycle: `b` in `a` in `b`",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
    assert!(
        run.stderr.contains("5 mistakes in `deps.toml`"),
        "{}",
        run.stderr
    );

    // Inside its parent's folder, the same entry is valid.
    project.manifest(&format!("{V8}\n{ZLIB_ENTRY}"));
    let run = project.run(&["list", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parent_entry_is_audited_as_nested_via_its_parent() {
    let (project, _server, osv) = setup("1.3.1", true).await;
    let run = project.run(&["audit", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let reports = run.json();
    let reports = reports.as_array().unwrap();
    // The entry's folder is its own: not found again as a nested library of V8.
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert_eq!(reports[0]["name"], "v8");
    assert!(reports[0].get("via").is_none(), "{}", reports[0]);
    let zlib = &reports[1];
    assert_eq!(zlib["name"], "zlib");
    assert_eq!(zlib["version"], "1.3.1");
    assert_eq!(zlib["latest"], "1.3.1");
    assert_eq!(zlib["path"], "deps/v8/third_party/zlib");
    assert_eq!(zlib["via"], "v8");
    assert_eq!(zlib["advisories"][0]["id"], "OSV-2022-zlib");
    assert_eq!(zlib["advisories"][0]["fixed_in"], json!(["v1.3.2"]));
    assert_eq!(
        git_queries(&osv),
        [json!({"package": {"name": osv.zlib, "ecosystem": "GIT"}, "version": "v1.3.1"})]
    );

    let run = project.run(&["audit"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "deps/v8/third_party/zlib  1.3.1     OSV-2022-zlib CVE-2022-37434  CRITICAL  v1.3.2    nested, via v8\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("deps/v8/third_party/zlib OSV-2022-zlib: inflate heap overflow"),
        "{}",
        run.stderr
    );
    // A registry entry counts as a dependency, however nested its folder.
    assert!(
        run.stderr
            .contains("audited 2 dependencies: 1 advisory affects"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_library_the_catalog_recognises_inside_a_vendored_tree_is_audited() {
    let (project, _server, osv) = setup("1.2.11", false).await;
    // An npm package inside V8 too, and a hidden folder that holds zlib's header: not code.
    project.write(
        "deps/v8/tools/node_modules/minimatch/package.json",
        r#"{"name": "minimatch", "version": "3.0.4"}"#,
    );
    project.write(
        "deps/v8/.cache/zlib/zlib.h",
        "#define ZLIB_VERSION \"1.2.3\"\n",
    );
    let run = project.run(&["audit", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let reports = run.json();
    let by_path = |p: &str| {
        reports
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["path"] == p)
            .unwrap_or_else(|| panic!("no report of `{p}`: {reports}"))
            .clone()
    };
    assert_eq!(reports.as_array().unwrap().len(), 3, "{reports}");
    let zlib = by_path("deps/v8/third_party/zlib");
    assert_eq!(zlib["name"], "zlib");
    assert_eq!(zlib["version"], "1.2.11");
    assert_eq!(zlib["via"], "v8");
    assert_eq!(zlib["latest"], Value::Null);
    assert_eq!(zlib["advisories"][0]["id"], "OSV-2022-zlib");
    assert_eq!(zlib["advisories"][0]["aliases"], json!(["CVE-2022-37434"]));
    let minimatch = by_path("deps/v8/tools/node_modules/minimatch");
    assert_eq!(minimatch["via"], "v8");
    assert_eq!(minimatch["advisories"][0]["id"], "GHSA-mini-0000-0001");
    // Asked as a registry dependency of madler/zlib is: by its repository and tag.
    assert_eq!(
        git_queries(&osv),
        [json!({"package": {"name": osv.zlib, "ecosystem": "GIT"}, "version": "v1.2.11"})]
    );

    let run = project.run(&["audit"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "deps/v8/third_party/zlib              1.2.11    OSV-2022-zlib CVE-2022-37434       CRITICAL  v1.3.2    nested, via v8\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("audited 1 dependency and 2 nested packages: 2 advisories affect"),
        "{}",
        run.stderr
    );

    // A library known by its marker files, whose tree states no version, is a gap said aloud.
    project.write("deps/v8/third_party/linenoise/linenoise.c", "int ln;\n");
    let run = project.run(&["audit"]);
    assert!(
        run.stderr.contains(
            "warning: `v8`: `deps/v8/third_party/linenoise` looks like linenoise but states no version: its advisories were not asked"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("audited 1 dependency and 2 nested packages"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sboms_list_what_is_nested_under_its_parent() {
    let (mut project, _server, _osv) = setup("1.2.11", true).await;
    project.env("SOURCE_DATE_EPOCH", "1700000000");
    // The public addresses only shape the package URLs: `sbom` asks no network.
    project.env("GITHUB_API_URL", "https://api.github.com");
    project.env("npm_config_registry", "https://registry.npmjs.org/");
    // The registry's zlib entry says 1.3.1; its `zlib.h` is what V8 ships beside it.
    project.write(
        "deps/v8/third_party/zlib/zlib.h",
        "#define ZLIB_VERSION \"1.3.1\"\n",
    );
    project.write(
        "deps/v8/tools/node_modules/minimatch/package.json",
        r#"{"name": "minimatch", "version": "3.0.4"}"#,
    );
    project.write(
        "deps/v8/third_party/inspector_protocol/crdtp/zlib/zlib.h",
        "#define ZLIB_VERSION \"1.2.13\"\n",
    );

    let run = project.run(&["sbom", "-o", "-"]);
    assert_eq!(run.code, 0, "{run:?}");
    let bom = run.json();
    let top = bom["components"].as_array().unwrap();
    assert_eq!(top.len(), 1, "{top:?}");
    let v8 = &top[0];
    assert_eq!(v8["bom-ref"], "dep:v8");
    let nested: Vec<(&str, &str, &str)> = v8["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["bom-ref"].as_str().unwrap(),
                c["version"].as_str().unwrap(),
                c["purl"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        nested,
        [
            ("dep:zlib", "1.3.1", "pkg:github/madler/zlib@v1.3.1"),
            (
                "nested:deps/v8/third_party/inspector_protocol/crdtp/zlib",
                "1.2.13",
                "pkg:github/madler/zlib@v1.2.13"
            ),
            (
                "nested:deps/v8/tools/node_modules/minimatch",
                "3.0.4",
                "pkg:npm/minimatch@3.0.4"
            ),
        ]
    );
    assert_eq!(bom["dependencies"][0]["dependsOn"], json!(["dep:v8"]));

    let run = project.run(&["sbom", "--format", "spdx", "-o", "-"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = run.json();
    let ids: Vec<&str> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "SPDXRef-Package-v8",
            "SPDXRef-Package-zlib",
            "SPDXRef-Nested-deps-v8-third-party-inspector-protocol-crdtp-zlib",
            "SPDXRef-Nested-deps-v8-tools-node-modules-minimatch",
        ]
    );
    let relationships: Vec<(&str, &str, &str)> = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["spdxElementId"].as_str().unwrap(),
                r["relationshipType"].as_str().unwrap(),
                r["relatedSpdxElement"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        relationships,
        [
            ("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Package-v8"),
            ("SPDXRef-Package-v8", "CONTAINS", "SPDXRef-Package-zlib"),
            (
                "SPDXRef-Package-v8",
                "CONTAINS",
                "SPDXRef-Nested-deps-v8-third-party-inspector-protocol-crdtp-zlib"
            ),
            (
                "SPDXRef-Package-v8",
                "CONTAINS",
                "SPDXRef-Nested-deps-v8-tools-node-modules-minimatch"
            ),
        ]
    );
    let minimatch = &doc["packages"][3];
    assert_eq!(
        minimatch["externalRefs"][0]["referenceLocator"],
        "pkg:npm/minimatch@3.0.4"
    );

    // Described alone, a nested entry stands at the top.
    let run = project.run(&["sbom", "-o", "-", "zlib"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["components"][0]["bom-ref"], "dep:zlib");
}

#[tokio::test(flavor = "multi_thread")]
async fn updating_the_parent_leaves_a_nested_entrys_folder_alone() {
    let (mut project, server, _osv) = setup("1.3.1", true).await;
    // V8 12.3.0 vendored; 12.4.254 ships a zlib of its own that must not replace the entry's.
    let archive = crate::support::tar_gz(&[
        crate::support::Entry::File(
            "v8-12.4.254/include/v8-version.h",
            b"#define V8_MAJOR_VERSION 12\n#define V8_MINOR_VERSION 4\n",
        ),
        crate::support::Entry::File(
            "v8-12.4.254/third_party/zlib/zlib.h",
            b"#define ZLIB_VERSION \"1.2.13\"\n",
        ),
        crate::support::Entry::File("v8-12.4.254/src/api.cc", b"// api\n"),
    ]);
    crate::support::mount_file(&server, "/v8-12.4.254.tar.gz", archive).await;
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    project.manifest(&registry.replace(
        "version = \"12.4.254\"\n",
        &format!(
            "version = \"12.3.0\"\narchive = \"{}/v8-{{version}}.tar.gz\"\n",
            server.uri()
        ),
    ));
    project.commit_all("v8 12.3.0 with its zlib as an entry");
    let run = project.run(&["update", "v8"]);
    assert_eq!(run.code, 0, "{run:?}");
    let show = |file: &str| project.git(&["show", &format!("deps-update/v8:{file}")]);
    assert_eq!(show("deps/v8/src/api.cc"), "// api");
    assert!(
        show("deps/v8/third_party/zlib/zlib.h").contains("#define ZLIB_VERSION \"1.3.1\""),
        "the entry's zlib was replaced by V8's"
    );
    assert_eq!(show("deps/v8/third_party/zlib/inflate.c"), "int inflate;");
}
