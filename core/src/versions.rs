//! Version families, one rule for artifacts, collections and transforms: a uid is a stem
//! shared by every version and a 4-character version number; writers of a family serialise
//! on its lock; the newest version that is not in the trash is the latest.
//!
//! Lock order (PostgreSQL advisory locks, each round taken in one sorted statement): first
//! the round of names, keys and content hashes, then the round of family locks. Every
//! transaction that changes a family — save, delete, restore, track — takes its locks in
//! that order before it writes a row, so two writers never wait on each other crosswise.

use lamella_schema::{Artifact, Collection, QuerySpec, Store, Transform, VersionedUid, now};

use crate::error::{Error, Result};

/// A registry whose records form version families.
pub(crate) trait Versioned: Store {
    /// The registry's name in messages.
    const NAME: &'static str;
    /// Characters of a whole uid.
    const UID_LEN: usize;
    /// Whether the record is in the trash (a trashed version is never the latest).
    fn trashed(&self) -> bool;
}

impl Versioned for Artifact {
    const NAME: &'static str = "Artifact";
    const UID_LEN: usize = lamella_schema::uid_len::ARTIFACT;
    fn trashed(&self) -> bool {
        self.visibility.is_trash()
    }
}

impl Versioned for Collection {
    const NAME: &'static str = "Collection";
    const UID_LEN: usize = lamella_schema::uid_len::COLLECTION;
    fn trashed(&self) -> bool {
        self.visibility.is_trash()
    }
}

impl Versioned for Transform {
    const NAME: &'static str = "Transform";
    const UID_LEN: usize = lamella_schema::uid_len::TRANSFORM;
    fn trashed(&self) -> bool {
        false
    }
}

/// The versioned uid of a stored record.
pub(crate) fn versioned<T: Versioned>(uid: &str) -> Result<VersionedUid> {
    Ok(VersionedUid::parse(uid, T::UID_LEN)?)
}

/// The first version of a new family.
pub(crate) fn new_family<T: Versioned>() -> VersionedUid {
    VersionedUid::new_family(T::UID_LEN - lamella_schema::VERSION_LEN)
}

/// The name of a family's lock.
pub(crate) fn family_lock<T: Versioned>(stem: &str) -> String {
    format!("{}-family:{stem}", T::NAME.to_ascii_lowercase())
}

/// Every version of the family `stem`, trash included, oldest first (by id: the order they
/// were saved in, which is the uid order of Lamella's own versions and the only order of
/// versions imported from LaminDB 0.x, whose uid suffixes are random).
pub(crate) fn family<T: Versioned>(
    conn: &mut lamella_schema::Conn<'_>,
    stem: &str,
) -> Result<Vec<T>> {
    Ok(QuerySpec::new(T::REGISTRY)
        .include_trash(true)
        .filter("uid__startswith", stem)
        .order_by("id")
        .load(conn)?)
}

/// The uid after the highest version of the family (call under the family's lock).
pub(crate) fn next_version<T: Versioned>(family: &[T]) -> Result<VersionedUid> {
    let top = family
        .iter()
        .map(|r| versioned::<T>(r.uid()))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .max()
        .ok_or_else(|| Error::Internal(format!("an empty {} family", T::NAME)))?;
    top.next().ok_or_else(|| Error::VersionsExhausted {
        registry: T::NAME,
        family: top.stem().to_string(),
    })
}

/// Marks the newest version of the family `stem` that is not in the trash as the latest,
/// the others not (call under the family's lock). One read and at most two updates.
pub(crate) fn relatest<T: Versioned>(
    conn: &mut lamella_schema::Conn<'_>,
    stem: &str,
) -> Result<()> {
    let members: Vec<T> = family(conn, stem)?;
    let latest = members.iter().rev().find(|r| !r.trashed()).map(|r| r.uid());
    lamella_schema::set_latest(conn, T::REGISTRY, stem, latest, now())?;
    Ok(())
}

/// The label of a new version when none is given: one more than the highest numeric label
/// of the family (or than its number of versions), so a label stays unique after versions
/// were deleted.
pub(crate) fn next_label<'a>(
    labels: impl Iterator<Item = Option<&'a str>>,
    count: usize,
) -> String {
    let highest = labels
        .flatten()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    (highest.max(count as u64) + 1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_count_past_deleted_versions() {
        // versions None, "2", "3": the next is 4
        assert_eq!(next_label([None, Some("2"), Some("3")].into_iter(), 3), "4");
        // "2" was deleted for good: still 4, never "3" again
        assert_eq!(next_label([None, Some("3")].into_iter(), 2), "4");
        // text labels do not count, the number of versions does
        assert_eq!(next_label([Some("v1"), Some("beta")].into_iter(), 2), "3");
        assert_eq!(next_label(std::iter::empty(), 1), "2");
    }

    #[test]
    fn locks_are_per_registry() {
        assert_eq!(family_lock::<Artifact>("abc"), "artifact-family:abc");
        assert_eq!(family_lock::<Collection>("abc"), "collection-family:abc");
    }
}
