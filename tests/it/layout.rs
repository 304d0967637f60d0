//! Layout keys: `map` moves upstream folders (googletest's layout in Node, with no `after`
//! shell), and a map that would put two files in one place is refused.

use std::path::Path;

use wiremock::MockServer;

use crate::support::{Entry, Project, git, mount_file, mount_tags, tar_gz};

/// A googletest-like upstream on branch `main`, as a bare repository; returns its URL and the
/// head commit.
fn googletest_upstream(project: &Project) -> (String, String) {
    let work = project.scratch("googletest-work");
    git(&work, &["init", "-q", "-b", "main"]);
    for (file, text) in [
        ("googletest/include/gtest/gtest.h", "// gtest.h v2\n"),
        ("googletest/src/gtest.cc", "// gtest.cc v2\n"),
        ("googletest/src/gtest-all.cc", "// all\n"),
        ("googletest/CMakeLists.txt", "# cmake\n"),
        ("googlemock/src/gmock.cc", "// gmock\n"),
        ("LICENSE", "BSD-3-Clause\n"),
    ] {
        let path = work.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "v2"]);
    let head = git(&work, &["rev-parse", "HEAD"]);
    let bare = project.scratch("googletest.git");
    git(
        Path::new("."),
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    (format!("file://{}", bare.display()), head)
}

#[test]
fn map_lays_out_googletest_as_node_does() {
    let mut project = Project::new();
    let (url, head) = googletest_upstream(&project);
    project
        .manifest(&format!(
            "[deps.googletest]\npath = \"deps/googletest\"\nsource = \"git\"\nurl = \"{url}\"\n\
             branch = \"main\"\nversion = \"0123456789abcdef\"\n\
             include = [\"LICENSE\", \"googletest/include\", \"googletest/src\"]\n\
             map = {{ \"googletest/include\" = \"include\", \"googletest/src\" = \"src\" }}\n\
             keep = [\"googletest.gyp\"]\n"
        ))
        .write(
            "deps/googletest/googletest.gyp",
            "{ 'sources': ['src/gtest.cc'] }\n",
        )
        .write("deps/googletest/include/gtest/gtest.h", "// gtest.h v1\n")
        .write("deps/googletest/src/gtest.cc", "// gtest.cc v1\n")
        .write("deps/googletest/src/gtest-old.cc", "// removed upstream\n")
        .write("deps/googletest/LICENSE", "BSD-3-Clause\n");
    project.commit_all("initial");

    let run = project.run(&["update", "--dry-run", "googletest"]);
    assert_eq!(run.code, 0, "{run:?}");
    for expected in [
        "  M include/gtest/gtest.h  +1 -1\n",
        "  A src/gtest-all.cc       +1 -0\n",
        "  D src/gtest-old.cc       +0 -1\n",
    ] {
        assert!(
            run.stdout.contains(expected),
            "expected {expected:?} in:\n{}",
            run.stdout
        );
    }

    let run = project.run(&["googletest"]);
    assert_eq!(run.code, 0, "{run:?}");
    let files = project.git(&[
        "ls-tree",
        "-r",
        "--name-only",
        "deps-update/googletest",
        "deps/googletest",
    ]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        [
            "deps/googletest/LICENSE",
            "deps/googletest/googletest.gyp",
            "deps/googletest/include/gtest/gtest.h",
            "deps/googletest/src/gtest-all.cc",
            "deps/googletest/src/gtest.cc",
        ]
    );
    let registry = project.git(&["show", "deps-update/googletest:deps.toml"]);
    assert!(
        registry.contains(&format!("version = \"{head}\"")),
        "{registry}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_map_that_puts_two_files_in_one_place_is_refused() {
    let server = MockServer::start().await;
    mount_tags(&server, "acme/lib", "", &["v2.0.0"]).await;
    mount_file(
        &server,
        "/repos/acme/lib/tarball/v2.0.0",
        tar_gz(&[
            Entry::File("acme-lib-abc/include/lib.h", b"// top-level header\n"),
            Entry::File(
                "acme-lib-abc/lib/include/lib.h",
                b"// the library's header\n",
            ),
        ]),
    )
    .await;
    let mut project = Project::new();
    project.fake_upstreams(&server);
    project
        .manifest(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"github-tag\"\nrepo = \"acme/lib\"\n\
             version = \"1.0.0\"\nmap = { \"lib/include\" = \"include\" }\n",
        )
        .write("deps/lib/include/lib.h", "// 1.0.0\n");
    project.commit_all("initial");
    let before = project.checkout_state();
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: `lib`: `map` puts two upstream files at `include/lib.h`: `acme-lib-abc/include/lib.h` and `acme-lib-abc/lib/include/lib.h`\n\
             hint: map the folders elsewhere, or `exclude` one of the two files"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(project.checkout_state(), before);
}
