//! Preparing a source for saving: hashing it (LaminDB-exact), checking tables, and finding
//! whether it already lies inside a registered storage.

use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use lamella_schema::Storage;
use lamella_storage::{FolderWalk, hash_file};

use super::draft::{ArtifactDraft, Source};
use super::suffix_of;
use crate::error::{Error, Result, io_err};
use crate::instance::Instance;

/// A file or folder ready to be registered: hashed, with its metadata.
pub(super) struct Prepared {
    pub(super) local: PathBuf,
    pub(super) is_dir: bool,
    pub(super) suffix: String,
    pub(super) size: u64,
    pub(super) hash: String,
    pub(super) hash_type: lamella_schema::HashType,
    pub(super) n_objects: Option<i64>,
    pub(super) n_observations: Option<i64>,
    pub(super) accessor: Option<String>,
    /// The key under the storage root when the path already lies inside a registered local
    /// storage (registered in place, nothing copied).
    pub(super) in_place: Option<(Storage, String)>,
    /// A folder's files, walked once: the very files that were hashed are uploaded.
    pub(super) walk: Option<lamella_storage::FolderWalk>,
    pub(super) _tmp: Option<tempfile::TempDir>,
}

impl ArtifactDraft {
    pub(super) fn prepare(&self) -> Result<Prepared> {
        match &self.source {
            Source::Table(batches) => {
                let tmp = tempfile::tempdir().map_err(io_err(std::env::temp_dir()))?;
                let path = tmp.path().join("table.parquet");
                let size = lamella_storage::write_parquet(batches.iter(), &path)?;
                let h = hash_file(&path)?;
                let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
                Ok(Prepared {
                    local: path,
                    is_dir: false,
                    suffix: ".parquet".into(),
                    size,
                    hash: h.hash,
                    hash_type: crate::convert::hash_type(h.hash_type),
                    n_objects: None,
                    n_observations: Some(rows as i64),
                    accessor: Some("DataFrame".into()),
                    in_place: None,
                    walk: None,
                    _tmp: Some(tmp),
                })
            }
            Source::Path(p) => match p.to_str().filter(|s| crate::instance::is_remote(s)) {
                Some(url) => prepare_remote(&self.ln, url),
                None => prepare_path(&LocalContext::of(&self.ln)?, p),
            },
        }
    }
}

/// What a local path is checked against before it is saved.
pub(super) struct LocalContext {
    /// The registered local storages (where paths may be registered in place).
    pub(super) storages: Vec<Storage>,
    /// Folders a saved folder must not contain, with what they are: every local storage root,
    /// the folder of a SQLite database kept elsewhere, the settings folder (its cache).
    pub(super) protected: Vec<(PathBuf, String)>,
    /// The instance, whose progress callback hashing reports to.
    pub(super) ln: Instance,
}

impl LocalContext {
    pub(super) fn of(ln: &Instance) -> Result<LocalContext> {
        let storages = local_storages(ln)?;
        let mut protected: Vec<(PathBuf, String)> = storages
            .iter()
            .map(|s| (PathBuf::from(&s.root), format!("the storage {}", s.root)))
            .collect();
        if let lamella_schema::DbUrl::Sqlite(db) = ln.db().url()
            && let Some(dir) = db.parent()
        {
            protected.push((dir.to_path_buf(), "this instance's database".into()));
        }
        protected.push((
            ln.cache_dir().to_path_buf(),
            "Lamella's cache folder".into(),
        ));
        if let Ok(home) = crate::settings::home() {
            protected.push((home, "Lamella's settings and cache folder".into()));
        }
        for (p, _) in &mut protected {
            if let Ok(c) = p.canonicalize() {
                *p = c;
            }
        }
        Ok(LocalContext {
            ln: ln.clone(),
            storages,
            protected,
        })
    }

    /// Refuses a folder that contains Lamella's own files: saving it would copy the live
    /// database and every stored object, and the copy would grow with each repeat.
    pub(super) fn check_folder(&self, abs: &Path) -> Result<()> {
        if let Some((inner, what)) = self.protected.iter().find(|(q, _)| q.starts_with(abs)) {
            return Err(Error::Reserved {
                location: abs.display().to_string(),
                reason: format!(
                    "contains {what} ({}), so saving it would copy Lamella's own database and \
                     objects: save the data folders inside it instead",
                    inner.display()
                ),
            });
        }
        Ok(())
    }
}

pub(super) fn prepare_path(ctx: &LocalContext, p: &Path) -> Result<Prepared> {
    let meta = std::fs::metadata(p).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::MissingPath {
                path: p.to_path_buf(),
            }
        } else {
            Error::Io {
                path: p.to_path_buf(),
                source: e,
            }
        }
    })?;
    let abs = p.canonicalize().map_err(io_err(p))?;
    let in_place = in_place_key(&ctx.storages, &abs)?;
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if meta.is_dir() {
        ctx.check_folder(&abs)?;
        let walk = lamella_storage::walk_folder(&abs)?;
        let meter = crate::progress::Meter::new(
            &ctx.ln,
            crate::ProgressTask::Hashing,
            crate::ProgressUnit::Bytes,
            walk.total_size(),
        );
        let h = lamella_storage::hash_walk_with(&walk, &|n| meter.add(n))?;
        drop(meter);
        Ok(Prepared {
            local: abs,
            is_dir: true,
            suffix: String::new(),
            size: h.size,
            hash: h.hash,
            hash_type: crate::convert::hash_type(h.hash_type),
            n_objects: Some(h.n_objects as i64),
            n_observations: None,
            accessor: None,
            in_place,
            walk: Some(walk),
            _tmp: None,
        })
    } else {
        let h = hash_file(&abs)?;
        let suffix = suffix_of(&name);
        // A file that claims to be a table must be one: checked now (the Parquet footer; the
        // CSV header and row widths, in one streaming pass), not at the first load.
        let n_observations = lamella_storage::check_table(&abs)?.map(|n| n as i64);
        Ok(Prepared {
            local: abs,
            is_dir: false,
            accessor: (suffix == ".parquet").then(|| "DataFrame".to_string()),
            suffix,
            size: h.size,
            hash: h.hash,
            hash_type: crate::convert::hash_type(h.hash_type),
            n_objects: None,
            n_observations,
            in_place,
            walk: None,
            _tmp: None,
        })
    }
}

/// An object (or prefix) already in a registered cloud storage, registered in place: its hash
/// comes from the ETags, nothing is downloaded (LaminDB's behaviour).
pub(super) fn prepare_remote(ln: &Instance, url: &str) -> Result<Prepared> {
    let url = url.trim_end_matches('/');
    let inside = |storages: Vec<Storage>| {
        storages.into_iter().find_map(|s| {
            let rest = url.strip_prefix(s.root.as_str())?.strip_prefix('/')?;
            (!rest.is_empty()).then(|| (s.clone(), rest.to_string()))
        })
    };
    let mut found = inside(ln.query::<Storage>().all()?);
    // An object in a bucket no storage covers yet: the bucket is registered to be read
    // (nothing is written there), as LaminDB registers `Artifact("s3://…")`.
    if found.is_none()
        && let Some(bucket) = lamella_storage::bucket_root(url)
    {
        found = inside(vec![ln.add_read_only_storage(&bucket)?]);
    }
    let Some((storage, key)) = found else {
        return Err(Error::NotInStorage {
            location: url.to_string(),
            reason: "is not inside a registered storage: register its bucket or prefix as a \
                     storage, or download it and save the local copy"
                .into(),
        });
    };
    if super::key::is_reserved(&key) {
        return Err(Error::Reserved {
            location: url.to_string(),
            reason: "is inside Lamella's own folder .lamella/: register your own objects".into(),
        });
    }
    let store = ln.store_for(&storage)?;
    let no_etag = || Error::NotInStorage {
        location: url.to_string(),
        reason: "has no usable ETag (e.g. encrypted with SSE-KMS): download it and save \
                     the local copy"
            .into(),
    };
    let name = key.rsplit('/').next().unwrap_or(&key).to_string();
    match store.stat(&key) {
        Ok(meta) => {
            let etag = meta.etag.clone().ok_or_else(no_etag)?;
            let h = lamella_storage::hash_from_etag(&etag, meta.size).ok_or_else(no_etag)?;
            let suffix = suffix_of(&name);
            Ok(Prepared {
                local: PathBuf::from(url),
                is_dir: false,
                accessor: (suffix == ".parquet").then(|| "DataFrame".to_string()),
                suffix,
                size: meta.size,
                hash: h.hash,
                hash_type: crate::convert::hash_type(h.hash_type),
                n_objects: None,
                n_observations: None,
                in_place: Some((storage, key)),
                walk: None,
                _tmp: None,
            })
        }
        Err(e) if e.is_not_found() => {
            let objects = store.list(&key)?;
            if objects.is_empty() {
                return Err(Error::NotInStorage {
                    location: url.to_string(),
                    reason: "does not exist: check the URL".into(),
                });
            }
            let mut etags = Vec::with_capacity(objects.len());
            for o in &objects {
                etags.push(
                    o.etag
                        .clone()
                        .ok_or_else(no_etag)?
                        .trim_matches('"')
                        .to_string(),
                );
            }
            Ok(Prepared {
                local: PathBuf::from(url),
                is_dir: true,
                suffix: String::new(),
                size: objects.iter().map(|o| o.size).sum(),
                hash: lamella_storage::hash_from_hashes(&etags),
                hash_type: lamella_schema::HashType::Md5D,
                n_objects: Some(objects.len() as i64),
                n_observations: None,
                accessor: None,
                in_place: Some((storage, key)),
                walk: None,
                _tmp: None,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The registered local storages (where paths may be registered in place).
pub(super) fn local_storages(ln: &Instance) -> Result<Vec<Storage>> {
    ln.query::<Storage>().filter("type", "local").all()
}

/// The storage and key of a local path that lies inside a registered local storage.
pub(super) fn in_place_key(
    local_storages: &[Storage],
    abs: &Path,
) -> Result<Option<(Storage, String)>> {
    for s in local_storages {
        let root = Path::new(&s.root);
        if let Ok(rel) = abs.strip_prefix(root) {
            let key = rel.to_string_lossy().replace('\\', "/");
            if key.is_empty() {
                return Err(Error::Reserved {
                    location: abs.display().to_string(),
                    reason: "is the storage root itself: register files or folders inside it"
                        .into(),
                });
            }
            if super::key::is_reserved(&key) {
                return Err(Error::Reserved {
                    location: abs.display().to_string(),
                    reason: "is inside Lamella's own folder .lamella/: register your own files"
                        .into(),
                });
            }
            return Ok(Some((s.clone(), key)));
        }
    }
    Ok(None)
}

/// Notes on the folder links a walk did not enter (see [`Artifacts::folder_files`]).
pub fn skipped_link_notes(walk: &FolderWalk) -> Vec<String> {
    walk.skipped_links
        .iter()
        .map(|l| {
            let target = std::fs::read_link(l)
                .map(|t| format!(" -> {}", t.display()))
                .unwrap_or_default();
            format!(
                "skipped {}{target}: links to folders are not followed (links to files are); \
                 save the linked folder itself if you need it",
                l.display()
            )
        })
        .collect()
}
