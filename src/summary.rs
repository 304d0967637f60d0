//! What an update did, as plain data, and the two texts rendered from it: the commit message
//! and the pull request's title and body.
//!
//! The apply stages fill in an [`UpdateSummary`]; [`crate::publish`] hands its rendered
//! texts to [`crate::forge`], which knows nothing of how an update is made.

use std::path::PathBuf;

use crate::diff::{ChangeKind, ChangeSummary};
use crate::patch::{PatchOutcome, PatchState};
pub use crate::source::Links;
use crate::vcs::TRAILER;

/// GitHub's limit on a pull request body.
pub const BODY_LIMIT: usize = 65_536;

/// What was verified about the new code, in words for commit messages and pull requests.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Verification {
    /// The archive's sha256, recorded in `deps.toml`.
    pub sha256: Option<String>,
    pub checks: Vec<String>,
}

/// What happened to the update branch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "commit")]
pub enum BranchState {
    /// The branch was created or moved to this commit.
    Committed(String),
    /// The branch already held this very update.
    Unchanged(String),
    /// `--dry-run`: nothing was written.
    Previewed,
}

/// An `after` step whose changes got a commit of their own.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SeparateCommit {
    /// The commit's first line (`commit`, rendered).
    pub headline: String,
    /// The step, and the plain steps after it.
    pub commands: Vec<String>,
    /// The commit; `None` when the steps changed nothing (or were not run: `--dry-run`).
    pub commit: Option<String>,
}

/// An update made, or previewed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UpdateSummary {
    pub name: String,
    /// The vendored folder (or file), relative to the repository root.
    pub path: String,
    pub old_version: String,
    pub new_version: String,
    pub tag: Option<String>,
    /// The tag of the old version, when upstream still lists it.
    pub old_tag: Option<String>,
    pub branch: String,
    /// The branch the update is based on (`main`), for the pull request's base.
    pub base_branch: String,
    /// Where the code came from (archive URL, or remote and commit).
    pub source: String,
    pub links: Links,
    pub verification: Verification,
    pub changes: ChangeSummary,
    /// Files under `path` kept from the current tree (`keep`).
    pub kept: Vec<PathBuf>,
    /// The project's own changes to the folder carried into the new version (three-way).
    pub carried: Vec<Carried>,
    /// How a release archive compared with the tagged source, when it was compared.
    pub provenance: Option<Provenance>,
    /// The patch queue, each patch with what became of it.
    pub patches: Vec<PatchOutcome>,
    /// `after` commands whose changes joined the update commit.
    pub after: Vec<String>,
    /// `after` steps with commits of their own.
    pub separate: Vec<SeparateCommit>,
    /// What a reviewer should look at: new or removed sources the build files do not follow,
    /// license changes.
    pub needs_look: Vec<String>,
    /// Known vulnerabilities the update fixes, keeps or introduces; looked up only for pull
    /// requests.
    pub security: Option<crate::advisory::Security>,
    pub state: BranchState,
    /// With `--dry-run --diff`: the unified diff.
    #[serde(skip)]
    pub diff: Option<String>,
}

impl UpdateSummary {
    /// The commit message under `headline` (`settings.commit-message`, rendered).
    pub fn commit_message(&self, headline: &str) -> String {
        let mut message = format!(
            "{headline}\n\nUpdate {} from {} to {}.\n\nSource: {}\n",
            self.name,
            visible(&self.old_version),
            visible(&self.new_version),
            visible(&self.source)
        );
        if let Some(sha256) = &self.verification.sha256 {
            message.push_str(&format!("SHA-256: {sha256}\n"));
        }
        if !self.verification.checks.is_empty() {
            message.push_str("Verified:\n");
            for check in &self.verification.checks {
                message.push_str(&format!("- {}\n", visible(check)));
            }
        }
        if !self.kept.is_empty() {
            let kept: Vec<String> = self
                .kept
                .iter()
                .map(|p| visible(&p.display().to_string()))
                .collect();
            message.push_str(&format!("Kept local files: {}\n", kept.join(", ")));
        }
        if let Some(provenance) = &self.provenance {
            message.push_str(&format!("Provenance: {}\n", visible(&provenance.line())));
        }
        if !self.carried.is_empty() {
            let carried: Vec<String> = self
                .carried
                .iter()
                .map(|c| {
                    format!(
                        "{} ({})",
                        visible(&c.path.display().to_string()),
                        carried_word(c.kind)
                    )
                })
                .collect();
            message.push_str(&format!("Carried over: {}\n", carried.join(", ")));
        }
        for patch in &self.patches {
            message.push_str(&format!("{}\n", patch_line(patch)));
        }
        if !self.after.is_empty() {
            message.push_str(&format!("Ran after: {}\n", self.after.join("; ")));
        }
        message.push_str(&format!("Changes: {}\n", self.changes.totals()));
        // The trailer marks the commit as the tool's own: only such branch tips are replaced.
        message.push_str(&format!(
            "\n{TRAILER}: {} {}\n",
            self.name, self.new_version
        ));
        message
    }

    /// The pull request title.
    pub fn pr_title(&self) -> String {
        format!("deps: update {} to {}", self.name, self.new_version)
    }

    /// The pull request body; the file table is shortened (never cut mid-row) until it fits
    /// GitHub's limit.
    pub fn pr_body(&self) -> String {
        format!("{}{FOOTER}", self.pr_section(BODY_LIMIT - FOOTER.len()))
    }

    /// The body without its footer, within `limit` bytes where shortening the file table
    /// can make it so.
    fn pr_section(&self, limit: usize) -> String {
        let mut rows = self.changes.files.len();
        loop {
            let text = self.pr_body_with(rows);
            if text.len() <= limit || rows == 0 {
                return text;
            }
            rows /= 2;
        }
    }

    fn pr_body_with(&self, rows: usize) -> String {
        let mut out = String::new();
        let esc = code;
        out.push_str(&format!(
            "Updates **{}** from `{}` to `{}`.\n\n",
            markdown(&self.name),
            esc(&self.old_version),
            esc(&self.new_version)
        ));
        out.push_str("| | |\n| --- | --- |\n");
        out.push_str(&format!(
            "| Dependency | `{}` in `{}` |\n",
            esc(&self.name),
            esc(&self.path)
        ));
        out.push_str(&format!(
            "| Version | `{}` → `{}` |\n",
            esc(&self.old_version),
            esc(&self.new_version)
        ));
        // Link text may hold upstream's tags: no bracket may close it early.
        let text = |t: &str| esc(t).replace('[', "\\[").replace(']', "\\]");
        if let Some((name, page)) = &self.links.project {
            let mut cell = format!("[{}]({page})", text(name));
            if let Some(notes) = &self.links.release_notes {
                cell.push_str(&format!(" · [release notes]({notes})"));
            }
            if let Some((label, compare)) = &self.links.compare {
                cell.push_str(&format!(" · [compare {}]({compare})", text(label)));
            }
            out.push_str(&format!("| Upstream | {cell} |\n"));
        }
        out.push_str(&format!("| Source | {} |\n\n", esc(&self.source)));

        out.push_str("### Verified\n\n");
        if let Some(sha256) = &self.verification.sha256 {
            out.push_str(&format!(
                "- SHA-256 of the archive: `{sha256}` (recorded in `deps.toml`)\n"
            ));
        }
        for check in &self.verification.checks {
            out.push_str(&format!("- {}\n", markdown(check)));
        }
        if self.verification.sha256.is_none() && self.verification.checks.is_empty() {
            out.push_str(
                "- nothing beyond TLS: this dependency has no `checksums` or `signature`\n",
            );
        }
        out.push('\n');

        out.push_str("### Needs a look\n\n");
        if self.needs_look.is_empty() {
            out.push_str(
                "Nothing found: no source files the build files miss, no license changes.\n\n",
            );
        } else {
            for item in &self.needs_look {
                out.push_str(&format!("- {item}\n"));
            }
            out.push('\n');
        }

        if let Some(security) = &self.security {
            out.push_str(&security_section(security));
        }
        out.push_str(&format!("### Changes\n\n{}\n\n", self.changes.totals()));
        if !self.changes.files.is_empty() {
            out.push_str("| | File | Lines |\n| --- | --- | --- |\n");
            for file in self.changes.files.iter().take(rows) {
                let mark = match file.kind {
                    ChangeKind::Added => "added",
                    ChangeKind::Removed => "removed",
                    ChangeKind::Modified => "modified",
                };
                let lines = if file.binary {
                    "binary".to_owned()
                } else {
                    format!("+{} −{}", file.lines_added, file.lines_removed)
                };
                out.push_str(&format!(
                    "| {mark} | `{}` | {lines} |\n",
                    esc(&file.path.display().to_string())
                ));
            }
            let left = self.changes.files.len().saturating_sub(rows);
            if left > 0 {
                out.push_str(&format!("\n… and {left} more files: see the commit.\n"));
            }
            out.push('\n');
        }
        if !self.kept.is_empty() {
            out.push_str("### Kept local files\n\n");
            for kept in &self.kept {
                out.push_str(&format!("- `{}`\n", esc(&kept.display().to_string())));
            }
            out.push('\n');
        }
        if let Some(provenance) = self.provenance.as_ref() {
            out.push_str("### Provenance\n\n");
            out.push_str(&format!(
                "The release archive against the tag `{}` ({}): {} files identical.\n",
                esc(&provenance.tag),
                esc(crate::check::short(&provenance.commit)),
                provenance.identical
            ));
            let list = |out: &mut String, title: &str, paths: &[PathBuf]| {
                if !paths.is_empty() {
                    out.push_str(&format!("\n{title}:\n\n"));
                    for path in paths {
                        out.push_str(&format!("- `{}`\n", esc(&path.display().to_string())));
                    }
                }
            };
            list(
                &mut out,
                "**New in the archive, not in the tag** (look first)",
                &provenance.new_unexpected,
            );
            let older: Vec<PathBuf> = provenance
                .unexpected
                .iter()
                .filter(|p| !provenance.new_unexpected.contains(p))
                .cloned()
                .collect();
            list(&mut out, "**Only in the archive, not in the tag**", &older);
            list(&mut out, "**Different from the tag**", &provenance.differs);
            list(
                &mut out,
                "Only in the archive, as `generated` expects",
                &provenance.expected,
            );
            out.push('\n');
        }
        if !self.carried.is_empty() {
            out.push_str("### Carried over\n\nThe project's own changes to the folder, kept in the new version:\n\n");
            for carried in &self.carried {
                out.push_str(&format!(
                    "- `{}`: {}\n",
                    esc(&carried.path.display().to_string()),
                    carried_word(carried.kind)
                ));
            }
            out.push('\n');
        }
        if !self.patches.is_empty() {
            out.push_str("### Local patches\n\n");
            for patch in &self.patches {
                let state = match patch.state {
                    PatchState::Applied => "applied",
                    PatchState::AlreadyUpstream => {
                        "**already upstream**: the new version contains this change; delete the patch"
                    }
                    PatchState::Merged => {
                        "**merged three-way**: it no longer applies exactly; refresh it with `deps-update patch`"
                    }
                };
                out.push_str(&format!("- `{}`: {state}\n", esc(&patch.patch)));
            }
            out.push('\n');
        }
        if !self.after.is_empty() {
            out.push_str("### `after` commands that ran\n\n");
            for command in &self.after {
                out.push_str(&format!("- `{}`\n", esc(command)));
            }
            out.push('\n');
        }
        if !self.separate.is_empty() {
            out.push_str("### Regenerated in separate commits\n\n");
            for separate in &self.separate {
                let commands: Vec<String> = separate
                    .commands
                    .iter()
                    .map(|c| format!("`{}`", esc(c)))
                    .collect();
                let what = match &separate.commit {
                    Some(commit) => format!("{commit}: {}", esc(&separate.headline)),
                    None => format!("no commit: nothing changed ({})", esc(&separate.headline)),
                };
                out.push_str(&format!("- {}: {what}\n", commands.join(", ")));
            }
            out.push('\n');
        }
        out
    }
}

/// `text` made safe inside a markdown code span (in a table cell or a list): no backtick
/// can end the span, no `|` the cell, no line break the row or the list item, and nothing
/// invisible can reorder what the reviewer reads (see [`visible`]).
pub fn code(text: &str) -> String {
    visible(text).replace('|', "\\|").replace('`', "'")
}

/// `text` made safe as plain markdown (outside a code span): [`visible`], and every
/// character markdown or HTML would act on escaped with a backslash.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in visible(text).chars() {
        if "\\`*_{}[]()<>#+-.!|~&\"'".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` with control characters (line breaks included) and invisible formatting
/// characters (bidirectional overrides, zero-width characters) written as visible escapes
/// (`\n`, `\u{202e}`): for anything from upstream that lands on one line of a commit
/// message, a pull request or a terminal.
pub fn visible(text: &str) -> String {
    let invisible = crate::printer::is_invisible;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || invisible(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The **Security** section: advisories fixed, remaining and introduced, each linked; empty
/// when there are none. A failed lookup is one line that reads the same on every run, so a
/// rerun still writes nothing.
fn security_section(security: &crate::advisory::Security) -> String {
    let mut out = String::new();
    let groups = [
        ("Fixed by this update", &security.fixed),
        ("Still present in the new version", &security.remaining),
        ("Introduced by the new version", &security.introduced),
    ];
    for (title, advisories) in groups {
        if advisories.is_empty() {
            continue;
        }
        out.push_str(&format!("**{title}**\n\n"));
        for advisory in advisories.iter() {
            // The names reviewers search for: CVE ids, and GitHub's advisory ids (a
            // repository's own advisories, which OSV may know under another id).
            let cves: Vec<&String> = advisory
                .aliases
                .iter()
                .filter(|a| a.starts_with("CVE-") || a.starts_with("GHSA-"))
                .collect();
            let also = if cves.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    cves.iter()
                        .map(|c| markdown(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let severity = advisory
                .severity
                .as_deref()
                .map(|s| format!(", {}", markdown(s)))
                .unwrap_or_default();
            out.push_str(&format!(
                "- [{}](<{}>){also}{severity}: {}\n",
                markdown(&advisory.id),
                visible(&advisory.url).replace('>', "%3E"),
                markdown(&advisory.summary)
            ));
        }
        out.push('\n');
    }
    if security.unavailable {
        out.push_str("Known vulnerabilities could not be looked up for this update (OSV or the forge's advisories did not answer); run `deps-update audit`.\n\n");
    }
    if out.is_empty() {
        return out;
    }
    format!("### Security\n\n{out}")
}

/// The end of every pull request body.
const FOOTER: &str = "<sub>Opened by deps-update. The next run refreshes this pull request and its branch; \
commits pushed here by hand stop it from replacing the branch.</sub>\n";

/// The pull request title of a branch: one update's, or a group's.
pub fn pr_title(group: Option<&str>, updates: &[&UpdateSummary]) -> String {
    match (group, updates) {
        (None, [update]) => update.pr_title(),
        _ => {
            let each: Vec<String> = updates
                .iter()
                .map(|u| format!("{} to {}", u.name, u.new_version))
                .collect();
            format!("deps: update {}", each.join(", "))
        }
    }
}

/// The pull request body of a branch: one update's, or a group's with a section per member.
pub fn pr_body(group: Option<&str>, updates: &[&UpdateSummary]) -> String {
    let Some(group) = group else {
        return updates[0].pr_body();
    };
    let mut out = format!(
        "Updates the group **{}**: one commit per dependency, in this order.\n\n\
         | Dependency | From | To |\n| --- | --- | --- |\n",
        code(group)
    );
    for update in updates {
        out.push_str(&format!(
            "| `{}` | `{}` | `{}` |\n",
            code(&update.name),
            code(&update.old_version),
            code(&update.new_version)
        ));
    }
    out.push('\n');
    let budget = BODY_LIMIT.saturating_sub(out.len() + FOOTER.len()) / updates.len().max(1);
    for update in updates {
        let heading = format!("## {}\n\n", markdown(&update.name));
        out.push_str(&heading);
        out.push_str(&update.pr_section(budget.saturating_sub(heading.len())));
    }
    out.push_str(FOOTER);
    out
}

/// A patch's line in a commit message.
fn patch_line(patch: &PatchOutcome) -> String {
    match patch.state {
        PatchState::Applied => format!("Patch applied: {}", visible(&patch.patch)),
        PatchState::AlreadyUpstream => {
            format!(
                "Patch already upstream (can be deleted): {}",
                visible(&patch.patch)
            )
        }
        PatchState::Merged => format!("Patch merged three-way: {}", visible(&patch.patch)),
    }
}

impl CarriedKind {
    /// Its name in JSON and terse output: `added`, `edited`, `merged`, `deleted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Edited => "edited",
            Self::Merged => "merged",
            Self::Deleted => "deleted",
        }
    }
}

/// How a carried-over change is named for people.
fn carried_word(kind: CarriedKind) -> &'static str {
    use CarriedKind;
    match kind {
        CarriedKind::Added => "added by the project",
        CarriedKind::Edited => "edited by the project",
        CarriedKind::Merged => "edited by the project, merged with upstream's changes",
        CarriedKind::Deleted => "deleted by the project",
    }
}

/// How a project change was carried into the new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CarriedKind {
    /// A file the project added (upstream has no such file).
    Added,
    /// A file the project edited that upstream left alone: kept as the project has it.
    Edited,
    /// A file the project edited that upstream changed too: merged line by line.
    Merged,
    /// A file the project deleted: it stays deleted.
    Deleted,
}

/// One carried-over change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Carried {
    pub path: PathBuf,
    pub kind: CarriedKind,
}

/// How the vendored files compare with the tagged source.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Provenance {
    /// The tag and the commit it names.
    pub tag: String,
    pub commit: String,
    /// Files identical to the tag's.
    pub identical: usize,
    /// Files that differ from the tag's file at the same place.
    pub differs: Vec<PathBuf>,
    /// Files only in the archive that `generated` expects.
    pub expected: Vec<PathBuf>,
    /// Files only in the archive that nothing expects.
    pub unexpected: Vec<PathBuf>,
    /// Of `unexpected`, those the previous version's archive did not have.
    pub new_unexpected: Vec<PathBuf>,
}

impl Provenance {
    /// Whether anything is flagged.
    pub fn flagged(&self) -> bool {
        !self.differs.is_empty() || !self.unexpected.is_empty()
    }

    /// One line for people.
    pub fn line(&self) -> String {
        let mut parts = vec![format!(
            "{} files identical to `{}` ({})",
            self.identical,
            self.tag,
            crate::check::short(&self.commit)
        )];
        if !self.expected.is_empty() {
            parts.push(format!(
                "{} only in the archive, as `generated` expects",
                self.expected.len()
            ));
        }
        let named = |paths: &[PathBuf]| {
            paths
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.new_unexpected.is_empty() {
            parts.push(format!(
                "NEW only in the archive, not in the tag: {}",
                named(&self.new_unexpected)
            ));
        }
        let old_unexpected: Vec<PathBuf> = self
            .unexpected
            .iter()
            .filter(|p| !self.new_unexpected.contains(p))
            .cloned()
            .collect();
        if !old_unexpected.is_empty() {
            parts.push(format!(
                "only in the archive, not in the tag: {}",
                named(&old_unexpected)
            ));
        }
        if !self.differs.is_empty() {
            parts.push(format!("differ from the tag: {}", named(&self.differs)));
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(name: &str) -> UpdateSummary {
        UpdateSummary {
            name: name.into(),
            path: format!("deps/{name}"),
            old_version: "1.0.0".into(),
            new_version: "1.1.0".into(),
            tag: None,
            old_tag: None,
            branch: "deps-update/quic".into(),
            base_branch: "main".into(),
            source: "https://example.com/x.tar.gz".into(),
            links: Links::default(),
            verification: Verification::default(),
            changes: ChangeSummary::default(),
            kept: Vec::new(),
            carried: Vec::new(),
            provenance: None,
            patches: vec![
                PatchOutcome {
                    patch: "deps/patches/uv/0001-fix.patch".into(),
                    state: PatchState::Applied,
                },
                PatchOutcome {
                    patch: "deps/patches/uv/0002-old.patch".into(),
                    state: PatchState::AlreadyUpstream,
                },
            ],
            after: Vec::new(),
            separate: vec![SeparateCommit {
                headline: "deps: update archs files".into(),
                commands: vec!["make".into()],
                commit: Some("abc123".into()),
            }],
            needs_look: Vec::new(),
            security: None,
            state: BranchState::Previewed,
            diff: None,
        }
    }

    #[test]
    fn bodies_list_patches_separate_commits_and_group_members() {
        let body = update("uv").pr_body();
        assert!(
            body.contains(
                "### Local patches\n\n- `deps/patches/uv/0001-fix.patch`: applied\n\
                 - `deps/patches/uv/0002-old.patch`: **already upstream**: the new version contains this change; delete the patch\n"
            ),
            "{body}"
        );
        assert!(
            body.contains("### Regenerated in separate commits\n\n- `make`: abc123: deps: update archs files\n"),
            "{body}"
        );
        let message = update("uv").commit_message("deps: update uv to 1.1.0");
        assert!(message.contains(
            "Patch applied: deps/patches/uv/0001-fix.patch\n\
             Patch already upstream (can be deleted): deps/patches/uv/0002-old.patch\n"
        ));
        let (a, b) = (update("ngtcp2"), update("nghttp3"));
        assert_eq!(
            pr_title(Some("quic"), &[&a, &b]),
            "deps: update ngtcp2 to 1.1.0, nghttp3 to 1.1.0"
        );
        assert_eq!(pr_title(None, &[&a]), "deps: update ngtcp2 to 1.1.0");
        let body = pr_body(Some("quic"), &[&a, &b]);
        assert!(body.starts_with("Updates the group **quic**"), "{body}");
        assert!(body.len() <= BODY_LIMIT);
    }

    #[test]
    fn upstream_text_is_escaped_for_each_medium() {
        assert_eq!(code("a|b`c\nd\u{202e}"), "a\\|b'c\\nd\\u{202e}");
        assert_eq!(
            markdown("**x** <img> [y](z)\n# h"),
            "\\*\\*x\\*\\* \\<img\\> \\[y\\]\\(z\\)\\\\n\\# h"
        );
        assert_eq!(visible("v1\r\n\u{1b}[2J"), "v1\\r\\n\\u{1b}[2J");
    }
}
