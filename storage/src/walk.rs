//! One folder walker with one symbolic-link policy, shared by hashing and uploading.
//!
//! The policy is LaminDB's (`Path.rglob("*")` + `is_file()`), so folder hashes stay equal
//! to LaminDB's:
//!
//! - regular files are included, hidden ones too;
//! - a symbolic link to a regular file is included, and its content is read through the link;
//! - a symbolic link to a folder is not entered: it is listed in
//!   [`FolderWalk::skipped_links`] (so link loops cannot hang the walk, and a link to `/etc`
//!   is not walked);
//! - a dangling link is an error ([`Error::DanglingLink`]);
//! - anything that is not a regular file after following links (FIFO, socket, device such
//!   as a link to `/dev/zero`) is an error ([`Error::NotARegularFile`]): reading it could
//!   block or never end;
//! - a folder that is its own ancestor without a link in between (a bind mount) is an error
//!   ([`Error::FolderCycle`]), detected by the (device, inode) of the folders on the path.

use std::fs::{self, FileType, Metadata};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One regular file found by [`walk_folder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkedFile {
    /// Where to read it: the walked folder joined with [`WalkedFile::rel`] (for a symbolic
    /// link, the link itself; reading it follows the link).
    pub path: PathBuf,
    /// The path relative to the walked folder, `/`-separated (`sub/x.txt`).
    pub rel: String,
    /// Size in bytes when it was walked (of the link's target for a symbolic link).
    pub size: u64,
}

/// What [`walk_folder`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderWalk {
    /// The regular files, sorted by [`WalkedFile::rel`].
    pub files: Vec<WalkedFile>,
    /// Symbolic links to folders, which are not entered (sorted).
    pub skipped_links: Vec<PathBuf>,
}

impl FolderWalk {
    /// Total size of the files in bytes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Walks the folder `dir` recursively with the module's policy and returns its regular
/// files sorted by relative path.
///
/// `dir` itself may be a symbolic link to a folder. File names must be valid UTF-8 (they
/// become storage keys). An empty folder gives an empty [`FolderWalk`].
///
/// ```
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir(dir.path().join("sub"))?;
/// std::fs::write(dir.path().join("sub/b.txt"), b"b")?;
/// std::fs::write(dir.path().join(".a"), b"a")?;
/// let walk = lamella_storage::walk_folder(dir.path())?;
/// let rels: Vec<&str> = walk.files.iter().map(|f| f.rel.as_str()).collect();
/// assert_eq!(rels, [".a", "sub/b.txt"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn walk_folder(dir: &Path) -> Result<FolderWalk> {
    let meta = fs::metadata(dir).map_err(|e| Error::io("open folder", dir, e))?;
    if !meta.is_dir() {
        return Err(Error::InvalidInput {
            what: format!("`{}`", dir.display()),
            reason: "is not a folder: hash or upload it as a file".into(),
        });
    }
    let mut walk = FolderWalk::default();
    let mut ancestors = vec![Ancestor::new(dir, &meta)];
    walk_dir(dir, "", &mut ancestors, &mut walk)?;
    walk.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    walk.skipped_links.sort();
    Ok(walk)
}

/// A folder on the current path, with its identity where the platform has one.
struct Ancestor {
    path: PathBuf,
    id: Option<(u64, u64)>,
}

impl Ancestor {
    fn new(path: &Path, meta: &Metadata) -> Self {
        Self {
            path: path.to_path_buf(),
            id: dir_id(meta),
        }
    }
}

#[cfg(unix)]
fn dir_id(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn dir_id(_meta: &Metadata) -> Option<(u64, u64)> {
    None
}

fn walk_dir(
    dir: &Path,
    rel_prefix: &str,
    ancestors: &mut Vec<Ancestor>,
    out: &mut FolderWalk,
) -> Result<()> {
    // Read the whole listing first so that only one folder is open at a time, however deep.
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))? {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| Error::io("stat", &path, e))?;
        entries.push((entry.file_name(), path, ft));
    }
    for (name, path, ft) in entries {
        let Some(name) = name.to_str() else {
            return Err(Error::InvalidInput {
                what: format!("`{}`", path.display()),
                reason: "its name is not valid UTF-8: rename it".into(),
            });
        };
        let rel = if rel_prefix.is_empty() {
            name.to_string()
        } else {
            format!("{rel_prefix}/{name}")
        };
        if ft.is_dir() {
            let meta = fs::symlink_metadata(&path).map_err(|e| Error::io("stat", &path, e))?;
            let here = Ancestor::new(&path, &meta);
            if let Some(a) = ancestors.iter().find(|a| a.id.is_some() && a.id == here.id) {
                return Err(Error::FolderCycle {
                    path,
                    ancestor: a.path.clone(),
                });
            }
            ancestors.push(here);
            let res = walk_dir(&path, &rel, ancestors, out);
            ancestors.pop();
            res?;
        } else if ft.is_file() {
            let meta = fs::symlink_metadata(&path).map_err(|e| Error::io("stat", &path, e))?;
            out.files.push(WalkedFile {
                path,
                rel,
                size: meta.len(),
            });
        } else if ft.is_symlink() {
            match fs::metadata(&path) {
                Ok(meta) if meta.is_file() => out.files.push(WalkedFile {
                    path,
                    rel,
                    size: meta.len(),
                }),
                Ok(meta) if meta.is_dir() => out.skipped_links.push(path),
                Ok(meta) => {
                    return Err(Error::NotARegularFile {
                        path,
                        kind: kind_of(meta.file_type()),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let target = fs::read_link(&path).unwrap_or_default();
                    return Err(Error::DanglingLink { path, target });
                }
                Err(e) => return Err(Error::io("follow the symbolic link", path, e)),
            }
        } else {
            return Err(Error::NotARegularFile {
                path,
                kind: kind_of(ft),
            });
        }
    }
    Ok(())
}

/// The metadata of `path` (links followed) if it is a regular file; otherwise the error
/// that names what it is. A folder is an [`Error::InvalidInput`] whose reason is `folder`.
pub(crate) fn regular_file_meta(path: &Path, folder_hint: &str) -> Result<Metadata> {
    let meta = fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound
            && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        {
            Error::DanglingLink {
                path: path.to_path_buf(),
                target: fs::read_link(path).unwrap_or_default(),
            }
        } else {
            Error::io("open", path, e)
        }
    })?;
    if meta.is_dir() {
        return Err(Error::InvalidInput {
            what: format!("`{}`", path.display()),
            reason: format!("is a folder: {folder_hint}"),
        });
    }
    if !meta.is_file() {
        return Err(Error::NotARegularFile {
            path: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    Ok(meta)
}

#[cfg(unix)]
fn kind_of(ft: FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "FIFO (named pipe)"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_char_device() {
        "character device"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_dir() {
        "folder"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn kind_of(ft: FileType) -> &'static str {
    if ft.is_dir() {
        "folder"
    } else {
        "special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, data: &[u8]) {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
    }

    fn rels(w: &FolderWalk) -> Vec<&str> {
        w.files.iter().map(|f| f.rel.as_str()).collect()
    }

    #[test]
    fn regular_and_hidden_files_sorted_by_rel() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.txt", b"bb");
        write(dir.path(), "a/z", b"z");
        write(dir.path(), ".hidden/x", b"xyz");
        write(dir.path(), "a/.h", b"");
        fs::create_dir(dir.path().join("empty")).unwrap();
        let w = walk_folder(dir.path()).unwrap();
        assert_eq!(rels(&w), [".hidden/x", "a/.h", "a/z", "b.txt"]);
        assert_eq!(w.files[0].path, dir.path().join(".hidden/x"));
        assert_eq!(w.files[0].size, 3);
        assert_eq!(w.total_size(), 6);
        assert!(w.skipped_links.is_empty());
    }

    #[test]
    fn not_a_folder_or_missing() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "f", b"f");
        let err = walk_folder(&dir.path().join("f")).unwrap_err();
        assert!(err.to_string().contains("is not a folder"), "{err}");
        let err = walk_folder(&dir.path().join("missing")).unwrap_err();
        assert!(err.is_not_found(), "{err}");
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_files_followed_folders_skipped() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "target.txt", b"through the link");
        write(outside.path(), "sub/never", b"n");
        write(dir.path(), "real", b"r");
        symlink(
            outside.path().join("target.txt"),
            dir.path().join("link.txt"),
        )
        .unwrap();
        symlink(outside.path().join("sub"), dir.path().join("linked_dir")).unwrap();
        // a loop through a link: would hang a walker that follows folder links
        symlink(dir.path(), dir.path().join("loop")).unwrap();
        let w = walk_folder(dir.path()).unwrap();
        assert_eq!(rels(&w), ["link.txt", "real"]);
        assert_eq!(w.files[0].size, 16);
        assert_eq!(w.files[0].path, dir.path().join("link.txt"));
        assert_eq!(
            w.skipped_links,
            [dir.path().join("linked_dir"), dir.path().join("loop")]
        );
        // the root may itself be a link to a folder
        let root_link = outside.path().join("root_link");
        symlink(dir.path(), &root_link).unwrap();
        assert_eq!(
            rels(&walk_folder(&root_link).unwrap()),
            ["link.txt", "real"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn dangling_link_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a", b"a");
        fs::create_dir_all(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/x", dir.path().join("sub/broken")).unwrap();
        let err = walk_folder(dir.path()).unwrap_err();
        assert!(matches!(err, Error::DanglingLink { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("sub/broken") && msg.contains("/nonexistent/x"),
            "{msg}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a", b"a");
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
        let err = walk_folder(dir.path()).unwrap_err();
        assert!(matches!(err, Error::NotARegularFile { .. }), "{err:?}");
        assert!(
            err.to_string().contains("zero` is a character device"),
            "{err}"
        );
        fs::remove_file(dir.path().join("zero")).unwrap();
        let fifo = dir.path().join("pipe");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            let err = walk_folder(dir.path()).unwrap_err();
            assert!(err.to_string().contains("pipe` is a FIFO"), "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn folder_cycles_without_links_are_detected() {
        // A bind mount of an ancestor shows up as a folder with the ancestor's (dev, ino).
        // Mounting needs privileges, so put `sub`'s identity on the path as if it were an
        // ancestor: entering `sub` must then stop.
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "sub/x", b"x");
        let sub = dir.path().join("sub");
        let meta = fs::metadata(&sub).unwrap();
        let mut ancestors = vec![Ancestor::new(Path::new("/pretend/ancestor"), &meta)];
        let mut out = FolderWalk::default();
        let err = walk_dir(dir.path(), "", &mut ancestors, &mut out).unwrap_err();
        assert!(matches!(err, Error::FolderCycle { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("/pretend/ancestor") && msg.contains("sub"),
            "{msg}"
        );
    }
}
