//! An audit kept in a tracking repository's issues: one issue per finding (advisory,
//! dependency or nested package, release line); the dashboard issue is [`super::dashboard`].
//!
//! Finding issues carry the label [`FINDING_LABEL`], the line's name and the severity, and a
//! hidden key in their body that says which finding they are. Only open issues count: a
//! finding with no open issue gets one (so an issue closed by hand while the finding still
//! applies is raised again), one whose issue says something else has it edited, and an open
//! issue whose finding is gone (updated away, or ignored with a reason in `deps.toml`) gets a
//! comment saying so and is closed. Only the lines and dependencies this run audited are
//! touched, and a dependency whose advisories could not all be read closes nothing. Nothing
//! changed: nothing is written.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Affecting, DependencyAudit};
use crate::forge::{ChangeTarget, ForgeError, Issue, IssueSpec, Issues};
use crate::http::HttpClient;
use crate::summary::{code, markdown, visible};

/// The label of every finding issue; the open ones with it are the findings known.
pub const FINDING_LABEL: &str = "vulnerability";

const KEY_START: &str = "<!-- deps-update finding: ";
const KEY_END: &str = " -->";

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
pub(super) fn differs(issue: &Issue, spec: &IssueSpec) -> bool {
    issue.title != spec.title
        || issue.body.trim_end() != spec.body.trim_end()
        || spec.labels.iter().any(|l| !issue.labels.contains(l))
}

/// `CVE-2023-44487`: the first CVE name of an advisory, else its id.
pub(super) fn advisory_name(found: &Affecting) -> String {
    let advisory = &found.advisory;
    std::iter::once(&advisory.id)
        .chain(&advisory.aliases)
        .find(|n| n.starts_with("CVE-"))
        .unwrap_or(&advisory.id)
        .clone()
}

/// `` `nghttp2` ``, or `` `deps/npm/node_modules/minimatch`, via `npm` ``.
pub(super) fn subject_label(report: &DependencyAudit) -> String {
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
    fn severity_labels_are_single_words() {
        assert_eq!(
            severity_label(Some("HIGH")).as_deref(),
            Some("severity:high")
        );
        assert_eq!(severity_label(Some("CVSS_V3 CVSS:3.1/AV:N")), None);
        assert_eq!(severity_label(None), None);
    }
}
