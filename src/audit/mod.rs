//! Known vulnerabilities of what is vendored: OSV and GitHub's repository security advisories.
//!
//! For each dependency, the vendored version and the newest allowed one (as `check` finds it)
//! are asked about:
//!
//! - OSV, in one `POST /v1/querybatch` (then `GET /v1/vulns/{id}` for each advisory's
//!   details), following `next_page_token` until none comes: C and C++ code from a git forge by
//!   its commit (a tag resolved through GitHub's API, annotated tags dereferenced) and by the
//!   repository with the `GIT` ecosystem and the tag, since OSV's C/C++ records carry GIT
//!   ranges and no package (a `pkg:github` purl would match nothing); npm packages by name and
//!   version. Pages without a package or repository (`source = "url"`) cannot be asked.
//! - GitHub's published repository advisories of each GitHub upstream, which OSV may lack;
//!   their `vulnerable_version_range` is matched against the versions, and one that states no
//!   range is listed as such.
//!
//! An advisory affects the vendored version when a query about it returned it (or its range
//! holds it); the update fixes it when the newest allowed version is not affected. The
//! dependency's `ignore-advisories` set advisories aside, by id or alias, with their reason.
//!
//! Packages nested inside a vendored dependency are asked about too: npm packages under any
//! `node_modules`, as npm packages by the name and version their `package.json` gives, and
//! libraries `init`'s catalog recognises in its sub-folders, as a registry dependency of that
//! upstream by the version their files state. The report names their path and the dependency
//! they came with; so does the report of a registry entry with a `parent`.
//!
//! A run audits the working copy, or release lines: branches or tags (`--ref`,
//! `release-lines`) whose `deps.toml` and version files are read from git without checking
//! them out. Findings can be kept as one issue each, and the state of every dependency as one
//! dashboard issue, in a tracking repository.
//!
//! Here the assessment and its report; `osv` holds the batch query and the details, `forge`
//! the tag resolution and the repository advisories, `nested` the packages inside a vendored
//! tree, `lines` the release lines, `issues` the finding issues, `dashboard` the dashboard.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use reqwest::Url;
use serde_json::Value;

pub mod dashboard;
mod forge;
pub mod issues;
pub mod lines;
pub mod nested;
mod osv;

use crate::advisory::RepoAdvisory;
use forge::{commits_of, repo_advisories};
use osv::{OsvRecord, osv_advisory, osv_queries, query_osv};

pub use crate::advisory::{Advisory, Security};
use crate::check::{check_dependency, current_version};
use crate::http::HttpError;
use crate::manifest::Dependency;
use crate::source::{SourceContext, SourceSpec};
use crate::vendored::VendoredTree;
pub use nested::{NestedPackage, Upstream};

/// The public OSV API.
pub const DEFAULT_OSV_API: &str = "https://api.osv.dev";

/// Pages followed at most (`next_page_token` rounds, GitHub `Link` pages).
const MAX_PAGES: usize = 20;

/// An advisory that affects the vendored version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Affecting {
    #[serde(flatten)]
    pub advisory: Advisory,
    /// Whether the newest allowed version is free of it; `None` when that version is not known
    /// or is the vendored one.
    pub fixed_by_update: Option<bool>,
    /// `ignore-advisories`: why the project set it aside.
    pub ignored: Option<String>,
}

/// One dependency's audit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DependencyAudit {
    pub name: String,
    pub version: String,
    /// The newest allowed version, when it could be found.
    pub latest: Option<String>,
    pub advisories: Vec<Affecting>,
    /// Advisories that affect the newest allowed version but not the vendored one.
    pub introduced: Vec<Advisory>,
    /// What could not be asked, and why (said, never silent).
    pub notes: Vec<String>,
    /// A source of advisories did not answer: the list may be incomplete.
    pub incomplete: bool,
    /// The release line it was audited on (`--ref`, `release-lines`); none: the working copy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// A package nested inside a vendored dependency: its folder (`deps/npm/node_modules/x`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The vendored dependency a nested package came with, or whose folder a `parent` entry
    /// is vendored inside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Whether it is an entry of the registry (a `parent` entry is; a nested package is not).
    #[serde(skip)]
    pub entry: bool,
}

impl DependencyAudit {
    /// Advisories that affect the vendored version and are not ignored.
    pub fn open(&self) -> impl Iterator<Item = &Affecting> {
        self.advisories.iter().filter(|a| a.ignored.is_none())
    }
}

/// Why the audit could not run at all (a dependency's own trouble is a note instead).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("OSV could not be asked")]
    Osv(#[source] HttpError),
    #[error(transparent)]
    Line(#[from] lines::LineError),
}

impl AuditError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Osv(e) => e
                .hint()
                .or_else(|| Some("check `OSV_API_URL`, or run again later".into())),
            Self::Line(e) => e.hint(),
        }
    }
}

/// What one dependency's two versions are, as far as they are known.
pub(crate) struct Subject<'a> {
    dep: &'a Dependency,
    current: String,
    current_tag: Option<String>,
    latest: Option<(String, Option<String>)>,
    notes: Vec<String>,
    /// Where OSV's GIT ranges name its repository.
    repository: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Side {
    Current,
    Latest,
}

/// The OSV API: `OSV_API_URL`, else the public one.
pub fn osv_api() -> Result<Url, crate::config::ConfigError> {
    let text = std::env::var("OSV_API_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_OSV_API.into());
    Url::parse(text.trim()).map_err(|_| crate::config::ConfigError::InvalidUrl {
        name: "OSV_API_URL".into(),
        value: text.clone(),
    })
}

/// Audits `deps` and the packages nested in them: checks each dependency, asks OSV once for
/// all, and GitHub per repository. Nested packages follow the dependencies in the result.
pub async fn audit(
    deps: &[&Dependency],
    nested: &[NestedPackage],
    tree: &VendoredTree,
    context: &SourceContext,
    osv: &Url,
    now: i64,
    jobs: usize,
) -> Result<Vec<DependencyAudit>, AuditError> {
    let all_nested = nested;
    // A nested package is asked about as an npm package, a nested library as a registry
    // dependency of its upstream.
    let nested: Vec<(&NestedPackage, Dependency)> = nested
        .iter()
        .filter_map(|package| {
            let parent = deps.iter().find(|d| d.name == package.parent)?;
            package
                .versioned()
                .then(|| (package, package.dependency(parent)))
        })
        .collect();
    let mut subjects: Vec<Subject<'_>> = futures::stream::iter(deps.iter().copied())
        .map(|dep| subject(dep, tree, context, now))
        .buffered(jobs.max(1))
        .collect()
        .await;
    subjects.extend(nested.iter().map(|(package, dep)| Subject {
        dep,
        current: package.version.clone(),
        current_tag: dep.tag_of(&package.version),
        latest: None,
        notes: Vec::new(),
        repository: repository(dep, context),
    }));
    let mut reports = assess(subjects, context, osv, jobs).await?;
    for (report, dep) in reports.iter_mut().zip(deps) {
        // A registry entry vendored inside another's folder is nested via that one.
        if let Some(parent) = &dep.parent {
            report.path = Some(slashed(&dep.path));
            report.via = Some(parent.clone());
        }
    }
    // What could not be asked about is said on its parent's report: a known gap, not silence.
    for package in all_nested.iter().filter(|p| !p.versioned()) {
        if let Some(report) = reports[..deps.len()]
            .iter_mut()
            .find(|r| r.name == package.parent)
        {
            report.notes.push(format!(
                "`{}` looks like {} but states no version: its advisories were not asked",
                package.path, package.name
            ));
        }
    }
    for (report, (package, _)) in reports[deps.len()..].iter_mut().zip(&nested) {
        report.path = Some(package.path.clone());
        report.via = Some(package.parent.clone());
        report.entry = false;
    }
    Ok(reports)
}

/// A relative path with `/` between its parts, on every system.
fn slashed(path: &std::path::Path) -> String {
    path.components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect::<Vec<_>>()
        .join("/")
}

/// The advisories an update from `old` to `new` (each with its tag, if any) fixes, keeps and
/// introduces. Never fails: a lookup that fails says so in [`Security::unavailable`].
pub async fn for_update(
    dep: &Dependency,
    (old, old_tag): (&str, Option<&str>),
    (new, new_tag): (&str, Option<&str>),
    context: &SourceContext,
    osv: &Url,
) -> Security {
    let subject = Subject {
        dep,
        current: old.to_owned(),
        current_tag: old_tag.map(str::to_owned),
        latest: Some((new.to_owned(), new_tag.map(str::to_owned))),
        notes: Vec::new(),
        repository: repository(dep, context),
    };
    let Ok(mut reports) = assess(vec![subject], context, osv, 1).await else {
        return Security {
            unavailable: true,
            ..Security::default()
        };
    };
    let report = reports.remove(0);
    let mut security = Security {
        introduced: report.introduced,
        // An upstream whose advisories could not be read is a failed lookup too.
        unavailable: report.incomplete,
        ..Security::default()
    };
    for found in report.advisories {
        let mut advisory = found.advisory;
        if let Some(reason) = found.ignored {
            advisory.summary = format!("{} (ignored: {reason})", advisory.summary);
        }
        match found.fixed_by_update {
            Some(true) => security.fixed.push(advisory),
            _ => security.remaining.push(advisory),
        }
    }
    security
}

/// Asks OSV and GitHub about the subjects' versions.
async fn assess(
    subjects: Vec<Subject<'_>>,
    context: &SourceContext,
    osv: &Url,
    jobs: usize,
) -> Result<Vec<DependencyAudit>, AuditError> {
    let http = &context.http;

    // The OSV queries, each for one dependency's one side.
    let mut queries: Vec<(usize, Side, Value)> = Vec::new();
    let mut notes: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let resolved: Vec<Vec<(Side, Option<String>)>> = futures::stream::iter(subjects.iter())
        .map(|s| commits_of(context, s))
        .buffered(jobs.max(1))
        .collect()
        .await;
    for (index, subject) in subjects.iter().enumerate() {
        let mut sides = vec![(
            Side::Current,
            subject.current.clone(),
            subject.current_tag.clone(),
        )];
        if let Some((latest, tag)) = &subject.latest
            && latest != &subject.current
        {
            sides.push((Side::Latest, latest.clone(), tag.clone()));
        }
        let before = queries.len();
        for (side, version, tag) in sides {
            let commit = resolved[index]
                .iter()
                .find(|(s, _)| *s == side)
                .and_then(|(_, c)| c.clone());
            for query in osv_queries(
                subject.dep,
                subject.repository.as_deref(),
                &version,
                tag.as_deref(),
                commit.as_deref(),
            ) {
                queries.push((index, side, query));
            }
        }
        if queries.len() == before {
            notes
                .entry(index)
                .or_default()
                .push("OSV cannot be asked about it: it has no package and no repository".into());
        }
    }
    let found = query_osv(http, osv, &queries).await?;
    let ids: BTreeSet<&String> = found.values().flatten().collect();
    let details: BTreeMap<String, OsvRecord> = futures::stream::iter(ids)
        .map(|id| async move { (id.clone(), osv_advisory(http, osv, id).await) })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|(id, result)| {
            let record = result.unwrap_or_else(|_| OsvRecord::unreadable(&id));
            (id, record)
        })
        .collect();
    let forge_advisories: Vec<Result<Vec<RepoAdvisory>, HttpError>> =
        futures::stream::iter(subjects.iter())
            .map(|s| repo_advisories(context, &s.dep.source))
            .buffered(jobs.max(1))
            .collect()
            .await;

    let mut reports = Vec::new();
    for (index, subject) in subjects.into_iter().enumerate() {
        let mut by_side: BTreeMap<Side, BTreeMap<String, Advisory>> = BTreeMap::new();
        for ((query_index, side), ids) in &found {
            if queries[*query_index].0 != index {
                continue;
            }
            for id in ids {
                if let Some(record) = details.get(id) {
                    by_side.entry(*side).or_default().insert(
                        id.clone(),
                        record.for_dependency(subject.dep, subject.repository.as_deref()),
                    );
                }
            }
        }
        let mut notes_here = subject.notes;
        let mut incomplete = false;
        notes_here.extend(notes.remove(&index).unwrap_or_default());
        let forge_name = subject
            .dep
            .source
            .forge()
            .map_or("the forge", |(forge, _)| forge.info().name());
        match &forge_advisories[index] {
            Ok(list) => {
                for repo_advisory in list {
                    let versions = [
                        Some((Side::Current, subject.current.as_str())),
                        subject
                            .latest
                            .as_ref()
                            .filter(|(l, _)| l != &subject.current)
                            .map(|(l, _)| (Side::Latest, l.as_str())),
                    ];
                    for (side, version) in versions.into_iter().flatten() {
                        match repo_advisory.affects(version) {
                            Some(true) => {
                                merge(
                                    by_side.entry(side).or_default(),
                                    repo_advisory.advisory.clone(),
                                );
                            }
                            Some(false) => {}
                            None if side == Side::Current => {
                                notes_here.push(format!(
                                    "{forge_name} advisory {} states no affected versions: review it ({})",
                                    repo_advisory.advisory.id, repo_advisory.advisory.url
                                ));
                            }
                            None => {}
                        }
                    }
                }
            }
            Err(error) => {
                incomplete = true;
                notes_here.push(format!(
                    "{forge_name}'s advisories could not be read: {error}"
                ));
            }
        }
        let latest = subject.latest.as_ref().map(|(l, _)| l.clone());
        let moves = latest.as_ref().is_some_and(|l| l != &subject.current);
        let in_latest = by_side.get(&Side::Latest).cloned().unwrap_or_default();
        let in_current = by_side.remove(&Side::Current).unwrap_or_default();
        let introduced = in_latest
            .values()
            .filter(|new| {
                !in_current
                    .values()
                    .any(|old| old.id == new.id || new.aliases.iter().any(|a| old.is_named(a)))
            })
            .cloned()
            .collect();
        let advisories = in_current
            .into_values()
            .map(|advisory| {
                let fixed_by_update = moves.then(|| {
                    !in_latest.values().any(|other| {
                        other.id == advisory.id
                            || advisory.aliases.iter().any(|a| other.is_named(a))
                    })
                });
                let ignored = subject
                    .dep
                    .ignore_advisories
                    .iter()
                    .find(|i| advisory.is_named(&i.id))
                    .map(|i| i.reason.clone());
                Affecting {
                    advisory,
                    fixed_by_update,
                    ignored,
                }
            })
            .collect();
        reports.push(DependencyAudit {
            name: subject.dep.name.clone(),
            version: subject.current,
            latest,
            advisories,
            introduced,
            notes: notes_here,
            incomplete,
            line: None,
            path: None,
            via: None,
            entry: true,
        });
    }
    Ok(reports)
}

/// Adds `advisory` to `known`, unless it is already there under another of its names.
fn merge(known: &mut BTreeMap<String, Advisory>, advisory: Advisory) {
    let same = known
        .values_mut()
        .find(|k| k.is_named(&advisory.id) || advisory.aliases.iter().any(|a| k.is_named(a)));
    match same {
        Some(existing) => {
            if !existing.is_named(&advisory.id) {
                existing.aliases.push(advisory.id);
            }
        }
        None => {
            known.insert(advisory.id.clone(), advisory);
        }
    }
}

async fn subject<'a>(
    dep: &'a Dependency,
    tree: &VendoredTree,
    context: &SourceContext,
    now: i64,
) -> Subject<'a> {
    let mut notes = Vec::new();
    match check_dependency(dep, tree, context, now).await {
        Ok(finding) => {
            let current_tag = finding
                .current_tag()
                .map(str::to_owned)
                .or_else(|| dep.tag_of(&finding.current.to_string()));
            Subject {
                dep,
                current: finding.current.to_string(),
                current_tag,
                latest: Some((finding.latest.clone(), finding.tag.clone())),
                notes,
                repository: repository(dep, context),
            }
        }
        Err(error) => {
            notes.push(format!("the newest allowed version is unknown: {error}"));
            let current = current_version(dep, tree).map(|(c, _)| c);
            let current_text = current
                .as_ref()
                .map_or_else(|_| "?".to_owned(), ToString::to_string);
            let current_tag = current.ok().and_then(|c| dep.tag_of(&c.to_string()));
            Subject {
                dep,
                current: current_text,
                current_tag,
                latest: None,
                notes,
                repository: repository(dep, context),
            }
        }
    }
}

/// The repository address OSV's GIT ranges use, for sources on a git forge: the forge's
/// web page of the repository as configured (a self-hosted GitLab's, not gitlab.com's).
pub(crate) fn repository(dep: &Dependency, context: &SourceContext) -> Option<String> {
    if let Some((forge, repo)) = dep.source.forge() {
        return Some(context.site(forge).repo_page(&context.http, repo));
    }
    match &dep.source {
        SourceSpec::Git { url } => Some(
            url.trim_end_matches('/')
                .trim_end_matches(".git")
                .to_owned(),
        ),
        _ => None,
    }
}
