//! Command-line arguments. The doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Keep vendored third-party code up to date from one declarative registry, `deps.toml`.
///
/// `deps-update NAME...` is short for `deps-update update NAME...`.
///
/// Environment: GITHUB_TOKEN (or GH_TOKEN) authenticates GitHub API requests, GITLAB_TOKEN
/// (or CI_JOB_TOKEN) GitLab's, GITEA_TOKEN (or FORGEJO_TOKEN) Gitea's; GITHUB_API_URL,
/// GITLAB_API_URL (or CI_API_V4_URL) and GITEA_API_URL point at another GitHub, GitLab or
/// Gitea (self-hosted, or a test fake); npm_config_registry at another npm registry;
/// OSV_API_URL at another OSV (for `audit`).
#[derive(Debug, Parser)]
#[command(name = "deps-update", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Whether the command was asked for JSON: then a failure of the whole command is a JSON
    /// document on stdout too (`{"error": {...}}`).
    pub fn json(&self) -> bool {
        match &self.command {
            Command::Check(args) => args.json,
            Command::List(args) => args.json,
            Command::Validate(args) => args.json,
            Command::Update(args) => args.json,
            Command::Verify(args) => args.json,
            Command::Provenance(args) => args.json,
            Command::Patch(args) => args.json,
            Command::Audit(args) => args.json,
            Command::Sbom(args) => args.json,
            Command::Init(args) => args.json,
            Command::Short(words) => words.iter().any(|w| w == "--json"),
            Command::Completions(_) | Command::Man(_) => false,
        }
    }
}

/// The options given before or after any subcommand that do nothing for it: accepted there,
/// never shown in its help, completions or man page.
const IDLE_OPTIONS: &[(&str, &[&str])] = &[
    ("list", &["jobs", "cache_dir", "no_cache", "verbose"]),
    ("validate", &["jobs", "cache_dir", "no_cache", "verbose"]),
    ("patch", &["jobs"]),
    ("sbom", &["jobs"]),
    ("init", &["jobs"]),
    (
        "completions",
        &[
            "manifest",
            "jobs",
            "cache_dir",
            "no_cache",
            "quiet",
            "verbose",
        ],
    ),
    (
        "man",
        &[
            "manifest",
            "jobs",
            "cache_dir",
            "no_cache",
            "quiet",
            "verbose",
        ],
    ),
];

/// The command line as it is parsed and `--help` shows it: each subcommand shows the options
/// that matter for it, and accepts the others (they are global) without showing them.
pub fn command() -> clap::Command {
    with_global_options(Idle::Hidden)
}

/// The command line as completions and man pages describe it: a subcommand has only the
/// options that matter for it (bash completions would offer hidden ones).
pub fn described_command() -> clap::Command {
    with_global_options(Idle::Absent)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Idle {
    Hidden,
    Absent,
}

fn with_global_options(idle: Idle) -> clap::Command {
    use clap::CommandFactory;
    let mut command = Cli::command();
    let globals: Vec<clap::Arg> = command
        .get_arguments()
        .filter(|arg| arg.is_global_set())
        .cloned()
        .collect();
    if idle == Idle::Absent {
        // Given to each subcommand by hand below, so not where they do nothing.
        for arg in &globals {
            command = command.mut_arg(arg.get_id(), |arg| arg.global(false));
        }
    }
    // A global option a subcommand already has is not given to it again when the command is
    // built.
    command.mut_subcommands(|sub| {
        let idle_here = IDLE_OPTIONS
            .iter()
            .find(|(name, _)| *name == sub.get_name())
            .map_or(&[][..], |(_, ids)| *ids);
        globals.iter().enumerate().fold(sub, |sub, (order, arg)| {
            match (idle_here.contains(&arg.get_id().as_str()), idle) {
                (true, Idle::Hidden) => sub.arg(arg.clone().hide(true)),
                (false, Idle::Hidden) => sub.arg(
                    arg.clone()
                        .display_order(1000 + order)
                        .help_heading("Global options"),
                ),
                // After the subcommand's own options; conflicts matter when parsing, not in
                // a description (and may name an option left out).
                (false, Idle::Absent) => sub.arg(
                    arg.clone()
                        .global(false)
                        .display_order(1000 + order)
                        .conflicts_with(clap::builder::Resettable::<clap::Id>::Reset),
                ),
                (true, Idle::Absent) => sub,
            }
        })
    })
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The registry file [default: `deps.toml` in this folder or the nearest one above it]
    #[arg(long, global = true, value_name = "FILE", env = "DEPS_UPDATE_MANIFEST")]
    pub manifest: Option<PathBuf>,

    /// How many upstreams to ask at once (GitHub allows up to 100 concurrent requests)
    #[arg(short, long, global = true, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,

    /// Where answers from upstreams are cached for conditional requests
    /// [default: the user's cache folder, e.g. `~/.cache/deps-update`]
    #[arg(long, global = true, value_name = "DIR", env = "DEPS_UPDATE_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Do not read or write the cache
    #[arg(long, global = true)]
    pub no_cache: bool,

    /// Print only results and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also print every request made to an upstream
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask every upstream whether a newer version exists
    ///
    /// Exit status: 0 when every dependency was checked (updates found or not), 1 when any
    /// dependency could not be checked, 2 for a usage or registry error.
    #[command(
        after_help = "Examples:\n  deps-update check               # every dependency, as a table\n  deps-update check --json        # a JSON array, for a script\n  deps-update check --ref 'v*.x'  # what each release line could update to"
    )]
    Check(CheckArgs),

    /// Print the registry
    #[command(
        after_help = "Examples:\n  deps-update list         # the registry as a table\n  deps-update list --json  # one line, for a GitHub Actions matrix"
    )]
    List(ListArgs),

    /// Check the registry and every `version-file` without touching the network
    #[command(
        after_help = "Examples:\n  deps-update validate         # the whole registry and every version file\n  deps-update validate --json  # the same, as JSON"
    )]
    Validate(ValidateArgs),

    /// Vendor the newest allowed version: one verified commit on one branch per dependency
    ///
    /// `deps-update NAME...` is short for `deps-update update NAME...`. The commit is built
    /// from the base branch without touching your checkout; `deps.toml` gets the new
    /// `version` and `sha256`; the `patches` queue is applied to the new code. Members of a
    /// `group` share one branch (naming one updates all) and are committed only together.
    /// Exit status: 0 when every named dependency is up to date or was updated, 1 when any
    /// failed (the repository is then as it was for that one).
    #[command(
        after_help = "Examples:\n  deps-update nghttp2                        # one verified commit on its own branch\n  deps-update update --all --dry-run --diff  # show what every update would change; write nothing\n  deps-update update --all --pr              # update everything and open a pull request each"
    )]
    Update(UpdateArgs),

    /// Re-fetch the vendored version and check the vendored tree is exactly what it gives
    ///
    /// The archive is verified like an update (and against `sha256`), laid out with the same
    /// rules, and compared with the files under `path` outside `keep`; every local edit is
    /// listed. Exit status: 0 when every tree matches, 1 otherwise.
    #[command(
        after_help = "Examples:\n  deps-update verify            # every vendored tree against upstream\n  deps-update verify uv --json  # one, as JSON"
    )]
    Verify(VerifyArgs),

    /// Is what is vendored the upstream's tagged source? Each dependency classified
    ///
    /// The vendored version's archive is fetched and checked like `verify`'s, and its files
    /// are compared with the tag's tree (GitHub): a plain copy of the tagged source, a release
    /// archive whose extra files `generated` expects, or a release archive with unexpected
    /// files or files that differ from the tag; npm and page sources are not checked. The
    /// `after` steps that build on the code are listed. Exit status 1 when anything is
    /// flagged or fails.
    #[command(after_help = "Examples:
  deps-update provenance              # every dependency
  deps-update provenance nghttp2 --json")]
    Provenance(ProvenanceArgs),

    /// Save the vendored tree's local edits as a new patch in the dependency's queue
    ///
    /// The edits are what `verify` lists: the differences between the files under `path`
    /// and upstream's code for the vendored version with the queue applied. They are written
    /// as `NNNN-NAME.patch` in the `patches` folder (with a list of files: beside the last
    /// one, and added to the list in `deps.toml`); every later update applies the patch to
    /// the new upstream code. Exit status: 0 when written or nothing to write, 1 otherwise.
    #[command(
        after_help = "Examples:\n  deps-update verify uv                     # list uv's local edits\n  deps-update patch uv --file-name fix-cve  # save them as the queue's next patch"
    )]
    Patch(PatchArgs),

    /// List the known vulnerabilities of what is vendored, and whether the update fixes them
    ///
    /// Asks OSV (`OSV_API_URL`, default `https://api.osv.dev`) about each dependency's vendored
    /// and newest allowed versions in one batch (git-forge code by commit and by repository
    /// and tag, npm packages by name and version), and GitHub's published repository
    /// advisories of GitHub upstreams. `ignore-advisories` are listed as ignored, with their
    /// reason. Exit status: 0 when no advisory that is not ignored affects a vendored version,
    /// 1 otherwise or when OSV could not be asked, 2 for a usage or registry error.
    #[command(
        after_help = "Examples:\n  deps-update audit              # known vulnerabilities of every dependency\n  deps-update audit zlib --json  # one, as JSON"
    )]
    Audit(AuditArgs),

    /// Write a software bill of materials of the vendored dependencies (CycloneDX or SPDX)
    ///
    /// From `deps.toml` and the vendored tree alone, without the network: each dependency's
    /// version, package URL, archive SHA-256, VCS and download addresses, `license`, and (in
    /// CycloneDX) its patch queue. Deterministic but for the timestamp, which is
    /// `SOURCE_DATE_EPOCH` when set. Exit status: 0 when written, 1 when a dependency could
    /// not be described (nothing is written), 2 for a usage or registry error.
    #[command(
        after_help = "Examples:\n  deps-update sbom                     # write sbom.cdx.json beside deps.toml\n  deps-update sbom --format spdx -o -  # print an SPDX document"
    )]
    Sbom(SbomArgs),

    /// Draft `deps.toml` from the vendored folders
    ///
    /// Scans the named folders (default: `deps/`, `third_party/`, `vendor/`, `external/` where
    /// present) and recognises each library by its version file, from a built-in catalog
    /// (and npm packages by `package.json`); build files the project added are proposed as
    /// `keep`; unrecognised folders get a commented entry to fill in. Writes `deps.toml` when
    /// there is none; otherwise prints the entries it would add and changes nothing.
    /// `--check`: exit 1 when a vendored folder has no entry (for CI).
    #[command(
        after_help = "Examples:\n  deps-update init          # draft deps.toml from deps/, third_party/, vendor/, external/\n  deps-update init --check  # in CI: fail when a vendored folder has no entry"
    )]
    Init(InitArgs),

    /// Print a shell completion script (`deps-update completions bash > …`)
    ///
    /// bash: `deps-update completions bash > ~/.local/share/bash-completion/completions/deps-update`;
    /// zsh: into a folder of `$fpath` as `_deps-update`; fish:
    /// `~/.config/fish/completions/deps-update.fish`; PowerShell: dot-source it from `$PROFILE`.
    #[command(
        after_help = "Examples:\n  deps-update completions bash > ~/.local/share/bash-completion/completions/deps-update\n  deps-update completions zsh > \"${fpath[1]}/_deps-update\"\n  deps-update completions fish > ~/.config/fish/completions/deps-update.fish"
    )]
    Completions(CompletionsArgs),

    /// Print the man page, or write one per command into a folder
    ///
    /// `deps-update man | man -l -` reads it; `deps-update man --dir DIR` writes
    /// `deps-update.1` and `deps-update-COMMAND.1` for installing under `man1/`.
    #[command(
        after_help = "Examples:\n  deps-update man | man -l -                       # read the manual now\n  deps-update man --dir /usr/local/share/man/man1  # install a page per command"
    )]
    Man(ManArgs),

    /// `deps-update NAME...`: the short form of `update NAME...`
    #[command(external_subcommand)]
    Short(Vec<String>),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folders that hold vendored code [default: deps, third_party, vendor, external]
    #[arg(value_name = "FOLDER")]
    pub folders: Vec<std::path::PathBuf>,

    /// Only check that every vendored folder has an entry; exit 1 when one has none
    #[arg(long)]
    pub check: bool,

    /// Print what was found and done as one JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write a page per command into this folder instead of printing the main page
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Dependencies to audit [default: all]
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Print a JSON array, one object per dependency, instead of a table
    #[arg(long)]
    pub json: bool,

    /// Audit this branch or tag as git holds it, not the working copy (repeatable; a pattern
    /// such as `v*.x` stands for every matching branch, here or on `settings.remote`)
    /// [default: `release-lines` in `[settings]`, else the working copy]
    #[arg(long = "ref", value_name = "REF")]
    pub refs: Vec<String>,

    /// Keep one issue per finding (advisory, dependency, line) in the tracking repository:
    /// open the missing ones, close those whose finding is gone or ignored
    #[arg(long)]
    pub issues: bool,

    /// Keep one dashboard issue current: every dependency's versions and open advisories
    #[arg(long)]
    pub dashboard: bool,

    /// The tracking repository of `--issues` and `--dashboard`, on the project's forge
    /// [default: `settings.repository`, else the project's own]
    #[arg(long, value_name = "OWNER/NAME")]
    pub repository: Option<String>,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    /// Dependencies to describe [default: all]
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// The document's format
    #[arg(long, value_enum, default_value = "cyclonedx")]
    pub format: crate::sbom::SbomFormat,

    /// Where to write it; `-` for standard output [default: `sbom.cdx.json` or
    /// `sbom.spdx.json` beside `deps.toml`]
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,

    /// Print a JSON summary of what was written (`file`, `format`, `dependencies`, `failures`)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ProvenanceArgs {
    /// Dependencies to classify [default: all]
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Print one JSON object (`dependencies`, `failures`) instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Dependencies to verify [default: all]
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Run the `after` steps twice and say whether they make the same bytes both times
    #[arg(long)]
    pub rebuild: bool,

    /// Print one JSON object (`dependencies`, `failures`) instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PatchArgs {
    /// The dependency whose local edits to save
    #[arg(value_name = "NAME")]
    pub name: String,

    /// The new patch file's name, after its number
    #[arg(long, value_name = "NAME", default_value = "local-changes")]
    pub file_name: String,

    /// Print one JSON object (`dependency`, `patch`, `files`, `failure`) instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Default)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["names", "all"])))]
pub struct UpdateArgs {
    /// Dependencies to update
    #[arg(value_name = "NAME", conflicts_with = "all")]
    pub names: Vec<String>,

    /// Update every dependency in the registry
    #[arg(long)]
    pub all: bool,

    /// Download and verify, then show what would change; write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// With --dry-run: also print the unified diff
    #[arg(long, requires = "dry_run")]
    pub diff: bool,

    /// Push each update branch to `settings.remote` (default `origin`)
    ///
    /// Only deps-update's own branches are replaced, and only while their tip is a commit
    /// deps-update made. With the project's forge token set (`GITHUB_TOKEN`, `GITLAB_TOKEN`,
    /// `GITEA_TOKEN`), https remotes on that forge's host authenticate with it; otherwise your
    /// git credential helper is used.
    #[arg(long, conflicts_with = "dry_run")]
    pub push: bool,

    /// Push, then open or refresh one pull request (GitLab: merge request) per dependency or
    /// group, on the project's forge (`settings.forge`; implies --push)
    #[arg(long, conflicts_with = "dry_run")]
    pub pr: bool,

    /// With --all: keep the dependency dashboard issue's update section current (each
    /// dependency's state: up to date, waiting, pull request open, failed), editing it only
    /// when it changed
    // Not `requires = "all"`: a flag's default value satisfies it.
    #[arg(long, conflicts_with_all = ["dry_run", "names"])]
    pub dashboard: bool,

    /// The repository holding the dashboard issue, on the project's forge
    /// [default: where --pr opens pull requests]
    #[arg(long, value_name = "OWNER/NAME", requires = "dashboard")]
    pub repository: Option<String>,

    /// Build on this release line (branch, or `settings.remote`'s branch of that name) instead
    /// of `settings.base`: its registry and versions, and its pull requests target it
    ///
    /// Its update branches are named after it too (`deps-update/nghttp2-v22.x`, unless
    /// `settings.branch` places `{base}` itself), so each line has its own.
    #[arg(long, value_name = "LINE")]
    pub base: Option<String>,

    /// Vendor into a registered folder that does not exist yet
    ///
    /// Without it, a dependency whose folder is missing (though the registry records a
    /// version) is an error: the `path` may be wrong, and a second copy would land beside the
    /// real one.
    #[arg(long)]
    pub create_missing: bool,

    /// Print one JSON object (`dependencies`, `failures`) instead of the table
    #[arg(long)]
    pub json: bool,

    /// Given as `deps-update NAME...`: a first word that is no dependency may be a mistyped
    /// command.
    #[arg(skip)]
    pub short_form: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Dependencies to check [default: all]
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Check this release line (branch or tag) as git holds it, not the working copy:
    /// what it could update to within its own `allow` (repeatable; a pattern such as `v*.x`
    /// stands for every matching branch, here or on `settings.remote`)
    #[arg(long = "ref", value_name = "REF")]
    pub refs: Vec<String>,

    /// Print a JSON array, one object per dependency, instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print a one-line JSON array, ready for a GitHub Actions matrix (`fromJSON`)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Dependencies whose `version-file` to read [default: all]
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Print one JSON object (`dependencies`, `failures`) instead of the table
    #[arg(long)]
    pub json: bool,
}
