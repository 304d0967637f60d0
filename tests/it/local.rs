//! Local trouble: a repository git refuses, a registry written on Windows.

use crate::support::{Project, Upstream};

#[test]
fn a_repository_another_user_owns_says_what_git_refused() {
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "lib");
    upstream.release("v1.0.0", &[("lib.c", "1\n")]);
    upstream.release("v2.0.0", &[("lib.c", "2\n")]);
    project
        .manifest(&format!(
            "[deps.lib]\npath = \"deps/lib\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.0.0\"\n",
            upstream.url()
        ))
        .write("deps/lib/lib.c", "1\n");
    project.commit_all("initial");
    // The repository is root's; deps-update runs as someone else.
    let Some(run) = project.run_as_another_user(&["lib"]) else {
        eprintln!("skipped: only root can make a repository another user owns (CI runs as root)");
        return;
    };
    assert_eq!(run.code, 1, "{run:?}");
    let root = std::fs::canonicalize(project.root()).unwrap();
    assert!(
        run.stderr.contains(&format!(
            "git refuses the repository holding `{}`: another user owns it (git's `safe.directory` check)",
            root.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "`git config --global --add safe.directory {}`",
            root.display()
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("not inside a git repository"));
}

#[test]
fn a_registry_written_on_windows_keeps_its_byte_order_mark_and_line_ends() {
    let mut project = Project::new();
    let upstream = Upstream::new(&project, "lib");
    upstream.release("v1.0.0", &[("lib.c", "1\n")]);
    upstream.release("v2.0.0", &[("lib.c", "2\n")]);
    let registry = format!(
        "\u{feff}# vendored code\r\n[deps.lib]\r\npath = \"deps/lib\"\r\nsource = \"git\"\r\nurl = \"{}\"\r\nversion = \"1.0.0\"  # bumped by deps-update\r\n",
        upstream.url()
    );
    project.manifest(&registry).write("deps/lib/lib.c", "1\n");
    project.commit_all("initial");
    let run = project.run(&["lib"]);
    assert_eq!(run.code, 0, "{run:?}");
    let output = std::process::Command::new("git")
        .args(["show", "deps-update/lib:deps.toml"])
        .current_dir(project.root())
        .output()
        .unwrap();
    let committed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        committed,
        registry.replace("version = \"1.0.0\"", "version = \"2.0.0\""),
        "only the version changed"
    );
}

#[test]
fn an_interrupt_stops_the_step_removes_temporary_files_and_changes_nothing() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let mut project = Project::new();
        let upstream = Upstream::new(&project, "lib");
        upstream.release("v1.0.0", &[("lib.c", "1\n")]);
        upstream.release("v2.0.0", &[("lib.c", "2\n")]);
        let probe = project.scratch("probe").join("step.pid");
        let temporary = project.scratch("tmp");
        project.env("TMPDIR", temporary.to_str().unwrap());
        project
            .manifest(&format!(
                "[deps.lib]\npath = \"deps/lib\"\nsource = \"git\"\nurl = \"{}\"\nversion = \"1.0.0\"\n\
                 after = [\"echo $$ > {} && sleep 30\"]\n",
                upstream.url(),
                probe.display()
            ))
            .write("deps/lib/lib.c", "1\n");
        project.commit_all("initial");
        let before = project.checkout_state();
        let mut child = project
            .command(&["lib"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let step: i32 = loop {
            if let Some(pid) = std::fs::read_to_string(&probe)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                break pid;
            }
            assert!(std::time::Instant::now() < deadline, "the step never ran");
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        // SAFETY: plain signals to processes this test started.
        unsafe { libc::kill(child.id() as i32, signal) };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "deps-update did not stop"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(status.code(), Some(130), "{signal}: {stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        // The step and everything it started are gone.
        // SAFETY: signal 0 only asks whether the process group exists.
        assert_ne!(
            unsafe { libc::kill(-step, 0) },
            0,
            "the step's group survived"
        );
        let left: Vec<_> = std::fs::read_dir(&temporary).unwrap().collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
        assert_eq!(project.checkout_state(), before);
    }
}
