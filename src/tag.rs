//! How a project spells a version in its tags.
//!
//! A [`TagTemplate`] such as `v{version}`, `release/v{version}` or `cares-{major}_{minor}_{patch}`
//! matches a whole tag name and yields the version it names; a [`TagScheme`] is the list of
//! templates a project has used over time. A tag that matches no template is ignored, never
//! guessed at: libuv's `node-v0.5.0` is not libuv 0.5.0.

use regex::Regex;

use crate::version::Version;

/// The templates used when a dependency gives no `tag`.
pub const DEFAULT_TEMPLATES: &[&str] = &["v{version}", "{version}"];

/// One tag template, compiled.
#[derive(Debug, Clone)]
pub struct TagTemplate {
    text: String,
    pattern: Regex,
    literal_prefix: String,
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tag template `{template}` {reason}")]
pub struct TemplateError {
    pub template: String,
    pub reason: String,
}

/// A version-shaped run: numbers and dots, then an optional pre-release and build metadata.
const VERSION_PATTERN: &str =
    r"\d+(?:\.\d+)*(?:-?[0-9A-Za-z][0-9A-Za-z.\-]*)?(?:\+[0-9A-Za-z.\-]+)?";

impl TagTemplate {
    /// Compiles a template. Placeholders: `{version}`, or `{major}` with optional `{minor}`
    /// and `{patch}`.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let err = |reason: &str| TemplateError {
            template: text.to_owned(),
            reason: reason.to_owned(),
        };
        let mut pattern = String::from("^");
        let mut literal_prefix = None;
        let mut seen: Vec<&str> = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let Some(open) = rest.find('{') else {
                if rest.contains('}') {
                    return Err(err("has a `}` without a matching `{`"));
                }
                pattern.push_str(&regex::escape(rest));
                break;
            };
            let literal = &rest[..open];
            if literal.contains('}') {
                return Err(err("has a `}` without a matching `{`"));
            }
            pattern.push_str(&regex::escape(literal));
            literal_prefix.get_or_insert_with(|| text[..text.len() - rest.len() + open].to_owned());
            let Some(close) = rest[open..].find('}') else {
                return Err(err("has a `{` without a matching `}`"));
            };
            let name = &rest[open + 1..open + close];
            let group = match name {
                "version" => VERSION_PATTERN,
                "major" | "minor" | "patch" => r"\d+",
                _ => {
                    return Err(err(&format!(
                        "has an unknown placeholder `{{{name}}}`; expected `{{version}}`, \
                         `{{major}}`, `{{minor}}` or `{{patch}}`"
                    )));
                }
            };
            if seen.contains(&name) {
                return Err(err(&format!("uses `{{{name}}}` twice")));
            }
            seen.push(name);
            pattern.push_str(&format!("(?P<{name}>{group})"));
            rest = &rest[open + close + 1..];
        }
        let has = |n: &str| seen.contains(&n);
        if has("version") && (has("major") || has("minor") || has("patch")) {
            return Err(err("mixes `{version}` with `{major}`/`{minor}`/`{patch}`"));
        } else if !has("version") && !has("major") {
            return Err(err("needs `{version}` or `{major}`"));
        } else if has("patch") && !has("minor") {
            return Err(err("has `{patch}` without `{minor}`"));
        }
        pattern.push('$');
        let pattern = Regex::new(&pattern).map_err(|e| err(&e.to_string()))?;
        Ok(Self {
            text: text.to_owned(),
            pattern,
            literal_prefix: literal_prefix.unwrap_or_default(),
        })
    }

    /// The version this tag names, or `None` when the tag does not fit the template.
    pub fn version_of(&self, tag: &str) -> Option<Version> {
        let captures = self.pattern.captures(tag)?;
        if let Some(version) = captures.name("version") {
            return Version::parse(version.as_str()).ok();
        }
        let parts: Vec<&str> = ["major", "minor", "patch"]
            .iter()
            .filter_map(|name| captures.name(name).map(|m| m.as_str()))
            .collect();
        Version::from_parts(&parts).ok()
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The tag this template gives `version` (`v{version}` and 1.2.3: `v1.2.3`).
    pub fn render(&self, version: &Version) -> String {
        let part = |i: usize| version.release().get(i).copied().unwrap_or(0).to_string();
        self.text
            .replace("{version}", version.plain())
            .replace("{major}", &part(0))
            .replace("{minor}", &part(1))
            .replace("{patch}", &part(2))
    }
}

/// The templates of one dependency, tried in order.
#[derive(Debug, Clone)]
pub struct TagScheme {
    templates: Vec<TagTemplate>,
}

impl TagScheme {
    /// A scheme from templates already compiled; an empty list means the defaults.
    pub fn new(templates: Vec<TagTemplate>) -> Self {
        if templates.is_empty() {
            return Self::default();
        }
        Self { templates }
    }

    /// The version a tag names under the first template it fits.
    pub fn version_of(&self, tag: &str) -> Option<Version> {
        self.templates.iter().find_map(|t| t.version_of(tag))
    }

    /// The longest literal text every matching tag starts with (`release/v`, `v`, or empty);
    /// lets a source ask its upstream for fewer refs.
    pub fn common_prefix(&self) -> &str {
        let mut prefix = self.templates[0].literal_prefix.as_str();
        for template in &self.templates[1..] {
            let other = template.literal_prefix.as_str();
            let shared = prefix
                .char_indices()
                .zip(other.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((i, c), _)| i + c.len_utf8());
            prefix = &prefix[..shared];
        }
        prefix
    }

    /// The tag of `version` under the first template: what upstream most likely calls it.
    pub fn tag_for(&self, version: &Version) -> String {
        self.templates[0].render(version)
    }

    /// The templates, for messages.
    pub fn templates(&self) -> impl Iterator<Item = &str> {
        self.templates.iter().map(TagTemplate::as_str)
    }
}

impl Default for TagScheme {
    fn default() -> Self {
        let templates = DEFAULT_TEMPLATES
            .iter()
            .map(|t| TagTemplate::parse(t).expect("default templates are valid"))
            .collect();
        Self { templates }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(templates: &[&str]) -> TagScheme {
        TagScheme::new(
            templates
                .iter()
                .map(|t| TagTemplate::parse(t).unwrap())
                .collect(),
        )
    }

    fn mapped(scheme: &TagScheme, tag: &str) -> Option<String> {
        scheme.version_of(tag).map(|v| v.to_string())
    }

    #[test]
    fn maps_real_tag_schemes() {
        let cases: &[(&[&str], &str, Option<&str>)] = &[
            (&["v{version}"], "v1.64.0", Some("1.64.0")),
            (&["v{version}"], "1.64.0", None),
            (&["v{version}", "{version}"], "0.11.8", Some("0.11.8")),
            (&["release/v{version}"], "release/v9.2.1", Some("9.2.1")),
            (&["release/v{version}"], "v9.2.1", None),
            (&["v{version}"], "release/v9.2.1", None),
            (&["v{version}"], "node-v0.5.0", None),
            (
                &["cares-{major}_{minor}_{patch}"],
                "cares-1_34_5",
                Some("1.34.5"),
            ),
            (&["cares-{major}_{minor}_{patch}"], "cares-1_34", None),
            (
                &["v{version}", "cares-{major}_{minor}_{patch}"],
                "cares-1_19_0",
                Some("1.19.0"),
            ),
            (&["release-{major}-{minor}"], "release-77-1", Some("77.1")),
            (&["release-{major}-{minor}"], "release-78-rc", None),
            (&["v{version}"], "v1.2.0rc2", Some("1.2.0rc2")),
            (&["v{version}"], "v1.5.5-kernel", Some("1.5.5-kernel")),
            (&["v{version}"], "dev/null", None),
            (&["v{version}"], "go/brotli/v1.1.1-rc0", None),
            (&["v{version}"], "tags/v1.10.x", None),
            (&["v{version}"], "v1.10.x", None),
            (
                &["openssl-{version}"],
                "openssl-3.0.13+quic",
                Some("3.0.13+quic"),
            ),
            (&["{version}"], "v1.2.3", None),
        ];
        for (templates, tag, expected) in cases {
            assert_eq!(
                mapped(&scheme(templates), tag).as_deref(),
                *expected,
                "{templates:?} {tag}"
            );
        }
    }

    #[test]
    fn googletest_changed_schemes() {
        let scheme = scheme(&["v{version}", "release-{version}"]);
        assert_eq!(mapped(&scheme, "release-1.12.1").as_deref(), Some("1.12.1"));
        assert_eq!(mapped(&scheme, "v1.18.0").as_deref(), Some("1.18.0"));
        assert_eq!(scheme.common_prefix(), "");
    }

    #[test]
    fn rejects_bad_templates() {
        for (text, reason) in [
            ("v{vresion}", "unknown placeholder `{vresion}`"),
            ("v1.0", "needs `{version}` or `{major}`"),
            ("v{version", "without a matching `}`"),
            ("{major}.{version}", "mixes"),
            ("{major}_{patch}", "`{patch}` without `{minor}`"),
            ("{version}-{version}", "twice"),
        ] {
            let error = TagTemplate::parse(text).unwrap_err();
            assert!(error.to_string().contains(reason), "{text}: {error}");
        }
    }

    #[test]
    fn common_prefix_narrows_the_request() {
        assert_eq!(scheme(&["release/v{version}"]).common_prefix(), "release/v");
        assert_eq!(scheme(&["v{version}"]).common_prefix(), "v");
        assert_eq!(
            scheme(&["cares-{major}_{minor}_{patch}", "cares-{version}"]).common_prefix(),
            "cares-"
        );
        assert_eq!(TagScheme::default().common_prefix(), "");
    }
}
