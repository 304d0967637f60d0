//! Text templates with named placeholders: archive and checksum URLs, asset names, branch
//! names, commit messages. Placeholders are checked when the registry is loaded, so a typo
//! such as `{verison}` is a registry error, never a literal in a URL.

use std::collections::BTreeMap;

/// A validated template such as `https://example.com/{name}-{version}.tar.gz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template `{template}` {reason}")]
pub struct TemplateError {
    pub template: String,
    pub reason: String,
}

/// Values for placeholders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars(BTreeMap<String, String>);

impl Vars {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a placeholder's value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    /// A placeholder's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl<const N: usize> From<[(&str, String); N]> for Vars {
    fn from(pairs: [(&str, String); N]) -> Self {
        Self(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}

impl Template {
    /// Checks that every `{placeholder}` is one of `allowed`.
    pub fn parse(text: &str, allowed: &[&str]) -> Result<Self, TemplateError> {
        let err = |reason: String| TemplateError {
            template: text.to_owned(),
            reason,
        };
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                return Err(err("has a `{` without a matching `}`".into()));
            };
            let name = &rest[open + 1..open + close];
            if !allowed.contains(&name) {
                let list: Vec<String> = allowed.iter().map(|a| format!("`{{{a}}}`")).collect();
                return Err(err(format!(
                    "has an unknown placeholder `{{{name}}}`; expected {}",
                    list.join(", ")
                )));
            }
            rest = &rest[open + close + 1..];
        }
        Ok(Self {
            text: text.to_owned(),
        })
    }

    /// Fills in the placeholders; one without a value is left as written.
    pub fn render(&self, vars: &Vars) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut rest = self.text.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = open + rest[open..].find('}').expect("validated");
            let name = &rest[open + 1..close];
            match vars.get(name) {
                Some(value) => out.push_str(value),
                None => out.push_str(&rest[open..=close]),
            }
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_validates() {
        let template =
            Template::parse("https://x/{name}-{version}.tar.gz", &["name", "version"]).unwrap();
        let vars = Vars::from([
            ("name", "nghttp2".to_owned()),
            ("version", "1.64.0".to_owned()),
        ]);
        assert_eq!(template.render(&vars), "https://x/nghttp2-1.64.0.tar.gz");
        let error = Template::parse("{verison}", &["name", "version"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "template `{verison}` has an unknown placeholder `{verison}`; expected `{name}`, `{version}`"
        );
        assert!(Template::parse("{version", &["version"]).is_err());
    }
}
