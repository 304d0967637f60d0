//! One file per subcommand; each turns arguments into engine calls and printer output.

mod audit;
mod check;
mod docs;
pub mod failures;
mod init;
mod list;
mod patch;
mod provenance;
pub mod report;
mod sbom;
mod update;
mod validate;
mod verify;

use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::commands::report::CommandError;
use crate::config::NetworkConfig;
use crate::http::HttpClient;
use crate::manifest::Manifest;
use crate::printer::Printer;
use crate::source::SourceContext;

/// How a command ended, when it ran to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every dependency was handled.
    Success,
    /// At least one dependency failed; the others were handled.
    SomeFailed,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli, printer: &Printer) -> Result<Outcome, CommandError> {
    match cli.command {
        Command::Check(args) => check::run(&cli.global, &args, printer).await,
        Command::List(args) => list::run(&cli.global, &args, printer),
        Command::Validate(args) => validate::run(&cli.global, &args, printer),
        Command::Update(args) => update::run(&cli.global, &args, printer).await,
        Command::Verify(args) => verify::run(&cli.global, &args, printer).await,
        Command::Provenance(args) => provenance::run(&cli.global, &args, printer).await,
        Command::Patch(args) => patch::run(&cli.global, &args, printer).await,
        Command::Sbom(args) => sbom::run(&cli.global, &args, printer),
        Command::Audit(args) => audit::run(&cli.global, &args, printer).await,
        Command::Init(args) => init::run(&cli.global, &args, printer).await,
        Command::Completions(args) => docs::completions(&args, printer),
        Command::Man(args) => docs::man(&args, printer),
        Command::Short(names) => {
            let args = crate::cli::UpdateArgs {
                names,
                ..Default::default()
            };
            update::run(&cli.global, &args, printer).await
        }
    }
}

/// A failure of the whole command as the JSON document `--json` promises:
/// `{"error": {"dependency": null, "kind", "message", "hint"}}`.
pub fn error_json(error: &CommandError) -> String {
    let hints = failures::command_hints(error);
    format!(
        "{}\n",
        serde_json::json!({ "error": failures::json(None, error, &hints) })
    )
}

/// Finds and loads the registry.
fn load_manifest(global: &GlobalArgs) -> Result<Manifest, CommandError> {
    let file = match &global.manifest {
        Some(file) => file.clone(),
        None => {
            let cwd = std::env::current_dir().map_err(CommandError::CurrentDir)?;
            let found = Manifest::discover(&cwd)?;
            // Shown in messages: `deps.toml` reads better than an absolute path.
            found.strip_prefix(&cwd).map(PathBuf::from).unwrap_or(found)
        }
    };
    Ok(Manifest::load(&file)?)
}

/// The release lines `entries` name (`--ref`, `release-lines`), patterns (`v*.x`) expanded
/// against the branches git knows, here and on `settings.remote`; each with whether only a
/// pattern named it (such a line without a registry, an old branch, is left out, not an
/// error).
fn release_lines(
    manifest: &Manifest,
    entries: &[String],
) -> Result<Vec<(String, bool)>, CommandError> {
    if !entries.iter().any(|e| e.contains(['*', '?', '['])) {
        return Ok(entries.iter().map(|e| (e.clone(), false)).collect());
    }
    let repo = crate::vcs::Repo::discover(&manifest.root)
        .map_err(|e| CommandError::Base(Box::new(e.into())))?;
    repo.lines(entries, &manifest.settings.remote)
        .map_err(|e| CommandError::Base(Box::new(e.into())))
}

/// The cache folder: `--no-cache` wins, then `--cache-dir`, then the user's cache folder.
fn cache_dir(global: &GlobalArgs) -> Option<PathBuf> {
    if global.no_cache {
        return None;
    }
    global
        .cache_dir
        .clone()
        .or_else(|| dirs::cache_dir().map(|d| d.join("deps-update")))
}

/// Whether cached answers may stand in for fresh ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answers {
    /// `304 Not Modified` may bring back a cached answer: for `check`, which only reports.
    Cached,
    /// Every answer fresh (and stored for `check`): for whatever decides what is downloaded,
    /// what it is verified against, or which advisories apply. Anyone who can write the
    /// cache folder (a shared CI cache) could otherwise choose them.
    Fresh,
}

/// The shared network context for sources.
fn source_context(
    global: &GlobalArgs,
    manifest: &Manifest,
    printer: &Printer,
    answers: Answers,
) -> Result<SourceContext, CommandError> {
    let cache_dir = cache_dir(global);
    let mut config =
        NetworkConfig::resolve(&manifest.settings, cache_dir.clone(), crate::process::env)?;
    config.http.use_cached_answers = answers == Answers::Cached;
    crate::vcs::set_timeouts(config.http.timeout);
    let http = HttpClient::new(config.http, printer.clone())?;
    Ok(SourceContext {
        http: Arc::new(http),
        sites: config.sites,
        npm_registry: config.npm_registry,
        cache_dir,
        printer: printer.clone(),
    })
}

/// Runs `task` for every dependency (or unit of them), at most `jobs` at once, and returns
/// the results in registry order: one dependency's failure never stops or hides the others.
async fn for_each_dependency<I, T, F, Fut>(deps: &[I], jobs: u16, task: F) -> Vec<(I, T)>
where
    I: Copy,
    F: Fn(I) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    use futures::StreamExt;
    let mut results: Vec<(usize, I, T)> = futures::stream::iter(deps.iter().copied().enumerate())
        .map(|(i, dep)| {
            let run = task(dep);
            async move { (i, dep, run.await) }
        })
        .buffer_unordered(usize::from(jobs))
        .collect()
        .await;
    results.sort_by_key(|(i, _, _)| *i);
    results
        .into_iter()
        .map(|(_, dep, result)| (dep, result))
        .collect()
}

/// Seconds since the Unix epoch.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Pads cells into aligned columns; the last column is not padded.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:width$}  ", width = widths[c]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
