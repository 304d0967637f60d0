//! The forge's side of an audit: tags resolved to commits, and the repository's own
//! published advisories, through the dependency's forge (where it can say).

use super::{Side, Subject};
use crate::advisory::RepoAdvisory;
use crate::http::HttpError;
use crate::manifest::{SourceSpec, Tracking};
use crate::source::SourceContext;

/// The commits of a subject's versions: a branch-tracked one is one; a forge's tag is
/// resolved through its API (annotated tags dereferenced), where the forge can.
pub(super) async fn commits_of(
    context: &SourceContext,
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
        let commit = match (&subject.dep.tracking, subject.dep.source.forge(), tag) {
            (Tracking::Branch { .. }, _, _) => version,
            (_, Some((forge, repo)), Some(tag)) => {
                let site = context.site(forge);
                forge.tag_commit(&context.http, &site, repo, &tag).await
            }
            _ => None,
        };
        out.push((side, commit));
    }
    out
}

/// The published advisories of a forge upstream (none for other sources, or a forge that
/// publishes none).
pub(super) async fn repo_advisories(
    context: &SourceContext,
    source: &SourceSpec,
) -> Result<Vec<RepoAdvisory>, HttpError> {
    let Some((forge, repo)) = source.forge() else {
        return Ok(Vec::new());
    };
    let site = context.site(forge);
    Ok(forge
        .advisories(&context.http, &site, repo)
        .await?
        .unwrap_or_default())
}
