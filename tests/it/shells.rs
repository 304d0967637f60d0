//! Completions exercised in a real bash, man pages rendered by `man`, examples in `--help`.

use crate::support::Project;

/// Completes `words` (the last one being completed) with the generated script in a real
/// bash, the way bash-completion calls it; the candidates, one a line.
fn complete_in_bash(project: &Project, words: &[&str]) -> String {
    let script = project.scratch("completion").join("deps-update.bash");
    std::fs::write(&script, project.run(&["completions", "bash"]).stdout).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        r#"source "$1"
spec=$(complete -p deps-update) || exit 3
function=$(sed -E 's/.* -F ([^ ]+) .*/\1/' <<<"$spec")
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$function" deps-update "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = quoted.join(" ")
    );
    let output = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program, "bash"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn bash_completes_options_after_the_subcommand() {
    let project = Project::new();
    let found = complete_in_bash(&project, &["deps-update", "update", "--d"]);
    assert_eq!(found, "--dry-run\n--diff\n--dashboard\n");
    let found = complete_in_bash(&project, &["deps-update", "check", "--js"]);
    assert_eq!(found, "--json\n");
    let found = complete_in_bash(&project, &["deps-update", "chec"]);
    assert_eq!(found, "check\n");
    let found = complete_in_bash(&project, &["deps-update", "sbom", "--format", ""]);
    assert!(found.contains("spdx"), "{found}");
    // Options that do nothing for a command are not offered there.
    let found = complete_in_bash(&project, &["deps-update", "check", "--j"]);
    assert_eq!(found, "--json\n--jobs\n");
    let found = complete_in_bash(&project, &["deps-update", "validate", "--j"]);
    assert_eq!(found, "--json\n");
    let found = complete_in_bash(&project, &["deps-update", "man", "--"]);
    assert_eq!(found, "--dir\n--help\n");
}

/// No zsh or fish on the test machines: their scripts are read, not run.
#[test]
fn zsh_and_fish_scripts_name_the_program_and_each_commands_options() {
    let project = Project::new();
    let zsh = project.run(&["completions", "zsh"]).stdout;
    assert!(zsh.starts_with("#compdef deps-update\n"), "{zsh}");
    assert!(zsh.contains("'--dry-run[Download and verify"), "{zsh}");
    assert!(!zsh.contains("deps__update"), "{zsh}");
    let fish = project.run(&["completions", "fish"]).stdout;
    let for_command = |command: &str, option: &str| {
        fish.lines().any(|line| {
            line.starts_with("complete -c deps-update ")
                && line.contains(&format!("using_subcommand {command}\""))
                && line.contains(&format!(" -l {option} "))
        })
    };
    assert!(for_command("update", "dry-run"), "{fish}");
    assert!(for_command("check", "jobs"), "{fish}");
    assert!(!for_command("validate", "jobs"), "{fish}");
    assert!(for_command("validate", "manifest"), "{fish}");
}

#[test]
fn help_shows_the_options_that_matter_for_each_command() {
    let project = Project::new();
    let help = |command: &str| project.run(&[command, "--help"]).stdout;
    for (command, shown, idle) in [
        (
            "check",
            &["--jobs", "--no-cache", "--verbose", "--manifest"][..],
            &[][..],
        ),
        ("update", &["--jobs", "--cache-dir"], &[]),
        (
            "validate",
            &["--manifest", "--quiet"],
            &["--jobs", "--cache-dir", "--no-cache", "--verbose"],
        ),
        ("list", &["--manifest"], &["--jobs", "--no-cache"]),
        ("sbom", &["--no-cache"], &["--jobs"]),
        ("man", &["--dir"], &["--jobs", "--manifest", "--quiet"]),
        ("completions", &[], &["--jobs", "--manifest", "--verbose"]),
    ] {
        let text = help(command);
        for option in shown {
            assert!(
                text.contains(option),
                "{command} --help lacks {option}:\n{text}"
            );
        }
        for option in idle {
            assert!(
                !text.contains(option),
                "{command} --help shows {option}:\n{text}"
            );
        }
    }
    // Still accepted anywhere, as global options are.
    let project = Project::new();
    project.manifest("");
    let run = project.run(&["validate", "--jobs", "3", "--no-cache"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = project.run(&["-j", "3", "list"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn man_pages_render_with_their_sections() {
    let project = Project::new();
    let dir = project.scratch("man");
    let run = project.run(&["man", "--dir", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    let source = std::fs::read_to_string(dir.join("deps-update-update.1")).unwrap();
    assert!(
        source.contains(".SH SYNOPSIS\n\\fBdeps\\-update update\\fR"),
        "{source}"
    );
    assert!(!source.contains("deps update update"), "{source}");
    assert!(!source.contains('`'), "markdown backticks:\n{source}");
    for section in [".SH ENVIRONMENT", ".SH \"EXIT STATUS\"", ".SH EXAMPLES"] {
        assert!(source.contains(section), "{section}:\n{source}");
    }
    let has_man = std::process::Command::new("man")
        .arg("--version")
        .output()
        .is_ok();
    if !has_man {
        eprintln!("no `man` here: the rendering is not exercised");
        return;
    }
    for page in [
        "deps-update.1",
        "deps-update-update.1",
        "deps-update-check.1",
    ] {
        let output = std::process::Command::new("man")
            .arg("-l")
            .arg(dir.join(page))
            .env("MANWIDTH", "100")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{page}: {text}");
        for heading in ["NAME", "SYNOPSIS", "ENVIRONMENT", "EXIT STATUS", "EXAMPLES"] {
            assert!(
                text.lines().any(|l| l == heading),
                "{page} lacks {heading}:\n{text}"
            );
        }
        assert!(!text.contains('`'), "{page}:\n{text}");
    }
    let text = String::from_utf8_lossy(
        &std::process::Command::new("man")
            .arg("-l")
            .arg(dir.join("deps-update-update.1"))
            .env("MANWIDTH", "100")
            .env("MANPAGER", "cat")
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    // man justifies lines: compare with single spaces.
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("deps-update update [--dry-run]"), "{text}");
    assert!(text.contains("deps-update update --all --pr"), "{text}");
    assert!(text.contains("GITHUB_TOKEN"), "{text}");
}

#[test]
fn help_gives_examples_for_every_command() {
    let project = Project::new();
    for command in [
        "check",
        "list",
        "validate",
        "update",
        "verify",
        "patch",
        "audit",
        "sbom",
        "init",
        "completions",
        "man",
    ] {
        let run = project.run(&[command, "--help"]);
        assert_eq!(run.code, 0, "{command}: {run:?}");
        let examples = run
            .stdout
            .split_once("Examples:\n")
            .unwrap_or_else(|| panic!("{command}: no examples:\n{}", run.stdout))
            .1;
        let lines: Vec<&str> = examples.lines().collect();
        assert!((2..=3).contains(&lines.len()), "{command}: {examples}");
        for line in lines {
            assert!(line.starts_with("  deps-update "), "{command}: {line}");
            assert!(line.len() <= 100, "{command}: {line}");
        }
    }
}
