//! OSV: the batch query (with its page tokens) and each advisory's details.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Url;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Advisory, AuditError, MAX_PAGES, Side};
use crate::http::{Accept, HttpClient, HttpError, api_url};
use crate::manifest::Dependency;
use crate::source::SourceSpec;

/// The OSV queries for one version of one dependency.
pub(super) fn osv_queries(
    dep: &Dependency,
    repository: Option<&str>,
    version: &str,
    tag: Option<&str>,
    commit: Option<&str>,
) -> Vec<Value> {
    let mut queries = Vec::new();
    if let SourceSpec::Npm { package } = &dep.source {
        queries.push(json!({"package": {"name": package, "ecosystem": "npm"}, "version": version}));
        return queries;
    }
    if let Some(commit) = commit.filter(|c| c.len() == 40) {
        queries.push(json!({"commit": commit}));
    }
    if let (Some(repo), Some(tag)) = (repository, tag) {
        queries.push(json!({"package": {"name": repo, "ecosystem": "GIT"}, "version": tag}));
    }
    queries
}

/// Runs the batch, following page tokens; returns the advisory ids per query (by index).
pub(super) async fn query_osv(
    http: &HttpClient,
    osv: &Url,
    queries: &[(usize, Side, Value)],
) -> Result<BTreeMap<(usize, Side), BTreeSet<String>>, AuditError> {
    #[derive(Deserialize)]
    struct Batch {
        #[serde(default)]
        results: Vec<BatchResult>,
    }
    #[derive(Deserialize, Default)]
    struct BatchResult {
        #[serde(default)]
        vulns: Vec<Listed>,
        next_page_token: Option<String>,
    }
    #[derive(Deserialize)]
    struct Listed {
        id: String,
    }
    let url = api_url(osv, &["v1", "querybatch"], None).map_err(AuditError::Osv)?;
    let mut found: BTreeMap<(usize, Side), BTreeSet<String>> = BTreeMap::new();
    // (query index, page token)
    let mut pending: Vec<(usize, Option<String>)> = (0..queries.len()).map(|i| (i, None)).collect();
    for _ in 0..MAX_PAGES {
        if pending.is_empty() {
            break;
        }
        let body: Vec<Value> = pending
            .iter()
            .map(|(i, token)| {
                let mut query = queries[*i].2.clone();
                if let Some(token) = token {
                    query["page_token"] = json!(token);
                }
                query
            })
            .collect();
        let batch: Batch = http
            .post_query(&url, &json!({"queries": body}))
            .await
            .map_err(AuditError::Osv)?;
        let mut next = Vec::new();
        for ((i, _), result) in pending.iter().zip(
            batch
                .results
                .into_iter()
                .chain(std::iter::repeat_with(BatchResult::default)),
        ) {
            let key = (*i, queries[*i].1);
            let entry = found.entry(key).or_default();
            entry.extend(result.vulns.into_iter().map(|v| v.id));
            if let Some(token) = result.next_page_token.filter(|t| !t.is_empty()) {
                next.push((*i, Some(token)));
            }
        }
        pending = next;
    }
    Ok(found)
}

/// One OSV record: the advisory, and where each project it covers is fixed. One record often
/// covers several projects (CVE-2023-44487: envoy, nghttp2, ...), each with its own fixes.
#[derive(Debug, Clone)]
pub(super) struct OsvRecord {
    /// The advisory, with no `fixed_in` yet: that depends on the dependency.
    advisory: Advisory,
    affected: Vec<AffectedProject>,
}

/// One `affected` entry: a package, or the repositories its ranges name, and its fixes.
#[derive(Debug, Clone)]
struct AffectedProject {
    /// `(ecosystem, name)`.
    package: Option<(String, String)>,
    repos: Vec<String>,
    fixed: Vec<String>,
}

impl OsvRecord {
    /// A record that could not be read: its id, a link, nothing else.
    pub(super) fn unreadable(id: &str) -> Self {
        Self {
            advisory: Advisory {
                id: id.to_owned(),
                aliases: Vec::new(),
                summary: "(details could not be read)".into(),
                severity: None,
                fixed_in: Vec::new(),
                url: format!("https://osv.dev/vulnerability/{id}"),
            },
            affected: Vec::new(),
        }
    }

    /// The advisory as it concerns `dep`: fixed where the record's entry for the dependency's
    /// own package or repository says (no entry of it: no fix known).
    pub(super) fn for_dependency(&self, dep: &Dependency, repository: Option<&str>) -> Advisory {
        let package = match &dep.source {
            SourceSpec::Npm { package } => Some(("npm", package.as_str())),
            _ => None,
        };
        let repository = repository.map(same_repo);
        let mut fixed_in: Vec<String> = self
            .affected
            .iter()
            .filter(|a| {
                let by_package = matches!((&a.package, package),
                    (Some((ecosystem, name)), Some((e, n))) if ecosystem.eq_ignore_ascii_case(e) && name == n);
                let by_repo = repository
                    .as_ref()
                    .is_some_and(|ours| a.repos.iter().any(|r| &same_repo(r) == ours));
                by_package || by_repo
            })
            .flat_map(|a| a.fixed.iter().cloned())
            .collect();
        fixed_in.dedup();
        Advisory {
            fixed_in,
            ..self.advisory.clone()
        }
    }
}

/// A repository address in one spelling: lowercase, no scheme, no `.git`, no trailing `/`.
fn same_repo(url: &str) -> String {
    let url = url.trim().to_ascii_lowercase();
    let url = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    url.trim_end_matches('/')
        .trim_end_matches(".git")
        .to_owned()
}

/// One OSV record's details.
pub(super) async fn osv_advisory(
    http: &HttpClient,
    osv: &Url,
    id: &str,
) -> Result<OsvRecord, HttpError> {
    #[derive(Deserialize)]
    struct Record {
        id: String,
        #[serde(default)]
        aliases: Vec<String>,
        #[serde(default)]
        summary: Option<String>,
        #[serde(default)]
        details: Option<String>,
        #[serde(default)]
        affected: Vec<Affected>,
        #[serde(default)]
        severity: Vec<Severity>,
        #[serde(default)]
        database_specific: Option<Value>,
    }
    #[derive(Deserialize)]
    struct Affected {
        #[serde(default)]
        package: Option<Package>,
        #[serde(default)]
        ranges: Vec<Range>,
    }
    #[derive(Deserialize)]
    struct Package {
        #[serde(default)]
        ecosystem: String,
        #[serde(default)]
        name: String,
    }
    #[derive(Deserialize)]
    struct Range {
        #[serde(default)]
        repo: Option<String>,
        #[serde(default)]
        events: Vec<Value>,
    }
    #[derive(Deserialize)]
    struct Severity {
        #[serde(rename = "type")]
        kind: String,
        score: String,
    }
    let url = api_url(osv, &["v1", "vulns", id], None)?;
    let record: Record = http.get_json(&url, Accept::Json).await?.body;
    let affected = record
        .affected
        .iter()
        .map(|a| AffectedProject {
            package: a
                .package
                .as_ref()
                .map(|p| (p.ecosystem.clone(), p.name.clone())),
            repos: a.ranges.iter().filter_map(|r| r.repo.clone()).collect(),
            fixed: a
                .ranges
                .iter()
                .flat_map(|r| &r.events)
                .filter_map(|e| e["fixed"].as_str())
                .map(|f| {
                    if f.len() == 40 && f.bytes().all(|b| b.is_ascii_hexdigit()) {
                        f[..12].to_owned()
                    } else {
                        f.to_owned()
                    }
                })
                .collect(),
        })
        .collect();
    let severity = record
        .database_specific
        .as_ref()
        .and_then(|d| d["severity"].as_str())
        .map(str::to_owned)
        .or_else(|| {
            record
                .severity
                .first()
                .map(|s| format!("{} {}", s.kind, s.score))
        });
    let summary = record
        .summary
        .or_else(|| {
            record
                .details
                .map(|d| d.lines().next().unwrap_or_default().to_owned())
        })
        .unwrap_or_default();
    Ok(OsvRecord {
        advisory: Advisory {
            url: format!("https://osv.dev/vulnerability/{}", record.id),
            id: record.id,
            aliases: record.aliases,
            summary,
            severity,
            fixed_in: Vec::new(),
        },
        affected,
    })
}
