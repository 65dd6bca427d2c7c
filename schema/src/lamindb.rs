//! Reading a LaminDB instance's database (read-only): its layout (0.72's `lnschema_core_*`
//! tables or 1.x/2.x's `lamindb_*`), and its registries as plain rows in one shape for both
//! layouts. The SQL renames each layout's columns to the shape of these rows, so the importer
//! (in `lamella-core`) never sees which layout it reads. Nothing here writes to the source:
//! SQLite is opened with `mode=ro`, PostgreSQL in read-only transactions.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use std::path::Path;

use crate::error::{Error, Result};

/// Which LaminDB generation wrote the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// lamindb 0.x: `lnschema_core_*` tables, `visibility`, `FeatureSet`, `hash_type`.
    Core {
        /// The newest `lnschema_core` migration applied (e.g. `0052_squashed`).
        migration: String,
    },
    /// lamindb 1.x/2.x: `lamindb_*` tables, `branch_id`, `Schema`, `_hash_type`,
    /// `version_tag`, ULabel types.
    Lamindb {
        /// The newest `lamindb` migration applied (e.g. `0193_squashed`).
        migration: String,
    },
}

/// The oldest and newest migrations of each layout this reader knows.
pub const KNOWN_CORE: (&str, &str) = ("0037", "0052");
/// The `lamindb` app's migrations this reader knows (1.0 squashed to 2.12).
pub const KNOWN_LAMINDB: (&str, &str) = ("0069", "0193");

impl Layout {
    /// `lamindb 0.x (lnschema_core 0052_squashed)`, for reports.
    pub fn describe(&self) -> String {
        match self {
            Layout::Core { migration } => format!("lamindb 0.x (lnschema_core {migration})"),
            Layout::Lamindb { migration } => format!("lamindb 1.x/2.x (lamindb {migration})"),
        }
    }

    fn prefix(&self) -> &'static str {
        match self {
            Layout::Core { .. } => "lnschema_core_",
            Layout::Lamindb { .. } => "lamindb_",
        }
    }
}

enum SourceConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// An open LaminDB database.
pub struct Source {
    conn: SourceConn,
    layout: Layout,
    /// Columns of the tables read, for columns that come and go between versions.
    columns: std::collections::HashMap<String, Vec<String>>,
}

fn fail(message: impl Into<String>) -> Error {
    Error::Source(message.into())
}

/// One user.
// The fields are LaminDB's columns under the names given in the SQL.
#[allow(missing_docs)]
#[derive(Debug, Clone, QueryableByName)]
pub struct User {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub uid: String,
    #[diesel(sql_type = Text)]
    pub handle: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = Text)]
    pub created_at: String,
    #[diesel(sql_type = Text)]
    pub updated_at: String,
}

/// One storage location (its root as recorded, before any rebasing).
// The fields are LaminDB's columns under the names given in the SQL.
#[allow(missing_docs)]
#[derive(Debug, Clone, QueryableByName)]
pub struct Storage {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub uid: String,
    #[diesel(sql_type = Text)]
    pub root: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub region: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub instance_uid: Option<String>,
    #[diesel(sql_type = Text)]
    pub created_at: String,
    #[diesel(sql_type = BigInt)]
    pub created_by_id: i64,
}

/// One label; `is_type` and `type_id` are 2.x's label types (0 and `None` in 0.x).
// The fields are LaminDB's columns under the names given in the SQL.
#[allow(missing_docs)]
#[derive(Debug, Clone, QueryableByName)]
pub struct ULabel {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub uid: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference_type: Option<String>,
    #[diesel(sql_type = Integer)]
    pub is_type: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub type_id: Option<i64>,
    #[diesel(sql_type = Text)]
    pub created_at: String,
    #[diesel(sql_type = Text)]
    pub updated_at: String,
    #[diesel(sql_type = BigInt)]
    pub created_by_id: i64,
}

/// A pair of ids: `(child, parent)` for hierarchies, `(set, feature)` for members, …
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct Pair {
    #[diesel(sql_type = BigInt)]
    pub a: i64,
    #[diesel(sql_type = BigInt)]
    pub b: i64,
}

/// One feature; `dtype` as LaminDB wrote it.
// The fields are LaminDB's columns under the names given in the SQL.
#[allow(missing_docs)]
#[derive(Debug, Clone, QueryableByName)]
pub struct Feature {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub uid: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub dtype: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub unit: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub synonyms: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub nullable: Option<i32>,
    #[diesel(sql_type = Text)]
    pub created_at: String,
    #[diesel(sql_type = Text)]
    pub updated_at: String,
    #[diesel(sql_type = BigInt)]
    pub created_by_id: i64,
}

/// One feature set (0.x) or schema (2.x).
// The fields are LaminDB's columns under the names given in the SQL.
#[allow(missing_docs)]
#[derive(Debug, Clone, QueryableByName)]
pub struct FeatureSet {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub uid: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub n: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub dtype: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub registry: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub hash: Option<String>,
    #[diesel(sql_type = Text)]
    pub created_at: String,
    #[diesel(sql_type = BigInt)]
    pub created_by_id: i64,
}

/// A feature set linked to an artifact or collection under a slot.
// The fields are LaminDB's columns under the names given in the SQL.
#[allow(missing_docs)]
#[derive(Debug, Clone, QueryableByName)]
pub struct SlotLink {
    /// `a` (artifact) or `c` (collection).
    #[diesel(sql_type = Text)]
    pub owner: String,
    #[diesel(sql_type = BigInt)]
    pub owner_id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub slot: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub set_id: i64,
}

/// One artifact, in one shape for both layouts.
// The fields are LaminDB's columns under the names given in the SQL.
#[allow(missing_docs)]
#[derive(Debug, Clone, QueryableByName)]
pub struct Artifact {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub uid: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub suffix: Option<String>,
    /// 0.x `accessor`, 2.x `otype`.
    #[diesel(sql_type = Nullable<Text>)]
    pub accessor: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub size: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub hash: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub hash_type: Option<String>,
    /// 0.x `n_objects`, 2.x `n_files`.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub n_objects: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub n_observations: Option<i64>,
    /// 0.x `version`, 2.x `version_tag`.
    #[diesel(sql_type = Nullable<Text>)]
    pub version: Option<String>,
    /// 2.x `is_latest`; 0.x has none (`-1`: work it out from the family).
    #[diesel(sql_type = Integer)]
    pub is_latest: i32,
    /// 0.x `visibility`, 2.x `branch_id` (1 main, 0 archive, -1 trash).
    #[diesel(sql_type = BigInt)]
    pub visibility: i64,
    #[diesel(sql_type = Integer)]
    pub key_is_virtual: i32,
    #[diesel(sql_type = Integer)]
    pub overwrite_versions: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub real_key: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub run_id: Option<i64>,
    /// 0.x has it; 2.x through the run.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub transform_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    pub storage_id: i64,
    #[diesel(sql_type = Text)]
    pub created_at: String,
    #[diesel(sql_type = Text)]
    pub updated_at: String,
    #[diesel(sql_type = BigInt)]
    pub created_by_id: i64,
}

/// A label linked to an artifact or collection, through a feature or not.
// The fields are LaminDB's columns under the names given in the SQL.
#[allow(missing_docs)]
#[derive(Debug, Clone, QueryableByName)]
pub struct LabelLink {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// `a` or `c`.
    #[diesel(sql_type = Text)]
    pub owner: String,
    #[diesel(sql_type = BigInt)]
    pub owner_id: i64,
    #[diesel(sql_type = BigInt)]
    pub ulabel_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub feature_id: Option<i64>,
}

/// A feature value linked to an artifact: the value as LaminDB's JSON text.
// The fields are LaminDB's columns under the names given in the SQL.
#[allow(missing_docs)]
#[derive(Debug, Clone, QueryableByName)]
pub struct ValueLink {
    #[diesel(sql_type = BigInt)]
    pub artifact_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub feature_id: Option<i64>,
    #[diesel(sql_type = Text)]
    pub value: String,
}

/// One collection (2.x: its `key` is its name).
// The fields are LaminDB's columns under the names given in the SQL.
#[allow(missing_docs)]
#[derive(Debug, Clone, QueryableByName)]
pub struct Collection {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub uid: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub hash: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub version: Option<String>,
    #[diesel(sql_type = Integer)]
    pub is_latest: i32,
    #[diesel(sql_type = BigInt)]
    pub visibility: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference_type: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub run_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub transform_id: Option<i64>,
    #[diesel(sql_type = Text)]
    pub created_at: String,
    #[diesel(sql_type = Text)]
    pub updated_at: String,
    #[diesel(sql_type = BigInt)]
    pub created_by_id: i64,
}

/// One transform (0.x `name`/`type`, 2.x `key`/`kind`).
// The fields are LaminDB's columns under the names given in the SQL.
#[allow(missing_docs)]
#[derive(Debug, Clone, QueryableByName)]
pub struct Transform {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub uid: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub kind: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub version: Option<String>,
    #[diesel(sql_type = Integer)]
    pub is_latest: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference_type: Option<String>,
    #[diesel(sql_type = Text)]
    pub created_at: String,
    #[diesel(sql_type = Text)]
    pub updated_at: String,
    #[diesel(sql_type = BigInt)]
    pub created_by_id: i64,
}

/// One run.
// The fields are LaminDB's columns under the names given in the SQL.
#[allow(missing_docs)]
#[derive(Debug, Clone, QueryableByName)]
pub struct Run {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub uid: String,
    #[diesel(sql_type = BigInt)]
    pub transform_id: i64,
    #[diesel(sql_type = Text)]
    pub started_at: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub finished_at: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub is_consecutive: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference_type: Option<String>,
    #[diesel(sql_type = Text)]
    pub created_at: String,
    #[diesel(sql_type = BigInt)]
    pub created_by_id: i64,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A LaminDB timestamp (naive UTC text, `2026-12-04 14:12:13.562`, also with `T`, an
/// offset or no fraction) as a UTC time.
pub fn timestamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let fixed = match s.len().checked_sub(3).map(|i| s.split_at(i)) {
        // PostgreSQL's text of a timestamptz ends `+00`
        Some((head, tail))
            if (tail.starts_with('+') || tail.starts_with('-')) && head.len() > 10 =>
        {
            format!("{head}{tail}:00")
        }
        _ => s.to_string(),
    };
    crate::query::parse_timestamp(&fixed.replacen(' ', "T", 1))
        .or_else(|| crate::query::parse_timestamp(s))
}

impl Source {
    /// Opens a LaminDB SQLite database read-only (a running LaminDB's lock is waited for a
    /// few seconds, then reported).
    pub fn open_sqlite(path: &Path) -> Result<Source> {
        let shown = path.display().to_string();
        if !path.is_file() {
            return Err(fail(format!(
                "{shown} is not a file: give a LaminDB storage root (the folder holding \
                 .lamindb/), its lamin.db, or a postgresql:// URL"
            )));
        }
        let absolute =
            std::fs::canonicalize(path).map_err(|e| fail(format!("cannot open {shown}: {e}")))?;
        let url = format!("file:{}?mode=ro", absolute.display());
        let mut c = SqliteConnection::establish(&url)
            .map_err(|e| fail(format!("cannot open {shown} as a SQLite database: {e}")))?;
        c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA query_only = ON;")
            .map_err(|e| fail(format!("cannot read {shown}: {e}")))?;
        Source::detect(SourceConn::Sqlite(c), &shown)
    }

    /// Opens a LaminDB PostgreSQL database for reading only.
    pub fn open_postgres(url: &str) -> Result<Source> {
        let shown = crate::db::redact(url);
        let conninfo = crate::tls::conninfo(url)
            .map_err(|e| fail(format!("cannot connect to {shown}: {e}")))?;
        let mut c = PgConnection::establish(&conninfo).map_err(|e| {
            fail(format!(
                "cannot connect to {shown}: {}",
                crate::db::scrub(&crate::db::scrub(&e.to_string(), &conninfo), url)
            ))
        })?;
        c.batch_execute("SET default_transaction_read_only = on;")
            .map_err(|e| fail(format!("cannot read {shown}: {e}")))?;
        Source::detect(SourceConn::Postgres(c), &shown)
    }

    fn detect(mut conn: SourceConn, shown: &str) -> Result<Source> {
        let tables_sql = match conn {
            SourceConn::Sqlite(_) => "SELECT name FROM sqlite_master WHERE type = 'table'",
            SourceConn::Postgres(_) => {
                "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = \
                 current_schema()"
            }
        };
        let tables: Vec<Name> = load(&mut conn, tables_sql).map_err(|e| {
            let m = e.to_string();
            if m.contains("not a database") || m.contains("malformed") {
                fail(format!(
                    "{shown} is not a SQLite database (or is corrupt): {m}"
                ))
            } else if m.contains("locked") || m.contains("busy") {
                fail(format!(
                    "{shown} is locked by another process (a running LaminDB?): close it and \
                     try again"
                ))
            } else {
                fail(format!("cannot read {shown}: {m}"))
            }
        })?;
        let has = |t: &str| tables.iter().any(|n| n.name == t);
        if !has("django_migrations") {
            return Err(fail(format!(
                "{shown} is not a LaminDB database: it has no django_migrations table"
            )));
        }
        let (app, known) = if has("lamindb_artifact") {
            ("lamindb", KNOWN_LAMINDB)
        } else if has("lnschema_core_artifact") {
            ("lnschema_core", KNOWN_CORE)
        } else {
            return Err(fail(format!(
                "{shown} is not a LaminDB instance: it has neither lamindb_artifact \
                 (lamindb 1.x/2.x) nor lnschema_core_artifact (lamindb 0.x)"
            )));
        };
        let migrations: Vec<Name> = load(
            &mut conn,
            &format!("SELECT name FROM django_migrations WHERE app = '{app}'"),
        )?;
        let newest = migrations
            .iter()
            .map(|m| m.name.as_str())
            .max_by_key(|n| {
                (
                    n.get(..4).and_then(|d| d.parse::<u32>().ok()),
                    n.ends_with("_squashed"),
                )
            })
            .ok_or_else(|| fail(format!("{shown} records no {app} migration")))?
            .to_string();
        let number = newest.get(..4).unwrap_or("");
        if number < known.0 || number > known.1 {
            return Err(fail(format!(
                "{shown} has an unknown {app} layout: its newest migration is {newest}, and \
                 this Lamella reads {app} migrations {} to {}{}",
                known.0,
                known.1,
                if number > known.1 {
                    " (the instance is newer: a newer Lamella may read it)"
                } else {
                    " (migrate the instance with a newer LaminDB first)"
                }
            )));
        }
        let layout = if app == "lamindb" {
            Layout::Lamindb { migration: newest }
        } else {
            Layout::Core { migration: newest }
        };
        let mut source = Source {
            conn,
            layout,
            columns: Default::default(),
        };
        for t in [
            "artifact",
            "feature",
            "ulabel",
            "collection",
            "transform",
            "run",
        ] {
            let cols = source.table_columns(t)?;
            source.columns.insert(t.to_string(), cols);
        }
        Ok(source)
    }

    fn table_columns(&mut self, table: &str) -> Result<Vec<String>> {
        let full = format!("{}{table}", self.layout.prefix());
        let sql = match self.conn {
            SourceConn::Sqlite(_) => format!("SELECT name FROM pragma_table_info('{full}')"),
            SourceConn::Postgres(_) => format!(
                "SELECT column_name AS name FROM information_schema.columns WHERE table_name = \
                 '{full}' AND table_schema = current_schema()"
            ),
        };
        Ok(load::<Name>(&mut self.conn, &sql)?
            .into_iter()
            .map(|n| n.name)
            .collect())
    }

    /// `col` when table `t` has it, else `fallback` (SQL).
    fn col(&self, t: &str, col: &str, fallback: &str) -> String {
        if self
            .columns
            .get(t)
            .is_some_and(|c| c.iter().any(|x| x == col))
        {
            col.to_string()
        } else {
            fallback.to_string()
        }
    }

    /// The layout found.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    fn t(&self, name: &str) -> String {
        format!("{}{name}", self.layout.prefix())
    }

    fn core(&self) -> bool {
        matches!(self.layout, Layout::Core { .. })
    }

    /// A timestamp column as naive UTC text.
    fn ts(&self, col: &str) -> String {
        match self.conn {
            SourceConn::Sqlite(_) => format!("CAST({col} AS TEXT)"),
            SourceConn::Postgres(_) => {
                format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
            }
        }
    }

    /// A boolean column as 0/1 (NULL stays NULL).
    fn b(col: &str) -> String {
        match col {
            // a column this version lacks, stood in for by a constant
            "0" | "1" | "NULL" => col.to_string(),
            _ => format!("CASE WHEN {col} IS NULL THEN NULL WHEN {col} THEN 1 ELSE 0 END"),
        }
    }

    /// How many rows table `name` has.
    pub fn count(&mut self, name: &str) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) AS n FROM {}", self.t(name));
        Ok(load::<Count>(&mut self.conn, &sql)?
            .first()
            .map(|c| c.n)
            .unwrap_or(0))
    }

    /// The bytes of every artifact, as recorded.
    pub fn artifact_bytes(&mut self) -> Result<i64> {
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS n FROM {}",
            self.t("artifact")
        );
        Ok(load::<Count>(&mut self.conn, &sql)?
            .first()
            .map(|c| c.n)
            .unwrap_or(0))
    }

    /// Every user.
    pub fn users(&mut self) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT CAST(id AS BIGINT) AS id, uid, handle, name, {} AS created_at, {} AS \
             updated_at FROM {} ORDER BY id",
            self.ts("created_at"),
            self.ts("updated_at"),
            self.t("user")
        );
        load(&mut self.conn, &sql)
    }

    /// Every storage location.
    pub fn storages(&mut self) -> Result<Vec<Storage>> {
        let sql = format!(
            "SELECT CAST(id AS BIGINT) AS id, uid, root, type AS kind, region, description, \
             instance_uid, {} AS created_at, CAST(created_by_id AS BIGINT) AS created_by_id \
             FROM {} ORDER BY id",
            self.ts("created_at"),
            self.t("storage")
        );
        load(&mut self.conn, &sql)
    }

    /// Every label.
    pub fn ulabels(&mut self) -> Result<Vec<ULabel>> {
        let is_type = self.col("ulabel", "is_type", "0");
        let type_id = self.col("ulabel", "type_id", "NULL");
        let sql = format!(
            "SELECT CAST(id AS BIGINT) AS id, uid, name, description, reference, reference_type, \
             {} AS is_type, CAST({type_id} AS BIGINT) AS type_id, {} AS created_at, {} AS \
             updated_at, CAST(created_by_id AS BIGINT) AS created_by_id FROM {} ORDER BY id",
            Self::b(&is_type),
            self.ts("created_at"),
            self.ts("updated_at"),
            self.t("ulabel")
        );
        load(&mut self.conn, &sql)
    }

    /// Label hierarchy: `(child, parent)` pairs.
    pub fn ulabel_parents(&mut self) -> Result<Vec<Pair>> {
        let sql = format!(
            "SELECT CAST(from_ulabel_id AS BIGINT) AS a, CAST(to_ulabel_id AS BIGINT) AS b FROM \
             {} ORDER BY id",
            self.t("ulabel_parents")
        );
        load(&mut self.conn, &sql)
    }

    /// Every feature.
    pub fn features(&mut self) -> Result<Vec<Feature>> {
        let dtype = if self.core() {
            "dtype".to_string()
        } else {
            self.col("feature", "_dtype_str", "dtype")
        };
        let nullable = self.col("feature", "nullable", "NULL");
        let synonyms = self.col("feature", "synonyms", "NULL");
        let sql = format!(
            "SELECT CAST(id AS BIGINT) AS id, uid, name, {dtype} AS dtype, unit, description, \
             {synonyms} AS synonyms, {} AS nullable, {} AS created_at, {} AS updated_at, \
             CAST(created_by_id AS BIGINT) AS created_by_id FROM {} ORDER BY id",
            Self::b(&nullable),
            self.ts("created_at"),
            self.ts("updated_at"),
            self.t("feature")
        );
        load(&mut self.conn, &sql)
    }

    /// Every feature set (0.x) or schema (2.x).
    pub fn feature_sets(&mut self) -> Result<Vec<FeatureSet>> {
        let sql = if self.core() {
            format!(
                "SELECT CAST(id AS BIGINT) AS id, uid, name, CAST(n AS BIGINT) AS n, dtype, \
                 registry, hash, {} AS created_at, CAST(created_by_id AS BIGINT) AS \
                 created_by_id FROM {} ORDER BY id",
                self.ts("created_at"),
                self.t("featureset")
            )
        } else {
            format!(
                "SELECT CAST(id AS BIGINT) AS id, uid, name, CAST(n_members AS BIGINT) AS n, \
                 _dtype_str AS dtype, itype AS registry, hash, {} AS created_at, \
                 CAST(created_by_id AS BIGINT) AS created_by_id FROM {} ORDER BY id",
                self.ts("created_at"),
                self.t("schema")
            )
        };
        load(&mut self.conn, &sql)
    }

    /// Members of feature sets: `(set, feature)` in the order they were added.
    pub fn feature_set_members(&mut self) -> Result<Vec<Pair>> {
        let (table, set) = if self.core() {
            ("featuresetfeature", "featureset_id")
        } else {
            ("schemafeature", "schema_id")
        };
        let sql = format!(
            "SELECT CAST({set} AS BIGINT) AS a, CAST(feature_id AS BIGINT) AS b FROM {} ORDER \
             BY id",
            self.t(table)
        );
        load(&mut self.conn, &sql)
    }

    /// Feature sets linked to artifacts and collections, with their slots.
    pub fn slot_links(&mut self) -> Result<Vec<SlotLink>> {
        let sql = if self.core() {
            format!(
                "SELECT 'a' AS owner, CAST(artifact_id AS BIGINT) AS owner_id, slot, \
                 CAST(featureset_id AS BIGINT) AS set_id FROM {} UNION ALL SELECT 'c' AS owner, \
                 CAST(collection_id AS BIGINT) AS owner_id, slot, CAST(featureset_id AS BIGINT) \
                 AS set_id FROM {}",
                self.t("artifactfeatureset"),
                self.t("collectionfeatureset")
            )
        } else {
            format!(
                "SELECT 'a' AS owner, CAST(artifact_id AS BIGINT) AS owner_id, slot, \
                 CAST(schema_id AS BIGINT) AS set_id FROM {}",
                self.t("artifactschema")
            )
        };
        load(&mut self.conn, &sql)
    }

    /// Up to `limit` artifacts with ids above `after`, by id.
    pub fn artifacts(&mut self, after: i64, limit: i64) -> Result<Vec<Artifact>> {
        let a = self.t("artifact");
        let sql = if self.core() {
            format!(
                "SELECT CAST(id AS BIGINT) AS id, uid, key, suffix, accessor, description, \
                 CAST(size AS BIGINT) AS size, hash, hash_type, CAST(n_objects AS BIGINT) AS \
                 n_objects, CAST(n_observations AS BIGINT) AS n_observations, version, -1 AS \
                 is_latest, CAST(visibility AS BIGINT) AS visibility, {} AS key_is_virtual, 0 AS \
                 overwrite_versions, NULL AS real_key, CAST(run_id AS BIGINT) AS run_id, \
                 CAST(transform_id AS BIGINT) AS transform_id, CAST(storage_id AS BIGINT) AS \
                 storage_id, {} AS created_at, {} AS updated_at, CAST(created_by_id AS BIGINT) AS \
                 created_by_id FROM {a} WHERE id > {after} ORDER BY id LIMIT {limit}",
                Self::b("key_is_virtual"),
                self.ts("created_at"),
                self.ts("updated_at"),
            )
        } else {
            let overwrite = self.col("artifact", "_overwrite_versions", "NULL");
            let overwrite = if overwrite == "NULL" {
                "0".to_string()
            } else {
                Self::b("x._overwrite_versions")
            };
            let real_key = match self.col("artifact", "_real_key", "NULL").as_str() {
                "NULL" => "NULL",
                _ => "x._real_key",
            };
            format!(
                "SELECT CAST(x.id AS BIGINT) AS id, x.uid, x.key, x.suffix, x.otype AS accessor, \
                 x.description, CAST(x.size AS BIGINT) AS size, x.hash, x._hash_type AS \
                 hash_type, CAST(x.n_files AS BIGINT) AS n_objects, CAST(x.n_observations AS \
                 BIGINT) AS n_observations, x.version_tag AS version, {} AS is_latest, \
                 CAST(x.branch_id AS BIGINT) AS visibility, {} AS key_is_virtual, {} AS \
                 overwrite_versions, {real_key} AS real_key, CAST(x.run_id AS BIGINT) AS run_id, \
                 CAST(r.transform_id AS BIGINT) AS transform_id, CAST(x.storage_id AS BIGINT) AS \
                 storage_id, {} AS created_at, {} AS updated_at, CAST(x.created_by_id AS BIGINT) \
                 AS created_by_id FROM {a} x LEFT JOIN {} r ON r.id = x.run_id WHERE x.id > \
                 {after} ORDER BY x.id LIMIT {limit}",
                Self::b("x.is_latest"),
                Self::b("x._key_is_virtual"),
                overwrite,
                self.ts("x.created_at"),
                self.ts("x.updated_at"),
                self.t("run"),
            )
        };
        load(&mut self.conn, &sql)
    }

    /// Up to `limit` label links (of artifacts, then collections) with ids above `after`
    /// within each table; `collections` picks the table.
    pub fn label_links(
        &mut self,
        collections: bool,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LabelLink>> {
        let (owner, table, col) = if collections {
            ("c", "collectionulabel", "collection_id")
        } else {
            ("a", "artifactulabel", "artifact_id")
        };
        let sql = format!(
            "SELECT CAST(id AS BIGINT) AS id, '{owner}' AS owner, CAST({col} AS BIGINT) AS \
             owner_id, CAST(ulabel_id AS BIGINT) AS ulabel_id, CAST(feature_id AS BIGINT) AS \
             feature_id FROM {} WHERE id > {after} ORDER BY id LIMIT {limit}",
            self.t(table)
        );
        load(&mut self.conn, &sql)
    }

    /// Feature values of artifacts (0.x `featurevalue`, 2.x `jsonvalue`).
    pub fn values(&mut self) -> Result<Vec<ValueLink>> {
        let sql = if self.core() {
            format!(
                "SELECT CAST(l.artifact_id AS BIGINT) AS artifact_id, CAST(v.feature_id AS \
                 BIGINT) AS feature_id, CAST(v.value AS TEXT) AS value FROM {} l JOIN {} v ON \
                 v.id = l.featurevalue_id ORDER BY l.id",
                self.t("artifactfeaturevalue"),
                self.t("featurevalue")
            )
        } else {
            format!(
                "SELECT CAST(l.artifact_id AS BIGINT) AS artifact_id, CAST(v.feature_id AS \
                 BIGINT) AS feature_id, CAST(v.value AS TEXT) AS value FROM {} l JOIN {} v ON \
                 v.id = l.jsonvalue_id ORDER BY l.id",
                self.t("artifactjsonvalue"),
                self.t("jsonvalue")
            )
        };
        load(&mut self.conn, &sql)
    }

    /// Every collection.
    pub fn collections(&mut self) -> Result<Vec<Collection>> {
        let sql = if self.core() {
            format!(
                "SELECT CAST(id AS BIGINT) AS id, uid, name, description, hash, version, -1 AS \
                 is_latest, CAST(visibility AS BIGINT) AS visibility, reference, reference_type, \
                 CAST(run_id AS BIGINT) AS run_id, CAST(transform_id AS BIGINT) AS transform_id, \
                 {} AS created_at, {} AS updated_at, CAST(created_by_id AS BIGINT) AS \
                 created_by_id FROM {} ORDER BY id",
                self.ts("created_at"),
                self.ts("updated_at"),
                self.t("collection")
            )
        } else {
            format!(
                "SELECT CAST(x.id AS BIGINT) AS id, x.uid, x.key AS name, x.description, x.hash, \
                 x.version_tag AS version, {} AS is_latest, CAST(x.branch_id AS BIGINT) AS \
                 visibility, x.reference, x.reference_type, CAST(x.run_id AS BIGINT) AS run_id, \
                 CAST(r.transform_id AS BIGINT) AS transform_id, {} AS created_at, {} AS \
                 updated_at, CAST(x.created_by_id AS BIGINT) AS created_by_id FROM {} x LEFT \
                 JOIN {} r ON r.id = x.run_id ORDER BY x.id",
                Self::b("x.is_latest"),
                self.ts("x.created_at"),
                self.ts("x.updated_at"),
                self.t("collection"),
                self.t("run")
            )
        };
        load(&mut self.conn, &sql)
    }

    /// Collection members: `(collection, artifact)` in member order (the link's id).
    pub fn collection_members(&mut self) -> Result<Vec<Pair>> {
        let sql = format!(
            "SELECT CAST(collection_id AS BIGINT) AS a, CAST(artifact_id AS BIGINT) AS b FROM {} \
             ORDER BY collection_id, id",
            self.t("collectionartifact")
        );
        load(&mut self.conn, &sql)
    }

    /// Every transform.
    pub fn transforms(&mut self) -> Result<Vec<Transform>> {
        let sql = if self.core() {
            format!(
                "SELECT CAST(id AS BIGINT) AS id, uid, name, key, description, type AS kind, \
                 version, -1 AS is_latest, reference, reference_type, {} AS created_at, {} AS \
                 updated_at, CAST(created_by_id AS BIGINT) AS created_by_id FROM {} ORDER BY id",
                self.ts("created_at"),
                self.ts("updated_at"),
                self.t("transform")
            )
        } else {
            let description = self.col("transform", "description", "NULL");
            format!(
                "SELECT CAST(id AS BIGINT) AS id, uid, NULL AS name, key, {description} AS \
                 description, kind, version_tag AS version, {} AS is_latest, reference, \
                 reference_type, {} AS created_at, {} AS updated_at, CAST(created_by_id AS \
                 BIGINT) AS created_by_id FROM {} ORDER BY id",
                Self::b("is_latest"),
                self.ts("created_at"),
                self.ts("updated_at"),
                self.t("transform")
            )
        };
        load(&mut self.conn, &sql)
    }

    /// Transform parents: `(child, parent)`.
    pub fn transform_parents(&mut self) -> Result<Vec<Pair>> {
        let sql = if self.core() {
            format!(
                "SELECT CAST(from_transform_id AS BIGINT) AS a, CAST(to_transform_id AS BIGINT) \
                 AS b FROM {} ORDER BY id",
                self.t("transform_parents")
            )
        } else {
            format!(
                "SELECT CAST(successor_id AS BIGINT) AS a, CAST(predecessor_id AS BIGINT) AS b \
                 FROM {} ORDER BY id",
                self.t("transformtransform")
            )
        };
        load(&mut self.conn, &sql)
    }

    /// Every run.
    pub fn runs(&mut self) -> Result<Vec<Run>> {
        let consecutive = if self.core() {
            "is_consecutive"
        } else {
            "_is_consecutive"
        };
        let sql = format!(
            "SELECT CAST(id AS BIGINT) AS id, uid, CAST(transform_id AS BIGINT) AS transform_id, \
             {} AS started_at, {} AS finished_at, {} AS is_consecutive, reference, \
             reference_type, {} AS created_at, CAST(created_by_id AS BIGINT) AS created_by_id \
             FROM {} ORDER BY id",
            self.ts("started_at"),
            self.ts("finished_at"),
            Self::b(consecutive),
            self.ts("created_at"),
            self.t("run")
        );
        load(&mut self.conn, &sql)
    }

    /// Run inputs: `(run, artifact)` and `(run, collection)` pairs.
    pub fn run_inputs(&mut self) -> Result<(Vec<Pair>, Vec<Pair>)> {
        let suffix = if self.core() {
            "input_of"
        } else {
            "input_of_runs"
        };
        let artifacts = format!(
            "SELECT CAST(run_id AS BIGINT) AS a, CAST(artifact_id AS BIGINT) AS b FROM {} ORDER \
             BY id",
            self.t(&format!("artifact_{suffix}"))
        );
        let collections = format!(
            "SELECT CAST(run_id AS BIGINT) AS a, CAST(collection_id AS BIGINT) AS b FROM {} \
             ORDER BY id",
            self.t(&format!("collection_{suffix}"))
        );
        Ok((
            load(&mut self.conn, &artifacts)?,
            load(&mut self.conn, &collections)?,
        ))
    }
}

fn load<T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static>(
    conn: &mut SourceConn,
    sql: &str,
) -> Result<Vec<T>> {
    let r = match conn {
        SourceConn::Sqlite(c) => diesel::sql_query(sql).load::<T>(c),
        SourceConn::Postgres(c) => diesel::sql_query(sql).load::<T>(c),
    };
    r.map_err(|e| fail(format!("reading the LaminDB database failed: {e}")))
}
