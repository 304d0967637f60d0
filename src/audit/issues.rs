//! An audit kept in a tracking repository's issues: one issue per finding (advisory,
//! dependency or nested package, release line), and one dashboard issue for every dependency.
//!
//! Finding issues carry the label [`FINDING_LABEL`], the line's name and the severity, and a
//! hidden key in their body that says which finding they are. Only open issues count: a
//! finding with no open issue gets one (so an issue closed by hand while the finding still
//! applies is raised again), one whose issue says something else has it edited, and an open
//! issue whose finding is gone (updated away, or ignored with a reason in `deps.toml`) gets a
//! comment saying so and is closed. Only the lines and dependencies this run audited are
//! touched, and a dependency whose advisories could not all be read closes nothing. Nothing
//! changed: nothing is written. The dashboard is one issue ([`DASHBOARD_LABEL`]) edited in
//! place, and only when what it shows changed.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Affecting, DependencyAudit};
use crate::forge::{ChangeTarget, ForgeError, Issue, IssueSpec, Issues};
use crate::http::HttpClient;
use crate::summary::{code, markdown, visible};

/// The label of every finding issue; the open ones with it are the findings known.
pub const FINDING_LABEL: &str = "vulnerability";
/// The label of the dashboard issue.
pub const DASHBOARD_LABEL: &str = "dependency-dashboard";

const KEY_START: &str = "<!-- deps-update finding: ";
const KEY_END: &str = " -->";
const DASHBOARD_KEY: &str = "<!-- deps-update dashboard -->";

/// One release line's audit, named as issues name it (`v22.x`, or the working copy's branch).
#[derive(Debug)]
pub struct LineAudit {
    pub line: String,
    pub reports: Vec<DependencyAudit>,
    /// The open pull (merge) request of each dependency's update on this line, by name:
    /// `(number, url)`.
    pub proposed: std::collections::BTreeMap<String, (u64, String)>,
}

/// What a run did to the finding issues.
#[derive(Debug, Default, Serialize)]
pub struct IssueChanges {
    pub opened: Vec<Issue>,
    pub edited: Vec<Issue>,
    /// Each with the comment it was closed with.
    pub closed: Vec<(Issue, String)>,
    pub unchanged: usize,
}

/// What a run did to the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum DashboardOutcome {
    Created { number: u64, url: String },
    Edited { number: u64, url: String },
    Unchanged { number: u64, url: String },
}

impl DashboardOutcome {
    /// `dashboard in `node/tracker`: #7 refreshed https://…`.
    pub fn said(&self, repository: &str) -> String {
        let (what, number, url) = match self {
            Self::Created { number, url } => ("opened", number, url),
            Self::Edited { number, url } => ("refreshed", number, url),
            Self::Unchanged { number, url } => ("unchanged", number, url),
        };
        format!(
            "dashboard in `{}`: #{number} {what} {}",
            visible(repository),
            visible(url)
        )
    }
}

/// Which finding an issue is about, kept in its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Key {
    line: String,
    /// The dependency's name, or a nested package's path.
    subject: String,
    /// The vendored dependency (the parent, for a nested package).
    dependency: String,
    advisory: String,
    #[serde(default)]
    aliases: Vec<String>,
}

impl Key {
    fn of(line: &str, report: &DependencyAudit, found: &Affecting) -> Self {
        Self {
            line: line.to_owned(),
            subject: report.path.clone().unwrap_or_else(|| report.name.clone()),
            dependency: match &report.via {
                Some(via) if !report.entry => via.clone(),
                _ => report.name.clone(),
            },
            advisory: found.advisory.id.clone(),
            aliases: found.advisory.aliases.clone(),
        }
    }

    /// The same finding: line and subject, and the advisory under any of its names.
    fn same(&self, other: &Self) -> bool {
        let names = |k: &Self| -> BTreeSet<String> {
            std::iter::once(&k.advisory)
                .chain(&k.aliases)
                .map(|n| n.to_ascii_uppercase())
                .collect()
        };
        self.line == other.line
            && self.subject == other.subject
            && !names(self).is_disjoint(&names(other))
    }

    fn read(body: &str) -> Option<Self> {
        let start = body.rfind(KEY_START)? + KEY_START.len();
        let end = body[start..].find(KEY_END)? + start;
        serde_json::from_str(&body[start..end]).ok()
    }

    fn written(&self) -> String {
        // `--` cannot end the comment early: JSON escapes nothing there, so spell it out.
        let json = serde_json::to_string(self)
            .expect("keys serialize")
            .replace("--", "-\\u002d");
        format!("{KEY_START}{json}{KEY_END}")
    }
}

/// Keeps one open issue per finding of `audits` in `target`, and closes those whose finding
/// is gone. `names`: the dependencies this run was limited to (all when empty).
pub async fn sync_findings(
    issues: &dyn Issues,
    http: &HttpClient,
    target: &ChangeTarget,
    audits: &[LineAudit],
    names: &[String],
) -> Result<IssueChanges, ForgeError> {
    let open = issues.open_issues(http, target, FINDING_LABEL).await?;
    let mut known: Vec<(Key, Issue)> = open
        .into_iter()
        .filter_map(|issue| Key::read(&issue.body).map(|key| (key, issue)))
        .collect();
    known.sort_by_key(|(_, issue)| issue.number);
    let mut taken = vec![false; known.len()];
    let mut changes = IssueChanges::default();
    let mut ignored: Vec<(Key, String)> = Vec::new();
    for audit in audits {
        for report in &audit.reports {
            for found in &report.advisories {
                let key = Key::of(&audit.line, report, found);
                if let Some(reason) = &found.ignored {
                    ignored.push((key, reason.clone()));
                    continue;
                }
                let proposed = match report.entry {
                    true => audit.proposed.get(&report.name),
                    false => None,
                };
                let spec = finding_spec(&audit.line, report, found, &key, proposed);
                let mut matching = known
                    .iter()
                    .enumerate()
                    .filter(|(i, (k, _))| !taken[*i] && k.same(&key))
                    .map(|(i, _)| i)
                    .collect::<Vec<_>>()
                    .into_iter();
                match matching.next() {
                    None => changes
                        .opened
                        .push(issues.create(http, target, &spec).await?),
                    Some(first) => {
                        taken[first] = true;
                        let issue = &known[first].1;
                        if differs(issue, &spec) {
                            issues.edit(http, target, issue, &spec).await?;
                            changes.edited.push(issue.clone());
                        } else {
                            changes.unchanged += 1;
                        }
                        // A parallel run's twin: closed in favour of the oldest.
                        for twin in matching {
                            taken[twin] = true;
                            let comment = format!("Duplicate of #{}.", issue.number);
                            let twin = &known[twin].1;
                            issues.close(http, target, twin, &comment, false).await?;
                            changes.closed.push((twin.clone(), comment));
                        }
                    }
                }
            }
        }
    }
    for (index, (key, issue)) in known.iter().enumerate() {
        if taken[index] {
            continue;
        }
        let Some(audit) = audits.iter().find(|a| a.line == key.line) else {
            continue;
        };
        if !names.is_empty() && !names.contains(&key.dependency) {
            continue;
        }
        let report = audit
            .reports
            .iter()
            .find(|r| r.path.as_ref().unwrap_or(&r.name) == &key.subject);
        if report.is_some_and(|r| r.incomplete) {
            continue;
        }
        let (comment, resolved) = match ignored.iter().find(|(k, _)| k.same(key)) {
            Some((_, reason)) => (
                format!(
                    "Ignored in `deps.toml` (`ignore-advisories`): {}",
                    markdown(reason)
                ),
                false,
            ),
            None => (
                match report {
                    Some(report) => format!(
                        "No longer found on `{}`: {} `{}` is not affected.",
                        code(&key.line),
                        subject_label(report),
                        code(&report.version)
                    ),
                    None => format!(
                        "No longer found on `{}`: `{}` is not vendored there any more.",
                        code(&key.line),
                        code(&key.subject)
                    ),
                },
                true,
            ),
        };
        issues
            .close(http, target, issue, &comment, resolved)
            .await?;
        changes.closed.push((issue.clone(), comment));
    }
    Ok(changes)
}

/// Whether `issue` says something other than `spec` (labels it lacks; extra ones are kept).
fn differs(issue: &Issue, spec: &IssueSpec) -> bool {
    issue.title != spec.title
        || issue.body.trim_end() != spec.body.trim_end()
        || spec.labels.iter().any(|l| !issue.labels.contains(l))
}

/// `CVE-2023-44487`: the first CVE name of an advisory, else its id.
fn advisory_name(found: &Affecting) -> String {
    let advisory = &found.advisory;
    std::iter::once(&advisory.id)
        .chain(&advisory.aliases)
        .find(|n| n.starts_with("CVE-"))
        .unwrap_or(&advisory.id)
        .clone()
}

/// `` `nghttp2` ``, or `` `deps/npm/node_modules/minimatch`, via `npm` ``.
fn subject_label(report: &DependencyAudit) -> String {
    match (&report.path, &report.via) {
        (Some(path), Some(via)) => format!("`{}` (via `{}`)", code(path), code(via)),
        _ => format!("`{}`", code(&report.name)),
    }
}

/// A label from a severity that is one word (`HIGH`): `severity:high`.
fn severity_label(severity: Option<&str>) -> Option<String> {
    let severity = severity?.trim();
    (!severity.is_empty() && severity.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| format!("severity:{}", severity.to_ascii_lowercase()))
}

fn finding_spec(
    line: &str,
    report: &DependencyAudit,
    found: &Affecting,
    key: &Key,
    proposed: Option<&(u64, String)>,
) -> IssueSpec {
    let advisory = &found.advisory;
    let who = match &report.via {
        Some(via) => format!("{}, via {via}", report.name),
        None => report.name.clone(),
    };
    let title = visible(&format!("{} ({who}) found on {line}", advisory_name(found)));
    let mut names = vec![advisory.id.clone()];
    names.extend(advisory.aliases.iter().cloned());
    let vendored = match &report.path {
        Some(path) => format!("`{}@{}`", code(path), code(&report.version)),
        None => format!("`{}`", code(&report.version)),
    };
    let update = match (found.fixed_by_update, &report.latest) {
        (Some(true), Some(latest)) => match proposed {
            Some((number, url)) => format!(
                "fixed by the update to `{}`, open in [#{number}](<{}>)",
                code(latest),
                visible(url).replace('>', "%3E")
            ),
            None => format!("fixed by the update to `{}`", code(latest)),
        },
        (Some(false), Some(latest)) => {
            format!("still affects `{}`, the newest allowed", code(latest))
        }
        _ if report.via.is_some() => format!(
            "comes with `{}`",
            code(report.via.as_deref().unwrap_or_default())
        ),
        _ => "no newer version allowed".into(),
    };
    let mut body = String::new();
    body.push_str(&format!("**{}**\n\n", markdown(&advisory.summary)));
    body.push_str("| | |\n|---|---|\n");
    body.push_str(&format!(
        "| Advisory | [{}](<{}>) |\n",
        names
            .iter()
            .map(|n| markdown(n))
            .collect::<Vec<_>>()
            .join(", "),
        visible(&advisory.url).replace('>', "%3E")
    ));
    body.push_str(&format!(
        "| Severity | {} |\n",
        advisory
            .severity
            .as_deref()
            .map_or("unknown".into(), markdown)
    ));
    body.push_str(&format!("| Dependency | {} |\n", subject_label(report)));
    body.push_str(&format!("| Release line | `{}` |\n", code(line)));
    body.push_str(&format!("| Vendored | {vendored} |\n"));
    body.push_str(&format!(
        "| Fixed in | {} |\n",
        if advisory.fixed_in.is_empty() {
            "not known".to_owned()
        } else {
            advisory
                .fixed_in
                .iter()
                .map(|f| format!("`{}`", code(f)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    body.push_str(&format!("| Update | {update} |\n"));
    body.push_str(
        "\nKept by `deps-update audit --issues`: closed when the finding is gone, or when \
         `deps.toml` ignores the advisory with a reason (`ignore-advisories`). Closing it by \
         hand while it still applies raises it again.\n\n",
    );
    body.push_str(&key.written());
    body.push('\n');
    let mut labels = vec![FINDING_LABEL.to_owned(), line.to_owned()];
    labels.extend(severity_label(advisory.severity.as_deref()));
    IssueSpec {
        title,
        body,
        labels,
    }
}

/// What a dashboard section comes from: `audit --dashboard` writes the advisories, `update
/// --all --dashboard` the updates of the line it builds on (one section per line); each
/// keeps the others as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    /// The updates built on this branch (`main`, `v22.x`).
    Updates(String),
    Advisories,
}

const SECTION_START: &str = "<!-- deps-update dashboard section: ";
const SECTION_END: &str = "<!-- /deps-update dashboard section: ";

impl Section {
    fn key(&self) -> String {
        match self {
            // Markers hold the name as JSON: no `-->` can end them early.
            Self::Updates(line) => format!(
                "updates {}",
                serde_json::to_string(line)
                    .expect("strings serialize")
                    .replace("--", "-\\u002d")
            ),
            Self::Advisories => "advisories".into(),
        }
    }
}

/// The sections of a dashboard body, in order: each key with its whole text, markers
/// included.
fn sections_of(body: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find(SECTION_START) {
        let after = &rest[start + SECTION_START.len()..];
        let Some(key_end) = after.find(" -->") else {
            break;
        };
        let key = after[..key_end].to_owned();
        let end_marker = format!("{SECTION_END}{key} -->");
        let Some(end) = rest[start..].find(&end_marker) else {
            break;
        };
        let end = start + end + end_marker.len();
        found.push((key, rest[start..end].to_owned()));
        rest = &rest[end..];
    }
    found
}

/// The dashboard's body: the update sections, then the advisories; `fresh` as this run wrote
/// its `section`, the others as `existing` holds them.
fn dashboard_with(existing: Option<&str>, section: &Section, fresh: &str) -> String {
    let key = section.key();
    let text = format!("{SECTION_START}{key} -->\n{fresh}{SECTION_END}{key} -->");
    let mut sections = existing.map(sections_of).unwrap_or_default();
    match sections.iter_mut().find(|(k, _)| *k == key) {
        Some(kept) => kept.1 = text,
        None => {
            // Update sections come before the advisories.
            let at = match section {
                Section::Updates(_) => sections
                    .iter()
                    .position(|(k, _)| k == "advisories")
                    .unwrap_or(sections.len()),
                Section::Advisories => sections.len(),
            };
            sections.insert(at, (key, text));
        }
    }
    let mut body = String::from(
        "Every vendored dependency: its update state (kept by `deps-update update --dashboard`) \
         and its known vulnerabilities (kept by `deps-update audit --dashboard`).\n",
    );
    for (_, text) in sections {
        body.push('\n');
        body.push_str(&text);
        body.push('\n');
    }
    body.push('\n');
    body.push_str(DASHBOARD_KEY);
    body.push('\n');
    body
}

/// Keeps the dashboard issue in `target` current with the advisories of `audits`.
pub async fn sync_dashboard(
    issues: &dyn Issues,
    http: &HttpClient,
    target: &ChangeTarget,
    audits: &[LineAudit],
) -> Result<DashboardOutcome, ForgeError> {
    sync_section(
        issues,
        http,
        target,
        &Section::Advisories,
        &advisories_section(audits),
    )
    .await
}

/// Keeps `section` of the dashboard issue in `target` as `text`: opens the issue, edits it
/// when what it shows changed, else writes nothing.
pub async fn sync_section(
    issues: &dyn Issues,
    http: &HttpClient,
    target: &ChangeTarget,
    section: &Section,
    text: &str,
) -> Result<DashboardOutcome, ForgeError> {
    let mut open: Vec<Issue> = issues
        .open_issues(http, target, DASHBOARD_LABEL)
        .await?
        .into_iter()
        .filter(|i| i.body.contains(DASHBOARD_KEY))
        .collect();
    open.sort_by_key(|i| i.number);
    let spec = IssueSpec {
        title: "Dependency dashboard".into(),
        body: dashboard_with(open.first().map(|i| i.body.as_str()), section, text),
        labels: vec![DASHBOARD_LABEL.to_owned()],
    };
    let Some(existing) = open.first() else {
        let created = issues.create(http, target, &spec).await?;
        return Ok(DashboardOutcome::Created {
            number: created.number,
            url: created.url,
        });
    };
    for twin in &open[1..] {
        let comment = format!("Duplicate of #{}.", existing.number);
        issues.close(http, target, twin, &comment, false).await?;
    }
    let (number, url) = (existing.number, existing.url.clone());
    // The title is the project's to change.
    let spec = IssueSpec {
        title: existing.title.clone(),
        ..spec
    };
    if differs(existing, &spec) {
        issues.edit(http, target, existing, &spec).await?;
        Ok(DashboardOutcome::Edited { number, url })
    } else {
        Ok(DashboardOutcome::Unchanged { number, url })
    }
}

/// Each line's dependencies: vendored and newest allowed versions, state, open advisories.
fn advisories_section(audits: &[LineAudit]) -> String {
    let mut body = String::from("## Advisories\n");
    for audit in audits {
        body.push_str(&format!("\n### `{}`\n\n", code(&audit.line)));
        body.push_str("| Dependency | Vendored | Newest | State | Open advisories |\n");
        body.push_str("|---|---|---|---|---|\n");
        for report in &audit.reports {
            let state = match (&report.latest, &report.via) {
                (_, Some(_)) => "nested".to_owned(),
                (Some(latest), None) if latest == &report.version => "up to date".to_owned(),
                (Some(latest), None) => format!("update to `{}` available", code(latest)),
                (None, None) => "newest unknown".to_owned(),
            };
            let mut state = state;
            if report.incomplete {
                state.push_str("; advisories incomplete");
            }
            let ignored: Vec<String> = report
                .advisories
                .iter()
                .filter_map(|a| {
                    let reason = a.ignored.as_ref()?;
                    Some(format!(
                        "{} ignored: {}",
                        markdown(&a.advisory.id),
                        markdown(reason)
                    ))
                })
                .collect();
            if !ignored.is_empty() {
                state.push_str(&format!("; {}", ignored.join("; ")));
            }
            let open: Vec<String> = report
                .open()
                .map(|a| {
                    format!(
                        "[{}](<{}>){}",
                        markdown(&advisory_name(a)),
                        visible(&a.advisory.url).replace('>', "%3E"),
                        a.advisory
                            .severity
                            .as_deref()
                            .map(|s| format!(" ({})", markdown(s)))
                            .unwrap_or_default()
                    )
                })
                .collect();
            body.push_str(&format!(
                "| {} | `{}` | {} | {} | {} |\n",
                subject_label(report),
                code(&report.version),
                report
                    .latest
                    .as_deref()
                    .map_or("–".into(), |l| format!("`{}`", code(l))),
                state,
                if open.is_empty() {
                    "none known".to_owned()
                } else {
                    open.join(", ")
                }
            ));
        }
    }
    body
}

/// One dependency's update, as `update --dashboard` shows it.
#[derive(Debug, Clone)]
pub struct UpdateRow {
    /// The dependency, or `group NAME`.
    pub name: String,
    pub vendored: String,
    /// The newest allowed version, when it is known.
    pub newest: Option<String>,
    pub state: UpdateState,
}

/// Where a dependency's update stands.
#[derive(Debug, Clone)]
pub enum UpdateState {
    /// Nothing to do; the note says why when it waits (`min-age-days`, `quiet-days`).
    UpToDate { note: Option<String> },
    /// Its pull (merge) request is open.
    Proposed { number: u64, url: String },
    /// Committed on its branch, not published.
    Committed { branch: String },
    /// The run failed for it, with the one-line reason.
    Failed { reason: String },
}

/// The updates of a run built on `base`, with the run's page (`run`) when it has one.
pub fn updates_section(base: &str, rows: &[UpdateRow], run: Option<&str>) -> String {
    let mut body = format!("## Updates\n\nOn `{}`", code(base));
    if let Some(run) = run {
        body.push_str(&format!(
            ", as of [this run](<{}>)",
            visible(run).replace('>', "%3E")
        ));
    }
    body.push_str(".\n\n| Dependency | Vendored | Newest | State |\n|---|---|---|---|\n");
    for row in rows {
        let state = match &row.state {
            UpdateState::UpToDate { note: Some(note) } if note.contains("; waiting") => {
                // Only the rule and the day: an age that grows daily would edit the issue daily.
                let rule = ["min-age-days", "quiet-days"]
                    .into_iter()
                    .find(|r| note.contains(r))
                    .unwrap_or("a cooldown");
                match note.split_once("; waiting until ") {
                    Some((_, day)) => format!("waiting for `{rule}` until {}", markdown(day)),
                    None => format!("waiting for `{rule}`"),
                }
            }
            UpdateState::UpToDate { .. } => "up to date".to_owned(),
            UpdateState::Proposed { number, url } => {
                format!("[#{number}](<{}>) open", visible(url).replace('>', "%3E"))
            }
            UpdateState::Committed { branch } => {
                format!("committed on `{}`, not published", code(branch))
            }
            UpdateState::Failed { reason } => format!("failed: {}", markdown(reason)),
        };
        body.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            code(&row.name),
            code(&row.vendored),
            row.newest
                .as_deref()
                .map_or("–".into(), |l| format!("`{}`", code(l))),
            state
        ));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_survive_the_body_and_match_by_any_name() {
        let key = Key {
            line: "v22.x".into(),
            subject: "nghttp2".into(),
            dependency: "nghttp2".into(),
            advisory: "OSV-2023-1".into(),
            aliases: vec!["CVE-2023-44487".into(), "x-->y".into()],
        };
        let body = format!("text\n\n{}\n", key.written());
        assert!(!key.written()[4..key.written().len() - 3].contains("--"));
        assert_eq!(Key::read(&body), Some(key.clone()));
        let other = Key {
            advisory: "GHSA-vx74-f528-fxqg".into(),
            aliases: vec!["cve-2023-44487".into()],
            ..key.clone()
        };
        assert!(key.same(&other));
        let elsewhere = Key {
            line: "v20.x".into(),
            ..other
        };
        assert!(!key.same(&elsewhere));
        assert_eq!(Key::read("no key here"), None);
    }

    #[test]
    fn the_updates_section_renders_every_state() {
        let row = |name: &str, state| UpdateRow {
            name: name.into(),
            vendored: "1.0.0".into(),
            newest: Some("2.0.0".into()),
            state,
        };
        let text = updates_section(
            "v22.x",
            &[
                row("a", UpdateState::UpToDate { note: None }),
                row(
                    "b",
                    UpdateState::UpToDate {
                        note: Some(
                            "2.0.0 came out 2 days ago, less than `min-age-days = 7`; waiting until 2026-12-08".into(),
                        ),
                    },
                ),
                row(
                    "c",
                    UpdateState::Proposed {
                        number: 12,
                        url: "https://github.com/o/n/pull/12".into(),
                    },
                ),
                row(
                    "d",
                    UpdateState::Committed {
                        branch: "deps-update/d".into(),
                    },
                ),
                row(
                    "e",
                    UpdateState::Failed {
                        reason: "checksum | mismatch".into(),
                    },
                ),
            ],
            Some("https://ci.example/runs/1"),
        );
        assert!(text.starts_with(
            "## Updates\n\nOn `v22.x`, as of [this run](<https://ci.example/runs/1>)."
        ));
        for line in [
            "| `a` | `1.0.0` | `2.0.0` | up to date |",
            "| `b` | `1.0.0` | `2.0.0` | waiting for `min-age-days` until 2026\\-12\\-08 |",
            "| `c` | `1.0.0` | `2.0.0` | [#12](<https://github.com/o/n/pull/12>) open |",
            "| `d` | `1.0.0` | `2.0.0` | committed on `deps-update/d`, not published |",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
        assert!(
            text.contains("| `e` | `1.0.0` | `2.0.0` | failed: checksum \\| mismatch |"),
            "{text}"
        );
        // Each section keeps the other's text.
        let main = Section::Updates("main".into());
        let line = Section::Updates("v22.x-->".into());
        let body = dashboard_with(None, &Section::Advisories, "ADVISORIES\n");
        let body = dashboard_with(Some(&body), &main, "MAIN\n");
        let body = dashboard_with(Some(&body), &line, "LINE\n");
        let body = dashboard_with(Some(&body), &main, "MAIN AGAIN\n");
        let at = |text: &str| body.find(text).unwrap_or_else(|| panic!("{text}: {body}"));
        assert!(
            at("MAIN AGAIN") < at("LINE") && at("LINE") < at("ADVISORIES"),
            "{body}"
        );
        assert!(!body.contains("MAIN\n"), "{body}");
        assert_eq!(sections_of(&body).len(), 3, "{body}");
        assert!(body.ends_with(&format!("{DASHBOARD_KEY}\n")));
    }

    #[test]
    fn severity_labels_are_single_words() {
        assert_eq!(
            severity_label(Some("HIGH")).as_deref(),
            Some("severity:high")
        );
        assert_eq!(severity_label(Some("CVSS_V3 CVSS:3.1/AV:N")), None);
        assert_eq!(severity_label(None), None);
    }
}
