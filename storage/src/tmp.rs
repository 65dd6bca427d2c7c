//! Temporary files and folders written next to their final place and renamed into it, so a
//! reader never sees a partial file. Their names carry the writing process's id
//! (`.lamella-tmp-<pid>-<random>`): a process killed mid-write leaves one behind, and the next
//! write into the same folder removes the leftovers of processes that are gone.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The prefix of every temporary file and folder Lamella writes.
pub const TMP_PREFIX: &str = ".lamella-tmp-";

/// Leftovers without a process id (from older versions) go after this long.
const ANONYMOUS_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

fn prefix() -> String {
    format!("{TMP_PREFIX}{}-", std::process::id())
}

/// A new temporary file in `dir` (created if missing) for content that will be renamed into
/// place; stale leftovers in `dir` are removed first. Permissions are an ordinary file's
/// (0644 before the umask), not a private temporary file's.
pub(crate) fn file_in(dir: &Path) -> Result<tempfile::NamedTempFile> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    sweep(dir);
    let prefix = prefix();
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    builder
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))
}

/// A new temporary folder in `dir` (created if missing), after removing stale leftovers; it
/// is removed when dropped unless its content was renamed away.
pub fn dir_in(dir: &Path) -> Result<tempfile::TempDir> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    sweep(dir);
    tempfile::Builder::new()
        .prefix(&prefix())
        .tempdir_in(dir)
        .map_err(|e| Error::io("create a temporary folder in", dir, e))
}

/// Removes the temporary files and folders in `dir` that a process which no longer runs left
/// behind (killed mid-write). Best effort: what cannot be removed stays.
pub fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TMP_PREFIX)) else {
            continue;
        };
        if is_stale(rest, &entry.path()) {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// Whether a leftover named `<pid>-<random>` (after the prefix) belongs to no running
/// process.
fn is_stale(rest: &str, path: &Path) -> bool {
    let pid = rest
        .split_once('-')
        .and_then(|(pid, _)| pid.parse::<u32>().ok());
    match pid {
        Some(pid) if pid == std::process::id() => false,
        Some(pid) => !alive(pid, path),
        None => older_than(path, ANONYMOUS_MAX_AGE),
    }
}

/// Whether process `pid` runs: `/proc/<pid>` on Linux; elsewhere a leftover is taken for
/// alive until it is a day old.
fn alive(pid: u32, path: &Path) -> bool {
    let proc = PathBuf::from("/proc");
    if proc.join("self").exists() {
        return proc.join(pid.to_string()).exists();
    }
    !older_than(path, ANONYMOUS_MAX_AGE)
}

fn older_than(path: &Path, age: std::time::Duration) -> bool {
    std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|e| e > age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_of_gone_processes_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        // pid 0 never names a user process; ours is running.
        let gone = dir.path().join(format!("{TMP_PREFIX}0-abc"));
        let gone_dir = dir.path().join(format!("{TMP_PREFIX}0-dir"));
        let ours = dir.path().join(format!("{}xyz", prefix()));
        let other = dir.path().join("data.csv");
        std::fs::write(&gone, "partial").unwrap();
        std::fs::create_dir(&gone_dir).unwrap();
        std::fs::write(gone_dir.join("content"), "partial").unwrap();
        std::fs::write(&ours, "in progress").unwrap();
        std::fs::write(&other, "a,b\n").unwrap();
        let f = file_in(dir.path()).unwrap();
        assert!(!gone.exists() && !gone_dir.exists(), "leftovers removed");
        assert!(ours.exists() && other.exists(), "live and user files kept");
        assert!(
            f.path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&prefix())
        );
    }
}
