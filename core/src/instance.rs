//! An instance: one metadata database, one default storage, a current user.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lamella_schema::{
    Backend, Db, DbUrl, InstanceRow, QuerySpec, Record, Storage, Store, User, base62_uid, now,
    registry, uid_len,
};

use crate::error::{Error, NoInstanceReason, Result, io_err};
use crate::settings::{InstanceEntry, Settings};

/// The folder inside a local storage root where Lamella keeps its database and virtual keys.
pub const LAMELLA_DIR: &str = ".lamella";
const SQLITE_FILE: &str = "lamella.db";

/// A connected Lamella instance. Cheap to clone; every registry is reached from it.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// # lamella_core::set_settings_home(dir.path().join("home"));
/// let ln = lamella_core::Instance::init(dir.path().join("data"), None)?;
/// assert_eq!(ln.info()?.backend, "SQLite");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Instance {
    inner: Arc<Inner>,
}

struct Inner {
    stores: std::sync::Mutex<std::collections::HashMap<i64, lamella_storage::Store>>,
    db: Db,
    uid: String,
    root: String,
    user: User,
    /// The default storage's record: read at first need (a read-only command skips it — on
    /// PostgreSQL a table and three indexes less for a new backend to load).
    storage: std::sync::OnceLock<Storage>,
    /// Whether this instance manages (may write to) its default storage.
    default_managed: std::sync::OnceLock<bool>,
    /// Where downloaded cloud objects are cached.
    cache: PathBuf,
    /// The run being tracked (`track` … `finish`).
    run: std::sync::Mutex<Option<crate::track::Tracked>>,
    /// Where new artifacts go when it is not `storage` (`set_default_storage`).
    write_to: std::sync::RwLock<Option<Storage>>,
    /// Whether the settings remember this instance (`init`, `connect`, `.remember()`).
    remembered: bool,
    /// Where long operations report their progress ([`Instance::on_progress`]).
    progress: std::sync::RwLock<Option<crate::progress::ProgressFn>>,
}

/// What [`Instance::delete`] does while artifacts are registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InstanceDeletion {
    /// Refuse: their records would be lost.
    #[default]
    RefuseWithArtifacts,
    /// Drop the metadata anyway (stored files are never touched).
    DropMetadata,
}

/// How an instance is opened: whether the settings remember it, and where it caches.
#[derive(Debug, Clone, Default)]
struct Options {
    /// Record the instance in the settings and make it current (the CLI does).
    remember: bool,
    /// The cache folder; by default `<settings>/cache` when remembered, else the user's cache
    /// folder (`~/.cache/lamella` on Linux).
    cache: Option<PathBuf>,
}

impl Options {
    fn remembered() -> Options {
        Options {
            remember: true,
            cache: None,
        }
    }

    fn cache_dir(&self) -> Result<PathBuf> {
        match (&self.cache, self.remember) {
            (Some(c), _) => Ok(c.clone()),
            (None, true) => Ok(crate::settings::home()?.join("cache")),
            // The user's cache folder (e.g. ~/.cache/lamella), never a shared one.
            (None, false) => {
                dirs::cache_dir()
                    .map(|d| d.join("lamella"))
                    .ok_or_else(|| Error::Incomplete {
                        what: "an instance".into(),
                        needs: "a cache folder, and this user has none: give one (cache_dir)"
                            .into(),
                    })
            }
        }
    }

    fn remember(&self, uid: &str, root: &str, url: &DbUrl) -> Result<()> {
        if !self.remember {
            return Ok(());
        }
        Settings::update(|settings| {
            settings.remember(InstanceEntry {
                uid: uid.to_string(),
                root: root.to_string(),
                db: url.as_setting(),
            })
        })
    }
}

/// Creates or opens an instance for a program that embeds Lamella: nothing is written to the
/// settings (`~/.lamella`) unless [`InstanceBuilder::remember`] asks for it.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let ln = lamella_core::Instance::builder(dir.path().join("data")).create()?;
/// let again = lamella_core::Instance::builder(dir.path().join("data")).open()?;
/// assert_eq!(ln.uid(), again.uid());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct InstanceBuilder {
    root: PathBuf,
    db: Option<String>,
    options: Options,
}

impl InstanceBuilder {
    /// The database URL (`postgresql://…` or `sqlite:///…`); by default SQLite inside the
    /// storage folder.
    pub fn db(mut self, url: impl Into<String>) -> Self {
        self.db = Some(url.into());
        self
    }

    /// Records the instance in the settings and makes it current, as `lamella init` does.
    pub fn remember(mut self) -> Self {
        self.options.remember = true;
        self
    }

    /// Where downloaded cloud objects are cached.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.options.cache = Some(dir.into());
        self
    }

    /// Creates the instance (see [`Instance::init`]).
    pub fn create(self) -> Result<Instance> {
        Instance::init_with(&self.root, self.db.as_deref(), self.options)
    }

    /// Opens an existing instance: the one whose database is given, or whose SQLite file lies
    /// inside the storage folder.
    pub fn open(self) -> Result<Instance> {
        let root = self.root.as_path();
        let (root_str, db) = match (root.to_str().filter(|r| is_remote(r)), self.db) {
            (Some(url), Some(db)) => (url.trim_end_matches('/').to_string(), db),
            (Some(url), None) => {
                return Err(Error::NoInstance {
                    location: url.to_string(),
                    reason: NoInstanceReason::NeedsDatabase,
                });
            }
            (None, db) => {
                let abs = local_root(root)?;
                let root_str = root_string(&abs)?;
                let db = match db {
                    Some(db) => db,
                    None => {
                        let file = abs.join(LAMELLA_DIR).join(SQLITE_FILE);
                        if !file.is_file() {
                            return Err(Error::NoInstance {
                                location: root.display().to_string(),
                                reason: NoInstanceReason::NothingHere,
                            });
                        }
                        DbUrl::Sqlite(file).as_setting()
                    }
                };
                (root_str, db)
            }
        };
        Instance::open_at(&root_str, &db, true, &self.options)
    }
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("uid", &self.inner.uid)
            .field("root", &self.inner.root)
            .field("db", &self.inner.db.url().display())
            .finish()
    }
}

/// What `info` reports about an instance.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceInfo {
    /// Instance uid.
    pub uid: String,
    /// Default storage root.
    pub root: String,
    /// `SQLite` or `PostgreSQL`.
    pub backend: &'static str,
    /// Database URL without password.
    pub db: String,
    /// Current user's handle.
    pub user: String,
    /// Default storage's uid.
    pub storage_uid: String,
    /// Number of records per registry.
    pub counts: Vec<(String, i64)>,
    /// The Lamella version that created the instance.
    pub created_with: String,
    /// Where settings live.
    pub settings_home: String,
}

/// The current user's handle: `$LAMELLA_USER`, else the OS user, else `anonymous`.
pub fn current_handle() -> String {
    ["LAMELLA_USER", "USER", "USERNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|h| h.trim().to_string())
        .find(|h| !h.is_empty())
        .unwrap_or_else(|| "anonymous".to_string())
}

/// `path` made absolute with its deepest existing ancestor canonicalised (symbolic links and
/// `..` resolved), for comparing it with storage roots before it exists.
fn resolved(path: &Path) -> Result<PathBuf> {
    let abs = std::path::absolute(path).map_err(io_err(path))?;
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            out.extend(rest.iter().rev());
            return Ok(out);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return Ok(abs),
        }
    }
}

/// Whether a storage root or location names an object store (`s3://…`), not a local folder.
pub(crate) fn is_remote(location: &str) -> bool {
    lamella_storage::Location::parse(location).is_remote()
}

fn local_root(root: &Path) -> Result<PathBuf> {
    let abs = std::path::absolute(root).map_err(io_err(root))?;
    Ok(abs.canonicalize().unwrap_or(abs))
}

fn root_string(root: &Path) -> Result<String> {
    root.to_str().map(str::to_string).ok_or_else(|| {
        Error::invalid(
            "the storage path",
            root.display().to_string(),
            "it is not valid UTF-8; choose another folder",
        )
    })
}

impl Instance {
    /// Creates an instance with its default storage at `root` (a local folder, created if
    /// missing) and its database at `db_url` — by default SQLite at
    /// `<root>/.lamella/lamella.db`. Registers the storage and the current user, and makes the
    /// instance current in the settings.
    pub fn init(root: impl AsRef<Path>, db_url: Option<&str>) -> Result<Instance> {
        Instance::init_with(root.as_ref(), db_url, Options::remembered())
    }

    /// A builder for programs that embed Lamella (see [`InstanceBuilder`]).
    pub fn builder(root: impl AsRef<Path>) -> InstanceBuilder {
        InstanceBuilder {
            root: root.as_ref().to_path_buf(),
            db: None,
            options: Options::default(),
        }
    }

    fn init_with(root: &Path, db_url: Option<&str>, options: Options) -> Result<Instance> {
        if let Some(url) = root.to_str().filter(|r| is_remote(r)) {
            return Instance::init_remote(url, db_url, options);
        }
        if root.as_os_str().is_empty() {
            return Err(Error::invalid(
                "the storage location",
                "",
                "give a folder such as ./mydata",
            ));
        }
        if root.is_file() {
            return Err(Error::invalid(
                "the storage location",
                root.display().to_string(),
                "it is a file; give a folder",
            ));
        }
        let url = match db_url {
            Some(u) => DbUrl::parse(u)?,
            None => DbUrl::Sqlite(local_root(root)?.join(LAMELLA_DIR).join(SQLITE_FILE)),
        };
        if let DbUrl::Sqlite(path) = &url
            && path.exists()
        {
            return Err(Error::InstanceExists {
                location: root.display().to_string(),
                detail: format!(
                    "an instance already exists here (database {}): connect to it, or choose \
                     another folder",
                    path.display()
                ),
                connect_to: Some(root.display().to_string()),
            });
        }
        if root.exists() {
            let store = lamella_storage::Store::open(&root_string(&local_root(root)?)?)?;
            refuse_managed_root(&store, &root.display().to_string())?;
        }
        // Create only what is missing, and remove it again if anything below fails.
        let created_root = !root.exists();
        std::fs::create_dir_all(root).map_err(io_err(root))?;
        let root = local_root(root)?;
        let lamella_dir = root.join(LAMELLA_DIR);
        let created_dir = !lamella_dir.exists();
        let result = (|| {
            std::fs::create_dir_all(&lamella_dir).map_err(io_err(&lamella_dir))?;
            let root_str = root_string(&root)?;
            let store = lamella_storage::Store::open(&root_str)?;
            Instance::create(
                &root_str,
                lamella_schema::StorageKind::Local,
                &url,
                &store,
                &options,
            )
        })();
        if result.is_err() {
            if let DbUrl::Sqlite(path) = &url {
                remove_sqlite_files(path);
            }
            if created_dir {
                let _ = std::fs::remove_dir(&lamella_dir);
            }
            if created_root {
                let _ = std::fs::remove_dir(&root);
            }
        }
        result
    }

    /// An instance whose default storage is a cloud location (`s3://bucket/prefix`); without
    /// `db_url` its SQLite file lives under `$LAMELLA_HOME/instances/`.
    fn init_remote(url: &str, db_url: Option<&str>, options: Options) -> Result<Instance> {
        let root = url.trim_end_matches('/').to_string();
        let store = lamella_storage::Store::open(&root)?;
        store.check()?;
        let kind = crate::convert::storage_kind(store.kind());
        let db = match db_url {
            Some(u) => DbUrl::parse(u)?,
            None if !options.remember => {
                return Err(Error::NoInstance {
                    location: root,
                    reason: NoInstanceReason::NeedsDatabase,
                });
            }
            None => {
                let safe: String = root
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                let home = crate::settings::home()?;
                crate::settings::ensure_private_dir(&home)?;
                DbUrl::Sqlite(home.join("instances").join(safe).join(SQLITE_FILE))
            }
        };
        if let DbUrl::Sqlite(path) = &db
            && path.exists()
        {
            return Err(Error::InstanceExists {
                location: root.clone(),
                detail: format!(
                    "an instance with this storage already exists here (database {}): connect \
                     to it",
                    path.display()
                ),
                connect_to: Some(root),
            });
        }
        refuse_managed_root(&store, &root)?;
        let result = Instance::create(&root, kind, &db, &store, &options);
        if result.is_err()
            && let DbUrl::Sqlite(path) = &db
        {
            remove_sqlite_files(path);
        }
        result
    }

    fn create(
        root_str: &str,
        kind: lamella_schema::StorageKind,
        url: &DbUrl,
        store: &lamella_storage::Store,
        options: &Options,
    ) -> Result<Instance> {
        // The marker comes first, so that no second instance can be created on this root
        // while this one is being set up; it goes again if anything below fails.
        let uid = base62_uid(uid_len::INSTANCE);
        let storage_uid = base62_uid(uid_len::STORAGE);
        crate::marker::write(
            store,
            &crate::marker::Marker {
                storage_uid: storage_uid.clone(),
                instance_uid: uid.clone(),
            },
        )?;
        let result = Instance::create_db(root_str, kind, url, uid.clone(), storage_uid, options);
        if result.is_err() {
            crate::marker::remove_if_ours(store, &uid);
        }
        result
    }

    fn create_db(
        root_str: &str,
        kind: lamella_schema::StorageKind,
        url: &DbUrl,
        uid: String,
        storage_uid: String,
        options: &Options,
    ) -> Result<Instance> {
        let root_str = root_str.to_string();
        if let DbUrl::Sqlite(p) = url
            && let Some(parent) = p.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        let db = Db::open(url)?;
        let handle = current_handle();
        let (uid, user, storage) = db.transaction(|conn| -> Result<_> {
            if let Some(row) = lamella_schema::instance_row(conn)? {
                return Err(Error::InstanceExists {
                    location: url.display(),
                    detail: format!(
                        "the database already holds instance {} with storage {}: connect to \
                         it, or use another database",
                        row.uid, row.storage_root
                    ),
                    connect_to: Some(row.storage_root),
                });
            }
            let t = now();
            let user = insert_user(conn, &handle)?;
            let mut storages = vec![Storage {
                id: None,
                uid: storage_uid.clone(),
                root: root_str.clone(),
                kind,
                region: None,
                description: None,
                created_at: t,
                updated_at: t,
                created_by_id: lamella_schema::require_id(&user)?,
                run_id: None,
                instance_uid: Some(uid.clone()),
            }];
            Storage::insert_all(conn, &mut storages)?;
            lamella_schema::insert_instance(
                conn,
                &InstanceRow {
                    id: None,
                    uid: uid.clone(),
                    storage_root: root_str.clone(),
                    lamella_version: env!("CARGO_PKG_VERSION").into(),
                    created_at: t,
                },
            )?;
            Ok((uid, user, storages.remove(0)))
        })?;
        options.remember(&uid, &root_str, url)?;
        tracing::info!(root = %root_str, db = %url.display(), "initialized instance");
        Ok(Instance {
            inner: Arc::new(Inner {
                stores: Default::default(),
                db,
                uid,
                root: root_str,
                user,
                storage: std::sync::OnceLock::from(storage),
                default_managed: std::sync::OnceLock::from(true),
                cache: options.cache_dir()?,
                run: Default::default(),
                write_to: Default::default(),
                remembered: options.remember,
                progress: Default::default(),
            }),
        })
    }

    /// Connects to the instance whose default storage is `root` (found in the settings, or by
    /// its SQLite file inside the folder) and makes it current.
    pub fn connect(root: impl AsRef<Path>) -> Result<Instance> {
        let root = root.as_ref();
        let settings = Settings::load()?;
        if let Some(url) = root.to_str().filter(|r| is_remote(r)) {
            let url = url.trim_end_matches('/');
            let entry = settings.by_root(url).ok_or_else(|| Error::NoInstance {
                location: url.to_string(),
                reason: NoInstanceReason::UnknownStorage,
            })?;
            return Instance::open(&entry.root, &entry.db.clone());
        }
        let abs = local_root(root)?;
        let root_str = root_string(&abs)?;
        if let Some(e) = settings.by_root(&root_str) {
            return Instance::open(&e.root, &e.db.clone());
        }
        // The embedded default: the database lives inside the root, so the root is wherever
        // the folder is now (it may have been moved or copied since it was created).
        let file = abs.join(LAMELLA_DIR).join(SQLITE_FILE);
        if file.is_file() {
            return Instance::open_at(
                &root_str,
                &DbUrl::Sqlite(file).as_setting(),
                true,
                &Options::remembered(),
            );
        }
        // A folder managed by an instance whose database lives elsewhere (PostgreSQL): the
        // marker names the instance, the settings know its database.
        let no_instance = || Error::NoInstance {
            location: root.display().to_string(),
            reason: NoInstanceReason::NothingHere,
        };
        if !abs.is_dir() {
            return Err(no_instance());
        }
        let store = lamella_storage::Store::open(&root_str)?;
        let Some(marker) = crate::marker::read(&store)? else {
            return Err(no_instance());
        };
        let entry = settings
            .by_uid(&marker.instance_uid)
            .ok_or_else(|| Error::NoInstance {
                location: root.display().to_string(),
                reason: NoInstanceReason::ManagedElsewhere {
                    instance: marker.instance_uid.clone(),
                },
            })?;
        if entry.root != root_str && !is_remote(&entry.root) {
            // Moved, or copied? A copy leaves the old folder with the same marker.
            let old = Path::new(&entry.root);
            if old.is_dir()
                && let Ok(old_store) = lamella_storage::Store::open(&entry.root)
                && crate::marker::read(&old_store)
                    .ok()
                    .flatten()
                    .is_some_and(|m| m.instance_uid == marker.instance_uid)
            {
                return Err(Error::InstanceExists {
                    location: root.display().to_string(),
                    detail: format!(
                        "this folder and {} both carry the marker of instance {}: one is a copy \
                         of the other; connect to the original, and remove the copy's \
                         .lamella/storage.json before using it elsewhere",
                        entry.root, marker.instance_uid,
                    ),
                    connect_to: Some(entry.root.clone()),
                });
            }
        }
        Instance::open_at(&root_str, &entry.db.clone(), true, &Options::remembered())
    }

    /// Connects to the current instance of the settings.
    pub fn connect_current() -> Result<Instance> {
        let settings = Settings::load()?;
        let entry = settings.current_entry().ok_or_else(|| Error::NoInstance {
            location: "the settings".into(),
            reason: NoInstanceReason::NoCurrent,
        })?;
        let ln = Instance::open(&entry.root, &entry.db)?;
        if let Some(root) = settings.storages.get(&entry.uid) {
            // The default storage chosen by an earlier `lamella storage default URL`.
            let chosen = ln
                .query::<Storage>()
                .filter("root", root.as_str())
                .one_or_none()?;
            match chosen {
                Some(s) if ln.manages(&s)? => {
                    *ln.inner
                        .write_to
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(s);
                }
                _ => {
                    tracing::warn!(root = %root, "the chosen default storage is gone; using the instance's own")
                }
            }
        }
        if let Some(run) = settings.runs.get(&entry.uid) {
            // A run tracked by an earlier command stays current until `finish`.
            match ln.resume(run) {
                Ok(t) if t.run.finished_at.is_none() => {}
                Ok(_) => ln.set_current_run(None),
                Err(e) => tracing::warn!(run = %run, "the tracked run is gone: {e}"),
            }
        }
        Ok(ln)
    }

    /// Remembers the current run in the settings, so that later `connect_current` calls —
    /// later CLI commands — continue it. One run is remembered per instance: a run it
    /// replaces (another process's `track`, or one never finished) is finished now and
    /// returned, so taking over is atomic and always said.
    pub fn remember_current_run(&self) -> Result<Option<lamella_schema::Run>> {
        let Some(run) = self.current_run().map(|t| t.run.uid) else {
            return Ok(None);
        };
        let previous =
            Settings::update(|settings| settings.runs.insert(self.uid().to_string(), run.clone()))?;
        match previous.filter(|p| *p != run) {
            Some(uid) => self.finish_replaced(&uid),
            None => Ok(None),
        }
    }

    /// Forgets `run` as the remembered run, unless another one took its place meanwhile.
    pub fn forget_run(&self, run: &str) -> Result<()> {
        Settings::update(|settings| {
            if settings.runs.get(self.uid()).is_some_and(|r| r == run) {
                settings.runs.remove(self.uid());
            }
        })
    }

    /// Finishes the run `uid` that another run replaced (if it still runs); returns it.
    fn finish_replaced(&self, uid: &str) -> Result<Option<lamella_schema::Run>> {
        let Some(mut run) = self
            .query::<lamella_schema::Run>()
            .filter("uid", uid)
            .one_or_none()?
        else {
            return Ok(None);
        };
        if run.finished_at.is_none() {
            run.finished_at = Some(now());
            self.db()
                .transaction(|conn| lamella_schema::Run::update(conn, &run).map_err(Error::from))?;
        }
        Ok(Some(run))
    }

    fn open(root: &str, db: &str) -> Result<Instance> {
        Instance::open_at(root, db, false, &Options::remembered())
    }

    /// Opens the instance with database `db`; with `root_is_here`, `root` is where its default
    /// storage is now, and a moved folder is recorded (instance row and Storage record).
    fn open_at(root: &str, db: &str, root_is_here: bool, options: &Options) -> Result<Instance> {
        let url = DbUrl::parse(db)?;
        if let DbUrl::Sqlite(p) = &url
            && !p.is_file()
        {
            return Err(Error::NoInstance {
                location: root.to_string(),
                reason: NoInstanceReason::DatabaseMissing {
                    db: p.display().to_string(),
                },
            });
        }
        let handle = current_handle();
        // One statement reads the instance, user and storage rows and checks the migrations;
        // only a new user or a moved folder writes, in a transaction that reads again.
        let (db, opening) = Db::open_instance(&url, &handle)?;
        let no_instance = || Error::NoInstance {
            location: root.to_string(),
            reason: NoInstanceReason::EmptyDatabase { db: url.display() },
        };
        // The instance's local folder was moved here (its recorded root is elsewhere).
        let moved = |recorded: &str| root_is_here && recorded != root && !is_remote(recorded);
        let opening = opening.ok_or_else(no_instance)?;
        let here = !moved(&opening.instance.storage_root);
        let found = match (opening, here) {
            (
                lamella_schema::Opening {
                    instance,
                    user: Some(user),
                },
                true,
            ) => (instance, user, None),
            _ => db.transaction(|conn| {
                let mut row = lamella_schema::instance_row(conn)?.ok_or_else(no_instance)?;
                let mut users: Vec<User> = QuerySpec::new(&registry::USER)
                    .filter("handle", handle.as_str())
                    .load(conn)?;
                let user = match users.pop() {
                    Some(u) => u,
                    None => insert_user(conn, &handle)?,
                };
                if moved(&row.storage_root) {
                    tracing::info!(from = %row.storage_root, to = %root, "instance folder moved");
                    lamella_schema::move_instance_root(conn, &row.storage_root, root)?;
                    row.storage_root = root.to_string();
                }
                let storage = home_storage_record(conn, &row.storage_root)?;
                Ok::<_, Error>((row, user, Some(storage)))
            })?,
        };
        let (row, user, storage) = found;
        let storage = storage.map_or_else(std::sync::OnceLock::new, std::sync::OnceLock::from);
        options.remember(&row.uid, &row.storage_root, &url)?;
        Ok(Instance {
            inner: Arc::new(Inner {
                stores: Default::default(),
                db,
                uid: row.uid,
                root: row.storage_root,
                user,
                storage,
                // checked at the first write (a request on S3 that read-only commands skip)
                default_managed: std::sync::OnceLock::new(),
                cache: options.cache_dir()?,
                run: Default::default(),
                write_to: Default::default(),
                remembered: options.remember,
                progress: Default::default(),
            }),
        })
    }

    /// Summarises the instance: location, database, user and record counts.
    pub fn info(&self) -> Result<InstanceInfo> {
        let counts = self.db().with_conn(lamella_schema::counts)?;
        let created_with = self
            .db()
            .with_conn(lamella_schema::instance_row)?
            .map(|r| r.lamella_version)
            .unwrap_or_default();
        Ok(InstanceInfo {
            uid: self.inner.uid.clone(),
            root: self.inner.root.clone(),
            backend: self.backend().name(),
            db: self.inner.db.url().display(),
            user: self.inner.user.handle.clone(),
            storage_uid: self.home_storage()?.uid.clone(),
            counts: counts
                .into_iter()
                .map(|(n, c)| (n.to_string(), c))
                .collect(),
            created_with,
            settings_home: crate::settings::home()?.display().to_string(),
        })
    }

    /// Deletes the instance's metadata: the SQLite file (or every Lamella table on PostgreSQL)
    /// and, for an instance the settings remember, its settings entry. Refused while artifacts
    /// are registered unless [`InstanceDeletion::DropMetadata`], since their records would be
    /// lost; stored objects are never touched.
    pub fn delete(self, how: InstanceDeletion) -> Result<()> {
        let force = how == InstanceDeletion::DropMetadata;
        let n_artifacts = self.db().with_conn(|c| {
            QuerySpec::new(&registry::ARTIFACT)
                .include_trash(true)
                .count(c)
        })?;
        if n_artifacts > 0 && !force {
            return Err(Error::NotEmpty {
                root: self.inner.root.clone(),
                artifacts: n_artifacts,
            });
        }
        let url = self.inner.db.url().clone();
        let uid = self.inner.uid.clone();
        let remembered = self.inner.remembered;
        if let Ok(store) = self.home_storage().and_then(|s| self.store_for(s)) {
            crate::marker::remove_if_ours(&store, &uid);
        }
        match &url {
            DbUrl::Postgres(_) => self.inner.db.drop_all_tables()?,
            DbUrl::Sqlite(path) => {
                drop(self);
                remove_sqlite_files(path);
                if let Some(dir) = path.parent() {
                    // Only removes the folder when nothing else is in it.
                    let _ = std::fs::remove_dir(dir);
                }
            }
        }
        if !remembered {
            return Ok(());
        }
        Settings::update(|settings| settings.forget(&uid))
    }

    /// The instance uid.
    pub fn uid(&self) -> &str {
        &self.inner.uid
    }

    /// The default storage root.
    pub fn root(&self) -> &str {
        &self.inner.root
    }

    /// The current user.
    pub fn user(&self) -> &User {
        &self.inner.user
    }

    /// Where downloaded cloud objects are cached.
    pub fn cache_dir(&self) -> &Path {
        &self.inner.cache
    }

    /// Reports the progress of this instance's long operations (hashing, uploads, downloads,
    /// exports, verification) to `f`, from any thread; replaces an earlier callback.
    pub fn on_progress(&self, f: impl Fn(&crate::Progress) + Send + Sync + 'static) {
        let mut slot = self
            .inner
            .progress
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *slot = Some(Arc::new(f));
    }

    pub(crate) fn progress_fn(&self) -> Option<crate::progress::ProgressFn> {
        self.inner
            .progress
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The default storage: where new artifacts go — the instance's own storage unless
    /// [`set_default_storage`](Self::set_default_storage) chose another.
    pub fn storage(&self) -> Result<Storage> {
        let chosen = self
            .inner
            .write_to
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match chosen {
            Some(s) => Ok(s),
            None => self.home_storage().cloned(),
        }
    }

    /// The storage record with database id `id`; the instance's own is read once.
    pub(crate) fn storage_by_id(&self, id: i64) -> Result<Storage> {
        if let Some(home) = self.inner.storage.get().filter(|h| h.id == Some(id)) {
            return Ok(home.clone());
        }
        let found: Storage = self.query::<Storage>().filter("id", id).one()?;
        if found.root == self.inner.root {
            return Ok(self.inner.storage.get_or_init(|| found).clone());
        }
        Ok(found)
    }

    /// The instance's own storage (its root), which holds its marker; its record is read
    /// from the database at first need.
    pub fn home_storage(&self) -> Result<&Storage> {
        if let Some(s) = self.inner.storage.get() {
            return Ok(s);
        }
        let s = self
            .db()
            .with_conn(|c| home_storage_record(c, &self.inner.root))?;
        Ok(self.inner.storage.get_or_init(|| s))
    }

    /// Makes `root` (a local folder or `s3://bucket/prefix`, registered first when new) the
    /// default storage of new artifacts — LaminDB's `ln.settings.storage = "s3://…"`.
    /// Artifacts saved before stay where they are. The storage must be one this instance
    /// manages. Like the current run, the choice lasts for this instance value; the CLI
    /// remembers it in the settings (`remember_default_storage`).
    pub fn set_default_storage(&self, root: &str) -> Result<Storage> {
        let storage = self.add_storage(root)?.record;
        self.require_managed(&storage)?;
        let home = storage.root == self.inner.root;
        let mut w = self
            .inner
            .write_to
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *w = (!home).then(|| storage.clone());
        Ok(storage)
    }

    /// Remembers the default storage in the settings, so later `connect_current` calls —
    /// later CLI commands — save there too.
    pub fn remember_default_storage(&self) -> Result<()> {
        let storage = self.storage()?;
        let home = storage.root == self.inner.root;
        Settings::update(|settings| {
            if home {
                settings.storages.remove(self.uid());
            } else {
                settings
                    .storages
                    .insert(self.uid().to_string(), storage.root.clone());
            }
        })
    }

    /// The database backend.
    pub fn backend(&self) -> Backend {
        self.inner.db.backend()
    }

    /// Registers another storage location (a local folder or `s3://bucket/prefix`), after
    /// checking that it is reachable; an already registered root is returned as is.
    pub fn add_storage(&self, root: &str) -> Result<crate::Saved<Storage>> {
        let root = if is_remote(root) {
            root.trim_end_matches('/').to_string()
        } else {
            let p = Path::new(root);
            std::fs::create_dir_all(p).map_err(io_err(p))?;
            root_string(&local_root(p)?)?
        };
        if let Some(s) = self
            .query::<Storage>()
            .filter("root", root.as_str())
            .one_or_none()?
        {
            return Ok(crate::Saved {
                record: s,
                existed: true,
                similar: Vec::new(),
                notes: Vec::new(),
            });
        }
        let store = lamella_storage::Store::open(&root)?;
        store.check()?;
        let t = now();
        let uid = base62_uid(uid_len::STORAGE);
        // A root that another instance manages is registered to be read, never written; a
        // root that holds Lamella files but no marker (written before markers existed) is
        // treated the same way. A fresh root becomes managed by this instance.
        let manager = match crate::marker::read(&store)? {
            Some(m) => Some(m.instance_uid),
            None if !store.list(LAMELLA_DIR)?.is_empty() => None,
            None => {
                crate::marker::write(
                    &store,
                    &crate::marker::Marker {
                        storage_uid: uid.clone(),
                        instance_uid: self.uid().to_string(),
                    },
                )?;
                Some(self.uid().to_string())
            }
        };
        if manager.as_deref() != Some(self.uid()) {
            tracing::info!(root = %root, manager = ?manager, "storage registered read-only");
        }
        let mut s = vec![Storage {
            id: None,
            uid,
            root,
            kind: crate::convert::storage_kind(store.kind()),
            region: None,
            description: None,
            created_at: t,
            updated_at: t,
            created_by_id: self.user_id(),
            run_id: None,
            instance_uid: manager,
        }];
        self.db().transaction(|c| Storage::insert_all(c, &mut s))?;
        Ok(crate::Saved {
            record: s.remove(0),
            existed: false,
            similar: Vec::new(),
            notes: Vec::new(),
        })
    }

    /// Registers a cloud location only to read from it (registering objects in place): no
    /// marker is written, so this instance never writes, promotes or cleans there. An already
    /// registered root is returned as it is.
    pub fn add_read_only_storage(&self, root: &str) -> Result<Storage> {
        let root = root.trim_end_matches('/').to_string();
        if let Some(s) = self
            .query::<Storage>()
            .filter("root", root.as_str())
            .one_or_none()?
        {
            return Ok(s);
        }
        let store = lamella_storage::Store::open(&root)?;
        store.check()?;
        let manager = crate::marker::read(&store)?.map(|m| m.instance_uid);
        let t = now();
        let mut s = vec![Storage {
            id: None,
            uid: base62_uid(uid_len::STORAGE),
            root,
            kind: crate::convert::storage_kind(store.kind()),
            region: None,
            description: None,
            created_at: t,
            updated_at: t,
            created_by_id: self.user_id(),
            run_id: None,
            instance_uid: manager,
        }];
        self.db().transaction(|c| Storage::insert_all(c, &mut s))?;
        Ok(s.remove(0))
    }

    /// Whether this instance manages `storage`, i.e. may write, promote and clean there. A
    /// root that another instance manages is only read.
    ///
    /// For the instance's own storage this reads the storage's marker once (a root whose
    /// marker names another instance is that instance's); an unreadable marker is an error.
    pub fn manages(&self, storage: &Storage) -> Result<bool> {
        if storage.id.is_some() && storage.root == self.inner.root {
            if let Some(&managed) = self.inner.default_managed.get() {
                return Ok(managed);
            }
            let managed = claim_default_storage(&self.inner.uid, self.home_storage()?)?;
            return Ok(*self.inner.default_managed.get_or_init(|| managed));
        }
        Ok(storage.instance_uid.as_deref() == Some(self.uid()))
    }

    /// An error unless this instance manages `storage`.
    pub(crate) fn require_managed(&self, storage: &Storage) -> Result<()> {
        if self.manages(storage)? {
            return Ok(());
        }
        Err(Error::NotManaged {
            root: storage.root.clone(),
            manager: storage.instance_uid.clone(),
        })
    }

    /// Checks that a local file may be written at `path` by an export: never inside a
    /// registered local storage location (whose files are artifacts' objects, or may become
    /// some), and over an existing file only when `existing` allows it.
    pub(crate) fn check_output(
        &self,
        path: &Path,
        existing: crate::collection::Existing,
    ) -> Result<()> {
        let abs = resolved(path)?;
        for s in self.query::<Storage>().all()? {
            if is_remote(&s.root) {
                continue;
            }
            let root = Path::new(&s.root);
            let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
            if abs.starts_with(&root) {
                return Err(Error::Reserved {
                    location: path.display().to_string(),
                    reason: format!(
                        "is inside the storage location {}, whose files are artifacts' objects: \
                         write the output elsewhere",
                        s.root
                    ),
                });
            }
        }
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() || existing == crate::collection::Existing::Refuse => {
                Err(Error::PathExists {
                    path: path.to_path_buf(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The object store of a storage record (opened once, then reused).
    pub(crate) fn store_for(&self, storage: &Storage) -> Result<lamella_storage::Store> {
        let id = storage.id.unwrap_or_default();
        let mut stores = self
            .inner
            .stores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(s) = stores.get(&id) {
            return Ok(s.clone());
        }
        let store = lamella_storage::Store::open(&storage.root)?;
        stores.insert(id, store.clone());
        Ok(store)
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(crate) fn user_id(&self) -> i64 {
        self.inner.user.id().unwrap_or_default()
    }

    pub(crate) fn current_run_state(&self) -> Option<crate::track::Tracked> {
        self.inner
            .run
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_current_run(&self, run: Option<crate::track::Tracked>) {
        *self
            .inner
            .run
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = run;
    }
}

/// Refuses to create an instance on a root that carries another instance's marker.
fn refuse_managed_root(store: &lamella_storage::Store, shown: &str) -> Result<()> {
    if let Some(m) = crate::marker::read(store)? {
        return Err(Error::InstanceExists {
            location: shown.to_string(),
            detail: format!(
                "already managed by Lamella instance {} (marker {}): connect to it, or choose \
                 another storage location; if that instance is gone for good, remove the marker \
                 first",
                m.instance_uid,
                store.url_for(crate::marker::MARKER_KEY)
            ),
            connect_to: Some(shown.to_string()),
        });
    }
    Ok(())
}

/// Checks the default storage's marker when an instance is opened: a root without one (an
/// instance created before markers existed) gets one; a root whose marker names another
/// instance is not managed by this one. Returns whether this instance manages it.
fn claim_default_storage(instance_uid: &str, storage: &Storage) -> Result<bool> {
    let store = match lamella_storage::Store::open(&storage.root) {
        Ok(s) => s,
        Err(_) => return Ok(true), // unreachable now: the first real access will say why
    };
    if let Some(root) = store.local_path("")
        && !root.is_dir()
    {
        return Ok(true);
    }
    match crate::marker::read(&store) {
        Ok(Some(m)) => Ok(m.instance_uid == instance_uid),
        Ok(None) => {
            let marker = crate::marker::Marker {
                storage_uid: storage.uid.clone(),
                instance_uid: instance_uid.to_string(),
            };
            if let Err(e) = crate::marker::write(&store, &marker) {
                tracing::warn!(root = %storage.root, error = %e, "cannot write the storage marker");
            }
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

/// Registers a user with a fresh uid.
fn insert_user(conn: &mut lamella_schema::Conn<'_>, handle: &str) -> Result<User> {
    let t = now();
    let mut users = vec![User {
        id: None,
        uid: base62_uid(uid_len::USER),
        handle: handle.to_string(),
        name: None,
        created_at: t,
        updated_at: t,
    }];
    User::insert_all(conn, &mut users)?;
    Ok(users.remove(0))
}

fn remove_sqlite_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// The record of the storage whose root is `root` (an instance's own): an error naming the
/// root when the database has none.
fn home_storage_record(conn: &mut lamella_schema::Conn<'_>, root: &str) -> Result<Storage> {
    QuerySpec::new(&registry::STORAGE)
        .filter("root", root)
        .load(conn)?
        .pop()
        .ok_or_else(|| Error::NotFound {
            suggestions: Vec::new(),
            registry: "Storage",
            what: format!("root '{root}'"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An embedding program's instance never touches the settings folder, from creation to
    /// deletion (the only unit test of this crate that sets the settings home).
    #[test]
    fn a_builder_instance_writes_no_settings_even_when_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        crate::settings::set_home(&home);
        let ln = Instance::builder(dir.path().join("data"))
            .cache_dir(dir.path().join("cache"))
            .create()
            .unwrap();
        ln.delete(InstanceDeletion::RefuseWithArtifacts).unwrap();
        assert!(!home.exists(), "the settings folder was created");
        assert!(!dir.path().join("data/.lamella/lamella.db").exists());
    }
}
