//! Settings that come from the environment, merged with the registry's `[settings]`.
//!
//! The environment wins over `deps.toml`, which wins over the defaults: a GitHub Actions runner
//! sets `GITHUB_API_URL` for the forge it runs on, and tests point it at a fake.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::forge::{FORGES, Site};
use crate::http::{ApiId, ApiOrigin, Credential, HttpSettings, Secret};
use crate::manifest::Settings;
use crate::retry::RetryPolicy;

/// The public npm registry.
pub const DEFAULT_NPM_REGISTRY: &str = "https://registry.npmjs.org/";

/// Everything the network layer needs, resolved.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    pub http: HttpSettings,
    pub npm_registry: Url,
    /// Each forge of [`FORGES`], with its API in `http.apis` (same order).
    pub sites: Vec<Site>,
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("`{name}` is not a URL: `{value}`")]
    InvalidUrl { name: String, value: String },
    #[error("`{name}` must be {expected}, found `{value}`")]
    InvalidNumber {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl NetworkConfig {
    /// Resolves settings from `env` (a lookup such as `std::env::var`) over `settings`.
    pub fn resolve(
        settings: &Settings,
        cache_dir: Option<PathBuf>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let url = |name: &str, value: String| {
            Url::parse(value.trim()).map_err(|_| ConfigError::InvalidUrl {
                name: name.to_owned(),
                value,
            })
        };
        // Each forge's API: a variable that names it, else `settings.<forge>-api-url`, else
        // the public one. A token goes only to an API the environment names (or the public
        // default): a registry never decides where a token goes, so a base only `deps.toml`
        // names gets none, and says so when that matters.
        let mut apis = Vec::new();
        let mut sites = Vec::new();
        for (index, forge) in FORGES.iter().copied().enumerate() {
            let info = forge.info();
            let token = info.tokens.iter().find_map(|token| {
                env(token.variable)
                    .and_then(Secret::new)
                    .map(|secret| Credential {
                        header: token.header,
                        secret,
                        variable: token.variable,
                    })
            });
            let named = info
                .api_variables
                .iter()
                .find_map(|variable| env(variable).map(|value| (*variable, value)));
            let (base, trusted) = match (named, settings.api_urls.get(info.key)) {
                (Some((variable, value)), _) => (url(variable, value)?, true),
                (None, Some(value)) => (
                    url(&format!("settings.{}", info.api_setting), value.clone())?,
                    false,
                ),
                (None, None) => (Url::parse(info.default_api).expect("valid URL"), true),
            };
            apis.push(ApiOrigin {
                base,
                label: info.label,
                policy: info.policy,
                withheld: !trusted && token.is_some(),
                credential: token.filter(|_| trusted),
            });
            sites.push(Site {
                forge,
                api: ApiId(index),
            });
        }
        let npm_registry = match (
            env("npm_config_registry").or_else(|| env("NPM_CONFIG_REGISTRY")),
            &settings.npm_registry,
        ) {
            (Some(value), _) => url("npm_config_registry", value)?,
            (None, Some(value)) => url("settings.npm-registry", value.clone())?,
            (None, None) => Url::parse(DEFAULT_NPM_REGISTRY).expect("valid URL"),
        };
        let number =
            |name: &'static str, expected: &'static str, range: std::ops::RangeInclusive<u64>| {
                env(name)
                    .map(|value| {
                        value
                            .trim()
                            .parse::<u64>()
                            .ok()
                            .filter(|n| range.contains(n))
                            .ok_or(ConfigError::InvalidNumber {
                                name,
                                value,
                                expected,
                            })
                    })
                    .transpose()
            };
        let defaults = HttpSettings::default();
        let attempts = number(
            "DEPS_UPDATE_HTTP_ATTEMPTS",
            "a whole number from 1 to 10",
            1..=10,
        )?;
        let delay = number(
            "DEPS_UPDATE_RETRY_DELAY_MS",
            "a number of milliseconds up to 60000",
            0..=60_000,
        )?;
        let wait = number(
            "DEPS_UPDATE_MAX_RATE_LIMIT_WAIT",
            "a number of seconds up to 3600",
            0..=3600,
        )?;
        let timeout = number(
            "DEPS_UPDATE_HTTP_TIMEOUT",
            "a number of seconds from 1 to 600",
            1..=600,
        )?;
        let answer_mib = number(
            "DEPS_UPDATE_MAX_ANSWER_MIB",
            "a number of MiB from 1 to 4096",
            1..=4096,
        )?;
        let http = HttpSettings {
            apis,
            cache_dir,
            retry: RetryPolicy {
                attempts: attempts.map_or(defaults.retry.attempts, |n| n as u32),
                first_delay: delay.map_or(defaults.retry.first_delay, Duration::from_millis),
            },
            max_rate_limit_wait: wait.map_or(defaults.max_rate_limit_wait, Duration::from_secs),
            timeout: timeout.map_or(defaults.timeout, Duration::from_secs),
            use_cached_answers: true,
            max_answer_bytes: answer_mib.map_or(defaults.max_answer_bytes, |m| m << 20),
        };
        Ok(Self {
            http,
            npm_registry,
            sites,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(vars: &[(&str, &str)], settings: &Settings) -> Result<NetworkConfig, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        NetworkConfig::resolve(settings, None, |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    /// The API of the forge with `key`.
    fn api<'c>(config: &'c NetworkConfig, key: &str) -> &'c ApiOrigin {
        let index = FORGES.iter().position(|f| f.info().key == key).unwrap();
        &config.http.apis[index]
    }

    #[test]
    fn environment_wins_over_settings() {
        let settings = Settings {
            api_urls: [
                (
                    "github".to_owned(),
                    "https://ghe.example.com/api/v3".to_owned(),
                ),
                (
                    "gitlab".to_owned(),
                    "https://gitlab.example.com/api/v4".to_owned(),
                ),
            ]
            .into(),
            npm_registry: Some("https://npm.example.com/".into()),
            ..Settings::default()
        };
        let config = resolve(&[("GITHUB_TOKEN", "t")], &settings).unwrap();
        assert_eq!(
            api(&config, "github").base.as_str(),
            "https://ghe.example.com/api/v3"
        );
        // Only the registry names it: the token stays home.
        assert!(api(&config, "github").credential.is_none());
        assert!(api(&config, "github").withheld);
        assert_eq!(config.npm_registry.as_str(), "https://npm.example.com/");
        assert_eq!(
            api(&config, "gitlab").base.as_str(),
            "https://gitlab.example.com/api/v4"
        );
        assert_eq!(
            api(&config, "gitea").base.as_str(),
            "https://codeberg.org/api/v1"
        );
        let config = resolve(
            &[
                ("GITLAB_API_URL", "http://127.0.0.1:7/api/v4"),
                ("GITHUB_API_URL", "http://127.0.0.1:9/"),
                ("npm_config_registry", "http://127.0.0.1:8/"),
                ("GITEA_API_URL", "http://127.0.0.1:6/api/v1"),
            ],
            &settings,
        )
        .unwrap();
        assert_eq!(api(&config, "github").base.as_str(), "http://127.0.0.1:9/");
        assert_eq!(config.npm_registry.as_str(), "http://127.0.0.1:8/");
        assert_eq!(
            api(&config, "gitlab").base.as_str(),
            "http://127.0.0.1:7/api/v4"
        );
        assert_eq!(
            api(&config, "gitea").base.as_str(),
            "http://127.0.0.1:6/api/v1"
        );
    }

    #[test]
    fn defaults_and_tokens() {
        let config = resolve(
            &[
                ("GITHUB_API_URL", " "),
                ("GH_TOKEN", "abc"),
                ("FORGEJO_TOKEN", "f"),
            ],
            &Settings::default(),
        )
        .unwrap();
        assert_eq!(
            api(&config, "github").base.as_str(),
            "https://api.github.com/"
        );
        assert_eq!(config.npm_registry.as_str(), DEFAULT_NPM_REGISTRY);
        assert_eq!(
            api(&config, "gitlab").base.as_str(),
            "https://gitlab.com/api/v4"
        );
        assert!(api(&config, "gitlab").credential.is_none());
        let github = api(&config, "github").credential.as_ref().unwrap();
        assert_eq!(
            (github.secret.expose(), github.variable),
            ("abc", "GH_TOKEN")
        );
        let gitea = api(&config, "gitea").credential.as_ref().unwrap();
        assert_eq!(gitea.variable, "FORGEJO_TOKEN");
        let config = resolve(
            &[("GITHUB_TOKEN", "first"), ("GH_TOKEN", "second")],
            &Settings::default(),
        )
        .unwrap();
        let github = api(&config, "github").credential.as_ref().unwrap();
        assert_eq!(github.secret.expose(), "first");
    }

    #[test]
    fn rejects_bad_values() {
        let error =
            resolve(&[("DEPS_UPDATE_HTTP_ATTEMPTS", "0")], &Settings::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`DEPS_UPDATE_HTTP_ATTEMPTS` must be a whole number from 1 to 10, found `0`"
        );
        let error = resolve(
            &[("GITHUB_API_URL", "api.github.com")],
            &Settings::default(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`GITHUB_API_URL` is not a URL: `api.github.com`"
        );
    }
}
