//! Artifacts: files, folders and tables with LaminDB-exact hashes, saved atomically to a
//! storage location, deduplicated, versioned, trashed and restored.
//!
//! The modules follow an artifact's life: [`key`] (the rules for keys and suffixes), [`draft`]
//! (what a caller builds), [`prepare`] (hashing and checking the source), [`save`] (the four
//! phases dedup → plan → stage → commit), [`versions`] (families and the latest version),
//! [`load`] (cache, load, head, export), [`delete`] (trash, restore, permanent delete) and
//! [`doctor`] (storage against the database).
//!
//! Save protocol (atomic from the user's view): the object is uploaded under
//! `.lamella/.staging/`, invisible to everything; then one database transaction inserts the row
//! and promotes the object to its final key before committing. A failure before the commit
//! removes the object; a crash between promotion and commit leaves an unreferenced object that
//! `doctor` reports and removes — never a row without its object.

mod delete;
mod doctor;
mod draft;
mod key;
mod load;
mod prepare;
mod save;
mod update;
mod versions;

use std::path::PathBuf;

use arrow::record_batch::RecordBatch;
use lamella_schema::{Artifact, Storage};

use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::query::Query;

pub use delete::{Deleted, Deletion, Restored};
pub use doctor::{ChangedObject, DoctorMode, DoctorOptions, DoctorReport, Verified, Verify};
pub use draft::{ArtifactDraft, SavedEach};
pub use key::{check_key, object_key, suffix_of};
pub(crate) use key::{is_folder, is_table_suffix};
pub use load::Preview;
pub use prepare::skipped_link_notes;
pub(crate) use save::on_object_pool;
pub use update::{Edit, Updated};
pub use versions::UID_LEN;

const STAGING: &str = ".lamella/.staging";

/// Options of [`Artifacts::save_paths_with`].
#[derive(Debug, Clone, Default)]
pub struct SaveMany {
    /// Keys become `key_prefix/<relative path>`; without a prefix the relative path is the
    /// description.
    pub key_prefix: Option<String>,
    /// Relative paths are taken from this folder; without it, from the file name alone.
    pub base_dir: Option<PathBuf>,
    /// What to do with content that is already registered.
    pub policy: DuplicatePolicy,
}

/// What to do when the same content is already registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DuplicatePolicy {
    /// Return the existing artifact (LaminDB's default).
    #[default]
    ReturnExisting,
    /// Fail with [`Error::Duplicate`].
    Error,
    /// Register the content again as a new artifact.
    CreateNew,
}

/// What `load()` gives back.
#[derive(Debug, Clone)]
pub enum Loaded {
    /// A table (Parquet, CSV).
    Table(RecordBatch),
    /// A local path to the file or folder (other suffixes).
    Path(PathBuf),
}

/// The artifact registry of an instance: `ln.artifacts()`.
#[derive(Debug, Clone)]
pub struct Artifacts {
    pub(crate) ln: Instance,
}

impl Instance {
    /// The artifact registry.
    pub fn artifacts(&self) -> Artifacts {
        Artifacts { ln: self.clone() }
    }
}

impl Artifacts {
    /// A query on artifacts (the trash is hidden unless `include_trash`).
    pub fn query(&self) -> Query<Artifact> {
        self.ln.query()
    }

    /// A query with one lookup, e.g. `filter("key__startswith", "iris/")`.
    pub fn filter(&self, lookup: &str, value: impl Into<lamella_schema::Value>) -> Query<Artifact> {
        self.query().filter(lookup, value)
    }

    /// The artifact with this uid or uid prefix (trash included).
    pub fn get(&self, uid_or_prefix: &str) -> Result<Artifact> {
        if !lamella_schema::is_base62(uid_or_prefix) {
            return Err(Error::NotAUid {
                registry: "Artifact",
                given: uid_or_prefix.to_string(),
            });
        }
        if let Some(a) = self
            .query()
            .include_trash()
            .filter("uid", uid_or_prefix)
            .one_or_none()?
        {
            return Ok(a);
        }
        self.query()
            .include_trash()
            .filter("uid__startswith", uid_or_prefix)
            .order_by("-uid")
            .one_or_none()?
            .ok_or_else(|| {
                Error::not_found("Artifact", format!("uid '{uid_or_prefix}'"), Vec::new())
            })
    }

    /// The latest artifact with this key.
    pub fn get_by_key(&self, key: &str) -> Result<Artifact> {
        self.query()
            .filter("key", key)
            .filter("is_latest", true)
            .one_or_none()?
            .ok_or_else(|| Error::not_found("Artifact", format!("key '{key}'"), Vec::new()))
    }

    /// Where the artifact's object lives: its storage root joined with its object key (a
    /// local path or an `s3://` URL).
    pub fn location(&self, a: &Artifact) -> Result<String> {
        Ok(location_in(&self.storage_of(a)?.root, a))
    }

    /// The storage record holding the artifact.
    pub fn storage_of(&self, a: &Artifact) -> Result<Storage> {
        self.ln.storage_by_id(a.storage_id)
    }
}

/// Where artifact `a`'s object lives under the storage root `root`.
pub(crate) fn location_in(root: &str, a: &Artifact) -> String {
    format!("{}/{}", root.trim_end_matches('/'), object_key(a))
}
