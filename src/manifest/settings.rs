//! `[settings]`: what applies to every dependency, with its defaults.

use toml::Spanned;

use super::raw::RawSettings;
use super::{BRANCH_VARS, Locator, MESSAGE_VARS, ManifestError, days_in};
use crate::template::Template;

/// The `[settings]` table.
#[derive(Debug, Clone)]
pub struct Settings {
    pub github_api_url: Option<String>,
    pub gitlab_api_url: Option<String>,
    pub npm_registry: Option<String>,
    /// The update branch of each dependency (`{name}`).
    pub branch: Template,
    /// The branch or revision updates start from; `None`: the current branch's upstream, else
    /// `HEAD`.
    pub base: Option<String>,
    /// The first line of each update's commit message.
    pub commit_message: Template,
    /// The largest archive, downloaded or unpacked, in bytes.
    pub max_archive_bytes: u64,
    /// The remote update branches are pushed to.
    pub remote: String,
    /// The repository (`owner/name`) that receives pull requests; `None`: `GITHUB_REPOSITORY`,
    /// else derived from the remote's URL.
    pub repository: Option<String>,
    /// Labels of every pull request.
    pub labels: Vec<String>,
    /// Open pull requests as drafts.
    pub draft: bool,
    /// Reviewers requested on new pull requests.
    pub reviewers: Vec<String>,
    /// `min-age-days`: the default release cooldown, for sources that date their releases.
    pub min_age_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            github_api_url: None,
            gitlab_api_url: None,
            npm_registry: None,
            branch: Template::parse("deps-update/{name}", BRANCH_VARS).expect("valid"),
            base: None,
            commit_message: Template::parse("deps: update {name} to {version}", MESSAGE_VARS)
                .expect("valid"),
            max_archive_bytes: 2048 << 20,
            remote: "origin".into(),
            repository: None,
            labels: vec!["dependencies".into()],
            draft: false,
            reviewers: Vec::new(),
            min_age_days: 0,
        }
    }
}

pub(super) fn validate_settings(
    locator: &Locator<'_>,
    raw: RawSettings,
) -> Result<Settings, ManifestError> {
    let url =
        |value: Option<Spanned<String>>, key: &str| -> Result<Option<String>, ManifestError> {
            value
                .map(|v| {
                    let span = v.span();
                    let text = v.into_inner();
                    match url::Url::parse(&text) {
                        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(text),
                        _ => Err(locator.diagnostic(
                            span,
                            None,
                            Some(key),
                            format!("expected an `https://` URL, found `{text}`"),
                        )),
                    }
                })
                .transpose()
        };
    let defaults = Settings::default();
    let template = |value: Option<Spanned<String>>, key: &str, vars: &[&str], default: Template| {
        value
            .map(|v| {
                Template::parse(v.get_ref(), vars)
                    .map_err(|e| locator.diagnostic(v.span(), None, Some(key), e.to_string()))
            })
            .transpose()
            .map(|t| t.unwrap_or(default))
    };
    if let Some(branch) = &raw.branch {
        let text = branch.get_ref().trim();
        let why = if !text.contains("{name}") {
            Some(
                "every dependency would share one branch: put `{name}` in it, e.g. `deps-update/{name}`",
            )
        } else if text == "{name}" {
            Some(
                "a bare `{name}` names branches such as `main` or `release` that deps-update did not create: give it a prefix, e.g. `deps-update/{name}`",
            )
        } else {
            None
        };
        if let Some(why) = why {
            return Err(locator.diagnostic(branch.span(), None, Some("branch"), why.to_owned()));
        }
    }
    let branch = template(raw.branch, "branch", BRANCH_VARS, defaults.branch)?;
    let commit_message = template(
        raw.commit_message,
        "commit-message",
        MESSAGE_VARS,
        defaults.commit_message,
    )?;
    let max_archive_bytes = match raw.max_archive_mib {
        Some(m) => u64::try_from(*m.get_ref())
            .ok()
            .filter(|n| (1..=1 << 20).contains(n))
            .map(|n| n << 20)
            .ok_or_else(|| {
                locator.diagnostic(
                    m.span(),
                    None,
                    Some("max-archive-mib"),
                    format!(
                        "expected a number of MiB from 1 to 1048576, found {}",
                        m.get_ref()
                    ),
                )
            })?,
        None => defaults.max_archive_bytes,
    };
    if let Some(repository) = &raw.repository {
        let text = repository.get_ref();
        if text.split('/').count() != 2 || text.split('/').any(str::is_empty) {
            return Err(locator.diagnostic(
                repository.span(),
                None,
                Some("repository"),
                format!("expected `owner/name`, found `{text}`"),
            ));
        }
    }
    Ok(Settings {
        github_api_url: url(raw.github_api_url, "github-api-url")?,
        gitlab_api_url: url(raw.gitlab_api_url, "gitlab-api-url")?,
        npm_registry: url(raw.npm_registry, "npm-registry")?,
        branch,
        base: raw.base.map(Spanned::into_inner),
        commit_message,
        max_archive_bytes,
        remote: raw.remote.map_or(defaults.remote, Spanned::into_inner),
        repository: raw.repository.map(Spanned::into_inner),
        labels: raw.labels.map_or(defaults.labels, Spanned::into_inner),
        draft: raw.draft.map_or(defaults.draft, Spanned::into_inner),
        reviewers: raw
            .reviewers
            .map_or(defaults.reviewers, Spanned::into_inner),
        min_age_days: match raw.min_age_days {
            Some(days) => days_in(locator, None, &days)?,
            None => defaults.min_age_days,
        },
    })
}
