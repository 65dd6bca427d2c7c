//! Connections: the backend is chosen from the URL scheme, migrations are embedded and applied
//! on open, connections are pooled.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::ops::Opening;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[diesel::expression::functions::declare_sql_function]
extern "SQL" {
    /// Unicode-aware lower case on SQLite (its built-in `LOWER` folds ASCII only), so that
    /// `__icontains` and `__iexact` behave as on PostgreSQL.
    fn lamella_lower(
        x: diesel::sql_types::Nullable<diesel::sql_types::Text>,
    ) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub(crate) enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// The concrete connection behind a [`Conn`].
pub(crate) enum ConnRef<'a> {
    Postgresql(&'a mut PgConnection),
    Sqlite(&'a mut SqliteConnection),
}

/// Runs `$body` with `$c` bound to the concrete inner connection, so statements that do not
/// compile on the multi-backend (batch inserts, upserts, raw queries) work on both.
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match &mut $conn {
            $crate::db::ConnRef::Sqlite(inner) => {
                let $c: &mut diesel::sqlite::SqliteConnection = &mut **inner;
                $body
            }
            $crate::db::ConnRef::Postgresql(inner) => {
                let $c: &mut diesel::pg::PgConnection = &mut **inner;
                $body
            }
        }
    };
}
pub(crate) use with_conn;

/// Which database an instance uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend's display name.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A parsed database location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl DbUrl {
    /// Parses a database URL, choosing the backend from its scheme: `postgres://` /
    /// `postgresql://` → PostgreSQL; `sqlite:///abs/path` or `sqlite:path` → SQLite. Anything
    /// else — another scheme (`postgress://`, `mysql://`), a libpq keyword string
    /// (`host=… dbname=…`) or a bare path — is an error, never silently a SQLite file. Errors
    /// never repeat a password.
    ///
    /// ```
    /// use lamella_schema::DbUrl;
    /// assert!(matches!(DbUrl::parse("postgresql://u@localhost/db").unwrap(), DbUrl::Postgres(_)));
    /// assert!(matches!(DbUrl::parse("sqlite:///tmp/x.db").unwrap(), DbUrl::Sqlite(_)));
    /// assert!(DbUrl::parse("postgress://u@localhost/db").is_err());
    /// assert!(DbUrl::parse("host=db password=secret dbname=x").is_err());
    /// assert!(DbUrl::parse("/tmp/x.db").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<DbUrl> {
        let trimmed = url.trim();
        let unsupported = |hint: &str| Error::UnsupportedUrl {
            url: redact(trimmed),
            hint: hint.to_string(),
        };
        if trimmed.is_empty() {
            return Err(unsupported("it is empty"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(unsupported("it contains control characters"));
        }
        if let Some((scheme, rest)) = trimmed.split_once("://") {
            return match scheme.to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" if !rest.is_empty() => {
                    Ok(DbUrl::Postgres(trimmed.to_string()))
                }
                "sqlite" if !rest.is_empty() => Ok(DbUrl::Sqlite(PathBuf::from(rest))),
                "postgres" | "postgresql" | "sqlite" => Err(unsupported("it names no database")),
                _ => Err(unsupported("its scheme is not postgresql:// or sqlite://")),
            };
        }
        if let Some(rest) = trimmed.strip_prefix("sqlite:").filter(|r| !r.is_empty()) {
            return Ok(DbUrl::Sqlite(PathBuf::from(rest)));
        }
        if looks_like_keywords(trimmed) {
            return Err(unsupported(
                "it is a keyword connection string; write it as a URL such as \
                 postgresql://user@host:5432/dbname (the password can come from PGPASSWORD or \
                 ~/.pgpass)",
            ));
        }
        Err(unsupported("it has no scheme"))
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DbUrl::Sqlite(_) => Backend::Sqlite,
            DbUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL as it can be shown: passwords are replaced by `***`.
    pub fn display(&self) -> String {
        match self {
            DbUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DbUrl::Postgres(u) => redact(u),
        }
    }

    /// The URL as stored in settings (with password, if one was given).
    pub fn as_setting(&self) -> String {
        match self {
            DbUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DbUrl::Postgres(u) => u.clone(),
        }
    }
}

/// Whether `s` looks like a libpq keyword/value connection string (`host=… dbname=…`).
fn looks_like_keywords(s: &str) -> bool {
    s.split_whitespace().any(|w| {
        w.split_once('=').is_some_and(|(k, _)| {
            matches!(
                k.to_ascii_lowercase().as_str(),
                "host"
                    | "hostaddr"
                    | "port"
                    | "dbname"
                    | "user"
                    | "password"
                    | "sslmode"
                    | "passfile"
                    | "service"
            )
        })
    })
}

/// Replaces the password of `scheme://user:password@host` (and of a `password=` keyword) by
/// `***`. Works on malformed URLs too: everything between the first `:` after the scheme and
/// the last `@` of the authority is the password.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_keywords(url);
    };
    // The authority ends at the first '/', '?' or '#' after the last '@' … but a password may
    // itself hold '/', so take the last '@' before any '/' that follows it.
    let Some(at) = rest.rfind('@') else {
        return url.to_string();
    };
    let (userinfo, host) = (&rest[..at], &rest[at + 1..]);
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

fn redact_keywords(s: &str) -> String {
    s.split(' ')
        .map(|w| match w.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The password in a database URL (`scheme://user:password@host/…`), if it has one — to scrub
/// it from messages and logs.
pub fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let at = rest.rfind('@')?;
    let pw = rest[..at].split_once(':')?.1;
    (!pw.is_empty()).then_some(pw)
}

/// A driver message with the raw URL and its password removed.
pub(crate) fn scrub(message: &str, url: &str) -> String {
    let mut m = message.replace(url, &redact(url));
    // Very short passwords are not scrubbed letter by letter (that would garble the message);
    // the URL itself is always replaced above.
    if let Some(pw) = url_password(url).filter(|pw| pw.len() >= 4) {
        m = m.replace(pw, "***");
        // libpq may quote the URL percent-decoded
        if let Ok(decoded) = percent_decode(pw) {
            m = m.replace(&decoded, "***");
        }
    }
    m
}

pub(crate) fn percent_decode(s: &str) -> std::result::Result<String, ()> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).map_err(|_| ())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

struct Manager {
    url: DbUrl,
}

/// How long a SQLite connection waits for another writer's lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 60_000;

impl Manager {
    fn establish(&self) -> Result<AnyConnection> {
        match &self.url {
            DbUrl::Sqlite(path) => {
                let fail = |message: String| Error::Connect {
                    backend: "SQLite",
                    url: self.url.display(),
                    message,
                };
                let path_str = path
                    .to_str()
                    .ok_or_else(|| fail("the path is not valid UTF-8".into()))?;
                let mut c = SqliteConnection::establish(path_str).map_err(|e| {
                    fail(format!("{e}: check that the folder exists and is writable"))
                })?;
                // The busy timeout comes first: every later statement (even switching the
                // journal mode) may have to wait for another process's lock.
                c.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};"))
                    .map_err(|e| fail(sqlite_hint(&e)))?;
                c.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                     PRAGMA case_sensitive_like = ON; PRAGMA cache_size = -32768; \
                     PRAGMA temp_store = MEMORY;",
                )
                .map_err(|e| fail(sqlite_hint(&e)))?;
                // WAL is a property of the file: switch only when it is not set yet, since the
                // switch itself needs an exclusive lock.
                if sqlite_journal_mode(&mut c).map_err(|e| fail(sqlite_hint(&e)))? != "wal" {
                    c.batch_execute("PRAGMA journal_mode = WAL;")
                        .map_err(|e| fail(sqlite_hint(&e)))?;
                }
                // NULL in, NULL out (a nullable column such as a description), as LOWER does.
                lamella_lower_utils::register_impl(&mut c, |x: Option<String>| {
                    x.map(|x| x.to_lowercase())
                })
                .map_err(Error::from)?;
                Ok(AnyConnection::Sqlite(c))
            }
            DbUrl::Postgres(url) => {
                let failed = |message: String| Error::Connect {
                    backend: "PostgreSQL",
                    url: self.url.display(),
                    message,
                };
                let conninfo = crate::tls::conninfo(url).map_err(failed)?;
                let c = PgConnection::establish(&conninfo).map_err(|e| {
                    failed(format!(
                        "{}: check that the server is running and the URL is right",
                        scrub(&scrub(e.to_string().trim(), &conninfo), url)
                    ))
                })?;
                Ok(AnyConnection::Postgresql(c))
            }
        }
    }
}

/// The current journal mode of a SQLite connection (`wal`, `delete`, …).
fn sqlite_journal_mode(c: &mut SqliteConnection) -> diesel::QueryResult<String> {
    #[derive(diesel::QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    let rows: Vec<Mode> = diesel::sql_query("PRAGMA journal_mode").load(c)?;
    Ok(rows
        .into_iter()
        .next()
        .map(|m| m.journal_mode.to_ascii_lowercase())
        .unwrap_or_default())
}

/// A SQLite error with a hint that fits it.
fn sqlite_hint(e: &diesel::result::Error) -> String {
    let m = e.to_string();
    if is_lock_message(&m) {
        format!(
            "{m}: another process held the database lock for over {} s; try again",
            SQLITE_BUSY_TIMEOUT_MS / 1000
        )
    } else if m.contains("not a database") {
        format!("{m}: is this file a SQLite database?")
    } else {
        m
    }
}

fn is_lock_message(m: &str) -> bool {
    m.contains("database is locked") || m.contains("database is busy") || m.contains("SQLITE_BUSY")
}

/// Whether an error means a lock was not obtained in time (SQLite busy) or a PostgreSQL
/// transaction was chosen as a deadlock or serialization victim: safe to retry.
fn is_retryable(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as D};
    match e {
        D::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        D::DatabaseError(_, info) => {
            is_lock_message(info.message()) || info.message().contains("deadlock detected")
        }
        _ => false,
    }
}

/// A stable 64-bit key for a PostgreSQL advisory lock (FNV-1a of the name).
/// Lock buckets per kind of lock name (the part before the first `:`).
const LOCK_BUCKETS: u64 = 256;

/// The advisory lock of `name`: one of [`LOCK_BUCKETS`] locks of its kind, so a batch that
/// locks ten thousand names takes at most a few hundred locks (PostgreSQL's lock table is
/// small: 64 per connection by default). Every writer maps a name the same way, so two
/// writers of one name always meet; unrelated names share a bucket rarely, which only makes
/// one wait for the other. Kinds never share buckets, so the lock rounds of a save (content
/// hashes and keys, then version families) stay ordered.
fn bucket_key(name: &str) -> i64 {
    let kind = name.split(':').next().unwrap_or(name);
    let bucket = (lock_key(name) as u64) % LOCK_BUCKETS;
    lock_key(&format!("{kind}#{bucket}"))
}

fn lock_key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

#[derive(Debug)]
struct PoolError(Error);
impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
impl std::error::Error for PoolError {}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = PoolError;

    fn connect(&self) -> std::result::Result<AnyConnection, PoolError> {
        self.establish().map_err(PoolError)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> std::result::Result<(), PoolError> {
        conn.batch_execute("SELECT 1")
            .map_err(|e| PoolError(Error::from(e)))
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

/// Connections to one Lamella database, migrated to the embedded schema: the connection
/// opened first serves every call while it is free, so a one-shot command opens exactly one;
/// a pool for more connections is built only when calls overlap (parallel work).
pub struct Db {
    first: std::sync::Mutex<Option<AnyConnection>>,
    pool: std::sync::OnceLock<diesel::r2d2::Pool<Manager>>,
    url: DbUrl,
}

/// A connection checked out of a [`Db`]: its first connection (put back when dropped) or a
/// pooled one.
enum Checkout<'a> {
    First(&'a Db, Option<AnyConnection>),
    Pooled(diesel::r2d2::PooledConnection<Manager>),
}

impl std::ops::Deref for Checkout<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            Checkout::First(_, c) => c.as_ref().expect("present until dropped"),
            Checkout::Pooled(c) => c,
        }
    }
}

impl std::ops::DerefMut for Checkout<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Checkout::First(_, c) => c.as_mut().expect("present until dropped"),
            Checkout::Pooled(c) => c,
        }
    }
}

impl Drop for Checkout<'_> {
    fn drop(&mut self) {
        if let Checkout::First(db, c) = self
            && let Some(c) = c.take()
        {
            *db.first
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(c);
        }
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("url", &self.url.display())
            .finish()
    }
}

/// An open connection inside [`Db::transaction`] or [`Db::with_conn`]; the schema layer's
/// functions take it. Opaque so that callers never name diesel.
pub struct Conn<'a> {
    pub(crate) inner: ConnRef<'a>,
}

impl<'a> Conn<'a> {
    fn new(c: &'a mut AnyConnection) -> Self {
        Conn {
            inner: match c {
                AnyConnection::Sqlite(c) => ConnRef::Sqlite(c),
                AnyConnection::Postgresql(c) => ConnRef::Postgresql(c),
            },
        }
    }

    /// The backend of this connection.
    pub fn backend(&self) -> Backend {
        match self.inner {
            ConnRef::Sqlite(_) => Backend::Sqlite,
            ConnRef::Postgresql(_) => Backend::Postgres,
        }
    }

    /// Serialises this transaction against every other one that locks one of `names` (for
    /// example `artifact-key:3:iris/a.csv`): the locks are held until the transaction ends.
    /// On PostgreSQL these are transaction-level advisory locks, taken in sorted order so two
    /// writers never deadlock; on SQLite every write transaction already holds the database's
    /// single write lock (`BEGIN IMMEDIATE`), so this is a no-op.
    pub fn lock<S: AsRef<str>>(&mut self, names: &[S]) -> Result<()> {
        let ConnRef::Postgresql(c) = &mut self.inner else {
            return Ok(());
        };
        let mut keys: Vec<i64> = names.iter().map(|n| bucket_key(n.as_ref())).collect();
        keys.sort_unstable();
        keys.dedup();
        // A thousand locks per statement, taken in key order (the keys are our own integers,
        // so they are written into the statement).
        for chunk in keys.chunks(1000) {
            let values: Vec<String> = chunk.iter().map(|k| format!("({k})")).collect();
            diesel::sql_query(format!(
                "SELECT COUNT(pg_advisory_xact_lock(k)) FROM (SELECT k FROM (VALUES {}) AS v(k) \
                 ORDER BY k OFFSET 0) AS sorted",
                values.join(",")
            ))
            .execute(&mut **c)?;
        }
        Ok(())
    }
}

enum TxError<E> {
    Db(diesel::result::Error),
    User(E),
}

impl<E> From<diesel::result::Error> for TxError<E> {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(e)
    }
}

impl Db {
    /// Opens (and for SQLite creates) the database at `url`, then applies pending migrations.
    pub fn open(url: &DbUrl) -> Result<Db> {
        let manager = Manager { url: url.clone() };
        // Connect once directly: a bad URL fails now with the driver's message, instead of the
        // pool retrying until its timeout.
        let mut first = manager.establish()?;
        Db::migrate_first(&mut first, url, false)?;
        Ok(Db::with_first(first, url))
    }

    /// Opens an existing instance's database and reads what opening it needs — the instance
    /// row and the user with `handle` — in one statement, whose instance row also says which
    /// migrations the last full check found applied: a read-only command on PostgreSQL pays
    /// one round trip and one cold plan for all of it (the default storage's record is read
    /// by the caller when a command needs it). Only a database whose
    /// stamp is not this build's (or whose tables that statement cannot read) takes the full
    /// path: pending migrations are applied, the stamp is written when the database then has
    /// exactly this build's migrations, and a database without Lamella's tables is an error
    /// and left untouched. `None`: the database holds no instance row.
    pub fn open_instance(url: &DbUrl, handle: &str) -> Result<(Db, Option<Opening>)> {
        let mut first = Manager { url: url.clone() }.establish()?;
        let embedded = embedded_versions(&first);
        let fast = crate::ops::read_opening(&mut Conn::new(&mut first), handle, &embedded)
            .ok()
            .flatten()
            .filter(|(_, up_to_date)| *up_to_date);
        let opening = match fast {
            Some((opening, _)) => Some(opening),
            None => {
                Db::migrate_first(&mut first, url, true)?;
                if let Some(applied) = applied_versions(&mut first) {
                    crate::ops::stamp_migrations(&mut Conn::new(&mut first), &applied, &embedded);
                }
                crate::ops::read_opening(&mut Conn::new(&mut first), handle, &embedded)?
                    .map(|(opening, _)| opening)
            }
        };
        Ok((Db::with_first(first, url), opening))
    }

    /// Applies pending migrations on `first`; with `existing`, a database without Lamella's
    /// tables is an error and is left untouched.
    fn migrate_first(first: &mut AnyConnection, url: &DbUrl, existing: bool) -> Result<()> {
        // The common case, answered by one read: every migration applied (so the tables exist).
        if !up_to_date(first) {
            if existing && !has_lamella_tables(first)? {
                return Err(Error::NotInitialized { url: url.display() });
            }
            migrate(first, url)?;
        }
        Ok(())
    }

    fn with_first(first: AnyConnection, url: &DbUrl) -> Db {
        Db {
            first: std::sync::Mutex::new(Some(first)),
            pool: std::sync::OnceLock::new(),
            url: url.clone(),
        }
    }

    /// The first connection when it is free, else one from the pool (built on first need).
    fn checkout(&self) -> Result<Checkout<'_>> {
        let free = self
            .first
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(c) = free {
            return Ok(Checkout::First(self, Some(c)));
        }
        let pool = self.pool.get_or_init(|| {
            let max = match self.url.backend() {
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            };
            diesel::r2d2::Pool::builder()
                .max_size(max)
                .min_idle(Some(0))
                .connection_timeout(Duration::from_secs(30))
                .test_on_check_out(false)
                .build_unchecked(Manager {
                    url: self.url.clone(),
                })
        });
        let pooled = pool.get().map_err(|e| Error::Pool(e.to_string()))?;
        Ok(Checkout::Pooled(pooled))
    }

    /// The database's URL.
    pub fn url(&self) -> &DbUrl {
        &self.url
    }

    /// The database's backend.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// Runs `f` on a pooled connection, outside any transaction.
    pub fn with_conn<T, E: From<Error>>(
        &self,
        f: impl FnOnce(&mut Conn<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut pooled = self.checkout()?;
        let mut conn = Conn::new(&mut pooled);
        f(&mut conn)
    }

    /// Runs `f` in one write transaction: committed when `f` returns `Ok`, rolled back
    /// otherwise. On SQLite the transaction takes the write lock up front (`BEGIN IMMEDIATE`),
    /// waiting for other writers instead of failing half-way; if the lock still cannot be had,
    /// the attempt is repeated a few times before `f` ever runs. See also [`Conn::lock`].
    pub fn transaction<T, E: From<Error>>(
        &self,
        f: impl FnOnce(&mut Conn<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut f = Some(f);
        let mut attempt = 0u32;
        loop {
            let mut pooled = self.checkout()?;
            let inner: &mut AnyConnection = &mut pooled;
            let mut body = |c: Conn<'_>| {
                let mut c = c;
                match f.take() {
                    Some(f) => f(&mut c).map_err(TxError::User),
                    None => Err(TxError::Db(diesel::result::Error::RollbackTransaction)),
                }
            };
            let result = match inner {
                AnyConnection::Sqlite(c) => c.immediate_transaction::<T, TxError<E>, _>(|c| {
                    body(Conn {
                        inner: ConnRef::Sqlite(c),
                    })
                }),
                AnyConnection::Postgresql(c) => c.transaction::<T, TxError<E>, _>(|c| {
                    body(Conn {
                        inner: ConnRef::Postgresql(c),
                    })
                }),
            };
            match result {
                Ok(v) => return Ok(v),
                Err(TxError::User(e)) => return Err(e),
                // The lock was not had before `f` ran: nothing happened yet, try again.
                Err(TxError::Db(e)) if f.is_some() && is_retryable(&e) && attempt < 8 => {
                    attempt += 1;
                    tracing::debug!(attempt, "database busy, retrying the transaction");
                    std::thread::sleep(backoff(attempt));
                }
                Err(TxError::Db(e)) => return Err(E::from(Error::from(e))),
            }
        }
    }

    /// Drops every Lamella table (PostgreSQL) so the database holds no trace of the instance.
    /// For SQLite the caller removes the file instead.
    pub fn drop_all_tables(&self) -> Result<()> {
        self.with_conn(|c| {
            let mut sql = String::new();
            for t in crate::registry::ALL_TABLES.iter().rev() {
                sql.push_str(&format!("DROP TABLE IF EXISTS {t};"));
            }
            sql.push_str("DROP TABLE IF EXISTS __diesel_schema_migrations;");
            with_conn!(c.inner, |c| c.batch_execute(&sql)).map_err(Error::from)
        })
    }
}

/// A growing, jittered pause before retry `attempt` (1, 2, …).
fn backoff(attempt: u32) -> Duration {
    let base = 20u64 << attempt.min(6);
    let jitter = u64::from(std::process::id() ^ attempt.wrapping_mul(7919)) % base.max(1);
    Duration::from_millis(base + jitter)
}

/// Whether the database already holds Lamella's tables.
fn has_lamella_tables(conn: &mut AnyConnection) -> Result<bool> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<Found> = match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = \
             'lamella_instance'",
        )
        .load(c)?,
        AnyConnection::Postgresql(c) => diesel::sql_query(
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = \
             current_schema() AND table_name = 'lamella_instance'",
        )
        .load(c)?,
    };
    Ok(rows.first().is_some_and(|r| r.n > 0))
}

/// The versions of the embedded migrations the database has applied, read with one `SELECT`
/// (no DDL); `None` when the bookkeeping table does not exist yet.
fn applied_versions(conn: &mut AnyConnection) -> Option<std::collections::HashSet<String>> {
    #[derive(diesel::QueryableByName)]
    struct Applied {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let q = diesel::sql_query("SELECT version FROM __diesel_schema_migrations");
    let rows: Vec<Applied> = match conn {
        AnyConnection::Sqlite(c) => q.load(c).ok()?,
        AnyConnection::Postgresql(c) => q.load(c).ok()?,
    };
    Some(rows.into_iter().map(|r| r.version).collect())
}

/// Whether every embedded migration of `conn`'s backend is applied: the common case of every
/// open, answered by one read.
fn up_to_date(conn: &mut AnyConnection) -> bool {
    let Some(applied) = applied_versions(conn) else {
        return false;
    };
    let versions = embedded_versions(conn);
    !versions.is_empty() && versions.iter().all(|v| applied.contains(v))
}

/// The versions of the migrations embedded for `conn`'s backend.
fn embedded_versions(conn: &AnyConnection) -> Vec<String> {
    use diesel::migration::MigrationSource;
    match conn {
        AnyConnection::Sqlite(_) => {
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect())
                .unwrap_or_default()
        }
        AnyConnection::Postgresql(_) => {
            MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
                .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect())
                .unwrap_or_default()
        }
    }
}

fn migrate(conn: &mut AnyConnection, url: &DbUrl) -> Result<()> {
    let err = |message: String| Error::Migration {
        backend: url.backend().name(),
        url: url.display(),
        message,
    };
    if up_to_date(conn) {
        return Ok(());
    }
    match conn {
        AnyConnection::Sqlite(c) => {
            // Most opens find nothing to do and take no lock; otherwise the write lock
            // serialises concurrent first opens, and the check is repeated under it.
            if !c
                .has_pending_migration(SQLITE_MIGRATIONS)
                .map_err(|e| err(e.to_string()))?
            {
                return Ok(());
            }
            c.immediate_transaction(|c| {
                c.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(|_| ())
                    .map_err(|e| err(e.to_string()))
            })
        }
        AnyConnection::Postgresql(c) => {
            if !c
                .has_pending_migration(POSTGRES_MIGRATIONS)
                .map_err(|e| err(e.to_string()))?
            {
                return Ok(());
            }
            // Concurrent first connections (tests, several processes) must not race on
            // creating the schema: serialize migrations with an advisory lock.
            diesel::sql_query("SELECT pg_advisory_lock(727274)")
                .execute(c)
                .map_err(|e| err(e.to_string()))?;
            let r = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|_| ())
                .map_err(|e| err(e.to_string()));
            let _ = diesel::sql_query("SELECT pg_advisory_unlock(727274)").execute(c);
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_versions_are_unique_and_numeric() {
        use diesel::migration::MigrationSource;
        let versions = [
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                .unwrap()
                .iter()
                .map(|m| m.name().version().to_string())
                .collect::<Vec<_>>(),
            MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
                .unwrap()
                .iter()
                .map(|m| m.name().version().to_string())
                .collect::<Vec<_>>(),
        ];
        for v in versions {
            let unique: std::collections::HashSet<&String> = v.iter().collect();
            // Two folders with one timestamp would share a version: one of them never runs.
            assert_eq!(unique.len(), v.len(), "{v:?}");
            assert!(crate::ops::migrations_stamp(&v).is_some(), "{v:?}");
        }
    }

    #[test]
    fn urls_choose_backend_by_scheme() {
        assert_eq!(
            DbUrl::parse("postgres://a@b/c").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DbUrl::parse("postgresql://a:pw@b:5432/c")
                .unwrap()
                .display(),
            "postgresql://a:***@b:5432/c"
        );
        assert_eq!(
            DbUrl::parse("sqlite:///tmp/a.db").unwrap(),
            DbUrl::Sqlite("/tmp/a.db".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite:a.db").unwrap(),
            DbUrl::Sqlite("a.db".into())
        );
        for bad in [
            "postgress://a@b/c",
            "mysql://x",
            "postgres://",
            "postgres:x",
            "",
            "./a.db",
            "/tmp/a.db",
            "host=localhost password=hunter22 dbname=x",
        ] {
            let e = DbUrl::parse(bad).unwrap_err();
            assert!(
                e.to_string().contains("unsupported database URL"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn passwords_never_appear_in_errors() {
        for url in [
            "postgresql://u:hunter22@[bad/x",
            "postgresql://u:hunter22@host:notaport/db",
            "host=db password=hunter22 dbname=x",
            "mysql://u:hunter22@h/db",
        ] {
            let msg = match DbUrl::parse(url) {
                Ok(u) => Db::open(&u).unwrap_err().to_string(),
                Err(e) => e.to_string(),
            };
            assert!(!msg.contains("hunter22"), "{url}: {msg}");
        }
        assert_eq!(
            redact("postgresql://u:p@ss@h/db"),
            "postgresql://u:***@h/db"
        );
        assert_eq!(redact("host=h password=x"), "host=h password=***");
    }

    #[test]
    fn lock_keys_are_stable() {
        assert_eq!(lock_key("a"), lock_key("a"));
        assert_ne!(lock_key("artifact-key:1:a"), lock_key("artifact-key:1:b"));
        // Ten thousand names of one kind take at most LOCK_BUCKETS locks, and kinds never
        // share a bucket.
        let keys: std::collections::HashSet<i64> = (0..10_000)
            .map(|i| bucket_key(&format!("artifact-hash:{i}")))
            .collect();
        assert!(keys.len() <= LOCK_BUCKETS as usize && keys.len() > 200);
        let families: std::collections::HashSet<i64> = (0..10_000)
            .map(|i| bucket_key(&format!("artifact-family:{i}")))
            .collect();
        assert!(keys.is_disjoint(&families));
        assert_eq!(bucket_key("names:x"), bucket_key("names:x"));
    }

    #[test]
    fn bad_postgres_url_is_an_error_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::parse("postgresql://nobody@127.0.0.1:1/none").unwrap();
        let e = Db::open(&url).unwrap_err();
        assert!(
            e.to_string().contains("cannot connect to PostgreSQL"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn sqlite_opens_and_migrates_twice() {
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::Sqlite(dir.path().join("x.db"));
        Db::open(&url).unwrap();
        // a second open of a migrated file switches nothing and takes no lock
        let mut c = Manager { url: url.clone() }.establish().unwrap();
        let AnyConnection::Sqlite(inner) = &mut c else {
            panic!("not SQLite")
        };
        assert_eq!(sqlite_journal_mode(inner).unwrap(), "wal");
        let db = Db::open(&url).unwrap();
        assert_eq!(db.backend(), Backend::Sqlite);
    }

    #[test]
    fn migrations_are_checked_with_one_read() {
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::Sqlite(dir.path().join("x.db"));
        let mut fresh = Manager { url: url.clone() }.establish().unwrap();
        assert!(applied_versions(&mut fresh).is_none());
        assert!(!up_to_date(&mut fresh));
        drop(fresh);
        Db::open(&url).unwrap();
        let mut c = Manager { url: url.clone() }.establish().unwrap();
        assert!(up_to_date(&mut c));
        // A migration the database lacks is seen as pending.
        c.batch_execute(
            "DELETE FROM __diesel_schema_migrations WHERE version = \
             (SELECT MAX(version) FROM __diesel_schema_migrations)",
        )
        .unwrap();
        assert!(!up_to_date(&mut c));
    }

    #[test]
    fn opening_trusts_the_migrations_stamp_only_when_it_is_this_builds() {
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::Sqlite(dir.path().join("x.db"));
        let db = Db::open(&url).unwrap();
        let (_, none) = Db::open_instance(&url, "ann").unwrap();
        assert!(none.is_none(), "no instance row yet");
        let t = crate::now();
        db.with_conn(|c| {
            crate::insert_instance(
                c,
                &crate::InstanceRow {
                    id: None,
                    uid: "abcdefghijkl".into(),
                    storage_root: "/nowhere".into(),
                    lamella_version: "test".into(),
                    created_at: t,
                },
            )
        })
        .unwrap();
        let mut c = Manager { url: url.clone() }.establish().unwrap();
        let embedded = embedded_versions(&c);
        let fast = |c: &mut AnyConnection| {
            crate::ops::read_opening(&mut Conn::new(c), "ann", &embedded)
                .unwrap()
                .unwrap()
                .1
        };
        let stamp = |c: &mut AnyConnection| {
            #[derive(diesel::QueryableByName)]
            struct S {
                #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
                migrations: Option<String>,
            }
            let AnyConnection::Sqlite(s) = c else {
                unreachable!()
            };
            diesel::sql_query("SELECT migrations FROM lamella_instance")
                .get_result::<S>(s)
                .unwrap()
                .migrations
        };
        assert!(!fast(&mut c), "a new instance row has no stamp yet");
        // The full check finds exactly this build's migrations and stamps the row.
        let (_, opening) = Db::open_instance(&url, "ann").unwrap();
        let opening = opening.unwrap();
        assert_eq!(opening.instance.uid, "abcdefghijkl");
        assert!(opening.user.is_none());
        assert!(fast(&mut c), "stamped by the full check");
        let ours = stamp(&mut c).unwrap();
        assert_eq!(
            ours,
            crate::ops::migrations_stamp(&embedded).unwrap(),
            "count, newest and sum of this build's versions"
        );
        // Another build's stamp sends the open down the full check, which stamps again
        // when the database has exactly this build's migrations.
        c.batch_execute("UPDATE lamella_instance SET migrations = '1 20000101000000 1'")
            .unwrap();
        assert!(!fast(&mut c));
        Db::open_instance(&url, "ann").unwrap();
        assert_eq!(stamp(&mut c).as_deref(), Some(ours.as_str()));
        // A database a newer release migrated opens, and keeps that release's stamp.
        c.batch_execute(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('99990101000000'); \
             UPDATE lamella_instance SET migrations = 'newer'",
        )
        .unwrap();
        let (_, opening) = Db::open_instance(&url, "ann").unwrap();
        assert!(opening.is_some());
        assert!(
            up_to_date(&mut c),
            "the full check accepts a newer database"
        );
        assert_eq!(stamp(&mut c).as_deref(), Some("newer"));
        assert!(!fast(&mut c));
        // Back at exactly this build's migrations, a cleared stamp is written again.
        c.batch_execute(
            "DELETE FROM __diesel_schema_migrations WHERE version = '99990101000000'; \
             UPDATE lamella_instance SET migrations = NULL",
        )
        .unwrap();
        Db::open_instance(&url, "ann").unwrap();
        assert!(fast(&mut c));
    }

    #[test]
    fn one_connection_until_calls_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&DbUrl::Sqlite(dir.path().join("x.db"))).unwrap();
        for _ in 0..3 {
            db.with_conn(|c| crate::instance_row(c).map(|_| ()))
                .unwrap();
        }
        assert!(
            db.pool.get().is_none(),
            "sequential calls share the first connection"
        );
        // Overlapping calls: the inner one gets a pooled connection.
        db.with_conn(|_| db.with_conn(|c| crate::instance_row(c).map(|_| ())))
            .unwrap();
        assert!(db.pool.get().is_some());
        let results: Vec<Result<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| db.with_conn(|c| crate::instance_row(c).map(|_| ()))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        assert!(results.iter().all(Result::is_ok));
    }
}
