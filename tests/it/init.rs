//! `init`: a registry drafted from vendored folders shaped like Node's `deps/` and a CMake
//! project's `third_party/`.

use wiremock::MockServer;

use crate::support::{Project, blob_id, mount_releases};

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
        (
            "third_party/zlib/CMakeLists.txt",
            "cmake_minimum_required(VERSION 2.4.4...3.15.0)\nproject(zlib C)\n",
        ),
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
    // Upstream's own CMakeLists.txt (zlib's, pcre2's) is not the project's: no `keep`.
    for section in registry
        .split("\n\n")
        .filter(|s| s.starts_with("[deps.zlib]") || s.starts_with("[deps.pcre2]"))
    {
        assert!(!section.contains("keep"), "{registry}");
    }
    // googletest's own headers without its top folder's version: a release to fill in.
    assert!(
        registry.contains("# `googletest` recognised, but its version cannot be read from the tree: fill in `version`, then uncomment"),
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

/// Folders shaped like real vendored copies: flat, amalgamated, coded versions, a version
/// only in the folder's name, code tracked by commit.
#[test]
fn real_layouts_and_version_encodings_are_recognised() {
    let project = Project::new();
    for (path, text) in [
        // llhttp flat: `llhttp.h` at the top, beside its sources.
        (
            "deps/llhttp/llhttp.h",
            "#define LLHTTP_VERSION_MAJOR 9\n#define LLHTTP_VERSION_MINOR 2\n#define LLHTTP_VERSION_PATCH 1\n",
        ),
        ("deps/llhttp/llhttp.c", "int llhttp;\n"),
        ("deps/llhttp/api.c", "int api;\n"),
        // fmt 11: FMT_VERSION is major*10000 + minor*100 + patch.
        (
            "deps/fmt/include/fmt/base.h",
            "#define FMT_VERSION 110002\n",
        ),
        ("deps/fmt/CMakeLists.txt", "project(FMT CXX)\n"),
        // librdkafka: 0xMMmmrrxx.
        (
            "deps/librdkafka/src/rdkafka.h",
            "#define RD_KAFKA_VERSION  0x020f00ff\n",
        ),
        // jemalloc with its version only in the folder's name.
        ("deps/jemalloc-5.3.0/src/jemalloc.c", "int je;\n"),
        ("deps/jemalloc-5.3.0/include/jemalloc/jemalloc.h.in", "\n"),
        (
            "deps/hiredis/hiredis.h",
            "#define HIREDIS_MAJOR 1\n#define HIREDIS_MINOR 2\n#define HIREDIS_PATCH 0\n#define HIREDIS_SONAME 1.1.0\n",
        ),
        // nlohmann/json 3.11: the macros are in `detail/abi_macros.hpp`, not `json.hpp`.
        (
            "deps/json/include/nlohmann/json.hpp",
            "#include <nlohmann/detail/abi_macros.hpp>\n",
        ),
        (
            "deps/json/include/nlohmann/detail/abi_macros.hpp",
            "#if NLOHMANN_JSON_VERSION_MAJOR != 3\n#endif\n#define NLOHMANN_JSON_VERSION_MAJOR 3   // NOLINT\n#define NLOHMANN_JSON_VERSION_MINOR 11  // NOLINT\n#define NLOHMANN_JSON_VERSION_PATCH 3   // NOLINT\n",
        ),
        // googletest: the version only in its top CMakeLists.txt.
        (
            "third_party/googletest/CMakeLists.txt",
            "cmake_minimum_required(VERSION 3.16)\nproject(googletest-distribution)\nset(GOOGLETEST_VERSION 1.15.2)\n",
        ),
        (
            "third_party/googletest/googletest/include/gtest/gtest.h",
            "#define GTEST_INCLUDE_GTEST_GTEST_H_\n",
        ),
        (
            "third_party/googletest/googletest/CMakeLists.txt",
            "project(gtest)\n",
        ),
        // simdutf's amalgamation under `src/simdutf/`.
        (
            "third_party/simdutf/src/simdutf/simdutf.h",
            "#define SIMDUTF_VERSION \"5.6.4\"\n",
        ),
        // linenoise: tracked by commit, no version anywhere.
        ("deps/linenoise/linenoise.c", "int ln;\n"),
        ("deps/linenoise/linenoise.h", "\n"),
    ] {
        project.write(path, text);
    }
    let run = project.run(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("wrote `deps.toml`: 8 dependencies recognised, 1 to fill in"),
        "{}",
        run.stderr
    );
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    for expected in [
        "[deps.llhttp]\npath = \"deps/llhttp\"\nsource = \"github-release\"\nrepo = \"nodejs/llhttp\"\ntag = \"release/v{version}\"\nversion = \"9.2.1\"\nversion-file = { path = \"llhttp.h\"",
        "map = { \"include/llhttp.h\" = \"llhttp.h\"",
        "[deps.fmt]\npath = \"deps/fmt\"\nsource = \"github-release\"\nrepo = \"fmtlib/fmt\"\nversion = \"11.0.2\"\nversion-file = { path = \"include/fmt/base.h\", regex = '#define FMT_VERSION (\\d+)', encoding = \"decimal-100\" }\n",
        "[deps.librdkafka]\npath = \"deps/librdkafka\"\nsource = \"github-release\"\nrepo = \"confluentinc/librdkafka\"\ntag = \"v{version}\"\nversion = \"2.15.0\"\nversion-file = { path = \"src/rdkafka.h\", regex = '#define RD_KAFKA_VERSION\\s+(0x[0-9a-fA-F]{8})', encoding = \"hex\" }\n",
        // The folder's name states the version: `path` names it, and moves with updates.
        "[deps.jemalloc]\npath = \"deps/jemalloc-{version}\"\nsource = \"github-release\"\nrepo = \"jemalloc/jemalloc\"\ntag = \"{version}\"\nversion = \"5.3.0\"\n",
        "[deps.hiredis]\npath = \"deps/hiredis\"\nsource = \"github-release\"\nrepo = \"redis/hiredis\"\ntag = \"v{version}\"\nversion = \"1.2.0\"",
        "[deps.nlohmann_json]\npath = \"deps/json\"\nsource = \"github-release\"\nrepo = \"nlohmann/json\"\nversion = \"3.11.3\"\nversion-file = { path = \"include/nlohmann/detail/abi_macros.hpp\"",
        "[deps.googletest]\npath = \"third_party/googletest\"\nsource = \"github-release\"\nrepo = \"google/googletest\"\ntag = [\"v{version}\", \"release-{version}\"]\nversion = \"1.15.2\"\nversion-file = { path = \"CMakeLists.txt\"",
        "# `simdutf` is vendored as an amalgamation: set `include`/`map`",
        "[deps.simdutf]\npath = \"third_party/simdutf\"",
        "version = \"5.6.4\"",
        "# `linenoise` recognised, but its version cannot be read from the tree: fill in `version` (the vendored commit), then uncomment",
        "# url = \"https://github.com/antirez/linenoise.git\"",
    ] {
        assert!(
            registry.contains(expected),
            "missing {expected:?} in:\n{registry}"
        );
    }
    // Upstream's own build files (fmt's, googletest's) are never proposed as `keep`.
    assert!(!registry.contains("keep"), "{registry}");
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("8 valid, 0 failed"), "{}", run.stderr);
}

/// `keep` names the project's own build files, never upstream's: a project `CMakeLists.txt`
/// in place of zlib's is kept; zstd's own `build/` is not.
#[test]
fn keep_is_the_projects_own_files_only() {
    let project = Project::new();
    for (path, text) in [
        (
            "third_party/zlib/zlib.h",
            "#define ZLIB_VERSION \"1.3.1\"\n",
        ),
        (
            "third_party/zlib/CMakeLists.txt",
            "add_library(zlib_static STATIC adler32.c crc32.c)\n",
        ),
        (
            "third_party/zstd/lib/zstd.h",
            "#define ZSTD_VERSION_MAJOR    1\n#define ZSTD_VERSION_MINOR    5\n#define ZSTD_VERSION_RELEASE  7\n",
        ),
        (
            "third_party/zstd/build/cmake/CMakeLists.txt",
            "project(zstd VERSION 1.5.7 LANGUAGES C ASM)\n",
        ),
        (
            "third_party/zstd/build/cmake/lib/CMakeLists.txt",
            "add_library(libzstd_static STATIC)\n",
        ),
        (
            "third_party/zstd/build/meson/meson.build",
            "project('zstd')\n",
        ),
        ("third_party/zstd/build/README.md", "zstd's build systems\n"),
        ("third_party/zstd/zstd.gyp", "{}\n"),
        // An unknown folder: its build files are named one by one beside upstream's files.
        (
            "third_party/other/build/cmake/CMakeLists.txt",
            "project(other)\n",
        ),
        ("third_party/other/build/README.md", "\n"),
        ("third_party/other/gen/a.gypi", "{}\n"),
    ] {
        project.write(path, text);
    }
    let run = project.run(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    for expected in [
        "# `keep` is a guess from file names (not compared with upstream's tree): check it\nkeep = [\"CMakeLists.txt\"]\n",
        "[deps.zstd]\npath = \"third_party/zstd\"",
        "# `keep` is a guess from file names (not compared with upstream's tree): check it\nkeep = [\"zstd.gyp\"]\n",
        "# keep = [\"build/cmake/CMakeLists.txt\", \"gen/**\"]",
    ] {
        assert!(
            registry.contains(expected),
            "missing {expected:?} in:\n{registry}"
        );
    }
    assert!(!registry.contains("build/**"), "{registry}");
    let zlib = registry.split("[deps.zlib]").nth(1).unwrap();
    assert!(zlib.contains("keep = [\"CMakeLists.txt\"]"), "{registry}");
}

/// `--check` scans where the registry's entries live, and passes once every other folder
/// there is marked `not-vendored`.
#[test]
fn check_uses_the_registrys_paths_and_not_vendored() {
    let project = Project::new();
    for (path, text) in [
        (
            "lib/jansson/src/jansson.h",
            "#define JANSSON_VERSION \"2.14\"\n",
        ),
        ("lib/flb_libco/libco.c", "int co;\n"),
        ("lib/winhttp/winhttp.h", "\n"),
    ] {
        project.write(path, text);
    }
    // Named, `lib/` is drafted: one library, two folders to fill in.
    let run = project.run(&["init", "lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("wrote `deps.toml`: 1 dependency recognised, 2 to fill in"),
        "{}",
        run.stderr
    );
    let entry = "[deps.jansson]\npath = \"lib/jansson\"\nsource = \"github-release\"\nrepo = \"akheron/jansson\"\nversion = \"2.14\"\n";
    project.manifest(entry);
    // None of the default folders is here: the registry's own `lib/` is scanned.
    let run = project.run(&["init", "--check"]);
    assert_eq!(run.code, 1, "{run:?}");
    for expected in [
        "`lib/flb_libco` has no entry in `deps.toml`",
        "`lib/winhttp` has no entry in `deps.toml`",
        "2 vendored folders without an updater",
        "not-vendored",
    ] {
        assert!(run.stderr.contains(expected), "{}", run.stderr);
    }
    assert!(!run.stderr.contains("`lib/jansson`"), "{}", run.stderr);
    project.manifest(&format!(
        "[settings]\nnot-vendored = [\"lib/flb_libco\"]\n\n{entry}"
    ));
    let run = project.run(&["init", "--check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("1 vendored folder without an updater: run `deps-update init` to draft its entry, or list it in `[settings] not-vendored` if it is the project's own"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("lib/flb_libco"), "{}", run.stderr);
    project.manifest(&format!(
        "[settings]\nnot-vendored = [\"lib/flb_libco\", \"lib/winhttp\"]\n\n{entry}"
    ));
    let run = project.run(&["init", "--check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "every vendored folder (3) has an entry in `deps.toml` or is marked `not-vendored`"
        ),
        "{}",
        run.stderr
    );
    // `init` drafts nothing for them either.
    let run = project.run(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    // A folder outside the repository cannot be marked.
    project.manifest(&format!(
        "[settings]\nnot-vendored = [\"../elsewhere\"]\n\n{entry}"
    ));
    let run = project.run(&["init", "--check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("not-vendored"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recognised_folder_is_confirmed_by_content_and_keep_is_exact() {
    let server = MockServer::start().await;
    let version_h = "#pragma once\n#define NGHTTP2_VERSION \"1.64.0\"\n";
    let commit = "c".repeat(40);
    crate::support::mount_json(&server, "/", serde_json::json!({})).await;
    crate::support::mount_json(
        &server,
        "/repos/nghttp2/nghttp2/git/ref/tags/v1.64.0",
        serde_json::json!({"object": {"type": "commit", "sha": commit}}),
    )
    .await;
    crate::support::mount_json(
        &server,
        &format!("/repos/nghttp2/nghttp2/git/trees/{commit}"),
        serde_json::json!({"truncated": false, "tree": [
            {"path": "lib/includes/nghttp2/nghttp2ver.h", "type": "blob", "sha": blob_id(version_h)},
            {"path": "lib/nghttp2_buf.c", "type": "blob", "sha": blob_id("buf\n")},
            {"path": "lib/nghttp2_map.c", "type": "blob", "sha": blob_id("map\n")},
            {"path": "lib/CMakeLists.txt", "type": "blob", "sha": blob_id("cmake\n")},
        ]}),
    )
    .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project
        .write("deps/nghttp2/lib/includes/nghttp2/nghttp2ver.h", version_h)
        .write("deps/nghttp2/lib/nghttp2_buf.c", "buf\n")
        .write("deps/nghttp2/lib/nghttp2_map.c", "map /* a local fix */\n")
        // The project's own build files, and one named like upstream's that upstream ships.
        .write("deps/nghttp2/nghttp2.gyp", "{}\n")
        .write("deps/nghttp2/BUILD.gn", "gn\n")
        .write("deps/nghttp2/lib/CMakeLists.txt", "cmake\n");
    let run = project.run(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("`deps/nghttp2`: 3 of 6 files identical to `v1.64.0`; 1 differ; 2 only here"),
        "{}",
        run.stderr
    );
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    assert!(
        registry.contains(
            "# `keep`: the files upstream's tree does not have (3 of 6 files identical to `v1.64.0`; 1 differ; 2 only here)\nkeep = [\"BUILD.gn\", \"nghttp2.gyp\"]"
        ),
        "{registry}"
    );

    // Offline, the tree alone speaks, and the run says so.
    let offline = Project::new();
    offline
        .write("deps/nghttp2/lib/includes/nghttp2/nghttp2ver.h", version_h)
        .write("deps/nghttp2/nghttp2.gyp", "{}\n");
    let run = offline.run(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("warning: GitHub cannot be reached: the drafts say what the tree states, and `keep` is a guess"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_that_states_no_version_is_pinned_to_the_closest_tag() {
    let server = MockServer::start().await;
    let repo = "HdrHistogram/HdrHistogram_c";
    crate::support::mount_json(&server, "/", serde_json::json!({})).await;
    crate::support::mount_tags(
        &server,
        repo,
        "v",
        &["v0.11.7", "v0.11.8", "v0.11.9", "v0.9.0"],
    )
    .await;
    let trees = [
        ("v0.11.7", "c1", "histogram 0.11.7\n"),
        ("v0.11.8", "c2", "histogram 0.11.8\n"),
        ("v0.11.9", "c3", "histogram 0.11.9\n"),
    ];
    for (tag, commit, text) in trees {
        let commit = commit.repeat(20);
        crate::support::mount_json(
            &server,
            &format!("/repos/{repo}/git/ref/tags/{tag}"),
            serde_json::json!({"object": {"type": "commit", "sha": commit}}),
        )
        .await;
        crate::support::mount_json(
            &server,
            &format!("/repos/{repo}/git/trees/{commit}"),
            serde_json::json!({"truncated": false, "tree": [
                {"path": "src/hdr_histogram.c", "type": "blob", "sha": blob_id(text)},
                {"path": "src/hdr_histogram.h", "type": "blob", "sha": blob_id("header\n")},
            ]}),
        )
        .await;
    }
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project
        .write("deps/histogram/hdr_histogram.c", "histogram 0.11.8\n")
        .write("deps/histogram/hdr_histogram.h", "header\n")
        .write("deps/histogram/histogram.gyp", "{}\n");
    let run = project.run(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "`deps/histogram`: 2 of 3 files identical to `v0.11.8`; 0 differ; 1 only here"
        ),
        "{}",
        run.stderr
    );
    let registry = std::fs::read_to_string(project.root().join("deps.toml")).unwrap();
    assert!(registry.contains("version = \"0.11.8\""), "{registry}");
    assert!(
        registry.contains("keep = [\"histogram.gyp\"]"),
        "{registry}"
    );
}
