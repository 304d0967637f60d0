//! Settings that come from the environment, merged with the registry's `[settings]`.
//!
//! The environment wins over `deps.toml`, which wins over the defaults: a GitHub Actions runner
//! sets `GITHUB_API_URL` for the forge it runs on, and tests point it at a fake.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::http::{Api, DEFAULT_GITHUB_API, DEFAULT_GITLAB_API, HttpSettings, Secret};
use crate::manifest::Settings;
use crate::retry::RetryPolicy;

/// The public npm registry.
pub const DEFAULT_NPM_REGISTRY: &str = "https://registry.npmjs.org/";

/// Everything the network layer needs, resolved.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    pub http: HttpSettings,
    pub npm_registry: Url,
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
        // A token goes only to an API the environment names (or the public default): a
        // registry never decides where a token goes, so a base only `deps.toml` names gets
        // none.
        let mut withheld = Vec::new();
        let mut forge = |api: Api,
                         setting: &Option<String>,
                         setting_name: &str,
                         default: &str,
                         token: Option<Secret>|
         -> Result<(Url, Option<Secret>), ConfigError> {
            match (env(api.url_variable()), setting) {
                (Some(value), _) => Ok((url(api.url_variable(), value)?, token)),
                (None, Some(value)) => {
                    let base = url(setting_name, value.clone())?;
                    if token.is_some() {
                        withheld.push((api, crate::http::redact(&base)));
                    }
                    Ok((base, None))
                }
                (None, None) => Ok((Url::parse(default).expect("valid URL"), token)),
            }
        };
        let github_token = env("GITHUB_TOKEN")
            .or_else(|| env("GH_TOKEN"))
            .and_then(Secret::new);
        let gitlab_token = env("GITLAB_TOKEN").and_then(Secret::new);
        let (github_api, github_token) = forge(
            Api::GitHub,
            &settings.github_api_url,
            "settings.github-api-url",
            DEFAULT_GITHUB_API,
            github_token,
        )?;
        let (gitlab_api, gitlab_token) = forge(
            Api::GitLab,
            &settings.gitlab_api_url,
            "settings.gitlab-api-url",
            DEFAULT_GITLAB_API,
            gitlab_token,
        )?;
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
            github_api,
            github_token,
            gitlab_api,
            gitlab_token,
            cache_dir,
            retry: RetryPolicy {
                attempts: attempts.map_or(defaults.retry.attempts, |n| n as u32),
                first_delay: delay.map_or(defaults.retry.first_delay, Duration::from_millis),
            },
            max_rate_limit_wait: wait.map_or(defaults.max_rate_limit_wait, Duration::from_secs),
            timeout: timeout.map_or(defaults.timeout, Duration::from_secs),
            withheld,
            use_cached_answers: true,
            max_answer_bytes: answer_mib.map_or(defaults.max_answer_bytes, |m| m << 20),
        };
        Ok(Self { http, npm_registry })
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

    #[test]
    fn environment_wins_over_settings() {
        let settings = Settings {
            github_api_url: Some("https://ghe.example.com/api/v3".into()),
            gitlab_api_url: Some("https://gitlab.example.com/api/v4".into()),
            npm_registry: Some("https://npm.example.com/".into()),
            ..Settings::default()
        };
        let config = resolve(&[], &settings).unwrap();
        assert_eq!(
            config.http.github_api.as_str(),
            "https://ghe.example.com/api/v3"
        );
        assert_eq!(config.npm_registry.as_str(), "https://npm.example.com/");
        assert_eq!(
            config.http.gitlab_api.as_str(),
            "https://gitlab.example.com/api/v4"
        );
        let config = resolve(
            &[
                ("GITLAB_API_URL", "http://127.0.0.1:7/api/v4"),
                ("GITHUB_API_URL", "http://127.0.0.1:9/"),
                ("npm_config_registry", "http://127.0.0.1:8/"),
            ],
            &settings,
        )
        .unwrap();
        assert_eq!(config.http.github_api.as_str(), "http://127.0.0.1:9/");
        assert_eq!(config.npm_registry.as_str(), "http://127.0.0.1:8/");
        assert_eq!(config.http.gitlab_api.as_str(), "http://127.0.0.1:7/api/v4");
    }

    #[test]
    fn defaults_and_tokens() {
        let config = resolve(
            &[("GITHUB_API_URL", " "), ("GH_TOKEN", "abc")],
            &Settings::default(),
        )
        .unwrap();
        assert_eq!(config.http.github_api.as_str(), "https://api.github.com/");
        assert_eq!(config.npm_registry.as_str(), DEFAULT_NPM_REGISTRY);
        assert_eq!(config.http.gitlab_api.as_str(), DEFAULT_GITLAB_API);
        assert!(config.http.gitlab_token.is_none());
        assert_eq!(config.http.github_token.unwrap().expose(), "abc");
        let config = resolve(
            &[("GITHUB_TOKEN", "first"), ("GH_TOKEN", "second")],
            &Settings::default(),
        )
        .unwrap();
        assert_eq!(config.http.github_token.unwrap().expose(), "first");
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
