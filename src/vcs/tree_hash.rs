//! A git tree id computed from files on disk, without a repository.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{ObjectType, Oid};

use super::{MODE_EXECUTABLE, MODE_FILE, MODE_LINK};

/// The git tree id an unpacked archive's files would have (below its single top folder, if
/// it has one), computed without any repository: to compare with a commit's tree.
pub fn tree_id_of(unpacked: &crate::archive::Unpacked, root: &Path) -> std::io::Result<Oid> {
    #[derive(Default)]
    struct Folder {
        /// name -> (mode, id) for files and links.
        entries: BTreeMap<Vec<u8>, (i32, Oid)>,
        folders: BTreeMap<Vec<u8>, Folder>,
    }
    let all = || unpacked.files.keys().chain(unpacked.links.keys());
    let mut tops = all().map(|p| (p.components().next(), p.components().count() > 1));
    let strip = match tops.next() {
        Some((Some(first), true)) if tops.all(|(top, deeper)| top == Some(first) && deeper) => 1,
        _ => 0,
    };
    let io = |e: git2::Error| std::io::Error::other(e.message().to_owned());
    let mut top = Folder::default();
    let mut place = |path: &Path, mode: i32, id: Oid| {
        let parts: Vec<&[u8]> = path
            .iter()
            .skip(strip)
            .map(|p| p.as_encoded_bytes())
            .collect();
        let Some((name, folders)) = parts.split_last() else {
            return;
        };
        let mut here = &mut top;
        for folder in folders {
            here = here.folders.entry(folder.to_vec()).or_default();
        }
        here.entries.insert(name.to_vec(), (mode, id));
    };
    for (path, executable) in &unpacked.files {
        let id = Oid::hash_file(ObjectType::Blob, root.join(path)).map_err(io)?;
        place(
            path,
            if *executable {
                MODE_EXECUTABLE
            } else {
                MODE_FILE
            },
            id,
        );
    }
    for (path, target) in &unpacked.links {
        let id = Oid::hash_object(ObjectType::Blob, target.as_os_str().as_encoded_bytes())
            .map_err(io)?;
        place(path, MODE_LINK, id);
    }
    fn hash(folder: &Folder) -> Result<Option<Oid>, git2::Error> {
        // Git orders entries by name, a folder's name compared as if it ended with `/`.
        let mut entries: Vec<(Vec<u8>, &'static str, Oid)> = Vec::new();
        for (name, (mode, id)) in &folder.entries {
            let mode = match *mode {
                MODE_EXECUTABLE => "100755",
                MODE_LINK => "120000",
                _ => "100644",
            };
            entries.push((name.clone(), mode, *id));
        }
        for (name, sub) in &folder.folders {
            // Git trees hold no empty folders.
            if let Some(id) = hash(sub)? {
                entries.push((name.clone(), "40000", id));
            }
        }
        if entries.is_empty() {
            return Ok(None);
        }
        let key = |(name, mode, _): &(Vec<u8>, &str, Oid)| {
            let mut key = name.clone();
            if *mode == "40000" {
                key.push(b'/');
            }
            key
        };
        entries.sort_by_key(key);
        let mut bytes = Vec::new();
        for (name, mode, id) in &entries {
            bytes.extend_from_slice(mode.as_bytes());
            bytes.push(b' ');
            bytes.extend_from_slice(name);
            bytes.push(0);
            bytes.extend_from_slice(id.as_bytes());
        }
        Oid::hash_object(ObjectType::Tree, &bytes).map(Some)
    }
    match hash(&top).map_err(io)? {
        Some(id) => Ok(id),
        None => Oid::hash_object(ObjectType::Tree, b"").map_err(io),
    }
}
