//! Known vulnerabilities as deps-update reports them: an [`Advisory`], and what an update does
//! to a dependency's advisories ([`Security`]). Plain data, filled in by `audit` and rendered
//! in pull requests.

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
