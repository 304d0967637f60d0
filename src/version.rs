//! Versions as upstream projects really write them.
//!
//! A [`Version`] is a dotted run of numbers of any length (`1.3.0.1`, `77.1`, `1.34.5`) with an
//! optional pre-release (`-rc1`, `rc2`, `-alpha.6`) and optional build metadata (`+quic`).
//! Leading zeros and a `v` prefix are accepted. Ordering is semver precedence generalised to any
//! number of components: missing components count as zero (`1.3` = `1.3.0`), a pre-release sorts
//! before its release, and build metadata does not take part (`3.0.13+quic` = `3.0.13`).

use std::cmp::Ordering;
use std::fmt;

/// A parsed upstream version; it keeps the text it was parsed from for display.
#[derive(Debug, Clone)]
pub struct Version {
    raw: String,
    release: Vec<u64>,
    pre: Option<String>,
    build: Option<String>,
}

/// Why a string is not a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a version: {reason}")]
pub struct VersionError {
    pub text: String,
    pub reason: &'static str,
}

impl Version {
    /// Parses `1.2.3`, `v1.2.3`, `1.3.0.1`, `1.2.0rc2`, `1.0.0-alpha.6`, `3.0.13+quic`.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        let err = |reason| VersionError {
            text: text.to_owned(),
            reason,
        };
        let trimmed = text.trim();
        let body = match trimmed.strip_prefix(['v', 'V']) {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
            _ => trimmed,
        };
        if !body.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(err("it must start with a number"));
        }
        let numeric_end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (numeric, rest) = body.split_at(numeric_end);
        // Splitting rejects `1.10.x`, `1.2.` and `1..2` (an empty component); `1.2.0rc2` is fine.
        let mut release = Vec::new();
        for part in numeric.split('.') {
            if part.is_empty() {
                return Err(err("a `.` must be followed by a number"));
            }
            release.push(
                part.parse::<u64>()
                    .map_err(|_| err("a number is too large"))?,
            );
        }
        let (pre_text, build) = match rest.split_once('+') {
            Some((pre, build)) => (pre, Some(build)),
            None => (rest, None),
        };
        let pre_text = pre_text.strip_prefix('-').unwrap_or(pre_text);
        let pre = if pre_text.is_empty() {
            if rest.starts_with('-') {
                return Err(err("`-` must be followed by a pre-release name"));
            }
            None
        } else {
            if !is_identifier_list(pre_text) {
                return Err(err(
                    "the pre-release may hold only letters, digits, `.` and `-`",
                ));
            }
            Some(pre_text.to_owned())
        };
        let build = match build {
            Some(b) if is_identifier_list(b) => Some(b.to_owned()),
            Some(_) => {
                return Err(err(
                    "build metadata may hold only letters, digits, `.` and `-`",
                ));
            }
            None => None,
        };
        Ok(Self {
            raw: trimmed.to_owned(),
            release,
            pre,
            build,
        })
    }

    /// Builds a version from the parts a tag template captured (`{major}_{minor}_{patch}`).
    pub fn from_parts(parts: &[&str]) -> Result<Self, VersionError> {
        Self::parse(&parts.join("."))
    }

    /// The release numbers, as written (`[1, 3, 0, 1]`).
    pub fn release(&self) -> &[u64] {
        &self.release
    }

    /// True for `-rc1`, `rc2`, `-beta`, `-kernel`: anything after the release numbers but
    /// build metadata.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }

    /// Build metadata (`quic` in `3.0.13+quic`), which takes no part in ordering.
    pub fn build(&self) -> Option<&str> {
        self.build.as_deref()
    }

    /// The text the version was parsed from (with any `v` prefix).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The version without a `v` prefix, as `deps.toml` records it.
    pub fn plain(&self) -> &str {
        match self.raw.strip_prefix(['v', 'V']) {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
            _ => &self.raw,
        }
    }

    /// The first three release numbers as a semver version, for `allow` requirements.
    /// Pre-release and build are left out: `prerelease` decides about those on its own.
    pub fn to_semver_release(&self) -> semver::Version {
        let part = |i: usize| self.release.get(i).copied().unwrap_or(0);
        semver::Version::new(part(0), part(1), part(2))
    }
}

fn is_identifier_list(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.plain())
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.release.len().max(other.release.len());
        for i in 0..len {
            let a = self.release.get(i).copied().unwrap_or(0);
            let b = other.release.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                unequal => return unequal,
            }
        }
        match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => compare_prerelease(a, b),
        }
    }
}

/// Semver's rule for pre-releases (dot-separated identifiers, numeric ones compared as
/// numbers and before alphanumeric ones), with alphanumeric identifiers compared naturally so
/// that `rc2` < `rc10`.
fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let mut left = a.split(['.', '-']);
    let mut right = b.split(['.', '-']);
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => natural_cmp(x, y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Compares runs of digits as numbers and everything else as text: `rc2` < `rc10`.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    while !a.is_empty() && !b.is_empty() {
        let a_digit = a.starts_with(|c: char| c.is_ascii_digit());
        let b_digit = b.starts_with(|c: char| c.is_ascii_digit());
        let split = |s: &str, digit: bool| {
            s.find(|c: char| c.is_ascii_digit() != digit)
                .unwrap_or(s.len())
        };
        let (a_run, a_rest) = a.split_at(split(a, a_digit));
        let (b_run, b_rest) = b.split_at(split(b, b_digit));
        let order = match (a_digit, b_digit) {
            (true, true) => {
                let a_num = a_run.trim_start_matches('0');
                let b_num = b_run.trim_start_matches('0');
                a_num.len().cmp(&b_num.len()).then_with(|| a_num.cmp(b_num))
            }
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => a_run.cmp(b_run),
        };
        if order != Ordering::Equal {
            return order;
        }
        a = a_rest;
        b = b_rest;
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_real_world_versions() {
        type Case<'a> = (&'a str, &'a [u64], Option<&'a str>, Option<&'a str>);
        let cases: &[Case] = &[
            ("1.34.5", &[1, 34, 5], None, None),
            ("v1.64.0", &[1, 64, 0], None, None),
            ("1.3.0.1", &[1, 3, 0, 1], None, None),
            ("77.1", &[77, 1], None, None),
            ("3.0.13+quic", &[3, 0, 13], None, Some("quic")),
            ("1.2.0rc2", &[1, 2, 0], Some("rc2"), None),
            ("1.1.0rc", &[1, 1, 0], Some("rc"), None),
            ("1.0.0-alpha.6", &[1, 0, 0], Some("alpha.6"), None),
            ("1.5.5-kernel", &[1, 5, 5], Some("kernel"), None),
            ("0.0.023", &[0, 0, 23], None, None),
            (
                "3.0.0-rc.1+build.5",
                &[3, 0, 0],
                Some("rc.1"),
                Some("build.5"),
            ),
            ("  v2.0 ", &[2, 0], None, None),
        ];
        for (text, release, pre, build) in cases {
            let version = v(text);
            assert_eq!(version.release(), *release, "{text}");
            assert_eq!(version.pre.as_deref(), *pre, "{text}");
            assert_eq!(version.build(), *build, "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_version() {
        for text in [
            "",
            "v",
            "dev/null",
            "latest",
            "1.10.x",
            "1..2",
            "1.2.",
            "-1.0",
            "1.0-",
            "1.0+",
            "1.0 beta",
            "main",
            "99999999999999999999999.1",
        ] {
            assert!(Version::parse(text).is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn orders_by_precedence() {
        let ascending = [
            "0.0.9",
            "0.0.10",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.9",
            "1.1.0rc",
            "1.1.0",
            "1.2.0rc1",
            "1.2.0rc2",
            "1.2.0rc10",
            "1.2.0",
            "1.3",
            "1.3.0.1",
            "1.3.1",
            "1.34.5",
            "9.0.0",
            "10.0.0",
            "77.1",
            "78",
        ];
        for pair in ascending.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn equal_precedence() {
        for (a, b) in [
            ("1.3", "1.3.0"),
            ("v1.2.3", "1.2.3"),
            ("3.0.13+quic", "3.0.13"),
            ("01.002.3", "1.2.3"),
        ] {
            assert_eq!(v(a), v(b), "{a} = {b}");
        }
        assert_ne!(v("1.5.5-kernel"), v("1.5.5"));
    }

    #[test]
    fn display_drops_the_v_prefix() {
        assert_eq!(v("v1.2.3").to_string(), "1.2.3");
        assert_eq!(v("v1.2.3").as_str(), "v1.2.3");
        assert_eq!(
            v("1.3.0.1").to_semver_release(),
            semver::Version::new(1, 3, 0)
        );
        assert_eq!(v("77").to_semver_release(), semver::Version::new(77, 0, 0));
    }
}
