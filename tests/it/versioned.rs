//! Real layouts: a folder whose name carries the version, files outside the folder that name
//! it (`references`), versions spelled as numbers, a flattened `src/`, and the line a
//! version-file regex nearly matched.

use crate::support::{Project, Upstream};

fn show(project: &Project, rev: &str, path: &str) -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["show", &format!("{rev}:{path}")])
        .current_dir(project.root())
        .stderr(std::process::Stdio::null())
        .output()
        .unwrap();
    output
        .status
        .success()
        .then(|| String::from_utf8(output.stdout).unwrap())
}

fn ares_h(version: &str) -> String {
    format!("#ifndef ARES_VERSION_H\n#define ARES_VERSION_STR \"{version}\"\n#endif\n")
}

#[test]
fn a_versioned_folder_moves_with_its_references_in_one_commit() {
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "c-ares");
    upstream.release(
        "v1.34.6",
        &[
            ("include/ares_version.h", &ares_h("1.34.6")),
            ("src/ares.c", "/* 1.34.6 */\n"),
        ],
    );
    upstream.release(
        "v1.34.8",
        &[
            ("include/ares_version.h", &ares_h("1.34.8")),
            ("src/ares.c", "/* 1.34.8 */\n"),
        ],
    );
    project
        .manifest(&format!(
            "[deps.c-ares]\npath = \"lib/c-ares-{{version}}\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.34.6\"\n\
             version-file = {{ path = \"include/ares_version.h\", regex = 'ARES_VERSION_STR\\s+\"([^\"]+)\"' }}\n\
             references = [\n  {{ path = \"cmake/libraries.cmake\", regex = 'lib/c-ares-([0-9.]+)' }},\n  \
             {{ path = \"src/cares_version.h\", regex = '#define CARES_VERSION \"([^\"]+)\"' }},\n]\n",
            upstream.url()
        ))
        .write("lib/c-ares-1.34.6/include/ares_version.h", &ares_h("1.34.6"))
        .write("lib/c-ares-1.34.6/src/ares.c", "/* 1.34.6 */\n")
        .write("lib/c-ares-1.34.6/CMakeLists.txt", "# the project's own build\n")
        .write(
            "cmake/libraries.cmake",
            "set(CARES_DIR lib/c-ares-1.34.6)\nadd_subdirectory(lib/c-ares-1.34.6)\n",
        )
        .write("src/cares_version.h", "#define CARES_VERSION \"1.34.6\"\n");
    project.commit_all("vendor c-ares 1.34.6");

    let validate = project.run(&["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");
    let check = project.run(&["check", "--json"]);
    assert_eq!(check.code, 0, "{check:?}");
    assert_eq!(check.json()[0]["current"], "1.34.6");

    let run = project.run(&["update", "c-ares"]);
    assert_eq!(run.code, 0, "{run:?}");
    let branch = "deps-update/c-ares";
    assert_eq!(
        show(&project, branch, "lib/c-ares-1.34.8/src/ares.c").as_deref(),
        Some("/* 1.34.8 */\n")
    );
    // The project's own build file moved with the folder; the old folder is gone.
    assert_eq!(
        show(&project, branch, "lib/c-ares-1.34.8/CMakeLists.txt").as_deref(),
        Some("# the project's own build\n")
    );
    assert_eq!(show(&project, branch, "lib/c-ares-1.34.6/src/ares.c"), None);
    assert_eq!(
        show(&project, branch, "cmake/libraries.cmake").as_deref(),
        Some("set(CARES_DIR lib/c-ares-1.34.8)\nadd_subdirectory(lib/c-ares-1.34.8)\n")
    );
    assert_eq!(
        show(&project, branch, "src/cares_version.h").as_deref(),
        Some("#define CARES_VERSION \"1.34.8\"\n")
    );
    let registry = show(&project, branch, "deps.toml").unwrap();
    assert!(
        registry.contains("path = \"lib/c-ares-{version}\"")
            && registry.contains("version = \"1.34.8\""),
        "{registry}"
    );
    // One commit holds it all.
    assert_eq!(
        project.git(&["rev-list", "--count", &format!("main..{branch}")]),
        "1"
    );

    // Merged, the new folder is where every command looks.
    project.git(&["merge", "-q", "--ff-only", branch]);
    let validate = project.run(&["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");
    assert!(validate.stdout.contains("1.34.8"), "{}", validate.stdout);
}

#[test]
fn a_reference_that_disagrees_is_reported_by_validate_and_check() {
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "zlib");
    upstream.release("v1.3.1", &[("zlib.h", "#define ZLIB_VERSION \"1.3.1\"\n")]);
    project
        .manifest(&format!(
            "[deps.zlib]\npath = \"deps/zlib\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.3.1\"\n\
             references = [{{ path = \"src/zlib_version.h\", regex = '#define ZLIB_VERSION \"([^\"]+)\"' }}]\n",
            upstream.url()
        ))
        .write("deps/zlib/zlib.h", "#define ZLIB_VERSION \"1.3.1\"\n")
        .write("src/zlib_version.h", "#define ZLIB_VERSION \"1.2.13\"\n");
    project.commit_all("vendor zlib");

    let validate = project.run(&["validate"]);
    assert_eq!(validate.code, 1, "{validate:?}");
    assert!(
        validate
            .stderr
            .contains("error: `zlib`: the reference `src/zlib_version.h` names 1.2.13, not 1.3.1"),
        "{}",
        validate.stderr
    );
    let check = project.run(&["check", "--json"]);
    assert_eq!(check.code, 0, "{check:?}");
    assert_eq!(
        check.json()[0]["note"],
        "the reference `src/zlib_version.h` names 1.2.13, not 1.3.1"
    );
}

#[test]
fn coded_and_hex_versions_are_read() {
    let project = Project::new();
    project
        .manifest(
            "[deps.fmt]\npath = \"deps/fmt\"\nsource = \"github-release\"\nrepo = \"fmtlib/fmt\"\nversion = \"11.0.2\"\n\
             version-file = { path = \"include/fmt/base.h\", regex = '#define FMT_VERSION (\\d+)', encoding = \"decimal-100\" }\n\n\
             [deps.rdkafka]\npath = \"deps/librdkafka\"\nsource = \"github-release\"\nrepo = \"confluentinc/librdkafka\"\nversion = \"2.15.0\"\n\
             version-file = { path = \"src/rdkafka.h\", regex = '#define RD_KAFKA_VERSION\\s+(0x[0-9a-fA-F]+)', encoding = \"hex\" }\n\n\
             [deps.sqlite]\npath = \"deps/sqlite\"\nsource = \"url\"\nurl = \"https://sqlite.org/download.html\"\n\
             regex = 'PRODUCT,(?P<version>[0-9.]+)'\narchive = \"https://sqlite.org/sqlite-{version}.zip\"\nversion = \"3.50.4\"\n\
             version-file = { path = \"sqlite3.h\", regex = '#define SQLITE_VERSION_NUMBER (\\d+)', encoding = \"decimal-1000\" }\n",
        )
        .write("deps/fmt/include/fmt/base.h", "#define FMT_VERSION 110002  // 11.0.2\n")
        .write("deps/librdkafka/src/rdkafka.h", "#define RD_KAFKA_VERSION  0x020f00ff\n")
        .write("deps/sqlite/sqlite3.h", "#define SQLITE_VERSION_NUMBER 3050004\n");
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 0, "{run:?}");
    for (name, version) in [
        ("fmt", "11.0.2"),
        ("rdkafka", "2.15.0"),
        ("sqlite", "3.50.4"),
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(name) && l.contains(version)),
            "{name} {version}: {}",
            run.stdout
        );
    }

    // The file says another number: the decoded version is what disagrees.
    project.write(
        "deps/fmt/include/fmt/base.h",
        "#define FMT_VERSION 110100\n",
    );
    let run = project.run(&["validate", "fmt"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("11.1.0"), "{}", run.stderr);

    // An unknown encoding is a registry error naming the ones there are.
    let registry = std::fs::read_to_string(project.root().join("deps.toml"))
        .unwrap()
        .replace("decimal-100", "coded");
    project.write("deps.toml", &registry);
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "expected one of `text`, `decimal-100`, `decimal-1000`, `hex`, found `coded`"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_regex_that_nearly_matches_shows_the_line() {
    let project = Project::new();
    project
        .manifest(
            "[deps.c-ares]\npath = \"deps/cares\"\nsource = \"github-release\"\nrepo = \"c-ares/c-ares\"\nversion = \"1.34.7\"\n\
             version-file = { path = \"include/ares_version.h\", regex = '#define ARES_VERSION_STR \"([^\"]+)\"' }\n",
        )
        .write(
            "deps/cares/include/ares_version.h",
            "#ifndef ARES__VERSION_H\n#define ARES_VERSION_MAJOR 1\n#define ARES_VERSION_STR   \"1.34.7\"\n#endif\n",
        );
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "matches nothing in `deps/cares/include/ares_version.h`; the nearest line is 3: `#define ARES_VERSION_STR   \"1.34.7\"`"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: the file changed its spelling"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_upstream_folder_maps_onto_the_root() {
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "hdr");
    upstream.release(
        "v0.11.8",
        &[
            ("src/hdr_histogram.c", "/* 0.11.8 */\n"),
            ("src/hdr_histogram.h", "h\n"),
            ("README.md", "r\n"),
        ],
    );
    upstream.release(
        "v0.11.9",
        &[
            ("src/hdr_histogram.c", "/* 0.11.9 */\n"),
            ("src/hdr_time.c", "new\n"),
        ],
    );
    project
        .manifest(&format!(
            "[deps.hdr]\npath = \"deps/hdr_histogram\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"0.11.8\"\n\
             include = [\"src/**\"]\nmap = {{ \"src\" = \".\" }}\n",
            upstream.url()
        ))
        .write("deps/hdr_histogram/hdr_histogram.c", "/* 0.11.8 */\n")
        .write("deps/hdr_histogram/hdr_histogram.h", "h\n");
    project.commit_all("vendor hdr_histogram flattened");
    let run = project.run(&["update", "hdr"]);
    assert_eq!(run.code, 0, "{run:?}");
    let branch = "deps-update/hdr";
    assert_eq!(
        show(&project, branch, "deps/hdr_histogram/hdr_histogram.c").as_deref(),
        Some("/* 0.11.9 */\n")
    );
    // A new upstream file lands flat too.
    assert_eq!(
        show(&project, branch, "deps/hdr_histogram/hdr_time.c").as_deref(),
        Some("new\n")
    );
    assert_eq!(
        show(&project, branch, "deps/hdr_histogram/src/hdr_time.c"),
        None
    );
}
