//! OSV: the batch query (with its page tokens) and each advisory's details.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Url;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Advisory, AuditError, MAX_PAGES, Side, repository};
use crate::http::{Accept, HttpClient, HttpError, api_url};
use crate::manifest::Dependency;
use crate::source::SourceSpec;

/// The OSV queries for one version of one dependency.
pub(super) fn osv_queries(
    dep: &Dependency,
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
    if let (Some(repo), Some(tag)) = (repository(dep), tag) {
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

/// One OSV record's details.
pub(super) async fn osv_advisory(
    http: &HttpClient,
    osv: &Url,
    id: &str,
) -> Result<Advisory, HttpError> {
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
        ranges: Vec<Range>,
    }
    #[derive(Deserialize)]
    struct Range {
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
    let mut fixed_in: Vec<String> = record
        .affected
        .iter()
        .flat_map(|a| &a.ranges)
        .flat_map(|r| &r.events)
        .filter_map(|e| e["fixed"].as_str())
        .map(|f| {
            if f.len() == 40 && f.bytes().all(|b| b.is_ascii_hexdigit()) {
                f[..12].to_owned()
            } else {
                f.to_owned()
            }
        })
        .collect();
    fixed_in.dedup();
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
    Ok(Advisory {
        url: format!("https://osv.dev/vulnerability/{}", record.id),
        id: record.id,
        aliases: record.aliases,
        summary,
        severity,
        fixed_in,
    })
}
