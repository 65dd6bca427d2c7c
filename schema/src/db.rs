//! Connections: the backend is chosen from the URL scheme, migrations are embedded and applied
//! on open, connections are pooled.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[diesel::expression::functions::declare_sql_function]
extern "SQL" {
    /// Unicode-aware lower case on SQLite (its built-in `LOWER` folds ASCII only), so that
    /// `__icontains` and `__iexact` behave as on PostgreSQL.
    fn lamella_lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub(crate) enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the concrete inner connection, so statements that do not
/// compile on the multi-backend (batch inserts, upserts, raw queries) work on both.
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Sqlite($c) => $body,
            $crate::db::AnyConnection::Postgresql($c) => $body,
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
    /// Parses a URL, choosing the backend from its scheme: `postgres://` / `postgresql://` →
    /// PostgreSQL; `sqlite://path`, `sqlite:path` or a plain path → SQLite. Any other scheme
    /// (`postgress://`, `mysql://`, …) is an error, never silently a SQLite file.
    ///
    /// ```
    /// use lamella_schema::DbUrl;
    /// assert!(matches!(DbUrl::parse("postgresql://u@localhost/db").unwrap(), DbUrl::Postgres(_)));
    /// assert!(matches!(DbUrl::parse("/tmp/x.db").unwrap(), DbUrl::Sqlite(_)));
    /// assert!(DbUrl::parse("postgress://u@localhost/db").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<DbUrl> {
        let trimmed = url.trim();
        if trimmed.is_empty() {
            return Err(Error::UnsupportedUrl { url: String::new() });
        }
        if let Some((scheme, rest)) = trimmed.split_once("://") {
            return match scheme.to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" if !rest.is_empty() => {
                    Ok(DbUrl::Postgres(trimmed.to_string()))
                }
                "sqlite" if !rest.is_empty() => Ok(DbUrl::Sqlite(PathBuf::from(rest))),
                _ => Err(Error::UnsupportedUrl {
                    url: redact(trimmed),
                }),
            };
        }
        if let Some(rest) = trimmed.strip_prefix("sqlite:") {
            return Ok(DbUrl::Sqlite(PathBuf::from(rest)));
        }
        if trimmed.contains(':') && !Path::new(trimmed).is_absolute() && !cfg!(windows) {
            // `postgres:foo`, `host:5432/db` … look like a mistyped URL, not a file name.
            return Err(Error::UnsupportedUrl {
                url: redact(trimmed),
            });
        }
        Ok(DbUrl::Sqlite(PathBuf::from(trimmed)))
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

/// Replaces the password of `scheme://user:password@host` by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

struct Manager {
    url: DbUrl,
}

impl Manager {
    fn establish(&self) -> Result<AnyConnection> {
        match &self.url {
            DbUrl::Sqlite(path) => {
                let path_str = path.to_str().ok_or_else(|| Error::Connect {
                    backend: "SQLite",
                    url: self.url.display(),
                    message: "the path is not valid UTF-8".into(),
                })?;
                let mut c = SqliteConnection::establish(path_str).map_err(|e| Error::Connect {
                    backend: "SQLite",
                    url: self.url.display(),
                    message: format!("{e}: check that the folder exists and is writable"),
                })?;
                c.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; \
                     PRAGMA case_sensitive_like = ON;",
                )
                .map_err(|e| Error::Connect {
                    backend: "SQLite",
                    url: self.url.display(),
                    message: format!("{e}: is this file a SQLite database?"),
                })?;
                lamella_lower_utils::register_impl(&mut c, |x: String| x.to_lowercase())
                    .map_err(Error::Query)?;
                Ok(AnyConnection::Sqlite(c))
            }
            DbUrl::Postgres(url) => {
                let c = PgConnection::establish(url).map_err(|e| Error::Connect {
                    backend: "PostgreSQL",
                    url: self.url.display(),
                    message: format!(
                        "{}: check that the server is running and the URL is right",
                        e.to_string().trim()
                    ),
                })?;
                Ok(AnyConnection::Postgresql(c))
            }
        }
    }
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
            .map_err(|e| PoolError(Error::Query(e)))
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

/// A pool of connections to one Lamella database, migrated to the embedded schema.
pub struct Db {
    pool: diesel::r2d2::Pool<Manager>,
    url: DbUrl,
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
    pub(crate) inner: &'a mut AnyConnection,
}

impl Conn<'_> {
    /// The backend of this connection.
    pub fn backend(&self) -> Backend {
        match self.inner {
            AnyConnection::Sqlite(_) => Backend::Sqlite,
            AnyConnection::Postgresql(_) => Backend::Postgres,
        }
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
        Db::open_inner(url, false)
    }

    /// Opens a database that must already hold Lamella's tables (connecting to an instance):
    /// a database without them is an error and is left untouched.
    pub fn open_existing(url: &DbUrl) -> Result<Db> {
        Db::open_inner(url, true)
    }

    fn open_inner(url: &DbUrl, existing: bool) -> Result<Db> {
        let manager = Manager { url: url.clone() };
        // Connect once directly: a bad URL fails now with the driver's message, instead of the
        // pool retrying until its timeout.
        let mut first = manager.establish()?;
        if existing && !has_lamella_tables(&mut first)? {
            return Err(Error::NotInitialized { url: url.display() });
        }
        migrate(&mut first, url)?;
        drop(first);
        let max = match url.backend() {
            Backend::Sqlite => 4,
            Backend::Postgres => 8,
        };
        let pool = diesel::r2d2::Pool::builder()
            .max_size(max)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(30))
            .test_on_check_out(false)
            .build_unchecked(manager);
        Ok(Db {
            pool,
            url: url.clone(),
        })
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
        let mut pooled = self.pool.get().map_err(|e| Error::Pool(e.to_string()))?;
        let mut conn = Conn { inner: &mut pooled };
        f(&mut conn)
    }

    /// Runs `f` in one transaction: committed when `f` returns `Ok`, rolled back otherwise.
    pub fn transaction<T, E: From<Error>>(
        &self,
        f: impl FnOnce(&mut Conn<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut pooled = self.pool.get().map_err(|e| Error::Pool(e.to_string()))?;
        let inner: &mut AnyConnection = &mut pooled;
        let result = inner.transaction::<T, TxError<E>, _>(|c| {
            let mut conn = Conn { inner: c };
            f(&mut conn).map_err(TxError::User)
        });
        match result {
            Ok(v) => Ok(v),
            Err(TxError::User(e)) => Err(e),
            Err(TxError::Db(e)) => Err(E::from(Error::Query(e))),
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
            c.inner.batch_execute(&sql).map_err(Error::Query)
        })
    }
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

fn migrate(conn: &mut AnyConnection, url: &DbUrl) -> Result<()> {
    let err = |message: String| Error::Migration {
        backend: url.backend().name(),
        url: url.display(),
        message,
    };
    match conn {
        AnyConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|_| ())
            .map_err(|e| err(e.to_string())),
        AnyConnection::Postgresql(c) => {
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
            DbUrl::parse("./a.db").unwrap(),
            DbUrl::Sqlite("./a.db".into())
        );
        for bad in [
            "postgress://a@b/c",
            "mysql://x",
            "postgres://",
            "postgres:x",
            "",
        ] {
            let e = DbUrl::parse(bad).unwrap_err();
            assert!(
                e.to_string().contains("unsupported database URL"),
                "{bad}: {e}"
            );
        }
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
        let db = Db::open(&url).unwrap();
        assert_eq!(db.backend(), Backend::Sqlite);
    }
}
