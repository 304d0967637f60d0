//! Downloads that are hashed while they stream to a temporary file, so memory does not grow
//! with the archive's size and the hash is known before anything is unpacked.

use std::fs::File;
use std::io::{Seek, Write};
use std::path::Path;

use base64::Engine as _;
use sha2::{Digest, Sha256, Sha512};

use crate::http::{Address, DownloadSink, HttpClient, HttpError};
use crate::printer::Printer;

/// A downloaded file and its digests.
#[derive(Debug)]
pub struct Downloaded {
    pub file: tempfile::NamedTempFile,
    /// The last path segment of the URL (`nghttp2-1.64.0.tar.xz`).
    pub name: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
    /// `sha512-<base64>`, the form of npm's `integrity`.
    pub sha512_integrity: String,
}

struct HashingFile {
    file: File,
    sha256: Sha256,
    sha512: Sha512,
}

impl DownloadSink for HashingFile {
    fn restart(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        self.sha256 = Sha256::new();
        self.sha512 = Sha512::new();
        Ok(())
    }

    fn write_chunk(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.sha256.update(chunk);
        self.sha512.update(chunk);
        crate::blocking::blocking(|| self.file.write_all(chunk))
    }
}

/// Downloads `url` into a temporary file in `dir`, hashing as it goes.
pub async fn download(
    http: &HttpClient,
    address: &Address,
    name: Option<&str>,
    dir: &Path,
    limit: u64,
    printer: &Printer,
) -> Result<Downloaded, HttpError> {
    let url = address.url();
    let write_error = |source| HttpError::Write {
        url: crate::http::redact(url),
        source,
    };
    let temp = tempfile::NamedTempFile::new_in(dir).map_err(write_error)?;
    let mut sink = HashingFile {
        file: temp.reopen().map_err(write_error)?,
        sha256: Sha256::new(),
        sha512: Sha512::new(),
    };
    let name = name
        .or_else(|| {
            url.path_segments()
                .and_then(|mut s| s.next_back())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("archive")
        .to_owned();
    let progress = printer.progress(&name);
    let size = http
        .download(address, &mut sink, limit, &|received, total| {
            progress.update(received, total)
        })
        .await?;
    progress.finish();
    crate::blocking::blocking(|| sink.file.flush()).map_err(write_error)?;
    let sha256 = hex(&sink.sha256.finalize());
    let sha512 = base64::engine::general_purpose::STANDARD.encode(sink.sha512.finalize());
    Ok(Downloaded {
        file: temp,
        name,
        size,
        sha256,
        sha512_integrity: format!("sha512-{sha512}"),
    })
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
