//! `deps-update completions` and `deps-update man`: generated from the clap definitions, so
//! they never drift from `--help`.

use clap::CommandFactory;

use super::Outcome;
use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::commands::report::CommandError;
use crate::printer::Printer;

pub fn completions(args: &CompletionsArgs, printer: &Printer) -> Result<Outcome, CommandError> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "deps-update", &mut script);
    printer.data(&String::from_utf8_lossy(&script));
    Ok(Outcome::Success)
}

pub fn man(args: &ManArgs, printer: &Printer) -> Result<Outcome, CommandError> {
    let command = Cli::command();
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
            .bin_name(name.replace('-', " "));
        write(format!("{name}.1"), page(&sub))?;
        written += 1;
    }
    printer.status(&format!(
        "wrote {written} man pages into `{}`",
        dir.display()
    ));
    Ok(Outcome::Success)
}

/// One command's page, as roff.
fn page(command: &clap::Command) -> String {
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut out)
        .expect("rendering into memory does not fail");
    String::from_utf8_lossy(&out).into_owned()
}
