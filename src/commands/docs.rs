//! `deps-update completions` and `deps-update man`: generated from the clap definitions, so
//! they never drift from `--help`.

use super::Outcome;
use crate::cli::{CompletionsArgs, ManArgs};
use crate::commands::report::CommandError;
use crate::printer::Printer;

pub fn completions(args: &CompletionsArgs, printer: &Printer) -> Result<Outcome, CommandError> {
    let mut command = crate::cli::described_command();
    let mut script = Vec::new();
    if args.shell == clap_complete::Shell::Bash {
        printer.data(&bash_completions(&mut command));
        return Ok(Outcome::Success);
    }
    clap_complete::generate(args.shell, &mut command, BIN, &mut script);
    printer.data(&String::from_utf8_lossy(&script));
    Ok(Outcome::Success)
}

const BIN: &str = "deps-update";

/// The bash script, generated for a name without a hyphen and then registered for the real
/// one: clap_complete's bash generator spells a hyphenated name two ways (`deps__update` for
/// the command, `deps__subcmd__update` in the subcommands' cases), so nothing after the
/// subcommand would ever complete.
fn bash_completions(command: &mut clap::Command) -> String {
    const STAND_IN: &str = "deps_update";
    let mut script = Vec::new();
    clap_complete::generate(clap_complete::Shell::Bash, command, STAND_IN, &mut script);
    String::from_utf8_lossy(&script)
        .lines()
        .map(|line| {
            // Only the `complete` lines name the program; the rest are function and case names.
            match line.trim_start().starts_with("complete ") {
                true => match line.strip_suffix(&format!(" {STAND_IN}")) {
                    Some(head) => format!("{head} {BIN}\n"),
                    None => format!("{line}\n"),
                },
                false => format!("{line}\n"),
            }
        })
        .collect()
}

pub fn man(args: &ManArgs, printer: &Printer) -> Result<Outcome, CommandError> {
    let command = crate::cli::described_command();
    let Some(dir) = &args.dir else {
        printer.data(&page(&command));
        return Ok(Outcome::Success);
    };
    let write = |name: String, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| CommandError::Write { path, source })
    };
    std::fs::create_dir_all(dir).map_err(|source| CommandError::Write {
        path: dir.clone(),
        source,
    })?;
    write("deps-update.1".into(), page(&command))?;
    let mut written = 1;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("deps-update-{}", sub.get_name());
        let sub = sub
            .clone()
            .display_name(name.clone())
            .bin_name(format!("{BIN} {}", sub.get_name()));
        write(format!("{name}.1"), page(&sub))?;
        written += 1;
    }
    printer.status(&format!(
        "wrote {written} man pages into `{}`",
        dir.display()
    ));
    Ok(Outcome::Success)
}

/// One command's page, as roff: clap's sections, then ENVIRONMENT, EXIT STATUS and the
/// command's EXAMPLES (its `--help` examples); `code` in the help text is shown in bold.
fn page(command: &clap::Command) -> String {
    let examples = command
        .get_after_help()
        .map(|help| help.to_string())
        .unwrap_or_else(|| MAIN_EXAMPLES.to_owned());
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone().after_help(None::<&str>))
        .render(&mut out)
        .expect("rendering into memory does not fail");
    let rendered = bold_code(&String::from_utf8_lossy(&out));
    let mut extra = String::from(".SH ENVIRONMENT\n");
    for (name, what) in ENVIRONMENT {
        extra.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(name), roff(what)));
    }
    extra.push_str(".SH \"EXIT STATUS\"\n");
    for (code, what) in EXIT_STATUS {
        extra.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff(what)));
    }
    extra.push_str(".SH EXAMPLES\n");
    for line in examples
        .lines()
        .skip_while(|l| l.trim() != "Examples:")
        .skip(1)
    {
        let (example, what) = line.trim().split_once("  #").unwrap_or((line.trim(), ""));
        extra.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff(example.trim()),
            roff(what.trim())
        ));
    }
    match rendered.find(".SH VERSION") {
        Some(at) => format!("{}{extra}{}", &rendered[..at], &rendered[at..]),
        None => format!("{rendered}{extra}"),
    }
}

/// The main page's examples.
const MAIN_EXAMPLES: &str = "Examples:
  deps-update check  # is there a newer version of any dependency?
  deps-update nghttp2  # commit nghttp2's newest version on the branch deps-update/nghttp2
  deps-update update --all --pr  # update everything and open one pull request each";

/// What the environment changes, for every page.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "GITHUB_TOKEN, GH_TOKEN",
        "authenticate GitHub API requests and pushes to GitHub",
    ),
    ("GITLAB_TOKEN, CI_JOB_TOKEN", "authenticate GitLab's"),
    (
        "GITEA_TOKEN, FORGEJO_TOKEN",
        "authenticate Gitea's and Forgejo's",
    ),
    (
        "GITHUB_API_URL, GITLAB_API_URL (CI_API_V4_URL), GITEA_API_URL",
        "another GitHub, GitLab or Gitea (self-hosted, or a test fake)",
    ),
    ("npm_config_registry", "another npm registry"),
    ("OSV_API_URL", "another OSV, for audit"),
    ("DEPS_UPDATE_MANIFEST", "the registry file, as --manifest"),
    ("DEPS_UPDATE_CACHE_DIR", "the cache folder, as --cache-dir"),
    ("SOURCE_DATE_EPOCH", "the timestamp of an SBOM"),
    ("NO_COLOR", "no colour on a terminal"),
];

/// The exit codes, for every page.
const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "every dependency was handled (for check: checked, whether updates exist or not)",
    ),
    (
        "1",
        "at least one dependency failed; all the others were still handled and reported",
    ),
    (
        "2",
        "a usage error, an unknown dependency name, an unusable setting, or an invalid deps.toml",
    ),
    (
        "130",
        "interrupted: children stopped, temporary files removed",
    ),
];

/// Text for a roff line: backslashes and hyphens escaped, no line starting with a dot.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    match escaped.starts_with(['.', '\'']) {
        true => format!("\\&{escaped}"),
        false => escaped,
    }
}

/// `code` (markdown, from the help text) as bold roff: `\fBcode\fR`.
fn bold_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open = false;
    for line in text.split_inclusive('\n') {
        // An unmatched backtick on a line stays as it is.
        if line.matches('`').count() % 2 != 0 {
            out.push_str(line);
            continue;
        }
        for c in line.chars() {
            if c == '`' {
                out.push_str(if open { "\\fR" } else { "\\fB" });
                open = !open;
            } else {
                out.push(c);
            }
        }
    }
    out
}
