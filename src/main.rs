//! The `deps-update` binary: parse arguments, run the command, render any error, exit.

use std::process::ExitCode;

use deps_update::cli::{Cli, Command};
use deps_update::commands::report::{EXIT_FAILURE, EXIT_OK};
use deps_update::commands::{self, Outcome};
use deps_update::printer::{Printer, Verbosity};

fn main() -> ExitCode {
    // Before any thread starts: no other process of this user may read this one's
    // environment or memory, and no child inherits a token.
    let protected = deps_update::process::protect(&deps_update::forge::token_variables());
    let cli = parse();
    let verbosity = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, true) => Verbosity::Verbose,
        (false, false) => Verbosity::Normal,
    };
    let printer = Printer::new(verbosity);
    if let Err(deps_update::process::Unprotected(error)) = protected {
        printer.warn(&format!(
            "cannot make this process unreadable to others of this user ({error}): an `after` step could read its environment through /proc"
        ));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            printer.error("cannot start the async runtime", &error, &[]);
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    // Every temporary file of the run lives in one folder, removed at the end or on an
    // interrupt.
    let json = cli.json();
    let scratch = deps_update::process::Scratch::start();
    let result = runtime.block_on(async {
        tokio::select! {
            result = commands::run(cli, &printer) => result,
            signal = deps_update::process::interrupt() => deps_update::process::interrupted(signal),
        }
    });
    drop(scratch);
    match result {
        Ok(Outcome::Success) => ExitCode::from(EXIT_OK),
        Ok(Outcome::SomeFailed) => ExitCode::from(EXIT_FAILURE),
        Err(error) => {
            commands::failures::print_command_error(&printer, &error);
            if json {
                printer.data(&commands::error_json(&error));
            }
            ExitCode::from(error.exit_code())
        }
    }
}

/// `args` parsed against the command as `--help` shows it.
fn from_args(args: &[std::ffi::OsString]) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let matches = deps_update::cli::command().try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
}

/// Parses the command line; `deps-update NAME... [FLAGS]` is parsed as
/// `deps-update update NAME... [FLAGS]`, so every `update` flag works in the short form.
fn parse() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = from_args(&args).unwrap_or_else(|e| e.exit());
    let Command::Short(words) = &cli.command else {
        return cli;
    };
    let first = words.first().cloned().unwrap_or_default();
    let at = args
        .iter()
        .skip(1)
        .position(|arg| arg.to_string_lossy() == first)
        .map_or(1, |i| i + 1);
    let mut args = args;
    args.insert(at, "update".into());
    let mut cli = match from_args(&args) {
        Ok(cli) => cli,
        // `deps-update updaet --all`: not a usage error of `update` but a mistyped command.
        Err(error) => {
            let command = deps_update::cli::command();
            let names = command
                .get_subcommands()
                .filter(|c| !c.is_hide_set())
                .map(clap::Command::get_name);
            if let Some(nearest) = deps_update::suggest::nearest(&first, names) {
                eprint!("error: `{first}` is not a command\nhint: did you mean `{nearest}`?\n");
                std::process::exit(i32::from(deps_update::commands::report::EXIT_USAGE));
            }
            error.exit()
        }
    };
    if let Command::Update(update) = &mut cli.command {
        update.short_form = true;
    }
    cli
}
