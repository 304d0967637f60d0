//! The keys that say which upstream versions a dependency follows: released versions (`tag`,
//! `allow`, `prerelease`, `ignore`, `min-age-days`, `version`) or a branch's head (`branch`,
//! `quiet-days`, `version` as a commit), validated into a [`Tracking`].

use std::ops::Range;

use toml::Spanned;

use super::raw::RawDependency;
use super::{Locator, ManifestError, Settings, SourceSpec, Tracking, days_in};
use crate::select::{Cooldown, Policy};
use crate::tag::{TagScheme, TagTemplate};
use crate::version::Version;

pub(super) fn validate_tracking(
    locator: &Locator<'_>,
    dep: Option<&str>,
    raw: &mut RawDependency,
    spec: &SourceSpec,
    settings: &Settings,
) -> Result<Tracking, ManifestError> {
    let fail = |span: Range<usize>, key: &str, message: String| {
        locator.diagnostic(span, dep, Some(key), message)
    };
    let tracking = match raw.branch.take() {
        Some(branch) => {
            for (key, span) in [
                ("tag", raw.tag.as_ref().map(Spanned::span)),
                ("allow", raw.allow.as_ref().map(Spanned::span)),
                ("prerelease", raw.prerelease.as_ref().map(Spanned::span)),
                ("ignore", raw.ignore.as_ref().map(Spanned::span)),
            ] {
                if let Some(span) = span {
                    return Err(fail(
                        span,
                        key,
                        format!("`{key}` does not apply when tracking a branch (`branch` is set)"),
                    ));
                }
            }
            let branch_name = branch.get_ref().trim();
            if branch_name.is_empty() || branch_name.starts_with("refs/") {
                return Err(fail(
                    branch.span(),
                    "branch",
                    "expected a branch name such as `main`".into(),
                ));
            }
            let commit = match raw.version.take() {
                Some(v) => {
                    let text = v.get_ref().trim();
                    if text.len() < 7
                        || text.len() > 64
                        || !text.bytes().all(|b| b.is_ascii_hexdigit())
                    {
                        return Err(fail(
                            v.span(),
                            "version",
                            format!(
                                "a branch-tracked dependency records a commit id (7 to 40 hex digits), found `{text}`"
                            ),
                        ));
                    }
                    Some(text.to_ascii_lowercase())
                }
                None => None,
            };
            let quiet_days = match raw.quiet_days.take() {
                Some(q) => u32::try_from(*q.get_ref())
                    .ok()
                    .filter(|d| *d <= 3650)
                    .ok_or_else(|| {
                        fail(
                            q.span(),
                            "quiet-days",
                            format!(
                                "expected a number of days from 0 to 3650, found {}",
                                q.get_ref()
                            ),
                        )
                    })?,
                None => 0,
            };
            if let Some(days) = &raw.min_age_days {
                return Err(fail(
                    days.span(),
                    "min-age-days",
                    "`min-age-days` applies to releases; a tracked branch waits with `quiet-days`"
                        .into(),
                ));
            }
            Tracking::Branch {
                branch: branch_name.to_owned(),
                commit,
                quiet_days,
            }
        }
        None => {
            if let Some(q) = &raw.quiet_days {
                return Err(fail(
                    q.span(),
                    "quiet-days",
                    "`quiet-days` applies only when tracking a branch (`source = \"git\"` with `branch`)".into(),
                ));
            }
            let version = raw
                .version
                .take()
                .map(|v| {
                    Version::parse(v.get_ref())
                        .map_err(|e| fail(v.span(), "version", e.to_string()))
                })
                .transpose()?;
            let scheme = match raw.tag.take() {
                Some(tag) => {
                    if !spec.takes_tags() {
                        return Err(fail(
                            tag.span(),
                            "tag",
                            format!(
                                "`tag` does not apply to `source = \"{}\"`: its versions are not tags",
                                spec.kind()
                            ),
                        ));
                    }
                    let span = tag.span();
                    let list = tag.into_inner().0;
                    if list.is_empty() {
                        return Err(fail(
                            span,
                            "tag",
                            "expected at least one tag template".into(),
                        ));
                    }
                    let templates = list
                        .iter()
                        .map(|t| TagTemplate::parse(t))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| fail(span.clone(), "tag", e.to_string()))?;
                    TagScheme::new(templates)
                }
                None => TagScheme::default(),
            };
            let allow = raw
                .allow
                .take()
                .map(|a| {
                    semver::VersionReq::parse(a.get_ref()).map_err(|e| {
                        fail(
                            a.span(),
                            "allow",
                            format!("expected a version requirement such as `~3.0` or `<2`: {e}"),
                        )
                    })
                })
                .transpose()?;
            let ignore = raw
                .ignore
                .take()
                .map(|list| {
                    list.into_inner()
                        .into_iter()
                        .map(|v| {
                            Version::parse(v.get_ref())
                                .map_err(|e| fail(v.span(), "ignore", e.to_string()))
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?
                .unwrap_or_default();
            // `[settings] min-age-days` is the default; a source that gives no dates says so
            // when checked.
            let cooldown = match &raw.min_age_days {
                None if settings.min_age_days == 0 => Cooldown::None,
                None if spec.dates_releases() => Cooldown::Days(settings.min_age_days),
                None => Cooldown::Unavailable(settings.min_age_days),
                Some(days) if !spec.dates_releases() => {
                    return Err(fail(
                        days.span(),
                        "min-age-days",
                        format!(
                            "`min-age-days` needs publication dates, which `source = \"{}\"` does not give: use a {} source",
                            spec.kind(),
                            super::source_spec::release_kind_names(&["npm"])
                        ),
                    ));
                }
                Some(days) => match days_in(locator, dep, days)? {
                    0 => Cooldown::None,
                    days => Cooldown::Days(days),
                },
            };
            let policy = Policy {
                allow,
                prerelease: raw
                    .prerelease
                    .take()
                    .map(|p| p.into_inner())
                    .unwrap_or(false),
                ignore,
                cooldown,
            };
            Tracking::Releases {
                version,
                scheme,
                policy,
            }
        }
    };
    Ok(tracking)
}
