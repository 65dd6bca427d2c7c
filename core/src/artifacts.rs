//! Artifacts: files, folders and tables with LaminDB-exact hashes, saved atomically to a
//! storage location, deduplicated, versioned, trashed and restored.
//!
//! Save protocol (atomic from the user's view): the object is uploaded under
//! `.lamella/.staging/`, invisible to everything; then one database transaction inserts the row
//! and promotes the object to its final key before committing. A failure before the commit
//! removes the object; a crash between promotion and commit leaves an unreferenced object that
//! `doctor` reports and removes — never a row without its object.

use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use lamella_schema::{
    Artifact, QuerySpec, Storage, Store as _, User, base62_uid, increment_base62, now, registry,
    require_id,
};
use lamella_storage::{FolderWalk, Store, hash_file};
use serde::Serialize;

use crate::error::{Error, Result, io_err};
use crate::instance::{Instance, LAMELLA_DIR};
use crate::records::{Query, Saved};

const STAGING: &str = ".lamella/.staging";
const STEM_LEN: usize = 16;

/// Options of [`Artifacts::save_paths_with`].
#[derive(Default)]
pub struct SaveMany<'p> {
    /// Keys become `key_prefix/<relative path>`; without a prefix the relative path is the
    /// description.
    pub key_prefix: Option<String>,
    /// Relative paths are taken from this folder; without it, from the file name alone.
    pub base_dir: Option<PathBuf>,
    /// What to do with content that is already registered.
    pub policy: DuplicatePolicy,
    /// Called with (files hashed, files in all) as hashing progresses.
    pub progress: Option<&'p (dyn Fn(usize, usize) + Sync)>,
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

enum Source {
    Path(PathBuf),
    Table(Vec<RecordBatch>),
}

/// An artifact being prepared: `ln.artifacts().from_path(p).key("a/b.csv").save()`.
pub struct ArtifactDraft<'a> {
    ln: &'a Instance,
    source: Source,
    key: Option<String>,
    description: Option<String>,
    version: Option<String>,
    revises: Option<Artifact>,
    policy: DuplicatePolicy,
}

/// A file or folder ready to be registered: hashed, with its metadata.
struct Prepared {
    local: PathBuf,
    is_dir: bool,
    suffix: String,
    size: u64,
    hash: String,
    hash_type: String,
    n_objects: Option<i64>,
    n_observations: Option<i64>,
    accessor: Option<String>,
    /// The key under the storage root when the path already lies inside a registered local
    /// storage (registered in place, nothing copied).
    in_place: Option<(Storage, String)>,
    /// A folder's files, walked once: the very files that were hashed are uploaded.
    walk: Option<lamella_storage::FolderWalk>,
    _tmp: Option<tempfile::TempDir>,
}

/// Checks a user-given key: relative, no `..`, not under `.lamella/`.
pub fn check_key(key: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::Invalid(format!(
            "invalid key '{key}': {why}; use a relative path such as 'iris/study0.csv'"
        )))
    };
    if key.trim().is_empty() {
        return bad("it is empty");
    }
    if key.chars().any(char::is_control) {
        return bad("it contains control characters");
    }
    if key.starts_with('/') || key.contains('\\') || key.contains("://") {
        return bad("it must be relative, with '/' separators");
    }
    if key
        .split('/')
        .any(|p| p == ".." || p == "." || p.is_empty())
    {
        return bad("it must not contain '..', '.' or empty parts");
    }
    if key == LAMELLA_DIR || key.starts_with(".lamella/") {
        return bad("'.lamella/' is reserved for Lamella's own files");
    }
    Ok(())
}

/// The suffix of a file name (`.csv`, `.parquet`, `.tar.gz`, `` for none).
pub fn suffix_of(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    let parts: Vec<&str> = base.split('.').collect();
    if parts.len() < 2 || parts[0].is_empty() && parts.len() == 2 {
        return String::new();
    }
    let last = parts[parts.len() - 1];
    let compressed = ["gz", "bz2", "xz", "zst", "zip"];
    if parts.len() >= 3 && compressed.contains(&last) {
        return format!(".{}.{last}", parts[parts.len() - 2]);
    }
    format!(".{last}")
}

/// Where an artifact's object lives under its storage root.
pub fn object_key(a: &Artifact) -> String {
    if a.key_is_virtual {
        format!("{LAMELLA_DIR}/{}{}", a.uid, a.suffix)
    } else {
        a.key.clone().unwrap_or_default()
    }
}

fn failpoint(name: &str) -> Result<()> {
    match std::env::var("LAMELLA_FAILPOINT") {
        Ok(v) if v == name => Err(Error::Invalid(format!("failpoint '{name}' triggered"))),
        Ok(v) if v.strip_prefix("abort-") == Some(name) => std::process::abort(),
        _ => Ok(()),
    }
}

impl<'a> ArtifactDraft<'a> {
    /// Sets the key (a relative path that names the artifact; also what new versions share).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets a version label.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Makes this a new version of `previous`.
    pub fn revises(mut self, previous: &Artifact) -> Self {
        self.revises = Some(previous.clone());
        self
    }

    /// Chooses what happens when the same content is already registered.
    pub fn on_duplicate(mut self, policy: DuplicatePolicy) -> Self {
        self.policy = policy;
        self
    }

    fn prepare(&self) -> Result<Prepared> {
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
                    hash_type: h.hash_type.as_str().into(),
                    n_objects: None,
                    n_observations: Some(rows as i64),
                    accessor: Some("DataFrame".into()),
                    in_place: None,
                    walk: None,
                    _tmp: Some(tmp),
                })
            }
            Source::Path(p) => match p.to_str().filter(|s| s.contains("://")) {
                Some(url) => prepare_remote(self.ln, url),
                None => prepare_path(&LocalContext::of(self.ln)?, p),
            },
        }
    }

    /// Hashes, deduplicates, uploads and registers the artifact in one atomic step.
    pub fn save(self) -> Result<Saved<Artifact>> {
        if let Some(k) = &self.key {
            check_key(k)?;
        }

        let prepared = self.prepare()?;
        // A key comes from the user, or from the path of an object registered in place.
        if self.key.is_none()
            && self.description.is_none()
            && self.revises.is_none()
            && prepared.in_place.is_none()
        {
            return Err(Error::Invalid(
                "an artifact needs a key or a description (or revises=): e.g. \
                 .key(\"iris/study0.csv\") or .description(\"Iris study 0\")"
                    .into(),
            ));
        }
        let mut saved = save_prepared(self.ln, vec![(self, prepared)])?;
        saved
            .pop()
            .ok_or_else(|| Error::Invalid("nothing was saved".into()))
    }
}

/// What a local path is checked against before it is saved.
struct LocalContext {
    /// The registered local storages (where paths may be registered in place).
    storages: Vec<Storage>,
    /// Folders a saved folder must not contain, with what they are: every local storage root,
    /// the folder of a SQLite database kept elsewhere, the settings folder (its cache).
    protected: Vec<(PathBuf, String)>,
}

impl LocalContext {
    fn of(ln: &Instance) -> Result<LocalContext> {
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
        if let Ok(home) = crate::settings::home() {
            protected.push((home, "Lamella's settings and cache folder".into()));
        }
        for (p, _) in &mut protected {
            if let Ok(c) = p.canonicalize() {
                *p = c;
            }
        }
        Ok(LocalContext {
            storages,
            protected,
        })
    }

    /// Refuses a folder that contains Lamella's own files: saving it would copy the live
    /// database and every stored object, and the copy would grow with each repeat.
    fn check_folder(&self, abs: &Path) -> Result<()> {
        if let Some((inner, what)) = self.protected.iter().find(|(q, _)| q.starts_with(abs)) {
            return Err(Error::Invalid(format!(
                "cannot save the folder {}: it contains {what} ({}), so saving it would copy \
                 Lamella's own database and objects; save the data folders inside it instead",
                abs.display(),
                inner.display()
            )));
        }
        Ok(())
    }
}

fn prepare_path(ctx: &LocalContext, p: &Path) -> Result<Prepared> {
    let meta = std::fs::metadata(p).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Invalid(format!("{} does not exist: check the path", p.display()))
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
        let h = lamella_storage::hash_walk(&walk)?;
        Ok(Prepared {
            local: abs,
            is_dir: true,
            suffix: String::new(),
            size: h.size,
            hash: h.hash,
            hash_type: h.hash_type.as_str().into(),
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
            hash_type: h.hash_type.as_str().into(),
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
fn prepare_remote(ln: &Instance, url: &str) -> Result<Prepared> {
    let url = url.trim_end_matches('/');
    let storages: Vec<Storage> = ln.query::<Storage>().all()?;
    let Some((storage, key)) = storages.into_iter().find_map(|s| {
        let rest = url.strip_prefix(s.root.as_str())?.strip_prefix('/')?;
        (!rest.is_empty()).then(|| (s.clone(), rest.to_string()))
    }) else {
        return Err(Error::Invalid(format!(
            "{url} is not inside a registered storage: register its bucket or prefix with \
             `lamella storage add`, or download it and save the local copy"
        )));
    };
    if key == LAMELLA_DIR || key.starts_with(".lamella/") {
        return Err(Error::Invalid(format!(
            "{url} is inside Lamella's own folder .lamella/: register your own objects"
        )));
    }
    let store = ln.store_for(&storage)?;
    let no_etag = || {
        Error::Invalid(format!(
            "{url} has no usable ETag (e.g. encrypted with SSE-KMS): download it and save the \
             local copy"
        ))
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
                hash_type: h.hash_type.as_str().into(),
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
                return Err(Error::Invalid(format!(
                    "{url} does not exist: check the URL"
                )));
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
                hash_type: "md5-d".into(),
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
fn local_storages(ln: &Instance) -> Result<Vec<Storage>> {
    ln.query::<Storage>().filter("type", "local").all()
}

/// The storage and key of a local path that lies inside a registered local storage.
fn in_place_key(local_storages: &[Storage], abs: &Path) -> Result<Option<(Storage, String)>> {
    for s in local_storages {
        let root = Path::new(&s.root);
        if let Ok(rel) = abs.strip_prefix(root) {
            let key = rel.to_string_lossy().replace('\\', "/");
            if key.is_empty() {
                return Err(Error::Invalid(format!(
                    "{} is the storage root itself: register files or folders inside it",
                    abs.display()
                )));
            }
            if key == LAMELLA_DIR || key.starts_with(".lamella/") {
                return Err(Error::Invalid(format!(
                    "{} is inside Lamella's own folder .lamella/: register your own files",
                    abs.display()
                )));
            }
            return Ok(Some((s.clone(), key)));
        }
    }
    Ok(None)
}

/// One artifact to insert, with where its object comes from.
struct Plan {
    record: Artifact,
    prepared: Prepared,
    copy: bool,
    /// The uid of the artifact this one is a new version of.
    revises: Option<String>,
    /// Whether the content is deduplicated by hash (policy and size allow it).
    dedup: bool,
    policy: DuplicatePolicy,
    /// Uploaded objects: (staging key, path relative to the object's final place; "" for a
    /// file).
    staged: Vec<(String, String)>,
}

/// What committing one plan came to.
enum Outcome {
    /// A new row (and object).
    Saved(Artifact),
    /// The same content was registered meanwhile (by another writer or earlier in the batch).
    Existing(Artifact),
}

/// Saves prepared artifacts in four phases: [`dedup`] (one query), [`plan`] (records without
/// uids), [`stage`] (parallel uploads under `.lamella/.staging/`, invisible), then [`commit`]:
/// one write transaction that takes the locks, repeats the dedup check, allocates uids and
/// versions, retires older versions, inserts the rows and promotes the staged objects to their
/// final keys without ever replacing one. Anything that fails removes what this save uploaded
/// or promoted, and nothing else.
fn save_prepared(
    ln: &Instance,
    items: Vec<(ArtifactDraft<'_>, Prepared)>,
) -> Result<Vec<Saved<Artifact>>> {
    let existing = dedup(ln, &items)?;
    let (mut out, mut plans) = plan(ln, items, &existing)?;
    if plans.is_empty() {
        return Ok(out.into_iter().flatten().collect());
    }
    if plans.iter().any(|(_, p)| p.copy) {
        ln.require_managed(ln.storage())?;
    }
    let store = ln.default_store()?;
    stage(&store, &mut plans)?;
    let staged_keys = |plans: &[(usize, Plan)]| -> Vec<String> {
        plans
            .iter()
            .flat_map(|(_, p)| p.staged.iter().map(|(k, _)| k.clone()))
            .collect()
    };
    if let Err(e) = failpoint("after-upload") {
        remove_all(&store, &staged_keys(&plans));
        return Err(e);
    }
    let mut promoted: Vec<String> = Vec::new();
    let result = ln
        .db()
        .transaction(|conn| commit(conn, &store, &mut plans, &mut promoted));
    // Whatever was staged and not promoted (duplicates found under the lock, or a failure)
    // goes; on failure so do the objects this save promoted — no other save owns them,
    // since promotion never replaces an object.
    remove_all(&store, &staged_keys(&plans));
    let outcomes = match result {
        Ok(o) => o,
        Err(e) => {
            remove_all(&store, &promoted);
            prune_empty_dirs(&store);
            return Err(e);
        }
    };
    for ((i, plan), outcome) in plans.iter().zip(outcomes) {
        out[*i] = Some(match outcome {
            Outcome::Saved(r) => {
                tracing::info!(uid = %r.uid, "saved artifact");
                Saved {
                    record: r,
                    existed: false,
                    similar: Vec::new(),
                    notes: plan
                        .prepared
                        .walk
                        .as_ref()
                        .map(skipped_link_notes)
                        .unwrap_or_default(),
                }
            }
            Outcome::Existing(a) => existing_saved(&a, plan.policy)?,
        });
    }
    Ok(out.into_iter().flatten().collect())
}

/// Phase 1: one query for every hash that may already be registered (a fast path that saves
/// uploading known content; [`commit`] checks again under the lock).
fn dedup(ln: &Instance, items: &[(ArtifactDraft<'_>, Prepared)]) -> Result<Vec<Artifact>> {
    let hashes: Vec<String> = items
        .iter()
        .filter(|(d, p)| p.size > 0 && d.policy != DuplicatePolicy::CreateNew)
        .map(|(_, p)| p.hash.clone())
        .collect();
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    ln.db()
        .with_conn(|c| lamella_schema::load_where_in(c, "hash", &hashes))
        .map_err(Error::from)
}

/// The answer for content that is already registered, by policy.
fn existing_saved(a: &Artifact, policy: DuplicatePolicy) -> Result<Saved<Artifact>> {
    if policy == DuplicatePolicy::Error {
        return Err(Error::Duplicate {
            path: a.key.clone().or(a.description.clone()).unwrap_or_default(),
            uid: a.uid.clone(),
            hash: a.hash.clone().unwrap_or_default(),
        });
    }
    Ok(Saved {
        record: a.clone(),
        existed: true,
        similar: Vec::new(),
        notes: vec![format!(
            "returning existing artifact with same hash: {} ({})",
            a.uid,
            a.key.as_deref().or(a.description.as_deref()).unwrap_or("")
        )],
    })
}

type Planned = (Vec<Option<Saved<Artifact>>>, Vec<(usize, Plan)>);

/// Phase 2: a record (without uid) for every item that is not a known duplicate.
fn plan(
    ln: &Instance,
    items: Vec<(ArtifactDraft<'_>, Prepared)>,
    existing: &[Artifact],
) -> Result<Planned> {
    let t = now();
    let user = ln.user_id();
    let default_storage = ln.storage().clone();
    let mut out: Vec<Option<Saved<Artifact>>> = Vec::new();
    let mut plans: Vec<(usize, Plan)> = Vec::new();
    for (i, (draft, prepared)) in items.into_iter().enumerate() {
        crate::records::check_text("description", draft.description.as_deref())?;
        crate::records::check_text("version", draft.version.as_deref())?;
        let dedup = prepared.size > 0 && draft.policy != DuplicatePolicy::CreateNew;
        if let Some(a) = dedup
            .then(|| {
                existing
                    .iter()
                    .find(|a| a.hash.as_deref() == Some(prepared.hash.as_str()))
            })
            .flatten()
        {
            if draft.policy == DuplicatePolicy::Error {
                return Err(Error::Duplicate {
                    path: prepared.local.display().to_string(),
                    uid: a.uid.clone(),
                    hash: prepared.hash.clone(),
                });
            }
            out.push(Some(existing_saved(a, draft.policy)?));
            continue;
        }
        let (storage, key, key_is_virtual, copy) = match (&prepared.in_place, &draft.key) {
            (Some((s, k)), Some(given)) if given != k => {
                return Err(Error::Invalid(format!(
                    "{} is already inside storage {} at key '{k}': it is registered in place, so \
                     its key cannot be '{given}'; leave the key out or copy the file elsewhere \
                     first",
                    prepared.local.display(),
                    s.root
                )));
            }
            (Some((s, k)), _) => (s.clone(), Some(k.clone()), false, false),
            (None, k) => (default_storage.clone(), k.clone(), true, true),
        };
        if let Some(k) = &key
            && !prepared.is_dir
            && suffix_of(k) != prepared.suffix
        {
            return Err(Error::Invalid(format!(
                "the key '{k}' has suffix '{}' but the file has '{}': give a key ending in '{}'",
                suffix_of(k),
                prepared.suffix,
                prepared.suffix
            )));
        }
        out.push(None);
        plans.push((
            i,
            Plan {
                record: Artifact {
                    id: None,
                    uid: String::new(),
                    storage_id: require_id(&storage)?,
                    key,
                    suffix: prepared.suffix.clone(),
                    accessor: prepared.accessor.clone(),
                    description: draft.description.clone(),
                    size: Some(prepared.size as i64),
                    hash: Some(prepared.hash.clone()),
                    hash_type: Some(prepared.hash_type.clone()),
                    n_objects: prepared.n_objects,
                    n_observations: prepared.n_observations,
                    version: draft.version.clone(),
                    is_latest: true,
                    visibility: 1,
                    key_is_virtual,
                    transform_id: None,
                    run_id: None,
                    created_at: t,
                    updated_at: t,
                    created_by_id: user,
                },
                prepared,
                copy,
                revises: draft.revises.map(|r| r.uid),
                dedup,
                policy: draft.policy,
                staged: Vec::new(),
            },
        ));
    }
    Ok((out, plans))
}

/// Phase 3: uploads every copy under `.lamella/.staging/<token>…` in parallel. The staging
/// name does not depend on the uid (allocated later, under the lock), so racing saves never
/// share a key. On failure, everything this phase uploaded is removed.
fn stage(store: &Store, plans: &mut [(usize, Plan)]) -> Result<()> {
    use rayon::prelude::*;
    let results: Vec<Result<Vec<(String, String)>>> = plans
        .par_iter()
        .map(|(_, plan)| {
            if !plan.copy {
                return Ok(Vec::new());
            }
            upload_staging(store, plan)
        })
        .collect();
    let mut first_err = None;
    for ((_, plan), r) in plans.iter_mut().zip(results) {
        match r {
            Ok(staged) => plan.staged = staged,
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_err {
        let keys: Vec<String> = plans
            .iter()
            .flat_map(|(_, p)| p.staged.iter().map(|(k, _)| k.clone()))
            .collect();
        remove_all(store, &keys);
        return Err(e);
    }
    Ok(())
}

/// Uploads one plan's file or folder under staging; returns (staging key, relative path).
fn upload_staging(store: &Store, plan: &Plan) -> Result<Vec<(String, String)>> {
    let token = base62_uid(20);
    let mut staged = Vec::new();
    let result = (|| -> Result<()> {
        if let Some(walk) = &plan.prepared.walk {
            for f in &walk.files {
                let key = format!("{STAGING}/{token}/{}", f.rel);
                store.put_file(&key, &f.path)?;
                staged.push((key, f.rel.clone()));
            }
        } else {
            let key = format!("{STAGING}/{token}{}", plan.prepared.suffix);
            store.put_file(&key, &plan.prepared.local)?;
            staged.push((key, String::new()));
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(staged),
        Err(e) => {
            let keys: Vec<String> = staged.into_iter().map(|(k, _)| k).collect();
            remove_all(store, &keys);
            Err(e)
        }
    }
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

/// Best-effort removal of objects this save wrote.
fn remove_all(store: &Store, keys: &[String]) {
    for k in keys {
        if let Err(e) = store.delete(k) {
            tracing::warn!(key = %k, error = %e, "cannot remove an object of a failed save");
        }
    }
}

fn stem_of(uid: &str) -> &str {
    &uid[..STEM_LEN.min(uid.len())]
}

fn key_lock(storage_id: i64, key: &str) -> String {
    format!("artifact-key:{storage_id}:{key}")
}

fn family_lock(stem: &str) -> String {
    format!("artifact-family:{stem}")
}

/// Phase 4, inside one write transaction: locks, dedup again, uids and versions, rows,
/// promotion. Locks are taken in two rounds — content hashes and keys, then version
/// families — in sorted order, so two writers never wait for each other in a cycle.
fn commit(
    conn: &mut lamella_schema::Conn<'_>,
    store: &Store,
    plans: &mut [(usize, Plan)],
    promoted: &mut Vec<String>,
) -> Result<Vec<Outcome>> {
    let t = now();
    // The artifacts that `revises` names (their uid and key never change).
    let revised_uids: Vec<String> = plans
        .iter()
        .filter_map(|(_, p)| p.revises.clone())
        .collect();
    let revised: std::collections::HashMap<String, Artifact> =
        lamella_schema::load_where_in::<Artifact>(conn, "uid", &revised_uids)?
            .into_iter()
            .map(|a| (a.uid.clone(), a))
            .collect();
    for uid in &revised_uids {
        if !revised.contains_key(uid) {
            return Err(Error::NotFound {
                registry: "Artifact",
                what: format!("uid '{uid}' (given as revises)"),
            });
        }
    }
    for (_, p) in plans.iter_mut() {
        if let Some(prev) = p.revises.as_ref().and_then(|u| revised.get(u)) {
            // All versions of a family share one key.
            if p.record.key.is_some() && p.record.key != prev.key {
                return Err(Error::Invalid(format!(
                    "a new version of {} keeps its key {}: leave the key out, or give that key",
                    prev.uid,
                    prev.key
                        .as_deref()
                        .map_or("(none)".to_string(), |k| format!("'{k}'"))
                )));
            }
            if p.record.key.is_none() {
                p.record.key = prev.key.clone();
            }
            if p.record.description.is_none() {
                p.record.description = prev.description.clone();
            }
        }
    }
    // Round 1: content and keys.
    let mut names: Vec<String> = Vec::new();
    for (_, p) in plans.iter() {
        if p.dedup {
            names.push(format!("artifact-hash:{}", p.prepared.hash));
        }
        if let Some(k) = &p.record.key {
            names.push(key_lock(p.record.storage_id, k));
        }
    }
    conn.lock(&names)?;
    // Dedup again: another writer may have saved the same content meanwhile; within the
    // batch, the first of several equal contents is saved and the others return it.
    let hashes: Vec<String> = plans
        .iter()
        .filter(|(_, p)| p.dedup)
        .map(|(_, p)| p.prepared.hash.clone())
        .collect();
    let known: std::collections::HashMap<String, Artifact> =
        lamella_schema::load_where_in::<Artifact>(conn, "hash", &hashes)?
            .into_iter()
            .filter_map(|a| Some((a.hash.clone()?, a)))
            .collect();
    let mut first_of_hash: std::collections::HashMap<String, usize> = Default::default();
    let mut existing: Vec<Option<Outcome>> = Vec::with_capacity(plans.len());
    for (j, (_, p)) in plans.iter().enumerate() {
        if !p.dedup {
            existing.push(None);
            continue;
        }
        if let Some(a) = known.get(&p.prepared.hash) {
            if p.policy == DuplicatePolicy::Error {
                return Err(Error::Duplicate {
                    path: p.prepared.local.display().to_string(),
                    uid: a.uid.clone(),
                    hash: p.prepared.hash.clone(),
                });
            }
            existing.push(Some(Outcome::Existing(a.clone())));
        } else {
            first_of_hash.entry(p.prepared.hash.clone()).or_insert(j);
            existing.push(None);
        }
    }
    // The newest artifact of every key being saved to (one query; trash included, so a key
    // whose versions are all in the trash keeps its family).
    let keys: Vec<String> = plans
        .iter()
        .zip(&existing)
        .filter(|((_, p), e)| e.is_none() && p.revises.is_none())
        .filter_map(|((_, p), _)| p.record.key.clone())
        .collect();
    let mut by_key: std::collections::HashMap<(i64, String), Artifact> = Default::default();
    // The highest version number of each family seen among them: versions share their key,
    // so new versions of keyed families need no query of their own.
    let mut max_version: std::collections::HashMap<String, String> = Default::default();
    for a in lamella_schema::load_where_in::<Artifact>(conn, "key", &keys)? {
        let (stem, version) = a.uid.split_at(STEM_LEN.min(a.uid.len()));
        let top = max_version.entry(stem.to_string()).or_default();
        if version > top.as_str() {
            *top = version.to_string();
        }
        let Some(k) = a.key.clone() else { continue };
        let slot = by_key.entry((a.storage_id, k)).or_insert_with(|| a.clone());
        if (a.is_latest, a.id) > (slot.is_latest, slot.id) {
            *slot = a;
        }
    }
    // Round 2: the version families that get a new version.
    let mut previous: Vec<Option<String>> = Vec::with_capacity(plans.len());
    for ((_, p), e) in plans.iter().zip(&existing) {
        let prev = if e.is_some() || is_later_duplicate(p, &first_of_hash, previous.len()) {
            None
        } else if let Some(u) = &p.revises {
            Some(stem_of(u).to_string())
        } else {
            p.record
                .key
                .as_ref()
                .and_then(|k| by_key.get(&(p.record.storage_id, k.clone())))
                .map(|a| stem_of(&a.uid).to_string())
        };
        previous.push(prev);
    }
    let families: Vec<String> = previous.iter().flatten().map(|s| family_lock(s)).collect();
    conn.lock(&families)?;
    // Uids: a new stem, or the family's next version; older versions stop being latest
    // before the new row is inserted (the database allows one latest per family and key).
    let mut next_in_family: std::collections::HashMap<String, String> = Default::default();
    let mut new_rows: Vec<Artifact> = Vec::new();
    let mut new_index: Vec<usize> = Vec::new();
    for (j, (_, p)) in plans.iter_mut().enumerate() {
        if existing[j].is_some() || is_later_duplicate(p, &first_of_hash, j) {
            continue;
        }
        p.record.uid = match &previous[j] {
            Some(stem) => {
                let next = match next_in_family.get(stem) {
                    Some(last) => increment_base62(last),
                    None if p.revises.is_none() && max_version.contains_key(stem) => {
                        increment_base62(&max_version[stem])
                    }
                    None => {
                        let family: Vec<Artifact> = QuerySpec::new(&registry::ARTIFACT)
                            .include_trash(true)
                            .filter("uid__startswith", stem.as_str())
                            .load(conn)?;
                        let max = family
                            .iter()
                            .map(|a| a.uid[STEM_LEN.min(a.uid.len())..].to_string())
                            .max()
                            .unwrap_or_else(|| "0000".into());
                        increment_base62(&max)
                    }
                }
                .ok_or_else(|| {
                    Error::Invalid(format!("artifact {stem} has no version numbers left"))
                })?;
                next_in_family.insert(stem.clone(), next.clone());
                lamella_schema::set_latest(conn, &registry::ARTIFACT, stem, None, t)?;
                format!("{stem}{next}")
            }
            None => format!("{}0000", base62_uid(STEM_LEN)),
        };
        new_rows.push(p.record.clone());
        new_index.push(j);
    }
    Artifact::insert_all(conn, &mut new_rows)?;
    failpoint("before-promote")?;
    for (row, &j) in new_rows.iter().zip(&new_index) {
        let p = &plans[j].1;
        promote(store, p, &row.uid, promoted)?;
    }
    failpoint("after-promote")?;
    // Outcomes in plan order; later duplicates within the batch return the first's record.
    let mut saved: std::collections::HashMap<usize, Artifact> =
        new_index.iter().copied().zip(new_rows).collect();
    let mut outcomes = Vec::with_capacity(plans.len());
    for (j, (_, p)) in plans.iter().enumerate() {
        outcomes.push(match existing[j].take() {
            Some(o) => o,
            None => {
                match saved.remove(&j) {
                    Some(r) => Outcome::Saved(r),
                    None => {
                        let first = first_of_hash[&p.prepared.hash];
                        Outcome::Existing(outcomes_record(&outcomes, first).ok_or_else(|| {
                            Error::Invalid("a duplicate lost its original".into())
                        })?)
                    }
                }
            }
        });
    }
    Ok(outcomes)
}

/// Whether plan `j` repeats the content of an earlier plan of the same batch.
fn is_later_duplicate(
    p: &Plan,
    first_of_hash: &std::collections::HashMap<String, usize>,
    j: usize,
) -> bool {
    p.dedup
        && first_of_hash
            .get(&p.prepared.hash)
            .is_some_and(|&first| first != j)
}

fn outcomes_record(outcomes: &[Outcome], i: usize) -> Option<Artifact> {
    match outcomes.get(i)? {
        Outcome::Saved(a) | Outcome::Existing(a) => Some(a.clone()),
    }
}

/// Moves a plan's staged objects to `.lamella/<uid>…` without replacing anything. The uid was
/// just allocated under the lock and no row has it, so an object already there is a leftover
/// of a save that crashed after promoting: it is removed first (a folder's whole prefix, so no
/// stale file joins the new folder).
fn promote(store: &Store, p: &Plan, uid: &str, promoted: &mut Vec<String>) -> Result<()> {
    if p.prepared.is_dir {
        let prefix = format!("{LAMELLA_DIR}/{uid}");
        let stale = store.list(&prefix)?;
        if !stale.is_empty() {
            tracing::warn!(uid, n = stale.len(), "removing leftovers of a crashed save");
            for o in stale {
                store.delete(&o.key)?;
            }
        }
    }
    for (staging, rel) in &p.staged {
        let fin = if p.prepared.is_dir {
            format!("{LAMELLA_DIR}/{uid}/{rel}")
        } else {
            format!("{LAMELLA_DIR}/{uid}{}", p.prepared.suffix)
        };
        match store.rename_new(staging, &fin) {
            Ok(()) => {}
            Err(lamella_storage::Error::AlreadyExists { .. }) if !p.prepared.is_dir => {
                tracing::warn!(uid, key = %fin, "removing the leftover of a crashed save");
                store.delete(&fin)?;
                store.rename_new(staging, &fin)?;
            }
            Err(e) => return Err(e.into()),
        }
        promoted.push(fin);
    }
    Ok(())
}

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

/// The artifact registry of an instance: `ln.artifacts()`.
#[derive(Debug, Clone, Copy)]
pub struct Artifacts<'a> {
    ln: &'a Instance,
}

impl Instance {
    /// The artifact registry.
    pub fn artifacts(&self) -> Artifacts<'_> {
        Artifacts { ln: self }
    }
}

impl<'a> Artifacts<'a> {
    fn draft(&self, source: Source) -> ArtifactDraft<'a> {
        ArtifactDraft {
            ln: self.ln,
            source,
            key: None,
            description: None,
            version: None,
            revises: None,
            policy: DuplicatePolicy::default(),
        }
    }

    /// An artifact from a local file or folder (copied to the default storage, or registered
    /// in place when it already lies inside a registered local storage).
    pub fn from_path(&self, path: impl AsRef<Path>) -> ArtifactDraft<'a> {
        self.draft(Source::Path(path.as_ref().to_path_buf()))
    }

    /// An artifact from an Arrow table, stored as Parquet (`accessor = "DataFrame"`).
    pub fn from_table(&self, table: &RecordBatch) -> ArtifactDraft<'a> {
        self.draft(Source::Table(vec![table.clone()]))
    }

    /// An artifact from several batches of one table.
    pub fn from_batches(&self, batches: Vec<RecordBatch>) -> ArtifactDraft<'a> {
        self.draft(Source::Table(batches))
    }

    /// Registers many files as separate artifacts: hashed in parallel, saved in one
    /// transaction. Keys are `key_prefix/<file name>` when a prefix is given, else the
    /// description is the file name. See [`Artifacts::save_paths_with`] for more control.
    pub fn save_paths(
        &self,
        paths: &[PathBuf],
        key_prefix: Option<&str>,
    ) -> Result<Vec<Saved<Artifact>>> {
        self.save_paths_with(
            paths,
            &SaveMany {
                key_prefix: key_prefix.map(str::to_string),
                ..SaveMany::default()
            },
        )
    }

    /// Registers many files as separate artifacts with options: keys relative to a base
    /// folder, a duplicate policy, a progress callback. Files are hashed and uploaded in
    /// parallel; all rows are written in one transaction.
    pub fn save_paths_with(
        &self,
        paths: &[PathBuf],
        opts: &SaveMany<'_>,
    ) -> Result<Vec<Saved<Artifact>>> {
        use rayon::prelude::*;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let ctx = LocalContext::of(self.ln)?;
        let done = AtomicUsize::new(0);
        let total = paths.len();
        let prepared: Vec<Result<Prepared>> = paths
            .par_iter()
            .map(|p| {
                let r = prepare_path(&ctx, p);
                if let Some(f) = opts.progress {
                    f(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                }
                r
            })
            .collect();
        let base = match &opts.base_dir {
            Some(b) => Some(b.canonicalize().map_err(io_err(b))?),
            None => None,
        };
        let mut items = Vec::with_capacity(paths.len());
        let mut keys = std::collections::HashMap::new();
        for (p, prep) in paths.iter().zip(prepared) {
            let prep = prep?;
            let mut draft = self.from_path(p).on_duplicate(opts.policy);
            if prep.in_place.is_none() {
                // The path as given (a link inside the folder keeps its own name), else the
                // resolved one.
                let given = std::path::absolute(p).unwrap_or_else(|_| p.clone());
                let rel = match &base {
                    Some(b) => given
                        .strip_prefix(b)
                        .or_else(|_| prep.local.strip_prefix(b))
                        .map_err(|_| {
                            Error::Invalid(format!(
                                "{} is not inside the base folder {}",
                                p.display(),
                                b.display()
                            ))
                        })?
                        .to_string_lossy()
                        .replace('\\', "/"),
                    None => p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                };
                draft = match &opts.key_prefix {
                    Some(prefix) => {
                        let key = format!("{}/{rel}", prefix.trim_end_matches('/'));
                        check_key(&key)?;
                        if let Some(other) = keys.insert(key.clone(), p.clone()) {
                            return Err(Error::Invalid(format!(
                                "{} and {} would both get the key '{key}': give a base folder \
                                 so keys keep their subfolders (nothing was saved)",
                                other.display(),
                                p.display()
                            )));
                        }
                        draft.key(key)
                    }
                    None => draft.description(rel),
                };
            }
            items.push((draft, prep));
        }
        save_prepared(self.ln, items)
    }

    /// The files of a local folder as a folder save (and `save --each`) takes them: regular
    /// files at any depth, hidden ones included; a link to a file is followed, a link to a
    /// folder is not entered (listed in `skipped_links`), so links can never make a walk loop
    /// or wander off (LaminDB hashes folders the same way); a dangling link, a FIFO or a device
    /// is an error. A folder that contains Lamella's own storage or database is refused.
    pub fn folder_files(&self, dir: &Path) -> Result<FolderWalk> {
        let abs = dir.canonicalize().map_err(io_err(dir))?;
        LocalContext::of(self.ln)?.check_folder(&abs)?;
        Ok(lamella_storage::walk_folder(&abs)?)
    }

    /// A query on artifacts (the trash is hidden unless `include_trash`).
    pub fn query(&self) -> Query<'a, Artifact> {
        self.ln.query()
    }

    /// A query with one lookup, e.g. `filter("key__startswith", "iris/")`.
    pub fn filter(
        &self,
        lookup: &str,
        value: impl Into<lamella_schema::Value>,
    ) -> Query<'a, Artifact> {
        self.query().filter(lookup, value)
    }

    /// The artifact with this uid or uid prefix (trash included).
    pub fn get(&self, uid_or_prefix: &str) -> Result<Artifact> {
        if !lamella_schema::is_base62(uid_or_prefix) {
            return Err(Error::Invalid(format!(
                "'{uid_or_prefix}' is not an artifact uid (letters and digits only)"
            )));
        }
        match self
            .query()
            .include_trash()
            .filter("uid", uid_or_prefix)
            .one_or_none()?
        {
            Some(a) => Ok(a),
            None => self
                .query()
                .include_trash()
                .filter("uid__startswith", uid_or_prefix)
                .order_by("-uid")
                .one(),
        }
    }

    /// The latest artifact with this key.
    pub fn get_by_key(&self, key: &str) -> Result<Artifact> {
        self.query()
            .filter("key", key)
            .filter("is_latest", true)
            .one()
    }

    fn storage_of(&self, a: &Artifact) -> Result<Storage> {
        if Some(a.storage_id) == self.ln.storage().id {
            return Ok(self.ln.storage().clone());
        }
        self.ln.query::<Storage>().filter("id", a.storage_id).one()
    }

    /// A local path to the artifact's content: the file itself for local storage, a copy in
    /// the cache folder for cloud storage (re-used while its hash matches).
    pub fn cache(&self, a: &Artifact) -> Result<PathBuf> {
        let storage = self.storage_of(a)?;
        let store = self.ln.store_for(&storage)?;
        let key = object_key(a);
        if let Some(p) = store.local_path(&key) {
            if !p.exists() {
                return Err(Error::Invalid(format!(
                    "the object of artifact {} is missing at {}: run `lamella doctor`",
                    a.uid,
                    p.display()
                )));
            }
            return Ok(p);
        }
        let cache = crate::settings::home()?
            .join("cache")
            .join(&storage.uid)
            .join(&key);
        if a.suffix.is_empty() && a.n_objects.is_some() {
            // a folder: download every object under the prefix
            for obj in store.list(&key)? {
                let rel = obj
                    .key
                    .strip_prefix(&key)
                    .unwrap_or(&obj.key)
                    .trim_start_matches('/');
                let dest = cache.join(rel);
                if !dest.exists() {
                    if let Some(parent) = dest.parent() {
                        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
                    }
                    store.get_to_file(&obj.key, &dest)?;
                }
            }
            return Ok(cache);
        }
        if cache.is_file()
            && let Ok(h) = hash_file(&cache)
            && Some(h.hash.as_str()) == a.hash.as_deref()
        {
            return Ok(cache);
        }
        if let Some(parent) = cache.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        store.get_to_file(&key, &cache)?;
        Ok(cache)
    }

    /// The content: a table for Parquet and CSV, a local path otherwise.
    pub fn load(&self, a: &Artifact) -> Result<Loaded> {
        let path = self.cache(a)?;
        let batches = match a.suffix.to_ascii_lowercase().as_str() {
            ".parquet" => lamella_storage::read_parquet(&path)?,
            ".csv" => lamella_storage::read_csv(&path)?,
            _ => return Ok(Loaded::Path(path)),
        };
        let schema = match batches.first() {
            Some(b) => b.schema(),
            None => std::sync::Arc::new(arrow::datatypes::Schema::empty()),
        };
        Ok(Loaded::Table(arrow::compute::concat_batches(
            &schema, &batches,
        )?))
    }

    /// The first `n` rows of a table artifact (Parquet, CSV) with its row and column counts,
    /// reading only what those rows need (a Parquet file's footer and first pages).
    pub fn head(&self, a: &Artifact, n: usize) -> Result<lamella_storage::TableHead> {
        if !is_table_suffix(&a.suffix) {
            return Err(Error::Invalid(format!(
                "artifact {} ('{}') is not a table: load it as a file",
                a.uid, a.suffix
            )));
        }
        Ok(lamella_storage::read_table_head(&self.cache(a)?, n)?)
    }

    /// Writes the artifact's content to the new local path `dest`: a table whose `dest`
    /// names the other table format (`.parquet` ↔ `.csv`) is converted, streaming batch by
    /// batch (another suffix is refused); anything else is copied (a folder with its files). `dest` appears complete or
    /// not at all; an existing `dest` is refused.
    pub fn export(&self, a: &Artifact, dest: &Path) -> Result<()> {
        if std::fs::symlink_metadata(dest).is_ok() {
            return Err(Error::Invalid(format!(
                "{} already exists: choose another path or remove it first",
                dest.display()
            )));
        }
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let out_suffix = suffix_of(&dest.to_string_lossy()).to_ascii_lowercase();
        if is_table_suffix(&a.suffix) && out_suffix != a.suffix.to_ascii_lowercase() {
            if !is_table_suffix(&out_suffix) {
                return Err(Error::Invalid(format!(
                    "cannot write a table as '{out_suffix}': give a path ending in .parquet or \
                     .csv"
                )));
            }
            lamella_storage::convert_table(&self.cache(a)?, dest)?;
            return Ok(());
        }
        copy_atomically(&self.cache(a)?, dest)
    }

    /// Every version of the artifact's family (trash included), oldest first.
    pub fn versions(&self, a: &Artifact) -> Result<Vec<Artifact>> {
        let stem = &a.uid[..STEM_LEN.min(a.uid.len())];
        self.query()
            .include_trash()
            .filter("uid__startswith", stem)
            .order_by("uid")
            .all()
    }

    /// Moves the artifact to the trash (first call) or deletes it for good (`permanent`, or
    /// an artifact already in the trash): the row first, then the stored object (only objects
    /// Lamella copied; files registered in place are left where they are). Deleting the latest
    /// version promotes the previous one.
    pub fn delete(&self, a: &Artifact, permanent: bool) -> Result<()> {
        let id = require_id(a)?;
        let current = self.get(&a.uid)?;
        if !permanent && current.visibility != -1 {
            self.ln.db().transaction(|conn| -> Result<()> {
                let mut r = current.clone();
                r.visibility = -1;
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
        let cached = crate::settings::home()?
            .join("cache")
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
            r.visibility = 1;
            r.is_latest = false;
            r.updated_at = now();
            Artifact::update(conn, &r)?;
            relatest(conn, &r)
        })?;
        self.get(&a.uid)
    }

    /// The artifact's fields and provenance, laid out like LaminDB's `describe()`.
    pub fn describe(&self, a: &Artifact) -> Result<String> {
        let storage = self.storage_of(a)?;
        let user: Option<User> = self
            .ln
            .query::<User>()
            .filter("id", a.created_by_id)
            .one_or_none()?;
        let mut s = String::new();
        let q = |v: &Option<String>| v.as_ref().map(|x| format!("'{x}'"));
        let mut fields = vec![format!("uid='{}'", a.uid)];
        let opt = [
            ("key", q(&a.key)),
            ("suffix", Some(format!("'{}'", a.suffix))),
            ("accessor", q(&a.accessor)),
            ("description", q(&a.description)),
            ("version", q(&a.version)),
            ("size", a.size.map(|v| v.to_string())),
            ("hash", q(&a.hash)),
            ("hash_type", q(&a.hash_type)),
            ("n_objects", a.n_objects.map(|v| v.to_string())),
            ("n_observations", a.n_observations.map(|v| v.to_string())),
            ("is_latest", Some(py_bool(a.is_latest))),
            ("visibility", Some(a.visibility.to_string())),
            ("key_is_virtual", Some(py_bool(a.key_is_virtual))),
            (
                "created_at",
                Some(format!("{} UTC", a.created_at.format("%Y-%m-%d %H:%M:%S"))),
            ),
        ];
        for (k, v) in opt {
            if let Some(v) = v {
                fields.push(format!("{k}={v}"));
            }
        }
        s.push_str(&format!("Artifact({})\n\nProvenance:\n", fields.join(", ")));
        s.push_str(&format!(
            "  📎 storage: Storage(uid='{}', root='{}', type='{}')\n",
            storage.uid, storage.root, storage.kind
        ));
        if let Some(u) = user {
            s.push_str(&format!(
                "  📎 created_by: User(uid='{}', handle='{}')\n",
                u.uid, u.handle
            ));
        }
        Ok(s)
    }

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

/// Whether a suffix names a table Lamella reads (`.parquet`, `.csv`, any case).
fn is_table_suffix(suffix: &str) -> bool {
    matches!(suffix.to_ascii_lowercase().as_str(), ".parquet" | ".csv")
}

/// Copies a file or a folder to the new path `dest`, under a temporary name beside it that is
/// renamed at the end: `dest` never holds a partial copy. New files get the user's default
/// permissions, not the stored object's.
fn copy_atomically(src: &Path, dest: &Path) -> Result<()> {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".lamella-tmp-")
        .tempdir_in(&parent)
        .map_err(io_err(&parent))?;
    let staged = tmp.path().join("content");
    copy_tree(src, &staged)?;
    std::fs::rename(&staged, dest).map_err(io_err(dest))?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to).map_err(io_err(to))?;
        for entry in std::fs::read_dir(from).map_err(io_err(from))? {
            let entry = entry.map_err(io_err(from))?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        let mut src = std::fs::File::open(from).map_err(io_err(from))?;
        let mut dst = std::fs::File::create(to).map_err(io_err(to))?;
        std::io::copy(&mut src, &mut dst).map_err(io_err(to))?;
    }
    Ok(())
}

/// Removes empty folders under a local store's `.lamella/` (left by deleted folder artifacts
/// and cleaned staging uploads); object stores have no folders.
fn prune_empty_dirs(store: &Store) {
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

fn py_bool(b: bool) -> String {
    if b { "True".into() } else { "False".into() }
}

/// Marks the newest non-trashed version of `a`'s family as the latest, the others not (under
/// the key and family locks that saves take).
fn relatest(conn: &mut lamella_schema::Conn<'_>, a: &Artifact) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(check_key("iris/study0.csv").is_ok());
        for bad in [
            "",
            "/abs",
            "a/../b",
            ".lamella/x",
            ".lamella",
            "a//b",
            "s3://x",
            "a\\b",
        ] {
            let e = check_key(bad).unwrap_err();
            assert!(e.to_string().contains("invalid key"), "{bad}: {e}");
        }
    }

    #[test]
    fn suffixes() {
        assert_eq!(suffix_of("a.csv"), ".csv");
        assert_eq!(suffix_of("dir/a.tar.gz"), ".tar.gz");
        assert_eq!(suffix_of("a"), "");
        assert_eq!(suffix_of(".hidden"), "");
        assert_eq!(suffix_of("x.y.parquet"), ".parquet");
    }
}
