//! `import lamindb`: a LaminDB instance (0.x or 1.x/2.x, SQLite or PostgreSQL) brought into
//! this instance with its uids, hashes, versions, annotations and lineage.
//!
//! The source is only read (`lamella_schema::lamindb` opens it read-only; objects are read,
//! hard-linked or copied, never written). Registries come over in dependency order — users,
//! storages, transforms, runs, labels, features, feature sets, artifacts (with their objects,
//! in batches), links, collections, run inputs — each batch in one transaction with batched
//! statements. A record whose uid exists already is the same record when its hash matches
//! (skipped, so a second import changes nothing) and an error otherwise, found before anything
//! is written. Each object is checked against its recorded hash before its record is written;
//! an interrupted import leaves whole batches, and a rerun completes it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use lamella_schema::lamindb::{self, Layout, Pair, Source};
use lamella_schema::links::Owner;
use lamella_schema::{
    Artifact, Collection, Dtype, Edge, Feature, FeatureSet, HashType, Hierarchy, Run, Storage,
    StorageKind, Store, Transform, ULabel, User, Visibility,
};
use serde::Serialize;

use crate::Instance;
use crate::error::{Error, Result, io_err};
use crate::progress::{Meter, ProgressTask, ProgressUnit};

/// What to do with an artifact whose object is missing or differs from its recorded hash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnMissing {
    /// Leave the artifact out (it is reported, and counted as failed).
    #[default]
    Skip,
    /// Import its record without the object (`doctor` then reports it missing).
    Record,
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Read and plan only: nothing is written, no object is read.
    pub dry_run: bool,
    /// What to do with missing or changed objects.
    pub on_missing: OnMissing,
    /// Where the instance's objects are (a folder or `s3://…`), for a PostgreSQL source or
    /// to override the root found.
    pub storage: Option<String>,
}

/// Counts of one registry.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportCount {
    /// The registry (`ULabel`, `Artifact`, …) or link kind.
    pub registry: &'static str,
    /// Records written.
    pub imported: usize,
    /// Records found in this instance already (same uid and content).
    pub skipped: usize,
    /// Records left out (a missing object, an unsupported kind).
    pub failed: usize,
}

/// An object that is missing or differs from its recorded hash.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MissingObject {
    /// The artifact's uid.
    pub uid: String,
    /// Its key, if any.
    pub key: Option<String>,
    /// Where it was looked for.
    pub location: String,
    /// The recorded hash.
    pub expected: Option<String>,
    /// The hash found (`None`: the object is missing).
    pub found: Option<String>,
}

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// The source as given (a password removed).
    pub source: String,
    /// `lamindb 0.x (lnschema_core 0052_squashed)`, …
    pub layout: String,
    /// Where the source's objects were read from.
    pub root: String,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Counts per registry and link kind, in import order.
    pub registries: Vec<ImportCount>,
    /// Objects hard-linked into this instance's storage.
    pub linked: usize,
    /// Objects copied (or uploaded) through this process.
    pub copied: usize,
    /// Objects copied by the S3 server from the source's bucket (no bytes through this
    /// process).
    pub copied_on_server: usize,
    /// Bytes of the objects brought in.
    pub bytes: u64,
    /// Objects missing or changed.
    pub missing: Vec<MissingObject>,
    /// Everything else worth knowing (rebased roots, unsupported dtypes, merged users, …).
    pub notes: Vec<String>,
}

impl ImportReport {
    fn count(&mut self, registry: &'static str) -> &mut ImportCount {
        let i = match self.registries.iter().position(|c| c.registry == registry) {
            Some(i) => i,
            None => {
                self.registries.push(ImportCount {
                    registry,
                    ..Default::default()
                });
                self.registries.len() - 1
            }
        };
        &mut self.registries[i]
    }

    /// Whether nothing was written (everything existed already).
    pub fn nothing_new(&self) -> bool {
        self.registries.iter().all(|c| c.imported == 0)
    }
}

/// Artifacts read and written per batch (one transaction each).
const BATCH: i64 = 2_000;

/// Where the source is.
struct Located {
    source: Source,
    shown: String,
    /// The instance's root where it was found (a folder, or the `--storage` given).
    root: Option<String>,
}

fn source_err(message: String) -> Error {
    Error::Schema(lamella_schema::Error::Source(message))
}

/// Finds the LaminDB database of `source`: a storage root (`DIR/.lamindb/lamin.db`, or
/// 0.x's `DIR/<id>.lndb`), the database file itself, or a `postgresql://` URL.
fn locate(source: &str, storage: Option<&str>) -> Result<Located> {
    if source.starts_with("postgresql://") || source.starts_with("postgres://") {
        let root = storage.map(str::to_string).ok_or_else(|| {
            source_err(format!(
                "a LaminDB instance on PostgreSQL keeps its objects elsewhere: give its storage \
                 root too (a folder or s3://bucket/prefix) for {}",
                lamella_schema::redact(source)
            ))
        })?;
        return Ok(Located {
            source: Source::open_postgres(source)?,
            shown: lamella_schema::redact(source),
            root: Some(root),
        });
    }
    let path = Path::new(source);
    let (db, root) = if path.is_dir() {
        let modern = path.join(".lamindb").join("lamin.db");
        if modern.is_file() {
            (modern, path.to_path_buf())
        } else {
            let lndb: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(io_err(path))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "lndb") && p.is_file())
                .collect();
            match lndb.as_slice() {
                [one] => (one.clone(), path.to_path_buf()),
                [] => {
                    return Err(source_err(format!(
                        "{source} holds no LaminDB database: expected {source}/.lamindb/lamin.db \
                         (lamindb ≥ 0.73) or {source}/<instance id>.lndb (lamindb 0.x) — give the \
                         instance's storage root"
                    )));
                }
                many => {
                    return Err(source_err(format!(
                        "{source} holds {} .lndb databases: give the one to import",
                        many.len()
                    )));
                }
            }
        }
    } else if path.is_file() {
        let parent = path.parent().unwrap_or(Path::new("."));
        let root = if parent.file_name().is_some_and(|n| n == ".lamindb") {
            parent.parent().unwrap_or(Path::new(".")).to_path_buf()
        } else {
            parent.to_path_buf()
        };
        (path.to_path_buf(), root)
    } else {
        return Err(source_err(format!(
            "{source} does not exist: give a LaminDB storage root, its lamin.db, or a \
             postgresql:// URL"
        )));
    };
    let root = match storage {
        Some(s) => s.to_string(),
        None => std::fs::canonicalize(&root)
            .map_err(io_err(&root))?
            .display()
            .to_string(),
    };
    Ok(Located {
        source: Source::open_sqlite(&db)?,
        shown: source.to_string(),
        root: Some(root),
    })
}

/// A LaminDB timestamp, or now when it cannot be read.
fn ts(s: &str) -> NaiveDateTime {
    lamindb::timestamp(s).unwrap_or_else(lamella_schema::now)
}

/// LaminDB's path of an artifact's object under its storage root.
fn source_key(a: &lamindb::Artifact) -> String {
    let suffix = a.suffix.clone().unwrap_or_default();
    match (&a.key, a.key_is_virtual) {
        (Some(k), 0) => a.real_key.clone().unwrap_or_else(|| k.clone()),
        _ => {
            let uid = if a.overwrite_versions == 1 && a.uid.len() > 16 {
                &a.uid[..16]
            } else {
                a.uid.as_str()
            };
            format!(".lamindb/{uid}{suffix}")
        }
    }
}

/// LaminDB's dtype in Lamella's grammar; `None` with a note when there is no counterpart.
fn map_dtype(
    name: &str,
    dtype: Option<&str>,
    type_names: &HashMap<String, String>,
    notes: &mut Vec<String>,
) -> Dtype {
    let raw = dtype.unwrap_or("str").trim();
    let mapped = match raw {
        "number" => "num".to_string(),
        "datetime64[ns]" | "datetime64[ns, UTC]" => "datetime".to_string(),
        "dict" | "path" | "url" | "object" => {
            notes.push(format!(
                "feature '{name}': dtype {raw} has no counterpart here; imported as str"
            ));
            "str".to_string()
        }
        other => {
            // cat[ULabel[<type uid or name>]]: 2.x writes the type's uid
            let mut s = other.to_string();
            for (uid, type_name) in type_names {
                s = s.replace(&format!("ULabel[{uid}]"), &format!("ULabel[{type_name}]"));
            }
            s
        }
    };
    if mapped.contains("bionty.")
        || mapped.contains("cat[Record")
        || mapped.contains("cat[Artifact")
    {
        notes.push(format!(
            "feature '{name}': dtype {raw} names a registry Lamella does not have (unsupported \
             registry); imported as cat"
        ));
        return "cat".parse().unwrap_or(Dtype::Str);
    }
    match mapped.parse::<Dtype>() {
        Ok(d) => d,
        Err(e) => {
            notes.push(format!(
                "feature '{name}': dtype {raw} is not understood ({e}); imported as str"
            ));
            Dtype::Str
        }
    }
}

/// Lamella's visibility of a LaminDB visibility or branch id.
fn visibility(code: i64, what: &str, notes: &mut Vec<String>) -> Visibility {
    match code {
        1 => Visibility::Default,
        0 => Visibility::Hidden,
        -1 => Visibility::Trash,
        other => {
            notes.push(format!(
                "{what} is on LaminDB branch {other}; imported into the main branch"
            ));
            Visibility::Default
        }
    }
}

/// The latest of each version family (by uid stem): the newest by id.
fn latest_of(families: impl Iterator<Item = (String, i64)>) -> HashSet<i64> {
    let mut newest: HashMap<String, i64> = HashMap::new();
    for (stem, id) in families {
        let e = newest.entry(stem).or_insert(id);
        *e = (*e).max(id);
    }
    newest.into_values().collect()
}

/// Source ids to target ids, per registry.
#[derive(Default)]
struct Ids {
    users: HashMap<i64, i64>,
    transforms: HashMap<i64, i64>,
    runs: HashMap<i64, i64>,
    ulabels: HashMap<i64, i64>,
    features: HashMap<i64, i64>,
    sets: HashMap<i64, i64>,
    artifacts: HashMap<i64, i64>,
    collections: HashMap<i64, i64>,
}

impl Ids {
    fn user(&self, id: i64, fallback: i64) -> i64 {
        self.users.get(&id).copied().unwrap_or(fallback)
    }
}

impl Instance {
    /// Imports the LaminDB instance at `source` (a storage root, its `lamin.db` / `.lndb`, or
    /// a `postgresql://` URL with [`ImportOptions::storage`]) into this instance.
    pub fn import_lamindb(&self, source: &str, options: &ImportOptions) -> Result<ImportReport> {
        let Located {
            mut source,
            shown,
            root,
        } = locate(source, options.storage.as_deref())?;
        let root = root.unwrap_or_default();
        let mut report = ImportReport {
            source: shown,
            layout: source.layout().describe(),
            root: root.clone(),
            dry_run: options.dry_run,
            ..Default::default()
        };
        tracing::info!(layout = %report.layout, root = %root, "importing a LaminDB instance");
        // clashes stop the import before anything is written
        let latest = self.check_artifact_conflicts(&mut source)?;
        let mut ids = Ids::default();
        self.import_users(&mut source, &mut ids, &mut report)?;
        self.import_storages(&mut source, &root, &ids, &mut report)?;
        self.import_transforms(&mut source, &mut ids, &mut report)?;
        self.import_runs(&mut source, &mut ids, &mut report)?;
        let type_names = self.import_ulabels(&mut source, &mut ids, &mut report)?;
        self.import_features(&mut source, &mut ids, &type_names, &mut report)?;
        self.import_feature_sets(&mut source, &mut ids, &mut report)?;
        let t = std::time::Instant::now();
        self.import_artifacts(&mut source, &root, options, &latest, &mut ids, &mut report)?;
        tracing::info!(elapsed = ?t.elapsed(), "imported the artifacts");
        crate::failpoint::failpoint("import-after-artifacts")?;
        let t = std::time::Instant::now();
        self.import_links(&mut source, &ids, &mut report)?;
        tracing::info!(elapsed = ?t.elapsed(), "imported the links");
        self.import_collections(&mut source, &mut ids, &mut report)?;
        self.import_run_inputs(&mut source, &ids, &mut report)?;
        if report.nothing_new() && !options.dry_run {
            report.notes.push(
                "everything was here already: this instance was imported before, nothing changed"
                    .into(),
            );
        }
        Ok(report)
    }

    /// Existing records of `T` by uid.
    fn existing<T: lamella_schema::Record>(&self, uids: &[String]) -> Result<HashMap<String, T>> {
        Ok(self
            .existing_where::<T>("uid", uids.to_vec())?
            .into_iter()
            .map(|r| (r.uid().to_string(), r))
            .collect())
    }

    /// Existing records of `T` by name.
    fn existing_by_name<T: lamella_schema::Record + crate::registry::Named>(
        &self,
        names: impl Iterator<Item = String>,
    ) -> Result<HashMap<String, T>> {
        Ok(self
            .existing_where::<T>("name", names.collect())?
            .into_iter()
            .map(|r| (r.name_str().to_string(), r))
            .collect())
    }

    /// Records of `T` whose `column` is one of `values`, in statements of 5,000 values.
    fn existing_where<T: lamella_schema::Record>(
        &self,
        column: &str,
        mut values: Vec<String>,
    ) -> Result<Vec<T>> {
        values.sort();
        values.dedup();
        self.db().with_conn(|conn| {
            let mut all = Vec::new();
            for chunk in values.chunks(5_000) {
                all.extend(lamella_schema::load_where_in::<T, _>(conn, column, chunk)?);
            }
            Ok::<_, Error>(all)
        })
    }

    fn import_users(
        &self,
        src: &mut Source,
        ids: &mut Ids,
        report: &mut ImportReport,
    ) -> Result<()> {
        let users = src.users()?;
        let uids: Vec<String> = users.iter().map(|u| u.uid.clone()).collect();
        let by_uid = self.existing::<User>(&uids)?;
        let handles: Vec<String> = users.iter().map(|u| u.handle.clone()).collect();
        let by_handle: HashMap<String, User> = self
            .db()
            .with_conn(|conn| lamella_schema::load_where_in::<User, _>(conn, "handle", &handles))?
            .into_iter()
            .map(|u| (u.handle.clone(), u))
            .collect();
        let mut new = Vec::new();
        let mut new_src = Vec::new();
        for u in &users {
            if let Some(t) = by_uid.get(&u.uid) {
                ids.users.insert(u.id, t.id.unwrap_or_default());
                report.count("User").skipped += 1;
            } else if let Some(t) = by_handle.get(&u.handle) {
                ids.users.insert(u.id, t.id.unwrap_or_default());
                report.count("User").skipped += 1;
                report.notes.push(format!(
                    "user '{}' ({}) is this instance's user '{}' ({}): records keep it as creator",
                    u.handle, u.uid, t.handle, t.uid
                ));
            } else {
                new.push(User {
                    id: None,
                    uid: u.uid.clone(),
                    handle: u.handle.clone(),
                    name: u.name.clone(),
                    created_at: ts(&u.created_at),
                    updated_at: ts(&u.updated_at),
                });
                new_src.push(u.id);
            }
        }
        if !new.is_empty() && !report.dry_run {
            self.db()
                .transaction(|conn| User::insert_all(conn, &mut new).map_err(Error::from))?;
        }
        for (u, s) in new.iter().zip(new_src) {
            ids.users.insert(s, u.id.unwrap_or(-1));
        }
        report.count("User").imported += new.len();
        Ok(())
    }

    fn import_storages(
        &self,
        src: &mut Source,
        root: &str,
        ids: &Ids,
        report: &mut ImportReport,
    ) -> Result<()> {
        let storages = src.storages()?;
        let local: Vec<&lamindb::Storage> = storages
            .iter()
            .filter(|s| StorageKind::of_root(&s.root) == StorageKind::Local)
            .collect();
        let uids: Vec<String> = storages.iter().map(|s| s.uid.clone()).collect();
        let by_uid = self.existing::<Storage>(&uids)?;
        let roots: Vec<String> = self
            .db()
            .with_conn(|conn| lamella_schema::load_where_in::<Storage, _>(conn, "uid", &uids))?
            .into_iter()
            .map(|s| s.root)
            .collect();
        let me = self.user_id();
        let mut new = Vec::new();
        for s in &storages {
            if by_uid.contains_key(&s.uid) {
                report.count("Storage").skipped += 1;
                continue;
            }
            let rebased = if local.len() == 1 && StorageKind::of_root(&s.root) == StorageKind::Local
            {
                if s.root != root {
                    report.notes.push(format!(
                        "storage {}: root {} rebased to {root}",
                        s.uid, s.root
                    ));
                }
                root.to_string()
            } else {
                s.root.clone()
            };
            if roots.contains(&rebased) || rebased == self.storage()?.root {
                report.count("Storage").skipped += 1;
                continue;
            }
            let t = ts(&s.created_at);
            new.push(Storage {
                id: None,
                uid: s.uid.clone(),
                root: rebased.clone(),
                kind: StorageKind::of_root(&rebased),
                region: s.region.clone(),
                description: s.description.clone(),
                created_at: t,
                updated_at: t,
                created_by_id: ids.user(s.created_by_id, me),
                run_id: None,
                instance_uid: s.instance_uid.clone(),
            });
        }
        if !new.is_empty() && !report.dry_run {
            self.db()
                .transaction(|conn| Storage::insert_all(conn, &mut new).map_err(Error::from))?;
        }
        report.count("Storage").imported += new.len();
        Ok(())
    }

    fn import_transforms(
        &self,
        src: &mut Source,
        ids: &mut Ids,
        report: &mut ImportReport,
    ) -> Result<()> {
        let transforms = src.transforms()?;
        let core = matches!(src.layout(), Layout::Core { .. });
        let me = self.user_id();
        // 0.x transform uids are 12-character stems: LaminDB's own migration appended "0000"
        let uid_of = |t: &lamindb::Transform| -> String {
            if t.uid.len() == 12 {
                format!("{}0000", t.uid)
            } else {
                t.uid.clone()
            }
        };
        let latest = latest_of(
            transforms
                .iter()
                .map(|t| (uid_of(t).chars().take(12).collect(), t.id)),
        );
        let uids: Vec<String> = transforms.iter().map(uid_of).collect();
        let by_uid = self.existing::<Transform>(&uids)?;
        let mut new = Vec::new();
        let mut new_src = Vec::new();
        let mut widened = 0;
        for t in &transforms {
            let uid = uid_of(t);
            if let Some(found) = by_uid.get(&uid) {
                ids.transforms.insert(t.id, found.id.unwrap_or_default());
                report.count("Transform").skipped += 1;
                continue;
            }
            if uid != t.uid {
                widened += 1;
            }
            let name = t
                .name
                .clone()
                .or_else(|| t.key.clone())
                .unwrap_or_else(|| uid.clone());
            let mut kind = t.kind.clone().unwrap_or_else(|| "pipeline".into());
            if !lamella_schema::TRANSFORM_KINDS.contains(&kind.as_str()) {
                report.notes.push(format!(
                    "transform '{name}': LaminDB kind '{kind}' imported as pipeline"
                ));
                kind = "pipeline".into();
            }
            new.push(Transform {
                id: None,
                uid,
                name,
                key: t.key.clone(),
                description: t.description.clone(),
                kind,
                version: t.version.clone(),
                is_latest: if core || t.is_latest < 0 {
                    latest.contains(&t.id)
                } else {
                    t.is_latest == 1
                },
                reference: t.reference.clone(),
                reference_type: t.reference_type.clone(),
                created_at: ts(&t.created_at),
                updated_at: ts(&t.updated_at),
                created_by_id: ids.user(t.created_by_id, me),
            });
            new_src.push(t.id);
        }
        if widened > 0 {
            report.notes.push(format!(
                "{widened} transform uid(s) of 12 characters got the version suffix 0000, as \
                 LaminDB's own migration gave them"
            ));
        }
        let parents = src.transform_parents()?;
        if !report.dry_run {
            self.db().transaction(|conn| {
                Transform::insert_all(conn, &mut new)?;
                for (t, s) in new.iter().zip(&new_src) {
                    ids.transforms.insert(*s, t.id.unwrap_or_default());
                }
                let edges = edges(&parents, &ids.transforms);
                lamella_schema::insert_edges(conn, Hierarchy::Transform, &edges)?;
                Ok::<_, Error>(())
            })?;
        } else {
            // a dry run stands in for the ids the records would get
            ids.transforms.extend(new_src.iter().map(|s| (*s, -s)));
        }
        report.count("Transform").imported += new.len();
        Ok(())
    }

    fn import_runs(
        &self,
        src: &mut Source,
        ids: &mut Ids,
        report: &mut ImportReport,
    ) -> Result<()> {
        let runs = src.runs()?;
        let uids: Vec<String> = runs.iter().map(|r| r.uid.clone()).collect();
        let by_uid = self.existing::<Run>(&uids)?;
        let me = self.user_id();
        let mut new = Vec::new();
        let mut new_src = Vec::new();
        for r in &runs {
            if let Some(found) = by_uid.get(&r.uid) {
                ids.runs.insert(r.id, found.id.unwrap_or_default());
                report.count("Run").skipped += 1;
                continue;
            }
            let Some(&transform_id) = ids.transforms.get(&r.transform_id) else {
                report.count("Run").failed += 1;
                report
                    .notes
                    .push(format!("run {}: its transform is missing; left out", r.uid));
                continue;
            };
            new.push(Run {
                id: None,
                uid: r.uid.clone(),
                transform_id,
                started_at: ts(&r.started_at),
                finished_at: r.finished_at.as_deref().and_then(lamindb::timestamp),
                is_consecutive: r.is_consecutive.map(|b| b == 1),
                reference: r.reference.clone(),
                reference_type: r.reference_type.clone(),
                created_at: ts(&r.created_at),
                created_by_id: ids.user(r.created_by_id, me),
                environment: None,
            });
            new_src.push(r.id);
        }
        if !new.is_empty() && !report.dry_run {
            self.db()
                .transaction(|conn| Run::insert_all(conn, &mut new).map_err(Error::from))?;
        }
        for (r, s) in new.iter().zip(new_src) {
            ids.runs.insert(s, r.id.unwrap_or(-s));
        }
        report.count("Run").imported += new.len();
        Ok(())
    }

    /// Labels, their parents, and 2.x types (a type becomes the parent of its members).
    /// Returns the types' names by uid (for `cat[ULabel[<uid>]]` dtypes).
    fn import_ulabels(
        &self,
        src: &mut Source,
        ids: &mut Ids,
        report: &mut ImportReport,
    ) -> Result<HashMap<String, String>> {
        let labels = src.ulabels()?;
        let type_names: HashMap<String, String> = labels
            .iter()
            .filter(|l| l.is_type == 1)
            .map(|l| (l.uid.clone(), l.name.clone()))
            .collect();
        let uids: Vec<String> = labels.iter().map(|l| l.uid.clone()).collect();
        let by_uid = self.existing::<ULabel>(&uids)?;
        let by_name = self.existing_by_name::<ULabel>(labels.iter().map(|l| l.name.clone()))?;
        let me = self.user_id();
        let mut new = Vec::new();
        let mut new_src = Vec::new();
        // names are unique here: a second LaminDB label of a name (2.x allows it) and a label
        // this instance has by name are one label
        let mut first_of: HashMap<String, i64> = HashMap::new();
        let mut same_name: Vec<(i64, String)> = Vec::new();
        let mut merged = Vec::new();
        for l in &labels {
            if let Some(found) = by_uid.get(&l.uid) {
                ids.ulabels.insert(l.id, found.id.unwrap_or_default());
                report.count("ULabel").skipped += 1;
                continue;
            }
            if let Some(found) = by_name.get(&l.name) {
                ids.ulabels.insert(l.id, found.id.unwrap_or_default());
                report.count("ULabel").skipped += 1;
                merged.push(format!("'{}' ({} → {})", l.name, l.uid, found.uid));
                continue;
            }
            if first_of.contains_key(&l.name) {
                same_name.push((l.id, l.name.clone()));
                continue;
            }
            first_of.insert(l.name.clone(), l.id);
            new.push(ULabel {
                id: None,
                uid: l.uid.clone(),
                name: l.name.clone(),
                description: l.description.clone(),
                reference: l.reference.clone(),
                reference_type: l.reference_type.clone(),
                created_at: ts(&l.created_at),
                updated_at: ts(&l.updated_at),
                created_by_id: ids.user(l.created_by_id, me),
                run_id: None,
                synonyms: None,
            });
            new_src.push(l.id);
        }
        if !merged.is_empty() {
            report.notes.push(format!(
                "{} label(s) have a name this instance's labels have: their links use those \
                 ({}{})",
                merged.len(),
                merged
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if merged.len() > 10 { ", …" } else { "" }
            ));
        }
        if !same_name.is_empty() {
            report.notes.push(format!(
                "{} LaminDB label(s) share a name with another LaminDB label (2.x allows it, \
                 names are unique here): each is imported as the first of its name",
                same_name.len()
            ));
        }
        let mut pairs = src.ulabel_parents()?;
        // a 2.x type is the parent of its members
        pairs.extend(
            labels
                .iter()
                .filter_map(|l| l.type_id.map(|t| Pair { a: l.id, b: t })),
        );
        if !report.dry_run {
            self.db().transaction(|conn| {
                conn.lock(&[crate::registry::names_lock_of::<ULabel>()])?;
                ULabel::insert_all(conn, &mut new)?;
                crate::registry::index_inserted(conn, &new)?;
                for (l, s) in new.iter().zip(&new_src) {
                    ids.ulabels.insert(*s, l.id.unwrap_or_default());
                }
                for (src_id, name) in &same_name {
                    if let Some(first) = first_of.get(name).and_then(|f| ids.ulabels.get(f)) {
                        ids.ulabels.insert(*src_id, *first);
                    }
                }
                lamella_schema::insert_edges(
                    conn,
                    Hierarchy::ULabel,
                    &edges(&pairs, &ids.ulabels),
                )?;
                Ok::<_, Error>(())
            })?;
        } else {
            ids.ulabels.extend(new_src.iter().map(|s| (*s, -s)));
            ids.ulabels.extend(same_name.iter().map(|(s, _)| (*s, -s)));
        }
        report.count("ULabel").imported += new.len();
        Ok(type_names)
    }

    fn import_features(
        &self,
        src: &mut Source,
        ids: &mut Ids,
        type_names: &HashMap<String, String>,
        report: &mut ImportReport,
    ) -> Result<()> {
        let features = src.features()?;
        let uids: Vec<String> = features.iter().map(|f| f.uid.clone()).collect();
        let by_uid = self.existing::<Feature>(&uids)?;
        let by_name = self.existing_by_name::<Feature>(features.iter().map(|f| f.name.clone()))?;
        let me = self.user_id();
        let mut new = Vec::new();
        let mut new_src = Vec::new();
        let mut first_of: HashMap<String, i64> = HashMap::new();
        let mut same_name: Vec<(i64, String)> = Vec::new();
        for f in &features {
            if let Some(found) = by_uid.get(&f.uid) {
                ids.features.insert(f.id, found.id.unwrap_or_default());
                report.count("Feature").skipped += 1;
                continue;
            }
            let dtype = map_dtype(&f.name, f.dtype.as_deref(), type_names, &mut report.notes);
            if let Some(found) = by_name.get(&f.name) {
                ids.features.insert(f.id, found.id.unwrap_or_default());
                report.count("Feature").skipped += 1;
                report.notes.push(format!(
                    "feature '{}' ({}) is this instance's feature of that name ({}, {}){}",
                    f.name,
                    f.uid,
                    found.uid,
                    found.dtype,
                    if found.dtype == dtype {
                        String::new()
                    } else {
                        format!(": LaminDB's dtype was {dtype}")
                    }
                ));
                continue;
            }
            if first_of.contains_key(&f.name) {
                same_name.push((f.id, f.name.clone()));
                continue;
            }
            first_of.insert(f.name.clone(), f.id);
            new.push(Feature {
                id: None,
                uid: f.uid.clone(),
                name: f.name.clone(),
                dtype,
                unit: f.unit.clone(),
                description: f.description.clone(),
                synonyms: f.synonyms.clone().filter(|s| !s.is_empty()),
                created_at: ts(&f.created_at),
                updated_at: ts(&f.updated_at),
                created_by_id: ids.user(f.created_by_id, me),
                run_id: None,
                min_value: None,
                max_value: None,
                pattern: None,
                nullable: f.nullable.is_none_or(|n| n == 1),
            });
            new_src.push(f.id);
        }
        if !report.dry_run {
            self.db().transaction(|conn| {
                conn.lock(&[crate::registry::names_lock_of::<Feature>()])?;
                Feature::insert_all(conn, &mut new)?;
                crate::registry::index_inserted(conn, &new)?;
                Ok::<_, Error>(())
            })?;
        }
        for (f, s) in new.iter().zip(new_src) {
            ids.features.insert(s, f.id.unwrap_or(-s));
        }
        for (src_id, name) in &same_name {
            if let Some(first) = first_of
                .get(name)
                .and_then(|f| ids.features.get(f))
                .copied()
            {
                ids.features.insert(*src_id, first);
            }
        }
        if !same_name.is_empty() {
            report.notes.push(format!(
                "{} LaminDB feature(s) share a name with another (names are unique here): each \
                 is imported as the first of its name",
                same_name.len()
            ));
        }
        report.count("Feature").imported += new.len();
        Ok(())
    }

    fn import_feature_sets(
        &self,
        src: &mut Source,
        ids: &mut Ids,
        report: &mut ImportReport,
    ) -> Result<()> {
        let sets = src.feature_sets()?;
        let members = src.feature_set_members()?;
        let mut of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for m in &members {
            if let Some(f) = ids.features.get(&m.b) {
                of.entry(m.a).or_default().push(*f);
            }
        }
        let uids: Vec<String> = sets.iter().map(|s| s.uid.clone()).collect();
        let by_uid = self.existing::<FeatureSet>(&uids)?;
        let hashes: Vec<String> = sets.iter().filter_map(|s| s.hash.clone()).collect();
        let by_hash: HashMap<String, FeatureSet> = self
            .db()
            .with_conn(|conn| {
                lamella_schema::load_where_in::<FeatureSet, _>(conn, "hash", &hashes)
            })?
            .into_iter()
            .map(|s| (s.hash.clone(), s))
            .collect();
        let me = self.user_id();
        let mut new = Vec::new();
        let mut new_src = Vec::new();
        for s in &sets {
            if let Some(found) = by_uid.get(&s.uid) {
                ids.sets.insert(s.id, found.id.unwrap_or_default());
                report.count("FeatureSet").skipped += 1;
                continue;
            }
            let registry = s.registry.clone().unwrap_or_else(|| "Feature".into());
            if registry != "Feature" {
                report.count("FeatureSet").failed += 1;
                report.notes.push(format!(
                    "feature set {}: its members are {registry} records (unsupported registry); \
                     left out",
                    s.uid
                ));
                continue;
            }
            let hash = s.hash.clone().unwrap_or_default();
            if let Some(found) = by_hash.get(&hash) {
                ids.sets.insert(s.id, found.id.unwrap_or_default());
                report.count("FeatureSet").skipped += 1;
                report.notes.push(format!(
                    "feature set {} has the members of {} here: links use that one",
                    s.uid, found.uid
                ));
                continue;
            }
            let n = of.get(&s.id).map(Vec::len).unwrap_or(0);
            let t = ts(&s.created_at);
            new.push(FeatureSet {
                id: None,
                uid: s.uid.clone(),
                name: s.name.clone(),
                n: i32::try_from(n).unwrap_or(i32::MAX),
                dtype: s.dtype.as_deref().and_then(|d| d.parse().ok()),
                registry,
                hash,
                created_at: t,
                updated_at: t,
                created_by_id: ids.user(s.created_by_id, me),
                run_id: None,
            });
            new_src.push(s.id);
        }
        if !report.dry_run {
            self.db().transaction(|conn| {
                FeatureSet::insert_all(conn, &mut new)?;
                for (set, s) in new.iter().zip(&new_src) {
                    let id = set.id.unwrap_or_default();
                    ids.sets.insert(*s, id);
                    let mut m = of.get(s).cloned().unwrap_or_default();
                    let mut seen = HashSet::new();
                    m.retain(|f| seen.insert(*f));
                    lamella_schema::insert_feature_set_members(conn, id, &m)?;
                }
                Ok::<_, Error>(())
            })?;
        } else {
            ids.sets.extend(new_src.iter().map(|s| (*s, -s)));
        }
        report.count("FeatureSet").imported += new.len();
        Ok(())
    }

    /// Refuses, before anything is written, artifacts and collections whose uid exists here
    /// with other content. In the same pass over the artifacts, finds the latest version of
    /// each family for 0.x, which keeps no `is_latest` (the newest by id): their source ids.
    fn check_artifact_conflicts(&self, src: &mut Source) -> Result<HashSet<i64>> {
        let core = matches!(src.layout(), Layout::Core { .. });
        let mut clashes = Vec::new();
        let mut stems = Vec::new();
        let mut after = 0;
        loop {
            let page = src.artifacts(after, BATCH)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            if core {
                stems.extend(
                    page.iter()
                        .map(|a| (a.uid.chars().take(16).collect::<String>(), a.id)),
                );
            }
            let uids: Vec<String> = page.iter().map(|a| a.uid.clone()).collect();
            let found = self.existing::<Artifact>(&uids)?;
            for a in &page {
                if let Some(t) = found.get(&a.uid)
                    && t.hash != a.hash
                {
                    clashes.push(clash("artifact", &a.uid, &t.hash, &a.hash));
                }
            }
        }
        let collections = src.collections()?;
        let uids: Vec<String> = collections.iter().map(|c| c.uid.clone()).collect();
        let found = self.existing::<Collection>(&uids)?;
        for c in &collections {
            if let Some(t) = found.get(&c.uid)
                && t.hash != c.hash
            {
                clashes.push(clash("collection", &c.uid, &t.hash, &c.hash));
            }
        }
        if clashes.is_empty() {
            return Ok(latest_of(stems.into_iter()));
        }
        let n = clashes.len();
        clashes.truncate(10);
        Err(Error::Conflict {
            message: format!(
                "{n} uid(s) of the LaminDB instance exist here with other content, so nothing \
                 was imported: {}{}",
                clashes.join("; "),
                if n > 10 { "; …" } else { "" }
            ),
        })
    }

    fn import_artifacts(
        &self,
        src: &mut Source,
        root: &str,
        options: &ImportOptions,
        latest: &HashSet<i64>,
        ids: &mut Ids,
        report: &mut ImportReport,
    ) -> Result<()> {
        let total = src.count("artifact")?;
        let source_store = if options.dry_run {
            None
        } else {
            Some(lamella_storage::Store::open(root)?)
        };
        let target = self.storage()?;
        if !options.dry_run {
            // objects are written there: the storage must be this instance's
            self.require_managed(&target)?;
        }
        let target_store = self.store_for(&target)?;
        let target_id = target.id.unwrap_or_default();
        let meter = Meter::new(
            self,
            ProgressTask::Importing,
            ProgressUnit::Files,
            total.max(0) as u64,
        );
        let bytes_total = if options.dry_run {
            0
        } else {
            src.artifact_bytes()?.max(0) as u64
        };
        let bytes_meter = Meter::new(
            self,
            ProgressTask::Importing,
            ProgressUnit::Bytes,
            bytes_total,
        );
        let me = self.user_id();
        let mut after = 0;
        loop {
            let page = src.artifacts(after, BATCH)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            let uids: Vec<String> = page.iter().map(|a| a.uid.clone()).collect();
            let found = self.existing::<Artifact>(&uids)?;
            let mut rows = Vec::new();
            let mut rows_src = Vec::new();
            let mut pending = Vec::new();
            for a in &page {
                meter.add(1);
                if let Some(t) = found.get(&a.uid) {
                    ids.artifacts.insert(a.id, t.id.unwrap_or_default());
                    report.count("Artifact").skipped += 1;
                    continue;
                }
                let mut notes = Vec::new();
                let hash_type = match a.hash_type.as_deref() {
                    None => None,
                    Some(h) => match h.parse::<HashType>() {
                        Ok(h) => Some(h),
                        Err(_) => {
                            notes.push(format!(
                                "artifact {}: hash type {h} is not one Lamella computes; kept \
                                 without it",
                                a.uid
                            ));
                            None
                        }
                    },
                };
                let record = Artifact {
                    id: None,
                    uid: a.uid.clone(),
                    storage_id: target_id,
                    key: a.key.clone(),
                    suffix: a.suffix.clone().unwrap_or_default(),
                    accessor: a.accessor.clone(),
                    description: a.description.clone(),
                    size: a.size,
                    hash: a.hash.clone(),
                    hash_type,
                    n_objects: a.n_objects,
                    n_observations: a.n_observations,
                    version: a.version.clone(),
                    is_latest: if a.is_latest < 0 {
                        latest.contains(&a.id)
                    } else {
                        a.is_latest == 1
                    },
                    visibility: visibility(
                        a.visibility,
                        &format!("artifact {}", a.uid),
                        &mut notes,
                    ),
                    key_is_virtual: a.key.is_none() || a.key_is_virtual == 1,
                    transform_id: a.transform_id.and_then(|t| ids.transforms.get(&t).copied()),
                    run_id: a.run_id.and_then(|r| ids.runs.get(&r).copied()),
                    created_at: ts(&a.created_at),
                    updated_at: ts(&a.updated_at),
                    created_by_id: ids.user(a.created_by_id, me),
                };
                report.notes.extend(notes);
                pending.push((record, a));
            }
            // the objects of the page, in parallel (many requests in flight when remote)
            let brought: Vec<Option<std::result::Result<Brought, Option<String>>>> =
                match &source_store {
                    None => pending.iter().map(|_| None).collect(),
                    Some(store) => {
                        use rayon::prelude::*;
                        let remote = if store.kind() == lamella_storage::StoreKind::Local {
                            &target_store
                        } else {
                            store
                        };
                        crate::artifact::on_object_pool(remote, || {
                            pending
                                .par_iter()
                                .map(|(record, a)| {
                                    let got = self.bring_object(
                                        store,
                                        &source_key(a),
                                        record,
                                        &target_store,
                                    );
                                    if let Ok(b) = &got {
                                        bytes_meter.add(b.bytes);
                                    }
                                    Some(got)
                                })
                                .collect()
                        })
                    }
                };
            for ((record, a), got) in pending.into_iter().zip(brought) {
                match got {
                    None => {}
                    Some(Ok(Brought { bytes, how })) => {
                        report.bytes += bytes;
                        match how {
                            Placed::Linked => report.linked += 1,
                            Placed::Copied => report.copied += 1,
                            Placed::CopiedOnServer => report.copied_on_server += 1,
                        }
                    }
                    Some(Err(found)) => {
                        report.missing.push(MissingObject {
                            uid: a.uid.clone(),
                            key: a.key.clone(),
                            location: format!("{}/{}", root.trim_end_matches('/'), source_key(a)),
                            expected: a.hash.clone(),
                            found,
                        });
                        if options.on_missing == OnMissing::Skip {
                            report.count("Artifact").failed += 1;
                            continue;
                        }
                    }
                }
                rows.push(record);
                rows_src.push(a.id);
            }
            if !options.dry_run && !rows.is_empty() {
                self.db().transaction(|conn| {
                    Artifact::insert_all(conn, &mut rows).map_err(Error::from)
                })?;
            }
            for (r, s) in rows.iter().zip(rows_src) {
                ids.artifacts.insert(s, r.id.unwrap_or(-s));
            }
            report.count("Artifact").imported += rows.len();
        }
        Ok(())
    }

    /// Label links, feature-set slots and feature values of artifacts (and collections'
    /// label links), batched; existing links are kept, so a rerun adds only what is missing.
    fn import_links(&self, src: &mut Source, ids: &Ids, report: &mut ImportReport) -> Result<()> {
        let me = self.user_id();
        let started = std::time::Instant::now();
        // each artifact's features through labels and values: they join its `external` set
        let mut features_of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        let mut after = 0;
        loop {
            let page = src.label_links(false, after, 10_000)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            let rows: Vec<(i64, i64, Option<i64>)> = page
                .iter()
                .filter_map(|l| {
                    Some((
                        *ids.artifacts.get(&l.owner_id)?,
                        *ids.ulabels.get(&l.ulabel_id)?,
                        match l.feature_id {
                            Some(f) => Some(*ids.features.get(&f)?),
                            None => None,
                        },
                    ))
                })
                .collect();
            for (o, _, f) in &rows {
                if let Some(f) = f {
                    features_of.entry(*o).or_default().push(*f);
                }
            }
            let left_out = page.len() - rows.len();
            if !report.dry_run && !rows.is_empty() {
                let new = self.db().transaction(|conn| {
                    // Like every writer of label links, under the owners' locks (an
                    // artifact imported before may be annotated meanwhile).
                    let owners: Vec<i64> = rows.iter().map(|r| r.0).collect();
                    lamella_schema::links::lock_owners(conn, Owner::Artifact(0), &owners)?;
                    lamella_schema::links::link_ulabels_many(
                        conn,
                        Owner::Artifact(0),
                        &rows,
                        me,
                        true,
                    )
                    .map_err(Error::from)
                })?;
                report.count("label link").imported += new;
                report.count("label link").skipped += rows.len() - new;
            } else {
                report.count("label link").imported += rows.len();
            }
            report.count("label link").failed += left_out;
        }
        tracing::debug!(elapsed = ?started.elapsed(), "label links written");
        // feature sets by slot
        let slots = src.slot_links()?;
        let mut by_slot: BTreeMap<String, Vec<(i64, Option<i64>)>> = BTreeMap::new();
        for s in slots.iter().filter(|s| s.owner == "a") {
            let (Some(o), Some(set)) = (ids.artifacts.get(&s.owner_id), ids.sets.get(&s.set_id))
            else {
                report.count("feature set link").failed += 1;
                continue;
            };
            by_slot
                .entry(s.slot.clone().unwrap_or_else(|| "columns".into()))
                .or_default()
                .push((*o, Some(*set)));
        }
        let owners: Vec<i64> = by_slot.values().flatten().map(|(o, _)| *o).collect();
        let existing: HashSet<(i64, String, i64)> = self
            .db()
            .with_conn(|conn| lamella_schema::links::slots_many(conn, Owner::Artifact(0), &owners))?
            .into_iter()
            .collect();
        for (slot, rows) in &by_slot {
            let new: Vec<(i64, Option<i64>)> = rows
                .iter()
                .filter(|(o, set)| !existing.contains(&(*o, slot.clone(), set.unwrap_or_default())))
                .copied()
                .collect();
            if !report.dry_run && !new.is_empty() {
                self.db().transaction(|conn| {
                    lamella_schema::links::set_slot_many(conn, Owner::Artifact(0), slot, &new)
                        .map_err(Error::from)
                })?;
            }
            report.count("feature set link").imported += new.len();
            report.count("feature set link").skipped += rows.len() - new.len();
        }
        self.import_values(src, ids, &mut features_of, report)?;
        if !report.dry_run && !features_of.is_empty() {
            let per_owner: Vec<(i64, Vec<i64>)> = features_of
                .into_iter()
                .map(|(o, mut f)| {
                    f.sort_unstable();
                    f.dedup();
                    (o, f)
                })
                .collect();
            tracing::debug!(owners = per_owner.len(), elapsed = ?started.elapsed(), "joining external feature sets");
            // all owners at once: each distinct set of features is saved once
            self.db().transaction(|conn| {
                let mut out = crate::annotate::ValuesAdded::default();
                crate::annotate::join_external_many(
                    conn,
                    Owner::Artifact(0),
                    &per_owner,
                    me,
                    &mut out,
                )
            })?;
        }
        Ok(())
    }

    fn import_values(
        &self,
        src: &mut Source,
        ids: &Ids,
        features_of: &mut BTreeMap<i64, Vec<i64>>,
        report: &mut ImportReport,
    ) -> Result<()> {
        let values = src.values()?;
        if values.is_empty() {
            return Ok(());
        }
        let features: HashMap<i64, Feature> = {
            let fids: Vec<i64> = ids.features.values().copied().collect();
            self.db()
                .with_conn(|conn| lamella_schema::load_by_ids::<Feature>(conn, &fids))?
                .into_iter()
                .filter_map(|f| Some((f.id?, f)))
                .collect()
        };
        let mut stored = Vec::new();
        let mut owners = Vec::new();
        for v in &values {
            let (Some(owner), Some(f)) = (
                ids.artifacts.get(&v.artifact_id),
                v.feature_id
                    .and_then(|f| ids.features.get(&f))
                    .and_then(|f| features.get(f)),
            ) else {
                report.count("feature value").failed += 1;
                continue;
            };
            let json: serde_json::Value =
                serde_json::from_str(&v.value).unwrap_or(serde_json::Value::Null);
            // (a JSON object is no feature value: the typing below refuses it as text)
            let value = lamella_schema::Value::from_json(&json)
                .unwrap_or_else(|| lamella_schema::Value::Text(json.to_string()));
            match lamella_schema::values::typed(&f.name, &f.dtype, &value) {
                Ok(typed) => {
                    features_of
                        .entry(*owner)
                        .or_default()
                        .push(f.id.unwrap_or_default());
                    for t in typed.into_iter().flatten() {
                        stored.push((f.id.unwrap_or_default(), t));
                        owners.push(*owner);
                    }
                }
                Err(e) => {
                    report.count("feature value").failed += 1;
                    report
                        .notes
                        .push(format!("feature value of '{}': {e}; left out", f.name));
                }
            }
        }
        let mut new = stored.len();
        if !report.dry_run && !stored.is_empty() {
            let me = self.user_id();
            new = self.db().transaction(|conn| {
                let value_ids = lamella_schema::values::ensure_values(conn, &stored, me)?;
                let links: Vec<(i64, i64)> = owners.iter().copied().zip(value_ids).collect();
                Ok::<_, Error>(lamella_schema::values::link_values(
                    conn,
                    Owner::Artifact(0),
                    &links,
                )?)
            })?;
        }
        report.count("feature value").imported += new;
        report.count("feature value").skipped += stored.len() - new;
        Ok(())
    }

    fn import_collections(
        &self,
        src: &mut Source,
        ids: &mut Ids,
        report: &mut ImportReport,
    ) -> Result<()> {
        let collections = src.collections()?;
        let members = src.collection_members()?;
        let core = matches!(src.layout(), Layout::Core { .. });
        let latest = latest_of(
            collections
                .iter()
                .map(|c| (c.uid.chars().take(16).collect(), c.id)),
        );
        let uids: Vec<String> = collections.iter().map(|c| c.uid.clone()).collect();
        let by_uid = self.existing::<Collection>(&uids)?;
        let me = self.user_id();
        let mut of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for m in &members {
            of.entry(m.a).or_default().push(m.b);
        }
        for c in &collections {
            if let Some(found) = by_uid.get(&c.uid) {
                ids.collections.insert(c.id, found.id.unwrap_or_default());
                report.count("Collection").skipped += 1;
                continue;
            }
            let source_members = of.get(&c.id).cloned().unwrap_or_default();
            let mapped: Vec<i64> = source_members
                .iter()
                .filter_map(|a| ids.artifacts.get(a).copied())
                .collect();
            if mapped.len() != source_members.len() {
                report.count("Collection").failed += 1;
                report.notes.push(format!(
                    "collection '{}' ({}): {} of its {} artifacts were not imported; left out",
                    c.name,
                    c.uid,
                    source_members.len() - mapped.len(),
                    source_members.len()
                ));
                continue;
            }
            let mut notes = Vec::new();
            let mut row = vec![Collection {
                id: None,
                uid: c.uid.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                hash: c.hash.clone(),
                version: c.version.clone(),
                is_latest: if core || c.is_latest < 0 {
                    latest.contains(&c.id)
                } else {
                    c.is_latest == 1
                },
                visibility: visibility(c.visibility, &format!("collection {}", c.uid), &mut notes),
                reference: c.reference.clone(),
                reference_type: c.reference_type.clone(),
                transform_id: c.transform_id.and_then(|t| ids.transforms.get(&t).copied()),
                run_id: c.run_id.and_then(|r| ids.runs.get(&r).copied()),
                created_at: ts(&c.created_at),
                updated_at: ts(&c.updated_at),
                created_by_id: ids.user(c.created_by_id, me),
            }];
            report.notes.extend(notes);
            if !report.dry_run {
                self.db().transaction(|conn| {
                    Collection::insert_all(conn, &mut row)?;
                    let id = row[0].id.unwrap_or_default();
                    lamella_schema::links::insert_collection_members(conn, id, &mapped)?;
                    Ok::<_, Error>(())
                })?;
            }
            ids.collections.insert(c.id, row[0].id.unwrap_or(-c.id));
            report.count("Collection").imported += 1;
        }
        // the collections' labels and feature sets
        let mut after = 0;
        let mut label_rows = Vec::new();
        loop {
            let page = src.label_links(true, after, 10_000)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            label_rows.extend(page.iter().filter_map(|l| {
                Some((
                    *ids.collections.get(&l.owner_id)?,
                    *ids.ulabels.get(&l.ulabel_id)?,
                    match l.feature_id {
                        Some(f) => Some(*ids.features.get(&f)?),
                        None => None,
                    },
                ))
            }));
        }
        let mut by_slot: BTreeMap<String, Vec<(i64, Option<i64>)>> = BTreeMap::new();
        for s in src.slot_links()?.iter().filter(|s| s.owner == "c") {
            if let (Some(o), Some(set)) =
                (ids.collections.get(&s.owner_id), ids.sets.get(&s.set_id))
            {
                by_slot
                    .entry(s.slot.clone().unwrap_or_else(|| "columns".into()))
                    .or_default()
                    .push((*o, Some(*set)));
            }
        }
        if !report.dry_run {
            self.db().transaction(|conn| {
                let owners: Vec<i64> = label_rows.iter().map(|r| r.0).collect();
                lamella_schema::links::lock_owners(conn, Owner::Collection(0), &owners)?;
                let new = lamella_schema::links::link_ulabels_many(
                    conn,
                    Owner::Collection(0),
                    &label_rows,
                    me,
                    true,
                )?;
                for (slot, rows) in &by_slot {
                    lamella_schema::links::set_slot_many(conn, Owner::Collection(0), slot, rows)?;
                }
                report.count("label link").imported += new;
                Ok::<_, Error>(())
            })?;
        }
        Ok(())
    }

    fn import_run_inputs(
        &self,
        src: &mut Source,
        ids: &Ids,
        report: &mut ImportReport,
    ) -> Result<()> {
        let (artifacts, collections) = src.run_inputs()?;
        let mut per_run: BTreeMap<i64, (Vec<i64>, Vec<i64>)> = BTreeMap::new();
        for p in &artifacts {
            if let (Some(r), Some(a)) = (ids.runs.get(&p.a), ids.artifacts.get(&p.b)) {
                per_run.entry(*r).or_default().0.push(*a);
            } else {
                report.count("run input").failed += 1;
            }
        }
        for p in &collections {
            if let (Some(r), Some(c)) = (ids.runs.get(&p.a), ids.collections.get(&p.b)) {
                per_run.entry(*r).or_default().1.push(*c);
            } else {
                report.count("run input").failed += 1;
            }
        }
        let mut new = 0;
        let total: usize = per_run.values().map(|(a, c)| a.len() + c.len()).sum();
        if !report.dry_run {
            self.db().transaction(|conn| {
                for (run, (a, c)) in &per_run {
                    new += lamella_schema::links::add_run_inputs(conn, *run, a, c)?;
                }
                Ok::<_, Error>(())
            })?;
        } else {
            new = total;
        }
        report.count("run input").imported += new;
        report.count("run input").skipped += total - new;
        Ok(())
    }

    /// Brings one object from the source store into this instance's storage at the
    /// record's object key, after checking its hash: a hard link when both are local folders
    /// (on one filesystem), a server-side copy between prefixes of one S3 bucket, else a copy
    /// or upload through the cache. `Err(found hash)` when the object is missing (`None`) or
    /// differs.
    fn bring_object(
        &self,
        source: &lamella_storage::Store,
        from: &str,
        record: &Artifact,
        target: &lamella_storage::Store,
    ) -> std::result::Result<Brought, Option<String>> {
        let to = crate::artifact::object_key(record);
        let folder = crate::artifact::is_folder(record);
        let not_stored = |e: Error| {
            tracing::warn!(uid = %record.uid, error = %e, "placing an imported object failed");
            Some(format!("not stored: {e}"))
        };
        if source.local_path(from).is_none() && target.copies_server_side_from(source) {
            let objects = remote_objects(source, from, folder)?;
            let (size, found) = remote_hash(source, &objects, folder, record.hash.as_deref())?;
            if Some(&found) != record.hash.as_ref() {
                return Err(Some(found));
            }
            for o in &objects {
                let dest = folder_key(&to, from, &o.key, folder);
                match target.copy_new_from(source, &o.key, &dest) {
                    Ok(()) => {}
                    // a rerun finds its own copy; anything else there is not overwritten
                    Err(lamella_storage::Error::AlreadyExists { .. })
                        if target
                            .stat(&dest)
                            .is_ok_and(|t| t.size == o.size && t.etag == o.etag) => {}
                    Err(lamella_storage::Error::AlreadyExists { .. }) => {
                        return Err(not_stored(Error::Conflict {
                            message: format!(
                                "{} holds other content already: the object stays unimported",
                                target.url_for(&dest)
                            ),
                        }));
                    }
                    Err(e) => return Err(not_stored(e.into())),
                }
            }
            return Ok(Brought {
                bytes: size,
                how: Placed::CopiedOnServer,
            });
        }
        // the object as a local path: the source's own file, or a download into the cache
        let staged;
        let mut objects = Vec::new();
        let local = match source.local_path(from) {
            Some(p) => p,
            None => {
                // a folder of its own: other imports may stage the same uid at once
                staged = self.cache_dir().join("import").join(format!(
                    "{}-{}",
                    record.uid,
                    lamella_schema::base62_uid(8)
                ));
                objects = remote_objects(source, from, folder)?;
                for o in &objects {
                    let dest = if folder {
                        staged.join(folder_key("", from, &o.key, true).trim_start_matches('/'))
                    } else {
                        staged.clone()
                    };
                    if let Some(parent) = dest.parent() {
                        std::fs::create_dir_all(parent).map_err(|_| None)?;
                    }
                    source.get_to_file(&o.key, &dest).map_err(|_| None)?;
                }
                staged.clone()
            }
        };
        let cleanup = |local: &Path| {
            if !objects.is_empty() {
                let _ = if folder {
                    std::fs::remove_dir_all(local)
                } else {
                    std::fs::remove_file(local)
                };
            }
        };
        if !local.exists() {
            return Err(None);
        }
        let hashed = if folder {
            lamella_storage::walk_folder(&local)
                .and_then(|w| lamella_storage::hash_walk(&w))
                .map(|h| (h.hash, h.size))
        } else {
            lamella_storage::hash_file(&local).map(|h| (h.hash, h.size))
        };
        let Ok((mut hash, size)) = hashed else {
            cleanup(&local);
            return Err(None);
        };
        // objects LaminDB registered on S3 carry the hash their ETags give
        if Some(&hash) != record.hash.as_ref()
            && etag_hash(&objects, folder).is_some_and(|h| Some(&h) == record.hash.as_ref())
        {
            hash = record.hash.clone().unwrap_or_default();
        }
        if Some(&hash) != record.hash.as_ref() {
            cleanup(&local);
            return Err(Some(hash));
        }
        let placed = place(&local, &to, folder, target);
        cleanup(&local);
        let linked = placed.map_err(not_stored)?;
        Ok(Brought {
            bytes: size,
            how: if linked {
                Placed::Linked
            } else {
                Placed::Copied
            },
        })
    }
}

/// The files of a remote object: the object itself, or a folder's objects (`Err(None)` when
/// there is nothing).
fn remote_objects(
    source: &lamella_storage::Store,
    from: &str,
    folder: bool,
) -> std::result::Result<Vec<lamella_storage::ObjectMeta>, Option<String>> {
    let objects = if folder {
        source.list(from).map_err(|_| None)?
    } else {
        vec![source.stat(from).map_err(|_| None)?]
    };
    if objects.is_empty() {
        return Err(None);
    }
    Ok(objects)
}

/// Where a folder's file `key` (under `from` in the source) goes under `to`.
fn folder_key(to: &str, from: &str, key: &str, folder: bool) -> String {
    if !folder {
        return to.to_string();
    }
    let rel = key
        .strip_prefix(from)
        .unwrap_or(key)
        .trim_start_matches('/');
    format!("{to}/{rel}")
}

/// The hash LaminDB records for objects it registered on S3, from their ETags (`md5`,
/// `md5-n`, or a folder's `md5-d` over the ETags), when the ETags allow it.
fn etag_hash(objects: &[lamella_storage::ObjectMeta], folder: bool) -> Option<String> {
    if folder {
        let etags: Option<Vec<&str>> = objects.iter().map(|o| o.etag.as_deref()).collect();
        return etags.map(lamella_storage::hash_from_hashes);
    }
    let o = objects.first()?;
    lamella_storage::hash_from_etag(o.etag.as_deref()?, o.size).map(|h| h.hash)
}

/// Size and content hash of remote objects without downloading what the ETags vouch for:
/// the ETag-derived hash when it is the one recorded, else each file read as a stream (a
/// large file only by its first and last 50 MiB).
fn remote_hash(
    source: &lamella_storage::Store,
    objects: &[lamella_storage::ObjectMeta],
    folder: bool,
    expected: Option<&str>,
) -> std::result::Result<(u64, String), Option<String>> {
    let size = objects.iter().map(|o| o.size).sum();
    if let Some(h) = etag_hash(objects, folder).filter(|h| Some(h.as_str()) == expected) {
        return Ok((size, h));
    }
    // Single-part ETags are trusted first (the md5 that LaminDB's rule gives up to 50 MiB);
    // should that not give the recorded hash, the files they vouched for are read too (some
    // servers' ETags are not md5s). Every other file is read once.
    let trusted = |o: &lamella_storage::ObjectMeta| {
        o.etag
            .as_deref()
            .and_then(|e| lamella_storage::hash_from_etag(e, o.size))
            .filter(|h| {
                h.hash_type == lamella_storage::HashType::Md5
                    && o.size <= lamella_storage::HASH_CHUNK_SIZE
            })
    };
    let read =
        |o: &lamella_storage::ObjectMeta| source.hash_listed(o).map(|h| h.hash).map_err(|_| None);
    let combine = |hashes: &[String]| {
        if folder {
            lamella_storage::hash_from_hashes(hashes)
        } else {
            hashes.first().cloned().unwrap_or_default()
        }
    };
    let mut hashes = Vec::with_capacity(objects.len());
    let mut vouched = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        match trusted(o) {
            Some(h) => {
                vouched.push(i);
                hashes.push(h.hash);
            }
            None => hashes.push(read(o)?),
        }
    }
    let hash = combine(&hashes);
    if Some(hash.as_str()) == expected || vouched.is_empty() {
        return Ok((size, hash));
    }
    for i in vouched {
        hashes[i] = read(&objects[i])?;
    }
    Ok((size, combine(&hashes)))
}

/// What placing one object took.
struct Brought {
    bytes: u64,
    how: Placed,
}

/// How an object came into this instance's storage.
enum Placed {
    Linked,
    Copied,
    CopiedOnServer,
}

/// Puts the local file or folder `local` at `key` in `target`: hard links when the target is
/// a local folder on the same filesystem, copies or uploads otherwise. Returns whether it
/// linked.
fn place(local: &Path, key: &str, folder: bool, target: &lamella_storage::Store) -> Result<bool> {
    let files: Vec<(PathBuf, String)> = if folder {
        lamella_storage::walk_folder(local)?
            .files
            .iter()
            .map(|f| (f.path.clone(), format!("{key}/{}", f.rel)))
            .collect()
    } else {
        vec![(local.to_path_buf(), key.to_string())]
    };
    let mut linked = true;
    for (path, k) in files {
        match target.local_path(&k) {
            Some(dest) => {
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent).map_err(io_err(parent))?;
                }
                if dest.exists() {
                    // a rerun finds its own object; anything else there is not overwritten
                    if same_content(&path, &dest) {
                        continue;
                    }
                    return Err(Error::Conflict {
                        message: format!(
                            "{} holds other content already: the object stays unimported",
                            dest.display()
                        ),
                    });
                }
                if std::fs::hard_link(&path, &dest).is_err() {
                    linked = false;
                    let tmp = dest.with_extension(format!("{}.importing", std::process::id()));
                    std::fs::copy(&path, &tmp).map_err(io_err(&tmp))?;
                    std::fs::rename(&tmp, &dest).map_err(io_err(&dest))?;
                }
            }
            None => {
                linked = false;
                target.put_file(&k, &path)?;
            }
        }
    }
    Ok(linked)
}

/// Whether two local files have the same bytes (by size and hash).
fn same_content(a: &Path, b: &Path) -> bool {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    if size(a) != size(b) {
        return false;
    }
    match (lamella_storage::hash_file(a), lamella_storage::hash_file(b)) {
        (Ok(x), Ok(y)) => x.hash == y.hash,
        _ => false,
    }
}

/// A record of this instance whose uid the LaminDB instance uses for other content.
fn clash(kind: &str, uid: &str, here: &Option<String>, there: &Option<String>) -> String {
    format!(
        "{kind} {uid} (hash {} here, {} in LaminDB)",
        here.as_deref().unwrap_or("none"),
        there.as_deref().unwrap_or("none")
    )
}

/// `(child, parent)` pairs of source ids as edges of target ids (pairs with an id not
/// imported are left out).
fn edges(pairs: &[Pair], ids: &HashMap<i64, i64>) -> Vec<Edge> {
    pairs
        .iter()
        .filter_map(|p| {
            Some(Edge {
                child: *ids.get(&p.a)?,
                parent: *ids.get(&p.b)?,
            })
        })
        .collect()
}
