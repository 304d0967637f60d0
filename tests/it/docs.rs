//! Shell completions and man pages, generated from the command-line definitions.

use crate::support::Project;

#[test]
fn completions_for_every_shell_know_every_command() {
    let project = Project::new();
    for (shell, marker) in [
        ("bash", "complete -F _deps_update"),
        ("zsh", "#compdef deps-update"),
        ("fish", "complete -c deps-update"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[deps-update]"),
    ] {
        let run = project.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {run:?}");
        assert!(run.stdout.contains(marker), "{shell}:\n{}", run.stdout);
        for command in ["check", "update", "verify", "audit", "sbom", "--dry-run"] {
            assert!(run.stdout.contains(command), "{shell} lacks {command}");
        }
    }
    // The bash script parses.
    let script = project.scratch("completion").join("deps-update.bash");
    std::fs::write(&script, project.run(&["completions", "bash"]).stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(check.success());
    let run = project.run(&["completions", "tcsh"]);
    assert_eq!(run.code, 2, "{run:?}");
}

#[test]
fn man_pages_for_the_tool_and_each_command() {
    let project = Project::new();
    let run = project.run(&["man"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains(".TH deps-update 1"), "{}", run.stdout);
    assert!(
        run.stdout.contains("deps\\-update \\- Keep vendored"),
        "{}",
        run.stdout
    );
    let dir = project.scratch("man");
    let run = project.run(&["man", "--dir", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    let page = std::fs::read_to_string(dir.join("deps-update-audit.1")).unwrap();
    assert!(page.contains(".TH deps-update-audit 1"), "{page}");
    assert!(page.contains("OSV"), "{page}");
    assert!(dir.join("deps-update-update.1").exists());
}
