//! Trash, restore and permanent delete (the row first, then the object).

use std::path::Path;

use lamella_schema::{Artifact, Store as _, Visibility, now, registry, require_id};
use lamella_storage::Store;

use super::versions::relatest;
use super::{Artifacts, object_key};
use crate::error::{Error, Result};
use crate::instance::LAMELLA_DIR;

impl Artifacts {
    /// Moves the artifact to the trash (first call) or deletes it for good (`permanent`, or
    /// an artifact already in the trash): the row first, then the stored object (only objects
    /// Lamella copied; files registered in place are left where they are). Deleting the latest
    /// version promotes the previous one.
    pub fn delete(&self, a: &Artifact, permanent: bool) -> Result<()> {
        let id = require_id(a)?;
        let current = self.get(&a.uid)?;
        if !permanent && !current.visibility.is_trash() {
            self.ln.db().transaction(|conn| -> Result<()> {
                let mut r = current.clone();
                r.visibility = Visibility::Trash;
                // `relatest` decides; never write back a stale `true`
                r.is_latest = false;
                r.updated_at = now();
                Artifact::update(conn, &r)?;
                relatest(conn, &r)
            })?;
            return Ok(());
        }
        let storage = self.storage_of(&current)?;
        self.ln.db().transaction(|conn| -> Result<()> {
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
        if current.key_is_virtual && self.ln.manages(&storage) {
            let store = self.ln.store_for(&storage)?;
            let key = object_key(&current);
            if current.suffix.is_empty() && current.n_objects.is_some() {
                for obj in store.list(&key)? {
                    store.delete(&obj.key)?;
                }
                prune_empty_dirs(&store);
            } else {
                store.delete(&key)?;
            }
        }
        Ok(())
    }

    /// Takes an artifact out of the trash.
    pub fn restore(&self, a: &Artifact) -> Result<Artifact> {
        let current = self.get(&a.uid)?;
        self.ln.db().transaction(|conn| -> Result<()> {
            let mut r = current.clone();
            r.visibility = Visibility::Default;
            r.is_latest = false;
            r.updated_at = now();
            Artifact::update(conn, &r)?;
            relatest(conn, &r)
        })?;
        self.get(&a.uid)
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
