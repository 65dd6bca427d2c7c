//! Checking storage against the database, and cleaning what failed saves left behind.

use lamella_schema::{Artifact, HashType, Storage, require_id};
use rayon::prelude::*;
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
    /// With [`Verify::Content`]: artifacts whose bytes no longer have their recorded hash.
    pub changed: Vec<ChangedObject>,
    /// With [`Verify::Content`]: how many objects were verified, and their bytes; `None`
    /// when only presence was checked.
    pub verified: Option<Verified>,
    /// Whether leftovers were removed.
    pub cleaned: bool,
}

/// How much content a [`Verify::Content`] run re-hashed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// Objects re-hashed.
    pub objects: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// An artifact whose stored bytes changed behind Lamella's back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedObject {
    /// The artifact.
    pub uid: String,
    /// Its key.
    pub key: Option<String>,
    /// Where its object is.
    pub location: String,
    /// The hash recorded when it was saved.
    pub recorded: String,
    /// The hash of the bytes found now.
    pub found: String,
}

impl DoctorReport {
    /// Whether anything needs attention after this run: missing or changed objects,
    /// unreachable storages, or leftovers that were not cleaned.
    pub fn needs_attention(&self) -> bool {
        !self.missing.is_empty()
            || !self.changed.is_empty()
            || !self.unreachable.is_empty()
            || !(self.cleaned || self.staging.is_empty() && self.orphans.is_empty())
    }
}

/// What `doctor` does besides reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DoctorMode {
    /// Only report.
    #[default]
    Check,
    /// Also remove leftover uploads and orphaned objects (never a database row).
    Clean,
}

/// How deeply `doctor` checks each artifact's object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// That the object is there.
    #[default]
    Presence,
    /// That its bytes still have the recorded hash: every object is hashed again
    /// (streaming, on all cores), except S3 objects whose ETag proves the content.
    Content,
}

/// The options of [`Artifacts::doctor`].
#[derive(Debug, Clone, Default)]
pub struct DoctorOptions {
    /// Report only, or clean too.
    pub mode: DoctorMode,
    /// Leftovers younger than this may belong to a save in progress: never removed.
    pub min_age: std::time::Duration,
    /// Presence only, or content too (progress goes to [`Instance::on_progress`]).
    ///
    /// [`Instance::on_progress`]: crate::Instance::on_progress
    pub verify: Verify,
}

impl Artifacts {
    /// Checks storage against the database: leftover staging uploads, objects no artifact
    /// references, artifacts whose object is missing. With `clean`, removes the leftovers and
    /// orphans older than `min_age` (younger ones may belong to a save in progress); never a
    /// database row.
    pub fn doctor(&self, options: &DoctorOptions) -> Result<DoctorReport> {
        let clean = options.mode == DoctorMode::Clean;
        let min_age = options.min_age;
        let mut report = DoctorReport::default();
        let mut to_verify: Vec<(Artifact, Storage)> = Vec::new();
        let storages: Vec<Storage> = self.ln.query::<Storage>().all()?;
        for storage in storages {
            // A root another instance manages holds that instance's objects: only this
            // instance's artifacts there are checked, nothing is listed as orphan or cleaned.
            let managed = self.ln.manages(&storage)?;
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
                } else if options.verify == Verify::Content {
                    to_verify.push((a.clone(), storage.clone()));
                }
            }
        }
        if options.verify == Verify::Content {
            self.verify_content(&to_verify, &mut report)?;
        }
        report.cleaned = clean;
        Ok(report)
    }

    /// Hashes the artifacts' objects again, in parallel, and records those whose bytes
    /// changed.
    fn verify_content(
        &self,
        artifacts: &[(Artifact, Storage)],
        report: &mut DoctorReport,
    ) -> Result<()> {
        let total: u64 = artifacts
            .iter()
            .map(|(a, _)| a.size.unwrap_or(0).max(0) as u64)
            .sum();
        let meter = crate::progress::Meter::new(
            &self.ln,
            crate::ProgressTask::Verifying,
            crate::ProgressUnit::Bytes,
            total,
        );
        let found: Vec<Option<ChangedObject>> = artifacts
            .par_iter()
            .map(|(a, storage)| -> Result<Option<ChangedObject>> {
                let hash = self.hash_now(a, storage)?;
                meter.add(a.size.unwrap_or(0).max(0) as u64);
                Ok(
                    (Some(hash.as_str()) != a.hash.as_deref()).then(|| ChangedObject {
                        uid: a.uid.clone(),
                        key: a.key.clone(),
                        location: super::location_in(&storage.root, a),
                        recorded: a.hash.clone().unwrap_or_default(),
                        found: hash,
                    }),
                )
            })
            .collect::<Result<_>>()?;
        report.changed = found.into_iter().flatten().collect();
        report.verified = Some(Verified {
            objects: artifacts.len(),
            bytes: total,
        });
        Ok(())
    }

    /// The hash of an artifact's object as it is now, by its recorded hash type: an S3
    /// object's ETag when it is the content's MD5 (a single-part upload of a file hashed
    /// `md5`), else the bytes, streamed (downloaded to a temporary folder for cloud objects;
    /// never the cached copy, which could hide a change).
    fn hash_now(&self, a: &Artifact, storage: &Storage) -> Result<String> {
        let store = self.ln.store_for(storage)?;
        let key = super::object_key(a);
        let folder = super::key::is_folder(a);
        if let Some(local) = store.local_path(&key) {
            return Ok(if folder {
                lamella_storage::hash_folder(&local)?.hash
            } else {
                lamella_storage::hash_file(&local)?.hash
            });
        }
        if !folder
            && a.hash_type == Some(HashType::Md5)
            && let Ok(meta) = store.stat(&key)
            && let Some(h) = meta
                .etag
                .as_deref()
                .and_then(|e| lamella_storage::hash_from_etag(e, meta.size))
            && h.hash_type == lamella_storage::HashType::Md5
        {
            return Ok(h.hash);
        }
        // An in-place S3 artifact recorded from its ETags: compare ETags again.
        if !folder
            && matches!(a.hash_type, Some(HashType::Md5N))
            && let Ok(meta) = store.stat(&key)
            && let Some(h) = meta
                .etag
                .as_deref()
                .and_then(|e| lamella_storage::hash_from_etag(e, meta.size))
        {
            return Ok(h.hash);
        }
        let tmp = tempfile::tempdir().map_err(crate::error::io_err(std::env::temp_dir()))?;
        if folder {
            let dest = tmp.path().join("folder");
            for obj in store.list(&key)? {
                let rel = obj.key.strip_prefix(&key).unwrap_or(&obj.key);
                let file = dest.join(rel.trim_start_matches('/'));
                if let Some(parent) = file.parent() {
                    std::fs::create_dir_all(parent).map_err(crate::error::io_err(parent))?;
                }
                store.get_to_file(&obj.key, &file)?;
            }
            return Ok(lamella_storage::hash_folder(&dest)?.hash);
        }
        let file = tmp.path().join("object");
        store.get_to_file(&key, &file)?;
        Ok(lamella_storage::hash_file(&file)?.hash)
    }
}
