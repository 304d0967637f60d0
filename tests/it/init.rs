//! `init`: a registry drafted from vendored folders shaped like Node's `deps/` and a CMake
//! project's `third_party/`.

use wiremock::MockServer;

use crate::support::{Project, mount_releases};

/// Writes the catalog's version files (real contents) and the project's build files.
fn node_like(project: &Project) {
    for (path, text) in [
        (
            "deps/nghttp2/lib/includes/nghttp2/nghttp2ver.h",
            "#pragma once\n#define NGHTTP2_VERSION \"1.64.0\"\n",
        ),
        ("deps/nghttp2/nghttp2.gyp", "{}\n"),
        (
            "deps/ngtcp2/ngtcp2/lib/includes/ngtcp2/version.h",
            "#define NGTCP2_VERSION \"1.9.1\"\n",
        ),
        (
            "deps/ngtcp2/nghttp3/lib/includes/nghttp3/version.h",
            "#define NGHTTP3_VERSION \"1.6.0\"\n",
        ),
        ("deps/ngtcp2/ngtcp2.gyp", "{}\n"),
        (
            "deps/cares/include/ares_version.h",
            "#define ARES_VERSION_STR \"1.34.5\"\n",
        ),
        ("deps/cares/cares.gyp", "{}\n"),
        (
            "deps/uv/include/uv/version.h",
            "#define UV_VERSION_MAJOR 1\n#define UV_VERSION_MINOR 51\n#define UV_VERSION_PATCH 0\n",
        ),
        ("deps/uv/uv.gyp", "{}\n"),
        (
            "deps/llhttp/include/llhttp.h",
            "#define LLHTTP_VERSION_MAJOR 9\n#define LLHTTP_VERSION_MINOR 3\n#define LLHTTP_VERSION_PATCH 0\n",
        ),
        ("deps/ada/ada.h", "#define ADA_VERSION \"3.2.4\"\n"),
        (
            "deps/simdutf/simdutf.h",
            "#define SIMDUTF_VERSION \"6.4.0\"\n",
        ),
        (
            "deps/zstd/lib/zstd.h",
            "#define ZSTD_VERSION_MAJOR    1\n#define ZSTD_VERSION_MINOR    5\n#define ZSTD_VERSION_RELEASE  7\n",
        ),
        (
            "deps/icu-small/source/common/unicode/uvernum.h",
            "#define U_ICU_VERSION \"77.1\"\n",
        ),
        (
            "deps/openssl/openssl/VERSION.dat",
            "MAJOR=3\nMINOR=5\nPATCH=1\n",
        ),
        ("deps/openssl/openssl.gyp", "{}\n"),
        (
            "deps/openssl/config/archs/linux-x86_64/openssl.gypi",
            "{}\n",
        ),
        (
            "deps/sqlite/sqlite3.h",
            "#define SQLITE_VERSION        \"3.50.4\"\n",
        ),
        (
            "deps/zlib/zlib.h",
            "#define ZLIB_VERSION \"1.3.0.1-motley\"\n",
        ),
        (
            "deps/acorn/acorn/package.json",
            "{\"name\": \"acorn\", \"version\": \"8.14.0\"}\n",
        ),
        (
            "deps/undici/src/package.json",
            "{\"name\": \"undici\", \"version\": \"7.16.0\"}\n",
        ),
        ("deps/mystery/mystery.c", "int mystery;\n"),
        ("deps/mystery/BUILD.gn", "# ours\n"),
    ] {
        project.write(path, text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_like_deps_folder_becomes_a_working_registry() {
    let mut project = Project::new();
    node_like(&project);
    let run = project.run(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("wrote `deps.toml`: 14 dependencies recognised, 2 to fill in"),
        "{}",
        run.stderr
    );
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    for expected in [
        "[deps.nghttp2]\npath = \"deps/nghttp2\"\nsource = \"github-release\"\nrepo = \"nghttp2/nghttp2\"\nversion = \"1.64.0\"\n",
        "[deps.libuv]\npath = \"deps/uv\"\nsource = \"github-tag\"\nrepo = \"libuv/libuv\"\ntag = \"v{version}\"\nversion = \"1.51.0\"\n",
        "[deps.ngtcp2]\npath = \"deps/ngtcp2/ngtcp2\"",
        "[deps.nghttp3]\npath = \"deps/ngtcp2/nghttp3\"",
        "[deps.openssl]\npath = \"deps/openssl/openssl\"",
        "[deps.icu]\npath = \"deps/icu-small\"",
        "[deps.acorn]\npath = \"deps/acorn/acorn\"\nsource = \"npm\"\npackage = \"acorn\"\nversion = \"8.14.0\"\n",
        "version-file = { path = \"src/package.json\"",
        "keep = [\"nghttp2.gyp\"]",
        "keep = [\"uv.gyp\"]",
        "# `deps/mystery` matches no library deps-update knows",
        "# keep = [\"BUILD.gn\"]",
        // Chromium's zlib, not madler's: a tracked branch whose commit is to fill in.
        "# url = \"https://chromium.googlesource.com/chromium/src/third_party/zlib\"",
    ] {
        assert!(
            registry.contains(expected),
            "missing {expected:?} in:\n{registry}"
        );
    }
    // The drafted registry is valid as written, and checks against upstreams.
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("14 valid, 0 failed"), "{}", run.stderr);
    let server = MockServer::start().await;
    mount_releases(&server, "nghttp2/nghttp2", &[("v1.65.0", false, false)]).await;
    project.fake_upstreams(&server);
    let run = project.run(&["check", "nghttp2", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()[0]["latest"], "1.65.0");

    // A new vendored folder without an updater: `--check` fails, naming it; `init` drafts its
    // entry without touching the registry.
    project.commit_all("registry");
    project.write("deps/lz4/lib/lz4.h", "#define LZ4_VERSION_MAJOR    1\n#define LZ4_VERSION_MINOR   10\n#define LZ4_VERSION_RELEASE  0\n");
    let run = project.run(&["init", "--check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("`deps/lz4` has no entry in `deps.toml`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`deps/mystery` has no entry"),
        "{}",
        run.stderr
    );
    let before = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    let run = project.run(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("[deps.lz4]\npath = \"deps/lz4\""),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("[deps.nghttp2]"), "{}", run.stdout);
    assert_eq!(
        std::fs::read_to_string(project.root().join("deps.toml")).unwrap(),
        before
    );
}

#[test]
fn a_cmake_third_party_folder() {
    let project = Project::new();
    for (path, text) in [
        (
            "third_party/zlib/zlib.h",
            "#define ZLIB_VERSION \"1.3.1\"\n",
        ),
        ("third_party/zlib/CMakeLists.txt", "# upstream's own\n"),
        (
            "third_party/json/include/nlohmann/json.hpp",
            "#define NLOHMANN_JSON_VERSION_MAJOR 3\n#define NLOHMANN_JSON_VERSION_MINOR 11\n#define NLOHMANN_JSON_VERSION_PATCH 3\n",
        ),
        (
            "third_party/spdlog/include/spdlog/version.h",
            "#define SPDLOG_VER_MAJOR 1\n#define SPDLOG_VER_MINOR 15\n#define SPDLOG_VER_PATCH 0\n",
        ),
        (
            "third_party/mylib-wrapper/CMakeLists.txt",
            "add_library(x)\n",
        ),
        (
            "third_party/googletest/googletest/include/gtest/gtest.h",
            "#ifndef GTEST_INCLUDE_GTEST_GTEST_H_\n#define GTEST_INCLUDE_GTEST_GTEST_H_\n",
        ),
        (
            "third_party/pcre2/src/pcre2.h",
            "#define PCRE2_MAJOR           10\n#define PCRE2_MINOR           44\n",
        ),
        ("third_party/pcre2/CMakeLists.txt", "# upstream's own\n"),
    ] {
        project.write(path, text);
    }
    let run = project.run(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    assert!(
        registry.contains("[deps.zlib]\npath = \"third_party/zlib\""),
        "{registry}"
    );
    assert!(
        registry.contains("[deps.nlohmann_json]\npath = \"third_party/json\""),
        "{registry}"
    );
    assert!(registry.contains("[deps.pcre2]"), "{registry}");
    // Upstream's own CMakeLists.txt is not the project's: no `keep` for it.
    assert!(
        !registry.contains("keep = [\"CMakeLists.txt\"]\n\n[deps.nlohmann_json]"),
        "{registry}"
    );
    assert!(
        registry.contains("# `googletest` recognised, but its version cannot be read from the tree: fill in `version` (the vendored commit)"),
        "{registry}"
    );
    assert!(
        registry.contains("# `third_party/mylib-wrapper` matches no library"),
        "{registry}"
    );
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("4 valid, 0 failed"), "{}", run.stderr);
}
