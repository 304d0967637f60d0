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
        run.stderr.starts_with("error: deps.toml:6:1: dependency `nghttp2`: `sha265`: unknown field `sha265`, expected one of"),
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
fn unknown_names_are_a_usage_error_listing_known_ones() {
    let project = Project::new();
    project.manifest(
        &[
            github_dep("nghttp2", "github-release", "nghttp2/nghttp2", "1.64.0", ""),
            github_dep("ngtcp2", "github-release", "ngtcp2/ngtcp2", "1.11.0", ""),
        ]
        .concat(),
    );
    let run = project.run(&["check", "nghttp3"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        "error: no dependency named `nghttp3` in the registry\nhint: known dependencies: nghttp2, ngtcp2\n"
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
            {"name": "nghttp2", "path": "deps/nghttp2", "source": "github-release", "upstream": "nghttp2/nghttp2", "version": "1.64.0"},
            {"name": "googletest", "path": "deps/googletest", "source": "git", "upstream": "https://github.com/google/googletest.git",
             "branch": "main", "version": "7260682388d493f155be62c3ce2efc7c7a9a3dcf"}
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
    for expected in [
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
