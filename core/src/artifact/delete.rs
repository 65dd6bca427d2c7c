//! Trash, restore and permanent delete (the row first, then the object).

use std::path::Path;

use lamella_schema::{Artifact, Store as _, Visibility, now, registry, require_id};
use lamella_storage::Store;

use super::versions::{lock_family, relatest};
use super::{Artifacts, object_key};
use crate::error::{Error, Result};
use crate::instance::LAMELLA_DIR;

/// How [`Artifacts::delete`] (and [`Collections::delete`](crate::Collections::delete))
/// deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deletion {
    /// Move to the trash; a record already in the trash is deleted for good (LaminDB's
    /// second delete).
    #[default]
    Trash,
    /// Delete for good at once.
    Permanent,
}

/// What a delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Deleted {
    /// Moved to the trash; restore brings it back.
    Trashed,
    /// The record is gone for good.
    Removed {
        /// Whether its stored object was removed too (only objects this instance copied
        /// into a storage it manages; a file registered in place is kept).
        object_removed: bool,
    },
}

/// What a restore found and did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Restored<T> {
    /// The record as it is now.
    pub record: T,
    /// Whether it was in the trash (false: nothing changed).
    pub changed: bool,
}

impl Artifacts {
    /// Whether deleting `a` for good also removes its stored object: only an object Lamella
    /// copied (a virtual key) into a storage this instance manages.
    pub fn deletes_object(&self, a: &Artifact) -> Result<bool> {
        Ok(a.key_is_virtual && self.ln.manages(&self.storage_of(a)?)?)
    }

    /// Moves the artifact to the trash, or deletes it for good ([`Deletion::Permanent`], or
    /// an artifact already in the trash): the row first, then the stored object (see
    /// [`deletes_object`](Self::deletes_object)). Deleting the latest version promotes the
    /// previous one. Says what it did.
    pub fn delete(&self, a: &Artifact, how: Deletion) -> Result<Deleted> {
        let id = require_id(a)?;
        let current = self.get(&a.uid)?;
        if how == Deletion::Trash && !current.visibility.is_trash() {
            self.ln.db().transaction(|conn| -> Result<()> {
                // The locks a save of this family takes, before any row is written.
                lock_family(conn, &current)?;
                let mut r = current.clone();
                r.visibility = Visibility::Trash;
                // `relatest` decides; never write back a stale `true`
                r.is_latest = false;
                r.updated_at = now();
                Artifact::update(conn, &r)?;
                relatest(conn, &r)
            })?;
            return Ok(Deleted::Trashed);
        }
        let storage = self.storage_of(&current)?;
        let object_removed = self.deletes_object(&current)?;
        self.ln.db().transaction(|conn| -> Result<()> {
            lock_family(conn, &current)?;
            let links = lamella_schema::links_to(conn, &registry::ARTIFACT, id)?;
            if !links.is_empty() {
                return Err(Error::Linked {
                    registry: "Artifact",
                    name: current.uid.clone(),
                    links: links
                        .iter()
                        .map(|(w, n)| format!("{n} {w}{}", if *n == 1 { "" } else { "s" }))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            lamella_schema::delete_by_id(conn, &registry::ARTIFACT, id)?;
            relatest(conn, &current)
        })?;
        // A downloaded copy in the cache goes with it.
        let cached = self
            .ln
            .cache_dir()
            .join(&storage.uid)
            .join(object_key(&current));
        if cached.is_dir() {
            let _ = std::fs::remove_dir_all(&cached);
        } else if cached.is_file() {
            let _ = std::fs::remove_file(&cached);
        }
        if object_removed {
            let store = self.ln.store_for(&storage)?;
            let key = object_key(&current);
            if super::key::is_folder(&current) {
                for obj in store.list(&key)? {
                    store.delete(&obj.key)?;
                }
                prune_empty_dirs(&store);
            } else {
                store.delete(&key)?;
            }
        }
        Ok(Deleted::Removed { object_removed })
    }

    /// Takes an artifact out of the trash (an artifact not in the trash is returned as it is,
    /// `changed: false`).
    pub fn restore(&self, a: &Artifact) -> Result<Restored<Artifact>> {
        let current = self.get(&a.uid)?;
        if !current.visibility.is_trash() {
            return Ok(Restored {
                record: current,
                changed: false,
            });
        }
        self.ln.db().transaction(|conn| -> Result<()> {
            lock_family(conn, &current)?;
            let mut r = current.clone();
            r.visibility = Visibility::Default;
            r.is_latest = false;
            r.updated_at = now();
            Artifact::update(conn, &r)?;
            relatest(conn, &r)
        })?;
        Ok(Restored {
            record: self.get(&a.uid)?,
            changed: true,
        })
    }

    /// Restores the newest trashed artifact with this key (or, when none of that key is in
    /// the trash, reports the newest with that key as unchanged).
    pub fn restore_key(&self, key: &str) -> Result<Restored<Artifact>> {
        let trashed = self
            .query()
            .filter("key", key)
            .filter("visibility", Visibility::Trash)
            .order_by("-id")
            .first()?;
        match trashed {
            Some(a) => self.restore(&a),
            None => self.restore(&self.newest_with_key(key)?),
        }
    }
}

/// Removes empty folders under a local store's `.lamella/` (left by deleted folder artifacts
/// and cleaned staging uploads); object stores have no folders.
pub(super) fn prune_empty_dirs(store: &Store) {
    fn prune(dir: &Path) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        let mut empty = true;
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && prune(&p) {
                let _ = std::fs::remove_dir(&p);
            } else {
                empty = false;
            }
        }
        empty
    }
    if let Some(dir) = store.local_path(LAMELLA_DIR) {
        prune(&dir);
    }
}
