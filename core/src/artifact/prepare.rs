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
    /// What an AnnData file holds (read before hashing: a broken `.h5ad` is refused).
    pub(super) anndata: Option<crate::AnnDataInfo>,
    /// The key under the storage root when the path already lies inside a registered local
    /// storage (registered in place, nothing copied).
    pub(super) in_place: Option<(Storage, String)>,
    /// A folder's files, walked once: the very files that were hashed are uploaded.
    pub(super) walk: Option<lamella_storage::FolderWalk>,
    /// The copy for the instance's local storage, written under staging while the file was
    /// hashed (one read of the file); removed unless the save takes it.
    pub(super) staged: Option<StagedCopy>,
    /// The upload to an object store, started while the file was hashed; cancelled and
    /// removed unless the save takes it.
    pub(super) remote: Option<RemoteCopy>,
    pub(super) _tmp: Option<tempfile::TempDir>,
}

/// A file's copy written under `.lamella/.staging/` of a local storage during [`prepare`]
/// (hash and copy in one pass). Dropping it removes the copy: a duplicate or a failed save
/// leaves nothing behind; [`StagedCopy::take`] hands the key to the save, which then owns it.
///
/// [`prepare`]: ArtifactDraft::prepare
pub(super) struct StagedCopy {
    storage_id: Option<i64>,
    key: String,
    path: PathBuf,
    armed: bool,
}

impl StagedCopy {
    /// A fresh staging place for a file of `suffix` in the instance's storage, when that
    /// storage is a local folder this instance writes to; `None` otherwise (uploads stay a
    /// step of their own).
    pub(super) fn place(ln: &Instance, suffix: &str) -> Result<Option<StagedCopy>> {
        let target = ln.storage()?;
        if !ln.manages(&target)? {
            return Ok(None);
        }
        let key = format!(
            "{}/{}{suffix}",
            super::STAGING,
            lamella_schema::base62_uid(20)
        );
        let Some(path) = ln.store_for(&target)?.local_path(&key) else {
            return Ok(None);
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        Ok(Some(StagedCopy {
            storage_id: target.id,
            key,
            path,
            armed: true,
        }))
    }

    /// Where the copy is written.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The key of the copy, now the save's to promote or remove, for a save into the storage
    /// `storage_id`; `None` (and the copy removed) when the save writes elsewhere.
    pub(super) fn take(mut self, storage_id: Option<i64>) -> Option<String> {
        if self.storage_id != storage_id {
            return None;
        }
        self.armed = false;
        Some(std::mem::take(&mut self.key))
    }
}

/// A file's upload to its final key `.lamella/<uid><suffix>` in an object store, running on
/// a thread of its own while the file is hashed: a large file's parts go up meanwhile, a
/// small file is read into memory. Its last step (the `PutObject`, or completing the
/// multipart upload) waits at an [`UploadGate`](lamella_storage::UploadGate) until the save
/// knows the content is new: [`RemoteCopy::finish`] lets it through and hands the key and
/// uid to the save; dropping it cancels, and a duplicate or a failed save leaves no object.
pub(super) struct RemoteCopy {
    storage_id: Option<i64>,
    store: lamella_storage::Store,
    key: String,
    uid: String,
    gate: std::sync::Arc<lamella_storage::UploadGate>,
    upload: Option<std::thread::JoinHandle<lamella_storage::Result<()>>>,
}

impl RemoteCopy {
    /// Starts uploading `local` under a new family uid, when the instance's storage is an
    /// object store this instance writes to; `None` otherwise. When the content cannot be
    /// registered already (no artifact has its size, or the save keeps duplicates), the
    /// upload may complete at once; otherwise it waits for [`RemoteCopy::finish`].
    pub(super) fn start(
        ln: &Instance,
        local: &Path,
        suffix: &str,
        policy: super::DuplicatePolicy,
    ) -> Result<Option<RemoteCopy>> {
        let target = ln.storage()?;
        if !ln.manages(&target)? {
            return Ok(None);
        }
        let store = ln.store_for(&target)?;
        if store.kind() == lamella_storage::StoreKind::Local {
            return Ok(None);
        }
        let uid = String::from(crate::versions::new_family::<lamella_schema::Artifact>());
        let key = format!("{}/{uid}{suffix}", crate::instance::LAMELLA_DIR);
        let gate = std::sync::Arc::new(lamella_storage::UploadGate::new());
        let size = std::fs::metadata(local).map_err(io_err(local))?.len();
        let meter = crate::progress::Meter::new(
            ln,
            crate::ProgressTask::Uploading,
            crate::ProgressUnit::Bytes,
            size,
        );
        // Equal content has an equal size: with no artifact of this size (one indexed
        // probe) the content is new. A racing save of the same bytes is still caught under
        // the commit's lock, and this object then removed.
        let any = |lookup: &str, value: lamella_schema::Value| -> Result<bool> {
            Ok(ln
                .query::<lamella_schema::Artifact>()
                .filter(lookup, value)
                .include_trash()
                .limit(1)
                .first()?
                .is_some())
        };
        // (Records without a size, such as some imported from LaminDB, may hold anything.)
        let new_content = policy == super::DuplicatePolicy::CreateNew
            || size == 0
            || !(any("size", (size as i64).into())? || any("size__isnull", true.into())?);
        if new_content {
            gate.proceed();
        }
        tracing::debug!(key, size, new_content, "uploading while hashing");
        let upload = {
            let (store, key, path, gate) = (
                store.clone(),
                key.clone(),
                local.to_path_buf(),
                gate.clone(),
            );
            std::thread::Builder::new()
                .name("lamella-upload".into())
                .spawn(move || store.put_file_new_gated(&key, &path, &|n| meter.add(n), &gate))
                .map_err(io_err(local))?
        };
        Ok(Some(RemoteCopy {
            storage_id: target.id,
            store,
            key,
            uid,
            gate,
            upload: Some(upload),
        }))
    }

    /// Waits for the upload: its (key, uid) for a save into the storage `storage_id`, or
    /// `None` (the upload cancelled and removed) when the save writes elsewhere.
    pub(super) fn finish(mut self, storage_id: Option<i64>) -> Result<Option<(String, String)>> {
        if self.storage_id != storage_id {
            return Ok(None);
        }
        self.gate.proceed();
        let done = self.join();
        if done.is_err() {
            self.discard(&done);
            done?;
        }
        Ok(Some((
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.uid),
        )))
    }

    /// Removes the object after the upload ended with `result` (best effort; a leftover is
    /// listed by `doctor`): a cancelled upload wrote nothing and a key found taken is not
    /// ours, but anything else, also an error on our side, may have been written (a
    /// timeout after the server stored it).
    fn discard(&mut self, result: &Result<()>) {
        if !matches!(
            result,
            Err(Error::Storage(
                lamella_storage::Error::Cancelled { .. }
                    | lamella_storage::Error::AlreadyExists { .. }
            ))
        ) {
            let _ = self.store.delete(&self.key);
        }
        self.key.clear();
    }

    fn join(&mut self) -> Result<()> {
        match self.upload.take().map(std::thread::JoinHandle::join) {
            None => Ok(()),
            Some(Ok(r)) => r.map_err(Into::into),
            Some(Err(_)) => Err(lamella_storage::Error::Runtime {
                message: format!("the upload of {} stopped unexpectedly", self.key),
            }
            .into()),
        }
    }
}

impl Drop for RemoteCopy {
    fn drop(&mut self) {
        if self.key.is_empty() {
            return;
        }
        // Cancelled before its last step, the upload leaves no object; one already let
        // through (its content known to be new) is removed.
        self.gate.cancel();
        let done = self.join();
        self.discard(&done);
    }
}

impl Drop for StagedCopy {
    fn drop(&mut self) {
        if self.armed {
            // best effort: a leftover under staging is swept by `doctor`
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl ArtifactDraft {
    pub(super) fn prepare(&self) -> Result<Prepared> {
        match &self.source {
            Source::Table(batches) => {
                // Written straight to its staging place in a local storage (no copy later),
                // else to a temporary folder from where it is uploaded.
                let staged = StagedCopy::place(&self.ln, ".parquet")?;
                let (path, tmp) = match &staged {
                    Some(s) => (s.path().to_path_buf(), None),
                    None => {
                        let tmp = tempfile::tempdir().map_err(io_err(std::env::temp_dir()))?;
                        (tmp.path().join("table.parquet"), Some(tmp))
                    }
                };
                let size = lamella_storage::write_parquet(batches.iter(), &path)?;
                // uploaded to an object store while it is hashed, as a file is
                let remote = match &staged {
                    None if self.revises.is_none() => {
                        RemoteCopy::start(&self.ln, &path, ".parquet", self.policy)?
                    }
                    _ => None,
                };
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
                    anndata: None,
                    in_place: None,
                    walk: None,
                    staged,
                    remote,
                    _tmp: tmp,
                })
            }
            Source::Path(p) => match p.to_str().filter(|s| crate::instance::is_remote(s)) {
                Some(url) => prepare_remote(&self.ln, url),
                None => prepare_path(
                    &LocalContext {
                        copy_progress: true,
                        upload_early: self.revises.is_none().then_some(self.policy),
                        ..LocalContext::of(&self.ln)?
                    },
                    p,
                ),
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
    /// Whether copying a single file into storage while hashing it reports its bytes as
    /// uploading (a save of one file; a save of many reports files hashed instead).
    pub(super) copy_progress: bool,
    /// Whether a single file for an object store is uploaded while it is hashed (a save of
    /// one file that starts a version family; a save of many uploads them in parallel).
    /// (With the save's duplicate policy.)
    pub(super) upload_early: Option<super::DuplicatePolicy>,
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
            copy_progress: false,
            upload_early: None,
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
        // A Zarr store holding AnnData is an AnnData artifact: its summary is read now (as
        // an .h5ad's is); any other folder is a folder.
        let anndata = if lamella_storage::is_anndata_store(&abs) {
            Some(crate::AnnDataInfo::read(&abs)?)
        } else {
            None
        };
        Ok(Prepared {
            local: abs,
            is_dir: true,
            suffix: String::new(),
            size: h.size,
            hash: h.hash,
            hash_type: crate::convert::hash_type(h.hash_type),
            n_objects: Some(h.n_objects as i64),
            n_observations: anndata.as_ref().and_then(|i| i64::try_from(i.n_obs).ok()),
            accessor: anndata.as_ref().map(|_| "AnnData".to_string()),
            anndata,
            in_place,
            walk: Some(walk),
            staged: None,
            remote: None,
            _tmp: None,
        })
    } else {
        let suffix = suffix_of(&name);
        // A file that claims to be a table must be one: checked now (the Parquet footer; the
        // CSV header and row widths, in one streaming pass), not at the first load.
        let mut n_observations = lamella_storage::check_table(&abs)?.map(|n| n as i64);
        // An AnnData file must be one too: its summary is read now (attributes and shapes).
        let anndata = if lamella_storage::is_h5ad_file(&name) {
            let info = crate::AnnDataInfo::read(&abs)?;
            n_observations = i64::try_from(info.n_obs).ok();
            Some(info)
        } else {
            None
        };
        // A file to be copied into a local storage is copied as it is hashed: read once.
        let staged = match &in_place {
            Some(_) => None,
            None => StagedCopy::place(&ctx.ln, &suffix)?,
        };
        // A file for an object store goes up to its final key while it is hashed; the save
        // cancels the upload if the hash turns out to be registered already.
        let remote = match (&staged, &in_place) {
            (None, None) => match ctx.upload_early {
                Some(policy) => RemoteCopy::start(&ctx.ln, &abs, &suffix, policy)?,
                None => None,
            },
            _ => None,
        };
        let h = match &staged {
            Some(s) => {
                let meter = ctx.copy_progress.then(|| {
                    crate::progress::Meter::new(
                        &ctx.ln,
                        crate::ProgressTask::Uploading,
                        crate::ProgressUnit::Bytes,
                        meta.len(),
                    )
                });
                let on_bytes = |n| {
                    if let Some(m) = &meter {
                        m.add(n);
                    }
                };
                lamella_storage::hash_and_copy_file(&abs, s.path(), &on_bytes)?
            }
            None => hash_file(&abs)?,
        };
        Ok(Prepared {
            local: abs,
            is_dir: false,
            accessor: accessor_of(&suffix),
            anndata,
            suffix,
            size: h.size,
            hash: h.hash,
            hash_type: crate::convert::hash_type(h.hash_type),
            n_objects: None,
            n_observations,
            in_place,
            walk: None,
            staged,
            remote,
            _tmp: None,
        })
    }
}

/// How a file is loaded, by its suffix: `DataFrame` for Parquet, `AnnData` for `.h5ad`
/// (LaminDB's accessors).
fn accessor_of(suffix: &str) -> Option<String> {
    match suffix.to_ascii_lowercase().as_str() {
        ".parquet" => Some("DataFrame".into()),
        ".h5ad" => Some("AnnData".into()),
        _ => None,
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
                accessor: accessor_of(&suffix),
                anndata: None,
                suffix,
                size: meta.size,
                hash: h.hash,
                hash_type: crate::convert::hash_type(h.hash_type),
                n_objects: None,
                n_observations: None,
                in_place: Some((storage, key)),
                walk: None,
                staged: None,
                remote: None,
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
                anndata: None,
                in_place: Some((storage, key)),
                walk: None,
                staged: None,
                remote: None,
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
