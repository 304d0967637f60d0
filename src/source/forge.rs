//! A forge repository's releases (`source = "github-release"`, `"gitlab-release"`,
//! `"gitea-release"`) and tags (`"github-tag"`, ...), through the forge's API
//! ([`crate::forge`]). Drafts and pre-releases are flagged as the forge flags them. A
//! version's code is a release `asset` (through the API where the forge serves private
//! assets so), or the API's archive of the tag.

use super::{
    Discovery, Links, Origin, Published, Source, SourceContext, SourceError, Target,
    candidates_from_tags, forge_links, scheme_of,
};
use crate::forge::{Forge, Site};
use crate::http::{HttpError, redact};
use crate::manifest::Tracking;
use crate::select::ReleaseCandidate;
use crate::tag::TagScheme;
use crate::template::{Template, Vars};

/// A forge's releases.
#[derive(Debug)]
pub struct ForgeReleaseSource<'a> {
    forge: &'static dyn Forge,
    repo: &'a str,
    scheme: TagScheme,
    asset: Option<&'a Template>,
}

/// A forge's tags.
#[derive(Debug)]
pub struct ForgeTagSource<'a> {
    forge: &'static dyn Forge,
    repo: &'a str,
    scheme: TagScheme,
}

impl<'a> ForgeReleaseSource<'a> {
    pub fn new(
        forge: &'static dyn Forge,
        repo: &'a str,
        tracking: &Tracking,
        asset: Option<&'a Template>,
    ) -> Self {
        Self {
            forge,
            repo,
            scheme: scheme_of(tracking),
            asset,
        }
    }
}

impl<'a> ForgeTagSource<'a> {
    pub fn new(forge: &'static dyn Forge, repo: &'a str, tracking: &Tracking) -> Self {
        Self {
            forge,
            repo,
            scheme: scheme_of(tracking),
        }
    }
}

impl Source for ForgeReleaseSource<'_> {
    async fn discover(&self, context: &SourceContext) -> Result<Discovery, SourceError> {
        let site = context.site(self.forge);
        let releases = self
            .forge
            .releases(&context.http, &site, self.repo)
            .await
            .map_err(|e| listing_error(context, &site, self.repo, e))?;
        Ok(candidates_from_tags(
            &self.scheme,
            releases.iter().map(|r| (r.tag.as_str(), r)),
            |candidate, release| ReleaseCandidate {
                upstream_prerelease: release.prerelease,
                draft: release.draft,
                published_at: release.published_at,
                assets: release.assets.clone(),
                ..candidate
            },
        ))
    }

    fn origin(
        &self,
        target: &Target<'_>,
        vars: &Vars,
        context: &SourceContext,
    ) -> Result<Origin, SourceError> {
        let site = context.site(self.forge);
        let Some(asset) = self.asset else {
            return archive(context, &site, self.repo, target);
        };
        let found = super::release_asset(asset, target, vars)?;
        let url = self
            .forge
            .asset(&context.http, &site, self.repo, found)
            .map_err(|source| SourceError::Http {
                location: self.repo.to_owned(),
                source,
            })?;
        Ok(Origin::Download {
            url,
            published: Published::Nothing,
            name: Some(found.name.clone()),
        })
    }

    fn links(&self, context: &SourceContext, old: Option<&str>, new: Option<&str>) -> Links {
        links(context, self.forge, self.repo, old, new)
    }
}

impl Source for ForgeTagSource<'_> {
    async fn discover(&self, context: &SourceContext) -> Result<Discovery, SourceError> {
        let site = context.site(self.forge);
        let tags = self
            .forge
            .tags(&context.http, &site, self.repo, self.scheme.common_prefix())
            .await
            .map_err(|e| listing_error(context, &site, self.repo, e))?;
        Ok(candidates_from_tags(
            &self.scheme,
            tags.iter().map(|tag| (tag.as_str(), ())),
            |candidate, ()| candidate,
        ))
    }

    fn origin(
        &self,
        target: &Target<'_>,
        _vars: &Vars,
        context: &SourceContext,
    ) -> Result<Origin, SourceError> {
        archive(context, &context.site(self.forge), self.repo, target)
    }

    fn links(&self, context: &SourceContext, old: Option<&str>, new: Option<&str>) -> Links {
        links(context, self.forge, self.repo, old, new)
    }
}

/// The API's archive of the tag.
fn archive(
    context: &SourceContext,
    site: &Site,
    repo: &str,
    target: &Target<'_>,
) -> Result<Origin, SourceError> {
    let tag = target.tag.unwrap_or(target.version);
    let url = site
        .forge
        .archive(&context.http, site, repo, tag)
        .map_err(|source| SourceError::Http {
            location: repo.to_owned(),
            source,
        })?;
    Ok(Origin::Download {
        url: url.into(),
        published: Published::Nothing,
        name: None,
    })
}

fn links(
    context: &SourceContext,
    forge: &'static dyn Forge,
    repo: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> Links {
    let page = context.site(forge).repo_page(&context.http, repo);
    let (release, compare) = forge.link_paths();
    forge_links(repo, page, release, compare, old, new)
}

/// A failed listing: a 404 means the repository is not there (or is private).
fn listing_error(
    context: &SourceContext,
    site: &Site,
    repo: &str,
    error: HttpError,
) -> SourceError {
    match error {
        HttpError::NotFound { .. } => {
            let api = context.http.api(site.api);
            let label = site.info().label;
            SourceError::RepositoryNotFound {
                forge: label.name,
                repo: repo.to_owned(),
                api: redact(&api.base),
                token: label.token_variable,
                authenticated: api.credential.is_some(),
                withheld: api.withheld.then_some(label.url_variable),
            }
        }
        source => SourceError::Http {
            location: repo.to_owned(),
            source,
        },
    }
}
