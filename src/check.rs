//! Whether one dependency has a newer upstream version.
//!
//! [`current_version`] reads what is vendored now (the registry's `version`, cross-checked
//! against `version-file` when both are given); [`check_dependency`] asks the dependency's
//! source for candidates and lets [`crate::select`] pick the winner.

use std::path::{Path, PathBuf};

use crate::manifest::{Dependency, Tracking, VersionEncoding, VersionFile};
use crate::select::{
    Cooldown, ReleaseCandidate, newest_allowed, newest_settled, old_enough, same_commit,
};
use crate::source::{self, Discovery, Source, SourceContext, SourceError};
use crate::vendored::VendoredTree;
use crate::version::{Version, VersionError};

/// What is vendored now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Current {
    Version(Version),
    /// A commit id, full or abbreviated.
    Commit(String),
}

impl std::fmt::Display for Current {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Version(v) => write!(f, "{v}"),
            Self::Commit(c) => f.write_str(c),
        }
    }
}

/// The answer for one dependency.
#[derive(Debug, Clone)]
pub struct Finding {
    pub current: Current,
    /// The newest version or commit the dependency accepts (the current one when nothing
    /// newer is allowed).
    pub latest: String,
    /// The tag the latest version was found under, when it has one.
    pub tag: Option<String>,
    pub update_available: bool,
    /// Something worth knowing, e.g. a newer head that waits out `quiet-days`.
    pub note: Option<String>,
    /// The release candidate behind `latest`, for release-tracked dependencies.
    pub chosen: Option<ReleaseCandidate>,
    /// The vendored version as upstream lists it: what a three-way update fetches as its base.
    pub current_candidate: Option<ReleaseCandidate>,
}

impl Finding {
    /// The tag of the vendored version, when upstream still lists it (for compare links).
    pub fn current_tag(&self) -> Option<&str> {
        self.current_candidate.as_ref()?.tag.as_deref()
    }
}

/// Why one dependency could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum DependencyError {
    #[error("cannot read the version file `{}`", path.display())]
    VersionFileRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the `version-file` regex `{regex}` matches nothing in `{}`{}", path.display(), nearest_text(nearest))]
    VersionFileNoMatch {
        path: PathBuf,
        regex: String,
        /// The line that nearly matched, and its number.
        nearest: Option<(usize, String)>,
    },
    #[error("the version file `{}` holds `{found}`, which is not a number in the `{encoding}` encoding", path.display())]
    VersionFileNotEncoded {
        path: PathBuf,
        found: String,
        encoding: &'static str,
    },
    #[error("the version file `{}` holds `{found}`, which is not a version", path.display())]
    VersionFileNotVersion {
        path: PathBuf,
        found: String,
        #[source]
        source: VersionError,
    },
    #[error(
        "the registry and the vendored tree disagree about the version\n  `version` in the registry: {recorded}\n  `{}`: {found}",
        path.display()
    )]
    VersionMismatch {
        recorded: String,
        found: String,
        path: PathBuf,
    },
    #[error(
        "no tag of `{location}` fits {}; {seen} seen{}",
        templates_text(templates),
        examples_text(examples)
    )]
    NoMatchingTags {
        location: String,
        templates: Vec<String>,
        seen: usize,
        examples: Vec<String>,
    },
    #[error("no version of `{location}` was found")]
    NoVersions { location: String },
    #[error(transparent)]
    Source(#[from] SourceError),
}

fn templates_text(templates: &[String]) -> String {
    let quoted: Vec<String> = templates.iter().map(|t| format!("`{t}`")).collect();
    match quoted.len() {
        1 => format!("the template {}", quoted[0]),
        _ => format!("the templates {}", quoted.join(", ")),
    }
}

fn examples_text(examples: &[String]) -> String {
    if examples.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = examples.iter().map(|t| format!("`{t}`")).collect();
    format!(", such as {}", quoted.join(", "))
}

impl DependencyError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::VersionFileRead { .. } => {
                Some("check `path` and `version-file.path` (the latter is relative to `path`)".into())
            }
            Self::VersionFileNoMatch {
                nearest: Some(_), ..
            } => Some(
                "the file changed its spelling (spaces, a renamed macro): loosen `version-file.regex` to match that line, e.g. `\\s+` for runs of spaces".into(),
            ),
            Self::VersionFileNotEncoded { .. } => Some(
                "fix `version-file.encoding` (`decimal-100`, `decimal-1000`, `hex`), or capture the number alone".into(),
            ),
            Self::VersionFileNoMatch { .. } | Self::VersionFileNotVersion { .. } => {
                Some("fix `version-file.regex` so that its capture group holds the version".into())
            }
            Self::VersionMismatch { .. } => Some(
                "set `version` to what is vendored, or re-vendor the recorded version".into(),
            ),
            Self::NoMatchingTags { .. } => Some("set `tag` to how this project spells a version in its tags, e.g. `v{version}` or `release-{major}-{minor}`".into()),
            Self::NoVersions { .. } => None,
            Self::Source(source) => source.hint(),
        }
    }
}

/// What is vendored now, from the registry and the vendored tree, with a note when the
/// vendored folder is not there and the registry's `version` stands alone (a fresh clone of
/// a registry, or a dependency not vendored yet).
pub fn current_version(
    dep: &Dependency,
    tree: &VendoredTree,
) -> Result<(Current, Option<String>), DependencyError> {
    let mut note = None;
    let version_file = match (&dep.version_file, dep.tracking.recorded()) {
        (Some(_), Some(recorded)) if !tree.exists(&dep.path) => {
            note = Some(format!(
                "`{}` is not here: using the registry's `version = \"{recorded}\"`",
                dep.path.display()
            ));
            None
        }
        (vf, _) => vf.as_ref(),
    };
    let from_file = version_file
        .map(|vf| read_version_file(vf, tree, &dep.path))
        .transpose()?;
    recorded_or_found(dep, from_file).map(|current| (current, note))
}

/// A reference that does not name the vendored version.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReferenceProblem(pub String);

/// What is wrong with the dependency's `references` for `version`: a file that is missing,
/// matches nothing, or names another version. Empty when all agree.
pub fn reference_problems(dep: &Dependency, tree: &VendoredTree, version: &str) -> Vec<String> {
    let mut problems = Vec::new();
    // Not vendored here (a fresh clone of a registry): its references are not here either.
    if !tree.exists(&dep.path) {
        return problems;
    }
    for reference in &dep.references {
        let shown = reference.path.display();
        let text = match tree.read(&reference.path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => {
                problems.push(format!("the reference `{shown}` cannot be read"));
                continue;
            }
        };
        let named: Vec<&str> = reference
            .spans(&text)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        if named.is_empty() {
            problems.push(format!(
                "the reference `{shown}` names no version (its regex matches nothing)"
            ));
        }
        for other in named
            .iter()
            .filter(|n| !version_file_agrees(dep, n, version))
        {
            problems.push(format!(
                "the reference `{shown}` names {}, not {version}",
                crate::printer::sanitize(other)
            ));
        }
    }
    problems
}

/// The registry's `version`, cross-checked against what the version file holds.
fn recorded_or_found(
    dep: &Dependency,
    from_file: Option<(PathBuf, String)>,
) -> Result<Current, DependencyError> {
    match &dep.tracking {
        Tracking::Releases { version, .. } => {
            let found = from_file
                .map(|(path, text)| {
                    Version::parse(&text)
                        .map(|v| (path.clone(), v))
                        .map_err(|source| DependencyError::VersionFileNotVersion {
                            path,
                            found: text,
                            source,
                        })
                })
                .transpose()?;
            match (version, found) {
                (Some(recorded), Some((path, found))) if recorded != &found => {
                    Err(DependencyError::VersionMismatch {
                        recorded: recorded.to_string(),
                        found: found.to_string(),
                        path,
                    })
                }
                (Some(recorded), _) => Ok(Current::Version(recorded.clone())),
                (None, Some((_, found))) => Ok(Current::Version(found)),
                (None, None) => unreachable!("validation requires `version` or `version-file`"),
            }
        }
        Tracking::Branch { commit, .. } => match (commit, from_file) {
            (Some(recorded), Some((path, found)))
                if !(same_commit(recorded, &found) || same_commit(&found, recorded)) =>
            {
                Err(DependencyError::VersionMismatch {
                    recorded: recorded.clone(),
                    found,
                    path,
                })
            }
            (Some(recorded), _) => Ok(Current::Commit(recorded.clone())),
            (None, Some((_, found))) => Ok(Current::Commit(found.to_ascii_lowercase())),
            (None, None) => unreachable!("validation requires `version` or `version-file`"),
        },
    }
}

/// The version text a version file holds: the `version` group, the `major`/`minor`/`patch`
/// groups joined with dots, or the first group. Returns the file's path relative to the
/// repository root, for messages.
fn read_version_file(
    vf: &VersionFile,
    tree: &VendoredTree,
    dep_path: &Path,
) -> Result<(PathBuf, String), DependencyError> {
    let path = dep_path.join(&vf.path);
    let bytes = tree
        .read(&path)
        .map_err(|source| DependencyError::VersionFileRead {
            path: path.clone(),
            source,
        })?;
    let found = version_in(vf, &String::from_utf8_lossy(&bytes), &path)?;
    Ok((path, found))
}

/// The version text in `text`, the content of the version file at `path` (for messages).
pub fn version_in(vf: &VersionFile, text: &str, path: &Path) -> Result<String, DependencyError> {
    let found =
        version_matched(&vf.regex, text).ok_or_else(|| DependencyError::VersionFileNoMatch {
            path: path.to_owned(),
            regex: vf.regex.as_str().to_owned(),
            nearest: nearest_line(&vf.regex, text),
        })?;
    vf.encoding
        .decode(&found)
        .ok_or_else(|| DependencyError::VersionFileNotEncoded {
            path: path.to_owned(),
            found: found.clone(),
            encoding: VersionEncoding::NAMES
                .iter()
                .find(|(_, e)| *e == vf.encoding)
                .map_or("text", |(n, _)| n),
        })
}

fn nearest_text(nearest: &Option<(usize, String)>) -> String {
    match nearest {
        Some((line, text)) => format!("; the nearest line is {line}: `{text}`"),
        None => String::new(),
    }
}

/// The line of `text` a regex that matches nothing nearly matched: the one holding most of
/// the regex's words (`#define ARES_VERSION_STR "1.34.7"` for `#define ARES_VERSION_STR
/// "([^"]+)"` once upstream put several spaces in it), with its line number.
pub fn nearest_line(regex: &regex::Regex, text: &str) -> Option<(usize, String)> {
    let words: Vec<&str> = regex
        .as_str()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.len() >= 3 && !w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    if words.is_empty() {
        return None;
    }
    let (index, line, score) = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let score: usize = words
                .iter()
                .filter(|w| line.contains(*w))
                .map(|w| w.len())
                .sum();
            (i, line, score)
        })
        .max_by_key(|(i, _, score)| (*score, std::cmp::Reverse(*i)))?;
    // At least the longest word, so an unrelated line is never offered.
    let longest = words.iter().map(|w| w.len()).max().unwrap_or(0);
    (score >= longest).then(|| {
        let shown: String = line.trim().chars().take(120).collect();
        (index + 1, crate::printer::sanitize(&shown))
    })
}

/// What a version-file regex finds in `text`: its `version` group, its `major`/`minor`/
/// `patch` groups joined with dots, or its first group; `None` when it finds nothing.
pub fn version_matched(regex: &regex::Regex, text: &str) -> Option<String> {
    let captures = regex.captures(text)?;
    let found = if let Some(version) = captures.name("version") {
        version.as_str().to_owned()
    } else if captures.name("major").is_some() {
        ["major", "minor", "patch"]
            .iter()
            .filter_map(|n| captures.name(n).map(|m| m.as_str()))
            .collect::<Vec<_>>()
            .join(".")
    } else {
        captures.get(1)?.as_str().to_owned()
    };
    Some(found.trim().to_owned()).filter(|f| !f.is_empty())
}

/// Whether a version file's `found` text names `version` (a release version, or a commit
/// for a branch-tracking dependency, either side possibly abbreviated).
pub fn version_file_agrees(dep: &Dependency, found: &str, version: &str) -> bool {
    match &dep.tracking {
        Tracking::Releases { .. } => match (Version::parse(found), Version::parse(version)) {
            (Ok(found), Ok(version)) => found == version,
            _ => found == version,
        },
        Tracking::Branch { .. } => same_commit(version, found) || same_commit(found, version),
    }
}

/// How long ago something came out: `3 days`, `1 day`, else hours and minutes.
/// The UTC day of a time in seconds since the Unix epoch: `2026-12-09`.
fn day_of(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| "a later day".into())
}

fn age(seconds: i64) -> String {
    match seconds / 86_400 {
        0 => crate::http::human_duration(std::time::Duration::from_secs(
            u64::try_from(seconds).unwrap_or(0),
        )),
        1 => "1 day".into(),
        days => format!("{days} days"),
    }
}

/// Checks one dependency against its upstream. `now` is seconds since the Unix epoch.
pub async fn check_dependency(
    dep: &Dependency,
    tree: &VendoredTree,
    context: &SourceContext,
    now: i64,
) -> Result<Finding, DependencyError> {
    let (current, mut vendored_note) = crate::blocking::blocking(|| current_version(dep, tree))?;
    let stale = crate::blocking::blocking(|| reference_problems(dep, tree, &current.to_string()));
    if !stale.is_empty() {
        let stale = stale.join("; ");
        vendored_note = Some(match vendored_note {
            Some(note) => format!("{note}; {stale}"),
            None => stale,
        });
    }
    let discovery = source::for_dependency(dep).discover(context).await?;
    judge(dep, current, vendored_note, discovery, now)
}

/// What `check` concludes from what upstream offers (`discovery`): the seam between asking
/// and deciding, so selection, cooldowns and quiet periods are tested without a network.
pub fn judge(
    dep: &Dependency,
    current: Current,
    vendored_note: Option<String>,
    discovery: Discovery,
    now: i64,
) -> Result<Finding, DependencyError> {
    let location = dep.source.location().to_owned();
    let mut finding: Finding = match (discovery, &dep.tracking, &current) {
        (
            Discovery::Releases {
                candidates,
                seen,
                examples,
            },
            Tracking::Releases { scheme, policy, .. },
            Current::Version(current_version),
        ) => {
            if candidates.is_empty() {
                if !dep.source.takes_tags() {
                    return Err(DependencyError::NoVersions { location });
                }
                return Err(DependencyError::NoMatchingTags {
                    location,
                    templates: scheme.templates().map(str::to_owned).collect(),
                    seen,
                    examples,
                });
            }
            // The exact spelling first (`v1.2` and `v1.2.0` are equal versions).
            let current_candidate = candidates
                .iter()
                .filter(|c| &c.version == current_version)
                .max_by_key(|c| c.version.as_str() == current_version.as_str())
                .cloned();
            // `min-age-days`: only releases out long enough are proposed.
            let aged;
            let pool = match policy.cooldown {
                Cooldown::Days(days) => {
                    aged = old_enough(&candidates, days, now);
                    &aged
                }
                Cooldown::None | Cooldown::Unavailable(_) => &candidates,
            };
            let waiting = match (policy.cooldown, newest_allowed(&candidates, policy)) {
                (Cooldown::Days(days), Some(newest))
                    if &newest.version > current_version
                        && newest_allowed(pool, policy)
                            .is_none_or(|b| b.version < newest.version) =>
                {
                    Some(match newest.published_at {
                        Some(at) => format!(
                            "{} came out {} ago, less than `min-age-days = {days}`; waiting until {}",
                            newest.version,
                            age(now - at),
                            day_of(at + i64::from(days) * 86_400)
                        ),
                        None => format!(
                            "{} has no publication date, so `min-age-days = {days}` cannot pass it; waiting",
                            newest.version
                        ),
                    })
                }
                (Cooldown::Unavailable(days), _) => Some(format!(
                    "`min-age-days = {days}` does not apply: `source = \"{}\"` gives no publication dates",
                    dep.source.kind()
                )),
                _ => None,
            };
            let mut finding = match newest_allowed(pool, policy) {
                Some(best) if &best.version > current_version => Finding {
                    latest: best.version.to_string(),
                    tag: best.tag.clone(),
                    update_available: true,
                    note: None,
                    current,
                    chosen: Some(best.clone()),
                    current_candidate: None,
                },
                Some(best) => Finding {
                    latest: best.version.to_string(),
                    tag: best.tag.clone(),
                    update_available: false,
                    note: (&best.version < current_version).then(|| {
                        format!(
                            "the vendored version is newer than any allowed upstream version ({})",
                            best.version
                        )
                    }),
                    current,
                    chosen: Some(best.clone()),
                    current_candidate: None,
                },
                None => Finding {
                    latest: current.to_string(),
                    tag: None,
                    update_available: false,
                    note: Some(
                        "no upstream version is allowed by `allow`, `prerelease` and `ignore`"
                            .into(),
                    ),
                    current,
                    chosen: None,
                    current_candidate: None,
                },
            };
            finding.current_candidate = current_candidate;
            if let Some(waiting) = waiting {
                finding.note = Some(match finding.note.take() {
                    // Nothing passes only because everything is too young: say that alone.
                    Some(note) if !note.starts_with("no upstream version is allowed") => {
                        format!("{waiting}; {note}")
                    }
                    _ => waiting,
                });
            }
            Ok::<_, DependencyError>(finding)
        }
        (
            Discovery::Commits(commits),
            Tracking::Branch { quiet_days, .. },
            Current::Commit(recorded),
        ) => {
            let head = commits.first().map(|c| c.id.clone());
            let head_time = commits.first().and_then(|c| c.time);
            let settled = newest_settled(&commits, now, *quiet_days);
            let waiting = |head: &str| {
                format!(
                    "the branch head {} is younger than `quiet-days = {quiet_days}`; waiting{}",
                    short(head),
                    head_time
                        .map(|t| format!(" until {}", day_of(t + i64::from(*quiet_days) * 86_400)))
                        .unwrap_or_default()
                )
            };
            let finding = match settled {
                Some(best) if same_commit(recorded, &best.id) => Finding {
                    note: head
                        .as_deref()
                        .filter(|h| !same_commit(recorded, h))
                        .map(waiting),
                    latest: best.id.clone(),
                    tag: None,
                    update_available: false,
                    current,
                    chosen: None,
                    current_candidate: None,
                },
                Some(best) => Finding {
                    note: head.as_deref().filter(|h| *h != best.id).map(waiting),
                    latest: best.id.clone(),
                    tag: None,
                    update_available: true,
                    current,
                    chosen: None,
                    current_candidate: None,
                },
                None => Finding {
                    note: head.as_deref().map(waiting),
                    latest: recorded.clone(),
                    tag: None,
                    update_available: false,
                    current,
                    chosen: None,
                    current_candidate: None,
                },
            };
            Ok(finding)
        }
        _ => unreachable!("a source discovers what its dependency tracks"),
    }?;
    if let Some(vendored) = vendored_note {
        finding.note = Some(match finding.note.take() {
            Some(note) => format!("{vendored}; {note}"),
            None => vendored,
        });
    }
    Ok(finding)
}

/// A commit id shortened for tables (12 hex digits); anything else, a version, whole.
pub fn short(id: &str) -> &str {
    let commit = id.len() >= 20 && id.bytes().all(|b| b.is_ascii_hexdigit());
    if commit { &id[..12] } else { id }
}

#[cfg(test)]
mod tests {
    //! `check`'s decisions through the seam: canned discoveries stand in for upstream.

    use super::*;
    use crate::manifest::Manifest;
    use crate::select::CommitCandidate;

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_700_000_000;

    fn dep(keys: &str) -> Dependency {
        let text = format!("[deps.lib]\npath = \"deps/lib\"\n{keys}\n");
        Manifest::parse(std::path::Path::new("deps.toml"), &text)
            .unwrap()
            .deps
            .remove(0)
    }

    fn release(version: &str, days_old: Option<i64>) -> ReleaseCandidate {
        let mut candidate = ReleaseCandidate::new(
            Version::parse(version).unwrap(),
            Some(format!("v{version}")),
        );
        candidate.published_at = days_old.map(|d| NOW - d * DAY);
        candidate
    }

    fn releases(candidates: Vec<ReleaseCandidate>) -> Discovery {
        Discovery::Releases {
            seen: candidates.len(),
            examples: Vec::new(),
            candidates,
        }
    }

    fn judged(dep: &Dependency, current: &str, discovery: Discovery) -> Finding {
        let current = Current::Version(Version::parse(current).unwrap());
        judge(dep, current, None, discovery, NOW).unwrap()
    }

    const RELEASES: &str = "source = \"github-release\"\nrepo = \"o/lib\"\nversion = \"1.2.0\"";

    #[test]
    fn only_commit_ids_are_shortened() {
        assert_eq!(short("1.0.0-alpha.5"), "1.0.0-alpha.5");
        assert_eq!(
            short("2024.01.01-really-long-version"),
            "2024.01.01-really-long-version"
        );
        assert_eq!(short(&"0daf775f8c93".repeat(4)[..40]), "0daf775f8c93");
    }

    #[test]
    fn the_newest_allowed_release_wins() {
        let mut pre = release("2.0.0-rc1", None);
        pre.upstream_prerelease = true;
        let mut draft = release("1.9.0", None);
        draft.draft = true;
        let all = || {
            releases(vec![
                pre.clone(),
                draft.clone(),
                release("1.3.1", None),
                release("1.2.9", None),
                release("1.2.0", None),
            ])
        };
        let finding = judged(&dep(RELEASES), "1.2.0", all());
        assert!(finding.update_available);
        assert_eq!(finding.latest, "1.3.1");
        assert_eq!(finding.tag.as_deref(), Some("v1.3.1"));
        assert_eq!(finding.current_tag(), Some("v1.2.0"));

        let within = dep(&format!("{RELEASES}\nallow = \"~1.2\""));
        assert_eq!(judged(&within, "1.2.0", all()).latest, "1.2.9");

        let with_pre = dep(&format!("{RELEASES}\nprerelease = true"));
        assert_eq!(judged(&with_pre, "1.2.0", all()).latest, "2.0.0-rc1");
    }

    #[test]
    fn a_release_younger_than_the_cooldown_waits_and_an_older_one_is_proposed() {
        let cooled = dep(&format!("{RELEASES}\nmin-age-days = 7"));
        let finding = judged(
            &cooled,
            "1.2.0",
            releases(vec![release("1.4.0", Some(2)), release("1.3.0", Some(30))]),
        );
        assert_eq!(finding.latest, "1.3.0");
        assert!(finding.update_available);
        assert_eq!(
            finding.note.as_deref(),
            Some(
                "1.4.0 came out 2 days ago, less than `min-age-days = 7`; waiting until 2023-11-19"
            )
        );

        // Nothing old enough: no update, and the note says why alone.
        let finding = judged(&cooled, "1.2.0", releases(vec![release("1.4.0", None)]));
        assert!(!finding.update_available);
        assert_eq!(
            finding.note.as_deref(),
            Some("1.4.0 has no publication date, so `min-age-days = 7` cannot pass it; waiting")
        );
    }

    #[test]
    fn a_vendored_version_newer_than_upstream_is_said() {
        let finding = judged(
            &dep(RELEASES),
            "1.5.0",
            releases(vec![release("1.3.1", None)]),
        );
        assert!(!finding.update_available);
        assert_eq!(
            finding.note.as_deref(),
            Some("the vendored version is newer than any allowed upstream version (1.3.1)")
        );
    }

    #[test]
    fn tags_that_fit_no_template_are_an_error_naming_what_was_seen() {
        let current = Current::Version(Version::parse("1.2.0").unwrap());
        let discovery = Discovery::Releases {
            candidates: Vec::new(),
            seen: 3,
            examples: vec!["release-1".into()],
        };
        let error = judge(&dep(RELEASES), current, None, discovery, NOW).unwrap_err();
        assert!(
            matches!(&error, DependencyError::NoMatchingTags { seen: 3, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn a_branch_head_inside_the_quiet_period_waits_for_a_settled_commit() {
        let branch = dep(&format!(
            "source = \"git\"\nurl = \"https://example.com/lib.git\"\nbranch = \"main\"\nquiet-days = 3\nversion = \"{}\"",
            "a".repeat(40)
        ));
        let commit = |c: char, days_old: i64| CommitCandidate {
            id: c.to_string().repeat(40),
            time: Some(NOW - days_old * DAY),
        };
        let current = Current::Commit("a".repeat(40));
        let discovery = Discovery::Commits(vec![commit('c', 1), commit('b', 5), commit('a', 9)]);
        let finding = judge(&branch, current, None, discovery, NOW).unwrap();
        assert!(finding.update_available);
        assert_eq!(finding.latest, "b".repeat(40));
        assert_eq!(
            finding.note.as_deref(),
            Some(
                "the branch head cccccccccccc is younger than `quiet-days = 3`; waiting until 2023-11-16"
            )
        );
    }
}
