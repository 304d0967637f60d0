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

    /// Fills in a URL template: each value is encoded for its place (path, query), a value
    /// can neither change the host (`@evil:1/`, `.evil.com`) nor climb the path (`..`), and
    /// the result must be on the host the template names. `url_valued` placeholders hold a
    /// whole URL (`{archive}` in `{archive}.asc`) and may only start the template, where the
    /// result must stay on their host.
    pub fn render_url(&self, vars: &Vars, url_valued: &[&str]) -> Result<url::Url, UrlError> {
        let fail = |reason: String| UrlError {
            template: self.text.clone(),
            reason,
        };
        let mut out = String::with_capacity(self.text.len());
        let mut place = Place::Start;
        let mut expected_host: Option<String> = None;
        let mut host_from_value = false;
        let mut rest = self.text.as_str();
        while let Some(open) = rest.find('{') {
            let literal = &rest[..open];
            place = place.after_literal(literal);
            out.push_str(literal);
            let close = open + rest[open..].find('}').expect("validated");
            let name = &rest[open + 1..close];
            rest = &rest[close + 1..];
            let Some(value) = vars.get(name) else {
                return Err(fail(format!("has no value for `{{{name}}}`")));
            };
            if url_valued.contains(&name) {
                if !out.is_empty() {
                    return Err(fail(format!(
                        "`{{{name}}}` holds a whole address: it may only start the template"
                    )));
                }
                let parsed = url::Url::parse(value)
                    .map_err(|_| fail(format!("`{{{name}}}` is not an address: `{value}`")))?;
                expected_host = parsed.host_str().map(str::to_owned);
                host_from_value = true;
                out.push_str(value);
                place = Place::after_url(value);
                continue;
            }
            let shown = || crate::printer::sanitize(value);
            match place {
                Place::Start | Place::Authority => {
                    if let Some(path) = value.strip_prefix('/') {
                        // `https://host{path}`: the value starts the path.
                        check_segments(path)
                            .map_err(|why| fail(format!("`{{{name}}}` = `{}` {why}", shown())))?;
                        out.push('/');
                        out.push_str(&percent_encode(path, b"/+"));
                        place = Place::Path;
                    } else if !value.is_empty()
                        && value
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    {
                        out.push_str(value);
                    } else {
                        return Err(fail(format!(
                            "`{{{name}}}` = `{}` would change the address's host",
                            shown()
                        )));
                    }
                }
                Place::Path => {
                    check_segments(value)
                        .map_err(|why| fail(format!("`{{{name}}}` = `{}` {why}", shown())))?;
                    out.push_str(&percent_encode(value, b"/+"));
                }
                Place::Query => out.push_str(&percent_encode(value, b"")),
            }
        }
        out.push_str(rest);
        let url =
            url::Url::parse(&out).map_err(|_| fail(format!("gives `{out}`, not an address")))?;
        if !host_from_value {
            // The template's own host, with harmless values in its placeholders.
            let probe: String = {
                let mut probe = String::new();
                let mut rest = self.text.as_str();
                while let Some(open) = rest.find('{') {
                    probe.push_str(&rest[..open]);
                    probe.push('x');
                    rest = &rest[open + rest[open..].find('}').expect("validated") + 1..];
                }
                probe.push_str(rest);
                probe
            };
            let literal_host = !self.text.split("://").nth(1).is_some_and(|after| {
                let end = after.find(['/', '?', '#']).unwrap_or(after.len());
                after[..end].contains('{')
            });
            if literal_host {
                expected_host = url::Url::parse(&probe)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned));
            }
        }
        if let Some(expected) = expected_host
            && url.host_str() != Some(expected.as_str())
        {
            return Err(fail(format!(
                "gives an address on `{}`, not on `{expected}`",
                url.host_str().unwrap_or_default()
            )));
        }
        Ok(url)
    }
}

/// Why a URL template could not be filled in safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the address template `{template}` {reason}")]
pub struct UrlError {
    pub template: String,
    pub reason: String,
}

/// Where in a URL the text written so far ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Start,
    /// After `scheme://`, before the path.
    Authority,
    Path,
    /// The query or the fragment.
    Query,
}

impl Place {
    fn after_literal(self, text: &str) -> Self {
        let mut place = self;
        let mut rest = text;
        if place == Self::Start {
            match rest.find("://") {
                Some(at) => {
                    place = Self::Authority;
                    rest = &rest[at + 3..];
                }
                None if rest.is_empty() => return Self::Start,
                None => place = Self::Authority,
            }
        }
        for c in rest.chars() {
            place = match (place, c) {
                (Self::Start | Self::Authority, '/') => Self::Path,
                (_, '?' | '#') => Self::Query,
                (place, _) => place,
            };
        }
        place
    }

    fn after_url(value: &str) -> Self {
        if value.contains(['?', '#']) {
            Self::Query
        } else {
            Self::Path
        }
    }
}

/// A value for a path: no `.` or `..` segment may move it.
fn check_segments(value: &str) -> Result<(), String> {
    let decoded = value.replace("%2e", ".").replace("%2E", ".");
    if decoded.split(['/', '\\']).any(|s| s == "." || s == "..") {
        return Err("would climb out of the address's path".into());
    }
    Ok(())
}

/// `value` percent-encoded, keeping unreserved characters (`A-Za-z0-9-._~`) and `keep`.
pub fn percent_encode(value: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || keep.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
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

    #[test]
    fn url_values_cannot_move_the_address() {
        let all = ["path", "version", "archive", "tag"];
        let vars = |pairs: &[(&str, &str)]| {
            let mut vars = Vars::new();
            for (k, v) in pairs {
                vars.insert(*k, *v);
            }
            vars
        };
        let render = |template: &str, pairs: &[(&str, &str)]| {
            Template::parse(template, &all)
                .unwrap()
                .render_url(&vars(pairs), &["archive"])
                .map(|u| u.to_string())
                .map_err(|e| e.reason)
        };
        assert_eq!(
            render(
                "https://sqlite.org{path}",
                &[("path", "/2025/sqlite-3500400.zip")]
            )
            .unwrap(),
            "https://sqlite.org/2025/sqlite-3500400.zip"
        );
        assert_eq!(
            render("https://x.org/{tag}/a.tgz", &[("tag", "release/v9.2.1")]).unwrap(),
            "https://x.org/release/v9.2.1/a.tgz"
        );
        assert_eq!(
            render("https://x.org/dl?v={version}", &[("version", "1.0&x=y#z")]).unwrap(),
            "https://x.org/dl?v=1.0%26x%3Dy%23z"
        );
        assert_eq!(
            render(
                "https://x.org/d/{version}.tgz",
                &[("version", "1.0@evil:1/x")]
            )
            .unwrap(),
            "https://x.org/d/1.0%40evil%3A1/x.tgz"
        );
        assert!(
            render(
                "https://sqlite.org{path}",
                &[("path", "@127.0.0.1:18002/x")]
            )
            .unwrap_err()
            .contains("would change the address's host")
        );
        assert!(
            render("https://{path}example.com/x", &[("path", ".evil.")])
                .unwrap_err()
                .contains("would change the address's host")
        );
        assert!(
            render("https://x.org/files/{path}", &[("path", "../../admin")])
                .unwrap_err()
                .contains("would climb out")
        );
        assert_eq!(
            render("{archive}.asc", &[("archive", "https://dl.x.org/a.tgz")]).unwrap(),
            "https://dl.x.org/a.tgz.asc"
        );
        assert!(
            render(
                "https://mirror.org/{archive}",
                &[("archive", "https://a/b")]
            )
            .unwrap_err()
            .contains("may only start the template")
        );
    }
}
