//! `scripts/demo.sh`, the newcomer's offline tour, keeps working.

use crate::support::Project;

#[test]
fn the_offline_demo_runs() {
    let project = Project::new();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/demo.sh");
    let output = std::process::Command::new("bash")
        .arg(&script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", project.scratch("home"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("TMPDIR", project.scratch("tmp"))
        .env("DEPS_UPDATE", assert_cmd::cargo::cargo_bin!("deps-update"))
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "libfoo  1.0.0    1.2.0   update available",
        "--- a/deps/libfoo/README\n+++ /dev/null\n",
        "libfoo  1.0.0  1.2.0  committed ",
        "Kept local files: libfoo.gyp",
        "+version = \"1.2.0\"  # deps-update rewrites this line, and keeps this comment",
        "?? notes.txt\nmain\n",
    ] {
        assert!(
            stdout.contains(expected),
            "expected {expected:?} in:\n{stdout}"
        );
    }
    assert_eq!(
        std::fs::read_dir(project.scratch("tmp")).unwrap().count(),
        0,
        "the demo cleans up"
    );
}
