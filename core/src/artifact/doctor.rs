//! Checking storage against the database, and cleaning what failed saves left behind.

use lamella_schema::{Artifact, Storage, require_id};
use serde::Serialize;

use super::delete::prune_empty_dirs;
use super::{Artifacts, STAGING, object_key};
use crate::error::Result;
use crate::instance::LAMELLA_DIR;

/// What `doctor` found (and, with `clean`, removed).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DoctorReport {
    /// Leftover uploads under `.lamella/.staging/`.
    pub staging: Vec<String>,
    /// Objects under `.lamella/` that no artifact references.
    pub orphans: Vec<String>,
    /// Artifacts whose object is missing from storage.
    pub missing: Vec<String>,
    /// Leftovers younger than the minimum age: possibly a save still in progress, never
    /// removed.
    pub recent: Vec<String>,
    /// Storages that could not be checked, with the reason.
    pub unreachable: Vec<String>,
    /// Whether leftovers were removed.
    pub cleaned: bool,
}

impl Artifacts {
    /// Checks storage against the database: leftover staging uploads, objects no artifact
    /// references, artifacts whose object is missing. With `clean`, removes the leftovers and
    /// orphans older than `min_age` (younger ones may belong to a save in progress); never a
    /// database row.
    pub fn doctor(&self, clean: bool, min_age: std::time::Duration) -> Result<DoctorReport> {
        let mut report = DoctorReport::default();
        let storages: Vec<Storage> = self.ln.query::<Storage>().all()?;
        for storage in storages {
            // A root another instance manages holds that instance's objects: only this
            // instance's artifacts there are checked, nothing is listed as orphan or cleaned.
            let managed = self.ln.manages(&storage);
            let store = match self.ln.store_for(&storage).and_then(|s| {
                if managed {
                    s.list(LAMELLA_DIR)
                        .map(|objects| (s, objects))
                        .map_err(Into::into)
                } else {
                    Ok((s, Vec::new()))
                }
            }) {
                Ok(s) => s,
                Err(e) => {
                    report.unreachable.push(format!("{}: {e}", storage.root));
                    continue;
                }
            };
            let (store, objects) = store;
            let sid = require_id(&storage)?;
            let artifacts: Vec<Artifact> = self
                .query()
                .include_trash()
                .filter("storage_id", sid)
                .all()?;
            let known: std::collections::HashSet<&str> =
                artifacts.iter().map(|a| a.uid.as_str()).collect();
            let age = |obj: &lamella_storage::ObjectMeta| {
                obj.last_modified
                    .or_else(|| {
                        let p = store.local_path(&obj.key)?;
                        std::fs::metadata(p).ok()?.modified().ok()
                    })
                    .and_then(|t| std::time::SystemTime::now().duration_since(t).ok())
                    .unwrap_or_default()
            };
            let mut present: std::collections::HashSet<String> = Default::default();
            for obj in objects {
                let staging = obj.key.starts_with(&format!("{STAGING}/"));
                let rest = obj.key.trim_start_matches(".lamella/");
                let uid: String = rest.chars().take(20).collect();
                let is_object = uid.len() == 20 && lamella_schema::is_base62(&uid);
                if !staging && is_object && known.contains(uid.as_str()) {
                    present.insert(uid);
                    continue;
                }
                if !staging && !is_object {
                    continue; // Lamella's own files (the SQLite database, …)
                }
                let url = store.url_for(&obj.key);
                if age(&obj) < min_age {
                    report.recent.push(url);
                    continue;
                }
                if staging {
                    report.staging.push(url);
                } else {
                    report.orphans.push(url);
                }
                if clean {
                    store.delete(&obj.key)?;
                }
            }
            if clean && managed {
                prune_empty_dirs(&store);
            }
            for a in &artifacts {
                let ok = if a.key_is_virtual {
                    present.contains(&a.uid)
                } else {
                    store.exists(&object_key(a)).unwrap_or(false)
                        || !store.list(&object_key(a)).unwrap_or_default().is_empty()
                };
                if !ok {
                    report.missing.push(a.uid.clone());
                }
            }
        }
        report.cleaned = clean;
        Ok(report)
    }
}
