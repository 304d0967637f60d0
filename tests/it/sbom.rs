//! `sbom`: CycloneDX and SPDX documents of the vendored dependencies, from the registry alone.

use serde_json::Value;

use crate::support::Project;

/// The registry of `tests/data/sbom` (also validated against the official schemas in CI): a
/// GitHub tag (a patch queue, a license, a recorded archive hash), a scoped npm package, a git
/// branch and a download page.
fn project() -> Project {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sbom");
    let mut project = Project::new();
    project.manifest(&std::fs::read_to_string(data.join("deps.toml")).unwrap());
    for name in ["0001-first.patch", "0002-second.patch", "README"] {
        let relative = format!("deps/patches/uv/{name}");
        project.write(
            &relative,
            &std::fs::read_to_string(data.join(&relative)).unwrap(),
        );
    }
    project.env("SOURCE_DATE_EPOCH", "1700000000");
    // Public forges: an SBOM names where code comes from, and asks nobody.
    project.env("GITHUB_API_URL", "https://api.github.com");
    project.env("npm_config_registry", "https://registry.npmjs.org/");
    project
}

fn read(project: &Project, file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(project.root().join(file)).unwrap()).unwrap()
}

#[test]
fn cyclonedx_describes_every_dependency_deterministically() {
    let project = project();
    let run = project.run(&["sbom"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("wrote `sbom.cdx.json`: 4 dependencies"),
        "{}",
        run.stderr
    );
    let bom = read(&project, "sbom.cdx.json");
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    let components = bom["components"].as_array().unwrap();
    let names: Vec<&str> = components
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["uv", "types", "gtest", "sqlite"]);
    let uv = &components[0];
    assert_eq!(uv["purl"], "pkg:github/libuv/libuv@v1.51.0");
    assert_eq!(uv["version"], "1.51.0");
    assert_eq!(uv["licenses"][0]["expression"], "MIT");
    assert_eq!(uv["hashes"][0]["alg"], "SHA-256");
    assert_eq!(
        uv["externalReferences"][1]["url"],
        "https://github.com/libuv/libuv/archive/refs/tags/v1.51.0.tar.gz"
    );
    assert_eq!(
        uv["pedigree"]["patches"],
        serde_json::json!([
            {"type": "unofficial", "diff": {"url": "deps/patches/uv/0001-first.patch"}},
            {"type": "unofficial", "diff": {"url": "deps/patches/uv/0002-second.patch"}}
        ])
    );
    assert_eq!(components[1]["purl"], "pkg:npm/%40types/node@22.1.0");
    assert_eq!(
        components[1]["externalReferences"][0]["url"],
        "https://registry.npmjs.org/@types/node/-/node-22.1.0.tgz"
    );
    assert_eq!(
        components[2]["purl"],
        "pkg:generic/gtest@0daf775f8c9324e7d42582a09de1240805f25a54?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fgoogle%2Fgoogletest.git%400daf775f8c9324e7d42582a09de1240805f25a54"
    );
    // The commit a tracked branch's version is, as the upstream commit it comes from.
    assert_eq!(
        components[2]["pedigree"]["commits"],
        serde_json::json!([{
            "uid": "0daf775f8c9324e7d42582a09de1240805f25a54",
            "url": "https://github.com/google/googletest.git"
        }])
    );
    // The archive address needs the download page (`{year}`): no guess is written.
    assert_eq!(components[3]["purl"], "pkg:generic/sqlite@3.50.4");
    assert!(components[3].get("externalReferences").is_none());

    // The same registry, the same bytes.
    let first = std::fs::read(project.root().join("sbom.cdx.json")).unwrap();
    assert_eq!(project.run(&["sbom"]).code, 0);
    assert_eq!(
        std::fs::read(project.root().join("sbom.cdx.json")).unwrap(),
        first
    );
}

#[test]
fn spdx_to_standard_output() {
    let project = project();
    let run = project.run(&["sbom", "--format", "spdx", "-o", "-", "uv", "sqlite"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = run.json();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    let packages = doc["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 2);
    assert_eq!(packages[0]["SPDXID"], "SPDXRef-Package-uv");
    assert_eq!(packages[0]["licenseDeclared"], "MIT");
    assert_eq!(packages[0]["checksums"][0]["algorithm"], "SHA256");
    assert_eq!(
        packages[0]["externalRefs"][0]["referenceLocator"],
        "pkg:github/libuv/libuv@v1.51.0"
    );
    assert_eq!(packages[1]["downloadLocation"], "NOASSERTION");
    assert_eq!(doc["relationships"].as_array().unwrap().len(), 2);
    assert!(!project.root().join("sbom.spdx.json").exists());
}

#[test]
fn a_license_that_is_not_an_spdx_expression_is_a_registry_error() {
    let project = Project::new();
    project.manifest(
        "[deps.x]\npath = \"x\"\nsource = \"npm\"\npackage = \"x\"\nversion = \"1.0.0\"\nlicense = \"MIT or whatever\"\n",
    );
    let run = project.run(&["sbom"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("`MIT or whatever` is not an SPDX license expression"),
        "{}",
        run.stderr
    );
    assert!(!project.root().join("sbom.cdx.json").exists());
}

#[test]
fn self_hosted_forges_and_registries_name_their_own_addresses() {
    let mut project = Project::new();
    project.manifest(
        r#"[deps.ghe]
path = "deps/ghe"
source = "github-release"
repo = "infra/ghe"
version = "1.2.0"

[deps.lab]
path = "deps/lab"
source = "gitlab-tag"
repo = "group/sub/lab"
version = "3.0.0"

[deps.tea]
path = "deps/tea"
source = "gitea-release"
repo = "org/tea"
version = "0.9.1"
asset = "tea-{version}.tar.gz"

[deps.pkg]
path = "deps/pkg"
source = "npm"
package = "left-pad"
version = "1.3.0"
"#,
    );
    project
        .env("SOURCE_DATE_EPOCH", "0")
        .env("GITHUB_API_URL", "https://ghe.example.com/api/v3")
        .env("GITLAB_API_URL", "https://gitlab.example.com/api/v4")
        .env("GITEA_API_URL", "https://tea.example.com/api/v1")
        .env("npm_config_registry", "https://npm.example.com/");
    let run = project.run(&["sbom", "-o", "-"]);
    assert_eq!(run.code, 0, "{run:?}");
    let text = run.stdout.clone();
    for public in ["github.com", "gitlab.com", "codeberg.org", "npmjs.org"] {
        assert!(!text.contains(public), "{public} in {text}");
    }
    let bom = run.json();
    let components = bom["components"].as_array().unwrap();
    let urls = |c: &Value| -> Vec<String> {
        c["externalReferences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["url"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        components[0]["purl"],
        "pkg:github/infra/ghe@v1.2.0?repository_url=https%3A%2F%2Fghe.example.com"
    );
    assert_eq!(
        urls(&components[0]),
        [
            "https://ghe.example.com/infra/ghe",
            "https://ghe.example.com/infra/ghe/archive/refs/tags/v1.2.0.tar.gz"
        ]
    );
    assert_eq!(
        urls(&components[1])[0],
        "https://gitlab.example.com/group/sub/lab"
    );
    assert_eq!(
        urls(&components[2])[1],
        "https://tea.example.com/org/tea/releases/download/v0.9.1/tea-0.9.1.tar.gz"
    );
    assert_eq!(
        urls(&components[3])[0],
        "https://npm.example.com/left-pad/-/left-pad-1.3.0.tgz"
    );
}
