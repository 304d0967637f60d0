//! Safe unpacking of upstream archives (`.tar.gz`, `.tar.xz`, `.tar`, `.zip`) into a staging
//! folder.
//!
//! The format is recognised by its first bytes, not its name. Only regular files, folders and
//! symbolic links whose target stays inside the archive are accepted; `..` and absolute
//! paths, links that escape or point nowhere, hard links and device files are refused, and so
//! is an archive whose content exceeds the size cap (a decompression bomb stops at the cap,
//! not at the disk's end). Links are never created on disk: they are returned as data, so no
//! later entry can be written through one; [`check_links`] then resolves every link of the
//! final tree through the others, however many hops it takes. Names are kept as the bytes
//! the archive holds; the layout refuses one that is not UTF-8 rather than rename it. A
//! `.tar.gz` made of several gzip members is read to its end.
//!
//! Errors tell a damaged archive (a read or format error) from a failed local write (disk
//! full, permissions), which names the file in the temporary folder.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Component, Path, PathBuf};

/// Entries accepted at most in one archive.
const MAX_ENTRIES: usize = 1_000_000;

/// What was unpacked.
#[derive(Debug, Default)]
pub struct Unpacked {
    /// Regular files written, by path inside the archive, with their executable bit.
    pub files: BTreeMap<PathBuf, bool>,
    /// Symbolic links, by path inside the archive, with their (relative) targets.
    pub links: BTreeMap<PathBuf, PathBuf>,
    /// Bytes of file content written.
    pub bytes: u64,
    /// Folders created so far (each is created once, not once per file).
    pub(crate) folders: std::collections::HashSet<PathBuf>,
    /// The commit a `git archive` tarball says it was made from (its pax global header's
    /// `comment`, as GitHub's generated archives carry): a claim, to be checked.
    pub commit: Option<String>,
}

/// Why an archive was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("`{name}` is not a .tar.gz, .tar.xz, .tar or .zip archive")]
    UnknownFormat { name: String },
    #[error("the archive entry `{entry}` points outside the target folder (`..`)")]
    EntryOutsideTarget { entry: String },
    #[error("the archive entry `{entry}` is an absolute path")]
    AbsolutePath { entry: String },
    #[error(
        "the archive entry `{entry}` is a link to `{target}`, outside the unpacked tree{}",
        through(via)
    )]
    LinkOutsideTarget {
        entry: String,
        target: String,
        /// The other links it resolves through, in order.
        via: Vec<String>,
    },
    #[error("the archive entry `{entry}` is a link with an empty target")]
    EmptyLink { entry: String },
    #[error(
        "the archive entry `{entry}` is a link that resolves through more than {MAX_HOPS} links"
    )]
    LinkLoop { entry: String },
    #[error("the archive entry `{entry}` has a name that is not UTF-8")]
    NotUtf8 { entry: String },
    #[error("the archive entry `{entry}` is a hard link, which is not accepted")]
    HardLink { entry: String },
    #[error("the archive entry `{entry}` is a {kind}, which is not accepted")]
    SpecialFile { entry: String, kind: &'static str },
    #[error("the archive unpacks to more than {} MiB (`settings.max-archive-mib`)", limit >> 20)]
    TooLarge { limit: u64 },
    #[error("the archive has more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    #[error("the archive is damaged")]
    Corrupt(#[source] std::io::Error),
    #[error("the zip archive is damaged")]
    CorruptZip(#[source] zip::result::ZipError),
    /// Writing the unpacked file failed: the machine's fault, not the archive's.
    #[error("cannot write the unpacked file `{}`", path.display())]
    Write {
        /// Where on disk (in the temporary folder).
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Links followed at most while resolving one (as the kernel's `ELOOP` limit).
const MAX_HOPS: usize = 40;

fn through(via: &[String]) -> String {
    if via.is_empty() {
        return String::new();
    }
    let links: Vec<String> = via.iter().map(|v| format!("`{v}`")).collect();
    format!(
        " (through the link{} {})",
        if via.len() == 1 { "" } else { "s" },
        links.join(", ")
    )
}

/// A path as it may be shown: valid UTF-8 as is, other bytes as `\xNN`, control characters
/// escaped.
pub fn shown_path(path: &Path) -> String {
    let mut out = String::new();
    for chunk in path.as_os_str().as_encoded_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

impl ArchiveError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::TooLarge { .. } => Some("raise `max-archive-mib` in `[settings]` if this archive is expected to be this large".into()),
            Self::UnknownFormat { .. } => Some("check `archive` or `asset`: it must name a .tar.gz, .tar.xz or .zip file".into()),
            Self::EntryOutsideTarget { .. }
            | Self::AbsolutePath { .. }
            | Self::LinkOutsideTarget { .. }
            | Self::HardLink { .. }
            | Self::SpecialFile { .. }
            | Self::EmptyLink { .. }
            | Self::LinkLoop { .. } => Some("the archive is malformed or hostile: report it upstream and do not vendor it".into()),
            Self::NotUtf8 { .. } => Some(
                "deps-update keeps file names exactly or not at all: `exclude` the file if it is not needed, or ask upstream to rename it".into(),
            ),
            Self::Write { source, .. } => Some(crate::write_hint::local_write_hint(source, crate::write_hint::WritePlace::Temporary)),
            Self::TooManyEntries | Self::Corrupt(_) | Self::CorruptZip(_) => None,
        }
    }
}

enum Format {
    TarGz,
    TarXz,
    Tar,
    Zip,
}

fn sniff(file: &Path, name: &str) -> Result<Format, ArchiveError> {
    let mut head = [0u8; 262];
    let mut f = File::open(file).map_err(ArchiveError::Corrupt)?;
    let n = read_up_to(&mut f, &mut head).map_err(ArchiveError::Corrupt)?;
    let head = &head[..n];
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Format::TarGz)
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Ok(Format::TarXz)
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Ok(Format::Zip)
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Ok(Format::Tar)
    } else {
        Err(ArchiveError::UnknownFormat {
            name: name.to_owned(),
        })
    }
}

fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Unpacks `file` (named `name` in messages) into `dest`, which must exist and be empty.
pub fn unpack(file: &Path, name: &str, dest: &Path, limit: u64) -> Result<Unpacked, ArchiveError> {
    let open = || {
        File::open(file)
            .map(BufReader::new)
            .map_err(ArchiveError::Corrupt)
    };
    match sniff(file, name)? {
        Format::TarGz => unpack_tar(flate2::read::MultiGzDecoder::new(open()?), dest, limit),
        Format::TarXz => unpack_tar(xz2::read::XzDecoder::new(open()?), dest, limit),
        Format::Tar => unpack_tar(open()?, dest, limit),
        Format::Zip => unpack_zip(
            File::open(file).map_err(ArchiveError::Corrupt)?,
            dest,
            limit,
        ),
    }
}

/// A path inside the archive, checked: only normal components.
fn safe_path(raw: &Path) -> Result<Option<PathBuf>, ArchiveError> {
    let entry = || shown_path(raw);
    let mut clean = PathBuf::new();
    for component in raw.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(ArchiveError::EntryOutsideTarget { entry: entry() });
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(ArchiveError::AbsolutePath { entry: entry() });
            }
        }
    }
    Ok((!clean.as_os_str().is_empty()).then_some(clean))
}

/// Checks, lexically, that a link at `link` pointing to `target` stays inside the tree it is
/// in and points somewhere. [`check_links`] then follows links through each other.
pub fn check_link(link: &Path, target: &Path) -> Result<(), ArchiveError> {
    if target.as_os_str().is_empty() {
        return Err(ArchiveError::EmptyLink {
            entry: shown_path(link),
        });
    }
    let outside = || ArchiveError::LinkOutsideTarget {
        entry: shown_path(link),
        target: shown_path(target),
        via: Vec::new(),
    };
    if target.is_absolute() {
        return Err(outside());
    }
    let mut depth: Vec<&std::ffi::OsStr> = link
        .parent()
        .map(|p| {
            p.components()
                .filter_map(|c| match c {
                    Component::Normal(n) => Some(n),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    for component in target.components() {
        match component {
            Component::Normal(n) => depth.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                if depth.pop().is_none() {
                    return Err(outside());
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err(outside()),
        }
    }
    Ok(())
}

/// Resolves every link of a tree (`links`: path -> target, relative to the tree's root) the
/// way a checkout would, following each link met on the way, and refuses any that leaves the
/// tree, however many hops it takes, or that loops.
pub fn check_links<'a>(
    links: impl IntoIterator<Item = (&'a Path, &'a Path)> + Clone,
) -> Result<(), ArchiveError> {
    let all: std::collections::HashMap<&Path, &Path> = links.clone().into_iter().collect();
    for (link, target) in links {
        check_link(link, target)?;
        resolve(&all, link, target)?;
    }
    Ok(())
}

fn resolve(
    links: &std::collections::HashMap<&Path, &Path>,
    link: &Path,
    target: &Path,
) -> Result<(), ArchiveError> {
    let mut via = Vec::new();
    let escape = |via: Vec<String>| ArchiveError::LinkOutsideTarget {
        entry: shown_path(link),
        target: shown_path(target),
        via,
    };
    let mut here: Vec<&std::ffi::OsStr> = link
        .parent()
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    // Components still to walk, in reverse order (the next one last).
    let mut pending: Vec<Component<'_>> = target.components().rev().collect();
    while let Some(component) = pending.pop() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if here.pop().is_none() {
                    return Err(escape(via));
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err(escape(via)),
            Component::Normal(name) => {
                here.push(name);
                let at: PathBuf = here.iter().collect();
                if let Some(next) = links.get(at.as_path()) {
                    if via.len() >= MAX_HOPS {
                        return Err(ArchiveError::LinkLoop {
                            entry: shown_path(link),
                        });
                    }
                    via.push(shown_path(&at));
                    here.pop();
                    if next.is_absolute() || next.as_os_str().is_empty() {
                        return Err(escape(via));
                    }
                    pending.extend(next.components().rev());
                }
            }
        }
    }
    Ok(())
}

/// A writer that remembers whether it failed, so that a failed copy can blame the right side.
struct Blamed<W> {
    inner: W,
    failed: bool,
}

impl<W: std::io::Write> std::io::Write for Blamed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|_| self.failed = true)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|_| self.failed = true)
    }
}

/// Copies at most `limit + 1` bytes of `reader` into the file `target`, telling a read
/// failure (the archive's fault) from a write failure (the machine's).
fn copy_into(reader: &mut impl Read, target: &Path, limit: u64) -> Result<u64, ArchiveError> {
    let write_error = |source| ArchiveError::Write {
        path: target.to_owned(),
        source,
    };
    let file = File::create(target).map_err(write_error)?;
    let mut out = Blamed {
        inner: file,
        failed: false,
    };
    match std::io::copy(&mut reader.take(limit + 1), &mut out) {
        Ok(written) => Ok(written),
        Err(source) if out.failed => Err(write_error(source)),
        Err(source) => Err(ArchiveError::Corrupt(source)),
    }
}

fn write_file(
    reader: &mut impl Read,
    dest: &Path,
    path: &Path,
    unpacked: &mut Unpacked,
    limit: u64,
    executable: bool,
) -> Result<(), ArchiveError> {
    let target = dest.join(path);
    if let Some(parent) = target.parent()
        && !unpacked.folders.contains(parent)
    {
        std::fs::create_dir_all(parent).map_err(|source| ArchiveError::Write {
            path: parent.to_owned(),
            source,
        })?;
        unpacked.folders.insert(parent.to_owned());
    }
    let remaining = limit.saturating_sub(unpacked.bytes);
    let written = copy_into(reader, &target, remaining)?;
    unpacked.bytes += written;
    if unpacked.bytes > limit {
        return Err(ArchiveError::TooLarge { limit });
    }
    unpacked.links.remove(path);
    unpacked.files.insert(path.to_owned(), executable);
    Ok(())
}

fn unpack_tar(reader: impl Read, dest: &Path, limit: u64) -> Result<Unpacked, ArchiveError> {
    let mut archive = tar::Archive::new(reader);
    let mut unpacked = Unpacked::default();
    for (count, entry) in archive
        .entries()
        .map_err(ArchiveError::Corrupt)?
        .enumerate()
    {
        if count >= MAX_ENTRIES {
            return Err(ArchiveError::TooManyEntries);
        }
        let mut entry = entry.map_err(ArchiveError::Corrupt)?;
        let raw = entry.path().map_err(ArchiveError::Corrupt)?.into_owned();
        let kind = entry.header().entry_type();
        let shown = || shown_path(&raw);
        use tar::EntryType as T;
        let special = |kind| {
            Err(ArchiveError::SpecialFile {
                entry: shown(),
                kind,
            })
        };
        match kind {
            // `git archive` names its commit in the global header.
            T::XGlobalHeader => {
                unpacked.commit = archive_commit(&mut entry);
                continue;
            }
            // Other metadata entries carry no files.
            T::XHeader | T::GNULongName | T::GNULongLink => continue,
            T::Char => return special("character device"),
            T::Block => return special("block device"),
            T::Fifo => return special("named pipe"),
            T::Link => return Err(ArchiveError::HardLink { entry: shown() }),
            _ => {}
        }
        let Some(path) = safe_path(&raw)? else {
            continue;
        };
        match kind {
            T::Directory => {
                let dir = dest.join(&path);
                std::fs::create_dir_all(&dir)
                    .map_err(|source| ArchiveError::Write { path: dir, source })?
            }
            T::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(ArchiveError::Corrupt)?
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                check_link(&path, &target)?;
                unpacked.files.remove(&path);
                unpacked.links.insert(path, target);
            }
            T::Regular | T::Continuous => {
                let executable = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
                write_file(&mut entry, dest, &path, &mut unpacked, limit, executable)?;
            }
            _ => return special("special file"),
        }
    }
    Ok(unpacked)
}

/// The commit id in a pax global header's `comment` (`git archive` writes it there).
fn archive_commit<R: Read>(entry: &mut tar::Entry<'_, R>) -> Option<String> {
    let extensions = entry.pax_extensions().ok()??;
    extensions.filter_map(Result::ok).find_map(|extension| {
        let value = extension.value().ok()?.trim();
        (extension.key().ok()? == "comment"
            && value.len() == 40
            && value.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| value.to_ascii_lowercase())
    })
}

fn unpack_zip(file: File, dest: &Path, limit: u64) -> Result<Unpacked, ArchiveError> {
    let mut archive =
        zip::ZipArchive::new(BufReader::new(file)).map_err(ArchiveError::CorruptZip)?;
    if archive.len() > MAX_ENTRIES {
        return Err(ArchiveError::TooManyEntries);
    }
    let mut unpacked = Unpacked::default();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(ArchiveError::CorruptZip)?;
        let raw = PathBuf::from(entry.name().map_err(ArchiveError::CorruptZip)?.into_owned());
        let Some(path) = safe_path(&raw)? else {
            continue;
        };
        if entry.is_dir() {
            let dir = dest.join(&path);
            std::fs::create_dir_all(&dir)
                .map_err(|source| ArchiveError::Write { path: dir, source })?;
        } else if entry.is_symlink() {
            let mut target = String::new();
            entry
                .read_to_string(&mut target)
                .map_err(ArchiveError::Corrupt)?;
            let target = PathBuf::from(target);
            check_link(&path, &target)?;
            unpacked.files.remove(&path);
            unpacked.links.insert(path, target);
        } else {
            let executable = entry.unix_mode().is_some_and(|m| m & 0o111 != 0);
            write_file(&mut entry, dest, &path, &mut unpacked, limit, executable)?;
        }
    }
    Ok(unpacked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_must_stay_inside() {
        assert!(check_link(Path::new("a/b/link"), Path::new("../c")).is_ok());
        assert!(check_link(Path::new("a/link"), Path::new("../c")).is_ok());
        assert!(check_link(Path::new("link"), Path::new("../c")).is_err());
        assert!(check_link(Path::new("a/link"), Path::new("../../c")).is_err());
        assert!(check_link(Path::new("a/link"), Path::new("/etc/passwd")).is_err());
    }

    #[test]
    fn paths_are_checked() {
        assert_eq!(
            safe_path(Path::new("./a/b")).unwrap(),
            Some(PathBuf::from("a/b"))
        );
        assert_eq!(safe_path(Path::new("./")).unwrap(), None);
        assert!(matches!(
            safe_path(Path::new("a/../../b")),
            Err(ArchiveError::EntryOutsideTarget { .. })
        ));
        assert!(matches!(
            safe_path(Path::new("/etc/passwd")),
            Err(ArchiveError::AbsolutePath { .. })
        ));
    }
}
