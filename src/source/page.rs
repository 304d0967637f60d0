//! Any page (`source = "url"`): versions read from an HTML, text or JSON document at `url` by
//! `regex`, for upstreams with no forge API (sqlite's download page, a listing of NSS tags).
//!
//! Every match of `regex` is a candidate. Its version is the `version` group, or the
//! `major`/`minor`/`patch` groups joined with dots (a missing `patch` is left out); a `tag`
//! group names the tag. Every named group is also a placeholder for `archive`, `checksums`
//! and `signature` (sqlite's archive URL needs the year and a 7-digit number that only the
//! page says). Pages are fetched like every other request: conditionally, with retries, and
//! only over `https://` off loopback. There is no default download: `archive` says where the
//! code is.

use regex::Regex;

use super::Links;
use super::{Discovery, Origin, Source, SourceContext, SourceError, Target, page_link, parse_url};
use crate::http::{Accept, redact};
use crate::select::ReleaseCandidate;
use crate::template::{Template, Vars};
use crate::version::Version;

/// `source = "url"`.
#[derive(Debug)]
pub struct PageSource<'a> {
    name: &'a str,
    url: &'a Template,
    regex: &'a Regex,
}

impl<'a> PageSource<'a> {
    pub fn new(name: &'a str, url: &'a Template, regex: &'a Regex) -> Self {
        Self { name, url, regex }
    }

    fn page_url(&self) -> String {
        self.url
            .render(&Vars::from([("name", self.name.to_owned())]))
    }
}

impl Source for PageSource<'_> {
    async fn discover(&self, context: &SourceContext) -> Result<Discovery, SourceError> {
        let text = self.page_url();
        let url = parse_url(&text)?;
        let (page, _) = context
            .http
            .get_text(&url, Accept::Page)
            .await
            .map_err(|source| SourceError::Http {
                location: redact(&url),
                source,
            })?;
        let candidates = versions_in(&page, self.regex);
        if candidates.is_empty() {
            let excerpt: Vec<String> = page
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(3)
                .map(|l| l.chars().take(120).collect())
                .collect();
            return Err(SourceError::NoVersionMatched {
                url: redact(&url),
                regex: self.regex.as_str().to_owned(),
                excerpt: excerpt.join("\n"),
            });
        }
        Ok(Discovery::Releases {
            seen: candidates.len(),
            examples: Vec::new(),
            candidates,
        })
    }

    fn origin(
        &self,
        target: &Target<'_>,
        _vars: &Vars,
        _context: &SourceContext,
    ) -> Result<Origin, SourceError> {
        Err(SourceError::NoOrigin {
            kind: "url",
            version: target.version.to_owned(),
        })
    }

    fn links(&self, _context: &SourceContext, _old: Option<&str>, _new: Option<&str>) -> Links {
        page_link(&self.page_url())
    }
}

/// Every version `regex` finds in `page`, first match first, each version once.
fn versions_in(page: &str, regex: &Regex) -> Vec<ReleaseCandidate> {
    let mut found: Vec<ReleaseCandidate> = Vec::new();
    for captures in regex.captures_iter(page) {
        let text = match captures.name("version") {
            Some(version) => version.as_str().to_owned(),
            None => ["major", "minor", "patch"]
                .iter()
                .filter_map(|n| captures.name(n).map(|m| m.as_str()))
                .collect::<Vec<_>>()
                .join("."),
        };
        let Ok(version) = Version::parse(text.trim()) else {
            continue;
        };
        if found.iter().any(|c| c.version == version) {
            continue;
        }
        let vars = regex
            .capture_names()
            .flatten()
            .filter_map(|n| {
                captures
                    .name(n)
                    .map(|m| (n.to_owned(), m.as_str().to_owned()))
            })
            .collect();
        let tag = captures.name("tag").map(|m| m.as_str().to_owned());
        found.push(ReleaseCandidate {
            vars,
            ..ReleaseCandidate::new(version, tag)
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sqlite_and_nss_pages() {
        let sqlite = "<!-- Download product data for scripts to read\n\
            PRODUCT,3.50.4,2025/sqlite-amalgamation-3500400.zip,2760527,f1a2\n\
            PRODUCT,3.50.4,2025/sqlite-autoconf-3500400.tar.gz,3178474,aa\n-->";
        let regex = Regex::new(
            r"PRODUCT,(?P<version>[0-9.]+),(?P<year>\d{4})/sqlite-amalgamation-(?P<number>\d{7})\.zip",
        )
        .unwrap();
        let found = versions_in(sqlite, &regex);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].version.as_str(), "3.50.4");
        assert!(found[0].vars.contains(&("year".into(), "2025".into())));
        assert!(found[0].vars.contains(&("number".into(), "3500400".into())));

        let nss = r#"{"tags": [{"tag": "NSS_3_117_RTM"}, {"tag": "NSS_3_116_1_RTM"},
            {"tag": "NSS_3_117_BETA1"}, {"tag": "NSS_3_117_RTM"}]}"#;
        let regex =
            Regex::new(r"(?P<tag>NSS_(?P<major>\d+)_(?P<minor>\d+)(?:_(?P<patch>\d+))?_RTM)")
                .unwrap();
        let found: Vec<(String, Option<String>)> = versions_in(nss, &regex)
            .into_iter()
            .map(|c| (c.version.to_string(), c.tag))
            .collect();
        assert_eq!(
            found,
            [
                ("3.117".into(), Some("NSS_3_117_RTM".into())),
                ("3.116.1".into(), Some("NSS_3_116_1_RTM".into())),
            ]
        );
    }
}
