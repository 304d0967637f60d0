//! `[settings]`: what applies to every dependency, with its defaults.

use toml::Spanned;

use super::raw::RawSettings;
use super::{BRANCH_VARS, Locator, MESSAGE_VARS, ManifestError, days_in};
use crate::template::Template;

/// The `[settings]` table.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Each forge's API base (`github-api-url`, `gitlab-api-url`, `gitea-api-url`), by the
    /// forge's key.
    pub api_urls: std::collections::BTreeMap<String, String>,
    /// `forge`: the forge of the project's own repository (`github`, `gitlab`, `gitea`);
    /// `None`: the one the push remote names.
    pub forge: Option<String>,
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
    /// The repository (`owner/name`, on GitLab `group/subgroup/name`) that receives change
    /// requests; `None`: what the forge's CI says (`GITHUB_REPOSITORY`, `CI_PROJECT_PATH`),
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
    /// `provenance = "strict"`: an update whose release archive holds files that are not
    /// the tagged source (and not `generated`) fails instead of warning.
    pub provenance_strict: bool,
    /// `not-vendored`: folders `init --check` finds beside vendored ones that are the
    /// project's own code, not third-party.
    pub not_vendored: Vec<std::path::PathBuf>,
    /// `release-lines`: the branches or tags `audit` reads by default, each as git holds it
    /// (`main`, `v22.x`); empty: the working copy.
    pub release_lines: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            api_urls: std::collections::BTreeMap::new(),
            forge: None,
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
            provenance_strict: false,
            not_vendored: Vec::new(),
            release_lines: Vec::new(),
        }
    }
}

impl Settings {
    /// The update branch of a dependency or group `name` built on the branch `base`: `branch`
    /// with `{name}` and `{base}`; built on a release line asked for (`update --base v22.x`)
    /// with a template that has no `{base}`, the line is appended (`deps-update/nghttp2-v22.x`),
    /// so lines never share a branch.
    pub fn update_branch(&self, name: &str, base: &str, line: Option<&str>) -> String {
        let branch = self.branch.render(&crate::template::Vars::from([
            ("name", name.to_owned()),
            ("base", line.unwrap_or(base).to_owned()),
        ]));
        match line {
            Some(line) if !self.branch.as_str().contains("{base}") => format!("{branch}-{line}"),
            _ => branch,
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
        // Two parts on GitHub and Gitea; GitLab's groups nest.
        let forge = raw
            .forge
            .as_ref()
            .and_then(|f| crate::forge::by_key(f.get_ref()))
            .unwrap_or(crate::forge::FORGES[0]);
        let nested = forge.info().nested_repos;
        let parts = text.split('/').count();
        if parts < 2 || (parts > 2 && !nested) || text.split('/').any(str::is_empty) {
            let expected = forge.info().repo_example;
            return Err(locator.diagnostic(
                repository.span(),
                None,
                Some("repository"),
                format!("expected `{expected}`, found `{text}`"),
            ));
        }
    }
    let not_vendored = raw
        .not_vendored
        .map(Spanned::into_inner)
        .unwrap_or_default()
        .iter()
        .map(|folder| {
            super::relative_path(folder)
                .map_err(|why| locator.diagnostic(folder.span(), None, Some("not-vendored"), why))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let release_lines = raw
        .release_lines
        .map(Spanned::into_inner)
        .unwrap_or_default()
        .into_iter()
        .map(|line| {
            let text = line.get_ref().trim();
            if text.is_empty() || text.starts_with('-') || text.chars().any(char::is_whitespace) {
                Err(locator.diagnostic(
                    line.span(),
                    None,
                    Some("release-lines"),
                    format!("expected a branch or tag name, found `{}`", line.get_ref()),
                ))
            } else if let Err(error) = globset::Glob::new(text) {
                Err(locator.diagnostic(
                    line.span(),
                    None,
                    Some("release-lines"),
                    format!("not a valid pattern: {}", error.kind()),
                ))
            } else {
                Ok(text.to_owned())
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Settings {
        api_urls: [
            ("github", url(raw.github_api_url, "github-api-url")?),
            ("gitlab", url(raw.gitlab_api_url, "gitlab-api-url")?),
            ("gitea", url(raw.gitea_api_url, "gitea-api-url")?),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key.to_owned(), v)))
        .collect(),
        forge: match raw.forge {
            Some(forge) if crate::forge::by_key(forge.get_ref()).is_none() => {
                let known: Vec<String> = crate::forge::FORGES
                    .iter()
                    .map(|f| format!("`{}`", f.info().key))
                    .collect();
                return Err(locator.diagnostic(
                    forge.span(),
                    None,
                    Some("forge"),
                    format!("expected {}, found `{}`", known.join(", "), forge.get_ref()),
                ));
            }
            forge => forge.map(Spanned::into_inner),
        },
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
        not_vendored,
        release_lines,
        provenance_strict: match raw.provenance {
            None => false,
            Some(value) => match value.get_ref().as_str() {
                "warn" => false,
                "strict" => true,
                other => {
                    return Err(locator.diagnostic(
                        value.span(),
                        None,
                        Some("provenance"),
                        format!("expected `warn` or `strict`, found `{other}`"),
                    ));
                }
            },
        },
    })
}
