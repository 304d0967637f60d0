//! The `deps.toml` schema exactly as written: serde types that refuse unknown keys and keep
//! the span of every value, so validation can point at the offending text.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawManifest {
    pub settings: Option<RawSettings>,
    #[serde(default)]
    pub deps: BTreeMap<Spanned<String>, Spanned<RawDependency>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawSettings {
    pub github_api_url: Option<Spanned<String>>,
    pub gitlab_api_url: Option<Spanned<String>>,
    pub gitea_api_url: Option<Spanned<String>>,
    pub forge: Option<Spanned<String>>,
    pub npm_registry: Option<Spanned<String>>,
    pub branch: Option<Spanned<String>>,
    pub base: Option<Spanned<String>>,
    pub commit_message: Option<Spanned<String>>,
    pub max_archive_mib: Option<Spanned<i64>>,
    pub remote: Option<Spanned<String>>,
    pub repository: Option<Spanned<String>>,
    pub labels: Option<Spanned<Vec<String>>>,
    pub draft: Option<Spanned<bool>>,
    pub reviewers: Option<Spanned<Vec<String>>>,
    pub min_age_days: Option<Spanned<i64>>,
    pub provenance: Option<Spanned<String>>,
    pub not_vendored: Option<Spanned<Vec<Spanned<String>>>>,
    pub release_lines: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawDependency {
    pub path: Option<Spanned<String>>,
    pub source: Option<Spanned<String>>,
    pub repo: Option<Spanned<String>>,
    pub url: Option<Spanned<String>>,
    pub branch: Option<Spanned<String>>,
    pub package: Option<Spanned<String>>,
    pub regex: Option<Spanned<String>>,
    pub version: Option<Spanned<String>>,
    pub version_file: Option<Spanned<RawVersionFile>>,
    pub references: Option<Spanned<Vec<Spanned<RawReference>>>>,
    pub tag: Option<Spanned<StringOrList>>,
    pub allow: Option<Spanned<String>>,
    pub prerelease: Option<Spanned<bool>>,
    pub ignore: Option<Spanned<Vec<Spanned<String>>>>,
    pub quiet_days: Option<Spanned<i64>>,
    pub min_age_days: Option<Spanned<i64>>,
    pub archive: Option<Spanned<String>>,
    pub asset: Option<Spanned<String>>,
    pub checksums: Option<Spanned<String>>,
    pub sha256: Option<Spanned<String>>,
    pub archive_commit: Option<Spanned<String>>,
    pub signature: Option<Spanned<String>>,
    pub keyring: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
    pub strip: Option<Spanned<i64>>,
    pub map: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    pub include: Option<Spanned<Vec<String>>>,
    pub exclude: Option<Spanned<Vec<String>>>,
    pub keep: Option<Spanned<Vec<String>>>,
    pub patches: Option<Spanned<OneOrMany>>,
    pub after: Option<Spanned<Vec<RawStep>>>,
    pub after_writes: Option<Spanned<Vec<String>>>,
    pub after_reads: Option<Spanned<Vec<String>>>,
    pub generated: Option<Spanned<Vec<String>>>,
    pub labels: Option<Spanned<Vec<String>>>,
    pub group: Option<Spanned<String>>,
    pub parent: Option<Spanned<String>>,
    pub license: Option<Spanned<String>>,
    pub ignore_advisories: Option<Spanned<Vec<RawIgnore>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawVersionFile {
    pub path: Spanned<String>,
    pub regex: Spanned<String>,
    pub encoding: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawReference {
    pub path: Spanned<String>,
    pub regex: Spanned<String>,
}

/// A string or a list of strings, told apart: `patches = "deps/patches/uv"` (a folder) or
/// `patches = ["a.patch"]` (files).
#[derive(Debug)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor;
        impl<'de> Visitor<'de> for OneOrManyVisitor {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(OneOrMany::One(value.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(OneOrMany::Many(items))
            }
        }
        deserializer.deserialize_any(OneOrManyVisitor)
    }
}

/// One of `ignore-advisories`: `{ id = "CVE-2018-25032", reason = "…" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIgnore {
    pub id: String,
    pub reason: Option<String>,
}

/// An `after` step: `"make"`, or `{ run = "make", commit = "deps: regenerate …" }`.
#[derive(Debug)]
pub struct RawStep {
    pub run: String,
    pub commit: Option<String>,
}

impl<'de> Deserialize<'de> for RawStep {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            run: String,
            commit: Option<String>,
        }
        struct StepVisitor;
        impl<'de> Visitor<'de> for StepVisitor {
            type Value = RawStep;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command, or a table `{ run = \"…\", commit = \"…\" }`")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(RawStep {
                    run: value.to_owned(),
                    commit: None,
                })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let table = Table::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawStep {
                    run: table.run,
                    commit: table.commit,
                })
            }
        }
        deserializer.deserialize_any(StepVisitor)
    }
}

/// `tag = "v{version}"` or `tag = ["v{version}", "cares-{major}_{minor}_{patch}"]`.
#[derive(Debug)]
pub struct StringOrList(pub Vec<String>);

impl<'de> Deserialize<'de> for StringOrList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(StringOrList(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }))
    }
}
