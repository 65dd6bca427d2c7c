//! Version families: versioned uids, the locks that serialise a family's writers, the latest
//! version, and finding a family by uid, uid stem or key.

use lamella_schema::{Artifact, VersionedUid};

use super::Artifacts;
use crate::error::{Error, Result};
use crate::versions::Versioned;

/// Characters of an artifact's (and a collection's) uid: a 16-character stem its versions
/// share, then a 4-character version number.
pub const UID_LEN: usize = <Artifact as Versioned>::UID_LEN;

/// The versioned uid of a stored artifact.
pub(crate) fn versioned(uid: &str) -> Result<VersionedUid> {
    crate::versions::versioned::<Artifact>(uid)
}

pub(super) fn key_lock(storage_id: i64, key: &str) -> String {
    format!("artifact-key:{storage_id}:{key}")
}

pub(super) fn family_lock(stem: &str) -> String {
    crate::versions::family_lock::<Artifact>(stem)
}

/// Takes the locks a save of `a`'s family takes, in the same order (its key, then its
/// family), so a delete or restore never waits on a save crosswise.
pub(super) fn lock_family(conn: &mut lamella_schema::Conn<'_>, a: &Artifact) -> Result<()> {
    if let Some(k) = &a.key {
        conn.lock(&[key_lock(a.storage_id, k)])?;
    }
    conn.lock(&[family_lock(versioned(&a.uid)?.stem())])?;
    Ok(())
}

/// Marks the newest non-trashed version of `a`'s family as the latest, the others not
/// (under the key and family locks that saves take).
pub(super) fn relatest(conn: &mut lamella_schema::Conn<'_>, a: &Artifact) -> Result<()> {
    lock_family(conn, a)?;
    crate::versions::relatest::<Artifact>(conn, versioned(&a.uid)?.stem())
}

impl Artifacts {
    /// Every version of the artifact's family (trash included), oldest first.
    pub fn versions(&self, a: &Artifact) -> Result<Vec<Artifact>> {
        let uid = versioned(&a.uid)?;
        self.query()
            .include_trash()
            .filter("uid__startswith", uid.stem())
            .order_by("id")
            .all()
    }

    /// The versions of the family named by a uid, a uid prefix of one artifact, or a uid stem
    /// (or any prefix that only one family's uids start with), trash included, oldest first.
    pub fn versions_of(&self, uid_or_stem: &str) -> Result<Vec<Artifact>> {
        match self.get(uid_or_stem) {
            Ok(a) => self.versions(&a),
            Err(Error::Ambiguous { .. }) => {
                let matches = self
                    .query()
                    .include_trash()
                    .filter("uid__startswith", uid_or_stem)
                    .order_by("id")
                    .all()?;
                let stems = matches
                    .iter()
                    .map(|a| versioned(&a.uid).map(|v| v.stem().to_string()))
                    .collect::<Result<std::collections::BTreeSet<_>>>()?;
                if stems.len() == 1 {
                    Ok(matches)
                } else {
                    Err(Error::Ambiguous {
                        registry: "Artifact",
                        what: format!(
                            "uid prefix '{uid_or_stem}' ({} version families)",
                            stems.len()
                        ),
                        count: matches.len() as i64,
                    })
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The versions of the family whose newest artifact has this key, trash included (a
    /// family whose versions are all in the trash is still found), oldest first.
    pub fn versions_by_key(&self, key: &str) -> Result<Vec<Artifact>> {
        self.versions(&self.newest_with_key(key)?)
    }

    /// The newest artifact with this key, trash included (the one to restore).
    pub fn newest_with_key(&self, key: &str) -> Result<Artifact> {
        self.query()
            .include_trash()
            .filter("key", key)
            .order_by("-id")
            .first()?
            .ok_or_else(|| Error::NotFound {
                suggestions: Vec::new(),
                registry: "Artifact",
                what: format!("key '{key}'"),
            })
    }
}
