//! GitHub: tags resolved to commits, and the repository's published security advisories.

use serde::Deserialize;

use super::{Advisory, MAX_PAGES, Side, Subject};
use crate::http::{Accept, HttpClient, HttpError};
use crate::manifest::{Dependency, Tracking};
use crate::source::SourceSpec;
use crate::version::Version;

/// The commits of a subject's versions: a branch-tracked one is one; a GitHub tag is resolved
/// through the API (annotated tags dereferenced).
pub(super) async fn commits_of(
    http: &HttpClient,
    subject: &Subject<'_>,
) -> Vec<(Side, Option<String>)> {
    let mut out = Vec::new();
    let sides = [
        (
            Side::Current,
            Some(subject.current.clone()),
            subject.current_tag.clone(),
        ),
        (
            Side::Latest,
            subject.latest.as_ref().map(|(l, _)| l.clone()),
            subject.latest.as_ref().and_then(|(_, t)| t.clone()),
        ),
    ];
    for (side, version, tag) in sides {
        let commit = match (&subject.dep.tracking, &subject.dep.source) {
            (Tracking::Branch { .. }, _) => version,
            (_, SourceSpec::GithubRelease { repo } | SourceSpec::GithubTag { repo }) => match tag {
                Some(tag) => tag_commit(http, repo, &tag).await,
                None => None,
            },
            _ => None,
        };
        out.push((side, commit));
    }
    out
}

/// The commit a GitHub tag names, following annotated tags.
async fn tag_commit(http: &HttpClient, repo: &str, tag: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Ref {
        object: Object,
    }
    #[derive(Deserialize)]
    struct Object {
        #[serde(rename = "type")]
        kind: String,
        sha: String,
    }
    // `git/ref/tags/release/v9`: a tag's slashes stay path separators.
    let mut segments = vec!["git", "ref", "tags"];
    segments.extend(tag.split('/'));
    let url = http.github_repo_url(repo, &segments, None).ok()?;
    let mut object = http
        .get_json::<Ref>(&url, Accept::GitHub)
        .await
        .ok()?
        .body
        .object;
    for _ in 0..3 {
        if object.kind != "tag" {
            break;
        }
        let url = http
            .github_repo_url(repo, &["git", "tags", &object.sha], None)
            .ok()?;
        object = http
            .get_json::<Ref>(&url, Accept::GitHub)
            .await
            .ok()?
            .body
            .object;
    }
    (object.kind == "commit").then_some(object.sha)
}

/// A GitHub repository advisory with the version ranges it states.
#[derive(Debug, Clone)]
pub(super) struct RepoAdvisory {
    pub(super) advisory: Advisory,
    /// `vulnerable_version_range` of each listed vulnerability (`< 1.57.0`, `>= 1.0, < 1.2`).
    ranges: Vec<String>,
}

impl RepoAdvisory {
    /// Whether `version` is in one of the ranges; `None` when no range is stated or the
    /// version is not one (a commit).
    pub(super) fn affects(&self, version: &str) -> Option<bool> {
        let version = Version::parse(version).ok()?;
        let mut stated = false;
        for range in &self.ranges {
            if let Some(hit) = in_range(&version, range) {
                stated = true;
                if hit {
                    return Some(true);
                }
            }
        }
        stated.then_some(false)
    }
}

/// Whether `version` satisfies every comparator of `range` (`>= 1.0.0, < 1.2.3`); `None` when
/// the range cannot be read.
fn in_range(version: &Version, range: &str) -> Option<bool> {
    let mut any = false;
    for part in range.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (op, rest) = ["<=", ">=", "<", ">", "="]
            .iter()
            .find_map(|op| part.strip_prefix(op).map(|rest| (*op, rest.trim())))
            .unwrap_or(("=", part));
        let bound = Version::parse(rest).ok()?;
        let ordering = version.cmp(&bound);
        let holds = match op {
            "<=" => ordering.is_le(),
            ">=" => ordering.is_ge(),
            "<" => ordering.is_lt(),
            ">" => ordering.is_gt(),
            _ => ordering.is_eq(),
        };
        any = true;
        if !holds {
            return Some(false);
        }
    }
    any.then_some(true)
}

/// The published security advisories of a GitHub upstream (none for other sources).
pub(super) async fn repo_advisories(
    http: &HttpClient,
    dep: &Dependency,
) -> Result<Vec<RepoAdvisory>, HttpError> {
    #[derive(Deserialize)]
    struct Listed {
        ghsa_id: String,
        cve_id: Option<String>,
        #[serde(default)]
        summary: String,
        severity: Option<String>,
        html_url: Option<String>,
        #[serde(default)]
        vulnerabilities: Option<Vec<Vulnerability>>,
    }
    #[derive(Deserialize)]
    struct Vulnerability {
        vulnerable_version_range: Option<String>,
        patched_versions: Option<String>,
    }
    let repo = match &dep.source {
        SourceSpec::GithubRelease { repo } | SourceSpec::GithubTag { repo } => repo,
        _ => return Ok(Vec::new()),
    };
    let mut url: Option<crate::http::Address> = Some(
        http.github_repo_url(
            repo,
            &["security-advisories"],
            Some("state=published&per_page=100"),
        )?
        .into(),
    );
    let mut all = Vec::new();
    let mut pages = 0;
    while let Some(next) = url.take() {
        let page = http.get_json::<Vec<Listed>>(next, Accept::GitHub).await?;
        for listed in page.body {
            let vulnerabilities = listed.vulnerabilities.unwrap_or_default();
            all.push(RepoAdvisory {
                ranges: vulnerabilities
                    .iter()
                    .filter_map(|v| v.vulnerable_version_range.clone())
                    .collect(),
                advisory: Advisory {
                    url: listed.html_url.unwrap_or_else(|| {
                        format!(
                            "https://github.com/{repo}/security/advisories/{}",
                            listed.ghsa_id
                        )
                    }),
                    aliases: listed.cve_id.into_iter().collect(),
                    id: listed.ghsa_id,
                    summary: listed.summary,
                    severity: listed.severity,
                    fixed_in: vulnerabilities
                        .iter()
                        .filter_map(|v| v.patched_versions.clone())
                        .filter(|p| !p.is_empty())
                        .collect(),
                },
            });
        }
        pages += 1;
        if pages < MAX_PAGES {
            url = page.next;
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_ranges() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert_eq!(in_range(&v("1.56.0"), "< 1.57.0"), Some(true));
        assert_eq!(in_range(&v("1.57.0"), "< 1.57.0"), Some(false));
        assert_eq!(in_range(&v("1.2.0"), ">= 1.0.0, < 1.2.3"), Some(true));
        assert_eq!(in_range(&v("0.9.0"), ">= 1.0.0, < 1.2.3"), Some(false));
        assert_eq!(in_range(&v("1.2.3"), "= 1.2.3"), Some(true));
        assert_eq!(in_range(&v("1.2.3"), ""), None);
        assert_eq!(in_range(&v("1.2.3"), "< banana"), None);
    }
}
