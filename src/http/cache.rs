//! The conditional-request cache: one file per URL (and kind of answer, and whether a token
//! was sent), holding the body and its validators, written atomically.

use std::path::PathBuf;

use reqwest::Url;
use reqwest::header::{self, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use super::{Accept, HttpClient};

/// One cached response.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct CacheEntry {
    pub(super) url: String,
    pub(super) etag: Option<String>,
    pub(super) last_modified: Option<String>,
    pub(super) next: Option<String>,
    pub(super) body: String,
}

impl HttpClient {
    pub(super) fn cache_file(
        &self,
        url: &Url,
        accept: Accept,
        authenticated: bool,
    ) -> Option<PathBuf> {
        let dir = self.settings.cache_dir.as_ref()?;
        let mut hasher = Sha256::new();
        hasher.update(url.as_str());
        hasher.update([0, accept as u8, u8::from(authenticated)]);
        let key: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Some(dir.join("http").join(format!("{key}.json")))
    }

    pub(super) fn store(
        &self,
        url: &Url,
        accept: Accept,
        authenticated: bool,
        headers: &HeaderMap,
        body: &str,
        next: Option<&Url>,
    ) {
        let Some(file) = self.cache_file(url, accept, authenticated) else {
            return;
        };
        let header_text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let entry = CacheEntry {
            url: url.to_string(),
            etag: header_text(header::ETAG),
            last_modified: header_text(header::LAST_MODIFIED),
            next: next.map(Url::to_string),
            body: body.to_owned(),
        };
        if entry.etag.is_none() && entry.last_modified.is_none() {
            return;
        }
        let write = || -> std::io::Result<()> {
            let dir = file.parent().expect("cache files live in a folder");
            std::fs::create_dir_all(dir)?;
            // One write: serde_json writes token by token, a system call each to a file.
            let bytes = serde_json::to_vec(&entry)?;
            let mut temp = tempfile::NamedTempFile::new_in(dir)?;
            std::io::Write::write_all(&mut temp, &bytes)?;
            temp.persist(&file).map_err(|e| e.error)?;
            Ok(())
        };
        if let Err(error) = crate::blocking::blocking(write) {
            self.printer.verbose(&format!(
                "could not write the cache file `{}`: {error}",
                file.display()
            ));
        }
    }
}
