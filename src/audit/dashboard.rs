//! The dependency dashboard: one issue (label [`DASHBOARD_LABEL`]) showing every dependency,
//! edited in place and only when what it shows changed, so an unchanged night notifies no one.
//! Its body is sections, each written by one kind of run and kept by the others:
//! `update --all --dashboard` writes the updates built on its line (one section per line:
//! up to date, waiting, pull request open, committed, failed), `audit --dashboard` the
//! advisories of every line audited.

use serde::Serialize;

use super::issues::{LineAudit, advisory_name, differs, subject_label};
use crate::forge::{ChangeTarget, ForgeError, Issue, IssueSpec, Issues};
use crate::http::HttpClient;
use crate::summary::{code, markdown, visible};

/// The label of the dashboard issue.
pub const DASHBOARD_LABEL: &str = "dependency-dashboard";
const DASHBOARD_KEY: &str = "<!-- deps-update dashboard -->";

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
}
