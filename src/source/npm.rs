//! npm packages (`source = "npm"`), from the registry at `npm_config_registry`.
//!
//! One request for the abbreviated package document lists every published version.
//! Deprecated versions are never candidates, and versions above the `latest` dist-tag count as
//! upstream pre-releases (published for early adopters, e.g. under `next`), so they are
//! proposed only with `prerelease = true`. A version's code is the tarball npm published, checked
//! against the `integrity` npm published with it.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Links;
use super::{Discovery, Origin, Source, SourceContext, SourceError, Target, parse_url};
use crate::http::{Accept, HttpError, redact};
use crate::select::{PublishedArchive, ReleaseCandidate};
use crate::template::Vars;
use crate::version::Version;

/// `source = "npm"`.
#[derive(Debug)]
pub struct NpmSource<'a> {
    package: &'a str,
    /// Ask for the full document, whose `time` dates each version (for `min-age-days`); the
    /// abbreviated one npm prefers has no dates.
    dated: bool,
}

#[derive(Debug, Deserialize)]
struct Packument {
    #[serde(rename = "dist-tags", default)]
    dist_tags: BTreeMap<String, String>,
    #[serde(default)]
    versions: BTreeMap<String, PackageVersion>,
    /// Publication time of each version (full documents only).
    #[serde(default)]
    time: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct PackageVersion {
    #[serde(default)]
    deprecated: Option<serde_json::Value>,
    #[serde(default)]
    dist: Option<Dist>,
}

#[derive(Debug, Deserialize)]
struct Dist {
    tarball: String,
    #[serde(default)]
    integrity: Option<String>,
}

impl<'a> NpmSource<'a> {
    pub fn new(package: &'a str, dated: bool) -> Self {
        Self { package, dated }
    }
}

impl Source for NpmSource<'_> {
    async fn discover(&self, context: &SourceContext) -> Result<Discovery, SourceError> {
        let mut url = context.npm_registry.clone();
        let registry = redact(&url);
        let bad = || SourceError::Http {
            location: self.package.to_owned(),
            source: HttpError::BadUrl {
                url: registry.clone(),
            },
        };
        // A scoped name is one path segment: `@scope%2Fname`.
        url.path_segments_mut()
            .map_err(|()| bad())?
            .pop_if_empty()
            .push(self.package);
        let packument: Packument = context
            .http
            .get_json(
                &url,
                if self.dated {
                    Accept::Json
                } else {
                    Accept::NpmPackument
                },
            )
            .await
            .map_err(|source| match source {
                HttpError::NotFound { .. } => SourceError::PackageNotFound {
                    package: self.package.to_owned(),
                    registry: registry.clone(),
                },
                source => SourceError::Http {
                    location: self.package.to_owned(),
                    source,
                },
            })?
            .body;
        let latest = packument
            .dist_tags
            .get("latest")
            .and_then(|v| Version::parse(v).ok());
        let seen = packument.versions.len();
        let examples = packument.versions.keys().rev().take(5).cloned().collect();
        let time = packument.time;
        let candidates = packument
            .versions
            .into_iter()
            .filter(|(_, meta)| !is_deprecated(meta))
            .filter_map(|(text, meta)| Version::parse(&text).ok().map(|v| (v, meta)))
            .map(|(version, meta)| ReleaseCandidate {
                upstream_prerelease: latest.as_ref().is_some_and(|l| &version > l),
                published_at: time
                    .get(version.as_str())
                    .and_then(|t| t.as_str())
                    .and_then(super::seconds_of),
                published: meta.dist.map(|d| PublishedArchive {
                    url: d.tarball,
                    integrity: d.integrity,
                }),
                ..ReleaseCandidate::new(version, None)
            })
            .collect();
        Ok(Discovery::Releases {
            candidates,
            seen,
            examples,
        })
    }

    fn origin(
        &self,
        target: &Target<'_>,
        _vars: &Vars,
        _context: &SourceContext,
    ) -> Result<Origin, SourceError> {
        let no_tarball = || SourceError::NoTarball {
            package: self.package.to_owned(),
            version: target.version.to_owned(),
        };
        let published = target
            .candidate
            .and_then(|c| c.published.as_ref())
            .ok_or_else(no_tarball)?;
        Ok(Origin::Download {
            url: parse_url(&published.url).map_err(|_| no_tarball())?.into(),
            published: match &published.integrity {
                Some(integrity) if integrity.starts_with("sha512-") => {
                    super::Published::Integrity(integrity.clone())
                }
                Some(integrity) => super::Published::Missing(format!(
                    "npm published only a weak digest for `{}@{}` (`{}`), no protection against a forged tarball",
                    self.package,
                    target.version,
                    integrity.split('-').next().unwrap_or_default()
                )),
                None => super::Published::Missing(format!(
                    "npm published no integrity for `{}@{}`",
                    self.package, target.version
                )),
            },
            name: None,
        })
    }

    fn links(&self, _context: &SourceContext, _old: Option<&str>, _new: Option<&str>) -> Links {
        Links::default()
    }
}

/// npm marks a deprecated version with a message; an empty string or `false` means none.
fn is_deprecated(meta: &PackageVersion) -> bool {
    match &meta.deprecated {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => false,
        Some(serde_json::Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}
