//! Known vulnerabilities as deps-update reports them: an [`Advisory`], and what an update does
//! to a dependency's advisories ([`Security`]). Plain data, filled in by `audit` and rendered
//! in pull requests.

use crate::version::Version;

/// One advisory, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Advisory {
    pub id: String,
    /// Other names of the same advisory (`CVE-…`, `GHSA-…`).
    pub aliases: Vec<String>,
    pub summary: String,
    pub severity: Option<String>,
    /// Versions or commits that fix it, where the record says.
    pub fixed_in: Vec<String>,
    pub url: String,
}

impl Advisory {
    /// Whether `name` is this advisory's id or one of its aliases.
    pub fn is_named(&self, name: &str) -> bool {
        self.id.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// What an update changes in known vulnerabilities, for its pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Security {
    /// Affecting the old version, not the new.
    pub fixed: Vec<Advisory>,
    /// Affecting both (ignored ones included, with their reason in the summary).
    pub remaining: Vec<Advisory>,
    /// Affecting the new version only.
    pub introduced: Vec<Advisory>,
    /// The lookup failed; said in one line that does not change from run to run.
    pub unavailable: bool,
}

/// A repository's own advisory (GitHub's security advisories), with the version ranges it
/// states.
#[derive(Debug, Clone)]
pub struct RepoAdvisory {
    pub advisory: Advisory,
    /// `vulnerable_version_range` of each listed vulnerability (`< 1.57.0`, `>= 1.0, < 1.2`).
    pub ranges: Vec<String>,
}

impl RepoAdvisory {
    /// Whether `version` is in one of the ranges; `None` when no range is stated or the
    /// version is not one (a commit).
    pub fn affects(&self, version: &str) -> Option<bool> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_advisory_ranges() {
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
