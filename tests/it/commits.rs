//! Branches with several commits: `after` steps with commits of their own, and groups whose
//! members fail together. Upstreams are local git repositories.

use crate::support::{Project, Upstream};

fn log(project: &Project, range: &str) -> Vec<String> {
    project
        .git(&["log", "--format=%s", range])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_regenerate_step_gets_its_own_commit_and_an_idle_one_none() {
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "openssl");
    upstream.release("openssl-3.5.0", &[("crypto/aes.c", "// 3.5.0\n")]);
    upstream.release("openssl-3.5.1", &[("crypto/aes.c", "// 3.5.1\n")]);
    project
        .manifest(&format!(
            "[deps.openssl]\npath = \"deps/openssl/openssl\"\nsource = \"git\"\nurl = \"{}\"\n\
             tag = \"openssl-{{version}}\"\nversion = \"3.5.0\"\n\
             after = [\n  \"echo $DEPS_UPDATE_NEW_VERSION > deps/openssl/VERSION\",\n  \
             {{ run = \"mkdir -p deps/openssl/config/archs && echo $DEPS_UPDATE_NEW_VERSION > deps/openssl/config/archs/gen.h\", \
             commit = \"deps: update archs files for openssl-{{version}}\" }},\n  \
             \"echo formatted >> deps/openssl/config/archs/gen.h\",\n  \
             {{ run = \"true\", commit = \"deps: nothing to regenerate for {{name}}\" }},\n]\n\
             after-writes = [\"deps/openssl/VERSION\", \"deps/openssl/config/**\"]\n",
            upstream.url()
        ))
        .write("deps/openssl/openssl/crypto/aes.c", "// 3.5.0\n")
        .write("deps/openssl/VERSION", "3.5.0\n")
        .write("deps/openssl/config/archs/gen.h", "3.5.0\n");
    project.commit_all("vendor openssl 3.5.0");
    let before = project.checkout_state();

    let run = project.run(&["update", "openssl"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        log(&project, "main..deps-update/openssl"),
        [
            "deps: update archs files for openssl-3.5.1",
            "deps: update openssl to 3.5.1"
        ]
    );
    // Upstream code and the plain step's file in the first commit, generated files apart.
    let changed =
        |commit: &str| project.git(&["diff-tree", "--no-commit-id", "--name-only", "-r", commit]);
    assert_eq!(
        changed("deps-update/openssl~1"),
        "deps.toml\ndeps/openssl/VERSION\ndeps/openssl/openssl/crypto/aes.c"
    );
    assert_eq!(
        changed("deps-update/openssl"),
        "deps/openssl/config/archs/gen.h"
    );
    assert_eq!(
        project.git(&[
            "show",
            "deps-update/openssl:deps/openssl/config/archs/gen.h"
        ]),
        "3.5.1\nformatted"
    );
    let message = project.git(&["log", "-1", "--format=%B", "deps-update/openssl"]);
    assert!(
        message.contains("Regenerated after updating openssl to 3.5.1, by:\n- mkdir -p")
            && message.contains("- echo formatted >> deps/openssl/config/archs/gen.h\n"),
        "{message}"
    );
    assert_eq!(
        project.checkout_state().lines().next(),
        before.lines().next()
    );

    // A second run finds both commits' trees in place and moves nothing.
    let tip = project.git(&["rev-parse", "deps-update/openssl"]);
    let again = project.run(&["update", "openssl"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again.stdout.contains("already on deps-update/openssl"),
        "{again:?}"
    );
    assert_eq!(project.git(&["rev-parse", "deps-update/openssl"]), tip);
}

/// ngtcp2 and nghttp3 in one group, with `extra` added to nghttp3's table.
fn quic_group(extra: &str) -> Project {
    let mut project = Project::new();
    let mut manifest = String::new();
    for name in ["ngtcp2", "nghttp3"] {
        let upstream = Upstream::new(&project, name);
        upstream.release("v1.0.0", &[("lib/core.c", "// 1.0.0\n")]);
        upstream.release("v1.1.0", &[("lib/core.c", "// 1.1.0\n")]);
        manifest.push_str(&format!(
            "[deps.{name}]\npath = \"deps/{name}\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.0.0\"\ngroup = \"quic\"\n{}\n",
            upstream.url(),
            if name == "nghttp3" { extra } else { "" }
        ));
        project.write(&format!("deps/{name}/lib/core.c"), "// 1.0.0\n");
    }
    project.manifest(&manifest);
    project.commit_all("vendor the QUIC libraries");
    project
}

#[test]
fn a_group_member_failing_commits_nothing_for_the_group() {
    let project = quic_group("after = [\"echo broken build >&2; exit 3\"]\n");
    let before = project.checkout_state();
    let run = project.run(&["update", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: `ngtcp2`: not committed: `nghttp3`, in the same group `quic`, failed (see its error)\n\
             hint: a group's members are committed and published together"
        ),
        "{run:?}"
    );
    assert!(
        run.stderr.contains(
            "error: `nghttp3`: the `after` command `echo broken build >&2; exit 3` failed"
        ),
        "{run:?}"
    );
    assert_eq!(project.checkout_state(), before, "no branch, nothing moved");

    let listed = project.run(&["list", "--json"]);
    assert_eq!(listed.json()[1]["group"], "quic");
    let table = project.run(&["list"]);
    assert!(
        table.stdout.lines().next().unwrap().ends_with("GROUP"),
        "{table:?}"
    );
}

#[test]
fn a_group_with_every_member_working_shares_one_branch() {
    let project = quic_group("");
    let run = project.run(&["update", "nghttp3"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        log(&project, "main..deps-update/quic"),
        [
            "deps: update nghttp3 to 1.1.0",
            "deps: update ngtcp2 to 1.1.0"
        ]
    );
    assert!(
        project
            .git(&[
                "branch",
                "--list",
                "deps-update/ngtcp2",
                "deps-update/nghttp3"
            ])
            .is_empty()
    );
    let check = project.run(&["check", "--json"]);
    assert_eq!(check.json()[0]["group"], "quic");
}
