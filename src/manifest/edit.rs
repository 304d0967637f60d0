//! Rewriting `deps.toml` after an update with `toml_edit`: only the values change; comments,
//! order and formatting stay as the user wrote them.

use toml_edit::{DocumentMut, Item, Value};

/// Why the registry could not be rewritten.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("`deps.toml` no longer parses")]
    Parse(#[source] toml_edit::TomlError),
    #[error("`deps.toml` has no table `[deps.{0}]` to update")]
    Missing(String),
    #[error("`[deps.{0}]` in `deps.toml` has no list `patches` to add to")]
    NoPatchList(String),
}

/// Sets `version` (when the dependency records one), `sha256` (when given) and
/// `archive-commit` (removed when `None`) of `[deps.<name>]`, keeping each value's
/// surrounding whitespace and trailing comment.
pub fn record_update(
    text: &str,
    name: &str,
    version: Option<&str>,
    sha256: Option<&str>,
    archive_commit: Option<&str>,
) -> Result<String, EditError> {
    keeping_encoding(text, |text| {
        record_update_in(text, name, version, sha256, archive_commit)
    })
}

/// Runs `edit` on `text` without its byte-order mark and with `\n` line ends, and gives the
/// result back the mark and `\r\n` line ends when the file had them: an edit changes the
/// lines it changes, never every line of a Windows-made file.
fn keeping_encoding(
    text: &str,
    edit: impl FnOnce(&str) -> Result<String, EditError>,
) -> Result<String, EditError> {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let crlf = body.contains("\r\n") && body.matches('\n').count() == body.matches("\r\n").count();
    let edited = if crlf {
        edit(&body.replace("\r\n", "\n"))?.replace('\n', "\r\n")
    } else {
        edit(body)?
    };
    Ok(format!("{bom}{edited}"))
}

fn record_update_in(
    text: &str,
    name: &str,
    version: Option<&str>,
    sha256: Option<&str>,
    archive_commit: Option<&str>,
) -> Result<String, EditError> {
    let mut doc: DocumentMut = text.parse().map_err(EditError::Parse)?;
    let table = doc
        .get_mut("deps")
        .and_then(|deps| deps.get_mut(name))
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| EditError::Missing(name.to_owned()))?;
    if let Some(version) = version {
        set_keeping_decor(table, "version", version);
    }
    if let Some(sha256) = sha256 {
        set_keeping_decor(table, "sha256", sha256);
    }
    // The commit belongs to the archive just recorded: kept up to date, or removed when this
    // archive could not be tied to one.
    match archive_commit {
        Some(commit) => set_keeping_decor(table, "archive-commit", commit),
        None => {
            table.remove("archive-commit");
        }
    }
    Ok(doc.to_string())
}

/// Adds `path` to the end of the list `patches` of `[deps.<name>]`.
pub fn append_patch(text: &str, name: &str, path: &str) -> Result<String, EditError> {
    keeping_encoding(text, |text| append_patch_in(text, name, path))
}

fn append_patch_in(text: &str, name: &str, path: &str) -> Result<String, EditError> {
    let mut doc: DocumentMut = text.parse().map_err(EditError::Parse)?;
    let list = doc
        .get_mut("deps")
        .and_then(|deps| deps.get_mut(name))
        .and_then(|table| table.get_mut("patches"))
        .and_then(Item::as_array_mut)
        .ok_or_else(|| EditError::NoPatchList(name.to_owned()))?;
    list.push(path);
    Ok(doc.to_string())
}

fn set_keeping_decor(table: &mut dyn toml_edit::TableLike, key: &str, text: &str) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(value) => {
            let decor = value.decor().clone();
            *value = Value::from(text);
            *value.decor_mut() = decor;
        }
        None => {
            table.insert(key, toml_edit::value(text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_comments_order_and_formatting() {
        let text = "# Node's deps\n\n[deps.nghttp2]\npath = \"deps/nghttp2\"   # vendored here\nversion   = \"1.63.0\"  # bumped by deps-update\nsource = \"github-release\"\n\n[deps.other]\nversion = \"1.63.0\"\n";
        let edited = record_update(text, "nghttp2", Some("1.64.0"), Some("ab12"), None).unwrap();
        assert_eq!(
            edited,
            "# Node's deps\n\n[deps.nghttp2]\npath = \"deps/nghttp2\"   # vendored here\nversion   = \"1.64.0\"  # bumped by deps-update\nsource = \"github-release\"\nsha256 = \"ab12\"\n\n[deps.other]\nversion = \"1.63.0\"\n"
        );
        let again = record_update(&edited, "nghttp2", Some("1.65.0"), Some("cd34"), None).unwrap();
        assert!(again.contains("version   = \"1.65.0\"  # bumped by deps-update\n"));
        assert!(again.contains("sha256 = \"cd34\"\n"));
    }

    #[test]
    fn keeps_a_byte_order_mark_and_windows_line_ends() {
        let text = "\u{feff}[deps.a]\r\nversion = \"1\" # here\r\npath = \"a\"\r\n";
        let edited = record_update(text, "a", Some("2"), Some("ff"), None).unwrap();
        assert_eq!(
            edited,
            "\u{feff}[deps.a]\r\nversion = \"2\" # here\r\npath = \"a\"\r\nsha256 = \"ff\"\r\n"
        );
    }

    #[test]
    fn a_missing_table_is_an_error() {
        assert!(matches!(
            record_update("[deps.a]\n", "b", Some("1"), None, None),
            Err(EditError::Missing(_))
        ));
    }
}
