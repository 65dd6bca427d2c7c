//! Version families: uid stems, the locks that serialise a family's writers, the latest version.

use lamella_schema::{Artifact, QuerySpec, now, registry};

use super::Artifacts;
use crate::error::Result;

pub(crate) const STEM_LEN: usize = 16;

pub(crate) fn stem_of(uid: &str) -> &str {
    &uid[..STEM_LEN.min(uid.len())]
}

pub(super) fn key_lock(storage_id: i64, key: &str) -> String {
    format!("artifact-key:{storage_id}:{key}")
}

pub(super) fn family_lock(stem: &str) -> String {
    format!("artifact-family:{stem}")
}

/// Marks the newest non-trashed version of `a`'s family as the latest, the others not (under
/// the key and family locks that saves take).
pub(super) fn relatest(conn: &mut lamella_schema::Conn<'_>, a: &Artifact) -> Result<()> {
    let stem = stem_of(&a.uid);
    if let Some(k) = &a.key {
        conn.lock(&[key_lock(a.storage_id, k)])?;
    }
    conn.lock(&[family_lock(stem)])?;
    let family: Vec<Artifact> = QuerySpec::new(&registry::ARTIFACT)
        .include_trash(true)
        .filter("uid__startswith", stem)
        .load(conn)?;
    let latest = family
        .iter()
        .filter(|a| a.visibility != -1)
        .map(|a| a.uid.as_str())
        .max();
    lamella_schema::set_latest(conn, &registry::ARTIFACT, stem, latest, now())?;
    Ok(())
}

impl<'a> Artifacts<'a> {
    /// Every version of the artifact's family (trash included), oldest first.
    pub fn versions(&self, a: &Artifact) -> Result<Vec<Artifact>> {
        let stem = &a.uid[..STEM_LEN.min(a.uid.len())];
        self.query()
            .include_trash()
            .filter("uid__startswith", stem)
            .order_by("uid")
            .all()
    }
}
