//! The keys about what is vendored as a supply chain: `license` (an SPDX expression, for
//! SBOMs) and `ignore-advisories` (for `audit`), validated.

use std::ops::Range;

use toml::Spanned;

use super::raw::RawIgnore;
use super::{IgnoredAdvisory, ManifestError};

/// `license`, checked to be an SPDX expression.
pub(super) fn license(
    license: Option<Spanned<String>>,
    fail: &dyn Fn(Range<usize>, &str, String) -> ManifestError,
) -> Result<Option<String>, ManifestError> {
    license
        .map(|l| match spdx::Expression::parse(l.get_ref()) {
            Ok(_) => Ok(l.get_ref().trim().to_owned()),
            Err(error) => Err(fail(
                l.span(),
                "license",
                format!(
                    "`{}` is not an SPDX license expression ({}): use identifiers from https://spdx.org/licenses/ joined with AND, OR and WITH",
                    l.get_ref(),
                    error.reason
                ),
            )),
        })
        .transpose()
}

/// `ignore-advisories`: each with an id and a reason.
pub(super) fn ignored_advisories(
    list: Option<Spanned<Vec<RawIgnore>>>,
    fail: &dyn Fn(Range<usize>, &str, String) -> ManifestError,
) -> Result<Vec<IgnoredAdvisory>, ManifestError> {
    Ok(match list {
        None => Vec::new(),
        Some(list) => {
            let span = list.span();
            let mut ignored = Vec::new();
            for item in list.into_inner() {
                let id = item.id.trim().to_owned();
                let reason = item.reason.unwrap_or_default().trim().to_owned();
                if id.is_empty() || reason.is_empty() {
                    return Err(fail(
                        span,
                        "ignore-advisories",
                        format!(
                            "each ignored advisory needs an `id` and a `reason` (why it does not apply){}",
                            if id.is_empty() {
                                String::new()
                            } else {
                                format!(": `{id}` has none")
                            }
                        ),
                    ));
                }
                ignored.push(IgnoredAdvisory { id, reason });
            }
            ignored
        }
    })
}
