//! Node's registry, file by file: for every shipped entry with a fixture in
//! `tests/data/node/`, a fake of the entry's kind serves a synthetic release with upstream's
//! file list at the pinned version, Node's file list at v26.6.0 is the vendored folder, and
//! `verify` must find the folder clean. A Node-owned file missing from `keep` shows as added,
//! an `include` that is too wide as missing, so either fails the entry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    Project, Upstream, mount_file, mount_json, mount_releases, mount_releases_with_assets,
    npm_integrity, sha256,
};

/// Shipped entries the fixture does not cover, and why.
const NOT_COVERED: &[(&str, &str)] = &[
    (
        "icu",
        "its `after` steps are Node's configure and shrink-icu-src.py; the release's file list was not gathered",
    ),
    (
        "openssl",
        "its `after` step is Node's `make -C deps/openssl/config` (perl, nasm); the tag's tree was not gathered",
    ),
    (
        "root-certificates",
        "its `after` step is Node's mk-ca-bundle.pl; a single file, not a folder",
    ),
    (
        "zlib",
        "Chromium's zlib tree at the pinned commit was not gathered",
    ),
    (
        "undici",
        "Node builds its folder (npm, wasm, a bundle): the entry tracks versions only",
    ),
    (
        "cjs-module-lexer",
        "Node's folder since the wasm build of 26.0.0 could not be listed",
    ),
    (
        "minimatch",
        "its `after` step runs npm and esbuild, with the network",
    ),
    (
        "ncrypto",
        "the version is not pinned, and Node develops the folder in its own tree",
    ),
];

/// One dependency's facts: upstream's and Node's file lists, and the lines that matter.
struct Fixture {
    entry: String,
    version: String,
    upstream: Vec<String>,
    node: Vec<String>,
    text: BTreeMap<String, String>,
}

impl Fixture {
    /// What the synthetic trees hold at `path`: the line the fixture gives for its file name,
    /// else `# ` and the file name.
    fn content(&self, path: &str) -> String {
        let name = path.rsplit('/').next().unwrap_or(path);
        match self.text.get(name) {
            Some(text) => format!("{text}\n"),
            None => format!("# {name}\n"),
        }
    }

    fn upstream_files(&self) -> Vec<(String, String)> {
        self.upstream
            .iter()
            .map(|p| (p.clone(), self.content(p)))
            .collect()
    }
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/node")
}

fn fixtures() -> Vec<Fixture> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| {
            let table: toml::Table =
                toml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
            let strings = |key: &str| -> Vec<String> {
                table[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect()
            };
            Fixture {
                entry: table["entry"].as_str().unwrap().to_owned(),
                version: table["version"].as_str().unwrap().to_owned(),
                upstream: strings("upstream"),
                node: strings("node"),
                text: table
                    .get("text")
                    .and_then(|t| t.as_table())
                    .map(|t| {
                        t.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

fn shipped() -> toml::Table {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deps.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

/// A `.tar.gz` of `files` under `top/` (long names allowed).
fn tarball(top: &str, files: &[(String, String)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(text.len() as u64);
        builder
            .append_data(&mut header, format!("{top}/{path}"), text.as_bytes())
            .unwrap();
    }
    crate::support::gzip(&builder.into_inner().unwrap())
}

/// A `.zip` of `files`, under `top/` unless it is empty.
fn zip(top: &str, files: &[(String, String)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, text) in files {
        let name = if top.is_empty() {
            path.clone()
        } else {
            format!("{top}/{path}")
        };
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// `{version}`, `{major}`, `{minor}`, `{patch}` of a template.
fn render(template: &str, version: &str) -> String {
    let mut parts = version.split('.').chain(std::iter::repeat("0"));
    let (major, minor, patch) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    template
        .replace("{version}", version)
        .replace("{major}", major)
        .replace("{minor}", minor)
        .replace("{patch}", patch)
}

/// Serves the fixture's upstream through a fake of the entry's kind, and returns the entry
/// pointed at the fakes.
async fn serve(
    server: &MockServer,
    project: &Project,
    fixture: &Fixture,
    dep: &toml::Table,
) -> toml::Table {
    let mut dep = dep.clone();
    let (name, version) = (&fixture.entry, &fixture.version);
    let files = fixture.upstream_files();
    match dep["source"].as_str().unwrap() {
        kind @ ("github-release" | "github-tag") => {
            let repo = dep["repo"].as_str().unwrap().to_owned();
            let template = match dep.get("tag") {
                Some(toml::Value::String(t)) => t.clone(),
                Some(toml::Value::Array(list)) => list[0].as_str().unwrap().to_owned(),
                _ => "v{version}".to_owned(),
            };
            let tag = render(&template, version);
            match dep.get("asset").and_then(|a| a.as_str()) {
                Some(asset) => {
                    let asset = render(asset, version);
                    let archive = if asset.ends_with(".zip") {
                        zip("", &files)
                    } else {
                        let top = repo.rsplit('/').next().unwrap();
                        tarball(&format!("{top}-{version}"), &files)
                    };
                    if dep.contains_key("checksums") {
                        let route = format!("/checksums/{name}/{tag}/checksums.txt");
                        let listing = format!("{}  {asset}\n", sha256(&archive));
                        mount_file(server, &route, listing.into_bytes()).await;
                        dep.insert(
                            "checksums".into(),
                            format!("{}/checksums/{name}/{{tag}}/checksums.txt", server.uri())
                                .into(),
                        );
                    }
                    let route = format!("/assets/{name}/{asset}");
                    mount_file(server, &route, archive).await;
                    let url = format!("{}{route}", server.uri());
                    mount_releases_with_assets(
                        server,
                        &repo,
                        &[(&tag, &[(asset.as_str(), url)][..])],
                    )
                    .await;
                }
                None => {
                    if kind == "github-release" {
                        mount_releases(server, &repo, &[(&tag, false, false)]).await;
                    } else {
                        Mock::given(method("GET"))
                            .and(path_regex(format!("^/repos/{repo}/git/matching-refs/tags")))
                            .respond_with(ResponseTemplate::new(200).set_body_json(json!([
                                {"ref": format!("refs/tags/{tag}"), "object": {"sha": "0".repeat(40), "type": "commit"}}
                            ])))
                            .mount(server)
                            .await;
                    }
                    let top = format!("{}-0000000", repo.replace('/', "-"));
                    // The API names the tag as one path segment (`release%2Fv9.4.2`).
                    let route = format!("/repos/{repo}/tarball/{}", tag.replace('/', "%2F"));
                    mount_file(server, &route, tarball(&top, &files)).await;
                }
            }
        }
        "npm" => {
            let package = dep["package"].as_str().unwrap();
            let archive = tarball("package", &files);
            let url = format!("{}/tarballs/{name}-{version}.tgz", server.uri());
            mount_json(
                server,
                &format!("/npm/{package}"),
                json!({
                    "dist-tags": {"latest": version},
                    "versions": {version.clone(): {"dist": {"tarball": url, "integrity": npm_integrity(&archive)}}}
                }),
            )
            .await;
            mount_file(server, &format!("/tarballs/{name}-{version}.tgz"), archive).await;
        }
        "git" => {
            let upstream = Upstream::new(project, name);
            let files: Vec<(&str, &str)> = files
                .iter()
                .map(|(p, t)| (p.as_str(), t.as_str()))
                .collect();
            upstream.release("pinned", &files);
            dep.insert("url".into(), upstream.url().into());
            dep.insert("version".into(), upstream.rev_parse("HEAD").into());
        }
        "url" => {
            // sqlite's download page: `PRODUCT,3.53.3,2026/sqlite-amalgamation-3530300.zip`.
            let mut parts = version.split('.');
            let number: String = format!(
                "{}{:0>2}{:0>2}00",
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap()
            );
            let page = format!("/pages/{name}");
            mount_file(
                server,
                &page,
                format!("PRODUCT,{version},2026/sqlite-amalgamation-{number}.zip,1,ab\n")
                    .into_bytes(),
            )
            .await;
            let archive = zip(&format!("sqlite-amalgamation-{number}"), &files);
            mount_file(
                server,
                &format!("/sqlite/2026/sqlite-amalgamation-{number}.zip"),
                archive,
            )
            .await;
            dep.insert("url".into(), format!("{}{page}", server.uri()).into());
            dep.insert(
                "archive".into(),
                format!(
                    "{}/sqlite/{{year}}/sqlite-amalgamation-{{number}}.zip",
                    server.uri()
                )
                .into(),
            );
        }
        other => panic!("no fake for the kind `{other}`"),
    }
    dep
}

/// Lays out Node's folder for `fixture` in a fresh project, serves upstream, and runs
/// `verify` on the entry as `dep` (a shipped entry, possibly altered).
async fn verify_entry(
    server: &MockServer,
    fixture: &Fixture,
    dep: &toml::Table,
) -> crate::support::Run {
    let mut project = Project::new();
    project.fake_upstreams(server);
    let dep = serve(server, &project, fixture, dep).await;
    let folder = dep["path"].as_str().unwrap().to_owned();
    for file in &fixture.node {
        project.write(&format!("{folder}/{file}"), &fixture.content(file));
    }
    let mut deps = toml::Table::new();
    deps.insert(fixture.entry.clone(), dep.into());
    let mut registry = toml::Table::new();
    registry.insert("deps".into(), deps.into());
    project.manifest(&toml::to_string(&registry).unwrap());
    // `after` steps run on a checkout of HEAD.
    project.commit_all("Node.js v26.6.0");
    project.run(&["verify", &fixture.entry])
}

fn entry<'a>(registry: &'a toml::Table, name: &str) -> &'a toml::Table {
    registry["deps"][name]
        .as_table()
        .unwrap_or_else(|| panic!("`{name}` is not in the shipped deps.toml"))
}

/// Every shipped entry has a fixture, or a reason in `NOT_COVERED`; never both.
#[test]
fn every_shipped_entry_has_a_fixture_or_a_reason() {
    let registry = shipped();
    let covered: Vec<String> = fixtures().into_iter().map(|f| f.entry).collect();
    for name in registry["deps"].as_table().unwrap().keys() {
        let reason = NOT_COVERED.iter().any(|(n, _)| n == name);
        assert!(
            covered.contains(name) != reason,
            "`{name}`: a fixture in tests/data/node/ or a reason in NOT_COVERED (exactly one)"
        );
    }
    for name in &covered {
        entry(&registry, name);
    }
    for (name, _) in NOT_COVERED {
        entry(&registry, name);
    }
}

/// The fixture's version is the registry's, for every pinned entry.
#[test]
fn the_fixtures_are_at_the_registrys_versions() {
    let registry = shipped();
    for fixture in fixtures() {
        let dep = entry(&registry, &fixture.entry);
        assert_eq!(
            dep["version"].as_str().unwrap(),
            fixture.version,
            "`{}`",
            fixture.entry
        );
    }
}

/// The update of Node v26.6.0's pinned versions reproduces Node's folders: `verify` finds
/// each covered folder exactly what its entry lays out.
#[tokio::test(flavor = "multi_thread")]
async fn every_covered_entry_reproduces_nodes_folder() {
    let server = MockServer::start().await;
    let registry = shipped();
    let mut failures = Vec::new();
    for fixture in fixtures() {
        let run = verify_entry(&server, &fixture, entry(&registry, &fixture.entry)).await;
        if run.code != 0 {
            failures.push(format!(
                "`{}` (exit {}):\n{}{}",
                fixture.entry, run.code, run.stdout, run.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The check can fail: without a Node-owned file in `keep`, or with upstream's whole tree
/// instead of `include`, the same folder is not clean, and `verify` names the files.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_keep_or_a_too_wide_include_fails() {
    let server = MockServer::start().await;
    let registry = shipped();
    let fixture = fixtures()
        .into_iter()
        .find(|f| f.entry == "nghttp2")
        .unwrap();
    let shipped_dep = entry(&registry, "nghttp2");

    let mut dep = shipped_dep.clone();
    dep.insert(
        "keep".into(),
        toml::Value::Array(vec!["nghttp2.gyp".into(), "*.gn".into(), "*.gni".into()]),
    );
    let run = verify_entry(&server, &fixture, &dep).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "deps/nghttp2/lib/includes/config.h: added locally (not upstream, not in `keep`)"
        ),
        "{}",
        run.stdout
    );

    let mut dep = shipped_dep.clone();
    dep.remove("include");
    let run = verify_entry(&server, &fixture, &dep).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("deps/nghttp2/configure.ac: missing locally"),
        "{}",
        run.stdout
    );
}

/// `validate` in a checkout of the pinned release: the version files of the covered folders
/// and Node's version headers in `src/` (their six-line layout) all agree with the registry.
#[test]
fn the_shipped_registry_validates_in_a_checkout_of_its_release() {
    let registry = shipped();
    let project = Project::new();
    project.write(
        "deps.toml",
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deps.toml")).unwrap(),
    );
    for fixture in fixtures() {
        let dep = entry(&registry, &fixture.entry);
        let Some(file) = dep
            .get("version-file")
            .and_then(|v| v.get("path"))
            .and_then(|p| p.as_str())
        else {
            continue;
        };
        let folder = dep["path"].as_str().unwrap();
        project.write(&format!("{folder}/{file}"), &fixture.content(file));
    }
    let version = |name: &str| {
        entry(&registry, name)["version"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (file, macro_name, script, value) in [
        ("acorn", "ACORN", "acorn", version("acorn")),
        ("amaro", "AMARO", "amaro", version("amaro")),
        ("undici", "UNDICI", "undici", version("undici")),
        (
            "cjs_module_lexer",
            "CJS_MODULE_LEXER",
            "cjs-module-lexer",
            version("cjs-module-lexer"),
        ),
        ("base64", "BASE64", "base64", version("base64")),
        (
            "zlib",
            "ZLIB",
            "zlib",
            format!("1.3.2.1-motley-{}", version("zlib")),
        ),
    ] {
        project.write(
            &format!("src/{file}_version.h"),
            &format!(
                "// This is an auto generated file, please do not edit.\n\
                 // Refer to tools/dep_updaters/update-{script}.sh\n\
                 #ifndef SRC_{macro_name}_VERSION_H_\n\
                 #define SRC_{macro_name}_VERSION_H_\n\
                 #define {macro_name}_VERSION \"{value}\"\n\
                 #endif  // SRC_{macro_name}_VERSION_H_\n"
            ),
        );
    }
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("ok (matches deps/brotli/c/common/version.h)"),
        "{}",
        run.stdout
    );
}
