//! The rules for keys, suffixes and where an artifact's object lives.

use lamella_schema::Artifact;

use crate::error::{Error, Result};
use crate::instance::LAMELLA_DIR;

/// Checks a user-given key: relative, no `..`, not under `.lamella/`.
pub fn check_key(key: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::InvalidKey {
            key: key.to_string(),
            reason: why.to_string(),
        })
    };
    if key.trim().is_empty() {
        return bad("it is empty");
    }
    if key.chars().any(char::is_control) {
        return bad("it contains control characters");
    }
    if key.starts_with('/') || key.contains('\\') || key.contains("://") {
        return bad("it must be relative, with '/' separators");
    }
    if key
        .split('/')
        .any(|p| p == ".." || p == "." || p.is_empty())
    {
        return bad("it must not contain '..', '.' or empty parts");
    }
    if is_reserved(key) {
        return bad("'.lamella/' is reserved for Lamella's own files");
    }
    Ok(())
}

/// Whether `key` lies in Lamella's own folder of a storage (`.lamella/`: the database of an
/// embedded instance, virtual keys, staging, the marker).
pub(crate) fn is_reserved(key: &str) -> bool {
    key == LAMELLA_DIR
        || key
            .strip_prefix(LAMELLA_DIR)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The suffix of a file name (`.csv`, `.parquet`, `.tar.gz`, `` for none).
pub fn suffix_of(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    let parts: Vec<&str> = base.split('.').collect();
    if parts.len() < 2 || parts[0].is_empty() && parts.len() == 2 {
        return String::new();
    }
    let last = parts[parts.len() - 1];
    let compressed = ["gz", "bz2", "xz", "zst", "zip"];
    if parts.len() >= 3 && compressed.contains(&last) {
        return format!(".{}.{last}", parts[parts.len() - 2]);
    }
    format!(".{last}")
}

/// Where an artifact's object lives under its storage root.
pub fn object_key(a: &Artifact) -> String {
    if a.key_is_virtual {
        format!("{LAMELLA_DIR}/{}{}", a.uid, a.suffix)
    } else {
        a.key.clone().unwrap_or_default()
    }
}

/// Whether an artifact is a folder of objects (its object key a prefix): it has an object
/// count. Lamella's own folders have no suffix; LaminDB's may (`.zarr`).
pub(crate) fn is_folder(a: &Artifact) -> bool {
    a.n_objects.is_some()
}

/// Whether a suffix names a table Lamella reads (`.parquet`, `.csv`, `.tsv`, the text ones
/// maybe gzipped; any case).
pub(crate) fn is_table_suffix(suffix: &str) -> bool {
    lamella_storage::is_table_file(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(check_key("iris/study0.csv").is_ok());
        for bad in [
            "",
            "/abs",
            "a/../b",
            ".lamella/x",
            ".lamella",
            "a//b",
            "s3://x",
            "a\\b",
        ] {
            let e = check_key(bad).unwrap_err();
            assert!(e.to_string().contains("invalid key"), "{bad}: {e}");
        }
    }

    #[test]
    fn suffixes() {
        assert_eq!(suffix_of("a.csv"), ".csv");
        assert_eq!(suffix_of("dir/a.tar.gz"), ".tar.gz");
        assert_eq!(suffix_of("a"), "");
        assert_eq!(suffix_of(".hidden"), "");
        assert_eq!(suffix_of("x.y.parquet"), ".parquet");
    }
}
