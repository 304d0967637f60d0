//! What to do about a failed local write (a full disk, a read-only folder): one hint, said the
//! same way by every module that writes (archives, downloads, git objects, named files).

/// Where a local write failed, for its hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePlace {
    /// The temporary folder (`TMPDIR`): downloads, unpacked archives, exports.
    Temporary,
    /// The repository's object store.
    GitObjects,
    /// A file the user named.
    Named,
}

impl WritePlace {
    fn shown(self) -> &'static str {
        match self {
            Self::Temporary => "the temporary folder",
            Self::GitObjects => "the repository's `.git/objects`",
            Self::Named => "that folder",
        }
    }
}

/// The hint for a failed local write: disk full and quota first, since they are the usual
/// cause, then permissions.
pub fn local_write_hint(error: &std::io::Error, place: WritePlace) -> String {
    use std::io::ErrorKind as K;
    let where_ = place.shown();
    match error.kind() {
        K::StorageFull | K::QuotaExceeded | K::FileTooLarge => format!(
            "the disk holding {where_} is full (or a size limit was hit): free space there{}",
            if place == WritePlace::Temporary {
                ", or point `TMPDIR` at a larger disk"
            } else {
                ""
            }
        ),
        K::PermissionDenied | K::ReadOnlyFilesystem => {
            format!("check that {where_} is writable")
        }
        _ => format!("check free space and permissions of {where_}"),
    }
}
