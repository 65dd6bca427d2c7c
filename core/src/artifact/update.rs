//! Editing what was saved: an artifact's key (for its whole version family) and description,
//! a collection's name and description.

use lamella_schema::{Artifact, Collection, Store, now};
use serde::Serialize;

use super::Artifacts;
use super::key::{check_key, suffix_of};
use super::versions::{key_lock, lock_family, versioned};
use crate::collection::Collections;
use crate::error::{Error, Result};

/// What to change on a saved artifact or collection (`None`: leave it).
#[derive(Debug, Clone, Default)]
pub struct Edit {
    /// A new key (artifacts) or name (collections): every version of the family takes it,
    /// since versions share their key.
    pub key: Option<String>,
    /// A new description of this version; `Some(None)` clears it.
    pub description: Option<Option<String>>,
}

/// What an update did.
#[derive(Debug, Clone, Serialize)]
pub struct Updated<T> {
    /// The record as it is now.
    pub record: T,
    /// Versions whose key (name) changed, this one included; 0 when the key stayed.
    pub versions_renamed: usize,
    /// What changed, in words (`key 'a.csv' → 'b.csv'`); empty when nothing did.
    pub changes: Vec<String>,
}

/// Applies the edit's description to `current`; what changed, in words, when it did.
fn edit_description(edit: &Edit, current: &mut Option<String>) -> Option<String> {
    let d = edit.description.as_ref().filter(|d| *d != current)?;
    *current = d.clone();
    Some(match d {
        Some(d) => format!("description → '{d}'"),
        None => "description cleared".into(),
    })
}

impl Artifacts {
    /// Changes an artifact's key — for every version of its family, in one statement; no
    /// object moves (objects live under their uid) — and/or this version's description.
    /// The new key keeps the artifact's suffix and must not be another family's key. An
    /// artifact whose object lives at its key (registered in place) keeps its key.
    pub fn update(&self, a: &Artifact, edit: &Edit) -> Result<Updated<Artifact>> {
        let id = lamella_schema::require_id(a)?;
        if let Some(k) = &edit.key {
            check_key(k)?;
            let suffix = suffix_of(k);
            if !suffix.eq_ignore_ascii_case(&a.suffix) {
                return Err(Error::invalid(
                    "the new key",
                    k,
                    format!(
                        "its suffix '{suffix}' differs from the artifact's '{}': keep the suffix \
                         (a new format is a new artifact)",
                        a.suffix
                    ),
                ));
            }
        }
        let stem = versioned(&a.uid)?.stem().to_string();
        let (record, renamed, changes) = self.ln.db().transaction(|conn| {
            lock_family(conn, a)?;
            if let Some(k) = &edit.key {
                conn.lock(&[key_lock(a.storage_id, k)])?;
            }
            // Read again under the locks: the stored state decides.
            let current: Vec<Artifact> = lamella_schema::load_by_ids(conn, &[id])?;
            let Some(mut current) = current.into_iter().next() else {
                return Err(Error::NotFound {
                    suggestions: Vec::new(),
                    registry: "Artifact",
                    what: format!("uid '{}'", a.uid),
                });
            };
            let mut changes = Vec::new();
            let mut renamed = 0;
            if let Some(k) = edit
                .key
                .as_ref()
                .filter(|k| current.key.as_ref() != Some(*k))
            {
                let family: Vec<Artifact> =
                    lamella_schema::load_where_in(conn, "key", std::slice::from_ref(k))?;
                if let Some(other) = family.iter().find(|o| {
                    o.storage_id == current.storage_id
                        && versioned(&o.uid).map(|v| v.stem() != stem).unwrap_or(true)
                }) {
                    return Err(Error::Taken {
                        what: "artifact key".into(),
                        name: k.clone(),
                        by: format!("artifact {}", other.uid),
                        reason: "choose another key, or save the file under that key as a new \
                                 version of that artifact"
                            .into(),
                    });
                }
                let versions = crate::versions::family::<Artifact>(conn, &stem)?;
                if let Some(fixed) = versions.iter().find(|v| !v.key_is_virtual) {
                    return Err(Error::invalid(
                        "the new key",
                        k,
                        format!(
                            "version {} was registered in place: its object lives at its key \
                             '{}' in the storage, and Lamella does not move objects (save a \
                             copy under the new key instead)",
                            fixed.uid,
                            fixed.key.as_deref().unwrap_or_default()
                        ),
                    ));
                }
                let at = now();
                renamed = lamella_schema::set_family_key(conn, &stem, k, at)?;
                changes.push(match &current.key {
                    Some(old) => format!("key '{old}' → '{k}'"),
                    None => format!("key → '{k}'"),
                });
                current.key = Some(k.clone());
                current.updated_at = at;
            }
            if let Some(change) = edit_description(edit, &mut current.description) {
                changes.push(change);
                current.updated_at = now();
                Artifact::update(conn, &current)?;
            }
            Ok::<_, Error>((current, renamed, changes))
        })?;
        Ok(Updated {
            record,
            versions_renamed: renamed,
            changes,
        })
    }
}

impl Collections {
    /// Renames a collection — every version of its family, which share the name — and/or
    /// changes this version's description. The new name must not be another family's.
    pub fn update(&self, c: &Collection, edit: &Edit) -> Result<Updated<Collection>> {
        let id = lamella_schema::require_id(c)?;
        if let Some(name) = &edit.key
            && name.trim().is_empty()
        {
            return Err(Error::invalid(
                "the collection name",
                name,
                "it is empty; give a name",
            ));
        }
        let stem = crate::versions::versioned::<Collection>(&c.uid)?
            .stem()
            .to_string();
        let (record, renamed, changes) = self.ln.db().transaction(|conn| {
            conn.lock(&[format!("collection:{}", c.name)])?;
            if let Some(name) = &edit.key {
                conn.lock(&[format!("collection:{name}")])?;
            }
            conn.lock(&[crate::versions::family_lock::<Collection>(&stem)])?;
            let current: Vec<Collection> = lamella_schema::load_by_ids(conn, &[id])?;
            let Some(mut current) = current.into_iter().next() else {
                return Err(Error::NotFound {
                    suggestions: Vec::new(),
                    registry: "Collection",
                    what: format!("uid '{}'", c.uid),
                });
            };
            let mut changes = Vec::new();
            let mut renamed = 0;
            if let Some(name) = edit.key.as_ref().filter(|n| **n != current.name) {
                let holders: Vec<Collection> =
                    lamella_schema::load_where_in(conn, "name", std::slice::from_ref(name))?;
                if let Some(other) = holders.iter().find(|o| {
                    crate::versions::versioned::<Collection>(&o.uid)
                        .map(|v| v.stem() != stem)
                        .unwrap_or(true)
                }) {
                    return Err(Error::Taken {
                        what: "collection name".into(),
                        name: name.clone(),
                        by: format!("collection {}", other.uid),
                        reason: "choose another name".into(),
                    });
                }
                let at = now();
                renamed = lamella_schema::set_family_name(conn, &stem, name, at)?;
                changes.push(format!("name '{}' → '{name}'", current.name));
                current.name = name.clone();
                current.updated_at = at;
            }
            if let Some(change) = edit_description(edit, &mut current.description) {
                changes.push(change);
                current.updated_at = now();
                Collection::update(conn, &current)?;
            }
            Ok::<_, Error>((current, renamed, changes))
        })?;
        Ok(Updated {
            record,
            versions_renamed: renamed,
            changes,
        })
    }
}
