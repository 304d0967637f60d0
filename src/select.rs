//! Which upstream candidate wins: pure functions, no I/O.
//!
//! [`newest_allowed`] picks among released versions under a dependency's [`Policy`] (`allow`,
//! `prerelease`, `ignore`); [`newest_settled`] picks among a branch's commits under
//! `quiet-days`. Sources only discover candidates; these functions decide.

use crate::version::Version;

/// A version an upstream offers.
#[derive(Debug, Clone)]
pub struct ReleaseCandidate {
    pub version: Version,
    /// The tag it was found under (`v1.64.0`, `cares-1_34_5`); `None` for npm versions.
    pub tag: Option<String>,
    /// The upstream itself marks it as not for general use (a GitHub pre-release, an npm
    /// version above the `latest` dist-tag).
    pub upstream_prerelease: bool,
    /// A GitHub release draft: never chosen.
    pub draft: bool,
    /// Files attached to a GitHub release.
    pub assets: Vec<ReleaseAsset>,
    /// The archive a registry published for this version (npm's tarball).
    pub published: Option<PublishedArchive>,
    /// The commit a git tag points at.
    pub commit: Option<String>,
    /// When upstream published it (seconds since the Unix epoch), where the source says:
    /// a GitHub or GitLab release's date, npm's `time`.
    pub published_at: Option<i64>,
    /// Values the source found beside the version (a page's named regex groups), for the
    /// placeholders of `archive`, `checksums` and `signature`.
    pub vars: Vec<(String, String)>,
}

impl ReleaseCandidate {
    /// A candidate with nothing known but its version and tag.
    pub fn new(version: Version, tag: Option<String>) -> Self {
        Self {
            version,
            tag,
            upstream_prerelease: false,
            draft: false,
            assets: Vec::new(),
            published: None,
            commit: None,
            published_at: None,
            vars: Vec::new(),
        }
    }
}

/// A file attached to a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseAsset {
    pub name: String,
    /// The public download address.
    pub url: String,
    /// The forge's id of the asset: GitHub serves it at `/releases/assets/{id}`, private
    /// repositories' assets too, with the token.
    pub id: Option<u64>,
}

/// An archive as a package registry published it, with its integrity string
/// (`sha512-<base64>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedArchive {
    pub url: String,
    pub integrity: Option<String>,
}

/// A commit on a tracked branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitCandidate {
    /// The full object id, in hex.
    pub id: String,
    /// Committer time, seconds since the Unix epoch; known when history was read.
    pub time: Option<i64>,
}

/// What a dependency accepts.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// `allow`: a requirement on the release numbers.
    pub allow: Option<semver::VersionReq>,
    /// `prerelease = true`: pre-releases may be chosen.
    pub prerelease: bool,
    /// `ignore`: versions never proposed.
    pub ignore: Vec<Version>,
    /// `min-age-days`: how long a release must have been out before it is proposed.
    pub cooldown: Cooldown,
}

/// `min-age-days`, as it applies to one dependency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Cooldown {
    #[default]
    None,
    /// Releases younger than this many days wait.
    Days(u32),
    /// `[settings] min-age-days` is set, but this source gives no publication dates.
    Unavailable(u32),
}

/// Releases the cooldown lets through at `now`: those published at least `days` ago. One
/// whose date is unknown is not proven old enough, and waits.
pub fn old_enough(candidates: &[ReleaseCandidate], days: u32, now: i64) -> Vec<ReleaseCandidate> {
    let cutoff = now - i64::from(days) * 86_400;
    candidates
        .iter()
        .filter(|c| c.published_at.is_some_and(|t| t <= cutoff))
        .cloned()
        .collect()
}

impl Policy {
    /// Whether a candidate may be chosen at all.
    pub fn admits(&self, candidate: &ReleaseCandidate) -> bool {
        if candidate.draft {
            return false;
        }
        if !self.prerelease && (candidate.upstream_prerelease || candidate.version.is_prerelease())
        {
            return false;
        }
        if self.ignore.contains(&candidate.version) {
            return false;
        }
        match &self.allow {
            Some(requirement) => requirement.matches(&candidate.version.to_semver_release()),
            None => true,
        }
    }
}

/// The highest candidate the policy admits. Among candidates of equal precedence the first
/// listed wins, so a source lists its preferred spelling first.
pub fn newest_allowed<'a>(
    candidates: &'a [ReleaseCandidate],
    policy: &Policy,
) -> Option<&'a ReleaseCandidate> {
    candidates.iter().filter(|c| policy.admits(c)).fold(
        None,
        |best: Option<&ReleaseCandidate>, c| match best {
            Some(b) if b.version >= c.version => Some(b),
            _ => Some(c),
        },
    )
}

/// The newest commit, walking the branch from its head (newest first), that is at least
/// `quiet_days` old at `now`; with `quiet_days = 0`, the head. A commit whose time is unknown
/// never counts as settled.
pub fn newest_settled(
    commits_newest_first: &[CommitCandidate],
    now: i64,
    quiet_days: u32,
) -> Option<&CommitCandidate> {
    if quiet_days == 0 {
        return commits_newest_first.first();
    }
    let cutoff = now - i64::from(quiet_days) * 86_400;
    commits_newest_first
        .iter()
        .find(|c| c.time.is_some_and(|t| t <= cutoff))
}

/// Whether a recorded commit id (full or abbreviated) names this commit.
pub fn same_commit(recorded: &str, id: &str) -> bool {
    let recorded = recorded.trim().to_ascii_lowercase();
    recorded.len() >= 7 && id.to_ascii_lowercase().starts_with(&recorded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tag::{TagScheme, TagTemplate};

    /// Tags of a real upstream, newest first, from `tests/data/tags/`.
    fn fixture(tsv: &str) -> Vec<&str> {
        tsv.lines()
            .skip(1)
            .filter_map(|l| l.split('\t').next())
            .collect()
    }

    fn candidates(tags: &[&str], templates: &[&str]) -> Vec<ReleaseCandidate> {
        let scheme = TagScheme::new(
            templates
                .iter()
                .map(|t| TagTemplate::parse(t).unwrap())
                .collect(),
        );
        tags.iter()
            .filter_map(|tag| {
                scheme
                    .version_of(tag)
                    .map(|version| ReleaseCandidate::new(version, Some((*tag).to_owned())))
            })
            .collect()
    }

    fn policy(allow: Option<&str>, prerelease: bool, ignore: &[&str]) -> Policy {
        Policy {
            allow: allow.map(|a| semver::VersionReq::parse(a).unwrap()),
            prerelease,
            ignore: ignore.iter().map(|v| Version::parse(v).unwrap()).collect(),
            cooldown: Cooldown::None,
        }
    }

    fn winner(tsv: &str, templates: &[&str], policy: &Policy) -> Option<String> {
        let found = candidates(&fixture(tsv), templates);
        newest_allowed(&found, policy).and_then(|c| c.tag.clone())
    }

    const BROTLI: &str = include_str!("../tests/data/tags/google_brotli.tsv");
    const ZSTD: &str = include_str!("../tests/data/tags/facebook_zstd.tsv");
    const GOOGLETEST: &str = include_str!("../tests/data/tags/google_googletest.tsv");
    const SIMDUTF: &str = include_str!("../tests/data/tags/simdutf_simdutf.tsv");
    const NGTCP2: &str = include_str!("../tests/data/tags/ngtcp2_ngtcp2.tsv");
    const UVWASI: &str = include_str!("../tests/data/tags/nodejs_uvwasi.tsv");
    const GOOGLETEST_MAIN: &str =
        include_str!("../tests/data/tags/google_googletest.main-commits.tsv");

    #[test]
    fn picks_the_newest_release_from_real_tag_lists() {
        let v = &["v{version}"];
        let none = policy(None, false, &[]);
        type Row<'a> = (&'a str, &'a str, &'a [&'a str], &'a Policy, Option<&'a str>);
        let table: &[Row] = &[
            ("brotli", BROTLI, v, &none, Some("v1.2.0")),
            ("zstd", ZSTD, v, &none, Some("v1.5.6")),
            (
                "googletest",
                GOOGLETEST,
                &["v{version}", "release-{version}"],
                &none,
                Some("v1.18.0"),
            ),
            ("simdutf", SIMDUTF, v, &none, Some("v9.1.0")),
            ("ngtcp2", NGTCP2, v, &none, Some("v1.25.0")),
            ("uvwasi", UVWASI, v, &none, Some("v0.0.23")),
        ];
        for (name, tsv, templates, policy, expected) in table {
            assert_eq!(
                winner(tsv, templates, policy).as_deref(),
                *expected,
                "{name}"
            );
        }
    }

    #[test]
    fn quirks_of_real_tag_lists() {
        // brotli: with pre-releases allowed, 1.2.0 still beats 1.2.0rc2; below it, rc2 beats rc1.
        assert_eq!(
            winner(BROTLI, &["v{version}"], &policy(None, true, &[])).as_deref(),
            Some("v1.2.0")
        );
        assert_eq!(
            winner(BROTLI, &["v{version}"], &policy(Some("<1.2.0"), false, &[])).as_deref(),
            Some("v1.1.0")
        );
        let upto_rc = policy(None, true, &["1.2.0"]);
        assert_eq!(
            winner(BROTLI, &["v{version}"], &upto_rc).as_deref(),
            Some("v1.2.0rc2")
        );
        // zstd: `v1.5.5-kernel` is never chosen over a release, and 1.4.10 (tagged after
        // 1.5.2) does not win by date.
        assert_eq!(
            winner(
                ZSTD,
                &["v{version}"],
                &policy(Some("~1.5.5"), false, &["1.5.6"])
            )
            .as_deref(),
            Some("v1.5.5")
        );
        assert_eq!(
            winner(ZSTD, &["v{version}"], &policy(Some("<1.5"), false, &[])).as_deref(),
            Some("v1.4.10")
        );
        // googletest: the old `release-` scheme is ignored unless the template names it.
        assert_eq!(
            winner(
                GOOGLETEST,
                &["release-{version}"],
                &policy(None, false, &[])
            )
            .as_deref(),
            Some("release-1.12.1")
        );
        assert_eq!(
            winner(
                GOOGLETEST,
                &["v{version}"],
                &policy(Some("~1.15"), false, &[])
            )
            .as_deref(),
            Some("v1.15.2")
        );
        // A pre-release tag is only chosen when asked for.
        assert_eq!(
            winner(
                GOOGLETEST,
                &["v{version}"],
                &policy(Some("=1.15.0"), true, &["1.15.0"])
            )
            .as_deref(),
            Some("v1.15.0-pre")
        );
        // ignore several versions in a row.
        assert_eq!(
            winner(
                SIMDUTF,
                &["v{version}"],
                &policy(None, false, &["9.1.0", "v9.0.0"])
            )
            .as_deref(),
            Some("v8.2.0")
        );
        // Nothing admitted.
        assert_eq!(
            winner(UVWASI, &["v{version}"], &policy(Some(">=1"), false, &[])),
            None
        );
    }

    #[test]
    fn mixed_schemes_in_one_list() {
        let tags = [
            "v1.34.5",
            "cares-1_34_5",
            "cares-1_9_1",
            "cares-1_19_0",
            "release/v9.2.1",
            "node-v0.5.0",
        ];
        let found = candidates(&tags, &["v{version}", "cares-{major}_{minor}_{patch}"]);
        let versions: Vec<String> = found.iter().map(|c| c.version.to_string()).collect();
        assert_eq!(versions, ["1.34.5", "1.34.5", "1.9.1", "1.19.0"]);
        // Equal precedence: the first listed spelling wins.
        let best = newest_allowed(&found, &Policy::default()).unwrap();
        assert_eq!(best.tag.as_deref(), Some("v1.34.5"));
    }

    #[test]
    fn drafts_and_upstream_prereleases() {
        let mk = |v: &str, pre: bool, draft: bool| ReleaseCandidate {
            upstream_prerelease: pre,
            draft,
            ..ReleaseCandidate::new(Version::parse(v).unwrap(), Some(format!("v{v}")))
        };
        let found = [
            mk("2.0.0", false, true),
            mk("1.9.0", true, false),
            mk("1.8.0", false, false),
        ];
        assert_eq!(
            newest_allowed(&found, &Policy::default())
                .unwrap()
                .tag
                .as_deref(),
            Some("v1.8.0")
        );
        let pre = policy(None, true, &[]);
        assert_eq!(
            newest_allowed(&found, &pre).unwrap().tag.as_deref(),
            Some("v1.9.0")
        );
    }

    fn commits() -> Vec<CommitCandidate> {
        GOOGLETEST_MAIN
            .lines()
            .skip(1)
            .map(|line| {
                let (id, date) = line.split_once('\t').unwrap();
                CommitCandidate {
                    id: id.to_owned(),
                    time: Some(rfc3339_seconds(date)),
                }
            })
            .collect()
    }

    /// `2026-08-21T14:02:47-07:00` as Unix seconds (test helper; no date crate needed).
    fn rfc3339_seconds(text: &str) -> i64 {
        let n = |r: std::ops::Range<usize>| text[r].parse::<i64>().unwrap();
        let (y, m, d) = (n(0..4), n(5..7), n(8..10));
        let (hh, mm, ss) = (n(11..13), n(14..16), n(17..19));
        let offset = match &text[19..] {
            "Z" => 0,
            tz => {
                let sign = if tz.starts_with('-') { -1 } else { 1 };
                sign * (tz[1..3].parse::<i64>().unwrap() * 3600
                    + tz[4..6].parse::<i64>().unwrap() * 60)
            }
        };
        // Days from civil (Howard Hinnant's algorithm).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400 + hh * 3600 + mm * 60 + ss - offset
    }

    #[test]
    fn quiet_period_on_googletest_main() {
        let history = commits();
        let head_time = history[0].time.unwrap();
        assert_eq!(rfc3339_seconds("1970-01-02T00:00:00Z"), 86_400);
        // Without a quiet period the head wins.
        assert_eq!(
            newest_settled(&history, head_time, 0).unwrap().id,
            history[0].id
        );
        // Right after the head landed, with 2 quiet days: the newest commit two days older.
        // Head 2026-08-21T21:02:47Z; cutoff 2026-08-19T21:02:47Z; 0daf775 (19:35:58Z) qualifies.
        let settled = newest_settled(&history, head_time, 2).unwrap();
        assert_eq!(settled.id, "0daf775f8c9324e7d42582a09de1240805f25a54");
        // Three days after the head, the head itself has settled.
        assert_eq!(
            newest_settled(&history, head_time + 3 * 86_400, 2)
                .unwrap()
                .id,
            history[0].id
        );
        // Nothing old enough in the window: no candidate.
        let oldest = history.last().unwrap().time.unwrap();
        assert_eq!(newest_settled(&history, oldest + 86_399, 1), None);
        // A head whose date is unknown is taken only without a quiet period.
        let unknown = [CommitCandidate {
            id: "abc1234".into(),
            time: None,
        }];
        assert_eq!(newest_settled(&unknown, head_time, 0), unknown.first());
        assert_eq!(newest_settled(&unknown, head_time, 1), None);
    }

    #[test]
    fn abbreviated_commit_ids() {
        let id = "7260682388d493f155be62c3ce2efc7c7a9a3dcf";
        assert!(same_commit("7260682", id));
        assert!(same_commit("7260682388D493F155BE62C3CE2EFC7C7A9A3DCF", id));
        assert!(!same_commit("726068", id), "too short to be trusted");
        assert!(!same_commit("0daf775", id));
    }
}
